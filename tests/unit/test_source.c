/*
 * test_source.c - util/source: file sources (short reads, read_full, rewind, size,
 * missing file, folder), memory sources, read_full over a source that answers a few bytes
 * at a time or fails, and standard input's replay window (a pipe on fd 0: rewind while
 * within the replay bytes, CP_USAGE once read past them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/source.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static int saved_stdin = -1;

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cp_source_XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* 100,000 bytes of a known pattern: more than one read of a typical buffer. */
#define BIG 100000
static unsigned char pattern(size_t i)
{
    return (unsigned char)((i * 7 + i / 251) & 0xff);
}

static void test_file_read_rewind_size(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    unsigned char *data = malloc(BIG);
    assert_non_null(data);
    for (size_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    write_file(path, data, BIG);

    cp_error err;
    cp_error_clear(&err);
    cp_source *s = cp_source_open_file(path, 0, &err);
    assert_non_null(s);
    assert_string_equal(s->name, path);
    assert_int_equal(s->size, BIG);
    assert_int_equal(s->position, 0);

    /* small reads walk the file in order */
    unsigned char buf[1000];
    size_t n;
    assert_int_equal(cp_source_read(s, buf, 10, &n, &err), CP_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(buf, data, 10);
    assert_int_equal(s->position, 10);
    assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_true(n > 0 && n <= sizeof buf);
    assert_memory_equal(buf, data + 10, n);
    assert_int_equal(s->position, 10 + n);

    /* rewind, then read the whole file with read_full */
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    assert_int_equal(s->position, 0);
    unsigned char *all = malloc(BIG + 100);
    assert_non_null(all);
    assert_int_equal(cp_source_read_full(s, all, BIG + 100, &n, &err), CP_OK);
    assert_int_equal(n, BIG);
    assert_memory_equal(all, data, BIG);
    assert_int_equal(s->position, BIG);
    /* at the end: n = 0, several times */
    assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cp_source_read_full(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 0);

    /* read_full stops at cap when the file is longer */
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    assert_int_equal(cp_source_read_full(s, all, 4096, &n, &err), CP_OK);
    assert_int_equal(n, 4096);
    assert_memory_equal(all, data, 4096);
    assert_int_equal(cp_source_read(s, buf, 5, &n, &err), CP_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, data + 4096, 5);

    cp_source_free(s);
    free(all);
    free(data);
}

static void test_file_empty(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/empty.csv", dir);
    write_file(path, "", 0);
    cp_error err;
    cp_source *s = cp_source_open_file(path, 0, &err);
    assert_non_null(s);
    assert_int_equal(s->size, 0);
    char buf[16];
    size_t n = 99;
    assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    cp_source_free(s);
}

static void test_file_missing(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/no-such-file.csv", dir);
    cp_error err;
    cp_error_clear(&err);
    assert_null(cp_source_open_file(path, 0, &err));
    assert_int_equal(err.code, CP_NOT_FOUND);
    assert_non_null(strstr(err.message, path));

    /* a missing folder on the way is "not found" too */
    snprintf(path, sizeof path, "%s/missing/dir/x.csv", dir);
    cp_error_clear(&err);
    assert_null(cp_source_open_file(path, 0, &err));
    assert_int_equal(err.code, CP_NOT_FOUND);

    /* NULL err is allowed */
    assert_null(cp_source_open_file(path, 0, NULL));
}

static void test_file_directory(void **state)
{
    cp_error err;
    cp_error_clear(&err);
    assert_null(cp_source_open_file(dir, 0, &err));
    assert_int_equal(err.code, CP_IO);
    assert_non_null(strstr(err.message, dir));
    assert_non_null(strstr(err.message, "directory"));
}

/* 0 when opening path fails with CP_IO naming it; 1 otherwise. */
static int open_fails_naming(const char *path)
{
    cp_error err;
    cp_error_clear(&err);
    cp_source *s = cp_source_open_file(path, 0, &err);
    if (s) {
        cp_source_free(s);
        return 1;
    }
    return err.code == CP_IO && strstr(err.message, path) ? 0 : 1;
}

static void test_file_unreadable(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/secret.csv", dir);
    write_file(path, "a\n", 2);
    assert_int_equal(chmod(path, 0), 0);
    if (geteuid() != 0) {
        assert_int_equal(open_fails_naming(path), 0);
        return;
    }
    /* root reads any file: the check runs in a child that gave root up for nobody */
    assert_int_equal(chmod(dir, 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0 || geteuid() == 0)
            _exit(2);
        _exit(open_fails_naming(path));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_memory(void **state)
{
    char data[] = "id,name\n1,a\n2,b\n";
    const size_t len = sizeof data - 1;
    char name[] = "sample.csv";
    cp_source *s = cp_source_open_memory(data, len, name);
    assert_non_null(s);
    name[0] = 'X'; /* the name was copied */
    assert_string_equal(s->name, "sample.csv");
    assert_int_equal(s->size, (int64_t)len);

    char buf[64];
    size_t n;
    cp_error err;
    assert_int_equal(cp_source_read(s, buf, 3, &n, &err), CP_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "id,", 3);
    assert_int_equal(s->position, 3);
    assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, len - 3);
    assert_memory_equal(buf, data + 3, len - 3);
    assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 0);

    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    assert_int_equal(s->position, 0);
    assert_int_equal(cp_source_read_full(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, len);
    assert_memory_equal(buf, data, len);
    cp_source_free(s);

    /* no name: a generic one; zero bytes: the end at once */
    s = cp_source_open_memory("", 0, NULL);
    assert_non_null(s);
    assert_non_null(s->name);
    assert_true(strlen(s->name) > 0);
    assert_int_equal(s->size, 0);
    assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 0);
    cp_source_free(s);

    cp_source_free(NULL);
}

/* A source that hands out at most 3 bytes per read and can fail after `fail_at` bytes. */
typedef struct trickle {
    cp_source base;
    const char *data;
    size_t len;
    size_t fail_at;
} trickle;

static int trickle_closed;

static cp_status trickle_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    trickle *t = (trickle *)s;
    *n = 0;
    if (s->position >= t->fail_at)
        return cp_error_set(err, CP_IO, "%s: device gone", s->name);
    size_t left = t->len - (size_t)s->position;
    size_t k = left < cap ? left : cap;
    if (k > 3)
        k = 3;
    memcpy(buf, t->data + s->position, k);
    s->position += k;
    *n = k;
    return CP_OK;
}

static cp_status trickle_rewind(cp_source *s, cp_error *err)
{
    s->position = 0;
    return CP_OK;
}

static void trickle_close(cp_source *s)
{
    trickle_closed++;
}

static cp_source *trickle_new(const char *data, size_t fail_at)
{
    trickle *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->base.read = trickle_read;
    t->base.rewind = trickle_rewind;
    t->base.close = trickle_close;
    t->base.name = strdup("trickle");
    t->base.size = -1;
    t->data = data;
    t->len = strlen(data);
    t->fail_at = fail_at;
    return &t->base;
}

static void test_read_full_short_reads_and_errors(void **state)
{
    const char *text = "abcdefghijklmnopqrstuvwxyz";
    cp_source *s = trickle_new(text, (size_t)-1);
    char buf[64];
    size_t n;
    cp_error err;
    cp_error_clear(&err);
    /* read_full keeps reading until the buffer is full ... */
    assert_int_equal(cp_source_read_full(s, buf, 10, &n, &err), CP_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(buf, text, 10);
    /* ... or the source ends */
    assert_int_equal(cp_source_read_full(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 16);
    assert_memory_equal(buf, text + 10, 16);
    trickle_closed = 0;
    cp_source_free(s);
    assert_int_equal(trickle_closed, 1); /* free calls the source's close */

    /* an error in the middle is passed on */
    s = trickle_new(text, 7);
    cp_error_clear(&err);
    assert_int_equal(cp_source_read_full(s, buf, sizeof buf, &n, &err), CP_IO);
    assert_int_equal(err.code, CP_IO);
    assert_non_null(strstr(err.message, "device gone"));
    cp_source_free(s);
}

/* Puts `data` into a pipe and the pipe on fd 0 (restored by restore_stdin). */
static void pipe_to_stdin(const char *data, size_t len)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_true(len < 4096); /* fits the pipe buffer: no writer process needed */
    assert_int_equal(write(p[1], data, len), (ssize_t)len);
    assert_int_equal(close(p[1]), 0);
    if (saved_stdin < 0)
        saved_stdin = dup(STDIN_FILENO);
    assert_true(saved_stdin >= 0);
    assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    assert_int_equal(close(p[0]), 0);
}

static int restore_stdin(void **state)
{
    if (saved_stdin >= 0) {
        dup2(saved_stdin, STDIN_FILENO);
        close(saved_stdin);
        saved_stdin = -1;
    }
    return 0;
}

static void test_stdin_replay(void **state)
{
    const char *data = "0123456789abcdefghijklmnopqrstuv"; /* 32 bytes */
    pipe_to_stdin(data, 32);
    cp_error err;
    cp_error_clear(&err);
    cp_source *s = cp_source_open_file("-", 8, &err);
    assert_non_null(s);
    assert_int_equal(s->size, -1);
    assert_non_null(strstr(s->name, "stdin"));

    char buf[64];
    size_t n;
    /* 5 bytes: within the replay window, rewinding is allowed (several times) */
    assert_int_equal(cp_source_read(s, buf, 5, &n, &err), CP_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "01234", 5);
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    assert_int_equal(s->position, 0);
    assert_int_equal(cp_source_read_full(s, buf, 5, &n, &err), CP_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "01234", 5);
    assert_int_equal(s->position, 5);
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);

    /* exactly the 8 replay bytes: replayed bytes then fresh ones, still rewindable */
    assert_int_equal(cp_source_read_full(s, buf, 8, &n, &err), CP_OK);
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "01234567", 8);
    assert_int_equal(s->position, 8);
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    assert_int_equal(cp_source_read_full(s, buf, 8, &n, &err), CP_OK);
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "01234567", 8);

    /* past the replay bytes: the rest reads on, but rewinding is a usage error */
    assert_int_equal(cp_source_read_full(s, buf, 10, &n, &err), CP_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(buf, "89abcdefgh", 10);
    cp_error_clear(&err);
    assert_int_equal(cp_source_rewind(s, &err), CP_USAGE);
    assert_int_equal(err.code, CP_USAGE);
    assert_non_null(strstr(err.message, "stdin"));
    /* the failed rewind changed nothing: reading continues where it was */
    assert_int_equal(cp_source_read_full(s, buf, sizeof buf, &n, &err), CP_OK);
    assert_int_equal(n, 14);
    assert_memory_equal(buf, "ijklmnopqrstuv", 14);
    assert_int_equal(cp_source_rewind(s, &err), CP_USAGE);
    cp_source_free(s);

    /* standard input itself stays open after free */
    assert_true(fcntl(STDIN_FILENO, F_GETFD) != -1);
    restore_stdin(NULL);
}

static void test_stdin_small_input_replays_whole(void **state)
{
    const char *data = "a,b\n1,2\n";
    pipe_to_stdin(data, 8);
    cp_error err;
    cp_source *s = cp_source_open_file("-", 1 << 20, &err);
    assert_non_null(s);
    char buf[64];
    size_t n;
    for (int pass = 0; pass < 3; pass++) {
        assert_int_equal(cp_source_read_full(s, buf, sizeof buf, &n, &err), CP_OK);
        assert_int_equal(n, 8);
        assert_memory_equal(buf, data, 8);
        assert_int_equal(cp_source_read(s, buf, sizeof buf, &n, &err), CP_OK);
        assert_int_equal(n, 0); /* the end, each pass */
        assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    }
    cp_source_free(s);
    restore_stdin(NULL);
}

static void test_stdin_one_big_read_past_replay(void **state)
{
    /* a single read that crosses the window (read 20 with a 4-byte window) */
    pipe_to_stdin("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26);
    cp_error err;
    cp_source *s = cp_source_open_file("-", 4, &err);
    assert_non_null(s);
    char buf[64];
    size_t n;
    assert_int_equal(cp_source_read_full(s, buf, 20, &n, &err), CP_OK);
    assert_int_equal(n, 20);
    assert_memory_equal(buf, "ABCDEFGHIJKLMNOPQRST", 20);
    assert_int_equal(cp_source_rewind(s, &err), CP_USAGE);
    cp_source_free(s);
    restore_stdin(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_read_rewind_size),
        cmocka_unit_test(test_file_empty),
        cmocka_unit_test(test_file_missing),
        cmocka_unit_test(test_file_directory),
        cmocka_unit_test(test_file_unreadable),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_read_full_short_reads_and_errors),
        cmocka_unit_test_teardown(test_stdin_replay, restore_stdin),
        cmocka_unit_test_teardown(test_stdin_small_input_replays_whole, restore_stdin),
        cmocka_unit_test_teardown(test_stdin_one_big_read_past_replay, restore_stdin),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
