/*
 * fake_http.h - a scripted HTTP/1.1 server on 127.0.0.1 for the fuzz targets whose input
 * arrives as HTTP answers (S3, DynamoDB, Secrets Manager, credential endpoints, the Lambda
 * Runtime API). The client code under test runs unchanged, curl callbacks included; the
 * fuzz input decides what each request is answered.
 *
 * A script is a list of answers separated by the line "~~~":
 *
 *     200 anything\n            status (leading digits; 200 when none; kept in 200..599)
 *     Name: value\n             header lines (those without ':' are dropped, and so are
 *     ...\n                     Connection and Transfer-Encoding)
 *     \n
 *     body bytes...             up to the next "\n~~~\n" or the end
 *
 * The n-th request gets the n-th answer; once the script is used up every request gets
 * "500 script ended". Each connection carries one exchange and is closed ("Connection:
 * close"), so a wrong Content-Length ends as a short or long body, never as a hang. Without
 * a Content-Length header, one giving the body's length is added (not for HEAD).
 * Request bodies are read (Content-Length) and discarded; the request lines are kept for
 * messages.
 *
 * One server thread answers connections one after the other. fake_http_script is called
 * between exchanges (no request in flight).
 */
#ifndef CP_FUZZ_FAKE_HTTP_H
#define CP_FUZZ_FAKE_HTTP_H

#include "aws/aws.h"

#include <stddef.h>
#include <stdint.h>

typedef struct fake_http fake_http;

/* Starts the server on an ephemeral loopback port; exits the process on failure. */
fake_http *fake_http_start(void);
/* "http://127.0.0.1:PORT" (static storage of the server). */
const char *fake_http_url(const fake_http *s);
/* "127.0.0.1:PORT". */
const char *fake_http_hostport(const fake_http *s);
/* Replaces the script with the answers in data[0..size) (copied). */
void fake_http_script(fake_http *s, const uint8_t *data, size_t size);
/* Requests answered since the last fake_http_script. */
size_t fake_http_requests(fake_http *s);
/*
 * One exchange of a target: fake_http_script(s, data, size), *err cleared, and a new AWS
 * client (cp_aws_new; the caller frees it with cp_aws_free). Aborts when it cannot be made.
 */
cp_aws *fake_http_aws(fake_http *s, const uint8_t *data, size_t size, cp_error *err);

/*
 * Sets what every fuzz target talking to the server needs: no proxies, AWS test
 * credentials in the environment, one attempt per request (no backoff sleeps).
 */
void fake_http_env(void);
/*
 * fake_http_env, then a server started and named by the endpoint variable endpoint_var
 * (such as AWS_ENDPOINT_URL_S3), so the service's client talks to it.
 */
fake_http *fake_http_start_for(const char *endpoint_var);

#endif
