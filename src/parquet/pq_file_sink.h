/*
 * pq_file_sink.h - a local file as the output of a cp_pq_writer, published atomically.
 *
 * Bytes go to "<path>.tmp-<pid>" in the same folder; cp_pq_file_sink_commit fsyncs it,
 * renames it over <path> and fsyncs the folder, so a reader sees either no file (or the
 * previous one) or the complete new file. cp_pq_file_sink_abort removes the temporary
 * file. The parent folder must exist. Not thread-safe.
 */
#ifndef CP_PQ_FILE_SINK_H
#define CP_PQ_FILE_SINK_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cp_pq_file_sink {
    char *path;             /* final name (owned) */
    char *tmp_path;         /* temporary name (owned) */
    int fd;                 /* -1 when closed */
    cp_status write_status; /* first failure of cp_pq_file_sink_write */
    int write_errno;
} cp_pq_file_sink;

/* Creates the temporary file (mode 0644, truncating a stale one). CP_IO with errno text. */
cp_status cp_pq_file_sink_open(cp_pq_file_sink *s, const char *path, cp_error *err);

/* A cp_pq_write_fn: ctx is the cp_pq_file_sink. CP_IO on a failed write. */
cp_status cp_pq_file_sink_write(void *ctx, const void *data, size_t len);

/* fsync, close, rename to the final path, fsync the folder. Releases the sink's memory. */
cp_status cp_pq_file_sink_commit(cp_pq_file_sink *s, cp_error *err);

/* Closes and removes the temporary file and releases memory; safe after commit or twice. */
void cp_pq_file_sink_abort(cp_pq_file_sink *s);

#endif
