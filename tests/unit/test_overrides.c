/*
 * Unit tests for csv/overrides: --type arguments, the schema file reader (every key of
 * inspect --json, errors that name the key and column), the dialect it gives, and how it
 * is applied to a sniffed file (matching by header or position, renames, forced types,
 * differences named). Also the stream's rule for forced types: rejected rows, no restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/overrides.h"
#include "csv/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static cp_sniff_result sniffed_rows(const char *csv, const cp_overrides *o, size_t sample_rows)
{
    cp_csv_options opts;
    cp_csv_options_default(&opts);
    if (sample_rows)
        opts.sample_rows = sample_rows;
    if (o)
        cp_overrides_dialect(o, &opts);
    cp_source *src = cp_source_open_memory(csv, strlen(csv), "t.csv");
    assert_non_null(src);
    cp_sniff_result r;
    cp_error err;
    cp_error_clear(&err);
    if (cp_sniff(src, &opts, &r, &err) != CP_OK)
        fail_msg("sniff: %s", err.message);
    cp_source_free(src);
    return r;
}

static cp_sniff_result sniffed(const char *csv, const cp_overrides *o)
{
    return sniffed_rows(csv, o, 0);
}

static cp_status parse(cp_overrides *o, const char *json, cp_error *err)
{
    cp_error_clear(err);
    return cp_overrides_parse_schema(o, json, strlen(json), "schema.json", err);
}

static void expect_bad(const char *json, const char *words)
{
    cp_overrides o;
    cp_overrides_init(&o);
    cp_error err;
    cp_status st = parse(&o, json, &err);
    if (st != CP_BAD_SCHEMA)
        fail_msg("%s: status %s, expected BAD_SCHEMA", json, cp_status_name(st));
    if (!strstr(err.message, words))
        fail_msg("%s: message \"%s\" lacks \"%s\"", json, err.message, words);
    if (strncmp(err.message, "schema.json", 11) != 0)
        fail_msg("%s: message \"%s\" does not name the file", json, err.message);
    assert_true(cp_overrides_empty(&o)); /* a failed parse leaves no half schema */
    cp_overrides_release(&o);
}

static void test_type_arguments(void **state)
{
    (void)state;
    cp_overrides o;
    cp_overrides_init(&o);
    assert_true(cp_overrides_empty(&o));
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_overrides_add_type(&o, "qty=int64", &err), CP_OK);
    assert_int_equal(cp_overrides_add_type(&o, "Unit Price=decimal( 12 , 2 )", &err), CP_OK);
    assert_int_equal(cp_overrides_add_type(&o, "a=b=STRING", &err), CP_OK); /* a header with '=' */
    assert_int_equal(o.ntypes, 3);
    assert_string_equal(o.types[0].key, "qty");
    assert_int_equal(o.types[0].type.id, CP_TYPE_INT64);
    assert_string_equal(o.types[1].key, "Unit Price");
    assert_true(cp_type_equal(o.types[1].type, cp_type_decimal(12, 2)));
    assert_string_equal(o.types[2].key, "a=b");
    assert_false(cp_overrides_empty(&o));

    static const struct {
        const char *arg, *words;
    } bad[] = {
        {"qty", "write COL=TYPE"},
        {"=INT64", "write COL=TYPE"},
        {"qty=INTEGER", "unknown type 'INTEGER'"},
        {"qty=", "unknown type ''"},
        {"qty=NULL", "unknown type 'NULL'"},
        {"qty=DECIMAL", "DECIMAL(p,s)"},
        {"qty=DECIMAL(39,2)", "unknown type"},
        {"qty=DECIMAL(5,6)", "unknown type"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cp_error_clear(&err);
        if (cp_overrides_add_type(&o, bad[i].arg, &err) != CP_USAGE)
            fail_msg("--type %s accepted", bad[i].arg);
        if (!strstr(err.message, bad[i].words))
            fail_msg("--type %s: \"%s\" lacks \"%s\"", bad[i].arg, err.message, bad[i].words);
    }
    assert_int_equal(o.ntypes, 3);
    cp_overrides_release(&o);
}

/* What inspect --json prints, every key of it, is read back. */
static void test_inspect_json_read_back(void **state)
{
    (void)state;
    const char *json =
        "{\"file\":\"f.csv\",\"compression\":\"gzip\",\"encoding\":\"windows-1252\","
        "\"delimiter\":\";\",\"quote\":\"'\",\"skipped_lines\":2,\"preamble\":[\"Title\"],"
        "\"excel_sep_line\":false,\"header\":true,\"header_rows\":1,\"repeated_headers\":0,"
        "\"line_ending\":\"CRLF\",\"decimal_separator\":\",\",\"currency\":\"R$\","
        "\"date_order\":\"day-first\",\"rows\":3,\"rejected_rows\":0,\"restarts\":1,"
        "\"columns\":[{\"name\":\"id\",\"source_name\":\"Id\",\"type\":\"INT64\",\"nulls\":0,"
        "\"example\":\"1\"},{\"name\":\"valor\",\"source_name\":\"Valor\",\"type\":\"decimal(12,2)"
        "\","
        "\"nulls\":1,\"example\":null},{\"source_name\":\"Obs\"},{\"source_name\":\"X\",\"type\":"
        "null}],"
        "\"rejects\":[]}";
    cp_overrides o;
    cp_overrides_init(&o);
    cp_error err;
    assert_int_equal(parse(&o, json, &err), CP_OK);
    assert_string_equal(o.schema_name, "schema.json");
    assert_int_equal(o.encoding, CP_ENC_CP1252);
    assert_int_equal(o.delimiter, ';');
    assert_int_equal(o.quote, '\'');
    assert_int_equal(o.skip_lines, 2);
    assert_int_equal(o.header, 1);
    assert_int_equal(o.decimal_sep, ',');
    assert_int_equal(o.date_order, CP_DATE_ORDER_DMY);
    assert_true(o.has_columns);
    assert_int_equal(o.ncolumns, 4);
    assert_string_equal(o.columns[0].key, "Id");
    assert_string_equal(o.columns[0].name, "id");
    assert_true(o.columns[0].has_type);
    assert_true(cp_type_equal(o.columns[1].type, cp_type_decimal(12, 2)));
    assert_null(o.columns[2].name);
    assert_false(o.columns[2].has_type);
    assert_false(o.columns[3].has_type);

    cp_csv_options c;
    cp_csv_options_default(&c);
    c.delimiter = '|'; /* given on the command line: wins */
    cp_overrides_dialect(&o, &c);
    assert_int_equal(c.delimiter, '|');
    assert_int_equal(c.encoding, CP_ENC_CP1252);
    assert_int_equal(c.quote, '\'');
    assert_int_equal(c.skip_lines, 2); /* the preamble inspect skipped, as --skip */
    assert_int_equal(c.header, 1);
    assert_int_equal(c.decimal_sep, ',');
    assert_int_equal(c.date_order, CP_DATE_ORDER_DMY);

    /* a second schema file replaces the first; --type stays */
    assert_int_equal(cp_overrides_add_type(&o, "x=STRING", &err), CP_OK);
    assert_int_equal(parse(&o, "{\"delimiter\":\"\\t\",\"date_order\":\"unknown\"}", &err), CP_OK);
    assert_int_equal(o.delimiter, '\t');
    assert_int_equal(o.encoding, CP_ENC_AUTO);
    assert_int_equal(o.header, -1);
    assert_int_equal(o.skip_lines, -1);
    assert_int_equal(o.date_order, CP_DATE_ORDER_UNKNOWN);
    assert_false(o.has_columns);
    assert_int_equal(o.ntypes, 1);
    cp_csv_options_default(&c);
    cp_overrides_dialect(&o, &c);
    assert_int_equal(c.header, -1);
    assert_int_equal(c.skip_lines, -1);
    assert_int_equal(c.encoding, CP_ENC_AUTO);
    /* --skip on the command line wins over the schema's skipped_lines, 0 included */
    assert_int_equal(parse(&o, "{\"skipped_lines\":0}", &err), CP_OK);
    cp_csv_options_default(&c);
    cp_overrides_dialect(&o, &c);
    assert_int_equal(c.skip_lines, 0);
    c.skip_lines = 3;
    cp_overrides_dialect(&o, &c);
    assert_int_equal(c.skip_lines, 3);
    cp_overrides_release(&o);
}

static void test_schema_errors(void **state)
{
    (void)state;
    expect_bad("", "line 1");
    expect_bad("{\"columns\": [}", "line 1, column 14");
    expect_bad("{\n\"header\": true,\n\"header\": false}", "line 3");
    expect_bad("[]", "must be a JSON object");
    expect_bad("{\"delimter\":\";\"}", "unknown key \"delimter\"");
    expect_bad("{\"encoding\":\"ebcdic\"}", "'ebcdic' is not an encoding");
    expect_bad("{\"encoding\":1}", "is not an encoding");
    expect_bad("{\"delimiter\":\";;\"}", "\"delimiter\" must be one ASCII character");
    expect_bad("{\"delimiter\":\"\\n\"}", "\"delimiter\" must be one");
    expect_bad("{\"delimiter\":\"\\u00e9\"}", "\"delimiter\" must be one");
    expect_bad("{\"quote\":7}", "\"quote\" must be a string");
    expect_bad("{\"delimiter\":\";\",\"quote\":\";\"}", "must differ");
    expect_bad("{\"header\":\"yes\"}", "\"header\" must be true or false");
    expect_bad("{\"skipped_lines\":-1}", "\"skipped_lines\" must be a number of lines");
    expect_bad("{\"skipped_lines\":\"2\"}", "\"skipped_lines\" must be a number");
    expect_bad("{\"skipped_lines\":1.5}", "\"skipped_lines\" must be a number");
    expect_bad("{\"decimal_separator\":\";\"}", "\"decimal_separator\" must be");
    expect_bad("{\"date_order\":\"ymd\"}", "\"date_order\" must be");
    expect_bad("{\"columns\":{}}", "\"columns\" must be an array");
    expect_bad("{\"columns\":[1]}", "columns[0] must be an object");
    expect_bad("{\"columns\":[{\"source_name\":\"a\",\"type\":\"INTEGER\"}]}",
               "columns[0].type: 'INTEGER' is not a type");
    expect_bad("{\"columns\":[{\"source_name\":\"a\",\"type\":5}]}", "columns[0].type");
    expect_bad("{\"columns\":[{\"source_name\":\"a\"},{\"source_name\":\"b\",\"typ\":\"INT64\"}]}",
               "columns[1]: unknown key \"typ\"");
    expect_bad("{\"columns\":[{\"source_name\":3}]}", "columns[0].source_name must be a string");
    expect_bad("{\"columns\":[{\"source_name\":\"a\\u0000b\"}]}", "is not allowed");
    expect_bad("{\"columns\":[{\"name\":\"Unit Price\"}]}", "try \"unit_price\"");
    expect_bad("{\"columns\":[{\"name\":\"9lives\"}]}", "is not a column name");
    expect_bad("{\"columns\":[{\"name\":\"_source\"}]}", "reserved");
    expect_bad("{\"columns\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"a\"}]}",
               "columns[0] and columns[2] are both named \"a\"");
}

static void test_read_schema_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_overrides_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *json = "{\"columns\":[{\"source_name\":\"a\",\"type\":\"DATE\"}]}";
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    cp_overrides o;
    cp_overrides_init(&o);
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_overrides_read_schema(&o, path, &err), CP_OK);
    assert_string_equal(o.schema_name, path);
    assert_int_equal(o.columns[0].type.id, CP_TYPE_DATE);
    unlink(path);
    assert_int_equal(cp_overrides_read_schema(&o, path, &err), CP_NOT_FOUND);
    assert_non_null(strstr(err.message, path));
    assert_int_equal(cp_overrides_read_schema(&o, "/", &err), CP_IO);
    cp_overrides_release(&o);
}

typedef struct applied {
    cp_status st;
    cp_sniff_result r;
    cp_error err;
} applied;

static applied apply(const char *csv, const char *schema, const char *const *types)
{
    cp_overrides o;
    cp_overrides_init(&o);
    applied a;
    cp_error_clear(&a.err);
    if (schema && parse(&o, schema, &a.err) != CP_OK)
        fail_msg("schema: %s", a.err.message);
    for (const char *const *t = types; t && *t; t++)
        assert_int_equal(cp_overrides_add_type(&o, *t, &a.err), CP_OK);
    a.r = sniffed(csv, &o);
    a.st = cp_overrides_apply(&o, &a.r, "t.csv", &a.err);
    cp_overrides_release(&o);
    return a;
}

static const char orders[] = "Order ID,Customer,Qty,Unit Price\n"
                             "1001,Ana,3,19.9\n"
                             "1002,Bob,1,250\n"
                             "1003,Chen,12,3.5\n";

static void test_apply_by_header(void **state)
{
    (void)state;
    /* in another order, one header written differently, one renamed, one without a type */
    applied a = apply(orders,
                      "{\"columns\":[{\"source_name\":\"Unit Price\",\"type\":\"DECIMAL(12,2)\"},"
                      "{\"source_name\":\"Customer\",\"name\":\"client\",\"type\":\"STRING\"},"
                      "{\"source_name\":\"order id\",\"type\":\"STRING\"},"
                      "{\"source_name\":\"Qty\"}]}",
                      NULL);
    assert_int_equal(a.st, CP_OK);
    const cp_schema *s = &a.r.schema;
    assert_int_equal(s->ncolumns, 4);
    assert_string_equal(s->columns[0].name, "order_id");
    assert_int_equal(s->columns[0].type.id, CP_TYPE_STRING);
    assert_true(s->columns[0].forced);
    assert_string_equal(s->columns[1].name, "client");
    assert_string_equal(s->columns[1].source_name, "Customer");
    assert_int_equal(s->columns[2].type.id, CP_TYPE_INT64);
    assert_false(s->columns[2].forced);
    assert_true(cp_type_equal(s->columns[3].type, cp_type_decimal(12, 2)));
    assert_true(s->columns[3].forced);
    cp_sniff_result_release(&a.r);

    /* a --type after the schema wins; by output name, header, or header normalized */
    static const char *const types[] = {"client=INT64", "Qty=DOUBLE", "UNIT PRICE=STRING", NULL};
    a = apply(orders,
              "{\"columns\":[{\"source_name\":\"Order ID\"},{\"source_name\":\"Customer\","
              "\"name\":\"client\"},{\"source_name\":\"Qty\"},{\"source_name\":\"Unit Price\","
              "\"type\":\"DECIMAL(12,2)\"}]}",
              types);
    assert_int_equal(a.st, CP_OK);
    assert_int_equal(a.r.schema.columns[1].type.id, CP_TYPE_INT64);
    assert_int_equal(a.r.schema.columns[2].type.id, CP_TYPE_DOUBLE);
    assert_int_equal(a.r.schema.columns[3].type.id, CP_TYPE_STRING);
    assert_false(a.r.schema.columns[0].forced);
    cp_sniff_result_release(&a.r);
}

static void test_apply_differences(void **state)
{
    (void)state;
    applied a = apply(orders,
                      "{\"columns\":[{\"source_name\":\"Order ID\"},{\"source_name\":\"Customer\"},"
                      "{\"source_name\":\"Quantity\"},{\"source_name\":\"Unit Price\"},"
                      "{\"source_name\":\"Discount\"}]}",
                      NULL);
    assert_int_equal(a.st, CP_BAD_SCHEMA);
    assert_non_null(strstr(a.err.message, "t.csv has a column not in schema.json: \"Qty\""));
    assert_non_null(strstr(a.err.message,
                           "schema.json lists columns not in t.csv's header: \"Quantity\", "
                           "\"Discount\""));
    cp_sniff_result_release(&a.r);

    /* renames that collide with each other's or a kept name */
    a = apply(orders,
              "{\"columns\":[{\"source_name\":\"Order ID\",\"name\":\"qty\"},"
              "{\"source_name\":\"Customer\"},{\"source_name\":\"Qty\"},"
              "{\"source_name\":\"Unit Price\"}]}",
              NULL);
    assert_int_equal(a.st, CP_BAD_SCHEMA);
    assert_non_null(strstr(a.err.message, "would both be named \"qty\""));
    cp_sniff_result_release(&a.r);

    /* a schema that names headers, for a file without a header row */
    a = apply("1,2\n3,4\n", "{\"columns\":[{\"source_name\":\"a\"},{\"source_name\":\"b\"}]}",
              NULL);
    assert_int_equal(a.st, CP_BAD_SCHEMA);
    assert_non_null(strstr(a.err.message, "has no header row"));
    cp_sniff_result_release(&a.r);

    static const char *const unknown[] = {"Quantity=INT64", NULL};
    a = apply(orders, NULL, unknown);
    assert_int_equal(a.st, CP_USAGE);
    assert_non_null(strstr(a.err.message, "--type Quantity=INT64: t.csv has no column "
                                          "\"Quantity\" (its columns: \"order_id\", "
                                          "\"customer\", \"qty\", \"unit_price\")"));
    cp_sniff_result_release(&a.r);
}

static void test_apply_by_position(void **state)
{
    (void)state;
    const char *csv = "1,00501,2.5\n2,10001,3\n";
    applied a = apply(csv,
                      "{\"header\":false,\"columns\":[{\"name\":\"id\"},{\"name\":\"zip\","
                      "\"type\":\"STRING\"},{\"type\":\"DECIMAL(9,3)\"}]}",
                      NULL);
    assert_int_equal(a.st, CP_OK);
    assert_false(a.r.dialect.header);
    assert_string_equal(a.r.schema.columns[0].name, "id");
    assert_string_equal(a.r.schema.columns[1].name, "zip");
    assert_string_equal(a.r.schema.columns[2].name, "column_3");
    assert_true(cp_type_equal(a.r.schema.columns[2].type, cp_type_decimal(9, 3)));
    cp_sniff_result_release(&a.r);

    a = apply(csv, "{\"header\":false,\"columns\":[{\"name\":\"id\"},{\"name\":\"zip\"}]}", NULL);
    assert_int_equal(a.st, CP_BAD_SCHEMA);
    assert_non_null(strstr(a.err.message, "t.csv has 3 columns, schema.json lists 2"));
    cp_sniff_result_release(&a.r);

    /* the schema's header setting is applied: the first row becomes names */
    a = apply("a,b\n1,2\n", "{\"header\":false}", NULL);
    assert_int_equal(a.st, CP_OK);
    assert_int_equal(a.r.schema.columns[0].type.id, CP_TYPE_STRING);
    assert_string_equal(a.r.schema.columns[0].name, "column_1");
    cp_sniff_result_release(&a.r);
}

typedef struct collected {
    uint64_t rows;
    uint64_t rejected;
    char first_reason[1024];
    uint64_t first_line;
    unsigned restarts_seen;
    int64_t qty_sum;
} collected;

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    collected *c = ctx;
    c->rows += b->nrows;
    for (size_t r = 0; b->schema->ncolumns > 2 && r < b->nrows; r++)
        if (cp_batch_valid(b, 2, r))
            c->qty_sum += b->cols[2].v.i64[r];
    return CP_OK;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    collected *c = ctx;
    if (c->rejected++ == 0) {
        snprintf(c->first_reason, sizeof c->first_reason, "%s", why->message);
        c->first_line = row->line;
    }
    return CP_OK;
}

/* Everything received before a restart is void (stream.h). */
static cp_status on_restart(void *ctx, const cp_schema *s, cp_error *err)
{
    collected *c = ctx;
    unsigned seen = c->restarts_seen + 1;
    memset(c, 0, sizeof *c);
    c->restarts_seen = seen;
    return CP_OK;
}

/* A forced type rejects what does not fit, in the sample and after it, and never restarts. */
static void test_stream_forced(void **state)
{
    (void)state;
    /* qty's value on line 4 is text, in the sample; price's on the last line needs a restart */
    char csv[4096] = "id,name,qty,price\n1,a,3,1.5\n2,b,4,2.5\n3,c,n/a,3.5\n4,d,5,4.5\n";
    strcat(csv, "5,e,6,x\n");
    cp_overrides o;
    cp_overrides_init(&o);
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_overrides_add_type(&o, "qty=INT64", &err), CP_OK);
    cp_sniff_result r = sniffed_rows(csv, &o, 4);
    assert_int_equal(r.schema.columns[2].type.id, CP_TYPE_STRING); /* the sniffer's guess */
    assert_int_equal(r.schema.columns[3].type.id, CP_TYPE_DECIMAL);
    assert_int_equal(cp_overrides_apply(&o, &r, "t.csv", &err), CP_OK);
    assert_int_equal(r.schema.columns[2].type.id, CP_TYPE_INT64);

    cp_source *src = cp_source_open_memory(csv, strlen(csv), "t.csv");
    collected c;
    memset(&c, 0, sizeof c);
    cp_stream_callbacks cb = {on_batch, on_reject, on_restart, &c, NULL, NULL};
    cp_stream_stats stats;
    assert_int_equal(cp_csv_stream(src, &r, NULL, NULL, &cb, &stats, &err), CP_OK);
    assert_int_equal(c.rejected, 1);
    assert_int_equal(c.first_line, 4);
    assert_string_equal(c.first_reason,
                        "value \"n/a\" in column 3 (qty) is not INT64, the type forced for it");
    assert_int_equal(c.rows, 4);
    assert_int_equal(c.qty_sum, 3 + 4 + 5 + 6);
    /* price widened as before (a restart), qty stayed INT64 */
    assert_int_equal(stats.restarts, 1);
    assert_int_equal(c.restarts_seen, 1);
    assert_int_equal(r.schema.columns[3].type.id, CP_TYPE_STRING);
    assert_int_equal(r.schema.columns[2].type.id, CP_TYPE_INT64);
    cp_sniff_result_release(&r);
    cp_source_free(src);

    /* a row that misfits a forced column and widens another: rejected, nothing widened */
    const char *two = "a,b\n1,2\n2,3\nx,y\n";
    cp_overrides_release(&o);
    assert_int_equal(cp_overrides_add_type(&o, "b=INT64", &err), CP_OK);
    r = sniffed_rows(two, &o, 2); /* the sample ends before "x,y" */
    assert_int_equal(cp_overrides_apply(&o, &r, "t.csv", &err), CP_OK);
    src = cp_source_open_memory(two, strlen(two), "t.csv");
    memset(&c, 0, sizeof c);
    assert_int_equal(cp_csv_stream(src, &r, NULL, NULL, &cb, &stats, &err), CP_OK);
    assert_int_equal(stats.restarts, 0);
    assert_int_equal(c.rejected, 1);
    assert_int_equal(r.schema.columns[0].type.id, CP_TYPE_INT64);
    assert_non_null(strstr(c.first_reason, "\"y\" in column 2 (b) is not INT64"));
    cp_sniff_result_release(&r);
    cp_source_free(src);
    cp_overrides_release(&o);
}

typedef struct bools {
    unsigned trues, falses, nulls, rejected;
} bools;

static cp_status count_bools(void *ctx, const cp_batch *b, cp_error *err)
{
    bools *c = ctx;
    for (size_t r = 0; r < b->nrows; r++) {
        if (!cp_batch_valid(b, 1, r))
            c->nulls++;
        else if (b->cols[1].v.boolean[r])
            c->trues++;
        else
            c->falses++;
    }
    return CP_OK;
}

static cp_status count_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    ((bools *)ctx)->rejected++;
    return CP_OK;
}

/* A 0/1 column is INT64 to inference; forced BOOLEAN, 0 and 1 are false and true. */
static void test_forced_boolean_takes_0_and_1(void **state)
{
    (void)state;
    const char *csv = "id,active\n1,1\n2,0\n3,\n4,yes\n5,2\n6,1\n";
    cp_overrides o;
    cp_overrides_init(&o);
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_overrides_add_type(&o, "active=BOOLEAN", &err), CP_OK);
    cp_sniff_result r = sniffed(csv, &o);
    assert_int_equal(r.schema.columns[1].type.id, CP_TYPE_STRING); /* 0, 1, yes and 2 */
    assert_int_equal(cp_overrides_apply(&o, &r, "t.csv", &err), CP_OK);
    cp_source *src = cp_source_open_memory(csv, strlen(csv), "t.csv");
    bools c = {0, 0, 0, 0};
    cp_stream_callbacks cb = {count_bools, count_reject, NULL, &c, NULL, NULL};
    cp_stream_stats stats;
    assert_int_equal(cp_csv_stream(src, &r, NULL, NULL, &cb, &stats, &err), CP_OK);
    assert_int_equal(c.trues, 3);
    assert_int_equal(c.falses, 1);
    assert_int_equal(c.nulls, 1);
    assert_int_equal(c.rejected, 1); /* 2 */
    cp_source_free(src);
    cp_sniff_result_release(&r);
    cp_overrides_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_arguments),
        cmocka_unit_test(test_inspect_json_read_back),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_read_schema_file),
        cmocka_unit_test(test_apply_by_header),
        cmocka_unit_test(test_apply_differences),
        cmocka_unit_test(test_apply_by_position),
        cmocka_unit_test(test_stream_forced),
        cmocka_unit_test(test_forced_boolean_takes_0_and_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
