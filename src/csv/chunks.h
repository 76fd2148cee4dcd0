/*
 * chunks.h - splitting one seekable CSV file into chunks that threads parse at once.
 *
 * The approach of DuckDB's parallel CSV reader: the data [begin, end) is cut every
 * chunk_bytes bytes, and each cut moves forward to just after the next LF. That start is
 * speculative: a LF inside a quoted field looks the same as one that ends a row. Each
 * chunk is parsed from its start as if a row began there, up to the first row that starts
 * at or after the next chunk's start; that row's offset is the true boundary. The chunks
 * are then taken in order: a chunk whose parse found its first row exactly at the true
 * boundary left by the chunk before is right (the same rows, byte for byte, as one
 * sequential parse gives); otherwise it is parsed again from the true boundary, and a
 * chunk that lies wholly inside a row of the one before is skipped.
 *
 * Why the check is enough: a parse started inside a quoted field ends that "row" at the
 * field's closing quote or later, never at the true boundary after it, because the true
 * boundary follows a line end that the wrong parse reads as being inside quotes, or the
 * text between the start and the boundary has a row start the true parse does not have.
 * (Blank lines are skipped by both parses alike.)
 */
#ifndef CP_CHUNKS_H
#define CP_CHUNKS_H

#include "util/status.h"

#include <stddef.h>
#include <stdint.h>

/* Reads up to cap bytes at offset; *n < cap only at the end of the file. */
typedef cp_status (*cp_chunk_read_fn)(void *ctx, uint64_t offset, void *buf, size_t cap, size_t *n,
                                      cp_error *err);

/*
 * The speculative starts of the chunks of [begin, end): starts[0] = begin, then for
 * k = 1, 2, ... the offset just after the first LF at or after begin + k * chunk_bytes
 * (and after the start before it), while it is below end. Writes at most max starts
 * (max >= 1; the last chunk then runs to end) and their count to *n.
 */
cp_status cp_csv_chunk_starts(cp_chunk_read_fn read, void *ctx, uint64_t begin, uint64_t end,
                              uint64_t chunk_bytes, uint64_t *starts, size_t max, size_t *n,
                              cp_error *err);

/* cp_chunk_read_fn over a file descriptor (ctx points to the int) with pread. */
cp_status cp_csv_chunk_read_fd(void *ctx, uint64_t offset, void *buf, size_t cap, size_t *n,
                               cp_error *err);

typedef enum cp_chunk_action {
    CP_CHUNK_USE,     /* the chunk's own parse is right */
    CP_CHUNK_SKIP,    /* the chunk lies inside the row before: nothing of it is used */
    CP_CHUNK_REPARSE, /* parse it again from the true boundary */
} cp_chunk_action;

/*
 * What to do with the chunk [start, next) whose parse from start found its first row at
 * first (UINT64_MAX when it failed before any row; the end of the file when it had none),
 * given the true boundary left by the chunks before it (boundary >= start).
 */
cp_chunk_action cp_csv_chunk_action(uint64_t boundary, uint64_t start, uint64_t next,
                                    uint64_t first);

#endif
