/*
 * libFuzzer target: the decompressing source (util/decompress). The first byte is a
 * control byte, the rest the data.
 *
 * Bit 0 clear: the data is a file. It is read to its end (or its error, at most 1 MiB out)
 * through reads of a size the control byte picks, from a source that hands out 1 to 7
 * bytes at a time, then again after a rewind: both passes must give the same bytes and the
 * same status, and never more bytes than asked.
 * Bit 0 set: a round trip. The data is compressed with the format bits 1-2 pick (twice,
 * as two members, when bit 3 is set) and must read back exactly.
 * Seeds: fuzz/corpus/fuzz_decompress/ (scripts/run-fuzz.sh adds them).
 */
#include "util/decompress.h"

#include <bzlib.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX ((size_t)1 << 20)

typedef struct trickle {
    cp_source base;
    const uint8_t *data;
    size_t len, turn;
} trickle;

static cp_status trickle_read(cp_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    trickle *t = (trickle *)s;
    size_t k = 1 + t->turn++ % 7, left = t->len - (size_t)s->position;
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
    ((trickle *)s)->turn = 0; /* the same pieces again: the same bytes before an error */
    return CP_OK;
}

static void trickle_close(cp_source *s) {}

static cp_source *open_source(const uint8_t *data, size_t len, int trickled)
{
    if (!trickled)
        return cp_source_open_memory(data, len, "fuzz.csv.gz");
    trickle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->base.read = trickle_read;
    t->base.rewind = trickle_rewind;
    t->base.close = trickle_close;
    t->base.size = (int64_t)len;
    t->base.name = strdup("fuzz.csv.gz");
    t->data = data;
    t->len = len;
    if (!t->base.name) {
        free(t);
        return NULL;
    }
    return &t->base;
}

/* Reads s to its end, its error or OUT_MAX bytes into out (NULL: only counts). */
static cp_status drain(cp_source *s, size_t cap, uint8_t *out, size_t *total)
{
    uint8_t buf[4096];
    cp_error err;
    *total = 0;
    for (;;) {
        size_t n;
        cp_status st = cp_source_read(s, buf, cap, &n, &err);
        if (st != CP_OK)
            return st;
        if (n > cap)
            __builtin_trap();
        if (n == 0 || *total + n > OUT_MAX)
            return CP_OK;
        if (out)
            memcpy(out + *total, buf, n);
        *total += n;
    }
}

static void read_twice(const uint8_t *data, size_t size, uint8_t ctl)
{
    static const size_t caps[] = {1, 3, 64, 4096};
    size_t cap = caps[(ctl >> 1) & 3];
    if (size > OUT_MAX)
        return;
    cp_error err;
    cp_source *s = cp_decompress_open(open_source(data, size, ctl & 0x10), &err);
    if (!s)
        return;
    static uint8_t first[OUT_MAX], second[OUT_MAX];
    size_t n1, n2;
    cp_status st1 = drain(s, cap, first, &n1);
    cp_compression kind = cp_decompress_kind(s);
    if (cp_source_rewind(s, &err) == CP_OK) {
        cp_status st2 = drain(s, cap, second, &n2);
        if (st1 != st2 || n1 != n2 || memcmp(first, second, n1) != 0 ||
            kind != cp_decompress_kind(s))
            __builtin_trap();
        if (kind == CP_COMPRESSION_NONE && (n1 != size || memcmp(first, data, size) != 0))
            __builtin_trap();
    }
    cp_source_free(s);
}

/* Compresses data with format f; *len its size. NULL when a library refuses. */
static uint8_t *pack(int f, const uint8_t *data, size_t size, size_t *len)
{
    size_t cap = size + size / 2 + 1024;
    uint8_t *out = malloc(cap);
    if (!out)
        return NULL;
    *len = 0;
    if (f == 0) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            goto fail;
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)size;
        z.next_out = out;
        z.avail_out = (uInt)cap;
        int r = deflate(&z, Z_FINISH);
        *len = cap - z.avail_out;
        deflateEnd(&z);
        if (r != Z_STREAM_END)
            goto fail;
    } else if (f == 1) {
        *len = ZSTD_compress(out, cap, data, size, 3);
        if (ZSTD_isError(*len))
            goto fail;
    } else if (f == 2) {
        unsigned n = (unsigned)cap;
        if (BZ2_bzBuffToBuffCompress((char *)out, &n, (char *)data, (unsigned)size, 1, 0, 0) !=
            BZ_OK)
            goto fail;
        *len = n;
    } else {
        if (lzma_easy_buffer_encode(0, LZMA_CHECK_CRC32, NULL, data, size, out, len, cap) !=
            LZMA_OK)
            goto fail;
    }
    return out;
fail:
    free(out);
    return NULL;
}

static void round_trip(const uint8_t *data, size_t size, uint8_t ctl)
{
    static const cp_compression kinds[] = {CP_COMPRESSION_GZIP, CP_COMPRESSION_ZSTD,
                                           CP_COMPRESSION_BZIP2, CP_COMPRESSION_XZ};
    int f = (ctl >> 1) & 3, twice = (ctl >> 3) & 1;
    if (2 * size > OUT_MAX)
        return;
    size_t len;
    uint8_t *z = pack(f, data, size, &len);
    if (!z)
        return;
    uint8_t *file = malloc(2 * len + 1);
    if (!file) {
        free(z);
        return;
    }
    memcpy(file, z, len);
    if (twice)
        memcpy(file + len, z, len);
    cp_error err;
    cp_source *s = cp_decompress_open(open_source(file, twice ? 2 * len : len, ctl & 0x10), &err);
    uint8_t *out = malloc(2 * size + 1);
    if (s && out) {
        size_t n;
        if (drain(s, 1 + ctl % 97, out, &n) != CP_OK || n != (twice + 1) * size ||
            memcmp(out, data, size) != 0 || (twice && memcmp(out + size, data, size) != 0) ||
            cp_decompress_kind(s) != kinds[f])
            __builtin_trap();
    }
    free(out);
    cp_source_free(s);
    free(file);
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    data++;
    size--;
    if (ctl & 1)
        round_trip(data, size, ctl);
    else
        read_twice(data, size, ctl);
    return 0;
}
