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
#include "util/file_sink.h"

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
    cp_pq_writer *w = cp_pq_writer_new(&s, &o, mem_write, &m, &err);
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
    cp_pq_writer *w = cp_pq_writer_new(&s, NULL, mem_write, &m, &err);
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
    cp_pq_writer *w = cp_pq_writer_new(&s, &o, mem_write, &m, &err);
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
    cp_pq_writer *w = cp_pq_writer_new(&s, &o, mem_write, &m, &err);
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
    assert_null(cp_pq_writer_new(&s, &o, mem_write, &m, &err));
    assert_int_equal(err.code, CP_USAGE);

    /* a batch of another schema */
    cp_pq_writer *w = cp_pq_writer_new(&s, NULL, mem_write, &m, &err);
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
    w = cp_pq_writer_new(&s, NULL, mem_write, &m, &err);
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
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_file_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
