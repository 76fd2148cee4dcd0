/* Unit tests for util/status: the status list, error details and value quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/status.h"

#include <string.h>

static void test_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(cp_status_name(CP_OK), "OK");
    assert_string_equal(cp_status_name(CP_TYPE_MISMATCH), "TYPE_MISMATCH");
    assert_string_equal(cp_status_name(CP_INTERRUPTED), "INTERRUPTED");
    assert_string_equal(cp_status_message(CP_NOMEM), "out of memory");
    assert_string_equal(cp_status_message(CP_UNTERMINATED_QUOTE), "a quoted field is never closed");
    /* an unknown number still gives a string */
    assert_string_equal(cp_status_name((cp_status)999), "UNKNOWN");
    assert_string_equal(cp_status_message((cp_status)999), "unknown status");
}

static void test_fixed_numbers(void **state)
{
    (void)state;
    /* the numbers appear in logs and the ledger: they must never move */
    assert_int_equal(CP_OK, 0);
    assert_int_equal(CP_NOMEM, 1);
    assert_int_equal(CP_TOO_LARGE, 2);
    assert_int_equal(CP_BAD_ENCODING, 5);
    assert_int_equal(CP_FIELD_TOO_LONG, 8);
    assert_int_equal(CP_TYPE_MISMATCH, 11);
    assert_int_equal(CP_EMPTY, 12);
    assert_int_equal(CP_BINARY, 13);
    assert_int_equal(CP_INTERRUPTED, 19);
    assert_int_equal(CP_BAD_SCHEMA, 20);
    /* every code between has a name of its own */
    for (int i = 0; i <= CP_BAD_SCHEMA; i++) {
        assert_string_not_equal(cp_status_name((cp_status)i), "UNKNOWN");
        for (int k = 0; k < i; k++)
            assert_string_not_equal(cp_status_name((cp_status)i), cp_status_name((cp_status)k));
    }
}

static void test_error_set_and_prefix(void **state)
{
    (void)state;
    cp_error e;
    cp_error_clear(&e);
    assert_int_equal(e.code, CP_OK);
    assert_int_equal(e.line, 0);
    assert_string_equal(e.message, "");
    assert_int_equal(cp_error_set(&e, CP_BAD_QUOTE, "line %d, column %d", 3, 4), CP_BAD_QUOTE);
    assert_int_equal(e.code, CP_BAD_QUOTE);
    assert_string_equal(e.message, "line 3, column 4");
    cp_error_prefix(&e, "%s", "sales.csv");
    assert_string_equal(e.message, "sales.csv: line 3, column 4");

    /* NULL is allowed everywhere */
    assert_int_equal(cp_error_set(NULL, CP_IO, "x"), CP_IO);
    cp_error_clear(NULL);
    cp_error_prefix(NULL, "x");
}

static void test_prefix_truncates(void **state)
{
    (void)state;
    cp_error e;
    cp_error_clear(&e);
    char big[2000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cp_error_set(&e, CP_IO, "%s", big);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
    cp_error_prefix(&e, "%s", "file.csv");
    assert_int_equal(strncmp(e.message, "file.csv: mmm", 13), 0);
    assert_true(strlen(e.message) < sizeof e.message);

    /* a prefix longer than the message room */
    cp_error_set(&e, CP_IO, "short");
    cp_error_prefix(&e, "%.*s", 600, big);
    assert_true(strlen(e.message) < sizeof e.message);
    assert_int_equal(e.message[0], 'm');
}

static void test_quote_value(void **state)
{
    (void)state;
    char out[64];
    cp_error_quote_value(out, sizeof out, "plain", 5);
    assert_string_equal(out, "plain");
    cp_error_quote_value(out, sizeof out, "a\tb\nc\rd\x01\x7f", 9);
    assert_string_equal(out, "a\\tb\\nc\\rd\\x01\\x7f");
    /* not NUL-terminated input: only len bytes are read */
    cp_error_quote_value(out, sizeof out, "abcdef", 3);
    assert_string_equal(out, "abc");
    /* long values are cut with "..." and stay within cap */
    char longv[200];
    memset(longv, 'x', sizeof longv);
    cp_error_quote_value(out, 20, longv, sizeof longv);
    assert_true(strlen(out) < 20);
    assert_int_equal(strcmp(out + strlen(out) - 3, "..."), 0);
    assert_int_equal(out[0], 'x');
    /* an escape is never split */
    char ctl[40];
    memset(ctl, 1, sizeof ctl);
    cp_error_quote_value(out, 16, ctl, sizeof ctl);
    assert_string_equal(out, "\\x01\\x01...");
    /* tiny caps */
    cp_error_quote_value(out, 1, "abc", 3);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_messages),   cmocka_unit_test(test_fixed_numbers),
        cmocka_unit_test(test_error_set_and_prefix), cmocka_unit_test(test_prefix_truncates),
        cmocka_unit_test(test_quote_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
