/*
 * pq_compress.c - codecs for Parquet pages through libsnappy, libzstd and zlib.
 */
#include "parquet/pq_compress.h"

#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

bool cp_pq_codec_parse(const char *name, cp_pq_codec *out)
{
    static const struct {
        const char *name;
        cp_pq_codec codec;
    } names[] = {{"snappy", CP_PQ_SNAPPY},
                 {"zstd", CP_PQ_ZSTD},
                 {"gzip", CP_PQ_GZIP},
                 {"none", CP_PQ_UNCOMPRESSED},
                 {"uncompressed", CP_PQ_UNCOMPRESSED}};
    if (!name)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].codec;
            return true;
        }
    }
    return false;
}

const char *cp_pq_codec_name(cp_pq_codec codec)
{
    switch (codec) {
    case CP_PQ_SNAPPY:
        return "snappy";
    case CP_PQ_ZSTD:
        return "zstd";
    case CP_PQ_GZIP:
        return "gzip";
    default:
        return "none";
    }
}

void cp_pq_compressor_init(cp_pq_compressor *c, cp_pq_codec codec)
{
    c->codec = codec;
    c->zstd_cctx = NULL;
}

void cp_pq_compressor_release(cp_pq_compressor *c)
{
    if (c->zstd_cctx)
        ZSTD_freeCCtx(c->zstd_cctx);
    c->zstd_cctx = NULL;
}

/* The gzip header and trailer around a deflate stream. */
#define GZIP_WRAPPER_BYTES 18

size_t cp_pq_compress_bound(cp_pq_codec codec, size_t len)
{
    switch (codec) {
    case CP_PQ_SNAPPY:
        return snappy_max_compressed_length(len);
    case CP_PQ_ZSTD:
        return ZSTD_compressBound(len);
    case CP_PQ_GZIP:
        return compressBound((uLong)len) + GZIP_WRAPPER_BYTES;
    default:
        return len;
    }
}

static cp_status gzip_into(const void *in, size_t len, void *out, size_t *produced, cp_error *err)
{
    z_stream zs = {0};
    /* windowBits 15 + 16: a gzip header and trailer around the deflate stream */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return cp_error_set(err, CP_NOMEM, "gzip: cannot initialize the compressor");
    size_t room = cp_pq_compress_bound(CP_PQ_GZIP, len);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)room;
    int rc = deflate(&zs, Z_FINISH);
    *produced = room - zs.avail_out;
    deflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return cp_error_set(err, CP_INTERNAL, "gzip: compression failed (%d)", rc);
    return CP_OK;
}

cp_status cp_pq_compress_into(cp_pq_compressor *c, const void *in, size_t len, void *out,
                              size_t *produced, cp_error *err)
{
    size_t room = cp_pq_compress_bound(c->codec, len);
    switch (c->codec) {
    case CP_PQ_UNCOMPRESSED:
        if (len)
            memcpy(out, in, len);
        *produced = len;
        return CP_OK;
    case CP_PQ_SNAPPY:
        *produced = room;
        if (snappy_compress(in, len, out, produced) != SNAPPY_OK)
            return cp_error_set(err, CP_INTERNAL, "snappy: compression failed");
        return CP_OK;
    case CP_PQ_ZSTD:
        if (!c->zstd_cctx && !(c->zstd_cctx = ZSTD_createCCtx()))
            return cp_error_set(err, CP_NOMEM, "zstd: cannot create a compression context");
        *produced = ZSTD_compressCCtx(c->zstd_cctx, out, room, in, len, 3);
        if (ZSTD_isError(*produced))
            return cp_error_set(err, CP_INTERNAL, "zstd: %s", ZSTD_getErrorName(*produced));
        return CP_OK;
    case CP_PQ_GZIP:
        return gzip_into(in, len, out, produced, err);
    }
    return cp_error_set(err, CP_USAGE, "unknown Parquet codec %d", (int)c->codec);
}
