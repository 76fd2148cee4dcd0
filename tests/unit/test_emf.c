/*
 * Unit tests for aws/emf: EMF records and log lines, read back with jansson, with the
 * values the pipeline gives them for a load summary (cp_load_summary_emf).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws/emf.h"
#include "aws/metrics.h"
#include "pipeline/pipeline.h"

#include <jansson.h>
#include <string.h>

static const struct {
    const char *name, *unit;
} expected_metrics[] = {
#define CP_EMF_EXPECT(name, unit) {#name, unit},
    CP_EMF_METRICS(CP_EMF_EXPECT)
#undef CP_EMF_EXPECT
};
#define NMETRICS (sizeof expected_metrics / sizeof expected_metrics[0])

static cp_load_summary sample(cp_load_status status)
{
    cp_load_summary s;
    memset(&s, 0, sizeof s);
    s.source = (char *)"s3://in/incoming/sales/2024-01.csv";
    s.source_uri = s.source;
    s.dataset = (char *)"sales";
    s.status = status;
    s.stream.rows = 1000;
    s.stream.rejected = 3;
    s.stream.restarts = 2;
    s.stream.bytes = 65536;
    s.size_bytes = 65536;
    s.started_us = 1700000000000000;
    s.finished_us = 1700000000000000 + 1234567; /* 1234.567 ms */
    return s;
}

/* Parses one line (ending in '\n', no other newline) into a JSON object. */
static json_t *parse_line(const cp_buf *b)
{
    assert_true(b->len > 1);
    assert_int_equal(b->data[b->len - 1], '\n');
    assert_null(memchr(b->data, '\n', b->len - 1));
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, 0, &jerr);
    if (!j)
        fail_msg("not JSON: %s: %s", jerr.text, b->data);
    assert_true(json_is_object(j));
    return j;
}

static json_int_t int_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

static void check_record(cp_load_status status, const json_int_t *want)
{
    cp_load_summary s = sample(status);
    cp_emf_load load;
    cp_load_summary_emf(&s, &load);
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_emf_format(&load, 1700000001234, &b), CP_OK);
    json_t *j = parse_line(&b);

    const json_t *aws = json_object_get(j, "_aws");
    assert_true(json_is_object(aws));
    assert_int_equal(int_of(aws, "Timestamp"), 1700000001234);
    const json_t *cwm = json_object_get(aws, "CloudWatchMetrics");
    assert_int_equal(json_array_size(cwm), 1);
    const json_t *dir = json_array_get(cwm, 0);
    assert_string_equal(json_string_value(json_object_get(dir, "Namespace")), CP_EMF_NAMESPACE);
    const json_t *dims = json_object_get(dir, "Dimensions");
    assert_int_equal(json_array_size(dims), 1);
    assert_int_equal(json_array_size(json_array_get(dims, 0)), 1);
    assert_string_equal(json_string_value(json_array_get(json_array_get(dims, 0), 0)),
                        CP_EMF_DIMENSION);
    assert_string_equal(json_string_value(json_object_get(j, CP_EMF_DIMENSION)), "sales");

    const json_t *metrics = json_object_get(dir, "Metrics");
    assert_int_equal(json_array_size(metrics), NMETRICS);
    for (size_t i = 0; i < NMETRICS; i++) {
        const json_t *m = json_array_get(metrics, i);
        assert_string_equal(json_string_value(json_object_get(m, "Name")),
                            expected_metrics[i].name);
        assert_string_equal(json_string_value(json_object_get(m, "Unit")),
                            expected_metrics[i].unit);
        /* Every declared metric has its value at the top level (EMF's rule). */
        if (int_of(j, expected_metrics[i].name) != want[i])
            fail_msg("%s: %lld, expected %lld", expected_metrics[i].name,
                     (long long)int_of(j, expected_metrics[i].name), (long long)want[i]);
    }
    json_decref(j);
    cp_buf_release(&b);
}

/* Values in the order of metrics.h: FilesLoaded, FilesRejected, RowsLoaded, RowsRejected,
 * BytesRead, DurationMs, Restarts. */
static void test_emf_values(void **state)
{
    (void)state;
    assert_int_equal(NMETRICS, 7);
    const json_int_t loaded[] = {1, 0, 1000, 3, 65536, 1235, 2};
    check_record(CP_LOAD_LOADED, loaded);
    const json_int_t rejected[] = {0, 1, 0, 3, 65536, 1235, 2};
    check_record(CP_LOAD_REJECTED, rejected);
    check_record(CP_LOAD_FAILED, rejected);
    const json_int_t skipped[] = {0, 0, 0, 3, 65536, 1235, 2};
    check_record(CP_LOAD_SKIPPED, skipped);
}

static void test_emf_strings(void **state)
{
    (void)state;
    cp_load_summary s = sample(CP_LOAD_LOADED);
    s.dataset = NULL; /* unknown dataset still gets a dimension value */
    s.source_uri = (char *)"s3://in/bad\xff\"key\n.csv";
    cp_emf_load m;
    cp_load_summary_emf(&s, &m);
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_emf_format(&m, 1, &b), CP_OK);
    json_t *j = parse_line(&b);
    assert_string_equal(json_string_value(json_object_get(j, "dataset")), "unknown");
    assert_string_equal(json_string_value(json_object_get(j, "source")), "s3://in/bad?\"key\n.csv");
    json_decref(j);
    cp_buf_release(&b);
}

static void test_log_line(void **state)
{
    (void)state;
    cp_load_summary s = sample(CP_LOAD_REJECTED);
    s.error = (char *)"12 of 1000 rows could not be parsed";
    s.error_path = (char *)"s3://out/rejected/sales/2024-01.error.json";
    cp_emf_load m;
    cp_load_summary_emf(&s, &m);
    cp_emf_log_entry e = {.level = "error",
                          .message = "rejected s3://in/incoming/sales/2024-01.csv",
                          .request_id = "req-1",
                          .message_id = "msg-1",
                          .source = "s3://in/incoming/sales/2024-01.csv",
                          .status = "rejected",
                          .load = &m};
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_emf_log_format(&e, 1700000001234, &b), CP_OK);
    json_t *j = parse_line(&b);
    assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
                        "2023-11-14T22:13:21.234Z");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(j, "requestId")), "req-1");
    assert_string_equal(json_string_value(json_object_get(j, "messageId")), "msg-1");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "rejected");
    assert_string_equal(json_string_value(json_object_get(j, "dataset")), "sales");
    assert_string_equal(json_string_value(json_object_get(j, "error")), s.error);
    assert_string_equal(json_string_value(json_object_get(j, "errorDetails")), s.error_path);
    assert_int_equal(int_of(j, "rows"), 0);
    assert_int_equal(int_of(j, "rejectedRows"), 3);
    assert_null(json_object_get(j, "parquet"));
    assert_null(json_object_get(j, "_aws")); /* a log line is not a metric record */
    json_decref(j);

    /* Only level and message are required; absent fields are left out. */
    cp_buf_reset(&b);
    cp_emf_log_entry bare = {.level = "info", .message = "S3 test event"};
    assert_int_equal(cp_emf_log_format(&bare, 0, &b), CP_OK);
    j = parse_line(&b);
    assert_int_equal(json_object_size(j), 3);
    json_decref(j);
    cp_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_emf_values),
        cmocka_unit_test(test_emf_strings),
        cmocka_unit_test(test_log_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
