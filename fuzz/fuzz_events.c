/*
 * libFuzzer target: the events that invoke `csvpipe lambda` (S3 notifications, SQS
 * messages wrapping S3, SNS or EventBridge events, EventBridge events) through
 * cp_event_parse, then every record through what cmd_lambda does with it: the output
 * check, the dataset hint, the s3:// URI and the sequencer order.
 *
 * The first byte picks the output location and the input prefix; the rest is the event.
 * Checked: a LOAD record names a bucket and a key, and "s3://bucket/key" splits back into
 * the same two (a bucket holding '/' would name another object); sequencer comparison is
 * antisymmetric and reflexive; the dataset hint is a non-empty folder name.
 */
#define _GNU_SOURCE
#include "aws/events.h"
#include "aws/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const outs[] = {
        "s3://out",          "s3://out/",  "s3://out/pre", "s3://out/pre/deep/",
        "s3://data/results", "/tmp/local", "s3://",        "s3:///x"};
    static const char *const prefixes[] = {"incoming/", "incoming", "", NULL};
    uint8_t ctl = data[0];
    const char *out = outs[ctl & 7];
    const char *prefix = prefixes[(ctl >> 3) & 3];
    cp_event ev;
    cp_error err;
    cp_status st = cp_event_parse((const char *)data + 1, size - 1, &ev, &err);
    if (st != CP_OK) {
        if (!err.message[0])
            abort(); /* an error always says why */
        cp_event_release(&ev);
        return 0;
    }
    const cp_event_record *prev = NULL;
    for (size_t i = 0; i < ev.nrecords; i++) {
        const cp_event_record *r = &ev.records[i];
        if (ev.source == CP_EVENT_FROM_SQS && (!r->message_id || !*r->message_id))
            abort(); /* an SQS record must be reportable as failed */
        if (r->action != CP_EVENT_LOAD && !r->reason)
            abort();
        if (r->action == CP_EVENT_LOAD) {
            if (!r->bucket || !*r->bucket || !r->key || !*r->key)
                abort();
            char *uri, *b, *k;
            if (asprintf(&uri, "s3://%s/%s", r->bucket, r->key) < 0)
                abort();
            if (!cp_s3_parse_uri(uri, &b, &k))
                abort();
            if (strcmp(b, r->bucket) != 0 || strcmp(k, r->key) != 0) {
                fprintf(stderr, "s3://%s/%s splits into bucket '%s' and key '%s'\n", r->bucket,
                        r->key, b, k);
                abort();
            }
            free(b);
            free(k);
            free(uri);
            (void)cp_event_key_is_output(out, r->bucket, r->key);
            char *hint = cp_event_dataset_hint(prefix, r->key);
            if (hint && (!*hint || strchr(hint, '/')))
                abort();
            free(hint);
        }
        if (prev) {
            int ab = cp_s3_sequencer_cmp(prev->sequencer, r->sequencer);
            int ba = cp_s3_sequencer_cmp(r->sequencer, prev->sequencer);
            if (sign(ab) != -sign(ba) || cp_s3_sequencer_cmp(r->sequencer, r->sequencer) != 0)
                abort();
        }
        prev = r;
    }
    cp_event_release(&ev);
    return 0;
}
