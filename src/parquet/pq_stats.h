/*
 * pq_stats.h - column chunk statistics in each type's Parquet sort order.
 *
 * Orders (parquet.thrift, ColumnOrder TYPE_ORDER): signed for INT64, DATE, TIMESTAMP and
 * DECIMAL (by value), false < true for BOOLEAN, unsigned byte-wise for STRING, and for
 * DOUBLE the value order over non-NaN values only: NaNs are counted in nan_count and never
 * become a bound, a zero minimum is written as -0.0 and a zero maximum as +0.0, and when
 * every non-null value is NaN no bounds are written.
 *
 * Bounds are encoded as PLAIN values without a length prefix: 1 byte for BOOLEAN, 4 or 8
 * bytes little-endian for DATE / INT64 / TIMESTAMP / DOUBLE, the FIXED_LEN_BYTE_ARRAY
 * big-endian two's complement for DECIMAL, the raw bytes for STRING. They are exact.
 */
#ifndef CP_PQ_STATS_H
#define CP_PQ_STATS_H

#include "table/types.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>

typedef union cp_pq_scalar {
    uint8_t b;
    int64_t i64;
    int32_t date;
    double f64;
    cp_i128 dec;
} cp_pq_scalar;

typedef struct cp_pq_stats {
    cp_type type; /* NULL is treated as STRING */
    int64_t null_count;
    int64_t nan_count;
    bool has_bounds;
    cp_pq_scalar min, max;
    cp_buf smin, smax; /* STRING bounds */
} cp_pq_stats;

void cp_pq_stats_init(cp_pq_stats *s, cp_type type);
void cp_pq_stats_release(cp_pq_stats *s);
/* Back to no values, keeping memory. */
void cp_pq_stats_reset(cp_pq_stats *s);

static inline void cp_pq_stats_add_null(cp_pq_stats *s)
{
    s->null_count++;
}
/* Typed additions of one non-null value (the stats' type must match). */
static inline void cp_pq_stats_add_bool(cp_pq_stats *s, uint8_t v)
{
    if (!s->has_bounds) {
        s->min.b = s->max.b = v;
        s->has_bounds = true;
        return;
    }
    if (v < s->min.b)
        s->min.b = v;
    if (v > s->max.b)
        s->max.b = v;
}

static inline void cp_pq_stats_add_i64(cp_pq_stats *s, int64_t v)
{
    if (!s->has_bounds) {
        s->min.i64 = s->max.i64 = v;
        s->has_bounds = true;
        return;
    }
    if (v < s->min.i64)
        s->min.i64 = v;
    if (v > s->max.i64)
        s->max.i64 = v;
}

static inline void cp_pq_stats_add_date(cp_pq_stats *s, int32_t v)
{
    if (!s->has_bounds) {
        s->min.date = s->max.date = v;
        s->has_bounds = true;
        return;
    }
    if (v < s->min.date)
        s->min.date = v;
    if (v > s->max.date)
        s->max.date = v;
}

static inline void cp_pq_stats_add_decimal(cp_pq_stats *s, cp_i128 v)
{
    if (!s->has_bounds) {
        s->min.dec = s->max.dec = v;
        s->has_bounds = true;
        return;
    }
    if (v < s->min.dec)
        s->min.dec = v;
    if (v > s->max.dec)
        s->max.dec = v;
}

/* NaN only counts (v != v is true for NaN alone). */
static inline void cp_pq_stats_add_double(cp_pq_stats *s, double v)
{
    if (v != v) {
        s->nan_count++;
        return;
    }
    if (!s->has_bounds) {
        s->min.f64 = s->max.f64 = v;
        s->has_bounds = true;
        return;
    }
    if (v < s->min.f64)
        s->min.f64 = v;
    if (v > s->max.f64)
        s->max.f64 = v;
}

/* Adds one non-null value of the stats' type (fixed-width: through the scalar). */
void cp_pq_stats_add(cp_pq_stats *s, const cp_pq_scalar *v);
cp_status cp_pq_stats_add_string(cp_pq_stats *s, const char *p, size_t len);

/*
 * Encodes the bounds into min/max (appended; the caller resets them). Returns false and
 * writes nothing when there are none (no non-null, non-NaN value). decimal_len is the
 * FIXED_LEN_BYTE_ARRAY length for DECIMAL.
 */
bool cp_pq_stats_bounds(const cp_pq_stats *s, unsigned decimal_len, cp_buf *min, cp_buf *max,
                        cp_status *st);

#endif
