/*
 * test_sql_sqlite.c - the relational loader on SQLite, read back with sqlite3 itself:
 * storage forms and typeof() per type, replace-by-source, rollback, schema evolution
 * (added columns, widening rebuilds that keep values exact, rejected changes that leave
 * everything as it was), hostile identifiers, and the csvpipe_loads ledger. Rows go in
 * multi-row INSERT blocks: batches that are one block, several, less than one, and a
 * block that fails part-way (nothing of the load may be committed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "load/sql.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char dbpath[128];
static char url[160];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cp_sql_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/sub/warehouse.db", dir); /* folder made on open */
    snprintf(url, sizeof url, "sqlite:%s", dbpath);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* A schema of n columns named from headers (NULL names: keep headers verbatim). */
static void make_schema(cp_schema *s, const char *const *headers, const cp_type *types, size_t n)
{
    assert_int_equal(cp_schema_init(s, n), CP_OK);
    size_t lens[16];
    for (size_t i = 0; i < n; i++) {
        s->columns[i].type = types[i];
        lens[i] = strlen(headers[i]);
    }
    assert_int_equal(cp_schema_set_names(s, headers, lens, NULL), CP_OK);
}

/* Forces a column's name, bypassing normalization (the loader must not rely on it). */
static void force_name(cp_schema *s, size_t col, const char *name)
{
    free(s->columns[col].name);
    s->columns[col].name = strdup(name);
    assert_non_null(s->columns[col].name);
}

/* Appends one row; a NULL value is an empty (null) field. */
static void add_row(cp_batch *b, const char *const *vals, size_t n)
{
    cp_field f[16];
    for (size_t i = 0; i < n; i++) {
        f[i].data = vals[i] ? vals[i] : "";
        f[i].len = vals[i] ? strlen(vals[i]) : 0;
        f[i].quoted = false;
    }
    cp_value_opts opts = {{'.', CP_DATE_ORDER_UNKNOWN, 0}, NULL};
    cp_error err;
    assert_int_equal(cp_batch_append_row(b, f, n, &opts, &err), CP_OK);
}

static cp_ledger_row ledger_for(const char *dataset, const char *source, const char *version,
                                uint64_t rows)
{
    cp_ledger_row r;
    memset(&r, 0, sizeof r);
    r.dataset = dataset;
    r.source_uri = source;
    r.version = version;
    r.size_bytes = 1234;
    r.rows_loaded = rows;
    r.started_us = 1706700000000000LL;
    r.finished_us = 1706700001500000LL;
    r.status = CP_LOAD_LOADED;
    r.schema_json = "[]";
    return r;
}

/*
 * Loads rows (nrows x ncols strings) as one file of schema s into dataset from source, in
 * batches of batch_rows; returns the status of begin (CP_OK: committed).
 */
static cp_status load_in_batches(const char *dataset, const cp_schema *s, const char *source,
                                 const char *const *rows, size_t nrows, size_t batch_rows,
                                 cp_error *err)
{
    cp_sql *db = cp_sql_open(url, err);
    assert_non_null(db);
    cp_status st = cp_sql_begin(db, dataset, s, source, err);
    if (st != CP_OK) {
        cp_sql_close(db);
        return st;
    }
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, s, batch_rows, 1 << 16, 1 << 16), CP_OK);
    cp_batch_clear(&b, 1);
    for (size_t r = 0; r < nrows; r++) {
        if (cp_batch_full(&b)) {
            assert_int_equal(cp_sql_write(db, &b, err), CP_OK);
            cp_batch_clear(&b, b.first_row + b.nrows);
        }
        add_row(&b, rows + r * s->ncolumns, s->ncolumns);
    }
    assert_int_equal(cp_sql_write(db, &b, err), CP_OK);
    cp_batch_release(&b);
    cp_ledger_row l = ledger_for(dataset, source, "v1", nrows);
    st = cp_sql_commit(db, &l, err);
    assert_int_equal(st, CP_OK);
    cp_sql_close(db);
    return st;
}

/* As load_in_batches, in batches of 4 rows (less than one INSERT block). */
static cp_status load(const char *dataset, const cp_schema *s, const char *source,
                      const char *const *rows, size_t nrows, cp_error *err)
{
    return load_in_batches(dataset, s, source, rows, nrows, 4, err);
}

static sqlite3 *reader(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

/* The first column of the first row of sql as text ("NULL" for a null, "" for none). */
static char *query1(sqlite3 *db, const char *sql)
{
    static char out[512];
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(out, sizeof out, "%s", v ? (const char *)v : "NULL");
    }
    sqlite3_finalize(st);
    return out;
}

static void expect(sqlite3 *db, const char *sql, const char *want)
{
    const char *got = query1(db, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  got:  %s\n  want: %s", sql, got, want);
}

static void test_types_round_trip(void **state)
{
    static const char *const h[] = {"flag", "qty", "price", "ratio", "day", "at", "at_utc", "name"};
    const cp_type t[] = {cp_type_of(CP_TYPE_BOOLEAN),     cp_type_of(CP_TYPE_INT64),
                         cp_type_decimal(10, 2),          cp_type_of(CP_TYPE_DOUBLE),
                         cp_type_of(CP_TYPE_DATE),        cp_type_of(CP_TYPE_TIMESTAMP),
                         cp_type_of(CP_TYPE_TIMESTAMPTZ), cp_type_of(CP_TYPE_STRING)};
    static const char *const rows[] = {
        "true",
        "5",
        "19.90",
        "0.1",
        "2024-01-31",
        "2024-01-31T10:20:30.5",
        "2024-01-31T10:20:30+02:00",
        "h\xc3\xa9llo",
        "no",
        "-9223372036854775808",
        "-0.05",
        "1e300",
        "1900-03-01",
        "2024-02-29 23:59:59",
        "2024-01-31T23:30:00Z",
        "it's",
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
    };
    cp_schema s;
    make_schema(&s, h, t, 8);
    cp_error err;
    assert_int_equal(load("sales", &s, "file:///in/a.csv", rows, 3, &err), CP_OK);

    sqlite3 *db = reader();
    expect(db, "SELECT count(*) FROM sales", "3");
    expect(db,
           "SELECT group_concat(typeof(flag)||','||typeof(qty)||','||typeof(price)||','||"
           "typeof(ratio)||','||typeof(day)||','||typeof(at)||','||typeof(at_utc)||','||"
           "typeof(name), ';') FROM (SELECT * FROM sales ORDER BY _row)",
           "integer,integer,text,real,text,text,text,text;integer,integer,text,real,text,text,"
           "text,text;null,null,null,null,null,null,null,null");
    expect(db,
           "SELECT flag||'|'||qty||'|'||price||'|'||ratio||'|'||day||'|'||at||'|'||at_utc||'|'||"
           "name FROM sales WHERE _row = 1",
           "1|5|19.90|0.1|2024-01-31|2024-01-31T10:20:30.500000|2024-01-31T08:20:30Z|h\xc3\xa9llo");
    expect(db,
           "SELECT flag||'|'||qty||'|'||price||'|'||day||'|'||at||'|'||at_utc||'|'||name "
           "FROM sales WHERE _row = 2",
           "0|-9223372036854775808|-0.05|1900-03-01|2024-02-29T23:59:59|2024-01-31T23:30:00Z|it's");
    expect(db, "SELECT ratio = 1e300 FROM sales WHERE _row = 2", "1");
    expect(db, "SELECT group_concat(_source||'#'||_row) FROM sales",
           "file:///in/a.csv#1,file:///in/a.csv#2,file:///in/a.csv#3");
    expect(db,
           "SELECT group_concat(column_name||'='||type, ' ') FROM "
           "(SELECT * FROM csvpipe_columns WHERE dataset = 'sales' ORDER BY column_name)",
           "at=TIMESTAMP at_utc=TIMESTAMPTZ day=DATE flag=BOOLEAN name=STRING price=DECIMAL(10,2) "
           "qty=INT64 ratio=DOUBLE");
    expect(db,
           "SELECT group_concat(name||':'||type||':'||\"notnull\", ' ') FROM "
           "pragma_table_info('sales')",
           "flag:INTEGER:0 qty:INTEGER:0 price:TEXT:0 ratio:REAL:0 day:TEXT:0 at:TEXT:0 "
           "at_utc:TEXT:0 name:TEXT:0 _source:TEXT:1 _row:INTEGER:1");
    expect(db, "SELECT \"unique\" FROM pragma_index_list('sales')", "1");
    expect(db,
           "SELECT group_concat(name) FROM pragma_index_info("
           "(SELECT name FROM pragma_index_list('sales')))",
           "_source,_row");
    expect(db, "SELECT journal_mode FROM pragma_journal_mode", "wal");
    sqlite3_close(db);
    cp_schema_release(&s);
}

static void test_reload_replaces_source(void **state)
{
    static const char *const h[] = {"id"};
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    static const char *const a1[] = {"1", "2", "3", "4", "5"}, *const b1[] = {"10", "20"},
                             *const a2[] = {"7"};
    cp_schema s;
    make_schema(&s, h, t, 1);
    cp_error err;
    assert_int_equal(load("t", &s, "a.csv", a1, 5, &err), CP_OK);
    assert_int_equal(load("t", &s, "b.csv", b1, 2, &err), CP_OK);
    assert_int_equal(load("t", &s, "a.csv", a2, 1, &err), CP_OK);
    sqlite3 *db = reader();
    expect(db,
           "SELECT group_concat(_source||':'||_row||':'||id, ' ') FROM "
           "(SELECT * FROM t ORDER BY _source, _row)",
           "a.csv:1:7 b.csv:1:10 b.csv:2:20");
    expect(db, "SELECT count(*) FROM csvpipe_loads WHERE status = 'loaded'", "3");
    sqlite3_close(db);
    cp_schema_release(&s);
}

static void test_rollback_leaves_nothing(void **state)
{
    static const char *const h[] = {"id"};
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    static const char *const a1[] = {"1", "2"};
    cp_schema s;
    make_schema(&s, h, t, 1);
    cp_error err;

    /* a first load that is rolled back: not even the table remains */
    cp_sql *db = cp_sql_open(url, &err);
    assert_non_null(db);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    add_row(&b, a1, 1);
    assert_int_equal(cp_sql_begin(db, "t", &s, "a.csv", &err), CP_OK);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    cp_sql_rollback(db);
    cp_sql_rollback(db); /* harmless twice */
    assert_int_equal(cp_sql_write(db, &b, &err), CP_USAGE);
    sqlite3 *r = reader();
    expect(r, "SELECT count(*) FROM sqlite_master WHERE name = 't'", "0");
    sqlite3_close(r);

    /* a reload rolled back, then one left open at close: the old rows stay */
    assert_int_equal(load("t", &s, "a.csv", a1, 2, &err), CP_OK);
    assert_int_equal(cp_sql_begin(db, "t", &s, "a.csv", &err), CP_OK);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    cp_sql_rollback(db);
    assert_int_equal(cp_sql_begin(db, "t", &s, "a.csv", &err), CP_OK);
    assert_int_equal(cp_sql_begin(db, "t", &s, "a.csv", &err), CP_USAGE);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    cp_sql_close(db);
    r = reader();
    expect(r, "SELECT group_concat(id) FROM t", "1,2");
    expect(r, "SELECT count(*) FROM csvpipe_loads", "1");
    sqlite3_close(r);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_new_and_missing_columns(void **state)
{
    static const char *const h1[] = {"a"}, *const h2[] = {"a", "b"}, *const h3[] = {"b"};
    const cp_type t1[] = {cp_type_of(CP_TYPE_INT64)},
                  t2[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_DATE)},
                  t3[] = {cp_type_of(CP_TYPE_DATE)};
    static const char *const r1[] = {"1"}, *const r2[] = {"2", "2024-05-06"},
                             *const r3[] = {"2024-07-08"};
    cp_schema s1, s2, s3;
    make_schema(&s1, h1, t1, 1);
    make_schema(&s2, h2, t2, 2);
    make_schema(&s3, h3, t3, 1);
    cp_error err;
    assert_int_equal(load("t", &s1, "1.csv", r1, 1, &err), CP_OK);
    assert_int_equal(load("t", &s2, "2.csv", r2, 1, &err), CP_OK);
    assert_int_equal(load("t", &s3, "3.csv", r3, 1, &err), CP_OK);
    sqlite3 *db = reader();
    expect(db,
           "SELECT group_concat(_source||':'||quote(a)||':'||quote(b), ' ') FROM "
           "(SELECT * FROM t ORDER BY _source)",
           "1.csv:1:NULL 2.csv:2:'2024-05-06' 3.csv:NULL:'2024-07-08'");
    expect(db, "SELECT type FROM csvpipe_columns WHERE dataset = 't' AND column_name = 'b'",
           "DATE");
    sqlite3_close(db);
    cp_schema_release(&s1);
    cp_schema_release(&s2);
    cp_schema_release(&s3);
}

static void test_widening_rebuilds_exactly(void **state)
{
    static const char *const h[] = {"qty", "day", "note"};
    const cp_type t1[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_DATE),
                          cp_type_of(CP_TYPE_STRING)};
    const cp_type t2[] = {cp_type_decimal(4, 2), cp_type_of(CP_TYPE_TIMESTAMP),
                          cp_type_of(CP_TYPE_STRING)};
    const cp_type t3[] = {cp_type_decimal(5, 3), cp_type_of(CP_TYPE_DATE),
                          cp_type_of(CP_TYPE_INT64)};
    const cp_type t4[] = {cp_type_of(CP_TYPE_DOUBLE), cp_type_of(CP_TYPE_DATE),
                          cp_type_of(CP_TYPE_STRING)};
    static const char *const r1[] = {"5", "2024-01-31", "x", "-3", NULL, NULL},
                             *const r2[] = {"1.5", "2024-02-01T12:00:00", "y"},
                             *const r3[] = {"0.125", "2024-03-01", "42"},
                             *const r4[] = {"2.5e-1", "2024-04-01", "z"};
    cp_schema s1, s2, s3, s4;
    make_schema(&s1, h, t1, 3);
    make_schema(&s2, h, t2, 3);
    make_schema(&s3, h, t3, 3);
    make_schema(&s4, h, t4, 3);
    cp_error err;
    assert_int_equal(load("sales", &s1, "1.csv", r1, 2, &err), CP_OK);
    {
        /* things of the user's that a rebuild must keep: an index, a view, a trigger */
        sqlite3 *w;
        assert_int_equal(sqlite3_open(dbpath, &w), SQLITE_OK);
        assert_int_equal(sqlite3_exec(w,
                                      "CREATE INDEX by_day ON sales(day);"
                                      "CREATE VIEW v_sales AS SELECT qty, day FROM sales;"
                                      "CREATE TABLE audit(n INTEGER);"
                                      "CREATE TRIGGER sales_ins AFTER INSERT ON sales "
                                      "BEGIN INSERT INTO audit VALUES (1); END;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(w);
    }
    /* INT64 -> DECIMAL(21,2) and DATE -> TIMESTAMP: the table is rebuilt */
    assert_int_equal(load("sales", &s2, "2.csv", r2, 1, &err), CP_OK);
    sqlite3 *db = reader();
    expect(db,
           "SELECT group_concat(quote(qty)||' '||quote(day), ' | ') FROM "
           "(SELECT * FROM sales ORDER BY _source, _row)",
           "'5.00' '2024-01-31T00:00:00' | '-3.00' NULL | '1.50' '2024-02-01T12:00:00'");
    expect(db,
           "SELECT group_concat(column_name||'='||type, ' ') FROM "
           "(SELECT * FROM csvpipe_columns WHERE dataset = 'sales' ORDER BY column_name)",
           "day=TIMESTAMP note=STRING qty=DECIMAL(21,2)");
    expect(db, "SELECT group_concat(name||':'||type, ' ') FROM pragma_table_info('sales')",
           "qty:TEXT day:TEXT note:TEXT _source:TEXT _row:INTEGER");
    expect(db, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'sales' AND type = 'index'",
           "2");
    expect(db, "SELECT count(*) FROM v_sales", "3");
    expect(db, "SELECT count(*) FROM audit", "1"); /* the trigger still fires */
    expect(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'csvpipe_rebuild%'", "0");
    sqlite3_close(db);

    /* DECIMAL(21,2) -> DECIMAL(22,3); a DATE into TIMESTAMP, an INT64 into STRING: kept */
    assert_int_equal(load("sales", &s3, "3.csv", r3, 1, &err), CP_OK);
    db = reader();
    expect(db,
           "SELECT group_concat(quote(qty)||' '||quote(day)||' '||quote(note), ' | ') FROM "
           "(SELECT * FROM sales ORDER BY _source, _row)",
           "'5.000' '2024-01-31T00:00:00' 'x' | '-3.000' NULL NULL | "
           "'1.500' '2024-02-01T12:00:00' 'y' | '0.125' '2024-03-01T00:00:00' '42'");
    expect(db, "SELECT type FROM csvpipe_columns WHERE column_name = 'qty'", "DECIMAL(22,3)");
    sqlite3_close(db);

    /* DECIMAL -> DOUBLE */
    assert_int_equal(load("sales", &s4, "4.csv", r4, 1, &err), CP_OK);
    db = reader();
    expect(db,
           "SELECT group_concat(typeof(qty)||':'||qty, ' ') FROM "
           "(SELECT * FROM sales ORDER BY _source, _row)",
           "real:5.0 real:-3.0 real:1.5 real:0.125 real:0.25");
    expect(db, "SELECT type FROM csvpipe_columns WHERE column_name = 'qty'", "DOUBLE");
    sqlite3_close(db);
    cp_schema_release(&s1);
    cp_schema_release(&s2);
    cp_schema_release(&s3);
    cp_schema_release(&s4);
}

static void test_keep_converts_to_table_form(void **state)
{
    static const char *const h[] = {"amount", "at"};
    const cp_type t1[] = {cp_type_decimal(30, 2), cp_type_of(CP_TYPE_TIMESTAMP)};
    const cp_type t2[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_DATE)};
    static const char *const r1[] = {"19.90", "2024-01-01T08:00:00"}, *const r2[] = {"5",
                                                                                     "2024-06-30"};
    cp_schema s1, s2;
    make_schema(&s1, h, t1, 2);
    make_schema(&s2, h, t2, 2);
    cp_error err;
    assert_int_equal(load("m", &s1, "1.csv", r1, 1, &err), CP_OK);
    assert_int_equal(load("m", &s2, "2.csv", r2, 1, &err), CP_OK);
    sqlite3 *db = reader();
    expect(db,
           "SELECT group_concat(quote(amount)||' '||quote(at), ' | ') FROM "
           "(SELECT * FROM m ORDER BY _source)",
           "'19.90' '2024-01-01T08:00:00' | '5.00' '2024-06-30T00:00:00'");
    expect(db,
           "SELECT group_concat(type, ' ') FROM (SELECT type FROM csvpipe_columns "
           "WHERE dataset = 'm' ORDER BY column_name)",
           "DECIMAL(30,2) TIMESTAMP");
    sqlite3_close(db);
    cp_schema_release(&s1);
    cp_schema_release(&s2);
}

static void test_incompatible_change_rejected(void **state)
{
    static const char *const h[] = {"qty", "at"};
    const cp_type t1[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_TIMESTAMP)};
    const cp_type t2[] = {cp_type_of(CP_TYPE_STRING), cp_type_of(CP_TYPE_TIMESTAMP)};
    const cp_type t3[] = {cp_type_decimal(4, 2), cp_type_of(CP_TYPE_TIMESTAMPTZ)};
    static const char *const r1[] = {"5", "2024-01-01T00:00:00"};
    cp_schema s1, s2, s3;
    make_schema(&s1, h, t1, 2);
    make_schema(&s2, h, t2, 2);
    make_schema(&s3, h, t3, 2);
    cp_error err;
    assert_int_equal(load("sales", &s1, "1.csv", r1, 1, &err), CP_OK);

    cp_error_clear(&err);
    assert_int_equal(load("sales", &s2, "1.csv", NULL, 0, &err), CP_REJECTED);
    assert_int_equal(err.code, CP_REJECTED);
    assert_non_null(strstr(err.message, "column \"qty\" of table \"sales\" is INT64 but this file "
                                        "has STRING values; csvpipe widens a column only when no "
                                        "value changes (INT64 to DECIMAL, DATE to TIMESTAMP...)"));
    /* the widening of qty must not happen either: at is rejected */
    assert_int_equal(load("sales", &s3, "1.csv", NULL, 0, &err), CP_REJECTED);
    assert_non_null(strstr(err.message, "\"at\""));
    assert_non_null(strstr(err.message, "TIMESTAMPTZ"));

    sqlite3 *db = reader();
    expect(db, "SELECT quote(qty)||' '||quote(at)||' '||_source FROM sales",
           "5 '2024-01-01T00:00:00' 1.csv");
    expect(db,
           "SELECT group_concat(column_name||'='||type, ' ') FROM "
           "(SELECT * FROM csvpipe_columns WHERE dataset = 'sales' ORDER BY column_name)",
           "at=TIMESTAMP qty=INT64");
    expect(db, "SELECT group_concat(type, ' ') FROM pragma_table_info('sales')",
           "INTEGER TEXT TEXT INTEGER");
    expect(db, "SELECT count(*) FROM csvpipe_loads", "1");
    sqlite3_close(db);

    /* csvpipe's own tables are no datasets */
    cp_sql *sql = cp_sql_open(url, &err);
    assert_int_equal(cp_sql_begin(sql, "csvpipe_loads", &s1, "x.csv", &err), CP_REJECTED);
    assert_int_equal(cp_sql_begin(sql, "", &s1, "x.csv", &err), CP_USAGE);
    cp_sql_close(sql);
    cp_schema_release(&s1);
    cp_schema_release(&s2);
    cp_schema_release(&s3);
}

static void test_hostile_identifiers(void **state)
{
    static const char *const h[] = {"a\"; DROP TABLE victim; --", "plain", "x"};
    const cp_type t1[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_STRING),
                          cp_type_of(CP_TYPE_INT64)};
    const cp_type t2[] = {cp_type_decimal(3, 1), cp_type_of(CP_TYPE_STRING),
                          cp_type_of(CP_TYPE_INT64)};
    static const char *const r1[] = {"1", "it's \"quoted\"; DROP TABLE victim; --", "2"};
    static const char *const r2[] = {"1.5", "'); DELETE FROM victim; --", "3"};
    const char *dataset = "my \"odd\" table; DROP TABLE victim; --";
    const char *source = "s3://b/it's \"here\".csv";

    sqlite3 *w;
    assert_int_equal(sqlite3_open(dbpath, &w), SQLITE_CANTOPEN); /* folder not there yet */
    sqlite3_close(w);
    cp_error err;
    cp_sql *sql = cp_sql_open(url, &err);
    assert_non_null(sql);
    cp_sql_close(sql);
    assert_int_equal(sqlite3_open(dbpath, &w), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(w, "CREATE TABLE victim(v); INSERT INTO victim VALUES (1);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(w);

    cp_schema s1, s2;
    make_schema(&s1, h, t1, 3);
    make_schema(&s2, h, t2, 3);
    assert_string_equal(s1.columns[0].name, "a_drop_table_victim");
    force_name(&s1, 0, h[0]);
    force_name(&s2, 0, h[0]);
    force_name(&s2, 2, "x\" INTEGER); DROP TABLE victim; --");
    assert_int_equal(load(dataset, &s1, source, r1, 1, &err), CP_OK);
    /* widening (rebuild) and ADD COLUMN with the same names */
    assert_int_equal(load(dataset, &s2, source, r2, 1, &err), CP_OK);
    assert_int_equal(load(dataset, &s1, "second.csv", r1, 1, &err), CP_OK);

    sqlite3 *db = reader();
    expect(db, "SELECT count(*) FROM victim", "1");
    expect(db,
           "SELECT group_concat(name, '|') FROM pragma_table_info("
           "'my \"odd\" table; DROP TABLE victim; --')",
           "a\"; DROP TABLE victim; --|plain|x|_source|_row|x\" INTEGER); DROP TABLE victim; --");
    expect(db,
           "SELECT group_concat(quote(\"a\"\"; DROP TABLE victim; --\")||' '||quote(plain)||' '||"
           "quote(x)||' '||quote(\"x\"\" INTEGER); DROP TABLE victim; --\")||' '||_source, ' | ') "
           "FROM (SELECT * FROM \"my \"\"odd\"\" table; DROP TABLE victim; --\" ORDER BY _source)",
           "'1.5' '''); DELETE FROM victim; --' NULL 3 s3://b/it's \"here\".csv | "
           "'1.0' 'it''s \"quoted\"; DROP TABLE victim; --' 2 NULL second.csv");
    expect(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
           "5"); /* victim, the dataset, csvpipe_loads, csvpipe_columns, sqlite_sequence */
    sqlite3_close(db);
    cp_schema_release(&s1);
    cp_schema_release(&s2);
}

static void test_ledger(void **state)
{
    cp_error err;
    cp_sql *db = cp_sql_open(url, &err);
    assert_non_null(db);
    cp_ledger_entry e;
    bool found = true;
    assert_int_equal(cp_sql_last_load(db, "a.csv", &e, &found, &err), CP_OK);
    assert_false(found);

    static const char *const h[] = {"id"};
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    cp_schema s;
    make_schema(&s, h, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    static const char *const one[] = {"1"};
    add_row(&b, one, 1);

    cp_ledger_row l = ledger_for("t", "a.csv", "etag-1", 1);
    l.sequencer = "0055AED6DCD90281E5";
    assert_int_equal(cp_sql_begin(db, "t", &s, "a.csv", &err), CP_OK);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    assert_int_equal(cp_sql_commit(db, &l, &err), CP_OK);

    cp_ledger_row skipped = ledger_for("t", "a.csv", "etag-1", 0);
    skipped.status = CP_LOAD_SKIPPED;
    skipped.size_bytes = -1;
    skipped.schema_json = NULL;
    assert_int_equal(cp_sql_record(db, &skipped, &err), CP_OK);
    cp_ledger_row rejected = ledger_for("t", "a.csv", "etag-2", 0);
    rejected.status = CP_LOAD_REJECTED;
    rejected.error = "2% of the rows are malformed";
    rejected.outputs_json = "{\"error\":\"out/rejected/t/a.error.json\"}";
    assert_int_equal(cp_sql_record(db, &rejected, &err), CP_OK);

    assert_int_equal(cp_sql_last_load(db, "a.csv", &e, &found, &err), CP_OK);
    assert_true(found);
    assert_string_equal(e.version, "etag-1");
    assert_string_equal(e.sequencer, "0055AED6DCD90281E5");
    assert_string_equal(e.dataset, "t");
    assert_int_equal(e.rows_loaded, 1);

    l.version = "etag-3";
    l.sequencer = NULL;
    assert_int_equal(cp_sql_begin(db, "t", &s, "a.csv", &err), CP_OK);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    assert_int_equal(cp_sql_commit(db, &l, &err), CP_OK);
    assert_int_equal(cp_sql_last_load(db, "a.csv", &e, &found, &err), CP_OK);
    assert_string_equal(e.version, "etag-3");
    assert_string_equal(e.sequencer, "");
    assert_int_equal(cp_sql_last_load(db, "other.csv", &e, &found, &err), CP_OK);
    assert_false(found);
    cp_sql_close(db);

    sqlite3 *r = reader();
    expect(r,
           "SELECT group_concat(id||' '||status||' '||quote(size_bytes)||' '||duration_ms||' '||"
           "started_at||' '||finished_at||' '||quote(error)||' '||quote(schema), ' | ') FROM "
           "(SELECT * FROM csvpipe_loads ORDER BY id)",
           "1 loaded 1234 1500 2024-01-31T11:20:00Z 2024-01-31T11:20:01.500000Z NULL '[]' | "
           "2 skipped NULL 1500 2024-01-31T11:20:00Z 2024-01-31T11:20:01.500000Z NULL NULL | "
           "3 rejected 1234 1500 2024-01-31T11:20:00Z 2024-01-31T11:20:01.500000Z "
           "'2% of the rows are malformed' '[]' | "
           "4 loaded 1234 1500 2024-01-31T11:20:00Z 2024-01-31T11:20:01.500000Z NULL '[]'");
    expect(r, "SELECT outputs FROM csvpipe_loads WHERE id = 3",
           "{\"error\":\"out/rejected/t/a.error.json\"}");
    expect(r, "SELECT group_concat(name) FROM pragma_index_info('csvpipe_loads_source_status')",
           "source_uri,status");
    sqlite3_close(r);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_bad_urls(void **state)
{
    cp_error err;
    /* nothing listens on port 1: PostgreSQL URLs reach libpq, which cannot connect */
    assert_null(cp_sql_open("postgresql://127.0.0.1:1/db?connect_timeout=2", &err));
    assert_int_equal(err.code, CP_DATABASE);
    assert_null(cp_sql_open("mysql://x", &err));
    assert_null(cp_sql_open("sqlite:", &err));
    assert_null(cp_sql_open("sqlite:/proc/nope/x.db", &err));
    assert_true(err.code == CP_IO || err.code == CP_DATABASE);
    cp_sql_close(NULL);
}

/* Processes loading into one database at once queue on the lock instead of failing. */
static void test_concurrent_processes(void **state)
{
    static const char *const h[] = {"id", "name"};
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_STRING)};
    cp_schema s;
    make_schema(&s, h, t, 2);
    enum { NPROC = 4, NFILES = 10, NROWS = 500 };
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            int bad = 0;
            for (int f = 0; f < NFILES; f++) {
                char source[64];
                snprintf(source, sizeof source, "p%d-f%d.csv", p, f);
                cp_error err;
                cp_sql *db = cp_sql_open(url, &err);
                cp_batch b;
                if (!db) {
                    fprintf(stderr, "process %d: %s\n", p, err.message);
                    _exit(1);
                }
                if (cp_batch_init(&b, &s, NROWS, 1 << 20, 1024) != CP_OK)
                    _exit(1);
                cp_batch_clear(&b, 1);
                for (int r = 0; r < NROWS; r++) {
                    char id[16];
                    snprintf(id, sizeof id, "%d", r);
                    const char *vals[] = {id, source};
                    add_row(&b, vals, 2);
                }
                cp_ledger_row l = ledger_for("t", source, "v", NROWS);
                if (cp_sql_begin(db, "t", &s, source, &err) != CP_OK ||
                    cp_sql_write(db, &b, &err) != CP_OK || cp_sql_commit(db, &l, &err) != CP_OK) {
                    fprintf(stderr, "process %d: %s\n", p, err.message);
                    bad = 1;
                }
                cp_batch_release(&b);
                cp_sql_close(db);
            }
            _exit(bad);
        }
    }
    for (int p = 0; p < NPROC; p++) {
        int status;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    sqlite3 *db = reader();
    expect(db, "SELECT count(*) FROM t", "20000");
    expect(db, "SELECT count(DISTINCT _source) FROM t", "40");
    expect(db, "SELECT count(*) FROM csvpipe_loads", "40");
    sqlite3_close(db);
    cp_schema_release(&s);
}

/* Generated rows for the block tests: column c of row r (1-based) or NULL, see gen_rows. */
enum { GEN_COLS = 5, GEN_MAX = 200 };
static char gen_buf[GEN_MAX][GEN_COLS][24];
static const char *gen_vals[GEN_MAX * GEN_COLS];

/* id r, price r.5, day 2024-01-(r % 28 + 1), name n<r>, ratio r.25; some NULLs in each. */
static const char *const *gen_rows(size_t n, int64_t id_offset)
{
    assert_true(n <= GEN_MAX);
    for (size_t i = 0; i < n; i++) {
        const unsigned r = (unsigned)i + 1;
        snprintf(gen_buf[i][0], 24, "%lld", (long long)(r + id_offset));
        snprintf(gen_buf[i][1], 24, "%u.5", r);
        snprintf(gen_buf[i][2], 24, "2024-01-%02u", r % 28 + 1);
        snprintf(gen_buf[i][3], 24, "n%u", r);
        snprintf(gen_buf[i][4], 24, "%u.25", r);
        static const unsigned null_every[GEN_COLS] = {7, 5, 9, 11, 13};
        for (size_t c = 0; c < GEN_COLS; c++)
            gen_vals[i * GEN_COLS + c] = r % null_every[c] ? gen_buf[i][c] : NULL;
    }
    return gen_vals;
}

static void gen_schema(cp_schema *s)
{
    static const char *const h[] = {"id", "price", "day", "name", "ratio"};
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64), cp_type_decimal(10, 2),
                         cp_type_of(CP_TYPE_DATE), cp_type_of(CP_TYPE_STRING),
                         cp_type_of(CP_TYPE_DOUBLE)};
    make_schema(s, h, t, GEN_COLS);
}

/* The number of rows of source in t that are exactly gen_rows' rows (values and types). */
static char *count_gen_rows(sqlite3 *db, const char *source)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM t WHERE _source = '%s' "
             "AND id IS (CASE WHEN _row %% 7 THEN _row END) "
             "AND price IS (CASE WHEN _row %% 5 THEN _row || '.50' END) "
             "AND day IS (CASE WHEN _row %% 9 THEN printf('2024-01-%%02d', _row %% 28 + 1) END) "
             "AND name IS (CASE WHEN _row %% 11 THEN 'n' || _row END) "
             "AND ratio IS (CASE WHEN _row %% 13 THEN _row + 0.25 END) "
             "AND typeof(id) IN ('integer', 'null') AND typeof(price) IN ('text', 'null') "
             "AND typeof(day) IN ('text', 'null') AND typeof(name) IN ('text', 'null') "
             "AND typeof(ratio) IN ('real', 'null')",
             source);
    return query1(db, sql);
}

/*
 * Batches of one row less than one block, one block and a tail, several blocks, and
 * batches that end mid-block all store the same rows as row-by-row inserts.
 */
static void test_blocks_of_rows(void **state)
{
    cp_schema s;
    gen_schema(&s);
    cp_error err;
    const char *const *rows = gen_rows(165, 0);
    /* 165 rows: 2 blocks of 64 and 37 one by one; 64 + 36 then 64 + 1; batches of 4 */
    assert_int_equal(load_in_batches("t", &s, "one.csv", rows, 165, 200, &err), CP_OK);
    assert_int_equal(load_in_batches("t", &s, "many.csv", rows, 165, 100, &err), CP_OK);
    assert_int_equal(load_in_batches("t", &s, "small.csv", rows, 165, 4, &err), CP_OK);
    assert_int_equal(load_in_batches("t", &s, "exact.csv", rows, 128, 64, &err), CP_OK);
    assert_int_equal(load_in_batches("t", &s, "short.csv", rows, 63, 200, &err), CP_OK);
    sqlite3 *db = reader();
    const char *sources[] = {"one.csv", "many.csv", "small.csv"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(count_gen_rows(db, sources[i]), "165");
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT min(_row) || '-' || max(_row) FROM t WHERE _source = '%s'", sources[i]);
        expect(db, sql, "1-165");
    }
    assert_string_equal(count_gen_rows(db, "exact.csv"), "128");
    assert_string_equal(count_gen_rows(db, "short.csv"), "63");
    expect(db, "SELECT count(*) FROM t", "686");
    sqlite3_close(db);

    /* a shorter new version of one.csv replaces all its rows, the others stay */
    assert_int_equal(load_in_batches("t", &s, "one.csv", rows, 70, 200, &err), CP_OK);
    db = reader();
    assert_string_equal(count_gen_rows(db, "one.csv"), "70");
    expect(db, "SELECT count(*) FROM t WHERE _source = 'one.csv'", "70");
    expect(db, "SELECT count(*) FROM t", "591");
    expect(db, "SELECT \"unique\" FROM pragma_index_list('t')", "1");
    sqlite3_close(db);
    cp_schema_release(&s);
}

static void exec_sql(const char *sql)
{
    sqlite3 *w;
    assert_int_equal(sqlite3_open(dbpath, &w), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(w, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(w);
}

/* A table as an earlier csvpipe made it, index and all, loads and replaces in blocks. */
static void test_existing_table_loads_in_blocks(void **state)
{
    cp_schema s;
    gen_schema(&s);
    cp_error err;
    const char *const *rows = gen_rows(150, 0);
    cp_sql *db = cp_sql_open(url, &err); /* makes the folder */
    assert_non_null(db);
    cp_sql_close(db);
    exec_sql("CREATE TABLE \"t\" (\"id\" INTEGER, \"price\" TEXT, \"day\" TEXT, "
             "\"name\" TEXT, \"ratio\" REAL, \"_source\" TEXT NOT NULL, "
             "\"_row\" INTEGER NOT NULL); "
             "CREATE UNIQUE INDEX \"csvpipe_source_row_t\" ON \"t\" (\"_source\", \"_row\"); "
             "CREATE TABLE IF NOT EXISTS csvpipe_columns (dataset TEXT NOT NULL COLLATE NOCASE, "
             "column_name TEXT NOT NULL COLLATE NOCASE, type TEXT NOT NULL, "
             "PRIMARY KEY (dataset, column_name)); "
             "INSERT INTO csvpipe_columns VALUES ('t', 'id', 'INT64'), "
             "('t', 'price', 'DECIMAL(10,2)'), ('t', 'day', 'DATE'), ('t', 'name', 'STRING'), "
             "('t', 'ratio', 'DOUBLE'); "
             "WITH RECURSIVE n(r) AS (SELECT 1 UNION ALL SELECT r + 1 FROM n WHERE r < 300) "
             "INSERT INTO t SELECT r, NULL, NULL, 'old', NULL, 'a.csv', r FROM n; "
             "INSERT INTO t VALUES (1, '1.00', NULL, NULL, NULL, 'b.csv', 1);");
    assert_int_equal(load_in_batches("t", &s, "a.csv", rows, 150, 1000, &err), CP_OK);
    sqlite3 *r = reader();
    assert_string_equal(count_gen_rows(r, "a.csv"), "150");
    expect(r, "SELECT count(*) FROM t", "151");
    expect(r, "SELECT count(*) FROM t WHERE name = 'old'", "0");
    expect(r, "SELECT group_concat(name) FROM pragma_index_list('t')", "csvpipe_source_row_t");
    sqlite3_close(r);
    cp_schema_release(&s);
}

/* A table a person declared with ON CONFLICT rules keeps them (OR FAIL would override). */
static void test_declared_conflict_rules_kept(void **state)
{
    cp_schema s;
    gen_schema(&s);
    cp_error err;
    cp_sql *db = cp_sql_open(url, &err); /* makes the folder */
    assert_non_null(db);
    cp_sql_close(db);
    /* the same ids twice: b.csv's replace a.csv's (a NULL id, every 7th, conflicts with none) */
    exec_sql("CREATE TABLE \"t\" (\"id\" INTEGER UNIQUE ON CONFLICT REPLACE, \"price\" TEXT, "
             "\"day\" TEXT, \"name\" TEXT, \"ratio\" REAL, \"_source\" TEXT NOT NULL, "
             "\"_row\" INTEGER NOT NULL); "
             "CREATE TABLE IF NOT EXISTS csvpipe_columns (dataset TEXT NOT NULL COLLATE NOCASE, "
             "column_name TEXT NOT NULL COLLATE NOCASE, type TEXT NOT NULL, "
             "PRIMARY KEY (dataset, column_name)); "
             "INSERT INTO csvpipe_columns VALUES ('t', 'id', 'INT64'), "
             "('t', 'price', 'DECIMAL(10,2)'), ('t', 'day', 'DATE'), ('t', 'name', 'STRING'), "
             "('t', 'ratio', 'DOUBLE');");
    const char *const *first = gen_rows(150, 0);
    assert_int_equal(load_in_batches("t", &s, "a.csv", first, 150, 1000, &err), CP_OK);
    assert_int_equal(load_in_batches("t", &s, "b.csv", first, 150, 1000, &err), CP_OK);
    sqlite3 *r = reader();
    expect(r, "SELECT count(*) FROM t WHERE _source = 'b.csv'", "150");
    expect(r, "SELECT count(*) FROM t WHERE _source = 'a.csv' AND id IS NOT NULL", "0");
    expect(r, "SELECT count(*) FROM t WHERE _source = 'a.csv'", "21");
    sqlite3_close(r);
    cp_schema_release(&s);
}

/*
 * A block that fails part-way (here on a unique index the user added) fails the write;
 * the load can then only be rolled back, and nothing of it is committed.
 */
static void test_failed_block_commits_nothing(void **state)
{
    cp_schema s;
    gen_schema(&s);
    cp_error err;
    assert_int_equal(load("t", &s, "a.csv", gen_rows(10, 0), 10, &err), CP_OK);
    exec_sql("CREATE UNIQUE INDEX user_id ON t (id)");

    cp_sql *db = cp_sql_open(url, &err);
    assert_non_null(db);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 130, 1 << 16, 1 << 16), CP_OK);
    cp_batch_clear(&b, 1);
    const char *const *rows = gen_rows(130, 1000); /* 2 blocks and 2 rows */
    for (size_t i = 0; i < 130; i++) {
        if (i == 69)
            gen_vals[i * GEN_COLS] = "2"; /* a.csv's id 2: in the second block */
        add_row(&b, rows + i * GEN_COLS, GEN_COLS);
    }
    assert_int_equal(cp_sql_begin(db, "t", &s, "b.csv", &err), CP_OK);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_DATABASE);
    assert_non_null(strstr(err.message, "inserting rows 65 to 128 of b.csv"));
    assert_int_not_equal(cp_sql_write(db, &b, &err), CP_OK);
    cp_ledger_row l = ledger_for("t", "b.csv", "v1", 130);
    assert_int_not_equal(cp_sql_commit(db, &l, &err), CP_OK);
    sqlite3 *r = reader();
    expect(r, "SELECT count(*) || ' ' || group_concat(DISTINCT _source) FROM t", "10 a.csv");
    expect(r, "SELECT count(*) FROM csvpipe_loads", "1");
    sqlite3_close(r);

    /* the connection loads again afterwards */
    gen_vals[69 * GEN_COLS] = NULL; /* as it was: row 70's id is null */
    cp_batch_clear(&b, 1);
    for (size_t i = 0; i < 130; i++)
        add_row(&b, rows + i * GEN_COLS, GEN_COLS);
    assert_int_equal(cp_sql_begin(db, "t", &s, "b.csv", &err), CP_OK);
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    assert_int_equal(cp_sql_commit(db, &l, &err), CP_OK);
    cp_sql_close(db);
    r = reader();
    expect(r, "SELECT count(*) FROM t", "140");
    expect(r, "SELECT count(*) FROM t WHERE _source = 'b.csv' AND id = _row + 1000", "112");
    sqlite3_close(r);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

/* Rows for the every-type block tests: column c of row r (1-based), see every_rows. */
enum { EVERY_COLS = 9, EVERY_ROWS = 150 };
static char every_buf[EVERY_ROWS][EVERY_COLS][40];
static const char *every_vals[EVERY_ROWS * EVERY_COLS];

/*
 * flag, qty, price, ratio, day, at, at_utc, name, nothing: each column null on its own
 * rhythm, so that a parameter of a block holds a value, then NULL, then a value again.
 */
static const char *const *every_rows(void)
{
    for (unsigned i = 0; i < EVERY_ROWS; i++) {
        const unsigned r = i + 1;
        char(*v)[40] = every_buf[i];
        snprintf(v[0], 40, "%s", r % 2 ? "true" : "false");
        snprintf(v[1], 40, "%d", (int)r * 1000 - 7);
        snprintf(v[2], 40, "%u.%02u", r, r % 100);
        snprintf(v[3], 40, "%u.5", r);
        snprintf(v[4], 40, "2024-01-%02u", r % 28 + 1);
        snprintf(v[5], 40, "2024-02-%02uT10:20:%02u%s", r % 28 + 1, r % 60, r % 2 ? ".25" : "");
        snprintf(v[6], 40, "2024-03-01T%02u:00:00+01:00", r % 23 + 1);
        snprintf(v[7], 40, "%s", r % 10 == 0 ? "" : "n");
        if (r % 10)
            snprintf(v[7], 40, "n%u", r);
        static const unsigned null_every[EVERY_COLS] = {3, 4, 5, 6, 7, 8, 9, 11, 1};
        for (size_t c = 0; c < EVERY_COLS; c++)
            every_vals[i * EVERY_COLS + c] =
                r % null_every[c] || (c == 7 && r % 10 == 0) ? v[c] : NULL;
    }
    return every_vals;
}

/* Loads rows into dataset in one batch; an empty value is a quoted field: "" not null. */
static void load_one_batch(const char *dataset, const cp_schema *s, const char *source,
                           const char *const *rows, size_t nrows)
{
    cp_error err;
    cp_sql *db = cp_sql_open(url, &err);
    assert_non_null(db);
    assert_int_equal(cp_sql_begin(db, dataset, s, source, &err), CP_OK);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, s, nrows, 1 << 16, 1 << 16), CP_OK);
    cp_batch_clear(&b, 1);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_UNKNOWN, 0}, NULL};
    for (size_t r = 0; r < nrows; r++) {
        cp_field f[16];
        for (size_t i = 0; i < s->ncolumns; i++) {
            const char *v = rows[r * s->ncolumns + i];
            f[i].data = v ? v : "";
            f[i].len = v ? strlen(v) : 0;
            f[i].quoted = v && !*v;
        }
        assert_int_equal(cp_batch_append_row(&b, f, s->ncolumns, &opts, &err), CP_OK);
    }
    assert_int_equal(cp_sql_write(db, &b, &err), CP_OK);
    cp_batch_release(&b);
    cp_ledger_row l = ledger_for(dataset, source, "v1", nrows);
    assert_int_equal(cp_sql_commit(db, &l, &err), CP_OK);
    cp_sql_close(db);
}

/*
 * Every type through multi-row blocks and the one-row tail (150 rows in one batch), with
 * NULLs that come and go in the same parameters; values converted to a wider table type
 * (KEEP: INT64 and DECIMAL(10,2) into DECIMAL(30,3), DATE into TIMESTAMP, DECIMAL into
 * DOUBLE, INT64 into STRING); and columns widened by a rebuild.
 */
static void check_every_type_in_blocks(void)
{
    static const char *const h[] = {"flag", "qty",    "price", "ratio",  "day",
                                    "at",   "at_utc", "name",  "nothing"};
    const cp_type t[] = {
        cp_type_of(CP_TYPE_BOOLEAN),     cp_type_of(CP_TYPE_INT64),  cp_type_decimal(10, 2),
        cp_type_of(CP_TYPE_DOUBLE),      cp_type_of(CP_TYPE_DATE),   cp_type_of(CP_TYPE_TIMESTAMP),
        cp_type_of(CP_TYPE_TIMESTAMPTZ), cp_type_of(CP_TYPE_STRING), cp_type_of(CP_TYPE_NULL)};
    cp_schema s;
    make_schema(&s, h, t, EVERY_COLS);
    load_one_batch("a", &s, "a.csv", every_rows(), EVERY_ROWS);
    sqlite3 *db = reader();
    expect(db,
           "SELECT count(*) FROM a WHERE _source = 'a.csv' "
           "AND flag IS (CASE WHEN _row % 3 THEN _row % 2 END) "
           "AND qty IS (CASE WHEN _row % 4 THEN _row * 1000 - 7 END) "
           "AND price IS (CASE WHEN _row % 5 THEN _row || '.' || printf('%02d', _row % 100) END) "
           "AND ratio IS (CASE WHEN _row % 6 THEN _row + 0.5 END) "
           "AND day IS (CASE WHEN _row % 7 THEN printf('2024-01-%02d', _row % 28 + 1) END) "
           "AND at IS (CASE WHEN _row % 8 THEN printf('2024-02-%02dT10:20:%02d', _row % 28 + 1, "
           "_row % 60) || (CASE WHEN _row % 2 THEN '.250000' ELSE '' END) END) "
           "AND at_utc IS (CASE WHEN _row % 9 THEN printf('2024-03-01T%02d:00:00Z', _row % 23) "
           "END) "
           "AND name IS (CASE WHEN _row % 10 = 0 THEN '' WHEN _row % 11 THEN 'n' || _row END) "
           "AND \"nothing\" IS NULL "
           "AND typeof(flag) IN ('integer', 'null') AND typeof(qty) IN ('integer', 'null') "
           "AND typeof(price) IN ('text', 'null') AND typeof(ratio) IN ('real', 'null') "
           "AND typeof(day) IN ('text', 'null') AND typeof(at) IN ('text', 'null') "
           "AND typeof(at_utc) IN ('text', 'null') AND typeof(name) IN ('text', 'null')",
           "150");
    expect(db, "SELECT min(_row) || '-' || max(_row) || ' ' || count(*) FROM a", "1-150 150");
    sqlite3_close(db);
    cp_schema_release(&s);

    /* KEEP: the file's values in the table's wider form */
    static const char *const hk[] = {"qty", "price", "day", "ratio", "name"};
    const cp_type tt[] = {cp_type_decimal(30, 3), cp_type_decimal(30, 3),
                          cp_type_of(CP_TYPE_TIMESTAMP), cp_type_of(CP_TYPE_DOUBLE),
                          cp_type_of(CP_TYPE_STRING)};
    const cp_type tf[] = {cp_type_of(CP_TYPE_INT64), cp_type_decimal(10, 2),
                          cp_type_of(CP_TYPE_DATE), cp_type_decimal(10, 2),
                          cp_type_of(CP_TYPE_INT64)};
    static const char *const first[] = {"1.5", "2.25", "2024-01-01T01:02:03", "0.5", "x"};
    cp_schema st, sf;
    make_schema(&st, hk, tt, 5);
    make_schema(&sf, hk, tf, 5);
    load_one_batch("k", &st, "first.csv", first, 1);
    static const char *kv[EVERY_ROWS * 5];
    static char kbuf[EVERY_ROWS][5][40];
    for (unsigned i = 0; i < EVERY_ROWS; i++) {
        const unsigned r = i + 1;
        snprintf(kbuf[i][0], 40, "%d", (int)r * 1000 - 7);
        snprintf(kbuf[i][1], 40, "%u.%02u", r, r % 100);
        snprintf(kbuf[i][2], 40, "2024-01-%02u", r % 28 + 1);
        snprintf(kbuf[i][3], 40, "%u.%02u", r, r % 100);
        snprintf(kbuf[i][4], 40, "%u", r * 3);
        static const unsigned null_every[5] = {4, 5, 7, 6, 11};
        for (size_t c = 0; c < 5; c++)
            kv[i * 5 + c] = r % null_every[c] ? kbuf[i][c] : NULL;
    }
    load_one_batch("k", &sf, "f.csv", kv, EVERY_ROWS);
    db = reader();
    expect(db,
           "SELECT count(*) FROM k WHERE _source = 'f.csv' "
           "AND qty IS (CASE WHEN _row % 4 THEN (_row * 1000 - 7) || '.000' END) "
           "AND price IS (CASE WHEN _row % 5 THEN _row || '.' || printf('%02d0', _row % 100) "
           "END) "
           "AND day IS (CASE WHEN _row % 7 THEN printf('2024-01-%02dT00:00:00', _row % 28 + 1) "
           "END) "
           "AND ratio IS (CASE WHEN _row % 6 THEN CAST(_row || '.' || printf('%02d', _row % 100) "
           "AS REAL) END) "
           "AND name IS (CASE WHEN _row % 11 THEN CAST(_row * 3 AS TEXT) END) "
           "AND typeof(qty) IN ('text', 'null') AND typeof(price) IN ('text', 'null') "
           "AND typeof(day) IN ('text', 'null') AND typeof(ratio) IN ('real', 'null') "
           "AND typeof(name) IN ('text', 'null')",
           "150");
    expect(db, "SELECT quote(qty) || quote(day) FROM k WHERE _source = 'first.csv'",
           "'1.500''2024-01-01T01:02:03'");
    sqlite3_close(db);

    /* widened by a rebuild: INT64 -> DECIMAL(21,2), DATE -> TIMESTAMP */
    static const char *const hw[] = {"n", "d"};
    const cp_type tw1[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_DATE)};
    const cp_type tw2[] = {cp_type_decimal(10, 2), cp_type_of(CP_TYPE_TIMESTAMP)};
    static const char *const w1[] = {"7", "2024-05-06"};
    cp_schema sw1, sw2;
    make_schema(&sw1, hw, tw1, 2);
    make_schema(&sw2, hw, tw2, 2);
    load_one_batch("w", &sw1, "w1.csv", w1, 1);
    static const char *wv[EVERY_ROWS * 2];
    static char wbuf[EVERY_ROWS][2][40];
    for (unsigned i = 0; i < EVERY_ROWS; i++) {
        const unsigned r = i + 1;
        snprintf(wbuf[i][0], 40, "-%u.%02u", r, r % 100);
        snprintf(wbuf[i][1], 40, "2024-06-%02uT01:02:03", r % 28 + 1);
        wv[i * 2] = r % 3 ? wbuf[i][0] : NULL;
        wv[i * 2 + 1] = r % 5 ? wbuf[i][1] : NULL;
    }
    load_one_batch("w", &sw2, "w2.csv", wv, EVERY_ROWS);
    db = reader();
    expect(db, "SELECT type FROM csvpipe_columns WHERE dataset = 'w' AND column_name = 'n'",
           "DECIMAL(21,2)");
    expect(db,
           "SELECT count(*) FROM w WHERE _source = 'w2.csv' "
           "AND n IS (CASE WHEN _row % 3 THEN '-' || _row || '.' || printf('%02d', _row % 100) "
           "END) "
           "AND d IS (CASE WHEN _row % 5 THEN printf('2024-06-%02dT01:02:03', _row % 28 + 1) END)",
           "150");
    expect(db, "SELECT quote(n) || quote(d) FROM w WHERE _source = 'w1.csv'",
           "'7.00''2024-05-06T00:00:00'");
    sqlite3_close(db);
    cp_schema_release(&st);
    cp_schema_release(&sf);
    cp_schema_release(&sw1);
    cp_schema_release(&sw2);
}

static void test_every_type_in_blocks(void **state)
{
    check_every_type_in_blocks();
}

/* Caps the parameters of every connection opened after it (sqlite3_auto_extension). */
static int limit_variables(sqlite3 *db, char **msg, const void *api)
{
    (void)msg;
    (void)api;
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 2 + 9 * 30);
    return SQLITE_OK;
}

/*
 * As test_every_type_in_blocks with a parameter limit (older SQLite builds have 999) that
 * makes blocks of 30 and 54 rows: blocks that straddle the 64-row words of the validity
 * bitmaps.
 */
static void test_every_type_in_short_blocks(void **state)
{
    assert_int_equal(sqlite3_auto_extension((void (*)(void))limit_variables), SQLITE_OK);
    check_every_type_in_blocks();
    sqlite3_reset_auto_extension();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_types_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_replaces_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_and_missing_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_widening_rebuilds_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_converts_to_table_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incompatible_change_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_identifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocks_of_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_table_loads_in_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_block_commits_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_conflict_rules_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_type_in_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_type_in_short_blocks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
