/*
 * decompress.h - compressed input read transparently: a cp_source over another source
 * that recognizes gzip, zstd, bzip2 and xz by their first bytes (never by the name) and
 * hands out the decompressed bytes; anything else passes through unchanged.
 *
 * Streaming with flat memory: one 256 KiB input buffer plus the decoder's own state
 * (zlib 44 KiB; zstd its window, at most 128 MiB and 2 to 8 MiB for what the zstd tool
 * writes; bzip2 about 3.6 MiB; xz its dictionary, at most 128 MiB). Output goes straight
 * into the caller's buffer. Concatenated members (`cat a.gz b.gz`, pigz, pbzip2, several
 * zstd frames or xz streams) read as one file; zero bytes after the last member are
 * ignored, as gzip does. A member that ends early is a truncated file; a bad checksum or
 * block, or other bytes after the last member, is corrupt data: both are CP_IO errors
 * whose message names the source and the byte offset in the compressed input where the
 * decoder found the damage (also in err->offset). The checks come at the end of a block
 * or member, so bytes handed out before an error may be wrong: a reader that gets an
 * error must drop what it read (a load that fails publishes nothing).
 *
 * A rewind rewinds the source underneath and decodes again from its first byte.
 */
#ifndef CP_DECOMPRESS_H
#define CP_DECOMPRESS_H

#include "util/source.h"

typedef enum cp_compression {
    CP_COMPRESSION_NONE = 0,
    CP_COMPRESSION_GZIP,
    CP_COMPRESSION_ZSTD,
    CP_COMPRESSION_BZIP2,
    CP_COMPRESSION_XZ,
} cp_compression;

/* "none", "gzip", "zstd", "bzip2", "xz". */
const char *cp_compression_name(cp_compression c);

/* The compression whose magic bytes start head (n bytes; 10 are enough), or NONE. */
cp_compression cp_compression_detect(const void *head, size_t n);

/*
 * The length of a compression suffix that ends name (".gz", ".gzip", ".zst", ".zstd",
 * ".bz2", ".xz", any letter case), or 0: "sales.csv.gz" -> 3. For names only; what a
 * file holds is decided by cp_compression_detect.
 */
size_t cp_compression_suffix_len(const char *name);

/*
 * A source that decompresses inner, which it owns from now on (also when it fails: then
 * inner is freed). Nothing is read yet: the compression is decided at the first read and
 * again after each rewind. name is inner's. size is inner's while the data passes
 * through and -1 (unknown) once it is compressed; position counts decompressed bytes.
 * NULL only when memory runs out.
 */
cp_source *cp_decompress_open(cp_source *inner, cp_error *err);

/* What the source read so far turned out to be; NONE before the first read and for a
   source that does not come from cp_decompress_open. */
/* The source a cp_decompress_open source reads (s itself for any other source). */
const cp_source *cp_decompress_inner(const cp_source *s);
cp_compression cp_decompress_kind(const cp_source *s);

/*
 * Reads the rest of s, dropping the bytes, to learn whether its compressed data is sound.
 * For a reader that failed on the text (bad UTF-8, a broken row, too many rejects): damage
 * in compressed data shows as wrong text before the check that finds it, and then the
 * damage is what to report. CP_OK when s is not compressed, when its data is sound to the
 * end, or when stop() (asked every MiB; NULL: never) says to stop; otherwise the error of
 * the read that failed.
 */
cp_status cp_decompress_verify(cp_source *s, bool (*stop)(void), cp_error *err);

/* Bytes read from the source underneath since the last rewind (the compressed bytes),
   for progress against its size; s->position for any other source. */
uint64_t cp_decompress_input_position(const cp_source *s);

#endif
