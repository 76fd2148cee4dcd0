/*
 * test_progress.c - pipeline/progress: off when stderr is not a terminal (nothing is ever
 * written then); on a terminal (a pseudo-terminal on fd 2) drawn only after a second, at
 * most every 200 ms, and erased by cp_progress_done.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pipeline/progress.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int saved_stderr = -1;

static void redirect_stderr(int fd)
{
    fflush(stderr);
    if (saved_stderr < 0)
        saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
}

static int restore_stderr(void **state)
{
    fflush(stderr);
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
    return 0;
}

/* Pretends the load started `ms` milliseconds ago and last drew as long ago. */
static void age(cp_progress *p, double ms)
{
    p->start_ms -= ms;
    p->last_ms -= ms;
}

static void test_off_when_not_a_terminal(void **state)
{
    char path[] = "/tmp/cp_progress_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    redirect_stderr(fd);

    cp_progress p;
    cp_progress_init(&p, true, "big.csv");
    assert_false(p.enabled);
    assert_false(p.drawn);
    age(&p, 5000);
    cp_progress_update_bytes(&p, 1 << 20, 10 << 20, 1000);
    cp_progress_update_bytes(&p, 2 << 20, -1, 2000);
    assert_false(p.drawn);
    cp_progress_done(&p);

    /* also off when the caller does not want it */
    cp_progress_init(&p, false, "big.csv");
    assert_false(p.enabled);
    age(&p, 5000);
    cp_progress_update_bytes(&p, 1 << 20, 10 << 20, 1000);
    cp_progress_done(&p);

    restore_stderr(NULL);
    assert_int_equal(lseek(fd, 0, SEEK_END), 0); /* not one byte */
    close(fd);
    unlink(path);
}

/* Reads what the pseudo-terminal's master side has (0 bytes when nothing comes). */
static size_t drain(int master, char *buf, size_t cap)
{
    size_t n = 0;
    struct pollfd pfd = {master, POLLIN, 0};
    while (n + 1 < cap && poll(&pfd, 1, 100) > 0) {
        ssize_t k = read(master, buf + n, cap - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    return n;
}

static void test_on_a_terminal(void **state)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        if (master >= 0)
            close(master);
        skip();
    }
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    redirect_stderr(slave);
    char buf[4096];

    /* the caller can still turn it off */
    cp_progress p;
    cp_progress_init(&p, false, "off.csv");
    assert_false(p.enabled);

    cp_progress_init(&p, true, "big.csv");
    assert_true(p.enabled);
    /* not in the first second */
    cp_progress_update_bytes(&p, 1 << 20, 10 << 20, 1000);
    assert_false(p.drawn);
    assert_int_equal(drain(master, buf, sizeof buf), 0);

    /* after a second: one line with the label, the rows and the percentage */
    age(&p, 2000);
    cp_progress_update_bytes(&p, 5 << 20, 10 << 20, 4242);
    assert_true(p.drawn);
    assert_true(drain(master, buf, sizeof buf) > 0);
    assert_int_equal(buf[0], '\r');
    assert_non_null(strstr(buf, "big.csv"));
    assert_non_null(strstr(buf, "4242 rows"));
    assert_non_null(strstr(buf, "50%"));
    assert_null(strchr(buf, '\n')); /* redrawn in place */

    /* at most five times a second */
    cp_progress_update_bytes(&p, 6 << 20, 10 << 20, 5000);
    assert_int_equal(drain(master, buf, sizeof buf), 0);

    /* unknown size: bytes and rows, no bar */
    age(&p, 300);
    cp_progress_update_bytes(&p, 7 << 20, -1, 6000);
    assert_true(drain(master, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "6000 rows"));
    assert_null(strchr(buf, '%'));

    /* done erases the line, once */
    cp_progress_done(&p);
    assert_false(p.drawn);
    assert_true(drain(master, buf, sizeof buf) > 0);
    assert_string_equal(buf, "\r\033[K");
    cp_progress_done(&p);
    assert_int_equal(drain(master, buf, sizeof buf), 0);

    /* a short load is never drawn, and done then writes nothing */
    cp_progress_init(&p, true, "small.csv");
    cp_progress_update_bytes(&p, 100, 100, 1);
    cp_progress_done(&p);
    assert_int_equal(drain(master, buf, sizeof buf), 0);

    restore_stderr(NULL);
    close(slave);
    close(master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_off_when_not_a_terminal, restore_stderr),
        cmocka_unit_test_teardown(test_on_a_terminal, restore_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
