#include "csv/stream.h"
#include "csv/stream_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The first forced column (cp_column.forced) whose value in row does not fit its type, or
 * -1. Such a row is rejected: a forced type is never widened.
 */
long cp_stream_forced_misfit(const cp_schema *s, const cp_row *row, const cp_value_opts *vo)
{
    size_t n = row->nfields < s->ncolumns ? row->nfields : s->ncolumns;
    for (size_t c = 0; c < n; c++) {
        bool is_null;
        cp_value v;
        if (s->columns[c].forced &&
            !cp_parse_column_value(&s->columns[c], &row->fields[c], vo, &is_null, &v))
            return (long)c;
    }
    return -1;
}

bool cp_stream_any_forced(const cp_schema *s)
{
    for (size_t c = 0; c < s->ncolumns; c++)
        if (s->columns[c].forced)
            return true;
    return false;
}

void cp_stream_widen_for_row(cp_type *types, const cp_schema *s, const cp_row *row,
                             const cp_value_opts *vo, bool forced)
{
    if (forced && cp_stream_forced_misfit(s, row, vo) >= 0)
        return; /* a rejected row widens nothing */
    size_t n = row->nfields < s->ncolumns ? row->nfields : s->ncolumns;
    for (size_t c = 0; c < n; c++) {
        bool is_null;
        cp_value v;
        if (s->columns[c].forced || cp_parse_value(types[c], &row->fields[c], vo, &is_null, &v))
            continue;
        types[c] = cp_type_join(types[c], cp_infer_value_type(&row->fields[c], vo));
    }
}

/* Reads the rest of the file to find every column that must widen; joins into types. */
cp_status cp_stream_learn_widening(cp_csv_reader *r, cp_type *types, const cp_schema *s,
                                   const cp_value_opts *vo, bool forced, cp_error *err)
{
    for (;;) {
        cp_row row;
        cp_status st = cp_csv_reader_next(r, &row, err);
        if (st == CP_BAD_QUOTE)
            continue;
        if (st != CP_OK)
            return st;
        if (row.nfields == 0)
            return CP_OK;
        if (!cp_csv_reader_drop_repeat(r, &row))
            cp_stream_widen_for_row(types, s, &row, vo, forced);
    }
}

bool cp_stream_ring_grows(const cp_batch *ring, size_t nmade, size_t memory)
{
    if (nmade < CP_STREAM_MIN_BATCHES || !memory)
        return true;
    size_t held = 0;
    for (size_t i = 0; i < nmade; i++)
        held += cp_batch_memory(&ring[i]);
    return held < memory;
}

/* Puts the source's name first; a source's own error (after "line N: ") loses its copy. */
void cp_stream_name_error(cp_error *err, const char *name)
{
    char own[512];
    int k = snprintf(own, sizeof own, "%s: ", name);
    char *m = err->message;
    if (strncmp(m, "line ", 5) == 0 && strstr(m, ": "))
        m = strstr(m, ": ") + 2;
    if (k > 0 && (size_t)k < sizeof own && strncmp(m, own, (size_t)k) == 0)
        memmove(m, m + k, strlen(m + k) + 1);
    cp_error_prefix(err, "%s", name);
}

/* The reason a row is rejected for a value that does not fit its forced type. */
void cp_stream_forced_reason(cp_error *why, const cp_schema *s, const cp_row *row, size_t c)
{
    char shown[128], tname[32];
    cp_error_quote_value(shown, sizeof shown, row->fields[c].data, row->fields[c].len);
    cp_error_set(why, CP_TYPE_MISMATCH,
                 "value \"%s\" in column %zu (%s) is not %s, the type forced for it", shown, c + 1,
                 s->columns[c].name, cp_type_format(s->columns[c].type, tname, sizeof tname));
    why->line = row->line;
    why->column = (uint32_t)(c + 1);
}

static void locate(cp_error *err, const char *name, const cp_row *row)
{
    if (!err)
        return;
    if (!err->line)
        err->line = row->line;
    cp_stream_name_error(err, name);
}

size_t cp_stream_batch_rows(const cp_schema *schema)
{
    const size_t row_bytes = (schema->ncolumns ? schema->ncolumns : 1) * 16;
    const size_t rows = CP_STREAM_BATCH_VALUE_BYTES / row_bytes;
    return rows > CP_STREAM_BATCH_ROWS ? CP_STREAM_BATCH_ROWS : rows ? rows : 1;
}

cp_status cp_csv_stream(cp_source *src, cp_sniff_result *sniffed, const cp_csv_options *opts,
                        const cp_stream_options *so, const cp_stream_callbacks *cb,
                        cp_stream_stats *stats, cp_error *err)
{
    cp_stream_options defaults = {cp_stream_batch_rows(&sniffed->schema), (size_t)16 << 20, 3, 1,
                                  0};
    if (!so)
        so = &defaults;
    const size_t batch_rows = so->batch_rows ? so->batch_rows : defaults.batch_rows;
    const size_t batch_bytes = so->batch_bytes ? so->batch_bytes : defaults.batch_bytes;
    const unsigned max_restarts = so->max_restarts ? so->max_restarts : defaults.max_restarts;
    size_t nring = so->batches && cb->on_reuse ? so->batches : 1;
    if (nring > CP_STREAM_MAX_BATCHES)
        nring = CP_STREAM_MAX_BATCHES;
    cp_schema *schema = &sniffed->schema;
    const cp_value_opts *vo = &sniffed->dialect.values;
    cp_tokenizer_options limits;
    if (opts)
        limits = opts->limits;
    else
        cp_tokenizer_options_default(&limits);
    memset(stats, 0, sizeof *stats);
    const bool forced = cp_stream_any_forced(schema);

    for (;;) {
        cp_csv_reader r;
        cp_batch ring[CP_STREAM_MAX_BATCHES];
        size_t nmade = 1, cur = 0;
        const size_t max_row =
            limits.max_row_bytes ? limits.max_row_bytes : limits.max_field_bytes * 4;
        cp_status st = cp_csv_reader_open(&r, src, &sniffed->dialect, sniffed->encoding_detected,
                                          &limits, err);
        if (st != CP_OK)
            return st;
        st = cp_batch_init(&ring[0], schema, batch_rows, batch_bytes, max_row);
        if (st != CP_OK) {
            cp_csv_reader_close(&r);
            return cp_error_set(err, st,
                                st == CP_NOMEM ? "out of memory for a batch of rows"
                                               : "cannot allocate a batch of rows");
        }
        cp_batch *b = &ring[0];
        cp_batch_clear(b, 1);
        bool widen = false;
        cp_type *types = NULL;
        stats->rows = stats->rejected = 0;
        for (;;) {
            cp_row row;
            cp_error rowerr;
            cp_error_reset(&rowerr);
            st = cp_csv_reader_next(&r, &row, &rowerr);
            if (st == CP_BAD_QUOTE) {
                stats->rejected++;
                if (cb->on_reject && (st = cb->on_reject(cb->ctx, &row, &rowerr, err)) != CP_OK)
                    break;
                continue;
            }
            if (st != CP_OK) {
                if (err) {
                    *err = rowerr;
                    cp_stream_name_error(err, src->name);
                }
                break;
            }
            if (row.nfields == 0) {
                if (b->nrows > 0 && cb->on_batch)
                    st = cb->on_batch(cb->ctx, b, err);
                break;
            }
            st = cp_batch_append_row(b, row.fields, row.nfields, vo, &rowerr);
            if (st == CP_TYPE_MISMATCH && cp_csv_reader_drop_repeat(&r, &row)) {
                st = CP_OK; /* the header again, past the sample */
                continue;
            }
            long misfit;
            if (st == CP_TYPE_MISMATCH && forced &&
                (misfit = cp_stream_forced_misfit(schema, &row, vo)) >= 0) {
                cp_stream_forced_reason(&rowerr, schema, &row, (size_t)misfit);
                stats->rejected++;
                if (cb->on_reject && (st = cb->on_reject(cb->ctx, &row, &rowerr, err)) != CP_OK)
                    break;
                st = CP_OK;
                continue;
            }
            if (st == CP_TYPE_MISMATCH) {
                widen = true;
                types = calloc(schema->ncolumns, sizeof *types);
                if (!types) {
                    st = cp_error_set(err, CP_NOMEM, "out of memory");
                    break;
                }
                for (size_t c = 0; c < schema->ncolumns; c++)
                    types[c] = schema->columns[c].type;
                cp_stream_widen_for_row(types, schema, &row, vo, forced);
                st = cp_stream_learn_widening(&r, types, schema, vo, forced, err);
                if (st != CP_OK && err)
                    cp_stream_name_error(err, src->name);
                break;
            }
            if (st == CP_TOO_MANY_FIELDS || st == CP_TOO_LARGE) {
                rowerr.line = row.line;
                stats->rejected++;
                if (cb->on_reject && (st = cb->on_reject(cb->ctx, &row, &rowerr, err)) != CP_OK)
                    break;
                st = CP_OK;
                continue;
            }
            if (st != CP_OK) {
                if (err)
                    *err = rowerr;
                locate(err, src->name, &row);
                break;
            }
            if (cb->on_row) {
                st = cb->on_row(cb->ctx, b, b->nrows - 1, &rowerr);
                if (st == CP_TOO_LARGE) {
                    cp_batch_pop_row(b);
                    rowerr.line = row.line;
                    stats->rejected++;
                    if (cb->on_reject && (st = cb->on_reject(cb->ctx, &row, &rowerr, err)) != CP_OK)
                        break;
                    st = CP_OK;
                    continue;
                }
                if (st != CP_OK) {
                    if (err)
                        *err = rowerr;
                    locate(err, src->name, &row);
                    break;
                }
            }
            stats->rows++;
            if (cp_batch_full(b)) {
                if (cb->on_batch && (st = cb->on_batch(cb->ctx, b, err)) != CP_OK)
                    break;
                if (cb->on_reuse) {
                    cur = (cur + 1) % nring;
                    if (cur == nmade && !cp_stream_ring_grows(ring, nmade, so->batches_memory)) {
                        nring = nmade;
                        cur = 0;
                    }
                    if (cur == nmade) {
                        if ((st = cp_batch_init(&ring[cur], schema, batch_rows, batch_bytes,
                                                max_row)) != CP_OK) {
                            cp_error_set(err, st, "cannot allocate a batch");
                            break;
                        }
                        nmade++;
                    } else {
                        cb->on_reuse(cb->ctx, &ring[cur]);
                    }
                    b = &ring[cur];
                }
                cp_batch_clear(b, stats->rows + 1);
            }
        }
        stats->bytes = src->position;
        stats->compression = cp_decompress_kind(src);
        stats->encoding = cp_csv_reader_encoding(&r);
        stats->repeated_headers = r.repeated_headers;
        stats->line_ending = sniffed->dialect.line_ending;
        for (size_t i = 0; i < nmade; i++) {
            if (cb->on_reuse)
                cb->on_reuse(cb->ctx, &ring[i]);
            cp_batch_release(&ring[i]);
        }
        cp_csv_reader_close(&r);
        if (!widen || st != CP_OK) {
            free(types);
            return st;
        }
        if (stats->restarts >= max_restarts) {
            free(types);
            return cp_error_set(err, CP_TYPE_MISMATCH,
                                "%s: the column types kept changing after %u restarts", src->name,
                                stats->restarts);
        }
        stats->restarts++;
        for (size_t c = 0; c < schema->ncolumns; c++)
            schema->columns[c].type = types[c];
        free(types);
        if (cb->on_restart && (st = cb->on_restart(cb->ctx, schema, err)) != CP_OK)
            return st;
    }
}
