#include "table/item_key.h"
#include "table/cell.h"

#include <inttypes.h>

/* v in decimal, at least `width` digits (zero-padded); returns the length. out needs 21. */
static size_t put_u64(uint64_t v, size_t width, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width && n < sizeof tmp)
        tmp[n++] = '0';
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

cp_status cp_item_keyless_key(const char *dataset, const char *source_uri, uint64_t ordinal,
                              cp_buf *pk, cp_buf *sk)
{
    char num[24];
    cp_buf_reset(pk);
    cp_buf_reset(sk);
    CP_RETURN_IF_ERROR(cp_buf_append_str(pk, dataset));
    CP_RETURN_IF_ERROR(cp_buf_append_char(pk, '#'));
    CP_RETURN_IF_ERROR(cp_buf_append_str(pk, source_uri));
    CP_RETURN_IF_ERROR(cp_buf_append_char(pk, '#'));
    CP_RETURN_IF_ERROR(cp_buf_append(pk, num, put_u64(ordinal % CP_ITEM_SHARDS, 1, num)));
    return cp_buf_append(sk, num, put_u64(ordinal, 12, num));
}

cp_status cp_item_key(const cp_item_keys *k, const cp_batch *b, size_t row, cp_buf *pk, cp_buf *sk)
{
    if (k->ncolumns == 0)
        return cp_item_keyless_key(k->dataset, k->source_uri, cp_batch_row_number(b, row), pk, sk);
    cp_buf_reset(pk);
    cp_buf_reset(sk);
    CP_RETURN_IF_ERROR(cp_buf_append_str(pk, k->dataset));
    for (size_t i = 0; i < k->ncolumns; i++) {
        CP_RETURN_IF_ERROR(cp_buf_append_char(pk, '#'));
        CP_RETURN_IF_ERROR(cp_cell_append_text(pk, b, k->columns[i], row));
    }
    return cp_buf_append_str(sk, k->dataset);
}
