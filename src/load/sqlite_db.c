/*
 * sqlite_db.c - opening SQLite databases for csvpipe and reporting their errors.
 */
#include "load/sqlite_db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { WAL_SWITCH_TRIES = 200, WAL_SWITCH_WAIT_MS = 50 }; /* 10 s in all */

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
