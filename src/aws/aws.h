/*
 * aws.h - configuration, credentials and the HTTP client shared by every AWS service
 * (S3, DynamoDB, Secrets Manager, ECS, Glue).
 *
 * Requests go through libcurl and are signed by libcurl itself (CURLOPT_AWS_SIGV4); this
 * module only prepares what curl 7.88 leaves to the caller: the query string already
 * sorted and percent-encoded, key paths percent-encoded once (RFC 3986, '/' kept), the
 * `x-amz-content-sha256` header for S3 (UNSIGNED-PAYLOAD: curl signs the header's value as
 * the payload hash) and `X-Amz-Security-Token` for temporary credentials. curl signs every
 * header the caller sets, so every header we send is covered by the signature.
 *
 * Configuration (read once by cp_aws_new):
 * - region: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1;
 * - endpoints: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB /
 *   AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_ECS / AWS_ENDPOINT_URL_GLUE, else
 *   AWS_ENDPOINT_URL, else the
 *   public endpoint of the region. With a custom S3 endpoint S3 is addressed path-style
 *   (http://endpoint/bucket/key), otherwise virtual-hosted when the bucket name allows it;
 * - retries: CSVPIPE_AWS_MAX_ATTEMPTS (default 10 attempts per request).
 *
 * Credentials are resolved on first use and cached until 5 minutes before they expire,
 * from the first provider that has them:
 * 1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (Lambda);
 * 2. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
 *    profile AWS_PROFILE or "default" (aws_access_key_id, aws_secret_access_key,
 *    aws_session_token);
 * 3. the ECS container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *    169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (loopback, the ECS/EKS link-local
 *    hosts or https only), with AWS_CONTAINER_AUTHORIZATION_TOKEN (or the file named by
 *    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) as the Authorization header;
 * 4. IMDSv2 (EC2): a token PUT then the role's credentials GET, with a 1 s connect and
 *    3 s total timeout; AWS_EC2_METADATA_DISABLED=true skips it and
 *    AWS_EC2_METADATA_SERVICE_ENDPOINT replaces http://169.254.169.254.
 *
 * Retries: a request is retried with exponential backoff and full jitter (base 50 ms,
 * ceiling 5 s) on connection errors and timeouts, on HTTP 5xx, on 429 and on the
 * throttling error codes (ThrottlingException, ProvisionedThroughputExceededException,
 * RequestLimitExceeded, SlowDown, RequestTimeout, ...). Validation, access and
 * not-found errors are never retried.
 *
 * Connections are kept alive: a cp_aws reuses its curl handles and shares one connection
 * and DNS cache among them. A cp_aws and everything made from it (sources, uploads,
 * DynamoDB writers) belong to one thread at a time.
 */
#ifndef CP_AWS_H
#define CP_AWS_H

#include "util/buf.h"
#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cp_aws cp_aws;

/*
 * A client into *out, configured from the environment (see above). Resolves no
 * credentials yet: a missing credential is reported by the first request. On failure
 * (CP_NOMEM, CP_INTERNAL when libcurl is not usable) *out is NULL. Free with cp_aws_free.
 */
cp_status cp_aws_new(cp_aws **out, cp_error *err);
/* Frees the client and its connections; NULL allowed. */
void cp_aws_free(cp_aws *aws);
/*
 * A second client into *out with src's configuration and a copy of its cached credentials
 * (each refreshes its own from then on), and connections of its own: for another thread
 * (an S3 output written by a worker). Reads src, so it runs on src's thread. CP_NOMEM, *out
 * NULL, on failure. Free with cp_aws_free.
 */
cp_status cp_aws_clone(const cp_aws *src, cp_aws **out, cp_error *err);

/* The services this client signs for. */
typedef enum cp_aws_service {
    CP_AWS_S3,
    CP_AWS_DYNAMODB,
    CP_AWS_SECRETS_MANAGER,
    CP_AWS_ECS,
    CP_AWS_GLUE,
} cp_aws_service;
#define CP_AWS_NSERVICES 5

/* The region requests are signed for ("us-east-1"); owned by aws. */
const char *cp_aws_region(const cp_aws *aws);
/*
 * The base URL of a service without a trailing '/' ("http://127.0.0.1:5000",
 * "https://dynamodb.us-east-1.amazonaws.com"); owned by aws.
 */
const char *cp_aws_endpoint(const cp_aws *aws, cp_aws_service svc);
/* True when S3 is addressed path-style (a custom endpoint). */
bool cp_aws_s3_path_style(const cp_aws *aws);

/*
 * The current credentials (resolved and cached as described above). The strings stay
 * valid until the next call that may refresh them. *session_token is NULL for long-term
 * keys. `source` (may be NULL) receives a static name of the provider: "environment",
 * "shared credentials file", "container endpoint", "instance metadata".
 */
cp_status cp_aws_credentials(cp_aws *aws, const char **access_key_id, const char **secret_key,
                             const char **session_token, const char **source, cp_error *err);

/* Appends s[0..len) percent-encoded per RFC 3986 (unreserved kept); '/' kept if keep_slash. */
cp_status cp_aws_uri_encode(cp_buf *out, const char *s, size_t len, bool keep_slash);

/* One request. Strings are borrowed for the duration of cp_aws_call. */
typedef struct cp_aws_request {
    cp_aws_service service;
    const char *method;         /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    const char *url;            /* complete: endpoint, encoded path, sorted encoded query */
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated; NULL = none */
    const void *body;           /* PUT and POST: the whole body (NULL with len 0 = empty) */
    size_t body_len;
    size_t max_response;   /* bytes of response body kept; 0 = 1 MiB */
    bool no_retry;         /* one attempt only (instance metadata) */
    long timeout_ms;       /* whole-request timeout; 0 = 60 s */
    bool unsigned_request; /* sent without signature (credential endpoints) */
} cp_aws_request;

/* The answer to a request; cp_aws_response_release frees it. */
typedef struct cp_aws_response {
    long status;       /* HTTP status; 0 when no response arrived */
    cp_buf body;       /* the body, bounded by max_response */
    cp_buf head;       /* the response header lines as received */
    char code[128];    /* the service's error code (S3 <Code>, JSON __type), "" if none */
    char message[512]; /* the service's error message, "" if none */
} cp_aws_response;

void cp_aws_response_init(cp_aws_response *r);
void cp_aws_response_release(cp_aws_response *r);
/*
 * The value of response header `name` (case-insensitive) copied into out (trimmed,
 * NUL-terminated, cut to cap-1 bytes); false when absent.
 */
bool cp_aws_response_header(const cp_aws_response *r, const char *name, char *out, size_t cap);

/*
 * Sends a signed request, retrying as described above, and fills resp (which must be
 * initialized). Returns CP_OK whenever an HTTP answer arrived, whatever its status: the
 * caller judges resp->status (error code and message are parsed for 4xx/5xx). Returns
 * CP_IO after the last attempt failed to get an answer (err names the URL and curl's
 * reason) or when credentials are missing, CP_NOMEM on allocation failure.
 */
cp_status cp_aws_call(cp_aws *aws, const cp_aws_request *req, cp_aws_response *resp, cp_error *err);

/*
 * cp_aws_call for a service of the AWS JSON protocol (DynamoDB's 1.0, Secrets Manager's and
 * ECS's 1.1): POSTs body to the service's endpoint with X-Amz-Target: target (such as
 * "DynamoDB_20120810.DescribeTable"). The caller judges resp->status, as above.
 */
cp_status cp_aws_json_call(cp_aws *aws, cp_aws_service svc, const char *target, const char *body,
                           cp_aws_response *resp, cp_error *err);

/*
 * Sets err from a failed answer: CP_NOT_FOUND for 404, CP_IO otherwise, with the
 * operation, HTTP status, the service's code and message and, for access and signature
 * errors, a hint about credentials. Returns the code.
 */
cp_status cp_aws_fail(const cp_aws_response *resp, cp_error *err, const char *what);

/* --- for the service modules (s3.c, dynamodb.c) -------------------------------------- */

/*
 * True when an answer or a transfer failure should be retried (see Retries above).
 * curl_code is the CURLcode of the transfer (0 = a response arrived).
 */
bool cp_aws_retryable(int curl_code, long status, const char *code);
/* Sleeps before attempt number `attempt` (1 = the first retry): full jitter backoff. */
void cp_aws_backoff(int attempt);
/* The backoff delay in milliseconds for `attempt` (random; for multi-handle schedulers). */
long cp_aws_backoff_ms(int attempt);
/* The configured number of attempts per request (CSVPIPE_AWS_MAX_ATTEMPTS, default 10). */
int cp_aws_max_attempts(const cp_aws *aws);

/*
 * Prepares a curl easy handle (passed as void * so this header does not need curl.h) for
 * one signed request: method, URL, signature, credentials' headers, body, timeouts, the
 * shared connection cache. `extra` receives the curl_slist to free after the transfer
 * (curl_slist_free_all). The response callbacks are the caller's.
 */
cp_status cp_aws_prepare(cp_aws *aws, void *easy, const cp_aws_request *req, void **extra,
                         cp_error *err);
/*
 * A CURLOPT_HEADERFUNCTION whose userdata is a cp_aws_response: keeps the header lines of
 * the answer in resp->head (restarted at each status line; 0, a failed transfer, past its
 * bound).
 */
size_t cp_aws_head_callback(char *data, size_t size, size_t n, void *resp);

/* A request body in memory that curl reads from pos on, and rewinds (pos back to the
   offset curl asks for) when it sends the request again on a new connection. */
typedef struct cp_aws_body {
    const char *data;
    size_t len, pos;
} cp_aws_body;

/* Makes the curl easy handle (void *, as for cp_aws_prepare) read its request body from
   body, which must outlive the transfer. */
void cp_aws_set_body(void *easy, cp_aws_body *body);
/* Parses the error code and message of a 4xx/5xx body (XML or JSON) into resp. */
void cp_aws_parse_error(cp_aws_response *resp);

/*
 * The text of the first <tag>...</tag> in xml[0..len) (XML entities decoded) appended to
 * out; false when absent (or xml is NULL, an empty answer). For S3's small fixed-shape
 * answers.
 */
bool cp_xml_tag(const char *xml, size_t len, const char *tag, cp_buf *out);

#endif
