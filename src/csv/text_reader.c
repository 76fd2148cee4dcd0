#include "csv/text_reader.h"

#include <stdlib.h>
#include <string.h>

cp_status cp_text_reader_init(cp_text_reader *r, cp_source *src, cp_encoding enc, bool detected,
                              size_t raw_chunk)
{
    memset(r, 0, sizeof *r);
    r->src = src;
    cp_decoder_init(&r->dec, enc, detected);
    r->raw_cap = raw_chunk ? raw_chunk : (size_t)1 << 20;
    if (r->raw_cap < 4)
        r->raw_cap = 4; /* room for one whole UTF-8 sequence or UTF-16 surrogate pair */
    r->raw = malloc(r->raw_cap);
    return r->raw ? CP_OK : CP_NOMEM;
}

void cp_text_reader_release(cp_text_reader *r)
{
    free(r->raw);
    r->raw = NULL;
}

/*
 * UTF-8 past its start, nothing kept from before: the source is read straight into dst and
 * its valid prefix is the text, without the copy through raw. What is not taken (a
 * sequence cut by the read, a bad byte) is kept in raw for cp_decoder_decode. *n = 0 when
 * nothing was taken.
 */
static cp_status fill_in_place(cp_text_reader *r, char *dst, size_t cap, size_t *n, cp_error *err)
{
    size_t want = cap - 16 < r->raw_cap ? cap - 16 : r->raw_cap, got;
    CP_RETURN_IF_ERROR(cp_source_read(r->src, dst, want, &got, err));
    if (got == 0) {
        r->src_eof = true;
        return CP_OK;
    }
    *n = cp_decoder_take_utf8(&r->dec, (const uint8_t *)dst, got);
    memcpy(r->raw, dst + *n, got - *n);
    r->raw_len = got - *n;
    return CP_OK;
}

cp_status cp_text_reader_fill(void *reader, char *dst, size_t cap, size_t *n, cp_error *err)
{
    cp_text_reader *r = reader;
    *n = 0;
    if (r->failed) {
        if (err)
            *err = r->pending;
        return r->pending.code;
    }
    if (r->raw_len == 0 && !r->src_eof && cap > 16 + 4 && cp_decoder_utf8_settled(&r->dec)) {
        CP_RETURN_IF_ERROR(fill_in_place(r, dst, cap, n, err));
        if (*n > 0)
            return CP_OK;
    }
    for (;;) {
        /* how many raw bytes fit once decoded */
        size_t want = cap > 16 ? (cap - 16) / 3 : 0;
        if (want > r->raw_cap)
            want = r->raw_cap;
        if (want < 4)
            return cp_error_set(err, CP_INTERNAL, "text buffer too small");
        if (!r->src_eof && r->raw_len < want) {
            size_t got;
            CP_RETURN_IF_ERROR(
                cp_source_read(r->src, r->raw + r->raw_len, want - r->raw_len, &got, err));
            if (got == 0)
                r->src_eof = true;
            r->raw_len += got;
        }
        size_t take = r->raw_len < want ? r->raw_len : want;
        if (take == 0 && r->src_eof)
            return CP_OK;
        size_t consumed, produced;
        cp_status st = cp_decoder_decode(&r->dec, r->raw, take, r->src_eof && take == r->raw_len,
                                         dst, &consumed, &produced, &r->pending);
        memmove(r->raw, r->raw + consumed, r->raw_len - consumed);
        r->raw_len -= consumed;
        if (st != CP_OK) {
            r->failed = true;
            if (produced > 0) {
                *n = produced;
                return CP_OK;
            }
            if (err)
                *err = r->pending;
            return st;
        }
        if (produced > 0) {
            *n = produced;
            return CP_OK;
        }
        if (r->src_eof && r->raw_len == 0)
            return CP_OK;
        /* only an incomplete sequence or BOM prefix so far: read more */
    }
}
