/*
 * sqlite_db.c - opening SQLite databases for csvpipe and reporting their errors.
 *
 * Early writeback: a file's load writes the whole of its rows or items into the WAL and
 * COMMIT's fdatasync then waits for all of it to reach the disk; the checkpoint copies
 * them into the database and waits again on its fdatasync (2M items: 449 MB each time,
 * about 0.6 s of waiting on a quiet machine, bench/README.md). The kernel would start
 * writing those pages back only after 30 s or past its dirty limits. So SQLite's pwrite
 * is wrapped (its VFS's xSetSystemCall, once per process, before any database is opened):
 * after every WRITEBACK_BYTES written through a descriptor, sync_file_range starts the
 * writeback of that file's dirty pages without waiting for it, and the fdatasyncs find
 * little left to write. Only the timing of writes that were going to happen changes:
 * SQLite's syncs, and with them what a crash leaves, are untouched. The descriptor is
 * SQLite's own (opening another one and closing it would drop SQLite's POSIX locks).
 */
#define _GNU_SOURCE
#include "load/sqlite_db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

enum { WAL_SWITCH_TRIES = 200, WAL_SWITCH_WAIT_MS = 50 }; /* 10 s in all */

/* bytes written through a descriptor between two starts of its writeback */
#define WRITEBACK_BYTES (8u << 20)
/* descriptors above this get no early writeback */
#define WRITEBACK_FDS 1024

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static pwrite_fn real_pwrite, real_pwrite64;
static atomic_uint unsynced[WRITEBACK_FDS]; /* bytes written since the last start, per fd */
static pthread_once_t writeback_once = PTHREAD_ONCE_INIT;

static void written(int fd, ssize_t n)
{
    if (n <= 0 || fd < 0 || fd >= WRITEBACK_FDS)
        return;
    unsigned before = atomic_fetch_add_explicit(&unsynced[fd], (unsigned)n, memory_order_relaxed);
    if (before + (unsigned)n < WRITEBACK_BYTES)
        return;
    atomic_store_explicit(&unsynced[fd], 0, memory_order_relaxed);
    sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* advice: a failure changes nothing */
}

static ssize_t writeback_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t w = real_pwrite(fd, buf, n, off);
    written(fd, w);
    return w;
}

static ssize_t writeback_pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t w = real_pwrite64(fd, buf, n, off);
    written(fd, w);
    return w;
}

/* Wraps the default VFS's pwrite and pwrite64, those of its system calls it uses. */
static void writeback_install(void)
{
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall)
        return;
    real_pwrite = (pwrite_fn)vfs->xGetSystemCall(vfs, "pwrite");
    if (real_pwrite)
        vfs->xSetSystemCall(vfs, "pwrite", (sqlite3_syscall_ptr)writeback_pwrite);
    real_pwrite64 = (pwrite_fn)vfs->xGetSystemCall(vfs, "pwrite64");
    if (real_pwrite64)
        vfs->xSetSystemCall(vfs, "pwrite64", (sqlite3_syscall_ptr)writeback_pwrite64);
}

/* mkdir -p of the folder that holds path. */
static cp_status make_parent_dirs(const char *path, cp_error *err)
{
    char *dir = strdup(path);
    if (!dir)
        return cp_error_set(err, CP_NOMEM, "%s: out of memory", path);
    char *slash = strrchr(dir, '/');
    cp_status st = CP_OK;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
            if (*p == '/' || *p == '\0') {
                char saved = *p;
                *p = '\0';
                if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                    st = cp_error_set(err, CP_IO, "%s: cannot create folder %s: %s", path, dir,
                                      strerror(errno));
                    break;
                }
                *p = saved;
                if (!saved)
                    break;
            }
        }
    }
    free(dir);
    return st;
}

cp_status cp_sqlite_fail(sqlite3 *db, cp_error *err, const char *fmt, ...)
{
    char doing[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(doing, sizeof doing, fmt, ap);
    va_end(ap);
    const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
    return cp_error_set(err, CP_DATABASE, "sqlite:%s: %s: %s", file && file[0] ? file : "?", doing,
                        db ? sqlite3_errmsg(db) : "out of memory");
}

cp_status cp_sqlite_exec(sqlite3 *db, const char *sql, const char *doing, cp_error *err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return cp_sqlite_fail(db, err, "%s", doing);
    return CP_OK;
}

cp_status cp_sqlite_prepare(sqlite3 *db, const char *sql, int len, sqlite3_stmt **out,
                            const char *doing, cp_error *err)
{
    *out = NULL;
    if (sqlite3_prepare_v2(db, sql, len, out, NULL) != SQLITE_OK)
        return cp_sqlite_fail(db, err, "%s", doing);
    return CP_OK;
}

int cp_sqlite_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

cp_status cp_sqlite_open(const char *path, const char *what, int page_size, sqlite3 **out,
                         cp_error *err)
{
    *out = NULL;
    if (!path || !path[0])
        return cp_error_set(err, CP_USAGE, "no path given for the %s (sqlite:PATH)", what);
    if (strcmp(path, ":memory:") != 0)
        CP_RETURN_IF_ERROR(make_parent_dirs(path, err));
    pthread_once(&writeback_once, writeback_install);
    sqlite3 *db = NULL;
    /* a connection is only used by one thread at a time: no locking of it on every call */
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        cp_status st = db ? cp_error_set(err, CP_DATABASE, "sqlite:%s: cannot open the %s: %s",
                                         path, what, sqlite3_errmsg(db))
                          : cp_error_set(err, CP_NOMEM, "sqlite:%s: out of memory", path);
        sqlite3_close_v2(db);
        return st;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, CP_SQLITE_BUSY_TIMEOUT_MS);
    cp_status s = CP_OK;
    if (page_size > 0) {
        /* before WAL mode, which writes the header of a new file; a no-op on an existing one */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA page_size=%d", page_size);
        s = cp_sqlite_exec(db, sql, "setting the page size", err);
    }
    /* journal_mode answers a row: read it, it says whether WAL was taken */
    sqlite3_stmt *st = NULL;
    if (s == CP_OK)
        s = cp_sqlite_prepare(db, "PRAGMA journal_mode=WAL", -1, &st, "setting WAL mode", err);
    if (s == CP_OK) {
        /* switching a new file to WAL answers SQLITE_BUSY at once, without the busy
           handler, while another process opens it too: wait a little and ask again */
        for (int tries = 0;; tries++) {
            rc = sqlite3_step(st);
            if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
                break;
            if (tries == WAL_SWITCH_TRIES)
                break;
            sqlite3_reset(st);
            sqlite3_sleep(WAL_SWITCH_WAIT_MS);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            s = cp_sqlite_fail(db, err, "opening the %s (setting WAL mode)", what);
    }
    sqlite3_finalize(st);
    if (s != CP_OK) {
        sqlite3_close_v2(db);
        return s;
    }
    *out = db;
    return CP_OK;
}
