/*
 * test_json_writer.c - json/json_writer: plain NDJSON (one object per line, keys in schema
 * order, exact decimals, nulls as null; every line parsed with jansson and compared with
 * the values), the DynamoDB import style (Item with pk/sk, _dataset/_source/_row, nulls
 * absent, numbers as strings), output in ~1 MiB chunks through the write callback, a
 * failing callback, and cp_json_style_parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "json/json_writer.h"
#include "table/cell.h"
#include "util/json_escape.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 7
static const char *const headers[NCOLS] = {"ID", "Name", "Preço", "day", "ok", "ts", "score"};
static const char *const names[NCOLS] = {"id", "name", "preco", "day", "ok", "ts", "score"};

static void make_schema(cp_schema *s)
{
    const cp_type t[NCOLS] = {cp_type_of(CP_TYPE_INT64),   cp_type_of(CP_TYPE_STRING),
                              cp_type_decimal(18, 2),      cp_type_of(CP_TYPE_DATE),
                              cp_type_of(CP_TYPE_BOOLEAN), cp_type_of(CP_TYPE_TIMESTAMP),
                              cp_type_of(CP_TYPE_DOUBLE)};
    size_t lens[NCOLS];
    assert_int_equal(cp_schema_init(s, NCOLS), CP_OK);
    for (size_t i = 0; i < NCOLS; i++) {
        s->columns[i].type = t[i];
        lens[i] = strlen(headers[i]);
    }
    assert_int_equal(cp_schema_set_names(s, headers, lens, NULL), CP_OK);
    for (size_t i = 0; i < NCOLS; i++)
        assert_string_equal(s->columns[i].name, names[i]);
}

static const char *const rows[][NCOLS] = {
    {"1", "Ana \"A\"\nSilva", "19.90", "2024-01-31", "yes", "2024-01-31 14:05:00", "1.5"},
    {"-2", "", "-0.05", "", "no", "2024-02-01 00:00:00.25", "NaN"},
    {"", "Zé", "", "1999-12-31", "", "", ""},
    {"9007199254740993", "x", "123456789012345.67", "2000-02-29", "true", "1970-01-01 00:00:00",
     "-inf"},
};
#define NROWS (sizeof rows / sizeof *rows)

static void fill(cp_batch *b, const cp_schema *s, uint64_t first_row)
{
    assert_int_equal(cp_batch_init(b, s, 16, 1 << 20, 1 << 20), CP_OK);
    cp_batch_clear(b, first_row);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    for (size_t r = 0; r < NROWS; r++) {
        cp_field f[NCOLS];
        for (size_t c = 0; c < NCOLS; c++) {
            f[c].data = rows[r][c];
            f[c].len = strlen(rows[r][c]);
            f[c].quoted = false;
        }
        cp_error err;
        assert_int_equal(cp_batch_append_row(b, f, NCOLS, &opts, &err), CP_OK);
    }
}

/* A write callback that keeps everything, counts calls and can fail on call `fail_on`. */
typedef struct capture {
    cp_buf all;
    size_t calls;
    size_t max_call, min_call;
    size_t fail_on; /* 1-based; 0 = never */
} capture;

static cp_status capture_write(void *ctx, const void *data, size_t len)
{
    capture *c = ctx;
    c->calls++;
    if (c->fail_on && c->calls == c->fail_on)
        return CP_IO;
    if (len > c->max_call)
        c->max_call = len;
    if (c->calls == 1 || len < c->min_call)
        c->min_call = len;
    return cp_buf_append(&c->all, data, len);
}

static void capture_init(capture *c)
{
    memset(c, 0, sizeof *c);
    cp_buf_init(&c->all, CP_BUF_UNLIMITED);
}

/* Splits NDJSON into parsed lines; every line must be one JSON object. */
static size_t parse_lines(const char *text, json_t **out, size_t cap)
{
    size_t n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with \n, the last one too */
        assert_true(n < cap);
        json_error_t je;
        out[n] = json_loadb(p, (size_t)(nl - p), 0, &je);
        if (!out[n])
            fail_msg("line %zu is not JSON: %s", n + 1, je.text);
        assert_true(json_is_object(out[n]));
        n++;
        p = nl + 1;
    }
    return n;
}

static void test_plain(void **state)
{
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    fill(&b, &s, 1);
    capture cap;
    capture_init(&cap);
    cp_error err;
    cp_error_clear(&err);
    cp_json_writer *w;
    assert_int_equal(
        cp_json_writer_new(&s, CP_JSON_STYLE_PLAIN, NULL, capture_write, &cap, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
    assert_int_equal(cap.calls, 0); /* small output stays buffered ... */
    assert_true(cp_json_writer_bytes(w) > 0);
    assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
    assert_int_equal(cap.calls, 1); /* ... until finish */
    assert_int_equal(cp_json_writer_bytes(w), cap.all.len);
    assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
    assert_int_equal(cap.calls, 1); /* nothing left: no empty write */
    cp_json_writer_free(w);

    const char *text = cap.all.data;
    /* exact digits and nulls, as written */
    assert_non_null(strstr(text, "{\"id\":1,\"name\":\"Ana \\\"A\\\"\\nSilva\",\"preco\":19.90,"
                                 "\"day\":\"2024-01-31\",\"ok\":true,"
                                 "\"ts\":\"2024-01-31T14:05:00\",\"score\":1.5}\n"));
    assert_non_null(strstr(text, "\"preco\":-0.05,\"day\":null,"));
    assert_non_null(strstr(text, "\"score\":\"NaN\"}"));
    assert_non_null(strstr(text, "{\"id\":null,"));
    assert_non_null(strstr(text, "\"id\":9007199254740993,")); /* past 2^53, exact */
    assert_non_null(strstr(text, "\"preco\":123456789012345.67,"));

    json_t *lines[8];
    size_t n = parse_lines(text, lines, 8);
    assert_int_equal(n, NROWS);
    for (size_t r = 0; r < n; r++) {
        json_t *o = lines[r];
        assert_int_equal(json_object_size(o), NCOLS);
        /* keys in schema order */
        const char *line_start = text;
        for (size_t k = 0; k < r; k++)
            line_start = strchr(line_start, '\n') + 1;
        const char *prev = line_start;
        for (size_t c = 0; c < NCOLS; c++) {
            char key[32];
            snprintf(key, sizeof key, "\"%s\":", names[c]);
            const char *at = strstr(prev, key);
            assert_non_null(at);
            assert_true(at < strchr(line_start, '\n'));
            prev = at;
        }
    }
    /* values compared */
    assert_int_equal(json_integer_value(json_object_get(lines[0], "id")), 1);
    assert_string_equal(json_string_value(json_object_get(lines[0], "name")), "Ana \"A\"\nSilva");
    assert_true(fabs(json_real_value(json_object_get(lines[0], "preco")) - 19.90) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(lines[0], "day")), "2024-01-31");
    assert_true(json_is_true(json_object_get(lines[0], "ok")));
    assert_string_equal(json_string_value(json_object_get(lines[0], "ts")), "2024-01-31T14:05:00");
    assert_true(json_real_value(json_object_get(lines[0], "score")) == 1.5);

    assert_int_equal(json_integer_value(json_object_get(lines[1], "id")), -2);
    assert_true(json_is_null(json_object_get(lines[1], "name")));
    assert_true(json_is_null(json_object_get(lines[1], "day")));
    assert_true(json_is_false(json_object_get(lines[1], "ok")));
    assert_string_equal(json_string_value(json_object_get(lines[1], "ts")),
                        "2024-02-01T00:00:00.250000");
    assert_string_equal(json_string_value(json_object_get(lines[1], "score")), "NaN");

    assert_true(json_is_null(json_object_get(lines[2], "id")));
    assert_string_equal(json_string_value(json_object_get(lines[2], "name")), "Zé");
    assert_true(json_is_null(json_object_get(lines[2], "preco")));
    assert_true(json_is_null(json_object_get(lines[2], "ok")));
    assert_true(json_is_null(json_object_get(lines[2], "ts")));
    assert_true(json_is_null(json_object_get(lines[2], "score")));

    assert_int_equal(json_integer_value(json_object_get(lines[3], "id")), 9007199254740993LL);
    assert_string_equal(json_string_value(json_object_get(lines[3], "score")), "-Infinity");
    for (size_t r = 0; r < n; r++)
        json_decref(lines[r]);

    cp_buf_release(&cap.all);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_dynamodb(void **state)
{
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    fill(&b, &s, 201); /* the second batch of a file: rows 201.. */
    capture cap;
    capture_init(&cap);
    cp_error err;
    cp_item_keys keys = {"people", "/in/people.csv", NULL, 0};
    cp_json_writer *w;
    assert_int_equal(
        cp_json_writer_new(&s, CP_JSON_STYLE_DYNAMODB, &keys, capture_write, &cap, &w, &err),
        CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
    assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
    cp_json_writer_free(w);

    json_t *lines[8];
    size_t n = parse_lines(cap.all.data, lines, 8);
    assert_int_equal(n, NROWS);
    for (size_t r = 0; r < n; r++) {
        assert_int_equal(json_object_size(lines[r]), 1);
        json_t *item = json_object_get(lines[r], "Item");
        assert_true(json_is_object(item));
        uint64_t ordinal = 201 + r;
        char pk[64], sk[32], row[32];
        snprintf(pk, sizeof pk, "people#/in/people.csv#%llu", (unsigned long long)(ordinal % 128));
        snprintf(sk, sizeof sk, "%012llu", (unsigned long long)ordinal);
        snprintf(row, sizeof row, "%llu", (unsigned long long)ordinal);
        assert_string_equal(json_string_value(json_object_get(json_object_get(item, "pk"), "S")),
                            pk);
        assert_string_equal(json_string_value(json_object_get(json_object_get(item, "sk"), "S")),
                            sk);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(item, "_dataset"), "S")), "people");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(item, "_source"), "S")),
            "/in/people.csv");
        assert_string_equal(json_string_value(json_object_get(json_object_get(item, "_row"), "N")),
                            row);
        /* every attribute is a one-key type descriptor, never {"NULL":...} */
        const char *key;
        json_t *v;
        json_object_foreach(item, key, v)
        {
            assert_true(json_is_object(v));
            assert_int_equal(json_object_size(v), 1);
            assert_null(json_object_get(v, "NULL"));
        }
    }
    json_t *i0 = json_object_get(lines[0], "Item");
    assert_int_equal(json_object_size(i0), 5 + NCOLS);
    assert_string_equal(json_string_value(json_object_get(json_object_get(i0, "id"), "N")), "1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(i0, "name"), "S")),
                        "Ana \"A\"\nSilva");
    assert_string_equal(json_string_value(json_object_get(json_object_get(i0, "preco"), "N")),
                        "19.90");
    assert_string_equal(json_string_value(json_object_get(json_object_get(i0, "day"), "S")),
                        "2024-01-31");
    assert_true(json_is_true(json_object_get(json_object_get(i0, "ok"), "BOOL")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(i0, "score"), "N")),
                        "1.5");

    /* nulls are absent attributes */
    json_t *i1 = json_object_get(lines[1], "Item");
    assert_null(json_object_get(i1, "name"));
    assert_null(json_object_get(i1, "day"));
    assert_int_equal(json_object_size(i1), 5 + NCOLS - 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(i1, "preco"), "N")),
                        "-0.05");
    assert_string_equal(json_string_value(json_object_get(json_object_get(i1, "score"), "S")),
                        "NaN");
    json_t *i2 = json_object_get(lines[2], "Item");
    assert_int_equal(json_object_size(i2), 5 + 2); /* only name and day */
    assert_string_equal(json_string_value(json_object_get(json_object_get(i2, "name"), "S")), "Zé");
    json_t *i3 = json_object_get(lines[3], "Item");
    assert_string_equal(json_string_value(json_object_get(json_object_get(i3, "id"), "N")),
                        "9007199254740993");
    assert_string_equal(json_string_value(json_object_get(json_object_get(i3, "preco"), "N")),
                        "123456789012345.67");
    for (size_t r = 0; r < n; r++)
        json_decref(lines[r]);
    cp_buf_release(&cap.all);

    /* with a business key: pk from the key column, sk the dataset */
    size_t cols[1] = {0};
    cp_item_keys kk = {"people", "/in/people.csv", cols, 1};
    capture_init(&cap);
    assert_int_equal(
        cp_json_writer_new(&s, CP_JSON_STYLE_DYNAMODB, &kk, capture_write, &cap, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
    assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
    cp_json_writer_free(w);
    n = parse_lines(cap.all.data, lines, 8);
    assert_int_equal(n, NROWS);
    json_t *item = json_object_get(lines[1], "Item");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "pk"), "S")),
                        "people#-2");
    assert_string_equal(json_string_value(json_object_get(json_object_get(item, "sk"), "S")),
                        "people");
    for (size_t r = 0; r < n; r++)
        json_decref(lines[r]);
    cp_buf_release(&cap.all);

    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_chunked_output(void **state)
{
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 1000, 1 << 22, 1 << 20), CP_OK);
    capture cap;
    capture_init(&cap);
    cp_error err;
    cp_json_writer *w;
    assert_int_equal(
        cp_json_writer_new(&s, CP_JSON_STYLE_PLAIN, NULL, capture_write, &cap, &w, &err), CP_OK);
    assert_non_null(w);
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    const size_t nbatches = 20, per = 1000; /* ~7 MB of NDJSON */
    for (size_t bi = 0; bi < nbatches; bi++) {
        cp_batch_clear(&b, 1 + bi * per);
        for (size_t r = 0; r < per; r++) {
            char id[32];
            snprintf(id, sizeof id, "%zu", bi * per + r + 1);
            cp_field f[NCOLS] = {{id, strlen(id), false}, {name, strlen(name), false},
                                 {"12.34", 5, false},     {"2024-05-06", 10, false},
                                 {"yes", 3, false},       {"2024-05-06 07:08:09", 19, false},
                                 {"2.5", 3, false}};
            assert_int_equal(cp_batch_append_row(&b, f, NCOLS, &opts, &err), CP_OK);
        }
        assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
        /* what is buffered stays around one chunk */
        assert_true(cp_json_writer_bytes(w) - cap.all.len < (1u << 20) + 4096);
    }
    assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
    size_t total = cap.all.len;
    assert_int_equal(cp_json_writer_bytes(w), total);
    cp_json_writer_free(w);

    assert_true(total > 6 * (1u << 20));
    /* chunks of about 1 MiB: all but the last at least 1 MiB, none much larger */
    size_t mib = 1u << 20;
    assert_true(cap.calls >= total / (mib + 4096));
    assert_true(cap.calls <= total / mib + 1);
    assert_true(cap.max_call < mib + 4096);
    assert_true(cap.max_call >= mib);

    /* the content is the rows in order, complete */
    size_t lines = 0;
    const char *p = cap.all.data;
    for (const char *nl; (nl = memchr(p, '\n', total - (size_t)(p - cap.all.data))); p = nl + 1) {
        char want[48];
        int k = snprintf(want, sizeof want, "{\"id\":%zu,", ++lines);
        assert_memory_equal(p, want, (size_t)k);
    }
    assert_int_equal(lines, nbatches * per);
    assert_int_equal((size_t)(p - cap.all.data), total);

    cp_buf_release(&cap.all);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_failing_write(void **state)
{
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    fill(&b, &s, 1);
    cp_error err;

    /* at finish */
    capture cap;
    capture_init(&cap);
    cap.fail_on = 1;
    cp_json_writer *w;
    assert_int_equal(
        cp_json_writer_new(&s, CP_JSON_STYLE_PLAIN, NULL, capture_write, &cap, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
    cp_error_clear(&err);
    assert_int_equal(cp_json_writer_finish(w, &err), CP_IO);
    assert_int_equal(err.code, CP_IO);
    assert_true(strlen(err.message) > 0);
    cp_json_writer_free(w);
    cp_buf_release(&cap.all);

    /* in the middle of a large batch */
    cp_batch big;
    assert_int_equal(cp_batch_init(&big, &s, 20000, 1 << 24, 1 << 20), CP_OK);
    cp_batch_clear(&big, 1);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    char name[200];
    memset(name, 'q', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    for (size_t r = 0; r < 20000; r++) {
        cp_field f[2] = {{"1", 1, false}, {name, strlen(name), false}};
        assert_int_equal(cp_batch_append_row(&big, f, 2, &opts, &err), CP_OK);
    }
    capture_init(&cap);
    cap.fail_on = 2;
    assert_int_equal(cp_json_writer_new(&s, CP_JSON_STYLE_DYNAMODB,
                                        &(cp_item_keys){"d", "/in/d.csv", NULL, 0}, capture_write,
                                        &cap, &w, &err),
                     CP_OK);
    assert_non_null(w);
    cp_error_clear(&err);
    assert_int_equal(cp_json_writer_write_batch(w, &big, &err), CP_IO);
    assert_int_equal(err.code, CP_IO);
    assert_int_equal(cap.calls, 2); /* stopped at the failure */
    cp_json_writer_free(w);
    cp_buf_release(&cap.all);
    cp_batch_release(&big);

    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_empty_schema_and_batch(void **state)
{
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 4, 1024, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    capture cap;
    capture_init(&cap);
    cp_error err;
    cp_json_writer *w;
    assert_int_equal(
        cp_json_writer_new(&s, CP_JSON_STYLE_PLAIN, NULL, capture_write, &cap, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
    assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
    assert_int_equal(cap.calls, 0); /* no rows, no bytes */
    assert_int_equal(cp_json_writer_bytes(w), 0);
    cp_json_writer_free(w);
    cp_json_writer_free(NULL);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_style_parse(void **state)
{
    cp_json_style st = (cp_json_style)99;
    assert_true(cp_json_style_parse("plain", &st));
    assert_int_equal(st, CP_JSON_STYLE_PLAIN);
    st = (cp_json_style)99;
    assert_true(cp_json_style_parse("json", &st));
    assert_int_equal(st, CP_JSON_STYLE_PLAIN);
    st = (cp_json_style)99;
    assert_true(cp_json_style_parse("ndjson", &st));
    assert_int_equal(st, CP_JSON_STYLE_PLAIN);
    assert_true(cp_json_style_parse("dynamodb", &st));
    assert_int_equal(st, CP_JSON_STYLE_DYNAMODB);
    assert_true(cp_json_style_parse("DynamoDB", &st));
    assert_int_equal(st, CP_JSON_STYLE_DYNAMODB);
    assert_true(cp_json_style_parse("NDJSON", &st));
    assert_int_equal(st, CP_JSON_STYLE_PLAIN);
    assert_false(cp_json_style_parse("", &st));
    assert_false(cp_json_style_parse("dynamo", &st));
    assert_false(cp_json_style_parse("csv", &st));
    assert_false(cp_json_style_parse("plain ", &st));
}

/* ---- the writer's forms against table/cell.h, byte for byte ---- */

#define XN 19
static const char *const xheaders[XN] = {
    "i",  "b",   "d0", "d1", "d2", "d3", "d4", "d5",
    "d6", "d12", "f",  "dt", "ts", "tz", "s",  "a column name long enough to pass thirty-two bytes",
    "e",  "d38", "big"};

static void make_every_type_schema(cp_schema *s)
{
    const cp_type t[XN] = {
        cp_type_of(CP_TYPE_INT64),     cp_type_of(CP_TYPE_BOOLEAN),     cp_type_decimal(18, 0),
        cp_type_decimal(18, 1),        cp_type_decimal(18, 2),          cp_type_decimal(18, 3),
        cp_type_decimal(18, 4),        cp_type_decimal(18, 5),          cp_type_decimal(20, 6),
        cp_type_decimal(30, 12),       cp_type_of(CP_TYPE_DOUBLE),      cp_type_of(CP_TYPE_DATE),
        cp_type_of(CP_TYPE_TIMESTAMP), cp_type_of(CP_TYPE_TIMESTAMPTZ), cp_type_of(CP_TYPE_STRING),
        cp_type_of(CP_TYPE_STRING),    cp_type_of(CP_TYPE_STRING),      cp_type_decimal(38, 2),
        cp_type_of(CP_TYPE_INT64)};
    size_t lens[XN];
    assert_int_equal(cp_schema_init(s, XN), CP_OK);
    for (size_t i = 0; i < XN; i++) {
        s->columns[i].type = t[i];
        lens[i] = strlen(xheaders[i]);
    }
    assert_int_equal(cp_schema_set_names(s, xheaders, lens, NULL), CP_OK);
}

static uint64_t xrng_state = 0x2545F4914F6CDD1DULL;
static uint64_t xrng(void)
{
    xrng_state ^= xrng_state << 13;
    xrng_state ^= xrng_state >> 7;
    xrng_state ^= xrng_state << 17;
    return xrng_state;
}

/* A random text value of column c ("" is null; never for column "e", always a string). */
static void random_value(size_t c, char *v, size_t cap)
{
    static const char *const doubles[] = {"NaN", "inf",    "-inf",       "1.5e300", "-0.0",
                                          "0.1", "5e-324", "123456.789", "-2.5e-10"};
    static const char *const alphabet[] = {
        "a",    "Z",    " ",    "\"", "\\",       "\n",           "\t",
        "\x01", "\x1f", "\x7f", "/",  "\xc3\xa7", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    if (c != 16 && xrng() % 8 == 0) {
        v[0] = '\0';
        return;
    }
    const char *sign = xrng() % 3 == 0 ? "-" : "";
    unsigned long long r = (unsigned long long)xrng();
    switch (c) {
    case 0:
        snprintf(v, cap, "%lld", (long long)(r >> (r % 64)) * (xrng() % 2 ? 1 : -1));
        break;
    case 1:
        snprintf(v, cap, "%s", r % 2 ? "true" : "false");
        break;
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8: {
        /* DECIMAL(18, 0..5) and DECIMAL(20, 6): small values or all the integer digits */
        unsigned scale = (unsigned)(c - 2), ints = xrng() % 2 ? 3 : 18 - (scale < 6 ? scale : 6);
        unsigned long long lim = 1;
        for (unsigned k = 0; k < ints; k++)
            lim *= 10;
        char frac[16];
        for (unsigned k = 0; k < scale; k++)
            frac[k] = (char)('0' + xrng() % 10);
        frac[scale] = '\0';
        snprintf(v, cap, "%s%llu%s%s", sign, r % lim, scale ? "." : "", frac);
        break;
    }
    case 9:
        snprintf(v, cap, "%s%llu.%012llu", sign, r % 100000000000000000ULL,
                 (unsigned long long)xrng() % 1000000000000ULL);
        break;
    case 10:
        snprintf(v, cap, "%s", doubles[r % (sizeof doubles / sizeof *doubles)]);
        break;
    case 11:
        snprintf(v, cap, "%04llu-%02llu-%02llu", r % 9999 + 1, r / 10000 % 12 + 1,
                 r / 1000000 % 28 + 1);
        break;
    case 12:
    case 13: {
        unsigned long long us = xrng() % 2 ? 0 : xrng() % 1000000;
        int n = snprintf(v, cap, "%04llu-%02llu-%02llu %02llu:%02llu:%02llu", r % 9999 + 1,
                         r / 10000 % 12 + 1, r / 1000000 % 28 + 1, r / 100 % 24, r / 7 % 60,
                         r / 13 % 60);
        if (us)
            n += snprintf(v + n, cap - (size_t)n, ".%06llu", us);
        if (c == 13)
            snprintf(v + n, cap - (size_t)n, "%s", r % 3 ? "Z" : "+05:30");
        break;
    }
    case 14:
    case 15:
    case 16: {
        size_t len = xrng() % (xrng() % 4 ? 20 : 90), o = 0;
        bool plain = xrng() % 2;
        v[0] = '\0';
        while (o < len && o + 5 < cap) {
            const char *a = alphabet[xrng() % (plain ? 3 : sizeof alphabet / sizeof *alphabet)];
            memcpy(v + o, a, strlen(a));
            o += strlen(a);
        }
        v[o] = '\0';
        break;
    }
    case 17:
        snprintf(v, cap, "%s%llu%018llu.%02llu", sign, r % 1000000000000000000ULL,
                 (unsigned long long)xrng() % 1000000000000000000ULL,
                 (unsigned long long)xrng() % 100);
        break;
    default:
        snprintf(v, cap, "%lld", xrng() % 2 ? (long long)INT64_MIN : (long long)INT64_MAX);
    }
}

/* The rows as cp_cell_append_json / cp_cell_append_dynamodb and cp_item_key write them. */
static void expected_rows(const cp_batch *b, cp_json_style style, const cp_item_keys *keys,
                          cp_buf *out)
{
    cp_buf pk, sk;
    cp_buf_init(&pk, CP_BUF_UNLIMITED);
    cp_buf_init(&sk, CP_BUF_UNLIMITED);
    for (size_t r = 0; r < b->nrows; r++) {
        if (style == CP_JSON_STYLE_PLAIN) {
            for (size_t c = 0; c < b->schema->ncolumns; c++) {
                assert_int_equal(cp_buf_append_char(out, c ? ',' : '{'), CP_OK);
                const char *name = b->schema->columns[c].name;
                assert_int_equal(cp_json_append_string(out, name, strlen(name)), CP_OK);
                assert_int_equal(cp_buf_append_char(out, ':'), CP_OK);
                assert_int_equal(cp_cell_append_json(out, b, c, r), CP_OK);
            }
            assert_int_equal(cp_buf_append_str(out, "}\n"), CP_OK);
            continue;
        }
        assert_int_equal(cp_item_key(keys, b, r, &pk, &sk), CP_OK);
        assert_int_equal(cp_buf_append_str(out, "{\"Item\":{\"pk\":{\"S\":"), CP_OK);
        assert_int_equal(cp_json_append_string(out, pk.data, pk.len), CP_OK);
        assert_int_equal(cp_buf_append_str(out, "},\"sk\":{\"S\":"), CP_OK);
        assert_int_equal(cp_json_append_string(out, sk.data, sk.len), CP_OK);
        assert_int_equal(cp_buf_append_str(out, "},\"_dataset\":{\"S\":"), CP_OK);
        assert_int_equal(cp_json_append_string(out, keys->dataset, strlen(keys->dataset)), CP_OK);
        assert_int_equal(cp_buf_append_str(out, "},\"_source\":{\"S\":"), CP_OK);
        assert_int_equal(cp_json_append_string(out, keys->source_uri, strlen(keys->source_uri)),
                         CP_OK);
        assert_int_equal(cp_buf_printf(out, "},\"_row\":{\"N\":\"%llu\"}",
                                       (unsigned long long)(b->first_row + r)),
                         CP_OK);
        for (size_t c = 0; c < b->schema->ncolumns; c++) {
            if (!cp_batch_valid(b, c, r))
                continue;
            const char *name = b->schema->columns[c].name;
            assert_int_equal(cp_buf_append_char(out, ','), CP_OK);
            assert_int_equal(cp_json_append_string(out, name, strlen(name)), CP_OK);
            assert_int_equal(cp_buf_append_char(out, ':'), CP_OK);
            assert_int_equal(cp_cell_append_dynamodb(out, b, c, r), CP_OK);
        }
        assert_int_equal(cp_buf_append_str(out, "}}\n"), CP_OK);
    }
    cp_buf_release(&pk);
    cp_buf_release(&sk);
}

/*
 * Random batches of every type (nulls in every column, NaN and infinities, every decimal
 * scale 0..6 and 12, 38-digit decimals, dates and timestamps over 0001..9999, strings
 * with escapes, a column name past 32 bytes), written in both styles, keyless and keyed,
 * compared byte for byte with the cell.h forms.
 */
static void test_forms_match_cell(void **state)
{
    (void)state;
    cp_schema s;
    make_every_type_schema(&s);
    const size_t key_cols[] = {0, 14};
    for (int round = 0; round < 30; round++) {
        cp_batch b;
        assert_int_equal(cp_batch_init(&b, &s, 300, 1 << 22, 1 << 20), CP_OK);
        cp_batch_clear(&b, 1 + (uint64_t)round * 1000000000000ULL);
        cp_value_opts opts = {{'.', CP_DATE_ORDER_UNKNOWN, 0}, NULL};
        size_t nrows = 1 + xrng() % 300;
        for (size_t r = 0; r < nrows; r++) {
            char vals[XN][512];
            cp_field f[XN];
            for (size_t c = 0; c < XN; c++) {
                random_value(c, vals[c], sizeof vals[c]);
                f[c].data = vals[c];
                f[c].len = strlen(vals[c]);
                f[c].quoted = c >= 14 && c <= 16; /* "" is an empty string there */
            }
            cp_error err;
            if (cp_batch_append_row(&b, f, XN, &opts, &err) != CP_OK)
                fail_msg("row %zu: %s (column %zu)", r, err.message, (size_t)err.column);
        }
        for (int variant = 0; variant < 3; variant++) {
            cp_json_style style = variant == 0 ? CP_JSON_STYLE_PLAIN : CP_JSON_STYLE_DYNAMODB;
            cp_item_keys keys = {"ds\"1", "/in/s\\rc.csv", variant == 2 ? key_cols : NULL,
                                 variant == 2 ? 2 : 0};
            capture cap;
            capture_init(&cap);
            cp_error err;
            cp_json_writer *w;
            assert_int_equal(cp_json_writer_new(&s, style, &keys, capture_write, &cap, &w, &err),
                             CP_OK);
            assert_non_null(w);
            assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK);
            assert_int_equal(cp_json_writer_write_batch(w, &b, &err), CP_OK); /* again */
            assert_int_equal(cp_json_writer_finish(w, &err), CP_OK);
            cp_buf want;
            cp_buf_init(&want, CP_BUF_UNLIMITED);
            expected_rows(&b, style, &keys, &want);
            expected_rows(&b, style, &keys, &want);
            assert_int_equal(cap.all.len, want.len);
            assert_memory_equal(cap.all.data, want.data, want.len);
            assert_int_equal(cp_json_writer_bytes(w), want.len);
            cp_json_writer_free(w);
            cp_buf_release(&want);
            cp_buf_release(&cap.all);
        }
        cp_batch_release(&b);
    }
    cp_schema_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_dynamodb),
        cmocka_unit_test(test_chunked_output),
        cmocka_unit_test(test_failing_write),
        cmocka_unit_test(test_empty_schema_and_batch),
        cmocka_unit_test(test_style_parse),
        cmocka_unit_test(test_forms_match_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
