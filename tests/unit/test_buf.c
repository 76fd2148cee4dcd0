/* Unit tests for util/buf: bounded growth, NUL termination, detach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

static void test_empty(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    cp_buf_reset(&b); /* no memory yet: must not crash */
    cp_buf_release(&b);
    cp_buf_release(&b); /* twice is fine */
}

static void test_append_and_nul(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&b, "abc"), CP_OK);
    assert_int_equal(cp_buf_append_char(&b, '-'), CP_OK);
    assert_int_equal(cp_buf_append(&b, "xyz", 2), CP_OK);
    assert_int_equal(cp_buf_printf(&b, "%d/%s", 42, "q"), CP_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "abc-xy42/q");
    assert_int_equal(b.data[b.len], '\0');
    /* appending nothing keeps a valid string */
    assert_int_equal(cp_buf_append(&b, NULL, 0), CP_OK);
    assert_string_equal(b.data, "abc-xy42/q");
    cp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    cp_buf_release(&b);
}

static void test_growth(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    char expect[100000];
    for (size_t i = 0; i < sizeof expect; i++) {
        expect[i] = (char)('a' + i % 26);
        assert_int_equal(cp_buf_append_char(&b, expect[i]), CP_OK);
        assert_true(b.cap > b.len); /* room for the NUL */
    }
    assert_int_equal(b.len, sizeof expect);
    assert_memory_equal(b.data, expect, sizeof expect);
    assert_int_equal(b.data[b.len], '\0');
    /* geometric: far fewer capacities than appends */
    assert_true(b.cap < 2 * sizeof expect + 64);
    cp_buf_release(&b);
}

static void test_max_limit(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 10);
    assert_int_equal(cp_buf_append(&b, "0123456789", 10), CP_OK); /* exactly max */
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11); /* never allocates more than max + NUL */
    assert_int_equal(cp_buf_append_char(&b, 'x'), CP_TOO_LARGE);
    assert_int_equal(b.len, 10); /* unchanged */
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(cp_buf_printf(&b, "%d", 1), CP_TOO_LARGE);
    assert_int_equal(cp_buf_reserve(&b, 1), CP_TOO_LARGE);
    assert_int_equal(cp_buf_reserve(&b, 0), CP_OK);
    assert_int_equal(cp_buf_reserve(&b, SIZE_MAX), CP_TOO_LARGE);
    cp_buf_reset(&b);
    assert_int_equal(cp_buf_append(&b, "0123456789", 10), CP_OK);
    cp_buf_release(&b);

    cp_buf_init(&b, 5);
    assert_int_equal(cp_buf_append(&b, "0123456789", 10), CP_TOO_LARGE);
    assert_int_equal(b.len, 0);
    assert_int_equal(cp_buf_printf(&b, "%s", "toolong"), CP_TOO_LARGE);
    assert_int_equal(cp_buf_printf(&b, "%s", "ok"), CP_OK);
    assert_string_equal(b.data, "ok");
    /* release keeps max: still bounded afterwards */
    cp_buf_release(&b);
    assert_int_equal(cp_buf_append(&b, "0123456789", 10), CP_TOO_LARGE);
    cp_buf_release(&b);

    cp_buf_init(&b, 0);
    assert_int_equal(cp_buf_append(&b, "", 0), CP_OK);
    assert_int_equal(cp_buf_append_char(&b, 'a'), CP_TOO_LARGE);
    cp_buf_release(&b);
}

static void test_detach(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1000);
    assert_int_equal(cp_buf_append_str(&b, "hello"), CP_OK);
    size_t len = 0;
    char *p = cp_buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 5);
    assert_string_equal(p, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* the buffer is reusable, and independent of the detached memory */
    assert_int_equal(cp_buf_append_str(&b, "again"), CP_OK);
    assert_string_equal(p, "hello");
    free(p);
    cp_buf_release(&b);

    /* an empty buffer detaches to "" (never NULL), len optional */
    cp_buf_init(&b, 10);
    p = cp_buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_string_equal(p, "");
    free(p);
    p = cp_buf_detach(&b, NULL);
    assert_non_null(p);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),  cmocka_unit_test(test_append_and_nul),
        cmocka_unit_test(test_growth), cmocka_unit_test(test_max_limit),
        cmocka_unit_test(test_detach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
