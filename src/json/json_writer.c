#include "json/json_writer.h"
#include "table/cell.h"
#include "util/json_escape.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLUSH_BYTES ((size_t)1 << 20)

struct cp_json_writer {
    const cp_schema *schema;
    cp_json_style style;
    cp_item_keys keys;
    cp_write_fn write;
    void *ctx;
    char **prefixes; /* per column: ,"name": already escaped */
    size_t *prefix_len;
    cp_buf out;
    cp_buf pk, sk;
    uint64_t bytes;
};

bool cp_json_style_parse(const char *name, cp_json_style *out)
{
    if (strcasecmp(name, "plain") == 0 || strcasecmp(name, "json") == 0 ||
        strcasecmp(name, "ndjson") == 0) {
        *out = CP_JSON_STYLE_PLAIN;
        return true;
    }
    if (strcasecmp(name, "dynamodb") == 0) {
        *out = CP_JSON_STYLE_DYNAMODB;
        return true;
    }
    return false;
}

cp_json_writer *cp_json_writer_new(const cp_schema *schema, cp_json_style style,
                                   const cp_item_keys *keys, cp_write_fn write, void *ctx,
                                   cp_error *err)
{
    cp_json_writer *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->schema = schema;
    w->style = style;
    if (keys)
        w->keys = *keys;
    w->write = write;
    w->ctx = ctx;
    cp_buf_init(&w->out, CP_BUF_UNLIMITED);
    cp_buf_init(&w->pk, CP_BUF_UNLIMITED);
    cp_buf_init(&w->sk, CP_BUF_UNLIMITED);
    w->prefixes = calloc(schema->ncolumns ? schema->ncolumns : 1, sizeof *w->prefixes);
    w->prefix_len = calloc(schema->ncolumns ? schema->ncolumns : 1, sizeof *w->prefix_len);
    if (!w->prefixes || !w->prefix_len)
        goto nomem;
    for (size_t c = 0; c < schema->ncolumns; c++) {
        cp_buf p;
        cp_buf_init(&p, CP_BUF_UNLIMITED);
        const char *name = schema->columns[c].name;
        if (cp_buf_append_char(&p, ',') != CP_OK ||
            cp_json_append_string(&p, name, strlen(name)) != CP_OK ||
            cp_buf_append_char(&p, ':') != CP_OK) {
            cp_buf_release(&p);
            goto nomem;
        }
        w->prefixes[c] = cp_buf_detach(&p, &w->prefix_len[c]);
    }
    return w;
nomem:
    cp_json_writer_free(w);
    cp_error_set(err, CP_NOMEM, "out of memory");
    return NULL;
}

static cp_status flush(cp_json_writer *w, cp_error *err)
{
    if (w->out.len == 0)
        return CP_OK;
    cp_status st = w->write(w->ctx, w->out.data, w->out.len);
    if (st != CP_OK)
        return cp_error_set(err, st, "cannot write the JSON output");
    w->bytes += w->out.len;
    cp_buf_reset(&w->out);
    return CP_OK;
}

static cp_status plain_row(cp_json_writer *w, const cp_batch *b, size_t r)
{
    cp_buf *o = &w->out;
    CP_RETURN_IF_ERROR(cp_buf_append_char(o, '{'));
    for (size_t c = 0; c < w->schema->ncolumns; c++) {
        const char *p = w->prefixes[c];
        CP_RETURN_IF_ERROR(
            cp_buf_append(o, c == 0 ? p + 1 : p, c == 0 ? w->prefix_len[c] - 1 : w->prefix_len[c]));
        CP_RETURN_IF_ERROR(cp_cell_append_json(o, b, c, r));
    }
    return cp_buf_append_str(o, "}\n");
}

static cp_status dynamodb_row(cp_json_writer *w, const cp_batch *b, size_t r)
{
    cp_buf *o = &w->out;
    CP_RETURN_IF_ERROR(cp_item_key(&w->keys, b, r, &w->pk, &w->sk));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, "{\"Item\":{\"pk\":{\"S\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(o, w->pk.data, w->pk.len));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, "},\"sk\":{\"S\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(o, w->sk.data, w->sk.len));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, "},\"_dataset\":{\"S\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(o, w->keys.dataset, strlen(w->keys.dataset)));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, "},\"_source\":{\"S\":"));
    CP_RETURN_IF_ERROR(cp_json_append_string(o, w->keys.source_uri, strlen(w->keys.source_uri)));
    CP_RETURN_IF_ERROR(
        cp_buf_printf(o, "},\"_row\":{\"N\":\"%" PRIu64 "\"}", b->first_row + (uint64_t)r));
    for (size_t c = 0; c < w->schema->ncolumns; c++) {
        if (!cp_batch_valid(b, c, r))
            continue;
        CP_RETURN_IF_ERROR(cp_buf_append(o, w->prefixes[c], w->prefix_len[c]));
        CP_RETURN_IF_ERROR(cp_cell_append_dynamodb(o, b, c, r));
    }
    return cp_buf_append_str(o, "}}\n");
}

cp_status cp_json_writer_write_batch(cp_json_writer *w, const cp_batch *b, cp_error *err)
{
    for (size_t r = 0; r < b->nrows; r++) {
        cp_status st =
            w->style == CP_JSON_STYLE_DYNAMODB ? dynamodb_row(w, b, r) : plain_row(w, b, r);
        if (st != CP_OK)
            return cp_error_set(err, st, "cannot format row %" PRIu64 " as JSON",
                                b->first_row + (uint64_t)r);
        if (w->out.len >= FLUSH_BYTES)
            CP_RETURN_IF_ERROR(flush(w, err));
    }
    return CP_OK;
}

cp_status cp_json_writer_finish(cp_json_writer *w, cp_error *err)
{
    return flush(w, err);
}

uint64_t cp_json_writer_bytes(const cp_json_writer *w)
{
    return w->bytes + w->out.len;
}

void cp_json_writer_free(cp_json_writer *w)
{
    if (!w)
        return;
    if (w->prefixes)
        for (size_t c = 0; c < w->schema->ncolumns; c++)
            free(w->prefixes[c]);
    free(w->prefixes);
    free(w->prefix_len);
    cp_buf_release(&w->out);
    cp_buf_release(&w->pk);
    cp_buf_release(&w->sk);
    free(w);
}
