/*
 * sniff.h - deciding a file's dialect and schema from a bounded sample.
 *
 * The sample is the first sample_bytes of the source (1 MiB) and at most sample_rows
 * rows (20,000). From it: the encoding; the delimiter (',' ';' tab '|': the one that
 * splits the rows most consistently into more than one field); the quote ('"', or '\''
 * in files that quote with it and never use '"'); the decimal separator (',' when
 * decimal-comma numbers outnumber decimal-point ones); the date order (a first field
 * above 12 anywhere settles day-first, a second one month-first; with no evidence, ';'
 * or a decimal comma choose day-first, else month-first); whether the first row is a
 * header (it is when it does not fit the types of the rows below it, or, in an all-text
 * file, when its values are non-empty and distinct); then a type for every column
 * (infer.h) and normalized names. Each decision can be forced by cp_csv_options.
 */
#ifndef CP_SNIFF_H
#define CP_SNIFF_H

#include "csv/infer.h"
#include "csv/reader.h"

typedef struct cp_csv_options {
    cp_encoding encoding;           /* AUTO: detect */
    char delimiter;                 /* 0: detect */
    char quote;                     /* 0: detect */
    int header;                     /* -1: detect, 0: no header row, 1: header row */
    char decimal_sep;               /* 0: detect */
    cp_date_order date_order;       /* UNKNOWN: detect */
    const char *const *null_tokens; /* NULL: the defaults */
    size_t sample_bytes;            /* 0: 1 MiB */
    size_t sample_rows;             /* 0: 20,000 */
    cp_tokenizer_options limits;
} cp_csv_options;

void cp_csv_options_default(cp_csv_options *o);

typedef struct cp_sniff_result {
    cp_dialect dialect;
    bool encoding_detected; /* the encoding was not forced */
    cp_schema schema;       /* owned; types never NULL (all-null columns are STRING) */
    cp_infer *columns;      /* per column: what the sample showed (owned) */
    uint64_t sample_rows;   /* data rows in the sample */
    bool sample_complete;   /* the sample was the whole file */
} cp_sniff_result;

/*
 * Sniffs src (read from its current position, normally the start). On success the
 * result owns a schema; release it with cp_sniff_result_release. An empty file or one
 * with only blank lines is CP_EMPTY.
 */
cp_status cp_sniff(cp_source *src, const cp_csv_options *opts, cp_sniff_result *out, cp_error *err);
void cp_sniff_result_release(cp_sniff_result *r);

/* Names reserved for the columns csvpipe adds to every table. */
extern const char *const cp_reserved_names[];

#endif
