/*
 * The decompressing source. Bytes come from the source underneath into `in`; the first
 * bytes after an open or a rewind decide the compression. Without one, what is in `in`
 * is handed out and then the reads go straight through. With one, each read runs the
 * decoder from `in` into the caller's buffer until it produced something, refilling `in`
 * as the decoder consumes it. Between members the next bytes must be the same format's
 * magic (or zero padding up to the end); at the end of the input a member still open is a
 * truncated file.
 */
#include "util/decompress.h"

#include <assert.h>
#include <bzlib.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#define IN_CAP ((size_t)256 << 10)
#define PEEK 10
#define WINDOW_LOG_MAX 27 /* 128 MiB */
#define XZ_MEMLIMIT ((uint64_t)128 << 20)
#define ZSTD_SLICE ((size_t)16 << 10)

typedef struct dz_source {
    cp_source base;
    cp_source *inner;
    cp_compression kind;
    bool started; /* the first bytes were read since the last rewind */
    bool ended;   /* the compressed data ended cleanly */
    bool member;  /* inside a member (frame, stream) that has not ended */
    uint8_t *in;
    size_t in_pos, in_len;
    bool in_eof;
    uint64_t in_base; /* offset of in[0] in the compressed input */
    z_stream z;
    bool z_ready;
    ZSTD_DCtx *zs;
    bz_stream bz;
    bool bz_ready;
    lzma_stream xz;
    bool xz_ready;
} dz_source;

const char *cp_compression_name(cp_compression c)
{
    switch (c) {
    case CP_COMPRESSION_GZIP:
        return "gzip";
    case CP_COMPRESSION_ZSTD:
        return "zstd";
    case CP_COMPRESSION_BZIP2:
        return "bzip2";
    case CP_COMPRESSION_XZ:
        return "xz";
    case CP_COMPRESSION_NONE:
        break;
    }
    return "none";
}

static const char *test_command(cp_compression c)
{
    return c == CP_COMPRESSION_GZIP    ? "gzip -t"
           : c == CP_COMPRESSION_ZSTD  ? "zstd -t"
           : c == CP_COMPRESSION_BZIP2 ? "bzip2 -t"
                                       : "xz -t";
}

cp_compression cp_compression_detect(const void *head, size_t n)
{
    const uint8_t *p = head;
    static const uint8_t xz[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};
    static const uint8_t bz_block[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59};
    static const uint8_t bz_end[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};
    if (n >= 3 && p[0] == 0x1F && p[1] == 0x8B && p[2] == 8)
        return CP_COMPRESSION_GZIP;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD)
        return CP_COMPRESSION_ZSTD;
    /* a skippable frame first (pzstd writes one) */
    if (n >= 4 && (p[0] & 0xF0) == 0x50 && p[1] == 0x2A && p[2] == 0x4D && p[3] == 0x18)
        return CP_COMPRESSION_ZSTD;
    if (n >= 6 && memcmp(p, xz, 6) == 0)
        return CP_COMPRESSION_XZ;
    /* "BZh" is text, so the level digit and a block or end-of-stream magic must follow */
    if (n >= 10 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9' &&
        (memcmp(p + 4, bz_block, 6) == 0 || memcmp(p + 4, bz_end, 6) == 0))
        return CP_COMPRESSION_BZIP2;
    return CP_COMPRESSION_NONE;
}

size_t cp_compression_suffix_len(const char *name)
{
    static const char *const suffixes[] = {".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcasecmp(name + n - k, suffixes[i]) == 0)
            return k;
    }
    return 0;
}

/* ---- errors -------------------------------------------------------------------------------- */

static uint64_t in_offset(const dz_source *d)
{
    return d->in_base + d->in_pos;
}

static cp_status corrupt(dz_source *d, const char *why, cp_error *err)
{
    uint64_t at = in_offset(d);
    cp_status st =
        cp_error_set(err, CP_IO,
                     "%s: corrupt %s data found at byte %" PRIu64
                     " of the compressed file (%s); the file is damaged (test a copy "
                     "with %s)",
                     d->base.name, cp_compression_name(d->kind), at, why, test_command(d->kind));
    if (err)
        err->offset = at;
    return st;
}

static cp_status truncated(dz_source *d, cp_error *err)
{
    uint64_t at = in_offset(d);
    cp_status st = cp_error_set(err, CP_IO,
                                "%s: the %s data ends early, at byte %" PRIu64
                                " of the compressed file: the file is truncated (an "
                                "incomplete upload or copy?)",
                                d->base.name, cp_compression_name(d->kind), at);
    if (err)
        err->offset = at;
    return st;
}

/* ---- input --------------------------------------------------------------------------------- */

/* Reads more input behind what is left in `in`; at the end sets in_eof. */
static cp_status refill(dz_source *d, cp_error *err)
{
    if (d->in_pos > 0) {
        memmove(d->in, d->in + d->in_pos, d->in_len - d->in_pos);
        d->in_base += d->in_pos;
        d->in_len -= d->in_pos;
        d->in_pos = 0;
    }
    assert(d->in_len < IN_CAP); /* a full buffer would read 0 bytes and look like the end */
    size_t got;
    CP_RETURN_IF_ERROR(cp_source_read(d->inner, d->in + d->in_len, IN_CAP - d->in_len, &got, err));
    if (got == 0)
        d->in_eof = true;
    d->in_len += got;
    return CP_OK;
}

/* At least k bytes in in[in_pos..], unless the input ends first. */
static cp_status want(dz_source *d, size_t k, cp_error *err)
{
    while (d->in_len - d->in_pos < k && !d->in_eof)
        CP_RETURN_IF_ERROR(refill(d, err));
    return CP_OK;
}

/* ---- decoders ------------------------------------------------------------------------------ */

static void decoders_end(dz_source *d)
{
    if (d->z_ready)
        inflateEnd(&d->z);
    d->z_ready = false;
    ZSTD_freeDCtx(d->zs);
    d->zs = NULL;
    if (d->bz_ready)
        BZ2_bzDecompressEnd(&d->bz);
    d->bz_ready = false;
    if (d->xz_ready)
        lzma_end(&d->xz);
    d->xz_ready = false;
}

/* Readies the decoder for a new member. */
static cp_status member_begin(dz_source *d, cp_error *err)
{
    switch (d->kind) {
    case CP_COMPRESSION_GZIP:
        if (d->z_ready) {
            if (inflateReset(&d->z) == Z_OK)
                return CP_OK;
            inflateEnd(&d->z);
            d->z_ready = false;
        }
        memset(&d->z, 0, sizeof d->z);
        if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
            break;
        d->z_ready = true;
        return CP_OK;
    case CP_COMPRESSION_ZSTD:
        if (!d->zs) {
            if (!(d->zs = ZSTD_createDCtx()))
                break;
            ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
        }
        ZSTD_DCtx_reset(d->zs, ZSTD_reset_session_only);
        return CP_OK;
    case CP_COMPRESSION_BZIP2:
        if (d->bz_ready)
            BZ2_bzDecompressEnd(&d->bz);
        d->bz_ready = false;
        memset(&d->bz, 0, sizeof d->bz);
        if (BZ2_bzDecompressInit(&d->bz, 0, 0) != BZ_OK)
            break;
        d->bz_ready = true;
        return CP_OK;
    case CP_COMPRESSION_XZ:
        if (d->xz_ready)
            lzma_end(&d->xz);
        d->xz_ready = false;
        memset(&d->xz, 0, sizeof d->xz);
        if (lzma_stream_decoder(&d->xz, XZ_MEMLIMIT, 0) != LZMA_OK)
            break;
        d->xz_ready = true;
        return CP_OK;
    case CP_COMPRESSION_NONE:
        return CP_OK;
    }
    return cp_error_set(err, CP_NOMEM, "%s: out of memory for the %s decoder", d->base.name,
                        cp_compression_name(d->kind));
}

/*
 * One decoder call from in[in_pos..] into out. *produced: bytes written; *end: the member
 * ended. An error names the offset where the decoder stopped.
 */
static cp_status step(dz_source *d, uint8_t *out, size_t cap, size_t *produced, bool *end,
                      cp_error *err)
{
    const size_t avail = d->in_len - d->in_pos;
    *produced = 0;
    *end = false;
    switch (d->kind) {
    case CP_COMPRESSION_GZIP: {
        /* 32-bit counts: both sides are at most IN_CAP or clipped to it */
        d->z.next_in = d->in + d->in_pos;
        d->z.avail_in = (uInt)avail;
        d->z.next_out = out;
        d->z.avail_out = (uInt)(cap < UINT32_MAX ? cap : UINT32_MAX);
        uInt out_before = d->z.avail_out;
        int r = inflate(&d->z, Z_NO_FLUSH);
        d->in_pos += avail - d->z.avail_in;
        *produced = out_before - d->z.avail_out;
        if (r == Z_STREAM_END)
            *end = true;
        else if (r == Z_MEM_ERROR)
            return cp_error_set(err, CP_NOMEM, "%s: out of memory decompressing", d->base.name);
        else if (r != Z_OK && r != Z_BUF_ERROR)
            return corrupt(d, d->z.msg ? d->z.msg : "bad data", err);
        return CP_OK;
    }
    case CP_COMPRESSION_ZSTD: {
        /* on an error the decoder does not say how far it read: small slices bound it */
        ZSTD_inBuffer ib = {d->in + d->in_pos, avail < ZSTD_SLICE ? avail : ZSTD_SLICE, 0};
        ZSTD_outBuffer ob = {out, cap, 0};
        size_t r = ZSTD_decompressStream(d->zs, &ob, &ib);
        if (ZSTD_isError(r))
            ib.pos = ib.size;
        d->in_pos += ib.pos;
        *produced = ob.pos;
        if (ZSTD_isError(r)) {
            if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge)
                return cp_error_set(err, CP_IO,
                                    "%s: the zstd data needs a window larger than %u MiB to "
                                    "decompress (written with --long or --ultra?); recompress "
                                    "it with a smaller window",
                                    d->base.name, 1u << (WINDOW_LOG_MAX - 20));
            if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
                return cp_error_set(err, CP_NOMEM, "%s: out of memory decompressing", d->base.name);
            return corrupt(d, ZSTD_getErrorName(r), err);
        }
        *end = r == 0;
        return CP_OK;
    }
    case CP_COMPRESSION_BZIP2: {
        d->bz.next_in = (char *)d->in + d->in_pos;
        d->bz.avail_in = (unsigned)avail;
        d->bz.next_out = (char *)out;
        d->bz.avail_out = (unsigned)(cap < UINT32_MAX ? cap : UINT32_MAX);
        unsigned out_before = d->bz.avail_out;
        int r = BZ2_bzDecompress(&d->bz);
        d->in_pos += avail - d->bz.avail_in;
        *produced = out_before - d->bz.avail_out;
        if (r == BZ_STREAM_END)
            *end = true;
        else if (r == BZ_MEM_ERROR)
            return cp_error_set(err, CP_NOMEM, "%s: out of memory decompressing", d->base.name);
        else if (r == BZ_DATA_ERROR)
            return corrupt(d, "a block fails its check", err);
        else if (r != BZ_OK)
            return corrupt(d, "not bzip2 data", err);
        return CP_OK;
    }
    case CP_COMPRESSION_XZ: {
        d->xz.next_in = d->in + d->in_pos;
        d->xz.avail_in = avail;
        d->xz.next_out = out;
        d->xz.avail_out = cap;
        lzma_ret r = lzma_code(&d->xz, d->in_eof && avail == 0 ? LZMA_FINISH : LZMA_RUN);
        d->in_pos += avail - d->xz.avail_in;
        *produced = cap - d->xz.avail_out;
        switch (r) {
        case LZMA_OK:
        case LZMA_BUF_ERROR: /* no progress: more input or the end, decided by the caller */
            return CP_OK;
        case LZMA_STREAM_END:
            *end = true;
            return CP_OK;
        case LZMA_MEM_ERROR:
            return cp_error_set(err, CP_NOMEM, "%s: out of memory decompressing", d->base.name);
        case LZMA_MEMLIMIT_ERROR:
            return cp_error_set(err, CP_IO,
                                "%s: the xz data needs more than %u MiB of memory to "
                                "decompress (a very large dictionary); recompress it with a "
                                "smaller one",
                                d->base.name, (unsigned)(XZ_MEMLIMIT >> 20));
        case LZMA_FORMAT_ERROR:
            return corrupt(d, "not an xz stream", err);
        case LZMA_OPTIONS_ERROR:
            return corrupt(d, "unsupported options", err);
        default:
            return corrupt(d, "bad data or checksum", err);
        }
    }
    case CP_COMPRESSION_NONE:
        break;
    }
    return cp_error_set(err, CP_INTERNAL, "no decoder");
}

/*
 * Between members: zero bytes up to the end are padding; anything else must start the
 * next member of the same format. *more: a member follows.
 */
static cp_status next_member(dz_source *d, bool *more, cp_error *err)
{
    *more = false;
    for (;;) {
        CP_RETURN_IF_ERROR(want(d, 1, err));
        if (d->in_pos == d->in_len)
            return CP_OK; /* the end */
        if (d->in[d->in_pos] != 0)
            break;
        while (d->in_pos < d->in_len && d->in[d->in_pos] == 0)
            d->in_pos++;
    }
    CP_RETURN_IF_ERROR(want(d, PEEK, err));
    if (cp_compression_detect(d->in + d->in_pos, d->in_len - d->in_pos) != d->kind)
        return corrupt(d, "unexpected bytes after the end of the compressed data", err);
    *more = true;
    return member_begin(d, err);
}

/* ---- the source ---------------------------------------------------------------------------- */

static cp_status start(dz_source *d, cp_error *err)
{
    d->started = true;
    CP_RETURN_IF_ERROR(want(d, PEEK, err));
    d->kind = cp_compression_detect(d->in, d->in_len);
    if (d->kind == CP_COMPRESSION_NONE) {
        d->base.size = d->inner->size;
        return CP_OK;
    }
    d->base.size = -1;
    d->member = true;
    return member_begin(d, err);
}

static cp_status dz_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    dz_source *d = (dz_source *)s;
    *n = 0;
    if (!d->started)
        CP_RETURN_IF_ERROR(start(d, err));
    if (cap == 0 || d->ended)
        return CP_OK;
    if (d->kind == CP_COMPRESSION_NONE) {
        if (d->in_pos < d->in_len) {
            size_t k = d->in_len - d->in_pos < cap ? d->in_len - d->in_pos : cap;
            memcpy(buf, d->in + d->in_pos, k);
            d->in_pos += k;
            *n = k;
        } else if (!d->in_eof) {
            CP_RETURN_IF_ERROR(cp_source_read(d->inner, buf, cap, n, err));
        }
        s->position += *n;
        return CP_OK;
    }
    for (;;) {
        if (!d->member) {
            bool more;
            CP_RETURN_IF_ERROR(next_member(d, &more, err));
            if (!more) {
                d->ended = true;
                return CP_OK;
            }
            d->member = true;
        }
        if (d->in_pos == d->in_len && !d->in_eof)
            CP_RETURN_IF_ERROR(refill(d, err));
        const bool at_end = d->in_eof && d->in_pos == d->in_len;
        const size_t pos_before = d->in_pos;
        size_t produced;
        bool end;
        CP_RETURN_IF_ERROR(step(d, buf, cap, &produced, &end, err));
        if (end)
            d->member = false;
        if (produced > 0) {
            s->position += produced;
            *n = produced;
            return CP_OK;
        }
        if (end)
            continue;
        if (at_end)
            return truncated(d, err);
        if (d->in_pos == pos_before && d->in_pos < d->in_len) {
            /* a decoder that neither reads nor writes with both sides open */
            return corrupt(d, "the decoder made no progress", err);
        }
    }
}

static cp_status dz_rewind(cp_source *s, cp_error *err)
{
    dz_source *d = (dz_source *)s;
    CP_RETURN_IF_ERROR(cp_source_rewind(d->inner, err));
    d->started = d->ended = d->member = d->in_eof = false;
    d->in_pos = d->in_len = 0;
    d->in_base = 0;
    d->kind = CP_COMPRESSION_NONE;
    s->position = 0;
    s->size = d->inner->size;
    return CP_OK;
}

static void dz_close(cp_source *s)
{
    dz_source *d = (dz_source *)s;
    decoders_end(d);
    free(d->in);
    cp_source_free(d->inner);
}

cp_source *cp_decompress_open(cp_source *inner, cp_error *err)
{
    dz_source *d = calloc(1, sizeof *d);
    if (d) {
        d->in = malloc(IN_CAP);
        d->base.name = strdup(inner->name);
    }
    if (!d || !d->in || !d->base.name) {
        if (d) {
            free(d->in);
            free(d->base.name);
        }
        free(d);
        cp_error_set(err, CP_NOMEM, "out of memory opening %s", inner->name);
        cp_source_free(inner);
        return NULL;
    }
    d->base.read = dz_read;
    d->base.rewind = dz_rewind;
    d->base.close = dz_close;
    d->base.size = inner->size;
    d->inner = inner;
    return &d->base;
}

cp_status cp_decompress_verify(cp_source *s, bool (*stop)(void), cp_error *err)
{
    if (cp_decompress_kind(s) == CP_COMPRESSION_NONE)
        return CP_OK;
    const size_t cap = (size_t)1 << 20;
    void *buf = malloc(cap);
    if (!buf)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    cp_status st = CP_OK;
    size_t n;
    do {
        if (stop && stop())
            break;
        st = cp_source_read(s, buf, cap, &n, err);
    } while (st == CP_OK && n > 0);
    free(buf);
    return st;
}

const cp_source *cp_decompress_inner(const cp_source *s)
{
    return s->read == dz_read ? ((const dz_source *)s)->inner : s;
}

cp_compression cp_decompress_kind(const cp_source *s)
{
    return s->read == dz_read ? ((const dz_source *)s)->kind : CP_COMPRESSION_NONE;
}

uint64_t cp_decompress_input_position(const cp_source *s)
{
    return s->read == dz_read ? ((const dz_source *)s)->inner->position : s->position;
}
