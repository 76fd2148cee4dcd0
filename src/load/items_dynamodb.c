/*
 * items_dynamodb.c - the item store in Amazon DynamoDB (dynamodb:TABLE).
 *
 * Every row becomes one PutRequest in DynamoDB JSON:
 *   {"pk":{"S":...},"sk":{"S":...},"_dataset":{"S":...},"_source":{"S":...},"_row":{"N":"7"},
 *    <non-null columns as cp_cell_append_dynamodb>}
 * with the keys of table/item_key.h, handed to the pipelined BatchWriteItem writer of
 * aws/dynamodb.h. The parts that are the same for every row of a file (names, dataset,
 * source) are built once at begin. cp_items_finish waits for every request and then
 * deletes the stale items of a shorter re-upload with DeleteRequests.
 *
 * Sizes: the JSON text of an item is never smaller than DynamoDB's measure of it (names
 * and values in UTF-8, numbers at most their digits), so only an item whose JSON passes
 * 400 KB is measured exactly; one that is really too large is a bad row.
 */
#include "aws/dynamodb.h"
#include "load/items_backend.h"
#include "table/cell.h"
#include "util/json_escape.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char put_open[] = "{\"PutRequest\":{\"Item\":";

typedef struct ddb_items {
    cp_items base; /* base.file: the open file */
    cp_aws *aws;
    char *table;
    cp_ddb_writer *w; /* of the open file */
    cp_buf common;    /* ,"_dataset":{"S":...},"_source":{"S":...},"_row":{"N":" */
    cp_buf item, text;
} ddb_items;

static void end_file(ddb_items *s)
{
    cp_ddb_writer_free(s->w);
    s->w = NULL;
    cp_buf_reset(&s->common);
}

static void ddb_close(cp_items *base)
{
    ddb_items *s = (ddb_items *)base;
    end_file(s);
    cp_aws_free(s->aws);
    free(s->table);
    cp_buf_release(&s->common);
    cp_buf_release(&s->item);
    cp_buf_release(&s->text);
    free(s);
}

static bool valid_table_name(const char *t)
{
    size_t n = strlen(t);
    if (n < 3 || n > 255)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '_' || *t == '-' || *t == '.'))
            return false;
    return true;
}

static cp_items *ddb_open(const char *table, cp_error *err)
{
    if (!valid_table_name(table)) {
        cp_error_set(err, CP_USAGE,
                     "dynamodb:%s: a table name is 3 to 255 letters, digits, '_', '-' or '.'",
                     table);
        return NULL;
    }
    ddb_items *s = calloc(1, sizeof *s);
    if (!s || !(s->table = strdup(table))) {
        free(s);
        cp_error_set(err, CP_NOMEM, "out of memory opening dynamodb:%s", table);
        return NULL;
    }
    cp_buf_init(&s->common, CP_BUF_UNLIMITED);
    cp_buf_init(&s->item, CP_BUF_UNLIMITED);
    cp_buf_init(&s->text, CP_BUF_UNLIMITED);
    if (cp_aws_new(&s->aws, err) != CP_OK) {
        ddb_close(&s->base);
        return NULL;
    }
    return &s->base;
}

static cp_status append_s(cp_buf *o, const char *v, size_t len)
{
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, "{\"S\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(o, v, len));
    return cp_buf_append_char(o, '}');
}

static cp_status build_common(ddb_items *s)
{
    const cp_items_file *f = &s->base.file;
    CP_RETURN_IF_ERROR(cp_buf_append_str(&s->common, ",\"_dataset\":"));
    CP_RETURN_IF_ERROR(append_s(&s->common, f->dataset, strlen(f->dataset)));
    CP_RETURN_IF_ERROR(cp_buf_append_str(&s->common, ",\"_source\":"));
    CP_RETURN_IF_ERROR(append_s(&s->common, f->source, strlen(f->source)));
    return cp_buf_append_str(&s->common, ",\"_row\":{\"N\":\"");
}

static cp_status ddb_begin(cp_items *base, const cp_schema *schema, cp_error *err)
{
    ddb_items *s = (ddb_items *)base;
    (void)schema;
    cp_status st = build_common(s);
    if (st != CP_OK) {
        end_file(s);
        return cp_error_set(err, st, "building the item form of %s", base->file.source);
    }
    /* keyed items can repeat a key within a file: the writer keeps their order */
    st = cp_ddb_writer_new(s->aws, s->table, base->file.keys.ncolumns > 0, &s->w, err);
    if (st != CP_OK)
        end_file(s);
    return st;
}

/* The PutRequest of row `row` into s->item (pk and sk already set). */
static cp_status build_item(ddb_items *s, const cp_batch *b, size_t row)
{
    const cp_items_file *f = &s->base.file;
    cp_buf *o = &s->item;
    cp_buf_reset(o);
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, put_open));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, "{\"pk\":"));
    CP_RETURN_IF_ERROR(append_s(o, f->pk.data, f->pk.len));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, ",\"sk\":"));
    CP_RETURN_IF_ERROR(append_s(o, f->sk.data, f->sk.len));
    CP_RETURN_IF_ERROR(cp_buf_append(o, s->common.data, s->common.len));
    CP_RETURN_IF_ERROR(cp_buf_printf(o, "%" PRIu64 "\"}", cp_batch_row_number(b, row)));
    for (size_t i = 0; i < f->ncolumns; i++) {
        if (!cp_batch_valid(b, i, row))
            continue; /* nulls are absent attributes */
        const size_t start = i ? f->name_end[i - 1] : 0;
        CP_RETURN_IF_ERROR(cp_buf_append(o, f->names.data + start, f->name_end[i] - start));
        CP_RETURN_IF_ERROR(cp_cell_append_dynamodb(o, b, i, row));
    }
    return cp_buf_append_str(o, "}}}");
}

/* DynamoDB's measure of the item: attribute names plus values in bytes. */
static cp_status exact_size(ddb_items *s, const cp_batch *b, size_t row, size_t *size)
{
    const cp_items_file *f = &s->base.file;
    char digits[32];
    size_t n = 2 + f->pk.len + 2 + f->sk.len + 8 + strlen(f->dataset) + 7 + strlen(f->source) + 4 +
               (size_t)snprintf(digits, sizeof digits, "%" PRIu64, cp_batch_row_number(b, row));
    for (size_t i = 0; i < f->ncolumns; i++) {
        if (!cp_batch_valid(b, i, row))
            continue;
        cp_buf_reset(&s->text);
        CP_RETURN_IF_ERROR(cp_cell_append_text(&s->text, b, i, row));
        n += strlen(b->schema->columns[i].name) + s->text.len;
    }
    *size = n;
    return CP_OK;
}

static cp_status ddb_write(cp_items *base, const cp_batch *b, cp_error *err)
{
    ddb_items *s = (ddb_items *)base;
    const cp_items_file *f = &base->file;
    const size_t overhead = sizeof put_open - 1 + 2;
    for (size_t r = 0; r < b->nrows; r++) {
        uint64_t ordinal = cp_batch_row_number(b, r);
        cp_status st = cp_items_file_key(base, b, r);
        if (st == CP_OK)
            st = build_item(s, b, r);
        if (st != CP_OK)
            return cp_error_set(err, st, "building the item of row %" PRIu64 " of %s", ordinal,
                                f->source);
        size_t size = 0;
        if (s->item.len - overhead > CP_DDB_MAX_ITEM && (st = exact_size(s, b, r, &size)) != CP_OK)
            return cp_error_set(err, st, "measuring the item of row %" PRIu64 " of %s", ordinal,
                                f->source);
        if (size > CP_DDB_MAX_ITEM) {
            cp_error_set(err, CP_TOO_LARGE,
                         "row %" PRIu64 " of %s: its DynamoDB item is %zu bytes, over the 400 KB "
                         "item limit; shorten its longest values or load it with --nosql sqlite:",
                         ordinal, f->source, size);
            if (err)
                err->line = ordinal;
            return CP_TOO_LARGE;
        }
        st = cp_ddb_writer_add(s->w, s->item.data, s->item.len, f->pk.data, f->sk.data, err);
        if (st != CP_OK) {
            cp_error_prefix(err, "items of %s into DynamoDB table %s", f->source, s->table);
            return st;
        }
    }
    return CP_OK;
}

static cp_status ddb_finish(cp_items *base, uint64_t rows_now, uint64_t rows_before, cp_error *err)
{
    ddb_items *s = (ddb_items *)base;
    cp_items_file *f = &base->file;
    cp_status st = cp_ddb_writer_flush(s->w, err);
    if (st == CP_OK && f->keys.ncolumns == 0 && rows_before > rows_now) {
        for (uint64_t r = rows_now + 1; st == CP_OK && r <= rows_before; r++) {
            st = cp_item_keyless_key(f->dataset, f->source, r, &f->pk, &f->sk);
            cp_buf *o = &s->item;
            cp_buf_reset(o);
            if (st == CP_OK)
                st = cp_buf_append_str(o, "{\"DeleteRequest\":{\"Key\":{\"pk\":");
            if (st == CP_OK)
                st = append_s(o, f->pk.data, f->pk.len);
            if (st == CP_OK)
                st = cp_buf_append_str(o, ",\"sk\":");
            if (st == CP_OK)
                st = append_s(o, f->sk.data, f->sk.len);
            if (st == CP_OK)
                st = cp_buf_append_str(o, "}}}");
            if (st != CP_OK) {
                st = cp_error_set(err, st, "building the key of stale item %" PRIu64, r);
                break;
            }
            st = cp_ddb_writer_add(s->w, o->data, o->len, f->pk.data, f->sk.data, err);
        }
        if (st == CP_OK)
            st = cp_ddb_writer_flush(s->w, err);
        if (st != CP_OK)
            cp_error_prefix(err, "deleting the stale items of %s from DynamoDB table %s", f->source,
                            s->table);
    } else if (st != CP_OK) {
        cp_error_prefix(err, "items of %s into DynamoDB table %s", f->source, s->table);
    }
    cp_ddb_stats ds = cp_ddb_writer_stats(s->w);
    cp_log_debug("dynamodb:%s: %" PRIu64 " writes in %" PRIu64 " requests, %" PRIu64
                 " resent, %" PRIu64 " unprocessed items resent; in flight: at most %d at "
                 "once, window %d at the end (largest %d, halved %" PRIu64 " times)",
                 s->table, ds.written, ds.requests, ds.retries, ds.unprocessed, ds.peak_active,
                 ds.window, ds.peak_window, ds.cuts);
    end_file(s);
    return st;
}

static void ddb_abort(cp_items *base)
{
    end_file((ddb_items *)base); /* frees the writer, abandoning what is outstanding */
}

static cp_status ddb_create(const char *table, cp_error *err)
{
    if (!valid_table_name(table))
        return cp_error_set(
            err, CP_USAGE, "dynamodb:%s: a table name is 3 to 255 letters, digits, '_', '-' or '.'",
            table);
    cp_aws *aws;
    CP_RETURN_IF_ERROR(cp_aws_new(&aws, err));
    cp_status st = cp_ddb_create_table(aws, table, 60, err);
    cp_aws_free(aws);
    return st;
}

/* A row whose item DynamoDB would refuse (over 400 KB) is a bad row. */
static cp_status ddb_check_row(cp_items *base, const cp_batch *b, size_t r, cp_error *why)
{
    ddb_items *s = (ddb_items *)base;
    const size_t overhead = sizeof put_open - 1 + 2;
    cp_status st = cp_items_file_key(base, b, r);
    if (st == CP_OK)
        st = build_item(s, b, r);
    if (st != CP_OK)
        return cp_error_set(why, st, "cannot build the DynamoDB item of this row");
    if (s->item.len - overhead <= CP_DDB_MAX_ITEM)
        return CP_OK;
    size_t size = 0;
    if ((st = exact_size(s, b, r, &size)) != CP_OK)
        return cp_error_set(why, st, "cannot measure the DynamoDB item of this row");
    if (size <= CP_DDB_MAX_ITEM)
        return CP_OK;
    return cp_error_set(why, CP_TOO_LARGE,
                        "its DynamoDB item would have %zu bytes, more than the 400 KB DynamoDB "
                        "allows for one item",
                        size);
}

static const char *const ddb_schemes[] = {"dynamodb:", NULL};

const cp_items_backend cp_items_dynamodb_backend = {
    .schemes = ddb_schemes,
    .transactional = false,
    .open = ddb_open,
    .close = ddb_close,
    .begin = ddb_begin,
    .write = ddb_write,
    .finish = ddb_finish,
    .abort = ddb_abort,
    .create = ddb_create,
    .check_row = ddb_check_row,
};
