/*
 * reader.h - the rows of one CSV source, decoded and tokenized with a known dialect.
 *
 * A dialect is what sniffing decided (or the user said): encoding, delimiter, quote,
 * the lines above the header, the header, the locale of numbers and dates.
 * cp_csv_reader_open rewinds the source, skips the preamble lines and the header rows, so
 * the same source can be read again from the start (the widen-and-restart rule). When the
 * sniffer saw the header again in its sample (files concatenated with their headers),
 * every later row that repeats the header exactly is skipped, and counted.
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
    uint64_t skip_lines;     /* physical lines above the header (preamble, Excel's sep=) */
    unsigned header_rows;    /* with header: rows it spans (more than 1: rows under it that
                                label the columns again, such as a row of units) */
    bool repeats_header;     /* the header comes back in the data */
    const char *line_ending; /* "LF", "CRLF", "CR" or "none"; static */
    cp_value_opts values;    /* decimal separator, date order, null tokens */
} cp_dialect;

typedef struct cp_csv_reader {
    cp_text_reader text;
    cp_tokenizer *tok;
    cp_dialect dialect;
    bool slow;                 /* header rows to skip or repeats to look for */
    unsigned skip_rows;        /* header rows still to skip */
    uint64_t data_rows;        /* rows handed out so far (rows with errors included) */
    uint64_t repeated_headers; /* rows skipped because they repeat the header */
    cp_field *header;          /* the header row's fields (owned), to recognize repeats */
    size_t header_nfields;     /* 0 with no header */
    size_t header_len0;        /* the length of its first field */
    char *header_text;
} cp_csv_reader;

/* detected: the encoding came from detection (UTF-8 may then fall back to Windows-1252). */
cp_status cp_csv_reader_open(cp_csv_reader *r, cp_source *src, const cp_dialect *d, bool detected,
                             const cp_tokenizer_options *limits, cp_error *err);
/*
 * Opens a reader on src where it stands, inside the data: nothing is rewound or skipped,
 * line 1 is where src starts, and the decoder starts in state dec (its encoding, whether
 * it may still fall back, ...). The header to recognize repeats is copied from like (an
 * open reader past the header of the same file; NULL: none).
 */
cp_status cp_csv_reader_open_at(cp_csv_reader *r, cp_source *src, const cp_dialect *d,
                                const cp_decoder *dec, const cp_csv_reader *like,
                                const cp_tokenizer_options *limits, cp_error *err);
/* Next data row; row->nfields == 0 at the end. Errors as cp_tokenizer_next. */
cp_status cp_csv_reader_next(cp_csv_reader *r, cp_row *row, cp_error *err);
/*
 * True (and counted in repeated_headers) when row repeats the header exactly: a row the
 * caller drops. For rows the reader hands out when the dialect did not expect repeats,
 * such as one that does not fit the column types.
 */
bool cp_csv_reader_drop_repeat(cp_csv_reader *r, const cp_row *row);
/* The encoding in use now (it may have fallen back to Windows-1252). */
cp_encoding cp_csv_reader_encoding(const cp_csv_reader *r);
void cp_csv_reader_close(cp_csv_reader *r);

/* A delimiter or quote as printed for people: the character itself, tab as "\\t". */
const char *cp_delimiter_name(char c);

#endif
