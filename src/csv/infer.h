/*
 * infer.h - the type of a column from the values of a sample (docs/design.md, "Types").
 *
 * Each value is classified once: null, boolean word, integer, fixed-point decimal,
 * floating point (exponent, inf, nan), date, timestamp, timestamp with offset, or text.
 * Numbers written with leading zeros (007, 01.50) are codes: text. The column's type is
 * the least type of the lattice that every value fits; kinds that share no chain (a
 * boolean and a number, a date and a timestamp with offset) make it STRING.
 *
 * DECIMAL precision is what the sample needs but at least 18 (at most 38), so a later
 * value with a few more integer digits fits without a restart; integers beyond INT64 are
 * DECIMAL(p,0), and beyond 38 digits STRING (exactness first).
 */
#ifndef CP_INFER_H
#define CP_INFER_H

#include "table/batch.h"

enum {
    CP_KIND_BOOL = 1 << 0,
    CP_KIND_INT = 1 << 1,
    CP_KIND_DECIMAL = 1 << 2,
    CP_KIND_DOUBLE = 1 << 3,
    CP_KIND_DATE = 1 << 4,
    CP_KIND_TIMESTAMP = 1 << 5,
    CP_KIND_TIMESTAMPTZ = 1 << 6,
    CP_KIND_STRING = 1 << 7,
};

#define CP_DECIMAL_MIN_INFERRED_PRECISION 18

typedef struct cp_infer {
    uint64_t nonnull;
    uint64_t nulls;
    unsigned kinds; /* CP_KIND_* seen */
    unsigned max_int_digits;
    unsigned max_scale;
    bool beyond_int64;
    bool beyond_decimal; /* an integer with more than 38 digits */
    char example[64];    /* the first non-null value, cut to fit */
} cp_infer;

void cp_infer_init(cp_infer *c);
/* Adds one value; opts gives the decimal separator, date order and null tokens. */
void cp_infer_add(cp_infer *c, const cp_field *f, const cp_value_opts *opts);
/* The column's type; NULL when every value was null. */
cp_type cp_infer_type(const cp_infer *c);
/* The type one value alone would get (CP_TYPE_NULL for a null). */
cp_type cp_infer_value_type(const cp_field *f, const cp_value_opts *opts);

#endif
