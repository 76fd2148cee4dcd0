/*
 * events.h - the events that invoke `csvpipe lambda`, reduced to a list of objects.
 *
 * Three shapes reach the function, each naming S3 objects that were created:
 *   - an S3 event notification, direct:  {"Records":[{"eventSource":"aws:s3","s3":{...}}]}
 *   - the same notification wrapped in SQS messages: {"Records":[{"eventSource":"aws:sqs",
 *     "messageId":"…","body":"<S3 event JSON>"}]}; a body may also be an EventBridge event
 *     or an SNS notification whose Message is an S3 event;
 *   - an EventBridge event: {"source":"aws.s3","detail-type":"Object Created","detail":{…}}.
 * Each object becomes one cp_event_record, in the order of the event. Keys arrive
 * URL-encoded ('+' is a space, %XX a byte) and are decoded here. S3's test event
 * ({"Event":"s3:TestEvent"}) and notifications that are not object creations become
 * records with action CP_EVENT_IGNORE; an SQS message whose body cannot be understood
 * becomes a CP_EVENT_INVALID record that carries its message id, so that message alone
 * can be reported as failed. A record whose bucket is not an S3 bucket name (1 to 255
 * letters, digits, '.', '-', '_') is INVALID: "s3://bucket/key" would name another object.
 * An event that is not JSON, or of none of these shapes, is an
 * error for the whole invocation.
 *
 * Pure functions over memory; thread-safe.
 */
#ifndef CP_AWS_EVENTS_H
#define CP_AWS_EVENTS_H

#include "util/status.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum cp_event_source {
    CP_EVENT_FROM_S3 = 0,      /* an S3 notification (or S3's test event), direct */
    CP_EVENT_FROM_SQS,         /* SQS messages: answer with batchItemFailures */
    CP_EVENT_FROM_EVENTBRIDGE, /* one EventBridge event */
} cp_event_source;

typedef enum cp_event_action {
    CP_EVENT_LOAD = 0, /* an object was created: load it */
    CP_EVENT_IGNORE,   /* a test event, or not an object creation: nothing to do */
    CP_EVENT_INVALID,  /* a record that cannot be understood: it fails */
} cp_event_action;

/* One object named by an event. Strings are owned by the cp_event; NULL when absent. */
typedef struct cp_event_record {
    cp_event_action action;
    char *message_id; /* SQS messageId (NULL for direct and EventBridge events) */
    char *bucket;
    char *key;        /* URL-decoded */
    int64_t size;     /* bytes, -1 when unknown */
    char *etag;       /* as S3 sends it, without quotes */
    char *version_id; /* set when the bucket is versioned */
    char *sequencer;  /* hexadecimal string ordering events of the same key */
    char *event_name; /* "ObjectCreated:Put", "Object Created", "s3:TestEvent", … */
    char *reason;     /* why IGNORE or INVALID, for the log; NULL for LOAD */
} cp_event_record;

typedef struct cp_event {
    cp_event_source source;
    cp_event_record *records;
    size_t nrecords;
} cp_event;

/*
 * Parses one invocation event (json[0..len), need not be NUL-terminated) into ev, which
 * is then released with cp_event_release even on error. CP_FORMAT with a message saying
 * what was expected when the event is not JSON or of no known shape; CP_NOMEM.
 */
cp_status cp_event_parse(const char *json, size_t len, cp_event *ev, cp_error *err);
void cp_event_release(cp_event *ev);

/*
 * Decodes a URL-encoded S3 key: '+' is a space, %XX a byte (either case of hex digits).
 * *out is a new NUL-terminated string (caller frees). CP_FORMAT for a broken escape or an
 * escaped NUL byte; CP_NOMEM.
 */
cp_status cp_url_decode_key(const char *in, size_t len, char **out, cp_error *err);

/*
 * Whether bucket/key lies under the output location out_uri ("s3://bucket/prefix"): any
 * key of the same bucket under prefix/ (when the prefix is not empty), and keys under
 * prefix/parquet/, prefix/json/ and prefix/rejected/. Such keys are csvpipe's own outputs
 * and are never loaded (no recursive invocation). False when out_uri is not an s3:// URI.
 */
bool cp_event_key_is_output(const char *out_uri, const char *bucket, const char *key);

/*
 * The dataset hint of a key: the first folder under input_prefix ("incoming/" or
 * "incoming"; "" for the bucket root): "incoming/sales/2024-01.csv" -> "sales". NULL when
 * input_prefix is NULL, the key is not under it, or the key has no folder there.
 * Caller frees.
 */
char *cp_event_dataset_hint(const char *input_prefix, const char *key);

/*
 * Orders two S3 sequencers of the same key as hexadecimal numbers (leading zeros and
 * letter case do not matter): <0 when a is older, 0 when equal, >0 when a is newer.
 * A NULL or empty sequencer is older than any other.
 */
int cp_s3_sequencer_cmp(const char *a, const char *b);

#endif
