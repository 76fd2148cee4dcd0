/*
 * s3.h - Amazon S3: a GET source (ranged GETs in parallel for a large object), a streaming
 * multipart upload sink, DELETE.
 *
 * Neither direction holds an object in memory or on disk. The source of an object of at
 * most one GET part keeps at most one curl write chunk (16 KiB) beyond what the reader
 * asked for; a larger object is read by ranged GETs in parallel and the source holds at
 * most CSVPIPE_S3_GETS_IN_FLIGHT x CSVPIPE_S3_GET_PART_BYTES (4 x 8 MiB = 32 MiB by
 * default) of it. An upload holds the part being filled and the parts in flight.
 * Object keys are percent-encoded once (RFC 3986, '/' kept) into the request path; with a
 * custom endpoint (AWS_ENDPOINT_URL[_S3]) buckets are addressed path-style.
 *
 * Every object here belongs to the thread that uses its cp_aws.
 */
#ifndef CP_S3_H
#define CP_S3_H

#include "aws/aws.h"
#include "util/file_sink.h"
#include "util/source.h"

/*
 * Splits "s3://bucket/key..." into *bucket and *key (both malloc'd; the caller frees).
 * The key may be empty ("s3://bucket" or "s3://bucket/" give ""), which names a prefix,
 * not an object. False (nothing allocated) when uri does not start with "s3://", the
 * bucket is empty, or memory runs out.
 */
bool cp_s3_parse_uri(const char *uri, char **bucket, char **key);

/*
 * An S3 object as a cp_source (util/source.h). Opening sends a HEAD for the size and
 * ETag (CP_NOT_FOUND for a missing object or bucket; CP_IO for access and other errors,
 * with the S3 code and a hint). Reads hand over the object's bytes in order with bounded
 * memory, all transfers driven from the reading thread (one curl multi handle, no thread
 * of its own):
 * - an object of at most one part is one streaming GET;
 * - a larger one is cut into parts of CSVPIPE_S3_GET_PART_BYTES (default 8 MiB, at least
 *   64 KiB, at most 1 GiB), fetched by ranged GETs with up to CSVPIPE_S3_GETS_IN_FLIGHT
 *   (default 4, at most 64; 1 = one streaming GET for every object) at once, each into
 *   its own buffer: memory is in-flight x part size (and curl's 256 KiB receive buffer
 *   per GET). Four because one S3 connection
 *   gives about 50-100 MB/s and the parser about 300 MB/s; more buys nothing on one
 *   thread and costs 8 MiB each. A value that is not a positive number is ignored with a
 *   warning; one out of bounds is clamped.
 * Every GET carries "If-Match: <ETag>" (and the versionId when the bucket is versioned).
 * When a transfer breaks (reset, timeout, short body, 5xx, throttling) it resumes from its
 * own next byte with a Range request, with backoff, giving up after
 * CSVPIPE_AWS_MAX_ATTEMPTS consecutive failures without progress; an object replaced
 * meanwhile (HTTP 412) fails the read with CP_IO naming the object, never mixing two
 * versions. A rewind reads from byte 0 again (at no cost while the first part is still
 * being delivered, as after the sniffer's sample). base.name is the s3:// URI and
 * base.size the object's size. The source goes to *out (NULL on failure). Free with
 * cp_source_free (it stops every transfer); aws must outlive the source.
 */
cp_status cp_s3_source_open(cp_aws *aws, const char *uri, cp_source **out, cp_error *err);
/* The ETag from the HEAD, without quotes; owned by the source. */
const char *cp_s3_source_etag(const cp_source *src);
/* The x-amz-version-id from the HEAD; NULL when the bucket is unversioned. */
const char *cp_s3_source_version_id(const cp_source *src);
/* How many times reads resumed after a broken transfer (for summaries and tests). */
unsigned cp_s3_source_resumes(const cp_source *src);
/* The parts the object is read in by ranged GETs; 0 when one streaming GET reads it. */
uint64_t cp_s3_source_parts(const cp_source *src);
/* Parts whose GET completed while an earlier part's had not (for tests). */
uint64_t cp_s3_source_parts_early(const cp_source *src);

/*
 * A streaming upload. Bytes arrive through cp_s3_upload_write; each time a part fills
 * (default 8 MiB; CSVPIPE_S3_PART_SIZE or cp_s3_upload_set_part_size, at least 5 MiB) it
 * is queued as an UploadPart, the first full part starting the multipart upload. Up to
 * CSVPIPE_S3_PUTS_IN_FLIGHT parts (1 to 16, default 1) are sent at once over the upload's
 * own curl multi handle, driven by the later writes and by the commit: a write returns
 * while its parts transfer and waits only when that many are already in flight. Between
 * writes nothing drives them (only the kernel's socket buffer keeps sending), so a part
 * queued at the end of a burst of writes (a Parquet row group) moves on with the next
 * burst or the commit; a server that times the pause out makes it a retried part. Memory:
 * (in flight + 1) x part size per upload, 16 MiB by default (with 2, S3 to S3 with
 * Parquet + NDJSON and the source's ranged GETs passes the 128 MB Lambda goal). Parts complete in
 * any order; a failed part is retried like any request (aws.h: backoff, CSVPIPE_AWS_MAX_ATTEMPTS)
 * while the others go on, and a part that fails for good fails the upload: the next write or the
 * commit returns that error, and abort then sends AbortMultipartUpload. Commit sends the
 * last part, waits for every part and sends CompleteMultipartUpload listing the parts in
 * number order with their ETags, or one PutObject when everything fit in one part
 * (including an empty object). Nothing is visible at the key before commit; abort (or free
 * without commit) stops the parts in flight and sends AbortMultipartUpload; a part whose
 * body had already reached S3 may still land after it (S3 documents this), so the stack's
 * lifecycle rule for incomplete uploads is what guarantees no part stays billed. At most
 * 10,000 parts: a larger object needs a larger part size.
 */
typedef struct cp_s3_upload cp_s3_upload;

/*
 * An upload to uri into *out (NULL on failure): checks the URI (an object key is
 * required, CP_USAGE otherwise); sends nothing yet.
 */
cp_status cp_s3_upload_new(cp_aws *aws, const char *uri, cp_s3_upload **out, cp_error *err);
/* Sets the part size in bytes (>= 5 MiB) before the first write; CP_USAGE otherwise. */
cp_status cp_s3_upload_set_part_size(cp_s3_upload *u, size_t bytes, cp_error *err);
/*
 * A cp_write_fn: ctx is the cp_s3_upload. Copies data into the current part, queues full
 * parts and drives the parts in flight. On failure (its own or a part's, sent earlier)
 * returns its status, keeps the first error and fails every later write and the commit the
 * same way (the commit reports that error).
 */
cp_status cp_s3_upload_write(void *upload, const void *data, size_t len);
/*
 * Publishes the object once every part is sent. After a failed write, returns that failure
 * (and the caller aborts). On failure of the commit itself (a part included) the upload is
 * aborted.
 */
cp_status cp_s3_upload_commit(cp_s3_upload *u, cp_error *err);
/* Abandons the upload (AbortMultipartUpload, errors only logged); safe after commit, safe twice. */
void cp_s3_upload_abort(cp_s3_upload *u);
/* Frees; NULL ok; aborts if not committed. */
void cp_s3_upload_free(cp_s3_upload *u);
/* Bytes accepted so far and parts queued so far, sent or in flight (for summaries and tests). */
uint64_t cp_s3_upload_bytes(const cp_s3_upload *u);
unsigned cp_s3_upload_parts(const cp_s3_upload *u);

/*
 * Aborts every multipart upload in progress at exactly the key of uri (the upload of a
 * process that died: nothing else aborts it but a lifecycle rule, and its parts are
 * billed): ListMultipartUploads with the key as prefix (one page, 1,000 uploads), then
 * AbortMultipartUpload of each. *aborted (may be NULL) counts them.
 */
cp_status cp_s3_abort_uploads(cp_aws *aws, const char *uri, unsigned *aborted, cp_error *err);

/*
 * Calls each(ctx, key) for every key under prefix in bucket (ListObjectsV2, page after
 * page, 1,000 keys each), stopping at the first error each returns.
 */
cp_status cp_s3_list(cp_aws *aws, const char *bucket, const char *prefix,
                     cp_status (*each)(void *ctx, const char *key), void *ctx, cp_error *err);

/* Deletes the object; a missing object (404) is success. */
cp_status cp_s3_delete(cp_aws *aws, const char *uri, cp_error *err);

/* Uploads a small object in one PutObject (content_type may be NULL). */
cp_status cp_s3_put(cp_aws *aws, const char *uri, const void *data, size_t len,
                    const char *content_type, cp_error *err);

#endif
