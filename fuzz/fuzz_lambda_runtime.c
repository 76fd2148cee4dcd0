/*
 * libFuzzer target: the Lambda Runtime API's answers, through the real client
 * (aws/lambda_runtime.c) talking to a scripted server (fake_http.h): the next invocation
 * (status, the Lambda-Runtime-* headers, the event body), then the answer to the response
 * or error report. The event goes on to cp_event_parse, as `csvpipe lambda` does.
 *
 * Input: one control byte, then the script of answers. Bit 0 reports the invocation as a
 * response (else as an error). Checked: an invocation has a request id and a NUL-terminated
 * event of the announced length; every failure has a message. The deadline watchdog is
 * not armed here (its hard stage ends the process by design).
 */
#include "aws/events.h"
#include "aws/lambda_runtime.h"
#include "check.h"
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_http *server;
static cp_lambda_runtime *rt;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fake_http_env();
    server = fake_http_start();
    cp_error err;
    rt = cp_lambda_runtime_new(fake_http_hostport(server), &err);
    if (!rt) {
        fprintf(stderr, "%s\n", err.message);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    fake_http_script(server, data + 1, size - 1);
    cp_lambda_invocation inv;
    cp_error err;
    cp_error_clear(&err);
    cp_status st = cp_lambda_next(rt, &inv, &err);
    check_message(st, &err);
    if (st != CP_OK)
        return 0;
    if (!inv.request_id[0] || !inv.event || inv.event[inv.event_len] != '\0')
        abort();
    cp_event ev;
    cp_error_clear(&err);
    st = cp_event_parse(inv.event, inv.event_len, &ev, &err);
    check_message(st, &err);
    char message[256];
    snprintf(message, sizeof message, "%zu records; %.200s", ev.nrecords,
             st == CP_OK ? "parsed" : err.message);
    cp_event_release(&ev);
    cp_error_clear(&err);
    if (ctl & 1) {
        st = cp_lambda_respond(rt, &inv, "{\"batchItemFailures\":[]}", 24, &err);
        check_message(st, &err);
        if (st != CP_TOO_LARGE)
            return 0;
        cp_error_clear(&err);
    }
    st = cp_lambda_fail(rt, &inv, "Csvpipe.Fuzz", message, &err);
    check_message(st, &err);
    return 0;
}
