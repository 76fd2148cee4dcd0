/*
 * test_sql_postgres.c - the PostgreSQL loader against a real server, read back with libpq
 * as PostgreSQL renders the values (::text): the binary COPY encodings of every type
 * (numeric above all: zero, negatives, every scale, 38 digits, random values against
 * cp_format_decimal), widening ALTERs that keep values, rejections that leave the table
 * as it was, hostile identifiers, and the ledger. Needs CP_PG_URL (tests/cli/pg_api.sh
 * starts a throwaway server and sets it); skipped without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "load/sql.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *url;
static PGconn *check; /* the test's own connection */

static int setup(void **state)
{
    (void)state;
    url = getenv("CP_PG_URL");
    if (!url || !url[0])
        return 0;
    check = PQconnectdb(url);
    if (PQstatus(check) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(check));
        return -1;
    }
    PQclear(PQexec(check, "SET TimeZone = 'UTC'"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(check);
    return 0;
}

#define NEED_SERVER()                                                                              \
    do {                                                                                           \
        if (!check)                                                                                \
            skip();                                                                                \
    } while (0)

/* One query's rows, fields joined by '|' and rows by '\n', NULL as "NULL"; caller frees. */
static char *query(const char *sql)
{
    PGresult *res = PQexec(check, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        fail();
    }
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    for (int r = 0; r < PQntuples(res); r++) {
        for (int c = 0; c < PQnfields(res); c++) {
            if (c)
                cp_buf_append_char(&out, '|');
            cp_buf_append_str(&out, PQgetisnull(res, r, c) ? "NULL" : PQgetvalue(res, r, c));
        }
        if (r + 1 < PQntuples(res))
            cp_buf_append_char(&out, '\n');
    }
    PQclear(res);
    return out.data ? out.data : strdup("");
}

static void expect(const char *sql, const char *want)
{
    char *got = query(sql);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "query: %s\n  got:  %s\n  want: %s\n", sql, got, want);
        free(got);
        fail();
    }
    free(got);
}

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

static void force_name(cp_schema *s, size_t col, const char *name)
{
    free(s->columns[col].name);
    s->columns[col].name = strdup(name);
    assert_non_null(s->columns[col].name);
}

static void add_row(cp_batch *b, const char *const *vals, size_t n)
{
    cp_field f[16];
    for (size_t i = 0; i < n; i++) {
        f[i].data = vals[i] ? vals[i] : "";
        f[i].len = vals[i] ? strlen(vals[i]) : 0;
        f[i].quoted = vals[i] && !vals[i][0]; /* "" stays an empty string in a STRING column */
    }
    cp_value_opts opts = {{'.', CP_DATE_ORDER_UNKNOWN, 0}, NULL};
    cp_error err;
    cp_status st = cp_batch_append_row(b, f, n, &opts, &err);
    if (st != CP_OK)
        fprintf(stderr, "%s\n", err.message);
    assert_int_equal(st, CP_OK);
}

static cp_ledger_row ledger_for(const char *dataset, const char *source, uint64_t rows)
{
    cp_ledger_row r;
    memset(&r, 0, sizeof r);
    r.dataset = dataset;
    r.source_uri = source;
    r.version = "v1";
    r.size_bytes = 1234;
    r.rows_loaded = rows;
    r.started_us = 1706700000000000LL;
    r.finished_us = 1706700001500000LL;
    r.status = CP_LOAD_LOADED;
    r.schema_json = "[]";
    return r;
}

/* Loads rows (nrows x ncols strings, NULL = null) as one file; the status of begin. */
static cp_status load(const char *dataset, const cp_schema *s, const char *source,
                      const char *const *rows, size_t nrows, cp_error *err)
{
    cp_sql *db = cp_sql_open(url, err);
    if (!db)
        fprintf(stderr, "%s\n", err->message);
    assert_non_null(db);
    cp_status st = cp_sql_begin(db, dataset, s, source, err);
    if (st != CP_OK) {
        cp_sql_close(db);
        return st;
    }
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, s, 3, 1 << 16, 1 << 16), CP_OK);
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
    cp_ledger_row l = ledger_for(dataset, source, nrows);
    st = cp_sql_commit(db, &l, err);
    if (st != CP_OK)
        fprintf(stderr, "%s\n", err->message);
    assert_int_equal(st, CP_OK);
    cp_sql_close(db);
    return CP_OK;
}

static void test_every_type(void **state)
{
    (void)state;
    NEED_SERVER();
    static const char *const h[] = {"b", "i", "d", "f", "day", "ts", "tz", "s", "n"};
    const cp_type t[] = {
        cp_type_of(CP_TYPE_BOOLEAN),     cp_type_of(CP_TYPE_INT64),  cp_type_decimal(18, 2),
        cp_type_of(CP_TYPE_DOUBLE),      cp_type_of(CP_TYPE_DATE),   cp_type_of(CP_TYPE_TIMESTAMP),
        cp_type_of(CP_TYPE_TIMESTAMPTZ), cp_type_of(CP_TYPE_STRING), cp_type_of(CP_TYPE_NULL)};
    cp_schema s;
    make_schema(&s, h, t, 9);
    static const char *const rows[] = {
        "true",
        "0",
        "0.00",
        "0",
        "2000-01-01",
        "2000-01-01 00:00:00",
        "2000-01-01T00:00:00Z",
        "",
        NULL,
        /* */
        "false",
        "-9223372036854775808",
        "-0.01",
        "-0.5",
        "1999-12-31",
        "1999-12-31 23:59:59.999999",
        "1969-12-31T23:59:59.5-03:00",
        "Pão de queijo \"ç\" 🧀",
        NULL,
        /* */
        NULL,
        "9223372036854775807",
        "9999999999999999.99",
        "1.7976931348623157e308",
        "1900-03-01",
        "1970-01-01 00:00:00.000001",
        "2024-02-29T12:30:00+05:45",
        "a\nb\tc\\d",
        NULL,
        /* */
        "yes",
        NULL,
        "-1234567.89",
        "5e-324",
        "9999-12-31",
        "2262-04-11 23:47:16",
        NULL,
        NULL,
        NULL,
        /* */
        "n",
        "42",
        "10000.00",
        "0.1",
        "1583-01-01",
        "2038-01-19 03:14:08",
        "2000-01-01T00:00:00+14:00",
        "x",
        NULL,
    };
    cp_error err;
    assert_int_equal(load("types", &s, "file:///types.csv", rows, 5, &err), CP_OK);
    expect("SELECT string_agg(column_name || ' ' || format_type(atttypid, atttypmod), ', ' ORDER "
           "BY attnum) FROM information_schema.columns JOIN pg_attribute ON attrelid = "
           "'types'::regclass AND attname = column_name WHERE table_name = 'types'",
           "b boolean, i bigint, d numeric(18,2), f double precision, day date, ts timestamp "
           "without time zone, tz timestamp with time zone, s text, n text, _source text, _row "
           "bigint");
    expect("SELECT b, i, d, f, day, ts, tz, s, n, _source, _row FROM types ORDER BY _row",
           "t|0|0.00|0|2000-01-01|2000-01-01 00:00:00|2000-01-01 00:00:00+00||NULL|file:///"
           "types.csv|1\n"
           "f|-9223372036854775808|-0.01|-0.5|1999-12-31|1999-12-31 23:59:59.999999|1970-01-01 "
           "02:59:59.5+00|Pão de queijo \"ç\" 🧀|NULL|file:///types.csv|2\n"
           "NULL|9223372036854775807|9999999999999999.99|1.7976931348623157e+308|1900-03-01|1970-"
           "01-01 00:00:00.000001|2024-02-29 06:45:00+00|a\nb\tc\\d|NULL|file:///types.csv|3\n"
           "t|NULL|-1234567.89|5e-324|9999-12-31|2262-04-11 23:47:16|NULL|NULL|NULL|file:///"
           "types.csv|4\n"
           "f|42|10000.00|0.1|1583-01-01|2038-01-19 03:14:08|1999-12-31 10:00:00+00|x|NULL|file:"
           "///types.csv|5");
    expect("SELECT type FROM csvpipe_columns WHERE dataset = 'types' AND column_name = 'n'",
           "NULL");
    expect("SELECT dataset, source_uri, version, size_bytes, rows_loaded, status, started_at, "
           "finished_at, duration_ms FROM csvpipe_loads WHERE dataset = 'types'",
           "types|file:///types.csv|v1|1234|5|loaded|2024-01-31 11:20:00+00|2024-01-31 "
           "11:20:01.5+00|1500");
    cp_schema_release(&s);
}

/* numeric's base-10000 form: every scale, signs, zero, 38 digits, random values. */
static void test_numeric(void **state)
{
    (void)state;
    NEED_SERVER();
    enum { NROWS = 400 };
    for (unsigned scale = 0; scale <= 38; scale += (scale < 10 ? 1 : 7)) {
        static const char *const h[] = {"v", "want"};
        const cp_type t[] = {cp_type_decimal(38, scale), cp_type_of(CP_TYPE_STRING)};
        cp_schema s;
        make_schema(&s, h, t, 2);
        static char vals[NROWS][2][48];
        const char *rows[NROWS * 2];
        unsigned long long seed = 88172645463325252ULL + scale;
        for (size_t r = 0; r < NROWS; r++) {
            /* digits: 1..38 of them (random ones, 9s, a 1 and zeros) */
            char digits[40];
            size_t nd = 1 + r % 38;
            for (size_t k = 0; k < nd; k++) {
                seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                digits[k] = (char)('0' + (r % 4 == 1   ? 9
                                          : r % 4 == 2 ? (k == 0)
                                          : k == 0     ? 1 + seed % 9 /* no leading zero */
                                                       : seed % 10));
            }
            if (r % 4 == 3)
                for (size_t k = nd / 2; k < nd; k++)
                    digits[k] = '0';
            if (r < 4)
                nd = 1, digits[0] = (char)('0' + r % 2); /* 0 and 1 */
            digits[nd] = '\0';
            /* place the point `scale` digits from the right */
            char *v = vals[r][0];
            size_t o = 0;
            if (r % 2)
                v[o++] = '-';
            size_t intd = nd > scale ? nd - scale : 0;
            if (intd == 0)
                v[o++] = '0';
            memcpy(v + o, digits, intd);
            o += intd;
            if (scale) {
                v[o++] = '.';
                for (size_t k = 0; k < scale - (nd > scale ? scale : nd); k++)
                    v[o++] = '0';
                memcpy(v + o, digits + intd, nd - intd);
                o += nd - intd;
            }
            v[o] = '\0';
            /* PostgreSQL prints no sign for zero */
            bool zero = strspn(v + (v[0] == '-'), "0.") == strlen(v + (v[0] == '-'));
            snprintf(vals[r][1], sizeof vals[r][1], "%s", zero && v[0] == '-' ? v + 1 : v);
            rows[2 * r] = vals[r][0];
            rows[2 * r + 1] = vals[r][1];
        }
        char name[32], sql[200];
        snprintf(name, sizeof name, "numeric_%u", scale);
        cp_error err;
        assert_int_equal(load(name, &s, "file:///n.csv", rows, NROWS, &err), CP_OK);
        snprintf(sql, sizeof sql, "SELECT count(*) FILTER (WHERE v::text = want), count(*) FROM %s",
                 name);
        char *got = query(sql);
        char want[32];
        snprintf(want, sizeof want, "%d|%d", NROWS, NROWS);
        if (strcmp(got, want) != 0) {
            snprintf(sql, sizeof sql, "SELECT v, want FROM %s WHERE v::text <> want LIMIT 3", name);
            char *bad = query(sql);
            fprintf(stderr, "scale %u: %s equal\n%s\n", scale, got, bad);
            free(bad);
        }
        assert_string_equal(got, want);
        free(got);
        cp_schema_release(&s);
    }
}

/* Widenings are ALTERs that keep every value; a rejection leaves everything as it was. */
static void test_evolution(void **state)
{
    (void)state;
    NEED_SERVER();
    static const char *const h1[] = {"k", "amount", "day", "ratio", "empty"};
    const cp_type t1[] = {cp_type_of(CP_TYPE_STRING), cp_type_of(CP_TYPE_INT64),
                          cp_type_of(CP_TYPE_DATE), cp_type_decimal(10, 2),
                          cp_type_of(CP_TYPE_NULL)};
    cp_schema s1;
    make_schema(&s1, h1, t1, 5);
    static const char *const r1[] = {"a", "5",  "2024-01-31", "1.50",  NULL,
                                     "b", "-7", "1999-12-31", "-0.25", NULL};
    cp_error err;
    assert_int_equal(load("evo", &s1, "file:///1.csv", r1, 2, &err), CP_OK);

    static const char *const h2[] = {"k", "amount", "day", "ratio", "empty", "extra"};
    const cp_type t2[] = {cp_type_of(CP_TYPE_STRING),    cp_type_decimal(12, 3),
                          cp_type_of(CP_TYPE_TIMESTAMP), cp_type_of(CP_TYPE_DOUBLE),
                          cp_type_of(CP_TYPE_INT64),     cp_type_of(CP_TYPE_BOOLEAN)};
    cp_schema s2;
    make_schema(&s2, h2, t2, 6);
    static const char *const r2[] = {"c", "1.125", "2024-02-01 10:00:00", "0.1", "3", "true"};
    assert_int_equal(load("evo", &s2, "file:///2.csv", r2, 1, &err), CP_OK);
    expect("SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY "
           "attnum) FROM pg_attribute WHERE attrelid = 'evo'::regclass AND attnum > 0",
           "k text, amount numeric(22,3), day timestamp without time zone, ratio double "
           "precision, empty bigint, _source text, _row bigint, extra boolean");
    expect("SELECT k, amount, day, ratio, empty, extra FROM evo ORDER BY k",
           "a|5.000|2024-01-31 00:00:00|1.5|NULL|NULL\n"
           "b|-7.000|1999-12-31 00:00:00|-0.25|NULL|NULL\n"
           "c|1.125|2024-02-01 10:00:00|0.1|3|t");
    expect("SELECT string_agg(column_name || '=' || type, ' ' ORDER BY column_name) FROM "
           "csvpipe_columns WHERE dataset = 'evo'",
           "amount=DECIMAL(22,3) day=TIMESTAMP empty=INT64 extra=BOOLEAN k=STRING "
           "ratio=DOUBLE");
    /* the old file's values now go into the wider types */
    assert_int_equal(load("evo", &s1, "file:///1.csv", r1, 2, &err), CP_OK);
    expect("SELECT k, amount, day, ratio FROM evo WHERE k <> 'c' ORDER BY k",
           "a|5.000|2024-01-31 00:00:00|1.5\nb|-7.000|1999-12-31 00:00:00|-0.25");

    /* an integer column gets text: rejected, naming the column; nothing changes */
    static const char *const h3[] = {"k", "empty", "newcol"};
    const cp_type t3[] = {cp_type_of(CP_TYPE_STRING), cp_type_of(CP_TYPE_STRING),
                          cp_type_of(CP_TYPE_INT64)};
    cp_schema s3;
    make_schema(&s3, h3, t3, 3);
    cp_sql *db = cp_sql_open(url, &err);
    assert_non_null(db);
    assert_int_equal(cp_sql_begin(db, "evo", &s3, "file:///3.csv", &err), CP_REJECTED);
    assert_non_null(strstr(err.message, "column \"empty\" of table \"evo\" is INT64"));
    assert_non_null(strstr(err.message, "STRING"));
    cp_sql_close(db);
    expect("SELECT count(*) FROM pg_attribute WHERE attrelid = 'evo'::regclass AND attname = "
           "'newcol'",
           "0");
    expect("SELECT count(*) FROM evo", "3");
    cp_schema_release(&s1);
    cp_schema_release(&s2);
    cp_schema_release(&s3);
}

/* Identifiers are quoted, values are parameters: hostile names create exactly that. */
static void test_hostile_names(void **state)
{
    (void)state;
    NEED_SERVER();
    PQclear(PQexec(check, "CREATE TABLE x (v int); INSERT INTO x VALUES (1)"));
    static const char *const h[] = {"a", "b"};
    const cp_type t[] = {cp_type_of(CP_TYPE_STRING), cp_type_of(CP_TYPE_INT64)};
    cp_schema s;
    make_schema(&s, h, t, 2);
    force_name(&s, 0, "a\"; DROP TABLE x; --");
    force_name(&s, 1, "b') ; DELETE FROM x; --");
    static const char *const rows[] = {"'); DROP TABLE x; --", "1", "Robert\"); DROP TABLE x", "2"};
    const char *dataset = "my \"odd\" table; DROP TABLE x; --";
    const char *source = "file:///it's \"here\"; DROP TABLE x.csv";
    cp_error err;
    assert_int_equal(load(dataset, &s, source, rows, 2, &err), CP_OK);
    assert_int_equal(load(dataset, &s, source, rows, 2, &err), CP_OK); /* delete by source */
    expect("SELECT count(*) FROM x", "1");
    expect("SELECT \"a\"\"; DROP TABLE x; --\", \"b') ; DELETE FROM x; --\", _source, _row FROM "
           "\"my \"\"odd\"\" table; DROP TABLE x; --\" ORDER BY _row",
           "'); DROP TABLE x; --|1|file:///it's \"here\"; DROP TABLE x.csv|1\n"
           "Robert\"); DROP TABLE x|2|file:///it's \"here\"; DROP TABLE x.csv|2");
    expect(
        "SELECT count(*) FROM csvpipe_loads WHERE dataset = 'my \"odd\" table; DROP TABLE x; --'",
        "2");
    cp_schema_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_numeric),
        cmocka_unit_test(test_evolution),
        cmocka_unit_test(test_hostile_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
