#include "csv/infer.h"

#include <string.h>

void cp_infer_init(cp_infer *c)
{
    memset(c, 0, sizeof *c);
}

static unsigned classify(const cp_field *f, const cp_value_opts *opts, cp_num *num)
{
    bool b;
    if (cp_parse_bool(f->data, f->len, &b))
        return CP_KIND_BOOL;
    switch (cp_scan_number(f->data, f->len, &opts->locale, num)) {
    case CP_NUM_INT:
        return CP_KIND_INT;
    case CP_NUM_DECIMAL:
        return CP_KIND_DECIMAL;
    case CP_NUM_DOUBLE:
        return CP_KIND_DOUBLE;
    case CP_NUM_LEADING_ZERO:
        return CP_KIND_STRING;
    case CP_NUM_NONE:
        break;
    }
    cp_temporal t;
    switch (cp_parse_temporal(f->data, f->len, opts->locale.date_order, &t)) {
    case CP_TEMPORAL_DATE:
        return CP_KIND_DATE;
    case CP_TEMPORAL_TIMESTAMP:
        return CP_KIND_TIMESTAMP;
    case CP_TEMPORAL_TIMESTAMPTZ:
        return CP_KIND_TIMESTAMPTZ;
    case CP_TEMPORAL_NONE:
        break;
    }
    return CP_KIND_STRING;
}

void cp_infer_add(cp_infer *c, const cp_field *f, const cp_value_opts *opts)
{
    if (cp_is_null_token(opts, f->data, f->len)) {
        c->nulls++;
        return;
    }
    if (c->nonnull++ == 0) {
        size_t n = f->len < sizeof c->example - 1 ? f->len : sizeof c->example - 1;
        /* do not cut a UTF-8 sequence */
        while (n > 0 && n < f->len && ((unsigned char)f->data[n] & 0xC0) == 0x80)
            n--;
        memcpy(c->example, f->data, n);
        c->example[n] = '\0';
    }
    if (c->kinds & CP_KIND_STRING)
        return; /* nothing can narrow it again */
    cp_num num;
    unsigned k = classify(f, opts, &num);
    c->kinds |= k;
    if (k == CP_KIND_INT || k == CP_KIND_DECIMAL) {
        if (num.int_digits > c->max_int_digits)
            c->max_int_digits = num.int_digits;
        if (num.scale > c->max_scale)
            c->max_scale = num.scale;
        if (k == CP_KIND_INT) {
            if (!num.exact)
                c->beyond_decimal = true;
            else if (num.unscaled > INT64_MAX || num.unscaled < INT64_MIN)
                c->beyond_int64 = true;
        }
    }
}

static cp_type from_kinds(unsigned kinds, unsigned int_digits, unsigned scale, bool beyond_int64,
                          bool beyond_decimal)
{
    const unsigned numeric = CP_KIND_INT | CP_KIND_DECIMAL | CP_KIND_DOUBLE;
    const unsigned temporal = CP_KIND_DATE | CP_KIND_TIMESTAMP;
    if (kinds == 0)
        return cp_type_of(CP_TYPE_NULL);
    if (kinds & CP_KIND_STRING)
        return cp_type_of(CP_TYPE_STRING);
    if (kinds == CP_KIND_BOOL)
        return cp_type_of(CP_TYPE_BOOLEAN);
    if ((kinds & ~numeric) == 0) {
        if (kinds & CP_KIND_DOUBLE)
            return cp_type_of(CP_TYPE_DOUBLE);
        if (beyond_decimal)
            return cp_type_of((kinds & CP_KIND_DECIMAL) ? CP_TYPE_DOUBLE : CP_TYPE_STRING);
        if ((kinds & CP_KIND_DECIMAL) || beyond_int64) {
            unsigned p = int_digits + scale;
            if (p > CP_DECIMAL_MAX_PRECISION)
                return cp_type_of(CP_TYPE_DOUBLE);
            if (p < CP_DECIMAL_MIN_INFERRED_PRECISION)
                p = CP_DECIMAL_MIN_INFERRED_PRECISION;
            if (p < 1)
                p = 1;
            return cp_type_decimal(p, scale);
        }
        return cp_type_of(CP_TYPE_INT64);
    }
    if ((kinds & ~temporal) == 0)
        return cp_type_of((kinds & CP_KIND_TIMESTAMP) ? CP_TYPE_TIMESTAMP : CP_TYPE_DATE);
    if (kinds == CP_KIND_TIMESTAMPTZ)
        return cp_type_of(CP_TYPE_TIMESTAMPTZ);
    return cp_type_of(CP_TYPE_STRING);
}

cp_type cp_infer_type(const cp_infer *c)
{
    return from_kinds(c->kinds, c->max_int_digits, c->max_scale, c->beyond_int64,
                      c->beyond_decimal);
}

cp_type cp_infer_value_type(const cp_field *f, const cp_value_opts *opts)
{
    cp_infer c;
    cp_infer_init(&c);
    cp_infer_add(&c, f, opts);
    return cp_infer_type(&c);
}
