/*
 * sink.h - private to src/pipeline: where the rows of a load go, behind one interface.
 *
 * Every output of a load is a sink: one file per format (sink_file.c, driving the writer
 * of sink_parquet.c or sink_json.c), the item store and the relational database
 * (sink_store.c). The writers and loaders they wrap know nothing of the pipeline.
 * The pipeline keeps the sinks of a load in a list and drives each the same way:
 *
 *   open     with the file's schema; again, after abort, when a widening restarts the file
 *   check    every row, when the sink has a check_row: a row it cannot store is rejected
 *   write    every batch, in source order; a deferred sink gets them in a second pass
 *   finish   after the last batch: everything written, nothing visible yet
 *   publish  at the sink's commit step; the steps run in the order of cp_commit_step
 *   abort    drops what is not published (also after an open that failed half-way)
 *   report   adds what the sink published (locations, bytes) to the summary
 *
 * The pipeline calls abort only for a sink it opened and did not publish or abort since
 * (cp_sink.open), and frees every sink at the end of the load.
 *
 * A new file format is one file with its cp_sink_format and one line in cp_sink_formats
 * (sink.c), with its CP_FORMAT_* bit (pipeline.h).
 */
#ifndef CP_SINK_H
#define CP_SINK_H

#include "load/items.h"
#include "load/sql.h"
#include "pipeline/pipeline.h"
#include "util/file_sink.h"

struct cp_aws;

/*
 * The commit of a load, step by step, in this order (docs/architecture.md, "The commit
 * order"). Each step starts only when the one before succeeded; a failure rolls back what
 * is not published yet and leaves what is: a retry converges (files are replaced, items
 * put again, and the ledger row, committed last with the rows, decides what is loaded).
 */
typedef enum cp_commit_step {
    CP_COMMIT_FINISH,   /* every sink finishes: files whole, still under temporary names */
    CP_COMMIT_OUTPUTS,  /* file sinks publish: renamed into place, S3 uploads completed */
    CP_COMMIT_CATALOG,  /* the Glue table made or updated, the new partitions registered */
    CP_COMMIT_REJECTS,  /* the rejects file published or the last version's removed, and the
                           error record of an earlier failure removed */
    CP_COMMIT_DEFERRED, /* a second pass over the source writes the deferred sinks */
    CP_COMMIT_ITEMS,    /* the item store commits its puts and deletes stale items */
    CP_COMMIT_LEDGER,   /* the relational transaction commits the rows and the ledger row */
    CP_COMMIT_NSTEPS
} cp_commit_step;

/* "finish", "outputs", "catalog", "rejects", "deferred", "items", "ledger". */
const char *cp_commit_step_name(cp_commit_step step);

/* What one load tells the sinks it makes; borrowed, it outlives them. */
typedef struct cp_sink_load {
    const cp_pipeline_options *o;
    struct cp_aws *aws; /* NULL unless a source or an output is on S3 */
    const char *dataset;
    const char *stem; /* the source's file name without folders and extension */
    const char *source_uri;
} cp_sink_load;

/* What a sink is told when it publishes. */
typedef struct cp_sink_commit {
    uint64_t rows;               /* rows loaded */
    uint64_t rows_before;        /* rows of the source's last load (its stale items) */
    const cp_ledger_row *ledger; /* the load's ledger row, for CP_COMMIT_LEDGER */
} cp_sink_commit;

typedef struct cp_sink cp_sink;

typedef struct cp_sink_ops {
    /*
     * Starts the sink for a file of this schema. keys: the business key, resolved against
     * schema. Both stay valid until abort or publish.
     */
    cp_status (*open)(cp_sink *k, const cp_schema *schema, const cp_item_keys *keys, cp_error *err);
    cp_status (*write)(cp_sink *k, const cp_batch *b, cp_error *err);
    /* Optional. */
    cp_status (*finish)(cp_sink *k, cp_error *err);
    /* Makes the sink's rows visible; the sink is closed afterwards, whatever the outcome. */
    cp_status (*publish)(cp_sink *k, const cp_sink_commit *c, cp_error *err);
    void (*abort)(cp_sink *k);
    /* Optional: after publish, adds what it published to s (cp_load_summary_add_output). */
    cp_status (*report)(const cp_sink *k, cp_load_summary *s);
    /* Optional: frees what the sink holds besides its struct (free() frees that). */
    void (*release)(cp_sink *k);
} cp_sink_ops;

/* A sink's struct starts with this; its constructor sets ops, step and check_row. */
struct cp_sink {
    const cp_sink_ops *ops;
    cp_commit_step step; /* when publish runs: CP_COMMIT_OUTPUTS, _CATALOG, _ITEMS or _LEDGER */
    /* NULL, or whether row `row` of b can be stored; CP_TOO_LARGE with why rejects it */
    cp_status (*check_row)(cp_sink *k, const cp_batch *b, size_t row, cp_error *why);
    bool open;     /* kept by the pipeline: opened, and not published or aborted since */
    bool deferred; /* set by open: the writes wait for CP_COMMIT_DEFERRED */
    /*
     * Set by open: write may run on a worker thread (sink_workers.h) while the pipeline's
     * thread writes the other sinks; it shares nothing with them. Every other call stays
     * on the pipeline's thread, with no write running.
     */
    bool threaded;
};

/* Aborts the sink when it is open and frees it; NULL allowed. */
void cp_sink_free(cp_sink *k);

/*
 * Defines the cp_sink_ops `var` of a sink implementing every op, as prefix_open,
 * prefix_write, prefix_finish, prefix_publish, prefix_abort, prefix_report and prefix_free
 * (its release).
 */
#define CP_SINK_OPS(var, prefix)                                                                   \
    static const cp_sink_ops var = {.open = prefix##_open,                                         \
                                    .write = prefix##_write,                                       \
                                    .finish = prefix##_finish,                                     \
                                    .publish = prefix##_publish,                                   \
                                    .abort = prefix##_abort,                                       \
                                    .report = prefix##_report,                                     \
                                    .release = prefix##_free}

/*
 * A file format: its writer as a file sink drives it. Its file goes to
 * <out>/<folder>/<dataset>/<stem><extension>, a local path or an S3 object (output.h).
 */
typedef struct cp_sink_format {
    const char *name;  /* in --formats and the outputs of the summary and the ledger */
    const char *alias; /* another name in --formats, or NULL */
    unsigned bit;      /* its CP_FORMAT_* */
    const char *folder, *extension;
    /* A writer into *writer that hands its bytes to write(out, ...). */
    cp_status (*writer_new)(const cp_sink_load *l, const cp_schema *schema,
                            const cp_item_keys *keys, cp_write_fn write, void *out, void **writer,
                            cp_error *err);
    cp_status (*write)(void *writer, const cp_batch *b, cp_error *err);
    cp_status (*finish)(void *writer, cp_error *err); /* the last bytes, e.g. a footer */
    void (*free)(void *writer);
    /*
     * Hands every buffered row to write(out, ...) (a Parquet row group) and frees the
     * writer's buffers; write gets nothing more until the next write or finish.
     */
    cp_status (*suspend)(void *writer, cp_error *err);
} cp_sink_format;

/*
 * Defines the cp_sink_format `var` of a writer type W that follows the writers' conventions
 * (W_write_batch, W_finish, W_free and W_suspend, as parquet/parquet_writer.h and
 * json/json_writer.h),
 * made by writer_new; the rest of the arguments are the fields name to extension.
 */
#define CP_SINK_FORMAT(var, W, writer_new, ...)                                                    \
    static cp_status var##_write(void *w, const cp_batch *b, cp_error *err)                        \
    {                                                                                              \
        return W##_write_batch(w, b, err);                                                         \
    }                                                                                              \
    static cp_status var##_finish(void *w, cp_error *err)                                          \
    {                                                                                              \
        return W##_finish(w, err);                                                                 \
    }                                                                                              \
    static void var##_free(void *w)                                                                \
    {                                                                                              \
        W##_free(w);                                                                               \
    }                                                                                              \
    static cp_status var##_suspend(void *w, cp_error *err)                                         \
    {                                                                                              \
        return W##_suspend(w, err);                                                                \
    }                                                                                              \
    const cp_sink_format var = {__VA_ARGS__,  writer_new, var##_write,                             \
                                var##_finish, var##_free, var##_suspend}

extern const cp_sink_format cp_sink_parquet; /* sink_parquet.c */
extern const cp_sink_format cp_sink_json;    /* sink_json.c */

/* Every file format, in the order of the outputs in the summary and the ledger. */
extern const cp_sink_format *const cp_sink_formats[];
extern const size_t cp_sink_nformats;

/* The head of the sinks writing a file format (sink_file.c, sink_partition.c). */
typedef struct cp_format_sink {
    cp_sink base;
    const cp_sink_format *f;
    const cp_sink_load *l;
    char *location; /* the file, or the folder of the dataset's partitions; the sink frees it */
} cp_format_sink;

/*
 * A zeroed sink of size bytes, a struct starting with a cp_format_sink, of format f for
 * the load l, driven by ops and published at CP_COMMIT_OUTPUTS. Its location is
 * <out>/<folder>/<dataset>, followed by /<stem><extension> when file is true. NULL, with
 * CP_NOMEM in err, when out of memory.
 */
void *cp_format_sink_new(size_t size, const cp_sink_ops *ops, const cp_sink_format *f,
                         const cp_sink_load *l, bool file, cp_error *err);

/* A sink writing the file of format f for the load l (sink_file.c). */
cp_status cp_sink_file_new(const cp_sink_format *f, const cp_sink_load *l, cp_sink **out,
                           cp_error *err);
/*
 * A sink writing the file of format f for the load l split into the partitions of
 * l->o->partition (sink_partition.c).
 */
cp_status cp_sink_partition_new(const cp_sink_format *f, const cp_sink_load *l, cp_sink **out,
                                cp_error *err);
/*
 * After publish: the partitions of the partition sink k holding files, as their folders
 * "k1=v1/k2=v2" (escaped as table/partition.h says), borrowed until k is opened again or
 * freed; *n of them.
 */
const char *const *cp_sink_partition_folders(const cp_sink *k, size_t *n);
/*
 * After publish: the partition folders (as above) that only stale files of the source fill
 * (its files this load did not publish: those of partitions a new version no longer
 * touches), which their removal empties; borrowed as above.
 */
const char *const *cp_sink_partition_emptied(const cp_sink *k, size_t *n);
/*
 * Makes the partition sink k leave its stale files at publish, for the catalog to remove
 * with cp_sink_partition_remove_stale once the partitions they empty left the table: a
 * crash in between leaves the files, and the rerun finds them again.
 */
void cp_sink_partition_defer_stale(cp_sink *k);
/* Removes the stale files found at publish (then point <format>-stale-removed). */
cp_status cp_sink_partition_remove_stale(cp_sink *k, cp_error *err);
/*
 * A sink registering the load's Parquet dataset in the Glue database l->o->catalog_database
 * at CP_COMMIT_CATALOG (sink_catalog.c): the table at <out>/parquet/<dataset>/, and the
 * partitions of parquet (a partition sink, whose stale files it removes after the
 * partitions they empty: cp_sink_partition_defer_stale), or none when parquet is NULL.
 * parquet outlives it.
 */
cp_status cp_sink_catalog_new(const cp_sink_load *l, cp_sink *parquet, cp_sink **out,
                              cp_error *err);
/* A sink putting items into the store, which outlives it (sink_store.c). */
cp_status cp_sink_items_new(cp_items *items, const cp_sink_load *l, cp_sink **out, cp_error *err);
/* A sink loading rows into the database, which outlives it (sink_store.c). */
cp_status cp_sink_sql_new(cp_sql *sql, const cp_sink_load *l, cp_sink **out, cp_error *err);

#endif
