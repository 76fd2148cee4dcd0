/*
 * pq_encoding.c - PLAIN and RLE/bit-packed hybrid encoders (see pq_encoding.h).
 *
 * The hybrid encoder works on a whole page of values held in memory: at each position it
 * measures the run of equal values; a run of 8 or more is written as an RLE run, anything
 * else starts a bit-packed run that grows group by group (8 values) until a group boundary
 * where a run of 8 or more begins, or the input ends.
 */
#include "parquet/pq_encoding.h"

#include <string.h>

unsigned cp_pq_bit_width(uint32_t max_value)
{
    unsigned w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

void cp_pq_store_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void cp_pq_store_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
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

typedef struct values_view {
    const uint8_t *u8;
    const uint32_t *u32;
} values_view;

static inline uint32_t value_at(values_view v, size_t i)
{
    return v.u8 ? v.u8[i] : v.u32[i];
}

static size_t run_length(values_view v, size_t i, size_t n)
{
    size_t j = i + 1;
    uint32_t x = value_at(v, i);
    while (j < n && value_at(v, j) == x)
        j++;
    return j - i;
}

static cp_status rle_encode(cp_buf *out, values_view v, size_t n, unsigned bw)
{
    if (bw > 32)
        return CP_INTERNAL;
    size_t value_bytes = (bw + 7) / 8;
    size_t i = 0;
    while (i < n) {
        size_t run = run_length(v, i, n);
        if (run >= 8) {
            CP_RETURN_IF_ERROR(put_uvarint(out, (uint64_t)run << 1));
            unsigned char le[4];
            cp_pq_store_le32(le, value_at(v, i));
            CP_RETURN_IF_ERROR(cp_buf_append(out, le, value_bytes));
            i += run;
            continue;
        }
        /* bit-packed run: whole groups of 8 from i */
        size_t end = i + 8;
        while (end < n && run_length(v, end, n) < 8)
            end += 8;
        size_t groups = (end - i) / 8;
        CP_RETURN_IF_ERROR(put_uvarint(out, (uint64_t)groups << 1 | 1));
        size_t nbytes = groups * bw; /* 8 values * bw bits = bw bytes per group */
        CP_RETURN_IF_ERROR(cp_buf_reserve(out, nbytes));
        unsigned char *p = (unsigned char *)out->data + out->len;
        memset(p, 0, nbytes);
        uint64_t bitpos = 0;
        for (size_t k = i; k < end; k++, bitpos += bw) {
            uint64_t x = k < n ? value_at(v, k) : 0;
            for (unsigned b = 0; b < bw; b++) {
                if ((x >> b) & 1) {
                    uint64_t bit = bitpos + b;
                    p[bit >> 3] |= (unsigned char)(1u << (bit & 7));
                }
            }
        }
        out->len += nbytes;
        out->data[out->len] = '\0';
        i = end;
    }
    return CP_OK;
}

cp_status cp_pq_rle_encode_u8(cp_buf *out, const uint8_t *values, size_t n, unsigned bit_width)
{
    values_view v = {values, NULL};
    return rle_encode(out, v, n, bit_width);
}

cp_status cp_pq_rle_encode_u32(cp_buf *out, const uint32_t *values, size_t n, unsigned bit_width)
{
    values_view v = {NULL, values};
    return rle_encode(out, v, n, bit_width);
}

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
    for (unsigned i = 0; i < len; i++)
        out[len - 1 - i] = (unsigned char)(u >> (8 * i));
}
