/*
 * glue.h - the AWS Glue Data Catalog: a dataset's table and its partitions. JSON 1.1
 * protocol: POST / with X-Amz-Target AWSGlue.<operation>, signed for "glue" by the shared
 * client (aws.h; endpoint AWS_ENDPOINT_URL_GLUE, else AWS_ENDPOINT_URL, else
 * glue.<region>).
 *
 * The table is an external Parquet table (ParquetHiveSerDe, MapredParquetInputFormat and
 * OutputFormat, classification "parquet") at a folder of S3, as Athena, Redshift Spectrum,
 * EMR and Glue jobs read it.
 */
#ifndef CP_GLUE_H
#define CP_GLUE_H

#include "aws/aws.h"
#include "table/types.h"

/*
 * The Hive type of a csvpipe type: INT64 bigint, DECIMAL(p,s) decimal(p,s), DOUBLE double,
 * DATE date, TIMESTAMP and TIMESTAMPTZ timestamp (a TIMESTAMPTZ is an instant: Athena
 * shows it in UTC), BOOLEAN boolean, STRING (and NULL, a column without a value) string.
 * cap of 24 is enough. Returns out.
 */
char *cp_glue_type_name(cp_type t, char *out, size_t cap);
/* The csvpipe type of a Hive type that cp_glue_type_name writes; false for another. */
bool cp_glue_type_parse(const char *name, cp_type *out);

typedef struct cp_glue_column {
    const char *name;
    cp_type type;
} cp_glue_column;

/* A table as a load sees it; strings borrowed. */
typedef struct cp_glue_table {
    const char *database;
    const char *name;
    const char *location; /* s3://bucket/prefix/ */
    const cp_glue_column *columns;
    size_t ncolumns;
    const cp_glue_column *partition_keys;
    size_t npartition_keys;
} cp_glue_table;

/*
 * Makes the table what t says: CreateTable when it is missing; otherwise the table
 * evolves as the relational side does (load/sql.h): a column of t the table lacks is
 * added, a column in both takes the join of the two types (table/types.h; TIMESTAMPTZ
 * counts as TIMESTAMP, both being timestamp), and UpdateTable runs when that changed
 * anything; a table column missing from t stays. A join that is no widening (string for
 * a column of another type) is CP_REJECTED naming the column and both types, and so are
 * partition keys other than the table's. A table type csvpipe does not write is kept.
 * *changed (may be NULL): the table was created or updated. Errors as cp_aws_fail.
 */
cp_status cp_glue_put_table(cp_aws *aws, const cp_glue_table *t, bool *changed, cp_error *err);

/*
 * What cp_glue_put_table would refuse, without changing anything: GetTable, then
 * CP_REJECTED for other partition keys or a column that cannot evolve. For the check
 * before the files are published.
 */
cp_status cp_glue_check_table(cp_aws *aws, const cp_glue_table *t, cp_error *err);

/*
 * Registers partitions of t: values[i] holds t->npartition_keys values, locations[i] the
 * partition's folder. BatchCreatePartition, 100 at a time; a partition that exists already
 * is fine (AlreadyExistsException). *added (may be NULL) counts the new ones. Another
 * error of a partition fails with its code and message.
 */
cp_status cp_glue_add_partitions(cp_aws *aws, const cp_glue_table *t,
                                 const char *const *const *values, const char *const *locations,
                                 size_t n, size_t *added, cp_error *err);

/*
 * Removes partitions of t (values[i] holds t->npartition_keys values): BatchDeletePartition,
 * 25 at a time; a partition that does not exist is fine (EntityNotFoundException). *deleted
 * (may be NULL) counts the others. Another error fails with its code and message.
 */
cp_status cp_glue_delete_partitions(cp_aws *aws, const cp_glue_table *t,
                                    const char *const *const *values, size_t n, size_t *deleted,
                                    cp_error *err);

/*
 * The table's columns in a GetTable answer (body[0..len)), for the merge above: the JSON
 * array Table.StorageDescriptor.Columns into *columns (a new reference; the caller
 * json_decref's it, as a void * so this header needs no jansson.h), and the partition
 * keys' names joined by ',' into keys. CP_FORMAT when the answer is not such a table.
 */
cp_status cp_glue_parse_table(const char *body, size_t len, void **columns, cp_buf *keys,
                              cp_error *err);

#endif
