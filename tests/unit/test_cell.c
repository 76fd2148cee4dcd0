/*
 * test_cell.c - table/cell: the JSON, text and DynamoDB forms of a value of every type,
 * nulls included: exact decimal digits at every scale and sign, NaN and infinities (JSON
 * strings, DynamoDB {"S":...}), dates and timestamps before and after 1970 with and
 * without a fraction, TIMESTAMPTZ normalized to UTC with 'Z', strings that need JSON
 * escapes (read back with jansson).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "table/cell.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A one-column batch of type t holding the given values (NULL = an unquoted empty field). */
typedef struct one_col {
    cp_schema schema;
    cp_batch batch;
} one_col;

static void one_col_init(one_col *oc, cp_type t, const char *const *vals, const bool *quoted,
                         size_t n)
{
    assert_int_equal(cp_schema_init(&oc->schema, 1), CP_OK);
    oc->schema.columns[0].type = t;
    const char *h[] = {"v"};
    size_t hl[] = {1};
    assert_int_equal(cp_schema_set_names(&oc->schema, h, hl, NULL), CP_OK);
    assert_int_equal(cp_batch_init(&oc->batch, &oc->schema, n ? n : 1, 1 << 20, 1 << 20), CP_OK);
    cp_batch_clear(&oc->batch, 1);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    for (size_t i = 0; i < n; i++) {
        cp_field f = {vals[i] ? vals[i] : "", vals[i] ? strlen(vals[i]) : 0,
                      quoted ? quoted[i] : false};
        cp_error err;
        cp_error_clear(&err);
        cp_status st = cp_batch_append_row(&oc->batch, &f, 1, &opts, &err);
        if (st != CP_OK)
            fail_msg("value \"%s\" did not parse: %s", vals[i] ? vals[i] : "", err.message);
    }
}

static void one_col_release(one_col *oc)
{
    cp_batch_release(&oc->batch);
    cp_schema_release(&oc->schema);
}

typedef struct form_case {
    const char *in;
    const char *json;
    const char *text;
    const char *dynamodb;
} form_case;

static void check_forms(cp_type t, const form_case *cases, size_t n)
{
    const char **vals = calloc(n, sizeof *vals);
    assert_non_null(vals);
    for (size_t i = 0; i < n; i++)
        vals[i] = cases[i].in;
    one_col oc;
    one_col_init(&oc, t, vals, NULL, n);
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    for (size_t i = 0; i < n; i++) {
        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, i), CP_OK);
        if (strcmp(out.data ? out.data : "", cases[i].json) != 0)
            fail_msg("JSON of \"%s\": got %s, want %s", cases[i].in ? cases[i].in : "(null)",
                     out.data, cases[i].json);
        /* every JSON form is valid JSON */
        json_error_t je;
        json_t *j = json_loads(out.data, JSON_DECODE_ANY, &je);
        if (!j)
            fail_msg("JSON of \"%s\" does not parse: %s (%s)", cases[i].in, out.data, je.text);
        json_decref(j);

        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_text(&out, &oc.batch, 0, i), CP_OK);
        if (strcmp(out.data ? out.data : "", cases[i].text) != 0)
            fail_msg("text of \"%s\": got \"%s\", want \"%s\"", cases[i].in, out.data,
                     cases[i].text);

        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_dynamodb(&out, &oc.batch, 0, i), CP_OK);
        if (strcmp(out.data, cases[i].dynamodb) != 0)
            fail_msg("DynamoDB of \"%s\": got %s, want %s", cases[i].in, out.data,
                     cases[i].dynamodb);
        j = json_loads(out.data, 0, &je);
        if (!j)
            fail_msg("DynamoDB of \"%s\" does not parse: %s (%s)", cases[i].in, out.data, je.text);
        assert_int_equal(json_object_size(j), 1);
        json_decref(j);
    }
    cp_buf_release(&out);
    one_col_release(&oc);
    free(vals);
}

#define CHECK(t, cases) check_forms((t), (cases), sizeof(cases) / sizeof *(cases))

static void test_boolean(void **state)
{
    static const form_case c[] = {
        {"true", "true", "true", "{\"BOOL\":true}"},
        {"no", "false", "false", "{\"BOOL\":false}"},
        {"Y", "true", "true", "{\"BOOL\":true}"},
        {NULL, "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_of(CP_TYPE_BOOLEAN), c);
}

static void test_int64(void **state)
{
    static const form_case c[] = {
        {"0", "0", "0", "{\"N\":\"0\"}"},
        {"42", "42", "42", "{\"N\":\"42\"}"},
        {"-7", "-7", "-7", "{\"N\":\"-7\"}"},
        {"9223372036854775807", "9223372036854775807", "9223372036854775807",
         "{\"N\":\"9223372036854775807\"}"},
        {"-9223372036854775808", "-9223372036854775808", "-9223372036854775808",
         "{\"N\":\"-9223372036854775808\"}"},
        {"NULL", "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_of(CP_TYPE_INT64), c);
}

static void test_decimal(void **state)
{
    static const form_case s2[] = {
        {"19.90", "19.90", "19.90", "{\"N\":\"19.90\"}"},
        {"19.9", "19.90", "19.90", "{\"N\":\"19.90\"}"}, /* exactly the scale's digits */
        {"7", "7.00", "7.00", "{\"N\":\"7.00\"}"},
        {"-0.05", "-0.05", "-0.05", "{\"N\":\"-0.05\"}"},
        {"-1234.5", "-1234.50", "-1234.50", "{\"N\":\"-1234.50\"}"},
        {"0", "0.00", "0.00", "{\"N\":\"0.00\"}"},
        {"9999999999999999.99", "9999999999999999.99", "9999999999999999.99",
         "{\"N\":\"9999999999999999.99\"}"},
        {"", "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_decimal(18, 2), s2);

    static const form_case s0[] = {
        {"-7", "-7", "-7", "{\"N\":\"-7\"}"},
        {"120", "120", "120", "{\"N\":\"120\"}"},
    };
    CHECK(cp_type_decimal(10, 0), s0);

    /* 38 digits, 10 of them after the point: beyond 64 bits */
    static const form_case s10[] = {
        {"-1234567890123456789012345678.0123456789", "-1234567890123456789012345678.0123456789",
         "-1234567890123456789012345678.0123456789",
         "{\"N\":\"-1234567890123456789012345678.0123456789\"}"},
        {"0.0000000001", "0.0000000001", "0.0000000001", "{\"N\":\"0.0000000001\"}"},
        {"-0.5", "-0.5000000000", "-0.5000000000", "{\"N\":\"-0.5000000000\"}"},
    };
    CHECK(cp_type_decimal(38, 10), s10);
}

static void test_double(void **state)
{
    static const form_case c[] = {
        {"1.5", "1.5", "1.5", "{\"N\":\"1.5\"}"},
        {"-0.1", "-0.1", "-0.1", "{\"N\":\"-0.1\"}"},
        {"NaN", "\"NaN\"", "NaN", "{\"S\":\"NaN\"}"},
        {"inf", "\"Infinity\"", "Infinity", "{\"S\":\"Infinity\"}"},
        {"-inf", "\"-Infinity\"", "-Infinity", "{\"S\":\"-Infinity\"}"},
        {"N/A", "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_of(CP_TYPE_DOUBLE), c);

    /* shortest form that reads back to the same double */
    static const char *const vals[] = {"1.5e3",
                                       "0.1",
                                       "1e-300",
                                       "123456789.125",
                                       "2.2250738585072014e-308",
                                       "-1.7976931348623157e308"};
    one_col oc;
    one_col_init(&oc, cp_type_of(CP_TYPE_DOUBLE), vals, NULL, 6);
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    for (size_t i = 0; i < 6; i++) {
        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, i), CP_OK);
        char *end;
        double back = strtod(out.data, &end);
        assert_int_equal(*end, '\0');
        assert_true(back == oc.batch.cols[0].v.f64[i]);
        assert_true(strlen(out.data) <= strlen(vals[i]) + 2);
        json_t *j = json_loads(out.data, JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        assert_true(json_is_number(j));
        json_decref(j);
        /* DynamoDB: the same digits as a string */
        cp_buf t;
        cp_buf_init(&t, CP_BUF_UNLIMITED);
        assert_int_equal(cp_cell_append_dynamodb(&t, &oc.batch, 0, i), CP_OK);
        char want[96];
        snprintf(want, sizeof want, "{\"N\":\"%s\"}", out.data);
        assert_string_equal(t.data, want);
        cp_buf_release(&t);
    }
    cp_buf_release(&out);
    one_col_release(&oc);
}

static void test_date(void **state)
{
    static const form_case c[] = {
        {"2024-01-31", "\"2024-01-31\"", "2024-01-31", "{\"S\":\"2024-01-31\"}"},
        {"29/02/2024", "\"2024-02-29\"", "2024-02-29", "{\"S\":\"2024-02-29\"}"},
        {"1969-12-31", "\"1969-12-31\"", "1969-12-31", "{\"S\":\"1969-12-31\"}"},
        {"1900-03-01", "\"1900-03-01\"", "1900-03-01", "{\"S\":\"1900-03-01\"}"},
        {"\\N", "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_of(CP_TYPE_DATE), c);
}

static void test_timestamp(void **state)
{
    static const form_case c[] = {
        {"2024-01-31 14:05:00", "\"2024-01-31T14:05:00\"", "2024-01-31T14:05:00",
         "{\"S\":\"2024-01-31T14:05:00\"}"},
        {"31/01/2024 14:05:00.123", "\"2024-01-31T14:05:00.123000\"", "2024-01-31T14:05:00.123000",
         "{\"S\":\"2024-01-31T14:05:00.123000\"}"},
        {"2024-01-31T00:00:00.000001", "\"2024-01-31T00:00:00.000001\"",
         "2024-01-31T00:00:00.000001", "{\"S\":\"2024-01-31T00:00:00.000001\"}"},
        /* before 1970: negative microseconds still give the right day and fraction */
        {"1969-12-31 23:59:59.5", "\"1969-12-31T23:59:59.500000\"", "1969-12-31T23:59:59.500000",
         "{\"S\":\"1969-12-31T23:59:59.500000\"}"},
        {"1960-06-15 08:30:00", "\"1960-06-15T08:30:00\"", "1960-06-15T08:30:00",
         "{\"S\":\"1960-06-15T08:30:00\"}"},
        {"null", "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_of(CP_TYPE_TIMESTAMP), c);
}

static void test_timestamptz(void **state)
{
    static const form_case c[] = {
        {"2024-01-31T14:05:00Z", "\"2024-01-31T14:05:00Z\"", "2024-01-31T14:05:00Z",
         "{\"S\":\"2024-01-31T14:05:00Z\"}"},
        /* offsets are normalized to UTC, across midnight too */
        {"2024-01-31 14:05:00+02:00", "\"2024-01-31T12:05:00Z\"", "2024-01-31T12:05:00Z",
         "{\"S\":\"2024-01-31T12:05:00Z\"}"},
        {"2024-01-01T01:00:00.25+03:00", "\"2023-12-31T22:00:00.250000Z\"",
         "2023-12-31T22:00:00.250000Z", "{\"S\":\"2023-12-31T22:00:00.250000Z\"}"},
        {"2024-02-28T22:30:00-05:00", "\"2024-02-29T03:30:00Z\"", "2024-02-29T03:30:00Z",
         "{\"S\":\"2024-02-29T03:30:00Z\"}"},
        {"NA", "null", "", "{\"NULL\":true}"},
    };
    CHECK(cp_type_of(CP_TYPE_TIMESTAMPTZ), c);
}

static void test_string_escapes(void **state)
{
    static const char *const vals[] = {
        "plain",     "say \"hi\"",       "back\\slash",        "two\nlines\r\n",
        "tab\there", "ctrl\x01\x1f end", "Preço Unitário — €", "", /* quoted: the empty string */
        "NA",                                                      /* quoted: the text NA */
        NULL,                                                      /* unquoted empty: null */
    };
    static const bool quoted[] = {false, true, false, true, false, false, false, true, true, false};
    const size_t n = sizeof vals / sizeof *vals;
    one_col oc;
    one_col_init(&oc, cp_type_of(CP_TYPE_STRING), vals, quoted, n);
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    for (size_t i = 0; i < n; i++) {
        /* text: the bytes as they are */
        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_text(&out, &oc.batch, 0, i), CP_OK);
        assert_string_equal(out.data ? out.data : "", vals[i] ? vals[i] : "");
        assert_int_equal(out.len, vals[i] ? strlen(vals[i]) : 0);

        /* JSON: a string literal that reads back to the same bytes, no raw controls */
        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, i), CP_OK);
        for (size_t k = 0; k < out.len; k++)
            assert_true((unsigned char)out.data[k] >= 0x20);
        json_error_t je;
        json_t *j = json_loads(out.data, JSON_DECODE_ANY, &je);
        if (!j)
            fail_msg("JSON %s does not parse: %s", out.data, je.text);
        if (!vals[i]) {
            assert_true(json_is_null(j));
        } else {
            assert_true(json_is_string(j));
            assert_int_equal(json_string_length(j), strlen(vals[i]));
            assert_memory_equal(json_string_value(j), vals[i], strlen(vals[i]));
        }
        json_decref(j);

        /* DynamoDB: {"S": the same string} */
        cp_buf_reset(&out);
        assert_int_equal(cp_cell_append_dynamodb(&out, &oc.batch, 0, i), CP_OK);
        j = json_loads(out.data, 0, &je);
        if (!j)
            fail_msg("DynamoDB %s does not parse: %s", out.data, je.text);
        if (!vals[i]) {
            assert_true(json_is_true(json_object_get(j, "NULL")));
        } else {
            json_t *s = json_object_get(j, "S");
            assert_non_null(s);
            assert_string_equal(json_string_value(s), vals[i]);
        }
        assert_int_equal(json_object_size(j), 1);
        json_decref(j);
    }
    /* the common escapes are the short ones */
    cp_buf_reset(&out);
    assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, 1), CP_OK);
    assert_string_equal(out.data, "\"say \\\"hi\\\"\"");
    cp_buf_reset(&out);
    assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, 2), CP_OK);
    assert_string_equal(out.data, "\"back\\\\slash\"");
    cp_buf_reset(&out);
    assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, 3), CP_OK);
    assert_string_equal(out.data, "\"two\\nlines\\r\\n\"");
    cp_buf_release(&out);
    one_col_release(&oc);
}

static void test_appends_after_existing_content(void **state)
{
    static const char *const vals[] = {"12.5"};
    one_col oc;
    one_col_init(&oc, cp_type_decimal(18, 1), vals, NULL, 1);
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&out, "x="), CP_OK);
    assert_int_equal(cp_cell_append_text(&out, &oc.batch, 0, 0), CP_OK);
    assert_int_equal(cp_cell_append_json(&out, &oc.batch, 0, 0), CP_OK);
    assert_int_equal(cp_cell_append_dynamodb(&out, &oc.batch, 0, 0), CP_OK);
    assert_string_equal(out.data, "x=12.512.5{\"N\":\"12.5\"}");
    cp_buf_release(&out);

    /* a bounded buffer that is too small answers CP_TOO_LARGE */
    cp_buf_init(&out, 4);
    assert_int_equal(cp_cell_append_dynamodb(&out, &oc.batch, 0, 0), CP_TOO_LARGE);
    cp_buf_release(&out);
    one_col_release(&oc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boolean),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_timestamptz),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_appends_after_existing_content),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
