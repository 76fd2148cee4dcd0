/*
 * emf.c - EMF records and structured log lines, built with jansson.
 *
 * The metric list is expanded from CP_EMF_METRICS for the "Metrics" declarations and for
 * the values, which the caller computed (cp_emf_load.metrics, indexed by CP_EMF_<Name>).
 */
#include "aws/emf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cp_emf_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. NULL on allocation failure. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s);
    if (v)
        return v;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    /* Keep ASCII and well-formed multi-byte sequences; replace the rest byte by byte. */
    unsigned char *p = (unsigned char *)copy;
    while (*p) {
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xe0) == 0xc0 ? 2
                   : (*p & 0xf0) == 0xe0 ? 3
                   : (*p & 0xf8) == 0xf0 ? 4
                                         : 0;
        bool ok = n > 0;
        for (size_t i = 1; ok && i < n; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (ok && n > 1) { /* overlong forms and surrogates: ask jansson's own check */
            json_t *t = json_stringn((const char *)p, n);
            ok = t != NULL;
            json_decref(t);
        }
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    v = json_string(copy);
    free(copy);
    return v ? v : json_string("?");
}

/* Sets obj[key] to a string (skipped when s is NULL). False on allocation failure. */
static bool set_str(json_t *obj, const char *key, const char *s)
{
    if (!s)
        return true;
    return json_object_set_new(obj, key, jstr(s)) == 0;
}

static bool set_int(json_t *obj, const char *key, json_int_t v)
{
    return json_object_set_new(obj, key, json_integer(v)) == 0;
}

/* Appends the compact form of root plus '\n' to out, and releases root. */
static cp_status dump(json_t *root, bool ok, cp_buf *out)
{
    char *text = ok && root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text)
        return CP_NOMEM;
    cp_status st = cp_buf_append_str(out, text);
    if (st == CP_OK)
        st = cp_buf_append_char(out, '\n');
    free(text);
    return st;
}

cp_status cp_emf_format(const cp_emf_load *load, int64_t timestamp_ms, cp_buf *out)
{
    json_t *root = json_object(), *aws = json_object(), *cwm = json_array(), *dir = json_object(),
           *dims = json_array(), *dimset = json_array(), *metrics = json_array();
    bool ok = root && aws && cwm && dir && dims && dimset && metrics;
    ok = ok && json_array_append_new(dimset, json_string(CP_EMF_DIMENSION)) == 0;
    ok = ok && json_array_append(dims, dimset) == 0;
#define CP_EMF_DEFINE(name, unit)                                                                  \
    if (ok) {                                                                                      \
        json_t *m = json_object();                                                                 \
        ok = m && set_str(m, "Name", #name) && set_str(m, "Unit", unit) &&                         \
             json_array_append_new(metrics, m) == 0;                                               \
    }
    CP_EMF_METRICS(CP_EMF_DEFINE)
#undef CP_EMF_DEFINE
    ok = ok && set_str(dir, "Namespace", CP_EMF_NAMESPACE);
    ok = ok && json_object_set(dir, "Dimensions", dims) == 0;
    ok = ok && json_object_set(dir, "Metrics", metrics) == 0;
    ok = ok && json_array_append(cwm, dir) == 0;
    ok = ok && set_int(aws, "Timestamp", (json_int_t)timestamp_ms);
    ok = ok && json_object_set(aws, "CloudWatchMetrics", cwm) == 0;
    ok = ok && json_object_set(root, "_aws", aws) == 0;
    ok = ok && set_str(root, CP_EMF_DIMENSION, load->dataset ? load->dataset : "unknown");
#define CP_EMF_VALUE(name, unit)                                                                   \
    ok = ok && set_int(root, #name, (json_int_t)load->metrics[CP_EMF_##name]);
    CP_EMF_METRICS(CP_EMF_VALUE)
#undef CP_EMF_VALUE
    /* Extra fields are kept in the log record, not turned into metrics. */
    ok = ok && set_str(root, "status", load->status);
    ok = ok && set_str(root, "source", load->source);
    json_decref(aws);
    json_decref(cwm);
    json_decref(dir);
    json_decref(dims);
    json_decref(dimset);
    json_decref(metrics);
    return dump(root, ok, out);
}

cp_status cp_emf_log_format(const cp_emf_log_entry *e, int64_t timestamp_ms, cp_buf *out)
{
    json_t *root = json_object();
    bool ok = root != NULL;
    time_t secs = (time_t)(timestamp_ms / 1000);
    struct tm tm;
    char stamp[40];
    gmtime_r(&secs, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03dZ", (int)(timestamp_ms % 1000));
    ok = ok && set_str(root, "timestamp", stamp);
    ok = ok && set_str(root, "level", e->level ? e->level : "info");
    ok = ok && set_str(root, "message", e->message ? e->message : "");
    ok = ok && set_str(root, "requestId", e->request_id);
    ok = ok && set_str(root, "messageId", e->message_id);
    ok = ok && set_str(root, "source", e->source);
    ok = ok && set_str(root, "status", e->status);
    const cp_emf_load *l = e->load;
    if (l) {
        ok = ok && set_str(root, "dataset", l->dataset);
        ok = ok && set_str(root, "version", l->version);
        ok = ok && set_int(root, "rows", (json_int_t)l->metrics[CP_EMF_RowsLoaded]);
        ok = ok && set_int(root, "rejectedRows", (json_int_t)l->metrics[CP_EMF_RowsRejected]);
        ok = ok && set_int(root, "bytes", (json_int_t)l->metrics[CP_EMF_BytesRead]);
        ok = ok && set_int(root, "restarts", (json_int_t)l->metrics[CP_EMF_Restarts]);
        ok = ok && set_int(root, "durationMs", (json_int_t)l->metrics[CP_EMF_DurationMs]);
        for (size_t i = 0; i < l->noutputs && i < CP_EMF_MAX_OUTPUTS; i++)
            ok = ok && set_str(root, l->outputs[i].key, l->outputs[i].location);
    }
    const char *error = e->error ? e->error : l ? l->error : NULL;
    ok = ok && set_str(root, "error", error);
    return dump(root, ok, out);
}

cp_status cp_emf_write(FILE *f, const cp_buf *line)
{
    if (line->len && fwrite(line->data, 1, line->len, f) != line->len)
        return CP_IO;
    return fflush(f) == 0 ? CP_OK : CP_IO;
}
