/*
 * pq_read.h - a minimal, strict Parquet reader for the write -> read-back fuzz target.
 *
 * Written from parquet-format (parquet.thrift, Encodings.md, Compression.md) and the
 * Thrift compact protocol spec, independently of src/parquet: it shares no code with the
 * writer, so a misunderstanding in the writer is not repeated here. It reads what csvpipe
 * writes — a flat schema of OPTIONAL leaves, data pages v1 with RLE definition levels,
 * PLAIN and RLE_DICTIONARY values, dictionary pages, UNCOMPRESSED/SNAPPY/GZIP/ZSTD — and
 * refuses anything else. While reading it checks the file's own claims against what it
 * decodes: magic numbers, footer length, row counts of the file, row groups and chunks,
 * offsets and total sizes of every chunk and row group, page sizes and value counts, the
 * dictionary indices, the encodings lists and page encoding stats, and the statistics
 * (null count, NaN count, exact min and max in each type's order).
 */
#ifndef CP_FUZZ_PQ_READ_H
#define CP_FUZZ_PQ_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One value of a column: `i` holds BOOLEAN (0/1), INT32 and INT64 values, `f` DOUBLE,
   `bytes` BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values (owned by the pq_file). */
typedef struct pq_cell {
    bool valid;
    int64_t i;
    double f;
    const uint8_t *bytes;
    uint32_t len;
} pq_cell;

/* A leaf of the schema as the footer describes it (-1 where the footer says nothing). */
typedef struct pq_column {
    char *name;
    int physical;    /* parquet.thrift Type */
    int type_length; /* FIXED_LEN_BYTE_ARRAY */
    int repetition;  /* 0 REQUIRED, 1 OPTIONAL, 2 REPEATED */
    int converted;   /* ConvertedType */
    int scale, precision;
    int logical;    /* the LogicalType union's field id (1 STRING, 5 DECIMAL, ...) */
    int logical_a;  /* DECIMAL scale; INTEGER bit width; TIMESTAMP isAdjustedToUTC */
    int logical_b;  /* DECIMAL precision; INTEGER signed; TIMESTAMP unit field id */
    pq_cell *cells; /* one per row of the file */
} pq_column;

typedef struct pq_file {
    int64_t num_rows;
    size_t ncolumns;
    pq_column *columns;
    size_t nrow_groups;
    char *created_by;
    size_t nkv;
    char **keys, **values; /* key-value metadata, NUL-terminated copies */
    /* internal: memory of decoded byte values */
    void *arena;
} pq_file;

/*
 * Reads data[0..len). 0 on success; -1 with a reason in why (a bug in the writer, or a
 * file outside what this reader handles). pq_file_free in both cases.
 */
int pq_read(const uint8_t *data, size_t len, pq_file *out, char *why, size_t cap);
void pq_file_free(pq_file *f);

#endif
