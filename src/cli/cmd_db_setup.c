#define _GNU_SOURCE
/*
 * csvpipe db-setup: the database roles of a deployment (load/pg_roles.h), set up with the
 * master user's secret and each role's own secret from Secrets Manager. Run once by hand,
 * or with --lambda as the Lambda behind the stack's custom resource: each invocation is a
 * CloudFormation request (Create, Update: set the roles up; Delete: keep them, the database
 * outlives the stack) whose result is PUT to the request's presigned ResponseURL.
 */
#include "aws/emf.h"
#include "aws/lambda_runtime.h"
#include "aws/secrets.h"
#include "cli/cli.h"
#include "load/pg_roles.h"
#include "util/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: csvpipe db-setup [--lambda [--max-invocations N]]\n"
    "\n"
    "Creates or updates the PostgreSQL roles of a deployment as the master user: the\n"
    "loader (owns csvpipe's tables), the read-only reader (Grafana's datasource:\n"
    "SELECT only) and Grafana's own role (owner of the database Grafana keeps its\n"
    "state in).\n"
    "Idempotent; a second run sets the passwords again from the secrets.\n"
    "\n"
    "environment (secrets in Secrets Manager, JSON with username and password):\n"
    "  CSVPIPE_SETUP_MASTER_SECRET_ARN   the master user's secret (RDS: with host,\n"
    "                                    port, dbname; PGHOST, when set, replaces\n"
    "                                    host and port)\n"
    "  CSVPIPE_SETUP_LOADER_SECRET_ARN   the loader's secret\n"
    "  CSVPIPE_SETUP_READER_SECRET_ARN   the reader's secret\n"
    "  CSVPIPE_SETUP_GRAFANA_SECRET_ARN  Grafana's own role (optional)\n"
    "  CSVPIPE_SETUP_GRAFANA_DB          its database (default grafana)\n"
    "  PGHOST, PGPORT, PGSSLMODE, PGSSLROOTCERT ...   libpq's, as everywhere\n"
    "\n"
    "options:\n"
    "  --lambda                run as the Lambda of a CloudFormation custom resource\n"
    "  --max-invocations N     with --lambda: exit after N invocations (for tests)\n";

static void log_json(const char *level, const char *message, const char *request_id)
{
    cp_emf_log_entry e = {.level = level, .message = message, .request_id = request_id};
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    if (cp_emf_log_format(&e, cp_emf_now_ms(), &b) == CP_OK)
        cp_emf_write(stdout, &b);
    cp_buf_release(&b);
}

typedef struct role_secret {
    char *name, *password;
} role_secret;

static void role_release(role_secret *r)
{
    free(r->name);
    cp_cli_wipe_free(r->password);
    memset(r, 0, sizeof *r);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/*
 * The JSON of the secret named by variable var (its ARN in *arn); NULL with msg set when
 * the variable is unset, the secret unreadable or not JSON.
 */
static json_t *read_secret_json(cp_aws *aws, const char *var, const char **arn, char *msg,
                                size_t cap)
{
    if (!(*arn = env(var))) {
        snprintf(msg, cap, "%s is not set", var);
        return NULL;
    }
    cp_error err;
    cp_error_clear(&err);
    char *text = NULL;
    if (cp_secrets_get(aws, *arn, &text, &err) != CP_OK) {
        snprintf(msg, cap, "%s=%s: %s", var, *arn, err.message);
        return NULL;
    }
    json_t *j = json_loads(text, 0, NULL);
    cp_cli_wipe_free(text);
    if (!j)
        snprintf(msg, cap, "%s=%s: the secret is not JSON", var, *arn);
    return j;
}

/* username and password of the secret named by variable var. */
static int read_role(cp_aws *aws, const char *var, role_secret *out, char *msg, size_t cap)
{
    const char *arn;
    json_t *j = read_secret_json(aws, var, &arn, msg, cap);
    if (!j)
        return -1;
    const char *u = json_string_value(json_object_get(j, "username"));
    const char *p = json_string_value(json_object_get(j, "password"));
    int rc = -1;
    if (!u || !p || !*u || !*p)
        snprintf(msg, cap, "%s=%s: the secret needs a JSON username and password", var, arn);
    else if (!(out->name = strdup(u)) || !(out->password = strdup(p)))
        snprintf(msg, cap, "out of memory");
    else
        rc = 0;
    json_decref(j);
    return rc;
}

/* The master user's conninfo; PGHOST (and PGPORT) replace the secret's host and port. */
static int read_master(cp_aws *aws, char **conninfo, char *msg, size_t cap)
{
    const char *var = "CSVPIPE_SETUP_MASTER_SECRET_ARN", *arn;
    json_t *j = read_secret_json(aws, var, &arn, msg, cap);
    if (!j)
        return -1;
    if (env("PGHOST")) {
        json_object_del(j, "host");
        json_object_del(j, "port");
    }
    int rc = -1;
    cp_error err;
    cp_error_clear(&err);
    char *copy = json_dumps(j, JSON_COMPACT);
    if (!copy)
        snprintf(msg, cap, "out of memory");
    else if (cp_secrets_rds_conninfo(copy, conninfo, &err) != CP_OK)
        snprintf(msg, cap, "%s=%s: %s", var, arn, err.message);
    else
        rc = 0;
    cp_cli_wipe_free(copy);
    json_decref(j);
    return rc;
}

/* One setup from the environment; report receives what was done, msg why not. */
static int setup_once(cp_buf *report, char *msg, size_t cap)
{
    cp_error err;
    cp_error_clear(&err);
    cp_aws *aws = NULL;
    if (cp_aws_new(&aws, &err) != CP_OK) {
        snprintf(msg, cap, "%s", err.message);
        return -1;
    }
    role_secret loader = {0}, reader = {0}, grafana = {0};
    char *master = NULL;
    int rc = -1;
    if (read_master(aws, &master, msg, cap) < 0 ||
        read_role(aws, "CSVPIPE_SETUP_LOADER_SECRET_ARN", &loader, msg, cap) < 0 ||
        read_role(aws, "CSVPIPE_SETUP_READER_SECRET_ARN", &reader, msg, cap) < 0 ||
        (env("CSVPIPE_SETUP_GRAFANA_SECRET_ARN") &&
         read_role(aws, "CSVPIPE_SETUP_GRAFANA_SECRET_ARN", &grafana, msg, cap) < 0))
        goto out;
    cp_pg_roles_plan plan = {.master_conninfo = master,
                             .loader = {loader.name, loader.password},
                             .reader = {reader.name, reader.password},
                             .grafana = {grafana.name, grafana.password},
                             .grafana_db = env("CSVPIPE_SETUP_GRAFANA_DB")};
    if (cp_pg_roles_setup(&plan, report, &err) != CP_OK) {
        snprintf(msg, cap, "%s", err.message);
        goto out;
    }
    rc = 0;
out:
    role_release(&loader);
    role_release(&reader);
    role_release(&grafana);
    cp_cli_wipe_free(master);
    cp_aws_free(aws);
    return rc;
}

/* PUTs the custom resource's answer to its presigned ResponseURL (no signature). */
static int put_response(const char *url, const char *body, char *msg, size_t cap)
{
    cp_error err;
    cp_error_clear(&err);
    cp_aws *aws = NULL;
    int rc = -1;
    if (cp_aws_new(&aws, &err) == CP_OK) {
        cp_aws_request req = {.service = CP_AWS_S3,
                              .method = "PUT",
                              .url = url,
                              .body = body,
                              .body_len = strlen(body),
                              .unsigned_request = true,
                              .timeout_ms = 30000};
        cp_aws_response r;
        cp_aws_response_init(&r);
        if (cp_aws_call(aws, &req, &r, &err) == CP_OK && r.status == 200)
            rc = 0;
        else if (err.message[0] == '\0')
            cp_aws_fail(&r, &err, "PUT to the custom resource's ResponseURL");
        cp_aws_response_release(&r);
    }
    if (rc < 0)
        snprintf(msg, cap, "%s", err.message);
    cp_aws_free(aws);
    return rc;
}

/* One CloudFormation request: set up (or not), then answer CloudFormation and Lambda. */
static void custom_resource(cp_lambda_runtime *rt, const cp_lambda_invocation *inv)
{
    json_t *ev = json_loadb(inv->event, inv->event_len, 0, NULL);
    const char *type = json_string_value(json_object_get(ev, "RequestType"));
    const char *url = json_string_value(json_object_get(ev, "ResponseURL"));
    const char *logical = json_string_value(json_object_get(ev, "LogicalResourceId"));
    const char *physical = json_string_value(json_object_get(ev, "PhysicalResourceId"));
    cp_error err;
    cp_error_clear(&err);
    if (!type || !url || !logical) {
        log_json("error", "not a CloudFormation custom resource request", inv->request_id);
        cp_lambda_fail(rt, inv, "Csvpipe.InvalidEvent",
                       "expected a CloudFormation custom resource request (RequestType, "
                       "ResponseURL, LogicalResourceId)",
                       &err);
        json_decref(ev);
        return;
    }
    char msg[1500] = "";
    cp_buf report;
    cp_buf_init(&report, 1u << 16);
    bool ok = true;
    if (strcmp(type, "Delete") == 0) {
        snprintf(msg, sizeof msg,
                 "Delete: the roles stay with the database (which outlives the stack)");
    } else {
        ok = setup_once(&report, msg, sizeof msg) == 0;
        if (ok)
            snprintf(msg, sizeof msg, "%s: the roles are set up", type);
    }
    if (report.len)
        log_json("info", report.data, inv->request_id);
    log_json(ok ? "info" : "error", msg, inv->request_id);
    char id[300];
    snprintf(id, sizeof id, "%s", physical ? physical : "");
    if (!id[0])
        snprintf(id, sizeof id, "%s-csvpipe-db-roles", logical);
    json_t *answer =
        json_pack("{s:s,s:s,s:s,s:O?,s:O?,s:s}", "Status", ok ? "SUCCESS" : "FAILED", "Reason", msg,
                  "PhysicalResourceId", id, "StackId", json_object_get(ev, "StackId"), "RequestId",
                  json_object_get(ev, "RequestId"), "LogicalResourceId", logical);
    char *body = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    json_decref(answer);
    char put_msg[1100] = "";
    bool put_ok = body && put_response(url, body, put_msg, sizeof put_msg) == 0;
    if (!put_ok) {
        char line[1400];
        snprintf(line, sizeof line,
                 "the answer could not be sent to CloudFormation (%s); the stack waits for it "
                 "until its own timeout",
                 body ? put_msg : "out of memory");
        log_json("error", line, inv->request_id);
    }
    if (put_ok)
        cp_lambda_respond(rt, inv, body, strlen(body), &err);
    else
        cp_lambda_fail(rt, inv, "Csvpipe.ResponseNotSent", put_msg, &err);
    free(body);
    cp_buf_release(&report);
    json_decref(ev);
}

int cp_cmd_db_setup(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"lambda", no_argument, NULL, 'l'},
        {"max-invocations", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool lambda = false;
    unsigned long max = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            lambda = true;
            break;
        case 'n':
            if (cp_parse_max_invocations(optarg, &max) != 0)
                return CP_EXIT_USAGE;
            break;
        case 'h':
            printf("%s", usage);
            return CP_EXIT_OK;
        default:
            fprintf(stderr, "%s", usage);
            return CP_EXIT_USAGE;
        }
    }
    if (optind < argc || (max && !lambda)) {
        fprintf(stderr, "%s", usage);
        return CP_EXIT_USAGE;
    }
    if (!lambda) {
        char msg[1500];
        cp_buf report;
        cp_buf_init(&report, 1u << 16);
        int rc = setup_once(&report, msg, sizeof msg);
        if (report.len)
            fputs(report.data, stdout);
        cp_buf_release(&report);
        if (rc < 0) {
            cp_cli_error("%s", msg);
            return CP_EXIT_FAILED;
        }
        return CP_EXIT_OK;
    }
    cp_error err;
    cp_error_clear(&err);
    cp_lambda_runtime *rt = cp_lambda_runtime_new(NULL, &err);
    if (!rt) {
        cp_cli_error("%s", err.message);
        return CP_EXIT_USAGE;
    }
    int rc = CP_EXIT_OK;
    for (unsigned long n = 0; max == 0 || n < max; n++) {
        cp_lambda_invocation inv;
        cp_status st = cp_lambda_next(rt, &inv, &err);
        if (st == CP_TOO_LARGE) {
            cp_lambda_fail(rt, &inv, "Csvpipe.InvalidEvent", err.message, &err);
            continue;
        }
        if (st != CP_OK) {
            cp_cli_error("%s", err.message);
            rc = CP_EXIT_FAILED;
            break;
        }
        custom_resource(rt, &inv);
    }
    cp_lambda_runtime_free(rt);
    return rc;
}
