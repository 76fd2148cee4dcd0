/*
 * pq_stats.c - column chunk statistics (see pq_stats.h).
 */
#include "parquet/pq_stats.h"

#include "parquet/pq_encoding.h"

#include <string.h>

void cp_pq_stats_init(cp_pq_stats *s, cp_type type)
{
    memset(s, 0, sizeof *s);
    if (type.id == CP_TYPE_NULL)
        type = cp_type_of(CP_TYPE_STRING);
    s->type = type;
    cp_buf_init(&s->smin, CP_BUF_UNLIMITED);
    cp_buf_init(&s->smax, CP_BUF_UNLIMITED);
}

void cp_pq_stats_release(cp_pq_stats *s)
{
    cp_buf_release(&s->smin);
    cp_buf_release(&s->smax);
}

void cp_pq_stats_reset(cp_pq_stats *s)
{
    s->null_count = 0;
    s->nan_count = 0;
    s->has_bounds = false;
    cp_buf_reset(&s->smin);
    cp_buf_reset(&s->smax);
}

void cp_pq_stats_add(cp_pq_stats *s, const cp_pq_scalar *v)
{
    switch (s->type.id) {
    case CP_TYPE_BOOLEAN:
        cp_pq_stats_add_bool(s, v->b);
        break;
    case CP_TYPE_INT64:
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        cp_pq_stats_add_i64(s, v->i64);
        break;
    case CP_TYPE_DATE:
        cp_pq_stats_add_date(s, v->date);
        break;
    case CP_TYPE_DECIMAL:
        cp_pq_stats_add_decimal(s, v->dec);
        break;
    case CP_TYPE_DOUBLE:
        cp_pq_stats_add_double(s, v->f64);
        break;
    default:
        break;
    }
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0; /* memcmp compares as unsigned char */
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

cp_status cp_pq_stats_add_string(cp_pq_stats *s, const char *p, size_t len)
{
    bool first = !s->has_bounds;
    if (first || bytes_cmp(p, len, s->smin.data, s->smin.len) < 0) {
        cp_buf_reset(&s->smin);
        CP_RETURN_IF_ERROR(cp_buf_append(&s->smin, p, len));
    }
    if (first || bytes_cmp(p, len, s->smax.data, s->smax.len) > 0) {
        cp_buf_reset(&s->smax);
        CP_RETURN_IF_ERROR(cp_buf_append(&s->smax, p, len));
    }
    s->has_bounds = true;
    return CP_OK;
}

static cp_status put_scalar(const cp_pq_stats *s, const cp_pq_scalar *v, unsigned decimal_len,
                            cp_buf *out)
{
    unsigned char tmp[16];
    size_t n = 0;
    switch (s->type.id) {
    case CP_TYPE_BOOLEAN:
        tmp[0] = v->b;
        n = 1;
        break;
    case CP_TYPE_DATE:
        cp_pq_store_le32(tmp, (uint32_t)v->date);
        n = 4;
        break;
    case CP_TYPE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, &v->f64, sizeof bits);
        cp_pq_store_le64(tmp, bits);
        n = 8;
        break;
    }
    case CP_TYPE_DECIMAL:
        cp_pq_decimal_be(v->dec, decimal_len, tmp);
        n = decimal_len;
        break;
    default:
        cp_pq_store_le64(tmp, (uint64_t)v->i64);
        n = 8;
        break;
    }
    return cp_buf_append(out, tmp, n);
}

bool cp_pq_stats_bounds(const cp_pq_stats *s, unsigned decimal_len, cp_buf *min, cp_buf *max,
                        cp_status *st)
{
    *st = CP_OK;
    if (!s->has_bounds)
        return false;
    if (s->type.id == CP_TYPE_STRING) {
        *st = cp_buf_append(min, s->smin.data, s->smin.len);
        if (*st == CP_OK)
            *st = cp_buf_append(max, s->smax.data, s->smax.len);
        return *st == CP_OK;
    }
    cp_pq_scalar lo = s->min, hi = s->max;
    if (s->type.id == CP_TYPE_DOUBLE) {
        if (lo.f64 == 0)
            lo.f64 = -0.0;
        if (hi.f64 == 0)
            hi.f64 = 0.0;
    }
    *st = put_scalar(s, &lo, decimal_len, min);
    if (*st == CP_OK)
        *st = put_scalar(s, &hi, decimal_len, max);
    return *st == CP_OK;
}
