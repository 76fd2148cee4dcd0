/*
 * items.h - the item loader: one JSON item per row in a key-value store
 * (docs/design.md, "Item keys"). Backends: sqlite:PATH here (an embedded item store); DynamoDB
 * by its own issue.
 *
 * Keys (computed by table/item_key.h, shared with the DynamoDB JSON writer): with key columns, pk =
 * "<dataset>#<key values joined by '#'>" and sk = "<dataset>", so a later file with the same
 * business key replaces the item. Without, the item of row r (1-based ordinal among the file's
 * loaded rows) has pk = "<dataset>#<source>#<r % 128>" and sk = r as 12 zero-padded digits: a file
 * spreads over up to 128 partition keys and is listed by querying its 128 pks. Every item carries
 * `_dataset`, `_source` and `_row` besides its columns; nulls are absent attributes.
 *
 * Puts are idempotent, so a retried load converges; the SQLite store also shows none of a
 * file's items before cp_items_finish, so a rejected file leaves no item. Keyless, a file's
 * items replace those of its source's previous version: the SQLite store writes them as a new
 * generation, invisible until cp_items_finish switches the source to it at once, DynamoDB
 * deletes at cp_items_finish the items of rows past the new row count.
 *
 * Backends (items.c dispatches on the URL scheme; items_backend.h is their interface):
 * - sqlite:PATH - read through the view items(pk TEXT, sk TEXT, item TEXT (JSON object)), one
 *   row per item: keyed items one row each in item_rows, keyless items in blocks of one
 *   partition key's consecutive items in item_blocks (items_sqlite.c; docs/design.md);
 * - dynamodb:TABLE - items_dynamodb.c: an existing table with the key schema pk (S, HASH) and
 *   sk (S, RANGE) (cp_items_create_table makes one), reached with the AWS configuration of
 *   aws/aws.h. Items are DynamoDB JSON: numbers as exact strings ({"N":"19.90"}), nulls absent.
 *   Puts go out 25 to a BatchWriteItem with an adaptive number in flight (aws/dynamodb.h);
 *   cp_items_finish waits for all of them. An item over DynamoDB's 400 KB limit is a bad row
 *   (see cp_items_check_row). DynamoDB has no transaction spanning a file: see cp_items_abort.
 */
#ifndef CP_ITEMS_H
#define CP_ITEMS_H

#include "table/item_key.h"

typedef struct cp_items cp_items;

/*
 * Opens "sqlite:PATH" (created when missing) or "dynamodb:TABLE" (the table must exist;
 * nothing is sent before the first file). CP_USAGE for another scheme.
 */
cp_items *cp_items_open(const char *url, cp_error *err);
/* Closes; for DynamoDB, writes still outstanding are abandoned (as cp_items_abort). NULL ok. */
void cp_items_close(cp_items *s);

/*
 * Creates what the store needs if it is missing, for local use (--create-table): for
 * DynamoDB an on-demand table with pk/sk (HASH/RANGE), waiting (at most 60 s) until it is
 * ACTIVE; an existing table with that key schema is fine. SQLite needs nothing (open
 * creates the file and table).
 */
cp_status cp_items_create_table(const char *url, cp_error *err);

/*
 * True when cp_items_abort rolls back the puts of the file (SQLite). DynamoDB has no such
 * transaction: the pipeline writes its items only once the file is known to load (a
 * second pass over the source after the outputs are published).
 */
bool cp_items_transactional(const cp_items *s);

/* True when cp_items_check_row can refuse a row (DynamoDB); false when every row fits. */
bool cp_items_checks_rows(const cp_items *s);

/*
 * Whether row `row` of b can be stored as an item (between cp_items_begin and finish):
 * CP_TOO_LARGE, with why naming the size and the limit, for a DynamoDB item over 400 KB.
 * The pipeline turns such a row into a rejected row before any sink sees it.
 */
cp_status cp_items_check_row(cp_items *s, const cp_batch *b, size_t row, cp_error *why);

/*
 * Starts writing the items of one file. key_columns: indexes into schema of the business
 * key (nkeys 0 = keyless). Every string is copied.
 */
cp_status cp_items_begin(cp_items *s, const char *dataset, const cp_schema *schema,
                         const char *source_uri, const size_t *key_columns, size_t nkeys,
                         cp_error *err);
/*
 * Puts one item per row; row i of the batch has ordinal cp_batch_row_number(b, i). A row the store
 * cannot hold (cp_items_check_row) fails the write with CP_TOO_LARGE, err->line set to its
 * ordinal; the rows before it were written.
 */
cp_status cp_items_write(cp_items *s, const cp_batch *b, cp_error *err);
/*
 * Makes the puts durable and, keyless, the source's previous items gone: DynamoDB deletes
 * the items of rows rows_now+1..rows_before; the SQLite store switches the source to the
 * file's generation and deletes the older ones in one transaction, and ignores both counts
 * (if a load of the same source begun later has already switched it, the file's items are
 * deleted instead and the later version stays: CP_OK all the same).
 */
cp_status cp_items_finish(cp_items *s, uint64_t rows_now, uint64_t rows_before, cp_error *err);
/*
 * Gives up the current file. The SQLite store rolls back its open transaction and deletes
 * the file's blocks already committed (invisible; a process killed instead leaves them, and
 * the next load of the source deletes them). DynamoDB cannot roll back: the requests not yet sent
 * are dropped and those in flight abandoned, but the puts DynamoDB already acknowledged stay. That
 * is harmless for a retry, which rewrites the same keys (puts are idempotent), but an abandoned
 * file that is never retried leaves those items behind (keyless: under its own source's keys;
 * keyed: with the new values of the rows written so far).
 */
void cp_items_abort(cp_items *s);

/* The pk and sk of a keyless item (for tests and tools): cp_item_keyless_key. */
void cp_items_keyless_key(const char *dataset, const char *source_uri, uint64_t row, cp_buf *pk,
                          cp_buf *sk);

#endif
