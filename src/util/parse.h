/*
 * parse.h - locale-free parsing of the numbers, booleans, dates and timestamps found in
 * CSV files, and their canonical text forms.
 *
 * Scanners are strict: the whole value must match, no surrounding spaces. They never
 * call the C library's locale-aware functions except strtod for the final conversion of
 * an already validated DOUBLE (the process never changes LC_NUMERIC from "C").
 */
#ifndef CP_PARSE_H
#define CP_PARSE_H

#include "util/int128.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cp_date_order {
    CP_DATE_ORDER_UNKNOWN = 0,
    CP_DATE_ORDER_DMY,
    CP_DATE_ORDER_MDY,
} cp_date_order;

/* How numbers and dates are written in one file. */
typedef struct cp_locale {
    char decimal_sep;         /* '.' or ',' */
    cp_date_order date_order; /* for dd/mm/yyyy versus mm/dd/yyyy */
} cp_locale;

typedef enum cp_num_kind {
    CP_NUM_NONE = 0,     /* not a number */
    CP_NUM_INT,          /* [+-]digits */
    CP_NUM_DECIMAL,      /* [+-]digits SEP digits */
    CP_NUM_DOUBLE,       /* exponent notation, inf, nan */
    CP_NUM_LEADING_ZERO, /* a number written with leading zeros (007, 01.5): a code */
} cp_num_kind;

typedef struct cp_num {
    cp_num_kind kind;
    bool negative;
    unsigned int_digits; /* digits before the separator, a lone leading 0 not counted */
    unsigned scale;      /* digits after the separator */
    bool exact;          /* unscaled holds the value (int_digits + scale <= 38) */
    cp_i128 unscaled;    /* value * 10^scale, sign included */
} cp_num;

/*
 * Classifies s[0..len) as a number written with loc->decimal_sep; with ',' as the decimal
 * separator, '.' may group thousands ("1.234.567,89"). Fills *out and returns its kind.
 */
cp_num_kind cp_scan_number(const char *s, size_t len, const cp_locale *loc, cp_num *out);

/* Parses an INT64 value (no leading zeros, in range). */
bool cp_parse_int64(const char *s, size_t len, const cp_locale *loc, int64_t *out);
/* Parses a number that fits DECIMAL(precision, scale) exactly; *out is value*10^scale. */
bool cp_parse_decimal(const char *s, size_t len, const cp_locale *loc, unsigned precision,
                      unsigned scale, cp_i128 *out);
/* Parses any number (INT, DECIMAL or DOUBLE form) to the nearest double. */
bool cp_parse_double(const char *s, size_t len, const cp_locale *loc, double *out);
/* true/false, t/f, yes/no, y/n, sim/não in any case. */
bool cp_parse_bool(const char *s, size_t len, bool *out);

typedef enum cp_temporal_kind {
    CP_TEMPORAL_NONE = 0,
    CP_TEMPORAL_DATE,
    CP_TEMPORAL_TIMESTAMP,   /* date and time, no offset */
    CP_TEMPORAL_TIMESTAMPTZ, /* date, time and an offset (Z, +hh:mm, +hhmm, +hh) */
} cp_temporal_kind;

/* Which day/month orders a date is valid in. */
enum {
    CP_ORDER_OK_DMY = 1,
    CP_ORDER_OK_MDY = 2,
};

typedef struct cp_temporal {
    cp_temporal_kind kind;
    unsigned orders; /* CP_ORDER_OK_* bits; both for year-first forms */
    int32_t days;    /* days since 1970-01-01 */
    int64_t micros;  /* microseconds since 1970-01-01 00:00 (UTC for TIMESTAMPTZ) */
} cp_temporal;

/*
 * Recognizes yyyy-mm-dd, yyyy/mm/dd, dd/mm/yyyy and mm/dd/yyyy ('/', '-' or '.'), with an
 * optional time after 'T' or ' ' (hh:mm[:ss[.ffffff]], optional AM/PM) and an optional
 * offset. With order UNKNOWN the value is accepted when valid in either order (DMY
 * preferred for days/micros); otherwise only in the given order. Returns the kind.
 */
cp_temporal_kind cp_parse_temporal(const char *s, size_t len, cp_date_order order,
                                   cp_temporal *out);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int32_t cp_days_from_civil(int64_t y, unsigned m, unsigned d);
void cp_civil_from_days(int32_t days, int64_t *y, unsigned *m, unsigned *d);

/* Canonical text forms; each returns the length written (out needs the given room). */
size_t cp_format_int64(int64_t v, char *out);                          /* 21 bytes */
size_t cp_format_uint64(uint64_t v, char *out);                        /* 21 bytes */
size_t cp_format_decimal(cp_i128 unscaled, unsigned scale, char *out); /* 42 bytes */
size_t cp_format_double(double v, char *out);                          /* 32 bytes */
size_t cp_format_date(int32_t days, char *out);                        /* 16 bytes */
/* YYYY-MM-DDTHH:MM:SS[.ffffff] and a 'Z' when utc; 40 bytes. */
size_t cp_format_timestamp(int64_t micros, bool utc, char *out);

#endif
