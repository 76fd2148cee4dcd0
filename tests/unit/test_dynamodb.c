/*
 * test_dynamodb.c - the DynamoDB writer's window of requests in flight (AIMD): the
 * controller driven directly (slow start, one halving per window, additive growth, the
 * bounds), then the real writer against a scripted server (fuzz/fake_http.h) that takes
 * everything, throttles, or leaves items unprocessed. Nothing here is timed: the checks are
 * on what the writer counted (cp_ddb_stats).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws/dynamodb.h"
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fake_http *server;

/* One request sent and taken whole. */
static void ok_one(cp_ddb_aimd *a)
{
    cp_ddb_aimd_sent(a);
    cp_ddb_aimd_ok(a);
}

static void test_aimd_slow_start_then_halve(void **state)
{
    cp_ddb_aimd a;
    cp_ddb_aimd_init(&a, 8, 64);
    assert_int_equal(cp_ddb_aimd_limit(&a), 8);
    /* slow start: one more per request taken whole, so a round trip doubles the window */
    for (int i = 0; i < 8; i++)
        ok_one(&a);
    assert_int_equal(cp_ddb_aimd_limit(&a), 16);
    uint64_t seqs[16];
    for (int i = 0; i < 16; i++)
        seqs[i] = cp_ddb_aimd_sent(&a);
    /* the whole window throttled: one halving, not sixteen */
    for (int i = 0; i < 16; i++)
        cp_ddb_aimd_throttled(&a, seqs[i]);
    assert_int_equal(cp_ddb_aimd_limit(&a), 8);
    assert_int_equal(a.cuts, 1);
    assert_int_equal(a.peak, 16);
    /* then additive: one more per window of requests taken whole (9 answers from 8 to 9) */
    for (int i = 0; i < 8; i++)
        ok_one(&a);
    assert_int_equal(cp_ddb_aimd_limit(&a), 8);
    ok_one(&a);
    assert_int_equal(cp_ddb_aimd_limit(&a), 9);
    /* a request sent after the cut cuts again */
    cp_ddb_aimd_throttled(&a, cp_ddb_aimd_sent(&a));
    assert_int_equal(cp_ddb_aimd_limit(&a), 4);
    assert_int_equal(a.cuts, 2);
    /* an old request's throttle arriving late changes nothing */
    cp_ddb_aimd_throttled(&a, seqs[3]);
    assert_int_equal(cp_ddb_aimd_limit(&a), 4);
    assert_int_equal(a.cuts, 2);
}

static void test_aimd_bounds(void **state)
{
    cp_ddb_aimd a;
    cp_ddb_aimd_init(&a, 8, 64);
    for (int i = 0; i < 20; i++)
        cp_ddb_aimd_throttled(&a, cp_ddb_aimd_sent(&a));
    assert_int_equal(cp_ddb_aimd_limit(&a), 1); /* never below one */
    assert_int_equal(a.cuts, 20);
    for (int i = 0; i < 10000; i++)
        ok_one(&a);
    assert_int_equal(cp_ddb_aimd_limit(&a), 64); /* never above max */
    assert_int_equal(a.peak, 64);

    cp_ddb_aimd_init(&a, 8, 10);
    for (int i = 0; i < 100; i++)
        ok_one(&a);
    assert_int_equal(cp_ddb_aimd_limit(&a), 10);
    cp_ddb_aimd_init(&a, 8, 3); /* a max below the start */
    assert_int_equal(cp_ddb_aimd_limit(&a), 3);
    cp_ddb_aimd_init(&a, 8, 0);
    assert_int_equal(cp_ddb_aimd_limit(&a), 1);
    cp_ddb_aimd_init(&a, 8, 100000);
    assert_int_equal(a.max, CP_DDB_INFLIGHT_LIMIT);
    cp_ddb_aimd_init(&a, 0, 5);
    assert_int_equal(cp_ddb_aimd_limit(&a), 1);
}

/* Appends n answers of `answer` to a script. */
static void script_add(char **s, size_t *len, const char *answer, int n)
{
    for (int i = 0; i < n; i++) {
        size_t add = strlen(answer) + 5;
        *s = realloc(*s, *len + add + 1);
        assert_non_null(*s);
        *len += (size_t)sprintf(*s + *len, "%s%s", *len ? "\n~~~\n" : "", answer);
    }
}

static const char ok_answer[] = "200 OK\n\n{\"UnprocessedItems\":{}}";
static const char throttle_answer[] =
    "400 Bad Request\n\n{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
    "ProvisionedThroughputExceededException\",\"message\":\"slow down\"}";
static const char unprocessed_answer[] =
    "200 OK\n\n{\"UnprocessedItems\":{\"t-items\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":"
    "\"u\"},\"sk\":{\"S\":\"u\"}}}}]}}";

/* Writes n puts through a writer whose maximum is max; the stats after the flush. */
static cp_ddb_stats write_puts(int n, const char *max, bool want_ok)
{
    setenv("CSVPIPE_DYNAMODB_INFLIGHT", max, 1);
    cp_error err;
    cp_aws *aws = NULL;
    assert_int_equal(cp_aws_new(&aws, &err), CP_OK);
    cp_ddb_writer *w = NULL;
    assert_int_equal(cp_ddb_writer_new(aws, "t-items", false, &w, &err), CP_OK);
    cp_status st = CP_OK;
    for (int i = 0; i < n && st == CP_OK; i++) {
        char pk[32], req[160];
        snprintf(pk, sizeof pk, "p#%d", i);
        int len = snprintf(req, sizeof req,
                           "{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"%s\"},\"sk\":{\"S\":"
                           "\"s\"}}}}",
                           pk);
        st = cp_ddb_writer_add(w, req, (size_t)len, pk, "s", &err);
    }
    if (st == CP_OK)
        st = cp_ddb_writer_flush(w, &err);
    if ((st == CP_OK) != want_ok)
        fail_msg("writer: %s (%s)", cp_status_name(st), err.message);
    cp_ddb_stats stats = cp_ddb_writer_stats(w);
    cp_ddb_writer_free(w);
    cp_aws_free(aws);
    return stats;
}

/* DynamoDB takes everything: the window grows to its maximum and stays there. */
static void test_writer_grows(void **state)
{
    char *s = NULL;
    size_t len = 0;
    script_add(&s, &len, ok_answer, 80);
    fake_http_script(server, (const uint8_t *)s, len);
    cp_ddb_stats st = write_puts(80 * 25, "16", true);
    assert_int_equal(st.written, 80 * 25);
    assert_int_equal(st.requests, 80);
    assert_int_equal(st.cuts, 0);
    assert_int_equal(st.window, 16);
    assert_int_equal(st.peak_window, 16);
    assert_true(st.peak_active > 8); /* more than the old fixed 8 at once */
    assert_true(st.peak_active <= 16);
    free(s);
}

/* The first window throttled whole: one halving, every item written by the resends. */
static void test_writer_halves_on_throttle(void **state)
{
    char *s = NULL;
    size_t len = 0;
    script_add(&s, &len, throttle_answer, 8);
    script_add(&s, &len, ok_answer, 60);
    fake_http_script(server, (const uint8_t *)s, len);
    cp_ddb_stats st = write_puts(40 * 25, "64", true);
    assert_int_equal(st.written, 40 * 25);
    assert_int_equal(st.requests, 48); /* 40 and 8 resent */
    assert_int_equal(st.retries, 8);
    assert_int_equal(st.cuts, 1);
    /* from 4, additive growth after the cut: about sqrt(4 * 4 + 2 * 40) after 40 answers */
    assert_true(st.window >= 8 && st.window <= 10);
    /* it never grew before the throttle, so the largest window is 8 or the last one */
    assert_int_equal(st.peak_window, st.window);
    free(s);
}

/* Items left unprocessed count as throttling too. */
static void test_writer_halves_on_unprocessed(void **state)
{
    char *s = NULL;
    size_t len = 0;
    script_add(&s, &len, unprocessed_answer, 1);
    script_add(&s, &len, ok_answer, 60);
    fake_http_script(server, (const uint8_t *)s, len);
    cp_ddb_stats st = write_puts(20 * 25, "64", true);
    assert_int_equal(st.written, 20 * 25);
    assert_int_equal(st.unprocessed, 1);
    assert_int_equal(st.requests, 21);
    assert_int_equal(st.cuts, 1);
    /* the unprocessed answer is the server's first, but the writer may handle up to 7 of
       the window's other answers (each growing it by one in slow start) before it */
    assert_true(st.peak_window >= 8 && st.peak_window <= 15);
    free(s);
}

/* A server that throttles every request: the window falls to one, then the writer gives
   up once a batch has spent its attempts. */
static void test_writer_throttled_throughout(void **state)
{
    char *s = NULL;
    size_t len = 0;
    script_add(&s, &len, throttle_answer, 200);
    fake_http_script(server, (const uint8_t *)s, len);
    setenv("CSVPIPE_AWS_MAX_ATTEMPTS", "6", 1);
    cp_ddb_stats st = write_puts(8 * 25, "64", false);
    setenv("CSVPIPE_AWS_MAX_ATTEMPTS", "5", 1);
    assert_int_equal(st.written, 0);
    /* a request's answer comes after the cut its previous send caused, so a batch sent 6
       times saw at least 6 cuts: 8 -> 4 -> 2 -> 1 */
    assert_true(st.cuts >= 3);
    assert_int_equal(st.window, 1);
    free(s);
}

static int setup_server(void **state)
{
    fake_http_env();
    setenv("CSVPIPE_AWS_MAX_ATTEMPTS", "5", 1);
    server = fake_http_start();
    setenv("AWS_ENDPOINT_URL_DYNAMODB", fake_http_url(server), 1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aimd_slow_start_then_halve),
        cmocka_unit_test(test_aimd_bounds),
        cmocka_unit_test(test_writer_grows),
        cmocka_unit_test(test_writer_halves_on_throttle),
        cmocka_unit_test(test_writer_halves_on_unprocessed),
        cmocka_unit_test(test_writer_throttled_throughout),
    };
    return cmocka_run_group_tests(tests, setup_server, NULL);
}
