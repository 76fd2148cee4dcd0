/*
 * sqlite_db.h - private to src/load: what the SQLite relational loader and the SQLite
 * item store share: opening a database file ready for several csvpipe processes at once,
 * running plain statements, and error messages that carry sqlite3_errmsg.
 */
#ifndef CP_SQLITE_DB_H
#define CP_SQLITE_DB_H

#include "util/status.h"

#include <sqlite3.h>

/* How long a writer waits for another process's transaction before giving up. */
#define CP_SQLITE_BUSY_TIMEOUT_MS (10 * 60 * 1000) /* another process may hold a file's load */

/*
 * Opens the database at path, creating the file and its folders when missing, with
 * extended result codes, a busy timeout of CP_SQLITE_BUSY_TIMEOUT_MS and the WAL journal
 * (so readers never block the writer and concurrent writers wait in turn). `what` names
 * the store in messages ("relational database"). page_size: the page size in bytes of a
 * database this call creates (a power of two, 512..65536), 0 for SQLite's default (4096);
 * an existing database keeps the page size it was made with. The caller closes *out with
 * sqlite3_close_v2.
 * The connection is opened with SQLITE_OPEN_NOMUTEX: it must only be used by one thread
 * at a time (csvpipe's loaders are not thread-safe anyway; the item store's is used by a
 * sink worker while it writes, by the pipeline's thread otherwise, never by both at once).
 * The first call wraps SQLite's pwrite for the whole process to start the writeback of
 * big writes early (sqlite_db.c).
 */
cp_status cp_sqlite_open(const char *path, const char *what, int page_size, sqlite3 **out,
                         cp_error *err);

/* Sets CP_DATABASE: "<file>: <doing>: <sqlite3_errmsg>"; doing is printf-formatted. */
cp_status cp_sqlite_fail(sqlite3 *db, cp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs one or more statements without parameters; on failure cp_sqlite_fail(doing). */
cp_status cp_sqlite_exec(sqlite3 *db, const char *sql, const char *doing, cp_error *err);

/* Prepares sql (len bytes, or -1 for NUL-terminated); on failure cp_sqlite_fail(doing). */
cp_status cp_sqlite_prepare(sqlite3 *db, const char *sql, int len, sqlite3_stmt **out,
                            const char *doing, cp_error *err);

/* Binds text, NULL when s is NULL. */
int cp_sqlite_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);

#endif
