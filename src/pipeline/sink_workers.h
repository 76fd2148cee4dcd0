/*
 * sink_workers.h - private to src/pipeline: the threaded sinks of a load (cp_sink.threaded:
 * the Parquet and NDJSON files, local or on S3, the item store sqlite:) written on worker threads
 * while the pipeline's thread reads and types the next batches and writes the other sinks.
 *
 * Each threaded sink belongs to one worker (sink i of the threaded ones to worker
 * i mod nworkers) and each worker writes every batch to its sinks in source order, so a
 * sink sees exactly the calls it would see on one thread: the files are the same bytes.
 * A batch handed over stays the caller's to keep alive until cp_sink_workers_wait says no
 * worker holds it (csv/stream.h, on_reuse). The first error of a worker (earliest batch,
 * then list order) stops the writing of every worker; it is what write and drain return.
 *
 * Not thread-safe itself: one pipeline thread calls it.
 */
#ifndef CP_SINK_WORKERS_H
#define CP_SINK_WORKERS_H

#include "pipeline/sink.h"

typedef struct cp_sink_workers cp_sink_workers;

/*
 * Starts min(nworkers, threaded sinks) worker threads for the sinks of the list that are
 * threaded now (after open). *out NULL, and CP_OK, when that is none: the caller writes
 * every sink. The list must outlive the workers.
 */
cp_status cp_sink_workers_new(cp_sink *const *sinks, size_t nsinks, unsigned nworkers,
                              cp_sink_workers **out, cp_error *err);

/* Worker threads started. */
unsigned cp_sink_workers_count(const cp_sink_workers *w);

/* True when k is written by a worker. */
bool cp_sink_workers_own(const cp_sink_workers *w, const cp_sink *k);

/*
 * Hands b to every worker, or returns the error of a worker that failed on an earlier
 * batch (b is then not handed over). Blocks while CP_SINK_WORKERS_QUEUE batches are held.
 */
cp_status cp_sink_workers_write(cp_sink_workers *w, const cp_batch *b, cp_error *err);

/* Returns once no worker holds b (at once for a batch never handed over). */
void cp_sink_workers_wait(cp_sink_workers *w, const cp_batch *b);

/* Returns once every batch handed over is written: CP_OK, or the first error of a worker. */
cp_status cp_sink_workers_drain(cp_sink_workers *w, cp_error *err);

/*
 * After an error of drain or write: the batch it came from, numbered from 0 in the order
 * of cp_sink_workers_write.
 */
uint64_t cp_sink_workers_failed_batch(const cp_sink_workers *w);

/* Forgets a worker's error (after the sinks were aborted and opened again). */
void cp_sink_workers_clear_error(cp_sink_workers *w);

/* Drains, stops and joins the workers; NULL allowed. */
void cp_sink_workers_free(cp_sink_workers *w);

#define CP_SINK_WORKERS_QUEUE 16

#endif
