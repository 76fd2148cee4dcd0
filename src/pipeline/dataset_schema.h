/*
 * dataset_schema.h - a dataset's schema file under a schema prefix (CSVPIPE_SCHEMA_PREFIX):
 * <prefix>/<dataset>.json, in a local folder or under an s3:// prefix.
 *
 * The file is read afresh for every load, never cached: an edit counts from the next file
 * on, and a file is a few kilobytes (one small GET beside a load of many). A missing file
 * means the dataset has none (its types are inferred); a file that cannot be read or
 * parsed fails the load that needed it.
 */
#ifndef CP_DATASET_SCHEMA_H
#define CP_DATASET_SCHEMA_H

#include "csv/overrides.h"

struct cp_aws;

/*
 * Reads <prefix>/<dataset>.json into out (cp_overrides_parse_schema) and sets *location
 * to where it was looked for (malloc'd, the caller frees; set whatever the outcome).
 * CP_NOT_FOUND when there is no such file; aws is needed for an s3:// prefix only.
 */
cp_status cp_dataset_schema_read(struct cp_aws *aws, const char *prefix, const char *dataset,
                                 cp_overrides *out, char **location, cp_error *err);

#endif
