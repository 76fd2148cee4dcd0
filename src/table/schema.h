/*
 * schema.h - the columns of one dataset: normalized name, original header, type.
 *
 * A schema owns its strings. Column names follow docs/design.md ("Names"): ASCII snake_case,
 * [a-z_][a-z0-9_]*, at most 63 bytes, unique; see cp_schema_normalize_names.
 */
#ifndef CP_SCHEMA_H
#define CP_SCHEMA_H

#include "table/types.h"
#include "util/buf.h"
#include "util/status.h"

#define CP_NAME_MAX 63

typedef struct cp_column {
    char *name;        /* normalized, unique */
    char *source_name; /* the header as written (UTF-8), or "" without a header */
    cp_type type;
    bool forced; /* the type was given by a person: never widened (csv/overrides.h) */
} cp_column;

typedef struct cp_schema {
    size_t ncolumns;
    cp_column *columns;
} cp_schema;

/* Makes an empty schema with n columns, each NULL-typed with empty names. */
cp_status cp_schema_init(cp_schema *s, size_t ncolumns);
void cp_schema_release(cp_schema *s);
cp_status cp_schema_copy(cp_schema *dst, const cp_schema *src);

/*
 * Sets every column's source_name from headers (NULL = no header row) and derives the
 * normalized, unique names. Names in `reserved` (NULL-terminated list, may be NULL) are
 * treated as taken, so a header "_source" becomes "_source_2".
 */
cp_status cp_schema_set_names(cp_schema *s, const char *const *headers, const size_t *lengths,
                              const char *const *reserved);

/*
 * Normalizes one header to a name: UTF-8 letters transliterated to ASCII, lower case, runs
 * of other characters turned into one '_', no leading or trailing '_', a leading digit
 * prefixed with '_', at most CP_NAME_MAX bytes. Writes "" when nothing is left (the
 * caller names such a column column_N). out must hold CP_NAME_MAX + 1 bytes.
 */
void cp_name_normalize(const char *header, size_t len, char *out);

/* Appends the schema as a JSON array of {name, source_name, type} objects. */
cp_status cp_schema_to_json(const cp_schema *s, cp_buf *out);

#endif
