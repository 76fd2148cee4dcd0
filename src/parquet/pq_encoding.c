/*
 * pq_encoding.c - PLAIN and RLE/bit-packed hybrid encoders (see pq_encoding.h).
 *
 * The hybrid encoder works on a whole page of values held in memory: at each position it
 * measures the run of equal values; a run of 8 or more is written as an RLE run, anything
 * else starts a bit-packed run that grows group by group (8 values) until a group boundary
 * where a run of 8 or more begins, or the input ends.
 *
 * Bit-packing is done a group of 8 values at a time through a 64-bit accumulator that
 * spills 32 bits at once; pack_groups is instantiated for every bit width 1..32 so the
 * shifts and the spill points are constants.
 */
#include "parquet/pq_encoding.h"

#include <string.h>

unsigned cp_pq_bit_width(uint32_t max_value)
{
    return max_value ? 32u - (unsigned)__builtin_clz(max_value) : 0;
}

static cp_status put_uvarint(cp_buf *out, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    return cp_buf_append(out, tmp, n);
}

/* Packs 8 values of BW bits (bw bytes out), LSB first. */
static inline __attribute__((always_inline)) void pack8(const uint32_t *v, unsigned bw,
                                                        unsigned char *out)
{
    const uint64_t mask = bw == 32 ? 0xffffffffu : ((uint64_t)1 << bw) - 1;
    uint64_t acc = 0;
    unsigned bits = 0;
    for (int k = 0; k < 8; k++) {
        acc |= ((uint64_t)v[k] & mask) << bits;
        bits += bw;
        if (bits >= 32) {
            cp_pq_store_le32(out, (uint32_t)acc);
            out += 4;
            acc >>= 32;
            bits -= 32;
        }
    }
    for (; bits; bits -= 8) { /* 8 * bw bits: whole bytes */
        *out++ = (unsigned char)acc;
        acc >>= 8;
    }
}

#define PACK_FN(W)                                                                                 \
    static void pack_w##W(const uint32_t *v, size_t groups, unsigned char *out)                    \
    {                                                                                              \
        for (size_t g = 0; g < groups; g++)                                                        \
            pack8(v + 8 * g, W, out + W * g);                                                      \
    }
PACK_FN(1)
PACK_FN(2)
PACK_FN(3)
PACK_FN(4)
PACK_FN(5)
PACK_FN(6)
PACK_FN(7)
PACK_FN(8)
PACK_FN(9)
PACK_FN(10)
PACK_FN(11)
PACK_FN(12)
PACK_FN(13)
PACK_FN(14)
PACK_FN(15)
PACK_FN(16)
PACK_FN(17)
PACK_FN(18)
PACK_FN(19)
PACK_FN(20)
PACK_FN(21)
PACK_FN(22)
PACK_FN(23)
PACK_FN(24)
PACK_FN(25)
PACK_FN(26)
PACK_FN(27)
PACK_FN(28)
PACK_FN(29)
PACK_FN(30)
PACK_FN(31)
PACK_FN(32)

typedef void (*pack_fn)(const uint32_t *v, size_t groups, unsigned char *out);
static const pack_fn pack_fns[33] = {
    NULL,     pack_w1,  pack_w2,  pack_w3,  pack_w4,  pack_w5,  pack_w6,  pack_w7,  pack_w8,
    pack_w9,  pack_w10, pack_w11, pack_w12, pack_w13, pack_w14, pack_w15, pack_w16, pack_w17,
    pack_w18, pack_w19, pack_w20, pack_w21, pack_w22, pack_w23, pack_w24, pack_w25, pack_w26,
    pack_w27, pack_w28, pack_w29, pack_w30, pack_w31, pack_w32,
};

void cp_pq_bitpack(const uint32_t *values, size_t n, unsigned bit_width, unsigned char *out)
{
    if (bit_width == 0 || bit_width > 32)
        return;
    size_t full = n / 8;
    pack_fns[bit_width](values, full, out);
    size_t rest = n - full * 8;
    if (rest) {
        uint32_t last[8] = {0};
        memcpy(last, values + full * 8, rest * sizeof *values);
        pack_fns[bit_width](last, 1, out + full * bit_width);
    }
}

/*
 * Bit-packs n values (converting to u32 in chunks) into groups * bw bytes at out. Width 1
 * (definition levels) gathers the low bits of 8 bytes with one multiplication: byte k's
 * bit 0 lands on bit 56 + k, and no two partial products meet, so nothing carries.
 */
static void bitpack_u8(const uint8_t *v, size_t n, unsigned bw, unsigned char *out)
{
    if (bw == 1) {
        for (; n >= 8; n -= 8, v += 8) {
            uint64_t x;
            memcpy(&x, v, 8);
            x &= 0x0101010101010101ULL; /* host order: byte k is v[k] on little-endian */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            x = __builtin_bswap64(x);
#endif
            *out++ = (unsigned char)((x * 0x0102040810204080ULL) >> 56);
        }
        if (n) {
            unsigned char last = 0;
            for (size_t i = 0; i < n; i++)
                last |= (unsigned char)((v[i] & 1u) << i);
            *out = last;
        }
        return;
    }
    uint32_t tmp[256];
    while (n) {
        size_t k = n < 256 ? n : 256; /* a multiple of 8 except at the end */
        for (size_t i = 0; i < k; i++)
            tmp[i] = v[i];
        cp_pq_bitpack(tmp, k, bw, out);
        out += k / 8 * bw;
        v += k;
        n -= k;
    }
}

/* Length of the run of values equal to v[i] from i (at least 1). */
static size_t run_u32(const uint32_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    uint32_t x = v[i];
    while (j < n && v[j] == x)
        j++;
    return j - i;
}

static size_t run_u8(const uint8_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    uint8_t x = v[i];
    uint64_t xx = x * 0x0101010101010101ULL;
    while (j + 8 <= n) {
        uint64_t w;
        memcpy(&w, v + j, 8);
        if (w != xx)
            break;
        j += 8;
    }
    while (j < n && v[j] == x)
        j++;
    return j - i;
}

/* True when a run of at least 8 equal values starts at i. */
static inline bool run8_u32(const uint32_t *v, size_t i, size_t n)
{
    if (i + 8 > n || v[i + 1] != v[i])
        return false;
    uint32_t x = v[i];
    for (size_t k = 2; k < 8; k++)
        if (v[i + k] != x)
            return false;
    return true;
}

static inline bool run8_u8(const uint8_t *v, size_t i, size_t n)
{
    if (i + 8 > n)
        return false;
    uint64_t w;
    memcpy(&w, v + i, 8);
    return w == v[i] * 0x0101010101010101ULL;
}

static cp_status put_rle_run(cp_buf *out, size_t run, uint32_t value, unsigned bw)
{
    CP_RETURN_IF_ERROR(put_uvarint(out, (uint64_t)run << 1));
    unsigned char le[4];
    cp_pq_store_le32(le, value);
    return cp_buf_append(out, le, (bw + 7) / 8);
}

/* Header and room for a bit-packed run of `count` values; *p receives where to pack. */
static cp_status begin_packed(cp_buf *out, size_t count, unsigned bw, unsigned char **p)
{
    size_t groups = (count + 7) / 8;
    CP_RETURN_IF_ERROR(put_uvarint(out, (uint64_t)groups << 1 | 1));
    size_t nbytes = groups * bw; /* 8 values * bw bits = bw bytes per group */
    CP_RETURN_IF_ERROR(cp_buf_reserve(out, nbytes));
    *p = (unsigned char *)out->data + out->len;
    out->len += nbytes;
    out->data[out->len] = '\0';
    return CP_OK;
}

cp_status cp_pq_rle_encode_run(cp_buf *out, size_t count, uint32_t value, unsigned bit_width)
{
    if (bit_width > 32 || count == 0)
        return CP_INTERNAL;
    return put_rle_run(out, count, value, bit_width);
}

#define RLE_ENCODE_BODY(RUN, RUN8, PACK)                                                           \
    if (bw > 32)                                                                                   \
        return CP_INTERNAL;                                                                        \
    size_t i = 0;                                                                                  \
    while (i < n) {                                                                                \
        size_t run = RUN(v, i, n);                                                                 \
        if (run >= 8) {                                                                            \
            CP_RETURN_IF_ERROR(put_rle_run(out, run, v[i], bw));                                   \
            i += run;                                                                              \
            continue;                                                                              \
        }                                                                                          \
        /* bit-packed run: whole groups of 8 from i */                                             \
        size_t end = i + 8;                                                                        \
        while (end < n && !RUN8(v, end, n))                                                        \
            end += 8;                                                                              \
        size_t count = (end < n ? end : n) - i;                                                    \
        unsigned char *p;                                                                          \
        CP_RETURN_IF_ERROR(begin_packed(out, count, bw, &p));                                      \
        if (bw)                                                                                    \
            PACK(v + i, count, bw, p);                                                             \
        i = end;                                                                                   \
    }                                                                                              \
    return CP_OK;

cp_status cp_pq_rle_encode_u8(cp_buf *out, const uint8_t *v, size_t n,
                              unsigned bw){RLE_ENCODE_BODY(run_u8, run8_u8, bitpack_u8)}

cp_status cp_pq_rle_encode_u32(cp_buf *out, const uint32_t *v, size_t n,
                               unsigned bw){RLE_ENCODE_BODY(run_u32, run8_u32, cp_pq_bitpack)}

cp_status cp_pq_plain_bools(cp_buf *out, const uint8_t *values, size_t n)
{
    size_t nbytes = (n + 7) / 8;
    CP_RETURN_IF_ERROR(cp_buf_reserve(out, nbytes));
    unsigned char *p = (unsigned char *)out->data + out->len;
    memset(p, 0, nbytes);
    for (size_t i = 0; i < n; i++)
        if (values[i])
            p[i >> 3] |= (unsigned char)(1u << (i & 7));
    out->len += nbytes;
    out->data[out->len] = '\0';
    return CP_OK;
}

unsigned cp_pq_decimal_length(unsigned precision)
{
    for (unsigned n = 1; n <= 16; n++) {
        /* digits of 2^(8n-1) - 1, minus one, is floor(log10) */
        unsigned __int128 m = ((unsigned __int128)1 << (8 * n - 1)) - 1;
        unsigned digits = 0;
        while (m) {
            digits++;
            m /= 10;
        }
        if (digits - 1 >= precision)
            return n;
    }
    return 16;
}

void cp_pq_decimal_be(cp_i128 v, unsigned len, unsigned char *out)
{
    unsigned __int128 u = (unsigned __int128)v;
    if (len == 8) {
        cp_pq_store_be64(out, (uint64_t)u);
        return;
    }
    if (len == 16) {
        cp_pq_store_be64(out, (uint64_t)(u >> 64));
        cp_pq_store_be64(out + 8, (uint64_t)u);
        return;
    }
    for (unsigned i = 0; i < len; i++)
        out[len - 1 - i] = (unsigned char)(u >> (8 * i));
}
