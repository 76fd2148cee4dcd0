/*
 * pq_encoding.h - the Parquet value encodings csvpipe writes (parquet-format Encodings.md).
 *
 *   PLAIN: fixed-width values little-endian back to back; BOOLEAN bit-packed one bit per
 *          value from the least significant bit of each byte; BYTE_ARRAY as a 4-byte
 *          little-endian length then the bytes; FIXED_LEN_BYTE_ARRAY as the bytes only.
 *   RLE/bit-packed hybrid: a sequence of runs, each a ULEB-128 header then either one
 *          repeated value in ceil(bit_width/8) little-endian bytes (header = count << 1) or
 *          groups of 8 values bit-packed LSB first (header = groups << 1 | 1). Used for
 *          definition levels (with a 4-byte length prefix in data page v1, written by the
 *          caller) and dictionary indices (after a 1-byte bit width, no prefix).
 *
 * The encoders append to a cp_buf and return its status (CP_NOMEM / CP_TOO_LARGE).
 */
#ifndef CP_PQ_ENCODING_H
#define CP_PQ_ENCODING_H

#include "table/types.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Number of bits needed for values 0..max_value (0 for max_value 0). */
unsigned cp_pq_bit_width(uint32_t max_value);

/*
 * Appends n values (each < 2^bit_width, bit_width 0..32) in the RLE/bit-packed hybrid,
 * without a length prefix. Runs of 8 or more equal values become RLE runs; the rest are
 * bit-packed in groups of 8, the last group padded with zero bits.
 */
cp_status cp_pq_rle_encode_u8(cp_buf *out, const uint8_t *values, size_t n, unsigned bit_width);
cp_status cp_pq_rle_encode_u32(cp_buf *out, const uint32_t *values, size_t n, unsigned bit_width);

/* Appends one RLE run: count (>= 1) times value (< 2^bit_width). */
cp_status cp_pq_rle_encode_run(cp_buf *out, size_t count, uint32_t value, unsigned bit_width);

/*
 * Bit-packs n values (each < 2^bit_width, bit_width 1..32; higher bits are ignored) LSB
 * first into ceil(n/8) * bit_width bytes at out, the last group padded with zero bits.
 * Does nothing for bit_width 0 or above 32.
 */
void cp_pq_bitpack(const uint32_t *values, size_t n, unsigned bit_width, unsigned char *out);

/* PLAIN encoding of n booleans (0/1 bytes): ceil(n/8) bytes. */
cp_status cp_pq_plain_bools(cp_buf *out, const uint8_t *values, size_t n);

/* Little-endian (and big-endian) stores into p, whatever the host's byte order. */
static inline void cp_pq_store_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void cp_pq_store_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void cp_pq_store_be64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
#endif
}

/*
 * Minimal FIXED_LEN_BYTE_ARRAY length (1..16) that holds every DECIMAL of the given
 * precision (1..38): the least n with floor(log10(2^(8n-1) - 1)) >= precision.
 */
unsigned cp_pq_decimal_length(unsigned precision);
/* Writes v as len bytes of big-endian two's complement (v must fit). */
void cp_pq_decimal_be(cp_i128 v, unsigned len, unsigned char *out);

#endif
