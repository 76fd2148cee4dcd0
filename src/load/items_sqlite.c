/*
 * items_sqlite.c - the embedded item store (sqlite:PATH): DynamoDB's key model in one
 * SQLite table, items(pk, sk, item) WITHOUT ROWID, item a JSON object.
 *
 * Each item is {"_dataset": ..., "_source": ..., "_row": N, <non-null columns>...} with
 * the columns' JSON forms (cp_cell_append_json); keys come from table/item_key.h. Puts are
 * INSERT OR REPLACE through one prepared statement, in one transaction per file (BEGIN
 * IMMEDIATE at cp_items_begin, so concurrent csvpipe processes wait on the busy timeout
 * rather than fail): a file whose load is abandoned (too many bad rows, an error, a
 * restart) leaves no item behind, and cp_items_finish makes the puts and the deletes of
 * stale items durable at once.
 *
 * Where the time goes (2M rows of the sales file, 10 columns, items of about 340 bytes
 * with their keys; bench/results/latest.md): nearly all of it in SQLite and the kernel,
 * csvpipe's own work (parsing, keys, item JSON) about a tenth. Per item, SQLite descends
 * the B-tree from the root, comparing keys that share their first 50-odd bytes, and every
 * page is written twice (into the WAL, then by the checkpoint). What helped, measured:
 * - Key order within a batch. Keyless items of consecutive rows go to 128 partition keys
 *   in turn, so consecutive puts touched 128 leaves far apart. A batch's keyless puts now
 *   go in key order (partition by partition, rows ascending within each): the puts of a
 *   partition land on the same leaf one after another. Keyed puts keep the rows' order (a
 *   later row with the same key must win).
 * - 16 KiB pages for a new store (ITEMS_PAGE_SIZE): four times fewer pages to find, split
 *   and write than with SQLite's 4 KiB; 64 KiB pages were slower (a split moves more, and
 *   the cache holds fewer). An existing store keeps its page size: the file format, the
 *   table and the items are the same as before, so an older store opens and loads as it
 *   did.
 * What did not: sorting across 8 batches instead of one (runs of 512 puts a partition
 *   rather than 64), a larger cache (64 MiB: more page faults, no fewer reads), plain
 *   INSERT instead of INSERT OR REPLACE. Taking the WAL out (a rollback journal writes new
 *   pages once) saved about a quarter of the CPU time, but the WAL is what lets readers
 *   and concurrent loads share the store (sqlite_db.h), so it stays.
 *
 * The page cache: the pages being written are the 128 partitions' leaves with their
 * neighbours and parents; ITEMS_CACHE_PRAGMA holds them with room to spare, so the puts
 * write each page to the WAL about once (with SQLite's default 2000 KiB, most puts spilled
 * a page and read another back).
 *
 * Puts stay one row per statement: a multi-row INSERT OR REPLACE needs a statement
 * journal (its NOT NULL checks may abort), and with 64 items touching 64 scattered pages
 * that journal spills to a temporary file on every statement.
 */
#include "load/items_backend.h"
#include "load/sqlite_db.h"
#include "table/cell.h"
#include "util/json_escape.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* the item store connection's page cache: 16 MiB (a negative size is in KiB) */
#define ITEMS_CACHE_PRAGMA "PRAGMA cache_size = -16384"
/* the page size of a store this version creates */
#define ITEMS_PAGE_SIZE 16384

typedef struct sqlite_items {
    cp_items base; /* base.file: the open file */
    sqlite3 *db;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
    cp_buf prefix; /* {"_dataset":...,"_source":...,"_row": of the open file */
    cp_buf item;
    uint8_t shards[CP_ITEM_SHARDS]; /* 0..CP_ITEM_SHARDS-1 in the order of their decimal text */
} sqlite_items;

static void end_file(sqlite_items *s)
{
    if (s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    cp_buf_reset(&s->prefix);
}

static void sqlite_close(cp_items *base);

/* Whether shard a's decimal text sorts before b's, as the pks that end in them do. */
static bool shard_text_before(unsigned a, unsigned b)
{
    char ta[8], tb[8];
    snprintf(ta, sizeof ta, "%u", a);
    snprintf(tb, sizeof tb, "%u", b);
    return strcmp(ta, tb) < 0;
}

static void order_shards(uint8_t *shards)
{
    for (unsigned i = 0; i < CP_ITEM_SHARDS; i++) {
        unsigned j = i;
        for (; j > 0 && shard_text_before(i, shards[j - 1]); j--)
            shards[j] = shards[j - 1];
        shards[j] = (uint8_t)i;
    }
}

static cp_items *sqlite_open(const char *path, cp_error *err)
{
    sqlite_items *s = calloc(1, sizeof *s);
    if (!s) {
        cp_error_set(err, CP_NOMEM, "out of memory opening sqlite:%s", path);
        return NULL;
    }
    cp_buf_init(&s->prefix, CP_BUF_UNLIMITED);
    cp_buf_init(&s->item, CP_BUF_UNLIMITED);
    order_shards(s->shards);
    cp_status st = cp_sqlite_open(path, "item store", ITEMS_PAGE_SIZE, &s->db, err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, ITEMS_CACHE_PRAGMA, "setting the page cache size", err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db,
                            "CREATE TABLE IF NOT EXISTS items (pk TEXT NOT NULL, sk TEXT NOT "
                            "NULL, item TEXT NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID",
                            "creating the items table", err);
    if (st == CP_OK)
        st = cp_sqlite_prepare(s->db,
                               "INSERT OR REPLACE INTO items (pk, sk, item) VALUES (?1, ?2, ?3)",
                               -1, &s->put, "preparing the item put", err);
    if (st == CP_OK)
        st = cp_sqlite_prepare(s->db, "DELETE FROM items WHERE pk = ?1 AND sk = ?2", -1, &s->del,
                               "preparing the item delete", err);
    if (st != CP_OK) {
        sqlite_close(&s->base);
        return NULL;
    }
    return &s->base;
}

static void sqlite_close(cp_items *base)
{
    sqlite_items *s = (sqlite_items *)base;
    end_file(s);
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->del);
    sqlite3_close_v2(s->db);
    cp_buf_release(&s->prefix);
    cp_buf_release(&s->item);
    free(s);
}

static cp_status build_prefix(sqlite_items *s)
{
    const cp_items_file *f = &s->base.file;
    CP_RETURN_IF_ERROR(cp_buf_append_str(&s->prefix, "{\"_dataset\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(&s->prefix, f->dataset, strlen(f->dataset)));
    CP_RETURN_IF_ERROR(cp_buf_append_str(&s->prefix, ",\"_source\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(&s->prefix, f->source, strlen(f->source)));
    return cp_buf_append_str(&s->prefix, ",\"_row\":");
}

static cp_status sqlite_begin(cp_items *base, const cp_schema *schema, cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    (void)schema;
    cp_status st = build_prefix(s);
    if (st != CP_OK) {
        end_file(s);
        return cp_error_set(err, st, "building the item form of %s", base->file.source);
    }
    st = cp_sqlite_exec(s->db, "BEGIN IMMEDIATE", "starting the items of a file", err);
    if (st != CP_OK)
        end_file(s);
    return st;
}

/* v in decimal, as "%" PRIu64 writes it (without printf's cost on every item). */
static cp_status append_u64(cp_buf *o, uint64_t v)
{
    char tmp[20];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return cp_buf_append(o, tmp + n, sizeof tmp - n);
}

/* The JSON object of row `row` into s->item. */
static cp_status build_item(sqlite_items *s, const cp_batch *b, size_t row)
{
    cp_buf *o = &s->item;
    cp_buf_reset(o);
    CP_RETURN_IF_ERROR(cp_buf_append(o, s->prefix.data, s->prefix.len));
    CP_RETURN_IF_ERROR(append_u64(o, b->first_row + row));
    const char *names = s->base.file.names.data;
    const size_t *end = s->base.file.name_end, n = s->base.file.ncolumns;
    for (size_t i = 0; i < n; i++) {
        if (!cp_batch_valid(b, i, row))
            continue; /* nulls are absent attributes */
        const size_t start = i ? end[i - 1] : 0;
        CP_RETURN_IF_ERROR(cp_buf_append(o, names + start, end[i] - start));
        CP_RETURN_IF_ERROR(cp_cell_append_json(o, b, i, row));
    }
    return cp_buf_append_char(o, '}');
}

/* Puts the item of row r of b. */
static cp_status put_row(sqlite_items *s, const cp_batch *b, size_t r, cp_error *err)
{
    const cp_items_file *f = &s->base.file;
    cp_status st = cp_items_file_key(&s->base, b, r);
    if (st == CP_OK)
        st = build_item(s, b, r);
    if (st != CP_OK)
        return cp_error_set(err, st, "building the item of row %" PRIu64 " of %s", b->first_row + r,
                            f->source);
    sqlite3_bind_text64(s->put, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(s->put, 2, f->sk.data, f->sk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(s->put, 3, s->item.data, s->item.len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = sqlite3_step(s->put);
    sqlite3_reset(s->put);
    if (rc != SQLITE_DONE)
        return cp_sqlite_fail(s->db, err, "putting the item of row %" PRIu64 " of %s",
                              b->first_row + r, f->source);
    return CP_OK;
}

/* On failure the caller aborts, which rolls the file back: the order of the puts is free. */
static cp_status sqlite_write(cp_items *base, const cp_batch *b, cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    if (base->file.keys.ncolumns > 0) {
        for (size_t r = 0; r < b->nrows; r++)
            CP_RETURN_IF_ERROR(put_row(s, b, r, err));
        return CP_OK;
    }
    /* keyless: the row of ordinal o goes to shard o % CP_ITEM_SHARDS; visit in key order */
    const size_t first = (size_t)(b->first_row % CP_ITEM_SHARDS);
    for (size_t k = 0; k < CP_ITEM_SHARDS; k++) {
        const size_t r0 = (s->shards[k] + CP_ITEM_SHARDS - first) % CP_ITEM_SHARDS;
        for (size_t r = r0; r < b->nrows; r += CP_ITEM_SHARDS)
            CP_RETURN_IF_ERROR(put_row(s, b, r, err));
    }
    return CP_OK;
}

static cp_status sqlite_finish(cp_items *base, uint64_t rows_now, uint64_t rows_before,
                               cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    cp_items_file *f = &base->file;
    cp_status st = CP_OK;
    if (f->keys.ncolumns == 0 && rows_before > rows_now) {
        for (uint64_t r = rows_now + 1; st == CP_OK && r <= rows_before; r++) {
            st = cp_item_keyless_key(f->dataset, f->source, r, &f->pk, &f->sk);
            if (st != CP_OK) {
                st = cp_error_set(err, st, "building the key of stale item %" PRIu64, r);
                break;
            }
            sqlite3_bind_text64(s->del, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
            sqlite3_bind_text64(s->del, 2, f->sk.data, f->sk.len, SQLITE_STATIC, SQLITE_UTF8);
            int rc = sqlite3_step(s->del);
            sqlite3_reset(s->del);
            if (rc != SQLITE_DONE)
                st = cp_sqlite_fail(s->db, err, "deleting stale item %" PRIu64 " of %s", r,
                                    f->source);
        }
    }
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, "COMMIT", "committing the items of a file", err);
    end_file(s); /* rolls back what failed */
    return st;
}

static void sqlite_abort(cp_items *base)
{
    end_file((sqlite_items *)base);
}

static const char *const sqlite_schemes[] = {"sqlite:", NULL};

const cp_items_backend cp_items_sqlite_backend = {
    .schemes = sqlite_schemes,
    .transactional = true,
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .write = sqlite_write,
    .finish = sqlite_finish,
    .abort = sqlite_abort,
    .create = NULL,
};
