/*
 * emf.h - what `csvpipe lambda` prints per file: one CloudWatch Embedded Metric Format
 * (EMF) record and one structured JSON log line.
 *
 * The EMF record names the metrics of aws/metrics.h (namespace CP_EMF_NAMESPACE, one
 * dimension CP_EMF_DIMENSION = the dataset), and carries one value per metric, taken from
 * a cp_emf_load that the caller fills (the pipeline, from its load summary:
 * cp_load_summary_emf). CloudWatch Logs turns the record into metrics; nothing is sent by
 * csvpipe itself.
 *
 * Lines are single-line JSON followed by '\n'. Strings that are not valid UTF-8 (a key
 * decoded from a broken escape) have their bad bytes replaced by '?'. Thread-safe.
 */
#ifndef CP_AWS_EMF_H
#define CP_AWS_EMF_H

#include "aws/metrics.h"
#include "util/buf.h"

#include <stdint.h>
#include <stdio.h>

/* The index of each metric of aws/metrics.h in cp_emf_load.metrics: CP_EMF_FilesLoaded... */
enum {
#define CP_EMF_INDEX(name, unit) CP_EMF_##name,
    CP_EMF_METRICS(CP_EMF_INDEX)
#undef CP_EMF_INDEX
        CP_EMF_NMETRICS
};

#define CP_EMF_MAX_OUTPUTS 8

/* One load as the record and the log line tell it. Strings are borrowed; NULL ones are
 * left out. */
typedef struct cp_emf_load {
    const char *dataset; /* the dimension value; NULL is "unknown" */
    const char *source;  /* s3://bucket/key or a path */
    const char *status;  /* loaded, skipped, rejected, failed */
    const char *version;
    const char *error;
    int64_t metrics[CP_EMF_NMETRICS]; /* the value of each metric, in the order of the list */
    struct {
        const char *key; /* the log line's field: "parquet", "rejects", "errorDetails"... */
        const char *location;
    } outputs[CP_EMF_MAX_OUTPUTS];
    size_t noutputs;
} cp_emf_load;

/* Appends the EMF record of one load to out; timestamp_ms is milliseconds since the epoch. */
cp_status cp_emf_format(const cp_emf_load *load, int64_t timestamp_ms, cp_buf *out);

/* One structured log line. Every field but level and message may be NULL (left out). */
typedef struct cp_emf_log_entry {
    const char *level;   /* "info", "warn" or "error" */
    const char *message; /* for a person: what happened and, for errors, what to do */
    const char *request_id;
    const char *source;      /* s3://bucket/key */
    const char *status;      /* loaded, skipped, rejected, failed, ignored, refused… */
    const char *error;       /* the error text */
    const char *message_id;  /* the SQS message of the record */
    const cp_emf_load *load; /* adds dataset, version, rows, rejectedRows, bytes, restarts,
                                durationMs, the outputs, and the load's error */
} cp_emf_log_entry;

/* Appends the log line to out (fields "timestamp" ISO 8601 UTC, "level", "message", …). */
cp_status cp_emf_log_format(const cp_emf_log_entry *e, int64_t timestamp_ms, cp_buf *out);

/* Writes out's line to f and flushes it, so CloudWatch gets it even if the process dies. */
cp_status cp_emf_write(FILE *f, const cp_buf *line);

/* Milliseconds since the epoch, now. */
int64_t cp_emf_now_ms(void);

#endif
