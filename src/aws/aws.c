/*
 * aws.c - configuration, the credential chain and the signed, retrying HTTP client.
 *
 * Every request gets a new curl easy handle; a CURLSH shares the DNS and connection caches
 * among them and with the handles of S3 sources and DynamoDB writers, so connections are
 * still kept alive. (A handle is never reused for a second request: libcurl before 8.1.0,
 * Debian 12's 7.88 among them, keeps across curl_easy_reset a pointer to the previous
 * answer's last header line and reads it after it was freed when the next answer starts
 * with a folded header line; curl PR 11103. fuzz_s3 found it.) Signing is libcurl's
 * (CURLOPT_AWS_SIGV4); see aws.h for what curl 7.88 leaves to us.
 */
#include "aws/aws.h"
#include "util/log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CRED_REFRESH_MARGIN 300 /* seconds before expiry at which credentials are renewed */
#define DEFAULT_MAX_RESPONSE (1u << 20)

struct cp_aws {
    char *region;
    char *endpoint[CP_AWS_NSERVICES];
    bool s3_path_style;
    int max_attempts;
    CURLSH *share;
    /* cached credentials */
    bool have_creds;
    char *access_key_id, *secret_key, *session_token;
    const char *cred_source;
    time_t expiration; /* 0 = does not expire */
};

static const char *const service_sign_name[CP_AWS_NSERVICES] = {"s3", "dynamodb", "secretsmanager",
                                                                "ecs", "glue"};

static char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? (char *)v : NULL;
}

static char *strip_slash_dup(const char *s)
{
    char *d = strdup(s);
    if (d) {
        size_t n = strlen(d);
        while (n > 0 && d[n - 1] == '/')
            d[--n] = '\0';
    }
    return d;
}

/* The last step of making a client: its DNS and connection cache; *out on success. */
static cp_status share_connections(cp_aws *aws, cp_aws **out, cp_error *err)
{
    if (!(aws->share = curl_share_init())) {
        cp_aws_free(aws);
        return cp_error_set(err, CP_NOMEM, "out of memory setting up the AWS client");
    }
    curl_share_setopt(aws->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(aws->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    *out = aws;
    return CP_OK;
}

cp_status cp_aws_new(cp_aws **out, cp_error *err)
{
    static bool curl_ready;
    *out = NULL;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return cp_error_set(err, CP_INTERNAL, "libcurl could not be initialized");
        curl_ready = true;
    }
    cp_aws *aws = calloc(1, sizeof *aws);
    if (!aws)
        goto nomem;
    const char *region = env_nonempty("AWS_REGION");
    if (!region)
        region = env_nonempty("AWS_DEFAULT_REGION");
    aws->region = strdup(region ? region : "us-east-1");
    if (!aws->region)
        goto nomem;
    static const char *const specific[CP_AWS_NSERVICES] = {
        "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_GLUE"};
    static const char *const host[CP_AWS_NSERVICES] = {"s3", "dynamodb", "secretsmanager", "ecs",
                                                       "glue"};
    const char *common = env_nonempty("AWS_ENDPOINT_URL");
    for (int i = 0; i < CP_AWS_NSERVICES; i++) {
        const char *ep = env_nonempty(specific[i]);
        if (!ep)
            ep = common;
        if (ep) {
            aws->endpoint[i] = strip_slash_dup(ep);
            if (i == CP_AWS_S3)
                aws->s3_path_style = true;
        } else {
            char buf[256];
            snprintf(buf, sizeof buf, "https://%s.%s.amazonaws.com", host[i], aws->region);
            aws->endpoint[i] = strdup(buf);
        }
        if (!aws->endpoint[i])
            goto nomem;
    }
    aws->max_attempts = 10;
    const char *ma = env_nonempty("CSVPIPE_AWS_MAX_ATTEMPTS");
    if (ma) {
        long v = strtol(ma, NULL, 10);
        if (v >= 1 && v <= 100)
            aws->max_attempts = (int)v;
    }
    return share_connections(aws, out, err);
nomem:
    cp_aws_free(aws);
    return cp_error_set(err, CP_NOMEM, "out of memory setting up the AWS client");
}

static void clear_creds(cp_aws *aws)
{
    if (aws->secret_key)
        memset(aws->secret_key, 0, strlen(aws->secret_key));
    free(aws->access_key_id);
    free(aws->secret_key);
    free(aws->session_token);
    aws->access_key_id = aws->secret_key = aws->session_token = NULL;
    aws->have_creds = false;
    aws->expiration = 0;
}

void cp_aws_free(cp_aws *aws)
{
    if (!aws)
        return;
    clear_creds(aws);
    if (aws->share)
        curl_share_cleanup(aws->share);
    free(aws->region);
    for (int i = 0; i < CP_AWS_NSERVICES; i++)
        free(aws->endpoint[i]);
    free(aws);
}

const char *cp_aws_region(const cp_aws *aws)
{
    return aws->region;
}

const char *cp_aws_endpoint(const cp_aws *aws, cp_aws_service svc)
{
    return aws->endpoint[svc];
}

bool cp_aws_s3_path_style(const cp_aws *aws)
{
    return aws->s3_path_style;
}

int cp_aws_max_attempts(const cp_aws *aws)
{
    return aws->max_attempts;
}

/* ---- small helpers -------------------------------------------------------------------- */

cp_status cp_aws_uri_encode(cp_buf *out, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
            CP_RETURN_IF_ERROR(cp_buf_append_char(out, (char)c));
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            CP_RETURN_IF_ERROR(cp_buf_append(out, e, 3));
        }
    }
    return CP_OK;
}

bool cp_xml_tag(const char *xml, size_t len, const char *tag, cp_buf *out)
{
    if (!xml) /* an empty answer's body */
        return false;
    char open[96], close[96];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    size_t ol = strlen(open);
    const char *end = xml + len;
    const char *p = NULL;
    for (const char *q = xml; q + ol <= end; q++)
        if (*q == '<' && memcmp(q, open, ol) == 0) {
            p = q + ol;
            break;
        }
    if (!p)
        return false;
    size_t cl = strlen(close);
    const char *e = NULL;
    for (const char *q = p; q + cl <= end; q++)
        if (*q == '<' && memcmp(q, close, cl) == 0) {
            e = q;
            break;
        }
    if (!e)
        return false;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (const char *q = p; q < e; q++) {
        char c = *q;
        if (c == '&') {
            for (size_t k = 0; k < sizeof ents / sizeof ents[0]; k++) {
                size_t el = strlen(ents[k].ent);
                if ((size_t)(e - q) >= el && memcmp(q, ents[k].ent, el) == 0) {
                    c = ents[k].c;
                    q += el - 1;
                    break;
                }
            }
        }
        if (cp_buf_append_char(out, c) != CP_OK)
            return false;
    }
    if (!out->data)
        cp_buf_append(out, "", 0);
    return true;
}

void cp_aws_response_init(cp_aws_response *r)
{
    memset(r, 0, sizeof *r);
    cp_buf_init(&r->body, DEFAULT_MAX_RESPONSE);
    cp_buf_init(&r->head, 64 * 1024);
}

void cp_aws_response_release(cp_aws_response *r)
{
    cp_buf_release(&r->body);
    cp_buf_release(&r->head);
}

static void response_reset(cp_aws_response *r)
{
    r->status = 0;
    r->code[0] = r->message[0] = '\0';
    cp_buf_reset(&r->body);
    cp_buf_reset(&r->head);
}

bool cp_aws_response_header(const cp_aws_response *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = r->head.data, *end = r->head.data + r->head.len;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v);
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        p = eol + 1;
    }
    return false;
}

void cp_aws_parse_error(cp_aws_response *resp)
{
    resp->code[0] = resp->message[0] = '\0';
    const char *b = resp->body.data;
    size_t n = resp->body.len;
    if (!b || n == 0) {
        char t[128];
        if (cp_aws_response_header(resp, "x-amzn-ErrorType", t, sizeof t)) {
            char *colon = strchr(t, ':');
            if (colon)
                *colon = '\0';
            snprintf(resp->code, sizeof resp->code, "%s", t);
        }
        return;
    }
    size_t i = 0;
    while (i < n && isspace((unsigned char)b[i]))
        i++;
    if (i < n && b[i] == '{') {
        json_t *j = json_loadb(b, n, 0, NULL);
        if (!j)
            return;
        const char *type = json_string_value(json_object_get(j, "__type"));
        if (!type)
            type = json_string_value(json_object_get(j, "code"));
        const char *msg = json_string_value(json_object_get(j, "message"));
        if (!msg)
            msg = json_string_value(json_object_get(j, "Message"));
        if (type) {
            const char *hash = strrchr(type, '#');
            snprintf(resp->code, sizeof resp->code, "%s", hash ? hash + 1 : type);
        }
        if (msg)
            snprintf(resp->message, sizeof resp->message, "%s", msg);
        json_decref(j);
        return;
    }
    cp_buf t;
    cp_buf_init(&t, 4096);
    if (cp_xml_tag(b, n, "Code", &t))
        snprintf(resp->code, sizeof resp->code, "%s", t.data ? t.data : "");
    cp_buf_reset(&t);
    if (cp_xml_tag(b, n, "Message", &t))
        snprintf(resp->message, sizeof resp->message, "%s", t.data ? t.data : "");
    cp_buf_release(&t);
}

bool cp_aws_retryable(int curl_code, long status, const char *code)
{
    switch (curl_code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
    if (status >= 500 || status == 429)
        return true;
    if (status == 0)
        return true;
    static const char *const throttles[] = {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
    };
    if (code && *code)
        for (size_t i = 0; i < sizeof throttles / sizeof throttles[0]; i++)
            if (strcmp(code, throttles[i]) == 0)
                return true;
    return false;
}

/* per thread: S3 outputs retry on the worker threads while the pipeline's thread backs off */
static _Thread_local uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (!rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        rng_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^
                    (uint64_t)(uintptr_t)&rng_state ^ 0x9e3779b97f4a7c15ull;
    }
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

long cp_aws_backoff_ms(int attempt)
{
    long ceiling = 50;
    for (int i = 1; i < attempt && ceiling < 5000; i++)
        ceiling *= 2;
    if (ceiling > 5000)
        ceiling = 5000;
    return (long)(rng_next() % (uint64_t)(ceiling + 1));
}

void cp_aws_backoff(int attempt)
{
    long ms = cp_aws_backoff_ms(attempt);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- credentials ------------------------------------------------------------------------ */

static cp_status set_creds(cp_aws *aws, const char *ak, const char *sk, const char *tok, time_t exp,
                           const char *source)
{
    clear_creds(aws);
    aws->access_key_id = strdup(ak);
    aws->secret_key = strdup(sk);
    aws->session_token = tok && *tok ? strdup(tok) : NULL;
    if (!aws->access_key_id || !aws->secret_key || (tok && *tok && !aws->session_token)) {
        clear_creds(aws);
        return CP_NOMEM;
    }
    aws->expiration = exp;
    aws->cred_source = source;
    aws->have_creds = true;
    return CP_OK;
}

cp_status cp_aws_clone(const cp_aws *src, cp_aws **out, cp_error *err)
{
    *out = NULL;
    cp_aws *aws = calloc(1, sizeof *aws);
    if (!aws || !(aws->region = strdup(src->region)))
        goto nomem;
    for (int i = 0; i < CP_AWS_NSERVICES; i++)
        if (!(aws->endpoint[i] = strdup(src->endpoint[i])))
            goto nomem;
    aws->s3_path_style = src->s3_path_style;
    aws->max_attempts = src->max_attempts;
    if (src->have_creds && set_creds(aws, src->access_key_id, src->secret_key, src->session_token,
                                     src->expiration, src->cred_source) != CP_OK)
        goto nomem;
    return share_connections(aws, out, err);
nomem:
    cp_aws_free(aws);
    return cp_error_set(err, CP_NOMEM, "out of memory setting up the AWS client");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* 1 = found, 0 = not there, <0 = status error */
static int creds_from_file(cp_aws *aws, cp_error *err)
{
    char path[4096];
    const char *f = env_nonempty("AWS_SHARED_CREDENTIALS_FILE");
    if (f)
        snprintf(path, sizeof path, "%s", f);
    else {
        const char *home = env_nonempty("HOME");
        if (!home)
            return 0;
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
    }
    const char *profile = env_nonempty("AWS_PROFILE");
    if (!profile)
        profile = "default";
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (f && errno == ENOENT)
            cp_log_warn("AWS_SHARED_CREDENTIALS_FILE %s does not exist", f);
        return 0;
    }
    char line[4096], *ak = NULL, *sk = NULL, *tok = NULL;
    bool in = false;
    while (fgets(line, sizeof line, fp)) {
        char *l = trim(line);
        if (*l == '#' || *l == ';' || !*l)
            continue;
        if (*l == '[') {
            char *e = strchr(l, ']');
            if (e)
                *e = '\0';
            char *name = trim(l + 1);
            if (strncmp(name, "profile ", 8) == 0)
                name = trim(name + 8);
            in = strcmp(name, profile) == 0;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(l, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *k = trim(l), *v = trim(eq + 1);
        char **dst = strcmp(k, "aws_access_key_id") == 0       ? &ak
                     : strcmp(k, "aws_secret_access_key") == 0 ? &sk
                     : strcmp(k, "aws_session_token") == 0     ? &tok
                                                               : NULL;
        if (dst) {
            free(*dst);
            *dst = strdup(v);
        }
    }
    fclose(fp);
    int found = 0;
    if (ak && sk) {
        found = set_creds(aws, ak, sk, tok, 0, "shared credentials file") == CP_OK ? 1 : -1;
        if (found < 0)
            cp_error_set(err, CP_NOMEM, "out of memory reading %s", path);
    } else if (ak || sk || in) {
        cp_log_debug("%s: profile [%s] has no complete key pair", path, profile);
    }
    if (sk)
        memset(sk, 0, strlen(sk));
    free(ak);
    free(sk);
    free(tok);
    return found;
}

/*
 * "YYYY-MM-DDTHH:MM:SS" then anything (a fraction, Z) as UTC; 0 (never expires) when the
 * text has another shape or a field is out of range. Fixed-width digits: no overflow.
 */
static time_t parse_iso8601(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (!s)
        return 0;
    for (size_t i = 0; i < sizeof shape - 1; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    int f[6];
    static const int at[6] = {0, 5, 8, 11, 14, 17}, width[6] = {4, 2, 2, 2, 2, 2};
    for (int k = 0; k < 6; k++) {
        f[k] = 0;
        for (int d = 0; d < width[k]; d++)
            f[k] = f[k] * 10 + (s[at[k] + d] - '0');
    }
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    return timegm(&tm);
}

/* Parses {AccessKeyId, SecretAccessKey, Token, Expiration} from a credentials endpoint. */
static int creds_from_json(cp_aws *aws, const cp_aws_response *r, const char *source, cp_error *err)
{
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    const char *ak = json_string_value(json_object_get(j, "AccessKeyId"));
    const char *sk = json_string_value(json_object_get(j, "SecretAccessKey"));
    const char *tok = json_string_value(json_object_get(j, "Token"));
    const char *exp = json_string_value(json_object_get(j, "Expiration"));
    int rc;
    if (!ak || !sk) {
        cp_error_set(err, CP_IO, "the %s answered without AccessKeyId/SecretAccessKey", source);
        rc = -1;
    } else if (set_creds(aws, ak, sk, tok, parse_iso8601(exp), source) != CP_OK) {
        cp_error_set(err, CP_NOMEM, "out of memory reading credentials");
        rc = -1;
    } else {
        rc = 1;
    }
    json_decref(j);
    return rc;
}

static bool full_uri_allowed(const char *uri)
{
    if (strncasecmp(uri, "https://", 8) == 0)
        return true;
    if (strncasecmp(uri, "http://", 7) != 0)
        return false;
    const char *h = uri + 7;
    static const char *const ok[] = {
        "127.",           "localhost:",      "localhost/",      "[::1]",         "169.254.170.2:",
        "169.254.170.2/", "169.254.170.23:", "169.254.170.23/", "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strncasecmp(h, ok[i], strlen(ok[i])) == 0)
            return true;
    return strcasecmp(h, "localhost") == 0 || strcmp(h, "169.254.170.2") == 0 ||
           strcmp(h, "169.254.170.23") == 0;
}

static int creds_from_container(cp_aws *aws, cp_error *err)
{
    const char *rel = env_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (!rel && !full)
        return 0;
    char url[2048];
    if (rel)
        snprintf(url, sizeof url, "http://169.254.170.2%s", rel);
    else {
        if (!full_uri_allowed(full)) {
            cp_error_set(err, CP_USAGE,
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI %s must use https or a loopback or "
                         "ECS/EKS link-local host",
                         full);
            return -1;
        }
        snprintf(url, sizeof url, "%s", full);
    }
    char auth[4200] = "";
    const char *tok = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *tokfile = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    if (tokfile) {
        FILE *fp = fopen(tokfile, "r");
        char t[4096] = "";
        if (fp) {
            size_t n = fread(t, 1, sizeof t - 1, fp);
            t[n] = '\0';
            fclose(fp);
        }
        snprintf(auth, sizeof auth, "Authorization: %s", trim(t));
    } else if (tok) {
        snprintf(auth, sizeof auth, "Authorization: %s", tok);
    }
    const char *hdrs[] = {auth[0] ? auth : NULL, NULL};
    cp_aws_request req = {.method = "GET",
                          .url = url,
                          .headers = hdrs,
                          .unsigned_request = true,
                          .timeout_ms = 5000,
                          .max_response = 64 * 1024};
    cp_aws_response r;
    cp_aws_response_init(&r);
    int rc = -1;
    if (cp_aws_call(aws, &req, &r, err) != CP_OK)
        cp_error_prefix(err, "container credentials endpoint");
    else if (r.status != 200)
        cp_error_set(err, CP_IO, "the container credentials endpoint %s answered HTTP %ld", url,
                     r.status);
    else
        rc = creds_from_json(aws, &r, "container endpoint", err);
    cp_aws_response_release(&r);
    return rc;
}

static int creds_from_imds(cp_aws *aws, cp_error *err)
{
    const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
    if (dis && strcasecmp(dis, "true") == 0)
        return 0;
    const char *ep = env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char base[1024], url[2048];
    snprintf(base, sizeof base, "%s", ep ? ep : "http://169.254.169.254");
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        base[--bl] = '\0';
    cp_aws_response r;
    cp_aws_response_init(&r);
    int rc = 0;
    cp_error e;
    cp_error_clear(&e);
    /* token */
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    const char *h1[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    cp_aws_request req = {.method = "PUT",
                          .url = url,
                          .headers = h1,
                          .unsigned_request = true,
                          .no_retry = true,
                          .timeout_ms = 3000,
                          .max_response = 64 * 1024};
    if (cp_aws_call(aws, &req, &r, &e) != CP_OK || r.status != 200 || !r.body.len) {
        cp_log_debug("instance metadata not available: %s", e.message);
        goto out; /* not on EC2: no credentials from here */
    }
    char token[1024], tokhdr[1100], role[256];
    snprintf(token, sizeof token, "%s", r.body.data);
    snprintf(tokhdr, sizeof tokhdr, "X-aws-ec2-metadata-token: %s", trim(token));
    const char *h2[] = {tokhdr, NULL};
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", base);
    req.method = "GET";
    req.headers = h2;
    response_reset(&r);
    if (cp_aws_call(aws, &req, &r, &e) != CP_OK || r.status != 200 || !r.body.len) {
        cp_log_debug("instance metadata has no role: HTTP %ld", r.status);
        goto out;
    }
    snprintf(role, sizeof role, "%s", r.body.data);
    char *nl = strchr(role, '\n');
    if (nl)
        *nl = '\0';
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", base, trim(role));
    response_reset(&r);
    if (cp_aws_call(aws, &req, &r, err) != CP_OK) {
        rc = -1;
        goto out;
    }
    if (r.status != 200) {
        cp_error_set(err, CP_IO, "instance metadata credentials: HTTP %ld", r.status);
        rc = -1;
        goto out;
    }
    rc = creds_from_json(aws, &r, "instance metadata", err);
out:
    cp_aws_response_release(&r);
    return rc;
}

cp_status cp_aws_credentials(cp_aws *aws, const char **access_key_id, const char **secret_key,
                             const char **session_token, const char **source, cp_error *err)
{
    time_t now = time(NULL);
    if (!aws->have_creds || (aws->expiration && aws->expiration - CRED_REFRESH_MARGIN <= now)) {
        const char *ak = env_nonempty("AWS_ACCESS_KEY_ID");
        const char *sk = env_nonempty("AWS_SECRET_ACCESS_KEY");
        int rc = 0;
        if (ak && sk) {
            if (set_creds(aws, ak, sk, getenv("AWS_SESSION_TOKEN"), 0, "environment") != CP_OK)
                return cp_error_set(err, CP_NOMEM, "out of memory");
            rc = 1;
        }
        if (rc == 0)
            rc = creds_from_file(aws, err);
        if (rc == 0)
            rc = creds_from_container(aws, err);
        if (rc == 0)
            rc = creds_from_imds(aws, err);
        if (rc < 0)
            return err ? err->code : CP_IO;
        if (rc == 0)
            return cp_error_set(err, CP_USAGE,
                                "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY, a profile in ~/.aws/credentials "
                                "(AWS_PROFILE), or run with an ECS task role or EC2 "
                                "instance profile");
    }
    *access_key_id = aws->access_key_id;
    *secret_key = aws->secret_key;
    *session_token = aws->session_token;
    if (source)
        *source = aws->cred_source;
    return CP_OK;
}

/* ---- requests ---------------------------------------------------------------------------- */

static size_t read_body(char *out, size_t size, size_t n, void *ctx)
{
    cp_aws_body *r = ctx;
    size_t k = r->len - r->pos;
    if (k > size * n)
        k = size * n;
    if (k)
        memcpy(out, r->data + r->pos, k);
    r->pos += k;
    return k;
}

static int seek_body(void *ctx, curl_off_t offset, int origin)
{
    cp_aws_body *r = ctx;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->len)
        return CURL_SEEKFUNC_CANTSEEK;
    r->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

void cp_aws_set_body(void *easy, cp_aws_body *body)
{
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(easy, CURLOPT_READDATA, body);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, body);
}

static size_t write_body(char *data, size_t size, size_t n, void *ctx)
{
    cp_aws_response *r = ctx;
    if (cp_buf_append(&r->body, data, size * n) != CP_OK)
        return 0; /* CURLE_WRITE_ERROR: the answer is larger than the caller allows */
    return size * n;
}

size_t cp_aws_head_callback(char *data, size_t size, size_t n, void *ctx)
{
    cp_aws_response *r = ctx;
    if (n * size >= 5 && memcmp(data, "HTTP/", 5) == 0)
        cp_buf_reset(&r->head); /* a new response (after 100 Continue or a redirect) */
    if (cp_buf_append(&r->head, data, size * n) != CP_OK)
        return 0;
    return size * n;
}

cp_status cp_aws_prepare(cp_aws *aws, void *easy, const cp_aws_request *req, void **extra,
                         cp_error *err)
{
    CURL *h = easy;
    struct curl_slist *hl = NULL, *t;
    *extra = NULL;
    /* first: resolving credentials may itself send requests */
    const char *ak = NULL, *sk = NULL, *tok = NULL;
    if (!req->unsigned_request)
        CP_RETURN_IF_ERROR(cp_aws_credentials(aws, &ak, &sk, &tok, NULL, err));
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_SHARE, aws->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->unsigned_request ? 1000L : 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 60000L);
    if (getenv("CSVPIPE_CURL_VERBOSE"))
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    const char *m = req->method;
    if (strcmp(m, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(m, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(m, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }
    if (req->headers)
        for (const char *const *p = req->headers; *p; p++) {
            if (!**p)
                continue;
            if (!(t = curl_slist_append(hl, *p)))
                goto nomem;
            hl = t;
        }
    /*
     * No "Expect: 100-continue" wait before bodies. (Removing the header with "Expect:"
     * is not possible: curl 7.88 would sign the empty header it then does not send.)
     */
    curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    if (!req->unsigned_request) {
        char sig[160];
        snprintf(sig, sizeof sig, "aws:amz:%s:%s", aws->region, service_sign_name[req->service]);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sig);
        curl_easy_setopt(h, CURLOPT_USERNAME, ak);
        curl_easy_setopt(h, CURLOPT_PASSWORD, sk);
        if (tok) {
            size_t n = strlen(tok) + 32;
            char *line = malloc(n);
            if (!line)
                goto nomem;
            snprintf(line, n, "X-Amz-Security-Token: %s", tok);
            t = curl_slist_append(hl, line);
            free(line);
            if (!t)
                goto nomem;
            hl = t;
        }
        if (req->service == CP_AWS_S3) {
            if (!(t = curl_slist_append(hl, "x-amz-content-sha256: UNSIGNED-PAYLOAD")))
                goto nomem;
            hl = t;
        }
    }
    bool has_type = false;
    if (req->headers)
        for (const char *const *p = req->headers; *p; p++)
            has_type |= strncasecmp(*p, "Content-Type:", 13) == 0;
    if (strcmp(m, "POST") == 0 && !has_type) {
        /* not curl's form content type (an empty "Content-Type:" would be signed too) */
        if (!(t = curl_slist_append(hl, "Content-Type: application/octet-stream")))
            goto nomem;
        hl = t;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    *extra = hl;
    return CP_OK;
nomem:
    curl_slist_free_all(hl);
    return cp_error_set(err, CP_NOMEM, "out of memory preparing a request to %s", req->url);
}

cp_status cp_aws_call(cp_aws *aws, const cp_aws_request *req, cp_aws_response *resp, cp_error *err)
{
    int attempts = req->no_retry ? 1 : aws->max_attempts, made = 0;
    CURLcode last = CURLE_OK;
    char curl_msg[CURL_ERROR_SIZE] = "";
    if (req->max_response)
        resp->body.max = req->max_response;
    for (int attempt = 1; attempt <= attempts; attempt++) {
        if (attempt > 1)
            cp_aws_backoff(attempt - 1);
        made = attempt;
        response_reset(resp);
        CURL *h = curl_easy_init(); /* a new handle per request: see the top of this file */
        if (!h)
            return cp_error_set(err, CP_NOMEM, "out of memory preparing a request to %s", req->url);
        void *extra = NULL;
        cp_status st = cp_aws_prepare(aws, h, req, &extra, err);
        if (st != CP_OK) {
            curl_easy_cleanup(h);
            return st;
        }
        cp_aws_body br = {req->body, req->body_len, 0};
        cp_aws_set_body(h, &br);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cp_aws_head_callback);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
        curl_msg[0] = '\0';
        last = curl_easy_perform(h);
        if (last == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_easy_cleanup(h); /* its connection stays in aws->share */
        curl_slist_free_all(extra);
        if (last == CURLE_OK) {
            if (resp->status >= 300)
                cp_aws_parse_error(resp);
            if (resp->status < 300 || !cp_aws_retryable(0, resp->status, resp->code) ||
                attempt == attempts)
                return CP_OK;
            cp_log_debug("%s %s: HTTP %ld %s, retrying (attempt %d of %d)", req->method, req->url,
                         resp->status, resp->code, attempt + 1, attempts);
            continue;
        }
        if (last == CURLE_WRITE_ERROR)
            return cp_error_set(err, CP_TOO_LARGE, "%s %s: the answer is larger than %zu bytes",
                                req->method, req->url, resp->body.max);
        if (!cp_aws_retryable((int)last, 0, NULL))
            break;
        cp_log_debug("%s %s: %s, retrying", req->method, req->url,
                     curl_msg[0] ? curl_msg : curl_easy_strerror(last));
    }
    return cp_error_set(err, CP_IO, "%s %s failed after %d attempt%s: %s", req->method, req->url,
                        made, made == 1 ? "" : "s",
                        curl_msg[0] ? curl_msg : curl_easy_strerror(last));
}

cp_status cp_aws_json_call(cp_aws *aws, cp_aws_service svc, const char *target, const char *body,
                           cp_aws_response *resp, cp_error *err)
{
    char target_line[160];
    snprintf(target_line, sizeof target_line, "X-Amz-Target: %s", target);
    const char *hdrs[] = {svc == CP_AWS_DYNAMODB ? "Content-Type: application/x-amz-json-1.0"
                                                 : "Content-Type: application/x-amz-json-1.1",
                          target_line, NULL};
    cp_aws_request req = {.service = svc,
                          .method = "POST",
                          .url = cp_aws_endpoint(aws, svc),
                          .headers = hdrs,
                          .body = body,
                          .body_len = strlen(body)};
    return cp_aws_call(aws, &req, resp, err);
}

cp_status cp_aws_fail(const cp_aws_response *resp, cp_error *err, const char *what)
{
    const char *hint = "";
    if (resp->status == 403 || strstr(resp->code, "Signature") ||
        strstr(resp->code, "AccessDenied") || strstr(resp->code, "InvalidAccessKeyId") ||
        strstr(resp->code, "UnrecognizedClient") || strstr(resp->code, "InvalidClientTokenId") ||
        strstr(resp->code, "ExpiredToken"))
        hint = " (check the AWS credentials, their permissions and AWS_REGION)";
    cp_status code = resp->status == 404 ? CP_NOT_FOUND : CP_IO;
    return cp_error_set(err, code, "%s: HTTP %ld%s%s%s%s%s", what, resp->status,
                        resp->code[0] ? " " : "", resp->code, resp->message[0] ? ": " : "",
                        resp->message, hint);
}
