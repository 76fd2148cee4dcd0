/*
 * file_sink.h - a local output file (Parquet, NDJSON, rejects), published atomically.
 *
 * Bytes go to "<path>.tmp-<pid>" in the same folder; cp_file_sink_sync fsyncs it (the
 * pipeline does so for every file before it publishes any); cp_file_sink_commit renames it over
 * <path> and fsyncs the folder, so a reader sees either no file (or the previous one) or the
 * complete new file. cp_file_sink_abort removes the temporary file. The parent folder must exist.
 * Not thread-safe.
 */
#ifndef CP_FILE_SINK_H
#define CP_FILE_SINK_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>

/* Where writers send their bytes; ctx is the writer's own. */
typedef cp_status (*cp_write_fn)(void *ctx, const void *data, size_t len);

typedef struct cp_file_sink {
    char *path;             /* final name (owned) */
    char *tmp_path;         /* temporary name (owned) */
    int fd;                 /* -1 when closed */
    cp_status write_status; /* first failure of cp_file_sink_write */
    int write_errno;
    bool synced;      /* cp_file_sink_sync done: the bytes are on disk, fd closed */
    size_t unflushed; /* bytes written since the kernel was last asked to write back */
} cp_file_sink;

/*
 * Every this many bytes written, the kernel is asked to start writing the file out
 * (sync_file_range where there is one), so the fsync of cp_file_sink_sync waits for the
 * tail only instead of the whole file.
 */
#define CP_FILE_SINK_WRITEBACK_BYTES ((size_t)8 << 20)

/* Creates the temporary file (mode 0644, truncating a stale one). CP_IO with errno text. */
cp_status cp_file_sink_open(cp_file_sink *s, const char *path, cp_error *err);

/* A cp_write_fn: ctx is the cp_file_sink. CP_IO on a failed write. */
cp_status cp_file_sink_write(void *ctx, const void *data, size_t len);

/*
 * Closes the temporary file's descriptor (nothing synced), to reopen it with
 * cp_file_sink_resume; CP_IO when a write failed or close does. On failure the sink is
 * aborted.
 */
cp_status cp_file_sink_suspend(cp_file_sink *s, cp_error *err);
/* Reopens the temporary file after cp_file_sink_suspend, writes going to its end. CP_IO. */
cp_status cp_file_sink_resume(cp_file_sink *s, cp_error *err);

/*
 * fsync and close the temporary file: every failure of the disk (a full disk, EIO) shows
 * here, before anything is published. On failure the sink is aborted.
 */
cp_status cp_file_sink_sync(cp_file_sink *s, cp_error *err);
/*
 * cp_file_sink_sync if not done yet, rename to the final path, fsync the folder. Releases
 * the sink's memory.
 */
cp_status cp_file_sink_commit(cp_file_sink *s, cp_error *err);

/*
 * Removes the temporary files "<path>.tmp-<pid>" left by processes that no longer run
 * (a load killed with SIGKILL, a crash). Files of live processes are left alone.
 */
void cp_file_sink_remove_stale(const char *path);

/*
 * Removes the files "<prefix><pid>-..." of folder dir whose process no longer runs (the
 * spool files of a killed load). Files of live processes are left alone.
 */
void cp_file_sink_remove_stale_pid_files(const char *dir, const char *prefix);

/* Closes and removes the temporary file and releases memory; safe after commit or twice. */
void cp_file_sink_abort(cp_file_sink *s);

#endif
