/*
 * Unit tests for table/batch: typed values, null rules, row errors, fullness, and a row
 * copied from another batch (values, nulls, string bytes as the append gave them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "table/batch.h"

#include <stdio.h>
#include <string.h>

enum { C_B, C_I, C_D, C_F, C_DT, C_TS, C_TZ, C_S, NCOLS };

static void make_schema(cp_schema *s)
{
    static const char *const names[NCOLS] = {"b", "i", "d", "f", "dt", "ts", "tz", "s"};
    size_t lens[NCOLS];
    for (int i = 0; i < NCOLS; i++)
        lens[i] = strlen(names[i]);
    assert_int_equal(cp_schema_init(s, NCOLS), CP_OK);
    assert_int_equal(cp_schema_set_names(s, names, lens, NULL), CP_OK);
    s->columns[C_B].type = cp_type_of(CP_TYPE_BOOLEAN);
    s->columns[C_I].type = cp_type_of(CP_TYPE_INT64);
    s->columns[C_D].type = cp_type_decimal(18, 2);
    s->columns[C_F].type = cp_type_of(CP_TYPE_DOUBLE);
    s->columns[C_DT].type = cp_type_of(CP_TYPE_DATE);
    s->columns[C_TS].type = cp_type_of(CP_TYPE_TIMESTAMP);
    s->columns[C_TZ].type = cp_type_of(CP_TYPE_TIMESTAMPTZ);
    s->columns[C_S].type = cp_type_of(CP_TYPE_STRING);
}

/* fields from strings; a leading '"' marks a quoted field (the quote is not data) */
static size_t fields_of(const char *const *v, size_t n, cp_field *out)
{
    for (size_t i = 0; i < n; i++) {
        bool q = v[i][0] == '"';
        out[i].data = v[i] + q;
        out[i].len = strlen(v[i] + q);
        out[i].quoted = q;
    }
    return n;
}

static cp_status append(cp_batch *b, const cp_value_opts *vo, cp_error *err, size_t n, ...)
{
    const char *v[16];
    cp_field f[16];
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v[i] = va_arg(ap, const char *);
    va_end(ap);
    fields_of(v, n, f);
    cp_error_clear(err);
    return cp_batch_append_row(b, f, n, vo, err);
}

static const cp_value_opts POINT = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};

static void check_string(const cp_batch *b, size_t col, size_t row, const char *want)
{
    assert_true(cp_batch_valid(b, col, row));
    size_t len;
    const char *p = cp_batch_string(b, col, row, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

static void test_every_type(void **state)
{
    (void)state;
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    cp_error err;
    assert_int_equal(append(&b, &POINT, &err, 8, "sim", "-42", "19.9", "1e3", "15/01/2024",
                            "15/01/2024 10:30:00.5", "2024-01-15T10:30:00+02:00", "Caf\xc3\xa9"),
                     CP_OK);
    assert_int_equal(append(&b, &POINT, &err, 8, "FALSE", "9223372036854775807", "-0.01", "0.1",
                            "2024-02-29", "2024-02-29", "2024-01-15T00:00:00Z", "x"),
                     CP_OK);
    assert_int_equal(b.nrows, 2);
    int32_t day = cp_days_from_civil(2024, 1, 15);
    assert_int_equal(b.cols[C_B].v.boolean[0], 1);
    assert_int_equal(b.cols[C_B].v.boolean[1], 0);
    assert_true(b.cols[C_I].v.i64[0] == -42);
    assert_true(b.cols[C_I].v.i64[1] == INT64_MAX);
    assert_true(b.cols[C_D].v.decimal[0] == 1990);
    assert_true(b.cols[C_D].v.decimal[1] == -1);
    assert_true(b.cols[C_F].v.f64[0] == 1000.0);
    assert_true(b.cols[C_F].v.f64[1] == 0.1);
    assert_int_equal(b.cols[C_DT].v.date[0], day);
    assert_int_equal(b.cols[C_DT].v.date[1], cp_days_from_civil(2024, 2, 29));
    assert_true(b.cols[C_TS].v.i64[0] ==
                (int64_t)day * 86400000000LL + (10 * 3600 + 30 * 60) * 1000000LL + 500000);
    assert_true(b.cols[C_TS].v.i64[1] == (int64_t)cp_days_from_civil(2024, 2, 29) * 86400000000LL);
    assert_true(b.cols[C_TZ].v.i64[0] ==
                (int64_t)day * 86400000000LL + (8 * 3600 + 30 * 60) * 1000000LL);
    assert_true(b.cols[C_TZ].v.i64[1] == (int64_t)day * 86400000000LL);
    check_string(&b, C_S, 0, "Caf\xc3\xa9");
    check_string(&b, C_S, 1, "x");
    for (int c = 0; c < NCOLS; c++) {
        assert_true(cp_batch_valid(&b, (size_t)c, 0));
        assert_true(cp_batch_valid(&b, (size_t)c, 1));
        assert_int_equal(b.cols[c].nnulls, 0);
    }
    assert_int_equal(b.string_bytes, 6);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_null_rules(void **state)
{
    (void)state;
    cp_schema s;
    make_schema(&s);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    cp_error err;
    /* unquoted empty fields and null tokens: null everywhere */
    assert_int_equal(
        append(&b, &POINT, &err, 8, "", "NULL", "null", "NA", "N/A", "\\N", "", "NULL"), CP_OK);
    for (int c = 0; c < NCOLS; c++)
        assert_false(cp_batch_valid(&b, (size_t)c, 0));
    /* quoted: "" is the empty string in a STRING column, null elsewhere */
    assert_int_equal(
        append(&b, &POINT, &err, 8, "\"", "\"", "\"NULL", "\"", "\"NA", "\"", "\"", "\""), CP_OK);
    for (int c = 0; c < C_S; c++)
        assert_false(cp_batch_valid(&b, (size_t)c, 1));
    check_string(&b, C_S, 1, "");
    /* a quoted null token is text in a STRING column */
    assert_int_equal(append(&b, &POINT, &err, 8, "", "", "", "", "", "", "", "\"NULL"), CP_OK);
    check_string(&b, C_S, 2, "NULL");
    /* short rows are padded with nulls */
    assert_int_equal(append(&b, &POINT, &err, 2, "t", "5"), CP_OK);
    assert_true(cp_batch_valid(&b, C_B, 3));
    assert_true(cp_batch_valid(&b, C_I, 3));
    for (int c = C_D; c < NCOLS; c++)
        assert_false(cp_batch_valid(&b, (size_t)c, 3));
    assert_int_equal(append(&b, &POINT, &err, 0), CP_OK);
    for (int c = 0; c < NCOLS; c++)
        assert_false(cp_batch_valid(&b, (size_t)c, 4));
    /* extra empty fields are fine */
    assert_int_equal(append(&b, &POINT, &err, 10, "y", "1", "1", "1", "01/01/2024", "01/01/2024",
                            "2024-01-01T00:00Z", "s", "", ""),
                     CP_OK);
    assert_int_equal(b.nrows, 6);
    assert_int_equal(b.cols[C_B].nnulls, 4);
    assert_int_equal(b.cols[C_I].nnulls, 4);
    assert_int_equal(b.cols[C_S].nnulls, 3);
    /* the strings stay in order */
    check_string(&b, C_S, 5, "s");
    assert_false(cp_batch_valid(&b, C_S, 4));
    size_t len;
    cp_batch_string(&b, C_S, 4, &len);
    assert_int_equal(len, 0);
    /* custom null tokens */
    static const char *const tokens[] = {"-", NULL};
    cp_value_opts custom = {{'.', CP_DATE_ORDER_DMY, 0}, tokens};
    assert_int_equal(append(&b, &custom, &err, 8, "-", "-", "", "", "", "", "", "-"), CP_OK);
    assert_false(cp_batch_valid(&b, C_I, 6));
    assert_false(cp_batch_valid(&b, C_S, 6));
    assert_int_equal(append(&b, &custom, &err, 2, "t", "NULL"), CP_TYPE_MISMATCH);
    assert_true(cp_is_null_token(&custom, "", 0));
    assert_false(cp_is_null_token(&custom, "NULL", 4));
    assert_true(cp_is_null_token(NULL, "\\N", 2));
    assert_false(cp_is_null_token(NULL, "Null", 4));
    /* an empty token (--null '') stands for the empty field only, never for a NUL byte */
    static const char *const empty_token[] = {"", NULL};
    cp_value_opts empty = {{'.', CP_DATE_ORDER_DMY, 0}, empty_token};
    assert_true(cp_is_null_token(&empty, "", 0));
    assert_false(cp_is_null_token(&empty, "\0x", 2));
    assert_false(cp_is_null_token(&empty, "\0", 1));
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_row_errors_leave_batch_unchanged(void **state)
{
    (void)state;
    cp_schema s;
    assert_int_equal(cp_schema_init(&s, 4), CP_OK);
    const char *names[] = {"s1", "n", "s2", "s3"};
    size_t lens[] = {2, 1, 2, 2};
    assert_int_equal(cp_schema_set_names(&s, names, lens, NULL), CP_OK);
    s.columns[0].type = cp_type_of(CP_TYPE_STRING);
    s.columns[1].type = cp_type_of(CP_TYPE_INT64);
    s.columns[2].type = cp_type_of(CP_TYPE_STRING);
    s.columns[3].type = cp_type_of(CP_TYPE_STRING);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 4, 1000, 20), CP_OK);
    cp_batch_clear(&b, 1);
    cp_error err;
    assert_int_equal(append(&b, &POINT, &err, 4, "first", "1", "a", "b"), CP_OK);
    size_t bytes = b.string_bytes, l0 = b.cols[0].strings.len, l2 = b.cols[2].strings.len;

    /* a type mismatch in column 2, after a STRING column took its value */
    assert_int_equal(append(&b, &POINT, &err, 4, "GARBAGE", "x1", "c", "d"), CP_TYPE_MISMATCH);
    assert_int_equal(err.code, CP_TYPE_MISMATCH);
    assert_int_equal(err.column, 2);
    assert_non_null(strstr(err.message, "x1"));
    assert_non_null(strstr(err.message, "INT64"));
    /* a mismatch in the last column, after two STRING columns */
    s.columns[3].type = cp_type_of(CP_TYPE_STRING);
    assert_int_equal(append(&b, &POINT, &err, 5, "GARBAGE", "2", "GARBAGE", "d", "extra"),
                     CP_TOO_MANY_FIELDS);
    assert_int_equal(err.column, 5);
    assert_int_equal(append(&b, &POINT, &err, 5, "GARBAGE", "2", "GARBAGE", "d", "\""),
                     CP_TOO_MANY_FIELDS);
    /* a value past the per-batch string room */
    assert_int_equal(
        append(&b, &POINT, &err, 4, "GARBAGE", "3", "GARBAGE",
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789012345678901234567890123456789"),
        CP_TOO_LARGE);
    assert_int_equal(err.column, 4);
    /* nothing of those rows was kept */
    assert_int_equal(b.nrows, 1);
    assert_int_equal(b.string_bytes, bytes);
    assert_int_equal(b.cols[0].strings.len, l0);
    assert_int_equal(b.cols[2].strings.len, l2);
    assert_int_equal(b.cols[0].nnulls, 0);
    /* the next good row lands right after the first */
    assert_int_equal(append(&b, &POINT, &err, 3, "second", "2", "e"), CP_OK);
    assert_int_equal(b.nrows, 2);
    check_string(&b, 0, 0, "first");
    check_string(&b, 0, 1, "second");
    check_string(&b, 2, 1, "e");
    assert_false(cp_batch_valid(&b, 3, 1));
    assert_true(b.cols[1].v.i64[1] == 2);
    assert_int_equal(b.cols[0].strings.len, 11);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_full_and_clear(void **state)
{
    (void)state;
    cp_schema s;
    assert_int_equal(cp_schema_init(&s, 2), CP_OK);
    s.columns[0].type = cp_type_of(CP_TYPE_INT64);
    s.columns[1].type = cp_type_of(CP_TYPE_STRING);
    cp_batch b;
    cp_error err;
    /* by rows, across several bitmap words */
    assert_int_equal(cp_batch_init(&b, &s, 130, 1 << 20, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    for (int r = 0; r < 130; r++) {
        assert_false(cp_batch_full(&b));
        char v[16];
        snprintf(v, sizeof v, "%d", r);
        assert_int_equal(append(&b, &POINT, &err, 2, r % 3 ? v : "", v), CP_OK);
    }
    assert_true(cp_batch_full(&b));
    assert_int_equal(append(&b, &POINT, &err, 2, "1", "x"), CP_INTERNAL);
    for (int r = 0; r < 130; r++) {
        assert_int_equal(cp_batch_valid(&b, 0, (size_t)r), r % 3 != 0);
        if (r % 3)
            assert_true(b.cols[0].v.i64[r] == r);
        char v[16];
        snprintf(v, sizeof v, "%d", r);
        check_string(&b, 1, (size_t)r, v);
    }
    assert_int_equal(b.cols[0].nnulls, 44);
    /* clear: reused, with a new first row */
    cp_batch_clear(&b, 131);
    assert_int_equal(b.nrows, 0);
    assert_int_equal(b.first_row, 131);
    assert_int_equal(b.string_bytes, 0);
    assert_int_equal(b.cols[0].nnulls, 0);
    assert_false(cp_batch_full(&b));
    assert_int_equal(append(&b, &POINT, &err, 2, "", "again"), CP_OK);
    assert_false(cp_batch_valid(&b, 0, 0));
    check_string(&b, 1, 0, "again");
    cp_batch_release(&b);

    /* by the string budget */
    assert_int_equal(cp_batch_init(&b, &s, 100, 10, 64), CP_OK);
    cp_batch_clear(&b, 1);
    assert_int_equal(append(&b, &POINT, &err, 2, "1", "abcd"), CP_OK);
    assert_false(cp_batch_full(&b));
    assert_int_equal(append(&b, &POINT, &err, 2, "2", "efghi"), CP_OK);
    assert_false(cp_batch_full(&b));
    /* one row may pass the budget (up to max_row_bytes) and fills the batch */
    assert_int_equal(append(&b, &POINT, &err, 2, "3", "jklmnopqrstuvwxyz"), CP_OK);
    assert_true(cp_batch_full(&b));
    assert_int_equal(b.string_bytes, 26);
    check_string(&b, 1, 2, "jklmnopqrstuvwxyz");
    cp_batch_release(&b);

    /* bad arguments */
    assert_int_equal(cp_batch_init(&b, &s, 0, 10, 10), CP_USAGE);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_parse_value(void **state)
{
    (void)state;
    bool is_null;
    cp_value v;
    cp_field f = {"12,5", 4, false};
    cp_value_opts comma = {{',', CP_DATE_ORDER_DMY, 0}, NULL};
    assert_true(cp_parse_value(cp_type_decimal(10, 2), &f, &comma, &is_null, &v));
    assert_false(is_null);
    assert_true(v.decimal == 1250);
    assert_true(cp_parse_value(cp_type_of(CP_TYPE_DOUBLE), &f, &comma, &is_null, &v));
    assert_true(v.f64 == 12.5);
    assert_false(cp_parse_value(cp_type_of(CP_TYPE_INT64), &f, &comma, &is_null, &v));
    /* a DOUBLE column does not take codes with leading zeros */
    cp_field code = {"007", 3, false};
    assert_false(cp_parse_value(cp_type_of(CP_TYPE_DOUBLE), &code, &comma, &is_null, &v));
    /* a DATE column takes no timestamps, a TIMESTAMP column takes dates */
    cp_field ts = {"15/01/2024 10:00", 16, false}, dt = {"15/01/2024", 10, false};
    assert_false(cp_parse_value(cp_type_of(CP_TYPE_DATE), &ts, &comma, &is_null, &v));
    assert_true(cp_parse_value(cp_type_of(CP_TYPE_TIMESTAMP), &dt, &comma, &is_null, &v));
    assert_true(v.i64 == (int64_t)cp_days_from_civil(2024, 1, 15) * 86400000000LL);
    /* TIMESTAMPTZ needs an offset */
    assert_false(cp_parse_value(cp_type_of(CP_TYPE_TIMESTAMPTZ), &ts, &comma, &is_null, &v));
    /* a NULL-typed column takes only nulls */
    cp_field empty = {"", 0, true};
    assert_true(cp_parse_value(cp_type_of(CP_TYPE_NULL), &empty, &comma, &is_null, &v));
    assert_true(is_null);
    assert_false(cp_parse_value(cp_type_of(CP_TYPE_NULL), &f, &comma, &is_null, &v));
    /* the date order is respected */
    cp_value_opts mdy = {{'.', CP_DATE_ORDER_MDY, 0}, NULL};
    assert_false(cp_parse_value(cp_type_of(CP_TYPE_DATE), &dt, &mdy, &is_null, &v));
}

static void test_append_from(void **state)
{
    (void)state;
    cp_schema s;
    make_schema(&s);
    cp_batch a, b;
    assert_int_equal(cp_batch_init(&a, &s, 8, 1024, 1024), CP_OK);
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    cp_batch_clear(&a, 1);
    cp_batch_clear(&b, 7);
    cp_error err;
    assert_int_equal(append(&a, &POINT, &err, 8, "sim", "-42", "19.9", "1e3", "15/01/2024",
                            "15/01/2024 10:30:00.5", "2024-01-15T10:30:00+02:00", "Caf\xc3\xa9"),
                     CP_OK);
    assert_int_equal(append(&a, &POINT, &err, 8, "", "NULL", "", "", "", "", "", ""), CP_OK);
    assert_int_equal(append(&a, &POINT, &err, 8, "FALSE", "7", "-0.01", "0.1", "2024-02-29",
                            "2024-02-29", "2024-01-15T00:00:00Z", "\""),
                     CP_OK);
    /* b gets a's rows 2, 0 and 1 after one row of its own */
    assert_int_equal(append(&b, &POINT, &err, 8, "", "1", "", "", "", "", "", "own"), CP_OK);
    assert_int_equal(cp_batch_append_from(&b, &a, 2, NULL), CP_OK);
    assert_int_equal(cp_batch_append_from(&b, &a, 0, NULL), CP_OK);
    assert_int_equal(cp_batch_append_from(&b, &a, 1, NULL), CP_OK);
    assert_int_equal(b.nrows, 4);
    assert_int_equal(b.first_row, 7);
    const size_t from[] = {2, 0, 1};
    for (size_t k = 0; k < 3; k++) {
        const size_t r = k + 1, f = from[k];
        for (int c = 0; c < NCOLS; c++)
            assert_int_equal(cp_batch_valid(&b, (size_t)c, r), cp_batch_valid(&a, (size_t)c, f));
        if (!cp_batch_valid(&a, C_I, f))
            continue;
        assert_int_equal(b.cols[C_B].v.boolean[r], a.cols[C_B].v.boolean[f]);
        assert_true(b.cols[C_I].v.i64[r] == a.cols[C_I].v.i64[f]);
        assert_true(b.cols[C_D].v.decimal[r] == a.cols[C_D].v.decimal[f]);
        assert_true(b.cols[C_F].v.f64[r] == a.cols[C_F].v.f64[f]);
        assert_int_equal(b.cols[C_DT].v.date[r], a.cols[C_DT].v.date[f]);
        assert_true(b.cols[C_TS].v.i64[r] == a.cols[C_TS].v.i64[f]);
        assert_true(b.cols[C_TZ].v.i64[r] == a.cols[C_TZ].v.i64[f]);
    }
    check_string(&b, C_S, 0, "own");
    check_string(&b, C_S, 1, "");
    check_string(&b, C_S, 2, "Caf\xc3\xa9");
    assert_false(cp_batch_valid(&b, C_S, 3));
    for (int c = 0; c < NCOLS; c++)
        assert_int_equal(b.cols[c].nnulls, (c == C_I || c == C_S ? 1 : 2));
    assert_int_equal(b.string_bytes, 3 + 0 + 5);
    cp_batch_pop_row(&b);
    cp_batch_pop_row(&b);
    assert_int_equal(b.string_bytes, 3);
    cp_batch_release(&a);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_null_rules),
        cmocka_unit_test(test_row_errors_leave_batch_unchanged),
        cmocka_unit_test(test_full_and_clear),
        cmocka_unit_test(test_parse_value),
        cmocka_unit_test(test_append_from),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
