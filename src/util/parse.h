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
    uint8_t currency;         /* the file's currency symbol (cp_currency_symbol); 0: none */
} cp_locale;

/*
 * Currency symbols a number may carry, numbered from 1: $ R$ US$ € £ ¥ ₹ and a few more
 * (cp_currency_symbol gives each). NULL past the last one.
 */
const char *cp_currency_symbol(unsigned index);

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
 * Classifies s[0..len) as a number written with loc->decimal_sep. Also accepted, as people
 * write money: spaces around the number; thousands grouped in threes by the separator that
 * is not the decimal one (',' or '.'), or by a space, a no-break space or (with '.') an
 * apostrophe, one grouping character per number ("1,234,567.89", "1.234.567,89",
 * "1 234,5"); the currency loc->currency before or after the number, with or without a
 * space ("R$ 1.234,56", "$2,000.00", "12,50 €"); a minus or plus sign before or after a
 * leading symbol ("-R$ 5,00", "R$ -0,05", "- $220.00"); and parentheses for a negative
 * amount when it also has a symbol, grouping or a fraction ("(1,234.56)", "($336.73)").
 * An exponent only goes with a plain number. Fills *out and returns its kind.
 */
cp_num_kind cp_scan_number(const char *s, size_t len, const cp_locale *loc, cp_num *out);

/* What one value says about the file's decimal separator (cp_decimal_evidence). */
typedef enum cp_decimal_hint {
    CP_DECIMAL_HINT_NONE = 0,   /* not a number, or no separator */
    CP_DECIMAL_HINT_POINT,      /* only '.' can be its decimal separator: 1.5, 1,234.5 */
    CP_DECIMAL_HINT_COMMA,      /* only ',' can: 1,5  1.234,5  1.234.567 */
    CP_DECIMAL_HINT_POINT_OR_3, /* 1.234: a decimal point or a thousands group */
    CP_DECIMAL_HINT_COMMA_OR_3, /* 1,234: a decimal comma or a thousands group */
} cp_decimal_hint;

/*
 * The decimal separator a number could be written with, whatever currency symbol (of
 * cp_currency_symbol), sign, parentheses or spaces surround it; a percentage counts too.
 * With a currency symbol, one separator before three last digits groups thousands
 * ($2,200, R$ 1.500): amounts with three decimals are rare. *currency receives the
 * symbol's number, 0 when there is none.
 */
cp_decimal_hint cp_decimal_evidence(const char *s, size_t len, unsigned *currency);

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
