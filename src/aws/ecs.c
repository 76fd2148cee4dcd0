/*
 * ecs.c - ECS RunTask and DescribeTasks over the JSON 1.1 protocol (ecs.h).
 */
#include "aws/ecs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."

static bool started_by_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '/'))
            return false;
    return true;
}

static bool client_token_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 33 || (unsigned char)*s > 126)
            return false;
    return true;
}

/* A JSON array of the strings of a NULL-terminated list; NULL on allocation failure. */
static json_t *string_array(const char *const *list)
{
    json_t *a = json_array();
    for (const char *const *p = list; a && p && *p; p++)
        if (json_array_append_new(a, json_string(*p)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static size_t count(const char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

cp_status cp_ecs_run_task_body(const cp_ecs_run_request *req, char **body, cp_error *err)
{
    *body = NULL;
    if (!req->cluster || !*req->cluster)
        return cp_error_set(err, CP_USAGE, "RunTask: no cluster given");
    if (!req->task_definition || !*req->task_definition)
        return cp_error_set(err, CP_USAGE, "RunTask: no task definition given");
    if (!req->container || !*req->container)
        return cp_error_set(err, CP_USAGE, "RunTask: no container name given");
    if (count(req->command) == 0)
        return cp_error_set(err, CP_USAGE, "RunTask: the command is empty");
    if (count(req->subnets) == 0)
        return cp_error_set(err, CP_USAGE, "RunTask: no subnet given (awsvpc needs one)");
    if (req->started_by && !started_by_ok(req->started_by))
        return cp_error_set(err, CP_USAGE,
                            "RunTask: startedBy \"%s\" must be 1 to 128 letters, digits, _, / "
                            "or -",
                            req->started_by);
    if (req->client_token && !client_token_ok(req->client_token))
        return cp_error_set(err, CP_USAGE,
                            "RunTask: clientToken must be 1 to 64 printable ASCII characters "
                            "without spaces");
    json_t *override =
        json_pack("{s:s,s:o*}", "name", req->container, "command", string_array(req->command));
    json_t *vpc =
        json_pack("{s:o*,s:o*,s:s}", "subnets", string_array(req->subnets), "securityGroups",
                  string_array(req->security_groups), "assignPublicIp", "DISABLED");
    json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:{s:o*},s:{s:[o*]}}", "cluster", req->cluster,
                          "taskDefinition", req->task_definition, "launchType", "FARGATE", "count",
                          1, "networkConfiguration", "awsvpcConfiguration", vpc, "overrides",
                          "containerOverrides", override);
    if (j && req->started_by)
        json_object_set_new(j, "startedBy", json_string(req->started_by));
    if (j && req->client_token)
        json_object_set_new(j, "clientToken", json_string(req->client_token));
    *body = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    return *body ? CP_OK : cp_error_set(err, CP_NOMEM, "out of memory building RunTask");
}

/* POSTs body to operation op; the answer's JSON in *out (CP_OK only for HTTP 200). */
static cp_status call(cp_aws *aws, const char *op, const char *body, const char *what, json_t **out,
                      cp_error *err)
{
    *out = NULL;
    char target[128];
    snprintf(target, sizeof target, TARGET_PREFIX "%s", op);
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st = cp_aws_json_call(aws, CP_AWS_ECS, target, body, &r, err);
    if (st == CP_OK && r.status != 200)
        st = cp_aws_fail(&r, err, what);
    if (st == CP_OK) {
        json_error_t je;
        *out = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, &je);
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            st = cp_error_set(err, CP_IO, "%s: unreadable answer (%s)", what, je.text);
        }
    }
    cp_aws_response_release(&r);
    return st;
}

static void copy_str(char *dst, size_t cap, json_t *v)
{
    const char *s = json_string_value(v);
    snprintf(dst, cap, "%s", s ? s : "");
}

cp_status cp_ecs_run_task(cp_aws *aws, const cp_ecs_run_request *req, char **task_arn,
                          cp_error *err)
{
    *task_arn = NULL;
    char *body;
    CP_RETURN_IF_ERROR(cp_ecs_run_task_body(req, &body, err));
    char what[512];
    snprintf(what, sizeof what, "ECS RunTask of %s in cluster %s", req->task_definition,
             req->cluster);
    json_t *j;
    cp_status st = call(aws, "RunTask", body, what, &j, err);
    free(body);
    if (st != CP_OK)
        return st;
    const char *arn = json_string_value(
        json_object_get(json_array_get(json_object_get(j, "tasks"), 0), "taskArn"));
    if (arn) {
        if (!(*task_arn = strdup(arn)))
            st = cp_error_set(err, CP_NOMEM, "out of memory");
    } else {
        json_t *f = json_array_get(json_object_get(j, "failures"), 0);
        const char *reason = json_string_value(json_object_get(f, "reason"));
        const char *detail = json_string_value(json_object_get(f, "detail"));
        st = cp_error_set(err, CP_IO, "%s: no task was started: %s%s%s", what,
                          reason ? reason : "ECS gave no reason", detail ? " - " : "",
                          detail ? detail : "");
    }
    json_decref(j);
    return st;
}

cp_status cp_ecs_describe_task(cp_aws *aws, const char *cluster, const char *task_arn,
                               cp_ecs_task_state *out, cp_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *q = json_pack("{s:s,s:[s]}", "cluster", cluster, "tasks", task_arn);
    char *body = q ? json_dumps(q, JSON_COMPACT) : NULL;
    json_decref(q);
    if (!body)
        return cp_error_set(err, CP_NOMEM, "out of memory building DescribeTasks");
    char what[600];
    snprintf(what, sizeof what, "ECS DescribeTasks of %s", task_arn);
    json_t *j;
    cp_status st = call(aws, "DescribeTasks", body, what, &j, err);
    free(body);
    if (st != CP_OK)
        return st;
    json_t *t = json_array_get(json_object_get(j, "tasks"), 0);
    if (t) {
        copy_str(out->last_status, sizeof out->last_status, json_object_get(t, "lastStatus"));
        copy_str(out->desired_status, sizeof out->desired_status,
                 json_object_get(t, "desiredStatus"));
        copy_str(out->stopped_reason, sizeof out->stopped_reason,
                 json_object_get(t, "stoppedReason"));
        out->gone = strcmp(out->last_status, "STOPPED") == 0 ||
                    strcmp(out->last_status, "DELETED") == 0 ||
                    strcmp(out->desired_status, "STOPPED") == 0;
    } else {
        snprintf(out->last_status, sizeof out->last_status, "MISSING");
        json_t *f = json_array_get(json_object_get(j, "failures"), 0);
        copy_str(out->stopped_reason, sizeof out->stopped_reason, json_object_get(f, "reason"));
        out->gone = true;
    }
    json_decref(j);
    return CP_OK;
}

cp_status cp_ecs_own_task_arn(cp_aws *aws, char **arn, cp_error *err)
{
    *arn = NULL;
    const char *base = getenv("ECS_CONTAINER_METADATA_URI_V4");
    if (!base || !*base)
        return CP_OK;
    char url[1024];
    snprintf(url, sizeof url, "%s/task", base);
    cp_aws_request req = {.service = CP_AWS_ECS,
                          .method = "GET",
                          .url = url,
                          .unsigned_request = true,
                          .timeout_ms = 5000};
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st = cp_aws_call(aws, &req, &r, err);
    if (st == CP_OK && r.status != 200)
        st = cp_aws_fail(&r, err, "the ECS task metadata endpoint");
    if (st == CP_OK) {
        json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
        const char *v = json_string_value(json_object_get(j, "TaskARN"));
        if (!v)
            st = cp_error_set(err, CP_IO, "%s: the answer names no TaskARN", url);
        else if (!(*arn = strdup(v)))
            st = cp_error_set(err, CP_NOMEM, "out of memory");
        json_decref(j);
    }
    cp_aws_response_release(&r);
    return st;
}
