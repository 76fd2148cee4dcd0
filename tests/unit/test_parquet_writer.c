/*
 * test_parquet_writer.c - the Parquet file writer through a memory callback: file
 * framing, one data page checked byte for byte, row groups by size, errors from the
 * callback and from misuse, and the atomic file sink. Reading files back with real
 * readers is the job of tests/conformance/parquet_property.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/parquet_writer.h"
#include "parquet/pq_column.h"
#include "util/file_sink.h"

#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct mem_out {
    cp_buf buf;
    size_t fail_after; /* CP_IO once this many bytes were taken (0: never) */
    unsigned calls;
} mem_out;

static cp_status mem_write(void *ctx, const void *data, size_t len)
{
    mem_out *m = ctx;
    m->calls++;
    if (m->fail_after && m->buf.len + len > m->fail_after)
        return CP_IO;
    return cp_buf_append(&m->buf, data, len);
}

static void make_schema(cp_schema *s, const cp_type *types, size_t n)
{
    assert_int_equal(cp_schema_init(s, n), CP_OK);
    const char *headers[8] = {"Id", "Name", "C", "D", "E", "F", "G", "H"};
    size_t lens[8];
    for (size_t i = 0; i < n; i++) {
        s->columns[i].type = types[i];
        lens[i] = strlen(headers[i]);
    }
    assert_int_equal(cp_schema_set_names(s, headers, lens, NULL), CP_OK);
}

static void fill_int64(cp_batch *b, size_t col, size_t n, int64_t start)
{
    for (size_t r = 0; r < n; r++) {
        b->cols[col].v.i64[r] = start + (int64_t)r;
        b->cols[col].validity[r >> 6] |= 1ULL << (r & 63);
    }
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool contains(const cp_buf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, s, n) == 0)
            return true;
    return false;
}

/* One INT64 value 7, uncompressed, no dictionary: the first page is known to the byte. */
static void test_single_value_page(void **state)
{
    (void)state;
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    make_schema(&s, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 4, 1024, 1024), CP_OK);
    b.cols[0].v.i64[0] = 7;
    b.cols[0].validity[0] = 1;
    b.nrows = 1;

    mem_out m = {0};
    cp_buf_init(&m.buf, 1 << 20);
    cp_pq_options o;
    cp_pq_options_init(&o);
    o.codec = CP_PQ_UNCOMPRESSED;
    o.dictionary_limit = CP_PQ_NO_DICTIONARY;
    cp_error err;
    cp_pq_writer *w;
    assert_int_equal(cp_pq_writer_new(&s, &o, mem_write, &m, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_OK);
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_rows(w), 1);
    assert_int_equal(cp_pq_writer_row_groups(w), 1);
    assert_int_equal(cp_pq_writer_bytes(w), m.buf.len);

    const unsigned char want[] = {
        'P', 'A', 'R', '1',
        /* PageHeader: type DATA_PAGE, uncompressed 14, compressed 14 (zigzag 28) */
        0x15, 0x00, 0x15, 0x1c, 0x15, 0x1c,
        /* field 5 DataPageHeader: 1 value, PLAIN, def RLE, rep RLE; stops */
        0x2c, 0x15, 0x02, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00,
        /* definition levels: length 2, one bit-packed group holding a single 1 */
        0x02, 0x00, 0x00, 0x00, 0x03, 0x01,
        /* the value, PLAIN INT64 */
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_true(m.buf.len > sizeof want + 8);
    assert_memory_equal(m.buf.data, want, sizeof want);
    const unsigned char *end = (const unsigned char *)m.buf.data + m.buf.len;
    assert_memory_equal(end - 4, "PAR1", 4);
    uint32_t footer = le32(end - 8);
    assert_int_equal(footer, m.buf.len - 8 - sizeof want);
    assert_true(contains(&m.buf, "csvpipe version " CP_VERSION " (build "));
    assert_true(contains(&m.buf, "csvpipe.schema"));
    assert_true(contains(&m.buf, "csvpipe.headers"));
    assert_true(contains(&m.buf, "[\"Id\"]"));

    cp_pq_writer_free(w);
    cp_buf_release(&m.buf);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static void test_zero_rows(void **state)
{
    (void)state;
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_STRING), cp_type_decimal(12, 2)};
    make_schema(&s, t, 2);
    mem_out m = {0};
    cp_buf_init(&m.buf, 1 << 20);
    cp_error err;
    cp_pq_writer *w;
    assert_int_equal(cp_pq_writer_new(&s, NULL, mem_write, &m, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_row_groups(w), 0);
    assert_memory_equal(m.buf.data, "PAR1", 4);
    assert_int_equal(le32((const unsigned char *)m.buf.data + m.buf.len - 8), m.buf.len - 12);
    /* finishing twice is misuse */
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_USAGE);
    cp_pq_writer_free(w);
    cp_pq_writer_free(NULL);
    cp_buf_release(&m.buf);
    cp_schema_release(&s);
}

static void test_row_groups_by_size(void **state)
{
    (void)state;
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_STRING)};
    make_schema(&s, t, 2);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 1000, 1 << 20, 1024), CP_OK);
    mem_out m = {0};
    cp_buf_init(&m.buf, 64 << 20);
    cp_pq_options o;
    cp_pq_options_init(&o);
    o.row_group_bytes = 16 * 1024;
    o.page_bytes = 2048;
    o.dictionary_limit = 256;
    cp_error err;
    cp_pq_writer *w;
    assert_int_equal(cp_pq_writer_new(&s, &o, mem_write, &m, &w, &err), CP_OK);
    assert_non_null(w);
    for (int k = 0; k < 20; k++) {
        cp_batch_clear(&b, 1 + (uint64_t)k * 1000);
        memset(b.cols[0].validity, 0, (1000 + 63) / 64 * 8);
        memset(b.cols[1].validity, 0, (1000 + 63) / 64 * 8);
        fill_int64(&b, 0, 1000, k * 1000);
        for (size_t r = 0; r < 1000; r++) {
            char tmp[32];
            int n = snprintf(tmp, sizeof tmp, "v%zu", (r * 7919) % 1000);
            b.cols[1].v.offsets[r] = (uint32_t)b.cols[1].strings.len;
            assert_int_equal(cp_buf_append(&b.cols[1].strings, tmp, (size_t)n), CP_OK);
            b.cols[1].v.offsets[r + 1] = (uint32_t)b.cols[1].strings.len;
            if (r % 3)
                b.cols[1].validity[r >> 6] |= 1ULL << (r & 63);
        }
        b.nrows = 1000;
        assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_OK);
    }
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_rows(w), 20000);
    unsigned groups = cp_pq_writer_row_groups(w);
    assert_true(groups > 5);
    /* bounded memory: every row group went out on its own */
    assert_true(m.calls > groups);
    cp_pq_writer_free(w);
    cp_buf_release(&m.buf);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

/*
 * Suspend flushes the buffered rows as a row group and hands nothing more to the callback
 * until the next write; a suspend with nothing buffered writes nothing; finish after a
 * suspend writes the footer of every row group.
 */
static void test_suspend(void **state)
{
    (void)state;
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    make_schema(&s, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 100, 1 << 20, 1024), CP_OK);
    mem_out m = {0};
    cp_buf_init(&m.buf, 1 << 20);
    cp_error err;
    cp_pq_writer *w;
    assert_int_equal(cp_pq_writer_new(&s, NULL, mem_write, &m, &w, &err), CP_OK);
    for (int k = 0; k < 3; k++) {
        cp_batch_clear(&b, 1 + (uint64_t)k * 100);
        memset(b.cols[0].validity, 0, (100 + 63) / 64 * 8);
        fill_int64(&b, 0, 100, k * 100);
        b.nrows = 100;
        assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_OK);
        assert_int_equal(cp_pq_writer_row_groups(w), (uint32_t)k);
        assert_int_equal(cp_pq_writer_suspend(w, &err), CP_OK);
        assert_int_equal(cp_pq_writer_row_groups(w), (uint32_t)k + 1);
        assert_int_equal(cp_pq_writer_bytes(w), m.buf.len);
        const size_t len = m.buf.len;
        assert_int_equal(cp_pq_writer_suspend(w, &err), CP_OK);
        assert_int_equal(m.buf.len, len);
    }
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_rows(w), 300);
    assert_int_equal(cp_pq_writer_row_groups(w), 3);
    assert_true(m.buf.len > 12);
    assert_memory_equal(m.buf.data + m.buf.len - 4, "PAR1", 4);
    cp_error_clear(&err);
    assert_int_equal(cp_pq_writer_suspend(w, &err), CP_USAGE); /* after finish */
    cp_pq_writer_free(w);

    /* a writer suspended with no row at all makes a valid empty file */
    cp_buf_reset(&m.buf);
    assert_int_equal(cp_pq_writer_new(&s, NULL, mem_write, &m, &w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_suspend(w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
    assert_int_equal(cp_pq_writer_row_groups(w), 0);
    assert_memory_equal(m.buf.data + m.buf.len - 4, "PAR1", 4);
    cp_pq_writer_free(w);
    cp_buf_release(&m.buf);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

/*
 * The memory cap closes row groups by the compressed bytes they hold, every one of them
 * alike: the first row group must not leave the writer closing one per slice afterwards.
 */
static void test_row_groups_by_memory(void **state)
{
    (void)state;
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_STRING)};
    make_schema(&s, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 1000, 1 << 20, 1024), CP_OK);
    mem_out m = {0};
    cp_buf_init(&m.buf, 256 << 20);
    cp_pq_options o;
    cp_pq_options_init(&o);
    o.codec = CP_PQ_UNCOMPRESSED;
    o.row_group_memory = 256 * 1024; /* far below row_group_bytes */
    o.page_bytes = 16 * 1024;
    o.dictionary_limit = CP_PQ_NO_DICTIONARY;
    cp_error err;
    cp_pq_writer *w;
    assert_int_equal(cp_pq_writer_new(&s, &o, mem_write, &m, &w, &err), CP_OK);
    assert_non_null(w);
    const size_t batches = 100; /* 100,000 rows of 64-byte strings: about 6.4 MB */
    for (size_t k = 0; k < batches; k++) {
        cp_batch_clear(&b, 1 + (uint64_t)k * 1000);
        memset(b.cols[0].validity, 0xff, (1000 + 63) / 64 * 8);
        for (size_t r = 0; r < 1000; r++) {
            char tmp[80];
            int n = snprintf(tmp, sizeof tmp, "%064zu", k * 1000 + r);
            b.cols[0].v.offsets[r] = (uint32_t)b.cols[0].strings.len;
            assert_int_equal(cp_buf_append(&b.cols[0].strings, tmp, (size_t)n), CP_OK);
            b.cols[0].v.offsets[r + 1] = (uint32_t)b.cols[0].strings.len;
        }
        b.nrows = 1000;
        assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_OK);
    }
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
    unsigned groups = cp_pq_writer_row_groups(w);
    /* about 6.8 MB of pages in row groups of about 256 KiB: some 26 groups, not hundreds */
    assert_true(groups >= 20);
    assert_true(groups <= 40);
    cp_pq_writer_free(w);
    cp_buf_release(&m.buf);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

/* Reserves n bytes in p, fills the last len of them with byte v and commits those. */
static void put_piece(cp_pq_pages *p, size_t n, size_t len, unsigned char v, bool first)
{
    unsigned char *room;
    assert_int_equal(cp_pq_pages_reserve(p, n, &room), CP_OK);
    memset(room + n - len, v, len);
    cp_pq_pages_commit(p, room + n - len, len, first);
}

/*
 * Two page stores on shared slabs: pieces in commit order (a first one in front), however
 * the stores take turns; reservations larger than any slab so far; slabs kept by reset and
 * replaced when too small; the size limit.
 */
static void test_pages_store(void **state)
{
    (void)state;
    cp_pq_slabs slabs;
    cp_pq_slabs_init(&slabs, true);
    cp_pq_pages p, q;
    cp_pq_pages_init(&p, &slabs, (size_t)64 << 20);
    cp_pq_pages_init(&q, &slabs, (size_t)64 << 20);
    for (int round = 0; round < 3; round++) {
        const size_t big = round == 2 ? (size_t)5 << 20 : 300000;
        for (unsigned char v = 1; v <= 40; v++) {
            put_piece(&p, v % 10 == 0 ? big : 5000, v % 10 == 0 ? big - 64 : 4000, v, false);
            put_piece(&q, 3000, 100, (unsigned char)(100 + v), false);
        }
        put_piece(&p, 100000, 99000, 99, true);
        assert_int_equal(p.npieces, 41);
        assert_int_equal(p.len, 99000 + 36 * 4000 + 4 * (big - 64));
        assert_int_equal(p.pieces[0].len, 99000);
        assert_int_equal(p.pieces[0].data[98999], 99);
        for (size_t k = 1; k < p.npieces; k++) {
            const cp_pq_piece *pc = &p.pieces[k];
            assert_int_equal(pc->len, k % 10 == 0 ? big - 64 : 4000);
            assert_int_equal(pc->data[0], k);
            assert_int_equal(pc->data[pc->len - 1], k);
        }
        assert_int_equal(q.npieces, 40);
        assert_int_equal(q.len, 4000);
        for (size_t k = 0; k < q.npieces; k++) {
            assert_int_equal(q.pieces[k].data[0], 101 + k);
            assert_int_equal(q.pieces[k].data[99], 101 + k);
        }
        assert_true(slabs.nslabs >= 2);
        cp_pq_pages_reset(&p);
        cp_pq_pages_reset(&q);
        cp_pq_slabs_reset(&slabs);
        assert_int_equal(p.len, 0);
    }
    unsigned char *room;
    assert_int_equal(cp_pq_pages_reserve(&p, (size_t)65 << 20, &room), CP_TOO_LARGE);
    cp_pq_pages_release(&p);
    cp_pq_pages_release(&q);
    cp_pq_slabs_release(&slabs);
    assert_int_equal(slabs.nslabs, 0);
    cp_pq_slabs_release(&slabs);
}

/* The large-page file of test_pages_in_slabs: STRING columns then small INT64 ones. */
#define SLAB_STRINGS 6
#define SLAB_INTS 30
#define SLAB_ROWS 24000

static uint64_t mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Value of row r in STRING column k: its column and row, then 20 to 339 random letters. */
static size_t slab_string(size_t k, size_t r, char *out)
{
    int n = snprintf(out, 32, "c%02zu r%07zu ", k, r);
    uint64_t h = mix(k * 1000003 + r);
    size_t len = (size_t)n + 20 + h % 320;
    for (size_t i = (size_t)n; i < len; i++) {
        h = mix(h + i);
        out[i] = (char)('A' + h % 58);
    }
    return len;
}

static uint64_t uvarint(const unsigned char **p)
{
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
}

/* A compact-protocol i32 field value. */
static int32_t zigzag32(const unsigned char **p)
{
    uint64_t v = uvarint(p);
    return (int32_t)((v >> 1) ^ (~(v & 1) + 1));
}

typedef struct page_header {
    int32_t type, uncompressed, compressed, num_values, encoding;
} page_header;

/*
 * Reads a compact-protocol struct at *p whose fields are i32s, field id i into v[i - 1] for
 * ids up to n, and whose struct fields hold i32s too, into nested (nn of them).
 */
static void read_i32_struct(const unsigned char **p, int32_t *v, size_t n, int32_t *nested,
                            size_t nn)
{
    int id = 0;
    for (unsigned char b; (b = *(*p)++) != 0;) {
        id += b >> 4;
        if ((b & 15) == 12) {
            read_i32_struct(p, nested, nn, NULL, 0);
            continue;
        }
        assert_int_equal(b & 15, 5);
        const int32_t x = zigzag32(p);
        if (id >= 1 && (size_t)id <= n)
            v[id - 1] = x;
    }
}

/* Reads the PageHeader at *p (only i32 fields and one nested header, as csvpipe writes). */
static page_header read_page_header(const unsigned char **p)
{
    int32_t top[3] = {-1, -1, -1}, data[2] = {-1, -1};
    read_i32_struct(p, top, 3, data, 2);
    return (page_header){top[0], top[1], top[2], data[0], data[1]};
}

/* What the reader knows: the chunk's dictionary and the next row of every column. */
typedef struct slab_reader {
    unsigned char *dict; /* the body of the last dictionary page */
    size_t dict_len;
    const unsigned char **entries; /* its values, PLAIN */
    size_t nentries;
    size_t next[SLAB_STRINGS + SLAB_INTS];
} slab_reader;

/* One PLAIN value at *p (STRING or INT64 by its column), the next of its column. */
static void check_value(slab_reader *rd, const unsigned char *p)
{
    if (p[4] != 'c') {
        int64_t v = (int64_t)((uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32);
        size_t k = (size_t)(v / 100);
        assert_true(k >= SLAB_STRINGS && k < SLAB_STRINGS + SLAB_INTS);
        assert_int_equal(v % 100, rd->next[k]++ % 7);
        return;
    }
    char want[400];
    size_t k = (size_t)(p[5] - '0') * 10 + (size_t)(p[6] - '0');
    assert_true(k < SLAB_STRINGS);
    assert_int_equal(le32(p), slab_string(k, rd->next[k]++, want));
    assert_memory_equal(p + 4, want, le32(p));
}

/* PLAIN bytes of the value at p. */
static size_t plain_len(const unsigned char *p, bool strings)
{
    return strings ? 4 + le32(p) : 8;
}

static void read_dictionary(slab_reader *rd, const unsigned char *body, size_t len, int32_t n)
{
    free(rd->dict);
    free(rd->entries);
    rd->dict = malloc(len + 8);
    rd->entries = malloc((size_t)n * sizeof *rd->entries);
    assert_true(rd->dict && rd->entries);
    memcpy(rd->dict, body, len);
    bool strings = (size_t)n * 8 != len;
    size_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        rd->entries[i] = rd->dict + off;
        off += plain_len(rd->dict + off, strings);
    }
    assert_int_equal(off, len);
    rd->nentries = (size_t)n;
}

/* A data page without nulls: PLAIN values, or dictionary indices in the RLE/bit-packed hybrid. */
static void read_data_page(slab_reader *rd, const unsigned char *body, size_t len, page_header h)
{
    const unsigned char *end = body + len;
    body += 4 + le32(body); /* definition levels */
    if (h.encoding == 0) {
        bool strings = body[4] == 'c';
        for (int32_t i = 0; i < h.num_values; i++) {
            check_value(rd, body);
            body += plain_len(body, strings);
        }
        assert_ptr_equal(body, end);
        return;
    }
    assert_int_equal(h.encoding, 8);
    unsigned bw = *body++;
    int32_t done = 0;
    while (done < h.num_values) {
        uint64_t run = uvarint(&body);
        if (run & 1) { /* bit-packed groups of 8 */
            size_t count = (size_t)(run >> 1) * 8;
            for (size_t i = 0; i < count && done < h.num_values; i++, done++) {
                size_t idx = 0;
                for (unsigned bit = 0; bit < bw; bit++) {
                    size_t at = i * bw + bit;
                    idx |= (size_t)((body[at / 8] >> (at % 8)) & 1) << bit;
                }
                assert_true(idx < rd->nentries);
                check_value(rd, rd->entries[idx]);
            }
            body += (size_t)(run >> 1) * bw;
        } else {
            size_t idx = 0;
            for (unsigned i = 0; i < (bw + 7) / 8; i++)
                idx |= (size_t)*body++ << (8 * i);
            assert_true(idx < rd->nentries);
            for (uint64_t i = 0; i < run >> 1; i++, done++)
                check_value(rd, rd->entries[idx]);
        }
    }
    assert_ptr_equal(body, end);
}

/*
 * Walks the pages of the file front to the footer, decoding each: every value comes back
 * in its column in row order.
 */
static void read_back_slab_file(const cp_buf *file, cp_pq_codec codec)
{
    const unsigned char *p = (const unsigned char *)file->data + 4;
    const unsigned char *footer = (const unsigned char *)file->data + file->len - 8 -
                                  le32((const unsigned char *)file->data + file->len - 8);
    slab_reader rd = {0};
    unsigned dict_pages = 0;
    unsigned char *plain = malloc((size_t)4 << 20);
    assert_non_null(plain);
    while (p < footer) {
        page_header h = read_page_header(&p);
        assert_true(h.compressed >= 0 && p + h.compressed <= footer);
        const unsigned char *body = p;
        if (codec == CP_PQ_SNAPPY) {
            size_t n = (size_t)4 << 20;
            assert_int_equal(
                snappy_uncompress((const char *)p, (size_t)h.compressed, (char *)plain, &n),
                SNAPPY_OK);
            assert_int_equal(n, h.uncompressed);
            body = plain;
        } else {
            assert_int_equal(h.compressed, h.uncompressed);
        }
        if (h.type == 2) {
            dict_pages++;
            read_dictionary(&rd, body, (size_t)h.uncompressed, h.num_values);
        } else {
            assert_int_equal(h.type, 0);
            read_data_page(&rd, body, (size_t)h.uncompressed, h);
        }
        p += h.compressed;
    }
    assert_ptr_equal(p, footer);
    for (size_t k = 0; k < SLAB_STRINGS + SLAB_INTS; k++)
        assert_int_equal(rd.next[k], SLAB_ROWS);
    assert_true(dict_pages >= SLAB_INTS * 3);
    free(rd.dict);
    free(rd.entries);
    free(plain);
}

/*
 * Pages of 256 KiB, past the first slab of a chunk, in chunks of several slabs (the later
 * ones mapped), next to many small chunks whose dictionary page is stored last and written
 * first, over several row groups that reuse the slabs: read back page by page.
 */
static void test_pages_in_slabs(void **state)
{
    (void)state;
    const size_t ncols = SLAB_STRINGS + SLAB_INTS;
    cp_schema s;
    assert_int_equal(cp_schema_init(&s, ncols), CP_OK);
    char names[SLAB_STRINGS + SLAB_INTS][8];
    const char *headers[SLAB_STRINGS + SLAB_INTS];
    size_t lens[SLAB_STRINGS + SLAB_INTS];
    for (size_t i = 0; i < ncols; i++) {
        s.columns[i].type = cp_type_of(i < SLAB_STRINGS ? CP_TYPE_STRING : CP_TYPE_INT64);
        lens[i] = (size_t)snprintf(names[i], sizeof names[i], "c%zu", i);
        headers[i] = names[i];
    }
    assert_int_equal(cp_schema_set_names(&s, headers, lens, NULL), CP_OK);
    const size_t batch_rows = 4000;
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, batch_rows, 8 << 20, 1024), CP_OK);
    const cp_pq_codec codecs[] = {CP_PQ_UNCOMPRESSED, CP_PQ_SNAPPY};
    for (size_t ci = 0; ci < 2; ci++) {
        mem_out m = {0};
        cp_buf_init(&m.buf, 256 << 20);
        cp_pq_options o;
        cp_pq_options_init(&o);
        o.codec = codecs[ci];
        o.page_bytes = 256 << 10;
        o.row_group_bytes = 8 << 20;
        cp_error err;
        cp_pq_writer *w;
        assert_int_equal(cp_pq_writer_new(&s, &o, mem_write, &m, &w, &err), CP_OK);
        for (size_t r0 = 0; r0 < SLAB_ROWS; r0 += batch_rows) {
            cp_batch_clear(&b, 1 + r0);
            for (size_t i = 0; i < ncols; i++)
                memset(b.cols[i].validity, 0xff, (batch_rows + 63) / 64 * 8);
            for (size_t r = 0; r < batch_rows; r++) {
                for (size_t k = 0; k < SLAB_STRINGS; k++) {
                    char tmp[400];
                    size_t len = slab_string(k, r0 + r, tmp);
                    cp_column_data *d = &b.cols[k];
                    d->v.offsets[r] = (uint32_t)d->strings.len;
                    assert_int_equal(cp_buf_append(&d->strings, tmp, len), CP_OK);
                    d->v.offsets[r + 1] = (uint32_t)d->strings.len;
                }
                for (size_t k = SLAB_STRINGS; k < ncols; k++)
                    b.cols[k].v.i64[r] = (int64_t)(k * 100 + (r0 + r) % 7);
            }
            b.nrows = batch_rows;
            assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_OK);
        }
        assert_int_equal(cp_pq_writer_finish(w, &err), CP_OK);
        assert_true(cp_pq_writer_row_groups(w) >= 3);
        read_back_slab_file(&m.buf, codecs[ci]);
        cp_pq_writer_free(w);
        cp_buf_release(&m.buf);
    }
    cp_batch_release(&b);
    cp_schema_release(&s);
}

/* Rows [0, n) of column 0 of b into c, in slices of 256 rows as the writer does. */
static void write_slices(cp_pq_column *c, const cp_batch *b, size_t n)
{
    cp_error err;
    for (size_t r = 0; r < n; r += 256)
        assert_int_equal(cp_pq_column_write(c, b, 0, r, r + 256 < n ? r + 256 : n, &err), CP_OK);
}

/* Whether the chunk's stored pages, in file order, hold the n bytes at p. */
static bool contains_bytes(const cp_pq_column *c, const void *p, size_t n)
{
    cp_buf all;
    cp_buf_init(&all, CP_BUF_UNLIMITED);
    for (size_t k = 0; k < c->pages.npieces; k++)
        assert_int_equal(cp_buf_append(&all, c->pages.pieces[k].data, c->pages.pieces[k].len),
                         CP_OK);
    assert_int_equal(all.len, c->pages.len);
    bool found = false;
    for (size_t i = 0; !found && i + n <= all.len; i++)
        found = memcmp(all.data + i, p, n) == 0;
    cp_buf_release(&all);
    return found;
}

/* The slabs of the chunks the column tests write (released at the end of each). */
static cp_pq_slabs test_slabs;

/* One INT64 column chunk of n rows, value(r) for row r, through the column writer. */
static void int64_chunk(cp_pq_column *c, cp_pq_compressor *comp, size_t page_bytes, size_t n,
                        int64_t (*value)(size_t))
{
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    make_schema(&s, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, n, 1024, 1024), CP_OK);
    for (size_t r = 0; r < n; r++) {
        b.cols[0].v.i64[r] = value(r);
        b.cols[0].validity[r >> 6] |= 1ULL << (r & 63);
    }
    b.nrows = n;
    assert_int_equal(cp_pq_column_init(c, t[0], page_bytes, (size_t)1 << 20, (size_t)64 << 20, comp,
                                       &test_slabs),
                     CP_OK);
    write_slices(c, &b, n);
    cp_error err;
    assert_int_equal(cp_pq_column_finish(c, &err), CP_OK);
    assert_int_equal(c->num_values, (int64_t)n);
    cp_batch_release(&b);
    cp_schema_release(&s);
}

static int64_t unique_value(size_t r)
{
    return (int64_t)r * 1000003 - 5000000;
}

static int64_t few_values(size_t r)
{
    return (int64_t)(r % 10) - 3;
}

/*
 * A chunk whose first CP_PQ_DICT_PROBE_VALUES values are nearly all distinct gives the
 * dictionary up: while its first page is pending that page turns PLAIN and the chunk has
 * no dictionary at all; once dictionary pages were written it goes on in PLAIN after them.
 * A chunk with few distinct values keeps its dictionary. Statistics stay exact.
 */
static void test_dictionary_give_up(void **state)
{
    (void)state;
    cp_pq_compressor comp;
    cp_pq_compressor_init(&comp, CP_PQ_UNCOMPRESSED);
    const size_t n = 10000;
    cp_pq_column c;

    int64_chunk(&c, &comp, (size_t)1 << 20, n, unique_value);
    assert_int_equal(c.dict_data_pages, 0);
    assert_int_equal(c.plain_data_pages, 1);
    assert_int_equal(c.dict_compressed, 0);
    assert_int_equal(c.dict.n, 0);
    assert_int_equal(c.stats.min.i64, unique_value(0));
    assert_int_equal(c.stats.max.i64, unique_value(n - 1));
    assert_int_equal(c.stats.null_count, 0);
    unsigned char *plain = malloc(n * 8);
    assert_non_null(plain);
    for (size_t r = 0; r < n; r++)
        for (int k = 0; k < 8; k++)
            plain[r * 8 + k] = (unsigned char)((uint64_t)unique_value(r) >> (8 * k));
    assert_true(contains_bytes(&c, plain, n * 8)); /* every value, PLAIN, in order */
    cp_pq_column_release(&c);

    int64_chunk(&c, &comp, (size_t)1 << 20, n, few_values);
    assert_int_equal(c.dict_data_pages, 1);
    assert_int_equal(c.plain_data_pages, 0);
    assert_int_equal(c.dict.n, 10);
    assert_true(c.dict_compressed > 0);
    assert_int_equal(c.stats.min.i64, -3);
    assert_int_equal(c.stats.max.i64, 6);
    cp_pq_column_release(&c);

    /* pages of 256 values: 16 dictionary pages are out before the test runs */
    int64_chunk(&c, &comp, 2048, n, unique_value);
    assert_int_equal(c.dict_data_pages, CP_PQ_DICT_PROBE_VALUES / 256);
    assert_int_equal(c.plain_data_pages, (n - CP_PQ_DICT_PROBE_VALUES + 255) / 256);
    assert_true(c.dict_compressed > 0);
    assert_int_equal(c.stats.min.i64, unique_value(0));
    assert_int_equal(c.stats.max.i64, unique_value(n - 1));
    assert_true(contains_bytes(&c, plain + (n - 16) * 8, 16 * 8));
    cp_pq_column_release(&c);
    free(plain);

    /* STRING, every third row null: the pending page turns PLAIN with its length prefixes */
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_STRING)};
    make_schema(&s, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, n, 1 << 20, 1024), CP_OK);
    cp_buf want;
    cp_buf_init(&want, 1 << 20);
    size_t nulls = 0;
    char smin[32] = "", smax[32] = "";
    for (size_t r = 0; r < n; r++) {
        char tmp[32];
        int len = snprintf(tmp, sizeof tmp, "value %zu", (r * 7919) % n);
        b.cols[0].v.offsets[r] = (uint32_t)b.cols[0].strings.len;
        if (r % 3 == 1) {
            nulls++;
        } else {
            assert_int_equal(cp_buf_append(&b.cols[0].strings, tmp, (size_t)len), CP_OK);
            b.cols[0].validity[r >> 6] |= 1ULL << (r & 63);
            unsigned char le[4] = {(unsigned char)len, 0, 0, 0};
            assert_int_equal(cp_buf_append(&want, le, 4), CP_OK);
            assert_int_equal(cp_buf_append(&want, tmp, (size_t)len), CP_OK);
            if (!smin[0] || strcmp(tmp, smin) < 0) /* ASCII: strcmp is the byte order */
                memcpy(smin, tmp, sizeof tmp);
            if (strcmp(tmp, smax) > 0)
                memcpy(smax, tmp, sizeof tmp);
        }
        b.cols[0].v.offsets[r + 1] = (uint32_t)b.cols[0].strings.len;
    }
    b.nrows = n;
    assert_int_equal(cp_pq_column_init(&c, t[0], (size_t)1 << 20, (size_t)1 << 20, (size_t)64 << 20,
                                       &comp, &test_slabs),
                     CP_OK);
    write_slices(&c, &b, n);
    cp_error err;
    assert_int_equal(cp_pq_column_finish(&c, &err), CP_OK);
    assert_int_equal(c.dict_data_pages, 0);
    assert_int_equal(c.plain_data_pages, 1);
    assert_int_equal(c.stats.null_count, (int64_t)nulls);
    assert_true(contains_bytes(&c, want.data, want.len));
    assert_int_equal(c.stats.smin.len, strlen(smin));
    assert_memory_equal(c.stats.smin.data, smin, strlen(smin));
    assert_int_equal(c.stats.smax.len, strlen(smax));
    assert_memory_equal(c.stats.smax.data, smax, strlen(smax));
    cp_pq_column_release(&c);
    cp_buf_release(&want);
    cp_batch_release(&b);
    cp_schema_release(&s);
    cp_pq_compressor_release(&comp);
    cp_pq_slabs_release(&test_slabs);
}

/*
 * The value that finds the dictionary full is written again in PLAIN: counted once in the
 * statistics (a NaN here), and the pages before keep the dictionary.
 */
static void test_dictionary_full_mid_page(void **state)
{
    (void)state;
    cp_pq_compressor comp;
    cp_pq_compressor_init(&comp, CP_PQ_UNCOMPRESSED);
    cp_schema s;
    const cp_type t[] = {cp_type_of(CP_TYPE_DOUBLE)};
    make_schema(&s, t, 1);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    const double v[] = {1.0, 2.0, 1.0, NAN, NAN, -3.5, 0.0, 2.0};
    for (size_t r = 0; r < 8; r++) {
        b.cols[0].v.f64[r] = v[r];
        if (r != 6)
            b.cols[0].validity[0] |= 1ULL << r;
    }
    b.nrows = 8;
    cp_pq_column c;
    assert_int_equal(cp_pq_column_init(&c, t[0], 4096, 16, (size_t)1 << 20, &comp, &test_slabs),
                     CP_OK);
    write_slices(&c, &b, 8);
    cp_error err;
    assert_int_equal(cp_pq_column_finish(&c, &err), CP_OK);
    assert_int_equal(c.dict_data_pages, 1);
    assert_int_equal(c.plain_data_pages, 1);
    assert_int_equal(c.dict.n, 2);
    assert_int_equal(c.stats.nan_count, 2);
    assert_int_equal(c.stats.null_count, 1);
    assert_true(c.stats.min.f64 == -3.5);
    assert_true(c.stats.max.f64 == 2.0);
    assert_int_equal(c.num_values, 8);
    cp_pq_column_release(&c);
    cp_batch_release(&b);
    cp_schema_release(&s);
    cp_pq_compressor_release(&comp);
    cp_pq_slabs_release(&test_slabs);
}

static void test_errors(void **state)
{
    (void)state;
    cp_schema s, other;
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64)};
    const cp_type t2[] = {cp_type_of(CP_TYPE_DOUBLE)};
    make_schema(&s, t, 1);
    make_schema(&other, t2, 1);
    cp_error err;

    /* bad options */
    cp_pq_options o;
    cp_pq_options_init(&o);
    o.codec = (cp_pq_codec)42;
    mem_out m = {0};
    cp_buf_init(&m.buf, 1 << 20);
    cp_pq_writer *bad = (cp_pq_writer *)&m; /* any non-NULL value: *out is set on failure too */
    assert_int_equal(cp_pq_writer_new(&s, &o, mem_write, &m, &bad, &err), CP_USAGE);
    assert_null(bad);
    assert_int_equal(err.code, CP_USAGE);

    /* a batch of another schema */
    cp_pq_writer *w;
    assert_int_equal(cp_pq_writer_new(&s, NULL, mem_write, &m, &w, &err), CP_OK);
    assert_non_null(w);
    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &other, 8, 1024, 1024), CP_OK);
    b.nrows = 1;
    assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_USAGE);
    assert_non_null(strstr(err.message, "DOUBLE"));
    cp_batch_release(&b);
    cp_pq_writer_free(w);

    /* the callback fails: the error comes back, and the writer refuses more work */
    cp_buf_reset(&m.buf);
    m.fail_after = 10;
    assert_int_equal(cp_pq_writer_new(&s, NULL, mem_write, &m, &w, &err), CP_OK);
    assert_non_null(w);
    assert_int_equal(cp_batch_init(&b, &s, 8, 1024, 1024), CP_OK);
    fill_int64(&b, 0, 8, 0);
    b.nrows = 8;
    assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_OK);
    assert_int_equal(cp_pq_writer_finish(w, &err), CP_IO);
    assert_non_null(strstr(err.message, "writing Parquet output failed"));
    assert_int_equal(cp_pq_writer_write_batch(w, &b, &err), CP_USAGE);
    cp_pq_writer_free(w);

    cp_batch_release(&b);
    cp_buf_release(&m.buf);
    cp_schema_release(&s);
    cp_schema_release(&other);
}

static void test_file_sink(void **state)
{
    (void)state;
    char dir[] = "/tmp/cp-pq-sink-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/out.parquet", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    struct stat st;
    cp_error err;

    cp_file_sink sink;
    assert_int_equal(cp_file_sink_open(&sink, path, &err), CP_OK);
    assert_int_equal(cp_file_sink_write(&sink, "PAR1", 4), CP_OK);
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_not_equal(stat(path, &st), 0); /* nothing published yet */
    assert_int_equal(cp_file_sink_commit(&sink, &err), CP_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 4);
    assert_int_not_equal(stat(tmp, &st), 0);
    cp_file_sink_abort(&sink); /* harmless after commit */
    assert_int_equal(stat(path, &st), 0);

    /* abort leaves the previous file and no temporary */
    assert_int_equal(cp_file_sink_open(&sink, path, &err), CP_OK);
    assert_int_equal(cp_file_sink_write(&sink, "PAR1PAR1", 8), CP_OK);
    cp_file_sink_abort(&sink);
    assert_int_not_equal(stat(tmp, &st), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 4);

    /* a missing folder is reported */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/out.parquet", dir);
    assert_int_equal(cp_file_sink_open(&sink, bad, &err), CP_IO);
    assert_non_null(strstr(err.message, "missing"));

    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_value_page),
        cmocka_unit_test(test_zero_rows),
        cmocka_unit_test(test_row_groups_by_size),
        cmocka_unit_test(test_row_groups_by_memory),
        cmocka_unit_test(test_pages_store),
        cmocka_unit_test(test_pages_in_slabs),
        cmocka_unit_test(test_suspend),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_file_sink),
        cmocka_unit_test(test_dictionary_give_up),
        cmocka_unit_test(test_dictionary_full_mid_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
