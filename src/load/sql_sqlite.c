/*
 * sql_sqlite.c - the relational loader on SQLite (sqlite:PATH).
 *
 * Storage forms (docs/design.md, "Types"): BOOLEAN and INT64 as INTEGER, DECIMAL as TEXT with
 * exactly its scale's digits ('19.90'; a NUMERIC declared type would turn it into a
 * REAL), DOUBLE as REAL (a NaN becomes NULL: SQLite cannot store one), DATE and
 * TIMESTAMP[TZ] as ISO 8601 TEXT, STRING as TEXT. Declared types cannot tell DECIMAL(18,2)
 * from DATE, so csvpipe's own type of every column is kept in csvpipe_columns; a table
 * column that has no entry there (made by hand) is typed from its declared affinity.
 *
 * A load is one transaction, BEGIN IMMEDIATE so that concurrent csvpipe processes queue
 * on the busy timeout instead of failing on a lock upgrade. Schema evolution happens in it
 * (sql_backend.h has the rules): new columns by ALTER TABLE ADD COLUMN; a widened column
 * by rebuilding the table, because SQLite has no ALTER COLUMN TYPE: a new table with the
 * new declared types, INSERT ... SELECT with an expression per changed column that turns
 * the stored values into the new type's form (INTEGER 5 -> '5.00', '19.9' -> '19.900',
 * '2024-01-31' -> '2024-01-31T00:00:00', TEXT decimals -> REAL), the old table dropped,
 * the new one renamed, and the table's indexes and triggers recreated from their SQL.
 * Views over the table keep working (legacy_alter_table during the rename).
 *
 * Values are always bound, identifiers always quoted. Rows go in blocks: one INSERT with
 * the VALUES of INSERT_BLOCK_ROWS rows (fewer when the parameter limit says so), and a
 * one-row INSERT for the rest of a batch. Both are prepared once per load; the source is
 * their parameter ?1, bound once (bindings outlive sqlite3_reset). A block is one
 * statement step instead of one per row, which is most of the per-row cost of a step.
 * The inserts are INSERT OR FAIL: a failing statement keeps the rows it already wrote
 * instead of undoing them, so SQLite needs no statement journal (with ABORT, the default,
 * every multi-row INSERT copies the pages it changes into one, and once that spills it is
 * a temporary file written for every block). The load is then broken: only a rollback is
 * possible (s->broken), so nothing of a failed statement is ever committed. A table whose
 * definition a person gave ON CONFLICT rules gets plain INSERTs: OR FAIL would override them.
 *
 * Binding (bind_rows) goes column by column through a block: a converter per column and
 * batch (conv_kind) instead of a switch on both types per cell, the validity bits of the
 * block's rows taken from the bitmap words at once, texts formatted into fixed slots
 * (s->texts) that stay valid until the step and so are bound SQLITE_STATIC, and _row as
 * ?2 + k of one parameter ?2. A NULL is bound only where the block statement holds a value
 * (s->bound), since bindings outlive sqlite3_reset. Type pairs that need converting (a
 * wider table type) go through cp_sql_value_of, as PostgreSQL's do.
 *
 * The connection keeps SQLite's default page cache (2000 KiB): a load writes every page
 * of the table and its index to the WAL about once, spilling the finished ones. (From
 * some 2M rows on, a balance of the index's upper levels rewrites a page spilled long
 * before; SQLite then re-checksums the WAL frames from there on at commit, one read and
 * one write each. 16 MiB of cache does not avoid it; 32 MiB did on the benchmark file.)
 *
 * The source lock (cp_sql_lock_source) is an open file description lock (F_OFD_SETLK) on
 * one byte of PATH-csvpipe-lock, the byte a hash of the source URI names: per source,
 * shared by every process on the machine, gone when the process ends. SQLite's own locks
 * are per database, and its write transaction starts only once the file is sniffed.
 */
#define _GNU_SOURCE
#include "load/sql_backend.h"
#include "load/sqlite_db.h"
#include "util/fault.h"
#include "util/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REBUILD_TABLE "csvpipe_rebuild"
#define INDEX_PREFIX "csvpipe_source_row_"
#define INSERT_BLOCK_ROWS 64 /* rows per multi-row INSERT; at most 64 (bind_rows) */

/*
 * How the values of one batch column become bound parameters, chosen per batch from the
 * batch column's type and the table column's type. The common cases (the same type on
 * both sides) are done here; every other pair goes through cp_sql_value_of.
 */
typedef enum conv_kind {
    CONV_NULL,    /* a column of type NULL: nothing but nulls */
    CONV_BOOLEAN, /* BOOLEAN -> INTEGER 0/1 */
    CONV_INT64,   /* INT64 -> INTEGER */
    CONV_DOUBLE,  /* DOUBLE -> REAL (SQLite turns a NaN into NULL) */
    CONV_DECIMAL, /* DECIMAL(p,s) -> TEXT of the same scale */
    CONV_DATE,    /* DATE -> TEXT */
    CONV_TIMESTAMP,
    CONV_TIMESTAMPTZ,
    CONV_STRING,  /* STRING -> TEXT straight from the batch */
    CONV_GENERIC, /* cp_sql_value_of, text in a scratch buffer */
} conv_kind;

/* A text value formatted by bind_block: decimals (42 bytes), dates, timestamps (40). */
#define TEXT_SLOT 64

typedef struct sqlite_sql {
    cp_sql base; /* first: sql.c sees this */
    sqlite3 *db;
    /* the open load */
    char *source;
    size_t ncols;
    cp_type *targets;     /* per schema column: the table column's type after evolution */
    conv_kind *convs;     /* per schema column, for the current batch */
    char *texts;          /* per row of a block, per column: a TEXT_SLOT for its text */
    cp_buf *scratch;      /* per row of a block, per column: CONV_GENERIC texts */
    uint64_t *bound;      /* per column: the rows of insert_block with a value (not NULL) bound */
    size_t block_rows;    /* rows per insert_block; 1 when there is none */
    sqlite3_stmt *insert; /* one row */
    sqlite3_stmt *insert_block; /* block_rows rows; NULL when block_rows is 1 */
    bool broken; /* an insert failed, maybe half done: the load can only be rolled back */
    /* the source lock: PATH-csvpipe-lock, opened on first use (-1 before) */
    int lock_fd;
    bool source_locked;
    off_t lock_byte;
} sqlite_sql;

static sqlite_sql *as_sqlite(cp_sql *db)
{
    return (sqlite_sql *)db;
}

static const char *declared_type(cp_type t)
{
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
    case CP_TYPE_INT64:
        return "INTEGER";
    case CP_TYPE_DOUBLE:
        return "REAL";
    default:
        return "TEXT";
    }
}

/* csvpipe's type of a column made outside csvpipe, from SQLite's affinity rules. */
static cp_type type_from_declared(const char *decl)
{
    char up[64];
    size_t n = 0;
    for (; decl && decl[n] && n + 1 < sizeof up; n++)
        up[n] = (char)(decl[n] >= 'a' && decl[n] <= 'z' ? decl[n] - 32 : decl[n]);
    up[n] = '\0';
    if (strstr(up, "INT"))
        return cp_type_of(CP_TYPE_INT64);
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return cp_type_of(CP_TYPE_DOUBLE);
    return cp_type_of(CP_TYPE_STRING); /* TEXT, BLOB, NUMERIC...: every value fits as text */
}

static void end_load(sqlite_sql *s)
{
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->insert_block);
    s->insert = s->insert_block = NULL;
    for (size_t i = 0; s->scratch && i < s->ncols * s->block_rows; i++)
        cp_buf_release(&s->scratch[i]);
    free(s->scratch);
    s->scratch = NULL;
    free(s->convs);
    s->convs = NULL;
    free(s->texts);
    s->texts = NULL;
    free(s->bound);
    s->bound = NULL;
    s->block_rows = 1;
    s->broken = false;
    free(s->targets);
    s->targets = NULL;
    s->ncols = 0;
    free(s->source);
    s->source = NULL;
}

static void rollback_quietly(sqlite_sql *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static cp_status ensure_meta(sqlite_sql *s, cp_error *err)
{
    CP_RETURN_IF_ERROR(cp_sqlite_exec(s->db, cp_sql_ledger_ddl(CP_SQL_DIALECT_SQLITE),
                                      "creating the ledger table csvpipe_loads", err));
    return cp_sqlite_exec(s->db, cp_sql_columns_ddl(CP_SQL_DIALECT_SQLITE),
                          "creating the column type table csvpipe_columns", err);
}

/* ---- open, close ---- */

static cp_sql *sq_open(const char *target, cp_error *err)
{
    sqlite_sql *s = calloc(1, sizeof *s);
    if (!s) {
        cp_error_set(err, CP_NOMEM, "out of memory opening sqlite:%s", target);
        return NULL;
    }
    s->lock_fd = -1;
    if (cp_sqlite_open(target, "relational database", 0, &s->db, err) != CP_OK) {
        free(s);
        return NULL;
    }
    return &s->base;
}

/* ---- the source lock ---- */

static cp_status try_lock_byte(cp_sql *db, void *arg, bool *got, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    struct flock fl = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = *(off_t *)arg, .l_len = 1};
    *got = fcntl(s->lock_fd, F_OFD_SETLK, &fl) == 0;
    if (*got || errno == EAGAIN || errno == EACCES)
        return CP_OK;
    return cp_error_set(err, CP_DATABASE, "%s-csvpipe-lock: cannot lock: %s",
                        sqlite3_db_filename(s->db, "main"), strerror(errno));
}

static cp_status sq_lock_source(cp_sql *db, const char *source_uri, bool (*stop)(void),
                                cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    const char *file = sqlite3_db_filename(s->db, "main");
    if (!file || !file[0])
        return CP_OK; /* an in-memory database is this process's alone */
    if (s->lock_fd < 0) {
        char path[4096 + 16];
        if (snprintf(path, sizeof path, "%s-csvpipe-lock", file) >= (int)sizeof path)
            return cp_error_set(err, CP_USAGE, "%s: path too long", file);
        s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (s->lock_fd < 0)
            return cp_error_set(err, CP_DATABASE, "%s: cannot open the lock file: %s", path,
                                strerror(errno));
    }
    off_t byte = (off_t)(cp_hash_fnv1a(source_uri, strlen(source_uri)) & 0x3fffffffffffu);
    CP_RETURN_IF_ERROR(cp_sql_wait_lock(try_lock_byte, db, &byte, stop, source_uri, err));
    s->source_locked = true;
    s->lock_byte = byte;
    return CP_OK;
}

static void sq_unlock_source(cp_sql *db)
{
    sqlite_sql *s = as_sqlite(db);
    if (!s->source_locked)
        return;
    s->source_locked = false;
    struct flock fl = {
        .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = s->lock_byte, .l_len = 1};
    if (fcntl(s->lock_fd, F_OFD_SETLK, &fl) != 0) {
        /* a lock held on would stop every other load of the source: closing drops it */
        close(s->lock_fd);
        s->lock_fd = -1;
    }
}

static void sq_rollback(cp_sql *db)
{
    sqlite_sql *s = as_sqlite(db);
    end_load(s);
    rollback_quietly(s);
}

static void sq_close(cp_sql *db)
{
    sqlite_sql *s = as_sqlite(db);
    end_load(s);
    rollback_quietly(s);
    sq_unlock_source(db);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    sqlite3_close_v2(s->db);
    free(s);
}

/* ---- the ledger ---- */

static cp_status insert_ledger(sqlite_sql *s, const cp_ledger_row *l, cp_error *err)
{
    static const char sql[] = "INSERT INTO csvpipe_loads (" CP_SQL_LEDGER_COLUMNS ") VALUES "
                              "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
    sqlite3_stmt *st;
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(s->db, sql, -1, &st, "preparing the ledger insert", err));
    char started[40], finished[40];
    cp_format_timestamp(l->started_us, true, started);
    cp_format_timestamp(l->finished_us, true, finished);
    cp_sqlite_bind_text_or_null(st, 1, l->dataset);
    cp_sqlite_bind_text_or_null(st, 2, l->source_uri);
    cp_sqlite_bind_text_or_null(st, 3, l->version);
    cp_sqlite_bind_text_or_null(st, 4, l->sequencer);
    if (l->size_bytes >= 0)
        sqlite3_bind_int64(st, 5, l->size_bytes);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)l->rows_loaded);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)l->rows_rejected);
    sqlite3_bind_int64(st, 8, l->restarts);
    sqlite3_bind_text(st, 9, started, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, finished, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, (l->finished_us - l->started_us) / 1000);
    sqlite3_bind_text(st, 12, cp_load_status_name(l->status), -1, SQLITE_STATIC);
    cp_sqlite_bind_text_or_null(st, 13, l->error);
    cp_sqlite_bind_text_or_null(st, 14, l->outputs_json);
    cp_sqlite_bind_text_or_null(st, 15, l->schema_json);
    cp_status rc = CP_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = cp_sqlite_fail(s->db, err, "writing the ledger row of %s",
                            l->source_uri ? l->source_uri : "?");
    sqlite3_finalize(st);
    return rc;
}

static void copy_column(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", v ? (const char *)v : "");
}

static cp_status sq_last_load(cp_sql *db, const char *source_uri, cp_ledger_entry *out, bool *found,
                              cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    CP_RETURN_IF_ERROR(ensure_meta(s, err));
    sqlite3_stmt *st;
    CP_RETURN_IF_ERROR(
        cp_sqlite_prepare(s->db,
                          "SELECT version, sequencer, rows_loaded, dataset FROM csvpipe_loads "
                          "WHERE source_uri = ?1 AND status = 'loaded' ORDER BY id DESC LIMIT 1",
                          -1, &st, "preparing the ledger query", err));
    sqlite3_bind_text(st, 1, source_uri, -1, SQLITE_STATIC);
    cp_status rc = CP_OK;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        copy_column(out->version, sizeof out->version, st, 0);
        copy_column(out->sequencer, sizeof out->sequencer, st, 1);
        out->rows_loaded = (uint64_t)sqlite3_column_int64(st, 2);
        copy_column(out->dataset, sizeof out->dataset, st, 3);
        *found = true;
    } else if (step != SQLITE_DONE) {
        rc = cp_sqlite_fail(s->db, err, "reading the ledger for %s", source_uri);
    }
    sqlite3_finalize(st);
    return rc;
}

static cp_status sq_record(cp_sql *db, const cp_ledger_row *ledger, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    CP_RETURN_IF_ERROR(ensure_meta(s, err));
    return insert_ledger(s, ledger, err); /* one statement: its own transaction */
}

/* ---- hand-offs ---- */

static cp_status sq_handoff_begin(cp_sql *db, const char *source_uri, const char *version,
                                  cp_handoff_view *out, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    CP_RETURN_IF_ERROR(ensure_meta(s, err));
    CP_RETURN_IF_ERROR(cp_sqlite_exec(s->db, "BEGIN IMMEDIATE", "starting a hand-off", err));
    bool found = false;
    cp_status rc = sq_last_load(db, source_uri, &out->last_load, &found, err);
    out->loaded = found;
    sqlite3_stmt *st = NULL;
    if (rc == CP_OK)
        rc =
            cp_sqlite_prepare(s->db,
                              "SELECT outputs, sequencer FROM csvpipe_loads WHERE source_uri = ?1 "
                              "AND version = ?2 AND status = 'handed_off' ORDER BY id DESC LIMIT 1",
                              -1, &st, "preparing the hand-off query", err);
    if (rc == CP_OK) {
        sqlite3_bind_text(st, 1, source_uri, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            cp_sql_outputs_task((const char *)sqlite3_column_text(st, 0), out->task_arn,
                                sizeof out->task_arn);
            copy_column(out->sequencer, sizeof out->sequencer, st, 1);
            out->handed_off = true;
        } else if (step != SQLITE_DONE) {
            rc = cp_sqlite_fail(s->db, err, "reading the hand-off of %s", source_uri);
        }
    }
    sqlite3_finalize(st);
    if (rc != CP_OK)
        rollback_quietly(s);
    return rc;
}

static cp_status sq_handoff_end(cp_sql *db, const cp_ledger_row *row, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    cp_status st = row ? insert_ledger(s, row, err) : CP_OK;
    if (row && st == CP_OK)
        st = cp_sqlite_exec(s->db, "COMMIT", "committing the hand-off", err);
    if (!row || st != CP_OK)
        rollback_quietly(s);
    return st;
}

/* ---- the table: reading, creating, evolving ---- */

static cp_status save_column_type(sqlite_sql *s, const char *dataset, const char *column, cp_type t,
                                  cp_error *err)
{
    sqlite3_stmt *st;
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(
        s->db,
        "INSERT OR REPLACE INTO csvpipe_columns (dataset, column_name, type) VALUES (?1, ?2, ?3)",
        -1, &st, "preparing the column type update", err));
    char tname[32];
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, cp_type_format(t, tname, sizeof tname), -1, SQLITE_STATIC);
    cp_status rc = CP_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = cp_sqlite_fail(s->db, err, "recording the type of column \"%s\" of table \"%s\"",
                            column, dataset);
    sqlite3_finalize(st);
    return rc;
}

/* The table's columns (none when there is no such table) with csvpipe's types. */
static cp_status read_table(sqlite_sql *s, const char *dataset, cp_sql_table *t, cp_error *err)
{
    sqlite3_stmt *st = NULL;
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(
        s->db,
        "SELECT p.name, p.type, p.\"notnull\", m.type FROM pragma_table_info(?1, 'main') AS p "
        "LEFT JOIN csvpipe_columns AS m ON m.dataset = ?1 AND m.column_name = p.name "
        "ORDER BY p.cid",
        -1, &st, "preparing the table description", err));
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    cp_status rc = CP_OK;
    int step;
    while (rc == CP_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *declared = (const char *)sqlite3_column_text(st, 1);
        const char *saved = (const char *)sqlite3_column_text(st, 3);
        cp_type type;
        if (!saved || !cp_type_parse(saved, &type))
            type = type_from_declared(declared); /* a column made by hand */
        rc = cp_sql_table_add(t, (const char *)sqlite3_column_text(st, 0), declared, type, true,
                              sqlite3_column_int(st, 2) != 0);
        if (rc != CP_OK)
            rc = cp_error_set(err, rc, "out of memory reading table \"%s\"", dataset);
    }
    if (rc == CP_OK && step != SQLITE_DONE)
        rc = cp_sqlite_fail(s->db, err, "describing table \"%s\"", dataset);
    sqlite3_finalize(st);
    return rc;
}

static cp_status index_name(cp_buf *sql, const char *dataset)
{
    cp_buf name;
    cp_buf_init(&name, CP_BUF_UNLIMITED);
    cp_status st = cp_buf_append_str(&name, INDEX_PREFIX);
    if (st == CP_OK)
        st = cp_buf_append_str(&name, dataset);
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, name.data);
    cp_buf_release(&name);
    return st;
}

static cp_status create_table(sqlite_sql *s, const char *dataset, const cp_schema *schema,
                              cp_buf *sql, cp_error *err)
{
    const int limit = sqlite3_limit(s->db, SQLITE_LIMIT_COLUMN, -1);
    if (schema->ncolumns + 2 > (size_t)limit) {
        const char *file = sqlite3_db_filename(s->db, "main");
        return cp_error_set(err, CP_TOO_MANY_COLUMNS,
                            "sqlite:%s: table \"%s\" would have %zu columns (the file's %zu, "
                            "_source and _row), more than the %d a SQLite table holds: load the "
                            "file with --no-sql (Parquet, NDJSON and the item store take any "
                            "width)",
                            file && file[0] ? file : "?", dataset, schema->ncolumns + 2,
                            schema->ncolumns, limit);
    }
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "CREATE TABLE ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " (");
    for (size_t i = 0; st == CP_OK && i < schema->ncolumns; i++) {
        st = cp_sql_quote_ident(sql, schema->columns[i].name);
        if (st == CP_OK)
            st = cp_buf_printf(sql, " %s, ", declared_type(schema->columns[i].type));
    }
    if (st == CP_OK)
        st = cp_buf_append_str(sql, "\"_source\" TEXT NOT NULL, \"_row\" INTEGER NOT NULL); "
                                    "CREATE UNIQUE INDEX ");
    if (st == CP_OK)
        st = index_name(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " ON ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " (\"_source\", \"_row\");");
    if (st != CP_OK)
        return cp_error_set(err, st, "building the definition of table \"%s\"", dataset);
    char doing[300];
    snprintf(doing, sizeof doing, "creating table \"%s\"", dataset);
    CP_RETURN_IF_ERROR(cp_sqlite_exec(s->db, sql->data, doing, err));

    /* types of a table of the same name dropped by hand would still be there */
    sqlite3_stmt *del;
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(s->db, "DELETE FROM csvpipe_columns WHERE dataset = ?1",
                                         -1, &del, "preparing the column type cleanup", err));
    sqlite3_bind_text(del, 1, dataset, -1, SQLITE_STATIC);
    int step = sqlite3_step(del);
    sqlite3_finalize(del);
    if (step != SQLITE_DONE)
        return cp_sqlite_fail(s->db, err, "clearing old column types of table \"%s\"", dataset);
    for (size_t i = 0; i < schema->ncolumns; i++)
        CP_RETURN_IF_ERROR(
            save_column_type(s, dataset, schema->columns[i].name, schema->columns[i].type, err));
    return CP_OK;
}

static cp_status add_column(sqlite_sql *s, const char *dataset, const cp_column *c, cp_buf *sql,
                            cp_error *err)
{
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "ALTER TABLE ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " ADD COLUMN ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, c->name);
    if (st == CP_OK)
        st = cp_buf_printf(sql, " %s", declared_type(c->type));
    if (st != CP_OK)
        return cp_error_set(err, st, "building ALTER TABLE for table \"%s\"", dataset);
    if (sqlite3_exec(s->db, sql->data, NULL, NULL, NULL) != SQLITE_OK)
        return cp_sqlite_fail(s->db, err, "adding column \"%s\" to table \"%s\"", c->name, dataset);
    return save_column_type(s, dataset, c->name, c->type, err);
}

static cp_status append_zeros(cp_buf *sql, unsigned n)
{
    CP_RETURN_IF_ERROR(cp_buf_append_char(sql, '\''));
    for (unsigned i = 0; i < n; i++)
        CP_RETURN_IF_ERROR(cp_buf_append_char(sql, '0'));
    return cp_buf_append_char(sql, '\'');
}

/*
 * Appends the SQL expression that turns column q's stored values of type `from` into the
 * stored form of `to`; *same when the values stay as they are.
 */
static cp_status convert_expr(cp_buf *sql, const char *q, cp_type from, cp_type to, bool *same)
{
    *same = false;
    if (from.id == CP_TYPE_NULL || cp_type_equal(from, to) ||
        (from.id == CP_TYPE_DECIMAL && to.id == CP_TYPE_DECIMAL && from.scale == to.scale)) {
        *same = true;
        return cp_buf_append_str(sql, q);
    }
    if (to.id == CP_TYPE_DOUBLE && (from.id == CP_TYPE_INT64 || from.id == CP_TYPE_DECIMAL))
        return cp_buf_printf(sql, "CAST(%s AS REAL)", q);
    if (from.id == CP_TYPE_DATE && to.id == CP_TYPE_TIMESTAMP)
        return cp_buf_printf(sql, "%s || 'T00:00:00'", q);
    if (from.id == CP_TYPE_INT64 && to.id == CP_TYPE_DECIMAL) {
        if (to.scale == 0)
            return cp_buf_printf(sql, "CAST(%s AS TEXT)", q);
        CP_RETURN_IF_ERROR(cp_buf_printf(sql, "CAST(%s AS TEXT) || '.' || ", q));
        return append_zeros(sql, to.scale);
    }
    if (from.id == CP_TYPE_DECIMAL && to.id == CP_TYPE_DECIMAL && to.scale > from.scale) {
        /* pads the fraction to the new scale, whatever the scale the text was written in */
        CP_RETURN_IF_ERROR(cp_buf_printf(sql,
                                         "CASE WHEN %s IS NULL THEN NULL WHEN instr(%s, '.') = 0 "
                                         "THEN %s || '.' || ",
                                         q, q, q));
        CP_RETURN_IF_ERROR(append_zeros(sql, to.scale));
        CP_RETURN_IF_ERROR(cp_buf_printf(sql, " ELSE %s || substr(", q));
        CP_RETURN_IF_ERROR(append_zeros(sql, to.scale));
        return cp_buf_printf(sql, ", 1, %u - (length(%s) - instr(%s, '.'))) END", to.scale, q, q);
    }
    return CP_INTERNAL;
}

/* Saves the SQL of the table's indexes and triggers, which DROP TABLE takes along. */
static cp_status saved_schema_sql(sqlite_sql *s, const char *dataset, cp_buf *out, cp_error *err)
{
    sqlite3_stmt *st;
    CP_RETURN_IF_ERROR(
        cp_sqlite_prepare(s->db,
                          "SELECT sql FROM sqlite_master WHERE tbl_name = ?1 COLLATE NOCASE AND "
                          "type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type",
                          -1, &st, "preparing the index query", err));
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    cp_status rc = CP_OK;
    int step;
    while (rc == CP_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = cp_buf_append_str(out, (const char *)sqlite3_column_text(st, 0));
        if (rc == CP_OK)
            rc = cp_buf_append_str(out, ";\n");
    }
    if (rc == CP_OK && step != SQLITE_DONE)
        rc = cp_sqlite_fail(s->db, err, "reading the indexes of table \"%s\"", dataset);
    sqlite3_finalize(st);
    return rc;
}

/* Rebuilds the table with every column's `after` type (see the top of the file). */
static cp_status rebuild_table(sqlite_sql *s, const char *dataset, const cp_sql_table *t,
                               cp_buf *sql, cp_error *err)
{
    const cp_sql_column *cols = t->cols;
    const size_t n = t->n;
    cp_buf saved, q;
    cp_buf_init(&saved, CP_BUF_UNLIMITED);
    cp_buf_init(&q, CP_BUF_UNLIMITED);
    char doing[300];
    snprintf(doing, sizeof doing, "rebuilding table \"%s\" with wider column types", dataset);
    cp_status st = saved_schema_sql(s, dataset, &saved, err);
    if (st != CP_OK)
        goto out;

    cp_buf_reset(sql);
    st = cp_buf_append_str(sql, "DROP TABLE IF EXISTS \"" REBUILD_TABLE "\"; "
                                "CREATE TABLE \"" REBUILD_TABLE "\" (");
    for (size_t i = 0; st == CP_OK && i < n; i++) {
        if (i)
            st = cp_buf_append_str(sql, ", ");
        if (st == CP_OK)
            st = cp_sql_quote_ident(sql, cols[i].name);
        if (st == CP_OK)
            st = cp_buf_printf(sql, " %s%s", declared_type(cols[i].after),
                               cols[i].notnull ? " NOT NULL" : "");
    }
    if (st == CP_OK)
        st = cp_buf_append_str(sql, "); INSERT INTO \"" REBUILD_TABLE "\" SELECT ");
    for (size_t i = 0; st == CP_OK && i < n; i++) {
        bool same;
        cp_buf_reset(&q);
        st = cp_sql_quote_ident(&q, cols[i].name);
        if (st == CP_OK && i)
            st = cp_buf_append_str(sql, ", ");
        if (st == CP_OK)
            st = convert_expr(sql, q.data, cols[i].type, cols[i].after, &same);
    }
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " FROM ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, "; DROP TABLE ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, "; ALTER TABLE \"" REBUILD_TABLE "\" RENAME TO ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, ";\n");
    if (st == CP_OK && saved.len)
        st = cp_buf_append(sql, saved.data, saved.len);
    if (st != CP_OK) {
        st = cp_error_set(err, st, "%s: cannot build the statements", doing);
        goto out;
    }
    /* views that name the table must not be checked (or rewritten) while it is renamed */
    st = cp_sqlite_exec(s->db, "PRAGMA legacy_alter_table = ON", doing, err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, sql->data, doing, err);
    sqlite3_exec(s->db, "PRAGMA legacy_alter_table = OFF", NULL, NULL, NULL);
out:
    cp_buf_release(&saved);
    cp_buf_release(&q);
    return st;
}

/* Brings an existing table to the file's schema, as planned (cp_sql_plan_table). */
static cp_status evolve_table(sqlite_sql *s, const char *dataset, const cp_schema *schema,
                              const cp_sql_table *t, const cp_sql_plan *plan, cp_buf *sql,
                              cp_error *err)
{
    bool rebuild = false;
    cp_buf probe;
    cp_buf_init(&probe, CP_BUF_UNLIMITED);
    for (size_t j = 0; plan->widen && j < t->n; j++) {
        const cp_sql_column *c = &t->cols[j];
        bool same;
        if (cp_type_equal(c->type, c->after))
            continue;
        cp_buf_reset(&probe);
        if (convert_expr(&probe, "x", c->type, c->after, &same) != CP_OK) {
            cp_buf_release(&probe);
            return cp_error_set(err, CP_INTERNAL, "no conversion for column \"%s\"", c->name);
        }
        if (!same || strcmp(declared_type(c->type), declared_type(c->after)) != 0)
            rebuild = true;
    }
    cp_buf_release(&probe);
    if (rebuild)
        CP_RETURN_IF_ERROR(rebuild_table(s, dataset, t, sql, err));
    for (size_t j = 0; plan->widen && j < t->n; j++)
        if (!cp_type_equal(t->cols[j].type, t->cols[j].after))
            CP_RETURN_IF_ERROR(
                save_column_type(s, dataset, t->cols[j].name, t->cols[j].after, err));
    for (size_t i = 0; plan->add && i < schema->ncolumns; i++)
        if (!cp_sql_table_find(t, CP_SQL_DIALECT_SQLITE, schema->columns[i].name))
            CP_RETURN_IF_ERROR(add_column(s, dataset, &schema->columns[i], sql, err));
    return CP_OK;
}

static cp_status delete_source(sqlite_sql *s, const char *dataset, cp_buf *sql, cp_error *err)
{
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "DELETE FROM ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " WHERE \"_source\" = ?1");
    if (st != CP_OK)
        return cp_error_set(err, st, "building DELETE for table \"%s\"", dataset);
    sqlite3_stmt *del;
    char doing[300];
    snprintf(doing, sizeof doing, "preparing the delete of old rows in table \"%s\"", dataset);
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(s->db, sql->data, (int)sql->len, &del, doing, err));
    sqlite3_bind_text(del, 1, s->source, -1, SQLITE_STATIC);
    cp_status rc = CP_OK;
    if (sqlite3_step(del) != SQLITE_DONE)
        rc = cp_sqlite_fail(s->db, err, "deleting the previous rows of %s from table \"%s\"",
                            s->source, dataset);
    sqlite3_finalize(del);
    return rc;
}

/* Whether the table's definition has an ON CONFLICT clause (only a hand-made one can). */
static bool declares_conflict_rules(sqlite3 *db, const char *dataset)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 "
                           "COLLATE NOCASE AND upper(sql) LIKE '%ON CONFLICT%'",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

/*
 * Prepares an INSERT of nrows rows into *out. Parameters: ?1 the source, ?2 the _row of
 * the first row (row k has ?2 + k), then the schema's columns of row k (from 0) at
 * ?(3 + k * ncolumns) onwards.
 */
static cp_status prepare_insert(sqlite_sql *s, const char *dataset, const cp_schema *schema,
                                size_t nrows, sqlite3_stmt **out, cp_buf *sql, cp_error *err)
{
    cp_buf_reset(sql);
    /* OR FAIL would override conflict rules a person declared on the table */
    cp_status st = cp_buf_append_str(
        sql, declares_conflict_rules(s->db, dataset) ? "INSERT INTO " : "INSERT OR FAIL INTO ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " (");
    for (size_t i = 0; st == CP_OK && i < schema->ncolumns; i++) {
        st = cp_sql_quote_ident(sql, schema->columns[i].name);
        if (st == CP_OK)
            st = cp_buf_append_str(sql, ", ");
    }
    if (st == CP_OK)
        st = cp_buf_append_str(sql, "\"_source\", \"_row\") VALUES ");
    size_t p = 3;
    for (size_t k = 0; st == CP_OK && k < nrows; k++) {
        st = cp_buf_append_str(sql, k ? ", (" : "(");
        for (size_t i = 0; st == CP_OK && i < schema->ncolumns; i++)
            st = cp_buf_printf(sql, "?%zu, ", p++);
        if (st == CP_OK)
            st = k ? cp_buf_printf(sql, "?1, ?2 + %zu)", k) : cp_buf_append_str(sql, "?1, ?2)");
    }
    if (st != CP_OK)
        return cp_error_set(err, st, "building INSERT for table \"%s\"", dataset);
    char doing[300];
    snprintf(doing, sizeof doing, "preparing the insert into table \"%s\"", dataset);
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(s->db, sql->data, (int)sql->len, out, doing, err));
    /* s->source stays put until end_load, which finalizes the statement first */
    if (sqlite3_bind_text(*out, 1, s->source, -1, SQLITE_STATIC) != SQLITE_OK)
        return cp_sqlite_fail(s->db, err, "%s", doing);
    return CP_OK;
}

/* Rows per multi-row INSERT: INSERT_BLOCK_ROWS, or fewer to stay within the parameter limit. */
static size_t block_rows_for(sqlite3 *db, size_t ncols)
{
    const size_t max_params = (size_t)sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    size_t rows = max_params < 2 + ncols ? 1 : ncols ? (max_params - 2) / ncols : INSERT_BLOCK_ROWS;
    if (rows > INSERT_BLOCK_ROWS)
        rows = INSERT_BLOCK_ROWS;
    return rows ? rows : 1;
}

static cp_status sq_begin(cp_sql *db, const char *dataset, const cp_schema *schema,
                          const char *source_uri, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    cp_sql_table table;
    cp_sql_table_init(&table);
    cp_sql_plan plan;
    cp_buf sql;
    cp_buf_init(&sql, CP_BUF_UNLIMITED);
    cp_status st = CP_OK;

    end_load(s);
    s->ncols = schema->ncolumns;
    s->block_rows = block_rows_for(s->db, schema->ncolumns);
    s->source = strdup(source_uri);
    s->targets = calloc(schema->ncolumns + 1, sizeof *s->targets);
    s->scratch = calloc(schema->ncolumns * s->block_rows + 1, sizeof *s->scratch);
    s->convs = calloc(schema->ncolumns + 1, sizeof *s->convs);
    s->texts = malloc(schema->ncolumns * s->block_rows * TEXT_SLOT + 1);
    /* a statement just prepared has NULL bound to every parameter */
    s->bound = calloc(schema->ncolumns + 1, sizeof *s->bound);
    if (!s->source || !s->targets || !s->scratch || !s->convs || !s->texts || !s->bound) {
        s->ncols = 0;
        st = cp_error_set(err, CP_NOMEM, "out of memory starting the load of %s", source_uri);
        goto out;
    }
    for (size_t i = 0; i < schema->ncolumns * s->block_rows; i++)
        cp_buf_init(&s->scratch[i], 4096);

    char doing[300];
    snprintf(doing, sizeof doing, "starting the load of %s into table \"%s\"", source_uri, dataset);
    st = cp_sqlite_exec(s->db, "BEGIN IMMEDIATE", doing, err);
    if (st == CP_OK)
        st = ensure_meta(s, err);
    if (st == CP_OK)
        st = read_table(s, dataset, &table, err);
    if (st == CP_OK)
        st = cp_sql_plan_table(CP_SQL_DIALECT_SQLITE, dataset, schema, &table, s->targets, &plan,
                               err);
    if (st == CP_OK)
        st = plan.create ? create_table(s, dataset, schema, &sql, err)
                         : evolve_table(s, dataset, schema, &table, &plan, &sql, err);
    if (st == CP_OK)
        st = delete_source(s, dataset, &sql, err);
    if (st == CP_OK)
        st = prepare_insert(s, dataset, schema, 1, &s->insert, &sql, err);
    if (st == CP_OK && s->block_rows > 1)
        st = prepare_insert(s, dataset, schema, s->block_rows, &s->insert_block, &sql, err);
out:
    cp_sql_table_release(&table);
    cp_buf_release(&sql);
    if (st != CP_OK)
        sq_rollback(db);
    return st;
}

/* The converter of batch column type `from` into table column type `to`. */
static conv_kind conv_of(cp_type from, cp_type to)
{
    if (from.id == CP_TYPE_NULL)
        return CONV_NULL;
    if (from.id != to.id || (from.id == CP_TYPE_DECIMAL && from.scale != to.scale))
        return CONV_GENERIC;
    switch (from.id) {
    case CP_TYPE_BOOLEAN:
        return CONV_BOOLEAN;
    case CP_TYPE_INT64:
        return CONV_INT64;
    case CP_TYPE_DOUBLE:
        return CONV_DOUBLE;
    case CP_TYPE_DECIMAL:
        return CONV_DECIMAL;
    case CP_TYPE_DATE:
        return CONV_DATE;
    case CP_TYPE_TIMESTAMP:
        return CONV_TIMESTAMP;
    case CP_TYPE_TIMESTAMPTZ:
        return CONV_TIMESTAMPTZ;
    case CP_TYPE_STRING:
        return CONV_STRING;
    default:
        return CONV_GENERIC;
    }
}

/*
 * The CONV_GENERIC path: cp_sql_value_of, its text kept in *scratch until the step; *st
 * its status, *is_null whether NULL was bound.
 */
static int bind_generic(sqlite_sql *s, sqlite3_stmt *ins, int p, const cp_batch *b, size_t i,
                        size_t r, cp_buf *scratch, cp_status *st, bool *is_null)
{
    cp_sql_value v;
    *is_null = false;
    *st = cp_sql_value_of(b, i, r, s->targets[i], scratch, &v);
    if (*st != CP_OK)
        return SQLITE_OK;
    switch (v.kind) {
    case CP_SQL_VALUE_INT:
        return sqlite3_bind_int64(ins, p, v.i);
    case CP_SQL_VALUE_REAL:
        return sqlite3_bind_double(ins, p, v.f);
    case CP_SQL_VALUE_TEXT:
        return sqlite3_bind_text64(ins, p, v.text, v.len, SQLITE_STATIC, SQLITE_UTF8);
    case CP_SQL_VALUE_NULL:
        break;
    }
    *is_null = true;
    return sqlite3_bind_null(ins, p);
}

/*
 * Binds row r of column c (which has a value) as parameter p with a direct converter
 * (not CONV_NULL or CONV_GENERIC); a text is formatted into slot and bound SQLITE_STATIC.
 */
static int bind_value(sqlite3_stmt *ins, int p, conv_kind conv, const cp_column_data *c, size_t r,
                      unsigned scale, char *slot)
{
    size_t len;
    switch (conv) {
    case CONV_BOOLEAN:
        return sqlite3_bind_int64(ins, p, c->v.boolean[r] ? 1 : 0);
    case CONV_INT64:
        return sqlite3_bind_int64(ins, p, c->v.i64[r]);
    case CONV_DOUBLE:
        return sqlite3_bind_double(ins, p, c->v.f64[r]);
    case CONV_DECIMAL:
        len = cp_format_decimal(c->v.decimal[r], scale, slot);
        break;
    case CONV_DATE:
        len = cp_format_date(c->v.date[r], slot);
        break;
    case CONV_TIMESTAMP:
    case CONV_TIMESTAMPTZ:
        len = cp_format_timestamp(c->v.i64[r], conv == CONV_TIMESTAMPTZ, slot);
        break;
    case CONV_STRING: {
        const uint32_t *off = &c->v.offsets[r];
        /* an empty string must not bind as NULL */
        const char *v = c->strings.data ? c->strings.data + off[0] : "";
        return sqlite3_bind_text64(ins, p, v, off[1] - off[0], SQLITE_STATIC, SQLITE_UTF8);
    }
    default:
        return SQLITE_MISUSE;
    }
    return sqlite3_bind_text64(ins, p, slot, len, SQLITE_STATIC, SQLITE_UTF8);
}

/* Bit k: row r0 + k has a value, for k < n <= 64. */
static uint64_t valid_bits(const uint64_t *validity, size_t r0, size_t n)
{
    const size_t w = r0 >> 6, shift = r0 & 63;
    uint64_t v = validity[w] >> shift;
    if (shift && shift + n > 64)
        v |= validity[w + 1] << (64 - shift);
    return n == 64 ? v : v & (((uint64_t)1 << n) - 1);
}

/*
 * Binds rows r0 to r0 + n - 1 (n <= 64) of b as rows 0 to n - 1 of ins, column by column
 * with the converters of s->convs: row k's columns are the parameters from 3 + k * ncols,
 * and ?2, the first row's _row. Formatted texts go to s->texts (or s->scratch), one slot
 * per column and row, and stay there until the step: they are bound SQLITE_STATIC.
 * bound (NULL for the one-row insert) has per column the rows of insert_block that have
 * a value (not NULL) bound; bindings outlive sqlite3_reset, so a NULL already bound is
 * left as it is.
 */
static cp_status bind_rows(sqlite_sql *s, sqlite3_stmt *ins, const cp_batch *b, size_t r0, size_t n,
                           uint64_t *bound, cp_error *err)
{
    const size_t ncols = s->ncols;
    const uint64_t rows = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    cp_status st = CP_OK;
    int rc = sqlite3_bind_int64(ins, 2, (sqlite3_int64)(b->first_row + r0));
    for (size_t i = 0; i < ncols && rc == SQLITE_OK; i++) {
        const cp_column_data *c = &b->cols[i];
        const conv_kind conv = s->convs[i];
        const int p0 = 3 + (int)i, step = (int)ncols;
        const uint64_t valid = conv == CONV_NULL ? 0 : valid_bits(c->validity, r0, n);
        uint64_t now = valid; /* the rows that get a value */
        for (uint64_t m = (bound ? bound[i] : rows) & ~valid; m; m &= m - 1) {
            const size_t k = (size_t)__builtin_ctzll(m);
            rc = sqlite3_bind_null(ins, p0 + (int)k * step);
            if (rc != SQLITE_OK)
                goto out;
        }
        char *texts = s->texts + i * s->block_rows * TEXT_SLOT;
        for (uint64_t m = valid; m; m &= m - 1) {
            const size_t k = (size_t)__builtin_ctzll(m);
            const int p = p0 + (int)k * step;
            if (conv != CONV_GENERIC) {
                rc =
                    bind_value(ins, p, conv, c, r0 + k, s->targets[i].scale, texts + k * TEXT_SLOT);
            } else {
                bool is_null;
                rc = bind_generic(s, ins, p, b, i, r0 + k, &s->scratch[i * s->block_rows + k], &st,
                                  &is_null);
                if (st != CP_OK) {
                    cp_error_set(err, st, "converting row %llu, column \"%s\"",
                                 (unsigned long long)(b->first_row + r0 + k),
                                 b->schema->columns[i].name);
                    goto out;
                }
                if (is_null)
                    now &= ~((uint64_t)1 << k);
            }
            if (rc != SQLITE_OK)
                goto out;
        }
        if (bound)
            bound[i] = now;
    }
out:
    if (st == CP_OK && rc != SQLITE_OK)
        st = cp_sqlite_fail(s->db, err, "binding rows %llu to %llu of %s",
                            (unsigned long long)(b->first_row + r0),
                            (unsigned long long)(b->first_row + r0 + n - 1), s->source);
    if (st != CP_OK && bound) /* what is bound now is not known: NULLs must be bound again */
        memset(bound, 0xff, ncols * sizeof *bound);
    return st;
}

static cp_status step_insert(sqlite_sql *s, sqlite3_stmt *ins, uint64_t first, size_t nrows,
                             cp_error *err)
{
    int rc = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (rc == SQLITE_DONE)
        return CP_OK;
    s->broken = true;
    if (nrows == 1)
        return cp_sqlite_fail(s->db, err, "inserting row %llu of %s", (unsigned long long)first,
                              s->source);
    return cp_sqlite_fail(s->db, err, "inserting rows %llu to %llu of %s",
                          (unsigned long long)first, (unsigned long long)(first + nrows - 1),
                          s->source);
}

static cp_status sq_write(cp_sql *db, const cp_batch *b, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    if (s->broken)
        return cp_error_set(err, CP_USAGE, "loading %s: an insert failed before; roll back",
                            s->source);
    CP_RETURN_IF_ERROR(cp_sql_check_batch(b, s->targets, s->ncols, err));
    for (size_t i = 0; i < s->ncols; i++)
        s->convs[i] = conv_of(b->schema->columns[i].type, s->targets[i]);
    size_t r = 0;
    if (s->insert_block) {
        for (; b->nrows - r >= s->block_rows; r += s->block_rows) {
            CP_RETURN_IF_ERROR(bind_rows(s, s->insert_block, b, r, s->block_rows, s->bound, err));
            CP_RETURN_IF_ERROR(
                step_insert(s, s->insert_block, b->first_row + r, s->block_rows, err));
        }
    }
    for (; r < b->nrows; r++) {
        CP_RETURN_IF_ERROR(bind_rows(s, s->insert, b, r, 1, NULL, err));
        CP_RETURN_IF_ERROR(step_insert(s, s->insert, b->first_row + r, 1, err));
    }
    return CP_OK;
}

static cp_status sq_commit(cp_sql *db, const cp_ledger_row *ledger, cp_error *err)
{
    sqlite_sql *s = as_sqlite(db);
    /* a pending statement would hold the transaction open */
    sqlite3_finalize(s->insert);
    sqlite3_finalize(s->insert_block);
    s->insert = s->insert_block = NULL;
    cp_status st = s->broken ? cp_error_set(err, CP_USAGE,
                                            "committing %s: an insert failed before; nothing "
                                            "of the load is committed",
                                            s->source)
                             : insert_ledger(s, ledger, err);
    if (st == CP_OK) {
        cp_fault_point("ledger-row");
        st = cp_sqlite_exec(s->db, "COMMIT", "committing the load", err);
    }
    if (st != CP_OK)
        rollback_quietly(s);
    end_load(s);
    return st;
}

static const char *const sqlite_schemes[] = {"sqlite:", NULL};

const cp_sql_backend cp_sql_sqlite_backend = {
    .schemes = sqlite_schemes,
    .open = sq_open,
    .close = sq_close,
    .last_load = sq_last_load,
    .lock_source = sq_lock_source,
    .unlock_source = sq_unlock_source,
    .begin = sq_begin,
    .write = sq_write,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .record = sq_record,
    .handoff_begin = sq_handoff_begin,
    .handoff_end = sq_handoff_end,
};
