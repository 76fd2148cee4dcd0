/*
 * test_decompress.c - util/decompress: magic bytes and name suffixes; each format (gzip,
 * zstd, bzip2, xz) read back whole through reads of every size, from a source that hands
 * out 1 to 3 bytes at a time, and again after a rewind; plain text passing through;
 * concatenated members and zero padding; empty input; truncated input (an error naming
 * the source and the byte offset, after a correct prefix), corrupt input, bytes after the
 * last member, a zstd window past the limit; and UTF-8 and Windows-1252 text decoded
 * correctly when the decompressed chunks end inside a character.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/text_reader.h"
#include "util/decompress.h"

#include <bzlib.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static const cp_compression formats[] = {CP_COMPRESSION_GZIP, CP_COMPRESSION_ZSTD,
                                         CP_COMPRESSION_BZIP2, CP_COMPRESSION_XZ};
#define NFORMATS 4

typedef struct bytes {
    unsigned char *data;
    size_t len, cap;
} bytes;

static void append(bytes *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = (b->len + len + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* Compresses with the library of each format, as its command-line tool would. */
static bytes pack(cp_compression c, const void *data, size_t len)
{
    bytes out = {0};
    size_t cap = len + len / 2 + 1024;
    out.data = malloc(cap);
    assert_non_null(out.data);
    switch (c) {
    case CP_COMPRESSION_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                         Z_OK);
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)len;
        z.next_out = out.data;
        z.avail_out = (uInt)cap;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        out.len = cap - z.avail_out;
        deflateEnd(&z);
        break;
    }
    case CP_COMPRESSION_ZSTD: {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        out.len = ZSTD_compress2(cc, out.data, cap, data, len);
        assert_false(ZSTD_isError(out.len));
        ZSTD_freeCCtx(cc);
        break;
    }
    case CP_COMPRESSION_BZIP2: {
        unsigned int n = (unsigned int)cap;
        assert_int_equal(BZ2_bzBuffToBuffCompress((char *)out.data, &n, (char *)data,
                                                  (unsigned int)len, 9, 0, 0),
                         BZ_OK);
        out.len = n;
        break;
    }
    case CP_COMPRESSION_XZ: {
        size_t pos = 0;
        assert_int_equal(
            lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, data, len, out.data, &pos, cap),
            LZMA_OK);
        out.len = pos;
        break;
    }
    case CP_COMPRESSION_NONE:
        memcpy(out.data, data, len);
        out.len = len;
        break;
    }
    return out;
}

/* A CSV text that does not compress much (about half), so the input needs several refills. */
static bytes sample_csv(size_t rows)
{
    bytes b = {0};
    uint64_t x = 88172645463325252ull;
    append(&b, "id,code,amount\n", 15);
    for (size_t i = 1; i <= rows; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char line[96];
        int n = snprintf(line, sizeof line, "%zu,%016llx,%llu.%02u\n", i, (unsigned long long)x,
                         (unsigned long long)(x % 100000), (unsigned)(x % 100));
        append(&b, line, (size_t)n);
    }
    return b;
}

/* A source over memory that hands out at most `step` bytes per read (1..step, varying). */
typedef struct trickle {
    cp_source base;
    const unsigned char *data;
    size_t len, step, turn;
    bool fail_at_half;
} trickle;

static cp_status trickle_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    trickle *t = (trickle *)s;
    if (t->fail_at_half && s->position >= t->len / 2)
        return cp_error_set(err, CP_IO, "%s: read failed: injected", s->name);
    size_t k = 1 + t->turn++ % t->step;
    size_t left = t->len - (size_t)s->position;
    if (k > left)
        k = left;
    if (k > cap)
        k = cap;
    memcpy(buf, t->data + s->position, k);
    s->position += k;
    *n = k;
    return CP_OK;
}

static cp_status trickle_rewind(cp_source *s, cp_error *err)
{
    s->position = 0;
    return CP_OK;
}

static void trickle_close(cp_source *s) {}

static cp_source *open_trickle(const void *data, size_t len, size_t step)
{
    trickle *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->base.read = trickle_read;
    t->base.rewind = trickle_rewind;
    t->base.close = trickle_close;
    t->base.name = strdup("trickle.csv.gz");
    t->base.size = (int64_t)len;
    t->data = data;
    t->len = len;
    t->step = step;
    return &t->base;
}

static cp_source *wrap(cp_source *inner)
{
    cp_error err;
    assert_non_null(inner);
    cp_source *s = cp_decompress_open(inner, &err);
    assert_non_null(s);
    return s;
}

/* Reads s to its end with reads of `cap` bytes; the status of the last read. */
static cp_status read_all(cp_source *s, size_t cap, bytes *out, cp_error *err)
{
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    cp_status st;
    for (;;) {
        size_t n;
        st = cp_source_read(s, buf, cap, &n, err);
        if (st != CP_OK || n == 0)
            break;
        assert_true(n <= cap);
        append(out, buf, n);
    }
    free(buf);
    return st;
}

static void expect_same(const bytes *got, const bytes *want)
{
    assert_int_equal(got->len, want->len);
    assert_memory_equal(got->data, want->data, want->len);
}

static void test_detect(void **state)
{
    static const unsigned char gz[] = {0x1F, 0x8B, 8, 0};
    static const unsigned char zst[] = {0x28, 0xB5, 0x2F, 0xFD};
    static const unsigned char skippable[] = {0x5A, 0x2A, 0x4D, 0x18};
    static const unsigned char xz[] = {0xFD, '7', 'z', 'X', 'Z', 0};
    assert_int_equal(cp_compression_detect(gz, 4), CP_COMPRESSION_GZIP);
    assert_int_equal(cp_compression_detect(gz, 2), CP_COMPRESSION_NONE);
    assert_int_equal(cp_compression_detect(zst, 4), CP_COMPRESSION_ZSTD);
    assert_int_equal(cp_compression_detect(skippable, 4), CP_COMPRESSION_ZSTD);
    assert_int_equal(cp_compression_detect(xz, 6), CP_COMPRESSION_XZ);
    assert_int_equal(cp_compression_detect("BZh91AY&SY", 10), CP_COMPRESSION_BZIP2);
    assert_int_equal(cp_compression_detect("BZh9\x17\x72\x45\x38\x50\x90", 10),
                     CP_COMPRESSION_BZIP2);
    /* text that starts like bzip2's header */
    assert_int_equal(cp_compression_detect("BZh9,name\n", 10), CP_COMPRESSION_NONE);
    assert_int_equal(cp_compression_detect("id,name\n1,a\n", 12), CP_COMPRESSION_NONE);
    assert_int_equal(cp_compression_detect("", 0), CP_COMPRESSION_NONE);
    assert_string_equal(cp_compression_name(CP_COMPRESSION_NONE), "none");
    assert_string_equal(cp_compression_name(CP_COMPRESSION_GZIP), "gzip");
    assert_string_equal(cp_compression_name(CP_COMPRESSION_ZSTD), "zstd");
    assert_string_equal(cp_compression_name(CP_COMPRESSION_BZIP2), "bzip2");
    assert_string_equal(cp_compression_name(CP_COMPRESSION_XZ), "xz");
}

static void test_suffix(void **state)
{
    assert_int_equal(cp_compression_suffix_len("sales.csv.gz"), 3);
    assert_int_equal(cp_compression_suffix_len("SALES.CSV.GZ"), 3);
    assert_int_equal(cp_compression_suffix_len("a.csv.gzip"), 5);
    assert_int_equal(cp_compression_suffix_len("a.csv.zst"), 4);
    assert_int_equal(cp_compression_suffix_len("a.csv.zstd"), 5);
    assert_int_equal(cp_compression_suffix_len("a.csv.bz2"), 4);
    assert_int_equal(cp_compression_suffix_len("a.csv.xz"), 3);
    assert_int_equal(cp_compression_suffix_len("a.csv"), 0);
    assert_int_equal(cp_compression_suffix_len(".gz"), 0);
    assert_int_equal(cp_compression_suffix_len("gz"), 0);
    assert_int_equal(cp_compression_suffix_len("a.tgz"), 0);
}

/* Every format, read with reads of many sizes, then again after a rewind. */
static void test_formats_read_whole(void **state)
{
    bytes csv = sample_csv(40000); /* about 1.6 MB */
    static const size_t caps[] = {1, 7, 4096, 1 << 20};
    for (int f = 0; f < NFORMATS; f++) {
        bytes z = pack(formats[f], csv.data, csv.len);
        assert_true(z.len > (256u << 10)); /* more than one input buffer */
        for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
            if (caps[c] == 1 && formats[f] != CP_COMPRESSION_GZIP)
                continue; /* 1.6 M one-byte reads of each: gzip alone is enough */
            cp_source *s = wrap(cp_source_open_memory(z.data, z.len, "sales.csv.gz"));
            assert_int_equal(cp_decompress_kind(s), CP_COMPRESSION_NONE); /* nothing read */
            bytes got = {0};
            cp_error err;
            assert_int_equal(read_all(s, caps[c], &got, &err), CP_OK);
            expect_same(&got, &csv);
            assert_int_equal(cp_decompress_kind(s), formats[f]);
            assert_int_equal(s->size, -1);
            assert_int_equal(s->position, csv.len);
            assert_int_equal(cp_decompress_input_position(s), z.len);
            assert_string_equal(s->name, "sales.csv.gz");

            got.len = 0;
            assert_int_equal(cp_source_rewind(s, &err), CP_OK);
            assert_int_equal(s->position, 0);
            assert_int_equal(cp_decompress_input_position(s), 0);
            assert_int_equal(read_all(s, 65536, &got, &err), CP_OK);
            expect_same(&got, &csv);
            free(got.data);
            cp_source_free(s);
        }
        free(z.data);
    }
    free(csv.data);
}

/* The compressed bytes arrive 1 to 3 at a time: every split of headers and blocks. */
static void test_trickled_input(void **state)
{
    bytes csv = sample_csv(3000);
    for (int f = 0; f < NFORMATS; f++) {
        bytes z = pack(formats[f], csv.data, csv.len);
        cp_source *s = wrap(open_trickle(z.data, z.len, 3));
        bytes got = {0};
        cp_error err;
        assert_int_equal(read_all(s, 1000, &got, &err), CP_OK);
        expect_same(&got, &csv);
        assert_int_equal(cp_decompress_kind(s), formats[f]);
        free(got.data);
        cp_source_free(s);
        free(z.data);
    }
    free(csv.data);
}

static void test_plain_passes_through(void **state)
{
    bytes csv = sample_csv(20000);
    cp_source *s = wrap(cp_source_open_memory(csv.data, csv.len, "plain.csv"));
    assert_int_equal(s->size, csv.len);
    bytes got = {0};
    cp_error err;
    assert_int_equal(read_all(s, 3, &got, &err), CP_OK);
    expect_same(&got, &csv);
    assert_int_equal(cp_decompress_kind(s), CP_COMPRESSION_NONE);
    assert_int_equal(s->size, csv.len);
    assert_int_equal(s->position, csv.len);
    assert_int_equal(cp_decompress_input_position(s), csv.len);
    got.len = 0;
    assert_int_equal(cp_source_rewind(s, &err), CP_OK);
    assert_int_equal(read_all(s, 1 << 20, &got, &err), CP_OK);
    expect_same(&got, &csv);
    cp_source_free(s);

    /* shorter than the magic bytes, and text that starts like a bzip2 header */
    static const char *const texts[] = {"a", "a\n1\n", "BZh9,x\n1,2\n", "\x1F\x8B"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        bytes t = {(unsigned char *)texts[i], strlen(texts[i]), 0};
        s = wrap(open_trickle(t.data, t.len, 2));
        got.len = 0;
        assert_int_equal(read_all(s, 5, &got, &err), CP_OK);
        expect_same(&got, &t);
        assert_int_equal(cp_decompress_kind(s), CP_COMPRESSION_NONE);
        cp_source_free(s);
    }
    free(got.data);
    free(csv.data);

    /* a source that is not a decompressing one */
    cp_source *m = cp_source_open_memory("abc", 3, "m");
    assert_int_equal(cp_decompress_kind(m), CP_COMPRESSION_NONE);
    m->position = 2;
    assert_int_equal(cp_decompress_input_position(m), 2);
    cp_source_free(m);
}

static void test_empty(void **state)
{
    cp_error err;
    bytes got = {0};
    cp_source *s = wrap(cp_source_open_memory("", 0, "empty.csv"));
    assert_int_equal(read_all(s, 100, &got, &err), CP_OK);
    assert_int_equal(got.len, 0);
    assert_int_equal(cp_decompress_kind(s), CP_COMPRESSION_NONE);
    cp_source_free(s);
    for (int f = 0; f < NFORMATS; f++) {
        bytes z = pack(formats[f], "", 0);
        s = wrap(cp_source_open_memory(z.data, z.len, "empty.csv.gz"));
        assert_int_equal(read_all(s, 100, &got, &err), CP_OK);
        assert_int_equal(got.len, 0);
        assert_int_equal(cp_decompress_kind(s), formats[f]);
        cp_source_free(s);
        free(z.data);
    }
    free(got.data);
}

/* `cat a.gz b.gz`: every member, in order, with empty members among them. */
static void test_concatenated_members(void **state)
{
    bytes a = sample_csv(2000), b = sample_csv(100);
    for (int f = 0; f < NFORMATS; f++) {
        bytes za = pack(formats[f], a.data, a.len), zb = pack(formats[f], b.data, b.len),
              ze = pack(formats[f], "", 0);
        bytes cat = {0}, want = {0};
        append(&cat, za.data, za.len);
        append(&cat, ze.data, ze.len);
        append(&cat, zb.data, zb.len);
        append(&cat, za.data, za.len);
        append(&want, a.data, a.len);
        append(&want, b.data, b.len);
        append(&want, a.data, a.len);
        for (size_t step = 1; step <= 4096; step *= 64) {
            cp_source *s = wrap(open_trickle(cat.data, cat.len, step));
            bytes got = {0};
            cp_error err;
            assert_int_equal(read_all(s, 777, &got, &err), CP_OK);
            expect_same(&got, &want);
            free(got.data);
            cp_source_free(s);
        }
        /* zero padding after the last member, as tar and some uploaders leave */
        static const unsigned char zeros[1000];
        append(&cat, zeros, sizeof zeros);
        cp_source *s = wrap(cp_source_open_memory(cat.data, cat.len, "padded.gz"));
        bytes got = {0};
        cp_error err;
        assert_int_equal(read_all(s, 1 << 16, &got, &err), CP_OK);
        expect_same(&got, &want);
        free(got.data);
        cp_source_free(s);
        free(za.data);
        free(zb.data);
        free(ze.data);
        free(cat.data);
        free(want.data);
    }
    /* a zstd skippable frame first (pzstd writes one) */
    bytes z = {0};
    static const unsigned char skip[] = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
    append(&z, skip, sizeof skip);
    bytes zb = pack(CP_COMPRESSION_ZSTD, b.data, b.len);
    append(&z, zb.data, zb.len);
    cp_source *s = wrap(cp_source_open_memory(z.data, z.len, "pzstd.csv.zst"));
    bytes got = {0};
    cp_error err;
    assert_int_equal(read_all(s, 1 << 16, &got, &err), CP_OK);
    expect_same(&got, &b);
    assert_int_equal(cp_decompress_kind(s), CP_COMPRESSION_ZSTD);
    cp_source_free(s);
    free(got.data);
    free(z.data);
    free(zb.data);
    free(a.data);
    free(b.data);
}

/* Cut anywhere: an error naming the file and the byte, after a correct prefix. */
static void test_truncated(void **state)
{
    bytes csv = sample_csv(5000);
    for (int f = 0; f < NFORMATS; f++) {
        bytes z = pack(formats[f], csv.data, csv.len);
        size_t cuts[] = {z.len - 1, z.len - 4, z.len / 2, 11};
        for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
            cp_source *s = wrap(cp_source_open_memory(z.data, cuts[i], "cut.csv.gz"));
            bytes got = {0};
            cp_error err;
            cp_error_clear(&err);
            assert_int_equal(read_all(s, 4096, &got, &err), CP_IO);
            assert_true(got.len < csv.len || (got.len == csv.len && cuts[i] >= z.len - 8));
            if (got.len)
                assert_memory_equal(got.data, csv.data, got.len);
            assert_non_null(strstr(err.message, "cut.csv.gz: "));
            assert_non_null(strstr(err.message, cp_compression_name(formats[f])));
            assert_non_null(strstr(err.message, "ends early"));
            char at[64];
            snprintf(at, sizeof at, "at byte %zu ", cuts[i]);
            assert_non_null(strstr(err.message, at));
            assert_int_equal(err.offset, cuts[i]);
            /* and it stays failed or ended: no more bytes */
            free(got.data);
            cp_source_free(s);
        }
        free(z.data);
    }
    free(csv.data);
}

static void test_corrupt(void **state)
{
    bytes csv = sample_csv(5000);
    for (int f = 0; f < NFORMATS; f++) {
        bytes z = pack(formats[f], csv.data, csv.len);
        for (size_t at = z.len / 3; at < z.len; at += z.len / 4) {
            unsigned char saved = z.data[at];
            z.data[at] ^= 0x55;
            cp_source *s = wrap(cp_source_open_memory(z.data, z.len, "bad.csv.zst"));
            bytes got = {0};
            cp_error err;
            cp_error_clear(&err);
            assert_int_equal(read_all(s, 4096, &got, &err), CP_IO);
            assert_non_null(strstr(err.message, "bad.csv.zst: "));
            assert_non_null(strstr(err.message, "byte "));
            assert_true(strstr(err.message, "corrupt") || strstr(err.message, "ends early"));
            assert_true(err.offset >= at && err.offset <= z.len); /* found at or after it */
            free(got.data);
            cp_source_free(s);
            z.data[at] = saved;
        }
        /* other bytes after the last member */
        bytes junk = {0};
        append(&junk, z.data, z.len);
        append(&junk, "id,x\n1,2\n", 9);
        cp_source *s = wrap(cp_source_open_memory(junk.data, junk.len, "junk.gz"));
        bytes got = {0};
        cp_error err;
        cp_error_clear(&err);
        assert_int_equal(read_all(s, 4096, &got, &err), CP_IO);
        assert_non_null(strstr(err.message, "unexpected bytes after the end"));
        assert_int_equal(err.offset, z.len);
        expect_same(&got, &csv);
        assert_non_null(strstr(err.message, "junk.gz: corrupt"));
        free(got.data);
        free(junk.data);
        cp_source_free(s);
        free(z.data);
    }
    free(csv.data);
}

static void test_inner_error(void **state)
{
    bytes csv = sample_csv(5000);
    bytes z = pack(CP_COMPRESSION_GZIP, csv.data, csv.len);
    cp_source *inner = open_trickle(z.data, z.len, 4096);
    ((trickle *)inner)->fail_at_half = true;
    cp_source *s = wrap(inner);
    bytes got = {0};
    cp_error err;
    assert_int_equal(read_all(s, 4096, &got, &err), CP_IO);
    assert_non_null(strstr(err.message, "injected"));
    free(got.data);
    cp_source_free(s);
    free(z.data);
    free(csv.data);
}

/* A frame that asks for a 256 MiB window: refused with the reason, not out of memory. */
static void test_zstd_window_limit(void **state)
{
    bytes csv = sample_csv(100);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 28);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_enableLongDistanceMatching, 1);
    size_t cap = ZSTD_compressBound(csv.len) + 64;
    unsigned char *z = malloc(cap);
    ZSTD_inBuffer in = {csv.data, csv.len, 0};
    ZSTD_outBuffer out = {z, cap, 0};
    assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &out, &in, ZSTD_e_continue)));
    assert_int_equal(ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end), 0);
    ZSTD_freeCCtx(cc);
    cp_source *s = wrap(cp_source_open_memory(z, out.pos, "long.csv.zst"));
    bytes got = {0};
    cp_error err;
    assert_int_equal(read_all(s, 4096, &got, &err), CP_IO);
    assert_non_null(strstr(err.message, "long.csv.zst: the zstd data needs a window larger"));
    free(got.data);
    cp_source_free(s);
    free(z);
    free(csv.data);
}

/* Decompressed chunks that end inside a UTF-8 or Windows-1252 character decode whole. */
static void test_text_across_chunks(void **state)
{
    bytes utf8 = {0}, cp1252 = {0};
    append(&utf8, "nome,preço,símbolo\n", strlen("nome,preço,símbolo\n"));
    append(&cp1252, "nome,pre\xE7o,s\xEDmbolo\n", strlen("nome,pre\xE7o,s\xEDmbolo\n"));
    for (int i = 0; i < 400; i++) {
        static const char u[] = "ação,€ 1.234,56,😀✓\n";
        static const char w[] = "a\xE7\xE3o,\x80 1.234,56,\x93x\x94\n";
        append(&utf8, u, strlen(u));
        append(&cp1252, w, strlen(w));
    }
    /* what the Windows-1252 text is in UTF-8 */
    bytes cp_as_utf8 = {0};
    append(&cp_as_utf8, "nome,preço,símbolo\n", strlen("nome,preço,símbolo\n"));
    for (int i = 0; i < 400; i++)
        append(&cp_as_utf8, "ação,€ 1.234,56,“x”\n", strlen("ação,€ 1.234,56,“x”\n"));

    struct {
        bytes *raw, *want;
        cp_encoding enc;
    } cases[] = {{&utf8, &utf8, CP_ENC_UTF8}, {&cp1252, &cp_as_utf8, CP_ENC_CP1252}};
    for (size_t c = 0; c < 2; c++) {
        for (int f = 0; f < NFORMATS; f++) {
            bytes z = pack(formats[f], cases[c].raw->data, cases[c].raw->len);
            for (size_t chunk = 4; chunk <= 9; chunk++) {
                cp_source *s = wrap(open_trickle(z.data, z.len, 3));
                cp_text_reader r;
                assert_int_equal(cp_text_reader_init(&r, s, cases[c].enc, false, chunk), CP_OK);
                bytes got = {0};
                char buf[64];
                for (;;) {
                    size_t n;
                    cp_error err;
                    assert_int_equal(cp_text_reader_fill(&r, buf, sizeof buf, &n, &err), CP_OK);
                    if (n == 0)
                        break;
                    append(&got, buf, n);
                }
                expect_same(&got, cases[c].want);
                cp_text_reader_release(&r);
                cp_source_free(s);
                free(got.data);
            }
            free(z.data);
        }
    }
    free(utf8.data);
    free(cp1252.data);
    free(cp_as_utf8.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_suffix),
        cmocka_unit_test(test_formats_read_whole),
        cmocka_unit_test(test_trickled_input),
        cmocka_unit_test(test_plain_passes_through),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_concatenated_members),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_inner_error),
        cmocka_unit_test(test_zstd_window_limit),
        cmocka_unit_test(test_text_across_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
