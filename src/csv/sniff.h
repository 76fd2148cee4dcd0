/*
 * sniff.h - deciding a file's dialect and schema from a bounded sample.
 *
 * The sample is the first sample_bytes of the source (1 MiB) and at most sample_rows
 * rows (20,000). From it: the encoding; Excel's first line "sep=X", which names the
 * delimiter and is skipped; the delimiter (',' ';' tab '|': the one that splits the rows
 * most consistently into more than one field); the quote ('"', or '\'' in files that
 * quote with it and never use '"'); the decimal separator (values only one separator
 * explains, 1,5 or 1,234.56 or 1.234.567, decide by count; with none, a 1,234 counts as
 * a decimal comma); the currency symbol most numbers carry (parse.h); the date order (a
 * first field above 12 anywhere settles day-first, a second one month-first; with no
 * evidence, ';' or a decimal comma choose day-first, else month-first).
 *
 * Then the layout. A preamble is the rows above the header that are titles, notes or group
 * labels: at most a third of the columns filled (half in a row of another length), text
 * among them; it is skipped only when a header follows it. When the row after it is no
 * header, its last row is tried as the header if it holds two values or more (a header
 * that names only the first columns, as statistics offices' table exports have it). Sparse
 * rows of any values (a row and a column count) are a preamble too when a row of names
 * follows them. The first row after the preamble is a header when it holds text above a
 * typed column ("price" above numbers) or consecutive integers above numbers (years,
 * positions); it is data when, with neither, it holds a value of its column's kind in a
 * typed column; with no such evidence (all text, survey exports) it is a header when two
 * or more values repeat exactly below as a row (those repeats are not data) and nowhere
 * else, or when it holds three or more consecutive integers (positions naming columns),
 * and otherwise unless half or more of its values recur below in their columns or are
 * numbers (dates, booleans) above others of their kind.
 * Up to three rows under the header that hold words above typed columns and no value of
 * their kinds (units, a survey tool's question texts) belong to the header. Then a type
 * for every column (infer.h) and normalized names. Each decision can be forced by
 * cp_csv_options.
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
    int64_t skip_lines;             /* -1: detect the preamble; else lines above the header */
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
    bool excel_sep;         /* the file starts with Excel's sep= line */
    char **preamble;        /* the first lines of dialect.skip_lines, cut to 200 bytes */
    size_t npreamble;       /* at most CP_SNIFF_MAX_PREAMBLE_SHOWN */
} cp_sniff_result;

#define CP_SNIFF_MAX_PREAMBLE_SHOWN 50

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
