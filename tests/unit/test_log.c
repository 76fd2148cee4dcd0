/*
 * test_log.c - util/log: the level from CSVPIPE_LOG on first use (checked in a fresh
 * process: this binary re-executed with --child), cp_log_set_level and cp_log_enabled,
 * the "csvpipe: <level>: message" line on stderr (captured in a temporary file), long
 * messages cut to one line, whole lines from concurrent threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn with stderr sent to a temporary file; returns what was written (caller frees). */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/cp_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    fn(arg);
    fflush(stderr);
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    assert_true(len >= 0);
    char *out = malloc((size_t)len + 1);
    assert_non_null(out);
    assert_int_equal(pread(fd, out, (size_t)len, 0), len);
    out[len] = '\0';
    close(fd);
    unlink(path);
    return out;
}

static void log_each_level(void *arg)
{
    cp_log_error("e %d", 1);
    cp_log_warn("w %s", "two");
    cp_log_info("i %.1f", 3.0);
    cp_log_debug("d %c", '4');
}

static void test_levels_filter_lines(void **state)
{
    static const char *const expect[] = {
        "csvpipe: error: e 1\n",
        "csvpipe: error: e 1\ncsvpipe: warn: w two\n",
        "csvpipe: error: e 1\ncsvpipe: warn: w two\ncsvpipe: info: i 3.0\n",
        "csvpipe: error: e 1\ncsvpipe: warn: w two\ncsvpipe: info: i 3.0\ncsvpipe: debug: d 4\n",
    };
    for (int lvl = CP_LOG_ERROR; lvl <= CP_LOG_DEBUG; lvl++) {
        cp_log_set_level((cp_log_level)lvl);
        for (int q = CP_LOG_ERROR; q <= CP_LOG_DEBUG; q++)
            assert_int_equal(cp_log_enabled((cp_log_level)q) != 0, q <= lvl);
        char *got = capture_stderr(log_each_level, NULL);
        assert_string_equal(got, expect[lvl]);
        free(got);
    }
    cp_log_set_level(CP_LOG_WARN);
}

static void log_long(void *arg)
{
    cp_log_warn("%s", (const char *)arg);
}

static void test_long_message_is_one_line(void **state)
{
    cp_log_set_level(CP_LOG_WARN);
    size_t n = 10000;
    char *msg = malloc(n + 1);
    assert_non_null(msg);
    memset(msg, 'x', n);
    msg[n] = '\0';
    char *got = capture_stderr(log_long, msg);
    size_t len = strlen(got);
    assert_true(len > 1000 && len < n); /* cut, but not to nothing */
    assert_memory_equal(got, "csvpipe: warn: xxxx", 19);
    assert_int_equal(got[len - 1], '\n');
    assert_ptr_equal(strchr(got, '\n'), got + len - 1); /* exactly one line */
    free(got);
    free(msg);
}

static void *log_many(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 200; i++)
        cp_log_warn("thread %d line %d %s", id, i, "abcdefghijklmnopqrstuvwxyz0123456789");
    return NULL;
}

static void log_threads(void *arg)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_many, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

static void test_threads_whole_lines(void **state)
{
    cp_log_set_level(CP_LOG_WARN);
    char *got = capture_stderr(log_threads, NULL);
    int count[4] = {0};
    int nlines = 0;
    char *save = NULL;
    for (char *line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int id, i, end = 0;
        char tail[64];
        assert_int_equal(
            sscanf(line, "csvpipe: warn: thread %d line %d %63s%n", &id, &i, tail, &end), 3);
        assert_int_equal((size_t)end, strlen(line));
        assert_string_equal(tail, "abcdefghijklmnopqrstuvwxyz0123456789");
        assert_true(id >= 0 && id < 4);
        assert_int_equal(i, count[id]); /* each thread's lines in order, none lost */
        count[id]++;
        nlines++;
    }
    assert_int_equal(nlines, 800);
    free(got);
}

/*
 * The level from the environment is read on first use, so each case needs a fresh process:
 * this binary with --child prints which levels are enabled ("1100") on stdout.
 */
static void env_case(const char *value, const char *expect)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        if (value)
            setenv("CSVPIPE_LOG", value, 1);
        else
            unsetenv("CSVPIPE_LOG");
        execl("/proc/self/exe", "test_log", "--child", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[64] = "";
    size_t len = 0;
    ssize_t k;
    while ((k = read(p[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(buf, expect);
}

static void test_level_from_env(void **state)
{
    env_case(NULL, "1100"); /* default warn */
    env_case("error", "1000");
    env_case("warn", "1100");
    env_case("info", "1110");
    env_case("debug", "1111");
    env_case("loud", "1100"); /* an unknown value keeps the default */
}

static int child_main(void)
{
    /* cp_log_enabled is the first use: it reads CSVPIPE_LOG */
    for (int q = CP_LOG_ERROR; q <= CP_LOG_DEBUG; q++)
        putchar(cp_log_enabled((cp_log_level)q) ? '1' : '0');
    /* cp_log_set_level wins over the environment afterwards */
    cp_log_set_level(CP_LOG_ERROR);
    if (cp_log_enabled(CP_LOG_WARN))
        return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child") == 0)
        return child_main();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_from_env),
        cmocka_unit_test(test_levels_filter_lines),
        cmocka_unit_test(test_long_message_is_one_line),
        cmocka_unit_test(test_threads_whole_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
