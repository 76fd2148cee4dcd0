/* Unit tests for table/types: the lattice, fits, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "table/types.h"

#include <string.h>

static const char *name(cp_type t, char *buf)
{
    return cp_type_format(t, buf, 24);
}

static cp_type T(const char *s)
{
    cp_type t;
    if (!cp_type_parse(s, &t))
        fail_msg("cannot parse type %s", s);
    return t;
}

static void test_join_table(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b, *join;
    } cases[] = {
        {"NULL", "NULL", "NULL"},
        {"NULL", "BOOLEAN", "BOOLEAN"},
        {"NULL", "DECIMAL(18,2)", "DECIMAL(18,2)"},
        {"NULL", "TIMESTAMPTZ", "TIMESTAMPTZ"},
        {"NULL", "STRING", "STRING"},
        {"BOOLEAN", "BOOLEAN", "BOOLEAN"},
        {"BOOLEAN", "INT64", "STRING"},
        {"BOOLEAN", "DATE", "STRING"},
        {"INT64", "INT64", "INT64"},
        {"INT64", "DECIMAL(18,2)", "DECIMAL(21,2)"},
        {"INT64", "DECIMAL(30,2)", "DECIMAL(30,2)"},
        {"INT64", "DOUBLE", "DOUBLE"},
        {"INT64", "DATE", "STRING"},
        {"INT64", "TIMESTAMP", "STRING"},
        {"DECIMAL(18,2)", "DECIMAL(18,2)", "DECIMAL(18,2)"},
        {"DECIMAL(18,2)", "DECIMAL(20,5)", "DECIMAL(21,5)"},
        {"DECIMAL(10,0)", "DECIMAL(5,5)", "DECIMAL(15,5)"},
        {"DECIMAL(38,0)", "DECIMAL(10,5)", "DOUBLE"},
        {"DECIMAL(38,38)", "INT64", "DOUBLE"},
        {"DECIMAL(18,2)", "DOUBLE", "DOUBLE"},
        {"DECIMAL(18,2)", "STRING", "STRING"},
        {"DOUBLE", "DOUBLE", "DOUBLE"},
        {"DOUBLE", "BOOLEAN", "STRING"},
        {"DATE", "DATE", "DATE"},
        {"DATE", "TIMESTAMP", "TIMESTAMP"},
        {"DATE", "TIMESTAMPTZ", "STRING"},
        {"TIMESTAMP", "TIMESTAMPTZ", "STRING"},
        {"TIMESTAMPTZ", "TIMESTAMPTZ", "TIMESTAMPTZ"},
        {"TIMESTAMP", "DOUBLE", "STRING"},
        {"STRING", "STRING", "STRING"},
    };
    char b1[24], b2[24];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cp_type a = T(cases[i].a), b = T(cases[i].b), want = T(cases[i].join);
        cp_type j1 = cp_type_join(a, b), j2 = cp_type_join(b, a);
        if (!cp_type_equal(j1, want) || !cp_type_equal(j2, want))
            fail_msg("%s + %s = %s / %s, expected %s", cases[i].a, cases[i].b, name(j1, b1),
                     name(j2, b2), cases[i].join);
    }
}

static const char *const all[] = {"NULL",          "BOOLEAN",      "INT64",         "DECIMAL(18,2)",
                                  "DECIMAL(38,0)", "DECIMAL(5,5)", "DECIMAL(19,0)", "DOUBLE",
                                  "DATE",          "TIMESTAMP",    "TIMESTAMPTZ",   "STRING"};
#define NALL (sizeof all / sizeof all[0])

static void test_lattice_laws(void **state)
{
    (void)state;
    char b1[24], b2[24];
    for (size_t i = 0; i < NALL; i++) {
        cp_type a = T(all[i]);
        assert_true(cp_type_equal(cp_type_join(a, a), a)); /* idempotent */
        assert_true(cp_type_fits(a, a));
        assert_true(cp_type_fits(a, T("STRING")));
        assert_true(cp_type_fits(T("NULL"), a));
        for (size_t k = 0; k < NALL; k++) {
            cp_type b = T(all[k]);
            cp_type j = cp_type_join(a, b);
            assert_true(cp_type_equal(j, cp_type_join(b, a))); /* commutative */
            assert_true(cp_type_fits(a, j));                   /* an upper bound */
            assert_true(cp_type_fits(b, j));
            for (size_t m = 0; m < NALL; m++) {
                cp_type c = T(all[m]);
                cp_type l = cp_type_join(cp_type_join(a, b), c);
                cp_type r = cp_type_join(a, cp_type_join(b, c));
                if (!cp_type_equal(l, r))
                    fail_msg("(%s+%s)+%s = %s but %s+(%s+%s) = %s", all[i], all[k], all[m],
                             name(l, b1), all[i], all[k], all[m], name(r, b2));
            }
        }
    }
}

static void test_fits(void **state)
{
    (void)state;
    assert_true(cp_type_fits(T("INT64"), T("DECIMAL(19,0)")));
    assert_false(cp_type_fits(T("INT64"), T("DECIMAL(18,0)"))); /* 19-digit values */
    assert_true(cp_type_fits(T("INT64"), T("DOUBLE")));
    assert_true(cp_type_fits(T("DECIMAL(10,2)"), T("DECIMAL(12,3)")));
    assert_false(cp_type_fits(T("DECIMAL(10,2)"), T("DECIMAL(12,1)")));
    assert_false(cp_type_fits(T("DECIMAL(10,2)"), T("DECIMAL(10,3)")));
    assert_true(cp_type_fits(T("DATE"), T("TIMESTAMP")));
    assert_false(cp_type_fits(T("TIMESTAMP"), T("DATE")));
    assert_false(cp_type_fits(T("DATE"), T("TIMESTAMPTZ")));
    assert_false(cp_type_fits(T("BOOLEAN"), T("INT64")));
    assert_false(cp_type_fits(T("STRING"), T("DOUBLE")));
    assert_false(cp_type_fits(T("DOUBLE"), T("DECIMAL(38,10)")));
}

static void test_format_parse(void **state)
{
    (void)state;
    char buf[24];
    for (size_t i = 0; i < NALL; i++) {
        cp_type t = T(all[i]);
        assert_string_equal(cp_type_format(t, buf, sizeof buf), all[i]);
    }
    for (unsigned p = 1; p <= 38; p++) {
        for (unsigned s = 0; s <= p; s++) {
            cp_type t = cp_type_decimal(p, s), back;
            cp_type_format(t, buf, sizeof buf);
            assert_true(cp_type_parse(buf, &back));
            assert_true(cp_type_equal(t, back));
        }
    }
    assert_string_equal(cp_type_format(cp_type_decimal(38, 38), buf, sizeof buf), "DECIMAL(38,38)");
    static const char *const bad[] = {"",
                                      "int64",
                                      "INT",
                                      "STRING ",
                                      "DECIMAL",
                                      "DECIMAL(0,0)",
                                      "DECIMAL(39,0)",
                                      "DECIMAL(5,6)",
                                      "DECIMAL(5,2",
                                      "DECIMAL(5,2)x",
                                      "DECIMAL(5,2))",
                                      "DECIMAL(-1,0)",
                                      "DECIMAL(5)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cp_type t;
        if (cp_type_parse(bad[i], &t))
            fail_msg("\"%s\" parses as a type", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_table),
        cmocka_unit_test(test_lattice_laws),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_format_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
