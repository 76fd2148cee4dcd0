/*
 * parquet_writer.c - the file writer: row groups, footer, key-value metadata
 * (see parquet_writer.h).
 *
 * Rows go to the columns in slices of SLICE_ROWS so the row-group size is checked often
 * enough to stay near row_group_bytes whatever the batch size. A full row group is
 * finished column by column: each chunk (dictionary page first, then its data pages) is
 * handed to the callback and its ColumnChunk entry encoded right away into `row_groups`,
 * the RowGroup structs of the footer, so nothing but those bytes outlives the row group.
 */
#include "parquet/parquet_writer.h"

#include "parquet/pq_column.h"
#include "parquet/pq_meta.h"
#include "util/json_escape.h"

#include <stdlib.h>
#include <string.h>

#ifndef CP_VERSION
#define CP_VERSION "0.0.0"
#endif
#ifndef CP_GIT_HASH
#define CP_GIT_HASH "unknown"
#endif

#define SLICE_ROWS 256

struct cp_pq_writer {
    cp_schema schema;
    cp_pq_options opts;
    cp_pq_write_fn write;
    void *ctx;
    cp_pq_compressor comp;
    cp_pq_slabs slabs; /* the pages of the row group being built */
    cp_pq_column *cols;
    uint64_t offset; /* bytes handed to the callback */
    uint64_t rows;
    uint64_t rg_rows; /* rows in the row group being built */
    cp_buf row_groups;
    uint32_t nrow_groups;
    cp_buf bmin, bmax;
    size_t buf_max;
    bool suspended; /* cols and comp released by cp_pq_writer_suspend */
    bool failed;
    bool finished;
};

void cp_pq_options_init(cp_pq_options *o)
{
    o->codec = CP_PQ_SNAPPY;
    o->row_group_bytes = CP_PQ_DEFAULT_ROW_GROUP_BYTES;
    o->row_group_memory = CP_PQ_DEFAULT_ROW_GROUP_MEMORY;
    o->page_bytes = 0;       /* sized by the column count in cp_pq_writer_new */
    o->dictionary_limit = 0; /* sized by the column count in cp_pq_writer_new */
}

static cp_status emit(cp_pq_writer *w, const void *data, size_t len, cp_error *err)
{
    if (len == 0)
        return CP_OK;
    cp_status st = w->write(w->ctx, data, len);
    if (st != CP_OK)
        return cp_error_set(err, st, "writing Parquet output failed at byte %llu: %s",
                            (unsigned long long)w->offset, cp_status_message(st));
    w->offset += len;
    return CP_OK;
}

static void release_columns(cp_pq_writer *w)
{
    if (w->cols) {
        for (size_t i = 0; i < w->schema.ncolumns; i++)
            cp_pq_column_release(&w->cols[i]);
        free(w->cols);
        w->cols = NULL;
    }
    cp_pq_compressor_release(&w->comp);
    cp_pq_slabs_release(&w->slabs);
    cp_buf_release(&w->bmin);
    cp_buf_release(&w->bmax);
}

static cp_status init_columns(cp_pq_writer *w)
{
    const size_t dict_limit =
        w->opts.dictionary_limit == CP_PQ_NO_DICTIONARY ? 0 : w->opts.dictionary_limit;
    cp_pq_compressor_init(&w->comp, w->opts.codec);
    cp_pq_slabs_init(&w->slabs, w->opts.row_group_memory >= CP_PQ_HUGE_PAGES_MEMORY);
    cp_buf_init(&w->bmin, CP_BUF_UNLIMITED);
    cp_buf_init(&w->bmax, CP_BUF_UNLIMITED);
    w->cols = calloc(w->schema.ncolumns ? w->schema.ncolumns : 1, sizeof *w->cols);
    if (!w->cols)
        return CP_NOMEM;
    cp_status st = CP_OK;
    for (size_t i = 0; st == CP_OK && i < w->schema.ncolumns; i++)
        st = cp_pq_column_init(&w->cols[i], w->schema.columns[i].type, w->opts.page_bytes,
                               dict_limit, w->buf_max, &w->comp, &w->slabs);
    return st;
}

void cp_pq_writer_free(cp_pq_writer *w)
{
    if (!w)
        return;
    release_columns(w);
    cp_buf_release(&w->row_groups);
    cp_schema_release(&w->schema);
    free(w);
}

cp_status cp_pq_writer_new(const cp_schema *schema, const cp_pq_options *opts, cp_pq_write_fn write,
                           void *ctx, cp_pq_writer **out, cp_error *err)
{
    *out = NULL;
    cp_pq_options o;
    cp_pq_options_init(&o);
    if (opts) {
        o = *opts;
        if (!o.row_group_bytes)
            o.row_group_bytes = CP_PQ_DEFAULT_ROW_GROUP_BYTES;
        if (!o.row_group_memory)
            o.row_group_memory = CP_PQ_DEFAULT_ROW_GROUP_MEMORY;
    }
    /* every column holds one pending page and one dictionary: wide schemas share a budget */
    size_t share = CP_PQ_PAGE_BUDGET / (schema && schema->ncolumns ? schema->ncolumns : 1);
    if (share < CP_PQ_MIN_AUTO_PAGE_BYTES)
        share = CP_PQ_MIN_AUTO_PAGE_BYTES;
    if (!o.page_bytes)
        o.page_bytes = share < CP_PQ_DEFAULT_PAGE_BYTES ? share : CP_PQ_DEFAULT_PAGE_BYTES;
    if (!o.dictionary_limit)
        o.dictionary_limit =
            share < CP_PQ_DEFAULT_DICTIONARY_LIMIT ? share : CP_PQ_DEFAULT_DICTIONARY_LIMIT;
    const size_t dict_limit = o.dictionary_limit == CP_PQ_NO_DICTIONARY ? 0 : o.dictionary_limit;
    if (!write || !schema || dict_limit > ((size_t)1 << 30) || o.page_bytes > ((size_t)1 << 30) ||
        o.row_group_bytes > ((size_t)1 << 40)) {
        return cp_error_set(err, CP_USAGE,
                            "Parquet writer: invalid options (page and dictionary sizes must stay "
                            "under 1 GiB, row groups under 1 TiB)");
    }
    switch (o.codec) {
    case CP_PQ_UNCOMPRESSED:
    case CP_PQ_SNAPPY:
    case CP_PQ_GZIP:
    case CP_PQ_ZSTD:
        break;
    default:
        return cp_error_set(err, CP_USAGE, "Parquet writer: unknown codec %d", (int)o.codec);
    }
    cp_pq_writer *w = calloc(1, sizeof *w);
    if (!w)
        return cp_error_set(err, CP_NOMEM, "Parquet writer: out of memory");
    w->opts = o;
    w->write = write;
    w->ctx = ctx;
    cp_buf_init(&w->row_groups, CP_BUF_UNLIMITED);
    /* a safety net: the row-group flush keeps every buffer far below this */
    w->buf_max = 2 * o.row_group_bytes + 2 * o.page_bytes + ((size_t)256 << 20);
    cp_status st = cp_schema_copy(&w->schema, schema);
    if (st == CP_OK)
        st = init_columns(w);
    if (st != CP_OK)
        cp_error_set(err, st, "Parquet writer: %s", cp_status_message(st));
    else
        st = emit(w, "PAR1", 4, err);
    if (st != CP_OK) {
        cp_pq_writer_free(w);
        return st;
    }
    *out = w;
    return CP_OK;
}

static cp_status flush_row_group(cp_pq_writer *w, cp_error *err)
{
    if (w->rg_rows == 0)
        return CP_OK;
    if (w->nrow_groups == CP_PQ_MAX_ROW_GROUPS)
        return cp_error_set(err, CP_TOO_LARGE,
                            "more than 32,767 Parquet row groups; raise the row group size");
    cp_thrift_writer t;
    cp_thrift_init(&t, &w->row_groups);
    cp_thrift_struct_begin(&t); /* RowGroup */
    cp_thrift_field_list_begin(&t, 1, CP_THRIFT_STRUCT, (uint32_t)w->schema.ncolumns);
    int64_t first = (int64_t)w->offset, uncompressed = 0, compressed = 0;
    for (size_t i = 0; i < w->schema.ncolumns; i++) {
        cp_pq_column *c = &w->cols[i];
        CP_RETURN_IF_ERROR(cp_pq_column_finish(c, err));
        cp_pq_chunk_meta m;
        cp_buf_reset(&w->bmin);
        cp_buf_reset(&w->bmax);
        cp_status st = cp_pq_column_meta(c, w->schema.columns[i].name, (int)w->opts.codec,
                                         (int64_t)w->offset, &w->bmin, &w->bmax, &m);
        if (st != CP_OK)
            return cp_error_set(err, st, "Parquet statistics: %s", cp_status_message(st));
        cp_pq_encode_column_chunk(&t, &m);
        for (size_t k = 0; k < c->pages.npieces; k++)
            CP_RETURN_IF_ERROR(emit(w, c->pages.pieces[k].data, c->pages.pieces[k].len, err));
        uncompressed += m.total_uncompressed_size;
        compressed += m.total_compressed_size;
        cp_pq_column_reset(c);
    }
    cp_pq_slabs_reset(&w->slabs);
    cp_thrift_field_i64(&t, 2, uncompressed);
    cp_thrift_field_i64(&t, 3, (int64_t)w->rg_rows);
    cp_thrift_field_i64(&t, 5, first);
    cp_thrift_field_i64(&t, 6, compressed);
    cp_thrift_field_i16(&t, 7, (int16_t)w->nrow_groups);
    cp_thrift_struct_end(&t);
    if (cp_thrift_status(&t) != CP_OK)
        return cp_error_set(err, cp_thrift_status(&t), "Parquet footer: %s",
                            cp_status_message(cp_thrift_status(&t)));
    w->nrow_groups++;
    w->rg_rows = 0;
    return CP_OK;
}

static size_t buffered(const cp_pq_writer *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->schema.ncolumns; i++)
        n += cp_pq_column_buffered(&w->cols[i]);
    return n;
}

/* Bytes of compressed pages the current row group holds in memory. */
static size_t held(const cp_pq_writer *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->schema.ncolumns; i++)
        n += w->cols[i].pages.len;
    return n;
}

static cp_status check_batch(const cp_pq_writer *w, const cp_batch *b, cp_error *err)
{
    if (w->failed || w->finished)
        return cp_error_set(err, CP_USAGE, "Parquet writer used after %s",
                            w->failed ? "an error" : "finish");
    if (!b->schema || b->schema->ncolumns != w->schema.ncolumns)
        return cp_error_set(err, CP_USAGE, "batch has %zu columns, the Parquet schema %zu",
                            b->schema ? b->schema->ncolumns : 0, w->schema.ncolumns);
    for (size_t i = 0; i < w->schema.ncolumns; i++) {
        if (!cp_type_equal(b->schema->columns[i].type, w->schema.columns[i].type)) {
            char a[24], e[24];
            return cp_error_set(
                err, CP_USAGE, "batch column %zu (%s) is %s, the Parquet schema says %s", i + 1,
                w->schema.columns[i].name, cp_type_format(b->schema->columns[i].type, a, sizeof a),
                cp_type_format(w->schema.columns[i].type, e, sizeof e));
        }
    }
    return CP_OK;
}

/* After cp_pq_writer_suspend: the columns again, empty. */
static cp_status resume(cp_pq_writer *w, cp_error *err)
{
    if (!w->suspended)
        return CP_OK;
    w->suspended = false;
    cp_status st = init_columns(w);
    if (st != CP_OK)
        return cp_error_set(err, st, "Parquet writer: %s", cp_status_message(st));
    return CP_OK;
}

static cp_status write_batch(cp_pq_writer *w, const cp_batch *b, cp_error *err)
{
    CP_RETURN_IF_ERROR(check_batch(w, b, err));
    if (b->nrows)
        CP_RETURN_IF_ERROR(resume(w, err));
    for (size_t r0 = 0; r0 < b->nrows; r0 += SLICE_ROWS) {
        size_t r1 = r0 + SLICE_ROWS < b->nrows ? r0 + SLICE_ROWS : b->nrows;
        for (size_t i = 0; i < w->schema.ncolumns; i++)
            CP_RETURN_IF_ERROR(cp_pq_column_write(&w->cols[i], b, i, r0, r1, err));
        w->rg_rows += r1 - r0;
        w->rows += r1 - r0;
        if (buffered(w) >= w->opts.row_group_bytes || held(w) >= w->opts.row_group_memory)
            CP_RETURN_IF_ERROR(flush_row_group(w, err));
    }
    return CP_OK;
}

cp_status cp_pq_writer_write_batch(cp_pq_writer *w, const cp_batch *b, cp_error *err)
{
    cp_status st = write_batch(w, b, err);
    if (st != CP_OK && st != CP_USAGE)
        w->failed = true;
    return st;
}

static cp_status footer_kv(const cp_pq_writer *w, cp_buf *schema_json, cp_buf *headers)
{
    CP_RETURN_IF_ERROR(cp_schema_to_json(&w->schema, schema_json));
    CP_RETURN_IF_ERROR(cp_buf_append_char(headers, '['));
    for (size_t i = 0; i < w->schema.ncolumns; i++) {
        const char *h = w->schema.columns[i].source_name ? w->schema.columns[i].source_name : "";
        if (i)
            CP_RETURN_IF_ERROR(cp_buf_append_char(headers, ','));
        CP_RETURN_IF_ERROR(cp_json_append_string(headers, h, strlen(h)));
    }
    return cp_buf_append_char(headers, ']');
}

static cp_status finish(cp_pq_writer *w, cp_error *err)
{
    if (w->failed || w->finished)
        return cp_error_set(err, CP_USAGE, "Parquet writer finished twice or after an error");
    if (!w->suspended)
        CP_RETURN_IF_ERROR(flush_row_group(w, err));
    cp_buf schema_json, headers, footer;
    cp_buf_init(&schema_json, CP_BUF_UNLIMITED);
    cp_buf_init(&headers, CP_BUF_UNLIMITED);
    cp_buf_init(&footer, CP_BUF_UNLIMITED);
    cp_status st = footer_kv(w, &schema_json, &headers);
    if (st == CP_OK) {
        cp_pq_kv kv[2] = {{"csvpipe.schema", schema_json.data, schema_json.len},
                          {"csvpipe.headers", headers.data, headers.len}};
        st = cp_pq_encode_file_metadata(&footer, &w->schema, (int64_t)w->rows, w->row_groups.data,
                                        w->row_groups.len, w->nrow_groups, kv, 2,
                                        "csvpipe version " CP_VERSION " (build " CP_GIT_HASH ")");
    }
    if (st == CP_OK && footer.len > UINT32_MAX)
        st = CP_TOO_LARGE;
    if (st != CP_OK) {
        cp_error_set(err, st, "Parquet footer: %s", cp_status_message(st));
    } else {
        unsigned char tail[8];
        uint32_t n = (uint32_t)footer.len;
        for (int i = 0; i < 4; i++)
            tail[i] = (unsigned char)(n >> (8 * i));
        memcpy(tail + 4, "PAR1", 4);
        st = emit(w, footer.data, footer.len, err);
        if (st == CP_OK)
            st = emit(w, tail, sizeof tail, err);
    }
    cp_buf_release(&schema_json);
    cp_buf_release(&headers);
    cp_buf_release(&footer);
    return st;
}

cp_status cp_pq_writer_finish(cp_pq_writer *w, cp_error *err)
{
    cp_status st = finish(w, err);
    if (st == CP_OK)
        w->finished = true;
    else
        w->failed = true;
    return st;
}

cp_status cp_pq_writer_suspend(cp_pq_writer *w, cp_error *err)
{
    if (w->failed || w->finished)
        return cp_error_set(err, CP_USAGE, "Parquet writer suspended after %s",
                            w->failed ? "an error" : "finish");
    if (w->suspended)
        return CP_OK;
    cp_status st = flush_row_group(w, err);
    if (st != CP_OK) {
        w->failed = true;
        return st;
    }
    release_columns(w);
    w->suspended = true;
    return CP_OK;
}

uint64_t cp_pq_writer_rows(const cp_pq_writer *w)
{
    return w->rows;
}

uint32_t cp_pq_writer_row_groups(const cp_pq_writer *w)
{
    return w->nrow_groups;
}

uint64_t cp_pq_writer_bytes(const cp_pq_writer *w)
{
    return w->offset;
}
