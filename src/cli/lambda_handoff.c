#define _GNU_SOURCE
/*
 * lambda_handoff.c - how `csvpipe lambda` hands a big file to an ECS Fargate task: the
 * task settings from the environment the template sets, the throughput estimate, and the
 * two callbacks of cp_handoff_plan (RunTask, and DescribeTasks for an earlier task).
 */
#include "aws/ecs.h"
#include "cli/cli.h"
#include "util/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The default throughput: bench/results/pg_vs_copy.md measured 29.7 MiB/s for the slowest
 * sink (PostgreSQL COPY) on one full vCPU over loopback; half of it allows for S3 and
 * DynamoDB over a real network. Lambda gives a full vCPU at 1769 MB of memory and a share
 * of one below (csvpipe loads on one thread, so more memory adds nothing).
 */
#define BENCH_BYTES_PER_S (29.7 * 1048576.0)
#define NETWORK_FACTOR 0.5
#define FULL_VCPU_MB 1769.0

struct cp_lambda_handoff {
    cp_aws *aws;
    char *cluster, *task_definition, *container;
    char *subnets_copy, *groups_copy;
    const char **subnets, **groups;
    double bytes_per_s;
    /* what the task is told, as `run` options (the Lambda's own settings) */
    char formats[32];
    const char *compression, *json_style, *keys, *partition_by, *catalog;
    /* the load in hand */
    char request_id[128];
};

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Splits a comma-separated copy into a NULL-terminated list (pointers into copy). */
static const char **split(char *copy)
{
    size_t n = 1;
    for (const char *p = copy; *p; p++)
        n += *p == ',';
    const char **list = calloc(n + 1, sizeof *list);
    if (!list)
        return NULL;
    size_t k = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        list[k++] = t;
    return list;
}

void cp_lambda_handoff_free(cp_lambda_handoff *h)
{
    if (!h)
        return;
    cp_aws_free(h->aws);
    free(h->cluster);
    free(h->task_definition);
    free(h->container);
    free(h->subnets_copy);
    free(h->groups_copy);
    free(h->subnets);
    free(h->groups);
    free(h);
}

double cp_lambda_default_throughput(void)
{
    double share = 1.0;
    const char *mem = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    if (mem) {
        double mb = strtod(mem, NULL);
        if (mb > 0 && mb < FULL_VCPU_MB)
            share = mb / FULL_VCPU_MB;
    }
    return BENCH_BYTES_PER_S * NETWORK_FACTOR * share;
}

int cp_lambda_handoff_new(const cp_pipeline_options *o, cp_lambda_handoff **out, char *msg,
                          size_t cap)
{
    *out = NULL;
    const char *cluster = env("CSVPIPE_ECS_CLUSTER");
    if (!cluster)
        return 0;
    const char *td = env("CSVPIPE_ECS_TASK_DEFINITION"), *subnets = env("CSVPIPE_ECS_SUBNETS");
    if (!td || !subnets) {
        snprintf(msg, cap,
                 "CSVPIPE_ECS_CLUSTER is set, so big files go to ECS tasks, but %s is not: set "
                 "CSVPIPE_ECS_TASK_DEFINITION and CSVPIPE_ECS_SUBNETS (comma-separated)",
                 td ? "CSVPIPE_ECS_SUBNETS" : "CSVPIPE_ECS_TASK_DEFINITION");
        return -1;
    }
    if (!o->sql_url) {
        snprintf(msg, cap,
                 "CSVPIPE_ECS_CLUSTER is set but no database is: a hand-off to an ECS task is "
                 "recorded in the ledger, so set CSVPIPE_SQL or CSVPIPE_SQL_SECRET_ARN");
        return -1;
    }
    cp_lambda_handoff *h = calloc(1, sizeof *h);
    if (!h)
        goto nomem;
    const char *v;
    h->bytes_per_s = cp_lambda_default_throughput();
    if ((v = env("CSVPIPE_THROUGHPUT_MBPS"))) {
        char *end;
        double mbps = strtod(v, &end);
        if (*end || end == v || !(mbps > 0) || mbps > 1e6) {
            snprintf(msg, cap,
                     "CSVPIPE_THROUGHPUT_MBPS='%s': give the load throughput in MB/s, such as 8 "
                     "or 2.5",
                     v);
            cp_lambda_handoff_free(h);
            return -1;
        }
        h->bytes_per_s = mbps * 1e6;
    }
    cp_error err;
    cp_error_clear(&err);
    if (cp_aws_new(&h->aws, &err) != CP_OK) {
        snprintf(msg, cap, "%s", err.message);
        cp_lambda_handoff_free(h);
        return -1;
    }
    h->cluster = strdup(cluster);
    h->task_definition = strdup(td);
    h->container = strdup((v = env("CSVPIPE_ECS_CONTAINER")) ? v : "csvpipe");
    h->subnets_copy = strdup(subnets);
    h->groups_copy = strdup((v = env("CSVPIPE_ECS_SECURITY_GROUPS")) ? v : "");
    if (!h->cluster || !h->task_definition || !h->container || !h->subnets_copy ||
        !h->groups_copy || !(h->subnets = split(h->subnets_copy)) ||
        !(h->groups = split(h->groups_copy)))
        goto nomem;
    snprintf(h->formats, sizeof h->formats, "%s",
             (o->formats & CP_FORMAT_PARQUET) && (o->formats & CP_FORMAT_JSON) ? "parquet,json"
             : o->formats & CP_FORMAT_PARQUET                                  ? "parquet"
             : o->formats & CP_FORMAT_JSON                                     ? "json"
                                                                               : "none");
    h->compression = cp_pq_codec_name(o->parquet.codec);
    h->json_style = o->json_style == CP_JSON_STYLE_DYNAMODB ? "dynamodb" : "plain";
    h->keys = env("CSVPIPE_KEY");
    h->partition_by = env("CSVPIPE_PARTITION_BY");
    h->catalog = env("CSVPIPE_CATALOG");
    *out = h;
    return 0;
nomem:
    cp_lambda_handoff_free(h);
    snprintf(msg, cap, "out of memory");
    return -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static cp_status start_task(void *ctx, const cp_load_summary *s, char **task_arn, cp_error *err)
{
    cp_lambda_handoff *h = ctx;
    const char *cmd[24];
    size_t n = 0;
    cmd[n++] = "run";
    cmd[n++] = "--handed-off";
    cmd[n++] = "--json";
    cmd[n++] = "--quiet";
    cmd[n++] = "--table";
    cmd[n++] = s->dataset;
    cmd[n++] = "--formats";
    cmd[n++] = h->formats;
    cmd[n++] = "--compression";
    cmd[n++] = h->compression;
    cmd[n++] = "--json-style";
    cmd[n++] = h->json_style;
    if (h->keys) {
        cmd[n++] = "--key";
        cmd[n++] = h->keys;
    }
    if (h->partition_by) {
        cmd[n++] = "--partition-by";
        cmd[n++] = h->partition_by;
    }
    if (h->catalog) {
        cmd[n++] = "--catalog";
        cmd[n++] = h->catalog;
    }
    cmd[n++] = s->source_uri;
    cmd[n] = NULL;
    /*
     * One token per call: the client's own retries of this request (a timeout, a 5xx) get
     * the task already started, never a second one. The time makes it new for every
     * hand-off, even of a retried invocation (Lambda keeps the request id across retries):
     * a task started by an attempt whose hand-off was not recorded finds none and skips,
     * and the retry's hand-off names a task of its own.
     */
    char token[65];
    snprintf(token, sizeof token, "%.36s-%08x-%" PRIx64,
             h->request_id[0] ? h->request_id : "csvpipe",
             fnv1a(fnv1a(2166136261u, s->source_uri), s->version), now_ms());
    cp_ecs_run_request req = {.cluster = h->cluster,
                              .task_definition = h->task_definition,
                              .container = h->container,
                              .command = cmd,
                              .subnets = h->subnets,
                              .security_groups = h->groups,
                              .started_by = "csvpipe-lambda",
                              .client_token = token};
    cp_status st = cp_ecs_run_task(h->aws, &req, task_arn, err);
    if (st == CP_OK)
        cp_log_info("%s: ECS task %s started", s->source, *task_arn);
    return st;
}

static cp_status task_gone(void *ctx, const char *task_arn, bool *gone, char *why, size_t cap,
                           cp_error *err)
{
    cp_lambda_handoff *h = ctx;
    cp_ecs_task_state t;
    CP_RETURN_IF_ERROR(cp_ecs_describe_task(h->aws, h->cluster, task_arn, &t, err));
    *gone = t.gone;
    snprintf(why, cap, "%s%s%s%s%s", t.last_status, t.desired_status[0] ? ", desired " : "",
             t.desired_status, t.stopped_reason[0] ? ": " : "", t.stopped_reason);
    return CP_OK;
}

void cp_lambda_handoff_plan(cp_lambda_handoff *h, const char *request_id, int64_t time_left_ms,
                            cp_handoff_plan *plan)
{
    snprintf(h->request_id, sizeof h->request_id, "%s", request_id ? request_id : "");
    plan->budget_ms = time_left_ms;
    plan->bytes_per_s = h->bytes_per_s;
    plan->start = start_task;
    plan->gone = task_gone;
    plan->ctx = h;
}
