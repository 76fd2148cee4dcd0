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

#include <stddef.h>
#include <stdint.h>

/* Number of bits needed for values 0..max_value (0 for max_value 0). */
unsigned cp_pq_bit_width(uint32_t max_value);

/*
 * Appends n values (each < 2^bit_width, bit_width 0..32) in the RLE/bit-packed hybrid,
 * without a length prefix. Runs of 8 or more equal values become RLE runs; the rest are
 * bit-packed in groups of 8, the last group padded with zero bits.
 */
cp_status cp_pq_rle_encode_u8(cp_buf *out, const uint8_t *values, size_t n, unsigned bit_width);
cp_status cp_pq_rle_encode_u32(cp_buf *out, const uint32_t *values, size_t n, unsigned bit_width);

/* PLAIN encoding of n booleans (0/1 bytes): ceil(n/8) bytes. */
cp_status cp_pq_plain_bools(cp_buf *out, const uint8_t *values, size_t n);

/* Little-endian stores into p. */
void cp_pq_store_le32(unsigned char *p, uint32_t v);
void cp_pq_store_le64(unsigned char *p, uint64_t v);

/*
 * Minimal FIXED_LEN_BYTE_ARRAY length (1..16) that holds every DECIMAL of the given
 * precision (1..38): the least n with floor(log10(2^(8n-1) - 1)) >= precision.
 */
unsigned cp_pq_decimal_length(unsigned precision);
/* Writes v as len bytes of big-endian two's complement (v must fit). */
void cp_pq_decimal_be(cp_i128 v, unsigned len, unsigned char *out);

#endif
