/*
 * item_key.h - the partition and sort key of a row's item (docs/design.md, "Item keys").
 *
 * With key columns: pk = "<dataset>#<key values joined by '#'>", sk = "<dataset>", so a
 * later file with the same business key replaces the item (a null key value is the empty
 * text). Without: pk = "<dataset>#<source>#<ordinal % 128>", sk = the ordinal as 12
 * zero-padded digits, so one file spreads over up to 128 partition keys and is listed by
 * querying them. The ordinal is the row's 1-based number among the file's loaded rows.
 */
#ifndef CP_ITEM_KEY_H
#define CP_ITEM_KEY_H

#include "table/batch.h"

#define CP_ITEM_SHARDS 128

typedef struct cp_item_keys {
    const char *dataset;
    const char *source_uri;
    const size_t *columns; /* indexes of the business key columns */
    size_t ncolumns;       /* 0: keyless */
} cp_item_keys;

/* Sets pk and sk (both reset first) for row `row` of b. */
cp_status cp_item_key(const cp_item_keys *k, const cp_batch *b, size_t row, cp_buf *pk, cp_buf *sk);
/* The keys of a keyless item by ordinal (for deleting stale items). */
cp_status cp_item_keyless_key(const char *dataset, const char *source_uri, uint64_t ordinal,
                              cp_buf *pk, cp_buf *sk);

#endif
