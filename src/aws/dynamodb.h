/*
 * dynamodb.h - Amazon DynamoDB: a pipelined BatchWriteItem writer and table creation.
 *
 * The writer groups write requests 25 to a BatchWriteItem and keeps several requests in
 * flight at once over one curl multi handle. How many is adaptive (cp_ddb_aimd below): it
 * starts at CP_DDB_START_INFLIGHT, grows while DynamoDB takes everything and halves when
 * it throttles, never past a maximum (CP_DDB_MAX_INFLIGHT;
 * CSVPIPE_DYNAMODB_INFLIGHT=N sets it, 1..CP_DDB_INFLIGHT_LIMIT), so one load uses what
 * the table gives and backs off when another load or the table's capacity says so.
 * Items a request leaves unprocessed (UnprocessedItems) go out again in a new request
 * after a backoff; a throttled (400 ThrottlingException,
 * ProvisionedThroughputExceededException), failed (5xx) or broken request is resent with
 * exponential backoff and jitter; validation and access errors end the writer with an
 * error. Memory is bounded: the writer waits for answers once twice the current window of
 * requests or 32 MiB of request bodies are outstanding.
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

/* Requests in flight: where the window starts, its default maximum, the largest maximum. */
#define CP_DDB_START_INFLIGHT 8
#define CP_DDB_MAX_INFLIGHT 64
#define CP_DDB_INFLIGHT_LIMIT 256

/*
 * The window of requests in flight, AIMD as TCP's congestion window, counted in requests
 * and driven by answers rather than a clock (so it is deterministic; the writer calls it):
 * - it starts at `start` and, until the first throttle, grows by one request for every
 *   request DynamoDB took whole (it doubles every round trip: slow start);
 * - afterwards it grows by one request per window of requests taken whole (additive);
 * - a throttle (an answer whose UnprocessedItems is not empty, a ThrottlingException or
 *   ProvisionedThroughputExceededException, 429, 503) halves it, once per window: a throttle of
 *   a request sent before the last cut does not cut again, as the requests in flight
 *   then were sent under the old window;
 * - it never goes below 1 or above max.
 */
typedef struct cp_ddb_aimd {
    double window;
    int max;
    bool slow_start;
    uint64_t sent;   /* requests started (each one's sequence number is the count then) */
    uint64_t cut_at; /* `sent` at the last cut */
    uint64_t cuts;   /* halvings */
    int peak;        /* largest cp_ddb_aimd_limit so far */
} cp_ddb_aimd;

/* start and max are clamped to 1..CP_DDB_INFLIGHT_LIMIT, start to at most max. */
void cp_ddb_aimd_init(cp_ddb_aimd *a, int start, int max);
/* Requests that may be in flight now: the window rounded down, 1..max. */
int cp_ddb_aimd_limit(const cp_ddb_aimd *a);
/* A request starts: its sequence number, for cp_ddb_aimd_throttled. */
uint64_t cp_ddb_aimd_sent(cp_ddb_aimd *a);
/* A request was taken whole. */
void cp_ddb_aimd_ok(cp_ddb_aimd *a);
/* Request `seq` was throttled, or some of its items came back unprocessed. */
void cp_ddb_aimd_throttled(cp_ddb_aimd *a, uint64_t seq);

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
    uint64_t cuts;        /* halvings of the window */
    int window;           /* requests that may be in flight now */
    int peak_window;      /* the largest window */
    int peak_active;      /* the most requests that were in flight at once */
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
