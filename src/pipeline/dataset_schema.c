#define _GNU_SOURCE
#include "pipeline/dataset_schema.h"
#include "aws/s3.h"
#include "pipeline/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cp_status read_s3(struct cp_aws *aws, const char *uri, cp_overrides *out, cp_error *err)
{
    cp_source *src = NULL;
    CP_RETURN_IF_ERROR(cp_s3_source_open(aws, uri, &src, err));
    cp_status st = CP_OK;
    if (src->size > (int64_t)CP_OVERRIDES_MAX_SCHEMA_BYTES) {
        st = cp_error_set(err, CP_BAD_SCHEMA, "%s: %lld bytes, larger than %zu MiB; not a schema",
                          uri, (long long)src->size, CP_OVERRIDES_MAX_SCHEMA_BYTES >> 20);
        cp_source_free(src);
        return st;
    }
    size_t cap = (size_t)src->size + 1, n = 0;
    char *text = malloc(cap);
    if (!text)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
    else
        st = cp_source_read_full(src, text, cap, &n, err);
    if (st == CP_OK && n == cap)
        st = cp_error_set(err, CP_IO, "%s: the object grew while it was read", uri);
    if (st == CP_OK)
        st = cp_overrides_parse_schema(out, text, n, uri, err);
    free(text);
    cp_source_free(src);
    return st;
}

cp_status cp_dataset_schema_read(struct cp_aws *aws, const char *prefix, const char *dataset,
                                 cp_overrides *out, char **location, cp_error *err)
{
    size_t plen = strlen(prefix);
    bool slash = plen > 0 && prefix[plen - 1] == '/';
    if (asprintf(location, "%s%s%s.json", prefix, slash || plen == 0 ? "" : "/", dataset) < 0) {
        *location = NULL;
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    if (cp_location_is_s3(prefix)) {
        if (!aws)
            return cp_error_set(err, CP_USAGE, "%s: an S3 schema prefix without AWS", *location);
        return read_s3(aws, *location, out, err);
    }
    return cp_overrides_read_schema(out, *location, err);
}
