#define _GNU_SOURCE
/*
 * csvpipe lambda: the AWS Lambda runtime. Configuration comes from the environment; the
 * pipeline (and its database connections) is opened once at start, then each invocation
 * is one event of S3 objects (direct, through SQS, or from EventBridge) loaded in order.
 *
 * Per record: a test event or a notification that is not an object creation is ignored;
 * a key under the output location is refused (no recursive invocation); any other object
 * is loaded from s3://bucket/key. Each load prints one EMF record and one JSON log line.
 * The invocation answers {"files":[summaries],"ignored":[…]}; when a file fails or is
 * rejected, a direct or EventBridge invocation reports an error instead (so Lambda
 * retries, then sends it to the dead-letter queue), while an SQS batch answers
 * {"batchItemFailures":[{"itemIdentifier":messageId}…]} naming only the failed messages.
 * Near the deadline the load in hand is rolled back and the rest is not started
 * (lambda_runtime.h tells how the watchdog guarantees a report before the deadline).
 */
#include "aws/emf.h"
#include "aws/events.h"
#include "aws/lambda_runtime.h"
#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "util/cpus.h"
#include "util/fault.h"
#include "util/json_escape.h"
#include "util/log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage[] =
    "usage: csvpipe lambda [--max-invocations N]\n"
    "\n"
    "Runs as the AWS Lambda runtime (AWS_LAMBDA_RUNTIME_API): loads the S3 objects\n"
    "named by each event (S3 notification, SQS or EventBridge) and answers with the\n"
    "load summaries.\n"
    "\n"
    "environment:\n"
    "  CSVPIPE_OUT             output location, s3://BUCKET/PREFIX (required)\n"
    "  CSVPIPE_SQL             relational database: postgresql://... or sqlite:PATH\n"
    "  CSVPIPE_SQL_SECRET_ARN  or: a Secrets Manager secret of an RDS database\n"
    "                          (neither: no database and no ledger, so no repeat\n"
    "                          detection)\n"
    "  CSVPIPE_NOSQL           item store: dynamodb:TABLE or sqlite:PATH\n"
    "                          (default none)\n"
    "  CSVPIPE_TABLE           dataset (table) name for every file\n"
    "  CSVPIPE_INPUT_PREFIX    input prefix: the first folder under it names the\n"
    "                          dataset (incoming/sales/2024-01.csv -> sales)\n"
    "  CSVPIPE_KEY             business key columns, COL[,COL]\n"
    "  CSVPIPE_SCHEMA_PREFIX   s3://BUCKET/PREFIX/ of DATASET.json schema files\n"
    "                          (read for every file; none there: inferred types)\n"
    "  CSVPIPE_FORMATS         parquet,json (default both), or none\n"
    "  CSVPIPE_COMPRESSION     Parquet codec: snappy (default), zstd, gzip, none\n"
    "  CSVPIPE_JSON_STYLE      plain (default) or dynamodb\n"
    "  CSVPIPE_CATALOG         glue:DATABASE: register the Parquet dataset there\n"
    "  CSVPIPE_PARTITION_BY    Hive-style partitions of the files, e.g.\n"
    "                          month(order_date) (as run --partition-by)\n"
    "  CSVPIPE_THREADS         threads of a load (default auto: the CPUs the\n"
    "                          function may use, from its memory size)\n"
    "  CSVPIPE_DEADLINE_MARGIN_MS\n"
    "                          stop this long before the deadline\n"
    "                          (default the larger of 2 s and 5% of the time given)\n"
    "\n"
    "big files (one whose size / throughput exceeds the time left runs as an ECS\n"
    "task, `csvpipe run --handed-off s3://...`, recorded in the ledger as\n"
    "handed_off):\n"
    "  CSVPIPE_ECS_CLUSTER     ECS cluster (unset: every file loads in the Lambda)\n"
    "  CSVPIPE_ECS_TASK_DEFINITION  task definition (family[:revision] or ARN)\n"
    "  CSVPIPE_ECS_CONTAINER   its container (default csvpipe)\n"
    "  CSVPIPE_ECS_SUBNETS     subnets of the task, comma-separated\n"
    "  CSVPIPE_ECS_SECURITY_GROUPS  its security groups, comma-separated\n"
    "  CSVPIPE_THROUGHPUT_MBPS load throughput to expect in MB/s (default from the\n"
    "                          benchmark, scaled by the function's memory); a .gz,\n"
    "                          .zst, .bz2 or .xz object counts 8 times its size\n"
    "\n"
    "options:\n"
    "  --max-invocations N     exit after N invocations (for tests; default: forever)\n";

typedef struct lambda_config {
    cp_pipeline_options o;
    const char *out;
    const char *input_prefix;
    char *keys_copy;
    const char **keys;
    unsigned long max_invocations;
    cp_lambda_handoff *handoff; /* NULL: every file loads here */
    cp_partition_spec partition;
} lambda_config;

typedef struct lambda_ctx {
    cp_lambda_runtime *rt;
    cp_pipeline *p;
    lambda_config *cfg;
} lambda_ctx;

static void on_signal(int sig)
{
    (void)sig;
    cp_pipeline_interrupt();
}

/* Writes one structured log line on stdout. */
static void log_line(const cp_emf_log_entry *e)
{
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    if (cp_emf_log_format(e, cp_emf_now_ms(), &b) == CP_OK)
        cp_emf_write(stdout, &b);
    cp_buf_release(&b);
}

static void log_simple(const char *level, const char *message, const char *request_id)
{
    cp_emf_log_entry e = {.level = level, .message = message, .request_id = request_id};
    log_line(&e);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static void config_release(lambda_config *c)
{
    cp_lambda_handoff_free(c->handoff);
    free(c->keys_copy);
    free(c->keys);
    if (c->o.sql_url) /* may hold a password from Secrets Manager */
        explicit_bzero((char *)c->o.sql_url, strlen(c->o.sql_url));
    free((char *)c->o.sql_url);
    memset(c, 0, sizeof *c);
}

/* Fills c from the environment; -1 with a message for the init error. */
static int config_from_env(lambda_config *c, char *msg, size_t cap)
{
    cp_pipeline_options *o = &c->o;
    cp_pipeline_options_default(o);
    o->progress = false;
    c->out = env("CSVPIPE_OUT");
    if (!c->out) {
        snprintf(msg, cap,
                 "CSVPIPE_OUT is not set: set it to the output location, s3://BUCKET/PREFIX "
                 "(outside the input prefix the bucket notification is filtered to)");
        return -1;
    }
    o->out_dir = c->out;
    const char *sql = env("CSVPIPE_SQL"), *arn = env("CSVPIPE_SQL_SECRET_ARN");
    if (sql && arn) {
        snprintf(msg, cap,
                 "both CSVPIPE_SQL and CSVPIPE_SQL_SECRET_ARN are set; set only one of them");
        return -1;
    }
    if (sql && !(o->sql_url = strdup(sql))) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    if (arn) {
        char *url;
        if (cp_cli_sql_url_from_secret(arn, &url, msg, cap) < 0)
            return -1;
        o->sql_url = url;
    }
    o->nosql_url = env("CSVPIPE_NOSQL");
    o->table = env("CSVPIPE_TABLE");
    c->input_prefix = getenv("CSVPIPE_INPUT_PREFIX"); /* "" is the bucket root */
    o->schema_prefix = env("CSVPIPE_SCHEMA_PREFIX");
    const char *v;
    cp_error ferr;
    cp_error_clear(&ferr);
    if ((v = env("CSVPIPE_FORMATS")) && cp_pipeline_parse_formats(v, &o->formats, &ferr) != CP_OK) {
        snprintf(msg, cap, "CSVPIPE_FORMATS='%s': %s", v, ferr.message);
        return -1;
    }
    if ((v = env("CSVPIPE_COMPRESSION")) && !cp_pq_codec_parse(v, &o->parquet.codec)) {
        snprintf(msg, cap, "CSVPIPE_COMPRESSION='%s': use snappy, zstd, gzip or none", v);
        return -1;
    }
    if ((v = env("CSVPIPE_JSON_STYLE")) && !cp_json_style_parse(v, &o->json_style)) {
        snprintf(msg, cap, "CSVPIPE_JSON_STYLE='%s': use plain or dynamodb", v);
        return -1;
    }
    if ((v = env("CSVPIPE_PARTITION_BY"))) {
        if (cp_partition_spec_parse(v, &c->partition, &ferr) != CP_OK) {
            snprintf(msg, cap, "CSVPIPE_PARTITION_BY='%s': %s", v, ferr.message);
            return -1;
        }
        o->partition = &c->partition;
    }
    if ((v = env("CSVPIPE_CATALOG"))) {
        if (cp_cli_catalog_parse(v, o, msg, cap) < 0)
            return -1;
    }
    if ((v = env("CSVPIPE_THREADS")) && cp_threads_parse(v, &o->threads, &ferr) != CP_OK) {
        snprintf(msg, cap, "CSVPIPE_THREADS: %s", ferr.message);
        return -1;
    }
    if ((v = env("CSVPIPE_KEY"))) {
        c->keys_copy = strdup(v);
        c->keys = calloc(strlen(v) + 1, sizeof *c->keys);
        if (!c->keys_copy || !c->keys) {
            snprintf(msg, cap, "out of memory");
            return -1;
        }
        char *save = NULL;
        for (char *t = strtok_r(c->keys_copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            c->keys[o->nkeys++] = t;
        o->key_names = c->keys;
    }
    if (o->formats == 0 && !o->sql_url && !o->nosql_url) {
        snprintf(msg, cap,
                 "nothing to do: CSVPIPE_FORMATS is none and neither CSVPIPE_SQL nor "
                 "CSVPIPE_NOSQL is set");
        return -1;
    }
    return cp_lambda_handoff_new(o, &c->handoff, msg, cap);
}

/* What one invocation collects: summaries, ignored records and failures. */
typedef struct outcome {
    cp_buf files;    /* JSON array elements, comma-separated */
    cp_buf ignored;  /* JSON array elements */
    cp_buf failures; /* batchItemFailures elements */
    char **failed_ids;
    size_t nfailed_ids;
    size_t nfailed;
    char first_error[1024];
    bool stopped;    /* the deadline came: the rest was not loaded */
    bool fatal;      /* the pipeline cannot go on: end the process after reporting */
    bool incomplete; /* the answer could not be made whole (memory): fail the invocation */
} outcome;

static void outcome_init(outcome *oc)
{
    memset(oc, 0, sizeof *oc);
    cp_buf_init(&oc->files, CP_BUF_UNLIMITED);
    cp_buf_init(&oc->ignored, CP_BUF_UNLIMITED);
    cp_buf_init(&oc->failures, CP_BUF_UNLIMITED);
}

static void outcome_release(outcome *oc)
{
    cp_buf_release(&oc->files);
    cp_buf_release(&oc->ignored);
    cp_buf_release(&oc->failures);
    for (size_t i = 0; i < oc->nfailed_ids; i++)
        free(oc->failed_ids[i]);
    free(oc->failed_ids);
}

/* Records a failed record: its SQS message (once) and the first error. */
static void note_failure(outcome *oc, const cp_event_record *r, const char *source,
                         const char *error)
{
    oc->nfailed++;
    if (!oc->first_error[0])
        snprintf(oc->first_error, sizeof oc->first_error, "%s: %s", source ? source : "event",
                 error ? error : "failed");
    if (!r->message_id)
        return;
    for (size_t i = 0; i < oc->nfailed_ids; i++)
        if (strcmp(oc->failed_ids[i], r->message_id) == 0)
            return;
    char **ids = realloc(oc->failed_ids, (oc->nfailed_ids + 1) * sizeof *ids);
    char *id = strdup(r->message_id);
    if (!ids || !id) {
        free(id);
        if (ids)
            oc->failed_ids = ids;
        oc->incomplete = true; /* left out of batchItemFailures, Lambda would delete it */
        return;
    }
    oc->failed_ids = ids;
    oc->failed_ids[oc->nfailed_ids++] = id;
    cp_status st = oc->failures.len ? cp_buf_append_char(&oc->failures, ',') : CP_OK;
    if (st == CP_OK)
        st = cp_buf_append_str(&oc->failures, "{\"itemIdentifier\":");
    if (st == CP_OK)
        st = cp_json_append_string(&oc->failures, id, strlen(id));
    if (st == CP_OK)
        st = cp_buf_append_char(&oc->failures, '}');
    if (st != CP_OK)
        oc->incomplete = true;
}

static void note_ignored(outcome *oc, const char *source, const char *status, const char *reason)
{
    cp_buf *b = &oc->ignored;
    if (b->len)
        cp_buf_append_char(b, ',');
    cp_buf_append_str(b, "{\"source\":");
    if (source)
        cp_json_append_string(b, source, strlen(source));
    else
        cp_buf_append_str(b, "null");
    cp_buf_printf(b, ",\"status\":\"%s\",\"reason\":", status);
    cp_json_append_string(b, reason, strlen(reason));
    cp_buf_append_char(b, '}');
}

/* Loads one object record. */
static void load_record(lambda_ctx *x, const cp_lambda_invocation *inv, const cp_event_record *r,
                        const char *uri, outcome *oc)
{
    lambda_config *cfg = x->cfg;
    char *hint = cp_event_dataset_hint(cfg->input_prefix, r->key);
    cp_load_summary s;
    cp_error err;
    cp_error_clear(&err);
    /*
     * The version comes from the object itself (its ETag at HEAD), not from the event: a
     * late event for an object replaced since loads the current object once, and the event
     * of the replacement is then a repeat. The sequencer orders events of the same key.
     */
    cp_load_request req = {uri, hint, NULL, r->sequencer, NULL};
    cp_handoff_plan plan;
    if (cfg->handoff) {
        cp_lambda_handoff_plan(cfg->handoff, inv->request_id, cp_lambda_time_left_ms(x->rt), &plan);
        req.handoff = &plan;
    }
    cp_status st = cp_pipeline_load_request(x->p, &req, &s, &err);
    free(hint);
    if (st != CP_OK) {
        /* Not about the file: memory, or a database that went away. Start afresh. */
        cp_emf_log_entry e = {.level = "error",
                              .message = "the pipeline cannot go on; the runtime will exit "
                                         "after reporting, and Lambda starts a new one",
                              .request_id = inv->request_id,
                              .message_id = r->message_id,
                              .source = uri,
                              .status = "failed",
                              .error = err.message};
        log_line(&e);
        note_failure(oc, r, uri, err.message);
        oc->fatal = true;
        cp_load_summary_release(&s);
        return;
    }
    cp_emf_load metrics;
    cp_load_summary_emf(&s, &metrics);
    if (s.status != CP_LOAD_HANDED_OFF) { /* the task's load reports its own metrics */
        cp_buf line;
        cp_buf_init(&line, CP_BUF_UNLIMITED);
        if (cp_emf_format(&metrics, cp_emf_now_ms(), &line) == CP_OK)
            cp_emf_write(stdout, &line);
        cp_buf_release(&line);
    }
    bool bad = s.status == CP_LOAD_REJECTED || s.status == CP_LOAD_FAILED;
    char message[1200];
    if (s.status == CP_LOAD_HANDED_OFF)
        snprintf(message, sizeof message, "handed_off %s to ECS task %s", uri, s.task_arn);
    else if (s.status == CP_LOAD_SKIPPED)
        snprintf(message, sizeof message, "skipped (%s)",
                 s.error ? s.error : "this version was loaded before");
    else
        snprintf(message, sizeof message, "%s %s", cp_load_status_name(s.status), uri);
    cp_emf_log_entry e = {.level = bad ? "error" : "info",
                          .message = message,
                          .request_id = inv->request_id,
                          .message_id = r->message_id,
                          .source = uri,
                          .status = cp_load_status_name(s.status),
                          .load = &metrics};
    log_line(&e);
    if ((oc->files.len && cp_buf_append_char(&oc->files, ',') != CP_OK) ||
        cp_load_summary_to_json(&s, &oc->files) != CP_OK)
        oc->incomplete = true;
    if (bad) {
        note_failure(oc, r, uri, s.error);
        if (cp_lambda_time_is_up(x->rt))
            oc->stopped = true;
    }
    cp_load_summary_release(&s);
}

/* Works through the records of one event, in order. */
static void run_records(lambda_ctx *x, const cp_lambda_invocation *inv, const cp_event *ev,
                        outcome *oc)
{
    for (size_t i = 0; i < ev->nrecords; i++) {
        const cp_event_record *r = &ev->records[i];
        char *uri = NULL;
        if (r->bucket && r->key && asprintf(&uri, "s3://%s/%s", r->bucket, r->key) < 0)
            uri = NULL;
        if (!oc->stopped && !oc->fatal && cp_lambda_time_is_up(x->rt))
            oc->stopped = true;
        if (oc->stopped || oc->fatal) {
            cp_emf_log_entry e = {.level = "warn",
                                  .message = oc->fatal ? "not started: the pipeline cannot go on"
                                                       : "not started: the deadline is near",
                                  .request_id = inv->request_id,
                                  .message_id = r->message_id,
                                  .source = uri,
                                  .status = "not-started"};
            log_line(&e);
            note_failure(oc, r, uri, e.message);
        } else if (r->action == CP_EVENT_IGNORE) {
            cp_emf_log_entry e = {.level = "info",
                                  .message = r->reason,
                                  .request_id = inv->request_id,
                                  .message_id = r->message_id,
                                  .source = uri,
                                  .status = "ignored"};
            log_line(&e);
            note_ignored(oc, uri, "ignored", r->reason);
        } else if (r->action == CP_EVENT_INVALID) {
            cp_emf_log_entry e = {.level = "error",
                                  .message = "the event record cannot be understood",
                                  .request_id = inv->request_id,
                                  .message_id = r->message_id,
                                  .source = uri,
                                  .status = "failed",
                                  .error = r->reason};
            log_line(&e);
            note_failure(oc, r, uri, r->reason);
        } else if (cp_event_key_is_output(x->cfg->out, r->bucket, r->key)) {
            char reason[512];
            snprintf(reason, sizeof reason,
                     "refused: the key is under the output location %s (csvpipe never loads "
                     "its own outputs: no recursive invocation); filter the bucket "
                     "notification to the input prefix",
                     x->cfg->out);
            cp_emf_log_entry e = {.level = "warn",
                                  .message = reason,
                                  .request_id = inv->request_id,
                                  .message_id = r->message_id,
                                  .source = uri,
                                  .status = "refused"};
            log_line(&e);
            note_ignored(oc, uri, "refused", reason);
        } else {
            load_record(x, inv, r, uri, oc);
        }
        free(uri);
    }
}

/* Answers one invocation. */
static void report(lambda_ctx *x, const cp_lambda_invocation *inv, const cp_event *ev, outcome *oc)
{
    cp_error err;
    cp_error_clear(&err);
    cp_buf body;
    cp_buf_init(&body, CP_BUF_UNLIMITED);
    cp_status st = CP_OK;
    cp_fault_point("lambda-responding");
    if (ev->source == CP_EVENT_FROM_SQS && !oc->incomplete &&
        cp_buf_printf(&body, "{\"batchItemFailures\":[%s]}",
                      oc->failures.data ? oc->failures.data : "") == CP_OK) {
        st = cp_lambda_respond(x->rt, inv, body.data, body.len, &err);
    } else if (oc->incomplete || ev->source == CP_EVENT_FROM_SQS) {
        /* the answer cannot be made whole: every record of the event comes again */
        st = cp_lambda_fail(x->rt, inv, "Csvpipe.PipelineError",
                            "out of memory making the answer; the whole event is retried", &err);
    } else if (oc->nfailed > 0 || oc->stopped || oc->fatal) {
        char msg[1400];
        snprintf(msg, sizeof msg, "%s%zu of %zu record%s failed; the first: %s",
                 oc->stopped ? "the deadline came before every file was loaded (the file in "
                               "hand was rolled back); "
                             : "",
                 oc->nfailed, ev->nrecords, ev->nrecords == 1 ? "" : "s", oc->first_error);
        const char *type = oc->stopped ? "Csvpipe.DeadlineExceeded"
                           : oc->fatal ? "Csvpipe.PipelineError"
                                       : "Csvpipe.LoadFailed";
        st = cp_lambda_fail(x->rt, inv, type, msg, &err);
    } else {
        cp_buf_printf(&body, "{\"files\":[%s],\"ignored\":[%s]}",
                      oc->files.data ? oc->files.data : "",
                      oc->ignored.data ? oc->ignored.data : "");
        st = cp_lambda_respond(x->rt, inv, body.data, body.len, &err);
        if (st == CP_TOO_LARGE)
            st = cp_lambda_fail(x->rt, inv, "Csvpipe.ResponseTooLarge", err.message, &err);
    }
    if (st == CP_OK)
        cp_fault_point("lambda-responded");
    if (st != CP_OK) {
        cp_emf_log_entry e = {.level = "error",
                              .message = "the invocation could not be reported",
                              .request_id = inv->request_id,
                              .error = err.message};
        log_line(&e);
    }
    cp_buf_release(&body);
}

/* One invocation, start to end. False when the runtime should exit. */
static bool handle(lambda_ctx *x, const cp_lambda_invocation *inv)
{
    cp_error err;
    cp_error_clear(&err);
    cp_event ev;
    cp_pipeline_interrupt_clear();
    cp_fault_point("lambda-invocation");
    cp_lambda_watch(x->rt, inv, cp_pipeline_interrupt);
    if (cp_event_parse(inv->event, inv->event_len, &ev, &err) != CP_OK) {
        cp_emf_log_entry e = {.level = "error",
                              .message = "the event cannot be understood",
                              .request_id = inv->request_id,
                              .status = "failed",
                              .error = err.message};
        log_line(&e);
        cp_error rerr;
        cp_error_clear(&rerr);
        if (cp_lambda_fail(x->rt, inv, "Csvpipe.InvalidEvent", err.message, &rerr) != CP_OK)
            log_simple("error", rerr.message, inv->request_id);
        cp_lambda_unwatch(x->rt);
        cp_event_release(&ev);
        return true;
    }
    outcome oc;
    outcome_init(&oc);
    run_records(x, inv, &ev, &oc);
    report(x, inv, &ev, &oc);
    cp_lambda_unwatch(x->rt);
    bool go_on = !oc.fatal;
    outcome_release(&oc);
    cp_event_release(&ev);
    return go_on;
}

int cp_cmd_lambda(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"max-invocations", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lambda_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (cp_parse_max_invocations(optarg, &cfg.max_invocations) != 0)
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
    if (optind < argc) {
        fprintf(stderr, "%s", usage);
        return CP_EXIT_USAGE;
    }

    cp_error err;
    cp_error_clear(&err);
    cp_lambda_runtime *rt = cp_lambda_runtime_new(NULL, &err);
    if (!rt) {
        cp_cli_error("%s", err.message);
        return CP_EXIT_USAGE;
    }
    int rc = CP_EXIT_FAILED;
    cp_pipeline *p = NULL;
    char msg[1200];
    const char *init_type = NULL;
    if (config_from_env(&cfg, msg, sizeof msg) < 0) {
        init_type = "Csvpipe.Configuration";
    } else if (!(p = cp_pipeline_new(&cfg.o, &err))) {
        snprintf(msg, sizeof msg, "the pipeline could not start: %s", err.message);
        init_type = "Csvpipe.InitFailed";
    }
    if (init_type) {
        log_simple("error", msg, NULL);
        cp_error rerr;
        cp_error_clear(&rerr);
        if (cp_lambda_init_fail(rt, init_type, msg, &rerr) != CP_OK)
            log_simple("error", rerr.message, NULL);
        goto out;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    lambda_ctx x = {rt, p, &cfg};
    for (unsigned long n = 0; cfg.max_invocations == 0 || n < cfg.max_invocations; n++) {
        cp_lambda_invocation inv;
        cp_status st = cp_lambda_next(rt, &inv, &err);
        if (st == CP_TOO_LARGE) {
            cp_error rerr;
            cp_error_clear(&rerr);
            log_simple("error", err.message, inv.request_id);
            if (cp_lambda_fail(rt, &inv, "Csvpipe.InvalidEvent", err.message, &rerr) != CP_OK)
                log_simple("error", rerr.message, inv.request_id);
            continue;
        }
        if (st != CP_OK) {
            log_simple("error", err.message, NULL);
            goto out;
        }
        if (!handle(&x, &inv))
            goto out;
    }
    rc = CP_EXIT_OK;
out:
    cp_pipeline_free(p);
    cp_lambda_runtime_free(rt);
    config_release(&cfg);
    return rc;
}
