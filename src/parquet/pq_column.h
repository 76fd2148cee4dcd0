/*
 * pq_column.h - the writer of one column's chunk within the current row group.
 *
 * Values arrive row range by row range from typed batches. The column keeps one pending
 * page (definition levels plus either PLAIN value bytes or dictionary indices); once the
 * page holds about page_bytes of PLAIN-equivalent data (or CP_PQ_PAGE_MAX_VALUES values)
 * it is encoded as a data page v1 (4-byte length + RLE/bit-packed definition levels,
 * then the values) and compressed straight into `pages`, its header right before it.
 *
 * Dictionary: every non-BOOLEAN column starts in RLE_DICTIONARY; when the dictionary would
 * pass dictionary_limit bytes the pending page is closed and the rest of the chunk is
 * written in PLAIN (pages already written keep using the dictionary). The dictionary is
 * also given up once CP_PQ_DICT_PROBE_VALUES values of the chunk were encoded with it and
 * more than 9 in 10 of them were distinct (an `id` column): if no page was written yet the
 * pending page is turned into PLAIN and the chunk has no dictionary at all, otherwise the
 * page is closed as above. The dictionary page is produced by cp_pq_column_finish as the first
 * piece of `pages`.
 *
 * Statistics: a value already in the dictionary was counted when it entered it, so in
 * dictionary mode only new entries update min/max (NaNs are counted for every value).
 *
 * Memory: the compressed pages of one chunk (in slabs shared with the other columns,
 * pq_pages.h), one pending page and the dictionary.
 */
#ifndef CP_PQ_COLUMN_H
#define CP_PQ_COLUMN_H

#include "parquet/pq_compress.h"
#include "parquet/pq_dict.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_pages.h"
#include "parquet/pq_stats.h"
#include "table/batch.h"

#define CP_PQ_PAGE_MAX_VALUES 20000
#define CP_PQ_DICT_PROBE_VALUES 4096

typedef struct cp_pq_column {
    cp_type type; /* NULL columns are written as STRING */
    bool all_null;
    int physical;
    unsigned decimal_len;
    unsigned width; /* PLAIN bytes of a fixed-width value (0: BYTE_ARRAY or BOOLEAN) */
    size_t page_bytes;
    cp_pq_compressor *compressor; /* shared, not owned */

    /* pending page */
    uint8_t *defs; /* definition levels, unless defs_lazy */
    size_t ndefs;
    bool defs_lazy; /* every level of the page is 1 and none is stored in defs yet */
    uint32_t *idx;  /* dictionary indices of the non-null values */
    size_t nidx;
    uint8_t *bools; /* BOOLEAN values of the page */
    size_t nbools;
    cp_buf values; /* PLAIN bytes of the non-null values (dictionary off) */
    size_t page_plain_bytes;

    bool use_dict;       /* this chunk still encodes with the dictionary */
    bool dict_ok;        /* the column type may use a dictionary at all */
    bool dict_probed;    /* the give-up test ran for this chunk */
    int64_t dict_values; /* values in the chunk's dictionary pages already written */
    cp_pq_dict dict;

    /* the chunk */
    cp_pq_pages pages; /* the dictionary page (once finished), then the data pages */
    cp_buf body, hdr;  /* scratch */
    int64_t num_values;
    int64_t chunk_uncompressed; /* of the data pages, headers included */
    int64_t chunk_compressed;
    int64_t dict_uncompressed; /* of the dictionary page, header included (0: none) */
    int64_t dict_compressed;
    int32_t dict_data_pages;
    int32_t plain_data_pages;
    cp_pq_stats stats;
} cp_pq_column;

/*
 * buf_max bounds each internal buffer (CP_TOO_LARGE past it); dictionary_limit 0 turns
 * dictionaries off; the pages go to slabs (shared, not owned). Allocates the page arrays;
 * CP_NOMEM.
 */
cp_status cp_pq_column_init(cp_pq_column *c, cp_type type, size_t page_bytes,
                            size_t dictionary_limit, size_t buf_max, cp_pq_compressor *comp,
                            cp_pq_slabs *slabs);
void cp_pq_column_release(cp_pq_column *c);

/* Appends rows [r0, r1) of column `col` of batch b. */
cp_status cp_pq_column_write(cp_pq_column *c, const cp_batch *b, size_t col, size_t r0, size_t r1,
                             cp_error *err);

/* Uncompressed bytes held for the current chunk (pages, pending page, dictionary). */
size_t cp_pq_column_buffered(const cp_pq_column *c);

/* Closes the pending page and builds `dict_page` when the chunk used a dictionary. */
cp_status cp_pq_column_finish(cp_pq_column *c, cp_error *err);

/*
 * Fills the chunk's footer entry for a chunk stored at file offset `offset` (the pieces of
 * `pages` in order). min/max point into bounds_min/bounds_max, which the caller owns and resets.
 */
cp_status cp_pq_column_meta(const cp_pq_column *c, const char *name, int codec, int64_t offset,
                            cp_buf *bounds_min, cp_buf *bounds_max, cp_pq_chunk_meta *m);

/*
 * Forgets the chunk (after it was written out), keeping memory; its pages' bytes are taken
 * until cp_pq_slabs_reset.
 */
void cp_pq_column_reset(cp_pq_column *c);

#endif
