/*
 * json_writer.c - NDJSON rows written straight into the output buffer.
 *
 * A row is formatted in one go: the writer reserves an upper bound of the row's size
 * (a fixed room per column plus the worst-case escaping of its strings), then writes the
 * column prefixes and values with raw pointer stores. The value forms are those of
 * table/cell.h (test_json_writer compares the two byte for byte). Each column's kind is
 * taken from the schema once per batch. Output is handed to the write callback once the
 * buffer passes flush_bytes (FLUSH_BYTES unless set), checked after every row, so the
 * buffer holds at most that plus one row.
 */
#include "json/json_writer.h"
#include "util/json_escape.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLUSH_BYTES ((size_t)1 << 20)

/*
 * Room for one non-STRING value in either style, its wrapper ({"N":"..."}) and the NUL
 * the cp_format_* functions write after it (42 bytes for a DECIMAL, 32 for a DOUBLE), and
 * for the overrun of a prefix copied in PIECE-byte pieces.
 */
#define VALUE_ROOM 64
/* Room for the end of a row ("}}\n" stored as 4 bytes) and the NUL of the buffer. */
#define ROW_END_ROOM 16
#define PIECE 32

typedef enum col_kind {
    KIND_NULL = 0, /* a column of type NULL: every value is null */
    KIND_BOOLEAN,
    KIND_INT64,
    KIND_DECIMAL,
    KIND_DOUBLE,
    KIND_DATE,
    KIND_TIMESTAMP,
    KIND_TIMESTAMPTZ,
    KIND_STRING,
} col_kind;

/* One column as the rows of the current batch are written: set once per batch. */
typedef struct col_plan {
    const char *prefix; /* ,"name": zero-padded to PIECE bytes */
    size_t prefix_len;
    const uint64_t *validity;
    const cp_column_data *data;
    col_kind kind;
    unsigned scale; /* DECIMAL */
} col_plan;

struct cp_json_writer {
    size_t flush_bytes;
    const cp_schema *schema;
    cp_json_style style;
    cp_item_keys keys;
    cp_write_fn write;
    void *ctx;
    char **prefixes; /* per column: ,"name": already escaped, zero-padded to PIECE bytes */
    size_t *prefix_len;
    col_plan *plan;      /* per column, for the batch being written */
    size_t *string_cols; /* indexes of the STRING columns of that batch */
    size_t nstring_cols;
    size_t fixed_room; /* a row's size bound without its strings */
    char *dyn_middle;  /* DynamoDB: },"_dataset":{"S":...},"_source":{"S":...},"_row":{"N":" */
    size_t dyn_middle_len;
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

static size_t round_up_piece(size_t n)
{
    return (n + PIECE - 1) / PIECE * PIECE;
}

/* Moves the content of p into a zeroed allocation that can be read in PIECE-byte steps. */
static char *detach_padded(cp_buf *p, size_t *len)
{
    *len = p->len;
    char *s = calloc(1, round_up_piece(p->len) + PIECE);
    if (s && p->len)
        memcpy(s, p->data, p->len);
    cp_buf_release(p);
    return s;
}

static cp_status make_dyn_middle(cp_json_writer *w)
{
    cp_buf m;
    cp_buf_init(&m, CP_BUF_UNLIMITED);
    const char *dataset = w->keys.dataset ? w->keys.dataset : "";
    const char *source = w->keys.source_uri ? w->keys.source_uri : "";
    cp_status st = cp_buf_append_str(&m, "},\"_dataset\":{\"S\":");
    if (st == CP_OK)
        st = cp_json_append_string(&m, dataset, strlen(dataset));
    if (st == CP_OK)
        st = cp_buf_append_str(&m, "},\"_source\":{\"S\":");
    if (st == CP_OK)
        st = cp_json_append_string(&m, source, strlen(source));
    if (st == CP_OK)
        st = cp_buf_append_str(&m, "},\"_row\":{\"N\":\"");
    if (st != CP_OK) {
        cp_buf_release(&m);
        return st;
    }
    w->dyn_middle = cp_buf_detach(&m, &w->dyn_middle_len);
    return CP_OK;
}

cp_status cp_json_writer_new(const cp_schema *schema, cp_json_style style, const cp_item_keys *keys,
                             cp_write_fn write, void *ctx, cp_json_writer **out, cp_error *err)
{
    *out = NULL;
    cp_json_writer *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->flush_bytes = FLUSH_BYTES;
    w->schema = schema;
    w->style = style;
    if (keys)
        w->keys = *keys;
    w->write = write;
    w->ctx = ctx;
    cp_buf_init(&w->out, CP_BUF_UNLIMITED);
    cp_buf_init(&w->pk, CP_BUF_UNLIMITED);
    cp_buf_init(&w->sk, CP_BUF_UNLIMITED);
    size_t n = schema->ncolumns ? schema->ncolumns : 1;
    w->prefixes = calloc(n, sizeof *w->prefixes);
    w->prefix_len = calloc(n, sizeof *w->prefix_len);
    w->plan = calloc(n, sizeof *w->plan);
    w->string_cols = calloc(n, sizeof *w->string_cols);
    if (!w->prefixes || !w->prefix_len || !w->plan || !w->string_cols)
        goto nomem;
    w->fixed_room = ROW_END_ROOM;
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
        w->prefixes[c] = detach_padded(&p, &w->prefix_len[c]);
        if (!w->prefixes[c])
            goto nomem;
        w->fixed_room += round_up_piece(w->prefix_len[c]) + VALUE_ROOM;
    }
    if (style == CP_JSON_STYLE_DYNAMODB) {
        if (make_dyn_middle(w) != CP_OK)
            goto nomem;
        /* {"Item":{"pk":{"S": ... },"sk":{"S": ... middle ... the ordinal and "} */
        w->fixed_room += 32 + w->dyn_middle_len + VALUE_ROOM;
    }
    *out = w;
    return CP_OK;
nomem:
    cp_json_writer_free(w);
    return cp_error_set(err, CP_NOMEM, "out of memory");
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

static col_kind kind_of(cp_type_id id)
{
    switch (id) {
    case CP_TYPE_BOOLEAN:
        return KIND_BOOLEAN;
    case CP_TYPE_INT64:
        return KIND_INT64;
    case CP_TYPE_DECIMAL:
        return KIND_DECIMAL;
    case CP_TYPE_DOUBLE:
        return KIND_DOUBLE;
    case CP_TYPE_DATE:
        return KIND_DATE;
    case CP_TYPE_TIMESTAMP:
        return KIND_TIMESTAMP;
    case CP_TYPE_TIMESTAMPTZ:
        return KIND_TIMESTAMPTZ;
    case CP_TYPE_STRING:
        return KIND_STRING;
    default:
        return KIND_NULL;
    }
}

static inline char *put_bytes(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

/* Copies a padded prefix in PIECE-byte steps; may write up to PIECE - 1 bytes past it. */
static inline char *put_prefix(char *o, const col_plan *c)
{
    memcpy(o, c->prefix, PIECE);
    if (__builtin_expect(c->prefix_len > PIECE, 0))
        for (size_t k = PIECE; k < c->prefix_len; k += PIECE)
            memcpy(o + k, c->prefix + k, PIECE);
    return o + c->prefix_len;
}

static inline size_t string_len(const cp_column_data *c, size_t row)
{
    return c->v.offsets[row + 1] - c->v.offsets[row];
}

static inline const char *string_at(const cp_column_data *c, size_t row)
{
    return c->strings.data + c->v.offsets[row];
}

/* Room for a row: the fixed part and the worst-case escaping of its strings. */
static inline size_t row_room(const cp_json_writer *w, const cp_batch *b, size_t r)
{
    size_t room = w->fixed_room;
    for (size_t i = 0; i < w->nstring_cols; i++)
        room += CP_JSON_STRING_ROOM(string_len(&b->cols[w->string_cols[i]], r));
    return room;
}

static inline cp_status reserve(cp_buf *o, size_t room)
{
    if (o->cap - o->len > room)
        return CP_OK;
    return cp_buf_reserve(o, room);
}

/* A date or timestamp as a JSON string (nothing in it to escape). */
static inline char *put_temporal(char *o, col_kind k, const cp_column_data *c, size_t r)
{
    *o++ = '"';
    if (k == KIND_DATE)
        o += cp_format_date(c->v.date[r], o);
    else
        o += cp_format_timestamp(c->v.i64[r], k == KIND_TIMESTAMPTZ, o);
    *o++ = '"';
    return o;
}

/* A finite DOUBLE's text; NULL for NaN and infinities. */
static inline char *put_finite_double(char *o, double v)
{
    if (!isfinite(v))
        return NULL;
    return o + cp_format_double(v, o);
}

static inline const char *nonfinite_text(double v)
{
    return isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

/* cp_cell_append_json for a valid value; NULL for a column that cannot hold one. */
static inline char *put_json(char *o, const col_plan *p, size_t r)
{
    const cp_column_data *c = p->data;
    const col_kind k = p->kind;
    switch (k) {
    case KIND_BOOLEAN:
        if (c->v.boolean[r])
            return put_bytes(o, "true", 4);
        return put_bytes(o, "false", 5);
    case KIND_INT64:
        return o + cp_format_int64(c->v.i64[r], o);
    case KIND_DECIMAL:
        return o + cp_format_decimal(c->v.decimal[r], p->scale, o);
    case KIND_DOUBLE: {
        double v = c->v.f64[r];
        char *e = put_finite_double(o, v);
        if (e)
            return e;
        *o++ = '"';
        const char *t = nonfinite_text(v);
        o = put_bytes(o, t, strlen(t));
        *o++ = '"';
        return o;
    }
    case KIND_DATE:
    case KIND_TIMESTAMP:
    case KIND_TIMESTAMPTZ:
        return put_temporal(o, k, c, r);
    case KIND_STRING:
        return cp_json_put_string(o, string_at(c, r), string_len(c, r));
    case KIND_NULL:
        break;
    }
    return NULL;
}

/* cp_cell_append_dynamodb for a valid value; NULL for a column that cannot hold one. */
static inline char *put_dynamodb(char *o, const col_plan *p, size_t r)
{
    const cp_column_data *c = p->data;
    const col_kind k = p->kind;
    switch (k) {
    case KIND_BOOLEAN:
        if (c->v.boolean[r])
            return put_bytes(o, "{\"BOOL\":true}", 13);
        return put_bytes(o, "{\"BOOL\":false}", 14);
    case KIND_INT64:
        o = put_bytes(o, "{\"N\":\"", 6);
        o += cp_format_int64(c->v.i64[r], o);
        return put_bytes(o, "\"}", 2);
    case KIND_DECIMAL:
        o = put_bytes(o, "{\"N\":\"", 6);
        o += cp_format_decimal(c->v.decimal[r], p->scale, o);
        return put_bytes(o, "\"}", 2);
    case KIND_DOUBLE: {
        double v = c->v.f64[r];
        char *e = put_finite_double(o + 6, v);
        if (e) {
            memcpy(o, "{\"N\":\"", 6);
            o = e;
        } else {
            /* DynamoDB numbers cannot be NaN or infinite: keep the value as text */
            o = put_bytes(o, "{\"S\":\"", 6);
            const char *t = nonfinite_text(v);
            o = put_bytes(o, t, strlen(t));
        }
        return put_bytes(o, "\"}", 2);
    }
    case KIND_DATE:
    case KIND_TIMESTAMP:
    case KIND_TIMESTAMPTZ:
        o = put_bytes(o, "{\"S\":", 5);
        o = put_temporal(o, k, c, r);
        *o++ = '}';
        return o;
    case KIND_STRING:
        o = put_bytes(o, "{\"S\":", 5);
        o = cp_json_put_string(o, string_at(c, r), string_len(c, r));
        *o++ = '}';
        return o;
    case KIND_NULL:
        break;
    }
    return NULL;
}

static cp_status plain_row(cp_json_writer *w, const cp_batch *b, size_t r)
{
    cp_buf *out = &w->out;
    CP_RETURN_IF_ERROR(reserve(out, row_room(w, b, r)));
    char *const start = out->data + out->len;
    char *o = start;
    const size_t ncols = w->schema->ncolumns;
    const uint64_t bit = (uint64_t)1 << (r & 63);
    const size_t word = r >> 6;
    *o = '{'; /* stays when there are no columns */
    for (const col_plan *p = w->plan, *end = p + ncols; p < end; p++) {
        o = put_prefix(o, p);
        if (!(p->validity[word] & bit)) {
            o = put_bytes(o, "null", 4);
            continue;
        }
        o = put_json(o, p, r);
        if (!o)
            return CP_INTERNAL;
    }
    if (ncols == 0)
        o++;
    *start = '{';
    memcpy(o, "}\n\0", 4);
    o += 2;
    out->len = (size_t)(o - out->data);
    return CP_OK;
}

static cp_status dynamodb_row(cp_json_writer *w, const cp_batch *b, size_t r)
{
    cp_buf *out = &w->out;
    CP_RETURN_IF_ERROR(cp_item_key(&w->keys, b, r, &w->pk, &w->sk));
    size_t room = row_room(w, b, r);
    room += CP_JSON_STRING_ROOM(w->pk.len) + CP_JSON_STRING_ROOM(w->sk.len);
    CP_RETURN_IF_ERROR(reserve(out, room));
    char *o = out->data + out->len;
    o = put_bytes(o, "{\"Item\":{\"pk\":{\"S\":", 19);
    o = cp_json_put_string(o, w->pk.data, w->pk.len);
    o = put_bytes(o, "},\"sk\":{\"S\":", 12);
    o = cp_json_put_string(o, w->sk.data, w->sk.len);
    o = put_bytes(o, w->dyn_middle, w->dyn_middle_len);
    o += cp_format_uint64(cp_batch_row_number(b, (size_t)r), o);
    o = put_bytes(o, "\"}", 2);
    const uint64_t bit = (uint64_t)1 << (r & 63);
    const size_t word = r >> 6;
    for (const col_plan *p = w->plan, *end = p + w->schema->ncolumns; p < end; p++) {
        if (!(p->validity[word] & bit))
            continue;
        o = put_prefix(o, p);
        o = put_dynamodb(o, p, r);
        if (!o)
            return CP_INTERNAL;
    }
    memcpy(o, "}}\n\0", 4);
    o += 3;
    out->len = (size_t)(o - out->data);
    return CP_OK;
}

void cp_json_writer_set_buffer(cp_json_writer *w, size_t bytes)
{
    w->flush_bytes = bytes < 4096 ? 4096 : bytes;
}

cp_status cp_json_writer_write_batch(cp_json_writer *w, const cp_batch *b, cp_error *err)
{
    w->nstring_cols = 0;
    for (size_t c = 0; c < w->schema->ncolumns; c++) {
        col_plan *p = &w->plan[c];
        const cp_type t = b->schema->columns[c].type;
        p->prefix = w->prefixes[c];
        p->prefix_len = w->prefix_len[c];
        p->validity = b->cols[c].validity;
        p->data = &b->cols[c];
        p->kind = kind_of(t.id);
        p->scale = t.scale;
        if (p->kind == KIND_STRING)
            w->string_cols[w->nstring_cols++] = c;
    }
    const bool dynamodb = w->style == CP_JSON_STYLE_DYNAMODB;
    for (size_t r = 0; r < b->nrows; r++) {
        cp_status st = dynamodb ? dynamodb_row(w, b, r) : plain_row(w, b, r);
        if (st != CP_OK) {
            if (w->out.data)
                w->out.data[w->out.len] = '\0';
            return cp_error_set(err, st, "cannot format row %" PRIu64 " as JSON",
                                cp_batch_row_number(b, (size_t)r));
        }
        if (w->out.len >= w->flush_bytes)
            CP_RETURN_IF_ERROR(flush(w, err));
    }
    return CP_OK;
}

cp_status cp_json_writer_finish(cp_json_writer *w, cp_error *err)
{
    return flush(w, err);
}

cp_status cp_json_writer_suspend(cp_json_writer *w, cp_error *err)
{
    CP_RETURN_IF_ERROR(flush(w, err));
    cp_buf_release(&w->out);
    return CP_OK;
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
    free(w->plan);
    free(w->string_cols);
    free(w->dyn_middle);
    cp_buf_release(&w->out);
    cp_buf_release(&w->pk);
    cp_buf_release(&w->sk);
    free(w);
}
