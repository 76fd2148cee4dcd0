/*
 * parquet_writer.h - streams typed column batches into a Parquet file.
 *
 * The file is produced front to back through a write callback and never sought: the
 * magic "PAR1", then row groups, then the footer (FileMetaData in Thrift compact form),
 * its 4-byte little-endian length and "PAR1" again. A row group is buffered (compressed
 * pages, column by column) until its uncompressed size passes row_group_bytes, then
 * handed to the callback whole, so memory holds at most one row group plus one pending
 * page and one dictionary per column; the same writer can feed a file or an S3 multipart
 * upload. Schema mapping, encodings and statistics: see pq_meta.h, pq_column.h and
 * pq_stats.h. Key-value metadata: "csvpipe.schema" (cp_schema_to_json) and
 * "csvpipe.headers" (a JSON array of the original headers); created_by is
 * "csvpipe version <CP_VERSION> (build <CP_GIT_HASH>)".
 *
 * Not thread-safe; one writer per output.
 */
#ifndef CP_PARQUET_WRITER_H
#define CP_PARQUET_WRITER_H

#include "parquet/pq_compress.h"
#include "table/batch.h"

/* Receives the file's bytes in order; returns CP_OK or an error that stops the writer. */
typedef cp_status (*cp_pq_write_fn)(void *ctx, const void *data, size_t len);

typedef struct cp_pq_options {
    cp_pq_codec codec;       /* default CP_PQ_SNAPPY */
    size_t row_group_bytes;  /* uncompressed bytes per row group; 0 = 128 MiB */
    size_t page_bytes;       /* PLAIN-equivalent bytes per data page; 0 = 1 MiB, less for
                                wide schemas: 64 MiB shared by the columns, at least 64 KiB
                                each (every column buffers one pending page) */
    size_t dictionary_limit; /* bytes of one chunk's dictionary before PLAIN; 0 = 1 MiB,
                                less for wide schemas (as page_bytes),
                                CP_PQ_NO_DICTIONARY = never use dictionaries */
    size_t row_group_memory; /* a row group also closes once the pages it holds in memory
                                (their bytes in the file, not the slabs around them, see
                                pq_pages.h) pass this; 0 = 32 MiB. It bounds memory where
                                dictionaries make the encoded pages compress little. From
                                CP_PQ_HUGE_PAGES_MEMORY on the pages sit in huge pages */
} cp_pq_options;

#define CP_PQ_NO_DICTIONARY ((size_t)-1)
#define CP_PQ_DEFAULT_ROW_GROUP_BYTES ((size_t)128 << 20)
#define CP_PQ_DEFAULT_PAGE_BYTES ((size_t)1 << 20)
#define CP_PQ_PAGE_BUDGET ((size_t)64 << 20)
#define CP_PQ_MIN_AUTO_PAGE_BYTES ((size_t)64 << 10)
#define CP_PQ_DEFAULT_DICTIONARY_LIMIT ((size_t)1 << 20)
#define CP_PQ_DEFAULT_ROW_GROUP_MEMORY ((size_t)32 << 20)
#define CP_PQ_HUGE_PAGES_MEMORY ((size_t)16 << 20)

/* The defaults above. */
void cp_pq_options_init(cp_pq_options *o);

typedef struct cp_pq_writer cp_pq_writer;

/*
 * Creates a writer for schema (copied; the caller may free its own afterwards) into *out.
 * opts NULL means the defaults. Writes the leading magic through write(ctx, ...). On
 * failure *out is NULL: CP_USAGE for bad options, CP_NOMEM, or the callback's error.
 */
cp_status cp_pq_writer_new(const cp_schema *schema, const cp_pq_options *opts, cp_pq_write_fn write,
                           void *ctx, cp_pq_writer **out, cp_error *err);

/*
 * Appends the rows of batch b, whose schema must have the writer's column count and
 * types. May flush one or more row groups through the callback. After an error the
 * writer only accepts cp_pq_writer_free.
 */
cp_status cp_pq_writer_write_batch(cp_pq_writer *w, const cp_batch *b, cp_error *err);

/*
 * Flushes the rows buffered so far as a row group (none when there are none) and releases
 * the columns' pages, dictionaries and codec state, so that the writer holds only its
 * schema and the footer's row-group entries until the next write or finish, which start
 * afresh (a later row group has its own dictionaries). The callback gets nothing more
 * until then: the caller may close what it writes to and reopen it at the same end. A
 * suspended file has more, smaller row groups than one written in one go.
 */
cp_status cp_pq_writer_suspend(cp_pq_writer *w, cp_error *err);

/* Flushes the last row group and writes the footer. Call once; then free. */
cp_status cp_pq_writer_finish(cp_pq_writer *w, cp_error *err);

/* The most row groups a Parquet file holds (the footer's ordinal is an i16). */
#define CP_PQ_MAX_ROW_GROUPS 32767

/*
 * Rows written so far, and row groups flushed so far: a write, suspend or finish that
 * would make one more than CP_PQ_MAX_ROW_GROUPS fails with CP_TOO_LARGE.
 */
uint64_t cp_pq_writer_rows(const cp_pq_writer *w);
uint32_t cp_pq_writer_row_groups(const cp_pq_writer *w);
/* Bytes handed to the callback so far. */
uint64_t cp_pq_writer_bytes(const cp_pq_writer *w);

/* Frees the writer (NULL allowed). Writes nothing. */
void cp_pq_writer_free(cp_pq_writer *w);

#endif
