/*
 * emf.h - what `csvpipe lambda` prints per file: one CloudWatch Embedded Metric Format
 * (EMF) record and one structured JSON log line.
 *
 * The EMF record names the metrics of aws/metrics.h (namespace CP_EMF_NAMESPACE, one
 * dimension CP_EMF_DIMENSION = the dataset), and carries one value per metric, taken from
 * a cp_load_summary:
 *   FilesLoaded    1 when the file loaded, else 0 (a skipped repeat is 0 everywhere)
 *   FilesRejected  1 when the file was rejected or failed, else 0
 *   RowsLoaded     rows loaded (0 unless loaded)
 *   RowsRejected   bad rows set aside
 *   BytesRead      source bytes read in the final pass
 *   DurationMs     wall time of the load
 *   Restarts       widen-and-restart passes
 * CloudWatch Logs turns the record into metrics; nothing is sent by csvpipe itself.
 *
 * Lines are single-line JSON followed by '\n'. Strings that are not valid UTF-8 (a key
 * decoded from a broken escape) have their bad bytes replaced by '?'. Thread-safe.
 */
#ifndef CP_AWS_EMF_H
#define CP_AWS_EMF_H

#include "pipeline/pipeline.h"
#include "util/buf.h"

#include <stdint.h>
#include <stdio.h>

/* Appends the EMF record of one load to out; timestamp_ms is milliseconds since the epoch. */
cp_status cp_emf_format(const cp_load_summary *s, int64_t timestamp_ms, cp_buf *out);

/* One structured log line. Every field but level and message may be NULL (left out). */
typedef struct cp_emf_log_entry {
    const char *level;   /* "info", "warn" or "error" */
    const char *message; /* for a person: what happened and, for errors, what to do */
    const char *request_id;
    const char *source;             /* s3://bucket/key */
    const char *status;             /* loaded, skipped, rejected, failed, ignored, refused… */
    const char *error;              /* the error text */
    const char *message_id;         /* the SQS message of the record */
    const cp_load_summary *summary; /* adds dataset, rows, rejected_rows, bytes, restarts,
                                       duration_ms, outputs */
} cp_emf_log_entry;

/* Appends the log line to out (fields "timestamp" ISO 8601 UTC, "level", "message", …). */
cp_status cp_emf_log_format(const cp_emf_log_entry *e, int64_t timestamp_ms, cp_buf *out);

/* Writes out's line to f and flushes it, so CloudWatch gets it even if the process dies. */
cp_status cp_emf_write(FILE *f, const cp_buf *line);

/* Milliseconds since the epoch, now. */
int64_t cp_emf_now_ms(void);

#endif
