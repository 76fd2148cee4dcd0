/*
 * output.h - where one output file of a load goes: a local path or an s3:// URI.
 *
 * Both publish atomically: a local file is written under a temporary name and renamed at
 * commit (util/file_sink.h); an S3 object is a multipart upload completed at commit
 * (aws/s3.h), so nothing is visible at the key before. Abort leaves nothing behind.
 */
#ifndef CP_OUTPUT_H
#define CP_OUTPUT_H

#include "util/file_sink.h"

#include <stdbool.h>

struct cp_aws;
struct cp_s3_upload;

typedef struct cp_output {
    bool open;
    bool is_s3;
    uint64_t bytes; /* written so far */
    cp_file_sink file;
    struct cp_s3_upload *s3;
} cp_output;

/* True for "s3://..." locations. */
bool cp_location_is_s3(const char *location);

/*
 * Starts the output at location. Local: creates the parent folders and removes temporary
 * files left by dead processes. S3: aborts the multipart uploads in progress at the key,
 * which loads that died left (the loads of a source never overlap). aws is needed for
 * s3:// locations only.
 */
cp_status cp_output_open(cp_output *o, struct cp_aws *aws, const char *location, cp_error *err);
/*
 * A local output at a path no other process writes (a spool file named by this process's
 * id, in an existing folder): cp_output_open without its look for other processes' files.
 */
cp_status cp_output_open_private(cp_output *o, const char *path, cp_error *err);
/* A cp_write_fn: ctx is the cp_output. */
cp_status cp_output_write(void *ctx, const void *data, size_t len);
/*
 * Local: every byte on disk under the temporary name (cp_file_sink_sync), so that a full
 * or failing disk fails the load before anything is published. S3: nothing (the parts
 * are sent). On failure the output is aborted.
 */
cp_status cp_output_sync(cp_output *o, cp_error *err);
/*
 * Local only: closes the file for a while (cp_file_sink_suspend) and reopens it at its end
 * (cp_file_sink_resume), to bound the open descriptors. S3: CP_USAGE.
 */
cp_status cp_output_suspend(cp_output *o, cp_error *err);
cp_status cp_output_resume(cp_output *o, cp_error *err);
cp_status cp_output_commit(cp_output *o, cp_error *err);
/*
 * A write into o that returned st failed: err (which may hold the writer's message) is made
 * to name location and the cause, "LOCATION: cannot write: No space left on device (...)".
 * Returns st.
 */
cp_status cp_output_failed(const cp_output *o, const char *location, cp_status st, cp_error *err);
/* Drops what was written; harmless when not open. */
void cp_output_abort(cp_output *o);
/*
 * Removes a published output (a stale rejects or error file), and the temporary files of
 * dead processes beside a local one; absent is fine.
 */
cp_status cp_output_remove(struct cp_aws *aws, const char *location, cp_error *err);

#endif
