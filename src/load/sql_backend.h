/*
 * sql_backend.h - private to src/load: what a relational backend implements, and the
 * helpers every backend shares (identifier quoting, the column type rules of schema
 * evolution, a table's columns as read and the plan of its evolution, values in the
 * table's form, the DDL of csvpipe's own tables). A backend reads the table's columns
 * with its own query, plans with cp_sql_plan_table, and writes the DDL of the plan in its
 * own dialect.
 *
 * A backend (sql_sqlite.c, sql_postgres.c) defines a `const cp_sql_backend` and
 * allocates its connection struct with a `cp_sql` as its first member, so sql.c can
 * dispatch on db->backend and the backend can cast back. sql.c checks the arguments that
 * are the same for every backend (NULLs, a load open or not) before dispatching.
 */
#ifndef CP_SQL_BACKEND_H
#define CP_SQL_BACKEND_H

#include "load/sql.h"

typedef struct cp_sql_backend {
    const char *const *schemes; /* URL prefixes, e.g. "sqlite:"; NULL-terminated */
    /* target is the URL without the scheme */
    cp_sql *(*open)(const char *target, cp_error *err);
    void (*close)(cp_sql *db);
    cp_status (*last_load)(cp_sql *db, const char *source_uri, cp_ledger_entry *out, bool *found,
                           cp_error *err);
    cp_status (*lock_source)(cp_sql *db, const char *source_uri, bool (*stop)(void), cp_error *err);
    void (*unlock_source)(cp_sql *db);
    cp_status (*begin)(cp_sql *db, const char *dataset, const cp_schema *schema,
                       const char *source_uri, cp_error *err);
    cp_status (*write)(cp_sql *db, const cp_batch *b, cp_error *err);
    /* NULL when every row is in the transaction once written */
    cp_status (*finish)(cp_sql *db, cp_error *err);
    cp_status (*commit)(cp_sql *db, const cp_ledger_row *ledger, cp_error *err);
    void (*rollback)(cp_sql *db);
    cp_status (*record)(cp_sql *db, const cp_ledger_row *ledger, cp_error *err);
    cp_status (*handoff_begin)(cp_sql *db, const char *source_uri, const char *version,
                               cp_handoff_view *out, cp_error *err);
    /* row NULL: roll back */
    cp_status (*handoff_end)(cp_sql *db, const cp_ledger_row *row, cp_error *err);
    /* cp_sql_connection_lost; NULL when the backend has no connection to lose */
    bool (*connection_lost)(cp_sql *db);
} cp_sql_backend;

struct cp_sql {
    const cp_sql_backend *backend;
    bool in_load; /* between a successful begin and commit/rollback; kept by sql.c */
};

/*
 * Waits for a lock: try() answers whether it got it (CP_OK, *got) or fails; between tries
 * it sleeps 5 ms, doubling up to 200 ms, and asks stop() (NULL: never), answering
 * CP_INTERRUPTED with a message naming what once stop says so.
 */
cp_status cp_sql_wait_lock(cp_status (*try)(cp_sql *db, void *arg, bool *got, cp_error *err),
                           cp_sql *db, void *arg, bool (*stop)(void), const char *what,
                           cp_error *err);

extern const cp_sql_backend cp_sql_sqlite_backend;
extern const cp_sql_backend cp_sql_postgres_backend;

typedef enum cp_sql_dialect {
    CP_SQL_DIALECT_SQLITE,
    CP_SQL_DIALECT_POSTGRES,
} cp_sql_dialect;

/* Appends name as a quoted identifier: "name", with every '"' doubled. */
cp_status cp_sql_quote_ident(cp_buf *out, const char *name);

/*
 * Checks a dataset name: not empty, not one of csvpipe's own tables (names starting with
 * "csvpipe_", which also holds csvpipe's indexes and work tables) nor "sqlite_".
 * CP_REJECTED with a message saying to choose another --table otherwise.
 */
cp_status cp_sql_check_dataset(const char *dataset, cp_error *err);

/* Checks that no schema column is named _source or _row (any case). CP_USAGE otherwise. */
cp_status cp_sql_check_columns(const char *dataset, const cp_schema *schema, cp_error *err);

/*
 * Schema evolution of one column that is in the table and in the file. The column type
 * after the load is the join of both (*after):
 *  - KEEP: the file's type fits the table's (after == table); values are written in the
 *    table's form;
 *  - WIDEN: the table's type must widen to after, which holds every value of both types
 *    (INT64 to DECIMAL, DECIMAL to a DECIMAL with more integer digits or more scale, INT64
 *    or DECIMAL to DOUBLE, DATE to TIMESTAMP, a NULL-typed column to anything);
 *  - REJECT: the join is STRING for a typed column (INT64 and STRING, TIMESTAMP and
 *    TIMESTAMPTZ, BOOLEAN and INT64...): widening would change the stored values.
 */
typedef enum cp_sql_change {
    CP_SQL_KEEP,
    CP_SQL_WIDEN,
    CP_SQL_REJECT,
} cp_sql_change;
cp_sql_change cp_sql_column_change(cp_type table, cp_type file, cp_type *after);

/* One column of a table that exists, as the backend read it (cp_sql_table_add). */
typedef struct cp_sql_column {
    char *name;
    char *declared; /* the database's declared type */
    bool known;     /* csvpipe loads into the declared type; false: only when not in the file */
    bool notnull;
    cp_type type;  /* csvpipe's type before this load */
    cp_type after; /* ... and after it (cp_sql_plan_table) */
} cp_sql_column;

/* The columns of a table in their order; n 0 when there is no such table. */
typedef struct cp_sql_table {
    cp_sql_column *cols;
    size_t n, cap;
} cp_sql_table;

void cp_sql_table_init(cp_sql_table *t);
void cp_sql_table_release(cp_sql_table *t);
/* Appends a column (name and declared are copied; after = type). CP_NOMEM. */
cp_status cp_sql_table_add(cp_sql_table *t, const char *name, const char *declared, cp_type type,
                           bool known, bool notnull);
/* The column named name (any ASCII case in SQLite, exactly in PostgreSQL), or NULL. */
cp_sql_column *cp_sql_table_find(const cp_sql_table *t, cp_sql_dialect d, const char *name);

/* What the load of a file must change in its table (cp_sql_plan_table). */
typedef struct cp_sql_plan {
    bool create; /* there is no table: create it with the file's columns and types */
    bool widen;  /* a column's type widens (its after differs from its type) */
    bool add;    /* a column of the file is not in the table */
} cp_sql_plan;

/*
 * Schema evolution, decided (the rules of cp_sql_column_change): the table must be
 * csvpipe's (it has _source and _row; text and bigint in PostgreSQL), every column in
 * both the table and the file gets its `after` type, and targets[i] is the type column i
 * of the file is written as (the file's own type for a column the table lacks).
 * CP_REJECTED, naming the table and the column and saying what to do, for a table
 * csvpipe did not make, a column of a declared type csvpipe does not know, or a column
 * whose values would change.
 */
cp_status cp_sql_plan_table(cp_sql_dialect d, const char *dataset, const cp_schema *schema,
                            cp_sql_table *t, cp_type *targets, cp_sql_plan *plan, cp_error *err);

/* One value in a table column's form (cp_sql_value_of). */
typedef enum cp_sql_value_kind {
    CP_SQL_VALUE_NULL,
    CP_SQL_VALUE_INT, /* BOOLEAN 0/1, INT64 */
    CP_SQL_VALUE_REAL,
    CP_SQL_VALUE_TEXT, /* DECIMAL (exact digits), dates, timestamps, STRING */
} cp_sql_value_kind;

typedef struct cp_sql_value {
    cp_sql_value_kind kind;
    int64_t i;
    double f;
    const char *text; /* into the batch or the scratch buffer; valid until either changes */
    size_t len;
} cp_sql_value;

/*
 * The value of row `row`, column `col` of b converted from the batch column's type to
 * `to`, the table column's type, which the batch type must fit (cp_type_fits): an INT64 5
 * into DECIMAL(18,2) is the text "5.00", a DATE into TIMESTAMP gets "T00:00:00", anything
 * into STRING is its canonical text (cp_cell_append_text). scratch is emptied and may hold
 * the text. CP_USAGE when the types do not fit, CP_TOO_LARGE/CP_NOMEM from scratch.
 */
cp_status cp_sql_value_of(const cp_batch *b, size_t col, size_t row, cp_type to, cp_buf *scratch,
                          cp_sql_value *out);

/*
 * The DDL of csvpipe's own tables in a dialect, as `;`-separated statements that create
 * what is missing (CREATE ... IF NOT EXISTS):
 *  - the ledger csvpipe_loads (ledger.h) and its indexes on (source_uri, status) and
 *    (dataset, finished_at);
 *  - csvpipe_columns(dataset, column_name, type), csvpipe's type of every column of every
 *    table (the database's declared types cannot tell DECIMAL(18,2) from DATE).
 */
const char *cp_sql_ledger_ddl(cp_sql_dialect d);
const char *cp_sql_columns_ddl(cp_sql_dialect d);

/* The ledger's columns after id, in the order the backends bind them (15 of them). */
#define CP_SQL_LEDGER_COLUMNS                                                                      \
    "dataset, source_uri, version, sequencer, size_bytes, rows_loaded, rows_rejected, "            \
    "restarts, started_at, finished_at, duration_ms, status, error, outputs, schema"
#define CP_SQL_LEDGER_NCOLUMNS 15

/* The "ecs_task" member of a ledger row's outputs JSON copied into out ("" when none). */
void cp_sql_outputs_task(const char *outputs_json, char *out, size_t cap);

/* CP_USAGE unless the batch has ncols columns, each fitting its table column's type. */
cp_status cp_sql_check_batch(const cp_batch *b, const cp_type *targets, size_t ncols,
                             cp_error *err);

#endif
