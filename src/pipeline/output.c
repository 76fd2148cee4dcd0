#include "pipeline/output.h"
#include "aws/s3.h"
#include "util/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cp_location_is_s3(const char *location)
{
    return strncmp(location, "s3://", 5) == 0;
}

/* mkdir -p of the folder that holds path */
static cp_status make_parent_dirs(const char *path, cp_error *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return cp_error_set(err, CP_IO, "%s: path too long", path);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp)
        return CP_OK;
    *slash = '\0';
    for (char *q = tmp + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return cp_error_set(err, CP_IO, "cannot create folder %s: %s", tmp, strerror(errno));
        *q = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return cp_error_set(err, CP_IO, "cannot create folder %s: %s", tmp, strerror(errno));
    return CP_OK;
}

/*
 * The uploads in progress at this key were left by loads that died (the loads of one
 * source never overlap: docs/design.md, "Exactly once"); a failure to list them only costs
 * their parts until the bucket's lifecycle rule removes them.
 */
static void abort_stale_uploads(struct cp_aws *aws, const char *location)
{
    cp_error e;
    cp_error_clear(&e);
    unsigned n = 0;
    if (cp_s3_abort_uploads(aws, location, &n, &e) != CP_OK)
        cp_log_warn("%s: the uploads a load that died left could not be aborted: %s", location,
                    e.message);
    else if (n)
        cp_log_info("%s: aborted %u upload%s a load that died left", location, n,
                    n == 1 ? "" : "s");
}

cp_status cp_output_open(cp_output *o, struct cp_aws *aws, const char *location, cp_error *err)
{
    memset(o, 0, sizeof *o);
    if (cp_location_is_s3(location)) {
        if (!aws)
            return cp_error_set(err, CP_USAGE, "%s: S3 output without AWS configuration", location);
        CP_RETURN_IF_ERROR(cp_s3_upload_new(aws, location, &o->s3, err));
        abort_stale_uploads(aws, location);
        o->is_s3 = true;
        o->open = true;
        return CP_OK;
    }
    CP_RETURN_IF_ERROR(make_parent_dirs(location, err));
    cp_file_sink_remove_stale(location);
    CP_RETURN_IF_ERROR(cp_file_sink_open(&o->file, location, err));
    o->open = true;
    return CP_OK;
}

cp_status cp_output_open_private(cp_output *o, const char *path, cp_error *err)
{
    memset(o, 0, sizeof *o);
    CP_RETURN_IF_ERROR(cp_file_sink_open(&o->file, path, err));
    o->open = true;
    return CP_OK;
}

cp_status cp_output_write(void *ctx, const void *data, size_t len)
{
    cp_output *o = ctx;
    cp_status st =
        o->is_s3 ? cp_s3_upload_write(o->s3, data, len) : cp_file_sink_write(&o->file, data, len);
    if (st == CP_OK)
        o->bytes += len;
    return st;
}

cp_status cp_output_failed(const cp_output *o, const char *location, cp_status st, cp_error *err)
{
    if (!err || st == CP_OK || st == CP_NOMEM)
        return st;
    char was[sizeof err->message];
    snprintf(was, sizeof was, "%s", err->message);
    if (!o->is_s3 && o->file.write_errno)
        cp_error_set(err, st, "%s: cannot write: %s%s%s%s", location, strerror(o->file.write_errno),
                     was[0] ? " (" : "", was, was[0] ? ")" : "");
    else if (!strstr(was, location))
        cp_error_set(err, st, "%s: %s", location, was[0] ? was : cp_status_message(st));
    return st;
}

cp_status cp_output_sync(cp_output *o, cp_error *err)
{
    if (!o->open || o->is_s3)
        return CP_OK;
    cp_status st = cp_file_sink_sync(&o->file, err);
    if (st != CP_OK)
        o->open = false; /* the file sink aborted itself */
    return st;
}

cp_status cp_output_suspend(cp_output *o, cp_error *err)
{
    if (!o->open || o->is_s3)
        return cp_error_set(err, CP_USAGE, "only an open local output can be suspended");
    cp_status st = cp_file_sink_suspend(&o->file, err);
    if (st != CP_OK)
        o->open = false; /* the file sink aborted itself */
    return st;
}

cp_status cp_output_resume(cp_output *o, cp_error *err)
{
    if (!o->open || o->is_s3)
        return cp_error_set(err, CP_USAGE, "only a suspended local output can be resumed");
    return cp_file_sink_resume(&o->file, err);
}

cp_status cp_output_commit(cp_output *o, cp_error *err)
{
    if (!o->open)
        return CP_OK;
    cp_status st;
    if (o->is_s3) {
        st = cp_s3_upload_commit(o->s3, err);
        cp_s3_upload_free(o->s3);
        o->s3 = NULL;
    } else {
        st = cp_file_sink_commit(&o->file, err);
    }
    o->open = false;
    return st;
}

void cp_output_abort(cp_output *o)
{
    if (!o->open)
        return;
    if (o->is_s3) {
        cp_s3_upload_abort(o->s3);
        cp_s3_upload_free(o->s3);
        o->s3 = NULL;
    } else {
        cp_file_sink_abort(&o->file);
    }
    o->open = false;
}

cp_status cp_output_remove(struct cp_aws *aws, const char *location, cp_error *err)
{
    if (cp_location_is_s3(location))
        return aws ? cp_s3_delete(aws, location, err) : CP_OK;
    cp_file_sink_remove_stale(location);
    if (unlink(location) != 0 && errno != ENOENT)
        return cp_error_set(err, CP_IO, "cannot remove %s: %s", location, strerror(errno));
    return CP_OK;
}
