/*
 * types.h - csvpipe's column types and their lattice (docs/design.md, "Types").
 *
 *   NULL < BOOLEAN
 *   NULL < INT64 < DECIMAL(p,s) < DOUBLE
 *   NULL < DATE < TIMESTAMP
 *   NULL < TIMESTAMPTZ
 *   every type < STRING
 *
 * cp_type_join gives the least type both arguments fit into. DECIMAL joins widen
 * precision and scale together (integer digits and fraction digits are kept apart);
 * past 38 digits a DECIMAL becomes DOUBLE.
 */
#ifndef CP_TYPES_H
#define CP_TYPES_H

#include "util/int128.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cp_type_id {
    CP_TYPE_NULL = 0,
    CP_TYPE_BOOLEAN,
    CP_TYPE_INT64,
    CP_TYPE_DECIMAL,
    CP_TYPE_DOUBLE,
    CP_TYPE_DATE,
    CP_TYPE_TIMESTAMP,
    CP_TYPE_TIMESTAMPTZ,
    CP_TYPE_STRING,
} cp_type_id;

typedef struct cp_type {
    cp_type_id id;
    uint8_t precision; /* DECIMAL only: 1..38 */
    uint8_t scale;     /* DECIMAL only: 0..precision */
} cp_type;

static inline cp_type cp_type_of(cp_type_id id)
{
    cp_type t = {id, 0, 0};
    return t;
}

static inline cp_type cp_type_decimal(unsigned precision, unsigned scale)
{
    cp_type t = {CP_TYPE_DECIMAL, (uint8_t)precision, (uint8_t)scale};
    return t;
}

/* Least upper bound in the lattice. */
cp_type cp_type_join(cp_type a, cp_type b);
/* True when every value of `narrow` is exactly representable in `wide`. */
bool cp_type_fits(cp_type narrow, cp_type wide);
bool cp_type_equal(cp_type a, cp_type b);

/*
 * Writes the type's name as inspect and the schema JSON spell it ("INT64",
 * "DECIMAL(12,2)", ...) into out; returns out. cap of 24 is always enough.
 */
char *cp_type_format(cp_type t, char *out, size_t cap);
/* Parses a name written by cp_type_format. Returns false when it is not one. */
bool cp_type_parse(const char *name, cp_type *out);
/*
 * Parses a type as a person writes it: a name of cp_type_format in any case, with spaces
 * anywhere ("decimal(12, 2)"). NULL is no type a person gives. False when it is not one.
 */
bool cp_type_parse_user(const char *text, cp_type *out);
/* The types a person can give, for messages: "BOOLEAN, INT64, DECIMAL(p,s), ...". */
extern const char cp_type_user_names[];

#endif
