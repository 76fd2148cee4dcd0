/*
 * tokenizer.h - splitting UTF-8 text into CSV rows and fields.
 *
 * RFC 4180 plus what real files do: any one-byte delimiter; a quote character with doubled
 * quotes inside quoted fields; line ends inside quoted fields; CRLF, LF and CR-only line
 * ends (mixed too); no final line end; blank lines skipped. A quote inside an unquoted
 * field is an ordinary character.
 *
 * The tokenizer pulls text through a fill callback into one buffer and hands out rows
 * whose fields point into that buffer, valid until the next call. The buffer grows only
 * as far as the longest row needs, bounded by max_row_bytes; a field longer than
 * max_field_bytes is an error, never an allocation.
 *
 * Row errors leave the tokenizer at the next row, so the caller can reject one row and go
 * on: CP_BAD_QUOTE (text after a closing quote). File errors end the stream:
 * CP_UNTERMINATED_QUOTE, CP_FIELD_TOO_LONG, CP_TOO_LARGE (row), CP_TOO_MANY_COLUMNS,
 * and whatever the fill callback reports (CP_BAD_ENCODING, CP_IO).
 */
#ifndef CP_TOKENIZER_H
#define CP_TOKENIZER_H

#include "table/batch.h"

/* Fills dst with up to cap bytes of text; *n = 0 at the end. */
typedef cp_status (*cp_text_fill_fn)(void *ctx, char *dst, size_t cap, size_t *n, cp_error *err);

typedef struct cp_tokenizer_options {
    char delimiter;         /* default ',' */
    char quote;             /* default '"'; '\0' is not allowed */
    size_t max_field_bytes; /* default 16 MiB */
    size_t max_row_bytes;   /* default max_field_bytes * 4 */
    size_t max_columns;     /* default 65536 */
    size_t chunk_bytes;     /* text requested per fill; default 1 MiB */
} cp_tokenizer_options;

void cp_tokenizer_options_default(cp_tokenizer_options *o);

typedef struct cp_row {
    const cp_field *fields;
    size_t nfields;    /* 0 only at the end of the input */
    uint64_t line;     /* physical line (1-based) where the row starts */
    uint64_t end_line; /* physical line where it ends */
    uint64_t offset;   /* text offset of the row start */
    const char *text;  /* the row's raw text, line end excluded */
    size_t text_len;
} cp_row;

typedef struct cp_tokenizer cp_tokenizer;

cp_tokenizer *cp_tokenizer_new(const cp_tokenizer_options *opts, cp_text_fill_fn fill, void *ctx);
void cp_tokenizer_free(cp_tokenizer *t);

/*
 * Reads the next row. At the end, returns CP_OK with row->nfields == 0. On an error,
 * err->line (and err->column where known) locate it and row->line/row->text describe
 * the row that failed. err may be NULL.
 */
cp_status cp_tokenizer_next(cp_tokenizer *t, cp_row *row, cp_error *err);

/*
 * Skips n physical lines (each ended by LF, CRLF or CR; quotes mean nothing here), as
 * the preamble above a header is skipped. Line numbers of later rows stay those of the
 * file. Ends quietly at the end of the input.
 */
cp_status cp_tokenizer_skip_lines(cp_tokenizer *t, uint64_t n, cp_error *err);

/* The line end seen first: "LF", "CRLF", "CR", or "none" before any. */
const char *cp_tokenizer_line_ending(const cp_tokenizer *t);
/* The physical line where the next row starts (or the row that just failed). */
uint64_t cp_tokenizer_line(const cp_tokenizer *t);
/* Text bytes consumed so far: where the next row (or the row that just failed) starts. */
uint64_t cp_tokenizer_offset(const cp_tokenizer *t);

#endif
