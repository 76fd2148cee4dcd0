/*
 * items_sqlite.c - the embedded item store (sqlite:PATH): DynamoDB's key model in SQLite.
 *
 * Layout (docs/design.md, "Item keys"):
 * - item_rows(pk, sk, item) WITHOUT ROWID: one row per keyed item (--key), item a JSON
 *   object, put with INSERT OR REPLACE (a later row or file with the same key wins);
 * - item_blocks(pk, gen, sk_first, sk_last, head, items), PRIMARY KEY (pk, gen, sk_first):
 *   the keyless items (no --key) in blocks, one row per run of up to BLOCK_ITEMS consecutive
 *   items of one partition key (or until the run passes BLOCK_BYTES), kept open across
 *   batches: items is a JSON object whose keys are the items' sks in ascending order and
 *   whose values are the items without _dataset and _source, which are the same for the
 *   whole block: head is {"_dataset":...,"_source":..., and an item is head followed by its
 *   value without the value's opening brace; gen is the generation of the load that wrote
 *   it;
 * - item_live(pk, gen) WITHOUT ROWID: the live generation of a keyless partition key;
 *   item_gen: one row, the last generation handed out;
 * - the view items(pk, sk, item): every item once, item_rows' rows and the entries of each
 *   live block (of its pk's item_live generation, or of generation 0 for a pk without one)
 *   through json_each (head || substr(value, 2)), so plain sqlite3 reads one row per item,
 *   byte for byte the item the row per item layout held.
 *
 * Generations. Keyless items are never updated one by one: a source's items are replaced
 * as a whole by its next version. A file's load takes a generation G at cp_items_begin (a
 * short BEGIN IMMEDIATE transaction on item_gen, so concurrent processes never share one),
 * writes its blocks as generation G in transactions of commit_bytes of blocks each (about
 * 16 MiB, CSVPIPE_ITEMS_COMMIT_BYTES; committed without waiting for the disk: begin_at),
 * invisible to the view, and switches the source at
 * cp_items_finish in one short transaction (switch_generation): the source's CP_ITEM_SHARDS
 * pks live at G, their blocks of older generations deleted (the previous version, and any
 * orphan of a killed load), and any keyless item of the source left in item_rows by an
 * older csvpipe. So readers see the previous version until that commit, then the new one,
 * whole. A later-started load of the same source (a greater generation) wins whichever
 * finishes first, by start time only, not by the source's version (the ledger orders
 * versions): the earlier one, finding a greater live generation, deletes its own blocks,
 * logs it and returns CP_OK. An abort rolls back and deletes G's committed blocks; a killed
 * process leaves them, invisible, for the next load of the source to delete. Concurrent
 * loads of different sources take turns on the write lock per transaction, no longer per
 * load (a transaction stays open until 16 MiB of blocks, so a slow source holds the lock
 * as long as its 16 MiB take to arrive). Keyed items are one transaction per file, as before: BEGIN
 * IMMEDIATE at cp_items_begin, COMMIT at cp_items_finish.
 *
 * Each item is {"_dataset": ..., "_source": ..., "_row": N, <non-null columns>...} with
 * the columns' JSON forms (cp_cell_append_json); keys come from table/item_key.h. Every
 * transaction is BEGIN IMMEDIATE, so concurrent csvpipe processes wait on the busy timeout
 * rather than fail.
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
 * time, 2.1x its CPU time, about half of it after the stream, on one thread: the commit of
 * the one 449 MB transaction (SQLite re-reading about half the WAL to rewrite its
 * checksums, because a B-tree page was spilled twice), the checkpoint's copy of every page
 * into the database, and the deletion of the WAL at close (the kernel dropping its pages).
 * Hence the generations (above): transactions of COMMIT_BYTES, and the checkpointer
 * (below) copying them while the stream goes on, the WAL within about 64 MiB; what is
 * left after the stream is the last transaction and the switch (measured: bench/README.md).
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
 * An older store is migrated on open in one transaction (migrate): a table items(pk, sk,
 * item) of one row per item is renamed item_rows; an item_blocks without gen is copied into
 * the new one as generation 0; then the tables and the view are created. Its items read
 * back through the view byte for byte as before.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "load/items_backend.h"
#include "load/sqlite_db.h"
#include "table/cell.h"
#include "util/env.h"
#include "util/fault.h"
#include "util/json_escape.h"
#include "util/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
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

/* the default of CSVPIPE_ITEMS_COMMIT_BYTES, and its floor */
#define COMMIT_BYTES (16u << 20)
#define COMMIT_BYTES_MIN 4096u
/* the writer waits for the checkpointer every this many commits (checkpoint_soon) */
#define CHECKPOINT_EVERY 4u

static const char ITEMS_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS item_rows (pk TEXT NOT NULL, sk TEXT NOT NULL, item TEXT NOT "
    "NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS item_blocks (pk TEXT NOT NULL, gen INTEGER NOT NULL, sk_first "
    "TEXT NOT NULL, sk_last TEXT NOT NULL, head TEXT NOT NULL, items TEXT NOT NULL, PRIMARY KEY "
    "(pk, gen, sk_first));"
    "CREATE TABLE IF NOT EXISTS item_gen (id INTEGER PRIMARY KEY CHECK (id = 0), last INTEGER "
    "NOT NULL);"
    "INSERT OR IGNORE INTO item_gen (id, last) VALUES (0, 0);"
    "CREATE TABLE IF NOT EXISTS item_live (pk TEXT PRIMARY KEY, gen INTEGER NOT NULL) WITHOUT "
    "ROWID;"
    "CREATE VIEW IF NOT EXISTS items (pk, sk, item) AS SELECT pk, sk, item FROM item_rows "
    "UNION ALL SELECT b.pk, j.key, b.head || substr(j.value, 2) FROM item_blocks AS b, "
    "json_each(b.items) AS j WHERE b.gen = coalesce((SELECT l.gen FROM item_live AS l WHERE "
    "l.pk = b.pk), 0);";

/* The open block of one partition key: items {"<sk>":<item>,... without its closing brace. */
typedef struct items_block {
    cp_buf items;
    size_t n;
    uint64_t first, last; /* ordinals of its first and last item */
} items_block;

/*
 * Copies the WAL's committed pages into the database on a thread of its own, through a
 * connection of its own, while the writer goes on: woken after every commit, it runs a
 * PASSIVE checkpoint (which never blocks the writer, nor waits for it). SQLite writes the
 * WAL from its start again only when a write transaction begins on a WAL copied whole; the
 * writer's next transaction begins right after its commit, before that copy is done, so
 * every `every` commits the writer waits for the checkpointer, and the WAL stays within
 * about `every` transactions (CHECKPOINT_EVERY * COMMIT_BYTES: 64 MiB) instead of growing
 * as big as the file's items.
 */
typedef struct checkpointer {
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    bool running, want, busy, stop;
    unsigned every, commits; /* the writer waits for it every `every` commits */
} checkpointer;

typedef struct sqlite_items {
    cp_items base; /* base.file: the open file */
    sqlite3 *db;
    checkpointer ckpt;
    sqlite3_stmt *put;       /* a keyed item into item_rows */
    sqlite3_stmt *put_block; /* a block of generation ?2 into item_blocks */
    sqlite3_stmt *take_gen;  /* a new generation */
    sqlite3_stmt *live_gen;  /* the live generation of one pk */
    sqlite3_stmt *set_live;  /* the live generation of one pk set */
    sqlite3_stmt *del_older; /* the blocks of one pk older than a generation */
    sqlite3_stmt *del_gen;   /* the blocks of one pk of one generation */
    sqlite3_stmt *del_rows;  /* the keyless items of one pk in item_rows (older csvpipe) */
    cp_buf head;             /* {"_dataset":...,"_source":..., of the open file */
    cp_buf item;
    cp_buf sk_last;
    items_block blocks[CP_ITEM_SHARDS]; /* keyless: block i holds ordinals = i mod SHARDS */
    int64_t gen;                        /* keyless: the open file's generation, else 0 */
    size_t commit_bytes;                /* a transaction of the stream ends past this */
    size_t uncommitted;                 /* bytes of blocks put in the open transaction */
    int sync_full, sync_part, sync_now; /* PRAGMA synchronous: as opened, for invisible parts */
    bool committed;                     /* some of the generation's blocks committed */
    bool switching;                     /* in the last transaction: no commit in between */
} sqlite_items;

/* Deletes the blocks of the open file's generation (committed ones included), best effort. */
static void drop_generation(sqlite_items *s);

static void end_file(sqlite_items *s)
{
    if (s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (s->committed)
        drop_generation(s);
    s->gen = 0;
    s->uncommitted = 0;
    s->committed = s->switching = false;
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
 * In the open transaction: brings the schema up to this version's. A store of the oldest
 * layout (a table items of one item a row) has it renamed item_rows; one of the previous
 * layout (item_blocks without gen) has its blocks copied into the new item_blocks as
 * generation 0, which the view shows for a pk without a row in item_live.
 */
static cp_status migrate(sqlite3 *db, cp_error *err)
{
    bool has = false;
    CP_RETURN_IF_ERROR(schema_has(db, "table", "item_live", &has, err));
    if (has)
        return CP_OK; /* another process did it */
    CP_RETURN_IF_ERROR(schema_has(db, "table", "items", &has, err));
    if (has)
        CP_RETURN_IF_ERROR(
            cp_sqlite_exec(db, "ALTER TABLE items RENAME TO item_rows",
                           "renaming the items table of an older item store item_rows", err));
    CP_RETURN_IF_ERROR(
        cp_sqlite_exec(db, "DROP VIEW IF EXISTS items", "dropping the older items view", err));
    bool blocks = false;
    CP_RETURN_IF_ERROR(schema_has(db, "table", "item_blocks", &blocks, err));
    if (blocks)
        CP_RETURN_IF_ERROR(cp_sqlite_exec(db, "ALTER TABLE item_blocks RENAME TO item_blocks_old",
                                          "setting the older item blocks aside", err));
    CP_RETURN_IF_ERROR(cp_sqlite_exec(db, ITEMS_SCHEMA, "creating the item store's tables", err));
    if (blocks)
        CP_RETURN_IF_ERROR(cp_sqlite_exec(
            db,
            "INSERT INTO item_blocks (pk, gen, sk_first, sk_last, head, items) SELECT pk, 0, "
            "sk_first, sk_last, head, items FROM item_blocks_old ORDER BY rowid;"
            "DROP TABLE item_blocks_old;",
            "copying the older item blocks as generation 0", err));
    return CP_OK;
}

/*
 * Creates the tables and the view when missing, migrating an older store (migrate), in
 * one transaction. Without a write lock when there is nothing to do, so opening a store
 * does not wait for another process's load.
 */
static cp_status prepare_schema(sqlite3 *db, cp_error *err)
{
    bool current = false;
    CP_RETURN_IF_ERROR(schema_has(db, "table", "item_live", &current, err));
    if (current)
        return CP_OK;
    CP_RETURN_IF_ERROR(
        cp_sqlite_exec(db, "BEGIN IMMEDIATE", "starting the item store's schema", err));
    cp_status st = migrate(db, err);
    if (st == CP_OK)
        st = cp_sqlite_exec(db, "COMMIT", "committing the item store's schema", err);
    if (st != CP_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static const struct {
    size_t offset; /* of the statement in sqlite_items */
    const char *sql;
} STATEMENTS[] = {
    {offsetof(sqlite_items, put),
     "INSERT OR REPLACE INTO item_rows (pk, sk, item) VALUES (?1, ?2, ?3)"},
    {offsetof(sqlite_items, put_block), "INSERT INTO item_blocks (pk, gen, sk_first, sk_last, "
                                        "head, items) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
    {offsetof(sqlite_items, take_gen), "UPDATE item_gen SET last = last + 1 RETURNING last"},
    {offsetof(sqlite_items, live_gen), "SELECT gen FROM item_live WHERE pk = ?1"},
    {offsetof(sqlite_items, set_live),
     "INSERT OR REPLACE INTO item_live (pk, gen) VALUES (?1, ?2)"},
    {offsetof(sqlite_items, del_older), "DELETE FROM item_blocks WHERE pk = ?1 AND gen < ?2"},
    {offsetof(sqlite_items, del_gen), "DELETE FROM item_blocks WHERE pk = ?1 AND gen = ?2"},
    {offsetof(sqlite_items, del_rows), "DELETE FROM item_rows WHERE pk = ?1 AND sk <> ?2"},
};
#define NSTATEMENTS (sizeof STATEMENTS / sizeof STATEMENTS[0])

static sqlite3_stmt **statement(sqlite_items *s, size_t i)
{
    return (sqlite3_stmt **)((char *)s + STATEMENTS[i].offset);
}

static void *checkpointer_main(void *arg)
{
    checkpointer *c = arg;
    sigset_t all; /* signals are for the threads that act on them */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_setname_np(pthread_self(), "csvpipe-ckpt");
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->want && !c->stop)
            pthread_cond_wait(&c->wake, &c->mu);
        if (c->stop)
            break; /* what is left is checkpointed when the last connection closes */
        c->want = false;
        c->busy = true;
        pthread_mutex_unlock(&c->mu);
        /* a failure (another checkpoint running, I/O) leaves the pages in the WAL, where
           the next checkpoint, or the close of the last connection, copies them */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->busy = false;
        pthread_cond_broadcast(&c->idle);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Wakes the checkpointer to copy what is committed or, stop, to end; after a commit,
   every `every` commits, waits until it has copied everything. */
static void checkpointer_wake(checkpointer *c, bool stop)
{
    pthread_mutex_lock(&c->mu);
    *(stop ? &c->stop : &c->want) = true;
    pthread_cond_signal(&c->wake);
    if (!stop && c->every && ++c->commits % c->every == 0)
        while (c->want || c->busy)
            pthread_cond_wait(&c->idle, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

/* After a commit: wakes the checkpointer, if there is one. */
static void checkpoint_soon(sqlite_items *s)
{
    if (s->ckpt.running)
        checkpointer_wake(&s->ckpt, false);
}

/* Starts the checkpointer and leaves the writer's connection without its automatic
   checkpoints; without one (it could not start, or CSVPIPE_ITEMS_CHECKPOINTER=0 for a
   measurement), the writer checkpoints after its commits (SQLite's wal_autocheckpoint). */
static void checkpointer_start(sqlite_items *s, const char *path)
{
    checkpointer *c = &s->ckpt;
    const char *env = getenv("CSVPIPE_ITEMS_CHECKPOINTER");
    if (env && strcmp(env, "0") == 0)
        return;
    c->every = CHECKPOINT_EVERY;
    cp_error ignored;
    if (cp_sqlite_open(path, "item store", 0, &c->db, &ignored) != CP_OK)
        return;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        sqlite3_close_v2(c->db);
        c->db = NULL;
        return;
    }
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->idle, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_cond_destroy(&c->idle);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close_v2(c->db);
        c->db = NULL;
        return;
    }
    c->running = true;
    sqlite3_wal_autocheckpoint(s->db, 0);
}

static void checkpointer_stop(sqlite_items *s)
{
    checkpointer *c = &s->ckpt;
    if (!c->running)
        return;
    checkpointer_wake(c, true);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->idle);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close_v2(c->db);
    c->db = NULL;
    c->running = false;
}

/* The connection's PRAGMA synchronous as opened (FULL), and NORMAL or lower for the parts. */
static cp_status read_sync(sqlite_items *s, cp_error *err)
{
    sqlite3_stmt *st;
    CP_RETURN_IF_ERROR(cp_sqlite_prepare(s->db, "PRAGMA synchronous", -1, &st,
                                         "reading the item store's sync level", err));
    int rc = sqlite3_step(st);
    s->sync_full = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 2;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return cp_sqlite_fail(s->db, err, "reading the item store's sync level");
    s->sync_now = s->sync_full;
    s->sync_part = s->sync_full < 1 ? s->sync_full : 1;
    return CP_OK;
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
    s->commit_bytes =
        cp_env_count("CSVPIPE_ITEMS_COMMIT_BYTES", COMMIT_BYTES, COMMIT_BYTES_MIN, SIZE_MAX / 2);
    cp_status st = cp_sqlite_open(path, "item store", ITEMS_PAGE_SIZE, &s->db, err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, ITEMS_CACHE_PRAGMA, "setting the page cache size", err);
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, ITEMS_SECURE_DELETE_PRAGMA, "setting secure_delete", err);
    if (st == CP_OK)
        st = prepare_schema(s->db, err);
    if (st == CP_OK)
        st = read_sync(s, err);
    for (size_t i = 0; st == CP_OK && i < NSTATEMENTS; i++)
        st = cp_sqlite_prepare(s->db, STATEMENTS[i].sql, -1, statement(s, i),
                               "preparing the item store's statements", err);
    if (st == CP_OK && strcmp(path, ":memory:") != 0)
        checkpointer_start(s, path);
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
    checkpointer_stop(s);
    for (size_t i = 0; i < NSTATEMENTS; i++)
        sqlite3_finalize(*statement(s, i));
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

/* The pk of partition key `shard` of the open keyless file into s->base.file.pk. */
static cp_status shard_pk(sqlite_items *s, uint64_t shard, cp_error *err)
{
    cp_items_file *f = &s->base.file;
    cp_status st = cp_item_keyless_key(f->dataset, f->source, shard, &f->pk, &f->sk);
    if (st != CP_OK)
        return cp_error_set(err, st, "building the keys of %s", f->source);
    return CP_OK;
}

/* Runs st to its end, ?1 bound to the pk in s->base.file.pk and ?2 to gen unless 0. */
static int step_pk(sqlite_items *s, sqlite3_stmt *st, int64_t gen)
{
    cp_items_file *f = &s->base.file;
    sqlite3_bind_text64(st, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
    if (gen)
        sqlite3_bind_int64(st, 2, gen);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc;
}

/*
 * BEGIN IMMEDIATE at synchronous level `level`. The transactions of a generation before the
 * switch run at sync_part (NORMAL: the commit does not wait for the disk): a power cut may
 * lose them, but they are invisible, and the switch's commit at sync_full (as opened: FULL)
 * syncs the WAL with every frame before its own. SQLite refuses the change inside a
 * transaction, hence here.
 */
static cp_status begin_at(sqlite_items *s, int level, const char *doing, cp_error *err)
{
    if (level != s->sync_now) {
        char sql[40];
        snprintf(sql, sizeof sql, "PRAGMA synchronous = %d", level);
        CP_RETURN_IF_ERROR(cp_sqlite_exec(s->db, sql, "setting the items' sync level", err));
        s->sync_now = level;
    }
    return cp_sqlite_exec(s->db, "BEGIN IMMEDIATE", doing, err);
}

static void drop_generation(sqlite_items *s)
{
    cp_error ignored;
    if (!s->db || !s->gen || begin_at(s, s->sync_part, "", &ignored) != CP_OK)
        return;
    bool ok = true;
    for (uint64_t shard = 0; ok && shard < CP_ITEM_SHARDS; shard++)
        ok = shard_pk(s, shard, &ignored) == CP_OK && step_pk(s, s->del_gen, s->gen) == SQLITE_DONE;
    sqlite3_exec(s->db, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A new generation for the open keyless file, in a transaction of its own. */
static cp_status take_generation(sqlite_items *s, cp_error *err)
{
    CP_RETURN_IF_ERROR(begin_at(s, s->sync_part, "starting the items of a file", err));
    int rc = sqlite3_step(s->take_gen);
    if (rc == SQLITE_ROW)
        s->gen = sqlite3_column_int64(s->take_gen, 0);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(s->take_gen);
    sqlite3_reset(s->take_gen);
    if (rc != SQLITE_DONE || s->gen <= 0) {
        s->gen = 0;
        return cp_sqlite_fail(s->db, err, "taking a generation for the items of %s",
                              s->base.file.source);
    }
    return cp_sqlite_exec(s->db, "COMMIT", "taking a generation for the items of a file", err);
}

/*
 * In the last transaction of the open keyless file: switches its source to the file's
 * generation, unless a later-started load of the same source switched it first (its
 * generation is live and greater), in which case the file's blocks are deleted and its
 * items never show. The older generations' blocks go (the live one, and those a crashed
 * load left), never a later one's (a later load may be writing it), and so do the
 * source's keyless items an older csvpipe put in item_rows.
 */
static cp_status switch_generation(sqlite_items *s, cp_error *err)
{
    cp_items_file *f = &s->base.file;
    bool lost = false;
    for (uint64_t shard = 0; !lost && shard < CP_ITEM_SHARDS; shard++) {
        CP_RETURN_IF_ERROR(shard_pk(s, shard, err));
        sqlite3_bind_text64(s->live_gen, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
        int rc = sqlite3_step(s->live_gen);
        lost = rc == SQLITE_ROW && sqlite3_column_int64(s->live_gen, 0) > s->gen;
        sqlite3_reset(s->live_gen);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return cp_sqlite_fail(s->db, err, "reading the live items of %s", f->source);
    }
    for (uint64_t shard = 0; shard < CP_ITEM_SHARDS; shard++) {
        CP_RETURN_IF_ERROR(shard_pk(s, shard, err));
        int rc = step_pk(s, lost ? s->del_gen : s->set_live, s->gen);
        if (rc == SQLITE_DONE && !lost)
            rc = step_pk(s, s->del_older, s->gen);
        if (rc == SQLITE_DONE && !lost) {
            sqlite3_bind_text(s->del_rows, 2, f->dataset, -1, SQLITE_STATIC);
            rc = step_pk(s, s->del_rows, 0);
        }
        if (rc != SQLITE_DONE)
            return cp_sqlite_fail(s->db, err, "replacing the previous items of %s", f->source);
    }
    if (lost)
        cp_log_info("item store: a load of %s that started later replaced its items first; "
                    "this load's items were dropped",
                    f->source);
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
    if (base->file.keys.ncolumns == 0)
        st = take_generation(s, err); /* the blocks' transactions begin with the first */
    else
        st = begin_at(s, s->sync_full, "starting the items of a file", err);
    if (st != CP_OK)
        end_file(s);
    return st;
}

/* v in decimal, at least `digits` digits (zero-padded), without printf's cost on every item. */
static cp_status append_digits(cp_buf *o, uint64_t v, size_t digits)
{
    char tmp[20];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n > 0 && sizeof tmp - n < digits)
        tmp[--n] = '0';
    return cp_buf_append(o, tmp + n, sizeof tmp - n);
}

/* v as "%" PRIu64 writes it. */
static cp_status append_u64(cp_buf *o, uint64_t v)
{
    return append_digits(o, v, 1);
}

/* The sk of the keyless item of ordinal v (cp_item_keyless_key's): 12 digits at least. */
static cp_status append_sk(cp_buf *o, uint64_t v)
{
    return append_digits(o, v, 12);
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

/*
 * Ends the open transaction of the stream once it holds commit_bytes of blocks, so that
 * the WAL stays small and is checkpointed while the stream goes on. The blocks of the
 * file's generation stay invisible until the last transaction (switch_generation).
 */
static cp_status commit_part(sqlite_items *s, cp_error *err)
{
    if (s->switching || s->uncommitted < s->commit_bytes)
        return CP_OK;
    CP_RETURN_IF_ERROR(
        cp_sqlite_exec(s->db, "COMMIT", "committing part of the items of a file", err));
    s->uncommitted = 0;
    s->committed = true;
    checkpoint_soon(s);
    cp_fault_point("items-part-committed");
    return CP_OK;
}

/* Writes block i into item_blocks (in a transaction begun if none is) and empties it; a
   no-op when it is empty. */
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
    if (sqlite3_get_autocommit(s->db))
        CP_RETURN_IF_ERROR(begin_at(s, s->switching ? s->sync_full : s->sync_part,
                                    "starting the items of a file", err));
    sqlite3_stmt *put = s->put_block;
    sqlite3_bind_text64(put, 1, f->pk.data, f->pk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_int64(put, 2, s->gen);
    sqlite3_bind_text64(put, 3, f->sk.data, f->sk.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 4, s->sk_last.data, s->sk_last.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 5, s->head.data, s->head.len, SQLITE_STATIC, SQLITE_UTF8);
    sqlite3_bind_text64(put, 6, k->items.data, k->items.len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = sqlite3_step(put);
    sqlite3_reset(put);
    s->uncommitted += k->items.len;
    cp_buf_reset(&k->items);
    k->n = 0;
    if (rc != SQLITE_DONE)
        return cp_sqlite_fail(s->db, err,
                              "putting the items of rows %" PRIu64 "..%" PRIu64 " of %s", k->first,
                              k->last, f->source);
    return commit_part(s, err);
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

/* Keyless: the last transaction flushes the open blocks and switches the source to the
   file's generation (switch_generation). rows_now and rows_before are not needed. */
static cp_status sqlite_finish(cp_items *base, uint64_t rows_now, uint64_t rows_before,
                               cp_error *err)
{
    sqlite_items *s = (sqlite_items *)base;
    (void)rows_now;
    (void)rows_before;
    cp_status st = CP_OK;
    if (s->gen) {
        if (!sqlite3_get_autocommit(s->db)) { /* the stream's, at sync_part */
            st = cp_sqlite_exec(s->db, "COMMIT", "committing part of the items of a file", err);
            s->committed = s->committed || st == CP_OK;
        }
        s->switching = true;
        if (st == CP_OK)
            st = begin_at(s, s->sync_full, "starting the items' last transaction", err);
        for (size_t i = 0; st == CP_OK && i < CP_ITEM_SHARDS; i++)
            st = flush_block(s, i, err);
        if (st == CP_OK)
            st = switch_generation(s, err);
    }
    if (st == CP_OK)
        st = cp_sqlite_exec(s->db, "COMMIT", "committing the items of a file", err);
    if (st == CP_OK) {
        s->committed = false; /* the generation is live, or gone */
        checkpoint_soon(s);
    }
    end_file(s); /* rolls back what failed, and deletes the generation's committed blocks */
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
