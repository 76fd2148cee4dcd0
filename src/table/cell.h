/*
 * cell.h - one value of a batch written out in the forms the sinks need.
 *
 * Text forms are canonical: decimals with exactly their scale's digits, doubles in the
 * shortest form that reads back to the same double, dates YYYY-MM-DD, timestamps
 * YYYY-MM-DDTHH:MM:SS[.ffffff] with a 'Z' for TIMESTAMPTZ (stored in UTC).
 */
#ifndef CP_CELL_H
#define CP_CELL_H

#include "table/batch.h"

/*
 * The value as JSON: null; true/false; numbers as JSON numbers with exact digits (a NaN or
 * infinite DOUBLE, which JSON cannot hold, as the strings "NaN", "Infinity", "-Infinity");
 * dates, timestamps and text as strings.
 */
cp_status cp_cell_append_json(cp_buf *out, const cp_batch *b, size_t col, size_t row);

/* The value's canonical text (booleans "true"/"false"). Nothing is appended for a null. */
cp_status cp_cell_append_text(cp_buf *out, const cp_batch *b, size_t col, size_t row);

/*
 * The value as a DynamoDB attribute value: {"BOOL":true}, {"N":"19.90"} (numbers as exact
 * strings), {"S":"..."}. A null is an absent attribute: the caller skips it; here it
 * appends {"NULL":true}.
 */
cp_status cp_cell_append_dynamodb(cp_buf *out, const cp_batch *b, size_t col, size_t row);

#endif
