/*
 * dynamodb.c - BatchWriteItem pipelining over a curl multi handle.
 *
 * Write requests collect in `filling` until 25 are there; a full batch joins the queue.
 * The pump starts queued batches whose backoff has passed while fewer than the AIMD
 * window allows are active, and handles finished ones: a 200 acknowledges the batch except
 * its UnprocessedItems, which become a new batch due after a backoff; a retryable failure
 * puts the same batch back with a longer backoff; anything else fails the writer. Every
 * answer feeds the window: a batch taken whole grows it, UnprocessedItems or a throttle
 * halves it.
 */
#include "aws/dynamodb.h"
#include "util/array.h"
#include "util/fault.h"
#include "util/hash.h"
#include "util/json_escape.h"
#include "util/log.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 25
#define MAX_OUTSTANDING_BYTES (32u << 20)

typedef struct entry {
    char *json;
    size_t len;
    char *key; /* pk "\x1f" sk */
    uint64_t hash;
} entry;

typedef struct batch {
    entry e[BATCH_MAX];
    int n;
    int attempt;       /* failed sends so far */
    double not_before; /* monotonic ms */
    bool active;
    uint64_t seq; /* cp_ddb_aimd_sent of its latest send */
    CURL *easy;
    void *hl;
    cp_buf body;
    cp_aws_response resp;
    size_t bytes;
} batch;

struct cp_ddb_writer {
    cp_aws *aws;
    char *table;
    cp_buf table_json; /* the table name as a JSON string */
    bool check_conflicts;
    cp_ddb_aimd aimd;
    int nactive;
    CURLM *multi;
    batch filling;
    batch **queue; /* outstanding batches (queued or active) */
    size_t nqueue, capqueue;
    size_t outstanding_bytes;
    cp_error err; /* first failure */
    cp_ddb_stats stats;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void cp_ddb_aimd_init(cp_ddb_aimd *a, int start, int max)
{
    memset(a, 0, sizeof *a);
    a->max = max < 1 ? 1 : max > CP_DDB_INFLIGHT_LIMIT ? CP_DDB_INFLIGHT_LIMIT : max;
    a->window = start < 1 ? 1 : start > a->max ? a->max : start;
    a->slow_start = true;
    a->peak = (int)a->window;
}

int cp_ddb_aimd_limit(const cp_ddb_aimd *a)
{
    int n = (int)a->window;
    return n < 1 ? 1 : n > a->max ? a->max : n;
}

uint64_t cp_ddb_aimd_sent(cp_ddb_aimd *a)
{
    return ++a->sent;
}

void cp_ddb_aimd_ok(cp_ddb_aimd *a)
{
    a->window += a->slow_start ? 1.0 : 1.0 / a->window;
    if (a->window > a->max)
        a->window = a->max;
    if (cp_ddb_aimd_limit(a) > a->peak)
        a->peak = cp_ddb_aimd_limit(a);
}

void cp_ddb_aimd_throttled(cp_ddb_aimd *a, uint64_t seq)
{
    if (seq <= a->cut_at)
        return; /* sent under the window already cut */
    a->slow_start = false;
    a->window = a->window / 2 < 1 ? 1 : a->window / 2;
    a->cut_at = a->sent;
    a->cuts++;
}

static void entry_free(entry *e)
{
    free(e->json);
    free(e->key);
    memset(e, 0, sizeof *e);
}

static cp_status entry_set(entry *e, const char *json, size_t len, const char *pk, const char *sk)
{
    size_t kl = strlen(pk) + strlen(sk) + 2;
    e->json = malloc(len + 1);
    e->key = malloc(kl);
    if (!e->json || !e->key) {
        entry_free(e);
        return CP_NOMEM;
    }
    memcpy(e->json, json, len);
    e->json[len] = '\0';
    e->len = len;
    snprintf(e->key, kl, "%s\x1f%s", pk, sk);
    e->hash = cp_hash_fnv1a(e->key, kl - 1);
    return CP_OK;
}

static void batch_free(batch *b)
{
    for (int i = 0; i < b->n; i++)
        entry_free(&b->e[i]);
    b->n = 0;
    cp_buf_release(&b->body);
    cp_aws_response_release(&b->resp);
    free(b);
}

cp_status cp_ddb_writer_new(cp_aws *aws, const char *table, bool check_conflicts,
                            cp_ddb_writer **out, cp_error *err)
{
    *out = NULL;
    cp_ddb_writer *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->aws = aws;
    w->check_conflicts = check_conflicts;
    int max = CP_DDB_MAX_INFLIGHT;
    const char *v = getenv("CSVPIPE_DYNAMODB_INFLIGHT");
    if (v && *v) {
        char *end;
        long k = strtol(v, &end, 10);
        if (*end == '\0' && k >= 1 && k <= CP_DDB_INFLIGHT_LIMIT)
            max = (int)k;
        else
            cp_log_warn("CSVPIPE_DYNAMODB_INFLIGHT=%s ignored: 1 to %d please", v,
                        CP_DDB_INFLIGHT_LIMIT);
    }
    cp_ddb_aimd_init(&w->aimd, CP_DDB_START_INFLIGHT, max);
    cp_buf_init(&w->table_json, 4096);
    if (!(w->table = strdup(table)) ||
        cp_json_append_string(&w->table_json, table, strlen(table)) != CP_OK ||
        !(w->multi = curl_multi_init()))
        goto nomem;
    *out = w;
    return CP_OK;
nomem:
    cp_ddb_writer_free(w);
    return cp_error_set(err, CP_NOMEM, "out of memory creating a DynamoDB writer");
}

static void detach(cp_ddb_writer *w, batch *b)
{
    if (!b->active)
        return;
    curl_multi_remove_handle(w->multi, b->easy);
    curl_slist_free_all(b->hl);
    b->hl = NULL;
    curl_easy_cleanup(b->easy); /* never reused: see aws.c; its connection stays shared */
    b->easy = NULL;
    b->active = false;
    w->nactive--;
}

static void remove_batch(cp_ddb_writer *w, size_t i)
{
    batch *b = w->queue[i];
    detach(w, b);
    w->outstanding_bytes -= b->bytes;
    batch_free(b);
    memmove(w->queue + i, w->queue + i + 1, (w->nqueue - i - 1) * sizeof *w->queue);
    w->nqueue--;
}

void cp_ddb_writer_cancel(cp_ddb_writer *w)
{
    if (!w)
        return;
    while (w->nqueue)
        remove_batch(w, w->nqueue - 1);
    for (int i = 0; i < w->filling.n; i++)
        entry_free(&w->filling.e[i]);
    w->filling.n = 0;
    w->filling.bytes = 0;
    cp_error_clear(&w->err);
}

void cp_ddb_writer_free(cp_ddb_writer *w)
{
    if (!w)
        return;
    cp_ddb_writer_cancel(w);
    free(w->queue);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    cp_buf_release(&w->table_json);
    free(w->table);
    free(w);
}

cp_ddb_stats cp_ddb_writer_stats(const cp_ddb_writer *w)
{
    cp_ddb_stats st = w->stats;
    st.cuts = w->aimd.cuts;
    st.window = cp_ddb_aimd_limit(&w->aimd);
    st.peak_window = w->aimd.peak;
    return st;
}

static cp_status fail(cp_ddb_writer *w, cp_error *err)
{
    if (err && err != &w->err)
        *err = w->err;
    return w->err.code;
}

static cp_status enqueue(cp_ddb_writer *w, batch *b)
{
    batch **q = cp_array_room(w->queue, w->nqueue, &w->capqueue, sizeof *q);
    if (!q)
        return CP_NOMEM;
    w->queue = q;
    w->queue[w->nqueue++] = b;
    w->outstanding_bytes += b->bytes;
    return CP_OK;
}

/* Moves the filling batch into the queue. */
static cp_status seal(cp_ddb_writer *w)
{
    if (w->filling.n == 0)
        return CP_OK;
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return cp_error_set(&w->err, CP_NOMEM, "out of memory");
    memcpy(b->e, w->filling.e, sizeof b->e);
    b->n = w->filling.n;
    b->bytes = w->filling.bytes;
    cp_buf_init(&b->body, CP_BUF_UNLIMITED);
    cp_aws_response_init(&b->resp);
    b->resp.body.max = 16u << 20; /* UnprocessedItems may return a whole batch */
    memset(&w->filling, 0, sizeof w->filling);
    if (enqueue(w, b) != CP_OK) {
        batch_free(b);
        return cp_error_set(&w->err, CP_NOMEM, "out of memory");
    }
    return CP_OK;
}

static size_t resp_write(char *data, size_t size, size_t n, void *ctx)
{
    batch *b = ctx;
    return cp_buf_append(&b->resp.body, data, size * n) == CP_OK ? size * n : 0;
}

static size_t resp_head(char *data, size_t size, size_t n, void *ctx)
{
    batch *b = ctx;
    if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        cp_buf_reset(&b->resp.head);
    return cp_buf_append(&b->resp.head, data, size * n) == CP_OK ? size * n : 0;
}

static cp_status start(cp_ddb_writer *w, batch *b)
{
    cp_buf_reset(&b->body);
    cp_status st = cp_buf_append_str(&b->body, "{\"RequestItems\":{");
    if (st == CP_OK)
        st = cp_buf_append(&b->body, w->table_json.data, w->table_json.len);
    if (st == CP_OK)
        st = cp_buf_append_str(&b->body, ":[");
    for (int i = 0; st == CP_OK && i < b->n; i++) {
        if (i)
            st = cp_buf_append_char(&b->body, ',');
        if (st == CP_OK)
            st = cp_buf_append(&b->body, b->e[i].json, b->e[i].len);
    }
    if (st == CP_OK)
        st = cp_buf_append_str(&b->body, "]}}");
    if (st != CP_OK)
        return cp_error_set(&w->err, st, "out of memory building a BatchWriteItem request");
    b->easy = curl_easy_init();
    if (!b->easy)
        return cp_error_set(&w->err, CP_NOMEM, "out of memory");
    const char *hdrs[] = {"Content-Type: application/x-amz-json-1.0",
                          "X-Amz-Target: DynamoDB_20120810.BatchWriteItem", NULL};
    cp_aws_request req = {.service = CP_AWS_DYNAMODB,
                          .method = "POST",
                          .url = cp_aws_endpoint(w->aws, CP_AWS_DYNAMODB),
                          .headers = hdrs,
                          .body = b->body.data,
                          .body_len = b->body.len};
    st = cp_aws_prepare(w->aws, b->easy, &req, &b->hl, &w->err);
    if (st != CP_OK) {
        curl_easy_cleanup(b->easy);
        b->easy = NULL;
        return st;
    }
    cp_buf_reset(&b->resp.body);
    cp_buf_reset(&b->resp.head);
    b->resp.status = 0;
    curl_easy_setopt(b->easy, CURLOPT_WRITEFUNCTION, resp_write);
    curl_easy_setopt(b->easy, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(b->easy, CURLOPT_HEADERFUNCTION, resp_head);
    curl_easy_setopt(b->easy, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(b->easy, CURLOPT_PRIVATE, b);
    if (curl_multi_add_handle(w->multi, b->easy) != CURLM_OK) {
        curl_slist_free_all(b->hl);
        b->hl = NULL;
        curl_easy_cleanup(b->easy);
        b->easy = NULL;
        return cp_error_set(&w->err, CP_INTERNAL, "curl_multi_add_handle failed");
    }
    b->active = true;
    b->seq = cp_ddb_aimd_sent(&w->aimd);
    w->nactive++;
    if (w->nactive > w->stats.peak_active)
        w->stats.peak_active = w->nactive;
    w->stats.requests++;
    return CP_OK;
}

/* The key of an UnprocessedItems element, for conflict checks. */
static void element_key(json_t *el, const char **pk, const char **sk)
{
    json_t *m = json_object_get(json_object_get(el, "PutRequest"), "Item");
    if (!m)
        m = json_object_get(json_object_get(el, "DeleteRequest"), "Key");
    *pk = json_string_value(json_object_get(json_object_get(m, "pk"), "S"));
    *sk = json_string_value(json_object_get(json_object_get(m, "sk"), "S"));
    if (!*pk)
        *pk = "";
    if (!*sk)
        *sk = "";
}

/* A 200 answer: everything but the UnprocessedItems is written; those form a new batch. */
static cp_status acknowledge(cp_ddb_writer *w, size_t qi)
{
    batch *b = w->queue[qi];
    json_error_t je;
    json_t *j = json_loadb(b->resp.body.data ? b->resp.body.data : "", b->resp.body.len, 0, &je);
    if (!j)
        return cp_error_set(&w->err, CP_IO, "BatchWriteItem on %s: unreadable answer: %s", w->table,
                            je.text);
    json_t *un = json_object_get(json_object_get(j, "UnprocessedItems"), w->table);
    size_t nun = json_is_array(un) ? json_array_size(un) : 0;
    if (nun > (size_t)b->n) {
        json_decref(j);
        return cp_error_set(&w->err, CP_IO,
                            "BatchWriteItem on %s: the answer lists %zu unprocessed items of the "
                            "%d sent",
                            w->table, nun, b->n);
    }
    cp_status st = CP_OK;
    batch *retry = NULL;
    if (nun) {
        retry = calloc(1, sizeof *retry);
        if (!retry)
            st = CP_NOMEM;
        for (size_t i = 0; st == CP_OK && i < nun; i++) {
            json_t *el = json_array_get(un, i);
            char *s = json_dumps(el, JSON_COMPACT);
            const char *pk, *sk;
            element_key(el, &pk, &sk);
            st = s ? entry_set(&retry->e[retry->n], s, strlen(s), pk, sk) : CP_NOMEM;
            if (st == CP_OK) {
                retry->bytes += retry->e[retry->n].len;
                retry->n++;
            }
            free(s);
        }
    }
    json_decref(j);
    if (st != CP_OK) {
        if (retry)
            batch_free(retry);
        return cp_error_set(&w->err, st, "out of memory");
    }
    w->stats.written += (uint64_t)(b->n - (int)nun);
    w->stats.unprocessed += nun;
    if (nun)
        cp_ddb_aimd_throttled(&w->aimd, b->seq);
    else
        cp_ddb_aimd_ok(&w->aimd);
    cp_fault_point("dynamodb-batch-written");
    int attempt = b->attempt;
    remove_batch(w, qi);
    if (retry) {
        /* progress resets the count, a batch sent back whole counts as a failure */
        retry->attempt = nun == (size_t)BATCH_MAX ? attempt + 1 : 1;
        if (retry->attempt >= cp_aws_max_attempts(w->aws)) {
            batch_free(retry);
            return cp_error_set(&w->err, CP_IO,
                                "BatchWriteItem on %s: items still unprocessed after %d "
                                "attempts; the table's capacity is exhausted",
                                w->table, attempt + 1);
        }
        cp_buf_init(&retry->body, CP_BUF_UNLIMITED);
        cp_aws_response_init(&retry->resp);
        retry->resp.body.max = 16u << 20;
        retry->not_before = now_ms() + (double)cp_aws_backoff_ms(retry->attempt);
        if (enqueue(w, retry) != CP_OK) {
            batch_free(retry);
            return cp_error_set(&w->err, CP_NOMEM, "out of memory");
        }
    }
    return CP_OK;
}

/* An answer that says to slow down (rather than that something broke). */
static bool throttle_answer(long status, const char *code)
{
    static const char *const codes[] = {
        "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "Throttling", "TooManyRequestsException"};
    if (status == 429 || status == 503)
        return true;
    for (size_t i = 0; code && i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0)
            return true;
    return false;
}

static cp_status finished(cp_ddb_writer *w, batch *b, CURLcode result)
{
    size_t qi = 0;
    while (qi < w->nqueue && w->queue[qi] != b)
        qi++;
    long status = 0;
    curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
    b->resp.status = status;
    detach(w, b);
    if (result == CURLE_OK && status == 200)
        return acknowledge(w, qi);
    if (result == CURLE_OK)
        cp_aws_parse_error(&b->resp);
    bool retry = result == CURLE_OK ? cp_aws_retryable(0, status, b->resp.code)
                                    : cp_aws_retryable((int)result, 0, NULL);
    if (result == CURLE_OK && throttle_answer(status, b->resp.code))
        cp_ddb_aimd_throttled(&w->aimd, b->seq);
    b->attempt++;
    if (!retry || b->attempt >= cp_aws_max_attempts(w->aws)) {
        char what[512];
        snprintf(what, sizeof what, "BatchWriteItem on table %s%s", w->table,
                 retry ? " (attempts exhausted)" : "");
        if (result != CURLE_OK)
            return cp_error_set(&w->err, CP_IO, "%s: %s", what, curl_easy_strerror(result));
        if (status == 400 && strcmp(b->resp.code, "ResourceNotFoundException") == 0)
            return cp_error_set(&w->err, CP_NOT_FOUND,
                                "DynamoDB table %s does not exist in %s; create it (pk and sk "
                                "strings) or use --create-table",
                                w->table, cp_aws_region(w->aws));
        return cp_aws_fail(&b->resp, &w->err, what);
    }
    w->stats.retries++;
    cp_log_debug("BatchWriteItem on %s: %s %ld %s; resending (attempt %d)", w->table,
                 result ? curl_easy_strerror(result) : "HTTP", status, b->resp.code,
                 b->attempt + 1);
    b->not_before = now_ms() + (double)cp_aws_backoff_ms(b->attempt);
    return CP_OK;
}

typedef enum { UNTIL_ROOM, UNTIL_EMPTY } pump_goal;

static bool goal_met(const cp_ddb_writer *w, pump_goal g)
{
    if (g == UNTIL_EMPTY)
        return w->nqueue == 0;
    return w->nqueue < (size_t)cp_ddb_aimd_limit(&w->aimd) * 2 &&
           w->outstanding_bytes < MAX_OUTSTANDING_BYTES;
}

static cp_status pump(cp_ddb_writer *w, pump_goal g)
{
    while (w->err.code == CP_OK && !goal_met(w, g)) {
        double now = now_ms(), next = -1;
        for (size_t i = 0; i < w->nqueue && w->nactive < cp_ddb_aimd_limit(&w->aimd); i++) {
            batch *b = w->queue[i];
            if (b->active)
                continue;
            if (b->not_before <= now)
                CP_RETURN_IF_ERROR(start(w, b));
            else if (next < 0 || b->not_before < next)
                next = b->not_before;
        }
        int running = 0;
        curl_multi_perform(w->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(w->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            batch *b = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&b);
            CURLcode result = m->data.result;
            CP_RETURN_IF_ERROR(finished(w, b, result));
        }
        if (goal_met(w, g))
            break;
        int wait = 100;
        if (w->nactive == 0 && next > 0) {
            wait = (int)(next - now_ms()) + 1;
            if (wait < 1)
                wait = 1;
        }
        curl_multi_poll(w->multi, NULL, 0, wait, NULL);
    }
    return w->err.code;
}

cp_status cp_ddb_writer_add(cp_ddb_writer *w, const char *request, size_t len, const char *pk,
                            const char *sk, cp_error *err)
{
    if (w->err.code != CP_OK)
        return fail(w, err);
    entry e;
    if (entry_set(&e, request, len, pk, sk) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    if (w->check_conflicts) {
        for (int i = 0; i < w->filling.n; i++)
            if (w->filling.e[i].hash == e.hash && strcmp(w->filling.e[i].key, e.key) == 0) {
                w->filling.bytes += e.len - w->filling.e[i].len;
                entry_free(&w->filling.e[i]);
                w->filling.e[i] = e; /* the later write of the key wins */
                return CP_OK;
            }
        bool conflict = false;
        for (size_t q = 0; q < w->nqueue && !conflict; q++)
            for (int i = 0; i < w->queue[q]->n && !conflict; i++)
                conflict =
                    w->queue[q]->e[i].hash == e.hash && strcmp(w->queue[q]->e[i].key, e.key) == 0;
        if (conflict && pump(w, UNTIL_EMPTY) != CP_OK) {
            entry_free(&e);
            return fail(w, err);
        }
    }
    w->filling.e[w->filling.n++] = e;
    w->filling.bytes += e.len;
    if (w->filling.n == BATCH_MAX) {
        if (seal(w) != CP_OK || pump(w, UNTIL_ROOM) != CP_OK)
            return fail(w, err);
    }
    return CP_OK;
}

cp_status cp_ddb_writer_flush(cp_ddb_writer *w, cp_error *err)
{
    if (w->err.code == CP_OK && seal(w) == CP_OK)
        pump(w, UNTIL_EMPTY);
    return w->err.code == CP_OK ? CP_OK : fail(w, err);
}

cp_status cp_ddb_call(cp_aws *aws, const char *op, const char *body, cp_aws_response *resp,
                      cp_error *err)
{
    char target[128];
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", op);
    return cp_aws_json_call(aws, CP_AWS_DYNAMODB, target, body, resp, err);
}

/* Checks the key schema of an existing table; *active tells its status. */
static cp_status describe(cp_aws *aws, const char *table, const char *body, bool *active,
                          cp_error *err)
{
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st = cp_ddb_call(aws, "DescribeTable", body, &r, err);
    if (st == CP_OK && r.status != 200) {
        char what[300];
        snprintf(what, sizeof what, "DescribeTable %s", table);
        st = cp_aws_fail(&r, err, what);
    }
    if (st == CP_OK) {
        json_t *j = json_loadb(r.body.data, r.body.len, 0, NULL);
        json_t *t = json_object_get(j, "Table");
        const char *status = json_string_value(json_object_get(t, "TableStatus"));
        *active = status && strcmp(status, "ACTIVE") == 0;
        json_t *ks = json_object_get(t, "KeySchema");
        bool pk = false, sk = false;
        for (size_t i = 0; i < json_array_size(ks); i++) {
            const char *n =
                json_string_value(json_object_get(json_array_get(ks, i), "AttributeName"));
            const char *k = json_string_value(json_object_get(json_array_get(ks, i), "KeyType"));
            pk |= n && k && strcmp(n, "pk") == 0 && strcmp(k, "HASH") == 0;
            sk |= n && k && strcmp(n, "sk") == 0 && strcmp(k, "RANGE") == 0;
        }
        if (!pk || !sk || json_array_size(ks) != 2)
            st = cp_error_set(err, CP_USAGE,
                              "DynamoDB table %s exists with another key schema; csvpipe needs "
                              "pk (string, partition key) and sk (string, sort key)",
                              table);
        json_decref(j);
    }
    cp_aws_response_release(&r);
    return st;
}

cp_status cp_ddb_create_table(cp_aws *aws, const char *table, int wait_seconds, cp_error *err)
{
    cp_buf name, body;
    cp_buf_init(&name, 4096);
    cp_buf_init(&body, 8192);
    cp_status st = cp_json_append_string(&name, table, strlen(table));
    if (st == CP_OK)
        st = cp_buf_printf(&body,
                           "{\"TableName\":%s,\"BillingMode\":\"PAY_PER_REQUEST\","
                           "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\",\"AttributeType\":"
                           "\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"S\"}],"
                           "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
                           "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}]}",
                           name.data);
    if (st != CP_OK) {
        st = cp_error_set(err, st, "out of memory");
        goto out;
    }
    cp_aws_response r;
    cp_aws_response_init(&r);
    st = cp_ddb_call(aws, "CreateTable", body.data, &r, err);
    if (st == CP_OK && r.status != 200 && strcmp(r.code, "ResourceInUseException") != 0) {
        char what[300];
        snprintf(what, sizeof what, "CreateTable %s", table);
        st = cp_aws_fail(&r, err, what);
    }
    cp_aws_response_release(&r);
    if (st != CP_OK)
        goto out;
    cp_buf_reset(&body);
    cp_buf_printf(&body, "{\"TableName\":%s}", name.data);
    double deadline = now_ms() + wait_seconds * 1000.0;
    for (int i = 1;; i++) {
        bool active = false;
        st = describe(aws, table, body.data, &active, err);
        if (st != CP_OK || active)
            break;
        if (now_ms() > deadline) {
            st = cp_error_set(err, CP_IO, "DynamoDB table %s is not ACTIVE after %d s", table,
                              wait_seconds);
            break;
        }
        struct timespec ts = {0, (i < 5 ? 200 : 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
out:
    cp_buf_release(&name);
    cp_buf_release(&body);
    return st;
}
