/*
 * s3.c - S3 GET as a pull-based source over curl's push-based transfer, and the
 * multipart upload with its parts in flight on a multi handle.
 *
 * The source drives its transfers through a private multi handle from the reading thread.
 * An object of at most one GET part is one streaming GET: a read points the write
 * callback at the caller's buffer and pumps the multi handle until some bytes arrive; the
 * rest of the chunk curl handed over (at most CURL_MAX_WRITE_SIZE) waits in a small spill
 * buffer. A larger object is cut into parts, each fetched by its own ranged GET into its
 * own buffer; a ring of `nslots` buffers holds the part being delivered (the head) and the
 * next ones, whose GETs run at the same time. A read hands over the head's bytes as they
 * arrive, whatever order the parts finish in; once the head is delivered its slot takes the
 * part nslots further on. Either way a transfer that ends early is resumed from its next
 * missing byte with a Range request conditioned on the ETag.
 */
#include "aws/s3.h"
#include "util/env.h"
#include "util/fault.h"
#include "util/log.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MIN_PART (5u << 20)
#define DEFAULT_PART (8u << 20)
#define MAX_PARTS 10000
#define MAX_RESUMES 10000

bool cp_s3_parse_uri(const char *uri, char **bucket, char **key)
{
    if (!uri || strncmp(uri, "s3://", 5) != 0)
        return false;
    const char *b = uri + 5, *slash = strchr(b, '/');
    size_t bl = slash ? (size_t)(slash - b) : strlen(b);
    if (bl == 0)
        return false;
    char *bk = strndup(b, bl);
    char *k = strdup(slash ? slash + 1 : "");
    if (!bk || !k) {
        free(bk);
        free(k);
        return false;
    }
    *bucket = bk;
    *key = k;
    return true;
}

static bool dns_bucket(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

/* The URL of bucket/key with an already sorted and encoded query (NULL = none). */
static cp_status object_url(cp_aws *aws, const char *bucket, const char *key, const char *query,
                            cp_buf *out)
{
    cp_buf_reset(out);
    if (cp_aws_s3_path_style(aws) || !dns_bucket(bucket)) {
        CP_RETURN_IF_ERROR(cp_buf_printf(out, "%s/", cp_aws_endpoint(aws, CP_AWS_S3)));
        CP_RETURN_IF_ERROR(cp_aws_uri_encode(out, bucket, strlen(bucket), false));
        CP_RETURN_IF_ERROR(cp_buf_append_char(out, '/'));
    } else {
        CP_RETURN_IF_ERROR(
            cp_buf_printf(out, "https://%s.s3.%s.amazonaws.com/", bucket, cp_aws_region(aws)));
    }
    CP_RETURN_IF_ERROR(cp_aws_uri_encode(out, key, strlen(key), true));
    if (query && *query)
        CP_RETURN_IF_ERROR(cp_buf_printf(out, "?%s", query));
    return CP_OK;
}

/* ---- the source ---------------------------------------------------------------------------- */

#define GET_PART_DEFAULT ((uint64_t)8 << 20)
#define GET_PART_MIN ((uint64_t)64 << 10)
#define GET_PART_MAX ((uint64_t)1 << 30)
#define GETS_IN_FLIGHT_DEFAULT 4
#define GETS_IN_FLIGHT_MAX 64
#define PART_RECV_BUFFER (256 * 1024) /* curl's receive buffer per part GET: fewer calls */

typedef struct s3_source s3_source;

/* One ranged GET of a parallel read: the object's bytes [start, start + len) into buf. */
typedef struct s3_part {
    s3_source *s;
    CURL *easy;
    void *hl;
    uint64_t index; /* the part's number, from 0 */
    uint64_t start;
    size_t len;
    char *buf;           /* GET part bytes, kept for the slot's next part */
    size_t got;          /* bytes of the part received */
    size_t got_at_start; /* got when the current GET started */
    uint64_t skip;       /* bytes to drop: a 200 answer with the whole object */
    bool used;           /* the slot holds a part */
    bool active;         /* its GET is in the multi handle */
    bool status_seen, ok_status;
    bool overflow;        /* the answer was longer than the range asked for */
    int failures;         /* consecutive failures without progress */
    long long not_before; /* monotonic ms: no new GET before (backoff) */
    cp_aws_response resp;
} s3_part;

struct s3_source {
    cp_source base;
    cp_aws *aws;
    char *bucket, *key;
    char *etag;       /* without quotes */
    char *etag_raw;   /* as S3 sent it, for If-Match */
    char *version_id; /* NULL when unversioned */
    CURLM *multi;
    unsigned resumes;
    cp_buf url;
    /* one streaming GET (small objects) */
    CURL *easy;
    void *hl;
    bool active;
    bool paused;    /* the write callback paused the transfer: the reader has enough */
    bool ok_status; /* the current answer is 200/206 */
    bool status_seen;
    uint64_t skip;    /* bytes to drop (a server that ignored Range) */
    uint64_t fetched; /* object bytes received (delivered + spilled) */
    char *target;
    size_t target_cap, target_got;
    cp_buf spill;
    size_t spill_pos;
    cp_aws_response resp; /* headers, and the body of error answers */
    int failures;         /* consecutive failures without progress */
    /* ranged GETs in parallel (large objects); nslots == 0 for the streaming GET */
    uint64_t part_bytes;
    unsigned nslots;
    s3_part *slots;  /* part i lives in slots[i % nslots] */
    uint64_t nparts; /* parts of the object */
    uint64_t head;   /* the part being delivered */
    size_t head_pos; /* bytes of the head part delivered */
    uint64_t parts_done, parts_early;
};

static cp_status changed_error(const s3_source *s, cp_error *err)
{
    return cp_error_set(err, CP_IO,
                        "%s changed while it was being read (ETag %s no longer matches); the "
                        "load will be retried by the next event",
                        s->base.name, s->etag);
}

/*
 * Prepares a fresh easy handle h for a GET of the object from byte `from` to byte `to`
 * (inclusive; UINT64_MAX: to the end), conditioned on the ETag (and the version id).
 */
static cp_status prepare_get(s3_source *s, CURL *h, uint64_t from, uint64_t to, void **hl,
                             cp_error *err)
{
    char range[80] = "", ifmatch[300] = "";
    if (to != UINT64_MAX)
        snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-%" PRIu64, from, to);
    else if (from > 0)
        snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", from);
    if (s->etag_raw[0])
        snprintf(ifmatch, sizeof ifmatch, "If-Match: %s", s->etag_raw);
    const char *hdrs[] = {ifmatch, range, NULL}; /* empty lines are skipped */
    cp_buf q;
    cp_buf_init(&q, 4096);
    cp_status st = CP_OK;
    if (s->version_id) {
        st = cp_buf_append_str(&q, "versionId=");
        if (st == CP_OK)
            st = cp_aws_uri_encode(&q, s->version_id, strlen(s->version_id), false);
    }
    if (st == CP_OK)
        st = object_url(s->aws, s->bucket, s->key, q.data, &s->url);
    cp_buf_release(&q);
    if (st != CP_OK)
        return cp_error_set(err, st, "%s: building the request", s->base.name);
    cp_aws_request req = {.service = CP_AWS_S3,
                          .method = "GET",
                          .url = s->url.data,
                          .headers = hdrs,
                          .timeout_ms = 0};
    st = cp_aws_prepare(s->aws, h, &req, hl, err);
    if (st != CP_OK) {
        curl_slist_free_all(*hl);
        *hl = NULL;
        return st;
    }
    /* a stalled stream counts as broken; no overall time limit for a large object */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    return CP_OK;
}

/* ---- what the streaming GET and the ranged GETs share ---- */

/* On an answer's first body bytes: its status into resp, *seen, and *ok (200 or 206); true when
 * this call recorded it. */
static bool answer_status(CURL *easy, cp_aws_response *resp, bool *seen, bool *ok)
{
    if (*seen)
        return false;
    long st = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &st);
    resp->status = st;
    *seen = true;
    *ok = st == 200 || st == 206;
    return true;
}

/* The status of an ended GET, also into resp: curl's when no body bytes came. */
static long ended_status(CURL *easy, cp_aws_response *resp, bool seen)
{
    long status = resp->status;
    if (!seen)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    return status;
}

/* Whether a GET that ended short is worth another try: a transfer error or error answer
 * (parsed into resp) that may pass, or a short body. */
static bool ended_retryable(CURLcode result, bool ok, cp_aws_response *resp)
{
    if (result != CURLE_OK)
        return cp_aws_retryable((int)result, 0, NULL);
    if (!ok) {
        cp_aws_parse_error(resp);
        return cp_aws_retryable(0, resp->status, resp->code);
    }
    return true; /* a short body */
}

/* Drops from the chunk (*data, *len) the bytes still to skip, counting *skip down. */
static void drop_skipped(uint64_t *skip, char **data, size_t *len)
{
    size_t k = *skip < *len ? (size_t)*skip : *len;
    *skip -= k;
    *data += k;
    *len -= k;
}

/* Adds a prepared GET to the multi handle; on failure frees its header list *hl. */
static cp_status add_transfer(s3_source *s, CURL *easy, void **hl, cp_error *err)
{
    if (curl_multi_add_handle(s->multi, easy) == CURLM_OK)
        return CP_OK;
    curl_slist_free_all(*hl);
    *hl = NULL;
    return cp_error_set(err, CP_INTERNAL, "%s: curl_multi_add_handle failed", s->base.name);
}

/* ---- one streaming GET ---- */

static size_t src_write(char *data, size_t size, size_t n, void *ctx)
{
    s3_source *s = ctx;
    size_t len = size * n;
    if (answer_status(s->easy, &s->resp, &s->status_seen, &s->ok_status) && s->resp.status == 200 &&
        s->fetched > 0)
        s->skip = s->fetched; /* the whole object again: drop what we have */
    if (!s->ok_status) {
        cp_buf_append(&s->resp.body, data, len); /* bounded; the rest is dropped */
        return len;
    }
    if (s->spill_pos < s->spill.len || s->target_got == s->target_cap) {
        s->paused = true; /* curl keeps this chunk and hands it over again on unpause */
        return CURL_WRITEFUNC_PAUSE;
    }
    size_t total = len;
    drop_skipped(&s->skip, &data, &len);
    if (s->base.size >= 0 && s->fetched + len > (uint64_t)s->base.size)
        return 0; /* more bytes than the object has: the object changed */
    size_t k = s->target_cap - s->target_got;
    if (k > len)
        k = len;
    if (k) {
        memcpy(s->target + s->target_got, data, k);
        s->target_got += k;
    }
    if (len > k) {
        if (s->spill_pos == s->spill.len) {
            cp_buf_reset(&s->spill);
            s->spill_pos = 0;
        }
        if (cp_buf_append(&s->spill, data + k, len - k) != CP_OK)
            return 0;
    }
    s->fetched += len;
    if (len)
        s->failures = 0;
    return total;
}

static void stop_transfer(s3_source *s)
{
    if (s->active) {
        curl_multi_remove_handle(s->multi, s->easy);
        s->active = false;
    }
    s->paused = false;
    curl_slist_free_all(s->hl);
    s->hl = NULL;
}

static cp_status start_transfer(s3_source *s, cp_error *err)
{
    CURL *fresh = curl_easy_init(); /* never a reused handle: see aws.c */
    if (!fresh)
        return cp_error_set(err, CP_NOMEM, "%s: out of memory", s->base.name);
    curl_easy_cleanup(s->easy);
    s->easy = fresh;
    CP_RETURN_IF_ERROR(prepare_get(s, s->easy, s->fetched, UINT64_MAX, &s->hl, err));
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, src_write);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, cp_aws_head_callback);
    curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, &s->resp);
    cp_buf_reset(&s->resp.body);
    cp_buf_reset(&s->resp.head);
    s->resp.status = 0;
    s->status_seen = s->ok_status = s->paused = false;
    s->skip = 0;
    CP_RETURN_IF_ERROR(add_transfer(s, s->easy, &s->hl, err));
    s->active = true;
    return CP_OK;
}
/* Pumps the transfer until bytes arrive or it ends; *done receives its result when it ends. */
static void pump(s3_source *s, bool *ended, CURLcode *result)
{
    *ended = false;
    while (s->target_got == 0 && !*ended) {
        int running = 0;
        curl_multi_perform(s->multi, &running);
        int left;
        CURLMsg *m;
        while ((m = curl_multi_info_read(s->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                *ended = true;
                *result = m->data.result;
            }
        if (s->target_got || *ended)
            break;
        curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
    }
}

static cp_status stream_read(s3_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    cp_source *base = &s->base;
    if (s->spill_pos < s->spill.len) {
        size_t k = s->spill.len - s->spill_pos;
        if (k > cap)
            k = cap;
        memcpy(buf, s->spill.data + s->spill_pos, k);
        s->spill_pos += k;
        base->position += k;
        *n = k;
        return CP_OK;
    }
    int max_failures = cp_aws_max_attempts(s->aws);
    for (;;) {
        if (!s->active) {
            if (s->fetched >= (uint64_t)base->size)
                return CP_OK; /* the end */
            CP_RETURN_IF_ERROR(start_transfer(s, err));
        }
        s->target = buf;
        s->target_cap = cap;
        s->target_got = 0;
        if (s->paused) {
            s->paused = false;
            curl_easy_pause(s->easy, CURLPAUSE_CONT); /* may deliver into target at once */
        }
        bool ended;
        CURLcode result = CURLE_OK;
        pump(s, &ended, &result);
        size_t got = s->target_got;
        s->target = NULL;
        s->target_cap = s->target_got = 0;
        if (ended) {
            long status = ended_status(s->easy, &s->resp, s->status_seen);
            stop_transfer(s);
            if (result == CURLE_OK && s->ok_status && s->fetched >= (uint64_t)base->size) {
                /* complete */
            } else if (result == CURLE_OK && (status == 412 || status == 416)) {
                return changed_error(s, err);
            } else if (result == CURLE_WRITE_ERROR) {
                return cp_error_set(err, CP_IO, "%s sent more bytes than its size %" PRId64,
                                    base->name, base->size);
            } else {
                if (!ended_retryable(result, s->ok_status, &s->resp)) {
                    if (result != CURLE_OK)
                        return cp_error_set(err, CP_IO, "%s: GET failed: %s", base->name,
                                            curl_easy_strerror(result));
                    char what[600];
                    snprintf(what, sizeof what, "%s: GET", base->name);
                    return cp_aws_fail(&s->resp, err, what);
                }
                if (got == 0)
                    s->failures++;
                if (s->failures >= max_failures || ++s->resumes > MAX_RESUMES)
                    return cp_error_set(err, CP_IO,
                                        "%s: the transfer broke %d times in a row at byte %" PRIu64
                                        " (last: %s, HTTP %ld); giving up",
                                        base->name, s->failures, s->fetched,
                                        result ? curl_easy_strerror(result) : "no error", status);
                cp_log_debug("%s: transfer ended at byte %" PRIu64 " (%s, HTTP %ld); resuming",
                             base->name, s->fetched, curl_easy_strerror(result), status);
                if (got == 0)
                    cp_aws_backoff(s->failures);
            }
        }
        if (got) {
            base->position += got;
            *n = got;
            return CP_OK;
        }
    }
}

/* ---- ranged GETs in parallel ---- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t part_write(char *data, size_t size, size_t n, void *ctx)
{
    s3_part *p = ctx;
    size_t len = size * n;
    if (answer_status(p->easy, &p->resp, &p->status_seen, &p->ok_status) && p->resp.status == 200)
        p->skip = p->start + p->got; /* Range ignored: the whole object */
    if (!p->ok_status) {
        cp_buf_append(&p->resp.body, data, len); /* bounded; the rest is dropped */
        return len;
    }
    size_t total = len;
    drop_skipped(&p->skip, &data, &len);
    size_t room = p->len - p->got;
    if (len > room) {
        if (p->resp.status == 206) {
            p->overflow = true;
            return 0;
        }
        memcpy(p->buf + p->got, data, room); /* the whole object: stop after the part */
        p->got += room;
        return 0;
    }
    memcpy(p->buf + p->got, data, len);
    p->got += len;
    return total;
}

static void part_stop(s3_source *s, s3_part *p)
{
    if (p->active) {
        curl_multi_remove_handle(s->multi, p->easy);
        p->active = false;
    }
    curl_slist_free_all(p->hl);
    p->hl = NULL;
}

static cp_status part_assign(s3_source *s, s3_part *p, uint64_t index, cp_error *err)
{
    if (!p->buf && !(p->buf = malloc((size_t)s->part_bytes)))
        return cp_error_set(err, CP_NOMEM, "%s: out of memory for a %" PRIu64 "-byte part",
                            s->base.name, s->part_bytes);
    p->index = index;
    p->start = index * s->part_bytes;
    uint64_t left = (uint64_t)s->base.size - p->start;
    p->len = (size_t)(left < s->part_bytes ? left : s->part_bytes);
    p->got = 0;
    p->failures = 0;
    p->not_before = 0;
    p->used = true;
    return CP_OK;
}

static cp_status part_start(s3_source *s, s3_part *p, cp_error *err)
{
    CURL *fresh = curl_easy_init(); /* never a reused handle: see aws.c */
    if (!fresh)
        return cp_error_set(err, CP_NOMEM, "%s: out of memory", s->base.name);
    curl_easy_cleanup(p->easy);
    p->easy = fresh;
    CP_RETURN_IF_ERROR(
        prepare_get(s, p->easy, p->start + p->got, p->start + p->len - 1, &p->hl, err));
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, part_write);
    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, cp_aws_head_callback);
    curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, &p->resp);
    curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
    curl_easy_setopt(p->easy, CURLOPT_BUFFERSIZE, (long)PART_RECV_BUFFER);
    cp_buf_reset(&p->resp.body);
    cp_buf_reset(&p->resp.head);
    p->resp.status = 0;
    p->status_seen = p->ok_status = p->overflow = false;
    p->skip = 0;
    p->got_at_start = p->got;
    CP_RETURN_IF_ERROR(add_transfer(s, p->easy, &p->hl, err));
    p->active = true;
    return CP_OK;
}

/* A part's GET ended: the part is complete, or is to be resumed from its next byte, or fails the
 * read. */
static cp_status part_ended(s3_source *s, s3_part *p, CURLcode result, cp_error *err)
{
    long status = ended_status(p->easy, &p->resp, p->status_seen);
    part_stop(s, p);
    uint64_t first = p->start, last = p->start + p->len - 1;
    if (p->ok_status && !p->overflow && p->got == p->len) {
        s->parts_done++;
        for (unsigned i = 0; i < s->nslots; i++) {
            const s3_part *o = &s->slots[i];
            if (o->used && o->index < p->index && o->got < o->len) {
                s->parts_early++;
                break;
            }
        }
        return CP_OK;
    }
    if (result == CURLE_OK && (status == 412 || status == 416))
        return changed_error(s, err);
    if (p->overflow)
        return cp_error_set(err, CP_IO,
                            "%s answered more than the bytes %" PRIu64 "-%" PRIu64
                            " it was asked for; the object changed or the server is not S3",
                            s->base.name, first, last);
    if (!ended_retryable(result, p->ok_status, &p->resp)) {
        if (result != CURLE_OK)
            return cp_error_set(err, CP_IO, "%s: GET of bytes %" PRIu64 "-%" PRIu64 " failed: %s",
                                s->base.name, first, last, curl_easy_strerror(result));
        char what[600];
        snprintf(what, sizeof what, "%s: GET of bytes %" PRIu64 "-%" PRIu64, s->base.name, first,
                 last);
        return cp_aws_fail(&p->resp, err, what);
    }
    bool progress = p->got > p->got_at_start;
    p->failures = progress ? 0 : p->failures + 1;
    if (p->failures >= cp_aws_max_attempts(s->aws) || ++s->resumes > MAX_RESUMES)
        return cp_error_set(err, CP_IO,
                            "%s: the transfer of bytes %" PRIu64 "-%" PRIu64
                            " broke %d times in a row at byte %" PRIu64
                            " (last: %s, HTTP %ld); giving up",
                            s->base.name, first, last, p->failures, first + p->got,
                            result ? curl_easy_strerror(result) : "no error", status);
    cp_log_debug("%s: transfer of bytes %" PRIu64 "-%" PRIu64 " ended at byte %" PRIu64
                 " (%s, HTTP %ld); resuming",
                 s->base.name, first, last, first + p->got, curl_easy_strerror(result), status);
    p->not_before = progress ? 0 : now_ms() + cp_aws_backoff_ms(p->failures);
    return CP_OK;
}

static s3_part *head_part(s3_source *s)
{
    return &s->slots[s->head % s->nslots];
}

/*
 * Starts the GETs due, drives every transfer once, and again until the head part has
 * bytes not yet delivered.
 */
static cp_status ranged_pump(s3_source *s, cp_error *err)
{
    for (;;) {
        long long now = now_ms(), wait = 1000;
        for (unsigned i = 0; i < s->nslots; i++) {
            s3_part *p = &s->slots[i];
            if (!p->used || p->active || p->got == p->len)
                continue;
            if (p->not_before <= now)
                CP_RETURN_IF_ERROR(part_start(s, p, err));
            else if (p->not_before - now < wait)
                wait = p->not_before - now;
        }
        int running = 0;
        curl_multi_perform(s->multi, &running);
        int left;
        CURLMsg *m;
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            s3_part *p = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
            CP_RETURN_IF_ERROR(part_ended(s, p, m->data.result, err));
        }
        if (head_part(s)->got > s->head_pos)
            return CP_OK;
        curl_multi_poll(s->multi, NULL, 0, (int)(wait > 0 ? wait : 1), NULL);
    }
}

static cp_status ranged_read(s3_source *s, void *buf, size_t cap, size_t *n, cp_error *err)
{
    if (s->head >= s->nparts)
        return CP_OK; /* the end */
    if (s->head == 0 && !s->slots[0].used)
        for (unsigned i = 0; i < s->nslots && i < s->nparts; i++)
            CP_RETURN_IF_ERROR(part_assign(s, &s->slots[i], i, err));
    CP_RETURN_IF_ERROR(ranged_pump(s, err));
    s3_part *h = head_part(s);
    size_t k = h->got - s->head_pos;
    if (k > cap)
        k = cap;
    memcpy(buf, h->buf + s->head_pos, k);
    s->head_pos += k;
    s->base.position += k;
    *n = k;
    if (s->head_pos == h->len) {
        uint64_t later = s->head + s->nslots;
        s->head++;
        s->head_pos = 0;
        part_stop(s, h); /* all its bytes are here even if curl has not said so yet */
        if (later < s->nparts)
            CP_RETURN_IF_ERROR(part_assign(s, h, later, err));
        else
            h->used = false;
    }
    return CP_OK;
}

/* ---- the cp_source ---- */

static cp_status s3_read(cp_source *base, void *buf, size_t cap, size_t *n, cp_error *err)
{
    s3_source *s = (s3_source *)base;
    *n = 0;
    if (cap == 0)
        return CP_OK;
    return s->nslots ? ranged_read(s, buf, cap, n, err) : stream_read(s, buf, cap, n, err);
}

static cp_status s3_rewind(cp_source *base, cp_error *err)
{
    (void)err;
    s3_source *s = (s3_source *)base;
    base->position = 0;
    if (s->nslots) {
        s->head_pos = 0;
        if (s->head == 0)
            return CP_OK; /* the first part is still here: the sniffer's rewind costs nothing */
        for (unsigned i = 0; i < s->nslots; i++) {
            part_stop(s, &s->slots[i]);
            s->slots[i].used = false;
        }
        s->head = 0;
        return CP_OK;
    }
    stop_transfer(s);
    s->fetched = 0;
    cp_buf_reset(&s->spill);
    s->spill_pos = 0;
    s->failures = 0;
    return CP_OK;
}

static void s3_close(cp_source *base)
{
    s3_source *s = (s3_source *)base;
    stop_transfer(s);
    if (s->easy)
        curl_easy_cleanup(s->easy);
    for (unsigned i = 0; i < s->nslots; i++) {
        s3_part *p = &s->slots[i];
        part_stop(s, p);
        if (p->easy)
            curl_easy_cleanup(p->easy);
        free(p->buf);
        cp_aws_response_release(&p->resp);
    }
    free(s->slots);
    if (s->multi)
        curl_multi_cleanup(s->multi);
    free(s->bucket);
    free(s->key);
    free(s->etag);
    free(s->etag_raw);
    free(s->version_id);
    cp_buf_release(&s->spill);
    cp_buf_release(&s->url);
    cp_aws_response_release(&s->resp);
}

static const char *unquote(char *etag)
{
    size_t n = strlen(etag);
    if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
        memmove(etag, etag + 1, n - 2);
        etag[n - 2] = '\0';
    }
    return etag;
}

/* After the HEAD: ranged GETs in parallel for an object larger than one part. */
static cp_status plan_parts(s3_source *s, cp_error *err)
{
    s->part_bytes =
        cp_env_count("CSVPIPE_S3_GET_PART_BYTES", GET_PART_DEFAULT, GET_PART_MIN, GET_PART_MAX);
    uint64_t in_flight =
        cp_env_count("CSVPIPE_S3_GETS_IN_FLIGHT", GETS_IN_FLIGHT_DEFAULT, 1, GETS_IN_FLIGHT_MAX);
    uint64_t size = (uint64_t)s->base.size;
    if (in_flight < 2 || size <= s->part_bytes)
        return CP_OK;
    s->nparts = (size + s->part_bytes - 1) / s->part_bytes;
    s->nslots = (unsigned)(in_flight < s->nparts ? in_flight : s->nparts);
    s->slots = calloc(s->nslots, sizeof *s->slots);
    if (!s->slots) {
        s->nslots = 0;
        return cp_error_set(err, CP_NOMEM, "out of memory opening %s", s->base.name);
    }
    for (unsigned i = 0; i < s->nslots; i++) {
        s->slots[i].s = s;
        cp_aws_response_init(&s->slots[i].resp);
        s->slots[i].resp.body.max = 64 * 1024;
    }
    return CP_OK;
}
cp_status cp_s3_source_open(cp_aws *aws, const char *uri, cp_source **out, cp_error *err)
{
    *out = NULL;
    s3_source *s = calloc(1, sizeof *s);
    if (!s)
        return cp_error_set(err, CP_NOMEM, "out of memory opening %s", uri);
    s->base.read = s3_read;
    s->base.rewind = s3_rewind;
    s->base.close = s3_close;
    s->base.size = -1;
    s->aws = aws;
    cp_buf_init(&s->spill, 1u << 20); /* holds the rest of one curl chunk (16 KiB) */
    cp_buf_init(&s->url, 1u << 16);
    cp_aws_response_init(&s->resp);
    s->resp.body.max = 64 * 1024;
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st;
    s->base.name = strdup(uri);
    if (!s->base.name)
        goto nomem;
    if (!cp_s3_parse_uri(uri, &s->bucket, &s->key) || !*s->key) {
        st = cp_error_set(err, CP_USAGE, "%s: not an S3 object URI; expected s3://bucket/key", uri);
        goto fail;
    }
    s->multi = curl_multi_init();
    s->easy = curl_easy_init();
    if (!s->multi || !s->easy)
        goto nomem;
    if (object_url(aws, s->bucket, s->key, NULL, &s->url) != CP_OK)
        goto nomem;
    cp_aws_request req = {.service = CP_AWS_S3, .method = "HEAD", .url = s->url.data};
    if ((st = cp_aws_call(aws, &req, &r, err)) != CP_OK) {
        cp_error_prefix(err, "%s", uri);
        goto fail;
    }
    if (r.status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s: HEAD", uri);
        if (r.status == 404) {
            st = cp_error_set(err, CP_NOT_FOUND,
                              "%s: no such object (HTTP 404); check the bucket and key", uri);
            goto fail;
        }
        st = cp_aws_fail(&r, err, what);
        goto fail;
    }
    char v[1024];
    if (cp_aws_response_header(&r, "Content-Length", v, sizeof v))
        s->base.size = strtoll(v, NULL, 10);
    if (s->base.size < 0) {
        st = cp_error_set(err, CP_IO, "%s: HEAD answered without a Content-Length", uri);
        goto fail;
    }
    if (!cp_aws_response_header(&r, "ETag", v, sizeof v))
        v[0] = '\0';
    s->etag_raw = strdup(v);
    s->etag = strdup(v);
    if (!s->etag_raw || !s->etag)
        goto nomem;
    unquote(s->etag);
    if (cp_aws_response_header(&r, "x-amz-version-id", v, sizeof v) && *v &&
        strcmp(v, "null") != 0 && !(s->version_id = strdup(v)))
        goto nomem;
    if ((st = plan_parts(s, err)) != CP_OK)
        goto fail;
    cp_aws_response_release(&r);
    *out = &s->base;
    return CP_OK;
nomem:
    st = cp_error_set(err, CP_NOMEM, "out of memory opening %s", uri);
fail:
    cp_aws_response_release(&r);
    cp_source_free(&s->base);
    return st;
}

const char *cp_s3_source_etag(const cp_source *src)
{
    return ((const s3_source *)src)->etag;
}

const char *cp_s3_source_version_id(const cp_source *src)
{
    return ((const s3_source *)src)->version_id;
}

unsigned cp_s3_source_resumes(const cp_source *src)
{
    return ((const s3_source *)src)->resumes;
}

uint64_t cp_s3_source_parts(const cp_source *src)
{
    return ((const s3_source *)src)->nparts;
}

uint64_t cp_s3_source_parts_early(const cp_source *src)
{
    return ((const s3_source *)src)->parts_early;
}

/* ---- uploads ------------------------------------------------------------------------------- */

/*
 * Parts in flight: a full part moves into a free slot and goes out as an UploadPart on the
 * upload's own multi handle. Every later write (each 64 KiB) and the commit drive the
 * transfers; a write waits only when every slot is taken. A failed attempt that may be
 * retried waits in its slot for its backoff and starts again from the same loop, so parts
 * finish in any order; their ETags are kept by part number for CompleteMultipartUpload.
 */

#define DEFAULT_IN_FLIGHT                                                                          \
    1 /* 2 takes S3 to S3 with Parquet + NDJSON past 128 MB (bench/results/s3_puts.md) */
#define MAX_IN_FLIGHT 16
#define POKE_BYTES (64u << 10)

typedef struct upload_part {
    unsigned number; /* 1-based; 0 = a free slot */
    cp_buf data;
    cp_aws_body body; /* data, as curl sends it */
    CURL *easy;
    void *hl;
    bool active;          /* in the multi handle; otherwise waiting for not_before */
    int attempt;          /* attempts started */
    long long not_before; /* monotonic ms */
    cp_aws_response resp;
    char curl_msg[CURL_ERROR_SIZE];
} upload_part;

struct cp_s3_upload {
    cp_aws *aws;
    char *uri, *bucket, *key;
    size_t part_size;
    cp_buf part; /* the part being filled */
    char *upload_id;
    char **etags; /* by part number - 1; NULL until that part is sent */
    unsigned nqueued;
    CURLM *multi;
    upload_part *slots;
    unsigned nslots, nbusy;
    uint64_t bytes, unpoked;
    bool committed, aborted;
    cp_error err; /* first failure; err.code CP_OK when none */
    cp_buf url, q;
};

static void init_slots(cp_s3_upload *u)
{
    for (unsigned i = 0; i < u->nslots; i++) {
        cp_buf_release(&u->slots[i].data);
        cp_buf_init(&u->slots[i].data, u->part_size);
    }
    cp_buf_release(&u->part);
    cp_buf_init(&u->part, u->part_size);
}

cp_status cp_s3_upload_new(cp_aws *aws, const char *uri, cp_s3_upload **out, cp_error *err)
{
    *out = NULL;
    cp_s3_upload *u = calloc(1, sizeof *u);
    if (!u || !(u->uri = strdup(uri))) {
        free(u);
        return cp_error_set(err, CP_NOMEM, "out of memory starting the upload of %s", uri);
    }
    u->aws = aws;
    if (!cp_s3_parse_uri(uri, &u->bucket, &u->key) || !*u->key) {
        free(u->bucket);
        free(u->key);
        free(u->uri);
        free(u);
        return cp_error_set(err, CP_USAGE, "%s: not an S3 object URI; expected s3://bucket/key",
                            uri);
    }
    u->part_size = (size_t)cp_env_count("CSVPIPE_S3_PART_SIZE", DEFAULT_PART, MIN_PART, 5ull << 30);
    u->nslots =
        (unsigned)cp_env_count("CSVPIPE_S3_PUTS_IN_FLIGHT", DEFAULT_IN_FLIGHT, 1, MAX_IN_FLIGHT);
    cp_buf_init(&u->url, 1u << 16);
    cp_buf_init(&u->q, 1u << 16);
    u->slots = calloc(u->nslots, sizeof *u->slots);
    u->multi = curl_multi_init();
    if (!u->slots || !u->multi) {
        cp_s3_upload_free(u);
        return cp_error_set(err, CP_NOMEM, "out of memory starting the upload of %s", uri);
    }
    for (unsigned i = 0; i < u->nslots; i++) {
        cp_aws_response_init(&u->slots[i].resp);
        u->slots[i].resp.body.max = 64 * 1024;
    }
    init_slots(u);
    *out = u;
    return CP_OK;
}

cp_status cp_s3_upload_set_part_size(cp_s3_upload *u, size_t bytes, cp_error *err)
{
    if (u->bytes || u->nqueued)
        return cp_error_set(err, CP_USAGE, "the part size must be set before the first write");
    if (bytes < MIN_PART)
        return cp_error_set(err, CP_USAGE, "S3 parts are at least 5 MiB (%u bytes), not %zu",
                            MIN_PART, bytes);
    u->part_size = bytes;
    init_slots(u);
    return CP_OK;
}

uint64_t cp_s3_upload_bytes(const cp_s3_upload *u)
{
    return u->bytes;
}

unsigned cp_s3_upload_parts(const cp_s3_upload *u)
{
    return u->nqueued;
}

/* q = "uploadId=<enc>" prefixed by prefix (already encoded, sorted before uploadId). */
static cp_status upload_query(cp_s3_upload *u, const char *prefix)
{
    cp_buf_reset(&u->q);
    CP_RETURN_IF_ERROR(cp_buf_append_str(&u->q, prefix));
    CP_RETURN_IF_ERROR(cp_buf_append_str(&u->q, "uploadId="));
    CP_RETURN_IF_ERROR(cp_aws_uri_encode(&u->q, u->upload_id, strlen(u->upload_id), false));
    return object_url(u->aws, u->bucket, u->key, u->q.data, &u->url);
}

static cp_status create_upload(cp_s3_upload *u, cp_error *err)
{
    cp_status st = object_url(u->aws, u->bucket, u->key, "uploads=", &u->url);
    if (st != CP_OK)
        return cp_error_set(err, st, "%s: building the request", u->uri);
    cp_aws_request req = {.service = CP_AWS_S3, .method = "POST", .url = u->url.data};
    cp_aws_response r;
    cp_aws_response_init(&r);
    st = cp_aws_call(u->aws, &req, &r, err);
    if (st == CP_OK && r.status != 200) {
        char what[600];
        snprintf(what, sizeof what, "%s: CreateMultipartUpload", u->uri);
        st = cp_aws_fail(&r, err, what);
    }
    if (st == CP_OK) {
        cp_buf id;
        cp_buf_init(&id, 4096);
        if (cp_xml_tag(r.body.data, r.body.len, "UploadId", &id) && id.len)
            u->upload_id = cp_buf_detach(&id, NULL);
        else
            st = cp_error_set(err, CP_IO, "%s: CreateMultipartUpload answered without an UploadId",
                              u->uri);
        cp_buf_release(&id);
    }
    cp_aws_response_release(&r);
    return st;
}

static size_t part_body(char *data, size_t size, size_t n, void *ctx)
{
    upload_part *p = ctx;
    cp_buf_append(&p->resp.body, data, size * n); /* bounded; the rest is dropped */
    return size * n;
}

static void stop_part(cp_s3_upload *u, upload_part *p)
{
    if (p->easy) {
        if (p->active)
            curl_multi_remove_handle(u->multi, p->easy);
        curl_easy_cleanup(p->easy); /* never reused: see aws.c */
    }
    p->easy = NULL;
    p->active = false;
    curl_slist_free_all(p->hl);
    p->hl = NULL;
}

/* Starts the next attempt of the part in slot p; failures go to u->err. */
static cp_status start_part(cp_s3_upload *u, upload_part *p)
{
    char prefix[48];
    snprintf(prefix, sizeof prefix, "partNumber=%u&", p->number);
    cp_status st = upload_query(u, prefix);
    if (st != CP_OK)
        return cp_error_set(&u->err, st, "%s: building the request", u->uri);
    if (!(p->easy = curl_easy_init()))
        return cp_error_set(&u->err, CP_NOMEM, "%s: out of memory", u->uri);
    cp_aws_request req = {.service = CP_AWS_S3,
                          .method = "PUT",
                          .url = u->url.data,
                          .body_len = p->data.len,
                          .timeout_ms = 600000};
    st = cp_aws_prepare(u->aws, p->easy, &req, &p->hl, &u->err);
    if (st != CP_OK) {
        stop_part(u, p);
        return st;
    }
    p->body = (cp_aws_body){p->data.data, p->data.len, 0};
    p->attempt++;
    p->resp.status = 0;
    p->resp.code[0] = p->resp.message[0] = '\0';
    cp_buf_reset(&p->resp.body);
    cp_buf_reset(&p->resp.head);
    p->curl_msg[0] = '\0';
    cp_aws_set_body(p->easy, &p->body);
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, part_body);
    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_HEADERFUNCTION, cp_aws_head_callback);
    curl_easy_setopt(p->easy, CURLOPT_HEADERDATA, &p->resp);
    curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->curl_msg);
    curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
    if (curl_multi_add_handle(u->multi, p->easy) != CURLM_OK) {
        stop_part(u, p);
        return cp_error_set(&u->err, CP_INTERNAL, "%s: curl_multi_add_handle failed", u->uri);
    }
    p->active = true;
    return CP_OK;
}

/* The attempt of slot p ended with result: the part is sent, waits to be retried, or failed. */
static void part_done(cp_s3_upload *u, upload_part *p, CURLcode result)
{
    long status = 0;
    if (result == CURLE_OK)
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    p->resp.status = status;
    stop_part(u, p);
    char etag[512];
    if (result == CURLE_OK && status == 200) {
        if (!cp_aws_response_header(&p->resp, "ETag", etag, sizeof etag)) {
            cp_error_set(&u->err, CP_IO, "%s: UploadPart %u answered without an ETag", u->uri,
                         p->number);
            return;
        }
        if (!(u->etags[p->number - 1] = strdup(etag))) {
            cp_error_set(&u->err, CP_NOMEM, "out of memory");
            return;
        }
        p->number = 0;
        cp_buf_reset(&p->data);
        u->nbusy--;
        cp_fault_point("s3-part-sent");
        return;
    }
    bool retry;
    if (result != CURLE_OK) {
        retry = cp_aws_retryable((int)result, 0, NULL);
    } else {
        cp_aws_parse_error(&p->resp);
        retry = cp_aws_retryable(0, status, p->resp.code);
    }
    if (retry && p->attempt < cp_aws_max_attempts(u->aws)) {
        cp_log_debug("%s: UploadPart %u: %s (HTTP %ld %s), retrying (attempt %d of %d)", u->uri,
                     p->number, result ? curl_easy_strerror(result) : "answered", status,
                     p->resp.code, p->attempt + 1, cp_aws_max_attempts(u->aws));
        p->not_before = now_ms() + cp_aws_backoff_ms(p->attempt);
        return;
    }
    if (u->err.code != CP_OK)
        return;
    if (result != CURLE_OK) {
        cp_error_set(&u->err, CP_IO, "%s: UploadPart %u failed after %d attempt%s: %s", u->uri,
                     p->number, p->attempt, p->attempt == 1 ? "" : "s",
                     p->curl_msg[0] ? p->curl_msg : curl_easy_strerror(result));
    } else {
        char what[600];
        snprintf(what, sizeof what, "%s: UploadPart %u (attempt %d)", u->uri, p->number,
                 p->attempt);
        cp_aws_fail(&p->resp, &u->err, what);
    }
}

typedef enum { PUMP_ONCE, PUMP_SLOT, PUMP_ALL } pump_goal;

/*
 * Drives the parts in flight (starting those whose backoff is over) once, or until a slot
 * is free, or until every part is sent. Returns u->err's code.
 */
static cp_status pump_parts(cp_s3_upload *u, pump_goal goal)
{
    for (;;) {
        long long now = now_ms(), next = 0;
        for (unsigned i = 0; i < u->nslots && u->err.code == CP_OK; i++) {
            upload_part *p = &u->slots[i];
            if (!p->number || p->active)
                continue;
            if (p->not_before <= now)
                start_part(u, p);
            else if (next == 0 || p->not_before < next)
                next = p->not_before;
        }
        if (u->err.code != CP_OK)
            return u->err.code;
        int running = 0;
        curl_multi_perform(u->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(u->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                upload_part *p = NULL;
                CURLcode result = m->data.result;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
                part_done(u, p, result);
            }
        if (u->err.code != CP_OK)
            return u->err.code;
        if (goal == PUMP_ONCE || (goal == PUMP_SLOT && u->nbusy < u->nslots) ||
            (goal == PUMP_ALL && u->nbusy == 0))
            return CP_OK;
        int wait = 1000;
        if (next > 0) {
            long long w = next - now_ms() + 1;
            wait = w < 1 ? 1 : w < 1000 ? (int)w : 1000;
        }
        curl_multi_poll(u->multi, NULL, 0, wait, NULL);
    }
}

/* Hands the filled part to a free slot (waiting for one) and starts sending it. */
static cp_status queue_part(cp_s3_upload *u)
{
    if (!u->upload_id)
        CP_RETURN_IF_ERROR(create_upload(u, &u->err));
    if (u->nqueued >= MAX_PARTS)
        return cp_error_set(&u->err, CP_TOO_LARGE,
                            "%s: more than %d parts of %zu bytes; raise CSVPIPE_S3_PART_SIZE",
                            u->uri, MAX_PARTS, u->part_size);
    char **grown = realloc(u->etags, (u->nqueued + 1) * sizeof *grown);
    if (!grown)
        return cp_error_set(&u->err, CP_NOMEM, "out of memory");
    u->etags = grown;
    grown[u->nqueued] = NULL;
    if (u->nbusy == u->nslots)
        CP_RETURN_IF_ERROR(pump_parts(u, PUMP_SLOT));
    upload_part *p = u->slots;
    while (p->number)
        p++;
    cp_buf filled = u->part;
    u->part = p->data;
    p->data = filled;
    cp_buf_reset(&u->part);
    p->number = ++u->nqueued;
    p->attempt = 0;
    p->not_before = 0;
    u->nbusy++;
    u->unpoked = 0;
    return pump_parts(u, PUMP_ONCE);
}

cp_status cp_s3_upload_write(void *upload, const void *data, size_t len)
{
    cp_s3_upload *u = upload;
    if (u->err.code != CP_OK)
        return u->err.code;
    if (u->committed || u->aborted)
        return cp_error_set(&u->err, CP_USAGE, "%s: write after commit or abort", u->uri);
    if (u->nbusy && (u->unpoked += len) >= POKE_BYTES) {
        u->unpoked = 0;
        CP_RETURN_IF_ERROR(pump_parts(u, PUMP_ONCE));
    }
    const char *p = data;
    while (len) {
        if (u->part.len == u->part_size)
            CP_RETURN_IF_ERROR(queue_part(u));
        size_t k = u->part_size - u->part.len;
        if (k > len)
            k = len;
        cp_status st = cp_buf_append(&u->part, p, k);
        if (st != CP_OK)
            return cp_error_set(&u->err, st, "%s: out of memory for a %zu-byte part", u->uri,
                                u->part_size);
        p += k;
        len -= k;
        u->bytes += k;
    }
    return CP_OK;
}
cp_status cp_s3_put(cp_aws *aws, const char *uri, const void *data, size_t len,
                    const char *content_type, cp_error *err)
{
    char *bucket, *key;
    if (!cp_s3_parse_uri(uri, &bucket, &key) || !*key) {
        if (cp_s3_parse_uri(uri, &bucket, &key)) {
            free(bucket);
            free(key);
        }
        return cp_error_set(err, CP_USAGE, "%s: not an S3 object URI; expected s3://bucket/key",
                            uri);
    }
    cp_buf url;
    cp_buf_init(&url, 1u << 16);
    char ct[256];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "");
    const char *hdrs[] = {content_type ? ct : NULL, NULL};
    cp_status st = object_url(aws, bucket, key, NULL, &url);
    cp_aws_response r;
    cp_aws_response_init(&r);
    if (st != CP_OK)
        st = cp_error_set(err, st, "%s: building the request", uri);
    else {
        cp_aws_request req = {.service = CP_AWS_S3,
                              .method = "PUT",
                              .url = url.data,
                              .headers = hdrs,
                              .body = data,
                              .body_len = len,
                              .timeout_ms = 600000};
        st = cp_aws_call(aws, &req, &r, err);
        if (st == CP_OK && r.status != 200) {
            char what[600];
            snprintf(what, sizeof what, "%s: PutObject", uri);
            st = cp_aws_fail(&r, err, what);
        }
    }
    cp_aws_response_release(&r);
    cp_buf_release(&url);
    free(bucket);
    free(key);
    return st;
}

/* After a lost answer to a completed Complete, its retry finds no upload: check the object. */
static bool completed_meanwhile(cp_s3_upload *u)
{
    cp_error e;
    cp_source *s;
    if (cp_s3_source_open(u->aws, u->uri, &s, &e) != CP_OK)
        return false;
    const char *etag = cp_s3_source_etag(s);
    char suffix[32];
    snprintf(suffix, sizeof suffix, "-%u", u->nqueued);
    size_t el = strlen(etag), sl = strlen(suffix);
    bool ok = (uint64_t)s->size == u->bytes && el > sl && strcmp(etag + el - sl, suffix) == 0;
    cp_source_free(s);
    return ok;
}

static cp_status complete_upload(cp_s3_upload *u, cp_error *err)
{
    cp_buf body;
    cp_buf_init(&body, CP_BUF_UNLIMITED);
    cp_status st = cp_buf_append_str(&body, "<CompleteMultipartUpload>");
    for (unsigned i = 0; st == CP_OK && i < u->nqueued; i++) {
        st = cp_buf_printf(&body, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
        for (const char *c = u->etags[i]; st == CP_OK && *c; c++)
            st = *c == '"'   ? cp_buf_append_str(&body, "&quot;")
                 : *c == '&' ? cp_buf_append_str(&body, "&amp;")
                             : cp_buf_append_char(&body, *c);
        if (st == CP_OK)
            st = cp_buf_append_str(&body, "</ETag></Part>");
    }
    if (st == CP_OK)
        st = cp_buf_append_str(&body, "</CompleteMultipartUpload>");
    if (st == CP_OK)
        st = upload_query(u, "");
    if (st != CP_OK) {
        cp_buf_release(&body);
        return cp_error_set(err, st, "%s: out of memory", u->uri);
    }
    const char *hdrs[] = {"Content-Type: application/xml", NULL};
    cp_aws_request req = {.service = CP_AWS_S3,
                          .method = "POST",
                          .url = u->url.data,
                          .headers = hdrs,
                          .body = body.data,
                          .body_len = body.len,
                          .timeout_ms = 600000};
    cp_aws_response r;
    cp_aws_response_init(&r);
    st = cp_aws_call(u->aws, &req, &r, err);
    if (st == CP_OK && r.status == 200 && r.body.data && strstr(r.body.data, "<Error>")) {
        /* S3 may report a failure inside a 200 answer */
        cp_aws_parse_error(&r);
        r.status = 500;
    }
    if (st == CP_OK && r.status != 200) {
        if (strcmp(r.code, "NoSuchUpload") == 0 && completed_meanwhile(u)) {
            st = CP_OK;
        } else {
            char what[600];
            snprintf(what, sizeof what, "%s: CompleteMultipartUpload", u->uri);
            st = cp_aws_fail(&r, err, what);
        }
    }
    cp_aws_response_release(&r);
    cp_buf_release(&body);
    return st;
}

cp_status cp_s3_upload_commit(cp_s3_upload *u, cp_error *err)
{
    if (!u)
        return cp_error_set(err, CP_USAGE, "cp_s3_upload_commit: NULL upload");
    if (u->err.code != CP_OK) {
        if (err)
            *err = u->err;
        return u->err.code;
    }
    if (u->committed)
        return CP_OK;
    if (u->aborted)
        return cp_error_set(err, CP_USAGE, "%s: commit after abort", u->uri);
    cp_status st;
    if (!u->upload_id) {
        st = cp_s3_put(u->aws, u->uri, u->part.data ? u->part.data : "", u->part.len, NULL, err);
    } else {
        st = u->part.len ? queue_part(u) : CP_OK;
        if (st == CP_OK)
            st = pump_parts(u, PUMP_ALL);
        if (st != CP_OK && err)
            *err = u->err;
        if (st == CP_OK)
            st = complete_upload(u, err);
    }
    if (st != CP_OK) {
        cp_s3_upload_abort(u);
        return st;
    }
    u->committed = true;
    cp_buf_release(&u->part);
    for (unsigned i = 0; i < u->nslots; i++)
        cp_buf_release(&u->slots[i].data);
    return CP_OK;
}

void cp_s3_upload_abort(cp_s3_upload *u)
{
    if (!u || u->committed || u->aborted)
        return;
    u->aborted = true;
    cp_buf_release(&u->part);
    for (unsigned i = 0; u->slots && i < u->nslots; i++) {
        stop_part(u, &u->slots[i]);
        u->slots[i].number = 0;
        cp_buf_release(&u->slots[i].data);
    }
    u->nbusy = 0;
    if (!u->upload_id)
        return;
    if (upload_query(u, "") != CP_OK)
        return;
    cp_aws_request req = {.service = CP_AWS_S3, .method = "DELETE", .url = u->url.data};
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_error e;
    cp_error_clear(&e);
    if (cp_aws_call(u->aws, &req, &r, &e) != CP_OK)
        cp_log_warn("%s: AbortMultipartUpload %s failed: %s; a lifecycle rule "
                    "(AbortIncompleteMultipartUpload) will clean the parts up",
                    u->uri, u->upload_id, e.message);
    else if (r.status != 204 && r.status != 200 && r.status != 404)
        cp_log_warn("%s: AbortMultipartUpload %s: HTTP %ld %s", u->uri, u->upload_id, r.status,
                    r.code);
    cp_aws_response_release(&r);
}

void cp_s3_upload_free(cp_s3_upload *u)
{
    if (!u)
        return;
    cp_s3_upload_abort(u);
    for (unsigned i = 0; i < u->nqueued; i++)
        free(u->etags[i]);
    free(u->etags);
    for (unsigned i = 0; u->slots && i < u->nslots; i++) {
        cp_buf_release(&u->slots[i].data);
        cp_aws_response_release(&u->slots[i].resp);
    }
    free(u->slots);
    if (u->multi)
        curl_multi_cleanup(u->multi);
    free(u->upload_id);
    free(u->uri);
    free(u->bucket);
    free(u->key);
    cp_buf_release(&u->part);
    cp_buf_release(&u->url);
    cp_buf_release(&u->q);
    free(u);
}

cp_status cp_s3_abort_uploads(cp_aws *aws, const char *uri, unsigned *aborted, cp_error *err)
{
    if (aborted)
        *aborted = 0;
    char *bucket, *key;
    if (!cp_s3_parse_uri(uri, &bucket, &key))
        return cp_error_set(err, CP_USAGE, "%s: not an S3 URI; expected s3://bucket/key", uri);
    cp_buf q, url, item, id;
    cp_buf_init(&q, 1u << 16);
    cp_buf_init(&url, 1u << 16);
    cp_buf_init(&item, 1u << 16);
    cp_buf_init(&id, 4096);
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st = *key ? CP_OK : cp_error_set(err, CP_USAGE, "%s: no key", uri);
    if (st == CP_OK && ((st = cp_buf_append_str(&q, "prefix=")) != CP_OK ||
                        (st = cp_aws_uri_encode(&q, key, strlen(key), false)) != CP_OK ||
                        (st = cp_buf_append_str(&q, "&uploads=")) != CP_OK ||
                        (st = object_url(aws, bucket, "", q.data, &url)) != CP_OK))
        st = cp_error_set(err, st, "%s: building the request", uri);
    if (st == CP_OK) {
        cp_aws_request req = {
            .service = CP_AWS_S3, .method = "GET", .url = url.data, .max_response = 16u << 20};
        st = cp_aws_call(aws, &req, &r, err);
        if (st == CP_OK && r.status != 200) {
            char what[600];
            snprintf(what, sizeof what, "%s: ListMultipartUploads", uri);
            st = cp_aws_fail(&r, err, what);
        }
    }
    /* each <Upload>...</Upload> with this very Key (the prefix matches longer keys too) */
    const char *p = r.body.data, *end = r.body.data ? r.body.data + r.body.len : NULL;
    while (st == CP_OK && p && (p = strstr(p, "<Upload>")) != NULL) {
        const char *e = strstr(p, "</Upload>");
        if (!e || e > end)
            break;
        cp_buf_reset(&item);
        cp_buf_reset(&id);
        if (cp_xml_tag(p, (size_t)(e - p), "Key", &item) && item.data &&
            strcmp(item.data, key) == 0 && cp_xml_tag(p, (size_t)(e - p), "UploadId", &id) &&
            id.len) {
            cp_buf_reset(&q);
            st = cp_buf_append_str(&q, "uploadId=");
            if (st == CP_OK)
                st = cp_aws_uri_encode(&q, id.data, id.len, false);
            if (st == CP_OK)
                st = object_url(aws, bucket, key, q.data, &url);
            if (st != CP_OK) {
                st = cp_error_set(err, st, "%s: building the request", uri);
                break;
            }
            cp_aws_request req = {.service = CP_AWS_S3, .method = "DELETE", .url = url.data};
            cp_aws_response ar;
            cp_aws_response_init(&ar);
            st = cp_aws_call(aws, &req, &ar, err);
            if (st == CP_OK && ar.status != 204 && ar.status != 200 && ar.status != 404) {
                char what[700];
                snprintf(what, sizeof what, "%s: AbortMultipartUpload %s", uri, id.data);
                st = cp_aws_fail(&ar, err, what);
            }
            cp_aws_response_release(&ar);
            if (st == CP_OK && aborted)
                ++*aborted;
        }
        p = e;
    }
    cp_aws_response_release(&r);
    cp_buf_release(&q);
    cp_buf_release(&url);
    cp_buf_release(&item);
    cp_buf_release(&id);
    free(bucket);
    free(key);
    return st;
}

/* The keys of one ListObjectsV2 page to each; *token the next page's, empty at the end. */
static cp_status list_page(const cp_aws_response *r, cp_status (*each)(void *, const char *),
                           void *ctx, cp_buf *token)
{
    cp_buf key;
    cp_buf_init(&key, 1u << 16);
    cp_status st = CP_OK;
    const char *p = r->body.data, *end = r->body.data ? r->body.data + r->body.len : NULL;
    while (st == CP_OK && p && (p = strstr(p, "<Contents>")) != NULL) {
        const char *e = strstr(p, "</Contents>");
        if (!e || e > end)
            break;
        cp_buf_reset(&key);
        if (cp_xml_tag(p, (size_t)(e - p), "Key", &key) && key.data)
            st = each(ctx, key.data);
        p = e;
    }
    cp_buf_release(&key);
    cp_buf_reset(token);
    cp_buf truncated;
    cp_buf_init(&truncated, 64);
    if (st == CP_OK && r->body.data &&
        cp_xml_tag(r->body.data, r->body.len, "IsTruncated", &truncated) && truncated.data &&
        strcmp(truncated.data, "true") == 0 &&
        !cp_xml_tag(r->body.data, r->body.len, "NextContinuationToken", token))
        cp_buf_reset(token);
    cp_buf_release(&truncated);
    return st;
}

cp_status cp_s3_list(cp_aws *aws, const char *bucket, const char *prefix,
                     cp_status (*each)(void *ctx, const char *key), void *ctx, cp_error *err)
{
    cp_buf q, url, token;
    cp_buf_init(&q, 1u << 16);
    cp_buf_init(&url, 1u << 16);
    cp_buf_init(&token, 4096);
    cp_status st = CP_OK;
    do {
        cp_buf_reset(&q);
        if (token.len && ((st = cp_buf_append_str(&q, "continuation-token=")) != CP_OK ||
                          (st = cp_aws_uri_encode(&q, token.data, token.len, false)) != CP_OK ||
                          (st = cp_buf_append_char(&q, '&')) != CP_OK))
            break;
        if ((st = cp_buf_append_str(&q, "list-type=2&prefix=")) != CP_OK ||
            (st = cp_aws_uri_encode(&q, prefix, strlen(prefix), false)) != CP_OK ||
            (st = object_url(aws, bucket, "", q.data, &url)) != CP_OK) {
            st = cp_error_set(err, st, "s3://%s/%s: building the request", bucket, prefix);
            break;
        }
        cp_aws_request req = {
            .service = CP_AWS_S3, .method = "GET", .url = url.data, .max_response = 16u << 20};
        cp_aws_response r;
        cp_aws_response_init(&r);
        st = cp_aws_call(aws, &req, &r, err);
        if (st == CP_OK && r.status != 200) {
            char what[600];
            snprintf(what, sizeof what, "s3://%s/%s: ListObjectsV2", bucket, prefix);
            st = cp_aws_fail(&r, err, what);
        }
        if (st == CP_OK)
            st = list_page(&r, each, ctx, &token);
        cp_aws_response_release(&r);
    } while (st == CP_OK && token.len);
    cp_buf_release(&q);
    cp_buf_release(&url);
    cp_buf_release(&token);
    return st;
}

cp_status cp_s3_delete(cp_aws *aws, const char *uri, cp_error *err)
{
    char *bucket, *key;
    if (!cp_s3_parse_uri(uri, &bucket, &key))
        return cp_error_set(err, CP_USAGE, "%s: not an S3 URI; expected s3://bucket/key", uri);
    cp_status st;
    if (!*key) {
        st = cp_error_set(err, CP_USAGE, "%s: no key to delete", uri);
        goto out;
    }
    cp_buf url;
    cp_buf_init(&url, 1u << 16);
    st = object_url(aws, bucket, key, NULL, &url);
    if (st == CP_OK) {
        cp_aws_request req = {.service = CP_AWS_S3, .method = "DELETE", .url = url.data};
        cp_aws_response r;
        cp_aws_response_init(&r);
        st = cp_aws_call(aws, &req, &r, err);
        if (st == CP_OK && r.status != 204 && r.status != 200 && r.status != 404) {
            char what[600];
            snprintf(what, sizeof what, "%s: DeleteObject", uri);
            st = cp_aws_fail(&r, err, what);
        }
        cp_aws_response_release(&r);
    } else {
        st = cp_error_set(err, st, "%s: building the request", uri);
    }
    cp_buf_release(&url);
out:
    free(bucket);
    free(key);
    return st;
}
