/*
 * pq_column.c - column chunk writer: pages, dictionary, statistics (see pq_column.h).
 *
 * Rows are written run by run, a run being as many rows as the pending page surely takes
 * (by count, and by bytes for fixed widths). Each run is classified once by its validity
 * bits - all null, all valid (dense) or mixed - and handed to a loop specialized for the
 * value kind, the dense/mixed case and PLAIN/dictionary, with no per-value switch or
 * function-pointer call. Definition levels of a page without nulls are not stored: the
 * page writes them as one RLE run (defs_lazy), and they are filled in at the first null.
 */
#include "parquet/pq_column.h"

#include "parquet/pq_encoding.h"

#include <stdlib.h>
#include <string.h>

cp_status cp_pq_column_init(cp_pq_column *c, cp_type type, size_t page_bytes,
                            size_t dictionary_limit, size_t buf_max, cp_pq_compressor *comp,
                            cp_pq_slabs *slabs)
{
    memset(c, 0, sizeof *c);
    c->all_null = type.id == CP_TYPE_NULL;
    if (c->all_null)
        type = cp_type_of(CP_TYPE_STRING);
    c->type = type;
    c->physical = cp_pq_physical_type(type);
    c->decimal_len = type.id == CP_TYPE_DECIMAL ? cp_pq_decimal_length(type.precision) : 0;
    switch (type.id) {
    case CP_TYPE_INT64:
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
    case CP_TYPE_DOUBLE:
        c->width = 8;
        break;
    case CP_TYPE_DATE:
        c->width = 4;
        break;
    case CP_TYPE_DECIMAL:
        c->width = c->decimal_len;
        break;
    default:
        c->width = 0;
        break;
    }
    c->page_bytes = page_bytes;
    c->compressor = comp;
    c->dict_ok = dictionary_limit > 0 && type.id != CP_TYPE_BOOLEAN;
    c->use_dict = c->dict_ok;
    c->defs_lazy = true;
    cp_pq_dict_init(&c->dict, c->physical == CP_PQ_T_BYTE_ARRAY, dictionary_limit);
    cp_buf_init(&c->values, buf_max);
    cp_pq_pages_init(&c->pages, slabs, buf_max);
    cp_buf_init(&c->body, buf_max);
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
    cp_pq_pages_release(&c->pages);
    cp_buf_release(&c->body);
    cp_buf_release(&c->hdr);
    cp_pq_stats_release(&c->stats);
    memset(c, 0, sizeof *c);
}

/* Definition levels are stored one by one from now on (the page got a null). */
static void materialize_defs(cp_pq_column *c)
{
    if (c->defs_lazy) {
        memset(c->defs, 1, c->ndefs);
        c->defs_lazy = false;
    }
}

static cp_status chunk_error(cp_status st, cp_error *err)
{
    return cp_error_set(err, st, "Parquet column chunk buffer: %s", cp_status_message(st));
}

/* Compresses `body` into the chunk's pages, its header before it (first: as the first page). */
static cp_status emit_page(cp_pq_column *c, int type, int32_t num_values, int encoding, bool first,
                           int64_t *uncompressed, int64_t *compressed, cp_error *err)
{
    if (c->body.len > INT32_MAX)
        return cp_error_set(err, CP_TOO_LARGE, "a Parquet page passed 2 GiB");
    size_t bound = cp_pq_compress_bound(c->compressor->codec, c->body.len);
    unsigned char *room;
    cp_status st = cp_pq_pages_reserve(&c->pages, CP_PQ_PAGE_HEADER_MAX + bound, &room);
    if (st != CP_OK)
        return chunk_error(st, err);
    unsigned char *body = room + CP_PQ_PAGE_HEADER_MAX;
    size_t body_len;
    CP_RETURN_IF_ERROR(cp_pq_compress_into(c->compressor, c->body.data ? c->body.data : "",
                                           c->body.len, body, &body_len, err));
    if (body_len > INT32_MAX)
        return cp_error_set(err, CP_TOO_LARGE, "a compressed Parquet page passed 2 GiB");
    cp_pq_page_header h = {type, (int32_t)c->body.len, (int32_t)body_len, num_values, encoding};
    cp_buf_reset(&c->hdr);
    st = cp_pq_encode_page_header(&c->hdr, &h);
    if (st == CP_OK && c->hdr.len > CP_PQ_PAGE_HEADER_MAX)
        st = CP_INTERNAL;
    if (st != CP_OK)
        return chunk_error(st, err);
    unsigned char *page = body - c->hdr.len;
    memcpy(page, c->hdr.data, c->hdr.len);
    cp_pq_pages_commit(&c->pages, page, c->hdr.len + body_len, first);
    *uncompressed += (int64_t)(c->hdr.len + c->body.len);
    *compressed += (int64_t)(c->hdr.len + body_len);
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
    if (st == CP_OK && c->defs_lazy && c->ndefs >= 8) /* all 1: what the encoder makes of it */
        st = cp_pq_rle_encode_run(&c->body, c->ndefs, 1, 1);
    else if (st == CP_OK) {
        materialize_defs(c);
        st = cp_pq_rle_encode_u8(&c->body, c->defs, c->ndefs, 1);
    }
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
                                 dict_page ? CP_PQ_ENC_RLE_DICTIONARY : CP_PQ_ENC_PLAIN, false,
                                 &c->chunk_uncompressed, &c->chunk_compressed, err));
    if (dict_page) {
        c->dict_data_pages++;
        c->dict_values += (int64_t)c->nidx;
    } else
        c->plain_data_pages++;
    c->ndefs = c->nidx = c->nbools = 0;
    c->defs_lazy = true;
    c->page_plain_bytes = 0;
    cp_buf_reset(&c->values);
    return CP_OK;
}

/* Appends n bytes to b; the common case stays inline. */
static inline cp_status put_bytes(cp_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n) /* room for n bytes and the NUL */
        CP_RETURN_IF_ERROR(cp_buf_reserve(b, n));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CP_OK;
}

static cp_status buffer_error(cp_status st, cp_error *err)
{
    return cp_error_set(err, st, "Parquet column buffer: %s", cp_status_message(st));
}

static cp_status too_long(size_t len, cp_error *err)
{
    return cp_error_set(err, CP_TOO_LARGE, "a value of %zu bytes is too long for Parquet", len);
}

/*
 * The dictionary of this chunk is not worth it: the pending page goes PLAIN (and the
 * dictionary is dropped) when it is the chunk's first, else it is closed.
 */
static cp_status give_up_dictionary(cp_pq_column *c, cp_error *err)
{
    if (c->dict_data_pages > 0) {
        CP_RETURN_IF_ERROR(flush_page(c, err));
        c->use_dict = false;
        return CP_OK;
    }
    cp_buf_reset(&c->values);
    cp_status st = cp_buf_reserve(&c->values, c->page_plain_bytes);
    for (size_t i = 0; st == CP_OK && i < c->nidx; i++) {
        size_t len;
        const void *p = cp_pq_dict_plain_entry(&c->dict, c->idx[i], &len);
        st = put_bytes(&c->values, p, len);
    }
    if (st != CP_OK)
        return buffer_error(st, err);
    c->nidx = 0;
    c->use_dict = false;
    cp_pq_dict_reset(&c->dict);
    return CP_OK;
}

/* n more rows that all have a value. */
static inline void dense_defs(cp_pq_column *c, size_t n)
{
    if (!c->defs_lazy)
        memset(c->defs + c->ndefs, 1, n);
    c->ndefs += n;
}

static inline bool valid_at(const uint64_t *validity, size_t r)
{
    return (validity[r >> 6] >> (r & 63)) & 1;
}

enum { ROWS_NULL, ROWS_VALID, ROWS_MIXED };

/* Whether rows [r, end) are all null, all valid or mixed. */
static int classify_rows(const uint64_t *validity, size_t r, size_t end)
{
    bool any = false, all = true;
    while (r < end) {
        size_t bit = r & 63, k = 64 - bit < end - r ? 64 - bit : end - r;
        uint64_t mask = k < 64 ? ((uint64_t)1 << k) - 1 : ~(uint64_t)0;
        uint64_t word = (validity[r >> 6] >> bit) & mask;
        any |= word != 0;
        all &= word == mask;
        r += k;
    }
    return all ? ROWS_VALID : any ? ROWS_MIXED : ROWS_NULL;
}

/* What a row range is written as: one specialized loop per kind. */
typedef enum value_kind {
    K_BOOL,
    K_I64,    /* INT64, TIMESTAMP, TIMESTAMPTZ */
    K_DATE,   /* INT32 */
    K_F64,    /* DOUBLE */
    K_DEC64,  /* DECIMAL of at most 8 bytes: keyed by its low 64 bits */
    K_DEC128, /* wider DECIMAL: keyed by its bytes */
    K_STRING,
} value_kind;

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* PLAIN bytes of a fixed-width kind (a constant where the kind says it). */
static ALWAYS_INLINE size_t kind_width(const cp_pq_column *c, value_kind k)
{
    switch (k) {
    case K_BOOL:
        return 1;
    case K_I64:
    case K_F64:
        return 8;
    case K_DATE:
        return 4;
    default:
        if (c->width > 16) /* DECIMAL: at most 16 bytes */
            __builtin_unreachable();
        return c->width;
    }
}

/* The dictionary key of fixed-width row r (K_DEC128 has none). */
static ALWAYS_INLINE uint64_t fixed_key(const cp_column_data *d, size_t r, value_kind k)
{
    switch (k) {
    case K_I64:
        return (uint64_t)d->v.i64[r];
    case K_DATE:
        return (uint32_t)d->v.date[r];
    case K_F64: {
        uint64_t bits;
        memcpy(&bits, &d->v.f64[r], sizeof bits);
        return bits;
    }
    case K_DEC64:
        return (uint64_t)d->v.decimal[r];
    default:
        return 0;
    }
}

/* The w PLAIN bytes of fixed-width row r into out. */
static ALWAYS_INLINE void fixed_plain(const cp_column_data *d, size_t r, value_kind k, size_t w,
                                      unsigned char *out)
{
    switch (k) {
    case K_I64:
    case K_F64:
        cp_pq_store_le64(out, fixed_key(d, r, k));
        break;
    case K_DATE:
        cp_pq_store_le32(out, (uint32_t)d->v.date[r]);
        break;
    case K_DEC64:
        if (w == 8) {
            cp_pq_store_be64(out, (uint64_t)d->v.decimal[r]);
            break;
        }
        /* fall through */
    default:
        cp_pq_decimal_be(d->v.decimal[r], (unsigned)w, out);
        break;
    }
}

/* Min/max of non-null row r (DOUBLE: also the NaN count). */
static ALWAYS_INLINE void stats_row(cp_pq_stats *s, const cp_column_data *d, size_t r, value_kind k)
{
    switch (k) {
    case K_BOOL:
        cp_pq_stats_add_bool(s, d->v.boolean[r] ? 1 : 0);
        break;
    case K_I64:
        cp_pq_stats_add_i64(s, d->v.i64[r]);
        break;
    case K_DATE:
        cp_pq_stats_add_date(s, d->v.date[r]);
        break;
    case K_F64:
        cp_pq_stats_add_double(s, d->v.f64[r]);
        break;
    case K_DEC64:
    case K_DEC128:
        cp_pq_stats_add_decimal(s, d->v.decimal[r]);
        break;
    default:
        break;
    }
}

/*
 * Rows [r, end) of a fixed-width column in PLAIN; the page has room for all of them.
 * dense: every row has a value (else the definition levels are materialized).
 */
static ALWAYS_INLINE cp_status plain_fixed(cp_pq_column *c, const cp_column_data *d, size_t r,
                                           size_t end, value_kind k, bool dense, cp_error *err)
{
    const size_t w = kind_width(c, k);
    const size_t n = end - r;
    size_t nvalues = 0;
    if (k == K_BOOL) {
        uint8_t *out = c->bools + c->nbools;
        for (size_t i = r; i < end; i++) {
            if (!dense) {
                bool v = valid_at(d->validity, i);
                c->defs[c->ndefs++] = v;
                if (!v)
                    continue;
            }
            stats_row(&c->stats, d, i, k);
            out[nvalues++] = d->v.boolean[i] ? 1 : 0;
        }
        c->nbools += nvalues;
    } else {
        cp_status st = cp_buf_reserve(&c->values, n * w);
        if (st != CP_OK)
            return buffer_error(st, err);
        unsigned char *out = (unsigned char *)c->values.data + c->values.len;
        if (dense) {
            for (size_t i = r; i < end; i++)
                stats_row(&c->stats, d, i, k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            if (k == K_I64 || k == K_F64) /* PLAIN is the host's layout */
                memcpy(out, d->v.i64 + r, n * 8);
            else if (k == K_DATE)
                memcpy(out, d->v.date + r, n * 4);
            else
#endif
                for (size_t i = r; i < end; i++)
                    fixed_plain(d, i, k, w, out + (i - r) * w);
            nvalues = n;
        } else {
            for (size_t i = r; i < end; i++) {
                bool v = valid_at(d->validity, i);
                c->defs[c->ndefs++] = v;
                if (!v)
                    continue;
                stats_row(&c->stats, d, i, k);
                unsigned char tmp[16];
                fixed_plain(d, i, k, w, tmp);
                memcpy(out + nvalues * w, tmp, w);
                nvalues++;
            }
        }
        c->values.len += nvalues * w;
        c->values.data[c->values.len] = '\0';
    }
    if (dense)
        dense_defs(c, n);
    else
        c->stats.null_count += (int64_t)(n - nvalues);
    c->page_plain_bytes += nvalues * w;
    return CP_OK;
}

/* Rows [r, *next) of a STRING column in PLAIN, stopping early when the page is full. */
static ALWAYS_INLINE cp_status plain_strings(cp_pq_column *c, const cp_column_data *d, size_t r,
                                             size_t end, bool dense, size_t *next, cp_error *err)
{
    size_t i = r;
    while (i < end) {
        size_t row = i++;
        if (!dense && !valid_at(d->validity, row)) {
            c->defs[c->ndefs++] = 0;
            c->stats.null_count++;
            continue;
        }
        size_t len = d->v.offsets[row + 1] - d->v.offsets[row];
        const char *p = d->strings.data + d->v.offsets[row];
        if (len > UINT32_MAX / 2)
            return too_long(len, err);
        unsigned char le[4];
        cp_pq_store_le32(le, (uint32_t)len);
        cp_status st = cp_pq_stats_add_string(&c->stats, p, len);
        if (st == CP_OK)
            st = put_bytes(&c->values, le, 4);
        if (st == CP_OK)
            st = put_bytes(&c->values, p, len);
        if (st != CP_OK)
            return buffer_error(st, err);
        if (dense)
            dense_defs(c, 1);
        else
            c->defs[c->ndefs++] = 1;
        c->page_plain_bytes += len + 4;
        if (c->page_plain_bytes >= c->page_bytes)
            break;
    }
    *next = i;
    return CP_OK;
}

/*
 * Rows [r, *next) through the dictionary; the page has room for all of them by count (by
 * bytes too, but for strings, which stop once it is full). When the dictionary fills up
 * the page is closed, the chunk goes on in PLAIN and *next is the row that did not fit.
 */
static ALWAYS_INLINE cp_status dict_rows(cp_pq_column *c, const cp_column_data *d, size_t r,
                                         size_t end, value_kind k, bool dense, size_t *next,
                                         cp_error *err)
{
    const size_t w = kind_width(c, k);
    uint8_t *defs = c->defs;
    uint32_t *idx = c->idx;
    const size_t nd0 = c->ndefs, ni0 = c->nidx;
    size_t nd = nd0, ni = ni0;
    size_t bytes = 0;    /* PLAIN-equivalent bytes of the strings added */
    size_t long_len = 0; /* a string too long for Parquet */
    cp_status st = CP_OK;
    size_t i = r;
    while (i < end) {
        size_t row = i;
        if (!dense) {
            bool v = valid_at(d->validity, row);
            defs[nd] = v;
            if (!v) {
                nd++;
                i++;
                continue;
            }
        }
        uint32_t e, index;
        if (k == K_STRING || k == K_DEC128) {
            unsigned char tmp[16];
            const unsigned char *p = tmp;
            size_t len = w;
            if (k == K_STRING) {
                len = d->v.offsets[row + 1] - d->v.offsets[row];
                p = (const unsigned char *)d->strings.data + d->v.offsets[row];
                if (len > UINT32_MAX / 2) {
                    long_len = len;
                    break;
                }
            } else {
                fixed_plain(d, row, k, w, tmp);
            }
            uint32_t h = cp_pq_dict_hash(p, len);
            e = cp_pq_dict_find(&c->dict, p, len, h);
            if (!e) {
                st = cp_pq_dict_add(&c->dict, p, len, h, &index);
                if (st != CP_OK)
                    break;
                e = index + 1;
                /* a new entry: the only kind of value that can move the bounds */
                if (k == K_STRING)
                    st = cp_pq_stats_add_string(&c->stats, (const char *)p, len);
                else
                    stats_row(&c->stats, d, row, k);
                if (st != CP_OK)
                    break;
            }
            if (k == K_STRING)
                bytes += len + 4;
        } else {
            uint64_t key = fixed_key(d, row, k);
            e = cp_pq_dict_find_key(&c->dict, key);
            if (!e) {
                unsigned char tmp[8];
                fixed_plain(d, row, k, w, tmp);
                st = cp_pq_dict_add_key(&c->dict, key, tmp, w, &index);
                if (st != CP_OK)
                    break;
                e = index + 1;
                if (k != K_F64)
                    stats_row(&c->stats, d, row, k);
            }
            if (k == K_F64) /* NaNs are counted one by one (once the value is in) */
                stats_row(&c->stats, d, row, k);
        }
        idx[ni++] = e - 1;
        nd += !dense;
        i++;
        if (k == K_STRING && c->page_plain_bytes + bytes >= c->page_bytes)
            break;
    }
    size_t values = ni - ni0;
    c->nidx = ni;
    if (dense) {
        dense_defs(c, values);
    } else {
        c->ndefs = nd;
        c->stats.null_count += (int64_t)(nd - nd0 - values);
    }
    c->page_plain_bytes += k == K_STRING ? bytes : values * w;
    *next = i;
    if (long_len)
        return too_long(long_len, err);
    if (st == CP_TOO_LARGE) { /* the dictionary is full: close this page, PLAIN from here on */
        CP_RETURN_IF_ERROR(flush_page(c, err));
        c->use_dict = false;
        return CP_OK;
    }
    return st == CP_OK ? CP_OK : buffer_error(st, err);
}

static ALWAYS_INLINE cp_status write_rows(cp_pq_column *c, const cp_batch *b, size_t col, size_t r0,
                                          size_t r1, cp_error *err, value_kind k)
{
    const cp_column_data *d = &b->cols[col];
    size_t r = r0;
    while (r < r1) {
        if (c->ndefs >= CP_PQ_PAGE_MAX_VALUES || c->page_plain_bytes >= c->page_bytes)
            CP_RETURN_IF_ERROR(flush_page(c, err));
        /* rows the page surely takes: by count, and for fixed widths by bytes */
        size_t room = CP_PQ_PAGE_MAX_VALUES - c->ndefs;
        if (k != K_STRING) {
            size_t w = kind_width(c, k);
            size_t by_bytes = (c->page_bytes - c->page_plain_bytes + w - 1) / w;
            if (by_bytes < room)
                room = by_bytes;
        }
        size_t end = r1 - r < room ? r1 : r + room;
        size_t n = end - r;
        int rows = classify_rows(d->validity, r, end);
        if (rows == ROWS_NULL) {
            materialize_defs(c);
            memset(c->defs + c->ndefs, 0, n);
            c->ndefs += n;
            c->stats.null_count += (int64_t)n;
            r = end;
            continue;
        }
        bool dense = rows == ROWS_VALID;
        if (!dense)
            materialize_defs(c);
        cp_status st;
        size_t next = end;
        if (c->use_dict)
            st = dense ? dict_rows(c, d, r, end, k, true, &next, err)
                       : dict_rows(c, d, r, end, k, false, &next, err);
        else if (k == K_STRING)
            st = dense ? plain_strings(c, d, r, end, true, &next, err)
                       : plain_strings(c, d, r, end, false, &next, err);
        else
            st = dense ? plain_fixed(c, d, r, end, k, true, err)
                       : plain_fixed(c, d, r, end, k, false, err);
        if (st != CP_OK)
            return st;
        r = next;
    }
    return CP_OK;
}

#define WRITE_FN(name, kind)                                                                       \
    static cp_status name(cp_pq_column *c, const cp_batch *b, size_t col, size_t r0, size_t r1,    \
                          cp_error *err)                                                           \
    {                                                                                              \
        return write_rows(c, b, col, r0, r1, err, kind);                                           \
    }
WRITE_FN(write_bool, K_BOOL)
WRITE_FN(write_i64, K_I64)
WRITE_FN(write_date, K_DATE)
WRITE_FN(write_f64, K_F64)
WRITE_FN(write_dec64, K_DEC64)
WRITE_FN(write_dec128, K_DEC128)
WRITE_FN(write_string, K_STRING)

static cp_status write_nulls(cp_pq_column *c, size_t r0, size_t r1, cp_error *err)
{
    for (size_t r = r0; r < r1; r++) {
        if (c->ndefs >= CP_PQ_PAGE_MAX_VALUES)
            CP_RETURN_IF_ERROR(flush_page(c, err));
        materialize_defs(c);
        c->defs[c->ndefs++] = 0;
        c->stats.null_count++;
    }
    return CP_OK;
}

cp_status cp_pq_column_write(cp_pq_column *c, const cp_batch *b, size_t col, size_t r0, size_t r1,
                             cp_error *err)
{
    if (r1 <= r0)
        return CP_OK;
    c->num_values += (int64_t)(r1 - r0);
    if (c->use_dict && !c->dict_probed &&
        c->dict_values + (int64_t)c->nidx >= CP_PQ_DICT_PROBE_VALUES) {
        c->dict_probed = true;
        int64_t seen = c->dict_values + (int64_t)c->nidx;
        if ((int64_t)c->dict.n * 10 > seen * 9)
            CP_RETURN_IF_ERROR(give_up_dictionary(c, err));
    }
    if (c->all_null)
        return write_nulls(c, r0, r1, err);
    switch (c->type.id) {
    case CP_TYPE_BOOLEAN:
        return write_bool(c, b, col, r0, r1, err);
    case CP_TYPE_INT64:
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        return write_i64(c, b, col, r0, r1, err);
    case CP_TYPE_DATE:
        return write_date(c, b, col, r0, r1, err);
    case CP_TYPE_DOUBLE:
        return write_f64(c, b, col, r0, r1, err);
    case CP_TYPE_DECIMAL:
        return c->decimal_len <= 8 ? write_dec64(c, b, col, r0, r1, err)
                                   : write_dec128(c, b, col, r0, r1, err);
    default:
        return write_string(c, b, col, r0, r1, err);
    }
}

size_t cp_pq_column_buffered(const cp_pq_column *c)
{
    return (size_t)c->chunk_uncompressed + c->page_plain_bytes + c->ndefs / 8 + c->dict.plain.len;
}

cp_status cp_pq_column_finish(cp_pq_column *c, cp_error *err)
{
    CP_RETURN_IF_ERROR(flush_page(c, err));
    c->dict_uncompressed = c->dict_compressed = 0;
    if (c->dict_data_pages == 0)
        return CP_OK;
    cp_buf_reset(&c->body);
    cp_status st = cp_buf_append(&c->body, c->dict.plain.data, c->dict.plain.len);
    if (st != CP_OK)
        return cp_error_set(err, st, "Parquet dictionary page: %s", cp_status_message(st));
    return emit_page(c, CP_PQ_PAGE_DICTIONARY, (int32_t)c->dict.n, CP_PQ_ENC_PLAIN, true,
                     &c->dict_uncompressed, &c->dict_compressed, err);
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
    m->total_compressed_size = c->chunk_compressed + c->dict_compressed;
    m->dictionary_page_offset = c->dict_compressed ? offset : -1;
    m->data_page_offset = offset + c->dict_compressed;
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
    cp_pq_pages_reset(&c->pages);
    cp_pq_dict_reset(&c->dict);
    cp_pq_stats_reset(&c->stats);
    c->use_dict = c->dict_ok;
    c->dict_probed = false;
    c->dict_values = 0;
    c->num_values = 0;
    c->chunk_uncompressed = c->chunk_compressed = c->dict_uncompressed = c->dict_compressed = 0;
    c->dict_data_pages = c->plain_data_pages = 0;
    c->ndefs = c->nidx = c->nbools = 0;
    c->defs_lazy = true;
    c->page_plain_bytes = 0;
    cp_buf_reset(&c->values);
}
