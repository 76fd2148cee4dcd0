/* The summary of one load, for people and for scripts. */
#include "csv/reader.h"
#include "pipeline/pipeline.h"
#include "pipeline/sink.h"
#include "util/json_escape.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

cp_status cp_load_summary_add_output(cp_load_summary *s, const char *format, const char *location,
                                     uint64_t bytes)
{
    cp_load_output *grown = realloc(s->outputs, (s->noutputs + 1) * sizeof *grown);
    if (!grown)
        return CP_NOMEM;
    s->outputs = grown;
    cp_load_output *o = &s->outputs[s->noutputs];
    if (!(o->location = strdup(location)))
        return CP_NOMEM;
    o->format = format;
    o->bytes = bytes;
    s->noutputs++;
    return CP_OK;
}

const cp_load_output *cp_load_summary_output(const cp_load_summary *s, const char *format)
{
    for (size_t i = 0; i < s->noutputs; i++)
        if (strcmp(s->outputs[i].format, format) == 0)
            return &s->outputs[i];
    return NULL;
}

/* The location of the file of format, NULL when none or when the load did not load. */
static const char *loaded_output(const cp_load_summary *s, const char *format)
{
    const cp_load_output *o = cp_load_summary_output(s, format);
    return o && s->status == CP_LOAD_LOADED ? o->location : NULL;
}

static cp_status json_str(cp_buf *o, const char *key, const char *v, bool comma)
{
    CP_RETURN_IF_ERROR(cp_buf_printf(o, "%s\"%s\":", comma ? "," : "", key));
    if (!v)
        return cp_buf_append_str(o, "null");
    return cp_json_append_string(o, v, strlen(v));
}

static const char *date_order_name(cp_date_order d)
{
    return d == CP_DATE_ORDER_DMY   ? "day-first"
           : d == CP_DATE_ORDER_MDY ? "month-first"
                                    : "unknown";
}

cp_status cp_load_summary_to_json(const cp_load_summary *s, cp_buf *o)
{
    CP_RETURN_IF_ERROR(cp_buf_append_char(o, '{'));
    CP_RETURN_IF_ERROR(json_str(o, "source", s->source, false));
    CP_RETURN_IF_ERROR(json_str(o, "source_uri", s->source_uri, true));
    CP_RETURN_IF_ERROR(json_str(o, "dataset", s->dataset, true));
    CP_RETURN_IF_ERROR(json_str(o, "status", cp_load_status_name(s->status), true));
    CP_RETURN_IF_ERROR(json_str(o, "error", s->error, true));
    CP_RETURN_IF_ERROR(json_str(o, "version", s->version, true));
    CP_RETURN_IF_ERROR(json_str(o, "schema_file", s->schema_file, true));
    const cp_sniff_result *sr = &s->sniffed;
    if (sr->schema.ncolumns) {
        const cp_dialect *d = &sr->dialect;
        char delim[2] = {d->delimiter, 0}, quote[2] = {d->quote, 0},
             dec[2] = {d->values.locale.decimal_sep, 0};
        CP_RETURN_IF_ERROR(cp_buf_append_str(o, ",\"detected\":{"));
        CP_RETURN_IF_ERROR(json_str(
            o, "encoding", cp_encoding_name(s->stream.encoding ? s->stream.encoding : d->encoding),
            false));
        CP_RETURN_IF_ERROR(json_str(o, "delimiter", delim, true));
        CP_RETURN_IF_ERROR(json_str(o, "quote", quote, true));
        CP_RETURN_IF_ERROR(cp_buf_printf(o, ",\"skipped_lines\":%" PRIu64, d->skip_lines));
        CP_RETURN_IF_ERROR(cp_buf_printf(o, ",\"header\":%s", d->header ? "true" : "false"));
        CP_RETURN_IF_ERROR(cp_buf_printf(o, ",\"header_rows\":%u", d->header_rows));
        CP_RETURN_IF_ERROR(json_str(o, "line_ending", d->line_ending, true));
        CP_RETURN_IF_ERROR(json_str(o, "decimal_separator", dec, true));
        CP_RETURN_IF_ERROR(
            json_str(o, "currency", cp_currency_symbol(d->values.locale.currency), true));
        CP_RETURN_IF_ERROR(
            json_str(o, "date_order", date_order_name(d->values.locale.date_order), true));
        CP_RETURN_IF_ERROR(
            json_str(o, "compression", cp_compression_name(s->stream.compression), true));
        CP_RETURN_IF_ERROR(cp_buf_append_str(o, "},\"schema\":"));
        CP_RETURN_IF_ERROR(cp_schema_to_json(&sr->schema, o));
    }
    CP_RETURN_IF_ERROR(cp_buf_printf(
        o, ",\"rows\":%" PRIu64 ",\"rejected_rows\":%" PRIu64 ",\"restarts\":%u,\"bytes\":%" PRId64,
        s->status == CP_LOAD_LOADED ? s->stream.rows : 0, s->stream.rejected, s->stream.restarts,
        s->size_bytes));
    CP_RETURN_IF_ERROR(cp_buf_append_str(o, ",\"outputs\":{"));
    for (size_t i = 0; i < cp_sink_nformats; i++) {
        const char *name = cp_sink_formats[i]->name;
        CP_RETURN_IF_ERROR(json_str(o, name, loaded_output(s, name), i > 0));
    }
    CP_RETURN_IF_ERROR(json_str(o, "rejects", s->rejects_path, cp_sink_nformats > 0));
    CP_RETURN_IF_ERROR(json_str(o, "error", s->error_path, true));
    if (s->task_arn)
        CP_RETURN_IF_ERROR(json_str(o, "ecs_task", s->task_arn, true));
    CP_RETURN_IF_ERROR(cp_buf_printf(o,
                                     "},\"timings_ms\":{\"sniff\":%.1f,\"stream\":%.1f,"
                                     "\"commit\":%.1f,\"total\":%.1f}}",
                                     s->sniff_ms, s->stream_ms, s->commit_ms,
                                     (double)(s->finished_us - s->started_us) / 1e3));
    return CP_OK;
}

static void human_bytes(double b, char *out, size_t cap)
{
    const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

void cp_load_summary_print(const cp_load_summary *s, FILE *f)
{
    fprintf(f, "%s -> dataset \"%s\": %s\n", s->source, s->dataset ? s->dataset : "?",
            cp_load_status_name(s->status));
    if (s->status == CP_LOAD_SKIPPED) {
        if (s->error)
            fprintf(f, "  %s\n", s->error);
        else
            fprintf(f, "  this version was loaded before (%s); nothing to do\n",
                    s->version ? s->version : "?");
        return;
    }
    if (s->status == CP_LOAD_HANDED_OFF) {
        fprintf(f, "  handed off to ECS task %s\n", s->task_arn ? s->task_arn : "?");
        return;
    }
    const cp_sniff_result *sr = &s->sniffed;
    if (sr->schema.ncolumns) {
        const cp_dialect *d = &sr->dialect;
        fprintf(f, "  detected  %s%s%s, delimiter %s, %s, decimal '%c', %s dates, %s line ends\n",
                s->stream.compression ? cp_compression_name(s->stream.compression) : "",
                s->stream.compression ? ", " : "",
                cp_encoding_name(s->stream.encoding ? s->stream.encoding : d->encoding),
                cp_delimiter_name(d->delimiter), d->header ? "header row" : "no header",
                d->values.locale.decimal_sep, date_order_name(d->values.locale.date_order),
                d->line_ending);
        if (d->skip_lines)
            fprintf(f, "  skipped   %" PRIu64 " line%s above the header\n", d->skip_lines,
                    d->skip_lines == 1 ? "" : "s");
        fprintf(f, "  columns   ");
        for (size_t c = 0; c < sr->schema.ncolumns && c < 12; c++) {
            char t[32];
            fprintf(f, "%s%s %s%s", c ? ", " : "", sr->schema.columns[c].name,
                    cp_type_format(sr->schema.columns[c].type, t, sizeof t),
                    sr->schema.columns[c].forced ? " (forced)" : "");
        }
        fprintf(f, "%s\n", sr->schema.ncolumns > 12 ? ", ..." : "");
    }
    if (s->schema_file)
        fprintf(f, "  schema    %s\n", s->schema_file);
    char size[80];
    human_bytes((double)(s->size_bytes > 0 ? s->size_bytes : 0), size, sizeof size);
    if (s->stream.compression) {
        char csv[32];
        human_bytes((double)s->stream.bytes, csv, sizeof csv);
        snprintf(size + strlen(size), sizeof size - strlen(size), " %s, %s of CSV,",
                 cp_compression_name(s->stream.compression), csv);
    }
    double secs = (double)(s->finished_us - s->started_us) / 1e6;
    fprintf(f,
            "  rows      %" PRIu64 " loaded, %" PRIu64 " rejected, %u restart%s (%s in %.2f s)\n",
            s->status == CP_LOAD_LOADED ? s->stream.rows : 0, s->stream.rejected,
            s->stream.restarts, s->stream.restarts == 1 ? "" : "s", size, secs);
    for (size_t i = 0; s->status == CP_LOAD_LOADED && i < s->noutputs; i++) {
        char b[32];
        human_bytes((double)s->outputs[i].bytes, b, sizeof b);
        fprintf(f, "  %-9s %s (%s)\n", s->outputs[i].format, s->outputs[i].location, b);
    }
    if (s->rejects_path)
        fprintf(f, "  rejects   %s\n", s->rejects_path);
    if (s->error)
        fprintf(f, "  error     %s\n", s->error);
    if (s->error_path)
        fprintf(f, "  details   %s\n", s->error_path);
}

/* One function per metric of aws/metrics.h: a metric without its function does not compile. */
#define CP_EMF_DECLARE(name, unit) static int64_t metric_##name(const cp_load_summary *s);
CP_EMF_METRICS(CP_EMF_DECLARE)
#undef CP_EMF_DECLARE

static bool loaded(const cp_load_summary *s)
{
    return s->status == CP_LOAD_LOADED;
}

static int64_t metric_FilesLoaded(const cp_load_summary *s)
{
    return loaded(s) ? 1 : 0;
}

static int64_t metric_FilesRejected(const cp_load_summary *s)
{
    return s->status == CP_LOAD_REJECTED || s->status == CP_LOAD_FAILED ? 1 : 0;
}

static int64_t metric_RowsLoaded(const cp_load_summary *s)
{
    return loaded(s) ? (int64_t)s->stream.rows : 0;
}

static int64_t metric_RowsRejected(const cp_load_summary *s)
{
    return (int64_t)s->stream.rejected;
}

static int64_t metric_BytesRead(const cp_load_summary *s)
{
    return (int64_t)s->stream.bytes;
}

static int64_t metric_DurationMs(const cp_load_summary *s)
{
    if (s->finished_us <= s->started_us)
        return 0;
    return llround((double)(s->finished_us - s->started_us) / 1e3);
}

static int64_t metric_Restarts(const cp_load_summary *s)
{
    return (int64_t)s->stream.restarts;
}

static void emf_output(cp_emf_load *m, const char *key, const char *location)
{
    if (location && m->noutputs < CP_EMF_MAX_OUTPUTS) {
        m->outputs[m->noutputs].key = key;
        m->outputs[m->noutputs].location = location;
        m->noutputs++;
    }
}

void cp_load_summary_emf(const cp_load_summary *s, cp_emf_load *m)
{
    memset(m, 0, sizeof *m);
    m->dataset = s->dataset;
    m->source = s->source_uri ? s->source_uri : s->source;
    m->status = cp_load_status_name(s->status);
    m->version = s->version;
    m->error = s->error;
#define CP_EMF_VALUE(name, unit) m->metrics[CP_EMF_##name] = metric_##name(s);
    CP_EMF_METRICS(CP_EMF_VALUE)
#undef CP_EMF_VALUE
    for (size_t i = 0; loaded(s) && i < s->noutputs; i++)
        emf_output(m, s->outputs[i].format, s->outputs[i].location);
    emf_output(m, "rejects", s->rejects_path);
    emf_output(m, "errorDetails", s->error_path);
    emf_output(m, "ecsTask", s->task_arn);
}
