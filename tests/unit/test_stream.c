/* Unit tests for csv/stream: batches, widen-and-restart, rejects, file errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct collect {
    size_t batches, rows, restarts;
    uint64_t reject_lines[16];
    cp_status reject_codes[16];
    size_t nrejects;
    uint64_t next_first_row;
    char widened[256];
    cp_i128 sum; /* of column 1 when DECIMAL(.,1), as value*10 */
    char last_s0[32];
} collect;

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    collect *c = ctx;
    c->batches++;
    assert_true(b->nrows > 0);
    assert_true(b->first_row >= c->next_first_row);
    c->next_first_row = b->first_row + b->nrows;
    c->rows += b->nrows;
    const cp_schema *s = b->schema;
    if (s->ncolumns > 1 && s->columns[1].type.id == CP_TYPE_DECIMAL &&
        s->columns[1].type.scale == 1)
        for (size_t r = 0; r < b->nrows; r++)
            if (cp_batch_valid(b, 1, r))
                c->sum += b->cols[1].v.decimal[r];
    if (s->columns[0].type.id == CP_TYPE_STRING && b->nrows) {
        size_t len;
        const char *p = cp_batch_string(b, 0, b->nrows - 1, &len);
        snprintf(c->last_s0, sizeof c->last_s0, "%.*s", (int)len, p);
    }
    return CP_OK;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    collect *c = ctx;
    assert_true(c->nrejects < 16);
    assert_int_equal(why->line, row->line);
    c->reject_lines[c->nrejects] = why->line;
    c->reject_codes[c->nrejects] = why->code;
    c->nrejects++;
    return CP_OK;
}

static cp_status on_restart(void *ctx, const cp_schema *widened, cp_error *err)
{
    collect *c = ctx;
    c->restarts++;
    c->batches = c->rows = 0;
    c->sum = 0;
    c->next_first_row = 0;
    size_t o = 0;
    for (size_t i = 0; i < widened->ncolumns; i++) {
        char t[32];
        o += (size_t)snprintf(c->widened + o, sizeof c->widened - o, "%s%s", i ? "," : "",
                              cp_type_format(widened->columns[i].type, t, sizeof t));
    }
    return CP_OK;
}

static cp_status run(const char *text, size_t sample_rows, size_t batch_rows, collect *c,
                     cp_stream_stats *stats, cp_sniff_result *r, cp_error *err)
{
    memset(c, 0, sizeof *c);
    cp_source *src = cp_source_open_memory(text, strlen(text), "s.csv");
    assert_non_null(src);
    cp_csv_options o;
    cp_csv_options_default(&o);
    if (sample_rows)
        o.sample_rows = sample_rows;
    cp_error_clear(err);
    cp_status st = cp_sniff(src, &o, r, err);
    if (st != CP_OK)
        fail_msg("sniff: %s", err->message);
    cp_stream_options so = {batch_rows, 0, 0, 1, 0};
    cp_stream_callbacks cb = {on_batch, on_reject, on_restart, c, NULL, NULL};
    st = cp_csv_stream(src, r, &o, &so, &cb, stats, err);
    cp_source_free(src);
    return st;
}

/* A caller that keeps each batch until on_reuse: no batch is refilled while held. */
typedef struct holding {
    const cp_batch *held[CP_STREAM_MAX_BATCHES + 1];
    size_t nheld, most, handed, reused;
    uint64_t next_first_row, rows;
    int64_t sum;
} holding;

static cp_status hold_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    holding *h = ctx;
    (void)err;
    for (size_t i = 0; i < h->nheld; i++)
        assert_ptr_not_equal(h->held[i], b);
    assert_true(h->nheld < CP_STREAM_MAX_BATCHES);
    h->held[h->nheld++] = b;
    if (h->nheld > h->most)
        h->most = h->nheld;
    h->handed++;
    assert_int_equal(b->first_row, h->next_first_row + 1);
    h->next_first_row += b->nrows;
    h->rows += b->nrows;
    for (size_t r = 0; r < b->nrows; r++)
        h->sum += b->cols[0].v.i64[r];
    return CP_OK;
}

static void reuse_batch(void *ctx, const cp_batch *b)
{
    holding *h = ctx;
    for (size_t i = 0; i < h->nheld; i++)
        if (h->held[i] == b) {
            h->held[i] = h->held[--h->nheld];
            h->reused++;
            return;
        }
}

static cp_status hold_restart(void *ctx, const cp_schema *widened, cp_error *err)
{
    holding *h = ctx;
    (void)widened;
    (void)err;
    assert_int_equal(h->nheld, 0); /* every batch given back before the restart */
    h->next_first_row = h->rows = 0;
    h->sum = 0;
    return CP_OK;
}

static void test_batches_in_flight(void **state)
{
    (void)state;
    char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "id,v\n");
    for (int i = 1; i <= 1000; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,%s\n", i, i == 900 ? "x" : "1");
    for (unsigned nb = 1; nb <= 4; nb++) {
        cp_source *src = cp_source_open_memory(text, strlen(text), "s.csv");
        assert_non_null(src);
        cp_csv_options opt;
        cp_csv_options_default(&opt);
        opt.sample_rows = 100;
        cp_sniff_result r;
        cp_error err;
        cp_error_clear(&err);
        assert_int_equal(cp_sniff(src, &opt, &r, &err), CP_OK);
        holding h;
        memset(&h, 0, sizeof h);
        cp_stream_options so = {64, 0, 0, nb, 0};
        cp_stream_callbacks cb = {hold_batch, NULL, hold_restart, &h, NULL, reuse_batch};
        cp_stream_stats st;
        assert_int_equal(cp_csv_stream(src, &r, &opt, &so, &cb, &st, &err), CP_OK);
        assert_int_equal(st.restarts, 1); /* "x" at row 900 widens v */
        assert_int_equal(h.rows, 1000);
        assert_true(h.sum == 500500);
        assert_int_equal(h.nheld, 0); /* every batch given back before the stream returned */
        assert_int_equal(h.handed, 1000 / 64 + 1 + 900 / 64); /* before and after the restart */
        assert_int_equal(h.most, nb);
        assert_int_equal(h.reused, h.handed);
        cp_sniff_result_release(&r);
        cp_source_free(src);
    }
}

/* With batches_memory the ring stops growing once its batches hold that much. */
static void test_batches_memory(void **state)
{
    (void)state;
    char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "id,v\n");
    for (int i = 1; i <= 1000; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,%d\n", i, i % 7);
    size_t one = 0;
    const struct {
        size_t batches_of_memory; /* 0: no bound; else the bound is this many batches + 1 byte */
        size_t most;
    } cases[] = {{0, CP_STREAM_MAX_BATCHES}, {1, CP_STREAM_MIN_BATCHES}, {4, 5}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cp_source *src = cp_source_open_memory(text, strlen(text), "m.csv");
        assert_non_null(src);
        cp_sniff_result r;
        cp_error err;
        cp_error_clear(&err);
        assert_int_equal(cp_sniff(src, NULL, &r, &err), CP_OK);
        if (!one) {
            cp_batch probe;
            assert_int_equal(cp_batch_init(&probe, &r.schema, 64, (size_t)16 << 20, 1024), CP_OK);
            one = cp_batch_memory(&probe);
            cp_batch_release(&probe);
            assert_true(one > 0);
        }
        holding h;
        memset(&h, 0, sizeof h);
        cp_stream_options so = {64, 0, 0, CP_STREAM_MAX_BATCHES,
                                cases[k].batches_of_memory ? cases[k].batches_of_memory * one + 1
                                                           : 0};
        cp_stream_callbacks cb = {hold_batch, NULL, hold_restart, &h, NULL, reuse_batch};
        cp_stream_stats st;
        assert_int_equal(cp_csv_stream(src, &r, NULL, &so, &cb, &st, &err), CP_OK);
        assert_int_equal(h.rows, 1000);
        assert_int_equal(h.handed, 1000 / 64 + 1);
        assert_int_equal(h.most, cases[k].most);
        assert_int_equal(h.nheld, 0);
        cp_sniff_result_release(&r);
        cp_source_free(src);
    }
}

static char *types_of(const cp_schema *s, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->ncolumns; i++) {
        char t[32];
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "",
                              cp_type_format(s->columns[i].type, t, sizeof t));
    }
    return out;
}

/* A wide file's batches hold fewer rows: 20,000 columns took 2.6 GB a batch at 8192 rows. */
static void test_batch_rows_of_width(void **state)
{
    (void)state;
    const size_t widths[] = {1, 512, 513, 20000, 5000000};
    const size_t rows[] = {CP_STREAM_BATCH_ROWS, CP_STREAM_BATCH_ROWS, 8176, 209, 1};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        cp_schema s;
        assert_int_equal(cp_schema_init(&s, widths[i]), CP_OK);
        assert_int_equal(cp_stream_batch_rows(&s), rows[i]);
        assert_true(rows[i] == 1 || rows[i] * widths[i] * 16 <= CP_STREAM_BATCH_VALUE_BYTES);
        cp_schema_release(&s);
    }
}

static void test_rows_and_batches(void **state)
{
    (void)state;
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "name,v\n");
    for (int i = 1; i <= 100; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "n%d,%d.5\n", i, i);
    collect c;
    cp_stream_stats st;
    cp_sniff_result r;
    cp_error err;
    assert_int_equal(run(text, 0, 16, &c, &st, &r, &err), CP_OK);
    assert_int_equal(st.rows, 100);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.restarts, 0);
    assert_int_equal(st.bytes, o);
    assert_int_equal(st.encoding, CP_ENC_UTF8);
    assert_string_equal(st.line_ending, "LF");
    assert_int_equal(c.rows, 100);
    assert_int_equal(c.batches, 7); /* 6 full batches of 16 and one of 4 */
    assert_int_equal(c.restarts, 0);
    assert_true(c.sum == 50500 + 500); /* sum of i.5 as tenths */
    assert_string_equal(c.last_s0, "n100");
    cp_sniff_result_release(&r);
}

static void test_widen_after_sample(void **state)
{
    (void)state;
    /* integers in the sample, a decimal and a text later */
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "id,v,w\n");
    for (int i = 1; i <= 50; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,%d,%d\n", i, i, i);
    o += (size_t)snprintf(text + o, sizeof text - o, "51,2.5,x\n52,3,4\n");
    collect c;
    cp_stream_stats st;
    cp_sniff_result r;
    cp_error err;
    char types[128];
    assert_int_equal(run(text, 10, 8, &c, &st, &r, &err), CP_OK);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(c.restarts, 1);
    assert_string_equal(c.widened, "INT64,DECIMAL(20,1),STRING");
    assert_string_equal(types_of(&r.schema, types, sizeof types), "INT64,DECIMAL(20,1),STRING");
    /* everything delivered after the restart, once */
    assert_int_equal(st.rows, 52);
    assert_int_equal(c.rows, 52);
    assert_int_equal(c.batches, 7);
    assert_true(c.sum == (cp_i128)(50 * 51 / 2) * 10 + 25 + 30);
    cp_sniff_result_release(&r);

    /* a text in the first column of a file whose sample is all integers */
    o = (size_t)snprintf(text, sizeof text, "code,n\n");
    for (int i = 1; i <= 30; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,1\n", i);
    snprintf(text + o, sizeof text - o, "A-31,1\n");
    assert_int_equal(run(text, 5, 0, &c, &st, &r, &err), CP_OK);
    assert_int_equal(st.restarts, 1);
    assert_string_equal(types_of(&r.schema, types, sizeof types), "STRING,INT64");
    assert_int_equal(c.rows, 31);
    assert_string_equal(c.last_s0, "A-31");
    cp_sniff_result_release(&r);

    /* no widening needed: no restart */
    assert_int_equal(run("a,b\n1,2\n3,4\n", 1, 0, &c, &st, &r, &err), CP_OK);
    assert_int_equal(st.restarts, 0);
    assert_int_equal(c.restarts, 0);
    cp_sniff_result_release(&r);
}

static void test_rejects(void **state)
{
    (void)state;
    const char *text = "a,b\n"
                       "1,2\n"
                       "3,\"4\"x\n"
                       "5,6,7\n"
                       "\"multi\nline\",8\n"
                       "9,10,\n"
                       "11,12,13,14\n"
                       "15,16\n";
    collect c;
    cp_stream_stats st;
    cp_sniff_result r;
    cp_error err;
    assert_int_equal(run(text, 0, 0, &c, &st, &r, &err), CP_OK);
    assert_int_equal(st.rejected, 3);
    assert_int_equal(c.nrejects, 3);
    assert_int_equal(c.reject_lines[0], 3);
    assert_int_equal(c.reject_codes[0], CP_BAD_QUOTE);
    assert_int_equal(c.reject_lines[1], 4);
    assert_int_equal(c.reject_codes[1], CP_TOO_MANY_FIELDS);
    assert_int_equal(c.reject_lines[2], 8); /* after a two-line row */
    assert_int_equal(c.reject_codes[2], CP_TOO_MANY_FIELDS);
    assert_int_equal(st.rows, 4);
    assert_int_equal(c.rows, 4);
    cp_sniff_result_release(&r);
}

static void test_file_errors(void **state)
{
    (void)state;
    collect c;
    cp_stream_stats st;
    cp_sniff_result r;
    cp_error err;
    /* an unterminated quote after the sample: the file fails with its place */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "a,b\n");
    for (int i = 0; i < 20; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,x\n", i);
    snprintf(text + o, sizeof text - o, "21,\"never closed\n");
    cp_status s = run(text, 5, 0, &c, &st, &r, &err);
    assert_int_equal(s, CP_UNTERMINATED_QUOTE);
    assert_int_equal(err.code, CP_UNTERMINATED_QUOTE);
    assert_int_equal(err.line, 22);
    assert_non_null(strstr(err.message, "s.csv"));
    cp_sniff_result_release(&r);
}

static size_t gzip_text(const char *text, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    deflateEnd(&z);
    return cap - z.avail_out;
}

/* A gzip source: the stats say so; cut short, the error names the file once, then the line. */
static void test_compressed_source(void **state)
{
    (void)state;
    char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "id,name\n");
    for (int i = 1; i <= 600; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,name %d\n", i, i * 7919 % 1000);
    unsigned char gz[16384];
    size_t n = gzip_text(text, gz, sizeof gz);
    for (int cut = 0; cut < 2; cut++) {
        cp_error err;
        cp_error_clear(&err);
        cp_source *src =
            cp_decompress_open(cp_source_open_memory(gz, cut ? n * 3 / 4 : n, "s.csv.gz"), &err);
        assert_non_null(src);
        cp_csv_options opts;
        cp_csv_options_default(&opts);
        opts.sample_bytes = 256;
        cp_sniff_result r;
        assert_int_equal(cp_sniff(src, &opts, &r, &err), CP_OK);
        collect c;
        memset(&c, 0, sizeof c);
        cp_stream_callbacks cb = {on_batch, on_reject, on_restart, &c, NULL, NULL};
        cp_stream_stats st;
        cp_status status = cp_csv_stream(src, &r, &opts, NULL, &cb, &st, &err);
        if (!cut) {
            assert_int_equal(status, CP_OK);
            assert_int_equal(st.rows, 600);
            assert_int_equal(st.bytes, o);
            assert_int_equal(st.compression, CP_COMPRESSION_GZIP);
        } else {
            assert_int_equal(status, CP_IO);
            assert_non_null(strstr(err.message, ": the gzip data ends early, at byte "));
            assert_int_equal(strncmp(err.message, "s.csv.gz: line ", 15), 0);
            assert_null(strstr(err.message + 1, "s.csv.gz"));
        }
        cp_sniff_result_release(&r);
        cp_source_free(src);
    }
}

/* Issue 14: rows that repeat the header are not data, in the sample and past it. */
static void test_repeated_header(void **state)
{
    (void)state;
    char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "name,v\n");
    for (int i = 1; i <= 300; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, i % 100 == 0 ? "name,v\n" : "n%d,%d.5\n",
                              i, i);
    collect c;
    cp_stream_stats st;
    cp_sniff_result r;
    cp_error err;
    /* seen in the sample: skipped wherever it comes */
    assert_int_equal(run(text, 0, 16, &c, &st, &r, &err), CP_OK);
    assert_true(r.dialect.repeats_header);
    assert_int_equal(st.rows, 297);
    assert_int_equal(st.repeated_headers, 3);
    assert_int_equal(st.restarts, 0);
    cp_sniff_result_release(&r);
    /* past a sample of 50 rows: the repeats do not fit the DECIMAL column, and are dropped
       instead of widening it */
    assert_int_equal(run(text, 50, 16, &c, &st, &r, &err), CP_OK);
    assert_false(r.dialect.repeats_header);
    assert_int_equal(st.rows, 297);
    assert_int_equal(st.repeated_headers, 3);
    assert_int_equal(st.restarts, 0);
    char t[64];
    assert_string_equal(types_of(&r.schema, t, sizeof t), "STRING,DECIMAL(18,1)");
    cp_sniff_result_release(&r);
    /* with the column's type forced (--type, --schema), the repeats past the sample are
       still dropped as repeats, not rejected as values that do not fit */
    cp_source *src = cp_source_open_memory(text, strlen(text), "s.csv");
    assert_non_null(src);
    cp_csv_options opts;
    cp_csv_options_default(&opts);
    opts.sample_rows = 50;
    assert_int_equal(cp_sniff(src, &opts, &r, &err), CP_OK);
    r.schema.columns[1].forced = true;
    memset(&c, 0, sizeof c);
    cp_stream_options so = {16, 0, 0, 1, 0};
    cp_stream_callbacks cb = {on_batch, on_reject, on_restart, &c, NULL, NULL};
    assert_int_equal(cp_csv_stream(src, &r, &opts, &so, &cb, &st, &err), CP_OK);
    assert_int_equal(st.rows, 297);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(c.nrejects, 0);
    assert_int_equal(st.repeated_headers, 3);
    assert_int_equal(st.restarts, 0);
    cp_sniff_result_release(&r);
    cp_source_free(src);
}

/* Issue 14: the preamble above the header is skipped on every pass, restarts included. */
static void test_preamble_and_restart(void **state)
{
    (void)state;
    char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "Report of the week,,\n\nid,v,w\n");
    for (int i = 1; i <= 80; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,%d,x\n", i, i);
    o += (size_t)snprintf(text + o, sizeof text - o, "81,oops,x\n");
    collect c;
    cp_stream_stats st;
    cp_sniff_result r;
    cp_error err;
    assert_int_equal(run(text, 50, 16, &c, &st, &r, &err), CP_OK);
    assert_int_equal(r.dialect.skip_lines, 2);
    assert_int_equal(st.restarts, 1);
    assert_int_equal(st.rows, 81);
    assert_int_equal(c.rows, 81);
    assert_string_equal(c.widened, "INT64,STRING,STRING");
    cp_sniff_result_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compressed_source),    cmocka_unit_test(test_rows_and_batches),
        cmocka_unit_test(test_widen_after_sample),   cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_file_errors),          cmocka_unit_test(test_repeated_header),
        cmocka_unit_test(test_preamble_and_restart), cmocka_unit_test(test_batches_in_flight),
        cmocka_unit_test(test_batches_memory),       cmocka_unit_test(test_batch_rows_of_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
