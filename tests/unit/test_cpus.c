/*
 * test_cpus.c - util/cpus: a cgroup v2 cpu.max read as CPUs (rounded up, "max" no limit),
 * the thread counts --threads and CSVPIPE_THREADS take, and the count of this process
 * against its affinity mask (checked by narrowing the mask to one CPU).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/cpus.h"

#include <sched.h>
#include <string.h>

static void test_cpu_max(void **state)
{
    (void)state;
    assert_int_equal(cp_cpus_from_cpu_max("max 100000\n"), 0);
    assert_int_equal(cp_cpus_from_cpu_max("100000 100000\n"), 1);
    assert_int_equal(cp_cpus_from_cpu_max("150000 100000\n"), 2);
    assert_int_equal(cp_cpus_from_cpu_max("600000 100000"), 6);
    assert_int_equal(cp_cpus_from_cpu_max("50000 100000"), 1);
    assert_int_equal(cp_cpus_from_cpu_max("0 100000"), 0);
    assert_int_equal(cp_cpus_from_cpu_max("100000 0"), 0);
    assert_int_equal(cp_cpus_from_cpu_max(""), 0);
    assert_int_equal(cp_cpus_from_cpu_max("999999999999 1"), CP_THREADS_MAX);
}

static void test_threads_parse(void **state)
{
    (void)state;
    unsigned n = 0;
    cp_error err;
    assert_int_equal(cp_threads_parse("3", &n, &err), CP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(cp_threads_parse("1", &n, &err), CP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(cp_threads_parse("256", &n, &err), CP_OK);
    assert_int_equal(n, 256);
    n = 0;
    assert_int_equal(cp_threads_parse("auto", &n, &err), CP_OK);
    assert_int_equal(n, cp_cpus_available());
    n = 0;
    assert_int_equal(cp_threads_parse("0", &n, &err), CP_OK);
    assert_int_equal(n, cp_cpus_available());
    const char *bad[] = {"", "-1", "257", "2x", "two", " 2", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cp_error_clear(&err);
        assert_int_equal(cp_threads_parse(bad[i], &n, &err), CP_USAGE);
        assert_non_null(strstr(err.message, "thread count"));
    }
}

static void test_affinity(void **state)
{
    (void)state;
    unsigned all = cp_cpus_available();
    assert_true(all >= 1);
    cpu_set_t saved, one;
    assert_int_equal(sched_getaffinity(0, sizeof saved, &saved), 0);
    int first = 0;
    while (!CPU_ISSET(first, &saved))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    assert_int_equal(cp_cpus_available(), 1);
    assert_int_equal(sched_setaffinity(0, sizeof saved, &saved), 0);
    assert_int_equal(cp_cpus_available(), all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_max),
        cmocka_unit_test(test_threads_parse),
        cmocka_unit_test(test_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
