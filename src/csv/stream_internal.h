/*
 * stream_internal.h - the row rules of stream.c that the chunked stream (stream_chunks.c)
 * applies the same way. Not for use outside src/csv.
 */
#ifndef CP_STREAM_INTERNAL_H
#define CP_STREAM_INTERNAL_H

#include "csv/reader.h"

/* The first forced column whose value in row does not fit its type, or -1. */
long cp_stream_forced_misfit(const cp_schema *s, const cp_row *row, const cp_value_opts *vo);
/* True when some column's type was forced. */
bool cp_stream_any_forced(const cp_schema *s);
/* Joins into types what row needs (a row a forced column rejects widens nothing). */
void cp_stream_widen_for_row(cp_type *types, const cp_schema *s, const cp_row *row,
                             const cp_value_opts *vo, bool forced);
/* Reads the rest of r to find every column that must widen; joins into types. */
cp_status cp_stream_learn_widening(cp_csv_reader *r, cp_type *types, const cp_schema *s,
                                   const cp_value_opts *vo, bool forced, cp_error *err);
/*
 * Whether a ring that made nmade batches makes one more (cp_stream_options.batches_memory):
 * always below CP_STREAM_MIN_BATCHES, else while the batches made hold less than memory.
 */
bool cp_stream_ring_grows(const cp_batch *ring, size_t nmade, size_t memory);
/* Puts the source's name first in err's message. */
void cp_stream_name_error(cp_error *err, const char *name);
/* Fills why: row's value in forced column c does not fit. */
void cp_stream_forced_reason(cp_error *why, const cp_schema *s, const cp_row *row, size_t c);

#endif
