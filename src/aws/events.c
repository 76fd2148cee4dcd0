/*
 * events.c - S3, SQS and EventBridge events to a flat list of object records.
 *
 * The parser walks the event with jansson and appends one record per object in event
 * order. Damage is kept as local as the event allows: a bad SQS message becomes one
 * INVALID record carrying its messageId (so only that message is retried), while an event
 * that is not JSON or of no known shape fails as a whole.
 */
#define _GNU_SOURCE
#include "aws/events.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* An SQS body may hold an SNS notification whose Message holds the S3 event: two levels. */
#define MAX_WRAPPING 2

typedef struct parse_ctx {
    cp_event *ev;
    bool nomem;
} parse_ctx;

static void record_release(cp_event_record *r)
{
    free(r->message_id);
    free(r->bucket);
    free(r->key);
    free(r->etag);
    free(r->version_id);
    free(r->sequencer);
    free(r->event_name);
    free(r->reason);
}

void cp_event_release(cp_event *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->nrecords; i++)
        record_release(&ev->records[i]);
    free(ev->records);
    ev->records = NULL;
    ev->nrecords = 0;
}

static char *dup_or_flag(parse_ctx *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        c->nomem = true;
    return d;
}

/* The string value of obj[name], or NULL when absent or not a string. */
static const char *get_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

/* A new zeroed record at the end of the list (NULL on allocation failure). */
static cp_event_record *push(parse_ctx *c, const char *message_id)
{
    cp_event *ev = c->ev;
    cp_event_record *r = realloc(ev->records, (ev->nrecords + 1) * sizeof *r);
    if (!r) {
        c->nomem = true;
        return NULL;
    }
    ev->records = r;
    r = &ev->records[ev->nrecords++];
    memset(r, 0, sizeof *r);
    r->size = -1;
    r->message_id = dup_or_flag(c, message_id);
    return r;
}

/* Marks r as action with a printf-formatted reason. */
static void set_reason(parse_ctx *c, cp_event_record *r, cp_event_action action, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
static void set_reason(parse_ctx *c, cp_event_record *r, cp_event_action action, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(r->reason);
    r->reason = NULL;
    if (vasprintf(&r->reason, fmt, ap) < 0) {
        r->reason = NULL;
        c->nomem = true;
    }
    va_end(ap);
    r->action = action;
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

cp_status cp_url_decode_key(const char *in, size_t len, char **out, cp_error *err)
{
    *out = NULL;
    char *o = malloc(len + 1);
    if (!o)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '+') {
            o[n++] = ' ';
        } else if (ch == '%') {
            int hi = i + 1 < len ? hex_value((unsigned char)in[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value((unsigned char)in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(o);
                return cp_error_set(err, CP_FORMAT,
                                    "the key has a broken %%-escape at byte %zu (expected %%XX "
                                    "with two hexadecimal digits)",
                                    i + 1);
            }
            if (hi == 0 && lo == 0) {
                free(o);
                return cp_error_set(err, CP_FORMAT, "the key has an escaped NUL byte at byte %zu",
                                    i + 1);
            }
            o[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '\0') {
            free(o);
            return cp_error_set(err, CP_FORMAT, "the key has a NUL byte at byte %zu", i + 1);
        } else {
            o[n++] = (char)ch;
        }
    }
    o[n] = '\0';
    *out = o;
    return CP_OK;
}

/* Size from a JSON number or a string of digits; -1 otherwise. */
static int64_t get_size(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9.2e18)
        return (int64_t)json_real_value(v);
    const char *s = json_string_value(v);
    if (s && *s) {
        char *end;
        long long n = strtoll(s, &end, 10);
        if (*end == '\0' && n >= 0)
            return (int64_t)n;
    }
    return -1;
}

/*
 * An S3 bucket name, legacy names included: 1 to 255 of letters, digits, '.', '-', '_'.
 * Anything else (a '/' above all) would make "s3://bucket/key" name another object.
 */
static bool bucket_name_ok(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 255 &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

/*
 * Fills the object fields of r from bucket/object nodes; keys named by the shape
 * (S3 notification: eTag/versionId; EventBridge: etag/version-id).
 */
static void fill_object(parse_ctx *c, cp_event_record *r, const json_t *bucket,
                        const json_t *object, const char *etag_name, const char *version_name)
{
    const char *name = get_str(bucket, "name");
    const json_t *key = json_object_get(object, "key");
    if (!name || !*name) {
        set_reason(c, r, CP_EVENT_INVALID, "the record names no bucket (bucket.name)");
        return;
    }
    r->bucket = dup_or_flag(c, name);
    if (!bucket_name_ok(name)) {
        set_reason(c, r, CP_EVENT_INVALID, "the bucket name '%s' is not an S3 bucket name", name);
        return;
    }
    if (!json_is_string(key) || json_string_length(key) == 0) {
        set_reason(c, r, CP_EVENT_INVALID, "the record names no object key (object.key)");
        return;
    }
    cp_error e;
    cp_error_clear(&e);
    if (cp_url_decode_key(json_string_value(key), json_string_length(key), &r->key, &e) != CP_OK) {
        if (e.code == CP_NOMEM)
            c->nomem = true;
        set_reason(c, r, CP_EVENT_INVALID, "object key '%s': %s", json_string_value(key),
                   e.message);
        return;
    }
    r->size = get_size(json_object_get(object, "size"));
    r->etag = dup_or_flag(c, get_str(object, etag_name));
    r->version_id = dup_or_flag(c, get_str(object, version_name));
    r->sequencer = dup_or_flag(c, get_str(object, "sequencer"));
}

/* One Records[] entry with eventSource aws:s3. */
static void add_s3_record(parse_ctx *c, const json_t *rec, const char *message_id)
{
    cp_event_record *r = push(c, message_id);
    if (!r)
        return;
    const char *name = get_str(rec, "eventName");
    r->event_name = dup_or_flag(c, name);
    const json_t *s3 = json_object_get(rec, "s3");
    if (!json_is_object(s3)) {
        set_reason(c, r, CP_EVENT_INVALID, "the S3 record has no \"s3\" object");
        return;
    }
    fill_object(c, r, json_object_get(s3, "bucket"), json_object_get(s3, "object"), "eTag",
                "versionId");
    if (r->action == CP_EVENT_LOAD && name && strncmp(name, "ObjectCreated:", 14) != 0 &&
        strncmp(name, "s3:ObjectCreated:", 17) != 0)
        set_reason(c, r, CP_EVENT_IGNORE, "event %s is not an object creation", name);
}

/* One EventBridge event from aws.s3. */
static void add_eventbridge(parse_ctx *c, const json_t *obj, const char *message_id)
{
    cp_event_record *r = push(c, message_id);
    if (!r)
        return;
    const char *type = get_str(obj, "detail-type");
    r->event_name = dup_or_flag(c, type);
    const json_t *detail = json_object_get(obj, "detail");
    if (!json_is_object(detail)) {
        set_reason(c, r, CP_EVENT_INVALID, "the EventBridge event has no \"detail\" object");
        return;
    }
    fill_object(c, r, json_object_get(detail, "bucket"), json_object_get(detail, "object"), "etag",
                "version-id");
    if (r->action == CP_EVENT_LOAD && (!type || strcmp(type, "Object Created") != 0))
        set_reason(c, r, CP_EVENT_IGNORE, "detail-type '%s' is not Object Created",
                   type ? type : "(none)");
}

static void add_test_event(parse_ctx *c, const json_t *obj, const char *message_id)
{
    cp_event_record *r = push(c, message_id);
    if (!r)
        return;
    r->event_name = dup_or_flag(c, "s3:TestEvent");
    r->bucket = dup_or_flag(c, get_str(obj, "Bucket"));
    set_reason(c, r, CP_EVENT_IGNORE, "S3 test event");
}

static bool is_test_event(const json_t *obj)
{
    const char *e = get_str(obj, "Event");
    return e && strcmp(e, "s3:TestEvent") == 0;
}

static bool is_eventbridge(const json_t *obj)
{
    const char *src = get_str(obj, "source");
    return src && strcmp(src, "aws.s3") == 0 && json_object_get(obj, "detail");
}

/* The body of one SQS message (or the Message of an SNS notification inside it). */
static void add_body(parse_ctx *c, const char *text, size_t len, const char *message_id, int depth)
{
    json_error_t jerr;
    json_t *body = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(body)) {
        cp_event_record *r = push(c, message_id);
        if (r && body)
            set_reason(c, r, CP_EVENT_INVALID, "the message body is not a JSON object");
        else if (r)
            set_reason(c, r, CP_EVENT_INVALID,
                       "the message body is not JSON: %s (line %d, column %d)", jerr.text,
                       jerr.line, jerr.column);
        json_decref(body);
        return;
    }
    const json_t *records = json_object_get(body, "Records");
    const char *sns_type = get_str(body, "Type");
    const json_t *sns_message = json_object_get(body, "Message");
    if (json_is_array(records) && json_array_size(records) > 0) {
        size_t i;
        const json_t *rec;
        json_array_foreach(records, i, rec)
        {
            const char *es = get_str(rec, "eventSource");
            if (es && strcmp(es, "aws:s3") == 0) {
                add_s3_record(c, rec, message_id);
            } else {
                cp_event_record *r = push(c, message_id);
                if (r)
                    set_reason(c, r, CP_EVENT_INVALID,
                               "record %zu of the message body has eventSource '%s', not aws:s3", i,
                               es ? es : "(none)");
            }
        }
    } else if (is_test_event(body)) {
        add_test_event(c, body, message_id);
    } else if (is_eventbridge(body)) {
        add_eventbridge(c, body, message_id);
    } else if (sns_type && strcmp(sns_type, "Notification") == 0 && json_is_string(sns_message) &&
               depth < MAX_WRAPPING) {
        add_body(c, json_string_value(sns_message), json_string_length(sns_message), message_id,
                 depth + 1);
    } else {
        cp_event_record *r = push(c, message_id);
        if (r)
            set_reason(c, r, CP_EVENT_INVALID,
                       "the message body is not an S3 event notification, an S3 test event, an "
                       "EventBridge event or an SNS notification of one");
    }
    json_decref(body);
}

/* One Records[] entry with eventSource aws:sqs. */
static cp_status add_sqs_message(parse_ctx *c, const json_t *rec, size_t index, cp_error *err)
{
    const char *id = get_str(rec, "messageId");
    if (!id || !*id)
        return cp_error_set(err, CP_FORMAT,
                            "SQS record %zu has no messageId, so it could not be reported as "
                            "failed; every SQS record must have one",
                            index);
    const json_t *body = json_object_get(rec, "body");
    if (!json_is_string(body)) {
        cp_event_record *r = push(c, id);
        if (r)
            set_reason(c, r, CP_EVENT_INVALID, "SQS message %s has no string body", id);
        return CP_OK;
    }
    add_body(c, json_string_value(body), json_string_length(body), id, 0);
    return CP_OK;
}

cp_status cp_event_parse(const char *json, size_t len, cp_event *ev, cp_error *err)
{
    memset(ev, 0, sizeof *ev);
    parse_ctx c = {ev, false};
    cp_status st = CP_OK;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return cp_error_set(err, CP_FORMAT, "the event is not valid JSON: %s (line %d, column %d)",
                            jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        st = cp_error_set(err, CP_FORMAT,
                          "the event is not a JSON object; expected an S3 event notification, "
                          "SQS messages or an EventBridge event");
        goto out;
    }
    const json_t *records = json_object_get(root, "Records");
    if (records) {
        if (!json_is_array(records) || json_array_size(records) == 0) {
            st = cp_error_set(err, CP_FORMAT, "the event's \"Records\" is not a non-empty array");
            goto out;
        }
        const char *first = get_str(json_array_get(records, 0), "eventSource");
        ev->source = first && strcmp(first, "aws:sqs") == 0 ? CP_EVENT_FROM_SQS : CP_EVENT_FROM_S3;
        size_t i;
        const json_t *rec;
        json_array_foreach(records, i, rec)
        {
            const char *es = get_str(rec, "eventSource");
            if (ev->source == CP_EVENT_FROM_SQS) {
                if (!es || strcmp(es, "aws:sqs") != 0) {
                    st = cp_error_set(err, CP_FORMAT,
                                      "record %zu has eventSource '%s' in a batch of SQS "
                                      "messages; expected aws:sqs",
                                      i, es ? es : "(none)");
                    goto out;
                }
                if ((st = add_sqs_message(&c, rec, i, err)) != CP_OK)
                    goto out;
            } else if (es && strcmp(es, "aws:s3") == 0) {
                add_s3_record(&c, rec, NULL);
            } else {
                cp_event_record *r = push(&c, NULL);
                if (r)
                    set_reason(&c, r, CP_EVENT_INVALID,
                               "record %zu has eventSource '%s'; expected aws:s3 or aws:sqs", i,
                               es ? es : "(none)");
            }
        }
    } else if (is_test_event(root)) {
        ev->source = CP_EVENT_FROM_S3;
        add_test_event(&c, root, NULL);
    } else if (is_eventbridge(root)) {
        ev->source = CP_EVENT_FROM_EVENTBRIDGE;
        add_eventbridge(&c, root, NULL);
    } else {
        st = cp_error_set(err, CP_FORMAT,
                          "the event is of no known shape: expected an S3 event notification "
                          "({\"Records\":[{\"eventSource\":\"aws:s3\",…}]}), SQS messages "
                          "({\"Records\":[{\"eventSource\":\"aws:sqs\",…}]}) or an EventBridge "
                          "event ({\"source\":\"aws.s3\",\"detail\":{…}})");
        goto out;
    }
    if (c.nomem)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
out:
    json_decref(root);
    return st;
}

bool cp_event_key_is_output(const char *out_uri, const char *bucket, const char *key)
{
    if (!out_uri || !bucket || !key || strncmp(out_uri, "s3://", 5) != 0)
        return false;
    const char *b = out_uri + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    if (strlen(bucket) != blen || memcmp(bucket, b, blen) != 0)
        return false;
    const char *prefix = slash ? slash + 1 : "";
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/')
        plen--;
    if (plen > 0)
        return strncmp(key, prefix, plen) == 0 && key[plen] == '/';
    static const char *const subdirs[] = {"parquet/", "json/", "rejected/"};
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++)
        if (strncmp(key, subdirs[i], strlen(subdirs[i])) == 0)
            return true;
    return false;
}

char *cp_event_dataset_hint(const char *input_prefix, const char *key)
{
    if (!input_prefix || !key)
        return NULL;
    size_t plen = strlen(input_prefix);
    while (plen > 0 && input_prefix[plen - 1] == '/')
        plen--;
    const char *rest = key;
    if (plen > 0) {
        if (strncmp(key, input_prefix, plen) != 0 || key[plen] != '/')
            return NULL;
        rest = key + plen + 1;
    }
    const char *slash = strchr(rest, '/');
    if (!slash || slash == rest)
        return NULL;
    return strndup(rest, (size_t)(slash - rest));
}

int cp_s3_sequencer_cmp(const char *a, const char *b)
{
    if (!a)
        a = "";
    if (!b)
        b = "";
    if (!*a || !*b)
        return (*a != '\0') - (*b != '\0');
    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    for (; *a; a++, b++) {
        int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}
