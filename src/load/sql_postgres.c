/*
 * sql_postgres.c - the relational loader on PostgreSQL (postgresql://URI, postgres://URI,
 * or postgresql:CONNINFO; PG* environment variables, TLS settings such as sslmode and
 * sslrootcert, and ~/.pgpass are libpq's and pass through unchanged).
 *
 * Rows go in with COPY ... FROM STDIN (FORMAT binary), encoded straight from the typed
 * column batches: boolean (1 byte), bigint (8 bytes), numeric (base-10000 digits with
 * weight, sign and display scale), double precision (IEEE bits), date (days since
 * 2000-01-01), timestamp and timestamptz (microseconds since 2000-01-01 00:00 UTC) and
 * text (the UTF-8 bytes), all big-endian; a null is a length of -1. docs/design.md's types:
 * BOOLEAN boolean, INT64 bigint, DECIMAL(p,s) numeric(p,s), DOUBLE double precision, DATE
 * date, TIMESTAMP timestamp, TIMESTAMPTZ timestamptz, STRING text; a column that only
 * ever held nulls is text and csvpipe_columns remembers it as NULL, so it can take any
 * type later. Every table also has "_source" text and "_row" bigint, unique together.
 *
 * The source lock (cp_sql_lock_source) is a session advisory lock on a hash of the source
 * URI, taken with pg_try_advisory_lock in a polling wait (so the wait can stop for the
 * Lambda deadline) and gone with the connection: a load whose connection was lost and made
 * again has lost it and fails (a lost connection, so the pipeline starts it again).
 *
 * A load is one transaction: BEGIN, transaction-scoped advisory locks, the table created
 * or evolved, the source's previous rows deleted, COPY (kept open across cp_sql_write and
 * ended by cp_sql_finish), the ledger row, COMMIT. Locks: per dataset (a hash of its
 * name) and per source (the same key as the source lock, which a session holding it
 * takes again at once; a hand-off's transaction takes that key too, so a source has one
 * lock whatever the step). A load
 * that needs no DDL takes the dataset lock shared, so loads of different files into one
 * table COPY in parallel; one that must create or alter the table rolls back and starts
 * again with the lock exclusive (never upgrading a held lock, which could deadlock), so
 * table creation and schema changes never race and see no load in flight. csvpipe's own
 * tables are created once per connection under a third lock (CREATE TABLE IF NOT EXISTS
 * races between concurrent creators).
 *
 * Identifiers are always quoted (cp_sql_quote_ident); values only travel as parameters of
 * PQexecParams or in the COPY stream, never in SQL text.
 *
 * A connection lost before COMMIT was sent marks the cp_sql (cp_sql_connection_lost) and
 * the next call reconnects (PQreset); the pipeline then restarts the file's load. After
 * COMMIT was sent nothing is marked: the outcome is unknown and the ledger decides.
 */
#include "load/sql_backend.h"
#include "table/cell.h"
#include "util/fault.h"
#include "util/log.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* advisory lock classes (first key of pg_advisory_xact_lock(int4, int4)): "cp" + n */
#define LOCK_META 0x63700001
#define LOCK_DATASET 0x63700002
#define LOCK_SOURCE 0x63700003

#define COPY_FLUSH_BYTES (1u << 20)
#define COPY_BUF_MAX ((size_t)512 << 20)
#define PG_EPOCH_DAYS 10957 /* 2000-01-01 - 1970-01-01 */
#define PG_EPOCH_US ((int64_t)PG_EPOCH_DAYS * 86400 * 1000000)
#define NUMERIC_NEG 0x4000

typedef struct pg_sql {
    cp_sql base; /* first: sql.c sees this */
    PGconn *conn;
    bool meta_ok;      /* csvpipe's tables are known to exist */
    bool lost;         /* a failure since the last cp_sql_connection_lost was a lost connection */
    bool commit_sent;  /* COMMIT of the open load was sent: its outcome may be unknown */
    unsigned conn_gen; /* counts reconnections: a session lock dies with its connection */
    /* the source lock (cp_sql_lock_source) */
    bool source_locked;
    uint32_t source_key;
    unsigned source_gen; /* conn_gen when it was taken */
    char *source_locked_uri;
    /* the open load */
    char *source;
    size_t ncols;
    cp_type *targets; /* per schema column: the table column's type after evolution */
    bool in_copy;
    uint64_t rows_sent;
    cp_buf copy;    /* COPY data not yet handed to libpq */
    cp_buf scratch; /* converted values */
} pg_sql;

static pg_sql *as_pg(cp_sql *db)
{
    return (pg_sql *)db;
}

/* ---- errors ---- */

/* libpq's messages end in a newline and may span lines: one line for csvpipe's errors. */
static void one_line(char *m)
{
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == '\r' || m[n - 1] == ' '))
        m[--n] = '\0';
    for (char *p = m; *p; p++)
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
}

/*
 * CP_DATABASE with "PostgreSQL at HOST:PORT/DB: <doing>: <server message> (detail, hint)".
 * res may be NULL (then the connection's message). Marks a lost connection.
 */
static cp_status pg_fail(pg_sql *s, const PGresult *res, cp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cp_status pg_fail(pg_sql *s, const PGresult *res, cp_error *err, const char *fmt, ...)
{
    char doing[512], msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(doing, sizeof doing, fmt, ap);
    va_end(ap);
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary) {
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
        snprintf(msg, sizeof msg, "%s%s%s%s", primary, detail ? " (" : "", detail ? detail : "",
                 detail ? ")" : "");
        if (hint) {
            size_t n = strlen(msg);
            snprintf(msg + n, sizeof msg - n, "; hint: %s", hint);
        }
    } else {
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(s->conn));
    }
    one_line(msg);
    const bool bad = PQstatus(s->conn) == CONNECTION_BAD;
    if (bad && !s->commit_sent)
        s->lost = true;
    const char *host = PQhost(s->conn);
    return cp_error_set(err, CP_DATABASE, "PostgreSQL at %s:%s/%s: %s: %s%s",
                        host && host[0] ? host : "(socket)", PQport(s->conn), PQdb(s->conn), doing,
                        msg[0] ? msg : "unknown error",
                        !bad             ? ""
                        : s->commit_sent ? "; the connection was lost while committing, so "
                                           "whether the load committed is unknown: run it "
                                           "again and csvpipe skips it if it did"
                                         : "; the connection was lost, nothing of this load "
                                           "was committed");
}

/* Runs sql (with text parameters); CP_OK when it succeeded. *out gets the result if given. */
static cp_status exec_params(pg_sql *s, const char *sql, int nparams, const char *const *params,
                             PGresult **out, cp_error *err, const char *doing)
{
    PGresult *res = nparams ? PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : PQexec(s->conn, sql);
    ExecStatusType t = PQresultStatus(res);
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK) {
        cp_status st = pg_fail(s, res, err, "%s", doing);
        PQclear(res);
        return st;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return CP_OK;
}

static cp_status exec_sql(pg_sql *s, const char *sql, cp_error *err, const char *doing)
{
    return exec_params(s, sql, 0, NULL, NULL, err, doing);
}

/* ---- names and types ---- */

static uint32_t fnv1a(const char *a, const char *b)
{
    uint32_t h = 2166136261u;
    for (const char *p = a; p && *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ 0u) * 16777619u; /* separator */
    for (const char *p = b; p && *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

static cp_status advisory_lock(pg_sql *s, int cls, uint32_t key, bool shared, cp_error *err,
                               const char *what)
{
    char c[16], k[16], doing[300];
    snprintf(c, sizeof c, "%d", cls);
    snprintf(k, sizeof k, "%d", (int32_t)key);
    snprintf(doing, sizeof doing, "waiting for the lock on %s", what);
    const char *params[2] = {c, k};
    return exec_params(s,
                       shared ? "SELECT pg_advisory_xact_lock_shared($1::int4, $2::int4)"
                              : "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
                       2, params, NULL, err, doing);
}

/* PostgreSQL's name of a csvpipe type (docs/design.md, "Types"). */
static const char *pg_type_name(cp_type t, char *buf, size_t cap)
{
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        return "boolean";
    case CP_TYPE_INT64:
        return "bigint";
    case CP_TYPE_DECIMAL:
        snprintf(buf, cap, "numeric(%u,%u)", t.precision, t.scale);
        return buf;
    case CP_TYPE_DOUBLE:
        return "double precision";
    case CP_TYPE_DATE:
        return "date";
    case CP_TYPE_TIMESTAMP:
        return "timestamp without time zone";
    case CP_TYPE_TIMESTAMPTZ:
        return "timestamp with time zone";
    case CP_TYPE_NULL:
    case CP_TYPE_STRING:
        break;
    }
    return "text";
}

/* csvpipe's type of a declared PostgreSQL type (format_type); false when csvpipe has none. */
static bool type_from_pg(const char *pgtype, cp_type *out)
{
    static const struct {
        const char *name;
        cp_type_id id;
    } names[] = {
        {"boolean", CP_TYPE_BOOLEAN},
        {"bigint", CP_TYPE_INT64},
        {"double precision", CP_TYPE_DOUBLE},
        {"date", CP_TYPE_DATE},
        {"timestamp without time zone", CP_TYPE_TIMESTAMP},
        {"timestamp with time zone", CP_TYPE_TIMESTAMPTZ},
        {"text", CP_TYPE_STRING},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(pgtype, names[i].name) == 0) {
            *out = cp_type_of(names[i].id);
            return true;
        }
    }
    unsigned p, sc;
    char tail;
    if (sscanf(pgtype, "numeric(%u,%u%c", &p, &sc, &tail) == 3 && tail == ')' && p >= 1 &&
        p <= CP_DECIMAL_MAX_PRECISION && sc <= p) {
        *out = cp_type_decimal(p, sc);
        return true;
    }
    return false;
}

/* ---- connection ---- */

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    char m[512];
    snprintf(m, sizeof m, "%s", message);
    one_line(m);
    cp_log_debug("PostgreSQL: %s", m);
}

static cp_sql *pg_open_conninfo(const char *conninfo, cp_error *err)
{
    pg_sql *s = calloc(1, sizeof *s);
    if (!s) {
        cp_error_set(err, CP_NOMEM, "out of memory opening PostgreSQL");
        return NULL;
    }
    /* later keywords override earlier ones, the expanded dbname overrides connect_timeout */
    const char *const keys[] = {"connect_timeout", "dbname", "fallback_application_name",
                                "client_encoding", NULL};
    const char *const values[] = {"10", conninfo, "csvpipe", "UTF8", NULL};
    s->conn = PQconnectdbParams(keys, values, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", s->conn ? PQerrorMessage(s->conn) : "out of memory");
        one_line(msg);
        cp_error_set(err, CP_DATABASE,
                     "cannot connect to PostgreSQL: %s; check the --sql URL (host, port, "
                     "database, user, sslmode) or the PG* environment variables",
                     msg);
        PQfinish(s->conn);
        free(s);
        return NULL;
    }
    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    cp_buf_init(&s->copy, COPY_BUF_MAX);
    cp_buf_init(&s->scratch, COPY_BUF_MAX);
    return &s->base;
}

/*
 * postgresql://... and postgres://... are URIs (libpq takes both spellings); postgresql:k=v
 * ... is a conninfo string.
 */
static cp_sql *pg_open(const char *target, cp_error *err)
{
    if (strncmp(target, "//", 2) != 0)
        return pg_open_conninfo(target, err);
    cp_buf uri;
    cp_buf_init(&uri, CP_BUF_UNLIMITED);
    cp_sql *db = NULL;
    if (cp_buf_append_str(&uri, "postgresql:") == CP_OK && cp_buf_append_str(&uri, target) == CP_OK)
        db = pg_open_conninfo(uri.data, err);
    else
        cp_error_set(err, CP_NOMEM, "out of memory");
    cp_buf_release(&uri);
    return db;
}

/* Reconnects when the connection was lost. */
static cp_status ensure_conn(pg_sql *s, cp_error *err)
{
    if (PQstatus(s->conn) == CONNECTION_OK)
        return CP_OK;
    cp_log_info("PostgreSQL: the connection was lost; reconnecting");
    PQreset(s->conn);
    s->meta_ok = false;
    s->conn_gen++;
    if (PQstatus(s->conn) == CONNECTION_OK)
        return CP_OK;
    return pg_fail(s, NULL, err, "reconnecting");
}

static cp_status ensure_meta(pg_sql *s, cp_error *err)
{
    if (s->meta_ok)
        return CP_OK;
    PGresult *res = NULL;
    CP_RETURN_IF_ERROR(exec_params(
        s,
        "SELECT to_regclass('csvpipe_loads') IS NOT NULL AND to_regclass('csvpipe_columns') IS "
        "NOT NULL AND to_regclass('csvpipe_loads_source_status') IS NOT NULL AND "
        "to_regclass('csvpipe_loads_dataset_finished') IS NOT NULL",
        0, NULL, &res, err, "looking for csvpipe's tables"));
    bool present = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!present) {
        cp_status st = exec_sql(s, "BEGIN", err, "creating csvpipe's tables");
        if (st == CP_OK)
            st = advisory_lock(s, LOCK_META, 0, false, err, "csvpipe's tables");
        if (st == CP_OK)
            st = exec_sql(s, cp_sql_ledger_ddl(CP_SQL_DIALECT_POSTGRES), err,
                          "creating the ledger table csvpipe_loads");
        if (st == CP_OK)
            st = exec_sql(s, cp_sql_columns_ddl(CP_SQL_DIALECT_POSTGRES), err,
                          "creating the column type table csvpipe_columns");
        if (st == CP_OK)
            st = exec_sql(s, "COMMIT", err, "creating csvpipe's tables");
        if (st != CP_OK) {
            if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
                PQclear(PQexec(s->conn, "ROLLBACK"));
            return st;
        }
    }
    s->meta_ok = true;
    return CP_OK;
}

/* ---- the source lock ---- */

static uint32_t source_key(const char *source_uri)
{
    return fnv1a(source_uri, NULL);
}

static void lock_params(uint32_t key, char c[16], char k[16], const char *params[2])
{
    snprintf(c, 16, "%d", LOCK_SOURCE);
    snprintf(k, 16, "%d", (int32_t)key);
    params[0] = c;
    params[1] = k;
}

static cp_status try_source_lock(cp_sql *db, void *arg, bool *got, cp_error *err)
{
    pg_sql *s = as_pg(db);
    char c[16], k[16], doing[600];
    const char *params[2];
    lock_params(source_key(arg), c, k, params);
    snprintf(doing, sizeof doing, "taking the lock on %s", (const char *)arg);
    PGresult *res = NULL;
    CP_RETURN_IF_ERROR(exec_params(s, "SELECT pg_try_advisory_lock($1::int4, $2::int4)", 2, params,
                                   &res, err, doing));
    *got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return CP_OK;
}

static void pg_unlock_source(cp_sql *db)
{
    pg_sql *s = as_pg(db);
    if (!s->source_locked)
        return;
    s->source_locked = false;
    free(s->source_locked_uri);
    s->source_locked_uri = NULL;
    if (s->source_gen != s->conn_gen || PQstatus(s->conn) != CONNECTION_OK)
        return; /* the server released it with the connection */
    char c[16], k[16];
    const char *params[2];
    lock_params(s->source_key, c, k, params);
    PGresult *res = PQexecParams(s->conn, "SELECT pg_advisory_unlock($1::int4, $2::int4)", 2, NULL,
                                 params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
              strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!ok) {
        /* a lock held on would stop every other load of the source: drop the session */
        cp_log_warn("PostgreSQL: the lock of a source could not be released; reconnecting");
        PQreset(s->conn);
        s->meta_ok = false;
        s->conn_gen++;
    }
}

static cp_status pg_lock_source(cp_sql *db, const char *source_uri, bool (*stop)(void),
                                cp_error *err)
{
    pg_sql *s = as_pg(db);
    CP_RETURN_IF_ERROR(ensure_conn(s, err));
    char *uri = strdup(source_uri);
    if (!uri)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    cp_status st = cp_sql_wait_lock(try_source_lock, db, uri, stop, source_uri, err);
    if (st != CP_OK) {
        free(uri);
        return st;
    }
    s->source_locked = true;
    s->source_key = source_key(source_uri);
    s->source_gen = s->conn_gen;
    s->source_locked_uri = uri;
    return CP_OK;
}

/* CP_DATABASE, as a lost connection, when the source lock went with a lost connection. */
static cp_status check_source_lock(pg_sql *s, cp_error *err)
{
    if (!s->source_locked || (s->source_gen == s->conn_gen && PQstatus(s->conn) == CONNECTION_OK))
        return CP_OK;
    if (!s->commit_sent)
        s->lost = true;
    return cp_error_set(err, CP_DATABASE,
                        "PostgreSQL: the connection was lost during the load of %s, and with it "
                        "the lock on the source; nothing of this load was committed",
                        s->source_locked_uri);
}

/* ---- the open load ---- */

static void end_load(pg_sql *s)
{
    free(s->targets);
    s->targets = NULL;
    free(s->source);
    s->source = NULL;
    s->ncols = 0;
    s->in_copy = false;
    s->rows_sent = 0;
    cp_buf_reset(&s->copy);
}

static void rollback_quietly(pg_sql *s)
{
    if (PQstatus(s->conn) != CONNECTION_OK)
        return;
    if (s->in_copy) {
        s->in_copy = false;
        if (PQputCopyEnd(s->conn, "csvpipe: the load was rolled back") == 1) {
            PGresult *res;
            while ((res = PQgetResult(s->conn)))
                PQclear(res);
        }
    }
    if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        PQclear(PQexec(s->conn, "ROLLBACK"));
}

static void pg_rollback(cp_sql *db)
{
    pg_sql *s = as_pg(db);
    rollback_quietly(s);
    end_load(s);
}

static void pg_close(cp_sql *db)
{
    pg_sql *s = as_pg(db);
    rollback_quietly(s);
    end_load(s);
    pg_unlock_source(db);
    PQfinish(s->conn);
    cp_buf_release(&s->copy);
    cp_buf_release(&s->scratch);
    free(s);
}

static bool pg_connection_lost(cp_sql *db)
{
    pg_sql *s = as_pg(db);
    bool lost = s->lost;
    s->lost = false;
    return lost;
}

/* ---- the ledger ---- */

static cp_status insert_ledger(pg_sql *s, const cp_ledger_row *l, cp_error *err)
{
    static const char sql[] = "INSERT INTO csvpipe_loads (" CP_SQL_LEDGER_COLUMNS ") VALUES "
                              "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
    char size[24], loaded[24], rejected[24], restarts[16], started[40], finished[40], dur[24];
    snprintf(size, sizeof size, "%lld", (long long)l->size_bytes);
    snprintf(loaded, sizeof loaded, "%llu", (unsigned long long)l->rows_loaded);
    snprintf(rejected, sizeof rejected, "%llu", (unsigned long long)l->rows_rejected);
    snprintf(restarts, sizeof restarts, "%u", l->restarts);
    snprintf(dur, sizeof dur, "%lld", (long long)((l->finished_us - l->started_us) / 1000));
    cp_format_timestamp(l->started_us, true, started);
    cp_format_timestamp(l->finished_us, true, finished);
    const char *params[CP_SQL_LEDGER_NCOLUMNS] = {l->dataset,
                                                  l->source_uri,
                                                  l->version,
                                                  l->sequencer,
                                                  l->size_bytes >= 0 ? size : NULL,
                                                  loaded,
                                                  rejected,
                                                  restarts,
                                                  started,
                                                  finished,
                                                  dur,
                                                  cp_load_status_name(l->status),
                                                  l->error,
                                                  l->outputs_json,
                                                  l->schema_json};
    char doing[600];
    snprintf(doing, sizeof doing, "writing the ledger row of %s",
             l->source_uri ? l->source_uri : "?");
    return exec_params(s, sql, CP_SQL_LEDGER_NCOLUMNS, params, NULL, err, doing);
}

static void copy_value(char *dst, size_t cap, const PGresult *res, int col)
{
    snprintf(dst, cap, "%s", PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

static cp_status pg_last_load(cp_sql *db, const char *source_uri, cp_ledger_entry *out, bool *found,
                              cp_error *err)
{
    pg_sql *s = as_pg(db);
    CP_RETURN_IF_ERROR(ensure_conn(s, err));
    CP_RETURN_IF_ERROR(ensure_meta(s, err));
    PGresult *res = NULL;
    const char *params[1] = {source_uri};
    char doing[600];
    snprintf(doing, sizeof doing, "reading the ledger for %s", source_uri);
    CP_RETURN_IF_ERROR(
        exec_params(s,
                    "SELECT version, sequencer, rows_loaded, dataset FROM csvpipe_loads "
                    "WHERE source_uri = $1 AND status = 'loaded' ORDER BY id DESC LIMIT 1",
                    1, params, &res, err, doing));
    if (PQntuples(res) == 1) {
        copy_value(out->version, sizeof out->version, res, 0);
        copy_value(out->sequencer, sizeof out->sequencer, res, 1);
        out->rows_loaded = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        copy_value(out->dataset, sizeof out->dataset, res, 3);
        *found = true;
    }
    PQclear(res);
    return CP_OK;
}

static cp_status pg_record(cp_sql *db, const cp_ledger_row *ledger, cp_error *err)
{
    pg_sql *s = as_pg(db);
    CP_RETURN_IF_ERROR(ensure_conn(s, err));
    CP_RETURN_IF_ERROR(ensure_meta(s, err));
    return insert_ledger(s, ledger, err); /* one statement: its own transaction */
}

/* ---- hand-offs ---- */

static cp_status pg_handoff_begin(cp_sql *db, const char *source_uri, const char *version,
                                  cp_handoff_view *out, cp_error *err)
{
    pg_sql *s = as_pg(db);
    s->commit_sent = false;
    CP_RETURN_IF_ERROR(ensure_conn(s, err));
    CP_RETURN_IF_ERROR(ensure_meta(s, err));
    char doing[600];
    snprintf(doing, sizeof doing, "reading the ledger for the hand-off of %s", source_uri);
    PGresult *res = NULL;
    const char *params[2] = {source_uri, version};
    cp_status st = exec_sql(s, "BEGIN", err, doing);
    if (st == CP_OK)
        st = advisory_lock(s, LOCK_SOURCE, source_key(source_uri), false, err, source_uri);
    if (st == CP_OK)
        st = exec_params(s,
                         "SELECT version, sequencer, rows_loaded, dataset FROM csvpipe_loads "
                         "WHERE source_uri = $1 AND status = 'loaded' ORDER BY id DESC LIMIT 1",
                         1, params, &res, err, doing);
    if (st == CP_OK && PQntuples(res) == 1) {
        copy_value(out->last_load.version, sizeof out->last_load.version, res, 0);
        copy_value(out->last_load.sequencer, sizeof out->last_load.sequencer, res, 1);
        out->last_load.rows_loaded = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        copy_value(out->last_load.dataset, sizeof out->last_load.dataset, res, 3);
        out->loaded = true;
    }
    PQclear(res);
    res = NULL;
    if (st == CP_OK)
        st = exec_params(s,
                         "SELECT outputs, sequencer FROM csvpipe_loads WHERE source_uri = $1 AND "
                         "version = $2 AND status = 'handed_off' ORDER BY id DESC LIMIT 1",
                         2, params, &res, err, doing);
    if (st == CP_OK && PQntuples(res) == 1) {
        cp_sql_outputs_task(PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0), out->task_arn,
                            sizeof out->task_arn);
        copy_value(out->sequencer, sizeof out->sequencer, res, 1);
        out->handed_off = true;
    }
    PQclear(res);
    if (st != CP_OK)
        rollback_quietly(s);
    return st;
}

static cp_status pg_handoff_end(cp_sql *db, const cp_ledger_row *row, cp_error *err)
{
    pg_sql *s = as_pg(db);
    if (!row) {
        rollback_quietly(s);
        return CP_OK;
    }
    cp_status st = insert_ledger(s, row, err);
    if (st == CP_OK) {
        s->commit_sent = true;
        PGresult *res = PQexec(s->conn, "COMMIT");
        if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0)
            st = pg_fail(s, res, err, "committing the hand-off of %s",
                         row->source_uri ? row->source_uri : "?");
        PQclear(res);
    }
    if (st != CP_OK)
        rollback_quietly(s);
    return st;
}

/* ---- the table: reading, creating, evolving ---- */

static cp_status quoted(cp_buf *b, const char *name, cp_error *err)
{
    cp_buf_reset(b);
    if (cp_sql_quote_ident(b, name) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory quoting \"%s\"", name);
    return CP_OK;
}

/* The table's columns (none when there is no such table) with csvpipe's types. */
static cp_status read_table(pg_sql *s, const char *dataset, cp_sql_table *t, cp_error *err)
{
    cp_buf q;
    cp_buf_init(&q, CP_BUF_UNLIMITED);
    cp_status st = quoted(&q, dataset, err);
    if (st != CP_OK)
        return st;
    const char *params[2] = {q.data, dataset};
    PGresult *res = NULL;
    char doing[300];
    snprintf(doing, sizeof doing, "describing table \"%s\"", dataset);
    st = exec_params(s,
                     "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), m.type "
                     "FROM pg_attribute a LEFT JOIN csvpipe_columns m "
                     "ON m.dataset = $2 AND m.column_name = a.attname::text "
                     "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
                     "ORDER BY a.attnum",
                     2, params, &res, err, doing);
    cp_buf_release(&q);
    if (st != CP_OK)
        return st;
    for (int i = 0; st == CP_OK && i < PQntuples(res); i++) {
        const char *pgtype = PQgetvalue(res, i, 1);
        cp_type type = cp_type_of(CP_TYPE_STRING), saved;
        const bool known = type_from_pg(pgtype, &type);
        /* a text column csvpipe made for nulls only is NULL-typed: it can take any type */
        if (known && type.id == CP_TYPE_STRING && !PQgetisnull(res, i, 2) &&
            cp_type_parse(PQgetvalue(res, i, 2), &saved) && saved.id == CP_TYPE_NULL)
            type = saved;
        if (cp_sql_table_add(t, PQgetvalue(res, i, 0), pgtype, type, known, false) != CP_OK)
            st = cp_error_set(err, CP_NOMEM, "out of memory reading table \"%s\"", dataset);
    }
    PQclear(res);
    return st;
}

static cp_status save_column_type(pg_sql *s, const char *dataset, const char *column, cp_type t,
                                  cp_error *err)
{
    char tname[32], doing[300];
    cp_type_format(t, tname, sizeof tname);
    const char *params[3] = {dataset, column, tname};
    snprintf(doing, sizeof doing, "recording the type of column \"%s\" of table \"%s\"", column,
             dataset);
    return exec_params(s,
                       "INSERT INTO csvpipe_columns (dataset, column_name, type) VALUES ($1, $2, "
                       "$3) ON CONFLICT (dataset, column_name) DO UPDATE SET type = excluded.type",
                       3, params, NULL, err, doing);
}

static cp_status create_table(pg_sql *s, const char *dataset, const cp_schema *schema, cp_buf *sql,
                              cp_error *err)
{
    char tbuf[32];
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "CREATE TABLE ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " (");
    for (size_t i = 0; st == CP_OK && i < schema->ncolumns; i++) {
        st = cp_sql_quote_ident(sql, schema->columns[i].name);
        if (st == CP_OK)
            st = cp_buf_printf(sql, " %s, ",
                               pg_type_name(schema->columns[i].type, tbuf, sizeof tbuf));
    }
    if (st == CP_OK)
        st = cp_buf_append_str(sql, "\"_source\" text NOT NULL, \"_row\" bigint NOT NULL); "
                                    "CREATE UNIQUE INDEX ON ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " (\"_source\", \"_row\")");
    if (st != CP_OK)
        return cp_error_set(err, st, "building the definition of table \"%s\"", dataset);
    char doing[300];
    snprintf(doing, sizeof doing, "creating table \"%s\"", dataset);
    CP_RETURN_IF_ERROR(exec_sql(s, sql->data, err, doing));

    /* types of a table of the same name dropped by hand would still be there */
    const char *params[1] = {dataset};
    CP_RETURN_IF_ERROR(exec_params(s, "DELETE FROM csvpipe_columns WHERE dataset = $1", 1, params,
                                   NULL, err, "clearing old column types"));
    for (size_t i = 0; i < schema->ncolumns; i++)
        CP_RETURN_IF_ERROR(
            save_column_type(s, dataset, schema->columns[i].name, schema->columns[i].type, err));
    return CP_OK;
}

/* ALTER TABLE: ADD COLUMN for new columns, ALTER COLUMN TYPE for widened ones, one statement. */
static cp_status evolve_table(pg_sql *s, const char *dataset, const cp_schema *schema,
                              const cp_sql_table *t, cp_buf *sql, cp_error *err)
{
    char tbuf[32];
    size_t nclauses = 0;
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "ALTER TABLE ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    for (size_t j = 0; st == CP_OK && j < t->n; j++) {
        const cp_sql_column *c = &t->cols[j];
        if (cp_type_equal(c->type, c->after))
            continue;
        const char *to = pg_type_name(c->after, tbuf, sizeof tbuf);
        if (strcmp(to, c->declared) == 0)
            continue; /* a NULL-typed text column that becomes STRING */
        st = cp_buf_append_str(sql, nclauses++ ? ", ALTER COLUMN " : " ALTER COLUMN ");
        if (st == CP_OK)
            st = cp_sql_quote_ident(sql, c->name);
        if (st == CP_OK)
            st = cp_buf_printf(sql, " TYPE %s USING ", to);
        if (st == CP_OK)
            st = cp_sql_quote_ident(sql, c->name);
        if (st == CP_OK)
            st = cp_buf_printf(sql, "::%s", to);
    }
    for (size_t i = 0; st == CP_OK && i < schema->ncolumns; i++) {
        if (cp_sql_table_find(t, CP_SQL_DIALECT_POSTGRES, schema->columns[i].name))
            continue;
        st = cp_buf_append_str(sql, nclauses++ ? ", ADD COLUMN " : " ADD COLUMN ");
        if (st == CP_OK)
            st = cp_sql_quote_ident(sql, schema->columns[i].name);
        if (st == CP_OK)
            st =
                cp_buf_printf(sql, " %s", pg_type_name(schema->columns[i].type, tbuf, sizeof tbuf));
    }
    if (st != CP_OK)
        return cp_error_set(err, st, "building ALTER TABLE for table \"%s\"", dataset);
    if (nclauses) {
        char doing[300];
        snprintf(doing, sizeof doing, "changing table \"%s\" for the new file's columns", dataset);
        CP_RETURN_IF_ERROR(exec_sql(s, sql->data, err, doing));
    }
    for (size_t j = 0; j < t->n; j++)
        if (!cp_type_equal(t->cols[j].type, t->cols[j].after))
            CP_RETURN_IF_ERROR(
                save_column_type(s, dataset, t->cols[j].name, t->cols[j].after, err));
    for (size_t i = 0; i < schema->ncolumns; i++)
        if (!cp_sql_table_find(t, CP_SQL_DIALECT_POSTGRES, schema->columns[i].name))
            CP_RETURN_IF_ERROR(save_column_type(s, dataset, schema->columns[i].name,
                                                schema->columns[i].type, err));
    return CP_OK;
}

static cp_status delete_source(pg_sql *s, const char *dataset, cp_buf *sql, cp_error *err)
{
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "DELETE FROM ");
    if (st == CP_OK)
        st = cp_sql_quote_ident(sql, dataset);
    if (st == CP_OK)
        st = cp_buf_append_str(sql, " WHERE \"_source\" = $1");
    if (st != CP_OK)
        return cp_error_set(err, st, "building DELETE for table \"%s\"", dataset);
    const char *params[1] = {s->source};
    char doing[600];
    snprintf(doing, sizeof doing, "deleting the previous rows of %s from table \"%s\"", s->source,
             dataset);
    return exec_params(s, sql->data, 1, params, NULL, err, doing);
}

/* ---- the COPY stream ---- */

static inline void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Room for n more bytes at the end of b; NULL when the buffer may not grow so far. */
static inline uint8_t *room(cp_buf *b, size_t n)
{
    if (b->cap - b->len < n + 1 && cp_buf_reserve(b, n) != CP_OK)
        return NULL;
    return (uint8_t *)b->data + b->len;
}

static cp_status put_null(cp_buf *b)
{
    uint8_t *p = room(b, 4);
    if (!p)
        return CP_TOO_LARGE;
    put32(p, 0xFFFFFFFFu);
    b->len += 4;
    return CP_OK;
}

static cp_status put_fixed(cp_buf *b, uint64_t v, unsigned width)
{
    uint8_t *p = room(b, 4 + width);
    if (!p)
        return CP_TOO_LARGE;
    put32(p, width);
    if (width == 1)
        p[4] = (uint8_t)v;
    else if (width == 4)
        put32(p + 4, (uint32_t)v);
    else
        put64(p + 4, v);
    b->len += 4 + width;
    return CP_OK;
}

static cp_status put_bytes(cp_buf *b, const char *data, size_t len)
{
    if (len > INT32_MAX)
        return CP_TOO_LARGE;
    uint8_t *p = room(b, 4 + len);
    if (!p)
        return CP_TOO_LARGE;
    put32(p, (uint32_t)len);
    if (len)
        memcpy(p + 4, data, len);
    b->len += 4 + len;
    return CP_OK;
}

static int floor_div4(int e)
{
    return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

/*
 * PostgreSQL's binary numeric of v * 10^-scale, shown with dscale digits after the point:
 * int16 ndigits, int16 weight, uint16 sign, int16 dscale, then ndigits base-10000 digits,
 * most significant first; the value is sum(digit[i] * 10000^(weight - i)). Decimal digit k
 * (0 = least significant) has exponent e = k - scale and lands in base-10000 digit
 * floor(e / 4) at position e mod 4. Leading and trailing zero digits are left out; zero
 * has no digits.
 */
static cp_status put_numeric(cp_buf *b, cp_i128 v, unsigned scale, unsigned dscale)
{
    static const int16_t pow10[4] = {1, 10, 100, 1000};
    const bool neg = v < 0;
    unsigned __int128 m = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    uint8_t d[48];
    int nd = 0;
    if (m <= UINT64_MAX) {
        for (uint64_t x = (uint64_t)m; x; x /= 10)
            d[nd++] = (uint8_t)(x % 10);
    } else {
        for (; m; m /= 10)
            d[nd++] = (uint8_t)(m % 10);
    }
    int16_t groups[24] = {0};
    int lo = 0, hi = -1, gmin = floor_div4(-(int)scale);
    for (int k = 0; k < nd; k++) {
        int e = k - (int)scale, g = floor_div4(e);
        groups[g - gmin] = (int16_t)(groups[g - gmin] + d[k] * pow10[e - 4 * g]);
        hi = g - gmin;
    }
    while (hi >= lo && groups[hi] == 0)
        hi--;
    while (lo < hi && groups[lo] == 0)
        lo++;
    const int ndigits = hi >= lo ? hi - lo + 1 : 0;
    uint8_t *p = room(b, 4 + 8 + 2 * (size_t)ndigits);
    if (!p)
        return CP_TOO_LARGE;
    put32(p, (uint32_t)(8 + 2 * ndigits));
    put16(p + 4, (uint16_t)ndigits);
    put16(p + 6, (uint16_t)(int16_t)(ndigits ? gmin + hi : 0));
    put16(p + 8, neg && ndigits ? NUMERIC_NEG : 0);
    put16(p + 10, (uint16_t)dscale);
    for (int i = 0; i < ndigits; i++)
        put16(p + 12 + 2 * i, (uint16_t)groups[hi - i]);
    b->len += 12 + 2 * (size_t)ndigits;
    return CP_OK;
}

/* One value of the batch in the binary form of the table column's type `to`. */
static cp_status put_value(pg_sql *s, const cp_batch *b, size_t col, size_t row, cp_type to)
{
    const cp_column_data *c = &b->cols[col];
    const cp_type from = b->schema->columns[col].type;
    cp_buf *o = &s->copy;
    if (from.id == CP_TYPE_NULL || to.id == CP_TYPE_NULL || !cp_batch_valid(b, col, row))
        return put_null(o);
    switch (to.id) {
    case CP_TYPE_BOOLEAN:
        if (from.id == CP_TYPE_BOOLEAN)
            return put_fixed(o, c->v.boolean[row] ? 1 : 0, 1);
        break;
    case CP_TYPE_INT64:
        if (from.id == CP_TYPE_INT64)
            return put_fixed(o, (uint64_t)c->v.i64[row], 8);
        break;
    case CP_TYPE_DECIMAL:
        if (from.id == CP_TYPE_INT64)
            return put_numeric(o, c->v.i64[row], 0, to.scale);
        if (from.id == CP_TYPE_DECIMAL && from.scale <= to.scale)
            return put_numeric(o, c->v.decimal[row], from.scale, to.scale);
        break;
    case CP_TYPE_DOUBLE: {
        double f;
        if (from.id == CP_TYPE_DOUBLE) {
            f = c->v.f64[row];
        } else {
            cp_sql_value v; /* INT64, DECIMAL: exactly as every backend converts them */
            CP_RETURN_IF_ERROR(cp_sql_value_of(b, col, row, to, &s->scratch, &v));
            f = v.f;
        }
        uint64_t bits;
        memcpy(&bits, &f, sizeof bits);
        return put_fixed(o, bits, 8);
    }
    case CP_TYPE_DATE:
        if (from.id == CP_TYPE_DATE)
            return put_fixed(o, (uint32_t)(c->v.date[row] - PG_EPOCH_DAYS), 4);
        break;
    case CP_TYPE_TIMESTAMP:
        if (from.id == CP_TYPE_DATE)
            return put_fixed(o, (uint64_t)((int64_t)c->v.date[row] * 86400000000LL - PG_EPOCH_US),
                             8);
        if (from.id == CP_TYPE_TIMESTAMP)
            return put_fixed(o, (uint64_t)(c->v.i64[row] - PG_EPOCH_US), 8);
        break;
    case CP_TYPE_TIMESTAMPTZ:
        if (from.id == CP_TYPE_TIMESTAMPTZ)
            return put_fixed(o, (uint64_t)(c->v.i64[row] - PG_EPOCH_US), 8);
        break;
    case CP_TYPE_STRING: {
        if (from.id == CP_TYPE_STRING) {
            size_t len;
            const char *t = cp_batch_string(b, col, row, &len);
            return put_bytes(o, t, len);
        }
        cp_buf_reset(&s->scratch);
        CP_RETURN_IF_ERROR(cp_cell_append_text(&s->scratch, b, col, row));
        return put_bytes(o, s->scratch.data, s->scratch.len);
    }
    case CP_TYPE_NULL:
        break;
    }
    return CP_USAGE;
}

/* Hands the buffered COPY data to libpq, and notices a server that went away. */
static cp_status flush_copy(pg_sql *s, cp_error *err)
{
    if (s->copy.len == 0)
        return CP_OK;
    bool sent = s->copy.len <= INT32_MAX &&
                PQputCopyData(s->conn, s->copy.data, (int)s->copy.len) == 1 &&
                PQconsumeInput(s->conn) == 1 && PQstatus(s->conn) == CONNECTION_OK;
    cp_buf_reset(&s->copy);
    if (sent) {
        cp_fault_point("copy-sent");
        return CP_OK;
    }
    /* the server may have ended the COPY with an error: that is the message to show */
    PGresult *res = PQstatus(s->conn) == CONNECTION_OK ? PQgetResult(s->conn) : NULL;
    cp_status st = pg_fail(s, res, err, "sending the rows of %s", s->source);
    PQclear(res);
    return st;
}

static cp_status start_copy(pg_sql *s, const char *dataset, const cp_schema *schema, cp_buf *sql,
                            cp_error *err)
{
    cp_buf_reset(sql);
    cp_status st = cp_buf_append_str(sql, "COPY ");
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
        st = cp_buf_append_str(sql, "\"_source\", \"_row\") FROM STDIN (FORMAT binary)");
    if (st != CP_OK)
        return cp_error_set(err, st, "building COPY for table \"%s\"", dataset);
    PGresult *res = PQexec(s->conn, sql->data);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        st = pg_fail(s, res, err, "starting COPY into table \"%s\"", dataset);
        PQclear(res);
        return st;
    }
    PQclear(res);
    s->in_copy = true;
    static const uint8_t header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xFF, '\r', '\n', 0};
    if (cp_buf_append(&s->copy, header, sizeof header) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory starting COPY");
    return CP_OK;
}

/* ---- the load ---- */

static cp_status pg_begin(cp_sql *db, const char *dataset, const cp_schema *schema,
                          const char *source_uri, cp_error *err)
{
    pg_sql *s = as_pg(db);
    cp_sql_table table;
    cp_sql_table_init(&table);
    cp_buf sql;
    cp_buf_init(&sql, CP_BUF_UNLIMITED);
    cp_status st = CP_OK;
    char doing[600];
    snprintf(doing, sizeof doing, "starting the load of %s into table \"%s\"", source_uri, dataset);

    end_load(s);
    s->commit_sent = false;
    s->ncols = schema->ncolumns;
    s->source = strdup(source_uri);
    s->targets = calloc(schema->ncolumns + 1, sizeof *s->targets);
    if (!s->source || !s->targets) {
        st = cp_error_set(err, CP_NOMEM, "out of memory starting the load of %s", source_uri);
        goto out;
    }
    if ((st = ensure_conn(s, err)) != CP_OK || (st = check_source_lock(s, err)) != CP_OK ||
        (st = ensure_meta(s, err)) != CP_OK)
        goto out;
    const uint32_t dataset_key = fnv1a(dataset, NULL);
    const uint32_t src_key = source_key(source_uri);
    /* first with the dataset lock shared; again exclusive when the table must change */
    for (int pass = 0; pass < 2; pass++) {
        const bool exclusive = pass == 1;
        cp_sql_plan plan;
        cp_sql_table_release(&table);
        if ((st = exec_sql(s, "BEGIN", err, doing)) != CP_OK ||
            (st = advisory_lock(s, LOCK_DATASET, dataset_key, !exclusive, err, dataset)) != CP_OK ||
            (st = advisory_lock(s, LOCK_SOURCE, src_key, false, err, source_uri)) != CP_OK ||
            (st = read_table(s, dataset, &table, err)) != CP_OK ||
            (st = cp_sql_plan_table(CP_SQL_DIALECT_POSTGRES, dataset, schema, &table, s->targets,
                                    &plan, err)) != CP_OK)
            goto out;
        if (!plan.create && !plan.widen && !plan.add)
            break;
        if (!exclusive) {
            if ((st = exec_sql(s, "ROLLBACK", err, doing)) != CP_OK)
                goto out;
            continue;
        }
        st = plan.create ? create_table(s, dataset, schema, &sql, err)
                         : evolve_table(s, dataset, schema, &table, &sql, err);
        if (st != CP_OK)
            goto out;
    }
    if ((st = delete_source(s, dataset, &sql, err)) != CP_OK)
        goto out;
    st = start_copy(s, dataset, schema, &sql, err);
out:
    cp_sql_table_release(&table);
    cp_buf_release(&sql);
    if (st != CP_OK)
        pg_rollback(db);
    return st;
}

static cp_status pg_write(cp_sql *db, const cp_batch *b, cp_error *err)
{
    pg_sql *s = as_pg(db);
    CP_RETURN_IF_ERROR(cp_sql_check_batch(b, s->targets, s->ncols, err));
    const size_t source_len = strlen(s->source);
    const uint16_t nfields = (uint16_t)(s->ncols + 2);
    for (size_t r = 0; r < b->nrows; r++) {
        uint8_t *p = room(&s->copy, 2);
        cp_status st = p ? CP_OK : CP_TOO_LARGE;
        if (p) {
            put16(p, nfields);
            s->copy.len += 2;
        }
        for (size_t i = 0; st == CP_OK && i < s->ncols; i++) {
            st = put_value(s, b, i, r, s->targets[i]);
            if (st != CP_OK)
                return cp_error_set(err, st, "encoding row %llu, column \"%s\" of %s for COPY",
                                    (unsigned long long)cp_batch_row_number(b, r),
                                    b->schema->columns[i].name, s->source);
        }
        if (st == CP_OK)
            st = put_bytes(&s->copy, s->source, source_len);
        if (st == CP_OK)
            st = put_fixed(&s->copy, cp_batch_row_number(b, r), 8);
        if (st != CP_OK)
            return cp_error_set(err, st, "encoding row %llu of %s for COPY",
                                (unsigned long long)cp_batch_row_number(b, r), s->source);
        s->rows_sent++;
        if (s->copy.len >= COPY_FLUSH_BYTES)
            CP_RETURN_IF_ERROR(flush_copy(s, err));
    }
    return CP_OK;
}

static cp_status end_copy(pg_sql *s, cp_error *err)
{
    uint8_t *p = room(&s->copy, 2);
    if (!p)
        return cp_error_set(err, CP_NOMEM, "out of memory ending COPY");
    put16(p, 0xFFFF); /* the trailer */
    s->copy.len += 2;
    CP_RETURN_IF_ERROR(flush_copy(s, err));
    s->in_copy = false;
    if (PQputCopyEnd(s->conn, NULL) != 1)
        return pg_fail(s, NULL, err, "ending COPY of %s", s->source);
    cp_status st = CP_OK;
    PGresult *res = NULL;
    while ((res = PQgetResult(s->conn))) {
        if (st == CP_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
            st = pg_fail(s, res, err, "loading the rows of %s", s->source);
        else if (st == CP_OK && strtoull(PQcmdTuples(res), NULL, 10) != s->rows_sent)
            st = cp_error_set(err, CP_DATABASE, "COPY of %s stored %s rows, %llu were sent",
                              s->source, PQcmdTuples(res), (unsigned long long)s->rows_sent);
        PQclear(res);
    }
    if (st == CP_OK && PQstatus(s->conn) == CONNECTION_BAD)
        st = pg_fail(s, NULL, err, "loading the rows of %s", s->source);
    return st;
}

static cp_status pg_finish(cp_sql *db, cp_error *err)
{
    pg_sql *s = as_pg(db);
    CP_RETURN_IF_ERROR(check_source_lock(s, err));
    if (s->in_copy)
        CP_RETURN_IF_ERROR(end_copy(s, err));
    cp_fault_point("copy-ended");
    return CP_OK;
}

static cp_status pg_commit(cp_sql *db, const cp_ledger_row *ledger, cp_error *err)
{
    pg_sql *s = as_pg(db);
    cp_status st = check_source_lock(s, err);
    if (st == CP_OK && s->in_copy)
        st = end_copy(s, err);
    if (st == CP_OK)
        st = insert_ledger(s, ledger, err);
    if (st == CP_OK) {
        cp_fault_point("ledger-row");
        s->commit_sent = true;
        PGresult *res = PQexec(s->conn, "COMMIT");
        /* COMMIT of a failed transaction "succeeds" as ROLLBACK */
        if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(res), "COMMIT") != 0)
            st = pg_fail(s, res, err, "committing the load of %s", s->source);
        PQclear(res);
    }
    if (st != CP_OK)
        rollback_quietly(s);
    end_load(s);
    return st;
}

static const char *const pg_schemes[] = {"postgresql:", "postgres:", NULL};

const cp_sql_backend cp_sql_postgres_backend = {
    .schemes = pg_schemes,
    .open = pg_open,
    .close = pg_close,
    .last_load = pg_last_load,
    .lock_source = pg_lock_source,
    .unlock_source = pg_unlock_source,
    .begin = pg_begin,
    .write = pg_write,
    .finish = pg_finish,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .record = pg_record,
    .handoff_begin = pg_handoff_begin,
    .handoff_end = pg_handoff_end,
    .connection_lost = pg_connection_lost,
};
