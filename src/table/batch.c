#include "table/batch.h"

#include <stdlib.h>
#include <string.h>

const char *const cp_default_null_tokens[] = {"NULL", "null", "NA", "N/A", "\\N", NULL};

bool cp_is_null_token(const cp_value_opts *opts, const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (len > 8)
        return false;
    if (!opts || !opts->null_tokens) {
        /* the defaults start with N, n or a backslash: most values stop here */
        if (s[0] != 'N' && s[0] != 'n' && s[0] != '\\')
            return false;
    }
    const char *const *tokens =
        opts && opts->null_tokens ? opts->null_tokens : cp_default_null_tokens;
    for (const char *const *t = tokens; *t; t++) {
        const char *tok = *t;
        if (!tok[0] || tok[0] != s[0])
            continue; /* an empty token is the empty field, already null */
        size_t k = 1;
        while (k < len && tok[k] && tok[k] == s[k])
            k++;
        if (k == len && tok[k] == '\0')
            return true;
    }
    return false;
}

static size_t value_size(cp_type_id id)
{
    switch (id) {
    case CP_TYPE_BOOLEAN:
        return sizeof(uint8_t);
    case CP_TYPE_DECIMAL:
        return sizeof(cp_i128);
    case CP_TYPE_DOUBLE:
        return sizeof(double);
    case CP_TYPE_DATE:
        return sizeof(int32_t);
    case CP_TYPE_STRING:
        return sizeof(uint32_t);
    default:
        return sizeof(int64_t);
    }
}

cp_status cp_batch_init(cp_batch *b, const cp_schema *schema, size_t capacity, size_t string_budget,
                        size_t max_row_bytes)
{
    memset(b, 0, sizeof *b);
    b->schema = schema;
    b->capacity = capacity;
    b->string_budget = string_budget;
    /* offsets are 32-bit: a batch's strings stay under 4 GiB */
    if (string_budget > UINT32_MAX / 2 || max_row_bytes > UINT32_MAX / 2 || capacity == 0)
        return CP_USAGE;
    b->cols = calloc(schema->ncolumns ? schema->ncolumns : 1, sizeof *b->cols);
    if (!b->cols)
        return CP_NOMEM;
    size_t words = (capacity + 63) / 64;
    for (size_t i = 0; i < schema->ncolumns; i++) {
        cp_column_data *c = &b->cols[i];
        cp_type_id id = schema->columns[i].type.id;
        c->validity = calloc(words, sizeof(uint64_t));
        size_t n = id == CP_TYPE_STRING ? capacity + 1 : capacity;
        c->v.i64 = calloc(n, value_size(id));
        cp_buf_init(&c->strings, string_budget + max_row_bytes);
        if (!c->validity || !c->v.i64) {
            cp_batch_release(b);
            return CP_NOMEM;
        }
    }
    return CP_OK;
}

void cp_batch_release(cp_batch *b)
{
    if (b->cols && b->schema) {
        for (size_t i = 0; i < b->schema->ncolumns; i++) {
            free(b->cols[i].validity);
            free(b->cols[i].v.i64);
            cp_buf_release(&b->cols[i].strings);
        }
    }
    free(b->cols);
    memset(b, 0, sizeof *b);
}

size_t cp_batch_memory(const cp_batch *b)
{
    const size_t words = (b->capacity + 63) / 64;
    size_t n = 0;
    for (size_t i = 0; i < b->schema->ncolumns; i++) {
        const cp_type_id id = b->schema->columns[i].type.id;
        n += words * sizeof(uint64_t) + b->cols[i].strings.cap +
             (id == CP_TYPE_STRING ? b->capacity + 1 : b->capacity) * value_size(id);
    }
    return n;
}

void cp_batch_clear(cp_batch *b, uint64_t first_row)
{
    b->nrows = 0;
    b->string_bytes = 0;
    b->first_row = first_row;
    b->row_numbers = NULL;
    for (size_t i = 0; i < b->schema->ncolumns; i++) {
        b->cols[i].nnulls = 0;
        cp_buf_reset(&b->cols[i].strings);
    }
}

static inline bool parse_value(cp_type t, const cp_field *f, const cp_value_opts *opts,
                               bool *is_null, cp_value *out)
{
    const cp_locale *loc = &opts->locale;
    *is_null = false;
    if (t.id == CP_TYPE_STRING) {
        *is_null = !f->quoted && cp_is_null_token(opts, f->data, f->len);
        return true;
    }
    if (cp_is_null_token(opts, f->data, f->len)) {
        *is_null = true;
        return true;
    }
    cp_temporal tm;
    switch (t.id) {
    case CP_TYPE_NULL:
        return false;
    case CP_TYPE_BOOLEAN:
        return cp_parse_bool(f->data, f->len, &out->boolean);
    case CP_TYPE_INT64:
        return cp_parse_int64(f->data, f->len, loc, &out->i64);
    case CP_TYPE_DECIMAL:
        return cp_parse_decimal(f->data, f->len, loc, t.precision, t.scale, &out->decimal);
    case CP_TYPE_DOUBLE: {
        cp_num n;
        cp_num_kind k = cp_scan_number(f->data, f->len, loc, &n);
        if (k == CP_NUM_LEADING_ZERO || k == CP_NUM_NONE)
            return false;
        return cp_parse_double(f->data, f->len, loc, &out->f64);
    }
    case CP_TYPE_DATE:
        if (cp_parse_temporal(f->data, f->len, loc->date_order, &tm) != CP_TEMPORAL_DATE)
            return false;
        out->date = tm.days;
        return true;
    case CP_TYPE_TIMESTAMP: {
        cp_temporal_kind k = cp_parse_temporal(f->data, f->len, loc->date_order, &tm);
        if (k != CP_TEMPORAL_DATE && k != CP_TEMPORAL_TIMESTAMP)
            return false;
        out->i64 = tm.micros;
        return true;
    }
    case CP_TYPE_TIMESTAMPTZ:
        if (cp_parse_temporal(f->data, f->len, loc->date_order, &tm) != CP_TEMPORAL_TIMESTAMPTZ)
            return false;
        out->i64 = tm.micros;
        return true;
    case CP_TYPE_STRING:
        break;
    }
    return false;
}

bool cp_parse_value(cp_type t, const cp_field *f, const cp_value_opts *opts, bool *is_null,
                    cp_value *out)
{
    return parse_value(t, f, opts, is_null, out);
}

/*
 * What a forced type takes beyond cp_parse_value: 0 and 1 in a BOOLEAN column. Out of line
 * and cold: it runs only after a value failed, and must cost the append loop nothing.
 */
__attribute__((noinline, cold)) static bool parse_forced_extra(const cp_column *col,
                                                               const cp_field *f, cp_value *out)
{
    if (!col->forced || col->type.id != CP_TYPE_BOOLEAN || f->len != 1 ||
        (f->data[0] != '0' && f->data[0] != '1'))
        return false;
    out->boolean = f->data[0] == '1';
    return true;
}

bool cp_parse_column_value(const cp_column *col, const cp_field *f, const cp_value_opts *opts,
                           bool *is_null, cp_value *out)
{
    return parse_value(col->type, f, opts, is_null, out) || parse_forced_extra(col, f, out);
}

void cp_batch_pop_row(cp_batch *b)
{
    if (b->nrows == 0)
        return;
    const size_t r = b->nrows - 1;
    for (size_t i = 0; i < b->schema->ncolumns; i++) {
        cp_column_data *c = &b->cols[i];
        if (!cp_batch_valid(b, i, r))
            c->nnulls--;
        if (b->schema->columns[i].type.id == CP_TYPE_STRING) {
            b->string_bytes -= c->v.offsets[r + 1] - c->v.offsets[r];
            c->strings.len = c->v.offsets[r];
        }
    }
    b->nrows--;
}

static inline void set_valid(uint64_t *bits, size_t row, bool valid)
{
    uint64_t mask = (uint64_t)1 << (row & 63);
    if (valid)
        bits[row >> 6] |= mask;
    else
        bits[row >> 6] &= ~mask;
}

/* Takes back what a failed append of row nrows put into columns [0, upto). */
static void undo_row(cp_batch *b, size_t upto)
{
    const size_t r = b->nrows;
    for (size_t i = 0; i < upto; i++) {
        cp_column_data *c = &b->cols[i];
        c->nnulls -= !cp_batch_valid(b, i, r);
        if (b->schema->columns[i].type.id == CP_TYPE_STRING)
            c->strings.len = c->v.offsets[r];
    }
}

cp_status cp_batch_append_from(cp_batch *dst, const cp_batch *src, size_t row, const size_t *cols)
{
    const size_t r = dst->nrows;
    if (r >= dst->capacity)
        return CP_INTERNAL;
    size_t added_bytes = 0;
    for (size_t i = 0; i < dst->schema->ncolumns; i++) {
        const size_t sc = cols ? cols[i] : i;
        cp_column_data *c = &dst->cols[i];
        const cp_column_data *from = &src->cols[sc];
        const bool valid = cp_batch_valid(src, sc, row);
        switch (dst->schema->columns[i].type.id) {
        case CP_TYPE_STRING: {
            if (valid) {
                size_t len;
                const char *text = cp_batch_string(src, sc, row, &len);
                cp_status st = cp_buf_append(&c->strings, text, len);
                if (st != CP_OK) {
                    c->strings.len = c->v.offsets[r];
                    undo_row(dst, i);
                    return st;
                }
                added_bytes += len;
            }
            c->v.offsets[r + 1] = (uint32_t)c->strings.len;
            break;
        }
        case CP_TYPE_BOOLEAN:
            c->v.boolean[r] = from->v.boolean[row];
            break;
        case CP_TYPE_INT64:
        case CP_TYPE_TIMESTAMP:
        case CP_TYPE_TIMESTAMPTZ:
            c->v.i64[r] = from->v.i64[row];
            break;
        case CP_TYPE_DECIMAL:
            c->v.decimal[r] = from->v.decimal[row];
            break;
        case CP_TYPE_DOUBLE:
            c->v.f64[r] = from->v.f64[row];
            break;
        case CP_TYPE_DATE:
            c->v.date[r] = from->v.date[row];
            break;
        case CP_TYPE_NULL:
            break;
        }
        set_valid(c->validity, r, valid);
        c->nnulls += !valid;
    }
    dst->string_bytes += added_bytes;
    dst->nrows++;
    return CP_OK;
}

cp_status cp_batch_append_row(cp_batch *b, const cp_field *fields, size_t nfields,
                              const cp_value_opts *opts, cp_error *err)
{
    const cp_schema *s = b->schema;
    const size_t r = b->nrows;
    if (r >= b->capacity)
        return cp_error_set(err, CP_INTERNAL, "append to a full batch");
    for (size_t i = s->ncolumns; i < nfields; i++) {
        if (fields[i].len != 0 || fields[i].quoted) {
            if (err)
                err->column = (uint32_t)(i + 1);
            return cp_error_set(err, CP_TOO_MANY_FIELDS,
                                "%zu fields where the header has %zu columns", nfields,
                                s->ncolumns);
        }
    }
    size_t added_bytes = 0;
    for (size_t i = 0; i < s->ncolumns; i++) {
        cp_column_data *c = &b->cols[i];
        const cp_type t = s->columns[i].type;
        static const cp_field missing = {"", 0, false};
        const cp_field *f = i < nfields ? &fields[i] : &missing;
        bool is_null;
        if (t.id == CP_TYPE_STRING) {
            is_null = !f->quoted && cp_is_null_token(opts, f->data, f->len);
            if (!is_null) {
                cp_status st = cp_buf_append(&c->strings, f->data, f->len);
                if (st != CP_OK) {
                    c->strings.len = c->v.offsets[r];
                    undo_row(b, i);
                    if (err)
                        err->column = (uint32_t)(i + 1);
                    return cp_error_set(err, st,
                                        st == CP_NOMEM
                                            ? "out of memory storing column %zu of a row"
                                            : "row too large for one batch in column %zu",
                                        i + 1);
                }
                added_bytes += f->len;
            }
            c->v.offsets[r + 1] = (uint32_t)c->strings.len;
        } else {
            cp_value v;
            if (!parse_value(t, f, opts, &is_null, &v) &&
                !parse_forced_extra(&s->columns[i], f, &v)) {
                undo_row(b, i);
                char shown[128], tname[32];
                cp_error_quote_value(shown, sizeof shown, f->data, f->len);
                if (err)
                    err->column = (uint32_t)(i + 1);
                return cp_error_set(err, CP_TYPE_MISMATCH,
                                    "value \"%s\" in column %zu (%s) is not %s", shown, i + 1,
                                    s->columns[i].name, cp_type_format(t, tname, sizeof tname));
            }
            switch (t.id) {
            case CP_TYPE_BOOLEAN:
                c->v.boolean[r] = is_null ? 0 : v.boolean;
                break;
            case CP_TYPE_INT64:
            case CP_TYPE_TIMESTAMP:
            case CP_TYPE_TIMESTAMPTZ:
                c->v.i64[r] = is_null ? 0 : v.i64;
                break;
            case CP_TYPE_DECIMAL:
                c->v.decimal[r] = is_null ? 0 : v.decimal;
                break;
            case CP_TYPE_DOUBLE:
                c->v.f64[r] = is_null ? 0 : v.f64;
                break;
            case CP_TYPE_DATE:
                c->v.date[r] = is_null ? 0 : v.date;
                break;
            case CP_TYPE_STRING:
            case CP_TYPE_NULL:
                break;
            }
        }
        set_valid(c->validity, r, !is_null);
        c->nnulls += is_null;
    }
    b->string_bytes += added_bytes;
    b->nrows++;
    return CP_OK;
}
