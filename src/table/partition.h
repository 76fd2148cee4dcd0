/*
 * partition.h - Hive-style partitioning of rows: `--partition-by EXPR[,EXPR]`.
 *
 * An EXPR is a column name (as written in the header or normalized) or year(col),
 * month(col), day(col) of a DATE, TIMESTAMP or TIMESTAMPTZ column. Each EXPR is one level
 * of folders "<key>=<value>" under the dataset's folder, in the order given:
 *
 *   column      key: the column's normalized name; value: the value's canonical text
 *               (table/cell.h); the column leaves the data files, as Hive, Athena and
 *               DuckDB expect of a partition column
 *   year(col)   key: <col>_year;  value: 2024
 *   month(col)  key: <col>_month; value: 2024-03
 *   day(col)    key: <col>_day;   value: 2024-03-15
 *
 * TIMESTAMPTZ values are in UTC, so their date is the UTC date. A NULL (or empty string)
 * value is "__HIVE_DEFAULT_PARTITION__". Values are escaped as Hive escapes them
 * (FileUtils.escapePathName): the control characters, '"', '#', '%', '\'', '*', '/', ':',
 * '=', '?', '\\', DEL, '{', '[', ']' and '^' become %XX (upper-case hex), so a value never
 * adds a folder and DuckDB and Athena read it back unescaped.
 */
#ifndef CP_PARTITION_H
#define CP_PARTITION_H

#include "table/batch.h"

#define CP_PARTITION_MAX_EXPRS 8
#define CP_PARTITION_DEFAULT_VALUE "__HIVE_DEFAULT_PARTITION__"

typedef enum cp_partition_fn {
    CP_PARTITION_VALUE,
    CP_PARTITION_YEAR,
    CP_PARTITION_MONTH,
    CP_PARTITION_DAY,
} cp_partition_fn;

typedef struct cp_partition_expr {
    cp_partition_fn fn;
    char column[CP_NAME_MAX + 1]; /* as written in the EXPR */
} cp_partition_expr;

typedef struct cp_partition_spec {
    size_t nexprs; /* 0: no partitioning */
    cp_partition_expr exprs[CP_PARTITION_MAX_EXPRS];
} cp_partition_spec;

/*
 * Parses "month(order_date),region" (spaces around the parts allowed; function names in
 * any case). CP_USAGE naming the EXPR that is not one and saying what is.
 */
cp_status cp_partition_spec_parse(const char *text, cp_partition_spec *out, cp_error *err);

/* A spec resolved against a file's schema. */
typedef struct cp_partition_keys {
    size_t nkeys;
    struct cp_partition_key {
        cp_partition_fn fn;
        size_t column;              /* in the schema */
        char name[CP_NAME_MAX + 8]; /* the folder's key: "order_date_month" */
    } keys[CP_PARTITION_MAX_EXPRS];
} cp_partition_keys;

/*
 * Resolves spec against schema: CP_USAGE naming the EXPR whose column is not in the file,
 * or whose function needs a DATE or TIMESTAMP column and got another type.
 */
cp_status cp_partition_resolve(const cp_partition_spec *spec, const cp_schema *schema,
                               cp_partition_keys *out, cp_error *err);

/* Whether column col of the schema is a partition column (it leaves the data files). */
bool cp_partition_is_key_column(const cp_partition_keys *k, size_t col);

/* Appends the partition folders of row `row` of b, "k1=v1/k2=v2" (no trailing '/'). */
cp_status cp_partition_append_path(cp_buf *out, const cp_partition_keys *k, const cp_batch *b,
                                   size_t row);

/* Appends s[0..len) escaped as Hive escapes a partition value (above). */
cp_status cp_partition_append_escaped(cp_buf *out, const char *s, size_t len);

#endif
