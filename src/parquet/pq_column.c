/*
 * pq_column.c - column chunk writer: pages, dictionary, statistics (see pq_column.h).
 */
#include "parquet/pq_column.h"

#include "parquet/pq_encoding.h"

#include <stdlib.h>
#include <string.h>

cp_status cp_pq_column_init(cp_pq_column *c, cp_type type, size_t page_bytes,
                            size_t dictionary_limit, size_t buf_max, cp_pq_compressor *comp)
{
    memset(c, 0, sizeof *c);
    c->all_null = type.id == CP_TYPE_NULL;
    if (c->all_null)
        type = cp_type_of(CP_TYPE_STRING);
    c->type = type;
    c->physical = cp_pq_physical_type(type);
    c->decimal_len = type.id == CP_TYPE_DECIMAL ? cp_pq_decimal_length(type.precision) : 0;
    c->page_bytes = page_bytes;
    c->compressor = comp;
    c->dict_ok = dictionary_limit > 0 && type.id != CP_TYPE_BOOLEAN;
    c->use_dict = c->dict_ok;
    cp_pq_dict_init(&c->dict, c->physical == CP_PQ_T_BYTE_ARRAY, dictionary_limit);
    cp_buf_init(&c->values, buf_max);
    cp_buf_init(&c->chunk, buf_max);
    cp_buf_init(&c->dict_page, buf_max);
    cp_buf_init(&c->body, buf_max);
    cp_buf_init(&c->comp, buf_max);
    cp_buf_init(&c->hdr, 4096);
    cp_pq_stats_init(&c->stats, type);
    c->defs = malloc(CP_PQ_PAGE_MAX_VALUES);
    c->idx = malloc(CP_PQ_PAGE_MAX_VALUES * sizeof *c->idx);
    c->bools = malloc(CP_PQ_PAGE_MAX_VALUES);
    if (!c->defs || !c->idx || !c->bools) {
        cp_pq_column_release(c);
        return CP_NOMEM;
    }
    return CP_OK;
}

void cp_pq_column_release(cp_pq_column *c)
{
    free(c->defs);
    free(c->idx);
    free(c->bools);
    cp_pq_dict_release(&c->dict);
    cp_buf_release(&c->values);
    cp_buf_release(&c->chunk);
    cp_buf_release(&c->dict_page);
    cp_buf_release(&c->body);
    cp_buf_release(&c->comp);
    cp_buf_release(&c->hdr);
    cp_pq_stats_release(&c->stats);
    memset(c, 0, sizeof *c);
}

/* Compresses `body` and appends header + compressed body to dst. */
static cp_status emit_page(cp_pq_column *c, int type, int32_t num_values, int encoding, cp_buf *dst,
                           int64_t *uncompressed, int64_t *compressed, cp_error *err)
{
    if (c->body.len > INT32_MAX)
        return cp_error_set(err, CP_TOO_LARGE, "a Parquet page passed 2 GiB");
    cp_buf_reset(&c->comp);
    CP_RETURN_IF_ERROR(cp_pq_compress(c->compressor, c->body.data ? c->body.data : "", c->body.len,
                                      &c->comp, err));
    if (c->comp.len > INT32_MAX)
        return cp_error_set(err, CP_TOO_LARGE, "a compressed Parquet page passed 2 GiB");
    cp_pq_page_header h = {type, (int32_t)c->body.len, (int32_t)c->comp.len, num_values, encoding};
    cp_buf_reset(&c->hdr);
    cp_status st = cp_pq_encode_page_header(&c->hdr, &h);
    if (st == CP_OK)
        st = cp_buf_append(dst, c->hdr.data, c->hdr.len);
    if (st == CP_OK)
        st = cp_buf_append(dst, c->comp.data, c->comp.len);
    if (st != CP_OK)
        return cp_error_set(err, st, "Parquet column chunk buffer: %s", cp_status_message(st));
    *uncompressed += (int64_t)(c->hdr.len + c->body.len);
    *compressed += (int64_t)(c->hdr.len + c->comp.len);
    return CP_OK;
}

static cp_status flush_page(cp_pq_column *c, cp_error *err)
{
    if (c->ndefs == 0)
        return CP_OK;
    cp_status st;
    cp_buf_reset(&c->body);
    /* definition levels: 4-byte length, then the hybrid with bit width 1 */
    unsigned char len4[4] = {0};
    st = cp_buf_append(&c->body, len4, 4);
    size_t start = c->body.len;
    if (st == CP_OK)
        st = cp_pq_rle_encode_u8(&c->body, c->defs, c->ndefs, 1);
    if (st == CP_OK) {
        cp_pq_store_le32((unsigned char *)c->body.data + start - 4,
                         (uint32_t)(c->body.len - start));
    }
    bool dict_page = c->use_dict && c->nidx > 0;
    if (st == CP_OK) {
        if (dict_page) {
            unsigned bw = cp_pq_bit_width((uint32_t)(c->dict.n - 1));
            if (bw == 0)
                bw = 1;
            unsigned char b = (unsigned char)bw;
            st = cp_buf_append(&c->body, &b, 1);
            if (st == CP_OK)
                st = cp_pq_rle_encode_u32(&c->body, c->idx, c->nidx, bw);
        } else if (c->type.id == CP_TYPE_BOOLEAN) {
            st = cp_pq_plain_bools(&c->body, c->bools, c->nbools);
        } else if (c->values.len) {
            st = cp_buf_append(&c->body, c->values.data, c->values.len);
        }
    }
    if (st != CP_OK)
        return cp_error_set(err, st, "Parquet page buffer: %s", cp_status_message(st));
    CP_RETURN_IF_ERROR(emit_page(c, CP_PQ_PAGE_DATA, (int32_t)c->ndefs,
                                 dict_page ? CP_PQ_ENC_RLE_DICTIONARY : CP_PQ_ENC_PLAIN, &c->chunk,
                                 &c->chunk_uncompressed, &c->chunk_compressed, err));
    if (dict_page)
        c->dict_data_pages++;
    else
        c->plain_data_pages++;
    c->ndefs = c->nidx = c->nbools = 0;
    c->page_plain_bytes = 0;
    cp_buf_reset(&c->values);
    return CP_OK;
}

/* The PLAIN bytes of row r without a length prefix (tmp holds fixed-width values). */
static const void *value_bytes(const cp_pq_column *c, const cp_batch *b, size_t col, size_t r,
                               unsigned char tmp[16], size_t *len, cp_pq_scalar *sv)
{
    const cp_column_data *d = &b->cols[col];
    switch (c->type.id) {
    case CP_TYPE_BOOLEAN:
        sv->b = d->v.boolean[r] ? 1 : 0;
        tmp[0] = sv->b;
        *len = 1;
        return tmp;
    case CP_TYPE_INT64:
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        sv->i64 = d->v.i64[r];
        cp_pq_store_le64(tmp, (uint64_t)sv->i64);
        *len = 8;
        return tmp;
    case CP_TYPE_DATE:
        sv->date = d->v.date[r];
        cp_pq_store_le32(tmp, (uint32_t)sv->date);
        *len = 4;
        return tmp;
    case CP_TYPE_DOUBLE: {
        uint64_t bits;
        sv->f64 = d->v.f64[r];
        memcpy(&bits, &sv->f64, sizeof bits);
        cp_pq_store_le64(tmp, bits);
        *len = 8;
        return tmp;
    }
    case CP_TYPE_DECIMAL:
        sv->dec = d->v.decimal[r];
        cp_pq_decimal_be(sv->dec, c->decimal_len, tmp);
        *len = c->decimal_len;
        return tmp;
    default:
        return cp_batch_string(b, col, r, len);
    }
}

static cp_status append_plain(cp_pq_column *c, const void *p, size_t len)
{
    if (c->type.id == CP_TYPE_BOOLEAN) {
        c->bools[c->nbools++] = *(const unsigned char *)p;
        return CP_OK;
    }
    if (c->physical == CP_PQ_T_BYTE_ARRAY) {
        unsigned char le[4];
        cp_pq_store_le32(le, (uint32_t)len);
        CP_RETURN_IF_ERROR(cp_buf_append(&c->values, le, 4));
    }
    return cp_buf_append(&c->values, p, len);
}

cp_status cp_pq_column_write(cp_pq_column *c, const cp_batch *b, size_t col, size_t r0, size_t r1,
                             cp_error *err)
{
    for (size_t r = r0; r < r1; r++) {
        if (c->ndefs >= CP_PQ_PAGE_MAX_VALUES || c->page_plain_bytes >= c->page_bytes)
            CP_RETURN_IF_ERROR(flush_page(c, err));
        c->num_values++;
        if (c->all_null || !cp_batch_valid(b, col, r)) {
            c->defs[c->ndefs++] = 0;
            cp_pq_stats_add_null(&c->stats);
            continue;
        }
        unsigned char tmp[16];
        size_t len;
        cp_pq_scalar sv;
        const void *p = value_bytes(c, b, col, r, tmp, &len, &sv);
        if (len > UINT32_MAX / 2)
            return cp_error_set(err, CP_TOO_LARGE, "a value of %zu bytes is too long for Parquet",
                                len);
        cp_status st = CP_OK;
        if (c->type.id == CP_TYPE_STRING)
            st = cp_pq_stats_add_string(&c->stats, p, len);
        else
            cp_pq_stats_add(&c->stats, &sv);
        if (st == CP_OK && c->use_dict) {
            uint32_t index;
            st = cp_pq_dict_insert(&c->dict, p, len, &index);
            if (st == CP_OK) {
                c->idx[c->nidx++] = index;
            } else if (st == CP_TOO_LARGE) {
                /* the dictionary is full: close this page, PLAIN from here on */
                CP_RETURN_IF_ERROR(flush_page(c, err));
                c->use_dict = false;
                st = CP_OK;
            }
        }
        if (st == CP_OK && !c->use_dict)
            st = append_plain(c, p, len);
        if (st != CP_OK)
            return cp_error_set(err, st, "Parquet column buffer: %s", cp_status_message(st));
        c->defs[c->ndefs++] = 1;
        c->page_plain_bytes += len + (c->physical == CP_PQ_T_BYTE_ARRAY ? 4 : 0);
    }
    return CP_OK;
}

size_t cp_pq_column_buffered(const cp_pq_column *c)
{
    return (size_t)c->chunk_uncompressed + c->page_plain_bytes + c->ndefs / 8 + c->dict.plain.len;
}

cp_status cp_pq_column_finish(cp_pq_column *c, cp_error *err)
{
    CP_RETURN_IF_ERROR(flush_page(c, err));
    cp_buf_reset(&c->dict_page);
    c->dict_uncompressed = 0;
    if (c->dict_data_pages == 0)
        return CP_OK;
    cp_buf_reset(&c->body);
    cp_status st = cp_buf_append(&c->body, c->dict.plain.data, c->dict.plain.len);
    if (st != CP_OK)
        return cp_error_set(err, st, "Parquet dictionary page: %s", cp_status_message(st));
    int64_t compressed = 0;
    return emit_page(c, CP_PQ_PAGE_DICTIONARY, (int32_t)c->dict.n, CP_PQ_ENC_PLAIN, &c->dict_page,
                     &c->dict_uncompressed, &compressed, err);
}

cp_status cp_pq_column_meta(const cp_pq_column *c, const char *name, int codec, int64_t offset,
                            cp_buf *bounds_min, cp_buf *bounds_max, cp_pq_chunk_meta *m)
{
    memset(m, 0, sizeof *m);
    m->physical = c->physical;
    m->name = name;
    m->codec = codec;
    m->num_values = c->num_values;
    m->total_uncompressed_size = c->chunk_uncompressed + c->dict_uncompressed;
    m->total_compressed_size = c->chunk_compressed + (int64_t)c->dict_page.len;
    m->dictionary_page_offset = c->dict_page.len ? offset : -1;
    m->data_page_offset = offset + (int64_t)c->dict_page.len;
    m->dict_data_pages = c->dict_data_pages;
    m->plain_data_pages = c->plain_data_pages;
    m->null_count = c->stats.null_count;
    m->has_nan_count = c->type.id == CP_TYPE_DOUBLE;
    m->nan_count = c->stats.nan_count;
    cp_status st;
    m->has_bounds = cp_pq_stats_bounds(&c->stats, c->decimal_len, bounds_min, bounds_max, &st);
    if (st != CP_OK)
        return st;
    /* the deprecated min/max use signed order: only where that is the type's order */
    m->legacy_bounds =
        c->physical != CP_PQ_T_BYTE_ARRAY && c->physical != CP_PQ_T_FIXED_LEN_BYTE_ARRAY;
    m->min = bounds_min->data;
    m->min_len = bounds_min->len;
    m->max = bounds_max->data;
    m->max_len = bounds_max->len;
    return CP_OK;
}

void cp_pq_column_reset(cp_pq_column *c)
{
    cp_buf_reset(&c->chunk);
    cp_buf_reset(&c->dict_page);
    cp_pq_dict_reset(&c->dict);
    cp_pq_stats_reset(&c->stats);
    c->use_dict = c->dict_ok;
    c->num_values = 0;
    c->chunk_uncompressed = c->chunk_compressed = c->dict_uncompressed = 0;
    c->dict_data_pages = c->plain_data_pages = 0;
    c->ndefs = c->nidx = c->nbools = 0;
    c->page_plain_bytes = 0;
    cp_buf_reset(&c->values);
}
