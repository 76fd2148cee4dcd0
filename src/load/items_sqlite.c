/*
 * items_sqlite.c - the embedded item store (sqlite:PATH): DynamoDB's key model in SQLite.
 *
 * Layout (docs/design.md, "Item keys"):
 * - item_rows(pk, sk, item) WITHOUT ROWID: one row per keyed item (--key), item a JSON
 *   object, put with INSERT OR REPLACE (a later row or file with the same key wins);
 * - item_blocks(pk, sk_first, sk_last, head, items), PRIMARY KEY (pk, sk_first): the
 *   keyless items (no --key) in blocks, one row per run of up to BLOCK_ITEMS consecutive
 *   items of one partition key (or until the run passes BLOCK_BYTES), kept open across
 *   batches: items is a JSON object whose keys are the items' sks in ascending order and
 *   whose values are the items without _dataset and _source, which are the same for the
 *   whole block: head is {"_dataset":...,"_source":..., and an item is head followed by its
 *   value without the value's opening brace;
 * - the view items(pk, sk, item): every item once, item_rows' rows and each block's
 *   entries through json_each (head || substr(value, 2)), so plain sqlite3 reads one row
 *   per item, byte for byte the item the row per item layout held.
 * Keyless items are never updated one by one: a source's items are replaced as a whole by
 * its next version. So a file's load deletes, in its own transaction, every block of the
 * source's CP_ITEM_SHARDS partition keys (and any keyless item of it left in item_rows by
 * an older csvpipe), then writes its blocks.
 *
 * Each item is {"_dataset": ..., "_source": ..., "_row": N, <non-null columns>...} with
 * the columns' JSON forms (cp_cell_append_json); keys come from table/item_key.h. A file's
 * puts and deletes are one transaction (BEGIN IMMEDIATE at cp_items_begin, so concurrent
 * csvpipe processes wait on the busy timeout rather than fail): a file whose load is
 * abandoned (too many bad rows, an error, a restart) leaves nothing behind and its
 * source's previous version in place, and cp_items_finish makes the file's items and the
 * deletes of the previous version's durable at once.
 *
 * Why blocks (2M rows of the sales file, 10 columns, items of about 340 bytes with their
 * keys; bench/results/items.md): with a row per item nearly all the time went into SQLite
 * and the kernel: per item a B-tree descent comparing keys that share their first 50-odd
 * bytes, a cell inserted into a leaf (splitting it now and then), and every page written
 * twice (into the WAL, then by the checkpoint); items-only took 8-9x the Parquet-only time.
 * A block of 256 items is one insert of one record (a leaf cell and its overflow pages,
 * appended at the end of the table's rowid B-tree) and one entry in the (pk, sk_first)
 * index, so SQLite's work per item becomes a memcpy; the items without their keys and
 * _dataset/_source take about half the bytes (2M items: 449 MB instead of 861 MB).
 * Items-only went from about 8x the Parquet-only CPU time to about 2.4x; what is left is
 * mostly the kernel copying those bytes three times (into the WAL, back out, into the
 * database: perf), and waiting for them to reach the disk. Since then (bench/README.md):
 * the store is a threaded sink (pipeline/sink_workers.h: a worker builds the items and
 * puts them; the connection is only used by one thread at a time, and every call but the
 * writes stays on the pipeline's thread), the writeback of the WAL and of the checkpoint
 * starts every 8 MiB (sqlite_db.c) so that the fdatasyncs find little left to write, and
 * secure_delete is FAST (ITEMS_SECURE_DELETE_PRAGMA): items-only 3.1x the Parquet-only wall
 * time, 2.1x its CPU time. About half of it now comes after the stream, on one thread: the commit
 * (SQLite re-reads about half the WAL to rewrite its checksums, because a B-tree page was spilled
 * twice), the checkpoint's copy of every page into the database, and the deletion of the
 * WAL at close (the kernel dropping its pages).
 *
 * An object keyed by sk rather than an array gives the view each item's sk without parsing
 * the item or computing it from _row (which may pass 2^63). What still holds from the row
 * per item layout: 16 KiB pages for a new store (ITEMS_PAGE_SIZE; an existing store keeps
 * its page size), the WAL (it lets readers and concurrent loads share the store,
 * sqlite_db.h), and ITEMS_CACHE_PRAGMA for keyed puts, which still land on scattered
 * leaves.
 *
 * Memory: a block per partition key is open while a file loads, so at most
 * CP_ITEM_SHARDS blocks of about BLOCK_BYTES (plus the one item that passes it): 8 MiB of
 * items in buffers of up to twice that, kept from file to file (2M rows: peak RSS 38 MB
 * against 30 MB with a row per item).
 *
 * An older store (a table items(pk, sk, item) of one row per item) is migrated on open in
 * one transaction: the table is renamed item_rows, item_blocks and the view created; its
 * items stay where they are and are read through the view.
 */
#include "load/items_backend.h"
#include "load/sqlite_db.h"
#include "table/cell.h"
#include "util/json_escape.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the item store connection's page cache: 16 MiB (a negative size is in KiB) */
#define ITEMS_CACHE_PRAGMA "PRAGMA cache_size = -16384"
/* freed pages are not zeroed (Debian's SQLite zeroes them by default): a source's next
   version would write its old version's bytes once more as zeros, into the WAL and the
   database, before writing itself over them */
#define ITEMS_SECURE_DELETE_PRAGMA "PRAGMA secure_delete = FAST"
/* the page size of a store this version creates */
#define ITEMS_PAGE_SIZE 16384
/* a block of keyless items is written once it holds this many items or bytes */
#define BLOCK_ITEMS 256
#define BLOCK_BYTES 65536

static const char ITEMS_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS item_rows (pk TEXT NOT NULL, sk TEXT NOT NULL, item TEXT NOT "
    "NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS item_blocks (pk TEXT NOT NULL, sk_first TEXT NOT NULL, sk_last "
    "TEXT NOT NULL, head TEXT NOT NULL, items TEXT NOT NULL, PRIMARY KEY (pk, sk_first));"
    "CREATE VIEW IF NOT EXISTS items (pk, sk, item) AS SELECT pk, sk, item FROM item_rows "
    "UNION ALL SELECT b.pk, j.key, b.head || substr(j.value, 2) FROM item_blocks AS b, "
    "json_each(b.items) AS j;";

/* The open block of one partition key: items {"<sk>":<item>,... without its closing brace. */
typedef struct items_block {
    cp_buf items;
    size_t n;
    uint64_t first, last; /* ordinals of its first and last item */
} items_block;

typedef struct sqlite_items {
    cp_items base; /* base.file: the open file */
    sqlite3 *db;
    sqlite3_stmt *put;        /* a keyed item into item_rows */
    sqlite3_stmt *put_block;  /* a block into item_blocks */
    sqlite3_stmt *del_blocks; /* the blocks of one pk */
    sqlite3_stmt *del_rows;   /* the keyless items of one pk in item_rows (older csvpipe) */
    cp_buf head;              /* {"_dataset":...,"_source":..., of the open file */
    cp_buf item;
    cp_buf sk_last;
    items_block blocks[CP_ITEM_SHARDS]; /* keyless: block i holds ordinals = i mod SHARDS */
} sqlite_items;

static void end_file(sqlite_items *s)
{
    if (s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    cp_buf_reset(&s->head);
    for (size_t i = 0; i < CP_ITEM_SHARDS; i++) {
        cp_buf_reset(&s->blocks[i].items);
        s->blocks[i].n = 0;
    }
}

static void sqlite_close(cp_items *base);

/* Whether name is in sqlite_master as a table (type "table") or a view. */
static cp_status schema_has(sqlite3 *db, const char *type, const char *name, bool *has,
                            cp_error *err)
{
    sqlite3_stmt *st;
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(db,
                                         "SELECT 1 FROM sqlite_master WHERE type = ?1 AND "
                                         "name = ?2",
                                         -1, &st, "reading the item store's schema", err));
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cp_sqlite_fail(db, err, "reading the item store's schema");
    *has = rc == SQLITE_ROW;
    return CP_OK;
}

/*
 * Creates the tables and the view when missing; a store of the older layout (a table
 * named items) has it renamed item_rows first. Without a write lock when there is
 * nothing to do, so opening a store does not wait for another process's load.
 */
static cp_status prepare_schema(sqlite3 *db, cp_error *err)
{
    bool view = false, table = false;
    CP_RETURN_IF_ERROR(schema_has(db, "view", "items", &view, err));
    if (view)
        return CP_OK;
    CP_RETURN_IF_ERROR(
        cp_sqlite_exec(db, "BEGIN IMMEDIATE", "starting the item store's schema", err));
    cp_status st = schema_has(db, "table", "items", &table, err);
    if (st == CP_OK && table)
        st = cp_sqlite_exec(db, "ALTER TABLE items RENAME TO item_rows",
                            "renaming the items table of an older item store item_rows", err);
    if (st == CP_OK)
        st = cp_sqlite_exec(db, ITEMS_SCHEMA, "creating the item store's tables", err);
    if (st == CP_OK)
        st = cp_sqlite_exec(db, "COMMIT", "committing the item store's schema", err);
    if (st != CP_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static cp_items *sqlite_open(const char *path, cp_error *err)
{
    sqlite_items *s = calloc(1, sizeof *s);
    if (!s) {
        cp_error_set(err, CP_NOMEM, "out of memory opening sqlite:%s", path);
        return NULL;
    }
    cp_buf_init(&s->head, CP_BUF_UNLIMITED);
    cp_buf_init(&s->item, CP_BUF_UNLIMITED);
    cp_buf_init(&s->sk_last, CP_BUF_UNLIMITED);
    for (size_t i = 0; i < CP_ITEM_SHARDS; i++)
        cp_buf_init(&s->blocks[i].items, CP_BUF_UNLIMITED);
    cp_status st = cp_sqlite_open(path, "item store", ITEMS_PAGE_SIZE, &s->db, err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, ITEMS_CACHE_PRAGMA, "setting the page cache size", err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, ITEMS_SECURE_DELETE_PRAGMA, "setting secure_delete", err);
    if (st == CP_OK)
        st = prepare_schema(s->db, err);
    if (st == CP_OK)
        st = cp_sqlite_prepare(
            s->db, "INSERT OR REPLACE INTO item_rows (pk, sk, item) VALUES (?1, ?2, ?3)", -1,
            &s->put, "preparing the item put", err);
    if (st == CP_OK)
        st = cp_sqlite_prepare(s->db,
                               "INSERT INTO item_blocks (pk, sk_first, sk_last, head, items) "
                               "VALUES (?1, ?2, ?3, ?4, ?5)",
                               -1, &s->put_block, "preparing the item block put", err);
    if (st == CP_OK)
        st = cp_sqlite_prepare(s->db, "DELETE FROM item_blocks WHERE pk = ?1", -1, &s->del_blocks,
                               "preparing the item block delete", err);
    if (st == CP_OK)
        st = cp_sqlite_prepare(s->db, "DELETE FROM item_rows WHERE pk = ?1 AND sk <> ?2", -1,
                               &s->del_rows, "preparing the item delete", err);
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
    sqlite3_finalize(s->put_block);
    sqlite3_finalize(s->del_blocks);
    sqlite3_finalize(s->del_rows);
    sqlite3_close_v2(s->db);
    cp_buf_release(&s->head);
    cp_buf_release(&s->item);
    cp_buf_release(&s->sk_last);
    for (size_t i = 0; i < CP_ITEM_SHARDS; i++)
        cp_buf_release(&s->blocks[i].items);
    free(s);
}

static cp_status build_head(sqlite_items *s)
{
    const cp_items_file *f = &s->base.file;
    CP_RETURN_IF_ERROR(cp_buf_append_str(&s->head, "{\"_dataset\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(&s->head, f->dataset, strlen(f->dataset)));
    CP_RETURN_IF_ERROR(cp_buf_append_str(&s->head, ",\"_source\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(&s->head, f->source, strlen(f->source)));
    return cp_buf_append_char(&s->head, ',');
}

/* Deletes the previous version of the open keyless file's source: its blocks, and the
   items an older csvpipe put one per row. */
static cp_status delete_source(sqlite_items *s, cp_error *err)
{
    cp_items_file *f = &s->base.file;
    for (uint64_t shard = 0; shard < CP_ITEM_SHARDS; shard++) {
        cp_status st = cp_item_keyless_key(f->dataset, f->source, shard, &f->pk, &f->sk);
        if (st != CP_OK)
            return cp_error_set(err, st, "building the keys of %s", f->source);
        sqlite3_bind_text64(s->del_blocks, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
        int rc = sqlite3_step(s->del_blocks);
        sqlite3_reset(s->del_blocks);
        if (rc == SQLITE_DONE) {
            sqlite3_bind_text64(s->del_rows, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
            sqlite3_bind_text(s->del_rows, 2, f->dataset, -1, SQLITE_STATIC);
            rc = sqlite3_step(s->del_rows);
            sqlite3_reset(s->del_rows);
        }
        if (rc != SQLITE_DONE)
            return cp_sqlite_fail(s->db, err, "deleting the previous items of %s", f->source);
    }
    return CP_OK;
}

static cp_status sqlite_begin(cp_items *base, const cp_schema *schema, cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    (void)schema;
    cp_status st = build_head(s);
    if (st != CP_OK) {
        end_file(s);
        return cp_error_set(err, st, "building the item form of %s", base->file.source);
    }
    st = cp_sqlite_exec(s->db, "BEGIN IMMEDIATE", "starting the items of a file", err);
    if (st == CP_OK && base->file.keys.ncolumns == 0)
        st = delete_source(s, err);
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

/* The sk of the keyless item of ordinal v (cp_item_keyless_key's): 12 digits at least. */
static cp_status append_sk(cp_buf *o, uint64_t v)
{
    char tmp[20];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > sizeof tmp - 12)
        tmp[--n] = '0';
    return cp_buf_append(o, tmp + n, sizeof tmp - n);
}

/* Appends the JSON object of row `row` of b to o; without _dataset and _source unless
   with_head. */
static cp_status build_item(sqlite_items *s, cp_buf *o, const cp_batch *b, size_t row,
                            bool with_head)
{
    if (with_head)
        CP_RETURN_IF_ERROR(cp_buf_append(o, s->head.data, s->head.len));
    else
        CP_RETURN_IF_ERROR(cp_buf_append_char(o, '{'));
    CP_RETURN_IF_ERROR(cp_buf_append(o, "\"_row\":", 7));
    CP_RETURN_IF_ERROR(append_u64(o, cp_batch_row_number(b, row)));
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

static cp_status row_failed(const cp_items_file *f, const cp_batch *b, size_t r, cp_status st,
                            cp_error *err)
{
    return cp_error_set(err, st, "building the item of row %" PRIu64 " of %s",
                        cp_batch_row_number(b, r), f->source);
}

/* Puts the keyed item of row r of b into item_rows. */
static cp_status put_row(sqlite_items *s, const cp_batch *b, size_t r, cp_error *err)
{
    const cp_items_file *f = &s->base.file;
    cp_buf_reset(&s->item);
    cp_status st = cp_items_file_key(&s->base, b, r);
    if (st == CP_OK)
        st = build_item(s, &s->item, b, r, true);
    if (st != CP_OK)
        return row_failed(f, b, r, st, err);
    sqlite3_bind_text64(s->put, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(s->put, 2, f->sk.data, f->sk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(s->put, 3, s->item.data, s->item.len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = sqlite3_step(s->put);
    sqlite3_reset(s->put);
    if (rc != SQLITE_DONE)
        return cp_sqlite_fail(s->db, err, "putting the item of row %" PRIu64 " of %s",
                              cp_batch_row_number(b, r), f->source);
    return CP_OK;
}

/* Writes block i into item_blocks and empties it; a no-op when it is empty. */
static cp_status flush_block(sqlite_items *s, size_t i, cp_error *err)
{
    items_block *k = &s->blocks[i];
    cp_items_file *f = &s->base.file;
    if (k->n == 0)
        return CP_OK;
    cp_status st = cp_buf_append_char(&k->items, '}');
    if (st == CP_OK)
        st = cp_item_keyless_key(f->dataset, f->source, k->last, &s->item, &s->sk_last);
    if (st == CP_OK)
        st = cp_item_keyless_key(f->dataset, f->source, k->first, &f->pk, &f->sk);
    if (st != CP_OK)
        return cp_error_set(err, st,
                            "building the item block of rows %" PRIu64 "..%" PRIu64 " of %s",
                            k->first, k->last, f->source);
    sqlite3_stmt *put = s->put_block;
    sqlite3_bind_text64(put, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 2, f->sk.data, f->sk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 3, s->sk_last.data, s->sk_last.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 4, s->head.data, s->head.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 5, k->items.data, k->items.len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = sqlite3_step(put);
    sqlite3_reset(put);
    cp_buf_reset(&k->items);
    k->n = 0;
    if (rc != SQLITE_DONE)
        return cp_sqlite_fail(s->db, err,
                              "putting the items of rows %" PRIu64 "..%" PRIu64 " of %s", k->first,
                              k->last, f->source);
    return CP_OK;
}

/* Adds the keyless item of row r of b to the block of its partition key, written when full. */
static cp_status add_to_block(sqlite_items *s, const cp_batch *b, size_t r, cp_error *err)
{
    cp_items_file *f = &s->base.file;
    const uint64_t ordinal = cp_batch_row_number(b, r);
    const size_t i = (size_t)(ordinal % CP_ITEM_SHARDS);
    items_block *k = &s->blocks[i];
    cp_status st = cp_buf_append(&k->items, k->n ? ",\"" : "{\"", 2);
    if (st == CP_OK)
        st = append_sk(&k->items, ordinal);
    if (st == CP_OK)
        st = cp_buf_append(&k->items, "\":", 2);
    if (st == CP_OK)
        st = build_item(s, &k->items, b, r, false);
    if (st != CP_OK)
        return row_failed(f, b, r, st, err);
    if (k->n++ == 0)
        k->first = ordinal;
    k->last = ordinal;
    if (k->n >= BLOCK_ITEMS || k->items.len >= BLOCK_BYTES)
        return flush_block(s, i, err);
    return CP_OK;
}

/* On failure the caller aborts, which rolls the file back. */
static cp_status sqlite_write(cp_items *base, const cp_batch *b, cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    const bool keyed = base->file.keys.ncolumns > 0;
    for (size_t r = 0; r < b->nrows; r++)
        CP_RETURN_IF_ERROR(keyed ? put_row(s, b, r, err) : add_to_block(s, b, r, err));
    return CP_OK;
}

/* The source's previous version went at begin (keyless): rows_now and rows_before are not
   needed here. */
static cp_status sqlite_finish(cp_items *base, uint64_t rows_now, uint64_t rows_before,
                               cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    (void)rows_now;
    (void)rows_before;
    cp_status st = CP_OK;
    for (size_t i = 0; st == CP_OK && i < CP_ITEM_SHARDS; i++)
        st = flush_block(s, i, err);
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
