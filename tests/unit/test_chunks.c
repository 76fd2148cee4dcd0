/*
 * test_chunks.c - csv/chunks: the speculative chunk starts (after the first LF at or past
 * every cut, increasing, below the end, at most max, none past a last line without LF),
 * the rule that takes a chunk (use, skip, parse again), and the property that makes the
 * rule safe: over texts with quoted fields holding line ends, quotes and lines that look
 * like rows, a parse started after any LF whose first row lands on the true boundary
 * gives the true rows from there on, and a start inside quotes never does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/chunks.h"
#include "csv/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem {
    const char *data;
    size_t len, pos;
} mem;

static cp_status mem_read_at(void *ctx, uint64_t off, void *buf, size_t cap, size_t *n,
                             cp_error *err)
{
    (void)err;
    const mem *m = ctx;
    *n = off >= m->len ? 0 : (m->len - off < cap ? m->len - off : cap);
    memcpy(buf, m->data + off, *n);
    return CP_OK;
}

static cp_status mem_fill(void *ctx, char *dst, size_t cap, size_t *n, cp_error *err)
{
    (void)err;
    mem *m = ctx;
    *n = m->len - m->pos < cap ? m->len - m->pos : cap;
    memcpy(dst, m->data + m->pos, *n);
    m->pos += *n;
    return CP_OK;
}

static void test_starts(void **state)
{
    (void)state;
    const char text[] = "h,h\n1,aaaa\n2,bbbb\n3,cccc\n4,dddd\n5,eeee";
    mem m = {text, sizeof text - 1, 0};
    uint64_t starts[16];
    size_t n;
    assert_int_equal(cp_csv_chunk_starts(mem_read_at, &m, 4, m.len, 8, starts, 16, &n, NULL),
                     CP_OK);
    assert_true(n >= 3);
    assert_int_equal(starts[0], 4);
    for (size_t i = 1; i < n; i++) {
        assert_true(starts[i] > starts[i - 1]);
        assert_true(starts[i] < m.len);
        assert_int_equal(text[starts[i] - 1], '\n');
        /* the first LF at or after the cut */
        uint64_t cut = 4 + i * 8;
        if (cut > starts[i - 1])
            assert_null(memchr(text + cut, '\n', starts[i] - 1 - cut));
    }
    /* the last line has no LF: no chunk starts in it */
    assert_true(starts[n - 1] <= 32);
    assert_int_equal(cp_csv_chunk_starts(mem_read_at, &m, 4, m.len, 8, starts, 2, &n, NULL), CP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(cp_csv_chunk_starts(mem_read_at, &m, 4, m.len, 0, starts, 16, &n, NULL),
                     CP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cp_csv_chunk_starts(mem_read_at, &m, 4, m.len, 1000, starts, 16, &n, NULL),
                     CP_OK);
    assert_int_equal(n, 1);
    /* a cut in a long line without LF up to the end: one chunk */
    const char one[] = "a,b\n\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"";
    mem m1 = {one, sizeof one - 1, 0};
    assert_int_equal(cp_csv_chunk_starts(mem_read_at, &m1, 4, m1.len, 4, starts, 16, &n, NULL),
                     CP_OK);
    assert_int_equal(n, 1);
}

static void test_action(void **state)
{
    (void)state;
    /* the true boundary is where the chunk's own parse found its first row */
    assert_int_equal(cp_csv_chunk_action(100, 100, 200, 100), CP_CHUNK_USE);
    assert_int_equal(cp_csv_chunk_action(120, 100, 200, 120), CP_CHUNK_USE); /* blank lines */
    /* a start inside quotes: its first row is elsewhere */
    assert_int_equal(cp_csv_chunk_action(150, 100, 200, 100), CP_CHUNK_REPARSE);
    assert_int_equal(cp_csv_chunk_action(150, 100, 200, UINT64_MAX), CP_CHUNK_REPARSE);
    /* the row before covers the whole chunk */
    assert_int_equal(cp_csv_chunk_action(200, 100, 200, 100), CP_CHUNK_SKIP);
    assert_int_equal(cp_csv_chunk_action(250, 100, 200, 250), CP_CHUNK_SKIP);
}

typedef struct rows {
    uint64_t off[4096];
    char *text[4096];
    size_t n;
} rows;

/* The rows of text[from..) (offsets in text), each as its fields joined by '|'. */
static void tokenize(const char *text, size_t len, size_t from, rows *out)
{
    mem m = {text + from, len - from, 0};
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
    assert_non_null(t);
    out->n = 0;
    for (;;) {
        cp_row row;
        cp_status st = cp_tokenizer_next(t, &row, NULL);
        if (st != CP_OK && st != CP_BAD_QUOTE)
            break;
        if (st == CP_OK && row.nfields == 0)
            break;
        assert_true(out->n < 4096);
        out->off[out->n] = from + row.offset;
        char buf[512];
        size_t k = 0;
        if (st == CP_BAD_QUOTE)
            k = (size_t)snprintf(buf, sizeof buf, "!bad");
        for (size_t f = 0; st == CP_OK && f < row.nfields && k < sizeof buf - 1; f++)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%.*s|", (int)row.fields[f].len,
                                  row.fields[f].data);
        out->text[out->n++] = strdup(buf);
    }
    cp_tokenizer_free(t);
}

static void free_rows(rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->text[i]);
}

static void check_text(const char *text)
{
    const size_t len = strlen(text);
    static rows truth, spec;
    tokenize(text, len, 0, &truth);
    size_t reparse = 0, use = 0;
    for (size_t s = 1; s < len; s++) {
        if (text[s - 1] != '\n')
            continue;
        size_t i = 0; /* the true boundary: the first true row at or after s */
        while (i < truth.n && truth.off[i] < s)
            i++;
        uint64_t boundary = i < truth.n ? truth.off[i] : len;
        tokenize(text, len, s, &spec);
        uint64_t first = spec.n ? spec.off[0] : len;
        cp_chunk_action a = cp_csv_chunk_action(boundary, s, UINT64_MAX, first);
        if (a == CP_CHUNK_USE) {
            use++;
            assert_int_equal(spec.n, truth.n - i);
            for (size_t k = 0; k < spec.n; k++) {
                assert_int_equal(spec.off[k], truth.off[i + k]);
                assert_string_equal(spec.text[k], truth.text[i + k]);
            }
        } else {
            reparse++;
        }
        free_rows(&spec);
    }
    assert_true(use > 0);
    assert_true(reparse > 0); /* some starts were inside quotes */
    free_rows(&truth);
}

static void test_speculative_starts(void **state)
{
    (void)state;
    check_text("id,body,n\n"
               "1,\"1,fake,row\n2,\"\"quoted\"\",x\n\n\",3\n"
               "2,plain,4\n"
               "\n"
               "3,\"a\r\nb \"\"q\"\", c\r\n\",5\r\n"
               "4,\"\n\n\n\",6\n"
               "5,\"x\"\"\ny\"\"\",7\n"
               "6,\"only\nclosing\"\n"
               "7,\"\"\"\n\"\"\"\n"
               "8,last,9");
    /* random texts of such fields */
    unsigned seed = 15;
    for (int round = 0; round < 12; round++) {
        char text[2048];
        size_t k = (size_t)snprintf(text, sizeof text, "a,b\n");
        static const char *const pieces[] = {
            "x", "\"q\nq\"", "\"\"\"\"", "\"a,b\nc,d\n\"", "", "\"\n\n\"", "\"\"", "y\"z",
        };
        while (k < sizeof text - 64) {
            seed = seed * 1103515245u + 12345u;
            const char *p = pieces[(seed >> 16) % 8];
            seed = seed * 1103515245u + 12345u;
            const char *sep = (seed >> 16) % 3 == 0 ? "\n" : ((seed >> 16) % 7 == 1 ? "\n\n" : ",");
            k += (size_t)snprintf(text + k, sizeof text - k, "%s%s", p, sep);
        }
        check_text(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts),
        cmocka_unit_test(test_action),
        cmocka_unit_test(test_speculative_starts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
