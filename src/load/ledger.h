/*
 * ledger.h - one row of the `csvpipe_loads` ledger: what happened to one load attempt of
 * one source object (docs/design.md, "Loads and the ledger"). Grafana's dashboards read it.
 *
 * Table (created by every relational loader when missing; identifiers as written):
 *   csvpipe_loads(id integer primary key generated, dataset text, source_uri text,
 *     version text, sequencer text, size_bytes bigint, rows_loaded bigint,
 *     rows_rejected bigint, restarts integer, started_at timestamptz, finished_at
 *     timestamptz, duration_ms bigint, status text, error text, outputs text (JSON),
 *     schema text (JSON))
 * with indexes on (source_uri, status) and on (dataset, finished_at) (the dashboards').
 *
 * A file too big for a Lambda invocation is "handed_off" to an ECS task: its row names the
 * task in outputs ({"ecs_task": "arn:..."}), and the task's own load adds the row that
 * says how it ended (sql.h, "Hand-offs").
 */
#ifndef CP_LEDGER_H
#define CP_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum cp_load_status {
    CP_LOAD_LOADED = 0,
    CP_LOAD_REJECTED,
    CP_LOAD_FAILED,
    CP_LOAD_SKIPPED,
    CP_LOAD_HANDED_OFF,
} cp_load_status;

/* "loaded", "rejected", "failed", "skipped", "handed_off". */
const char *cp_load_status_name(cp_load_status s);

/* Strings are borrowed (the caller keeps them alive); NULL is SQL NULL. */
typedef struct cp_ledger_row {
    const char *dataset;
    const char *source_uri;
    const char *version;   /* ETag, S3 version id, or the local file's mtime:size:inode */
    const char *sequencer; /* S3 event sequencer, NULL locally */
    int64_t size_bytes;    /* -1 unknown */
    uint64_t rows_loaded;
    uint64_t rows_rejected;
    unsigned restarts;
    int64_t started_us; /* microseconds since the epoch, UTC */
    int64_t finished_us;
    cp_load_status status;
    const char *error;        /* NULL unless rejected or failed */
    const char *outputs_json; /* JSON object of output URIs, NULL when none */
    const char *schema_json;  /* cp_schema_to_json, NULL when unknown */
} cp_ledger_row;

/* What the loaders tell about the last successful load of a source. Owns its strings. */
typedef struct cp_ledger_entry {
    char version[256];
    char sequencer[128];
    uint64_t rows_loaded;
    char dataset[256];
} cp_ledger_entry;

/* What the ledger says about handing one version of a source to an ECS task. */
typedef struct cp_handoff_view {
    bool loaded;               /* the source has a loaded row... */
    cp_ledger_entry last_load; /* ...and this is the last one */
    bool handed_off;           /* the version has a handed_off row... */
    char task_arn[512];        /* ...naming this task ("" when it names none) */
    char sequencer[128];       /* ...with the sequencer of the event that asked for it */
} cp_handoff_view;

#endif
