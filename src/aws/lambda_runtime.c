/*
 * lambda_runtime.c - the Runtime API over libcurl, and the two-stage deadline watchdog.
 *
 * Two connections: one for the main thread, one the watchdog thread keeps for the hard
 * stage (curl handles are not shared between threads). Each request gets a new easy handle,
 * the connection staying in the connection's share: libcurl before 8.1.0 (Debian 12's 7.88)
 * keeps across curl_easy_reset a pointer to the previous answer's last header line and reads
 * it after it was freed when the next answer starts with a folded header line (curl PR
 * 11103; fuzz_lambda_runtime found it). The watchdog sleeps on a condition
 * variable until the next stage is due; the soft stage is delivered to the main thread as
 * SIGALRM (pthread_kill), so the callback runs where the pipeline reads its flag.
 */
#define _GNU_SOURCE
#include "aws/lambda_runtime.h"

#include "aws/emf.h"
#include "util/buf.h"
#include "util/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define RUNTIME_PATH "/2018-06-01/runtime"
#define POST_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 5000L
#define MAX_REPLY 65536

/* One thread's connection to the Runtime API. */
typedef struct api_conn {
    CURL *h;       /* the handle of the current request */
    CURLSH *share; /* keeps the connection between handles */
} api_conn;

struct cp_lambda_runtime {
    char base[320]; /* http://host:port/2018-06-01/runtime */
    api_conn main;
    api_conn watch;
    cp_buf event;
    cp_buf reply;
    bool event_too_large;

    pthread_t main_thread;
    pthread_t watchdog;
    bool watchdog_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;      /* under mu */
    bool armed;     /* under mu */
    bool soft_done; /* under mu */
    int64_t soft_at, hard_at, deadline_ms;
    char watch_request_id[128];
    atomic_bool time_up;
    atomic_int reported; /* 1 once this invocation was reported (by either thread) */
};

static void (*volatile soft_callback)(void);

static void on_sigalrm(int sig)
{
    (void)sig;
    void (*cb)(void) = soft_callback;
    if (cb)
        cb();
}

static int64_t now_ms(void)
{
    return cp_emf_now_ms();
}

int64_t cp_lambda_soft_margin_ms(int64_t budget_ms)
{
    int64_t m = budget_ms / 20;
    return m > 2000 ? m : 2000;
}

/* A JSON string literal of s for a request body; bytes of broken UTF-8 become '?'. */
static json_t *safe_string(const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (v)
        return v;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

static size_t on_event_data(char *data, size_t size, size_t n, void *ctx)
{
    cp_lambda_runtime *rt = ctx;
    if (cp_buf_append(&rt->event, data, size * n) != CP_OK) {
        rt->event_too_large = true;
        return 0; /* stops the transfer */
    }
    return size * n;
}

static size_t on_reply_data(char *data, size_t size, size_t n, void *ctx)
{
    cp_buf *b = ctx;
    size_t room = b->len < MAX_REPLY ? MAX_REPLY - b->len : 0;
    cp_buf_append(b, data, size * n < room ? size * n : room);
    return size * n;
}

/* Copies the value of header line "Name: value\r\n" into out when the name matches. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
        return;
    const char *v = line + nlen + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t n = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    cp_lambda_invocation *inv = ctx;
    size_t len = size * n;
    char deadline[32] = "";
    header_value(line, len, "Lambda-Runtime-Aws-Request-Id", inv->request_id,
                 sizeof inv->request_id);
    header_value(line, len, "Lambda-Runtime-Trace-Id", inv->trace_id, sizeof inv->trace_id);
    header_value(line, len, "Lambda-Runtime-Invoked-Function-Arn", inv->function_arn,
                 sizeof inv->function_arn);
    header_value(line, len, "Lambda-Runtime-Deadline-Ms", deadline, sizeof deadline);
    if (*deadline)
        inv->deadline_ms = strtoll(deadline, NULL, 10);
    return len;
}

static bool conn_init(api_conn *c)
{
    c->share = curl_share_init();
    c->h = curl_easy_init();
    return c->share && c->h &&
           curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) == CURLSHE_OK;
}

static void conn_release(api_conn *c)
{
    if (c->h)
        curl_easy_cleanup(c->h);
    if (c->share)
        curl_share_cleanup(c->share);
    c->h = NULL;
    c->share = NULL;
}

/* A new handle on c with the common options of one request; NULL when out of memory. */
static CURL *prepare(api_conn *c, const char *url)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_cleanup(c->h);
    c->h = h;
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "csvpipe/" CP_VERSION);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* the Runtime API is never behind a proxy */
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    return h;
}

/* POSTs body to base + path on c; 2xx expected. The reply text goes to reply. */
static cp_status post(api_conn *c, const char *base, const char *path, const char *body, size_t len,
                      const char *error_type, cp_buf *reply, cp_error *err)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *h = prepare(c, url);
    if (!h)
        return cp_error_set(err, CP_NOMEM, "Runtime API: POST %s: out of memory", path);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    char type_header[300];
    if (error_type) {
        snprintf(type_header, sizeof type_header, "Lambda-Runtime-Function-Error-Type: %s",
                 error_type);
        headers = curl_slist_append(headers, type_header);
    }
    cp_buf_reset(reply);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_reply_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK)
        return cp_error_set(err, CP_IO, "Runtime API: POST %s: %s", path, curl_easy_strerror(rc));
    if (code == 413)
        return cp_error_set(err, CP_TOO_LARGE,
                            "Runtime API: POST %s: the payload of %zu bytes is too large (HTTP "
                            "413): %s",
                            path, len, reply->data ? reply->data : "");
    if (code < 200 || code > 299)
        return cp_error_set(err, CP_IO, "Runtime API: POST %s: HTTP %ld: %s", path, code,
                            reply->data ? reply->data : "");
    return CP_OK;
}

/* The JSON body of an error report; caller frees. */
static char *error_body(const char *type, const char *message)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "errorMessage", safe_string(message));
    json_object_set_new(o, "errorType", safe_string(type));
    json_object_set_new(o, "stackTrace", json_array());
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

static cp_status post_error(api_conn *c, const char *base, const char *path, const char *type,
                            const char *message, cp_buf *reply, cp_error *err)
{
    char *body = error_body(type, message);
    if (!body)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    cp_status st = post(c, base, path, body, strlen(body), type, reply, err);
    free(body);
    return st;
}

/* "/invocation/<escaped id>/<what>" into out. */
static cp_status invocation_path(CURL *h, const char *request_id, const char *what, char *out,
                                 size_t cap, cp_error *err)
{
    char *id = curl_easy_escape(h, request_id, 0);
    if (!id)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    int n = snprintf(out, cap, "/invocation/%s/%s", id, what);
    curl_free(id);
    if (n < 0 || (size_t)n >= cap)
        return cp_error_set(err, CP_TOO_LARGE, "the request id is too long");
    return CP_OK;
}

/* The hard stage, in the watchdog thread: report the error and end the process. */
static void hard_deadline(cp_lambda_runtime *rt, const char *request_id, int64_t deadline_ms)
{
    if (atomic_exchange(&rt->reported, 1))
        return; /* the main thread is reporting */
    char msg[512], path[400];
    snprintf(msg, sizeof msg,
             "the invocation's deadline is %lld ms away and the load in hand did not stop; "
             "csvpipe reported this error and ended the process: nothing was committed that a "
             "retry would not redo. Give the function more time or memory, or send files this "
             "large to csvpipe run on ECS",
             (long long)(deadline_ms - now_ms()));
    cp_error e;
    cp_error_clear(&e);
    cp_buf reply;
    cp_buf_init(&reply, CP_BUF_UNLIMITED);
    cp_status st = invocation_path(rt->watch.h, request_id, "error", path, sizeof path, &e);
    if (st == CP_OK)
        st = post_error(&rt->watch, rt->base, path, "Csvpipe.DeadlineExceeded", msg, &reply, &e);
    cp_buf line;
    cp_buf_init(&line, CP_BUF_UNLIMITED);
    cp_emf_log_entry le = {.level = "error",
                           .message = msg,
                           .request_id = request_id,
                           .status = "deadline",
                           .error = st == CP_OK ? NULL : e.message};
    if (cp_emf_log_format(&le, now_ms(), &line) == CP_OK)
        cp_emf_write(stdout, &line);
    fflush(stderr);
    _exit(1);
}

static void *watchdog_main(void *arg)
{
    cp_lambda_runtime *rt = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&rt->mu);
    while (!rt->stop) {
        if (!rt->armed) {
            pthread_cond_wait(&rt->cv, &rt->mu);
            continue;
        }
        int64_t now = now_ms();
        if (!rt->soft_done && now >= rt->soft_at) {
            rt->soft_done = true;
            atomic_store(&rt->time_up, true);
            pthread_kill(rt->main_thread, SIGALRM);
            continue;
        }
        if (rt->soft_done && now >= rt->hard_at) {
            char id[sizeof rt->watch_request_id];
            memcpy(id, rt->watch_request_id, sizeof id);
            int64_t deadline = rt->deadline_ms;
            rt->armed = false;
            pthread_mutex_unlock(&rt->mu);
            hard_deadline(rt, id, deadline);
            pthread_mutex_lock(&rt->mu);
            continue;
        }
        int64_t due = rt->soft_done ? rt->hard_at : rt->soft_at;
        struct timespec ts = {(time_t)(due / 1000), (long)(due % 1000) * 1000000L};
        pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
    }
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

cp_lambda_runtime *cp_lambda_runtime_new(const char *api, cp_error *err)
{
    if (!api)
        api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || !*api || strpbrk(api, "/ \t\r\n?#@")) {
        cp_error_set(err, CP_USAGE,
                     "AWS_LAMBDA_RUNTIME_API is %s: csvpipe lambda runs inside AWS Lambda (or "
                     "a Runtime API emulator) and needs its host:port",
                     api && *api ? "not a host:port" : "not set");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cp_error_set(err, CP_INTERNAL, "libcurl could not be initialized");
        return NULL;
    }
    cp_lambda_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        curl_global_cleanup();
        cp_error_set(err, CP_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(rt->base, sizeof rt->base, "http://%s" RUNTIME_PATH, api);
    cp_buf_init(&rt->event, CP_LAMBDA_MAX_EVENT);
    cp_buf_init(&rt->reply, CP_BUF_UNLIMITED);
    bool conns = conn_init(&rt->main);
    conns &= conn_init(&rt->watch);
    pthread_mutex_init(&rt->mu, NULL);
    pthread_cond_init(&rt->cv, NULL);
    rt->main_thread = pthread_self();
    if (!conns) {
        cp_error_set(err, CP_NOMEM, "libcurl could not create a handle");
        cp_lambda_runtime_free(rt);
        return NULL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigalrm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    int rc = pthread_create(&rt->watchdog, NULL, watchdog_main, rt);
    if (rc != 0) {
        cp_error_set(err, CP_INTERNAL, "could not start the deadline watchdog: %s", strerror(rc));
        cp_lambda_runtime_free(rt);
        return NULL;
    }
    rt->watchdog_started = true;
    return rt;
}

void cp_lambda_runtime_free(cp_lambda_runtime *rt)
{
    if (!rt)
        return;
    if (rt->watchdog_started) {
        pthread_mutex_lock(&rt->mu);
        rt->stop = true;
        pthread_cond_signal(&rt->cv);
        pthread_mutex_unlock(&rt->mu);
        pthread_join(rt->watchdog, NULL);
    }
    soft_callback = NULL;
    pthread_mutex_destroy(&rt->mu);
    pthread_cond_destroy(&rt->cv);
    conn_release(&rt->main);
    conn_release(&rt->watch);
    cp_buf_release(&rt->event);
    cp_buf_release(&rt->reply);
    free(rt);
    curl_global_cleanup();
}

cp_status cp_lambda_next(cp_lambda_runtime *rt, cp_lambda_invocation *inv, cp_error *err)
{
    memset(inv, 0, sizeof *inv);
    cp_buf_reset(&rt->event);
    rt->event_too_large = false;
    char url[400];
    snprintf(url, sizeof url, "%s/invocation/next", rt->base);
    CURL *h = prepare(&rt->main, url);
    if (!h)
        return cp_error_set(err, CP_NOMEM, "Runtime API: GET %s: out of memory", url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L); /* waits as long as Lambda does */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_event_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, rt);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, inv);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    inv->received_ms = now_ms();
    atomic_store(&rt->reported, 0);
    atomic_store(&rt->time_up, false);
    if (rt->event_too_large && *inv->request_id)
        return cp_error_set(err, CP_TOO_LARGE, "the event is larger than %zu bytes",
                            (size_t)CP_LAMBDA_MAX_EVENT);
    if (rc != CURLE_OK)
        return cp_error_set(err, CP_IO, "Runtime API: GET %s: %s", url, curl_easy_strerror(rc));
    if (code != 200)
        return cp_error_set(err, CP_IO, "Runtime API: GET %s: HTTP %ld: %.300s", url, code,
                            rt->event.data ? rt->event.data : "");
    if (!*inv->request_id)
        return cp_error_set(
            err, CP_IO, "Runtime API: the next invocation has no Lambda-Runtime-Aws-Request-Id");
    if (cp_buf_append(&rt->event, "", 0) != CP_OK) /* a NUL-terminated, possibly empty body */
        return cp_error_set(err, CP_NOMEM, "out of memory");
    inv->event = rt->event.data ? rt->event.data : "";
    inv->event_len = rt->event.len;
    if (*inv->trace_id)
        setenv("_X_AMZN_TRACE_ID", inv->trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");
    return CP_OK;
}

/* Claims the right to report this invocation; when the watchdog has it, waits for the end. */
static void claim_report(cp_lambda_runtime *rt)
{
    if (atomic_exchange(&rt->reported, 1) == 0)
        return;
    for (;;) /* the watchdog reports the deadline and ends the process */
        pause();
}

cp_status cp_lambda_respond(cp_lambda_runtime *rt, const cp_lambda_invocation *inv,
                            const char *body, size_t len, cp_error *err)
{
    char path[400];
    CP_RETURN_IF_ERROR(
        invocation_path(rt->main.h, inv->request_id, "response", path, sizeof path, err));
    claim_report(rt);
    cp_status st = post(&rt->main, rt->base, path, body, len, NULL, &rt->reply, err);
    if (st == CP_TOO_LARGE)
        atomic_store(&rt->reported, 0); /* nothing was reported: the caller fails it */
    return st;
}

cp_status cp_lambda_fail(cp_lambda_runtime *rt, const cp_lambda_invocation *inv, const char *type,
                         const char *message, cp_error *err)
{
    char path[400];
    CP_RETURN_IF_ERROR(
        invocation_path(rt->main.h, inv->request_id, "error", path, sizeof path, err));
    claim_report(rt);
    return post_error(&rt->main, rt->base, path, type, message, &rt->reply, err);
}

cp_status cp_lambda_init_fail(cp_lambda_runtime *rt, const char *type, const char *message,
                              cp_error *err)
{
    return post_error(&rt->main, rt->base, "/init/error", type, message, &rt->reply, err);
}

void cp_lambda_watch(cp_lambda_runtime *rt, const cp_lambda_invocation *inv, void (*on_soft)(void))
{
    if (inv->deadline_ms <= 0)
        return;
    int64_t budget = inv->deadline_ms - inv->received_ms;
    int64_t soft = cp_lambda_soft_margin_ms(budget);
    const char *env = getenv("CSVPIPE_DEADLINE_MARGIN_MS");
    if (env && *env) {
        char *end;
        long long v = strtoll(env, &end, 10);
        if (*end == '\0' && v > 0)
            soft = v;
        else
            cp_log_warn("CSVPIPE_DEADLINE_MARGIN_MS='%s' is not a number of milliseconds; "
                        "using %lld",
                        env, (long long)soft);
    }
    int64_t hard = soft / 4 > 500 ? soft / 4 : 500;
    if (hard > soft)
        hard = soft;
    soft_callback = on_soft;
    /* Already within the margin: decided here, so no work starts at all. */
    bool late = now_ms() >= inv->deadline_ms - soft;
    if (late) {
        atomic_store(&rt->time_up, true);
        if (on_soft)
            on_soft();
    }
    pthread_mutex_lock(&rt->mu);
    rt->soft_at = inv->deadline_ms - soft;
    rt->hard_at = inv->deadline_ms - hard;
    rt->deadline_ms = inv->deadline_ms;
    rt->soft_done = late;
    snprintf(rt->watch_request_id, sizeof rt->watch_request_id, "%s", inv->request_id);
    rt->armed = true;
    pthread_cond_signal(&rt->cv);
    pthread_mutex_unlock(&rt->mu);
}

void cp_lambda_unwatch(cp_lambda_runtime *rt)
{
    pthread_mutex_lock(&rt->mu);
    rt->armed = false;
    pthread_cond_signal(&rt->cv);
    pthread_mutex_unlock(&rt->mu);
}

int64_t cp_lambda_time_left_ms(cp_lambda_runtime *rt)
{
    pthread_mutex_lock(&rt->mu);
    int64_t left = -1;
    if (rt->armed) {
        left = rt->soft_at - now_ms();
        if (left < 0)
            left = 0;
    }
    pthread_mutex_unlock(&rt->mu);
    return left;
}

bool cp_lambda_time_is_up(cp_lambda_runtime *rt)
{
    return atomic_load(&rt->time_up);
}
