/*
 * pipeline.h - one CSV source end to end: sniff, stream, sinks, commit.
 *
 * For each source: the ledger is asked whether this version was loaded already (a repeat
 * is skipped); the file is sniffed, then streamed once into every sink (pipeline/sink.h) —
 * Parquet and NDJSON written to temporary files, rows into an open relational
 * transaction, items into the item store's transaction — with rejected rows kept aside.
 * When a later value widens a column, every sink starts over (stream.h). At the end, in
 * this order (cp_commit_step): outputs published (renamed into place), the rejects file
 * published when there are rejects, the items of a store without transactions written in
 * a second pass, items committed with the source's stale items deleted, then one
 * relational transaction commit holding the rows and the ledger row. A crash at any point
 * leaves the previous state or the new one, and a retry converges. Too many rejected rows (more
 * than max_rejects or more than max_reject_fraction of the rows) reject the whole file: nothing is
 * loaded and <out>/rejected/<dataset>/<stem>.error.json says why; so does any error that ends a
 * file.
 *
 * The pipeline owns its database connections across files. Not thread-safe.
 */
#ifndef CP_PIPELINE_H
#define CP_PIPELINE_H

#include "aws/emf.h"
#include "csv/overrides.h"
#include "csv/stream.h"
#include "json/json_writer.h"
#include "load/ledger.h"
#include "parquet/parquet_writer.h"
#include "table/partition.h"

#include <stdio.h>

enum {
    CP_FORMAT_PARQUET = 1 << 0,
    CP_FORMAT_JSON = 1 << 1,
};

typedef struct cp_pipeline_options {
    const char *out_dir; /* default "./csvpipe-out" */
    unsigned formats;    /* CP_FORMAT_* */
    cp_json_style json_style;
    cp_pq_options parquet;
    const char *sql_url;          /* NULL: no relational loader (and no ledger) */
    const char *nosql_url;        /* NULL: no item loader */
    const char *table;            /* dataset name for every source; NULL: derived */
    const char *const *key_names; /* business key columns (normalized or original names) */
    size_t nkeys;
    uint64_t max_rejects;       /* default 1000 */
    double max_reject_fraction; /* default 0.01 */
    cp_csv_options csv;
    /*
     * What a person says about every file (--schema, --type): applied after sniffing
     * (csv/overrides.h); NULL: nothing. A --schema file here wins over schema_prefix.
     */
    const cp_overrides *overrides;
    /* A folder or s3:// prefix of <dataset>.json schema files (pipeline/dataset_schema.h). */
    const char *schema_prefix;
    bool progress; /* draw a progress bar on stderr */
    /*
     * Threads of a load (util/cpus.h): 1 does everything on the calling thread; more parse
     * the chunks of a local file on that many threads (csv/stream_chunks.h) and run the
     * file sinks' encoding on worker threads ("Threads" in README.md). Default: the CPUs
     * this process may use.
     */
    unsigned threads;
    /*
     * With threads above 1, the text of one chunk of a local file parsed by one thread
     * (csv/stream_chunks.h); 0: CP_CHUNK_BYTES. Env CSVPIPE_CHUNK_BYTES sets the default
     * (util/env.h: raised to CP_CHUNK_MIN_BYTES; not a positive whole number: ignored,
     * with a warning).
     */
    uint64_t chunk_bytes;
    /*
     * Load a source only when the ledger hands its current version to this process (the
     * ECS task of a hand-off, "Big files" below); otherwise it is skipped. handoff_task:
     * this task's ARN, then only a hand-off naming it counts; NULL accepts any.
     */
    bool require_handoff;
    const char *handoff_task;
    /*
     * NULL, or the Hive-style partitions of the Parquet and NDJSON files
     * (table/partition.h): <out>/<folder>/<dataset>/<key>=<value>/.../<stem><extension>.
     * partition_writers bounds the partition files open at once (pipeline/sink.h,
     * sink_partition.c); default CP_PARTITION_WRITERS.
     */
    const cp_partition_spec *partition;
    unsigned partition_writers;
    size_t json_buffer; /* bytes an NDJSON writer buffers; 0: its default */
    /*
     * NULL, or the Glue database where the Parquet dataset of an S3 output is registered
     * after its files are published (aws/glue.h): its table, typed columns, partition keys
     * and new partitions.
     */
    const char *catalog_database;
} cp_pipeline_options;

#define CP_PARTITION_WRITERS 64
/* What the partition writers of one file format hold together, about (sink_partition.c). */
#define CP_PARTITION_MEMORY ((size_t)48 << 20)

void cp_pipeline_options_default(cp_pipeline_options *o);

/*
 * Parses a list of output formats such as "parquet,json" into CP_FORMAT_* bits: format
 * names in any case ("ndjson" is "json"), separated by commas and/or spaces; "none" adds
 * nothing. CP_USAGE with a message naming the unknown word and the known ones otherwise.
 */
cp_status cp_pipeline_parse_formats(const char *list, unsigned *formats, cp_error *err);

/* One file a load published. */
typedef struct cp_load_output {
    const char *format; /* its format's name ("parquet", "json"): static */
    char *location;     /* a path or an s3:// URI */
    uint64_t bytes;
} cp_load_output;

/* What happened to one source; strings owned by the summary. */
typedef struct cp_load_summary {
    char *source;     /* as given */
    char *source_uri; /* absolute path, "stdin", or s3:// URI */
    char *dataset;
    char *version;
    char *sequencer; /* the S3 event's, NULL otherwise */
    cp_load_status status;
    bool interrupted;        /* stopped by cp_pipeline_interrupt and rolled back */
    char *error;             /* NULL unless rejected or failed */
    char *schema_file;       /* the schema file applied (--schema or the prefix's), or NULL */
    cp_sniff_result sniffed; /* dialect and final schema (empty when skipped early) */
    cp_stream_stats stream;
    uint64_t rows_before; /* rows of this source's previous load (stale items) */
    int64_t size_bytes;
    int64_t started_us, finished_us;
    double sniff_ms, stream_ms, commit_ms;
    cp_load_output *outputs; /* the files published, in the order of the formats */
    size_t noutputs;
    char *rejects_path, *error_path; /* NULL when not written */
    char *task_arn;                  /* the ECS task a hand-off names, NULL otherwise */
} cp_load_summary;

void cp_load_summary_release(cp_load_summary *s);
/* Adds a published file to the summary (location copied). CP_NOMEM. */
cp_status cp_load_summary_add_output(cp_load_summary *s, const char *format, const char *location,
                                     uint64_t bytes);
/* The file of format ("parquet", "json") the load published, or NULL. */
const cp_load_output *cp_load_summary_output(const cp_load_summary *s, const char *format);
/* The summary as one JSON object (the `--json` output and the Lambda response). */
cp_status cp_load_summary_to_json(const cp_load_summary *s, cp_buf *out);
/* The summary for a person, several lines. */
void cp_load_summary_print(const cp_load_summary *s, FILE *f);
/*
 * The summary as the EMF record and the log line of `csvpipe lambda` tell it (aws/emf.h);
 * out borrows the summary's strings.
 */
void cp_load_summary_emf(const cp_load_summary *s, cp_emf_load *out);

typedef struct cp_pipeline cp_pipeline;

/* Opens the databases named in opts (copied). NULL with err on failure. */
cp_pipeline *cp_pipeline_new(const cp_pipeline_options *opts, cp_error *err);
void cp_pipeline_free(cp_pipeline *p);

/*
 * Big files. A Lambda invocation ends at its deadline; an S3 object whose estimated load
 * time does not fit in budget_ms is handed to a task that loads it with `csvpipe run
 * --handed-off` (require_handoff above). The estimate is the object's size over
 * bytes_per_s, the size taken CP_HANDOFF_EXPANSION times for a name with a compression
 * suffix (.gz, .zst, .bz2, .xz: the CSV inside is that much larger; the bytes are not read
 * to decide). It is a step of the load, after the source lock and the version (its HEAD
 * gives size and version) and before the skip check. The ledger makes it happen once
 * (sql.h, "Hand-offs"), under the source's lock:
 *  - a version already loaded, or an event older than the last load, takes the normal path
 *    (skipped and recorded as usual);
 *  - a version already handed off to a task that is still alive is skipped (no second
 *    task); when that task is gone (stopped, or no longer known), it is handed off again;
 *  - otherwise start() starts the task and the "handed_off" row names it, committed in the
 *    same lock; a task finds its row only once that commit happened;
 *  - the load fails (recorded as any failure) when the earlier task's state is unknown (no
 *    second task on a guess), when no task can be started, or when the hand-off of a
 *    started task cannot be recorded (that task finds no row and skips).
 * A task that dies mid-load commits nothing; its version stays "handed_off" until a new
 * event for it (a retry, a re-sent notification) finds the task gone and hands it off again.
 * Without a relational database (no ledger) nothing is handed off.
 */
/*
 * The benchmark's gzip and zstd files hold 4 times their size of CSV and cost 1.3 to 1.4
 * times the CPU (bench/results/compressed.md); CSVs with repeated values compress better.
 * 8 leans towards handing off: a hand-off that was not needed costs a task's start, a file
 * kept that does not fit fails at the deadline on every retry.
 */
#define CP_HANDOFF_EXPANSION 8.0

typedef struct cp_handoff_plan {
    int64_t budget_ms;  /* the time left for this load; < 0: unknown, never hand off */
    double bytes_per_s; /* the load throughput to expect */
    /* starts the task for s (source_uri, dataset, version set); *task_arn malloc'd */
    cp_status (*start)(void *ctx, const cp_load_summary *s, char **task_arn, cp_error *err);
    /* whether the task of an earlier hand-off is gone; why: its state, for the log */
    cp_status (*gone)(void *ctx, const char *task_arn, bool *gone, char *why, size_t cap,
                      cp_error *err);
    void *ctx;
} cp_handoff_plan;

/* One source to load and what its event said about it. */
typedef struct cp_load_request {
    const char *source;             /* a path, "-" for standard input, or an s3:// URI */
    const char *dataset_hint;       /* the first folder under an inbox or input prefix, or NULL */
    const char *version;            /* the event's version id or ETag; NULL: ask the source */
    const char *sequencer;          /* the S3 event's sequencer; NULL when none */
    const cp_handoff_plan *handoff; /* a big S3 object may be handed off; NULL: never */
} cp_load_request;

/*
 * Loads one source. Standard input is spooled to a temporary file so it can be read
 * again. An S3 object is streamed (never held in memory or on disk). The source's version
 * is a local file's mtime, size and inode, or the S3 version id or ETag: a version loaded
 * before is skipped, and so is an event whose sequencer is older than the last load's.
 * Outputs go to out_dir, a folder or an s3:// prefix (multipart uploads, completed at
 * commit). A load whose PostgreSQL connection is lost before commit starts over (three
 * times at most). With req->handoff a big object is handed off instead ("Big files").
 * Always fills *out (status loaded, skipped, rejected, failed or handed_off) unless it
 * returns an error that is not about the file (CP_NOMEM, a database that went away, or
 * CP_USAGE: a --type that names no column of the file; nothing is recorded then).
 */
cp_status cp_pipeline_load_request(cp_pipeline *p, const cp_load_request *req, cp_load_summary *out,
                                   cp_error *err);
/* cp_pipeline_load_request for a path or URI with no event details. */
cp_status cp_pipeline_load(cp_pipeline *p, const char *path, const char *dataset_hint,
                           cp_load_summary *out, cp_error *err);

/*
 * Async-signal-safe: the load in hand is rolled back at its next batch and reported with
 * interrupted = true. The flag stays set until cp_pipeline_interrupt_clear.
 */
void cp_pipeline_interrupt(void);
void cp_pipeline_interrupt_clear(void);
bool cp_pipeline_interrupted(void);

#endif
