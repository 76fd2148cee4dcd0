/*
 * libFuzzer target: DynamoDB's JSON answers, through the real client (aws/dynamodb.c and
 * aws/aws.c) talking to a scripted server (fake_http.h): CreateTable and DescribeTable
 * (status, key schema), and BatchWriteItem (UnprocessedItems, errors, throttling) for a
 * writer with at most 1 to 4 requests in flight, with and without conflict checks.
 *
 * Input: one control byte, then the script of answers. Bit 0 picks table creation or the
 * writer; for the writer bits 1-2 the most requests in flight, bit 3 two attempts per request
 * instead of one (the resend of unprocessed items), bit 4 conflict checks, bits 5-7 the
 * number of write requests (1 to 57, over 7 keys). Checked: a flush that succeeds
 * acknowledged no more writes than were added; every failure has a message.
 */
#include "aws/dynamodb.h"
#include "check.h"
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_http *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    server = fake_http_start_for("AWS_ENDPOINT_URL_DYNAMODB");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    fake_http_script(server, data + 1, size - 1);
    char inflight[2] = {(char)('1' + ((ctl >> 1) & 3)), '\0'};
    setenv("CSVPIPE_DYNAMODB_INFLIGHT", inflight, 1);
    setenv("CSVPIPE_AWS_MAX_ATTEMPTS", ctl & 8 ? "2" : "1", 1);
    cp_error err;
    cp_error_clear(&err);
    cp_aws *aws = NULL;
    if (cp_aws_new(&aws, &err) != CP_OK)
        abort();
    if (!(ctl & 1)) {
        cp_status st = cp_ddb_create_table(aws, "csvpipe-items", 0, &err);
        check_message(st, &err);
        cp_aws_free(aws);
        return 0;
    }
    cp_ddb_writer *w = NULL;
    if (cp_ddb_writer_new(aws, "csvpipe-items", (ctl & 16) != 0, &w, &err) != CP_OK)
        abort();
    unsigned n = 1 + (ctl >> 5) * 8;
    cp_status st = CP_OK;
    for (unsigned i = 0; st == CP_OK && i < n; i++) {
        char pk[32], req[160];
        snprintf(pk, sizeof pk, "sales#%u", i % 7);
        int len = snprintf(req, sizeof req,
                           "{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"%s\"},\"sk\":{\"S\":"
                           "\"sales\"},\"n\":{\"N\":\"%u\"}}}}",
                           pk, i);
        cp_error_clear(&err);
        st = cp_ddb_writer_add(w, req, (size_t)len, pk, "sales", &err);
        check_message(st, &err);
    }
    if (st == CP_OK) {
        cp_error_clear(&err);
        st = cp_ddb_writer_flush(w, &err);
        check_message(st, &err);
        cp_ddb_stats stats = cp_ddb_writer_stats(w);
        if (st == CP_OK && stats.written > n) {
            fprintf(stderr, "%llu writes acknowledged of %u added\n",
                    (unsigned long long)stats.written, n);
            abort();
        }
    }
    cp_ddb_writer_free(w);
    cp_aws_free(aws);
    return 0;
}
