/*
 * libFuzzer target: random typed batches -> the Parquet writer -> an independent reader
 * (pq_read.c) -> the same values.
 *
 * The input decides the schema (1 to 8 columns of every type, DECIMAL of every precision
 * and scale, the original headers), the writer's options (codec, page size, dictionary
 * limit, row group size and memory: tiny values force many pages, dictionary fallbacks and
 * row groups), the batch size, the row count and every value; past the input's end values
 * come from a generator seeded by the input. Values are drawn from a small per-column pool
 * often enough to use dictionaries, and include the edges (NaN, -0.0, infinities, the
 * largest DECIMAL of the precision, empty and binary strings).
 *
 * Checked: the writer accepts everything; the reader's own checks (pq_read.h: sizes,
 * offsets, counts, encodings, exact statistics); the schema mapping of pq_meta.h written
 * out here again (physical type, converted type, logical type, DECIMAL length); every cell
 * equal to the value written (doubles bit for bit); the key-value metadata is JSON naming
 * the columns.
 *
 * Why a reader rather than structural checks alone: only decoding the pages shows that the
 * bytes mean the values, and the statistics can only be checked against decoded values.
 */
#include "parquet/parquet_writer.h"
#include "pq_read.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COLS 8
#define POOL 16

typedef struct src {
    const uint8_t *p;
    size_t n;
    uint64_t rng;
} src;

static uint8_t u8(src *s)
{
    if (s->n) {
        s->n--;
        return *s->p++;
    }
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (uint8_t)(s->rng >> 32);
}

static uint64_t u64(src *s)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | u8(s);
    return v;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static cp_status mem_write(void *ctx, const void *data, size_t len)
{
    return cp_buf_append(ctx, data, len);
}

typedef struct value {
    bool valid;
    int64_t i;
    double f;
    cp_i128 dec;
    size_t off, len; /* STRING: bytes in `text` */
} value;

static cp_buf text; /* the bytes of every STRING value of one run */

static cp_i128 pow10_128(unsigned p)
{
    cp_i128 v = 1;
    while (p--)
        v *= 10;
    return v;
}

/* The least FIXED_LEN_BYTE_ARRAY length that holds every DECIMAL of precision p. */
static int decimal_bytes(unsigned p)
{
    cp_i128 top = pow10_128(p) - 1;
    for (int n = 1; n <= 16; n++) {
        unsigned __int128 max = ((unsigned __int128)1 << (8 * n - 1)) - 1;
        if (max >= (unsigned __int128)top)
            return n;
    }
    return 16;
}

static void fresh(src *s, cp_type t, value *v)
{
    memset(v, 0, sizeof *v);
    v->valid = true;
    uint8_t m = u8(s);
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        v->i = m & 1;
        break;
    case CP_TYPE_INT64:
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        v->i = m & 1 ? (int64_t)u8(s) - 128 : (int64_t)u64(s);
        break;
    case CP_TYPE_DATE:
        v->i = m & 1 ? (int64_t)u8(s) - 128 : (int64_t)(int32_t)u64(s);
        break;
    case CP_TYPE_DOUBLE: {
        static const double special[] = {0.0,       -0.0, NAN,   -NAN,   INFINITY,
                                         -INFINITY, 1.5,  -2.25, 5e-324, 1.7976931348623157e308};
        if (m & 1) {
            v->f = special[u8(s) % (sizeof special / sizeof special[0])];
        } else {
            uint64_t bits = u64(s);
            memcpy(&v->f, &bits, 8);
        }
        break;
    }
    case CP_TYPE_DECIMAL: {
        cp_i128 lim = pow10_128(t.precision);
        if (m & 2) {
            v->dec = (m & 4) ? lim - 1 : -(lim - 1);
        } else {
            unsigned __int128 r = (unsigned __int128)u64(s) << 64 | u64(s);
            v->dec = (cp_i128)(r % (unsigned __int128)lim);
            if (m & 4)
                v->dec = -v->dec;
        }
        break;
    }
    default: { /* STRING */
        v->len = m & 1 ? u8(s) % 4 : (m & 2 ? u8(s) % 40 : (size_t)u8(s) + u8(s) % 45);
        v->off = text.len;
        for (size_t k = 0; k < v->len; k++)
            if (cp_buf_append_char(&text, m & 4 ? (char)('a' + u8(s) % 3) : (char)u8(s)) != CP_OK)
                abort();
        break;
    }
    }
}

static void put(cp_batch *b, size_t c, size_t r, const value *v)
{
    cp_column_data *d = &b->cols[c];
    cp_type_id id = b->schema->columns[c].type.id;
    if (!v->valid) {
        d->validity[r >> 6] &= ~(1ULL << (r & 63));
        d->nnulls++;
        if (id == CP_TYPE_STRING)
            d->v.offsets[r + 1] = d->v.offsets[r];
        return;
    }
    d->validity[r >> 6] |= 1ULL << (r & 63);
    switch (id) {
    case CP_TYPE_BOOLEAN:
        d->v.boolean[r] = (uint8_t)v->i;
        break;
    case CP_TYPE_DATE:
        d->v.date[r] = (int32_t)v->i;
        break;
    case CP_TYPE_DOUBLE:
        d->v.f64[r] = v->f;
        break;
    case CP_TYPE_DECIMAL:
        d->v.decimal[r] = v->dec;
        break;
    case CP_TYPE_STRING:
        if (cp_buf_append(&d->strings, text.data + v->off, v->len) != CP_OK)
            abort();
        d->v.offsets[r + 1] = (uint32_t)d->strings.len;
        b->string_bytes += v->len;
        break;
    default:
        d->v.i64[r] = v->i;
        break;
    }
}

/* The value read back must be the value written. */
static bool same(cp_type t, const value *v, const pq_cell *c)
{
    if (v->valid != c->valid)
        return false;
    if (!v->valid)
        return true;
    switch (t.id) {
    case CP_TYPE_DOUBLE:
        return memcmp(&v->f, &c->f, 8) == 0;
    case CP_TYPE_DECIMAL: {
        int n = decimal_bytes(t.precision);
        if (c->len != (uint32_t)n)
            return false;
        cp_i128 x = (c->bytes[0] & 0x80) ? -1 : 0;
        for (int k = 0; k < n; k++)
            x = (cp_i128)((unsigned __int128)x << 8 | c->bytes[k]);
        return x == v->dec;
    }
    case CP_TYPE_STRING:
    case CP_TYPE_NULL:
        return c->len == v->len &&
               (v->len == 0 || memcmp(c->bytes, text.data + v->off, v->len) == 0);
    default:
        return c->i == v->i;
    }
}

/* The schema element pq_meta.h promises for type t. */
static void check_mapping(const cp_column *col, const pq_column *pc)
{
    cp_type t = col->type;
    int phys, conv = -1, logical = -1, la = -1, lb = -1, tlen = -1, sc = -1, pr = -1;
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        phys = 0;
        break;
    case CP_TYPE_INT64:
        phys = 2, conv = 18, logical = 10, la = 64, lb = 1;
        break;
    case CP_TYPE_DECIMAL:
        phys = 7, conv = 5, logical = 5, la = sc = t.scale, lb = pr = t.precision;
        tlen = decimal_bytes(t.precision);
        break;
    case CP_TYPE_DOUBLE:
        phys = 5;
        break;
    case CP_TYPE_DATE:
        phys = 1, conv = 6, logical = 6;
        break;
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        phys = 2, conv = 10, logical = 8, la = t.id == CP_TYPE_TIMESTAMPTZ, lb = 2;
        break;
    default:
        phys = 6, conv = 0, logical = 1;
        break;
    }
    if (strcmp(pc->name, col->name) != 0)
        die("column %s is named %s in the footer", col->name, pc->name);
    if (pc->physical != phys || pc->converted != conv || pc->logical != logical ||
        pc->logical_a != la || pc->logical_b != lb || pc->type_length != tlen || pc->scale != sc ||
        pc->precision != pr) {
        fprintf(stderr,
                "column %s: physical %d converted %d logical %d (%d, %d) length %d scale %d "
                "precision %d; expected %d %d %d (%d, %d) %d %d %d\n",
                col->name, pc->physical, pc->converted, pc->logical, pc->logical_a, pc->logical_b,
                pc->type_length, pc->scale, pc->precision, phys, conv, logical, la, lb, tlen, sc,
                pr);
        abort();
    }
}

static void check_kv(const pq_file *f, const cp_schema *schema)
{
    bool seen_schema = false, seen_headers = false;
    for (size_t k = 0; k < f->nkv; k++) {
        json_error_t je;
        json_t *j = json_loads(f->values[k], 0, &je);
        if (!json_is_array(j) || json_array_size(j) != schema->ncolumns)
            die("key-value %s is not a JSON array of the columns: %s", f->keys[k], f->values[k]);
        for (size_t c = 0; c < schema->ncolumns; c++) {
            json_t *e = json_array_get(j, c);
            if (strcmp(f->keys[k], "csvpipe.schema") == 0) {
                const char *name = json_string_value(json_object_get(e, "name"));
                if (!name || strcmp(name, schema->columns[c].name) != 0)
                    die("csvpipe.schema does not name column %s: %s", schema->columns[c].name,
                        f->values[k]);
                seen_schema = true;
            } else if (strcmp(f->keys[k], "csvpipe.headers") == 0) {
                if (!json_is_string(e))
                    die("csvpipe.headers holds a non-string: %s", f->values[k]);
                seen_headers = true;
            }
        }
        json_decref(j);
    }
    if (schema->ncolumns && (!seen_schema || !seen_headers))
        die("the footer lacks csvpipe.schema or csvpipe.headers");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < size; k++)
        h = (h ^ data[k]) * 1099511628211ull;
    src s = {data, size, h | 1};
    cp_buf_init(&text, CP_BUF_UNLIMITED);

    size_t ncols = 1 + u8(&s) % MAX_COLS;
    cp_schema schema;
    if (cp_schema_init(&schema, ncols) != CP_OK)
        abort();
    char headers[MAX_COLS][20];
    const char *hp[MAX_COLS];
    size_t hl[MAX_COLS];
    for (size_t c = 0; c < ncols; c++) {
        uint8_t t = u8(&s) % 9;
        cp_type type = cp_type_of((cp_type_id)t);
        if (t == CP_TYPE_DECIMAL) {
            unsigned p = 1 + u8(&s) % 38;
            type = cp_type_decimal(p, u8(&s) % (p + 1));
        }
        schema.columns[c].type = type;
        /* headers are decoded text: valid UTF-8 (json_escape.h) */
        static const char *const pieces[] = {"a",
                                             "Z",
                                             " ",
                                             "_",
                                             "-",
                                             "9",
                                             "\"",
                                             "\\",
                                             "\t",
                                             "\x01",
                                             "\xc3\xa9",
                                             "\xe2\x82\xac",
                                             "\xf0\x9f\x98\x80"};
        size_t n = u8(&s) % 5;
        hl[c] = 0;
        for (size_t k = 0; k < n; k++) {
            const char *piece = pieces[u8(&s) % (sizeof pieces / sizeof pieces[0])];
            memcpy(headers[c] + hl[c], piece, strlen(piece));
            hl[c] += strlen(piece);
        }
        hp[c] = headers[c];
    }
    if (cp_schema_set_names(&schema, hp, hl, NULL) != CP_OK)
        abort();

    static const cp_pq_codec codecs[] = {CP_PQ_UNCOMPRESSED, CP_PQ_SNAPPY, CP_PQ_GZIP, CP_PQ_ZSTD};
    /* not the defaults (a MiB each per column): fresh memory for every run is slow */
    static const size_t pages[] = {1, 16, 128, 1024, 16384};
    static const size_t dicts[] = {CP_PQ_NO_DICTIONARY, 1, 16, 256, 16384};
    static const size_t groups[] = {0, 1, 64, 512, 8192};
    static const size_t memories[] = {0, 1, 256};
    cp_pq_options o;
    cp_pq_options_init(&o);
    o.codec = codecs[u8(&s) % 4];
    o.page_bytes = pages[u8(&s) % 5];
    o.dictionary_limit = dicts[u8(&s) % 5];
    o.row_group_bytes = groups[u8(&s) % 5];
    o.row_group_memory = memories[u8(&s) % 3];
    size_t per_batch = 1 + u8(&s) % 300;
    size_t nrows = (size_t)u8(&s) << 1 | (u8(&s) & 1);
    if (o.page_bytes <= 16 && nrows > 64)
        nrows = 64; /* a page per value or two: each a compressor call, slow with gzip */

    value *rows = calloc((nrows ? nrows : 1) * ncols, sizeof *rows);
    value(*pool)[POOL] = calloc(ncols, sizeof *pool);
    size_t npool[MAX_COLS];
    for (size_t c = 0; c < ncols; c++) {
        npool[c] = u8(&s) % POOL;
        for (size_t k = 0; k < npool[c]; k++)
            fresh(&s, schema.columns[c].type, &pool[c][k]);
    }
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            value *v = &rows[r * ncols + c];
            uint8_t b = u8(&s);
            if (schema.columns[c].type.id == CP_TYPE_NULL || b % 7 == 0)
                v->valid = false;
            else if (npool[c] && (b & 8))
                *v = pool[c][(b >> 4) % npool[c]];
            else
                fresh(&s, schema.columns[c].type, v);
        }
    }

    cp_buf file;
    cp_buf_init(&file, CP_BUF_UNLIMITED);
    cp_error err;
    cp_pq_writer *w = NULL;
    if (cp_pq_writer_new(&schema, &o, mem_write, &file, &w, &err) != CP_OK)
        die("cp_pq_writer_new: %s", err.message);
    cp_batch b;
    if (cp_batch_init(&b, &schema, per_batch, 1u << 20, 1u << 16) != CP_OK)
        abort();
    for (size_t r0 = 0; r0 < nrows; r0 += per_batch) {
        cp_batch_clear(&b, r0 + 1);
        size_t n = nrows - r0 < per_batch ? nrows - r0 : per_batch;
        for (size_t c = 0; c < ncols; c++) {
            if (b.schema->columns[c].type.id == CP_TYPE_STRING)
                b.cols[c].v.offsets[0] = 0;
            for (size_t r = 0; r < n; r++)
                put(&b, c, r, &rows[(r0 + r) * ncols + c]);
        }
        b.nrows = n;
        if (cp_pq_writer_write_batch(w, &b, &err) != CP_OK)
            die("cp_pq_writer_write_batch: %s", err.message);
    }
    if (cp_pq_writer_finish(w, &err) != CP_OK)
        die("cp_pq_writer_finish: %s", err.message);
    if (cp_pq_writer_rows(w) != nrows || cp_pq_writer_bytes(w) != file.len)
        die("the writer counts other rows or bytes than it wrote");
    cp_pq_writer_free(w);
    cp_batch_release(&b);

    pq_file f;
    char why[512];
    if (pq_read((const uint8_t *)file.data, file.len, &f, why, sizeof why) != 0)
        die("read back: %s", why);
    if (f.num_rows != (int64_t)nrows || f.ncolumns != ncols)
        die("the file has other rows or columns than were written");
    if (!f.created_by || strncmp(f.created_by, "csvpipe version ", 16) != 0)
        die("created_by is %s", f.created_by ? f.created_by : "(none)");
    for (size_t c = 0; c < ncols; c++) {
        check_mapping(&schema.columns[c], &f.columns[c]);
        for (size_t r = 0; r < nrows; r++) {
            if (!same(schema.columns[c].type, &rows[r * ncols + c], &f.columns[c].cells[r])) {
                fprintf(stderr, "column %s row %zu: the value read back is not the value written\n",
                        schema.columns[c].name, r);
                abort();
            }
        }
    }
    check_kv(&f, &schema);
    pq_file_free(&f);
    cp_buf_release(&file);
    free(rows);
    free(pool);
    cp_buf_release(&text);
    cp_schema_release(&schema);
    return 0;
}
