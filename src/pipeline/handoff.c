#define _GNU_SOURCE
/*
 * handoff.c - big files handed from a Lambda invocation to an ECS task, and the task's
 * side of it (pipeline.h, "Big files"; the load's step 4 in pipeline.c). The ledger is the
 * only shared state: the Lambda's "handed_off" row is committed under the source's lock
 * (sql.h) together with the decision to start the task, and the task reads it under the
 * same lock, so neither can see the other's half-done step.
 */
#include "aws/events.h"
#include "pipeline/pipeline_internal.h"
#include "util/decompress.h"
#include "util/fault.h"
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void set_error(cp_load_summary *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error(cp_load_summary *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(s->error);
    if (vasprintf(&s->error, fmt, ap) < 0)
        s->error = NULL;
    va_end(ap);
}

/* Whether s is too big for plan's time; logs the estimate when it is. */
static bool too_big(const cp_handoff_plan *plan, const cp_load_summary *s)
{
    if (plan->budget_ms < 0 || !(plan->bytes_per_s > 0))
        return false;
    const bool compressed = cp_compression_suffix_len(s->source_uri) > 0;
    const double bytes = (double)s->size_bytes * (compressed ? CP_HANDOFF_EXPANSION : 1.0);
    const double need_ms = bytes / plan->bytes_per_s * 1000.0;
    if (need_ms <= (double)plan->budget_ms)
        return false;
    cp_log_info("%s: %lld bytes%s need about %.0f s at %.1f MB/s, %.0f s are left: handing it "
                "off to an ECS task",
                s->source, (long long)s->size_bytes,
                compressed ? " (compressed, counted as the CSV inside would be)" : "",
                need_ms / 1000.0, plan->bytes_per_s / 1e6, (double)plan->budget_ms / 1000.0);
    return true;
}

cp_status cp_handoff_decide(cp_sql *sql, const cp_handoff_plan *plan, cp_load_summary *s,
                            bool *settled, cp_error *err)
{
    *settled = false;
    if (!too_big(plan, s))
        return CP_OK;
    cp_handoff_view v;
    CP_RETURN_IF_ERROR(cp_sql_handoff_begin(sql, s->source_uri, s->version, &v, err));
    const bool older = s->sequencer && v.last_load.sequencer[0] &&
                       cp_s3_sequencer_cmp(s->sequencer, v.last_load.sequencer) < 0;
    if (v.loaded && (strcmp(v.last_load.version, s->version) == 0 || older))
        return cp_sql_handoff_end(sql, NULL, err); /* the skip check's to decide */
    if (v.handed_off && v.task_arn[0]) {
        bool gone = false;
        char why[300] = "";
        cp_error e;
        cp_error_clear(&e);
        if (plan->gone(plan->ctx, v.task_arn, &gone, why, sizeof why, &e) != CP_OK) {
            cp_sql_handoff_end(sql, NULL, NULL);
            return cp_error_set(err, e.code,
                                "version %s was handed off to ECS task %s, whose state is "
                                "unknown (no second task started): %s",
                                s->version, v.task_arn, e.message);
        }
        if (!gone) {
            cp_sql_handoff_end(sql, NULL, NULL);
            s->status = CP_LOAD_SKIPPED;
            if (!(s->task_arn = strdup(v.task_arn)))
                return cp_error_set(err, CP_NOMEM, "out of memory");
            set_error(s, "version %s is being loaded by ECS task %s (%s); no second task started",
                      s->version, v.task_arn, why);
            *settled = true;
            return CP_OK;
        }
        cp_log_warn("%s: ECS task %s of the earlier hand-off of version %s is gone (%s); "
                    "handing it off again",
                    s->source, v.task_arn, s->version, why);
    }
    cp_error e;
    cp_error_clear(&e);
    if (plan->start(plan->ctx, s, &s->task_arn, &e) != CP_OK) {
        cp_sql_handoff_end(sql, NULL, NULL);
        return cp_error_set(err, e.code,
                            "too big for the time left, and no ECS task could be started: %s",
                            e.message);
    }
    cp_fault_point("handoff-started");
    s->status = CP_LOAD_HANDED_OFF;
    s->finished_us = now_us();
    cp_buf outputs, schema;
    cp_buf_init(&outputs, CP_BUF_UNLIMITED);
    cp_buf_init(&schema, CP_BUF_UNLIMITED);
    cp_ledger_row r;
    cp_status st = cp_pipeline_ledger_row(s, &r, &outputs, &schema);
    if (st != CP_OK) {
        cp_sql_handoff_end(sql, NULL, NULL);
        cp_error_set(&e, st, "out of memory");
    } else {
        st = cp_sql_handoff_end(sql, &r, &e);
    }
    cp_buf_release(&outputs);
    cp_buf_release(&schema);
    if (st != CP_OK)
        return cp_error_set(err, st,
                            "ECS task %s was started but the hand-off could not be recorded "
                            "(%s); that task finds no hand-off and loads nothing, and a retry "
                            "hands the file off again",
                            s->task_arn, e.message);
    cp_fault_point("handoff-recorded");
    *settled = true;
    return CP_OK;
}

cp_status cp_handoff_check(cp_sql *sql, const char *own_task, cp_load_summary *s, bool *proceed,
                           cp_error *err)
{
    *proceed = false;
    if (!sql)
        return cp_error_set(err, CP_USAGE,
                            "--handed-off needs the relational database: the ledger holds the "
                            "hand-off");
    if (!s->version) {
        s->status = CP_LOAD_SKIPPED;
        set_error(s, "not handed off: %s has no version to look up", s->source_uri);
        return CP_OK;
    }
    cp_handoff_view v;
    CP_RETURN_IF_ERROR(cp_sql_handoff_begin(sql, s->source_uri, s->version, &v, err));
    CP_RETURN_IF_ERROR(cp_sql_handoff_end(sql, NULL, err));
    if (!v.handed_off) {
        s->status = CP_LOAD_SKIPPED;
        set_error(s,
                  "not handed off: the ledger has no handed_off row for version %s of %s (the "
                  "object changed since, or its hand-off was never recorded); nothing loaded",
                  s->version, s->source_uri);
        return CP_OK;
    }
    if (own_task && strcmp(own_task, v.task_arn) != 0) {
        s->status = CP_LOAD_SKIPPED;
        set_error(s,
                  "not handed off to this task: version %s of %s was handed off to ECS task %s; "
                  "nothing loaded",
                  s->version, s->source_uri, v.task_arn[0] ? v.task_arn : "(none)");
        return CP_OK;
    }
    if (!s->sequencer && v.sequencer[0] && !(s->sequencer = strdup(v.sequencer)))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    *proceed = true;
    return CP_OK;
}
