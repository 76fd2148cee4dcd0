/*
 * pq_meta.h - Parquet metadata structures (parquet-format src/main/thrift/parquet.thrift)
 * encoded with the Thrift compact protocol: page headers, column chunks, row groups and
 * the file footer (FileMetaData), plus the mapping of csvpipe types to Parquet schema
 * elements (docs/design.md, "Types"):
 *
 *   BOOLEAN     -> BOOLEAN
 *   INT64       -> INT64, logical INTEGER(64, signed), converted INT_64
 *   DECIMAL(p,s)-> FIXED_LEN_BYTE_ARRAY(cp_pq_decimal_length(p)), logical DECIMAL(p,s),
 *                  converted DECIMAL, scale and precision
 *   DOUBLE      -> DOUBLE
 *   DATE        -> INT32, logical DATE, converted DATE
 *   TIMESTAMP   -> INT64, logical TIMESTAMP(isAdjustedToUTC=false, MICROS), converted
 *                  TIMESTAMP_MICROS (LogicalTypes.md: writers must annotate local
 *                  timestamps with the legacy annotation too, for forward compatibility)
 *   TIMESTAMPTZ -> INT64, logical TIMESTAMP(isAdjustedToUTC=true, MICROS), converted
 *                  TIMESTAMP_MICROS
 *   STRING      -> BYTE_ARRAY, logical STRING, converted UTF8 (NULL columns as STRING)
 *
 * The schema is flat: a root element with num_children only, then one OPTIONAL leaf per
 * column, named by the column's normalized name.
 */
#ifndef CP_PQ_META_H
#define CP_PQ_META_H

#include "parquet/thrift_compact.h"
#include "table/schema.h"

enum {
    CP_PQ_T_BOOLEAN = 0,
    CP_PQ_T_INT32 = 1,
    CP_PQ_T_INT64 = 2,
    CP_PQ_T_DOUBLE = 5,
    CP_PQ_T_BYTE_ARRAY = 6,
    CP_PQ_T_FIXED_LEN_BYTE_ARRAY = 7,
};

enum {
    CP_PQ_ENC_PLAIN = 0,
    CP_PQ_ENC_RLE = 3,
    CP_PQ_ENC_RLE_DICTIONARY = 8,
};

enum {
    CP_PQ_PAGE_DATA = 0,
    CP_PQ_PAGE_DICTIONARY = 2,
};

/* The physical type a csvpipe type is stored as (NULL as BYTE_ARRAY). */
int cp_pq_physical_type(cp_type t);

typedef struct cp_pq_page_header {
    int type;                  /* CP_PQ_PAGE_DATA or CP_PQ_PAGE_DICTIONARY */
    int32_t uncompressed_size; /* page body before compression, header excluded */
    int32_t compressed_size;   /* page body as stored */
    int32_t num_values;        /* data page: values including nulls; dictionary: entries */
    int encoding;              /* of the values */
} cp_pq_page_header;

/*
 * Appends a PageHeader (data page v1 with RLE level encodings, or a dictionary page) of at
 * most CP_PQ_PAGE_HEADER_MAX bytes.
 */
#define CP_PQ_PAGE_HEADER_MAX 64
cp_status cp_pq_encode_page_header(cp_buf *out, const cp_pq_page_header *h);

/* What the footer says about one column chunk. */
typedef struct cp_pq_chunk_meta {
    int physical;
    const char *name;
    int codec;
    int64_t num_values;              /* including nulls */
    int64_t total_uncompressed_size; /* page headers included */
    int64_t total_compressed_size;   /* page headers included */
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* < 0: no dictionary page */
    int32_t dict_data_pages;        /* data pages in RLE_DICTIONARY */
    int32_t plain_data_pages;       /* data pages in PLAIN */
    int64_t null_count;
    bool has_nan_count;
    int64_t nan_count;
    bool has_bounds;
    bool legacy_bounds; /* also write the deprecated min/max (signed-order types only) */
    const void *min;
    size_t min_len;
    const void *max;
    size_t max_len;
} cp_pq_chunk_meta;

/* Writes one ColumnChunk as a list element (struct begin ... end). */
void cp_pq_encode_column_chunk(cp_thrift_writer *w, const cp_pq_chunk_meta *m);

typedef struct cp_pq_kv {
    const char *key;
    const char *value;
    size_t value_len;
} cp_pq_kv;

/*
 * Appends a whole FileMetaData: version 2, the schema, num_rows, the row groups (given as
 * nrow_groups RowGroup structs already encoded back to back in row_groups[0..len)), the
 * key-value metadata, created_by and one TYPE_ORDER column order per column.
 */
cp_status cp_pq_encode_file_metadata(cp_buf *out, const cp_schema *schema, int64_t num_rows,
                                     const void *row_groups, size_t row_groups_len,
                                     uint32_t nrow_groups, const cp_pq_kv *kv, size_t nkv,
                                     const char *created_by);

#endif
