/*
 * test_reader.c - csv/reader: the header row skipped (or not), the same rows again after
 * a reopen (the widen-and-restart rule), the data row count, the UTF-8 to Windows-1252
 * fall-back reported by cp_csv_reader_encoding (and refused for a forced encoding), a
 * source that cannot rewind, and cp_delimiter_name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cp_dialect dialect(cp_encoding enc, char delim, bool header)
{
    cp_dialect d;
    memset(&d, 0, sizeof d);
    d.encoding = enc;
    d.delimiter = delim;
    d.quote = '"';
    d.header = header;
    d.line_ending = "LF";
    d.values.locale.decimal_sep = '.';
    d.values.locale.date_order = CP_DATE_ORDER_MDY;
    return d;
}

/* All rows as "f1|f2|...\n" lines, for comparing whole reads. */
static char *read_all(cp_csv_reader *r, cp_status *st_out)
{
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    cp_row row;
    cp_error err;
    cp_status st;
    for (;;) {
        cp_error_clear(&err);
        st = cp_csv_reader_next(r, &row, &err);
        if (st != CP_OK || row.nfields == 0)
            break;
        for (size_t i = 0; i < row.nfields; i++) {
            if (i)
                assert_int_equal(cp_buf_append_char(&out, '|'), CP_OK);
            assert_int_equal(cp_buf_append(&out, row.fields[i].data, row.fields[i].len), CP_OK);
        }
        assert_int_equal(cp_buf_append_char(&out, '\n'), CP_OK);
    }
    if (st_out)
        *st_out = st;
    else
        assert_int_equal(st, CP_OK);
    assert_int_equal(cp_buf_append(&out, "", 0), CP_OK);
    return cp_buf_detach(&out, NULL);
}

static const char csv[] = "id;name;city\r\n"
                          "1;Ana;\"São Paulo\"\r\n"
                          "\r\n"
                          "2;\"Bruno \"\"B\"\"\";\"Rio\r\nde Janeiro\"\r\n"
                          "3;Zé;Recife";

static void test_header_skipped(void **state)
{
    cp_source *src = cp_source_open_memory(csv, sizeof csv - 1, "people.csv");
    assert_non_null(src);
    cp_dialect d = dialect(CP_ENC_UTF8, ';', true);
    cp_csv_reader r;
    cp_error err;
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, NULL, &err), CP_OK);
    cp_row row;
    assert_int_equal(cp_csv_reader_next(&r, &row, &err), CP_OK);
    assert_int_equal(row.nfields, 3);
    assert_memory_equal(row.fields[0].data, "1", 1);
    assert_int_equal(row.line, 2); /* physical line, the header being line 1 */
    assert_int_equal(r.data_rows, 1);
    cp_csv_reader_close(&r);

    /* the rest, then the end (and the end again) */
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, NULL, &err), CP_OK);
    char *all = read_all(&r, NULL);
    assert_string_equal(all, "1|Ana|São Paulo\n"
                             "2|Bruno \"B\"|Rio\r\nde Janeiro\n"
                             "3|Zé|Recife\n");
    assert_int_equal(r.data_rows, 3);
    assert_int_equal(cp_csv_reader_next(&r, &row, &err), CP_OK);
    assert_int_equal(row.nfields, 0);
    assert_int_equal(r.data_rows, 3);
    free(all);
    cp_csv_reader_close(&r);

    /* without a header the first row is data */
    d.header = false;
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, NULL, &err), CP_OK);
    all = read_all(&r, NULL);
    assert_memory_equal(all, "id|name|city\n1|Ana|", 19);
    assert_int_equal(r.data_rows, 4);
    free(all);
    cp_csv_reader_close(&r);
    cp_source_free(src);
}

static void test_reopen_same_rows(void **state)
{
    /* a file larger than one read, so the first pass leaves the source far from its start */
    cp_buf text;
    cp_buf_init(&text, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&text, "a,b,c\n"), CP_OK);
    for (int i = 0; i < 60000; i++)
        assert_int_equal(cp_buf_printf(&text, "%d,\"x %d, y\",%d.5\n", i, i, i * 7), CP_OK);
    cp_source *src = cp_source_open_memory(text.data, text.len, "big.csv");
    cp_dialect d = dialect(CP_ENC_UTF8, ',', true);
    cp_csv_reader r;
    cp_error err;

    assert_int_equal(cp_csv_reader_open(&r, src, &d, true, NULL, &err), CP_OK);
    char *first = read_all(&r, NULL);
    assert_int_equal(r.data_rows, 60000);
    cp_csv_reader_close(&r);

    /* a reopen in the middle of a read starts over too */
    assert_int_equal(cp_csv_reader_open(&r, src, &d, true, NULL, &err), CP_OK);
    cp_row row;
    for (int i = 0; i < 1234; i++)
        assert_int_equal(cp_csv_reader_next(&r, &row, &err), CP_OK);
    cp_csv_reader_close(&r);
    assert_int_equal(cp_csv_reader_open(&r, src, &d, true, NULL, &err), CP_OK);
    assert_int_equal(r.data_rows, 0);
    char *second = read_all(&r, NULL);
    cp_csv_reader_close(&r);

    assert_string_equal(first, second);
    assert_memory_equal(first, "0|x 0, y|0.5\n1|x 1, y|7.5\n", 26);
    free(first);
    free(second);
    cp_source_free(src);
    cp_buf_release(&text);
}

static void test_encoding_fall_back(void **state)
{
    /* detected as UTF-8 from an ASCII sample, then a Windows-1252 byte (0xE9 = é) */
    cp_buf text;
    cp_buf_init(&text, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&text, "name,value\n"), CP_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(cp_buf_printf(&text, "plain %d,%d\n", i, i), CP_OK);
    assert_int_equal(cp_buf_append_str(&text, "caf\xe9,1\n\x80uro,2\n"), CP_OK);
    cp_source *src = cp_source_open_memory(text.data, text.len, "latin.csv");
    cp_dialect d = dialect(CP_ENC_UTF8, ',', true);
    cp_csv_reader r;
    cp_error err;

    assert_int_equal(cp_csv_reader_open(&r, src, &d, true, NULL, &err), CP_OK);
    assert_int_equal(cp_csv_reader_encoding(&r), CP_ENC_UTF8);
    char *all = read_all(&r, NULL);
    assert_int_equal(cp_csv_reader_encoding(&r), CP_ENC_CP1252);
    assert_non_null(strstr(all, "\ncafé|1\n€uro|2\n")); /* decoded to UTF-8 */
    assert_int_equal(r.data_rows, 102);
    free(all);
    cp_csv_reader_close(&r);

    /* a forced UTF-8 does not fall back: the bad byte is an error on its line */
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, NULL, &err), CP_OK);
    cp_status st;
    all = read_all(&r, &st);
    assert_int_equal(st, CP_BAD_ENCODING);
    assert_int_equal(cp_csv_reader_encoding(&r), CP_ENC_UTF8);
    free(all);
    cp_csv_reader_close(&r);

    /* a reopen after the fall-back starts from the dialect's encoding again */
    assert_int_equal(cp_csv_reader_open(&r, src, &d, true, NULL, &err), CP_OK);
    assert_int_equal(cp_csv_reader_encoding(&r), CP_ENC_UTF8);
    all = read_all(&r, NULL);
    assert_int_equal(cp_csv_reader_encoding(&r), CP_ENC_CP1252);
    free(all);
    cp_csv_reader_close(&r);

    cp_source_free(src);
    cp_buf_release(&text);
}

static void test_limits_and_quote(void **state)
{
    static const char text[] = "'a'|'b'\n'x|y'|'it''s'\n";
    cp_source *src = cp_source_open_memory(text, sizeof text - 1, "q.csv");
    cp_dialect d = dialect(CP_ENC_UTF8, '|', true);
    d.quote = '\'';
    cp_csv_reader r;
    cp_error err;
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, NULL, &err), CP_OK);
    char *all = read_all(&r, NULL);
    assert_string_equal(all, "x|y|it's\n");
    free(all);
    cp_csv_reader_close(&r);

    /* limits are passed to the tokenizer, the dialect's delimiter and quote win */
    cp_tokenizer_options lim;
    cp_tokenizer_options_default(&lim);
    lim.delimiter = ',';
    lim.quote = '"';
    lim.max_field_bytes = 2;
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, &lim, &err), CP_OK);
    cp_row row;
    cp_error_clear(&err);
    assert_int_equal(cp_csv_reader_next(&r, &row, &err), CP_FIELD_TOO_LONG);
    cp_csv_reader_close(&r);
    cp_source_free(src);
}

static cp_status no_rewind(cp_source *s, cp_error *err)
{
    return cp_error_set(err, CP_USAGE, "%s: cannot rewind", s->name);
}

static void test_source_that_cannot_rewind(void **state)
{
    cp_source *src = cp_source_open_memory("a\n1\n", 4, "pipe");
    src->rewind = no_rewind;
    cp_dialect d = dialect(CP_ENC_UTF8, ',', true);
    cp_csv_reader r;
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_csv_reader_open(&r, src, &d, false, NULL, &err), CP_USAGE);
    assert_non_null(strstr(err.message, "cannot rewind"));
    cp_source_free(src);
}

static void test_delimiter_name(void **state)
{
    assert_string_equal(cp_delimiter_name(','), ",");
    assert_string_equal(cp_delimiter_name(';'), ";");
    assert_string_equal(cp_delimiter_name('\t'), "\\t");
    assert_string_equal(cp_delimiter_name('|'), "|");
    assert_string_equal(cp_delimiter_name('"'), "\"");
    assert_string_equal(cp_delimiter_name('\''), "'");
    /* anything else is still printable text, never NULL */
    const char *other = cp_delimiter_name('\x01');
    assert_non_null(other);
    assert_true(strlen(other) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_skipped),
        cmocka_unit_test(test_reopen_same_rows),
        cmocka_unit_test(test_encoding_fall_back),
        cmocka_unit_test(test_limits_and_quote),
        cmocka_unit_test(test_source_that_cannot_rewind),
        cmocka_unit_test(test_delimiter_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
