#include "table/cell.h"
#include "util/json_escape.h"

#include <math.h>
#include <string.h>

static cp_status append_text(cp_buf *out, const cp_batch *b, size_t col, size_t row, bool json)
{
    const cp_column_data *c = &b->cols[col];
    const cp_type t = b->schema->columns[col].type;
    char tmp[64];
    size_t n;
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        return cp_buf_append_str(out, c->v.boolean[row] ? "true" : "false");
    case CP_TYPE_INT64:
        n = cp_format_int64(c->v.i64[row], tmp);
        return cp_buf_append(out, tmp, n);
    case CP_TYPE_DECIMAL:
        n = cp_format_decimal(c->v.decimal[row], t.scale, tmp);
        return cp_buf_append(out, tmp, n);
    case CP_TYPE_DOUBLE: {
        double v = c->v.f64[row];
        if (isnan(v))
            return cp_buf_append_str(out, json ? "\"NaN\"" : "NaN");
        if (isinf(v))
            return cp_buf_append_str(out, v > 0 ? (json ? "\"Infinity\"" : "Infinity")
                                                : (json ? "\"-Infinity\"" : "-Infinity"));
        n = cp_format_double(v, tmp);
        return cp_buf_append(out, tmp, n);
    }
    case CP_TYPE_DATE:
        n = cp_format_date(c->v.date[row], tmp);
        break;
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        n = cp_format_timestamp(c->v.i64[row], t.id == CP_TYPE_TIMESTAMPTZ, tmp);
        break;
    case CP_TYPE_STRING: {
        size_t len;
        const char *s = cp_batch_string(b, col, row, &len);
        return json ? cp_json_append_string(out, s, len) : cp_buf_append(out, s, len);
    }
    default:
        return CP_INTERNAL;
    }
    if (!json)
        return cp_buf_append(out, tmp, n);
    /* dates and timestamps hold nothing to escape */
    CP_RETURN_IF_ERROR(cp_buf_reserve(out, n + 2));
    char *o = out->data + out->len;
    o[0] = '"';
    memcpy(o + 1, tmp, n);
    o[n + 1] = '"';
    out->len += n + 2;
    out->data[out->len] = '\0';
    return CP_OK;
}

cp_status cp_cell_append_json(cp_buf *out, const cp_batch *b, size_t col, size_t row)
{
    if (!cp_batch_valid(b, col, row))
        return cp_buf_append_str(out, "null");
    return append_text(out, b, col, row, true);
}

cp_status cp_cell_append_text(cp_buf *out, const cp_batch *b, size_t col, size_t row)
{
    if (!cp_batch_valid(b, col, row))
        return CP_OK;
    return append_text(out, b, col, row, false);
}

cp_status cp_cell_append_dynamodb(cp_buf *out, const cp_batch *b, size_t col, size_t row)
{
    if (!cp_batch_valid(b, col, row))
        return cp_buf_append_str(out, "{\"NULL\":true}");
    const cp_type t = b->schema->columns[col].type;
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        return cp_buf_append_str(out, b->cols[col].v.boolean[row] ? "{\"BOOL\":true}"
                                                                  : "{\"BOOL\":false}");
    case CP_TYPE_INT64:
    case CP_TYPE_DECIMAL:
    case CP_TYPE_DOUBLE: {
        double v = t.id == CP_TYPE_DOUBLE ? b->cols[col].v.f64[row] : 0;
        if (t.id == CP_TYPE_DOUBLE && !isfinite(v)) {
            /* DynamoDB numbers cannot be NaN or infinite: keep the value as text */
            CP_RETURN_IF_ERROR(cp_buf_append_str(out, "{\"S\":\""));
        } else {
            CP_RETURN_IF_ERROR(cp_buf_append_str(out, "{\"N\":\""));
        }
        CP_RETURN_IF_ERROR(append_text(out, b, col, row, false));
        return cp_buf_append_str(out, "\"}");
    }
    default:
        CP_RETURN_IF_ERROR(cp_buf_append_str(out, "{\"S\":"));
        CP_RETURN_IF_ERROR(append_text(out, b, col, row, true));
        return cp_buf_append_char(out, '}');
    }
}
