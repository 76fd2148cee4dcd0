/*
 * pipeline.c - one source end to end. A load is five steps (load_once): naming the source
 * and its dataset and version, the skip check against the ledger, streaming into the
 * sinks (pipeline/sink.h) with rejected rows set aside, the commit in the order of
 * cp_commit_step, or, when anything ends the file, the failure record (error.json and a
 * ledger row).
 */
#define _GNU_SOURCE
#include "pipeline/pipeline.h"
#include "aws/aws.h"
#include "aws/events.h"
#include "aws/s3.h"
#include "csv/stream_chunks.h"
#include "pipeline/dataset_schema.h"
#include "pipeline/output.h"
#include "pipeline/pipeline_internal.h"
#include "pipeline/progress.h"
#include "pipeline/sink.h"
#include "pipeline/sink_workers.h"
#include "util/cpus.h"
#include "util/decompress.h"
#include "util/fault.h"
#include "util/json_escape.h"
#include "util/env.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHOWN_REJECTS 20

/*
 * Batches a threaded load keeps in flight: the one being filled and the ones the workers
 * encode (sink_workers.h). The more there are, the longer the reading thread runs on while
 * a worker writes out a row group; new ones are made only while those made hold less than
 * THREADED_BATCH_MEMORY (cp_stream_options.batches_memory), which bounds the memory threads
 * add (README.md, "Threads").
 */
#define THREADED_BATCH_MEMORY ((size_t)8 << 20)

static volatile sig_atomic_t interrupted;

void cp_pipeline_interrupt(void)
{
    interrupted = 1;
}

void cp_pipeline_interrupt_clear(void)
{
    interrupted = 0;
}

bool cp_pipeline_interrupted(void)
{
    return interrupted != 0;
}

void cp_pipeline_options_default(cp_pipeline_options *o)
{
    memset(o, 0, sizeof *o);
    o->out_dir = "./csvpipe-out";
    o->formats = CP_FORMAT_PARQUET | CP_FORMAT_JSON;
    o->json_style = CP_JSON_STYLE_PLAIN;
    cp_pq_options_init(&o->parquet);
    o->max_rejects = 1000;
    o->max_reject_fraction = 0.01;
    cp_csv_options_default(&o->csv);
    o->threads = cp_cpus_available();
    o->partition_writers = CP_PARTITION_WRITERS;
    o->chunk_bytes = cp_env_count("CSVPIPE_CHUNK_BYTES", 0, CP_CHUNK_MIN_BYTES, UINT64_MAX);
}

struct cp_pipeline {
    cp_pipeline_options o;
    cp_sql *sql; /* the relational database and the ledger; NULL: neither */
    cp_items *items;
    cp_aws *aws;   /* created on first use by an s3:// source or output */
    char *out_dir; /* o.out_dir without trailing '/'s: o.out_dir points here */
};

static cp_status aws_for(cp_pipeline *p, cp_error *err)
{
    return p->aws ? CP_OK : cp_aws_new(&p->aws, err);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

cp_pipeline *cp_pipeline_new(const cp_pipeline_options *opts, cp_error *err)
{
    cp_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        cp_error_set(err, CP_NOMEM, "out of memory");
        return NULL;
    }
    p->o = *opts;
    /* "s3://bucket/" is the bucket's root, as "s3://bucket" is: no empty path segment
     * (on S3 a key "/parquet/..."), the same keys cp_event_key_is_output refuses. */
    if (opts->out_dir) {
        size_t nout = strlen(opts->out_dir);
        while (nout > 0 && opts->out_dir[nout - 1] == '/')
            nout--;
        if (!(p->out_dir = strndup(opts->out_dir, nout))) {
            cp_error_set(err, CP_NOMEM, "out of memory");
            cp_pipeline_free(p);
            return NULL;
        }
        p->o.out_dir = p->out_dir;
    }
    if (opts->sql_url && !(p->sql = cp_sql_open(opts->sql_url, err))) {
        cp_pipeline_free(p);
        return NULL;
    }
    if (opts->nosql_url && !(p->items = cp_items_open(opts->nosql_url, err))) {
        cp_pipeline_free(p);
        return NULL;
    }
    return p;
}

void cp_pipeline_free(cp_pipeline *p)
{
    if (!p)
        return;
    cp_sql_close(p->sql);
    cp_items_close(p->items);
    cp_aws_free(p->aws);
    free(p->out_dir);
    free(p);
}

void cp_load_summary_release(cp_load_summary *s)
{
    free(s->source);
    free(s->source_uri);
    free(s->dataset);
    free(s->version);
    free(s->sequencer);
    free(s->error);
    free(s->schema_file);
    for (size_t i = 0; i < s->noutputs; i++)
        free(s->outputs[i].location);
    free(s->outputs);
    free(s->rejects_path);
    free(s->error_path);
    free(s->task_arn);
    cp_sniff_result_release(&s->sniffed);
    memset(s, 0, sizeof *s);
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* The file name without folders, a compression suffix and a .csv/.txt/.tsv extension. */
static char *file_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base) - cp_compression_suffix_len(base);
    const char *dot = memrchr(base, '.', n);
    if (dot && dot != base)
        n = (size_t)(dot - base);
    char *s = strndup(base, n);
    return s;
}

static char *dataset_name(const char *given, const char *hint, const char *stem)
{
    const char *from = given ? given : hint ? hint : stem;
    char name[CP_NAME_MAX + 1];
    cp_name_normalize(from, strlen(from), name);
    if (!name[0])
        snprintf(name, sizeof name, "dataset");
    return strdup(name);
}

/* Everything one load reads and writes, and the rows it set aside. */
typedef struct load {
    cp_pipeline *p;
    const cp_load_request *req;
    cp_load_summary *s;
    char *stem;
    const char *path;       /* what is read: the source, or standard input's spooled copy */
    char spooled[PATH_MAX]; /* "" unless standard input was spooled */
    cp_source *src;
    cp_csv_options csv;          /* the pipeline's, with a schema file's dialect */
    cp_overrides dataset_schema; /* the one under the schema prefix */
    bool usage;                  /* a --type named no column: the command line's error */
    cp_sink_load sink_load;      /* what the sinks are told */
    cp_sink **sinks;             /* in the order they open, write and publish within a step */
    size_t nsinks;
    cp_sink_workers *workers; /* NULL: every sink is written on this thread */
    uint64_t handed;          /* batches handed to the workers */
    /* where the stream was when it handed batch n (at n % CP_SINK_WORKERS_QUEUE) */
    struct handed_at {
        uint64_t rows, rejected, bytes;
        size_t nshown;
        unsigned restarts;
    } marks[CP_SINK_WORKERS_QUEUE];
    cp_type *open_types; /* the column types the sinks were opened with */
    cp_sink **checks;    /* the sinks that check rows (cp_sink.check_row) */
    size_t nchecks;
    size_t *key_columns;
    cp_item_keys keys;
    cp_output rej_out; /* the rejects file; its location is the summary's */
    bool rej_published;
    uint64_t rejected;
    size_t nshown;
    char *shown[SHOWN_REJECTS];
    cp_buf line;
    cp_progress progress;
    bool too_many_rejects;
    double stream_end_ms; /* mono_ms() when the stream ended: the commit starts */
} load;

static void abort_sinks(load *l)
{
    for (size_t i = 0; i < l->nsinks; i++) {
        cp_sink *k = l->sinks[i];
        if (k->open)
            k->ops->abort(k);
        k->open = false;
    }
    cp_output_abort(&l->rej_out);
}

static cp_status resolve_keys(load *l, const cp_schema *schema, cp_error *err)
{
    const cp_pipeline_options *o = &l->p->o;
    free(l->key_columns);
    l->key_columns = NULL;
    l->keys.dataset = l->s->dataset;
    l->keys.source_uri = l->s->source_uri;
    l->keys.columns = NULL;
    l->keys.ncolumns = 0;
    if (o->nkeys == 0)
        return CP_OK;
    l->key_columns = calloc(o->nkeys, sizeof *l->key_columns);
    if (!l->key_columns)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    for (size_t k = 0; k < o->nkeys; k++) {
        char norm[CP_NAME_MAX + 1];
        cp_name_normalize(o->key_names[k], strlen(o->key_names[k]), norm);
        size_t c = 0;
        for (; c < schema->ncolumns; c++)
            if (strcmp(schema->columns[c].name, o->key_names[k]) == 0 ||
                strcmp(schema->columns[c].name, norm) == 0 ||
                strcmp(schema->columns[c].source_name, o->key_names[k]) == 0)
                break;
        if (c == schema->ncolumns)
            return cp_error_set(err, CP_USAGE, "key column \"%s\" is not a column of this file",
                                o->key_names[k]);
        l->key_columns[k] = c;
    }
    l->keys.columns = l->key_columns;
    l->keys.ncolumns = o->nkeys;
    return CP_OK;
}

/*
 * The sinks of this load, in the order they write: the file formats asked for, the item
 * store, the relational database. Each names its outputs now.
 */
static cp_status make_sinks(load *l, cp_error *err)
{
    cp_pipeline *p = l->p;
    l->sink_load = (cp_sink_load){&p->o, p->aws, l->s->dataset, l->stem, l->s->source_uri};
    l->sinks = calloc(cp_sink_nformats + 3, sizeof *l->sinks);
    l->checks = calloc(cp_sink_nformats + 3, sizeof *l->checks);
    if (!l->sinks || !l->checks)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    cp_sink *k = NULL;
    cp_status st = CP_OK;
    for (size_t i = 0; st == CP_OK && i < cp_sink_nformats; i++) {
        if (!(p->o.formats & cp_sink_formats[i]->bit))
            continue;
        if ((st = p->o.partition && p->o.partition->nexprs
                      ? cp_sink_partition_new(cp_sink_formats[i], &l->sink_load, &k, err)
                      : cp_sink_file_new(cp_sink_formats[i], &l->sink_load, &k, err)) == CP_OK)
            l->sinks[l->nsinks++] = k;
    }
    if (st == CP_OK && p->o.catalog_database && (p->o.formats & CP_FORMAT_PARQUET)) {
        cp_sink *pq = NULL;
        if (p->o.partition && p->o.partition->nexprs)
            for (size_t i = 0, f = 0; i < cp_sink_nformats; i++)
                if (p->o.formats & cp_sink_formats[i]->bit) {
                    if (cp_sink_formats[i] == &cp_sink_parquet)
                        pq = l->sinks[f];
                    f++;
                }
        if ((st = cp_sink_catalog_new(&l->sink_load, pq, &k, err)) == CP_OK)
            l->sinks[l->nsinks++] = k;
    }
    if (st == CP_OK && p->items &&
        (st = cp_sink_items_new(p->items, &l->sink_load, &k, err)) == CP_OK)
        l->sinks[l->nsinks++] = k;
    if (st == CP_OK && p->sql && (st = cp_sink_sql_new(p->sql, &l->sink_load, &k, err)) == CP_OK)
        l->sinks[l->nsinks++] = k;
    for (size_t i = 0; i < l->nsinks; i++)
        if (l->sinks[i]->check_row)
            l->checks[l->nchecks++] = l->sinks[i];
    return st;
}

static void free_sinks(load *l)
{
    for (size_t i = 0; i < l->nsinks; i++)
        cp_sink_free(l->sinks[i]);
    free(l->sinks);
    free(l->checks);
    l->sinks = l->checks = NULL;
    l->nsinks = l->nchecks = 0;
}

static cp_status open_sinks(load *l, const cp_schema *schema, cp_error *err)
{
    CP_RETURN_IF_ERROR(resolve_keys(l, schema, err));
    free(l->open_types);
    if (!(l->open_types = calloc(schema->ncolumns + 1, sizeof *l->open_types)))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    for (size_t c = 0; c < schema->ncolumns; c++)
        l->open_types[c] = schema->columns[c].type;
    for (size_t i = 0; i < l->nsinks; i++) {
        cp_sink *k = l->sinks[i];
        k->open = true; /* abort undoes an open that failed half-way too */
        CP_RETURN_IF_ERROR(k->ops->open(k, schema, &l->keys, err));
    }
    return CP_OK;
}

static void clear_rejects(load *l)
{
    for (size_t i = 0; i < l->nshown; i++)
        free(l->shown[i]);
    l->nshown = 0;
    l->rejected = 0;
    cp_output_abort(&l->rej_out);
}

/* Every sink, or only the deferred ones in the second pass. */
static cp_status write_sinks(load *l, const cp_batch *b, bool deferred, cp_error *err)
{
    if (interrupted)
        return cp_error_set(err, CP_INTERRUPTED, "interrupted; the load was rolled back");
    if (l->workers && !deferred) {
        CP_RETURN_IF_ERROR(cp_sink_workers_write(l->workers, b, err));
        l->marks[l->handed++ % CP_SINK_WORKERS_QUEUE] =
            (struct handed_at){b->first_row + b->nrows - 1, l->rejected,
                               l->s->stream.reached ? l->s->stream.reached : l->src->position,
                               l->nshown, l->s->stream.restarts};
    }
    for (size_t i = 0; i < l->nsinks; i++) {
        cp_sink *k = l->sinks[i];
        if (k->deferred == deferred && !cp_sink_workers_own(l->workers, k))
            CP_RETURN_IF_ERROR(k->ops->write(k, b, err));
    }
    return CP_OK;
}

static void on_reuse(void *ctx, const cp_batch *b)
{
    load *l = ctx;
    cp_sink_workers_wait(l->workers, b);
}

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    load *l = ctx;
    CP_RETURN_IF_ERROR(write_sinks(l, b, false, err));
    cp_fault_point("streaming");
    const uint64_t reached = l->s->stream.reached;
    cp_progress_update_bytes(&l->progress, reached ? reached : cp_decompress_input_position(l->src),
                             l->s->size_bytes, b->first_row + b->nrows - 1);
    return CP_OK;
}

static cp_status on_deferred_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    return write_sinks(ctx, b, true, err);
}

/* Appends a CSV field, quoted when it has to be. */
static cp_status csv_field(cp_buf *o, const char *s, size_t len)
{
    CP_RETURN_IF_ERROR(cp_buf_append_char(o, '"'));
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            CP_RETURN_IF_ERROR(cp_buf_append_char(o, '"'));
        CP_RETURN_IF_ERROR(cp_buf_append_char(o, s[i]));
    }
    return cp_buf_append_char(o, '"');
}

static cp_status on_row(void *ctx, const cp_batch *b, size_t row, cp_error *why)
{
    load *l = ctx;
    for (size_t i = 0; i < l->nchecks; i++)
        CP_RETURN_IF_ERROR(l->checks[i]->check_row(l->checks[i], b, row, why));
    return CP_OK;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    load *l = ctx;
    cp_load_summary *s = l->s;
    l->rejected++;
    if (!l->rej_out.open) {
        CP_RETURN_IF_ERROR(cp_output_open(&l->rej_out, l->p->aws, s->rejects_path, err));
        static const char header[] = "line,reason,row\n";
        cp_status st = cp_output_write(&l->rej_out, header, sizeof header - 1);
        if (st != CP_OK) {
            cp_error_clear(err);
            return cp_output_failed(&l->rej_out, s->rejects_path, st, err);
        }
    }
    cp_buf_reset(&l->line);
    CP_RETURN_IF_ERROR(cp_buf_printf(&l->line, "%" PRIu64 ",", row->line));
    CP_RETURN_IF_ERROR(csv_field(&l->line, why->message, strlen(why->message)));
    CP_RETURN_IF_ERROR(cp_buf_append_char(&l->line, ','));
    CP_RETURN_IF_ERROR(csv_field(&l->line, row->text ? row->text : "", row->text_len));
    CP_RETURN_IF_ERROR(cp_buf_append_char(&l->line, '\n'));
    cp_status st = cp_output_write(&l->rej_out, l->line.data, l->line.len);
    if (st != CP_OK) {
        cp_error_clear(err);
        return cp_output_failed(&l->rej_out, s->rejects_path, st, err);
    }
    if (l->nshown < SHOWN_REJECTS &&
        !(l->shown[l->nshown++] = str_printf("line %" PRIu64 ": %s", row->line, why->message))) {
        l->nshown--;
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    if (l->rejected > l->p->o.max_rejects) {
        l->too_many_rejects = true;
        return cp_error_set(err, CP_REJECTED,
                            "more than %" PRIu64 " rows could not be parsed (the first at line "
                            "%" PRIu64 ")",
                            l->p->o.max_rejects, row->line);
    }
    return CP_OK;
}

static cp_status on_restart(void *ctx, const cp_schema *widened, cp_error *err)
{
    load *l = ctx;
    if (l->workers && cp_sink_workers_drain(l->workers, NULL) != CP_OK) {
        /* a write failed before the widening: one thread would have stopped there */
        cp_schema *schema = &l->s->sniffed.schema;
        for (size_t c = 0; c < schema->ncolumns; c++)
            schema->columns[c].type = l->open_types[c];
        return cp_sink_workers_drain(l->workers, err);
    }
    cp_log_info("%s: a value after the sample widened the schema; starting the file over",
                l->s->source);
    abort_sinks(l);
    clear_rejects(l);
    return open_sinks(l, widened, err);
}

/* error.json: why the file did not load. err names the path when it cannot be written. */
static cp_status write_error_json(load *l, cp_error *err)
{
    cp_load_summary *s = l->s;
    const char *e = s->error ? s->error : "";
    cp_buf o;
    cp_buf_init(&o, CP_BUF_UNLIMITED);
    cp_status st = cp_buf_append_str(&o, "{\"source\":");
    if (st == CP_OK)
        st = cp_json_append_string(&o, s->source_uri, strlen(s->source_uri));
    if (st == CP_OK)
        st = cp_buf_append_str(&o, ",\"dataset\":");
    if (st == CP_OK)
        st = cp_json_append_string(&o, s->dataset, strlen(s->dataset));
    if (st == CP_OK)
        st = cp_buf_printf(&o, ",\"status\":\"%s\",\"error\":", cp_load_status_name(s->status));
    if (st == CP_OK)
        st = cp_json_append_string(&o, e, strlen(e));
    if (st == CP_OK)
        st = cp_buf_printf(&o, ",\"rows\":%" PRIu64 ",\"rejected_rows\":%" PRIu64 ",\"rejects\":[",
                           s->stream.rows, l->rejected);
    for (size_t i = 0; st == CP_OK && i < l->nshown; i++) {
        if (i)
            st = cp_buf_append_char(&o, ',');
        if (st == CP_OK)
            st = cp_json_append_string(&o, l->shown[i], strlen(l->shown[i]));
    }
    if (st == CP_OK)
        st = cp_buf_append_str(&o, "]}\n");
    if (st != CP_OK) {
        cp_buf_release(&o);
        return cp_error_set(err, st, "%s: out of memory writing it", s->error_path);
    }
    cp_output out;
    st = cp_output_open(&out, l->p->aws, s->error_path, err);
    if (st == CP_OK) {
        /* a write that failed makes the commit fail with its cause, and roll back */
        (void)cp_output_write(&out, o.data, o.len);
        st = cp_output_commit(&out, err);
    }
    cp_buf_release(&o);
    return st;
}

static cp_status outputs_json(const cp_load_summary *s, cp_buf *o)
{
    CP_RETURN_IF_ERROR(cp_buf_append_char(o, '{'));
    bool first = true;
    for (size_t i = 0; i < s->noutputs + 2; i++) {
        const char *name = i < s->noutputs    ? s->outputs[i].format
                           : i == s->noutputs ? "rejects"
                                              : "error";
        const char *path = i < s->noutputs    ? s->outputs[i].location
                           : i == s->noutputs ? s->rejects_path
                                              : s->error_path;
        if (!path)
            continue;
        CP_RETURN_IF_ERROR(cp_buf_printf(o, "%s\"%s\":", first ? "" : ",", name));
        CP_RETURN_IF_ERROR(cp_json_append_string(o, path, strlen(path)));
        first = false;
    }
    if (s->task_arn) {
        CP_RETURN_IF_ERROR(cp_buf_printf(o, "%s\"ecs_task\":", first ? "" : ","));
        CP_RETURN_IF_ERROR(cp_json_append_string(o, s->task_arn, strlen(s->task_arn)));
    }
    return cp_buf_append_char(o, '}');
}

cp_status cp_pipeline_ledger_row(const cp_load_summary *s, cp_ledger_row *r, cp_buf *outputs,
                                 cp_buf *schema)
{
    memset(r, 0, sizeof *r);
    r->dataset = s->dataset;
    r->source_uri = s->source_uri;
    r->version = s->version;
    r->sequencer = s->sequencer;
    r->size_bytes = s->size_bytes;
    r->rows_loaded = s->status == CP_LOAD_LOADED ? s->stream.rows : 0;
    r->rows_rejected = s->stream.rejected;
    r->restarts = s->stream.restarts;
    r->started_us = s->started_us;
    r->finished_us = s->finished_us;
    r->status = s->status;
    r->error = s->error;
    CP_RETURN_IF_ERROR(outputs_json(s, outputs));
    r->outputs_json = outputs->data;
    if (s->sniffed.schema.ncolumns) {
        CP_RETURN_IF_ERROR(cp_schema_to_json(&s->sniffed.schema, schema));
        r->schema_json = schema->data;
    }
    return CP_OK;
}

/* A ledger row for a load that did not commit rows (skipped, rejected, failed). */
static void record(cp_pipeline *p, cp_load_summary *s)
{
    if (!p->sql)
        return;
    cp_buf outputs, schema;
    cp_buf_init(&outputs, CP_BUF_UNLIMITED);
    cp_buf_init(&schema, CP_BUF_UNLIMITED);
    cp_ledger_row r;
    cp_error e;
    cp_error_clear(&e);
    /* short of memory the row goes without its outputs or schema: it is about a failure */
    if (cp_pipeline_ledger_row(s, &r, &outputs, &schema) != CP_OK)
        cp_log_warn("%s: out of memory: its ledger row goes without its outputs", s->source);
    if (cp_sql_record(p->sql, &r, &e) != CP_OK)
        cp_log_error("%s: cannot write the ledger row: %s", s->source, e.message);
    cp_buf_release(&outputs);
    cp_buf_release(&schema);
}

/* Copies standard input to a temporary file, so the file can be read more than once. */
static cp_status spool_stdin(char *path, size_t cap, cp_error *err)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, cap, "%s/csvpipe-stdin-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return cp_error_set(err, CP_IO, "cannot create a temporary file in %s: %s", dir,
                            strerror(errno));
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            if (n < 0) {
                unlink(path);
                return cp_error_set(err, CP_IO, "cannot read standard input: %s", strerror(errno));
            }
            return CP_OK;
        }
        for (ssize_t o = 0; o < n;) {
            ssize_t w = write(fd, buf + o, (size_t)(n - o));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                close(fd);
                unlink(path);
                return cp_error_set(err, CP_IO, "cannot spool standard input: %s", strerror(errno));
            }
            o += w;
        }
    }
}

static void set_failed(cp_load_summary *s, cp_load_status status, const cp_error *e)
{
    s->status = status;
    free(s->error);
    s->error = strdup(e->message[0] ? e->message : cp_status_message(e->code));
}

/* The file name of an S3 key or a path, without the .csv extension. */
static char *uri_stem(const char *uri)
{
    char *bucket = NULL, *key = NULL;
    if (!cp_s3_parse_uri(uri, &bucket, &key))
        return strdup("object");
    char *stem = file_stem(key);
    free(bucket);
    free(key);
    return stem;
}

/*
 * A compressed file that failed on its text may have damaged compressed data that its
 * checks had not caught yet: then that damage is the error (in *e), not the text.
 */
static bool damaged(cp_source *src, cp_status failure, cp_error *e)
{
    switch (failure) {
    case CP_OK:
    case CP_NOMEM:
    case CP_IO:
    case CP_USAGE:
    case CP_NOT_FOUND:
    case CP_INTERNAL:
    case CP_FORMAT:
    case CP_DATABASE:
    case CP_INTERRUPTED:
        return false;
    default:
        break;
    }
    cp_error de;
    cp_error_clear(&de);
    if (cp_decompress_verify(src, cp_pipeline_interrupted, &de) == CP_OK)
        return false;
    *e = de;
    return true;
}

/*
 * Step 1, naming: where the source comes from (its URI and stem) and its dataset. Nothing
 * is read yet.
 */
static cp_status name_source(load *l, cp_error *e)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    const cp_load_request *req = l->req;
    const char *path = req->source;
    const bool is_s3 = cp_location_is_s3(path), is_stdin = strcmp(path, "-") == 0;
    cp_status st = CP_OK;
    l->path = path;
    if (req->sequencer && !(s->sequencer = strdup(req->sequencer)))
        st = CP_NOMEM;
    if (st == CP_OK && (is_s3 || cp_location_is_s3(p->o.out_dir)))
        st = aws_for(p, e);
    if (is_s3 || st != CP_OK) {
        s->source_uri = strdup(path);
        l->stem = st == CP_OK ? uri_stem(path) : strdup("object");
    } else if (is_stdin) {
        s->source_uri = strdup("stdin");
        l->stem = strdup("stdin");
    } else {
        char abs[PATH_MAX];
        s->source_uri = strdup(realpath(path, abs) ? abs : path);
        l->stem = file_stem(path);
    }
    if (l->stem)
        s->dataset = dataset_name(p->o.table, req->dataset_hint, l->stem);
    if (!s->source || !s->source_uri || !l->stem || !s->dataset)
        return cp_error_set(e, CP_NOMEM, "out of memory");
    return st == CP_NOMEM ? cp_error_set(e, CP_NOMEM, "out of memory") : st;
}

/*
 * Step 2, the source lock (docs/design.md, "Exactly once"): one load of a source at a
 * time, from here until its ledger row is committed, so that the version read next is the
 * current one once the loads before have committed. Without a database there is no lock
 * (and no ledger). A wait the process was asked to stop (a signal, the Lambda deadline)
 * ends in CP_INTERRUPTED.
 */
static cp_status lock_source(load *l, cp_error *e)
{
    if (!l->p->sql)
        return CP_OK;
    CP_RETURN_IF_ERROR(cp_sql_lock_source(l->p->sql, l->s->source_uri, cp_pipeline_interrupted, e));
    cp_fault_point("locked");
    return CP_OK;
}

/*
 * Step 3, the version: the source's size and version as they are now. Standard input is
 * spooled to a temporary file first, an S3 object is opened (a HEAD: its size and ETag or
 * version id), a local file is stat'ed (its mtime, size and inode).
 */
static cp_status read_version(load *l, cp_error *e)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    const cp_load_request *req = l->req;
    const char *path = req->source;
    const bool is_s3 = cp_location_is_s3(path), is_stdin = strcmp(path, "-") == 0;
    if (is_s3) {
        CP_RETURN_IF_ERROR(cp_s3_source_open(p->aws, path, &l->src, e));
        s->size_bytes = l->src->size;
        const char *v = req->version ? req->version : cp_s3_source_version_id(l->src);
        if (!v)
            v = cp_s3_source_etag(l->src);
        if (v && !(s->version = strdup(v)))
            return cp_error_set(e, CP_NOMEM, "out of memory");
        return CP_OK;
    }
    if (is_stdin) {
        CP_RETURN_IF_ERROR(spool_stdin(l->spooled, sizeof l->spooled, e));
        l->path = l->spooled;
    }
    struct stat sb;
    if (stat(l->path, &sb) == 0) {
        s->size_bytes = (int64_t)sb.st_size;
        if (!is_stdin &&
            !(s->version = str_printf("%lld.%09ld:%lld:%llu", (long long)sb.st_mtim.tv_sec,
                                      sb.st_mtim.tv_nsec, (long long)sb.st_size,
                                      (unsigned long long)sb.st_ino)))
            return cp_error_set(e, CP_NOMEM, "out of memory");
    }
    return CP_OK;
}

/*
 * Step 4, the hand-off, under the source lock (pipeline.h, "Big files"): the task of a
 * hand-off loads only the version handed to it; a Lambda hands an S3 object too big for its time
 * left to such a task. *settled when the load ends here: handed off (its row committed with the
 * decision) or skipped (recorded here). A hand-off that fails is the load's failure (e).
 */
static cp_status hand_off(load *l, bool *settled, cp_error *e)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    const cp_handoff_plan *plan = l->req->handoff;
    *settled = false;
    if (p->o.require_handoff) {
        bool proceed = false;
        CP_RETURN_IF_ERROR(cp_handoff_check(p->sql, p->o.handoff_task, s, &proceed, e));
        *settled = !proceed;
    } else if (plan && p->sql && s->version && s->size_bytes >= 0 &&
               cp_location_is_s3(s->source_uri)) {
        CP_RETURN_IF_ERROR(cp_handoff_decide(p->sql, plan, s, settled, e));
    }
    if (*settled && s->status != CP_LOAD_HANDED_OFF) {
        s->finished_us = now_us();
        record(p, s);
    }
    return CP_OK;
}

/*
 * Step 5, the skip check, under the source lock: a version loaded before, or an event
 * older than the last load (its S3 sequencer), is skipped and recorded so. Errors are the
 * database's (err).
 */
static cp_status skip_check(load *l, bool *skipped, cp_error *err)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    *skipped = false;
    if (!p->sql || !s->version)
        return CP_OK;
    cp_ledger_entry last;
    bool found = false;
    CP_RETURN_IF_ERROR(cp_sql_last_load(p->sql, s->source_uri, &last, &found, err));
    if (!found)
        return CP_OK;
    s->rows_before = last.rows_loaded;
    bool older =
        s->sequencer && last.sequencer[0] && cp_s3_sequencer_cmp(s->sequencer, last.sequencer) < 0;
    if (strcmp(last.version, s->version) == 0 || older) {
        s->status = CP_LOAD_SKIPPED;
        s->stream.rows = 0;
        s->finished_us = now_us();
        record(p, s);
        *skipped = true;
    }
    return CP_OK;
}

/*
 * The schema file of this load, before sniffing: --schema, else the dataset's file under
 * the schema prefix; its dialect goes into l->csv.
 */
static cp_status find_schema(load *l, cp_error *e)
{
    cp_pipeline *p = l->p;
    const cp_overrides *cli = p->o.overrides;
    l->csv = p->o.csv;
    if (cli && cli->schema_name) {
        cp_overrides_dialect(cli, &l->csv);
        return (l->s->schema_file = strdup(cli->schema_name))
                   ? CP_OK
                   : cp_error_set(e, CP_NOMEM, "out of memory");
    }
    if (!p->o.schema_prefix)
        return CP_OK;
    if (cp_location_is_s3(p->o.schema_prefix))
        CP_RETURN_IF_ERROR(aws_for(p, e));
    char *location = NULL;
    cp_status st = cp_dataset_schema_read(p->aws, p->o.schema_prefix, l->s->dataset,
                                          &l->dataset_schema, &location, e);
    if (st == CP_NOT_FOUND) {
        cp_log_debug("%s: no schema file %s; the types are inferred", l->s->source,
                     location ? location : "");
        free(location);
        cp_error_clear(e);
        return CP_OK;
    }
    if (st != CP_OK) {
        free(location);
        return st;
    }
    l->s->schema_file = location;
    cp_overrides_dialect(&l->dataset_schema, &l->csv);
    return CP_OK;
}

/* The schema file's columns and every --type, on the sniffed schema. */
static cp_status apply_overrides(load *l, cp_error *e)
{
    const cp_overrides *cli = l->p->o.overrides;
    cp_sniff_result *sr = &l->s->sniffed;
    if (l->dataset_schema.schema_name)
        CP_RETURN_IF_ERROR(cp_overrides_apply(&l->dataset_schema, sr, l->s->source, e));
    if (!cli)
        return CP_OK;
    cp_status st = cp_overrides_apply(cli, sr, l->s->source, e);
    l->usage = st == CP_USAGE;
    return st;
}

/*
 * Step 6, streaming into the sinks: the sinks named, the file sniffed, every sink opened
 * with the schema and fed every batch (again from the start after a widening), the rows
 * that cannot be parsed set aside, and the file rejected when they are too many.
 */
static cp_status stream_into_sinks(load *l, cp_error *e)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    const char *out = p->o.out_dir;
    CP_RETURN_IF_ERROR(make_sinks(l, e));
    s->rejects_path = str_printf("%s/rejected/%s/%s.rejects.csv", out, s->dataset, l->stem);
    s->error_path = str_printf("%s/rejected/%s/%s.error.json", out, s->dataset, l->stem);
    if (!s->rejects_path || !s->error_path)
        return cp_error_set(e, CP_NOMEM, "out of memory");
    double t0 = mono_ms();
    if (!l->src && !(l->src = cp_source_open_file(l->path, 0, e)))
        return e->code;
    if (!(l->src = cp_decompress_open(l->src, e)))
        return e->code;
    CP_RETURN_IF_ERROR(find_schema(l, e));
    CP_RETURN_IF_ERROR(cp_sniff(l->src, &l->csv, &s->sniffed, e));
    CP_RETURN_IF_ERROR(apply_overrides(l, e));
    double t1 = mono_ms();
    s->sniff_ms = t1 - t0;
    CP_RETURN_IF_ERROR(open_sinks(l, &s->sniffed.schema, e));
    if (p->o.threads > 1)
        CP_RETURN_IF_ERROR(
            cp_sink_workers_new(l->sinks, l->nsinks, p->o.threads - 1, &l->workers, e));
    cp_progress_init(&l->progress, p->o.progress, s->source);
    cp_stream_callbacks cb = {on_batch,
                              on_reject,
                              on_restart,
                              l,
                              l->nchecks ? on_row : NULL,
                              l->workers ? on_reuse : NULL};
    cp_stream_options so = {0, 0, 0, l->workers ? CP_STREAM_MAX_BATCHES : 1, THREADED_BATCH_MEMORY};
    /*
     * Parsing in chunks only from 3 threads, on N - 1 of them: at 2 the reading thread and
     * one encoder already fill 2 cores, and chunks add the copy into one thread's batches
     * (bench/results/threads.md).
     */
    const cp_chunk_options co = {p->o.threads >= 3 ? p->o.threads - 1 : 1, p->o.chunk_bytes};
    const char *local = cp_location_is_s3(l->path) ? NULL : l->path; /* S3: one thread */
    cp_status st = cp_csv_stream_chunks(local, l->src, &s->sniffed, &l->csv, &so, &co, &cb,
                                        &s->stream, NULL, e);
    if (l->workers) {
        /* a worker's error came first: its batch was read before whatever stopped the stream */
        cp_error we;
        cp_status ws = cp_sink_workers_drain(l->workers, &we);
        if (ws != CP_OK) {
            /* where one thread would have stopped: after that batch, its rejects only */
            const struct handed_at *m =
                &l->marks[cp_sink_workers_failed_batch(l->workers) % CP_SINK_WORKERS_QUEUE];
            s->stream.rows = m->rows;
            s->stream.bytes = m->bytes;
            s->stream.restarts = m->restarts;
            l->rejected = m->rejected;
            while (l->nshown > m->nshown)
                free(l->shown[--l->nshown]);
            l->too_many_rejects = false;
            *e = we;
            st = ws;
        }
        cp_sink_workers_free(l->workers);
        l->workers = NULL;
    }
    cp_progress_done(&l->progress);
    l->stream_end_ms = mono_ms();
    s->stream_ms = l->stream_end_ms - t1;
    s->stream.rejected = l->rejected;
    if (st != CP_OK)
        return st;
    uint64_t total = s->stream.rows + l->rejected;
    /* "more than P%": the 1e-9 absorbs P's binary form (0.7% of 1000 rows is 6.999999999999999) */
    if (l->rejected > 0 &&
        (double)l->rejected > p->o.max_reject_fraction * (double)total * (1 + 1e-9)) {
        l->too_many_rejects = true;
        return cp_error_set(e, CP_REJECTED,
                            "%" PRIu64 " of %" PRIu64 " rows (%.2f%%) could not be parsed, more "
                            "than the %.2f%% allowed; the first at %s",
                            l->rejected, total, 100.0 * (double)l->rejected / (double)total,
                            100.0 * p->o.max_reject_fraction, l->nshown ? l->shown[0] : "?");
    }
    return CP_OK;
}

/* The rejects file is published, or the one of an earlier version removed; so is error.json. */
static cp_status publish_rejects(load *l, cp_error *e)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    if (l->rej_out.open) {
        CP_RETURN_IF_ERROR(cp_output_commit(&l->rej_out, e));
        l->rej_published = true;
    } else {
        if (cp_output_remove(p->aws, s->rejects_path, e) != CP_OK)
            cp_log_warn("%s", e->message);
        free(s->rejects_path);
        s->rejects_path = NULL;
    }
    if (cp_output_remove(p->aws, s->error_path, e) != CP_OK)
        cp_log_warn("%s", e->message);
    free(s->error_path);
    s->error_path = NULL;
    cp_fault_point("rejects-published");
    return CP_OK;
}

/*
 * The second pass over the source, into the deferred sinks only (a store without
 * transactions, written once the file is known to load).
 */
static cp_status write_deferred(load *l, cp_error *e)
{
    cp_load_summary *s = l->s;
    bool any = false;
    for (size_t i = 0; i < l->nsinks; i++)
        any |= l->sinks[i]->deferred;
    if (!any)
        return CP_OK;
    cp_stream_callbacks cb = {on_deferred_batch, NULL, NULL, l, l->nchecks ? on_row : NULL, NULL};
    cp_stream_stats again;
    cp_status st = cp_csv_stream(l->src, &s->sniffed, &l->csv, NULL, &cb, &again, e);
    if (st == CP_OK && (again.rows != s->stream.rows || again.restarts))
        st = cp_error_set(e, CP_INTERNAL,
                          "%s changed while it was loaded (%" PRIu64 " rows, then %" PRIu64 ")",
                          s->source_uri, s->stream.rows, again.rows);
    if (st == CP_OK)
        cp_fault_point("deferred-written");
    return st;
}

/* The sinks that publish at step publish, in list order; each reports what it published. */
static cp_status publish_sinks(load *l, cp_commit_step step, const cp_ledger_row *ledger,
                               cp_error *e)
{
    const cp_sink_commit c = {l->s->stream.rows, l->s->rows_before, ledger};
    for (size_t i = 0; i < l->nsinks; i++) {
        cp_sink *k = l->sinks[i];
        if (k->step != step)
            continue;
        k->open = false; /* published or not, the sink is closed */
        CP_RETURN_IF_ERROR(k->ops->publish(k, &c, e));
        if (k->ops->report && k->ops->report(k, l->s) != CP_OK)
            return cp_error_set(e, CP_NOMEM, "out of memory");
    }
    return CP_OK;
}

/* The last step: the load is loaded, its ledger row committed with its rows. */
static cp_status commit_ledger(load *l, cp_error *e)
{
    cp_load_summary *s = l->s;
    s->status = CP_LOAD_LOADED;
    s->finished_us = now_us();
    s->commit_ms = mono_ms() - l->stream_end_ms;
    cp_buf outputs, schema;
    cp_buf_init(&outputs, CP_BUF_UNLIMITED);
    cp_buf_init(&schema, CP_BUF_UNLIMITED);
    cp_ledger_row r;
    cp_status st = cp_pipeline_ledger_row(s, &r, &outputs, &schema);
    if (st != CP_OK)
        st = cp_error_set(e, st, "out of memory making the ledger row");
    else
        st = publish_sinks(l, CP_COMMIT_LEDGER, &r, e);
    cp_buf_release(&outputs);
    cp_buf_release(&schema);
    return st;
}

static cp_status commit_step(load *l, cp_commit_step step, cp_error *e)
{
    switch (step) {
    case CP_COMMIT_FINISH:
        for (size_t i = 0; i < l->nsinks; i++)
            if (l->sinks[i]->ops->finish)
                CP_RETURN_IF_ERROR(l->sinks[i]->ops->finish(l->sinks[i], e));
        /* the rejects file on disk too, before anything is published */
        return cp_output_sync(&l->rej_out, e);
    case CP_COMMIT_REJECTS:
        return publish_rejects(l, e);
    case CP_COMMIT_DEFERRED:
        return write_deferred(l, e);
    case CP_COMMIT_LEDGER:
        return commit_ledger(l, e);
    case CP_COMMIT_OUTPUTS:
    case CP_COMMIT_CATALOG:
    case CP_COMMIT_ITEMS:
        return publish_sinks(l, step, NULL, e);
    case CP_COMMIT_NSTEPS:
        break;
    }
    return cp_error_set(e, CP_INTERNAL, "no commit step %d", (int)step);
}

/* Step 7, the commit: every step of cp_commit_step in its order (sink.h). */
static cp_status commit(load *l, cp_error *e)
{
    cp_fault_point("streamed");
    for (cp_commit_step step = 0; step < CP_COMMIT_NSTEPS; step++) {
        cp_log_debug("%s: commit: %s", l->s->source, cp_commit_step_name(step));
        CP_RETURN_IF_ERROR(commit_step(l, step, e));
    }
    cp_fault_point("committed");
    l->s->commit_ms = mono_ms() - l->stream_end_ms;
    return CP_OK;
}

/*
 * Step 8, the failure record of a file that did not load: the damage of a compressed file
 * named rather than the wrong text it caused, its rejects file kept when it was rejected
 * for them, everything not published rolled back, error.json written (not for a load that
 * was interrupted: the file did not fail) and a ledger row recorded. CP_NOMEM (copied to
 * err) is not about the file: nothing recorded.
 */
static cp_status record_failure(load *l, cp_status st, cp_error *e, cp_error *err)
{
    cp_load_summary *s = l->s;
    if (l->src && damaged(l->src, st, e)) {
        st = e->code;
        l->too_many_rejects = false;
    }
    if (l->too_many_rejects && l->rej_out.open) {
        /* keep the list of bad rows: it is what the person needs to fix the file */
        cp_error ce;
        if (cp_output_commit(&l->rej_out, &ce) == CP_OK)
            l->rej_published = true;
        else
            cp_log_error("%s", ce.message);
    }
    if (!l->rej_published) {
        free(s->rejects_path);
        s->rejects_path = NULL;
    }
    s->interrupted = e->code == CP_INTERRUPTED;
    abort_sinks(l);
    s->stream.rejected = l->rejected;
    if (st == CP_NOMEM || l->usage) {
        if (err)
            *err = *e;
        return st;
    }
    set_failed(s, l->too_many_rejects ? CP_LOAD_REJECTED : CP_LOAD_FAILED, e);
    s->finished_us = now_us();
    if (s->interrupted) { /* stopped, not failed: nothing of the file to explain */
        free(s->error_path);
        s->error_path = NULL;
    }
    if (s->error_path) {
        cp_error we;
        cp_error_clear(&we);
        if (write_error_json(l, &we) != CP_OK) {
            cp_log_error("%s: its error record was not written: %s", s->source, we.message);
            free(s->error_path);
            s->error_path = NULL;
        }
    }
    record(l->p, s);
    return CP_OK;
}

static cp_status load_once(cp_pipeline *p, const cp_load_request *req, cp_load_summary *s,
                           cp_error *err)
{
    memset(s, 0, sizeof *s);
    s->started_us = now_us();
    s->size_bytes = -1;
    s->source = strdup(req->source);
    load l;
    memset(&l, 0, sizeof l);
    l.p = p;
    l.req = req;
    l.s = s;
    cp_buf_init(&l.line, CP_BUF_UNLIMITED);
    cp_overrides_init(&l.dataset_schema);
    cp_error e;
    cp_error_clear(&e);
    bool settled = false;
    cp_status st = name_source(&l, &e);
    if (st == CP_OK && (st = lock_source(&l, &e)) != CP_OK && st != CP_INTERRUPTED) {
        if (err)
            *err = e; /* the database's error, not the file's */
        goto out;
    }
    if (st == CP_OK)
        st = read_version(&l, &e);
    if (st == CP_OK && (st = hand_off(&l, &settled, &e)) == CP_OK && settled)
        goto out;
    if (st == CP_OK) {
        st = skip_check(&l, &settled, err);
        if (st != CP_OK || settled)
            goto out;
        st = stream_into_sinks(&l, &e);
    }
    if (st == CP_OK)
        st = commit(&l, &e);
    if (st != CP_OK)
        st = record_failure(&l, st, &e, err);
out:
    cp_sink_workers_free(l.workers);
    cp_sql_unlock_source(p->sql);
    free_sinks(&l);
    cp_source_free(l.src);
    if (l.spooled[0])
        unlink(l.spooled);
    clear_rejects(&l);
    cp_overrides_release(&l.dataset_schema);
    free(l.stem);
    free(l.key_columns);
    free(l.open_types);
    cp_buf_release(&l.line);
    return st;
}

/*
 * A load whose database connection was lost before its commit (PostgreSQL restarted, a
 * network cut, an RDS failover) starts over after 1, 2 and 4 seconds; the backend
 * reconnects on the next call. Once a commit was sent nothing is repeated (the backend does
 * not report the loss then). Standard input was consumed by the first attempt.
 */
#define SQL_RETRIES 3

cp_status cp_pipeline_load_request(cp_pipeline *p, const cp_load_request *req, cp_load_summary *s,
                                   cp_error *err)
{
    (void)cp_sql_connection_lost(p->sql); /* forget losses of earlier loads */
    for (unsigned attempt = 1;; attempt++) {
        cp_status st = load_once(p, req, s, err);
        if (!cp_sql_connection_lost(p->sql) || attempt > SQL_RETRIES || interrupted ||
            strcmp(req->source, "-") == 0)
            return st;
        unsigned delay = 1u << (attempt - 1);
        cp_log_warn("%s: %s; starting the load again in %u s (retry %u of %d)", req->source,
                    s->error                 ? s->error
                    : err && err->message[0] ? err->message
                                             : "connection lost",
                    delay, attempt, SQL_RETRIES);
        sleep(delay);
        if (interrupted) /* Ctrl-C during the wait: the failed attempt is the answer */
            return st;
        cp_load_summary_release(s);
    }
}

cp_status cp_pipeline_load(cp_pipeline *p, const char *path, const char *dataset_hint,
                           cp_load_summary *s, cp_error *err)
{
    cp_load_request req = {path, dataset_hint, NULL, NULL, NULL};
    return cp_pipeline_load_request(p, &req, s, err);
}
