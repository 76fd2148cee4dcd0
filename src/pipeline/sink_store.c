/*
 * sink_store.c - the item store (load/items.h) and the relational database (load/sql.h)
 * as sinks. Both take the rows into a store that outlives the load: the item store's puts
 * commit at CP_COMMIT_ITEMS with the stale items of a shorter re-upload deleted; the rows
 * go into the database's open transaction, all of them by CP_COMMIT_FINISH
 * (cp_sql_finish), which commits last (CP_COMMIT_LEDGER) with the ledger row.
 *
 * An item store without transactions (DynamoDB) is deferred: it is begun with the other
 * sinks, so that cp_items_check_row turns a row it cannot hold into a rejected row before
 * any sink sees it, but written only in the second pass, once the outputs are published
 * and the file is known to load: such a store must never hold items of a rejected file.
 * A transactional one (SQLite) is threaded (sink_workers.h): a worker builds the items and
 * puts them while the pipeline's thread reads and types the next batches.
 */
#include "pipeline/sink.h"
#include "util/fault.h"

#include <stdlib.h>

typedef struct store_sink {
    cp_sink base;
    cp_items *items; /* one of the two */
    cp_sql *sql;
    const cp_sink_load *l;
} store_sink;

static cp_status store_open(cp_sink *k, const cp_schema *schema, const cp_item_keys *keys,
                            cp_error *err)
{
    store_sink *s = (store_sink *)k;
    if (s->sql)
        return cp_sql_begin(s->sql, s->l->dataset, schema, s->l->source_uri, err);
    k->deferred = !cp_items_transactional(s->items);
    /* the store's connection is the sink's alone: a worker may build and put the items,
       unless the pipeline's thread checks rows with the store meanwhile */
    k->threaded = !k->deferred && !k->check_row;
    return cp_items_begin(s->items, s->l->dataset, schema, s->l->source_uri, keys->columns,
                          keys->ncolumns, err);
}

static cp_status store_write(cp_sink *k, const cp_batch *b, cp_error *err)
{
    store_sink *s = (store_sink *)k;
    return s->sql ? cp_sql_write(s->sql, b, err) : cp_items_write(s->items, b, err);
}

static cp_status items_check_row(cp_sink *k, const cp_batch *b, size_t row, cp_error *why)
{
    return cp_items_check_row(((store_sink *)k)->items, b, row, why);
}

/* Every row in the database's transaction (PostgreSQL ends its COPY): refused rows fail here. */
static cp_status store_finish(cp_sink *k, cp_error *err)
{
    store_sink *s = (store_sink *)k;
    return s->sql ? cp_sql_finish(s->sql, err) : CP_OK;
}

static cp_status store_publish(cp_sink *k, const cp_sink_commit *c, cp_error *err)
{
    store_sink *s = (store_sink *)k;
    if (s->sql)
        return cp_sql_commit(s->sql, c->ledger, err);
    CP_RETURN_IF_ERROR(cp_items_finish(s->items, c->rows, c->rows_before, err));
    cp_fault_point("items-committed");
    return CP_OK;
}

static void store_abort(cp_sink *k)
{
    store_sink *s = (store_sink *)k;
    if (s->sql)
        cp_sql_rollback(s->sql);
    else
        cp_items_abort(s->items);
}

static const cp_sink_ops store_ops = {
    .open = store_open,
    .write = store_write,
    .finish = store_finish,
    .publish = store_publish,
    .abort = store_abort,
};

static cp_status store_new(cp_items *items, cp_sql *sql, const cp_sink_load *l, cp_sink **out,
                           cp_error *err)
{
    store_sink *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    s->base.ops = &store_ops;
    s->base.step = sql ? CP_COMMIT_LEDGER : CP_COMMIT_ITEMS;
    /* a store that takes any row costs no call per row */
    s->base.check_row = items && cp_items_checks_rows(items) ? items_check_row : NULL;
    s->items = items;
    s->sql = sql;
    s->l = l;
    *out = &s->base;
    return CP_OK;
}

cp_status cp_sink_items_new(cp_items *items, const cp_sink_load *l, cp_sink **out, cp_error *err)
{
    return store_new(items, NULL, l, out, err);
}

cp_status cp_sink_sql_new(cp_sql *sql, const cp_sink_load *l, cp_sink **out, cp_error *err)
{
    return store_new(NULL, sql, l, out, err);
}
