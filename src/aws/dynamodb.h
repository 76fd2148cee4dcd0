/*
 * dynamodb.h - Amazon DynamoDB: a pipelined BatchWriteItem writer and table creation.
 *
 * The writer groups write requests 25 to a BatchWriteItem and keeps several requests in
 * flight at once over one curl multi handle (default 8; CSVPIPE_DYNAMODB_INFLIGHT, 1..64).
 * Items a request leaves unprocessed (UnprocessedItems) go out again in a new request
 * after a backoff; a throttled (400 ThrottlingException,
 * ProvisionedThroughputExceededException), failed (5xx) or broken request is resent with
 * exponential backoff and jitter; validation and access errors end the writer with an
 * error. Memory is bounded: the writer waits for answers once 2 x inflight requests or
 * 32 MiB of request bodies are outstanding.
 *
 * Order: requests run concurrently, so two writes of the same key could land in either
 * order. With conflict checks on (cp_ddb_writer_new), a write whose key is already
 * outstanding first waits for everything outstanding to finish (the later write then
 * wins, as in a sequential load), and a repeat within the batch being filled replaces the
 * earlier write (DynamoDB rejects a batch with a key twice).
 *
 * A writer belongs to the thread of its cp_aws.
 */
#ifndef CP_DYNAMODB_H
#define CP_DYNAMODB_H

#include "aws/aws.h"

/* DynamoDB's item size limit: 400 KB, attribute names included. */
#define CP_DDB_MAX_ITEM 409600

typedef struct cp_ddb_writer cp_ddb_writer;

/* A writer for table into *out (NULL on failure: CP_NOMEM); sends nothing yet. */
cp_status cp_ddb_writer_new(cp_aws *aws, const char *table, bool check_conflicts,
                            cp_ddb_writer **out, cp_error *err);
/*
 * Queues one write request: request[0..len) is a complete DynamoDB JSON write request,
 * {"PutRequest":{"Item":{...}}} or {"DeleteRequest":{"Key":{...}}}; pk and sk are its key
 * (for conflict checks and messages). Copies everything. May wait for answers. Returns
 * the writer's first error once one happened.
 */
cp_status cp_ddb_writer_add(cp_ddb_writer *w, const char *request, size_t len, const char *pk,
                            const char *sk, cp_error *err);
/* Sends what is queued and waits until every request was written or the writer failed. */
cp_status cp_ddb_writer_flush(cp_ddb_writer *w, cp_error *err);
/*
 * Drops every queued request and abandons those in flight (DynamoDB may still apply
 * them), and clears the error: the writer can be used again.
 */
void cp_ddb_writer_cancel(cp_ddb_writer *w);
/* Frees (cancelling what is outstanding); NULL allowed. */
void cp_ddb_writer_free(cp_ddb_writer *w);

typedef struct cp_ddb_stats {
    uint64_t requests;    /* BatchWriteItem requests sent, retries included */
    uint64_t retries;     /* requests resent after a throttle, failure or broken transfer */
    uint64_t unprocessed; /* items returned in UnprocessedItems and resent */
    uint64_t written;     /* write requests acknowledged */
} cp_ddb_stats;
cp_ddb_stats cp_ddb_writer_stats(const cp_ddb_writer *w);

/*
 * One DynamoDB JSON call (X-Amz-Target "DynamoDB_20120810.<op>") with retries; the
 * caller judges resp->status. body is a JSON object.
 */
cp_status cp_ddb_call(cp_aws *aws, const char *op, const char *body, cp_aws_response *resp,
                      cp_error *err);

/*
 * Creates table on demand (PAY_PER_REQUEST) with the key schema pk (S, HASH) and sk (S,
 * RANGE) unless it exists, then waits until it is ACTIVE (at most wait_seconds). An
 * existing table with another key schema is CP_USAGE.
 */
cp_status cp_ddb_create_table(cp_aws *aws, const char *table, int wait_seconds, cp_error *err);

#endif
