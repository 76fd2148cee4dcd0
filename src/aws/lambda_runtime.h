/*
 * lambda_runtime.h - a client of the AWS Lambda Runtime API, and the deadline watchdog.
 *
 * The Runtime API is plain HTTP on AWS_LAMBDA_RUNTIME_API (host:port), under
 * /2018-06-01/runtime: GET invocation/next blocks until an event arrives (no timeout),
 * then exactly one of POST invocation/{id}/response or invocation/{id}/error ends the
 * invocation; POST init/error reports a failed start. One keep-alive connection (libcurl)
 * is reused for all of them.
 *
 * The watchdog guards each invocation's deadline in two stages, so that an error is
 * reported before Lambda's own timeout and the retry finds nothing half-done:
 *   soft, at deadline - max(2 s, 5% of the invocation's time) (or CSVPIPE_DEADLINE_MARGIN_MS):
 *     the on_soft callback runs in the main thread, from a SIGALRM handler (so it must be
 *     async-signal-safe, like cp_pipeline_interrupt); cp_lambda_time_is_up() turns true.
 *     The main thread is expected to roll back and report an error.
 *   hard, at deadline - max(0.5 s, a quarter of the soft margin): when the main thread
 *     has still not reported (stuck in a blocking call), the watchdog thread reports the
 *     invocation error itself, prints a log line and ends the process with _exit(1).
 *     Nothing is committed by then that a retry would not redo (the pipeline's commit
 *     protocol); Lambda starts a fresh runtime for the next event.
 * The first of the main thread and the watchdog to report wins; a main thread that comes
 * second waits for the process to end.
 *
 * One runtime per process; every function but cp_lambda_time_is_up must be called from
 * the thread that created it.
 */
#ifndef CP_AWS_LAMBDA_RUNTIME_H
#define CP_AWS_LAMBDA_RUNTIME_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest event accepted (Lambda's own limit is 6 MB for synchronous calls). */
#define CP_LAMBDA_MAX_EVENT ((size_t)16 << 20)

typedef struct cp_lambda_runtime cp_lambda_runtime;

/* One invocation, as the Runtime API describes it. */
typedef struct cp_lambda_invocation {
    char request_id[128];   /* Lambda-Runtime-Aws-Request-Id */
    char trace_id[512];     /* Lambda-Runtime-Trace-Id (also set as _X_AMZN_TRACE_ID) */
    char function_arn[512]; /* Lambda-Runtime-Invoked-Function-Arn */
    int64_t deadline_ms;    /* Lambda-Runtime-Deadline-Ms, epoch ms; 0 when not given */
    int64_t received_ms;    /* when the event arrived, epoch ms */
    const char *event;      /* the event body, NUL-terminated; owned by the runtime and */
    size_t event_len;       /* valid until the next cp_lambda_next */
} cp_lambda_invocation;

/*
 * Connects to api ("host:port"; NULL: $AWS_LAMBDA_RUNTIME_API), installs the SIGALRM
 * handler and starts the watchdog thread. NULL with err (CP_USAGE when no API is named).
 */
cp_lambda_runtime *cp_lambda_runtime_new(const char *api, cp_error *err);
/* Stops the watchdog and closes the connection. NULL allowed. */
void cp_lambda_runtime_free(cp_lambda_runtime *rt);

/*
 * Waits for the next invocation (blocking, no timeout) and fills inv. CP_IO when the
 * Runtime API cannot be reached or answers other than 200 (then the runtime should exit).
 * CP_TOO_LARGE when the event is over CP_LAMBDA_MAX_EVENT: inv names the invocation, which
 * the caller should fail. Sets or clears _X_AMZN_TRACE_ID.
 */
cp_status cp_lambda_next(cp_lambda_runtime *rt, cp_lambda_invocation *inv, cp_error *err);

/* Ends the invocation with a response body (JSON). CP_TOO_LARGE when Lambda refuses its
 * size (HTTP 413): report an error instead. */
cp_status cp_lambda_respond(cp_lambda_runtime *rt, const cp_lambda_invocation *inv,
                            const char *body, size_t len, cp_error *err);

/*
 * Ends the invocation with an error: body {"errorMessage":message,"errorType":type,
 * "stackTrace":[]} and header Lambda-Runtime-Function-Error-Type: type.
 */
cp_status cp_lambda_fail(cp_lambda_runtime *rt, const cp_lambda_invocation *inv, const char *type,
                         const char *message, cp_error *err);

/* Reports that the runtime could not start (POST init/error); the process should exit. */
cp_status cp_lambda_init_fail(cp_lambda_runtime *rt, const char *type, const char *message,
                              cp_error *err);

/*
 * Arms the watchdog for inv (see the top of this file). on_soft may be NULL. Without a
 * deadline (deadline_ms 0) nothing is armed.
 */
void cp_lambda_watch(cp_lambda_runtime *rt, const cp_lambda_invocation *inv, void (*on_soft)(void));
/* Disarms it; call after the invocation was reported. */
void cp_lambda_unwatch(cp_lambda_runtime *rt);
/*
 * Milliseconds until the soft deadline of the armed invocation (0 once it passed); -1 when
 * nothing is armed (no deadline known). Main thread.
 */
int64_t cp_lambda_time_left_ms(cp_lambda_runtime *rt);
/* True once the soft deadline of the armed invocation has passed. Any thread. */
bool cp_lambda_time_is_up(cp_lambda_runtime *rt);

/* The soft margin for an invocation of budget_ms: max(2000, budget_ms / 20). */
int64_t cp_lambda_soft_margin_ms(int64_t budget_ms);

#endif
