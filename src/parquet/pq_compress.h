/*
 * pq_compress.h - page compression codecs: SNAPPY (default), ZSTD, GZIP, UNCOMPRESSED.
 *
 * Numbers are the Parquet CompressionCodec values written in ColumnMetaData.codec.
 * GZIP writes the gzip container (RFC 1952) as Parquet's Compression.md requires; SNAPPY
 * is raw snappy (no framing); ZSTD is one zstd frame at level 3.
 */
#ifndef CP_PQ_COMPRESS_H
#define CP_PQ_COMPRESS_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum cp_pq_codec {
    CP_PQ_UNCOMPRESSED = 0,
    CP_PQ_SNAPPY = 1,
    CP_PQ_GZIP = 2,
    CP_PQ_ZSTD = 6,
} cp_pq_codec;

/*
 * Parses "snappy", "zstd", "gzip", "none" (also "uncompressed"), any case. Returns false
 * and leaves *out unchanged for anything else.
 */
bool cp_pq_codec_parse(const char *name, cp_pq_codec *out);
/* "snappy", "zstd", "gzip", "none". */
const char *cp_pq_codec_name(cp_pq_codec codec);

/*
 * A compressor owns the codec's reusable state (a zstd context); init allocates nothing.
 * cp_pq_compress_into writes the compressed form of in[0..len) to out, which has room for
 * cp_pq_compress_bound(codec, len) bytes, and sets *produced.
 */
typedef struct cp_pq_compressor {
    cp_pq_codec codec;
    void *zstd_cctx;
} cp_pq_compressor;

void cp_pq_compressor_init(cp_pq_compressor *c, cp_pq_codec codec);
void cp_pq_compressor_release(cp_pq_compressor *c);
size_t cp_pq_compress_bound(cp_pq_codec codec, size_t len);
cp_status cp_pq_compress_into(cp_pq_compressor *c, const void *in, size_t len, void *out,
                              size_t *produced, cp_error *err);

#endif
