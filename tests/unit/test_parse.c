/* Unit tests for util/parse: numbers, booleans, dates and timestamps, and their text forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/parse.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cp_locale POINT = {'.', CP_DATE_ORDER_UNKNOWN, 0};
static const cp_locale COMMA = {',', CP_DATE_ORDER_UNKNOWN, 0};

#define USEC 1000000LL
#define DAY_US (86400LL * USEC)

/* ---- cp_scan_number ---- */

typedef struct num_case {
    const char *s;
    char sep;
    cp_num_kind kind;
    bool negative;
    unsigned int_digits;
    unsigned scale;
    int64_t unscaled; /* checked for INT and DECIMAL */
} num_case;

static const num_case num_cases[] = {
    {"0", '.', CP_NUM_INT, false, 0, 0, 0},
    {"7", '.', CP_NUM_INT, false, 1, 0, 7},
    {"123", '.', CP_NUM_INT, false, 3, 0, 123},
    {"+5", '.', CP_NUM_INT, false, 1, 0, 5},
    {"-42", '.', CP_NUM_INT, true, 2, 0, -42},
    {"-0", '.', CP_NUM_INT, true, 0, 0, 0},
    {"100", '.', CP_NUM_INT, false, 3, 0, 100},
    {"0.5", '.', CP_NUM_DECIMAL, false, 0, 1, 5},
    {"-0.05", '.', CP_NUM_DECIMAL, true, 0, 2, -5},
    {"19.90", '.', CP_NUM_DECIMAL, false, 2, 2, 1990},
    {"-1.25", '.', CP_NUM_DECIMAL, true, 1, 2, -125},
    {"100.05", '.', CP_NUM_DECIMAL, false, 3, 2, 10005},
    {"46143,26", ',', CP_NUM_DECIMAL, false, 5, 2, 4614326},
    {"0,5", ',', CP_NUM_DECIMAL, false, 0, 1, 5},
    {"1.234.567,89", ',', CP_NUM_DECIMAL, false, 7, 2, 123456789},
    {"-1.234,5", ',', CP_NUM_DECIMAL, true, 4, 1, -12345},
    {"1.234", ',', CP_NUM_INT, false, 4, 0, 1234},
    {"12.345.678", ',', CP_NUM_INT, false, 8, 0, 12345678},
    /* spaces around, thousands groups with the other separator, a space or an apostrophe */
    {" 1", '.', CP_NUM_INT, false, 1, 0, 1},
    {"1 ", '.', CP_NUM_INT, false, 1, 0, 1},
    {"25,649     ", '.', CP_NUM_INT, false, 5, 0, 25649},
    {"\t-3.5 ", '.', CP_NUM_DECIMAL, true, 1, 1, -35},
    {"1 000", '.', CP_NUM_INT, false, 4, 0, 1000},
    {"1,234", '.', CP_NUM_INT, false, 4, 0, 1234},
    {"1,234,567.89", '.', CP_NUM_DECIMAL, false, 7, 2, 123456789},
    {"-1,000", '.', CP_NUM_INT, true, 4, 0, -1000},
    {"1'234'567.5", '.', CP_NUM_DECIMAL, false, 7, 1, 12345675},
    {"1\xc2\xa0"
     "234,5",
     ',', CP_NUM_DECIMAL, false, 4, 1, 12345},
    {"1\xe2\x80\xaf"
     "234\xe2\x80\xaf"
     "567",
     ',', CP_NUM_INT, false, 7, 0, 1234567},
    {"(1,234.56)", '.', CP_NUM_DECIMAL, true, 4, 2, -123456},
    {"(5.00)", '.', CP_NUM_DECIMAL, true, 1, 2, -500},
    {" 1e5 ", '.', CP_NUM_DOUBLE, false, 0, 0, 0},
    /* leading zeros: codes, not numbers */
    {"007", '.', CP_NUM_LEADING_ZERO, false, 0, 0, 0},
    {"-007", '.', CP_NUM_LEADING_ZERO, true, 0, 0, 0},
    {"00.5", '.', CP_NUM_LEADING_ZERO, false, 0, 0, 0},
    {"00", '.', CP_NUM_LEADING_ZERO, false, 0, 0, 0},
    {"01234", '.', CP_NUM_LEADING_ZERO, false, 0, 0, 0},
    {"00,5", ',', CP_NUM_LEADING_ZERO, false, 0, 0, 0},
    /* exponents and specials */
    {"1e5", '.', CP_NUM_DOUBLE, false, 0, 0, 0},
    {"1.5E-3", '.', CP_NUM_DOUBLE, false, 0, 0, 0},
    {"-2e+10", '.', CP_NUM_DOUBLE, true, 0, 0, 0},
    {"1,5e3", ',', CP_NUM_DOUBLE, false, 0, 0, 0},
    {"inf", '.', CP_NUM_DOUBLE, false, 0, 0, 0},
    {"-Infinity", '.', CP_NUM_DOUBLE, true, 0, 0, 0},
    {"NaN", '.', CP_NUM_DOUBLE, false, 0, 0, 0},
    {"+INF", '.', CP_NUM_DOUBLE, false, 0, 0, 0},
    /* not numbers */
    {"", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"+", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"-", '.', CP_NUM_NONE, false, 0, 0, 0},
    {".", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1.", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1e", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1e+", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"e5", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1 2", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1 0000", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1,000 000", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1,000,00", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1,0000", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1234,567.5", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"0,123.5", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"12,34,567.89", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"(123)", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"(-1.5)", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1,5e3", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1,234e3", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"$5", '.', CP_NUM_NONE, false, 0, 0, 0}, /* no currency in this locale */
    {"12abc", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"0x10", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"infx", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"--1", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1,5", '.', CP_NUM_NONE, false, 0, 0, 0},
    {"1.5", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"1.23,4", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"1.2345,6", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"1234.567,8", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"1.234.", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"1..234", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"0.123,5", ',', CP_NUM_NONE, false, 0, 0, 0},
    {"1,2,3", ',', CP_NUM_NONE, false, 0, 0, 0},
};

static void test_scan_number_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof num_cases / sizeof num_cases[0]; i++) {
        const num_case *c = &num_cases[i];
        cp_locale loc = {c->sep, CP_DATE_ORDER_UNKNOWN, 0};
        cp_num n;
        cp_num_kind k = cp_scan_number(c->s, strlen(c->s), &loc, &n);
        if (k != c->kind)
            fail_msg("\"%s\" (sep %c): kind %d, expected %d", c->s, c->sep, k, c->kind);
        assert_int_equal(n.kind, k);
        if (k == CP_NUM_NONE)
            continue;
        if (n.negative != c->negative)
            fail_msg("\"%s\": negative %d", c->s, n.negative);
        if (k == CP_NUM_INT || k == CP_NUM_DECIMAL) {
            if (n.int_digits != c->int_digits || n.scale != c->scale || !n.exact ||
                n.unscaled != (cp_i128)c->unscaled)
                fail_msg("\"%s\": int_digits %u scale %u exact %d unscaled %lld", c->s,
                         n.int_digits, n.scale, n.exact, (long long)n.unscaled);
        }
    }
}

/* ---- money: currency symbols, signs and parentheses ---- */

typedef struct money_case {
    const char *s;
    char sep;
    const char *currency; /* the file's symbol */
    cp_num_kind kind;
    unsigned scale;
    int64_t unscaled;
} money_case;

static const money_case money_cases[] = {
    {"R$ 1.234,56", ',', "R$", CP_NUM_DECIMAL, 2, 123456},
    {"R$1.234,56", ',', "R$", CP_NUM_DECIMAL, 2, 123456},
    {"R$ -0,05", ',', "R$", CP_NUM_DECIMAL, 2, -5},
    {"-R$ 5,00", ',', "R$", CP_NUM_DECIMAL, 2, -500},
    {"R$ 1.000.000,00", ',', "R$", CP_NUM_DECIMAL, 2, 100000000},
    {"(R$ 10,00)", ',', "R$", CP_NUM_DECIMAL, 2, -1000},
    {"R$ 7", ',', "R$", CP_NUM_INT, 0, 7},
    {"$2,000.00", '.', "$", CP_NUM_DECIMAL, 2, 200000},
    {"\"$65,548 \"", '.', "$", CP_NUM_NONE, 0, 0}, /* quotes are the tokenizer's */
    {"$65,548 ", '.', "$", CP_NUM_INT, 0, 65548},
    {"-$123.45", '.', "$", CP_NUM_DECIMAL, 2, -12345},
    {"$-5", '.', "$", CP_NUM_INT, 0, -5},
    {"- $220.00", '.', "$", CP_NUM_DECIMAL, 2, -22000},
    {"+ $1,150.00", '.', "$", CP_NUM_DECIMAL, 2, 115000},
    {"($336.73)", '.', "$", CP_NUM_DECIMAL, 2, -33673},
    {"$26143.94", '.', "$", CP_NUM_DECIMAL, 2, 2614394},
    {"$.50", '.', "$", CP_NUM_DECIMAL, 2, 50},
    {"1.234,56 \xe2\x82\xac", ',', "\xe2\x82\xac", CP_NUM_DECIMAL, 2, 123456},
    {"12,50\xe2\x82\xac", ',', "\xe2\x82\xac", CP_NUM_DECIMAL, 2, 1250},
    {"\xc2\xa3"
     "1,000",
     '.', "\xc2\xa3", CP_NUM_INT, 0, 1000},
    {"1.234,56 EUR", ',', "EUR", CP_NUM_DECIMAL, 2, 123456},
    {"$(5)", '.', "$", CP_NUM_NONE, 0, 0},
    {"R$ 5,00", ',', "$", CP_NUM_NONE, 0, 0},  /* another currency */
    {"US$ 5.00", '.', "$", CP_NUM_NONE, 0, 0}, /* another currency */
    {"$5,00", '.', "$", CP_NUM_NONE, 0, 0},    /* a decimal comma in a decimal-point file */
    {"$1e5", '.', "$", CP_NUM_NONE, 0, 0},
    {"$-$5", '.', "$", CP_NUM_NONE, 0, 0},
    {"--$5", '.', "$", CP_NUM_NONE, 0, 0},
    {"$", '.', "$", CP_NUM_NONE, 0, 0},
    {"$ ", '.', "$", CP_NUM_NONE, 0, 0},
    {"(-$5)", '.', "$", CP_NUM_NONE, 0, 0},
    {"5$5", '.', "$", CP_NUM_NONE, 0, 0},
    {"$007", '.', "$", CP_NUM_LEADING_ZERO, 0, 0},
    {"GBP3", '.', "GBP", CP_NUM_NONE, 0, 0}, /* a code, not money: letters need a space */
    {"100kr", ',', "kr", CP_NUM_NONE, 0, 0},
    {"100 kr", ',', "kr", CP_NUM_INT, 0, 100},
    {"CHF 1'250.50", '.', "CHF", CP_NUM_DECIMAL, 2, 125050},
};

static uint8_t currency_index(const char *sym)
{
    for (unsigned k = 1; cp_currency_symbol(k); k++)
        if (strcmp(cp_currency_symbol(k), sym) == 0)
            return (uint8_t)k;
    fail_msg("no currency %s", sym);
    return 0;
}

static void test_scan_money(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof money_cases / sizeof money_cases[0]; i++) {
        const money_case *c = &money_cases[i];
        cp_locale loc = {c->sep, CP_DATE_ORDER_UNKNOWN, currency_index(c->currency)};
        cp_num n;
        cp_num_kind k = cp_scan_number(c->s, strlen(c->s), &loc, &n);
        if (k != c->kind)
            fail_msg("\"%s\": kind %d, expected %d", c->s, k, c->kind);
        if (k != CP_NUM_INT && k != CP_NUM_DECIMAL)
            continue;
        if (n.scale != c->scale || n.unscaled != (cp_i128)c->unscaled || !n.exact)
            fail_msg("\"%s\": scale %u unscaled %lld", c->s, n.scale, (long long)n.unscaled);
        /* the column parsers agree with the scanner */
        cp_i128 v;
        assert_true(cp_parse_decimal(c->s, strlen(c->s), &loc, 20, c->scale, &v));
        assert_true(v == (cp_i128)c->unscaled);
        double d;
        assert_true(cp_parse_double(c->s, strlen(c->s), &loc, &d));
        assert_true(d == (double)c->unscaled / pow(10, c->scale));
        int64_t iv;
        assert_true(cp_parse_int64(c->s, strlen(c->s), &loc, &iv) == (k == CP_NUM_INT));
        if (k == CP_NUM_INT)
            assert_true(iv == c->unscaled);
    }
    assert_null(cp_currency_symbol(0));
    assert_null(cp_currency_symbol(200));
}

static void test_decimal_evidence(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        cp_decimal_hint hint;
        const char *currency;
    } cases[] = {
        {"1.5", CP_DECIMAL_HINT_POINT, NULL},
        {"1,5", CP_DECIMAL_HINT_COMMA, NULL},
        {"1.234,56", CP_DECIMAL_HINT_COMMA, NULL},
        {"1,234.56", CP_DECIMAL_HINT_POINT, NULL},
        {"1.234.567", CP_DECIMAL_HINT_COMMA, NULL},
        {"1,234,567", CP_DECIMAL_HINT_POINT, NULL},
        {"0,125", CP_DECIMAL_HINT_COMMA, NULL},
        {"1234,567", CP_DECIMAL_HINT_COMMA, NULL},
        {"1,2345", CP_DECIMAL_HINT_COMMA, NULL},
        {"1.234", CP_DECIMAL_HINT_POINT_OR_3, NULL},
        {"1,234", CP_DECIMAL_HINT_COMMA_OR_3, NULL},
        {"-999,999", CP_DECIMAL_HINT_COMMA_OR_3, NULL},
        {"$2,200 ", CP_DECIMAL_HINT_POINT, "$"},
        {"R$ 1.500", CP_DECIMAL_HINT_COMMA, "R$"},
        {"42.10%", CP_DECIMAL_HINT_POINT, NULL},
        {"3,5%", CP_DECIMAL_HINT_COMMA, NULL},
        {"R$ 1.234,56", CP_DECIMAL_HINT_COMMA, "R$"},
        {"($1,234.50)", CP_DECIMAL_HINT_POINT, "$"},
        {"US$ 12", CP_DECIMAL_HINT_NONE, "US$"},
        {"12,50 \xe2\x82\xac", CP_DECIMAL_HINT_COMMA, "\xe2\x82\xac"},
        {"12", CP_DECIMAL_HINT_NONE, NULL},
        {"12.05.2020", CP_DECIMAL_HINT_NONE, NULL},
        {"192.168.1.1", CP_DECIMAL_HINT_NONE, NULL},
        {"1.", CP_DECIMAL_HINT_NONE, NULL},
        {"1,2.3", CP_DECIMAL_HINT_NONE, NULL},
        {"abc", CP_DECIMAL_HINT_NONE, NULL},
        {"GBP3", CP_DECIMAL_HINT_NONE, NULL},
        {"EUR2.5", CP_DECIMAL_HINT_NONE, NULL},
        {"$abc", CP_DECIMAL_HINT_NONE, NULL},
        {"", CP_DECIMAL_HINT_NONE, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned cur = 99;
        cp_decimal_hint h = cp_decimal_evidence(cases[i].s, strlen(cases[i].s), &cur);
        if (h != cases[i].hint)
            fail_msg("\"%s\": hint %d, expected %d", cases[i].s, h, cases[i].hint);
        const char *got = cp_currency_symbol(cur);
        if ((got == NULL) != (cases[i].currency == NULL) ||
            (got && strcmp(got, cases[i].currency) != 0))
            fail_msg("\"%s\": currency %s", cases[i].s, got ? got : "none");
    }
}

static void test_scan_number_precision(void **state)
{
    (void)state;
    cp_num n;
    /* 38 nines: exact, the largest DECIMAL(38,0) */
    char s[64];
    memset(s, '9', 38);
    s[38] = '\0';
    assert_int_equal(cp_scan_number(s, 38, &POINT, &n), CP_NUM_INT);
    assert_true(n.exact);
    assert_int_equal(n.int_digits, 38);
    cp_i128 max38 = 1;
    for (int i = 0; i < 38; i++)
        max38 *= 10;
    max38 -= 1;
    assert_true(n.unscaled == max38);
    s[0] = '-';
    assert_int_equal(cp_scan_number(s, 38, &POINT, &n), CP_NUM_INT);
    assert_true(n.exact);
    assert_true(n.unscaled == -(max38 / 10));
    /* 39 digits: still an integer, but not exact */
    memset(s, '1', 39);
    s[39] = '\0';
    assert_int_equal(cp_scan_number(s, 39, &POINT, &n), CP_NUM_INT);
    assert_false(n.exact);
    assert_int_equal(n.int_digits, 39);
    /* 20 + 19 digits with a point: 39 digits, not exact */
    snprintf(s, sizeof s, "12345678901234567890.1234567890123456789");
    assert_int_equal(cp_scan_number(s, strlen(s), &POINT, &n), CP_NUM_DECIMAL);
    assert_false(n.exact);
    assert_int_equal(n.int_digits, 20);
    assert_int_equal(n.scale, 19);
    /* 20 + 18 = 38: exact */
    snprintf(s, sizeof s, "12345678901234567890.123456789012345678");
    assert_int_equal(cp_scan_number(s, strlen(s), &POINT, &n), CP_NUM_DECIMAL);
    assert_true(n.exact);
    /* leading zeros of a fraction are not significant, but still count in the scale */
    snprintf(s, sizeof s, "0.000000000000000000000000000000000001");
    assert_int_equal(cp_scan_number(s, strlen(s), &POINT, &n), CP_NUM_DECIMAL);
    assert_int_equal(n.scale, 36);
    assert_true(n.exact);
    assert_true(n.unscaled == 1);
}

/* ---- cp_parse_int64 / decimal / double ---- */

static void test_parse_int64(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_true(cp_parse_int64("9223372036854775807", 19, &POINT, &v));
    assert_true(v == INT64_MAX);
    assert_true(cp_parse_int64("-9223372036854775808", 20, &POINT, &v));
    assert_true(v == INT64_MIN);
    v = 77;
    assert_false(cp_parse_int64("9223372036854775808", 19, &POINT, &v));
    assert_false(cp_parse_int64("-9223372036854775809", 20, &POINT, &v));
    assert_false(cp_parse_int64("99999999999999999999999999999999999999999", 41, &POINT, &v));
    assert_int_equal(v, 77); /* untouched on failure */
    assert_true(cp_parse_int64("+12", 3, &POINT, &v));
    assert_int_equal(v, 12);
    assert_true(cp_parse_int64("-0", 2, &POINT, &v));
    assert_int_equal(v, 0);
    assert_false(cp_parse_int64("1.5", 3, &POINT, &v));
    assert_false(cp_parse_int64("007", 3, &POINT, &v));
    assert_false(cp_parse_int64("1e3", 3, &POINT, &v));
    assert_false(cp_parse_int64("", 0, &POINT, &v));
    assert_false(cp_parse_int64("abc", 3, &POINT, &v));
    /* thousands groups with a decimal comma */
    assert_true(cp_parse_int64("1.234.567", 9, &COMMA, &v));
    assert_int_equal(v, 1234567);
    assert_false(cp_parse_int64("1,5", 3, &COMMA, &v));
    /* only len bytes count */
    assert_true(cp_parse_int64("12345", 2, &POINT, &v));
    assert_int_equal(v, 12);
}

static void test_parse_decimal(void **state)
{
    (void)state;
    cp_i128 v = 0;
    assert_true(cp_parse_decimal("19.9", 4, &POINT, 18, 2, &v));
    assert_true(v == 1990); /* scale padded */
    assert_true(cp_parse_decimal("5", 1, &POINT, 18, 2, &v));
    assert_true(v == 500);
    assert_true(cp_parse_decimal("-0.01", 5, &POINT, 18, 2, &v));
    assert_true(v == -1);
    assert_true(cp_parse_decimal("46143,26", 8, &COMMA, 18, 2, &v));
    assert_true(v == 4614326);
    assert_true(cp_parse_decimal("1.234.567,8", 11, &COMMA, 18, 2, &v));
    assert_true(v == 123456780);
    assert_false(cp_parse_decimal("1.234", 5, &POINT, 18, 2, &v)); /* scale too large */
    /* integer digits: precision - scale */
    assert_true(cp_parse_decimal("999.99", 6, &POINT, 5, 2, &v));
    assert_true(v == 99999);
    assert_false(cp_parse_decimal("1000", 4, &POINT, 5, 2, &v));
    assert_false(cp_parse_decimal("-1000.5", 7, &POINT, 5, 2, &v));
    assert_true(cp_parse_decimal("0.5", 3, &POINT, 1, 1, &v));
    assert_true(v == 5);
    assert_false(cp_parse_decimal("1.5", 3, &POINT, 1, 1, &v));
    assert_false(cp_parse_decimal("1e3", 3, &POINT, 18, 2, &v));
    assert_false(cp_parse_decimal("007", 3, &POINT, 18, 2, &v));
    assert_false(cp_parse_decimal("x", 1, &POINT, 18, 2, &v));
    /* DECIMAL(38,0) at its edge */
    char s[48];
    memset(s, '9', 38);
    assert_true(cp_parse_decimal(s, 38, &POINT, 38, 0, &v));
    assert_true(v > 0 && v % 10 == 9);
    memset(s, '1', 39);
    assert_false(cp_parse_decimal(s, 39, &POINT, 38, 0, &v));
}

static void test_parse_double(void **state)
{
    (void)state;
    double d = 0;
    assert_true(cp_parse_double("0.1", 3, &POINT, &d));
    assert_true(d == 0.1);
    assert_true(cp_parse_double("-2.5e-3", 7, &POINT, &d));
    assert_true(d == -2.5e-3);
    assert_true(cp_parse_double("1e300", 5, &POINT, &d));
    assert_true(d == 1e300);
    assert_true(cp_parse_double("42", 2, &POINT, &d));
    assert_true(d == 42.0);
    assert_true(cp_parse_double("1.234.567,89", 12, &COMMA, &d));
    assert_true(d == 1234567.89);
    assert_true(cp_parse_double("1,5e3", 5, &COMMA, &d));
    assert_true(d == 1500.0);
    assert_true(cp_parse_double("inf", 3, &POINT, &d));
    assert_true(isinf(d) && d > 0);
    assert_true(cp_parse_double("-Infinity", 9, &POINT, &d));
    assert_true(isinf(d) && d < 0);
    assert_true(cp_parse_double("nan", 3, &POINT, &d));
    assert_true(isnan(d));
    assert_false(cp_parse_double("abc", 3, &POINT, &d));
    assert_false(cp_parse_double("0x1p3", 5, &POINT, &d));
    assert_false(cp_parse_double("1,5", 3, &POINT, &d));
    assert_false(cp_parse_double("", 0, &POINT, &d));
    /* only len bytes are read, even without a NUL behind them */
    char nonul[4] = {'1', '.', '5', '9'};
    assert_true(cp_parse_double(nonul, 3, &POINT, &d));
    assert_true(d == 1.5);
    /* a long value (past the on-stack copy) */
    char longv[300];
    memset(longv, '0', sizeof longv);
    longv[0] = '1';
    longv[1] = '.';
    assert_true(cp_parse_double(longv, sizeof longv, &POINT, &d));
    assert_true(d == 1.0);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

/* The fewest significant digits a %.Ng form needs to read back as v. */
static int shortest_digits(double v)
{
    char out[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, sizeof out, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return prec;
    }
    return -1;
}

/* Significant digits written in a number's text ("100" has 1, "0.0012" has 2). */
static int significant_digits(const char *s)
{
    char d[40];
    size_t n = 0;
    for (const char *p = s; *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '0' && *p <= '9' && n < sizeof d)
            d[n++] = *p;
    size_t lo = 0;
    while (lo < n && d[lo] == '0')
        lo++;
    while (n > lo && d[n - 1] == '0')
        n--;
    return n > lo ? (int)(n - lo) : 1;
}

static void check_double_text(double v)
{
    char out[32];
    size_t n = cp_format_double(v, out);
    assert_int_equal(n, strlen(out));
    double back = 0;
    if (!cp_parse_double(out, n, &POINT, &back) || back != v)
        fail_msg("%a formats as \"%s\", which reads back as %a", v, out, back);
    int want = shortest_digits(v);
    if (significant_digits(out) != want)
        fail_msg("%a formats as \"%s\", but %d digits are enough", v, out, want);
}

static void test_double_round_trip(void **state)
{
    (void)state;
    const double fixed[] = {0.1,
                            0.2,
                            0.3,
                            1.0 / 3,
                            2.0 / 3,
                            1e21,
                            1e22,
                            1e-7,
                            123.456,
                            -0.5,
                            1e308,
                            DBL_MAX,
                            DBL_MIN,
                            5e-324,
                            1e-310,
                            -3e-320,
                            9007199254740993.0,
                            0.1 + 0.2,
                            100.0,
                            1234567.89};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_double_text(fixed[i]);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = rng();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isnan(v) || isinf(v))
            continue;
        check_double_text(v);
    }
}

static void test_format_double(void **state)
{
    (void)state;
    char out[32];
    cp_format_double(0.1, out);
    assert_string_equal(out, "0.1");
    cp_format_double(1.0, out);
    assert_string_equal(out, "1");
    cp_format_double(-2.5, out);
    assert_string_equal(out, "-2.5");
    cp_format_double(0.1 + 0.2, out);
    assert_string_equal(out, "0.30000000000000004");
    cp_format_double(1.0 / 3, out);
    assert_string_equal(out, "0.3333333333333333");
    cp_format_double(1e21, out);
    assert_string_equal(out, "1e+21");
    cp_format_double(5e-324, out);
    assert_string_equal(out, "5e-324");
    cp_format_double(0.0, out);
    assert_string_equal(out, "0");
    cp_format_double(-0.0, out);
    assert_string_equal(out, "-0");
    cp_format_double(NAN, out);
    assert_string_equal(out, "nan");
    cp_format_double(INFINITY, out);
    assert_string_equal(out, "inf");
    cp_format_double(-INFINITY, out);
    assert_string_equal(out, "-inf");
    assert_true(cp_format_double(-DBL_MAX, out) < 32);
    assert_true(cp_format_double(-DBL_MIN, out) < 32);
}

/* ---- cp_parse_bool ---- */

static void test_parse_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "True", "t",   "T",   "yes", "YES",
                                      "Yes",  "y",    "Y",    "sim", "SIM", "Sim", "sIm"};
    static const char *const no[] = {"false",      "FALSE",      "False",      "f",         "F",
                                     "no",         "NO",         "No",         "n",         "N",
                                     "n\xc3\xa3o", "N\xc3\x83O", "N\xc3\xa3o", "n\xc3\x83o"};
    static const char *const neither[] = {
        "",           "nao",       "NAO",      "Nao",  "yes!", "1",         "0",
        "truee",      "tru",       " yes",     "yes ", "ye",   "si",        "fals",
        "on",         "off",       "nã",       "não!", "ñao",  "n\xc3\xa3", "f\xc3\xa3lse",
        "s\xc3\xa3m", "t\xc3\xa3", "\xc3\xa3", "noo",
    };
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = false;
        if (!cp_parse_bool(yes[i], strlen(yes[i]), &b) || !b)
            fail_msg("\"%s\" is not read as true", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        b = true;
        if (!cp_parse_bool(no[i], strlen(no[i]), &b) || b)
            fail_msg("\"%s\" is not read as false", no[i]);
    }
    for (size_t i = 0; i < sizeof neither / sizeof neither[0]; i++)
        if (cp_parse_bool(neither[i], strlen(neither[i]), &b))
            fail_msg("\"%s\" is read as a boolean", neither[i]);
    /* only len bytes */
    assert_true(cp_parse_bool("yesterday", 3, &b));
    assert_true(b);
}

/* ---- dates ---- */

static void test_civil_known(void **state)
{
    (void)state;
    assert_int_equal(cp_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(cp_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(cp_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(cp_days_from_civil(2024, 1, 15), 19737);
    assert_int_equal(cp_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(cp_days_from_civil(9999, 12, 31), 2932896);
    assert_int_equal(cp_days_from_civil(1900, 3, 1) - cp_days_from_civil(1900, 2, 28), 1);
    assert_int_equal(cp_days_from_civil(2000, 3, 1) - cp_days_from_civil(2000, 2, 28), 2);
    int64_t y;
    unsigned m, d;
    cp_civil_from_days(-719162, &y, &m, &d);
    assert_true(y == 1 && m == 1 && d == 1);
    cp_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);
}

static void test_civil_round_trip(void **state)
{
    (void)state;
    /* -2000-01-01 .. 4000-01-01, every day */
    int32_t lo = cp_days_from_civil(-2000, 1, 1), hi = cp_days_from_civil(4000, 1, 1);
    int64_t py;
    unsigned pm, pd;
    cp_civil_from_days(lo - 1, &py, &pm, &pd);
    for (int32_t days = lo; days <= hi; days++) {
        int64_t y;
        unsigned m, d;
        cp_civil_from_days(days, &y, &m, &d);
        if (cp_days_from_civil(y, m, d) != days)
            fail_msg("day %d -> %lld-%u-%u does not come back", days, (long long)y, m, d);
        /* consecutive: the next day of the previous date */
        bool next_day = (y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
                        (y == py + 1 && m == 1 && d == 1);
        if (!next_day)
            fail_msg("day %d: %lld-%u-%u after %lld-%u-%u", days, (long long)y, m, d, (long long)py,
                     pm, pd);
        if (m < 1 || m > 12 || d < 1 || d > 31)
            fail_msg("day %d: %lld-%u-%u", days, (long long)y, m, d);
        py = y, pm = m, pd = d;
    }
}

typedef struct tm_case {
    const char *s;
    cp_date_order order;
    cp_temporal_kind kind;
    unsigned orders;
    int y, m, d;
    int64_t tod_us; /* time of day (TIMESTAMP) or UTC adjusted micros from the date's midnight */
} tm_case;

#define BOTH (CP_ORDER_OK_DMY | CP_ORDER_OK_MDY)
#define U CP_DATE_ORDER_UNKNOWN
#define DMY CP_DATE_ORDER_DMY
#define MDY CP_DATE_ORDER_MDY
#define HMS(h, m, s) (((int64_t)(h)*3600 + (m)*60 + (s)) * USEC)

static const tm_case tm_cases[] = {
    /* ISO and year-first */
    {"2024-01-15", U, CP_TEMPORAL_DATE, BOTH, 2024, 1, 15, 0},
    {"2024/01/15", U, CP_TEMPORAL_DATE, BOTH, 2024, 1, 15, 0},
    {"2024.01.15", U, CP_TEMPORAL_DATE, BOTH, 2024, 1, 15, 0},
    {"2024-1-5", U, CP_TEMPORAL_DATE, BOTH, 2024, 1, 5, 0},
    {"2024-01-15", DMY, CP_TEMPORAL_DATE, BOTH, 2024, 1, 15, 0},
    {"2024-01-15", MDY, CP_TEMPORAL_DATE, BOTH, 2024, 1, 15, 0},
    {"0001-01-01", U, CP_TEMPORAL_DATE, BOTH, 1, 1, 1, 0},
    {"9999-12-31", U, CP_TEMPORAL_DATE, BOTH, 9999, 12, 31, 0},
    /* day-first and month-first, with / - . */
    {"15/01/2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_DMY, 2024, 1, 15, 0},
    {"15-01-2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_DMY, 2024, 1, 15, 0},
    {"15.01.2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_DMY, 2024, 1, 15, 0},
    {"15/01/2024", DMY, CP_TEMPORAL_DATE, CP_ORDER_OK_DMY, 2024, 1, 15, 0},
    {"15/01/2024", MDY, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"01/15/2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_MDY, 2024, 1, 15, 0},
    {"1/15/2024", MDY, CP_TEMPORAL_DATE, CP_ORDER_OK_MDY, 2024, 1, 15, 0},
    {"01-15-2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_MDY, 2024, 1, 15, 0},
    {"01/15/2024", DMY, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* ambiguous: both bits; unknown order prefers day-first */
    {"05/06/2024", U, CP_TEMPORAL_DATE, BOTH, 2024, 6, 5, 0},
    {"05/06/2024", DMY, CP_TEMPORAL_DATE, BOTH, 2024, 6, 5, 0},
    {"05/06/2024", MDY, CP_TEMPORAL_DATE, BOTH, 2024, 5, 6, 0},
    {"5.6.2024", MDY, CP_TEMPORAL_DATE, BOTH, 2024, 5, 6, 0},
    {"12/12/2024", U, CP_TEMPORAL_DATE, BOTH, 2024, 12, 12, 0},
    /* February 29 */
    {"2024-02-29", U, CP_TEMPORAL_DATE, BOTH, 2024, 2, 29, 0},
    {"2000-02-29", U, CP_TEMPORAL_DATE, BOTH, 2000, 2, 29, 0},
    {"29/02/2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_DMY, 2024, 2, 29, 0},
    {"02/29/2024", U, CP_TEMPORAL_DATE, CP_ORDER_OK_MDY, 2024, 2, 29, 0},
    {"2023-02-29", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"1900-02-29", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"29/02/2023", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* invalid dates */
    {"2024-13-01", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-00-10", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-32", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-04-31", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"0000-01-01", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* the fixed-width yyyy-mm-dd hh:mm:ss path and its neighbours */
    {"2024-01-15 23:59:59", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, 86399 * 1000000LL},
    {"2024-01-15T00:00:00", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, 0},
    {"2024-01-15 24:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 12:60:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 12:00:60", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 1a:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15x12:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-1512:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-02-30 12:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 12:00:00Z", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, 43200 * 1000000LL},
    {"2024-01-15 12:00:00.5", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, 43200500000LL},
    {"2024-0a-15", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* the fixed-width day-first and month-first paths */
    {"31/12/2024 23:59:59", U, CP_TEMPORAL_TIMESTAMP, CP_ORDER_OK_DMY, 2024, 12, 31,
     86399 * 1000000LL},
    {"12/31/2024 00:00:01", U, CP_TEMPORAL_TIMESTAMP, CP_ORDER_OK_MDY, 2024, 12, 31, 1000000LL},
    {"05/06/2024 10:00:00", MDY, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 5, 6, 36000 * 1000000LL},
    {"05/06/2024 10:00:00", DMY, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 6, 5, 36000 * 1000000LL},
    {"15.01.2024T12:00:00", U, CP_TEMPORAL_TIMESTAMP, CP_ORDER_OK_DMY, 2024, 1, 15,
     43200 * 1000000LL},
    {"13/13/2024", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"15/01-2024", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"15/01/2024 24:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"15/01/20a4", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"01/15/2024 12:00:00", DMY, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"13/13/2024", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01/15", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-150", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"15/01/24", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"15/01/20245", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"20240115", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"124-01-15", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"12.50", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"1.5", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 ", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {" 2024-01-15", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* times */
    {"2024-01-15T10:30", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(10, 30, 0)},
    {"2024-01-15 10:30:45", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(10, 30, 45)},
    {"2024-01-15 9:05", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(9, 5, 0)},
    {"2024-01-15T00:00:00", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, 0},
    {"2024-01-15T23:59:59", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(23, 59, 59)},
    {"2024-01-15T10:30:45.5", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15,
     HMS(10, 30, 45) + 500000},
    {"2024-01-15T10:30:45.123456", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15,
     HMS(10, 30, 45) + 123456},
    {"2024-01-15T10:30:45.000001", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15,
     HMS(10, 30, 45) + 1},
    {"2024-01-15 10:30:45,25", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15,
     HMS(10, 30, 45) + 250000},
    {"2024-01-15T10:30:45.1234567", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:45.", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"15/01/2024 10:30:00", U, CP_TEMPORAL_TIMESTAMP, CP_ORDER_OK_DMY, 2024, 1, 15, HMS(10, 30, 0)},
    {"01/15/2024 10:30:00", MDY, CP_TEMPORAL_TIMESTAMP, CP_ORDER_OK_MDY, 2024, 1, 15,
     HMS(10, 30, 0)},
    /* 12-hour clock */
    {"15/01/2024 10:30 PM", U, CP_TEMPORAL_TIMESTAMP, CP_ORDER_OK_DMY, 2024, 1, 15, HMS(22, 30, 0)},
    {"2024-01-15 10:30pm", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(22, 30, 0)},
    {"2024-01-15 10:30:15 AM", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(10, 30, 15)},
    {"2024-01-15 12:00 AM", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, 0},
    {"2024-01-15 12:00 PM", U, CP_TEMPORAL_TIMESTAMP, BOTH, 2024, 1, 15, HMS(12, 0, 0)},
    {"2024-01-15 13:00 PM", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 0:30 AM", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15 10:30 PMX", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* invalid times */
    {"2024-01-15T24:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T24:00:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:60", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:60", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T1030", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:3", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15X10:30", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    /* offsets: TIMESTAMPTZ in UTC */
    {"2024-01-15T10:30:00Z", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(10, 30, 0)},
    {"2024-01-15T10:30:00+02:00", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(8, 30, 0)},
    {"2024-01-15T10:30:00-0530", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(16, 0, 0)},
    {"2024-01-15T10:30:00+05", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(5, 30, 0)},
    {"2024-01-15 10:30:00 +01:00", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(9, 30, 0)},
    {"2024-01-15T10:30:00.25Z", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15,
     HMS(10, 30, 0) + 250000},
    {"2024-01-15 10:30 PM +02:00", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(20, 30, 0)},
    /* crossing midnight into the previous day */
    {"2024-01-15T01:00:00+02:00", U, CP_TEMPORAL_TIMESTAMPTZ, BOTH, 2024, 1, 15, HMS(-1, 0, 0)},
    {"15/01/2024 10:30:00Z", U, CP_TEMPORAL_TIMESTAMPTZ, CP_ORDER_OK_DMY, 2024, 1, 15,
     HMS(10, 30, 0)},
    {"2024-01-15T10:30:00+25:00", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00+05:60", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00+5", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00+05:", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00+05:3", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00+053", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00ZZ", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00 X", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
    {"2024-01-15T10:30:00 ", U, CP_TEMPORAL_NONE, 0, 0, 0, 0, 0},
};

static void test_parse_temporal_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof tm_cases / sizeof tm_cases[0]; i++) {
        const tm_case *c = &tm_cases[i];
        cp_temporal t;
        cp_temporal_kind k = cp_parse_temporal(c->s, strlen(c->s), c->order, &t);
        if (k != c->kind)
            fail_msg("\"%s\" (order %d): kind %d, expected %d", c->s, c->order, k, c->kind);
        assert_int_equal(t.kind, k);
        if (k == CP_TEMPORAL_NONE)
            continue;
        int32_t days = cp_days_from_civil(c->y, (unsigned)c->m, (unsigned)c->d);
        if (t.orders != c->orders)
            fail_msg("\"%s\": orders %u, expected %u", c->s, t.orders, c->orders);
        if (k == CP_TEMPORAL_DATE && (t.days != days || t.micros != days * DAY_US))
            fail_msg("\"%s\": days %d, expected %d", c->s, t.days, days);
        if (k != CP_TEMPORAL_DATE && t.micros != days * DAY_US + c->tod_us)
            fail_msg("\"%s\": micros %lld, expected %lld", c->s, (long long)t.micros,
                     (long long)(days * DAY_US + c->tod_us));
    }
}

/* ---- text forms ---- */

static void test_format_int_decimal(void **state)
{
    (void)state;
    char out[48];
    assert_int_equal(cp_format_int64(0, out), 1);
    assert_string_equal(out, "0");
    cp_format_int64(INT64_MIN, out);
    assert_string_equal(out, "-9223372036854775808");
    cp_format_int64(INT64_MAX, out);
    assert_string_equal(out, "9223372036854775807");

    assert_int_equal(cp_format_decimal(12345, 2, out), 6);
    assert_string_equal(out, "123.45");
    cp_format_decimal(-5, 2, out);
    assert_string_equal(out, "-0.05");
    cp_format_decimal(0, 2, out);
    assert_string_equal(out, "0.00");
    cp_format_decimal(0, 0, out);
    assert_string_equal(out, "0");
    cp_format_decimal(-12345, 0, out);
    assert_string_equal(out, "-12345");
    cp_format_decimal(5, 3, out);
    assert_string_equal(out, "0.005");
    cp_format_decimal(-100, 2, out);
    assert_string_equal(out, "-1.00");
    cp_format_decimal(1990, 2, out);
    assert_string_equal(out, "19.90");
    cp_i128 max38 = 1;
    for (int i = 0; i < 38; i++)
        max38 *= 10;
    max38 -= 1;
    size_t n = cp_format_decimal(-max38, 38, out);
    assert_int_equal(n, 41);
    assert_int_equal(strncmp(out, "-0.9999", 7), 0);
    n = cp_format_decimal(max38, 0, out);
    assert_int_equal(n, 38);
    /* the most negative 128-bit value does not overflow */
    cp_i128 minv = -(cp_i128)(((unsigned __int128)1 << 127) - 1) - 1;
    n = cp_format_decimal(minv, 0, out);
    assert_string_equal(out, "-170141183460469231731687303715884105728");
    /* what the scanner reads, the formatter writes back */
    const char *vals[] = {"0.5", "-0.05", "19.90", "123456789012345678.123", "-7", "0.000"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        cp_num num;
        assert_int_not_equal(cp_scan_number(vals[i], strlen(vals[i]), &POINT, &num), CP_NUM_NONE);
        cp_format_decimal(num.unscaled, num.scale, out);
        assert_string_equal(out, vals[i]);
    }
}

static void test_format_date_timestamp(void **state)
{
    (void)state;
    char out[40];
    assert_int_equal(cp_format_date(0, out), 10);
    assert_string_equal(out, "1970-01-01");
    cp_format_date(-1, out);
    assert_string_equal(out, "1969-12-31");
    cp_format_date(19737, out);
    assert_string_equal(out, "2024-01-15");
    cp_format_date(-719162, out);
    assert_string_equal(out, "0001-01-01");
    cp_format_date(2932896, out);
    assert_string_equal(out, "9999-12-31");

    assert_int_equal(cp_format_timestamp(0, false, out), 19);
    assert_string_equal(out, "1970-01-01T00:00:00");
    cp_format_timestamp(0, true, out);
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    cp_format_timestamp(1, false, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000001");
    cp_format_timestamp(-1, false, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999999");
    cp_format_timestamp(-DAY_US, true, out);
    assert_string_equal(out, "1969-12-31T00:00:00Z");
    cp_format_timestamp(-DAY_US - 1500000, false, out);
    assert_string_equal(out, "1969-12-30T23:59:58.500000");
    int64_t ts = 19737 * DAY_US + HMS(10, 30, 45) + 500000;
    cp_format_timestamp(ts, false, out);
    assert_string_equal(out, "2024-01-15T10:30:45.500000");
    cp_format_timestamp(19737 * DAY_US + HMS(10, 30, 45), true, out);
    assert_string_equal(out, "2024-01-15T10:30:45Z");
    /* the extremes of the date range, with a fraction and a Z: within the 40 bytes */
    int64_t last = (int64_t)2932896 * DAY_US + HMS(23, 59, 59) + 999999;
    assert_int_equal(cp_format_timestamp(last, true, out), 27);
    assert_string_equal(out, "9999-12-31T23:59:59.999999Z");
    cp_format_timestamp((int64_t)-719162 * DAY_US, false, out);
    assert_string_equal(out, "0001-01-01T00:00:00");

    /* parse -> format -> parse */
    const char *vals[] = {"2024-01-15T10:30:45.123456", "1969-07-20T20:17:40",
                          "1900-03-01T00:00:00.000001"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        cp_temporal t;
        assert_int_equal(cp_parse_temporal(vals[i], strlen(vals[i]), U, &t), CP_TEMPORAL_TIMESTAMP);
        cp_format_timestamp(t.micros, false, out);
        assert_string_equal(out, vals[i]);
    }
    cp_temporal t;
    assert_int_equal(cp_parse_temporal("2024-01-01T01:00:00+02:00", 25, U, &t),
                     CP_TEMPORAL_TIMESTAMPTZ);
    cp_format_timestamp(t.micros, true, out);
    assert_string_equal(out, "2023-12-31T23:00:00Z");
}

/* ---- text forms against independent references ---- */

static void check_int64(int64_t v)
{
    char out[24], want[32];
    memset(out, 'x', sizeof out);
    snprintf(want, sizeof want, "%lld", (long long)v);
    size_t n = cp_format_int64(v, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("cp_format_int64(%s) gave %.*s", want, (int)n, out);
}

static void check_uint64(uint64_t v)
{
    char out[24], want[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    size_t n = cp_format_uint64(v, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("cp_format_uint64(%s) gave %.*s", want, (int)n, out);
}

/* Every power of ten and its neighbours (digit counts change there), extremes, random. */
static void test_format_int64_reference(void **state)
{
    (void)state;
    uint64_t p = 1;
    for (int k = 0; k <= 19; k++) {
        for (int d = -2; d <= 2; d++) {
            uint64_t u = p + (uint64_t)(int64_t)d;
            check_uint64(u);
            check_int64((int64_t)u);
            check_int64(-(int64_t)u);
        }
        if (k < 19)
            p *= 10;
    }
    check_int64(INT64_MIN);
    check_int64(INT64_MIN + 1);
    check_int64(INT64_MAX);
    check_uint64(UINT64_MAX);
    check_uint64((uint64_t)UINT32_MAX);
    check_uint64((uint64_t)UINT32_MAX + 1);
    for (int64_t v = -100000; v <= 100000; v++)
        check_int64(v);
    for (int i = 0; i < 1000000; i++) {
        uint64_t r = rng() >> (rng() % 64);
        check_int64((int64_t)r);
        check_int64(-(int64_t)(r >> 1));
        check_uint64(r);
    }
}

/* The plain reference: digit by digit in 128 bits, the point inserted by position. */
static void reference_decimal(cp_i128 v, unsigned scale, char *out)
{
    char digits[48];
    size_t n = 0;
    unsigned __int128 u =
        v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n <= scale)
        digits[n++] = '0';
    size_t o = 0;
    if (v < 0)
        out[o++] = '-';
    for (size_t i = n; i-- > 0;) {
        out[o++] = digits[i];
        if (i == scale && scale > 0)
            out[o++] = '.';
    }
    out[o] = '\0';
}

static void check_decimal(cp_i128 v, unsigned scale)
{
    char out[48], want[48];
    reference_decimal(v, scale, want);
    size_t n = cp_format_decimal(v, scale, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("cp_format_decimal(%s, scale %u) gave %s", want, scale, out);
}

/* Every scale 0..38, values around 2^64 (the 64-bit fast path ends there) and 10^k. */
static void test_format_decimal_every_scale(void **state)
{
    (void)state;
    const cp_i128 max = (cp_i128)(((unsigned __int128)1 << 127) - 1);
    for (unsigned scale = 0; scale <= CP_DECIMAL_MAX_PRECISION; scale++) {
        const cp_i128 fixed[] = {0,
                                 1,
                                 -1,
                                 7,
                                 -7,
                                 (cp_i128)UINT64_MAX,
                                 (cp_i128)UINT64_MAX + 1,
                                 (cp_i128)UINT64_MAX - 1,
                                 -(cp_i128)UINT64_MAX,
                                 -(cp_i128)UINT64_MAX - 1,
                                 (cp_i128)INT64_MIN,
                                 (cp_i128)INT64_MAX,
                                 (cp_i128)UINT32_MAX + 1,
                                 max,
                                 -max,
                                 -max - 1};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            check_decimal(fixed[i], scale);
        cp_i128 p = 1;
        for (int k = 0; k <= 38; k++) {
            for (int d = -1; d <= 1; d++) {
                check_decimal(p + d, scale);
                check_decimal(-p + d, scale);
            }
            if (k < 38)
                p *= 10;
        }
        for (int i = 0; i < 20000; i++) {
            cp_i128 v = (cp_i128)(((unsigned __int128)rng() << 64) | rng());
            check_decimal(v >> (rng() % 127), scale);
            check_decimal((cp_i128)(int64_t)rng() >> (rng() % 64), scale);
        }
    }
}

/* The reference: cp_civil_from_days and snprintf. */
static void reference_date(int32_t days, char *out)
{
    int64_t y;
    unsigned m, d;
    cp_civil_from_days(days, &y, &m, &d);
    snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d);
}

static void check_date(int32_t days)
{
    char out[16], want[16];
    reference_date(days, want);
    size_t n = cp_format_date(days, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("cp_format_date(%d) gave %s, not %s", days, out, want);
}

/* Every day of the years -1..10000 (the fast form covers 0000-03-01..9999-12-31), then the
 * whole int32 range by samples. */
static void test_format_date_every_day(void **state)
{
    (void)state;
    int32_t lo = cp_days_from_civil(-1, 1, 1), hi = cp_days_from_civil(10001, 1, 1);
    for (int32_t days = lo; days <= hi; days++)
        check_date(days);
    check_date(INT32_MIN);
    check_date(INT32_MAX);
    for (int i = 0; i < 200000; i++)
        check_date((int32_t)(uint32_t)rng());
}

static void check_timestamp(int64_t micros, bool utc)
{
    char out[40], want[64], date[16];
    int64_t days = micros / DAY_US, rem = micros % DAY_US;
    if (rem < 0)
        rem += DAY_US, days--;
    reference_date((int32_t)days, date);
    long long secs = rem / USEC, frac = rem % USEC;
    if (frac)
        snprintf(want, sizeof want, "%sT%02lld:%02lld:%02lld.%06lld%s", date, secs / 3600,
                 secs / 60 % 60, secs % 60, frac, utc ? "Z" : "");
    else
        snprintf(want, sizeof want, "%sT%02lld:%02lld:%02lld%s", date, secs / 3600, secs / 60 % 60,
                 secs % 60, utc ? "Z" : "");
    size_t n = cp_format_timestamp(micros, utc, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("cp_format_timestamp(%lld) gave %s, not %s", (long long)micros, out, want);
}

static void test_format_timestamp_reference(void **state)
{
    (void)state;
    const int64_t first = (int64_t)cp_days_from_civil(1, 1, 1) * DAY_US;
    const int64_t last = (int64_t)cp_days_from_civil(9999, 12, 31) * DAY_US + DAY_US - 1;
    const int64_t fixed[] = {0,           1,     -1,        USEC, -USEC,    DAY_US - 1, -DAY_US,
                             -DAY_US + 1, first, first - 1, last, last + 1, 999999,     1000001};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        check_timestamp(fixed[i], false);
        check_timestamp(fixed[i], true);
    }
    for (int i = 0; i < 500000; i++) {
        int64_t range = last - first + 1;
        int64_t v = first + (int64_t)(rng() % (uint64_t)range);
        if (i & 1)
            v -= v % USEC; /* whole seconds: no fraction */
        check_timestamp(v, i & 2);
    }
    /* dates outside 0001..9999 take the slower path */
    for (int i = 0; i < 20000; i++) {
        int64_t v = (int64_t)(rng() % 200000000) - 100000000; /* days; micros stay in int64 */
        check_timestamp(v * DAY_US + (int64_t)(rng() % (uint64_t)DAY_US), i & 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_number_table),
        cmocka_unit_test(test_scan_money),
        cmocka_unit_test(test_decimal_evidence),
        cmocka_unit_test(test_scan_number_precision),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_parse_decimal),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_double_round_trip),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_civil_known),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_parse_temporal_table),
        cmocka_unit_test(test_format_int_decimal),
        cmocka_unit_test(test_format_date_timestamp),
        cmocka_unit_test(test_format_int64_reference),
        cmocka_unit_test(test_format_decimal_every_scale),
        cmocka_unit_test(test_format_date_every_day),
        cmocka_unit_test(test_format_timestamp_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
