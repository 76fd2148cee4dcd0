/*
 * int128.h - the 128-bit integer of exact decimal values, and how many digits it holds.
 *
 * A DECIMAL(p,s) value is stored as value * 10^s in a cp_i128; 38 digits always fit
 * (10^38 < 2^127), so precision stops there. Parsing (util/parse.h) and the column types
 * (table/types.h) share both.
 */
#ifndef CP_INT128_H
#define CP_INT128_H

typedef __int128 cp_i128;

#define CP_DECIMAL_MAX_PRECISION 38

#endif
