/*
 * test_items_sqlite.c - the embedded item store, read back with sqlite3 and jansson: keys
 * of keyless and keyed items, the JSON of every item (parsed, compared with the values,
 * exact decimal digits, nulls absent), stale items deleted on a shorter reload, aborts,
 * a new version replacing the old one whole (or not at all, after an abort or a crash),
 * and a store made by the previous version (4 KiB pages) opening and loading as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "load/items.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static size_t batch_rows = 50; /* rows per batch of put_file */
static int version;            /* of the generated file: 0, or a later one (other names) */
static size_t note_len;        /* > 0: every row's note is that many bytes, else null */
static char note[4096];
static char dbpath[128];
static char url[160];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cp_items_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/out/items.db", dir);
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

static const char *const headers[] = {"id", "name", "price", "day", "ok", "note"};

static void make_schema(cp_schema *s)
{
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64),   cp_type_of(CP_TYPE_STRING),
                         cp_type_decimal(10, 2),      cp_type_of(CP_TYPE_DATE),
                         cp_type_of(CP_TYPE_BOOLEAN), cp_type_of(CP_TYPE_STRING)};
    size_t lens[6];
    assert_int_equal(cp_schema_init(s, 6), CP_OK);
    for (size_t i = 0; i < 6; i++) {
        s->columns[i].type = t[i];
        lens[i] = strlen(headers[i]);
    }
    assert_int_equal(cp_schema_set_names(s, headers, lens, NULL), CP_OK);
}

static void add_row(cp_batch *b, const char *const *vals)
{
    cp_field f[6];
    for (size_t i = 0; i < 6; i++) {
        f[i].data = vals[i] ? vals[i] : "";
        f[i].len = vals[i] ? strlen(vals[i]) : 0;
        f[i].quoted = false;
    }
    cp_value_opts opts = {{'.', CP_DATE_ORDER_UNKNOWN, 0}, NULL};
    cp_error err;
    assert_int_equal(cp_batch_append_row(b, f, 6, &opts, &err), CP_OK);
}

/* Row r (1-based) of a generated file: id r, name "n<r>", price r.05, ... */
static void gen_row(uint64_t r, char bufs[6][32], const char *vals[6])
{
    snprintf(bufs[0], 32, "%llu", (unsigned long long)r);
    snprintf(bufs[1], 32, "v%dn\"%llu", version, (unsigned long long)r);
    snprintf(bufs[2], 32, "%llu.05", (unsigned long long)r);
    snprintf(bufs[3], 32, "2024-01-%02u", (unsigned)(r % 28 + 1));
    snprintf(bufs[4], 32, "%s", r % 2 ? "yes" : "no");
    for (int i = 0; i < 5; i++)
        vals[i] = bufs[i];
    if (note_len) {
        memset(note, 'x', note_len);
        note[note_len] = '\0';
        vals[5] = note;
    } else {
        vals[5] = NULL;
    }
}

/* Writes rows 1..n of the generated file as items of source, batch_rows to a batch, and
   leaves the file open. */
static void write_file(cp_items *s, const cp_schema *schema, const char *source, uint64_t n,
                       const size_t *keys, size_t nkeys)
{
    cp_error err;
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, schema, batch_rows, 1 << 20, 1 << 16), CP_OK);
    assert_int_equal(cp_items_begin(s, "sales", schema, source, keys, nkeys, &err), CP_OK);
    cp_batch_clear(&b, 1);
    for (uint64_t r = 1; r <= n; r++) {
        if (cp_batch_full(&b)) {
            assert_int_equal(cp_items_write(s, &b, &err), CP_OK);
            cp_batch_clear(&b, r);
        }
        char bufs[6][32];
        const char *vals[6];
        gen_row(r, bufs, vals);
        add_row(&b, vals);
    }
    assert_int_equal(cp_items_write(s, &b, &err), CP_OK);
    cp_batch_release(&b);
}

/* write_file, then finish: the file's items replace those of its previous version. */
static void put_file(cp_items *s, const cp_schema *schema, const char *source, uint64_t n,
                     const size_t *keys, size_t nkeys, uint64_t rows_before)
{
    cp_error err;
    write_file(s, schema, source, n, keys, nkeys);
    assert_int_equal(cp_items_finish(s, n, rows_before, &err), CP_OK);
}

static sqlite3 *reader(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static int64_t count(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The item text stored under pk/sk, or NULL; caller frees. */
static char *item_at(sqlite3 *db, const char *pk, const char *sk)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT item FROM items WHERE pk = ?1 AND sk = ?2", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, pk, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sk, -1, SQLITE_STATIC);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* Checks one item against generated row r of source. */
static void check_item(const char *text, const char *source, uint64_t r)
{
    assert_non_null(text);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    if (!o)
        fail_msg("item does not parse: %s: %s", jerr.text, text);
    char bufs[6][32];
    const char *vals[6];
    gen_row(r, bufs, vals);
    /* _dataset, _source and _row come first */
    assert_int_equal(strncmp(text, "{\"_dataset\":\"sales\",\"_source\":", 30), 0);
    assert_string_equal(json_string_value(json_object_get(o, "_dataset")), "sales");
    assert_string_equal(json_string_value(json_object_get(o, "_source")), source);
    assert_int_equal(json_integer_value(json_object_get(o, "_row")), r);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), r);
    assert_string_equal(json_string_value(json_object_get(o, "name")), vals[1]);
    char digits[48];
    snprintf(digits, sizeof digits, "\"price\":%s,", vals[2]); /* exact digits in the text */
    assert_non_null(strstr(text, digits));
    assert_true(json_is_real(json_object_get(o, "price")));
    assert_string_equal(json_string_value(json_object_get(o, "day")), vals[3]);
    assert_true(json_is_boolean(json_object_get(o, "ok")));
    assert_int_equal(json_is_true(json_object_get(o, "ok")), r % 2 == 1);
    if (note_len) {
        assert_int_equal(strlen(json_string_value(json_object_get(o, "note"))), note_len);
        assert_int_equal(json_object_size(o), 9);
    } else {
        assert_null(json_object_get(o, "note")); /* nulls are absent */
        assert_int_equal(json_object_size(o), 8);
    }
    json_decref(o);
}

static void test_keyless_items(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    const char *src = "s3://in/sales/2024-01.csv";
    put_file(s, &schema, src, 300, NULL, 0, 0);
    put_file(s, &schema, "other.csv", 10, NULL, 0, 0);

    sqlite3 *db = reader();
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 310);
    /* 300 rows over 128 partition keys, each of the form sales#<source>#<n> */
    assert_int_equal(count(db, "SELECT count(DISTINCT pk) FROM items WHERE pk LIKE ?1",
                           "sales#s3://in/sales/2024-01.csv#%"),
                     128);
    cp_buf pk, sk;
    cp_buf_init(&pk, 1024);
    cp_buf_init(&sk, 1024);
    for (uint64_t r = 1; r <= 300; r += 37) {
        cp_items_keyless_key("sales", src, r, &pk, &sk);
        char want[128];
        snprintf(want, sizeof want, "sales#%s#%llu", src, (unsigned long long)(r % 128));
        assert_string_equal(pk.data, want);
        snprintf(want, sizeof want, "%012llu", (unsigned long long)r);
        assert_string_equal(sk.data, want);
        char *item = item_at(db, pk.data, sk.data);
        check_item(item, src, r);
        free(item);
    }
    sqlite3_close(db);

    /* a shorter version of the same file: rows 101..300 go, other.csv stays */
    put_file(s, &schema, src, 100, NULL, 0, 300);
    db = reader();
    assert_int_equal(count(db, "SELECT count(*) FROM items WHERE pk LIKE ?1",
                           "sales#s3://in/sales/2024-01.csv#%"),
                     100);
    assert_int_equal(
        count(db, "SELECT count(*) FROM items WHERE pk LIKE 'sales#other.csv#%'", NULL), 10);
    assert_int_equal(
        count(db, "SELECT max(CAST(sk AS INTEGER)) FROM items WHERE pk LIKE ?1", "sales#s3:%"),
        100);
    sqlite3_close(db);
    cp_buf_release(&pk);
    cp_buf_release(&sk);
    cp_items_close(s);
    cp_schema_release(&schema);
}

static void test_keyed_items(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    const size_t by_id[] = {0}, by_id_day[] = {0, 3};
    put_file(s, &schema, "a.csv", 20, by_id, 1, 0);
    put_file(s, &schema, "b.csv", 5, by_id, 1, 20); /* rows_before ignored when keyed */

    sqlite3 *db = reader();
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 20);
    char *item = item_at(db, "sales#3", "sales");
    check_item(item, "b.csv", 3); /* replaced by the later file */
    free(item);
    item = item_at(db, "sales#12", "sales");
    check_item(item, "a.csv", 12);
    free(item);
    /* keyed items stay one row per item in item_rows, none in blocks */
    assert_int_equal(count(db, "SELECT count(*) FROM item_rows", NULL), 20);
    assert_int_equal(count(db, "SELECT count(*) FROM item_blocks", NULL), 0);
    sqlite3_close(db);

    put_file(s, &schema, "c.csv", 2, by_id_day, 2, 0);
    db = reader();
    item = item_at(db, "sales#2#2024-01-03", "sales");
    check_item(item, "c.csv", 2);
    free(item);
    sqlite3_close(db);
    cp_items_close(s);
    cp_schema_release(&schema);
}

static void test_abort_and_misuse(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &schema, 4, 1024, 1024), CP_OK);
    cp_batch_clear(&b, 1);
    char bufs[6][32];
    const char *vals[6];
    gen_row(1, bufs, vals);
    add_row(&b, vals);

    assert_int_equal(cp_items_write(s, &b, &err), CP_USAGE);
    assert_int_equal(cp_items_finish(s, 1, 0, &err), CP_USAGE);
    const size_t bad[] = {6};
    assert_int_equal(cp_items_begin(s, "sales", &schema, "a.csv", bad, 1, &err), CP_USAGE);
    assert_int_equal(cp_items_begin(s, "sales", &schema, "a.csv", NULL, 0, &err), CP_OK);
    assert_int_equal(cp_items_write(s, &b, &err), CP_OK);
    cp_items_abort(s);
    cp_items_abort(s);
    assert_int_equal(cp_items_write(s, &b, &err), CP_USAGE);
    cp_items_close(s);
    cp_items_close(NULL);

    sqlite3 *db = reader();
    /* an abandoned file leaves no item behind */
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* dynamodb: is a backend of its own now (tests/cli/aws_*.sh); a bad table name is usage */
    assert_null(cp_items_open("dynamodb:x", &err));
    assert_int_equal(err.code, CP_USAGE);
    assert_null(cp_items_open("items.db", &err));
    cp_batch_release(&b);
    cp_schema_release(&schema);
}

/* _row is the row's ordinal in full, whatever its number of digits. */
static void test_row_numbers(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &schema, 4, 1024, 1024), CP_OK);
    assert_int_equal(cp_items_begin(s, "sales", &schema, "a.csv", NULL, 0, &err), CP_OK);
    static const uint64_t firsts[] = {0, 9999999999ULL, UINT64_MAX - 1};
    for (size_t i = 0; i < 3; i++) {
        cp_batch_clear(&b, firsts[i]);
        for (int r = 0; r < 2; r++) {
            char bufs[6][32];
            const char *vals[6];
            gen_row(1, bufs, vals);
            add_row(&b, vals);
        }
        assert_int_equal(cp_items_write(s, &b, &err), CP_OK);
    }
    assert_int_equal(cp_items_finish(s, 6, 0, &err), CP_OK);
    sqlite3 *db = reader();
    static const char *const rows[] = {
        "0", "1", "9999999999", "10000000000", "18446744073709551614", "18446744073709551615"};
    for (size_t i = 0; i < 6; i++) {
        char want[64];
        snprintf(want, sizeof want, "%%\"_row\":%s,%%", rows[i]);
        assert_int_equal(count(db, "SELECT count(*) FROM items WHERE item LIKE ?1", want), 1);
    }
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 6);
    sqlite3_close(db);
    cp_batch_release(&b);
    cp_items_close(s);
    cp_schema_release(&schema);
}

/* The items of keyless source: exactly rows 1..n of the generated file, each in place. */
static void check_source(sqlite3 *db, const char *source, uint64_t n)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "sales#%s#", source);
    assert_int_equal(
        count(db, "SELECT count(*) FROM items WHERE substr(pk, 1, length(?1)) = ?1", prefix), n);
    cp_buf pk, sk;
    cp_buf_init(&pk, 1024);
    cp_buf_init(&sk, 1024);
    for (uint64_t r = 1; r <= n; r++) {
        cp_items_keyless_key("sales", source, r, &pk, &sk);
        char *item = item_at(db, pk.data, sk.data);
        check_item(item, source, r);
        free(item);
    }
    cp_buf_release(&pk);
    cp_buf_release(&sk);
}

/* Batches that do not start on a multiple of 128 rows: every item where its key says. */
static void test_every_item(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    const size_t sizes[] = {1, 127, 129, 333};
    for (size_t i = 0; i < 4; i++) {
        batch_rows = sizes[i];
        char src[32];
        snprintf(src, sizeof src, "f%zu.csv", i);
        put_file(s, &schema, src, 1000, NULL, 0, 0);
    }
    batch_rows = 50;
    sqlite3 *db = reader();
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 4000);
    for (size_t i = 0; i < 4; i++) {
        char src[32];
        snprintf(src, sizeof src, "f%zu.csv", i);
        check_source(db, src, 1000);
    }
    /* a store this version creates has 16 KiB pages */
    assert_int_equal(count(db, "PRAGMA page_size", NULL), 16384);
    sqlite3_close(db);
    cp_items_close(s);
    cp_schema_release(&schema);
}

/* A new version of a file replaces the old one whole, or not at all. */
static void test_atomic_replacement(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    batch_rows = 333;
    version = 1;
    put_file(s, &schema, "a.csv", 1000, NULL, 0, 0);
    put_file(s, &schema, "b.csv", 10, NULL, 0, 0);

    /* version 2, every row written, then abandoned: version 1 stays, all of it */
    version = 2;
    write_file(s, &schema, "a.csv", 600, NULL, 0);
    cp_items_abort(s);
    version = 1;
    sqlite3 *db = reader();
    check_source(db, "a.csv", 1000);
    sqlite3_close(db);

    /* version 2 written by a process that dies before its commit: the same (the store is
       closed across the fork: its checkpointer thread may hold SQLite's locks) */
    cp_items_close(s);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cp_items *c = cp_items_open(url, &err);
        if (!c)
            _exit(3);
        version = 2;
        write_file(c, &schema, "a.csv", 600, NULL, 0);
        _exit(0); /* no finish, no close: as kill -9 */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    s = cp_items_open(url, &err);
    assert_non_null(s);
    db = reader();
    check_source(db, "a.csv", 1000);
    sqlite3_close(db);

    /* version 2 loaded: its 600 items, nothing of version 1's 1000, b.csv untouched */
    version = 2;
    put_file(s, &schema, "a.csv", 600, NULL, 0, 1000);
    db = reader();
    check_source(db, "a.csv", 600);
    assert_int_equal(count(db, "SELECT count(*) FROM items WHERE item LIKE '%\"v1n%'", NULL), 10);
    version = 1;
    check_source(db, "b.csv", 10);
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 610);
    /* no block of version 1 left but b.csv's: its 10 items over 10 partition keys */
    assert_int_equal(count(db, "SELECT count(*) FROM item_blocks WHERE items LIKE '%\"v1n%'", NULL),
                     10);
    assert_int_equal(
        count(db, "SELECT count(*) FROM item_blocks WHERE pk LIKE 'sales#b.csv#%'", NULL), 10);
    sqlite3_close(db);

    /* version 3, longer, with rows_before unknown (0): still exactly its own items */
    version = 3;
    put_file(s, &schema, "a.csv", 1500, NULL, 0, 0);
    db = reader();
    check_source(db, "a.csv", 1500);
    assert_int_equal(count(db, "SELECT count(*) FROM items WHERE item LIKE '%\"v2n%'", NULL), 0);
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 1510);
    sqlite3_close(db);
    batch_rows = 50;
    version = 0;
    cp_items_close(s);
    cp_schema_release(&schema);
}

/* No pk/sk twice in the view items. */
static void check_once(sqlite3 *db)
{
    assert_int_equal(count(db,
                           "SELECT count(*) FROM (SELECT 1 FROM items GROUP BY pk, sk HAVING "
                           "count(*) > 1)",
                           NULL),
                     0);
}

/*
 * The blocks of keyless source: every block holds consecutive items of its own partition
 * key (no gap: (sk_last - sk_first) / 128 + 1 entries), from sk_first to sk_last, at most
 * max_items of them; nblocks blocks in all.
 */
static void check_blocks(sqlite3 *db, const char *source, int64_t nblocks, int64_t max_items)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "sales#%s#", source);
    assert_int_equal(
        count(db, "SELECT count(*) FROM item_blocks WHERE substr(pk, 1, length(?1)) = ?1", prefix),
        nblocks);
    assert_int_equal(count(db,
                           "SELECT max((SELECT count(*) FROM json_each(items))) FROM item_blocks "
                           "WHERE substr(pk, 1, length(?1)) = ?1",
                           prefix),
                     max_items);
    assert_int_equal(
        count(db,
              "SELECT count(*) FROM item_blocks AS b WHERE substr(pk, 1, length(?1)) = ?1 AND "
              "(SELECT count(*) FROM json_each(b.items)) != (CAST(sk_last AS INTEGER) - "
              "CAST(sk_first AS INTEGER)) / 128 + 1",
              prefix),
        0);
    assert_int_equal(
        count(db,
              "SELECT count(*) FROM item_blocks AS b, json_each(b.items) AS j WHERE "
              "substr(b.pk, 1, length(?1)) = ?1 AND (j.key < b.sk_first OR j.key > b.sk_last "
              "OR CAST(j.key AS INTEGER) % 128 != CAST(substr(b.pk, length(?1) + 1) AS INTEGER) "
              "OR json_extract(b.head || substr(j.value, 2), '$._row') != CAST(j.key AS INTEGER))",
              prefix),
        0);
}

/* Keyless items in blocks: a block spans batches, holds at most 256 items or about 64 KiB. */
static void test_blocks(void **state)
{
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    /* 258 or 259 items a partition key, 50 rows a batch: two blocks each, the first full */
    const uint64_t n = 128 * 258 + 44;
    put_file(s, &schema, "a.csv", n, NULL, 0, 0);
    /* 40 items of about 2 KiB a partition key: cut by size, about 31 to a block */
    note_len = 2000;
    batch_rows = 7;
    put_file(s, &schema, "b.csv", 128 * 40, NULL, 0, 0);
    /* a file smaller than a block a partition key: one block each, 100 of them */
    note_len = 0;
    batch_rows = 3;
    put_file(s, &schema, "c.csv", 100, NULL, 0, 0);
    batch_rows = 50;
    cp_items_close(s);

    sqlite3 *db = reader();
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), n + 128 * 40 + 100);
    check_once(db);
    assert_int_equal(count(db, "SELECT count(*) FROM item_rows", NULL), 0);
    check_blocks(db, "a.csv", 256, 256);
    assert_int_equal(count(db,
                           "SELECT count(*) FROM item_blocks WHERE pk LIKE 'sales#a.csv#%' AND "
                           "(SELECT count(*) FROM json_each(items)) = 256",
                           NULL),
                     128);
    check_blocks(db, "b.csv", 256, 32);
    assert_true(count(db,
                      "SELECT max(length(items)) FROM item_blocks WHERE pk LIKE 'sales#b.csv#%'",
                      NULL) < 65536 + 2200);
    check_blocks(db, "c.csv", 100, 1);
    cp_buf pk, sk;
    cp_buf_init(&pk, 1024);
    cp_buf_init(&sk, 1024);
    for (uint64_t r = 1; r <= n; r += 97) {
        cp_items_keyless_key("sales", "a.csv", r, &pk, &sk);
        char *item = item_at(db, pk.data, sk.data);
        check_item(item, "a.csv", r);
        free(item);
    }
    note_len = 2000;
    for (uint64_t r = 1; r <= 128 * 40; r += 41) {
        cp_items_keyless_key("sales", "b.csv", r, &pk, &sk);
        char *item = item_at(db, pk.data, sk.data);
        check_item(item, "b.csv", r);
        free(item);
    }
    note_len = 0;
    check_source(db, "c.csv", 100);
    cp_buf_release(&pk);
    cp_buf_release(&sk);
    sqlite3_close(db);
    cp_schema_release(&schema);
}

/* name is a `want` ("table" or "view") in the store. */
static void check_type(sqlite3 *db, const char *name, const char *want)
{
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_master WHERE name = ?1 AND type = '%s'",
             want);
    assert_int_equal(count(db, q, name), 1);
}

/* A store made by an older csvpipe: sql run in a new database at dbpath, left open. */
static sqlite3 *old_store(const char *sql)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/out'", dir);
    assert_int_equal(system(cmd), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    return db;
}

/*
 * A store made by an older csvpipe: 4 KiB pages, one table items(pk, sk, item) of one row
 * per item, keyed and keyless items in it. It opens (the table becomes item_rows, the view
 * items is created), loads, and keeps its page size; a new version of a source whose items
 * are in the old table replaces them, the other sources' items stay.
 */
static void test_previous_version_store(void **state)
{
    sqlite3 *db =
        old_store("PRAGMA page_size=4096; PRAGMA journal_mode=WAL;"
                  "CREATE TABLE IF NOT EXISTS items (pk TEXT NOT NULL, sk TEXT NOT NULL, "
                  "item TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;"
                  "INSERT INTO items VALUES ('old#1', 'old', '{\"_dataset\":\"old\"}');"
                  "INSERT INTO items VALUES ('sales#7', 'sales', '{\"_dataset\":\"sales\"}');"
                  "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < "
                  "400) INSERT INTO items SELECT 'sales#' || s.src || '#' || (n % 128), "
                  "printf('%012d', n), '{\"_dataset\":\"sales\",\"_source\":\"' || s.src || "
                  "'\",\"_row\":' || n || '}' FROM r, (SELECT 'a.csv' AS src UNION ALL SELECT "
                  "'b.csv') AS s WHERE s.src = 'a.csv' OR n <= 5;");
    sqlite3_close(db);

    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    cp_schema schema;
    make_schema(&schema);
    db = reader();
    check_type(db, "items", "view");
    check_type(db, "item_rows", "table");
    check_type(db, "item_blocks", "table");
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 407);
    check_once(db);
    sqlite3_close(db);
    /* a new version of a.csv, shorter than the old one */
    put_file(s, &schema, "a.csv", 300, NULL, 0, 400);
    cp_items_close(s);

    /* opened again: nothing to migrate; a keyed file loads into item_rows */
    s = cp_items_open(url, &err);
    assert_non_null(s);
    const size_t by_id[] = {0};
    put_file(s, &schema, "k.csv", 3, by_id, 1, 0);
    cp_items_close(s);

    db = reader();
    check_source(db, "a.csv", 300);
    check_once(db);
    char *old = item_at(db, "old#1", "old");
    assert_non_null(old);
    assert_string_equal(old, "{\"_dataset\":\"old\"}");
    free(old);
    assert_int_equal(count(db, "SELECT count(*) FROM items WHERE pk LIKE 'sales#b.csv#%'", NULL),
                     5);
    char *keyed = item_at(db, "sales#2", "sales");
    check_item(keyed, "k.csv", 2);
    free(keyed);
    /* old#1, sales#7, b.csv's 5 items, k.csv's 3 */
    assert_int_equal(count(db, "SELECT count(*) FROM item_rows", NULL), 1 + 1 + 5 + 3);
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 300 + 1 + 1 + 5 + 3);
    assert_int_equal(count(db, "PRAGMA page_size", NULL), 4096);
    sqlite3_close(db);
    cp_schema_release(&schema);
}

/* An older store opened by four processes at once: one migrates it, every load lands. */
static void test_previous_version_store_racing(void **state)
{
    sqlite3 *db = old_store("PRAGMA journal_mode=WAL;"
                            "CREATE TABLE items (pk TEXT NOT NULL, sk TEXT NOT NULL, item "
                            "TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;"
                            "INSERT INTO items VALUES ('old#1', 'old', '{}');");
    sqlite3_close(db);
    cp_schema schema;
    make_schema(&schema);
    pid_t pids[4];
    fflush(NULL);
    for (int i = 0; i < 4; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            cp_error err;
            cp_items *c = cp_items_open(url, &err);
            if (!c)
                _exit(3);
            char src[16];
            snprintf(src, sizeof src, "r%d.csv", i);
            put_file(c, &schema, src, 200, NULL, 0, 0);
            cp_items_close(c);
            _exit(0);
        }
    }
    for (int i = 0; i < 4; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    db = reader();
    check_type(db, "items", "view");
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 1 + 4 * 200);
    check_once(db);
    for (int i = 0; i < 4; i++) {
        char src[16];
        snprintf(src, sizeof src, "r%d.csv", i);
        check_source(db, src, 200);
    }
    sqlite3_close(db);
    cp_schema_release(&schema);
}

/*
 * Generations (keyless): with a tiny CSVPIPE_ITEMS_COMMIT_BYTES every block of about 64 KiB
 * is committed as it is written; files of 128 * 33 items of about 2 KiB fill a block per
 * partition key during the stream.
 */
#define GEN_ROWS (128 * 33)

static cp_items *open_small_commits(void)
{
    assert_int_equal(setenv("CSVPIPE_ITEMS_COMMIT_BYTES", "4096", 1), 0);
    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_int_equal(unsetenv("CSVPIPE_ITEMS_COMMIT_BYTES"), 0);
    assert_non_null(s);
    note_len = 2000;
    return s;
}

static int64_t blocks_of_version(sqlite3 *db, int v)
{
    char like[32];
    snprintf(like, sizeof like, "%%\"v%dn%%", v);
    return count(db, "SELECT count(*) FROM item_blocks WHERE items LIKE ?1", like);
}

/* Version 1 of a.csv loaded, then n rows of version 2 written and left open: a reader,
   which finds blocks of version 2 committed. */
static sqlite3 *version_2_open(cp_items *s, const cp_schema *schema, uint64_t n)
{
    version = 1;
    put_file(s, schema, "a.csv", GEN_ROWS, NULL, 0, 0);
    version = 2;
    write_file(s, schema, "a.csv", n, NULL, 0);
    sqlite3 *db = reader();
    assert_true(blocks_of_version(db, 2) >= 128);
    return db;
}

/* A reader during a load sees the previous version, whole, though the new one's blocks are
   committed; then the new one, whole, and no block of the old one is left. */
static void test_reader_during_load(void **state)
{
    cp_items *s = open_small_commits();
    cp_schema schema;
    make_schema(&schema);
    sqlite3 *db = version_2_open(s, &schema, GEN_ROWS - 100);
    version = 1;
    check_source(db, "a.csv", GEN_ROWS);
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), GEN_ROWS);
    cp_error err;
    assert_int_equal(cp_items_finish(s, GEN_ROWS - 100, GEN_ROWS, &err), CP_OK);
    version = 2;
    check_source(db, "a.csv", GEN_ROWS - 100);
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), GEN_ROWS - 100);
    assert_int_equal(blocks_of_version(db, 1), 0);
    sqlite3_close(db);
    cp_items_close(s);
    cp_schema_release(&schema);
    note_len = 0;
    version = 0;
}

/* An aborted load after commits: the previous version stays, and none of its blocks. */
static void test_abort_after_commits(void **state)
{
    cp_items *s = open_small_commits();
    cp_schema schema;
    make_schema(&schema);
    sqlite3 *db = version_2_open(s, &schema, GEN_ROWS);
    cp_items_abort(s);
    assert_int_equal(blocks_of_version(db, 2), 0);
    version = 1;
    check_source(db, "a.csv", GEN_ROWS);
    assert_int_equal(count(db, "SELECT count(DISTINCT gen) FROM item_blocks", NULL), 1);
    sqlite3_close(db);
    cp_items_close(s);
    cp_schema_release(&schema);
    note_len = 0;
    version = 0;
}

/* A load killed after commits leaves its blocks, invisible; the next load of the source
   removes them, and another source's load does not touch them or anything else. */
static void test_orphan_generation(void **state)
{
    cp_items *s = open_small_commits();
    cp_schema schema;
    make_schema(&schema);
    version = 1;
    put_file(s, &schema, "a.csv", GEN_ROWS, NULL, 0, 0);
    cp_items_close(s); /* not open across the fork (its checkpointer thread) */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cp_items *c = open_small_commits();
        version = 2;
        write_file(c, &schema, "a.csv", GEN_ROWS, NULL, 0);
        _exit(0); /* no finish, no close: as kill -9 */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    s = open_small_commits();
    sqlite3 *db = reader();
    const int64_t orphans = blocks_of_version(db, 2);
    assert_true(orphans >= 128);
    check_source(db, "a.csv", GEN_ROWS);
    note_len = 0;
    put_file(s, &schema, "b.csv", 10, NULL, 0, 0);
    assert_int_equal(blocks_of_version(db, 2), orphans);
    version = 3;
    put_file(s, &schema, "a.csv", 300, NULL, 0, 0);
    check_source(db, "a.csv", 300);
    assert_int_equal(blocks_of_version(db, 2), 0);
    assert_int_equal(blocks_of_version(db, 1), 10); /* b.csv's */
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 310);
    sqlite3_close(db);
    cp_items_close(s);
    cp_schema_release(&schema);
    version = 0;
}

/* Two loads of one source through two connections, interleaved: the one begun later wins,
   whichever finishes first; no item twice or missing, no block of the other left. */
static void test_interleaved_loads(void **state)
{
    cp_schema schema;
    make_schema(&schema);
    for (int later_first = 0; later_first < 2; later_first++) {
        cp_items *s1 = open_small_commits(), *s2 = open_small_commits();
        cp_error err;
        version = 2;
        write_file(s1, &schema, "a.csv", GEN_ROWS, NULL, 0);
        version = 3;
        write_file(s2, &schema, "a.csv", GEN_ROWS - 50, NULL, 0);
        if (later_first) {
            assert_int_equal(cp_items_finish(s2, GEN_ROWS - 50, 0, &err), CP_OK);
            assert_int_equal(cp_items_finish(s1, GEN_ROWS, 0, &err), CP_OK);
        } else {
            assert_int_equal(cp_items_finish(s1, GEN_ROWS, 0, &err), CP_OK);
            assert_int_equal(cp_items_finish(s2, GEN_ROWS - 50, 0, &err), CP_OK);
        }
        sqlite3 *db = reader();
        check_source(db, "a.csv", GEN_ROWS - 50);
        assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), GEN_ROWS - 50);
        check_once(db);
        assert_int_equal(blocks_of_version(db, 2), 0);
        assert_int_equal(count(db, "SELECT count(DISTINCT gen) FROM item_blocks", NULL), 1);
        sqlite3_close(db);
        cp_items_close(s1);
        cp_items_close(s2);
    }
    cp_schema_release(&schema);
    note_len = 0;
    version = 0;
}

/* Every item of the view, "pk|sk|item" a line in pk, sk order (where: a filter or ""). */
static char *dump(sqlite3 *db, const char *where)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT group_concat(pk || '|' || sk || '|' || item, char(10)) FROM (SELECT * FROM "
             "items %s ORDER BY pk, sk)",
             where);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    assert_non_null(out);
    return out;
}

/*
 * A store of the previous layout (item_blocks without generations), made with its schema:
 * opened, its blocks become generation 0 and every item reads back byte for byte the
 * same; a new version of one source replaces its items, the others stay the same.
 */
static void test_blocks_store_migrated(void **state)
{
    sqlite3 *db = old_store(
        "PRAGMA page_size=16384; PRAGMA journal_mode=WAL;"
        "CREATE TABLE IF NOT EXISTS item_rows (pk TEXT NOT NULL, sk TEXT NOT NULL, item TEXT "
        "NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS item_blocks (pk TEXT NOT NULL, sk_first TEXT NOT NULL, "
        "sk_last TEXT NOT NULL, head TEXT NOT NULL, items TEXT NOT NULL, PRIMARY KEY (pk, "
        "sk_first));"
        "CREATE VIEW IF NOT EXISTS items (pk, sk, item) AS SELECT pk, sk, item FROM item_rows "
        "UNION ALL SELECT b.pk, j.key, b.head || substr(j.value, 2) FROM item_blocks AS b, "
        "json_each(b.items) AS j;"
        "INSERT INTO item_rows VALUES ('sales#7', 'sales', '{\"_dataset\":\"sales\"}');"
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300), "
        "s(src) AS (VALUES ('a.csv'), ('b.csv')) INSERT INTO item_blocks SELECT 'sales#' || "
        "src || '#' || (n % 128), printf('%012d', min(n)), printf('%012d', max(n)), "
        "'{\"_dataset\":\"sales\",\"_source\":\"' || src || '\",', '{' || "
        "group_concat('\"' || printf('%012d', n) || '\":{\"_row\":' || n || "
        "',\"name\":\"\\u00e9\\\"' || n || '\",\"price\":1.50}', ',') || '}' FROM r, s "
        "GROUP BY src, n % 128;");
    char *before = dump(db, "");
    char *b_before = dump(db, "WHERE pk LIKE 'sales#b.csv#%'");
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 601);
    sqlite3_close(db);

    cp_error err;
    cp_items *s = cp_items_open(url, &err);
    assert_non_null(s);
    db = reader();
    check_type(db, "items", "view");
    check_type(db, "item_live", "table");
    assert_int_equal(count(db, "SELECT count(*) FROM item_blocks WHERE gen = 0", NULL), 256);
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%old%'", NULL),
                     0);
    char *after = dump(db, "");
    assert_string_equal(after, before);
    free(after);
    sqlite3_close(db);

    cp_schema schema;
    make_schema(&schema);
    version = 1;
    put_file(s, &schema, "a.csv", 100, NULL, 0, 300);
    cp_items_close(s);
    db = reader();
    check_source(db, "a.csv", 100);
    assert_int_equal(count(db, "SELECT count(*) FROM items", NULL), 100 + 300 + 1);
    assert_int_equal(count(db, "SELECT count(*) FROM item_blocks WHERE gen = 0", NULL), 128);
    assert_int_equal(count(db, "PRAGMA page_size", NULL), 16384);
    after = dump(db, "WHERE pk LIKE 'sales#b.csv#%'");
    sqlite3_close(db);
    assert_string_equal(after, b_before); /* b.csv's items untouched */
    free(after);
    free(before);
    free(b_before);
    cp_schema_release(&schema);
    version = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keyless_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyed_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_item, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_previous_version_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_previous_version_store_racing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_during_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_after_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocks_store_migrated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
