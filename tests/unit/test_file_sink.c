/*
 * test_file_sink.c - util/file_sink: bytes go to "<path>.tmp-<pid>", the final path
 * appears only at commit (replacing the previous file whole), abort removes the temporary
 * file (also after commit or twice), open in a missing folder is CP_IO naming the path,
 * a write failure surfaces at commit, and cp_file_sink_remove_stale removes the
 * temporary files of dead processes only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cp_sink_XXXXXX");
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

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_temp_name_and_commit(void **state)
{
    char path[128], tmp[160];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());

    cp_file_sink s;
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    assert_string_equal(s.path, path);
    assert_string_equal(s.tmp_path, tmp);
    assert_true(s.fd >= 0);
    assert_true(exists(tmp));
    assert_false(exists(path));
    struct stat st;
    assert_int_equal(stat(tmp, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0644 & ~mask);

    assert_int_equal(cp_file_sink_write(&s, "hello ", 6), CP_OK);
    assert_int_equal(cp_file_sink_write(&s, "world\n", 6), CP_OK);
    assert_int_equal(cp_file_sink_write(&s, "", 0), CP_OK);
    assert_false(exists(path)); /* nothing visible before commit */

    assert_int_equal(cp_file_sink_commit(&s, &err), CP_OK);
    assert_true(exists(path));
    assert_false(exists(tmp));
    char *got = slurp(path);
    assert_string_equal(got, "hello world\n");
    free(got);
    assert_null(s.path); /* memory released */
    assert_null(s.tmp_path);

    /* abort after commit is harmless and leaves the published file alone */
    cp_file_sink_abort(&s);
    cp_file_sink_abort(&s);
    assert_true(exists(path));
}

static void test_commit_replaces_previous(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/replace.parquet", dir);
    put_file(path, "the previous, longer content of the file\n");
    struct stat before;
    assert_int_equal(stat(path, &before), 0);

    cp_file_sink s;
    cp_error err;
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    assert_int_equal(cp_file_sink_write(&s, "new\n", 4), CP_OK);
    /* until commit, readers see the previous file */
    char *got = slurp(path);
    assert_string_equal(got, "the previous, longer content of the file\n");
    free(got);
    assert_int_equal(cp_file_sink_commit(&s, &err), CP_OK);
    got = slurp(path);
    assert_string_equal(got, "new\n"); /* replaced whole, not overwritten in place */
    free(got);
    struct stat after;
    assert_int_equal(stat(path, &after), 0);
    assert_true(after.st_ino != before.st_ino); /* a rename, not a rewrite */
}

/* Suspended, the descriptor is closed; resumed, writes go on at the end; then committed. */
static void test_suspend_resume(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/suspended.parquet", dir);
    cp_file_sink s;
    cp_error err;
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    assert_int_equal(cp_file_sink_write(&s, "PAR1", 4), CP_OK);
    assert_int_equal(cp_file_sink_suspend(&s, &err), CP_OK);
    assert_int_equal(s.fd, -1);
    assert_true(exists(s.tmp_path));
    assert_false(exists(path));
    cp_error_clear(&err);
    assert_int_equal(cp_file_sink_suspend(&s, &err), CP_USAGE); /* twice */
    assert_int_equal(cp_file_sink_resume(&s, &err), CP_OK);
    assert_int_equal(cp_file_sink_resume(&s, &err), CP_USAGE); /* not suspended */
    assert_int_equal(cp_file_sink_write(&s, "rows", 4), CP_OK);
    assert_int_equal(cp_file_sink_suspend(&s, &err), CP_OK);
    assert_int_equal(cp_file_sink_resume(&s, &err), CP_OK);
    assert_int_equal(cp_file_sink_write(&s, "PAR1", 4), CP_OK);
    assert_int_equal(cp_file_sink_commit(&s, &err), CP_OK);
    char *got = slurp(path);
    assert_string_equal(got, "PAR1rowsPAR1");
    free(got);

    /* a failed write shows at suspend, which aborts */
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s", s.tmp_path);
    close(s.fd); /* the write fails (EBADF) */
    assert_int_equal(cp_file_sink_write(&s, "x", 1), CP_IO);
    s.fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_int_equal(cp_file_sink_suspend(&s, &err), CP_IO);
    assert_false(exists(tmp));
    got = slurp(path);
    assert_string_equal(got, "PAR1rowsPAR1");
    free(got);
}

static void test_abort_removes_temp(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/aborted.jsonl", dir);
    put_file(path, "keep me\n");
    cp_file_sink s;
    cp_error err;
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s", s.tmp_path);
    assert_int_equal(cp_file_sink_write(&s, "half a file", 11), CP_OK);
    assert_true(exists(tmp));
    cp_file_sink_abort(&s);
    assert_false(exists(tmp));
    assert_int_equal(s.fd, -1);
    assert_null(s.tmp_path);
    char *got = slurp(path);
    assert_string_equal(got, "keep me\n"); /* the previous file is untouched */
    free(got);
    cp_file_sink_abort(&s); /* twice is fine */

    /* commit after abort is a usage error, not a crash */
    cp_error_clear(&err);
    assert_int_equal(cp_file_sink_commit(&s, &err), CP_USAGE);
    assert_non_null(strstr(err.message, "not open"));
}

static void test_rename_failure(void **state)
{
    /* the final name is taken by a non-empty folder: rename fails at commit */
    char path[128], inside[160];
    snprintf(path, sizeof path, "%s/taken", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(inside, sizeof inside, "%s/file", path);
    put_file(inside, "x");
    cp_file_sink s;
    cp_error err;
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s", s.tmp_path);
    assert_int_equal(cp_file_sink_write(&s, "data", 4), CP_OK);
    cp_error_clear(&err);
    assert_int_equal(cp_file_sink_commit(&s, &err), CP_IO);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "rename"));
    assert_false(exists(tmp)); /* cleaned up */
    assert_true(exists(inside));
    assert_null(s.tmp_path);
    cp_file_sink_abort(&s);
}

static void test_open_truncates_stale_temp(void **state)
{
    char path[128], tmp[160];
    snprintf(path, sizeof path, "%s/stale.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    put_file(tmp, "garbage from an earlier attempt that is long\n");
    cp_file_sink s;
    cp_error err;
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    assert_int_equal(cp_file_sink_write(&s, "ok\n", 3), CP_OK);
    assert_int_equal(cp_file_sink_commit(&s, &err), CP_OK);
    char *got = slurp(path);
    assert_string_equal(got, "ok\n");
    free(got);
}

static void test_open_missing_folder(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/no/such/folder/out.parquet", dir);
    cp_file_sink s;
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_IO);
    assert_int_equal(err.code, CP_IO);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "No such file or directory"));
    assert_int_equal(s.fd, -1);
    assert_null(s.path);
    assert_null(s.tmp_path);
    cp_file_sink_abort(&s); /* still safe */
    assert_false(exists(path));
}

static void test_write_failure_reported_at_commit(void **state)
{
    if (access("/dev/full", W_OK) != 0)
        skip();
    char path[128];
    snprintf(path, sizeof path, "%s/full.jsonl", dir);
    cp_file_sink s;
    cp_error err;
    assert_int_equal(cp_file_sink_open(&s, path, &err), CP_OK);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s", s.tmp_path);
    /* swap the descriptor for /dev/full: every write fails with ENOSPC */
    int full = open("/dev/full", O_WRONLY);
    assert_true(full >= 0);
    assert_int_equal(dup2(full, s.fd), s.fd);
    close(full);
    assert_int_equal(cp_file_sink_write(&s, "x", 1), CP_IO);
    assert_int_equal(s.write_errno, ENOSPC);
    assert_int_equal(cp_file_sink_write(&s, "y", 1), CP_IO); /* sticky */
    cp_error_clear(&err);
    assert_int_equal(cp_file_sink_commit(&s, &err), CP_IO);
    assert_non_null(strstr(err.message, "No space left on device"));
    assert_false(exists(path)); /* nothing published */
    assert_false(exists(tmp));  /* and the temporary file is gone */
    cp_file_sink_abort(&s);
}

static pid_t dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid); /* reaped: the pid is free */
    return pid;
}

static void test_remove_stale(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/sales.parquet", dir);
    pid_t dead = dead_pid();
    pid_t live = fork();
    assert_true(live >= 0);
    if (live == 0) {
        alarm(60); /* never outlives a failed test for long */
        pause();
        _exit(0);
    }

    char f_dead[192], f_parent[192], f_live[192], f_self[192], f_other[192], f_suffix[192],
        f_nonnum[192], f_final[192], f_prefix[192];
    snprintf(f_dead, sizeof f_dead, "%s.tmp-%ld", path, (long)dead);
    snprintf(f_parent, sizeof f_parent, "%s.tmp-%ld", path, (long)getppid());
    snprintf(f_live, sizeof f_live, "%s.tmp-%ld", path, (long)live);
    snprintf(f_self, sizeof f_self, "%s.tmp-%ld", path, (long)getpid());
    /* names that merely start with the final name */
    snprintf(f_other, sizeof f_other, "%s/sales.parquet2.tmp-%ld", dir, (long)dead);
    snprintf(f_suffix, sizeof f_suffix, "%s.tmp-%ld.bak", path, (long)dead);
    snprintf(f_nonnum, sizeof f_nonnum, "%s.tmp-abc", path);
    snprintf(f_prefix, sizeof f_prefix, "%s/sales.tmp-%ld", dir, (long)dead);
    snprintf(f_final, sizeof f_final, "%s", path);
    const char *all[] = {f_dead,   f_parent, f_live,   f_self, f_other,
                         f_suffix, f_nonnum, f_prefix, f_final};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        put_file(all[i], "x");

    cp_file_sink_remove_stale(path);

    assert_false(exists(f_dead));
    assert_true(exists(f_parent));
    assert_true(exists(f_live));
    assert_true(exists(f_self));
    assert_true(exists(f_other));
    assert_true(exists(f_suffix));
    assert_true(exists(f_nonnum));
    assert_true(exists(f_prefix));
    assert_true(exists(f_final));

    /* once the live one is gone, its file is stale too */
    assert_int_equal(kill(live, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(live, &status, 0), live);
    cp_file_sink_remove_stale(path);
    assert_false(exists(f_live));
    assert_true(exists(f_parent));
    assert_true(exists(f_self));

    /* a missing folder is not an error */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nowhere/x.parquet", dir);
    cp_file_sink_remove_stale(missing);
}

/* The spool files of a killed partitioned S3 load: "<prefix><pid>-<seq><ext>". */
static void test_remove_stale_pid_files(void **state)
{
    pid_t dead = dead_pid();
    char f_dead[192], f_dead_tmp[192], f_self[192], f_parent[192], f_nodash[192], f_other[192];
    snprintf(f_dead, sizeof f_dead, "%s/csvpipe-spool-%ld-3.parquet", dir, (long)dead);
    snprintf(f_dead_tmp, sizeof f_dead_tmp, "%s/csvpipe-spool-%ld-4.jsonl.tmp-%ld", dir, (long)dead,
             (long)dead);
    snprintf(f_self, sizeof f_self, "%s/csvpipe-spool-%ld-0.parquet", dir, (long)getpid());
    snprintf(f_parent, sizeof f_parent, "%s/csvpipe-spool-%ld-0.parquet", dir, (long)getppid());
    snprintf(f_nodash, sizeof f_nodash, "%s/csvpipe-spool-%ld", dir, (long)dead);
    snprintf(f_other, sizeof f_other, "%s/other-%ld-0.parquet", dir, (long)dead);
    const char *all[] = {f_dead, f_dead_tmp, f_self, f_parent, f_nodash, f_other};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        put_file(all[i], "x");

    cp_file_sink_remove_stale_pid_files(dir, "csvpipe-spool-");

    assert_false(exists(f_dead));
    assert_false(exists(f_dead_tmp));
    assert_true(exists(f_self));
    assert_true(exists(f_parent));
    assert_true(exists(f_nodash));
    assert_true(exists(f_other));
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        unlink(all[i]);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nowhere", dir);
    cp_file_sink_remove_stale_pid_files(missing, "csvpipe-spool-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temp_name_and_commit),
        cmocka_unit_test(test_commit_replaces_previous),
        cmocka_unit_test(test_abort_removes_temp),
        cmocka_unit_test(test_suspend_resume),
        cmocka_unit_test(test_open_truncates_stale_temp),
        cmocka_unit_test(test_rename_failure),
        cmocka_unit_test(test_open_missing_folder),
        cmocka_unit_test(test_write_failure_reported_at_commit),
        cmocka_unit_test(test_remove_stale),
        cmocka_unit_test(test_remove_stale_pid_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
