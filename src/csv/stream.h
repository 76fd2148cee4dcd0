/*
 * stream.h - one CSV source, start to end, as typed column batches.
 *
 * The schema from sniffing is a guess from a sample. When a later value does not fit its
 * column (text in an INT64 column), the stream stops handing out batches, reads the rest
 * of the file only to learn every column that must widen and how far (types.h, the
 * lattice), calls on_restart, and reads the file again from its start with the widened
 * schema. One restart is enough: every value seen fits the widened types. Nothing a sink
 * received before the restart is valid after it.
 *
 * A column whose type a person forced (cp_column.forced, csv/overrides.h) never widens:
 * a row whose value does not fit it is rejected instead, in the sample or after it, and
 * such a row widens no other column either.
 *
 * Rows that cannot be parsed (broken quoting, more fields than columns, a value that does
 * not fit a forced type) go to on_reject with the reason, and the stream goes on; the
 * caller decides when there are too many.
 */
#ifndef CP_STREAM_H
#define CP_STREAM_H

#include "csv/sniff.h"
#include "util/decompress.h"

typedef struct cp_stream_stats {
    uint64_t rows;     /* rows delivered in batches */
    uint64_t rejected; /* rows given to on_reject */
    unsigned restarts;
    uint64_t bytes;       /* source bytes read in the final pass (decompressed) */
    cp_encoding encoding; /* as decoded in the end (UTF-8 may fall back) */
    const char *line_ending;
    cp_compression compression; /* of a source from cp_decompress_open */
    uint64_t repeated_headers;  /* rows skipped because they repeat the header */
    /* a file read in chunks (stream_chunks.h): the bytes handed over so far, updated while
       the stream runs (for progress); 0 otherwise */
    uint64_t reached;
} cp_stream_stats;

typedef struct cp_stream_callbacks {
    /* A full (or the last, partial) batch. Returning an error stops the stream. */
    cp_status (*on_batch)(void *ctx, const cp_batch *b, cp_error *err);
    /* A row that was rejected; why->line and why->column locate it. */
    cp_status (*on_reject)(void *ctx, const cp_row *row, const cp_error *why, cp_error *err);
    /* Everything received so far is void; the schema now has wider types. */
    cp_status (*on_restart)(void *ctx, const cp_schema *widened, cp_error *err);
    void *ctx;
    /*
     * Optional: row `row` of b was just appended. Returning CP_TOO_LARGE (with why) takes
     * the row back out and hands it to on_reject; any other error stops the stream.
     */
    cp_status (*on_row)(void *ctx, const cp_batch *b, size_t row, cp_error *why);
    /*
     * Optional: a batch given to on_batch stays untouched until the stream calls on_reuse
     * with it, which must return once the caller is done with it (other threads encoding
     * it, say). Called before a batch is cleared for new rows, and for every batch before
     * the stream returns or restarts.
     */
    void (*on_reuse)(void *ctx, const cp_batch *b);
} cp_stream_callbacks;

typedef struct cp_stream_options {
    size_t batch_rows;     /* default cp_stream_batch_rows(schema) */
    size_t batch_bytes;    /* string budget per batch, default 16 MiB */
    unsigned max_restarts; /* default 3 */
    /*
     * Batches the stream fills in turn when on_reuse is given, 1 by default, at most
     * CP_STREAM_MAX_BATCHES; each is made when first needed. The rows of each batch are
     * the same whatever the count.
     */
    unsigned batches;
    /*
     * 0, or the memory (cp_batch_memory) past which the stream makes no more batches: it
     * then goes round the ones made, never fewer than CP_STREAM_MIN_BATCHES of them.
     */
    size_t batches_memory;
} cp_stream_options;

#define CP_STREAM_BATCH_ROWS 8192
#define CP_STREAM_BATCH_VALUE_BYTES ((size_t)64 << 20)

/*
 * The default rows of a batch: CP_STREAM_BATCH_ROWS, fewer for a schema so wide that
 * its values at 16 bytes each (the widest type) would pass CP_STREAM_BATCH_VALUE_BYTES
 * (from 513 columns on: a file of 20,000 columns gets batches of 209 rows, not 2.6 GB
 * ones); never fewer than 1. The same for every type of the same columns, so a restart
 * after widening keeps it.
 */
size_t cp_stream_batch_rows(const cp_schema *schema);
#define CP_STREAM_MIN_BATCHES 3
#define CP_STREAM_MAX_BATCHES 16

/*
 * Streams src with the sniffed dialect and schema; sniffed->schema is widened in place
 * when needed. Errors that end the file (decoding, an unterminated quote, a field past
 * the limit, I/O) come back with the source name, line and column in err.
 */
cp_status cp_csv_stream(cp_source *src, cp_sniff_result *sniffed, const cp_csv_options *opts,
                        const cp_stream_options *so, const cp_stream_callbacks *cb,
                        cp_stream_stats *stats, cp_error *err);

#endif
