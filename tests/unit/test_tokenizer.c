/*
 * Unit tests for csv/tokenizer. Every case runs three ways: the whole text in one fill,
 * one byte per fill with a tiny chunk size, and 7 bytes per fill; all must agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/tokenizer.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem {
    const char *p;
    size_t len, pos, piece;
    unsigned calls;
    bool past_end; /* fill was called again after it reported the end */
    bool ended;
} mem;

static cp_status mem_fill(void *ctx, char *dst, size_t cap, size_t *n, cp_error *err)
{
    (void)err;
    mem *m = ctx;
    m->calls++;
    if (m->ended)
        m->past_end = true;
    assert_true(cap > 0);
    size_t k = m->len - m->pos;
    if (k > cap)
        k = cap;
    if (k > m->piece)
        k = m->piece;
    memcpy(dst, m->p + m->pos, k);
    m->pos += k;
    *n = k;
    if (k == 0)
        m->ended = true;
    return CP_OK;
}

typedef struct mode {
    size_t piece;
    size_t chunk; /* 0: the default */
} mode;

static const mode modes[] = {{SIZE_MAX, 0}, {1, 16}, {7, 16}, {3, 100}};
#define NMODES (sizeof modes / sizeof modes[0])

static void dump_field(cp_buf *out, const cp_field *f)
{
    if (f->quoted)
        assert_int_equal(cp_buf_append_char(out, '<'), CP_OK);
    assert_int_equal(cp_buf_append(out, f->data, f->len), CP_OK);
    if (f->quoted)
        assert_int_equal(cp_buf_append_char(out, '>'), CP_OK);
}

/*
 * Tokenizes text and writes one line per row: "LINE[-END]:f1|f2|..." with quoted fields
 * in <>, "LINE!CODE" for a row error and "!CODE@LINE" for an error that ends the input.
 */
static void tokenize(const char *text, size_t len, const cp_tokenizer_options *base, mode md,
                     cp_buf *out, const char **line_ending, cp_error *last_err)
{
    cp_tokenizer_options o;
    if (base)
        o = *base;
    else
        cp_tokenizer_options_default(&o);
    if (md.chunk)
        o.chunk_bytes = md.chunk;
    mem m = {.p = text, .len = len, .piece = md.piece};
    cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
    assert_non_null(t);
    cp_buf_reset(out);
    uint64_t last_offset = 0;
    for (int guard = 0; guard < 100000; guard++) {
        cp_row row;
        cp_error err;
        cp_error_clear(&err);
        cp_status st = cp_tokenizer_next(t, &row, &err);
        if (st == CP_BAD_QUOTE) {
            assert_int_equal(err.code, CP_BAD_QUOTE);
            assert_true(err.message[0] != '\0');
            assert_int_equal(err.line, row.line);
            assert_int_equal(cp_buf_printf(out, "%llu!BAD_QUOTE\n", (unsigned long long)row.line),
                             CP_OK);
            continue;
        }
        if (st != CP_OK) {
            assert_int_equal(err.code, st);
            assert_true(err.message[0] != '\0');
            assert_int_equal(
                cp_buf_printf(out, "!%s@%llu\n", cp_status_name(st), (unsigned long long)err.line),
                CP_OK);
            if (last_err)
                *last_err = err;
            break;
        }
        if (row.nfields == 0) {
            /* the end is sticky */
            assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
            assert_int_equal(row.nfields, 0);
            assert_false(m.past_end);
            assert_int_equal(cp_tokenizer_offset(t), len);
            break;
        }
        assert_true(row.offset >= last_offset);
        assert_true(row.offset + row.text_len <= len);
        /* the row's raw text is the input at its offset */
        assert_memory_equal(row.text, text + row.offset, row.text_len);
        last_offset = row.offset + row.text_len;
        if (row.end_line != row.line)
            assert_int_equal(cp_buf_printf(out, "%llu-%llu:", (unsigned long long)row.line,
                                           (unsigned long long)row.end_line),
                             CP_OK);
        else
            assert_int_equal(cp_buf_printf(out, "%llu:", (unsigned long long)row.line), CP_OK);
        for (size_t i = 0; i < row.nfields; i++) {
            if (i)
                assert_int_equal(cp_buf_append_char(out, '|'), CP_OK);
            dump_field(out, &row.fields[i]);
        }
        assert_int_equal(cp_buf_append_char(out, '\n'), CP_OK);
    }
    if (line_ending)
        *line_ending = cp_tokenizer_line_ending(t);
    cp_tokenizer_free(t);
}

/* Runs every mode and checks each gives `want`. */
static void check_opts(const char *text, size_t len, const cp_tokenizer_options *o,
                       const char *want)
{
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    for (size_t i = 0; i < NMODES; i++) {
        tokenize(text, len, o, modes[i], &out, NULL, NULL);
        const char *got = out.data ? out.data : "";
        if (strcmp(got, want) != 0)
            fail_msg("input \"%s\", mode %zu/%zu:\n--- got\n%s--- expected\n%s", text,
                     modes[i].piece, modes[i].chunk, got, want);
    }
    cp_buf_release(&out);
}

static void check(const char *text, const char *want)
{
    check_opts(text, strlen(text), NULL, want);
}

static cp_tokenizer_options with_delim(char d)
{
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    o.delimiter = d;
    return o;
}

static void test_rfc4180(void **state)
{
    (void)state;
    check("a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
    check("\"a\",\"b c\",\"x,y\"\n", "1:<a>|<b c>|<x,y>\n");
    check("\"\",x,\"\"\n", "1:<>|x|<>\n");
    check(",\n", "1:|\n");
    check("a,b,\n", "1:a|b|\n");
    check("a,\"b\",\n", "1:a|<b>|\n");
    check("x\n", "1:x\n");
    check("\"a\"\n", "1:<a>\n");
    check("\"a\"", "1:<a>\n");
    check("a,\"b\"", "1:a|<b>\n");
    check("", "");
    check("\n\n\n", "");
    check("\r\n\r\n", "");
}

/* Fields of every length around the 16-byte steps of the scan, each special byte ending one. */
static void test_scan_word_boundaries(void **state)
{
    (void)state;
    static const char *const ends[] = {",", "\n", "\r\n", "\r", "\"x,"};
    cp_buf text, want;
    cp_buf_init(&text, CP_BUF_UNLIMITED);
    cp_buf_init(&want, CP_BUF_UNLIMITED);
    for (size_t e = 0; e < sizeof ends / sizeof *ends; e++) {
        for (size_t n = ends[e][0] == '"'; n <= 40; n++) { /* a leading quote would quote */
            cp_buf_reset(&text);
            cp_buf_reset(&want);
            char field[48];
            for (size_t k = 0; k < n; k++)
                field[k] = (char)('a' + k % 26);
            field[n] = '\0';
            /* a quote in an unquoted field is an ordinary byte: the field goes on after it */
            bool quote = ends[e][0] == '"';
            assert_int_equal(cp_buf_printf(&text, "%s%s%s\n", field, ends[e], "z"), CP_OK);
            if (ends[e][0] == ',')
                assert_int_equal(cp_buf_printf(&want, "1:%s|z\n", field), CP_OK);
            else if (quote)
                assert_int_equal(cp_buf_printf(&want, "1:%s\"x|z\n", field), CP_OK);
            else if (n)
                assert_int_equal(cp_buf_printf(&want, "1:%s\n2:z\n", field), CP_OK);
            else
                assert_int_equal(cp_buf_printf(&want, "2:z\n"), CP_OK); /* a blank line */
            check(text.data, want.data);
        }
    }
    cp_buf_release(&text);
    cp_buf_release(&want);
}

static void test_doubled_quotes(void **state)
{
    (void)state;
    check("\"ha \"\"ha\"\" ha\",1\n", "1:<ha \"ha\" ha>|1\n");
    check("\"\"\"\"\n", "1:<\">\n");
    check("\"\"\"\"\"\"\n", "1:<\"\">\n");
    check("\"a\"\"\",\"\"\"b\"\n", "1:<a\">|<\"b>\n");
    check("\"x\"\"\ny\"\n", "1-2:<x\"\ny>\n");
    /* many escaped fields in one row */
    check("\"1\"\"\",\"2\"\"\",\"3\"\"\",\"4\"\"\"\n", "1:<1\">|<2\">|<3\">|<4\">\n");
}

static void test_row_text_raw(void **state)
{
    (void)state;
    const char *text = "id,\"say \"\"hi\"\"\"\n2,x\n";
    cp_tokenizer *t =
        cp_tokenizer_new(NULL, mem_fill, &(mem){.p = text, .len = strlen(text), .piece = 1});
    assert_non_null(t);
    cp_row row;
    cp_error err;
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    assert_int_equal(row.nfields, 2);
    assert_int_equal(row.text_len, strlen("id,\"say \"\"hi\"\"\""));
    assert_memory_equal(row.text, "id,\"say \"\"hi\"\"\"", row.text_len);
    assert_int_equal(row.fields[1].len, 8);
    assert_memory_equal(row.fields[1].data, "say \"hi\"", 8);
    assert_true(row.fields[1].quoted);
    assert_int_equal(row.offset, 0);
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    assert_int_equal(row.offset, 16);
    assert_memory_equal(row.text, "2,x", 3);
    assert_int_equal(row.text_len, 3);
    cp_tokenizer_free(t);
}

static void test_newlines_in_quotes(void **state)
{
    (void)state;
    check("a,\"l1\nl2\",c\nd,e,f\n", "1-2:a|<l1\nl2>|c\n3:d|e|f\n");
    check("a,\"l1\r\nl2\r\nl3\",c\r\nd\r\n", "1-3:a|<l1\r\nl2\r\nl3>|c\n4:d\n");
    check("\"l1\rl2\"\rd\r", "1-2:<l1\rl2>\n3:d\n");
    check("\"\n\n\n\"\nx\n", "1-4:<\n\n\n>\n5:x\n");
    /* a blank line inside quotes is not a blank line */
    check("\"a\n\nb\"\n\nc\n", "1-3:<a\n\nb>\n5:c\n");
    /* at the end, without a final line end */
    check("x\n\"a\nb\"", "1:x\n2-3:<a\nb>\n");
}

static void test_line_endings(void **state)
{
    (void)state;
    const char *le;
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    static const struct {
        const char *text, *want, *ending;
    } cases[] = {
        {"a,b\nc,d\n", "1:a|b\n2:c|d\n", "LF"},
        {"a,b\r\nc,d\r\n", "1:a|b\n2:c|d\n", "CRLF"},
        {"a,b\rc,d\r", "1:a|b\n2:c|d\n", "CR"},
        {"a\nb\r\nc\rd", "1:a\n2:b\n3:c\n4:d\n", "LF"},
        {"a\r\nb\nc\rd\n", "1:a\n2:b\n3:c\n4:d\n", "CRLF"},
        {"a,b\nc,d", "1:a|b\n2:c|d\n", "LF"},
        {"a,b", "1:a|b\n", "none"},
        {"a\n\n\nb\n\r\n\rc", "1:a\n4:b\n7:c\n", "LF"},
        {"\n\na\n", "3:a\n", "LF"},
        {"\r\n\r\na\r\n", "3:a\n", "CRLF"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check(cases[i].text, cases[i].want);
        for (size_t k = 0; k < NMODES; k++) {
            tokenize(cases[i].text, strlen(cases[i].text), NULL, modes[k], &out, &le, NULL);
            if (strcmp(le, cases[i].ending) != 0)
                fail_msg("\"%s\": line ending %s, expected %s", cases[i].text, le, cases[i].ending);
        }
    }
    cp_buf_release(&out);
}

static void test_delimiters(void **state)
{
    (void)state;
    cp_tokenizer_options o = with_delim(';');
    const char *t1 = "a;b,c;\"d;e\"\n1,5;2;3\n";
    check_opts(t1, strlen(t1), &o, "1:a|b,c|<d;e>\n2:1,5|2|3\n");
    o = with_delim('\t');
    const char *t2 = "a\tb c\t\n\"x\ty\"\tz\n";
    check_opts(t2, strlen(t2), &o, "1:a|b c|\n2:<x\ty>|z\n");
    o = with_delim('|');
    const char *t3 = "a|b||c\n";
    check_opts(t3, strlen(t3), &o, "1:a|b||c\n");
    /* a single-quote quote character */
    o = with_delim(',');
    o.quote = '\'';
    const char *t4 = "'a,b','it''s',\"x\"\n";
    check_opts(t4, strlen(t4), &o, "1:<a,b>|<it's>|\"x\"\n");
}

static void test_quote_in_unquoted(void **state)
{
    (void)state;
    check("ab\"c,d\"\n", "1:ab\"c|d\"\n");
    check("5'11\",x\n", "1:5'11\"|x\n");
    check(" \"a\",b\n", "1: \"a\"|b\n"); /* a space before the quote: not quoted */
    check("a\"\"b\n", "1:a\"\"b\n");
}

static void test_bad_quote(void **state)
{
    (void)state;
    /* text after a closing quote: the row is an error, the next row is fine */
    check("a,\"b\"x,c\nd,e\n", "1!BAD_QUOTE\n2:d|e\n");
    check("\"b\" ,c\r\nd,e\r\n", "1!BAD_QUOTE\n2:d|e\n");
    check("h\n\"a\nb\"x\ny\n", "1:h\n2!BAD_QUOTE\n4:y\n");
    check("\"a\"b", "1!BAD_QUOTE\n");
    check("\"a\"b\n\"a\"b\nok\n", "1!BAD_QUOTE\n2!BAD_QUOTE\n3:ok\n");

    /* the error names the place */
    const char *text = "x,y\n1,\"2\"3,4\n5,6\n";
    cp_tokenizer *t =
        cp_tokenizer_new(NULL, mem_fill, &(mem){.p = text, .len = strlen(text), .piece = 64});
    cp_row row;
    cp_error err;
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    cp_error_clear(&err);
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_BAD_QUOTE);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2);
    assert_int_equal(row.line, 2);
    assert_int_equal(row.text_len, 8);
    assert_memory_equal(row.text, "1,\"2\"3,4", 8);
    assert_non_null(strstr(err.message, "line 2"));
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    assert_int_equal(row.line, 3);
    assert_int_equal(row.nfields, 2);
    assert_memory_equal(row.fields[0].data, "5", 1);
    cp_tokenizer_free(t);
}

static void test_unterminated(void **state)
{
    (void)state;
    check("a,b\n\"open,c\nmore\n", "1:a|b\n!UNTERMINATED_QUOTE@2\n");
    check("\"", "!UNTERMINATED_QUOTE@1\n");
    check("a\nb\nc,\"x\"\"", "1:a\n2:b\n!UNTERMINATED_QUOTE@3\n");
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    cp_error err;
    const char *text = "a,b\n1,\"never closed\n";
    tokenize(text, strlen(text), NULL, modes[1], &out, NULL, &err);
    assert_int_equal(err.code, CP_UNTERMINATED_QUOTE);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2);
    assert_non_null(strstr(err.message, "line 2"));
    cp_buf_release(&out);
}

static void test_field_too_long(void **state)
{
    (void)state;
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    o.max_field_bytes = 8;
    const char *ok = "12345678,\"abcdefgh\"\n\"ab\"\"cdef\"\n";
    check_opts(ok, strlen(ok), &o, "1:12345678|<abcdefgh>\n2:<ab\"cdef>\n");
    const char *t1 = "x\n123456789,y\n";
    check_opts(t1, strlen(t1), &o, "1:x\n!FIELD_TOO_LONG@2\n");
    const char *t2 = "x\ny,\"123456789\"\n";
    check_opts(t2, strlen(t2), &o, "1:x\n!FIELD_TOO_LONG@2\n");
    /* a quoted field that never ends is too long before the file ends */
    const char *t3 = "x\n\"12345678901234567890";
    check_opts(t3, strlen(t3), &o, "1:x\n!FIELD_TOO_LONG@2\n");
    const char *t4 = "x\n12345678901234567890123456789012345678901234567890";
    check_opts(t4, strlen(t4), &o, "1:x\n!FIELD_TOO_LONG@2\n");

    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    cp_error err;
    tokenize(t2, strlen(t2), &o, modes[0], &out, NULL, &err);
    assert_int_equal(err.column, 2);
    cp_buf_release(&out);

    /* a long field with the default limits is fine, whatever the chunk size */
    size_t n = 300000;
    char *big = malloc(n + 8);
    assert_non_null(big);
    memset(big, 'v', n);
    memcpy(big + n, ",end\n", 5);
    /* the tokenizer rescans a row after each fill: tiny fills of a huge row are slow */
    static const mode big_modes[] = {{SIZE_MAX, 0}, {SIZE_MAX, 16}, {4096, 16}};
    for (size_t i = 0; i < 3; i++) {
        tokenize(big, n + 5, NULL, big_modes[i], &out, NULL, NULL);
        assert_int_equal(out.len, 2 + n + 5);
    }
    free(big);
    cp_buf_release(&out);
}

static void test_columns(void **state)
{
    (void)state;
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    o.max_columns = 3;
    const char *t1 = "a,b,c\n1,2,3\n";
    check_opts(t1, strlen(t1), &o, "1:a|b|c\n2:1|2|3\n");
    const char *t2 = "a,b,c\n1,2,3,4\n";
    check_opts(t2, strlen(t2), &o, "1:a|b|c\n!TOO_MANY_COLUMNS@2\n");
    const char *t3 = "a,b,c,\n";
    check_opts(t3, strlen(t3), &o, "!TOO_MANY_COLUMNS@1\n");

    /* 10,000 columns with the default limit */
    cp_buf text;
    cp_buf_init(&text, CP_BUF_UNLIMITED);
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 10000; c++)
            assert_int_equal(cp_buf_printf(&text, c ? ",%s%d" : "%s%d", r ? "v" : "col", c), CP_OK);
        assert_int_equal(cp_buf_append_char(&text, '\n'), CP_OK);
    }
    static const mode wide[] = {{SIZE_MAX, 0}, {SIZE_MAX, 64}};
    for (size_t k = 0; k < 2; k++) {
        mem m = {.p = text.data, .len = text.len, .piece = wide[k].piece};
        cp_tokenizer_options d;
        cp_tokenizer_options_default(&d);
        if (wide[k].chunk)
            d.chunk_bytes = wide[k].chunk;
        cp_tokenizer *t = cp_tokenizer_new(&d, mem_fill, &m);
        cp_row row;
        cp_error err;
        for (int r = 0; r < 3; r++) {
            assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
            assert_int_equal(row.nfields, 10000);
            assert_int_equal(row.line, r + 1);
            char want[16];
            int wl = snprintf(want, sizeof want, "%s9999", r ? "v" : "col");
            assert_int_equal(row.fields[9999].len, wl);
            assert_memory_equal(row.fields[9999].data, want, (size_t)wl);
            wl = snprintf(want, sizeof want, "%s4321", r ? "v" : "col");
            assert_memory_equal(row.fields[4321].data, want, (size_t)wl);
        }
        assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
        assert_int_equal(row.nfields, 0);
        cp_tokenizer_free(t);
    }
    cp_buf_release(&text);
}

static void test_row_too_large(void **state)
{
    (void)state;
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    o.max_field_bytes = 10;
    o.max_row_bytes = 40;
    const char *ok = "0123456789,0123456789,0123456789\n";
    check_opts(ok, strlen(ok), &o, "1:0123456789|0123456789|0123456789\n");
    /* 12 fields of 10 bytes: every field within its limit, the row past its own */
    cp_buf text;
    cp_buf_init(&text, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&text, "a\n"), CP_OK);
    for (int i = 0; i < 30; i++)
        assert_int_equal(cp_buf_append_str(&text, i ? ",0123456789" : "0123456789"), CP_OK);
    assert_int_equal(cp_buf_append_str(&text, "\n"), CP_OK);
    o.chunk_bytes = 128;
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    cp_error err;
    tokenize(text.data, text.len, &o, (mode){1, 128}, &out, NULL, &err);
    assert_string_equal(out.data, "1:a\n!TOO_LARGE@2\n");
    /* doubled quotes: 80 bytes as written, 40 once undoubled, which is what must fit */
    o.max_field_bytes = 100;
    o.max_row_bytes = 64;
    cp_buf_reset(&text);
    cp_buf want;
    cp_buf_init(&want, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&text, "\""), CP_OK);
    assert_int_equal(cp_buf_append_str(&want, "1:<"), CP_OK);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(cp_buf_append_str(&text, "\"\""), CP_OK);
        assert_int_equal(cp_buf_append_str(&want, "\""), CP_OK);
    }
    assert_int_equal(cp_buf_append_str(&text, "\"\n"), CP_OK);
    assert_int_equal(cp_buf_append_str(&want, ">\n"), CP_OK);
    tokenize(text.data, text.len, &o, (mode){1, 128}, &out, NULL, &err);
    assert_string_equal(out.data, want.data);
    cp_buf_release(&want);
    cp_buf_release(&out);
    cp_buf_release(&text);
}

static void test_offsets_and_fills(void **state)
{
    (void)state;
    /* the tokenizer keeps asking until the end and never after it */
    const char *text = "a,b\n\nc,d\n";
    mem m = {.p = text, .len = strlen(text), .piece = 2};
    cp_tokenizer_options o;
    cp_tokenizer_options_default(&o);
    o.chunk_bytes = 64;
    cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
    cp_row row;
    cp_error err;
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    assert_int_equal(row.offset, 0);
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    assert_int_equal(row.offset, 5);
    assert_int_equal(row.line, 3);
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_OK);
    assert_int_equal(row.nfields, 0);
    assert_int_equal(cp_tokenizer_offset(t), strlen(text));
    assert_true(m.ended);
    assert_false(m.past_end);
    cp_tokenizer_free(t);
    cp_tokenizer_free(NULL);
}

/* The value a broken-quote message shows is cut between characters, not inside one. */
static void test_bad_quote_message_utf8(void **state)
{
    (void)state;
    /* a letter and 8 three-byte ones after the quote: the 24-byte cut falls inside one */
    const char text[] = "a,\"x\"z\xe3\x83\x95\xe3\x83\xa9\xe3\x82\xa4\xe3\x83\x91\xe3\x83\xb3"
                        "\xe5\xb1\xb1\xe3\x81\xae\xe7\xa5\x9e\n";
    mem m = {.p = text, .len = sizeof text - 1, .piece = SIZE_MAX};
    cp_tokenizer *t = cp_tokenizer_new(NULL, mem_fill, &m);
    assert_non_null(t);
    cp_row row;
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_tokenizer_next(t, &row, &err), CP_BAD_QUOTE);
    const unsigned char *p = (const unsigned char *)err.message;
    for (size_t i = 0; p[i]; i++) {
        size_t n = p[i] < 0x80 ? 0 : (p[i] & 0xE0) == 0xC0 ? 1 : (p[i] & 0xF0) == 0xE0 ? 2 : 3;
        assert_true((p[i] & 0xC0) != 0x80);
        for (size_t k = 1; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                fail_msg("message is not UTF-8 at byte %zu: %s", i, err.message);
        i += n;
    }
    cp_tokenizer_free(t);
}

/* Issue 14: the lines above a header are skipped as lines, whatever their quotes. */
static void test_skip_lines(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t skip;
        const char *want; /* the first row after the skip: "LINE:f1|f2" */
    } cases[] = {
        {"title\na,b\n", 1, "2:a|b"},
        {"title\r\nnote \"unclosed\r\na,b\r\n", 2, "3:a|b"},
        {"t\r\rx\na,b", 3, "4:a|b"},
        {"\n\nsep=;\na,b\n", 3, "4:a|b"},
        {"only\n", 1, ""},
        {"only", 5, ""},
        {"a,b\n", 0, "1:a|b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t md = 0; md < NMODES; md++) {
            cp_tokenizer_options o;
            cp_tokenizer_options_default(&o);
            if (modes[md].chunk)
                o.chunk_bytes = modes[md].chunk;
            mem m = {.p = cases[i].text, .len = strlen(cases[i].text), .piece = modes[md].piece};
            cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
            assert_non_null(t);
            assert_int_equal(cp_tokenizer_skip_lines(t, cases[i].skip, NULL), CP_OK);
            const uint64_t after_skip = cp_tokenizer_offset(t);
            cp_row row;
            assert_int_equal(cp_tokenizer_next(t, &row, NULL), CP_OK);
            char got[64] = "";
            if (row.nfields == 2)
                snprintf(got, sizeof got, "%llu:%.*s|%.*s", (unsigned long long)row.line,
                         (int)row.fields[0].len, row.fields[0].data, (int)row.fields[1].len,
                         row.fields[1].data);
            if (strcmp(got, cases[i].want) != 0)
                fail_msg("case %zu mode %zu: \"%s\", expected \"%s\"", i, md, got, cases[i].want);
            assert_int_equal(row.nfields ? row.offset : m.len, after_skip);
            cp_tokenizer_free(t);
        }
    }
}

/*
 * A plain reference for the cases below: the same rendering as tokenize(), byte by byte,
 * for the default delimiter and quote.
 */
static void reference(const char *s, size_t len, cp_buf *out)
{
    uint64_t line = 1;
    size_t i = 0;
    cp_buf_reset(out);
    while (i < len) {
        if (s[i] == '\n' || s[i] == '\r') {
            i += s[i] == '\r' && i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
            line++;
            continue;
        }
        uint64_t end_line = line;
        size_t mark = out->len;
        assert_int_equal(cp_buf_printf(out, "%llu:", (unsigned long long)line), CP_OK);
        bool bad = false;
        for (size_t nf = 0;; nf++) {
            if (nf)
                assert_int_equal(cp_buf_append_char(out, '|'), CP_OK);
            if (i < len && s[i] == '"') {
                uint64_t qline = end_line;
                assert_int_equal(cp_buf_append_char(out, '<'), CP_OK);
                for (i++;; i++) {
                    if (i == len) {
                        out->len = mark;
                        assert_int_equal(cp_buf_printf(out, "!UNTERMINATED_QUOTE@%llu\n",
                                                       (unsigned long long)qline),
                                         CP_OK);
                        return;
                    }
                    if (s[i] == '"' && i + 1 < len && s[i + 1] == '"')
                        i++;
                    else if (s[i] == '"')
                        break;
                    end_line +=
                        s[i] == '\n' || (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n'));
                    assert_int_equal(cp_buf_append_char(out, s[i]), CP_OK);
                }
                i++;
                assert_int_equal(cp_buf_append_char(out, '>'), CP_OK);
                if (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r') {
                    bad = true;
                    while (i < len && s[i] != '\n' && s[i] != '\r')
                        i++;
                    break;
                }
            } else {
                while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r')
                    assert_int_equal(cp_buf_append_char(out, s[i++]), CP_OK);
            }
            if (i == len || s[i] != ',')
                break;
            i++;
        }
        if (bad) {
            out->len = mark;
            assert_int_equal(cp_buf_printf(out, "%llu!BAD_QUOTE\n", (unsigned long long)line),
                             CP_OK);
        } else if (end_line != line) {
            /* the row starts with LINE: make it LINE-END: */
            char head[48];
            int hn = snprintf(head, sizeof head, "%llu-%llu:", (unsigned long long)line,
                              (unsigned long long)end_line);
            size_t old = (size_t)snprintf(NULL, 0, "%llu:", (unsigned long long)line);
            size_t tail = out->len - mark - old;
            assert_int_equal(cp_buf_reserve(out, (size_t)hn), CP_OK);
            memmove(out->data + mark + (size_t)hn, out->data + mark + old, tail);
            memcpy(out->data + mark, head, (size_t)hn);
            out->len = mark + (size_t)hn + tail;
        }
        if (!bad)
            assert_int_equal(cp_buf_append_char(out, '\n'), CP_OK);
        if (i < len) {
            i += s[i] == '\r' && i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
            end_line++;
        }
        line = end_line;
    }
}

static uint32_t next_rand(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*state >> 33);
}

/*
 * Rows of every shape placed at every offset of the scanner's 64-byte blocks, filled in
 * small pieces into a small buffer, so fields end on both sides of each block edge and
 * of each refill: the tokenizer must agree with the reference everywhere.
 */
static void test_block_boundaries(void **state)
{
    (void)state;
    static const mode bmodes[] = {{SIZE_MAX, 0}, {1, 128},  {7, 128},   {63, 128},
                                  {64, 128},     {65, 128}, {128, 128}, {13, 200}};
    static const char *const pieces[] = {",",     "\n",         "\r\n",       "\r",
                                         "\"q\"", "\"a\"\"b\"", "\"x\r\ny\"", "\"\"",
                                         "a\"b",  "\n\n",       "\"z\"k"};
    cp_buf text, want, got;
    cp_buf_init(&text, CP_BUF_UNLIMITED);
    cp_buf_init(&want, CP_BUF_UNLIMITED);
    cp_buf_init(&got, CP_BUF_UNLIMITED);
    uint64_t seed = 1;
    for (int round = 0; round < 600; round++) {
        cp_buf_reset(&text);
        if (round < 200) {
            /* one piece after every prefix length around the first block edges */
            size_t pre = 40 + (size_t)round % 100;
            for (size_t k = 0; k < pre; k++)
                assert_int_equal(cp_buf_append_char(&text, (char)('a' + k % 7)), CP_OK);
            const char *p = pieces[(size_t)round % (sizeof pieces / sizeof *pieces)];
            assert_int_equal(cp_buf_printf(&text, ",%s%s,e\n", p, p), CP_OK);
            for (size_t k = 0; k < pre; k++)
                assert_int_equal(cp_buf_append_char(&text, (char)('b' + k % 5)), CP_OK);
        } else {
            /* random rows: short fields, some quoted, mixed line ends, blank lines */
            size_t target = 100 + next_rand(&seed) % 600;
            while (text.len < target) {
                uint32_t r = next_rand(&seed) % 16;
                if (r < 6) {
                    size_t n = next_rand(&seed) % 12;
                    for (size_t k = 0; k < n; k++)
                        assert_int_equal(cp_buf_append_char(&text, (char)('a' + k)), CP_OK);
                } else if (r < 11) {
                    assert_int_equal(cp_buf_append_char(&text, ','), CP_OK);
                } else {
                    const char *p = pieces[next_rand(&seed) % (sizeof pieces / sizeof *pieces)];
                    assert_int_equal(cp_buf_append(&text, p, strlen(p)), CP_OK);
                }
            }
        }
        reference(text.data, text.len, &want);
        assert_int_equal(cp_buf_append_char(&want, '\0'), CP_OK);
        for (size_t m = 0; m < sizeof bmodes / sizeof *bmodes; m++) {
            tokenize(text.data, text.len, NULL, bmodes[m], &got, NULL, NULL);
            assert_int_equal(cp_buf_append_char(&got, '\0'), CP_OK);
            if (strcmp(got.data, want.data) != 0)
                fail_msg("round %d, mode %zu/%zu:\n--- got\n%s--- expected\n%s", round,
                         bmodes[m].piece, bmodes[m].chunk, got.data, want.data);
        }
    }
    cp_buf_release(&text);
    cp_buf_release(&want);
    cp_buf_release(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4180),           cmocka_unit_test(test_doubled_quotes),
        cmocka_unit_test(test_row_text_raw),      cmocka_unit_test(test_newlines_in_quotes),
        cmocka_unit_test(test_line_endings),      cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_quote_in_unquoted), cmocka_unit_test(test_bad_quote),
        cmocka_unit_test(test_unterminated),      cmocka_unit_test(test_field_too_long),
        cmocka_unit_test(test_columns),           cmocka_unit_test(test_row_too_large),
        cmocka_unit_test(test_offsets_and_fills), cmocka_unit_test(test_scan_word_boundaries),
        cmocka_unit_test(test_skip_lines),        cmocka_unit_test(test_bad_quote_message_utf8),
        cmocka_unit_test(test_block_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
