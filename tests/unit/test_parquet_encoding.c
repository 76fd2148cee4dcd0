/*
 * test_parquet_encoding.c - PLAIN, RLE/bit-packed hybrid, decimal bytes, dictionary,
 * statistics and codecs, byte for byte against examples worked by hand from
 * parquet-format Encodings.md, LogicalTypes.md and parquet.thrift.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/pq_compress.h"
#include "parquet/pq_dict.h"
#include "parquet/pq_encoding.h"
#include "parquet/pq_stats.h"

#include <math.h>
#include <string.h>

static void expect_bytes(const cp_buf *b, const unsigned char *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void test_bit_width(void **state)
{
    (void)state;
    assert_int_equal(cp_pq_bit_width(0), 0);
    assert_int_equal(cp_pq_bit_width(1), 1);
    assert_int_equal(cp_pq_bit_width(2), 2);
    assert_int_equal(cp_pq_bit_width(7), 3);
    assert_int_equal(cp_pq_bit_width(255), 8);
    assert_int_equal(cp_pq_bit_width(256), 9);
    assert_int_equal(cp_pq_bit_width(UINT32_MAX), 32);
}

/* Encodings.md: 0..7 with bit width 3 bit-pack to 10001000 11000110 11111010. */
static void test_bitpacked_spec_example(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    const uint32_t v[] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(cp_pq_rle_encode_u32(&b, v, 8, 3), CP_OK);
    const unsigned char want[] = {0x03, 0x88, 0xc6, 0xfa}; /* header: 1 group << 1 | 1 */
    expect_bytes(&b, want, sizeof want);
    cp_buf_release(&b);
}

static void test_rle_runs(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    uint8_t ones[10];
    memset(ones, 1, sizeof ones);
    assert_int_equal(cp_pq_rle_encode_u8(&b, ones, 10, 1), CP_OK);
    const unsigned char want1[] = {0x14, 0x01}; /* 10 << 1, value 1 in one byte */
    expect_bytes(&b, want1, sizeof want1);

    /* 8 ones (RLE) then 0,1,0 (bit-packed, padded to a group of 8) */
    cp_buf_reset(&b);
    const uint8_t mixed[] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0};
    assert_int_equal(cp_pq_rle_encode_u8(&b, mixed, 11, 1), CP_OK);
    const unsigned char want2[] = {0x10, 0x01, 0x03, 0x02};
    expect_bytes(&b, want2, sizeof want2);

    /* a bit-packed run stops at the group boundary where a long run starts */
    cp_buf_reset(&b);
    uint8_t v3[24] = {1, 0, 1, 0, 1, 0, 1, 0};
    assert_int_equal(cp_pq_rle_encode_u8(&b, v3, 24, 1), CP_OK); /* then 16 zeros */
    const unsigned char want3[] = {0x03, 0x55, 0x20, 0x00};
    expect_bytes(&b, want3, sizeof want3);

    /* a wide value: bit width 9 stores the repeated value in 2 bytes */
    cp_buf_reset(&b);
    uint32_t wide[8];
    for (int i = 0; i < 8; i++)
        wide[i] = 300;
    assert_int_equal(cp_pq_rle_encode_u32(&b, wide, 8, 9), CP_OK);
    const unsigned char want4[] = {0x10, 0x2c, 0x01};
    expect_bytes(&b, want4, sizeof want4);

    /* nothing for no values */
    cp_buf_reset(&b);
    assert_int_equal(cp_pq_rle_encode_u8(&b, ones, 0, 1), CP_OK);
    assert_int_equal(b.len, 0);
    cp_buf_release(&b);
}

/* A small deterministic generator for the reference comparisons below. */
static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Bit-packing one bit at a time, LSB first, as Encodings.md describes it. */
static void ref_bitpack(const uint32_t *v, size_t n, unsigned bw, unsigned char *out)
{
    size_t groups = (n + 7) / 8;
    memset(out, 0, groups * bw);
    for (size_t k = 0; k < groups * 8; k++) {
        uint32_t x = k < n ? v[k] : 0;
        for (unsigned b = 0; b < bw; b++)
            if ((x >> b) & 1)
                out[(k * bw + b) >> 3] |= (unsigned char)(1u << ((k * bw + b) & 7));
    }
}

/* The hybrid as the writer first did it, value by value: runs of 8 or more become RLE. */
static void ref_put_uvarint(cp_buf *out, uint64_t v)
{
    while (v >= 0x80) {
        assert_int_equal(cp_buf_append_char(out, (char)(v | 0x80)), CP_OK);
        v >>= 7;
    }
    assert_int_equal(cp_buf_append_char(out, (char)v), CP_OK);
}

static size_t ref_run(const uint32_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && v[j] == v[i])
        j++;
    return j - i;
}

static void ref_rle(cp_buf *out, const uint32_t *v, size_t n, unsigned bw)
{
    size_t i = 0;
    while (i < n) {
        size_t run = ref_run(v, i, n);
        if (run >= 8) {
            ref_put_uvarint(out, (uint64_t)run << 1);
            for (unsigned b = 0; b < (bw + 7) / 8; b++)
                assert_int_equal(cp_buf_append_char(out, (char)(v[i] >> (8 * b))), CP_OK);
            i += run;
            continue;
        }
        size_t end = i + 8;
        while (end < n && ref_run(v, end, n) < 8)
            end += 8;
        size_t count = (end < n ? end : n) - i;
        ref_put_uvarint(out, (uint64_t)((end - i) / 8) << 1 | 1);
        static unsigned char packed[32 * 501];
        assert_true((end - i) / 8 * bw <= sizeof packed);
        ref_bitpack(v + i, count, bw, packed);
        assert_int_equal(cp_buf_append(out, packed, (end - i) / 8 * bw), CP_OK);
        i = end;
    }
}

/* Every bit width 1..32, whole and partial groups, against the bit-by-bit reference. */
static void test_bitpack_every_width(void **state)
{
    (void)state;
    const size_t counts[] = {1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 1003};
    uint32_t v[1003], masked[1003];
    unsigned char got[32 * 127], want[32 * 127];
    for (unsigned bw = 1; bw <= 32; bw++) {
        uint32_t mask = bw == 32 ? UINT32_MAX : (1u << bw) - 1;
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            size_t n = counts[c];
            for (size_t i = 0; i < n; i++) {
                v[i] = next_u32() | (i % 3 == 0 ? 0xffffffffu : 0); /* high bits ignored */
                masked[i] = v[i] & mask;
            }
            size_t nbytes = (n + 7) / 8 * bw;
            memset(got, 0xa5, sizeof got);
            cp_pq_bitpack(v, n, bw, got);
            ref_bitpack(masked, n, bw, want);
            assert_memory_equal(got, want, nbytes);
            assert_int_equal(got[nbytes], 0xa5); /* nothing written past the groups */
        }
    }
}

/* The hybrid against the reference for every width: runs, mixes, group boundaries. */
static void test_rle_matches_reference(void **state)
{
    (void)state;
    static uint32_t v[4000];
    static uint8_t v8[4000];
    cp_buf got, want;
    cp_buf_init(&got, 1 << 20);
    cp_buf_init(&want, 1 << 20);
    for (unsigned bw = 1; bw <= 32; bw++) {
        uint32_t mask = bw == 32 ? UINT32_MAX : (1u << bw) - 1;
        for (int trial = 0; trial < 6; trial++) {
            size_t n = 1 + next_u32() % 4000;
            for (size_t i = 0; i < n;) { /* runs of 1..20 of one value, or of a few values */
                size_t run = 1 + next_u32() % (trial % 2 ? 20 : 4);
                uint32_t x = next_u32() & mask & (trial == 5 ? 1u : UINT32_MAX);
                for (size_t k = 0; k < run && i < n; k++, i++)
                    v[i] = x;
            }
            cp_buf_reset(&got);
            cp_buf_reset(&want);
            assert_int_equal(cp_pq_rle_encode_u32(&got, v, n, bw), CP_OK);
            ref_rle(&want, v, n, bw);
            assert_int_equal(got.len, want.len);
            assert_memory_equal(got.data, want.data, got.len);
            if (bw <= 8) {
                for (size_t i = 0; i < n; i++)
                    v8[i] = (uint8_t)v[i];
                cp_buf_reset(&got);
                assert_int_equal(cp_pq_rle_encode_u8(&got, v8, n, bw), CP_OK);
                assert_int_equal(got.len, want.len);
                assert_memory_equal(got.data, want.data, got.len);
            }
        }
    }
    /* definition levels: sparse 0/1 with width 1 take the multiply gather */
    for (int trial = 0; trial < 20; trial++) {
        size_t n = 1 + next_u32() % 4000;
        for (size_t i = 0; i < n; i++) {
            v8[i] = next_u32() % 100 < (unsigned)(trial * 5) ? 1 : 0;
            v[i] = v8[i];
        }
        cp_buf_reset(&got);
        cp_buf_reset(&want);
        assert_int_equal(cp_pq_rle_encode_u8(&got, v8, n, 1), CP_OK);
        ref_rle(&want, v, n, 1);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, got.len);
    }
    /* one run written directly is what the encoder makes of a long run */
    memset(v8, 1, 300);
    cp_buf_reset(&got);
    cp_buf_reset(&want);
    assert_int_equal(cp_pq_rle_encode_run(&got, 300, 1, 1), CP_OK);
    assert_int_equal(cp_pq_rle_encode_u8(&want, v8, 300, 1), CP_OK);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, got.len);
    assert_int_equal(cp_pq_rle_encode_run(&got, 0, 1, 1), CP_INTERNAL);
    cp_buf_release(&got);
    cp_buf_release(&want);
}

static void test_plain_bools(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    const uint8_t v[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
    assert_int_equal(cp_pq_plain_bools(&b, v, 9), CP_OK);
    const unsigned char want[] = {0x0d, 0x01};
    expect_bytes(&b, want, sizeof want);
    cp_buf_release(&b);
}

static void test_decimal_bytes(void **state)
{
    (void)state;
    /* LogicalTypes.md: n bytes hold floor(log10(2^(8n-1) - 1)) digits */
    const unsigned want[39] = {0,  1,  1,  2,  2,  3,  3,  4,  4,  4,  5,  5,  6,
                               6,  6,  7,  7,  8,  8,  9,  9,  9,  10, 10, 11, 11,
                               11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 16, 16, 16};
    for (unsigned p = 1; p <= 38; p++)
        assert_int_equal(cp_pq_decimal_length(p), want[p]);
    unsigned char out[16];
    cp_pq_decimal_be(-1, 2, out);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(out[1], 0xff);
    cp_pq_decimal_be(256, 3, out);
    const unsigned char w256[] = {0x00, 0x01, 0x00};
    assert_memory_equal(out, w256, 3);
    cp_pq_decimal_be(-129, 2, out);
    const unsigned char wm129[] = {0xff, 0x7f};
    assert_memory_equal(out, wm129, 2);
    cp_i128 max38 = 0;
    for (int i = 0; i < 38; i++)
        max38 = max38 * 10 + 9;
    cp_pq_decimal_be(max38, 16, out);
    assert_int_equal(out[0], 0x4b); /* 10^38 - 1 = 0x4b3b4ca85a86c47a098a223fffffffff */
    assert_int_equal(out[15], 0xff);
}

static void test_dictionary(void **state)
{
    (void)state;
    cp_pq_dict d;
    cp_pq_dict_init(&d, true, 14);
    uint32_t i;
    assert_int_equal(cp_pq_dict_insert(&d, "a", 1, &i), CP_OK);
    assert_int_equal(i, 0);
    assert_int_equal(cp_pq_dict_insert(&d, "", 0, &i), CP_OK);
    assert_int_equal(i, 1);
    assert_int_equal(cp_pq_dict_insert(&d, "a", 1, &i), CP_OK);
    assert_int_equal(i, 0);
    assert_int_equal(cp_pq_dict_insert(&d, "bc", 2, &i), CP_TOO_LARGE); /* 9 + 6 > 14 */
    assert_int_equal(cp_pq_dict_insert(&d, "b", 1, &i), CP_OK);
    assert_int_equal(i, 2);
    const unsigned char want[] = {1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 'b'};
    expect_bytes(&d.plain, want, sizeof want);
    assert_int_equal(d.n, 3);
    cp_pq_dict_reset(&d);
    assert_int_equal(cp_pq_dict_insert(&d, "b", 1, &i), CP_OK);
    assert_int_equal(i, 0);
    cp_pq_dict_release(&d);

    /* many fixed-width entries: the hash table grows */
    cp_pq_dict_init(&d, false, 1 << 20);
    for (uint32_t k = 0; k < 5000; k++) {
        unsigned char le[4];
        cp_pq_store_le32(le, k * 2654435761u);
        assert_int_equal(cp_pq_dict_insert(&d, le, 4, &i), CP_OK);
        assert_int_equal(i, k);
    }
    unsigned char le[4];
    cp_pq_store_le32(le, 1234 * 2654435761u);
    assert_int_equal(cp_pq_dict_insert(&d, le, 4, &i), CP_OK);
    assert_int_equal(i, 1234);
    assert_int_equal(d.plain.len, 20000);
    cp_pq_dict_release(&d);
}

/* Keyed entries: found by key, PLAIN bytes kept in order, not mixed with byte entries. */
static void test_dictionary_keys(void **state)
{
    (void)state;
    cp_pq_dict d;
    cp_pq_dict_init(&d, false, 8 * 3000);
    uint32_t i;
    for (uint64_t k = 0; k < 3000; k++) {
        uint64_t key = k * 0x9e3779b97f4a7c15ULL; /* spread over all 64 bits */
        unsigned char le[8];
        cp_pq_store_le64(le, key);
        assert_int_equal(cp_pq_dict_find_key(&d, key), 0);
        assert_int_equal(cp_pq_dict_insert_key(&d, key, le, 8, &i), CP_OK);
        assert_int_equal(i, k);
    }
    for (uint64_t k = 0; k < 3000; k += 7) {
        uint64_t key = k * 0x9e3779b97f4a7c15ULL;
        assert_int_equal(cp_pq_dict_find_key(&d, key), k + 1);
        assert_int_equal(cp_pq_dict_insert_key(&d, key, "", 8, &i), CP_OK);
        assert_int_equal(i, k);
        size_t len;
        const unsigned char *p = cp_pq_dict_plain_entry(&d, (uint32_t)k, &len);
        assert_int_equal(len, 8);
        unsigned char le[8];
        cp_pq_store_le64(le, key);
        assert_memory_equal(p, le, 8);
    }
    assert_int_equal(d.n, 3000);
    assert_int_equal(d.plain.len, 24000);
    /* full: a new key changes nothing */
    assert_int_equal(cp_pq_dict_insert_key(&d, 1, "\1\0\0\0\0\0\0\0", 8, &i), CP_TOO_LARGE);
    assert_int_equal(d.n, 3000);
    /* not to be mixed: bytes into a keyed dictionary, another width */
    assert_int_equal(cp_pq_dict_insert(&d, "ab", 2, &i), CP_INTERNAL);
    assert_int_equal(cp_pq_dict_insert_key(&d, 5, "\5\0\0\0", 4, &i), CP_INTERNAL);
    /* after a reset either way is fine */
    cp_pq_dict_reset(&d);
    assert_int_equal(cp_pq_dict_find_key(&d, 0), 0);
    assert_int_equal(cp_pq_dict_insert(&d, "ab", 2, &i), CP_OK);
    assert_int_equal(i, 0);
    cp_pq_dict_reset(&d);
    assert_int_equal(cp_pq_dict_insert_key(&d, 7, "\7\0\0\0", 4, &i), CP_OK);
    assert_int_equal(i, 0);
    assert_int_equal(d.plain.len, 4);
    cp_pq_dict_release(&d);
}

/*
 * Byte entries of every length 0..100 that differ from each other in a single byte, at
 * the start, the middle or the end: each length path of the comparison must see it.
 */
typedef struct dict_case {
    unsigned char s[100];
    size_t len;
} dict_case;

static size_t make_dict_cases(dict_case *cases)
{
    size_t n = 0;
    for (size_t len = 0; len <= 100; len++) {
        for (int variant = 0; variant < 4; variant++) {
            dict_case c;
            memset(c.s, 'x', sizeof c.s);
            c.len = len;
            if (len && variant)
                c.s[variant == 1 ? 0 : variant == 2 ? len / 2 : len - 1] = 'y';
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++)
                seen = cases[k].len == len && memcmp(cases[k].s, c.s, len) == 0;
            if (!seen)
                cases[n++] = c;
        }
    }
    return n;
}

static void test_dictionary_byte_lengths(void **state)
{
    (void)state;
    static dict_case cases[404];
    size_t n = make_dict_cases(cases);
    assert_true(n > 300);
    cp_pq_dict d;
    cp_pq_dict_init(&d, true, 1 << 20);
    uint32_t i;
    for (size_t k = 0; k < n; k++) {
        uint32_t h = cp_pq_dict_hash(cases[k].s, cases[k].len);
        assert_int_equal(cp_pq_dict_find(&d, cases[k].s, cases[k].len, h), 0);
        assert_int_equal(cp_pq_dict_insert(&d, cases[k].s, cases[k].len, &i), CP_OK);
        assert_int_equal(i, k);
    }
    for (size_t k = 0; k < n; k++) { /* again: found with its number, nothing added */
        assert_int_equal(cp_pq_dict_insert(&d, cases[k].s, cases[k].len, &i), CP_OK);
        assert_int_equal(i, k);
        size_t len;
        const unsigned char *p = cp_pq_dict_plain_entry(&d, i, &len);
        assert_int_equal(len, cases[k].len + 4);
        assert_int_equal(p[0], cases[k].len);
        assert_memory_equal(p + 4, cases[k].s, cases[k].len);
    }
    assert_int_equal(d.n, n);
    cp_pq_dict_release(&d);
}

static void test_double_stats(void **state)
{
    (void)state;
    cp_pq_stats s;
    cp_pq_stats_init(&s, cp_type_of(CP_TYPE_DOUBLE));
    cp_buf lo, hi;
    cp_buf_init(&lo, 64);
    cp_buf_init(&hi, 64);
    cp_status st;
    cp_pq_scalar v;
    v.f64 = NAN;
    cp_pq_stats_add(&s, &v);
    cp_pq_stats_add_null(&s);
    assert_false(cp_pq_stats_bounds(&s, 0, &lo, &hi, &st)); /* only NaN: no bounds */
    v.f64 = 0.0;
    cp_pq_stats_add(&s, &v);
    v.f64 = -0.0;
    cp_pq_stats_add(&s, &v);
    assert_true(cp_pq_stats_bounds(&s, 0, &lo, &hi, &st));
    /* a zero minimum is written -0.0, a zero maximum +0.0 */
    const unsigned char neg0[] = {0, 0, 0, 0, 0, 0, 0, 0x80};
    const unsigned char pos0[] = {0, 0, 0, 0, 0, 0, 0, 0};
    expect_bytes(&lo, neg0, 8);
    expect_bytes(&hi, pos0, 8);
    v.f64 = -INFINITY;
    cp_pq_stats_add(&s, &v);
    v.f64 = 2.5;
    cp_pq_stats_add(&s, &v);
    cp_buf_reset(&lo);
    cp_buf_reset(&hi);
    assert_true(cp_pq_stats_bounds(&s, 0, &lo, &hi, &st));
    const unsigned char ninf[] = {0, 0, 0, 0, 0, 0, 0xf0, 0xff};
    const unsigned char two5[] = {0, 0, 0, 0, 0, 0, 0x04, 0x40};
    expect_bytes(&lo, ninf, 8);
    expect_bytes(&hi, two5, 8);
    assert_int_equal(s.nan_count, 1);
    assert_int_equal(s.null_count, 1);
    cp_buf_release(&lo);
    cp_buf_release(&hi);
    cp_pq_stats_release(&s);
}

static void test_string_and_decimal_stats(void **state)
{
    (void)state;
    cp_pq_stats s;
    cp_pq_stats_init(&s, cp_type_of(CP_TYPE_STRING));
    cp_buf lo, hi;
    cp_buf_init(&lo, 64);
    cp_buf_init(&hi, 64);
    cp_status st;
    /* unsigned byte order: "é" (0xc3 0xa9) sorts after "z", "" first, "ab" after "a" */
    assert_int_equal(cp_pq_stats_add_string(&s, "z", 1), CP_OK);
    assert_int_equal(cp_pq_stats_add_string(&s, "\xc3\xa9", 2), CP_OK);
    assert_int_equal(cp_pq_stats_add_string(&s, "a", 1), CP_OK);
    assert_int_equal(cp_pq_stats_add_string(&s, "ab", 2), CP_OK);
    assert_true(cp_pq_stats_bounds(&s, 0, &lo, &hi, &st));
    expect_bytes(&lo, (const unsigned char *)"a", 1);
    expect_bytes(&hi, (const unsigned char *)"\xc3\xa9", 2);
    assert_int_equal(cp_pq_stats_add_string(&s, "", 0), CP_OK);
    cp_buf_reset(&lo);
    cp_buf_reset(&hi);
    assert_true(cp_pq_stats_bounds(&s, 0, &lo, &hi, &st));
    assert_int_equal(lo.len, 0);
    cp_pq_stats_release(&s);

    /* DECIMAL: signed order of the value, big-endian two's complement bytes */
    cp_pq_stats_init(&s, cp_type_decimal(5, 2));
    cp_pq_scalar v;
    v.dec = 5;
    cp_pq_stats_add(&s, &v);
    v.dec = -300;
    cp_pq_stats_add(&s, &v);
    v.dec = 1;
    cp_pq_stats_add(&s, &v);
    cp_buf_reset(&lo);
    cp_buf_reset(&hi);
    assert_true(cp_pq_stats_bounds(&s, 3, &lo, &hi, &st));
    const unsigned char m300[] = {0xff, 0xfe, 0xd4};
    const unsigned char p5[] = {0x00, 0x00, 0x05};
    expect_bytes(&lo, m300, 3);
    expect_bytes(&hi, p5, 3);
    cp_pq_stats_release(&s);
    cp_buf_release(&lo);
    cp_buf_release(&hi);
}

static void test_codecs(void **state)
{
    (void)state;
    cp_pq_codec c = CP_PQ_UNCOMPRESSED;
    assert_true(cp_pq_codec_parse("snappy", &c));
    assert_int_equal(c, CP_PQ_SNAPPY);
    assert_true(cp_pq_codec_parse("ZSTD", &c));
    assert_int_equal(c, CP_PQ_ZSTD);
    assert_true(cp_pq_codec_parse("gzip", &c));
    assert_int_equal(c, CP_PQ_GZIP);
    assert_true(cp_pq_codec_parse("none", &c));
    assert_int_equal(c, CP_PQ_UNCOMPRESSED);
    assert_false(cp_pq_codec_parse("lz4", &c));
    assert_int_equal(c, CP_PQ_UNCOMPRESSED);
    assert_string_equal(cp_pq_codec_name(CP_PQ_ZSTD), "zstd");

    char in[4096];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (char)('a' + i % 7);
    const cp_pq_codec all[] = {CP_PQ_UNCOMPRESSED, CP_PQ_SNAPPY, CP_PQ_GZIP, CP_PQ_ZSTD};
    for (size_t k = 0; k < 4; k++) {
        cp_pq_compressor comp;
        cp_pq_compressor_init(&comp, all[k]);
        cp_buf out;
        cp_buf_init(&out, 1 << 20);
        assert_int_equal(cp_buf_reserve(&out, cp_pq_compress_bound(all[k], sizeof in)), CP_OK);
        cp_error err;
        assert_int_equal(cp_pq_compress_into(&comp, in, sizeof in, out.data, &out.len, &err),
                         CP_OK);
        if (all[k] == CP_PQ_UNCOMPRESSED)
            expect_bytes(&out, (const unsigned char *)in, sizeof in);
        else
            assert_true(out.len > 0 && out.len < sizeof in);
        if (all[k] == CP_PQ_GZIP) { /* the gzip container, not raw deflate */
            assert_int_equal((unsigned char)out.data[0], 0x1f);
            assert_int_equal((unsigned char)out.data[1], 0x8b);
        }
        if (all[k] == CP_PQ_ZSTD) { /* zstd frame magic 0xFD2FB528 */
            assert_int_equal((unsigned char)out.data[0], 0x28);
            assert_int_equal((unsigned char)out.data[3], 0xfd);
        }
        cp_buf_release(&out);
        cp_pq_compressor_release(&comp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_width),
        cmocka_unit_test(test_bitpacked_spec_example),
        cmocka_unit_test(test_rle_runs),
        cmocka_unit_test(test_plain_bools),
        cmocka_unit_test(test_decimal_bytes),
        cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_double_stats),
        cmocka_unit_test(test_string_and_decimal_stats),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_bitpack_every_width),
        cmocka_unit_test(test_rle_matches_reference),
        cmocka_unit_test(test_dictionary_keys),
        cmocka_unit_test(test_dictionary_byte_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
