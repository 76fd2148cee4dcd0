/*
 * test_ecs.c - the RunTask body (aws/ecs.h): its JSON read back with jansson, and the API's
 * rules on startedBy and clientToken enforced before anything is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws/ecs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const command[] = {"run", "--handed-off", "s3://in/incoming/v/a b.csv", NULL};
static const char *const subnets[] = {"subnet-a", "subnet-b", NULL};
static const char *const groups[] = {"sg-1", NULL};

static cp_ecs_run_request request(void)
{
    cp_ecs_run_request r = {.cluster = "cp",
                            .task_definition = "cp-loader",
                            .container = "csvpipe",
                            .command = command,
                            .subnets = subnets,
                            .security_groups = groups,
                            .started_by = "csvpipe-lambda",
                            .client_token = "req-1-abcdef01"};
    return r;
}

static void test_body_shape(void **state)
{
    cp_ecs_run_request r = request();
    char *body = NULL;
    cp_error err;
    assert_int_equal(cp_ecs_run_task_body(&r, &body, &err), CP_OK);
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "cluster")), "cp");
    assert_string_equal(json_string_value(json_object_get(j, "taskDefinition")), "cp-loader");
    assert_string_equal(json_string_value(json_object_get(j, "launchType")), "FARGATE");
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "startedBy")), "csvpipe-lambda");
    assert_string_equal(json_string_value(json_object_get(j, "clientToken")), "req-1-abcdef01");
    json_t *vpc =
        json_object_get(json_object_get(j, "networkConfiguration"), "awsvpcConfiguration");
    assert_string_equal(json_string_value(json_object_get(vpc, "assignPublicIp")), "DISABLED");
    assert_int_equal(json_array_size(json_object_get(vpc, "subnets")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(vpc, "subnets"), 1)),
                        "subnet-b");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(vpc, "securityGroups"), 0)), "sg-1");
    json_t *o =
        json_array_get(json_object_get(json_object_get(j, "overrides"), "containerOverrides"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "csvpipe");
    json_t *cmd = json_object_get(o, "command");
    assert_int_equal(json_array_size(cmd), 3);
    assert_string_equal(json_string_value(json_array_get(cmd, 2)), "s3://in/incoming/v/a b.csv");
    json_decref(j);
    free(body);
}

static void test_optional_fields_left_out(void **state)
{
    cp_ecs_run_request r = request();
    r.started_by = NULL;
    r.client_token = NULL;
    r.security_groups = NULL;
    char *body = NULL;
    assert_int_equal(cp_ecs_run_task_body(&r, &body, NULL), CP_OK);
    json_t *j = json_loads(body, 0, NULL);
    assert_null(json_object_get(j, "startedBy"));
    assert_null(json_object_get(j, "clientToken"));
    json_t *vpc =
        json_object_get(json_object_get(j, "networkConfiguration"), "awsvpcConfiguration");
    assert_int_equal(json_array_size(json_object_get(vpc, "securityGroups")), 0);
    json_decref(j);
    free(body);
}

static void expect_usage(cp_ecs_run_request r, const char *words)
{
    char *body = (char *)"untouched";
    cp_error err;
    cp_error_clear(&err);
    assert_int_equal(cp_ecs_run_task_body(&r, &body, &err), CP_USAGE);
    assert_null(body);
    assert_non_null(strstr(err.message, words));
}

static void test_rules_enforced(void **state)
{
    cp_ecs_run_request r = request();
    r.started_by = "has space";
    expect_usage(r, "startedBy");
    r = request();
    char long_by[130];
    memset(long_by, 'a', 129);
    long_by[129] = '\0';
    r.started_by = long_by;
    expect_usage(r, "startedBy");
    r = request();
    char long_token[66];
    memset(long_token, 'x', 65);
    long_token[65] = '\0';
    r.client_token = long_token;
    expect_usage(r, "clientToken");
    r = request();
    r.client_token = "tab\there";
    expect_usage(r, "clientToken");
    r = request();
    static const char *const none[] = {NULL};
    r.subnets = none;
    expect_usage(r, "subnet");
    r = request();
    r.command = none;
    expect_usage(r, "command");
    r = request();
    r.cluster = "";
    expect_usage(r, "cluster");
    r = request();
    r.container = NULL;
    expect_usage(r, "container");
    /* the limits themselves are allowed */
    r = request();
    long_by[128] = '\0';
    r.started_by = long_by;
    long_token[64] = '\0';
    r.client_token = long_token;
    char *body = NULL;
    assert_int_equal(cp_ecs_run_task_body(&r, &body, NULL), CP_OK);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_shape),
        cmocka_unit_test(test_optional_fields_left_out),
        cmocka_unit_test(test_rules_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
