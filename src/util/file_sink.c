/*
 * file_sink.c - temporary file, fsync, rename (see file_sink.h).
 */
#define _GNU_SOURCE /* sync_file_range */
#include "util/file_sink.h"
#include "util/fault.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(cp_file_sink *s)
{
    free(s->path);
    free(s->tmp_path);
    s->path = s->tmp_path = NULL;
}

cp_status cp_file_sink_open(cp_file_sink *s, const char *path, cp_error *err)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    size_t n = strlen(path) + 32;
    s->path = strdup(path);
    s->tmp_path = malloc(n);
    if (!s->path || !s->tmp_path) {
        release(s);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    snprintf(s->tmp_path, n, "%s.tmp-%ld", path, (long)getpid());
    s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        int e = errno;
        cp_status st = cp_error_set(err, CP_IO, "%s: cannot create: %s (does the folder exist?)",
                                    s->tmp_path, strerror(e));
        release(s);
        return st;
    }
    return CP_OK;
}

/*
 * Asks the kernel to start writing the dirty pages out now, without waiting, so that the
 * fsync before publishing finds little left to do. Only a hint: errors show at fsync.
 */
static void start_writeback(cp_file_sink *s)
{
    s->unflushed = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    (void)sync_file_range(s->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
}

cp_status cp_file_sink_write(void *ctx, const void *data, size_t len)
{
    cp_file_sink *s = ctx;
    const char *p = data;
    if (s->write_status != CP_OK)
        return s->write_status;
    const int fault = cp_fault_write(s->path, false);
    if (fault) {
        s->write_errno = fault;
        return s->write_status = CP_IO;
    }
    while (len) {
        ssize_t k = write(s->fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            s->write_errno = errno;
            return s->write_status = CP_IO;
        }
        p += k;
        len -= (size_t)k;
        s->unflushed += (size_t)k;
    }
    if (s->unflushed >= CP_FILE_SINK_WRITEBACK_BYTES)
        start_writeback(s);
    return CP_OK;
}

/* Aborts s after its step (a system call) failed with errno e; CP_IO, err says so. */
static cp_status failed(cp_file_sink *s, const char *step, int e, cp_error *err)
{
    cp_error_set(err, CP_IO, "%s: %s failed: %s (nothing published)", s->path, step, strerror(e));
    cp_file_sink_abort(s);
    return CP_IO;
}

/* CP_OK when s is open and every write succeeded; a failed write aborts s. */
static cp_status check_open(cp_file_sink *s, cp_error *err)
{
    if (s->fd < 0 || !s->tmp_path)
        return cp_error_set(err, CP_USAGE, "file sink is not open (committed or aborted already)");
    return s->write_status == CP_OK ? CP_OK : failed(s, "write", s->write_errno, err);
}

cp_status cp_file_sink_suspend(cp_file_sink *s, cp_error *err)
{
    CP_RETURN_IF_ERROR(check_open(s, err));
    const int rc = close(s->fd), e = errno;
    s->fd = -1;
    return rc == 0 ? CP_OK : failed(s, "close", e, err);
}

cp_status cp_file_sink_resume(cp_file_sink *s, cp_error *err)
{
    if (s->fd >= 0 || !s->tmp_path || s->synced)
        return cp_error_set(err, CP_USAGE, "file sink is not suspended");
    s->fd = open(s->tmp_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (s->fd < 0)
        return cp_error_set(err, CP_IO, "%s: cannot reopen: %s", s->tmp_path, strerror(errno));
    return CP_OK;
}

static void sync_parent(const char *path)
{
    char *dir = strdup(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

cp_status cp_file_sink_sync(cp_file_sink *s, cp_error *err)
{
    if (s->synced)
        return CP_OK;
    CP_RETURN_IF_ERROR(check_open(s, err));
    const char *step = "fsync";
    int rc = fsync(s->fd);
    int e = errno;
    if (rc == 0 && (e = cp_fault_write(s->path, true)) != 0)
        rc = -1;
    if (close(s->fd) != 0 && rc == 0) {
        rc = -1;
        e = errno;
        step = "close";
    }
    s->fd = -1;
    if (rc != 0)
        return failed(s, step, e, err);
    s->synced = true;
    return CP_OK;
}

cp_status cp_file_sink_commit(cp_file_sink *s, cp_error *err)
{
    CP_RETURN_IF_ERROR(cp_file_sink_sync(s, err));
    if (rename(s->tmp_path, s->path) != 0) {
        cp_error_set(err, CP_IO, "%s: rename failed: %s (not published)", s->path, strerror(errno));
        cp_file_sink_abort(s);
        return CP_IO;
    }
    sync_parent(s->path);
    release(s);
    return CP_OK;
}

void cp_file_sink_abort(cp_file_sink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (s->tmp_path)
        unlink(s->tmp_path);
    release(s);
}

void cp_file_sink_remove_stale_pid_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    const size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, plen) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + plen, &end, 10);
        if (*end != '-' || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* still running, or not ours to judge */
        char full[8192];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < sizeof full)
            unlink(full);
    }
    closedir(d);
}

void cp_file_sink_remove_stale(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    const char *base = path;
    if (slash) {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n ? n : 1] = '\0';
        if (n == 0)
            dir[0] = '/';
        base = slash + 1;
    } else {
        strcpy(dir, ".");
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t blen = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, base, blen) != 0 || strncmp(e->d_name + blen, ".tmp-", 5) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + blen + 5, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* still running, or not ours to judge */
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        unlink(full);
    }
    closedir(d);
}
