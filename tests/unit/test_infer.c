/*
 * Unit tests for csv/infer: one table row per inference rule of docs/design.md ("Types"), each
 * rule with a positive and a negative case; then the date order, which cp_sniff decides
 * from the whole sample before inference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/infer.h"
#include "csv/sniff.h"

#include <stdio.h>
#include <string.h>

#define MAXV 12

typedef struct infer_case {
    const char *rule;
    const char *values[MAXV]; /* NULL-terminated */
    char decimal_sep;
    cp_date_order order;
    const char *expect;
} infer_case;

#define DMY CP_DATE_ORDER_DMY
#define MDY CP_DATE_ORDER_MDY

static const infer_case cases[] = {
    /* leading zeros stay STRING */
    {"plain integers are INT64", {"7", "12", "-3", "+4", "0"}, '.', DMY, "INT64"},
    {"leading zeros are codes", {"007", "12", "3"}, '.', DMY, "STRING"},
    {"postal codes are codes", {"01310", "04538", "20040"}, '.', DMY, "STRING"},
    {"negative leading zeros", {"-007", "5"}, '.', DMY, "STRING"},
    {"leading zero before a point", {"01.50", "2.25"}, '.', DMY, "STRING"},
    {"a lone zero before a point is fine", {"0.50", "2.25"}, '.', DMY, "DECIMAL(18,2)"},
    /* fixed-scale numbers are DECIMAL, exponents DOUBLE */
    {"decimal comma money", {"46143,26", "19,90", "0,05"}, ',', DMY, "DECIMAL(18,2)"},
    {"decimal point money", {"19.90", "5", "1234.5"}, '.', MDY, "DECIMAL(18,2)"},
    {"thousands groups with a comma", {"1.234.567,89", "12,5"}, ',', DMY, "DECIMAL(18,2)"},
    {"decimal comma under a point locale", {"46143,26", "19,90"}, '.', MDY, "STRING"},
    {"decimal point under a comma locale", {"19.90", "5.25"}, ',', DMY, "STRING"},
    {"groups only: an integer", {"1.234", "12.345.678"}, ',', DMY, "INT64"},
    {"scale and integer digits apart", {"0.5", "12.125", "7"}, '.', MDY, "DECIMAL(18,3)"},
    {"wide decimals widen the precision",
     {"1234567890123456789.12", "1"},
     '.',
     MDY,
     "DECIMAL(21,2)"},
    {"exponent is DOUBLE", {"1.5e3", "2", "0.25"}, '.', MDY, "DOUBLE"},
    {"inf and nan are DOUBLE", {"1", "inf", "NaN"}, '.', MDY, "DOUBLE"},
    {"decimal past 38 digits is DOUBLE",
     {"12345678901234567890.1234567890123456789"},
     '.',
     MDY,
     "DOUBLE"},
    /* 0/1 are INT64, boolean words are BOOLEAN */
    {"0/1 columns are INT64", {"0", "1", "1", "0"}, '.', MDY, "INT64"},
    {"true/false", {"true", "false", "TRUE", "False"}, '.', MDY, "BOOLEAN"},
    {"t/f", {"t", "f", "T", "F"}, '.', MDY, "BOOLEAN"},
    {"yes/no", {"yes", "no", "YES", "No"}, '.', MDY, "BOOLEAN"},
    {"y/n", {"y", "n", "Y", "N"}, '.', MDY, "BOOLEAN"},
    {"sim/n\xc3\xa3o",
     {"sim", "n\xc3\xa3o", "SIM", "N\xc3\x83O", "Sim", "N\xc3\xa3o"},
     ',',
     DMY,
     "BOOLEAN"},
    {"yes and maybe", {"yes", "maybe", "no"}, '.', MDY, "STRING"},
    {"nao without its tilde", {"sim", "nao"}, ',', DMY, "STRING"},
    {"a boolean and an integer", {"true", "1", "false"}, '.', MDY, "STRING"},
    {"a boolean and a decimal", {"yes", "1.5"}, '.', MDY, "STRING"},
    /* null tokens do not change the type */
    {"null tokens in an INT64 column",
     {"", "NULL", "5", "null", "NA", "N/A", "\\N", "7"},
     '.',
     MDY,
     "INT64"},
    {"null tokens in a DATE column", {"NA", "2024-01-15", "", "2024-02-01"}, '.', MDY, "DATE"},
    {"null tokens in a BOOLEAN column", {"N/A", "true", "\\N"}, '.', MDY, "BOOLEAN"},
    {"all null", {"", "NULL", "NA", "\\N"}, '.', MDY, "NULL"},
    {"no values", {NULL}, '.', MDY, "NULL"},
    {"'none' is not a null token", {"none", "5"}, '.', MDY, "STRING"},
    {"'Null' is not a null token", {"Null", "5"}, '.', MDY, "STRING"},
    /* temporal kinds */
    {"dates", {"2024-01-15", "2024-02-29"}, '.', MDY, "DATE"},
    {"timestamps", {"2024-01-15T10:30:00", "2024-01-16 11:00"}, '.', MDY, "TIMESTAMP"},
    {"timestamps with offsets",
     {"2024-01-15T10:30:00Z", "2024-01-15T10:30:00+02:00"},
     '.',
     MDY,
     "TIMESTAMPTZ"},
    {"timestamps with and without offsets",
     {"2024-01-15T10:30:00", "2024-01-15T10:30:00Z"},
     '.',
     MDY,
     "STRING"},
    {"date and timestamp", {"2024-01-15", "2024-01-16T10:00"}, '.', MDY, "TIMESTAMP"},
    {"date and timestamp with offset", {"2024-01-15", "2024-01-16T10:00Z"}, '.', MDY, "STRING"},
    {"a date and a number", {"2024-01-15", "5"}, '.', MDY, "STRING"},
    {"invalid day", {"2024-01-15", "2024-02-30"}, '.', MDY, "STRING"},
    /* integer ranges */
    {"INT64 edge", {"9223372036854775807", "-9223372036854775808"}, '.', MDY, "INT64"},
    {"beyond INT64", {"9223372036854775808", "1"}, '.', MDY, "DECIMAL(19,0)"},
    {"beyond INT64, negative", {"-9223372036854775809"}, '.', MDY, "DECIMAL(19,0)"},
    {"20-digit integers", {"99999999999999999999"}, '.', MDY, "DECIMAL(20,0)"},
    {"38-digit integers", {"12345678901234567890123456789012345678"}, '.', MDY, "DECIMAL(38,0)"},
    {"39-digit integers", {"123456789012345678901234567890123456789", "1"}, '.', MDY, "STRING"},
    {"beyond INT64 and a fraction", {"99999999999999999999", "0.5"}, '.', MDY, "DECIMAL(21,1)"},
    /* the given date order */
    {"day-first dates", {"15/01/2024", "05/06/2024", "31.12.2024"}, ',', DMY, "DATE"},
    {"month-first value under day-first", {"01/15/2024", "05/06/2024"}, ',', DMY, "STRING"},
    {"month-first dates", {"01/15/2024", "05/06/2024", "12-31-2024"}, '.', MDY, "DATE"},
    {"day-first value under month-first", {"15/01/2024"}, '.', MDY, "STRING"},
    {"day-first timestamps", {"15/01/2024 10:30:00", "16/01/2024 08:00"}, ',', DMY, "TIMESTAMP"},
    {"day-first dates and timestamps", {"15/01/2024", "16/01/2024 08:00"}, ',', DMY, "TIMESTAMP"},
};

static void test_rules_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const infer_case *c = &cases[i];
        cp_value_opts vo = {{c->decimal_sep, c->order, 0}, NULL};
        cp_infer inf;
        cp_infer_init(&inf);
        size_t n = 0, nulls = 0;
        for (; n < MAXV && c->values[n]; n++) {
            cp_field f = {c->values[n], strlen(c->values[n]), false};
            cp_infer_add(&inf, &f, &vo);
            nulls += cp_is_null_token(&vo, f.data, f.len);
        }
        char got[32];
        cp_type_format(cp_infer_type(&inf), got, sizeof got);
        if (strcmp(got, c->expect) != 0)
            fail_msg("rule \"%s\": %s, expected %s", c->rule, got, c->expect);
        assert_int_equal(inf.nulls, nulls);
        assert_int_equal(inf.nonnull, n - nulls);
        /* the order of the values does not matter */
        cp_infer_init(&inf);
        for (size_t k = n; k-- > 0;) {
            cp_field f = {c->values[k], strlen(c->values[k]), false};
            cp_infer_add(&inf, &f, &vo);
        }
        cp_type_format(cp_infer_type(&inf), got, sizeof got);
        if (strcmp(got, c->expect) != 0)
            fail_msg("rule \"%s\", values reversed: %s, expected %s", c->rule, got, c->expect);
    }
}

static void test_value_type_and_example(void **state)
{
    (void)state;
    cp_value_opts vo = {{',', DMY, 0}, NULL};
    char got[32];
    static const struct {
        const char *v, *t;
    } one[] = {
        {"5", "INT64"},     {"5,25", "DECIMAL(18,2)"},
        {"", "NULL"},       {"NULL", "NULL"},
        {"sim", "BOOLEAN"}, {"15/01/2024", "DATE"},
        {"x", "STRING"},    {"15/01/2024 10:00+01:00", "TIMESTAMPTZ"},
        {"007", "STRING"},  {"1e3", "DOUBLE"},
    };
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        cp_field f = {one[i].v, strlen(one[i].v), false};
        cp_type_format(cp_infer_value_type(&f, &vo), got, sizeof got);
        if (strcmp(got, one[i].t) != 0)
            fail_msg("\"%s\": %s, expected %s", one[i].v, got, one[i].t);
    }
    /* the example is the first non-null value, cut without splitting a character */
    cp_infer inf;
    cp_infer_init(&inf);
    cp_field nul = {"", 0, false};
    cp_infer_add(&inf, &nul, &vo);
    char longv[100];
    memset(longv, 'a', 62);
    memcpy(longv + 62, "\xc3\xa7xyz", 5); /* ç across the 63-byte cut */
    cp_field f = {longv, 67, false};
    cp_infer_add(&inf, &f, &vo);
    cp_field second = {"other", 5, false};
    cp_infer_add(&inf, &second, &vo);
    assert_int_equal(strlen(inf.example), 62);
    assert_int_equal(inf.nulls, 1);
    assert_int_equal(inf.nonnull, 2);
    cp_infer_init(&inf);
    cp_field shortv = {"hello", 3, false};
    cp_infer_add(&inf, &shortv, &vo);
    assert_string_equal(inf.example, "hel");
    /* custom null tokens */
    static const char *const tokens[] = {"-", NULL};
    cp_value_opts custom = {{'.', MDY, 0}, tokens};
    cp_infer_init(&inf);
    cp_field dash = {"-", 1, false}, na = {"NA", 2, false}, five = {"5", 1, false};
    cp_infer_add(&inf, &dash, &custom);
    cp_infer_add(&inf, &five, &custom);
    cp_type_format(cp_infer_type(&inf), got, sizeof got);
    assert_string_equal(got, "INT64");
    cp_infer_add(&inf, &na, &custom); /* NA is text now */
    cp_type_format(cp_infer_type(&inf), got, sizeof got);
    assert_string_equal(got, "STRING");
}

/* ---- the date order, decided by cp_sniff from the whole sample ---- */

typedef struct sniffed {
    cp_date_order order;
    char decimal_sep;
    char delimiter;
    char type0[32];
} sniffed;

static sniffed sniff_text(const char *text)
{
    cp_source *src = cp_source_open_memory(text, strlen(text), "order.csv");
    assert_non_null(src);
    cp_sniff_result r;
    cp_error err;
    cp_error_clear(&err);
    cp_status st = cp_sniff(src, NULL, &r, &err);
    if (st != CP_OK)
        fail_msg("sniff failed: %s", err.message);
    sniffed s = {r.dialect.values.locale.date_order, r.dialect.values.locale.decimal_sep,
                 r.dialect.delimiter, ""};
    cp_type_format(r.schema.columns[0].type, s.type0, sizeof s.type0);
    cp_sniff_result_release(&r);
    cp_source_free(src);
    return s;
}

static void test_date_order_from_sample(void **state)
{
    (void)state;
    /* a first field above 12 settles day-first ... */
    sniffed s = sniff_text("when,n\n05/06/2024,1\n13/06/2024,2\n");
    assert_int_equal(s.order, DMY);
    assert_string_equal(s.type0, "DATE");
    /* ... a second field above 12 month-first */
    s = sniff_text("when,n\n05/06/2024,1\n06/13/2024,2\n");
    assert_int_equal(s.order, MDY);
    assert_string_equal(s.type0, "DATE");

    /* anywhere in the sample: many ambiguous rows, the evidence at the end */
    char text[20000];
    size_t o = (size_t)snprintf(text, sizeof text, "when,n\n");
    for (int i = 0; i < 500; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%02d/%02d/2023,%d\n", i % 12 + 1,
                              i % 12 + 1, i);
    snprintf(text + o, sizeof text - o, "25/12/2023,1\n");
    s = sniff_text(text);
    assert_int_equal(s.order, DMY);
    assert_string_equal(s.type0, "DATE");
    snprintf(text + o, sizeof text - o, "12/25/2023,1\n");
    s = sniff_text(text);
    assert_int_equal(s.order, MDY);
    assert_string_equal(s.type0, "DATE");
    /* and in a timestamp column too */
    s = sniff_text("t,n\n05/06/2024 10:00,1\n28/06/2024 11:30:00,2\n");
    assert_int_equal(s.order, DMY);
    assert_string_equal(s.type0, "TIMESTAMP");
}

static void test_date_order_hints(void **state)
{
    (void)state;
    /* no evidence, ',' delimiter, decimal point: month-first */
    sniffed s = sniff_text("when,n\n05/06/2024,1.5\n07/08/2024,2.5\n");
    assert_int_equal(s.delimiter, ',');
    assert_int_equal(s.order, MDY);
    assert_string_equal(s.type0, "DATE");
    /* ';' delimiter: day-first */
    s = sniff_text("when;n\n05/06/2024;1\n07/08/2024;2\n");
    assert_int_equal(s.delimiter, ';');
    assert_int_equal(s.order, DMY);
    /* a decimal comma, even with ',' as the delimiter (quoted numbers): day-first */
    s = sniff_text("when,n\n05/06/2024,\"1,5\"\n07/08/2024,\"2,5\"\n");
    assert_int_equal(s.delimiter, ',');
    assert_int_equal(s.decimal_sep, ',');
    assert_int_equal(s.order, DMY);
    /* tab, decimal comma: day-first */
    s = sniff_text("when\tn\n05/06/2024\t1,5\n07/08/2024\t2,5\n");
    assert_int_equal(s.delimiter, '\t');
    assert_int_equal(s.order, DMY);
    /* evidence beats the hints */
    s = sniff_text("when;n\n05/06/2024;1\n07/18/2024;2\n");
    assert_int_equal(s.order, MDY);
    assert_string_equal(s.type0, "DATE");
    /* ISO dates give no evidence and parse either way */
    s = sniff_text("when;n\n2024-06-05;1\n2024-08-07;2\n");
    assert_int_equal(s.order, DMY);
    assert_string_equal(s.type0, "DATE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_table),
        cmocka_unit_test(test_value_type_and_example),
        cmocka_unit_test(test_date_order_from_sample),
        cmocka_unit_test(test_date_order_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
