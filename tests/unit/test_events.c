/* Unit tests for aws/events: S3, SQS and EventBridge events, key decoding, output keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws/events.h"

#include <stdlib.h>
#include <string.h>

static void parse_ok(const char *json, cp_event *ev)
{
    cp_error err;
    cp_error_clear(&err);
    cp_status st = cp_event_parse(json, strlen(json), ev, &err);
    if (st != CP_OK)
        print_error("parse failed: %s\n", err.message);
    assert_int_equal(st, CP_OK);
}

static void test_direct_s3(void **state)
{
    (void)state;
    cp_event ev;
    parse_ok("{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\","
             "\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"in\"},"
             "\"object\":{\"key\":\"incoming/sales/2024-01.csv\",\"size\":1234,"
             "\"eTag\":\"0123abc\",\"versionId\":\"v1\",\"sequencer\":\"0055AED6DCD90281E5\"}}}]}",
             &ev);
    assert_int_equal(ev.source, CP_EVENT_FROM_S3);
    assert_int_equal(ev.nrecords, 1);
    const cp_event_record *r = &ev.records[0];
    assert_int_equal(r->action, CP_EVENT_LOAD);
    assert_null(r->message_id);
    assert_string_equal(r->bucket, "in");
    assert_string_equal(r->key, "incoming/sales/2024-01.csv");
    assert_int_equal(r->size, 1234);
    assert_string_equal(r->etag, "0123abc");
    assert_string_equal(r->version_id, "v1");
    assert_string_equal(r->sequencer, "0055AED6DCD90281E5");
    assert_string_equal(r->event_name, "ObjectCreated:Put");
    assert_null(r->reason);
    cp_event_release(&ev);

    /* Several records keep their order; a removal is ignored, not loaded. */
    parse_ok("{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Copy\","
             "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"a.csv\"}}},"
             "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectRemoved:Delete\","
             "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"b.csv\","
             "\"versionId\":null}}}]}",
             &ev);
    assert_int_equal(ev.nrecords, 2);
    assert_int_equal(ev.records[0].action, CP_EVENT_LOAD);
    assert_int_equal(ev.records[0].size, -1);
    assert_null(ev.records[0].etag);
    assert_int_equal(ev.records[1].action, CP_EVENT_IGNORE);
    assert_string_equal(ev.records[1].key, "b.csv");
    assert_null(ev.records[1].version_id);
    assert_non_null(strstr(ev.records[1].reason, "ObjectRemoved:Delete"));
    cp_event_release(&ev);

    /* A record without a key cannot be loaded: INVALID, with a reason. */
    parse_ok("{\"Records\":[{\"eventSource\":\"aws:s3\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
             "\"object\":{}}}]}",
             &ev);
    assert_int_equal(ev.records[0].action, CP_EVENT_INVALID);
    assert_non_null(strstr(ev.records[0].reason, "object.key"));
    cp_event_release(&ev);
}

static void test_url_decoding(void **state)
{
    (void)state;
    cp_event ev;
    parse_ok("{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
             "\"s3\":{\"bucket\":{\"name\":\"in\"},\"object\":{\"key\":"
             "\"incoming/vendas/relat%C3%B3rio+mar%c3%a7o+%2B1%25.csv\"}}}]}",
             &ev);
    assert_string_equal(ev.records[0].key, "incoming/vendas/relat\xc3\xb3rio mar\xc3\xa7o +1%.csv");
    cp_event_release(&ev);

    static const struct {
        const char *in, *out;
    } ok[] = {
        {"plain", "plain"},           {"a+b", "a b"}, {"%20%2b%2F", " +/"},
        {"caf%C3%A9", "caf\xc3\xa9"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *out;
        assert_int_equal(cp_url_decode_key(ok[i].in, strlen(ok[i].in), &out, NULL), CP_OK);
        assert_string_equal(out, ok[i].out);
        free(out);
    }
    static const char *const bad[] = {"%", "%4", "a%zz", "%00", "ab%G1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)"untouched";
        cp_error err;
        cp_error_clear(&err);
        assert_int_equal(cp_url_decode_key(bad[i], strlen(bad[i]), &out, &err), CP_FORMAT);
        assert_null(out);
        assert_true(strlen(err.message) > 0);
    }

    /* A broken escape in an event is that record's failure, not the event's. */
    parse_ok("{\"Records\":[{\"eventSource\":\"aws:s3\",\"s3\":{\"bucket\":{\"name\":\"b\"},"
             "\"object\":{\"key\":\"bad%zz.csv\"}}}]}",
             &ev);
    assert_int_equal(ev.records[0].action, CP_EVENT_INVALID);
    assert_non_null(strstr(ev.records[0].reason, "bad%zz.csv"));
    cp_event_release(&ev);
}

/* A bucket name holding '/' would turn s3://bucket/key into another object (found by
   fuzz_events): such a record is INVALID, in both shapes. */
static void test_bucket_names(void **state)
{
    (void)state;
    cp_event ev;
    parse_ok("{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
             "\"s3\":{\"bucket\":{\"name\":\"out/parquet\"},\"object\":{\"key\":\"x.csv\"}}},"
             "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\","
             "\"s3\":{\"bucket\":{\"name\":\"Legacy_Bucket.2010\"},\"object\":{\"key\":"
             "\"x.csv\"}}}]}",
             &ev);
    assert_int_equal(ev.nrecords, 2);
    assert_int_equal(ev.records[0].action, CP_EVENT_INVALID);
    assert_non_null(strstr(ev.records[0].reason, "out/parquet"));
    assert_int_equal(ev.records[1].action, CP_EVENT_LOAD);
    cp_event_release(&ev);
    parse_ok("{\"detail-type\":\"Object Created\",\"source\":\"aws.s3\",\"detail\":{"
             "\"bucket\":{\"name\":\"a b\"},\"object\":{\"key\":\"k.csv\"}}}",
             &ev);
    assert_int_equal(ev.records[0].action, CP_EVENT_INVALID);
    cp_event_release(&ev);
}

static void test_sqs(void **state)
{
    (void)state;
    cp_event ev;
    parse_ok(
        "{\"Records\":["
        "{\"messageId\":\"m1\",\"eventSource\":\"aws:sqs\",\"body\":\"{\\\"Records\\\":[{"
        "\\\"eventSource\\\":\\\"aws:s3\\\",\\\"eventName\\\":\\\"ObjectCreated:Put\\\","
        "\\\"s3\\\":{\\\"bucket\\\":{\\\"name\\\":\\\"in\\\"},\\\"object\\\":{\\\"key\\\":"
        "\\\"x/a+b.csv\\\",\\\"size\\\":10,\\\"sequencer\\\":\\\"01\\\"}}}]}\"},"
        "{\"messageId\":\"m2\",\"eventSource\":\"aws:sqs\",\"body\":\"not json\"},"
        "{\"messageId\":\"m3\",\"eventSource\":\"aws:sqs\",\"body\":\"{\\\"Service\\\":"
        "\\\"Amazon S3\\\",\\\"Event\\\":\\\"s3:TestEvent\\\",\\\"Bucket\\\":\\\"in\\\"}\"},"
        "{\"messageId\":\"m4\",\"eventSource\":\"aws:sqs\",\"body\":\"{\\\"Type\\\":"
        "\\\"Notification\\\",\\\"Message\\\":\\\"{\\\\\\\"source\\\\\\\":\\\\\\\"aws.s3\\\\\\\","
        "\\\\\\\"detail-type\\\\\\\":\\\\\\\"Object Created\\\\\\\",\\\\\\\"detail\\\\\\\":{"
        "\\\\\\\"bucket\\\\\\\":{\\\\\\\"name\\\\\\\":\\\\\\\"in\\\\\\\"},\\\\\\\"object\\\\\\\":{"
        "\\\\\\\"key\\\\\\\":\\\\\\\"y.csv\\\\\\\"}}}\\\"}\"},"
        "{\"messageId\":\"m5\",\"eventSource\":\"aws:sqs\",\"body\":\"{\\\"hello\\\":1}\"}"
        "]}",
        &ev);
    assert_int_equal(ev.source, CP_EVENT_FROM_SQS);
    assert_int_equal(ev.nrecords, 5);
    assert_int_equal(ev.records[0].action, CP_EVENT_LOAD);
    assert_string_equal(ev.records[0].message_id, "m1");
    assert_string_equal(ev.records[0].key, "x/a b.csv");
    assert_int_equal(ev.records[0].size, 10);
    assert_string_equal(ev.records[0].sequencer, "01");
    assert_int_equal(ev.records[1].action, CP_EVENT_INVALID);
    assert_string_equal(ev.records[1].message_id, "m2");
    assert_non_null(strstr(ev.records[1].reason, "not JSON"));
    assert_int_equal(ev.records[2].action, CP_EVENT_IGNORE);
    assert_string_equal(ev.records[2].message_id, "m3");
    assert_int_equal(ev.records[3].action, CP_EVENT_LOAD); /* EventBridge inside SNS */
    assert_string_equal(ev.records[3].message_id, "m4");
    assert_string_equal(ev.records[3].key, "y.csv");
    assert_int_equal(ev.records[4].action, CP_EVENT_INVALID);
    assert_string_equal(ev.records[4].message_id, "m5");
    cp_event_release(&ev);

    /* A message without an id could never be reported: the whole event fails. */
    cp_error err;
    cp_error_clear(&err);
    const char *noid = "{\"Records\":[{\"eventSource\":\"aws:sqs\",\"body\":\"{}\"}]}";
    assert_int_equal(cp_event_parse(noid, strlen(noid), &ev, &err), CP_FORMAT);
    assert_non_null(strstr(err.message, "messageId"));
    cp_event_release(&ev);
}

static void test_eventbridge(void **state)
{
    (void)state;
    cp_event ev;
    parse_ok("{\"version\":\"0\",\"id\":\"x\",\"detail-type\":\"Object Created\","
             "\"source\":\"aws.s3\",\"detail\":{\"version\":\"0\",\"bucket\":{\"name\":\"in\"},"
             "\"object\":{\"key\":\"incoming/sales/m%C3%A1y+1.csv\",\"size\":99,"
             "\"etag\":\"e1\",\"version-id\":\"v2\",\"sequencer\":\"00617F08299329D189\"},"
             "\"reason\":\"PutObject\"}}",
             &ev);
    assert_int_equal(ev.source, CP_EVENT_FROM_EVENTBRIDGE);
    assert_int_equal(ev.nrecords, 1);
    const cp_event_record *r = &ev.records[0];
    assert_int_equal(r->action, CP_EVENT_LOAD);
    assert_string_equal(r->bucket, "in");
    assert_string_equal(r->key, "incoming/sales/m\xc3\xa1y 1.csv");
    assert_int_equal(r->size, 99);
    assert_string_equal(r->etag, "e1");
    assert_string_equal(r->version_id, "v2");
    assert_string_equal(r->sequencer, "00617F08299329D189");
    cp_event_release(&ev);

    parse_ok("{\"detail-type\":\"Object Deleted\",\"source\":\"aws.s3\",\"detail\":{"
             "\"bucket\":{\"name\":\"in\"},\"object\":{\"key\":\"a.csv\"}}}",
             &ev);
    assert_int_equal(ev.records[0].action, CP_EVENT_IGNORE);
    cp_event_release(&ev);
}

static void test_test_event(void **state)
{
    (void)state;
    cp_event ev;
    parse_ok("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":"
             "\"2024-01-01T00:00:00.000Z\",\"Bucket\":\"in\",\"RequestId\":\"r\",\"HostId\":\"h\"}",
             &ev);
    assert_int_equal(ev.source, CP_EVENT_FROM_S3);
    assert_int_equal(ev.nrecords, 1);
    assert_int_equal(ev.records[0].action, CP_EVENT_IGNORE);
    assert_string_equal(ev.records[0].bucket, "in");
    assert_null(ev.records[0].key);
    cp_event_release(&ev);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *json, *says;
    } cases[] = {
        {"{\"Records\":[", "not valid JSON"},
        {"", "not valid JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"Records\":[]}", "non-empty array"},
        {"{\"Records\":{}}", "non-empty array"},
        {"{\"hello\":\"world\"}", "no known shape"},
        {"{\"source\":\"aws.ec2\",\"detail\":{}}", "no known shape"},
        {"{\"Records\":[{\"eventSource\":\"aws:sqs\",\"messageId\":\"a\",\"body\":\"{}\"},"
         "{\"eventSource\":\"aws:s3\"}]}",
         "eventSource 'aws:s3' in a batch of SQS"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cp_event ev;
        cp_error err;
        cp_error_clear(&err);
        assert_int_equal(cp_event_parse(cases[i].json, strlen(cases[i].json), &ev, &err),
                         CP_FORMAT);
        if (!strstr(err.message, cases[i].says))
            fail_msg("case %zu: '%s' does not say '%s'", i, err.message, cases[i].says);
        cp_event_release(&ev);
    }
}

static void test_output_keys(void **state)
{
    (void)state;
    const char *out = "s3://data/out";
    assert_true(cp_event_key_is_output(out, "data", "out/parquet/sales/a.parquet"));
    assert_true(cp_event_key_is_output(out, "data", "out/anything.csv"));
    assert_true(cp_event_key_is_output("s3://data/out/", "data", "out/json/x.jsonl"));
    assert_false(cp_event_key_is_output(out, "data", "outgoing/a.csv"));
    assert_false(cp_event_key_is_output(out, "data", "incoming/out/a.csv"));
    assert_false(cp_event_key_is_output(out, "other", "out/parquet/a.parquet"));
    assert_false(cp_event_key_is_output(out, "dat", "out/parquet/a.parquet"));
    /* Outputs at the bucket root: only csvpipe's own folders are refused. */
    assert_true(cp_event_key_is_output("s3://data", "data", "parquet/s/a.parquet"));
    assert_true(cp_event_key_is_output("s3://data/", "data", "rejected/s/a.error.json"));
    assert_true(cp_event_key_is_output("s3://data", "data", "json/s/a.jsonl"));
    assert_false(cp_event_key_is_output("s3://data", "data", "incoming/s/a.csv"));
    assert_false(cp_event_key_is_output("s3://data", "data", "parquetx/a.csv"));
    /* A local output folder never matches an S3 key. */
    assert_false(cp_event_key_is_output("/tmp/out", "data", "out/parquet/a"));
    assert_false(cp_event_key_is_output(NULL, "data", "out/parquet/a"));
}

static void test_dataset_hint(void **state)
{
    (void)state;
    static const struct {
        const char *prefix, *key, *hint;
    } cases[] = {
        {"incoming/", "incoming/sales/2024-01.csv", "sales"},
        {"incoming", "incoming/sales/2024/01.csv", "sales"},
        {"incoming/", "incoming/2024-01.csv", NULL},
        {"incoming/", "other/sales/2024-01.csv", NULL},
        {"incoming/", "incomingx/sales/a.csv", NULL},
        {"", "sales/a.csv", "sales"},
        {"", "a.csv", NULL},
        {NULL, "incoming/sales/a.csv", NULL},
        {"in/coming", "in/coming/vendas/r m.csv", "vendas"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *h = cp_event_dataset_hint(cases[i].prefix, cases[i].key);
        if (cases[i].hint)
            assert_string_equal(h, cases[i].hint);
        else
            assert_null(h);
        free(h);
    }
}

static void test_sequencer(void **state)
{
    (void)state;
    assert_true(cp_s3_sequencer_cmp("0055AED6DCD90281E5", "0055AED6DCD90281E6") < 0);
    assert_true(cp_s3_sequencer_cmp("0055AED6DCD90281E6", "0055aed6dcd90281e5") > 0);
    assert_int_equal(cp_s3_sequencer_cmp("00AB", "ab"), 0);
    assert_true(cp_s3_sequencer_cmp("FF", "100") < 0);
    assert_true(cp_s3_sequencer_cmp(NULL, "01") < 0);
    assert_true(cp_s3_sequencer_cmp("01", "") > 0);
    assert_int_equal(cp_s3_sequencer_cmp(NULL, ""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_s3),   cmocka_unit_test(test_url_decoding),
        cmocka_unit_test(test_sqs),         cmocka_unit_test(test_eventbridge),
        cmocka_unit_test(test_test_event),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_output_keys), cmocka_unit_test(test_dataset_hint),
        cmocka_unit_test(test_sequencer),   cmocka_unit_test(test_bucket_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
