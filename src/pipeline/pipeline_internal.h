/*
 * pipeline_internal.h - private to src/pipeline: the hand-off step of a load (handoff.c,
 * pipeline.h "Big files") and what it shares with the rest of the load (pipeline.c).
 */
#ifndef CP_PIPELINE_INTERNAL_H
#define CP_PIPELINE_INTERNAL_H

#include "load/sql.h"
#include "pipeline/pipeline.h"

/*
 * The ledger row of s (its strings borrowed; outputs and schema hold its JSON, released
 * by the caller): outputs names the published files, and the ECS task of a hand-off.
 * CP_NOMEM when the JSON could not be made (r is then incomplete).
 */
cp_status cp_pipeline_ledger_row(const cp_load_summary *s, cp_ledger_row *r, cp_buf *outputs,
                                 cp_buf *schema);

/*
 * The Lambda's side, for s whose source_uri, dataset, version, sequencer and size are
 * known. *settled false (nothing changed) when s fits in plan's time, or when the ledger
 * has a load of this version or of a later event (the skip check decides). Otherwise, under
 * the source's lock, *settled with s handed_off (task_arn set, its row committed
 * with the lock) or skipped (an earlier hand-off's task is alive: s->error says so,
 * s->task_arn names it; the caller records it). Errors are the load's failure: the ledger,
 * an earlier task whose state is unknown, a task that could not be started, or (task_arn
 * set) a started task whose hand-off could not be recorded.
 */
cp_status cp_handoff_decide(cp_sql *sql, const cp_handoff_plan *plan, cp_load_summary *s,
                            bool *settled, cp_error *err);

/*
 * The task's side (require_handoff), once s->source_uri and s->version are known: *proceed
 * when the ledger hands this version to this process (own_task NULL: any hand-off; else
 * only one naming own_task), s->sequencer then the hand-off's when s has none. Otherwise s
 * is skipped, s->error saying why (the caller records it). Errors are the ledger's.
 */
cp_status cp_handoff_check(cp_sql *sql, const char *own_task, cp_load_summary *s, bool *proceed,
                           cp_error *err);

#endif
