/*
 * reader.h - the rows of one CSV source, decoded and tokenized with a known dialect.
 *
 * A dialect is what sniffing decided (or the user said): encoding, delimiter, quote,
 * header, the locale of numbers and dates. cp_csv_reader_open rewinds the source and
 * skips the header row, so the same source can be read again from the start (the
 * widen-and-restart rule).
 */
#ifndef CP_READER_H
#define CP_READER_H

#include "csv/text_reader.h"
#include "csv/tokenizer.h"

typedef struct cp_dialect {
    cp_encoding encoding;
    char delimiter;
    char quote;
    bool header;
    const char *line_ending; /* "LF", "CRLF", "CR" or "none"; static */
    cp_value_opts values;    /* decimal separator, date order, null tokens */
} cp_dialect;

typedef struct cp_csv_reader {
    cp_text_reader text;
    cp_tokenizer *tok;
    cp_dialect dialect;
    bool skip_header;
    uint64_t data_rows; /* rows handed out so far (rows with errors included) */
} cp_csv_reader;

/* detected: the encoding came from detection (UTF-8 may then fall back to Windows-1252). */
cp_status cp_csv_reader_open(cp_csv_reader *r, cp_source *src, const cp_dialect *d, bool detected,
                             const cp_tokenizer_options *limits, cp_error *err);
/* Next data row; row->nfields == 0 at the end. Errors as cp_tokenizer_next. */
cp_status cp_csv_reader_next(cp_csv_reader *r, cp_row *row, cp_error *err);
/* The encoding in use now (it may have fallen back to Windows-1252). */
cp_encoding cp_csv_reader_encoding(const cp_csv_reader *r);
void cp_csv_reader_close(cp_csv_reader *r);

/* A delimiter or quote as printed for people: the character itself, tab as "\\t". */
const char *cp_delimiter_name(char c);

#endif
