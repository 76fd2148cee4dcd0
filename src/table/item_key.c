#include "table/item_key.h"
#include "table/cell.h"

#include <inttypes.h>

cp_status cp_item_keyless_key(const char *dataset, const char *source_uri, uint64_t ordinal,
                              cp_buf *pk, cp_buf *sk)
{
    cp_buf_reset(pk);
    cp_buf_reset(sk);
    CP_RETURN_IF_ERROR(
        cp_buf_printf(pk, "%s#%s#%" PRIu64, dataset, source_uri, ordinal % CP_ITEM_SHARDS));
    return cp_buf_printf(sk, "%012" PRIu64, ordinal);
}

cp_status cp_item_key(const cp_item_keys *k, const cp_batch *b, size_t row, cp_buf *pk, cp_buf *sk)
{
    if (k->ncolumns == 0)
        return cp_item_keyless_key(k->dataset, k->source_uri, b->first_row + row, pk, sk);
    cp_buf_reset(pk);
    cp_buf_reset(sk);
    CP_RETURN_IF_ERROR(cp_buf_append_str(pk, k->dataset));
    for (size_t i = 0; i < k->ncolumns; i++) {
        CP_RETURN_IF_ERROR(cp_buf_append_char(pk, '#'));
        CP_RETURN_IF_ERROR(cp_cell_append_text(pk, b, k->columns[i], row));
    }
    return cp_buf_append_str(sk, k->dataset);
}
