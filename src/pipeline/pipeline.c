#define _GNU_SOURCE
#include "pipeline/pipeline.h"
#include "aws/aws.h"
#include "aws/events.h"
#include "aws/s3.h"
#include "pipeline/output.h"
#include "load/items.h"
#include "load/sql.h"
#include "pipeline/progress.h"
#include "util/decompress.h"
#include "util/json_escape.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHOWN_REJECTS 20

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
}

static const struct {
    const char *name, *alias;
    unsigned bit;
} formats[] = {
    {"parquet", NULL, CP_FORMAT_PARQUET},
    {"json", "ndjson", CP_FORMAT_JSON},
};

cp_status cp_pipeline_parse_formats(const char *list, unsigned *out, cp_error *err)
{
    *out = 0;
    for (const char *p = list;;) {
        p += strspn(p, ", \t");
        if (!*p)
            return CP_OK;
        const size_t n = strcspn(p, ", \t");
        bool known = n == 4 && strncasecmp(p, "none", 4) == 0;
        for (size_t i = 0; !known && i < sizeof formats / sizeof formats[0]; i++) {
            const char *alias = formats[i].alias;
            if ((strlen(formats[i].name) == n && strncasecmp(p, formats[i].name, n) == 0) ||
                (alias && strlen(alias) == n && strncasecmp(p, alias, n) == 0)) {
                *out |= formats[i].bit;
                known = true;
            }
        }
        if (!known)
            return cp_error_set(err, CP_USAGE,
                                "unknown output format \"%.*s\"; use parquet, json (or ndjson), "
                                "a list of them such as parquet,json, or none",
                                (int)(n > 64 ? 64 : n), p);
        p += n;
    }
}

struct cp_pipeline {
    cp_pipeline_options o;
    cp_sql *sql;
    cp_items *items;
    cp_aws *aws; /* created on first use by an s3:// source or output */
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
    free(s->parquet_path);
    free(s->json_path);
    free(s->rejects_path);
    free(s->error_path);
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

/* Everything one load writes to, and the rejects kept aside. */
typedef struct load {
    cp_pipeline *p;
    cp_load_summary *s;
    char *stem;
    cp_output pq_out, json_out, rej_out; /* the final locations are in the summary */
    bool pq_published, json_published, rej_published;
    cp_pq_writer *pq;
    cp_json_writer *json;
    bool sql_open, items_open, items_deferred;
    size_t *key_columns;
    cp_item_keys keys;
    uint64_t rejected;
    size_t nshown;
    char *shown[SHOWN_REJECTS];
    cp_buf line;
    cp_progress progress;
    bool too_many_rejects;
    cp_source *src;
} load;

static void abort_sinks(load *l)
{
    cp_pq_writer_free(l->pq);
    l->pq = NULL;
    cp_json_writer_free(l->json);
    l->json = NULL;
    cp_output_abort(&l->pq_out);
    cp_output_abort(&l->json_out);
    cp_output_abort(&l->rej_out);
    if (l->sql_open)
        cp_sql_rollback(l->p->sql);
    if (l->items_open)
        cp_items_abort(l->p->items);
    l->sql_open = l->items_open = false;
}

static cp_status resolve_keys(load *l, const cp_schema *schema, cp_error *err)
{
    const cp_pipeline_options *o = &l->p->o;
    free(l->key_columns);
    l->key_columns = NULL;
    l->keys.dataset = l->s->dataset;
    l->keys.source_uri = l->s->source_uri;
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

static cp_status open_sinks(load *l, const cp_schema *schema, cp_error *err)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    CP_RETURN_IF_ERROR(resolve_keys(l, schema, err));
    if (p->o.formats & CP_FORMAT_PARQUET) {
        CP_RETURN_IF_ERROR(cp_output_open(&l->pq_out, p->aws, s->parquet_path, err));
        CP_RETURN_IF_ERROR(
            cp_pq_writer_new(schema, &p->o.parquet, cp_output_write, &l->pq_out, &l->pq, err));
    }
    if (p->o.formats & CP_FORMAT_JSON) {
        CP_RETURN_IF_ERROR(cp_output_open(&l->json_out, p->aws, s->json_path, err));
        CP_RETURN_IF_ERROR(cp_json_writer_new(schema, p->o.json_style, &l->keys, cp_output_write,
                                              &l->json_out, &l->json, err));
    }
    if (p->items) {
        /* a store without transactions is begun now (for cp_items_check_row) but written
           only once the file is known to load (write_items_after) */
        CP_RETURN_IF_ERROR(cp_items_begin(p->items, s->dataset, schema, s->source_uri,
                                          l->key_columns, l->keys.ncolumns, err));
        l->items_open = true;
        l->items_deferred = !cp_items_transactional(p->items);
    }
    if (p->sql) {
        CP_RETURN_IF_ERROR(cp_sql_begin(p->sql, s->dataset, schema, s->source_uri, err));
        l->sql_open = true;
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

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    load *l = ctx;
    if (interrupted)
        return cp_error_set(err, CP_INTERRUPTED, "interrupted; the load was rolled back");
    if (l->pq)
        CP_RETURN_IF_ERROR(cp_pq_writer_write_batch(l->pq, b, err));
    if (l->json)
        CP_RETURN_IF_ERROR(cp_json_writer_write_batch(l->json, b, err));
    if (l->items_open && !l->items_deferred)
        CP_RETURN_IF_ERROR(cp_items_write(l->p->items, b, err));
    if (l->sql_open)
        CP_RETURN_IF_ERROR(cp_sql_write(l->p->sql, b, err));
    cp_progress_update_bytes(&l->progress, cp_decompress_input_position(l->src), l->s->size_bytes,
                             b->first_row + b->nrows - 1);
    return CP_OK;
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
    return l->items_open ? cp_items_check_row(l->p->items, b, row, why) : CP_OK;
}

/* The second pass of a store without transactions (DynamoDB): items only. */
static cp_status on_items_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    load *l = ctx;
    if (interrupted)
        return cp_error_set(err, CP_INTERRUPTED, "interrupted; the load was rolled back");
    return cp_items_write(l->p->items, b, err);
}

/*
 * Writes the items of a file whose load is decided, in a second pass over the source:
 * a store without transactions must never hold items of a file that is then rejected.
 */
static cp_status write_items_after(load *l, cp_source *src, cp_error *err)
{
    cp_pipeline *p = l->p;
    cp_load_summary *s = l->s;
    cp_stream_callbacks cb = {on_items_batch, NULL, NULL, l, on_row};
    cp_stream_stats again;
    cp_status st = cp_csv_stream(src, &s->sniffed, &p->o.csv, NULL, &cb, &again, err);
    if (st == CP_OK && (again.rows != s->stream.rows || again.restarts))
        st = cp_error_set(err, CP_INTERNAL,
                          "%s changed while it was loaded (%" PRIu64 " rows, then %" PRIu64 ")",
                          s->source_uri, s->stream.rows, again.rows);
    return st;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    load *l = ctx;
    cp_load_summary *s = l->s;
    l->rejected++;
    if (!l->rej_out.open) {
        CP_RETURN_IF_ERROR(cp_output_open(&l->rej_out, l->p->aws, s->rejects_path, err));
        static const char header[] = "line,reason,row\n";
        CP_RETURN_IF_ERROR(cp_output_write(&l->rej_out, header, sizeof header - 1));
    }
    cp_buf_reset(&l->line);
    CP_RETURN_IF_ERROR(cp_buf_printf(&l->line, "%" PRIu64 ",", row->line));
    CP_RETURN_IF_ERROR(csv_field(&l->line, why->message, strlen(why->message)));
    CP_RETURN_IF_ERROR(cp_buf_append_char(&l->line, ','));
    CP_RETURN_IF_ERROR(csv_field(&l->line, row->text ? row->text : "", row->text_len));
    CP_RETURN_IF_ERROR(cp_buf_append_char(&l->line, '\n'));
    cp_status st = cp_output_write(&l->rej_out, l->line.data, l->line.len);
    if (st != CP_OK)
        return cp_error_set(err, st, "cannot write %s", s->rejects_path);
    if (l->nshown < SHOWN_REJECTS)
        l->shown[l->nshown++] = str_printf("line %" PRIu64 ": %s", row->line, why->message);
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
    cp_log_info("%s: a value after the sample widened the schema; starting the file over",
                l->s->source);
    abort_sinks(l);
    clear_rejects(l);
    return open_sinks(l, widened, err);
}

static cp_status write_error_json(load *l, cp_error *err)
{
    cp_load_summary *s = l->s;
    cp_buf o;
    cp_buf_init(&o, CP_BUF_UNLIMITED);
    cp_buf_append_str(&o, "{\"source\":");
    cp_json_append_string(&o, s->source_uri, strlen(s->source_uri));
    cp_buf_printf(&o, ",\"dataset\":");
    cp_json_append_string(&o, s->dataset, strlen(s->dataset));
    cp_buf_printf(&o, ",\"status\":\"%s\",\"error\":", cp_load_status_name(s->status));
    const char *e = s->error ? s->error : "";
    cp_json_append_string(&o, e, strlen(e));
    cp_buf_printf(&o, ",\"rows\":%" PRIu64 ",\"rejected_rows\":%" PRIu64 ",\"rejects\":[",
                  s->stream.rows, l->rejected);
    for (size_t i = 0; i < l->nshown; i++) {
        if (i)
            cp_buf_append_char(&o, ',');
        cp_json_append_string(&o, l->shown[i], strlen(l->shown[i]));
    }
    cp_status st = cp_buf_append_str(&o, "]}\n");
    cp_output out;
    if (st == CP_OK)
        st = cp_output_open(&out, l->p->aws, s->error_path, err);
    if (st == CP_OK) {
        st = cp_output_write(&out, o.data, o.len);
        if (st == CP_OK)
            st = cp_output_commit(&out, err);
        else
            cp_output_abort(&out);
    }
    cp_buf_release(&o);
    return st;
}

static cp_status outputs_json(const cp_load_summary *s, cp_buf *o)
{
    const char *names[] = {"parquet", "json", "rejects", "error"};
    const char *paths[] = {s->parquet_path, s->json_path, s->rejects_path, s->error_path};
    CP_RETURN_IF_ERROR(cp_buf_append_char(o, '{'));
    bool first = true;
    for (int i = 0; i < 4; i++) {
        if (!paths[i])
            continue;
        CP_RETURN_IF_ERROR(cp_buf_printf(o, "%s\"%s\":", first ? "" : ",", names[i]));
        CP_RETURN_IF_ERROR(cp_json_append_string(o, paths[i], strlen(paths[i])));
        first = false;
    }
    return cp_buf_append_char(o, '}');
}

static void fill_ledger(const cp_load_summary *s, cp_ledger_row *r, cp_buf *outputs, cp_buf *schema)
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
    if (outputs_json(s, outputs) == CP_OK)
        r->outputs_json = outputs->data;
    if (s->sniffed.schema.ncolumns && cp_schema_to_json(&s->sniffed.schema, schema) == CP_OK)
        r->schema_json = schema->data;
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
    fill_ledger(s, &r, &outputs, &schema);
    cp_error e;
    cp_error_clear(&e);
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

static cp_status load_once(cp_pipeline *p, const cp_load_request *req, cp_load_summary *s,
                           cp_error *err)
{
    const char *path = req->source;
    const char *dataset_hint = req->dataset_hint;
    memset(s, 0, sizeof *s);
    s->started_us = now_us();
    s->size_bytes = -1;
    s->source = strdup(path);
    char spooled[PATH_MAX] = "";
    const bool is_stdin = strcmp(path, "-") == 0;
    cp_error e;
    cp_error_clear(&e);
    load l;
    memset(&l, 0, sizeof l);
    l.p = p;
    l.s = s;
    cp_buf_init(&l.line, CP_BUF_UNLIMITED);
    cp_source *src = NULL;
    cp_status st = CP_OK;
    const bool is_s3 = cp_location_is_s3(path);
    if (req->sequencer)
        s->sequencer = strdup(req->sequencer);
    if ((is_s3 || cp_location_is_s3(p->o.out_dir)) && (st = aws_for(p, &e)) != CP_OK) {
        s->source_uri = strdup(path);
        l.stem = strdup("object");
        s->dataset = dataset_name(p->o.table, dataset_hint, l.stem);
        goto failed;
    }

    /* Names: where it comes from, which dataset, which version. */
    if (is_s3) {
        s->source_uri = strdup(path);
        l.stem = uri_stem(path);
        /* HEAD: the object's size and ETag, the version this load is about */
        src = cp_s3_source_open(p->aws, path, &e);
        if (!src) {
            s->dataset = dataset_name(p->o.table, dataset_hint, l.stem ? l.stem : "object");
            st = e.code ? e.code : CP_IO;
            goto failed;
        }
        s->size_bytes = src->size;
        const char *v = req->version ? req->version : cp_s3_source_version_id(src);
        if (!v)
            v = cp_s3_source_etag(src);
        s->version = v ? strdup(v) : NULL;
    } else if (is_stdin) {
        s->source_uri = strdup("stdin");
        l.stem = strdup("stdin");
        if ((st = spool_stdin(spooled, sizeof spooled, &e)) != CP_OK)
            goto failed;
        path = spooled;
    } else {
        char abs[PATH_MAX];
        s->source_uri = strdup(realpath(path, abs) ? abs : path);
        l.stem = file_stem(path);
    }
    s->dataset = dataset_name(p->o.table, dataset_hint, l.stem);
    if (!s->source || !s->source_uri || !l.stem || !s->dataset) {
        st = cp_error_set(err, CP_NOMEM, "out of memory");
        goto out;
    }
    struct stat sb;
    if (!is_s3 && stat(path, &sb) == 0) {
        s->size_bytes = (int64_t)sb.st_size;
        if (!is_stdin)
            s->version =
                str_printf("%lld.%09ld:%lld:%llu", (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                           (long long)sb.st_size, (unsigned long long)sb.st_ino);
    }

    /* A repeat of a version already loaded is skipped. */
    if (p->sql && s->version) {
        cp_ledger_entry last;
        bool found = false;
        if ((st = cp_sql_last_load(p->sql, s->source_uri, &last, &found, err)) != CP_OK)
            goto out;
        if (found) {
            s->rows_before = last.rows_loaded;
            bool older = s->sequencer && last.sequencer[0] &&
                         cp_s3_sequencer_cmp(s->sequencer, last.sequencer) < 0;
            if (strcmp(last.version, s->version) == 0 || older) {
                s->status = CP_LOAD_SKIPPED;
                s->stream.rows = 0;
                s->finished_us = now_us();
                record(p, s);
                goto out;
            }
        }
    }

    const char *out = p->o.out_dir;
    s->parquet_path = (p->o.formats & CP_FORMAT_PARQUET)
                          ? str_printf("%s/parquet/%s/%s.parquet", out, s->dataset, l.stem)
                          : NULL;
    s->json_path = (p->o.formats & CP_FORMAT_JSON)
                       ? str_printf("%s/json/%s/%s.jsonl", out, s->dataset, l.stem)
                       : NULL;
    s->rejects_path = str_printf("%s/rejected/%s/%s.rejects.csv", out, s->dataset, l.stem);
    s->error_path = str_printf("%s/rejected/%s/%s.error.json", out, s->dataset, l.stem);
    double t0 = mono_ms();
    if (!src && !(src = cp_source_open_file(path, 0, &e))) {
        st = e.code;
        goto failed;
    }
    if (!(src = cp_decompress_open(src, &e))) {
        st = e.code;
        goto failed;
    }
    if ((st = cp_sniff(src, &p->o.csv, &s->sniffed, &e)) != CP_OK)
        goto failed;
    double t1 = mono_ms();
    s->sniff_ms = t1 - t0;
    if ((st = open_sinks(&l, &s->sniffed.schema, &e)) != CP_OK)
        goto failed;
    cp_progress_init(&l.progress, p->o.progress, s->source);
    l.src = src;
    cp_stream_callbacks cb = {on_batch, on_reject, on_restart, &l, on_row};
    st = cp_csv_stream(src, &s->sniffed, &p->o.csv, NULL, &cb, &s->stream, &e);
    cp_progress_done(&l.progress);
    double t2 = mono_ms();
    s->stream_ms = t2 - t1;
    s->stream.rejected = l.rejected;
    if (st != CP_OK)
        goto failed;
    uint64_t total = s->stream.rows + l.rejected;
    if (l.rejected > 0 && (double)l.rejected > p->o.max_reject_fraction * (double)total) {
        l.too_many_rejects = true;
        st = cp_error_set(&e, CP_REJECTED,
                          "%" PRIu64 " of %" PRIu64 " rows (%.2f%%) could not be parsed, more "
                          "than the %.2f%% allowed; the first at %s",
                          l.rejected, total, 100.0 * (double)l.rejected / (double)total,
                          100.0 * p->o.max_reject_fraction, l.nshown ? l.shown[0] : "?");
        goto failed;
    }

    /* Commit, in the order of docs/design.md: outputs, items, then rows and the ledger row. */
    if (l.pq && (st = cp_pq_writer_finish(l.pq, &e)) != CP_OK)
        goto failed;
    if (l.json && (st = cp_json_writer_finish(l.json, &e)) != CP_OK)
        goto failed;
    s->parquet_bytes = l.pq ? cp_pq_writer_bytes(l.pq) : 0;
    s->json_bytes = l.json ? cp_json_writer_bytes(l.json) : 0;
    if (l.pq_out.open) {
        if ((st = cp_output_commit(&l.pq_out, &e)) != CP_OK)
            goto failed;
        l.pq_published = true;
    }
    if (l.json_out.open) {
        if ((st = cp_output_commit(&l.json_out, &e)) != CP_OK)
            goto failed;
        l.json_published = true;
    }
    if (l.rej_out.open) {
        if ((st = cp_output_commit(&l.rej_out, &e)) != CP_OK)
            goto failed;
        l.rej_published = true;
    } else {
        /* from an earlier version of the file */
        if (cp_output_remove(p->aws, s->rejects_path, &e) != CP_OK)
            cp_log_warn("%s", e.message);
        free(s->rejects_path);
        s->rejects_path = NULL;
    }
    if (cp_output_remove(p->aws, s->error_path, &e) != CP_OK)
        cp_log_warn("%s", e.message);
    free(s->error_path);
    s->error_path = NULL;
    if (l.items_deferred && (st = write_items_after(&l, src, &e)) != CP_OK)
        goto failed;
    if (l.items_open) {
        st = cp_items_finish(p->items, s->stream.rows, s->rows_before, &e);
        l.items_open = false;
        if (st != CP_OK)
            goto failed;
    }
    s->status = CP_LOAD_LOADED;
    s->finished_us = now_us();
    s->commit_ms = mono_ms() - t2;
    if (l.sql_open) {
        cp_buf outputs, schema;
        cp_buf_init(&outputs, CP_BUF_UNLIMITED);
        cp_buf_init(&schema, CP_BUF_UNLIMITED);
        cp_ledger_row r;
        fill_ledger(s, &r, &outputs, &schema);
        st = cp_sql_commit(p->sql, &r, &e);
        l.sql_open = false;
        cp_buf_release(&outputs);
        cp_buf_release(&schema);
        if (st != CP_OK)
            goto failed;
    }
    s->commit_ms = mono_ms() - t2;
    st = CP_OK;
    goto out;

failed:
    if (src && damaged(src, st, &e)) {
        st = e.code;
        l.too_many_rejects = false;
    }
    if (l.too_many_rejects && l.rej_out.open) {
        /* keep the list of bad rows: it is what the person needs to fix the file */
        cp_error ce;
        if (cp_output_commit(&l.rej_out, &ce) == CP_OK)
            l.rej_published = true;
        else
            cp_log_error("%s", ce.message);
    }
    if (!l.rej_published) {
        free(s->rejects_path);
        s->rejects_path = NULL;
    }
    /* outputs of this attempt that were not published are not outputs */
    if (!l.pq_published) {
        free(s->parquet_path);
        s->parquet_path = NULL;
    }
    if (!l.json_published) {
        free(s->json_path);
        s->json_path = NULL;
    }
    s->interrupted = e.code == CP_INTERRUPTED;
    abort_sinks(&l);
    s->stream.rejected = l.rejected;
    if (st == CP_NOMEM) {
        if (err)
            *err = e;
        goto out;
    }
    set_failed(s, l.too_many_rejects ? CP_LOAD_REJECTED : CP_LOAD_FAILED, &e);
    s->finished_us = now_us();
    if (s->error_path) {
        cp_error we;
        if (write_error_json(&l, &we) != CP_OK) {
            cp_log_error("%s", we.message);
            free(s->error_path);
            s->error_path = NULL;
        }
    }
    record(p, s);
    st = CP_OK;
out:
    cp_pq_writer_free(l.pq);
    cp_json_writer_free(l.json);
    cp_source_free(src);
    if (spooled[0])
        unlink(spooled);
    clear_rejects(&l);
    free(l.stem);
    free(l.key_columns);
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
    cp_load_request req = {path, dataset_hint, NULL, NULL};
    return cp_pipeline_load_request(p, &req, s, err);
}
