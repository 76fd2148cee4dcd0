/*
 * sql.h - the relational loader: typed rows into a SQL database, one transaction per file.
 *
 * One interface, several backends (sqlite:PATH in sql_sqlite.c, PostgreSQL in
 * sql_postgres.c). A load is: cp_sql_begin (transaction, table created or evolved, the source's
 * previous rows deleted), cp_sql_write for every batch, then cp_sql_commit with the ledger row — or
 * cp_sql_rollback, after which nothing of the load is visible.
 *
 * Tables: one per dataset, named as the dataset, with the schema's columns typed as
 * docs/design.md's table says (SQLite: INTEGER, TEXT for exact decimals, REAL, TEXT ISO 8601
 * dates and timestamps) plus `_source` (text, the source URI) and `_row` (the 1-based
 * ordinal of the row among the file's loaded rows). Identifiers are always quoted.
 *
 * Schema evolution (rules in sql_backend.h, cp_sql_column_change): a column missing from
 * the table is added; a table column missing from the file loads as NULL; a column in both
 * takes the join of the two types. When that is the table's type, nothing changes and the
 * file's values are written in the table's form (an INT64 5 into DECIMAL(18,2) is 5.00, a
 * DATE into TIMESTAMP gets T00:00:00, anything into STRING is its text). When the join is
 * a widening that keeps every value (INT64 to DECIMAL, DECIMAL to a wider DECIMAL, INT64
 * or DECIMAL to DOUBLE, DATE to TIMESTAMP) the column is altered in the same transaction
 * and its stored values converted (SQLite rebuilds the table, see sql_sqlite.c). Otherwise
 * (the join is STRING: INT64 and STRING, TIMESTAMP and TIMESTAMPTZ...) cp_sql_begin fails
 * with CP_REJECTED and a message naming the dataset, the column, the table's type and the
 * file's type, and nothing is loaded. csvpipe's own type of every column is kept in the
 * table csvpipe_columns(dataset, column_name, type). Dataset names starting with
 * "csvpipe_" or "sqlite_" are refused (CP_REJECTED); schema columns named _source or _row
 * are CP_USAGE (the sniffer reserves them). A new SQLite table wider than SQLite's column
 * limit (2000, counting _source and _row) is CP_TOO_MANY_COLUMNS, its message naming both
 * counts and --no-sql.
 *
 * Not thread-safe; one cp_sql per thread. Errors carry the backend's message.
 */
#ifndef CP_SQL_H
#define CP_SQL_H

#include "load/ledger.h"
#include "table/batch.h"

typedef struct cp_sql cp_sql;

/*
 * Opens "sqlite:PATH" (the file and its folder are created when missing), or PostgreSQL:
 * "postgresql://..." / "postgres://..." (libpq URIs) or "postgresql:KEY=VALUE ..." (a libpq
 * conninfo string; "postgresql:" alone uses the PG* environment variables).
 */
cp_sql *cp_sql_open(const char *url, cp_error *err);
/* Closes; a load still open is rolled back. NULL allowed. */
void cp_sql_close(cp_sql *db);

/*
 * The last ledger row with status "loaded" for source_uri. *found false when none.
 * Creates the ledger table when missing.
 */
cp_status cp_sql_last_load(cp_sql *db, const char *source_uri, cp_ledger_entry *out, bool *found,
                           cp_error *err);

/*
 * The lock of one source: one load of source_uri at a time among every process and machine
 * that loads into this database (docs/design.md, "Exactly once"). The pipeline takes it
 * before it reads the source's version and holds it until the load's ledger row is
 * committed, so a load reads the version that is current once the loads before it are
 * done. Held by the connection (PostgreSQL: a session advisory lock) or the process
 * (SQLite: a lock on a byte of PATH-csvpipe-lock), so a process that dies frees it. The
 * wait polls stop() (NULL: never stops) and ends with CP_INTERRUPTED once it answers true;
 * CP_DATABASE when the database fails (cp_sql_connection_lost tells a lost connection). A
 * lock already held by this cp_sql (for any source) is released first.
 */
cp_status cp_sql_lock_source(cp_sql *db, const char *source_uri, bool (*stop)(void), cp_error *err);
/* Releases the source lock; harmless when none is held. NULL allowed. */
void cp_sql_unlock_source(cp_sql *db);

/*
 * Starts the load of one file into `dataset`: begins the transaction, creates or evolves
 * the table so that it has every column of schema with a type it fits, and deletes the
 * rows whose _source is source_uri (a new version of the same key replaces them).
 */
cp_status cp_sql_begin(cp_sql *db, const char *dataset, const cp_schema *schema,
                       const char *source_uri, cp_error *err);
/* Inserts the batch's rows; _row of row i is b->first_row + i. */
cp_status cp_sql_write(cp_sql *db, const cp_batch *b, cp_error *err);
/*
 * After the last cp_sql_write: every row is in the open transaction (PostgreSQL ends the
 * COPY, so a row the server refuses fails here, before anything else of the load is
 * published). The load stays open for cp_sql_commit. A source lock held since before
 * cp_sql_begin that the connection lost meanwhile fails the load (CP_DATABASE, a lost
 * connection).
 */
cp_status cp_sql_finish(cp_sql *db, cp_error *err);
/* Inserts the ledger row and commits. */
cp_status cp_sql_commit(cp_sql *db, const cp_ledger_row *ledger, cp_error *err);
/* Rolls the load back; harmless when none is open. */
void cp_sql_rollback(cp_sql *db);

/* Inserts one ledger row in its own transaction (skipped, rejected and failed loads). */
cp_status cp_sql_record(cp_sql *db, const cp_ledger_row *ledger, cp_error *err);

/*
 * Hand-offs (ledger.h). There is one lock per source, the source lock above: the pipeline
 * holds it around the hand-off step as around the whole load. cp_sql_handoff_begin opens a
 * transaction that holds it too (PostgreSQL: the source lock's key taken again for the
 * transaction, at once for the session that holds it, so a caller without the source lock
 * is still kept apart from every load and hand-off of the source; SQLite: BEGIN IMMEDIATE,
 * the database's write lock) and reads what the ledger knows: the source's last loaded row and the
 * last handed_off row of `version`. The lock is held until cp_sql_handoff_end, which inserts `row`
 * (NULL: none) and commits, so the caller can start a task in between: another hand-off of the same
 * source, and a task looking for its hand-off, wait for the outcome and never see half of
 * it. A connection lost in between releases the lock and records nothing. No load may be
 * open; none can begin until the end. Creates the ledger table when missing.
 */
cp_status cp_sql_handoff_begin(cp_sql *db, const char *source_uri, const char *version,
                               cp_handoff_view *out, cp_error *err);
cp_status cp_sql_handoff_end(cp_sql *db, const cp_ledger_row *row, cp_error *err);

/*
 * True when a call since the previous cp_sql_connection_lost failed because the connection
 * to the database server was lost before the load's COMMIT was sent (nothing of that load
 * is committed); clears the flag. The next call reconnects, so the caller may restart the
 * file's load. Always false for SQLite. NULL allowed.
 */
bool cp_sql_connection_lost(cp_sql *db);

#endif
