/*
 * items.h - the item loader: one JSON item per row in a key-value store
 * (DESIGN.md, "Item keys"). Backends: sqlite:PATH here (an embedded item store); DynamoDB
 * by its own issue.
 *
 * Keys (computed by table/item_key.h, shared with the DynamoDB JSON writer): with key columns, pk =
 * "<dataset>#<key values joined by '#'>" and sk = "<dataset>", so a later file with the same
 * business key replaces the item. Without, the item of row r (1-based ordinal among the file's
 * loaded rows) has pk = "<dataset>#<source>#<r % 128>" and sk = r as 12 zero-padded digits: a file
 * spreads over up to 128 partition keys and is listed by querying its 128 pks. Every item carries
 * `_dataset`, `_source` and `_row` besides its columns; nulls are absent attributes.
 *
 * Puts are idempotent, so a retried load converges; the SQLite store also holds a file's
 * puts in one transaction, so a rejected file leaves no item. cp_items_finish deletes the stale
 * items of a source that now has fewer rows than before (keyless mode only).
 *
 * SQLite store: table items(pk TEXT, sk TEXT, item TEXT (JSON object), PRIMARY KEY(pk, sk)).
 */
#ifndef CP_ITEMS_H
#define CP_ITEMS_H

#include "table/item_key.h"

typedef struct cp_items cp_items;

/* Opens "sqlite:PATH" (created when missing). */
cp_items *cp_items_open(const char *url, cp_error *err);
void cp_items_close(cp_items *s);

/*
 * Starts writing the items of one file. key_columns: indexes into schema of the business
 * key (nkeys 0 = keyless). Every string is copied.
 */
cp_status cp_items_begin(cp_items *s, const char *dataset, const cp_schema *schema,
                         const char *source_uri, const size_t *key_columns, size_t nkeys,
                         cp_error *err);
/* Puts one item per row; row i of the batch has ordinal b->first_row + i. */
cp_status cp_items_write(cp_items *s, const cp_batch *b, cp_error *err);
/*
 * Makes the puts durable and, keyless, deletes the items of rows rows_now+1..rows_before
 * of this source.
 */
cp_status cp_items_finish(cp_items *s, uint64_t rows_now, uint64_t rows_before, cp_error *err);
/*
 * Gives up the current file. The SQLite store rolls its puts back (one transaction per
 * file); a store without transactions (DynamoDB) keeps them, which is harmless because
 * puts are idempotent and the retry of the file rewrites them.
 */
void cp_items_abort(cp_items *s);

/* The pk and sk of a keyless item (for tests and tools): cp_item_keyless_key. */
void cp_items_keyless_key(const char *dataset, const char *source_uri, uint64_t row, cp_buf *pk,
                          cp_buf *sk);

#endif
