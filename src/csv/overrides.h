/*
 * overrides.h - what a person says about a file's types, names and dialect, which wins
 * over what sniffing decides (docs/design.md, "Type overrides").
 *
 * Two sources: `--type COL=TYPE` (one column's type), and a schema file, the JSON that
 * `csvpipe inspect --json` prints, edited and read back. Of a schema file these keys
 * count: encoding, delimiter, quote, skipped_lines (as --skip), header, decimal_separator
 * and date_order (each as if given as the CSV option of that name; a key left out is
 * detected per file), and
 * columns: per column source_name (the header it is matched with), name (the output name:
 * a rename) and type. Everything else inspect prints about one file (file, rows, nulls,
 * example, ...) is accepted and ignored; any other key is an error, so a misspelt key
 * never goes unnoticed.
 *
 * A type given either way is *forced*: the column has that type from the first row, the
 * sniffer's guess and widen-and-restart leave it alone, and a value that does not fit is
 * a rejected row (csv/stream.h). A schema file's columns must be the file's columns: with
 * a header row each is matched by its source_name (in any order), without one by
 * position; a difference is an error that names it. A column a schema file lists without
 * a type keeps the type sniffing gives it.
 */
#ifndef CP_OVERRIDES_H
#define CP_OVERRIDES_H

#include "csv/sniff.h"

/* The largest schema file read (a 65,536-column file's schema fits). */
#define CP_OVERRIDES_MAX_SCHEMA_BYTES ((size_t)16 << 20)

typedef struct cp_override_column {
    char *key;  /* --type's COL; a schema file's source_name; NULL when not given */
    char *name; /* a schema file's name (the output name); NULL when not given */
    bool has_type;
    cp_type type;
} cp_override_column;

typedef struct cp_overrides {
    char *schema_name; /* the schema file as messages name it; NULL: no schema file */
    /* The schema file's dialect, in the "detect" values of cp_csv_options where absent. */
    cp_encoding encoding;
    char delimiter;
    char quote;
    int64_t skip_lines; /* -1: not given */
    int header;
    char decimal_sep;
    cp_date_order date_order;
    bool has_columns; /* the schema file lists columns */
    cp_override_column *columns;
    size_t ncolumns;
    cp_override_column *types; /* --type, in the order given (the last one wins) */
    size_t ntypes;
} cp_overrides;

void cp_overrides_init(cp_overrides *o);
void cp_overrides_release(cp_overrides *o);
/* True when o says nothing (no schema file, no --type). */
bool cp_overrides_empty(const cp_overrides *o);

/*
 * Adds one `--type COL=TYPE` (split at the last '='; TYPE in any case, such as int64 or
 * DECIMAL(12, 2)). CP_USAGE with a message naming the argument and the types otherwise.
 */
cp_status cp_overrides_add_type(cp_overrides *o, const char *arg, cp_error *err);

/*
 * Parses a schema file's text (name is how messages call it; copied). Replaces an earlier
 * schema file's settings, keeps the --type ones. CP_BAD_SCHEMA with a message naming the
 * file, the line and column of a JSON error, or the key and column at fault.
 */
cp_status cp_overrides_parse_schema(cp_overrides *o, const char *text, size_t len, const char *name,
                                    cp_error *err);
/*
 * Reads and parses a local schema file. CP_NOT_FOUND when it does not exist, CP_IO when
 * it cannot be read, CP_BAD_SCHEMA as cp_overrides_parse_schema.
 */
cp_status cp_overrides_read_schema(cp_overrides *o, const char *path, cp_error *err);

/* Sets each CSV option that csv leaves to detection and the schema file gives. */
void cp_overrides_dialect(const cp_overrides *o, cp_csv_options *csv);

/*
 * Applies o to a sniffed file (file names it in messages): the schema file's columns are
 * matched, renamed and typed, then each --type; every type given is forced
 * (cp_column.forced). CP_BAD_SCHEMA when the schema file's columns are not the file's or
 * two columns would share a name; CP_USAGE when a --type names no column of the file. On
 * error sr may be changed in part: the caller drops it.
 */
cp_status cp_overrides_apply(const cp_overrides *o, cp_sniff_result *sr, const char *file,
                             cp_error *err);

#endif
