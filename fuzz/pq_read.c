/*
 * pq_read.c - the strict Parquet reader of the round-trip fuzz target (see pq_read.h).
 *
 * The footer and page headers are decoded by a generic Thrift compact-protocol parser into
 * a small tree (fields by id, list elements in order), then walked with the field ids of
 * parquet.thrift. Values are decoded page by page into one cell per row and column; byte
 * values point into the decompressed pages, which live until pq_file_free.
 */
#include "pq_read.h"

#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define MAX_DEPTH 64
#define MAX_ROWS (1 << 24)

/* ---- Thrift compact protocol ---------------------------------------------------------- */

enum {
    T_STOP,
    T_TRUE,
    T_FALSE,
    T_I8,
    T_I16,
    T_I32,
    T_I64,
    T_DOUBLE,
    T_BINARY,
    T_LIST,
    T_SET,
    T_MAP,
    T_STRUCT
};

typedef struct tnode {
    uint8_t type;
    int16_t id;
    int64_t i; /* integers and booleans */
    double d;
    const uint8_t *bin;
    uint32_t len;
    struct tnode *kids; /* struct fields in order, list elements */
    uint32_t nkids;
} tnode;

typedef struct tin {
    const uint8_t *p, *end;
    const char *err;
} tin;

static uint64_t t_varint(tin *t)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        if (t->p >= t->end || shift > 63) {
            t->err = "a varint runs past the end or past 64 bits";
            return 0;
        }
        uint8_t b = *t->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
}

static int64_t t_zigzag(tin *t)
{
    uint64_t v = t_varint(t);
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void t_free(tnode *n)
{
    for (uint32_t k = 0; k < n->nkids; k++)
        t_free(&n->kids[k]);
    free(n->kids);
    n->kids = NULL;
    n->nkids = 0;
}

static tnode *t_push(tin *t, tnode *n)
{
    uint32_t need = n->nkids + 1;
    if ((need & (need - 1)) == 0 || n->nkids == 0) { /* capacity: the powers of two */
        tnode *k = realloc(n->kids, (size_t)(need == 1 ? 1 : need * 2) * sizeof *k);
        if (!k) {
            t->err = "out of memory";
            return NULL;
        }
        n->kids = k;
    }
    tnode *k = n->kids;
    memset(&k[n->nkids], 0, sizeof *k);
    return &k[n->nkids++];
}

static void t_value(tin *t, uint8_t type, tnode *n, int depth, bool in_list);

static void t_struct(tin *t, tnode *n, int depth)
{
    n->type = T_STRUCT;
    int last = 0;
    while (!t->err) {
        if (t->p >= t->end) {
            t->err = "a struct runs past the end";
            return;
        }
        uint8_t b = *t->p++;
        if (b == 0)
            return;
        uint8_t type = b & 15;
        int id = (b >> 4) ? last + (b >> 4) : (int)t_zigzag(t);
        if (t->err)
            return;
        if (id <= last) {
            t->err = "field ids do not increase";
            return;
        }
        if (id > 32767) {
            t->err = "a field id is past i16";
            return;
        }
        last = id;
        tnode *k = t_push(t, n);
        if (!k)
            return;
        k->id = (int16_t)id;
        t_value(t, type, k, depth + 1, false);
    }
}

static void t_value(tin *t, uint8_t type, tnode *n, int depth, bool in_list)
{
    if (depth > MAX_DEPTH) {
        t->err = "nested too deep";
        return;
    }
    n->type = type;
    switch (type) {
    case T_TRUE:
    case T_FALSE:
        if (in_list) {
            if (t->p >= t->end) {
                t->err = "a bool runs past the end";
                return;
            }
            n->i = *t->p++ == 1;
            n->type = n->i ? T_TRUE : T_FALSE;
        } else {
            n->i = type == T_TRUE;
        }
        return;
    case T_I8:
        if (t->p >= t->end) {
            t->err = "an i8 runs past the end";
            return;
        }
        n->i = (int8_t)*t->p++;
        return;
    case T_I16:
    case T_I32:
    case T_I64:
        n->i = t_zigzag(t);
        if ((type == T_I16 && (n->i < INT16_MIN || n->i > INT16_MAX)) ||
            (type == T_I32 && (n->i < INT32_MIN || n->i > INT32_MAX)))
            t->err = "an integer is out of its type's range";
        return;
    case T_DOUBLE:
        if (t->end - t->p < 8) {
            t->err = "a double runs past the end";
            return;
        }
        uint64_t bits = 0;
        for (int k = 7; k >= 0; k--)
            bits = bits << 8 | t->p[k];
        memcpy(&n->d, &bits, 8);
        t->p += 8;
        return;
    case T_BINARY: {
        uint64_t len = t_varint(t);
        if (t->err)
            return;
        if (len > (uint64_t)(t->end - t->p)) {
            t->err = "a binary runs past the end";
            return;
        }
        n->bin = t->p;
        n->len = (uint32_t)len;
        t->p += len;
        return;
    }
    case T_LIST:
    case T_SET: {
        if (t->p >= t->end) {
            t->err = "a list header runs past the end";
            return;
        }
        uint8_t h = *t->p++;
        uint64_t size = h >> 4;
        uint8_t elem = h & 15;
        if (size == 15) {
            size = t_varint(t);
            if (!t->err && size < 15)
                t->err = "a long list header holds a short size";
        }
        if (t->err)
            return;
        if (size > (uint64_t)(t->end - t->p)) {
            t->err = "a list is longer than the bytes left";
            return;
        }
        n->i = (int64_t)elem;
        for (uint64_t k = 0; k < size && !t->err; k++) {
            tnode *e = t_push(t, n);
            if (!e)
                return;
            e->id = (int16_t)(k & 0x7fff);
            t_value(t, elem, e, depth + 1, true);
        }
        return;
    }
    case T_MAP: {
        uint64_t size = t_varint(t);
        if (t->err || size == 0)
            return;
        if (t->p >= t->end || size > (uint64_t)(t->end - t->p)) {
            t->err = "a map is longer than the bytes left";
            return;
        }
        uint8_t kv = *t->p++;
        for (uint64_t k = 0; k < 2 * size && !t->err; k++) {
            tnode *e = t_push(t, n);
            if (!e)
                return;
            t_value(t, k & 1 ? kv & 15 : kv >> 4, e, depth + 1, true);
        }
        return;
    }
    case T_STRUCT:
        t_struct(t, n, depth);
        return;
    default:
        t->err = "an unknown compact type";
        return;
    }
}

static const tnode *fld(const tnode *s, int id)
{
    for (uint32_t k = 0; s && k < s->nkids; k++)
        if (s->kids[k].id == id)
            return &s->kids[k];
    return NULL;
}

static bool is_int(const tnode *n)
{
    return n && (n->type == T_I8 || n->type == T_I16 || n->type == T_I32 || n->type == T_I64);
}

/* ---- errors and memory ------------------------------------------------------------------ */

typedef struct rd {
    const uint8_t *data;
    size_t len;
    char *why;
    size_t cap;
    bool failed;
    pq_file *f;
} rd;

static int fail(rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(rd *r, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, r->cap, fmt, ap);
        va_end(ap);
        r->failed = true;
    }
    return -1;
}

typedef struct block {
    struct block *next;
    uint8_t data[];
} block;

static uint8_t *keep(pq_file *f, size_t n)
{
    block *b = malloc(sizeof *b + (n ? n : 1));
    if (!b)
        return NULL;
    b->next = f->arena;
    f->arena = b;
    return b->data;
}

void pq_file_free(pq_file *f)
{
    for (size_t c = 0; c < f->ncolumns; c++) {
        free(f->columns[c].name);
        free(f->columns[c].cells);
    }
    free(f->columns);
    for (size_t k = 0; k < f->nkv; k++) {
        free(f->keys[k]);
        free(f->values[k]);
    }
    free(f->keys);
    free(f->values);
    free(f->created_by);
    for (block *b = f->arena, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    memset(f, 0, sizeof *f);
}

static char *dup_bin(const tnode *n)
{
    if (!n || n->type != T_BINARY)
        return NULL;
    char *s = malloc(n->len + 1);
    if (s) {
        memcpy(s, n->bin, n->len);
        s[n->len] = '\0';
    }
    return s;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- encodings --------------------------------------------------------------------------- */

/*
 * Decodes n values of the RLE/bit-packed hybrid with bit width w from [*p, end) into out
 * (NULL: discard). Every run must be non-empty and the last run may only pad to its group.
 */
static int rle_decode(rd *r, const uint8_t **p, const uint8_t *end, unsigned w, uint32_t *out,
                      size_t n)
{
    size_t got = 0;
    unsigned vbytes = (w + 7) / 8;
    while (got < n) {
        tin t = {*p, end, NULL};
        uint64_t h = t_varint(&t);
        if (t.err)
            return fail(r, "RLE run header: %s", t.err);
        *p = t.p;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0)
                return fail(r, "an empty bit-packed run");
            if (groups > (n - got + 7) / 8)
                return fail(r,
                            "a bit-packed run of %llu groups holds whole groups past the %zu "
                            "values left",
                            (unsigned long long)groups, n - got);
            if (w && groups > (uint64_t)(end - *p) / w)
                return fail(r, "a bit-packed run of %llu groups runs past its page",
                            (unsigned long long)groups);
            size_t values = (size_t)groups * 8;
            for (size_t k = 0; k < values; k++) {
                uint64_t v = 0;
                for (unsigned b = 0; b < w; b++) {
                    size_t bit = k * w + b;
                    v |= (uint64_t)(((*p)[bit / 8] >> (bit % 8)) & 1) << b;
                }
                if (got < n) {
                    if (out)
                        out[got] = (uint32_t)v;
                    got++;
                } else if (v != 0) {
                    return fail(r, "the padding of a bit-packed group is not zero");
                }
            }
            *p += (size_t)groups * w;
        } else {
            uint64_t count = h >> 1;
            if (count == 0)
                return fail(r, "an empty RLE run");
            if ((uint64_t)(end - *p) < vbytes)
                return fail(r, "an RLE run's value runs past its page");
            uint64_t v = 0;
            for (unsigned b = 0; b < vbytes; b++)
                v |= (uint64_t)(*p)[b] << (8 * b);
            *p += vbytes;
            if (w < 32 && v >> w)
                return fail(r, "an RLE value %llu is wider than %u bits", (unsigned long long)v, w);
            if (count > n - got)
                return fail(r, "an RLE run of %llu passes the %zu values left",
                            (unsigned long long)count, n - got);
            for (uint64_t k = 0; k < count; k++) {
                if (out)
                    out[got] = (uint32_t)v;
                got++;
            }
        }
    }
    return 0;
}

/* PLAIN values of column c into cells[0..n) from [*p, end). */
static int plain_decode(rd *r, const pq_column *c, const uint8_t **p, const uint8_t *end,
                        pq_cell *cells, size_t n)
{
    const uint8_t *q = *p;
    if (c->physical == 0) { /* BOOLEAN */
        size_t bytes = (n + 7) / 8;
        if ((size_t)(end - q) < bytes)
            return fail(r, "PLAIN booleans run past their page");
        for (size_t k = 0; k < n; k++) {
            cells[k].valid = true;
            cells[k].i = (q[k / 8] >> (k % 8)) & 1;
        }
        if (n % 8 && q[bytes - 1] >> (n % 8))
            return fail(r, "the padding bits of PLAIN booleans are not zero");
        *p = q + bytes;
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        pq_cell *cell = &cells[k];
        memset(cell, 0, sizeof *cell);
        cell->valid = true;
        size_t left = (size_t)(end - q);
        switch (c->physical) {
        case 1: /* INT32 */
            if (left < 4)
                return fail(r, "a PLAIN INT32 runs past its page");
            cell->i = (int32_t)le32(q);
            q += 4;
            break;
        case 2: /* INT64 */
            if (left < 8)
                return fail(r, "a PLAIN INT64 runs past its page");
            cell->i = (int64_t)le64(q);
            q += 8;
            break;
        case 5: { /* DOUBLE */
            if (left < 8)
                return fail(r, "a PLAIN DOUBLE runs past its page");
            uint64_t bits = le64(q);
            memcpy(&cell->f, &bits, 8);
            q += 8;
            break;
        }
        case 6: { /* BYTE_ARRAY */
            if (left < 4 || le32(q) > left - 4)
                return fail(r, "a PLAIN BYTE_ARRAY runs past its page");
            cell->len = le32(q);
            cell->bytes = q + 4;
            q += 4 + cell->len;
            break;
        }
        case 7: /* FIXED_LEN_BYTE_ARRAY */
            if (c->type_length <= 0 || left < (size_t)c->type_length)
                return fail(r, "a PLAIN FIXED_LEN_BYTE_ARRAY runs past its page");
            cell->len = (uint32_t)c->type_length;
            cell->bytes = q;
            q += c->type_length;
            break;
        default:
            return fail(r, "physical type %d is not one csvpipe writes", c->physical);
        }
    }
    *p = q;
    return 0;
}

/* The page body decompressed into memory kept by the file; *out its start. */
static int decompress(rd *r, int codec, const uint8_t *in, size_t inlen, size_t outlen,
                      const uint8_t **out)
{
    uint8_t *o = keep(r->f, outlen);
    if (!o)
        return fail(r, "out of memory");
    switch (codec) {
    case 0:
        if (inlen != outlen)
            return fail(r, "an uncompressed page of %zu bytes says %zu", inlen, outlen);
        memcpy(o, in, inlen);
        break;
    case 1: {
        size_t n = 0;
        if (snappy_uncompressed_length((const char *)in, inlen, &n) != SNAPPY_OK || n != outlen)
            return fail(r, "a snappy page does not hold its %zu bytes", outlen);
        if (snappy_uncompress((const char *)in, inlen, (char *)o, &n) != SNAPPY_OK || n != outlen)
            return fail(r, "a snappy page does not decompress");
        break;
    }
    case 2: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
            return fail(r, "zlib cannot start");
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)inlen;
        z.next_out = o;
        z.avail_out = (uInt)outlen;
        int zr = inflate(&z, Z_FINISH);
        bool ok = zr == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0;
        inflateEnd(&z);
        if (!ok)
            return fail(r, "a gzip page is not one gzip member of %zu bytes", outlen);
        break;
    }
    case 6: {
        size_t n = ZSTD_decompress(o, outlen, in, inlen);
        if (ZSTD_isError(n) || n != outlen)
            return fail(r, "a zstd page does not hold its %zu bytes", outlen);
        break;
    }
    default:
        return fail(r, "codec %d is not one csvpipe writes", codec);
    }
    *out = o;
    return 0;
}

/* ---- statistics ----------------------------------------------------------------------- */

static int cmp_signed_be(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n == 0)
        return 0;
    if ((a[0] ^ b[0]) & 0x80)
        return (a[0] & 0x80) ? -1 : 1;
    return memcmp(a, b, n);
}

static int cmp_bytes(const pq_cell *a, const pq_cell *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->bytes, b->bytes, n) : 0;
    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* Order of two non-null values in the column's sort order (DOUBLE: non-NaN only). */
static int cmp_cells(const pq_column *c, const pq_cell *a, const pq_cell *b)
{
    switch (c->physical) {
    case 5:
        return (a->f > b->f) - (a->f < b->f);
    case 6:
        return cmp_bytes(a, b);
    case 7:
        return cmp_signed_be(a->bytes, b->bytes, a->len);
    default:
        return (a->i > b->i) - (a->i < b->i);
    }
}

/* The PLAIN bytes of a bound (no length prefix) into out; its length. */
static size_t bound_bytes(const pq_column *c, const pq_cell *v, uint8_t *out, const uint8_t **big)
{
    *big = NULL;
    switch (c->physical) {
    case 0:
        out[0] = (uint8_t)v->i;
        return 1;
    case 1:
        for (int k = 0; k < 4; k++)
            out[k] = (uint8_t)((uint64_t)v->i >> (8 * k));
        return 4;
    case 2:
        for (int k = 0; k < 8; k++)
            out[k] = (uint8_t)((uint64_t)v->i >> (8 * k));
        return 8;
    case 5: {
        uint64_t bits;
        memcpy(&bits, &v->f, 8);
        for (int k = 0; k < 8; k++)
            out[k] = (uint8_t)(bits >> (8 * k));
        return 8;
    }
    default:
        *big = v->bytes;
        return v->len;
    }
}

static int check_bound(rd *r, const pq_column *c, const tnode *field, const pq_cell *want,
                       const char *what)
{
    uint8_t small[8];
    const uint8_t *big;
    size_t n = bound_bytes(c, want, small, &big);
    const uint8_t *w = big ? big : small;
    if (!field || field->type != T_BINARY || field->len != n ||
        (n && memcmp(field->bin, w, n) != 0))
        return fail(r, "column %s: the statistics' %s is not the chunk's %s", c->name, what, what);
    return 0;
}

static int check_stats(rd *r, const pq_column *c, const tnode *st, const pq_cell *cells, size_t n)
{
    int64_t nulls = 0, nans = 0;
    const pq_cell *lo = NULL, *hi = NULL;
    for (size_t k = 0; k < n; k++) {
        const pq_cell *v = &cells[k];
        if (!v->valid) {
            nulls++;
            continue;
        }
        if (c->physical == 5 && v->f != v->f) {
            nans++;
            continue;
        }
        if (!lo || cmp_cells(c, v, lo) < 0)
            lo = v;
        if (!hi || cmp_cells(c, v, hi) > 0)
            hi = v;
    }
    if (!st)
        return fail(r, "column %s: a chunk without statistics", c->name);
    const tnode *nc = fld(st, 3);
    if (!is_int(nc) || nc->i != nulls)
        return fail(r, "column %s: null_count %lld, the chunk has %lld nulls", c->name,
                    nc ? (long long)nc->i : -1LL, (long long)nulls);
    const tnode *nan = fld(st, 9);
    if (c->physical == 5 && (!is_int(nan) || nan->i != nans))
        return fail(r, "column %s: nan_count %lld, the chunk has %lld NaNs", c->name,
                    nan ? (long long)nan->i : -1LL, (long long)nans);
    if (!lo) {
        if (fld(st, 5) || fld(st, 6) || fld(st, 1) || fld(st, 2))
            return fail(r, "column %s: bounds without a value to bound", c->name);
        return 0;
    }
    pq_cell lo_v = *lo, hi_v = *hi;
    if (c->physical == 5) { /* a zero minimum is -0.0, a zero maximum +0.0 */
        if (lo_v.f == 0)
            lo_v.f = -0.0;
        if (hi_v.f == 0)
            hi_v.f = 0.0;
    }
    if (check_bound(r, c, fld(st, 5), &hi_v, "max_value") ||
        check_bound(r, c, fld(st, 6), &lo_v, "min_value"))
        return -1;
    if ((fld(st, 1) && check_bound(r, c, fld(st, 1), &hi_v, "max")) ||
        (fld(st, 2) && check_bound(r, c, fld(st, 2), &lo_v, "min")))
        return -1;
    const tnode *ex;
    if (((ex = fld(st, 7)) && ex->type != T_TRUE) || ((ex = fld(st, 8)) && ex->type != T_TRUE))
        return fail(r, "column %s: bounds said to be inexact", c->name);
    return 0;
}

/* ---- column chunks ------------------------------------------------------------------------- */

typedef struct chunk_counts {
    int64_t dict_pages, dict_data_pages, plain_data_pages;
} chunk_counts;

static int read_chunk(rd *r, pq_column *c, const tnode *md, int64_t rg_rows, int64_t first_row,
                      int64_t *chunk_start, int64_t *chunk_end, int64_t *uncompressed)
{
    const tnode *type = fld(md, 1), *codec = fld(md, 4), *nv = fld(md, 5), *tu = fld(md, 6),
                *tc = fld(md, 7), *dpo = fld(md, 9), *dio = fld(md, 11);
    if (!is_int(type) || type->i != c->physical)
        return fail(r, "column %s: the chunk's type is not the schema's", c->name);
    if (!is_int(codec) || !is_int(nv) || !is_int(tu) || !is_int(tc) || !is_int(dpo))
        return fail(r, "column %s: a chunk lacks codec, sizes or offsets", c->name);
    if (nv->i != rg_rows)
        return fail(r, "column %s: a chunk of %lld values in a row group of %lld rows", c->name,
                    (long long)nv->i, (long long)rg_rows);
    const tnode *path = fld(md, 3);
    if (!path || path->type != T_LIST || path->nkids != 1 || path->kids[0].type != T_BINARY ||
        path->kids[0].len != strlen(c->name) ||
        memcmp(path->kids[0].bin, c->name, path->kids[0].len) != 0)
        return fail(r, "column %s: path_in_schema is not the column's name", c->name);
    int64_t start = dio ? dio->i : dpo->i;
    if (dio && (!is_int(dio) || dio->i >= dpo->i))
        return fail(r, "column %s: the dictionary page is not before the data pages", c->name);
    size_t footer_at = r->len - 8 - le32(r->data + r->len - 8);
    if (start < 4 || tc->i <= 0 || (uint64_t)start > footer_at ||
        (uint64_t)tc->i > footer_at - (uint64_t)start)
        return fail(r,
                    "column %s: the chunk [%lld, +%lld) is not between the magic and the "
                    "footer",
                    c->name, (long long)start, (long long)tc->i);
    const uint8_t *p = r->data + start, *end = p + tc->i;
    int64_t got = 0, unc_total = 0;
    chunk_counts cnt = {0, 0, 0};
    pq_cell *dict = NULL;
    size_t ndict = 0;
    uint32_t *idx = NULL;
    uint32_t *levels = NULL;
    pq_cell *vals = NULL;
    int rc = -1;
    pq_cell *cells = c->cells + first_row;
    while (got < nv->i) {
        if (p >= end) {
            fail(r, "column %s: the chunk ends after %lld of %lld values", c->name, (long long)got,
                 (long long)nv->i);
            goto out;
        }
        tin t = {p, end, NULL};
        tnode h;
        memset(&h, 0, sizeof h);
        t_struct(&t, &h, 0);
        if (t.err) {
            t_free(&h);
            fail(r, "column %s: page header at %td: %s", c->name, p - r->data, t.err);
            goto out;
        }
        size_t hl = (size_t)(t.p - p);
        const tnode *ptype = fld(&h, 1), *usize = fld(&h, 2), *csize = fld(&h, 3);
        if (!is_int(ptype) || !is_int(usize) || !is_int(csize) || usize->i < 0 || csize->i < 0 ||
            csize->i > end - t.p) {
            t_free(&h);
            fail(r, "column %s: a page header without type or sizes, or past the chunk", c->name);
            goto out;
        }
        const uint8_t *body;
        if (decompress(r, (int)codec->i, t.p, (size_t)csize->i, (size_t)usize->i, &body)) {
            t_free(&h);
            goto out;
        }
        const uint8_t *q = body, *qend = body + usize->i;
        unc_total += (int64_t)hl + usize->i;
        p = t.p + csize->i;
        if (ptype->i == 2) { /* DICTIONARY_PAGE */
            const tnode *dh = fld(&h, 7);
            const tnode *n = fld(dh, 1), *enc = fld(dh, 2);
            bool first = q && dio && t.p - hl == r->data + start;
            if (!first || !is_int(n) || n->i < 0 || n->i > usize->i * 8 + 8 || !is_int(enc) ||
                enc->i != 0 || dict) {
                t_free(&h);
                fail(r,
                     "column %s: a dictionary page that is not the chunk's first, or not "
                     "PLAIN",
                     c->name);
                goto out;
            }
            ndict = (size_t)n->i;
            dict = calloc(ndict ? ndict : 1, sizeof *dict);
            if (!dict || plain_decode(r, c, &q, qend, dict, ndict)) {
                t_free(&h);
                fail(r, "column %s: the dictionary", c->name);
                goto out;
            }
            if (q != qend) {
                t_free(&h);
                fail(r, "column %s: %td bytes after the dictionary's values", c->name, qend - q);
                goto out;
            }
            cnt.dict_pages++;
            t_free(&h);
            continue;
        }
        const tnode *dh = fld(&h, 5);
        const tnode *n = fld(dh, 1), *enc = fld(dh, 2), *denc = fld(dh, 3), *renc = fld(dh, 4);
        if (ptype->i != 0 || !is_int(n) || n->i <= 0 || n->i > nv->i - got || !is_int(enc) ||
            !is_int(denc) || denc->i != 3 || !is_int(renc) || renc->i != 3) {
            t_free(&h);
            fail(r,
                 "column %s: a page that is not a data page v1 of at most the values left "
                 "with RLE levels",
                 c->name);
            goto out;
        }
        size_t count = (size_t)n->i;
        int encoding = (int)enc->i;
        t_free(&h);
        if (qend - q < 4 || le32(q) > (size_t)(qend - q) - 4) {
            fail(r, "column %s: the definition levels run past their page", c->name);
            goto out;
        }
        const uint8_t *lend = q + 4 + le32(q);
        q += 4;
        free(levels);
        levels = malloc(count * sizeof *levels);
        if (!levels || rle_decode(r, &q, lend, 1, levels, count))
            goto out;
        if (q != lend) {
            fail(r, "column %s: %td bytes after the definition levels", c->name, lend - q);
            goto out;
        }
        size_t nonnull = 0;
        for (size_t k = 0; k < count; k++)
            nonnull += levels[k];
        free(vals);
        vals = calloc(nonnull ? nonnull : 1, sizeof *vals);
        if (!vals) {
            fail(r, "out of memory");
            goto out;
        }
        if (encoding == 0) {
            if (plain_decode(r, c, &q, qend, vals, nonnull))
                goto out;
            cnt.plain_data_pages++;
        } else if (encoding == 8) {
            if (!dict) {
                fail(r, "column %s: an RLE_DICTIONARY page without a dictionary", c->name);
                goto out;
            }
            if (q >= qend || *q > 32) {
                fail(r, "column %s: no or a bad bit width for dictionary indices", c->name);
                goto out;
            }
            unsigned w = *q++;
            free(idx);
            idx = malloc((nonnull ? nonnull : 1) * sizeof *idx);
            if (!idx || rle_decode(r, &q, qend, w, idx, nonnull))
                goto out;
            for (size_t k = 0; k < nonnull; k++) {
                if (idx[k] >= ndict) {
                    fail(r, "column %s: dictionary index %u of %zu entries", c->name, idx[k],
                         ndict);
                    goto out;
                }
                vals[k] = dict[idx[k]];
            }
            cnt.dict_data_pages++;
        } else {
            fail(r, "column %s: data page encoding %d is not PLAIN or RLE_DICTIONARY", c->name,
                 encoding);
            goto out;
        }
        if (q != qend) {
            fail(r, "column %s: %td bytes after a data page's values", c->name, qend - q);
            goto out;
        }
        for (size_t k = 0, v = 0; k < count; k++) {
            if (levels[k])
                cells[got + (int64_t)k] = vals[v++];
            else
                memset(&cells[got + (int64_t)k], 0, sizeof *cells);
        }
        got += (int64_t)count;
    }
    if (p != end) {
        fail(r, "column %s: %td bytes after the chunk's last page", c->name, end - p);
        goto out;
    }
    if (unc_total != tu->i) {
        fail(r, "column %s: total_uncompressed_size %lld, the pages have %lld", c->name,
             (long long)tu->i, (long long)unc_total);
        goto out;
    }
    if (dio && !cnt.dict_pages) {
        fail(r, "column %s: a dictionary page offset without a dictionary page", c->name);
        goto out;
    }
    /* encodings: PLAIN (dictionary page or PLAIN data), RLE (levels), RLE_DICTIONARY */
    const tnode *encs = fld(md, 2);
    bool want[9] = {false};
    want[0] = cnt.dict_pages || cnt.plain_data_pages;
    want[3] = true;
    want[8] = cnt.dict_data_pages > 0;
    bool have[9] = {false};
    for (uint32_t k = 0; encs && k < encs->nkids; k++) {
        int64_t e = encs->kids[k].i;
        if (e < 0 || e > 8 || have[e]) {
            fail(r, "column %s: encodings lists %lld (twice, or unknown)", c->name, (long long)e);
            goto out;
        }
        have[e] = true;
    }
    if (memcmp(want, have, sizeof want) != 0) {
        fail(r, "column %s: the encodings list is not the encodings used", c->name);
        goto out;
    }
    const tnode *es = fld(md, 13);
    if (es) {
        int64_t seen[3] = {0, 0, 0};
        for (uint32_t k = 0; k < es->nkids; k++) {
            const tnode *pt = fld(&es->kids[k], 1), *e = fld(&es->kids[k], 2),
                        *ct = fld(&es->kids[k], 3);
            if (!is_int(pt) || !is_int(e) || !is_int(ct)) {
                fail(r, "column %s: a PageEncodingStats lacks a field", c->name);
                goto out;
            }
            int slot = pt->i == 2 && e->i == 0   ? 0
                       : pt->i == 0 && e->i == 8 ? 1
                       : pt->i == 0 && e->i == 0 ? 2
                                                 : -1;
            if (slot < 0 || seen[slot]) {
                fail(r, "column %s: encoding_stats lists page type %lld encoding %lld", c->name,
                     (long long)pt->i, (long long)e->i);
                goto out;
            }
            seen[slot] = ct->i;
        }
        if (seen[0] != cnt.dict_pages || seen[1] != cnt.dict_data_pages ||
            seen[2] != cnt.plain_data_pages) {
            fail(r,
                 "column %s: encoding_stats count %lld/%lld/%lld pages, the chunk has "
                 "%lld/%lld/%lld",
                 c->name, (long long)seen[0], (long long)seen[1], (long long)seen[2],
                 (long long)cnt.dict_pages, (long long)cnt.dict_data_pages,
                 (long long)cnt.plain_data_pages);
            goto out;
        }
    }
    if (check_stats(r, c, fld(md, 12), cells, (size_t)nv->i))
        goto out;
    *chunk_start = start;
    *chunk_end = start + tc->i;
    *uncompressed = unc_total;
    rc = 0;
out:
    free(dict);
    free(idx);
    free(levels);
    free(vals);
    return rc;
}

/* ---- the file ----------------------------------------------------------------------------- */

static int read_schema(rd *r, const tnode *schema)
{
    if (!schema || schema->type != T_LIST || schema->nkids < 1)
        return fail(r, "the footer has no schema");
    const tnode *root = &schema->kids[0];
    const tnode *nc = fld(root, 5);
    if (!is_int(nc) || nc->i != (int64_t)schema->nkids - 1 || fld(root, 1))
        return fail(r, "the schema root does not have the %u leaves as children",
                    schema->nkids - 1);
    pq_file *f = r->f;
    f->ncolumns = schema->nkids - 1;
    f->columns = calloc(f->ncolumns ? f->ncolumns : 1, sizeof *f->columns);
    if (!f->columns)
        return fail(r, "out of memory");
    for (size_t k = 0; k < f->ncolumns; k++) {
        const tnode *e = &schema->kids[k + 1];
        pq_column *c = &f->columns[k];
        c->physical = c->type_length = c->repetition = c->converted = -1;
        c->scale = c->precision = c->logical = c->logical_a = c->logical_b = -1;
        const tnode *v;
        if (fld(e, 5))
            return fail(r, "schema element %zu is not a leaf", k + 1);
        if (!(c->name = dup_bin(fld(e, 4))))
            return fail(r, "schema element %zu has no name", k + 1);
        if (!is_int(v = fld(e, 1)))
            return fail(r, "column %s has no type", c->name);
        c->physical = (int)v->i;
        if (is_int(v = fld(e, 2)))
            c->type_length = (int)v->i;
        if (is_int(v = fld(e, 3)))
            c->repetition = (int)v->i;
        if (is_int(v = fld(e, 6)))
            c->converted = (int)v->i;
        if (is_int(v = fld(e, 7)))
            c->scale = (int)v->i;
        if (is_int(v = fld(e, 8)))
            c->precision = (int)v->i;
        const tnode *lt = fld(e, 10);
        if (lt) {
            if (lt->nkids != 1)
                return fail(r, "column %s: a LogicalType union with %u members", c->name,
                            lt->nkids);
            const tnode *u = &lt->kids[0];
            c->logical = u->id;
            if (u->id == 5) { /* DecimalType: 1 scale, 2 precision */
                c->logical_a = is_int(fld(u, 1)) ? (int)fld(u, 1)->i : -1;
                c->logical_b = is_int(fld(u, 2)) ? (int)fld(u, 2)->i : -1;
            } else if (u->id == 10) { /* IntType: 1 bitWidth, 2 isSigned */
                c->logical_a = is_int(fld(u, 1)) ? (int)fld(u, 1)->i : -1;
                c->logical_b = fld(u, 2) ? (int)fld(u, 2)->i : -1;
            } else if (u->id == 8) { /* TimestampType: 1 isAdjustedToUTC, 2 unit */
                const tnode *unit = fld(u, 2);
                c->logical_a = fld(u, 1) ? (int)fld(u, 1)->i : -1;
                c->logical_b = unit && unit->nkids == 1 ? unit->kids[0].id : -1;
            }
        }
        if (c->repetition != 1)
            return fail(r, "column %s is not OPTIONAL", c->name);
    }
    return 0;
}

int pq_read(const uint8_t *data, size_t len, pq_file *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    rd r = {data, len, why, cap, false, out};
    if (cap)
        why[0] = '\0';
    if (len < 12 || memcmp(data, "PAR1", 4) != 0 || memcmp(data + len - 4, "PAR1", 4) != 0)
        return fail(&r, "no PAR1 at both ends of %zu bytes", len);
    uint32_t flen = le32(data + len - 8);
    if (flen > len - 12)
        return fail(&r, "a footer of %u bytes in a file of %zu", flen, len);
    const uint8_t *footer = data + len - 8 - flen;
    tin t = {footer, footer + flen, NULL};
    tnode md;
    memset(&md, 0, sizeof md);
    t_struct(&t, &md, 0);
    int rc = -1;
    if (t.err) {
        fail(&r, "footer: %s", t.err);
        goto out;
    }
    if (t.p != footer + flen) {
        fail(&r, "%td bytes after the footer's FileMetaData", footer + flen - t.p);
        goto out;
    }
    const tnode *version = fld(&md, 1), *nrows = fld(&md, 3), *rgs = fld(&md, 4);
    if (!is_int(version) || !is_int(nrows) || nrows->i < 0 || nrows->i > MAX_ROWS || !rgs ||
        rgs->type != T_LIST) {
        fail(&r, "the footer lacks version, num_rows or row_groups");
        goto out;
    }
    if (read_schema(&r, fld(&md, 2)))
        goto out;
    out->num_rows = nrows->i;
    out->nrow_groups = rgs->nkids;
    out->created_by = dup_bin(fld(&md, 6));
    const tnode *kv = fld(&md, 5);
    if (kv) {
        out->keys = calloc(kv->nkids + 1, sizeof *out->keys);
        out->values = calloc(kv->nkids + 1, sizeof *out->values);
        if (!out->keys || !out->values) {
            fail(&r, "out of memory");
            goto out;
        }
        for (uint32_t k = 0; k < kv->nkids; k++) {
            out->keys[k] = dup_bin(fld(&kv->kids[k], 1));
            out->values[k] = dup_bin(fld(&kv->kids[k], 2));
            out->nkv++;
            if (!out->keys[k] || !out->values[k]) {
                fail(&r, "a key-value pair without key or value");
                goto out;
            }
        }
    }
    const tnode *orders = fld(&md, 7);
    if (orders && orders->nkids != out->ncolumns) {
        fail(&r, "%u column orders for %zu columns", orders->nkids, out->ncolumns);
        goto out;
    }
    for (size_t c = 0; c < out->ncolumns; c++) {
        out->columns[c].cells = calloc(out->num_rows ? (size_t)out->num_rows : 1, sizeof(pq_cell));
        if (!out->columns[c].cells) {
            fail(&r, "out of memory");
            goto out;
        }
    }
    int64_t row = 0, expect_at = 4;
    for (uint32_t g = 0; g < rgs->nkids; g++) {
        const tnode *rg = &rgs->kids[g];
        const tnode *cols = fld(rg, 1), *bytes = fld(rg, 2), *n = fld(rg, 3), *off = fld(rg, 5),
                    *tcs = fld(rg, 6), *ord = fld(rg, 7);
        if (!cols || cols->nkids != out->ncolumns || !is_int(n) || n->i <= 0 ||
            n->i > out->num_rows - row || !is_int(bytes)) {
            fail(&r, "row group %u: no columns, or a row count outside the file's", g);
            goto out;
        }
        if (ord && ord->i != g) {
            fail(&r, "row group %u has ordinal %lld", g, (long long)ord->i);
            goto out;
        }
        int64_t first = -1, unc = 0, comp = 0;
        for (size_t c = 0; c < out->ncolumns; c++) {
            const tnode *cc = &cols->kids[c];
            const tnode *fo = fld(cc, 2), *md3 = fld(cc, 3);
            if (!md3 || (fo && fo->i != 0 && fo->i != expect_at)) {
                fail(&r, "row group %u column %zu: no ColumnMetaData, or a bad file_offset", g, c);
                goto out;
            }
            int64_t s, e, u;
            if (read_chunk(&r, &out->columns[c], md3, n->i, row, &s, &e, &u))
                goto out;
            if (s != expect_at) {
                fail(&r,
                     "row group %u column %zu starts at %lld, not right after the previous "
                     "chunk at %lld",
                     g, c, (long long)s, (long long)expect_at);
                goto out;
            }
            if (first < 0)
                first = s;
            expect_at = e;
            unc += u;
            comp += e - s;
        }
        if (bytes->i != unc || (off && off->i != first) || (tcs && tcs->i != comp)) {
            fail(&r,
                 "row group %u: total_byte_size, file_offset or total_compressed_size is "
                 "not what its chunks add up to",
                 g);
            goto out;
        }
        row += n->i;
    }
    if (row != out->num_rows) {
        fail(&r, "num_rows %lld, the row groups hold %lld", (long long)out->num_rows,
             (long long)row);
        goto out;
    }
    if ((size_t)expect_at != (size_t)(footer - data)) {
        fail(&r, "%lld bytes between the last chunk and the footer",
             (long long)((footer - data) - expect_at));
        goto out;
    }
    rc = 0;
out:
    t_free(&md);
    return rc;
}
