/* Unit tests for util/arena: alignment, big allocations, reset and reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/arena.h"

#include <stdio.h>
#include <string.h>

static void test_alloc_aligned_distinct(void **state)
{
    (void)state;
    cp_arena a;
    cp_arena_init(&a, 256);
    assert_null(a.head); /* allocates nothing until used */
    unsigned char *prev = NULL;
    for (size_t i = 0; i < 200; i++) {
        size_t sz = 1 + i % 37;
        unsigned char *p = cp_arena_alloc(&a, sz);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, (int)(i & 0xff), sz); /* ASan catches overruns */
        if (prev)
            assert_ptr_not_equal(p, prev);
        prev = p;
    }
    assert_true(a.used >= 200 * 16);
    /* size 0 still gives a usable, distinct pointer */
    void *z1 = cp_arena_alloc(&a, 0), *z2 = cp_arena_alloc(&a, 0);
    assert_non_null(z1);
    assert_ptr_not_equal(z1, z2);
    cp_arena_release(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
}

static void test_values_survive(void **state)
{
    (void)state;
    cp_arena a;
    cp_arena_init(&a, 64);
    char *s[100];
    for (int i = 0; i < 100; i++) {
        char tmp[32];
        int n = snprintf(tmp, sizeof tmp, "value-%d", i);
        s[i] = cp_arena_strndup(&a, tmp, (size_t)n);
        assert_non_null(s[i]);
    }
    /* an allocation bigger than the block size, between small ones */
    unsigned char *big = cp_arena_alloc(&a, 10000);
    assert_non_null(big);
    memset(big, 0xAB, 10000);
    char *after = cp_arena_strndup(&a, "after", 5);
    for (int i = 0; i < 100; i++) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "value-%d", i);
        assert_string_equal(s[i], tmp);
    }
    assert_string_equal(after, "after");
    for (int i = 0; i < 10000; i++)
        assert_int_equal(big[i], 0xAB);
    /* strndup copies only len bytes and terminates */
    assert_string_equal(cp_arena_strndup(&a, "abcdef", 3), "abc");
    cp_arena_release(&a);
}

static void test_reset_reuses(void **state)
{
    (void)state;
    cp_arena a;
    cp_arena_init(&a, 0); /* 0 = 64 KiB */
    assert_int_equal(a.block_size, 64 * 1024);
    void *first = cp_arena_alloc(&a, 100);
    for (int i = 0; i < 3000; i++) /* several blocks */
        assert_non_null(cp_arena_alloc(&a, 100));
    assert_non_null(cp_arena_alloc(&a, 1 << 20));
    cp_arena_reset(&a);
    assert_int_equal(a.used, 0);
    assert_non_null(a.head); /* one block kept */
    /* the steady state: the kept block serves the next batch */
    void *again = cp_arena_alloc(&a, 100);
    assert_non_null(again);
    (void)first;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 500; i++)
            assert_non_null(cp_arena_alloc(&a, 64));
        cp_arena_reset(&a);
    }
    cp_arena_reset(&a);
    cp_arena_release(&a);
    /* reset of an unused arena */
    cp_arena_init(&a, 128);
    cp_arena_reset(&a);
    assert_null(a.head);
    cp_arena_release(&a);
}

static void test_huge_fails_cleanly(void **state)
{
    (void)state;
    cp_arena a;
    cp_arena_init(&a, 128);
    /* sizes that would wrap when rounded up to 16 */
    assert_null(cp_arena_alloc(&a, SIZE_MAX));
    assert_null(cp_arena_alloc(&a, SIZE_MAX - 3));
    assert_non_null(cp_arena_alloc(&a, 8)); /* still usable */
    cp_arena_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_aligned_distinct),
        cmocka_unit_test(test_values_survive),
        cmocka_unit_test(test_reset_reuses),
        cmocka_unit_test(test_huge_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
