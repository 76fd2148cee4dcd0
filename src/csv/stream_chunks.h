/*
 * stream_chunks.h - cp_csv_stream on several threads for one seekable file.
 *
 * A local, uncompressed UTF-8 file (no BOM) is cut into chunks (chunks.h: speculative
 * starts after a line end, verified in order against where the chunk before ended, parsed
 * again from the true boundary when wrong). Up to `threads` threads tokenize and type the
 * chunks at once, each into batches of the sniffed schema, with the line numbers of its
 * chunk; the calling thread takes the chunks in source order, adds the lines before each,
 * and hands the callbacks exactly what cp_csv_stream hands them: the same batches (rows
 * copied into batches of batch_rows rows and batch_bytes string bytes, so every batch
 * boundary is the one of a single thread), the same rejected rows in the same order with
 * the same lines and messages, the same errors, the same widen-and-restart (the rest of
 * the file is read from the row that does not fit, and the load starts over with the
 * widened schema, as on one thread), the same stats.
 *
 * Anything else (standard input, a compressed or non-UTF-8 source, a file with a BOM,
 * threads <= 1, an on_row callback, a file of one chunk) goes to cp_csv_stream.
 *
 * Memory: the chunks parsed but not yet handed over are at most threads + 1 (the caller
 * passes N-1 threads of --threads N: N chunks), each at most
 * chunk_bytes of text (plus the one row that crosses its end) held as typed batches.
 * A file that is UTF-8 by detection and turns out to have an invalid byte (Windows-1252
 * then, or an error) is read on the calling thread from the row where that byte is, with
 * the decoder in the state one thread would have.
 */
#ifndef CP_STREAM_CHUNKS_H
#define CP_STREAM_CHUNKS_H

#include "csv/stream.h"

typedef struct cp_chunk_options {
    unsigned threads;     /* threads that parse; <= 1: cp_csv_stream */
    uint64_t chunk_bytes; /* 0: CP_CHUNK_BYTES; less than CP_CHUNK_MIN_BYTES: that */
} cp_chunk_options;

#define CP_CHUNK_BYTES ((uint64_t)8 << 20)
#define CP_CHUNK_MIN_BYTES ((uint64_t)64)
#define CP_CHUNK_MAX_THREADS 64

/*
 * cp_csv_stream of src (opened on path, which must name the same file) with chunks parsed
 * on co->threads threads when the file allows it (above). *chunked (may be NULL) tells
 * whether it did. The callbacks are called on the calling thread only.
 */
cp_status cp_csv_stream_chunks(const char *path, cp_source *src, cp_sniff_result *sniffed,
                               const cp_csv_options *opts, const cp_stream_options *so,
                               const cp_chunk_options *co, const cp_stream_callbacks *cb,
                               cp_stream_stats *stats, bool *chunked, cp_error *err);

#endif
