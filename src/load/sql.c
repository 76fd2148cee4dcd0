/*
 * sql.c - the relational loader's front: picks the backend from the URL scheme, checks
 * the calls that are the same for every backend, and holds the rules the backends share
 * (sql_backend.h): identifier quoting, the type rules of schema evolution and the plan of a
 * table's evolution, values converted to the table's type, and the DDL of csvpipe's own
 * tables.
 */
#include "load/sql_backend.h"
#include "table/cell.h"
#include "util/array.h"
#include "util/fault.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const cp_sql_backend *const backends[] = {
    &cp_sql_sqlite_backend,
    &cp_sql_postgres_backend,
};

cp_sql *cp_sql_open(const char *url, cp_error *err)
{
    if (!url) {
        cp_error_set(err, CP_USAGE, "no database URL given");
        return NULL;
    }
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const cp_sql_backend *be = backends[i];
        for (const char *const *sc = be->schemes; *sc; sc++) {
            size_t n = strlen(*sc);
            if (strncmp(url, *sc, n) != 0)
                continue;
            cp_sql *db = be->open(url + n, err);
            if (db) {
                db->backend = be;
                db->in_load = false;
            }
            return db;
        }
    }
    cp_error_set(err, CP_USAGE, "%s: unknown database URL; use sqlite:PATH or postgresql://HOST/DB",
                 url);
    return NULL;
}

void cp_sql_close(cp_sql *db)
{
    if (!db)
        return;
    if (db->in_load)
        db->backend->rollback(db);
    db->backend->close(db);
}

cp_status cp_sql_last_load(cp_sql *db, const char *source_uri, cp_ledger_entry *out, bool *found,
                           cp_error *err)
{
    if (!db || !source_uri || !out || !found)
        return cp_error_set(err, CP_USAGE, "cp_sql_last_load: NULL argument");
    *found = false;
    memset(out, 0, sizeof *out);
    return db->backend->last_load(db, source_uri, out, found, err);
}

cp_status cp_sql_lock_source(cp_sql *db, const char *source_uri, bool (*stop)(void), cp_error *err)
{
    if (!db || !source_uri)
        return cp_error_set(err, CP_USAGE, "cp_sql_lock_source: NULL argument");
    if (db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_lock_source: a load is open");
    db->backend->unlock_source(db);
    return db->backend->lock_source(db, source_uri, stop, err);
}

void cp_sql_unlock_source(cp_sql *db)
{
    if (db)
        db->backend->unlock_source(db);
}

cp_status cp_sql_wait_lock(cp_status (*try)(cp_sql *db, void *arg, bool *got, cp_error *err),
                           cp_sql *db, void *arg, bool (*stop)(void), const char *what,
                           cp_error *err)
{
    long delay_ms = 5;
    for (;;) {
        bool got = false;
        CP_RETURN_IF_ERROR(try(db, arg, &got, err));
        if (got)
            return CP_OK;
        if (delay_ms == 5)
            cp_fault_point("lock-wait");
        if (stop && stop())
            return cp_error_set(err, CP_INTERRUPTED,
                                "interrupted while waiting for the lock on %s (another load of "
                                "it is under way)",
                                what);
        struct timespec ts = {0, delay_ms * 1000000L};
        nanosleep(&ts, NULL);
        if (delay_ms < 200)
            delay_ms = delay_ms * 2 > 200 ? 200 : delay_ms * 2;
    }
}

cp_status cp_sql_begin(cp_sql *db, const char *dataset, const cp_schema *schema,
                       const char *source_uri, cp_error *err)
{
    if (!db || !dataset || !schema || !source_uri)
        return cp_error_set(err, CP_USAGE, "cp_sql_begin: NULL argument");
    if (db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_begin: a load is already open");
    CP_RETURN_IF_ERROR(cp_sql_check_dataset(dataset, err));
    CP_RETURN_IF_ERROR(cp_sql_check_columns(dataset, schema, err));
    cp_status st = db->backend->begin(db, dataset, schema, source_uri, err);
    db->in_load = st == CP_OK;
    return st;
}

cp_status cp_sql_write(cp_sql *db, const cp_batch *b, cp_error *err)
{
    if (!db || !b)
        return cp_error_set(err, CP_USAGE, "cp_sql_write: NULL argument");
    if (!db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_write: no load open");
    return db->backend->write(db, b, err);
}

cp_status cp_sql_finish(cp_sql *db, cp_error *err)
{
    if (!db)
        return cp_error_set(err, CP_USAGE, "cp_sql_finish: NULL argument");
    if (!db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_finish: no load open");
    return db->backend->finish ? db->backend->finish(db, err) : CP_OK;
}

cp_status cp_sql_commit(cp_sql *db, const cp_ledger_row *ledger, cp_error *err)
{
    if (!db || !ledger)
        return cp_error_set(err, CP_USAGE, "cp_sql_commit: NULL argument");
    if (!db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_commit: no load open");
    /* the backend rolls back itself when the commit fails: the load is over either way */
    cp_status st = db->backend->commit(db, ledger, err);
    db->in_load = false;
    return st;
}

void cp_sql_rollback(cp_sql *db)
{
    if (!db || !db->in_load)
        return;
    db->backend->rollback(db);
    db->in_load = false;
}

cp_status cp_sql_record(cp_sql *db, const cp_ledger_row *ledger, cp_error *err)
{
    if (!db || !ledger)
        return cp_error_set(err, CP_USAGE, "cp_sql_record: NULL argument");
    if (db->in_load)
        return cp_error_set(
            err, CP_USAGE, "cp_sql_record: a load is open; its ledger row goes with cp_sql_commit");
    return db->backend->record(db, ledger, err);
}

cp_status cp_sql_handoff_begin(cp_sql *db, const char *source_uri, const char *version,
                               cp_handoff_view *out, cp_error *err)
{
    if (!db || !source_uri || !version || !out)
        return cp_error_set(err, CP_USAGE, "cp_sql_handoff_begin: NULL argument");
    if (db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_handoff_begin: a load is open");
    memset(out, 0, sizeof *out);
    cp_status st = db->backend->handoff_begin(db, source_uri, version, out, err);
    db->in_load = st == CP_OK;
    return st;
}

cp_status cp_sql_handoff_end(cp_sql *db, const cp_ledger_row *row, cp_error *err)
{
    if (!db)
        return cp_error_set(err, CP_USAGE, "cp_sql_handoff_end: NULL argument");
    if (!db->in_load)
        return cp_error_set(err, CP_USAGE, "cp_sql_handoff_end: no hand-off open");
    cp_status st = db->backend->handoff_end(db, row, err);
    db->in_load = false;
    return st;
}

bool cp_sql_connection_lost(cp_sql *db)
{
    return db && db->backend->connection_lost && db->backend->connection_lost(db);
}

/* ---- shared helpers ---- */

cp_status cp_sql_quote_ident(cp_buf *out, const char *name)
{
    CP_RETURN_IF_ERROR(cp_buf_append_char(out, '"'));
    for (const char *p = name; *p; p++) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        CP_RETURN_IF_ERROR(cp_buf_append(out, p, n));
        if (!q)
            break;
        CP_RETURN_IF_ERROR(cp_buf_append(out, "\"\"", 2));
        p = q;
    }
    return cp_buf_append_char(out, '"');
}

cp_status cp_sql_check_dataset(const char *dataset, cp_error *err)
{
    if (!dataset[0])
        return cp_error_set(err, CP_USAGE,
                            "the dataset (table) name is empty; give one with --table");
    if (strncasecmp(dataset, "csvpipe_", 8) == 0 || strncasecmp(dataset, "sqlite_", 7) == 0)
        return cp_error_set(err, CP_REJECTED,
                            "table name \"%s\" is reserved (csvpipe_* and sqlite_* are csvpipe's "
                            "and the database's own tables); load the file with another --table",
                            dataset);
    return CP_OK;
}

cp_status cp_sql_check_columns(const char *dataset, const cp_schema *schema, cp_error *err)
{
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const char *name = schema->columns[i].name;
        if (!name || !name[0])
            return cp_error_set(err, CP_USAGE, "column %zu of table \"%s\" has no name", i + 1,
                                dataset);
        if (strcasecmp(name, "_source") == 0 || strcasecmp(name, "_row") == 0)
            return cp_error_set(err, CP_USAGE,
                                "column %zu of table \"%s\" is named \"%s\", which csvpipe keeps "
                                "for itself (the schema's names must reserve _source and _row)",
                                i + 1, dataset, name);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(name, schema->columns[j].name) == 0)
                return cp_error_set(err, CP_USAGE, "table \"%s\" has two columns named \"%s\"",
                                    dataset, name);
    }
    return CP_OK;
}

cp_sql_change cp_sql_column_change(cp_type table, cp_type file, cp_type *after)
{
    cp_type j = cp_type_join(table, file);
    *after = j;
    if (cp_type_equal(j, table))
        return CP_SQL_KEEP;
    if (table.id == CP_TYPE_NULL)
        return CP_SQL_WIDEN; /* a column that only ever held nulls takes any type */
    if (j.id == CP_TYPE_STRING)
        return CP_SQL_REJECT;
    return CP_SQL_WIDEN;
}

/* The CP_REJECTED message of a REJECT: dataset, column, both types, why, what to do. */
static cp_status reject_column(cp_error *err, const char *dataset, const char *column,
                               cp_type table, cp_type file)
{
    char tt[32], ft[32];
    cp_type_format(table, tt, sizeof tt);
    cp_type_format(file, ft, sizeof ft);
    return cp_error_set(err, CP_REJECTED,
                        "column \"%s\" of table \"%s\" is %s but this file has %s values; csvpipe "
                        "widens a column only when no value changes (INT64 to DECIMAL, DATE to "
                        "TIMESTAMP...); nothing was loaded: fix the file, load it under another "
                        "--table, or change the column by hand",
                        column, dataset, tt, ft);
}

void cp_sql_table_init(cp_sql_table *t)
{
    memset(t, 0, sizeof *t);
}

void cp_sql_table_release(cp_sql_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->cols[i].name);
        free(t->cols[i].declared);
    }
    free(t->cols);
    cp_sql_table_init(t);
}

cp_status cp_sql_table_add(cp_sql_table *t, const char *name, const char *declared, cp_type type,
                           bool known, bool notnull)
{
    cp_sql_column *grown = cp_array_room(t->cols, t->n, &t->cap, sizeof *grown);
    if (!grown)
        return CP_NOMEM;
    t->cols = grown;
    cp_sql_column *c = &t->cols[t->n];
    c->name = strdup(name ? name : "");
    c->declared = strdup(declared ? declared : "");
    if (!c->name || !c->declared) {
        free(c->name);
        free(c->declared);
        return CP_NOMEM;
    }
    c->known = known;
    c->notnull = notnull;
    c->type = c->after = type;
    t->n++;
    return CP_OK;
}

cp_sql_column *cp_sql_table_find(const cp_sql_table *t, cp_sql_dialect d, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (d == CP_SQL_DIALECT_SQLITE ? strcasecmp(t->cols[i].name, name) == 0
                                       : strcmp(t->cols[i].name, name) == 0)
            return &t->cols[i];
    return NULL;
}

/* Whether the table has csvpipe's _source and _row (typed text and bigint in PostgreSQL). */
static bool made_by_csvpipe(cp_sql_dialect d, const cp_sql_table *t)
{
    const cp_sql_column *source = cp_sql_table_find(t, d, "_source");
    const cp_sql_column *row = cp_sql_table_find(t, d, "_row");
    if (d == CP_SQL_DIALECT_SQLITE)
        return source && row;
    return source && row && strcmp(source->declared, "text") == 0 &&
           strcmp(row->declared, "bigint") == 0;
}

cp_status cp_sql_plan_table(cp_sql_dialect d, const char *dataset, const cp_schema *schema,
                            cp_sql_table *t, cp_type *targets, cp_sql_plan *plan, cp_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->create = t->n == 0;
    if (plan->create) {
        for (size_t i = 0; i < schema->ncolumns; i++)
            targets[i] = schema->columns[i].type;
        return CP_OK;
    }
    if (!made_by_csvpipe(d, t))
        return cp_error_set(err, CP_REJECTED,
                            "table \"%s\" exists but was not made by csvpipe (it has no %s "
                            "columns); load the file with another --table",
                            dataset,
                            d == CP_SQL_DIALECT_SQLITE ? "_source and _row"
                                                       : "_source text and _row bigint");
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const cp_column *c = &schema->columns[i];
        cp_sql_column *tc = cp_sql_table_find(t, d, c->name);
        if (!tc) {
            targets[i] = c->type;
            plan->add = true;
            continue;
        }
        if (!tc->known)
            return cp_error_set(err, CP_REJECTED,
                                "column \"%s\" of table \"%s\" has the PostgreSQL type %s, which "
                                "csvpipe does not load into (it writes boolean, bigint, "
                                "numeric(p,s), double precision, date, timestamp, timestamptz "
                                "and text); nothing was loaded: change the column by hand or "
                                "load the file under another --table",
                                c->name, dataset, tc->declared);
        cp_type after;
        switch (cp_sql_column_change(tc->type, c->type, &after)) {
        case CP_SQL_KEEP:
            break;
        case CP_SQL_REJECT:
            return reject_column(err, dataset, c->name, tc->type, c->type);
        case CP_SQL_WIDEN:
            tc->after = after;
            plan->widen = true;
            break;
        }
        targets[i] = tc->after;
    }
    return CP_OK;
}

/* u * 10^k, false on overflow past 38 digits. */
static bool rescale(cp_i128 *u, unsigned k)
{
    static const cp_i128 limit =
        (cp_i128)10000000000000000000ULL * (cp_i128)10000000000000000000ULL;
    for (; k > 0; k--) {
        if (*u >= limit / 10 || *u <= -(limit / 10))
            return false;
        *u *= 10;
    }
    return true;
}

static cp_sql_value text_of(cp_buf *scratch)
{
    cp_sql_value v = {CP_SQL_VALUE_TEXT, 0, 0, scratch->data ? scratch->data : "", scratch->len};
    return v;
}

cp_status cp_sql_value_of(const cp_batch *b, size_t col, size_t row, cp_type to, cp_buf *scratch,
                          cp_sql_value *out)
{
    const cp_column_data *c = &b->cols[col];
    const cp_type from = b->schema->columns[col].type;
    char tmp[64];
    size_t n;
    cp_buf_reset(scratch);
    memset(out, 0, sizeof *out);
    out->kind = CP_SQL_VALUE_NULL;
    if (from.id == CP_TYPE_NULL || !cp_batch_valid(b, col, row))
        return CP_OK;
    switch (to.id) {
    case CP_TYPE_BOOLEAN:
        if (from.id != CP_TYPE_BOOLEAN)
            break;
        out->kind = CP_SQL_VALUE_INT;
        out->i = c->v.boolean[row] ? 1 : 0;
        return CP_OK;
    case CP_TYPE_INT64:
        if (from.id != CP_TYPE_INT64)
            break;
        out->kind = CP_SQL_VALUE_INT;
        out->i = c->v.i64[row];
        return CP_OK;
    case CP_TYPE_DECIMAL: {
        cp_i128 u;
        unsigned scale;
        if (from.id == CP_TYPE_INT64) {
            u = c->v.i64[row];
            scale = 0;
        } else if (from.id == CP_TYPE_DECIMAL) {
            u = c->v.decimal[row];
            scale = from.scale;
        } else {
            break;
        }
        if (scale > to.scale || !rescale(&u, to.scale - scale))
            break;
        n = cp_format_decimal(u, to.scale, tmp);
        CP_RETURN_IF_ERROR(cp_buf_append(scratch, tmp, n));
        *out = text_of(scratch);
        return CP_OK;
    }
    case CP_TYPE_DOUBLE:
        out->kind = CP_SQL_VALUE_REAL;
        if (from.id == CP_TYPE_DOUBLE) {
            out->f = c->v.f64[row];
        } else if (from.id == CP_TYPE_INT64) {
            out->f = (double)c->v.i64[row];
        } else if (from.id == CP_TYPE_DECIMAL) {
            /* through the digits: strtod rounds correctly, dividing by 10^s would not */
            cp_format_decimal(c->v.decimal[row], from.scale, tmp);
            out->f = strtod(tmp, NULL);
        } else {
            break;
        }
        return CP_OK;
    case CP_TYPE_DATE:
        if (from.id != CP_TYPE_DATE)
            break;
        n = cp_format_date(c->v.date[row], tmp);
        CP_RETURN_IF_ERROR(cp_buf_append(scratch, tmp, n));
        *out = text_of(scratch);
        return CP_OK;
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ: {
        int64_t micros;
        if (from.id == CP_TYPE_DATE && to.id == CP_TYPE_TIMESTAMP)
            micros = (int64_t)c->v.date[row] * 86400000000LL;
        else if (from.id == to.id)
            micros = c->v.i64[row];
        else
            break;
        n = cp_format_timestamp(micros, to.id == CP_TYPE_TIMESTAMPTZ, tmp);
        CP_RETURN_IF_ERROR(cp_buf_append(scratch, tmp, n));
        *out = text_of(scratch);
        return CP_OK;
    }
    case CP_TYPE_STRING:
        if (from.id == CP_TYPE_STRING) {
            out->kind = CP_SQL_VALUE_TEXT;
            out->text = cp_batch_string(b, col, row, &out->len);
            if (!out->text)
                out->text = ""; /* an empty string must not bind as NULL */
            return CP_OK;
        }
        CP_RETURN_IF_ERROR(cp_cell_append_text(scratch, b, col, row));
        *out = text_of(scratch);
        return CP_OK;
    case CP_TYPE_NULL:
        break;
    }
    out->kind = CP_SQL_VALUE_NULL;
    return CP_USAGE;
}

static const char ledger_sqlite[] =
    "CREATE TABLE IF NOT EXISTS csvpipe_loads ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, dataset TEXT, source_uri TEXT, version TEXT, "
    "sequencer TEXT, size_bytes INTEGER, rows_loaded INTEGER, rows_rejected INTEGER, "
    "restarts INTEGER, started_at TEXT, finished_at TEXT, duration_ms INTEGER, status TEXT, "
    "error TEXT, outputs TEXT, schema TEXT);"
    "CREATE INDEX IF NOT EXISTS csvpipe_loads_source_status ON csvpipe_loads (source_uri, "
    "status);"
    "CREATE INDEX IF NOT EXISTS csvpipe_loads_dataset_finished ON csvpipe_loads (dataset, "
    "finished_at);";

static const char ledger_postgres[] =
    "CREATE TABLE IF NOT EXISTS csvpipe_loads ("
    "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, dataset text, source_uri text, "
    "version text, sequencer text, size_bytes bigint, rows_loaded bigint, rows_rejected bigint, "
    "restarts integer, started_at timestamptz, finished_at timestamptz, duration_ms bigint, "
    "status text, error text, outputs text, schema text);"
    "CREATE INDEX IF NOT EXISTS csvpipe_loads_source_status ON csvpipe_loads (source_uri, "
    "status);"
    "CREATE INDEX IF NOT EXISTS csvpipe_loads_dataset_finished ON csvpipe_loads (dataset, "
    "finished_at);";

/* SQLite matches identifiers without regard to ASCII case, so the metadata does too. */
static const char columns_sqlite[] =
    "CREATE TABLE IF NOT EXISTS csvpipe_columns (dataset TEXT NOT NULL COLLATE NOCASE, "
    "column_name TEXT NOT NULL COLLATE NOCASE, type TEXT NOT NULL, "
    "PRIMARY KEY (dataset, column_name));";

static const char columns_postgres[] =
    "CREATE TABLE IF NOT EXISTS csvpipe_columns (dataset text NOT NULL, "
    "column_name text NOT NULL, type text NOT NULL, PRIMARY KEY (dataset, column_name));";

const char *cp_sql_ledger_ddl(cp_sql_dialect d)
{
    return d == CP_SQL_DIALECT_POSTGRES ? ledger_postgres : ledger_sqlite;
}

const char *cp_sql_columns_ddl(cp_sql_dialect d)
{
    return d == CP_SQL_DIALECT_POSTGRES ? columns_postgres : columns_sqlite;
}

cp_status cp_sql_check_batch(const cp_batch *b, const cp_type *targets, size_t ncols, cp_error *err)
{
    if (b->schema->ncolumns != ncols)
        return cp_error_set(err, CP_USAGE, "batch has %zu columns, the load was begun with %zu",
                            b->schema->ncolumns, ncols);
    for (size_t i = 0; i < ncols; i++) {
        if (!cp_type_fits(b->schema->columns[i].type, targets[i])) {
            char bt[32], tt[32];
            return cp_error_set(err, CP_USAGE,
                                "column \"%s\" of the batch is %s, which does not fit the "
                                "table's %s",
                                b->schema->columns[i].name,
                                cp_type_format(b->schema->columns[i].type, bt, sizeof bt),
                                cp_type_format(targets[i], tt, sizeof tt));
        }
    }
    return CP_OK;
}

void cp_sql_outputs_task(const char *outputs_json, char *out, size_t cap)
{
    json_t *j = outputs_json ? json_loads(outputs_json, 0, NULL) : NULL;
    const char *arn = json_string_value(json_object_get(j, "ecs_task"));
    snprintf(out, cap, "%s", arn ? arn : "");
    json_decref(j);
}
