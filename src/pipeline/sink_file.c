/*
 * sink_file.c - the sink of one file in a format (cp_sink_format): the format's writer
 * hands its bytes to an output (output.h), a temporary local file renamed into place or
 * an S3 multipart upload, which becomes visible at publish.
 */
#define _GNU_SOURCE
#include "aws/aws.h"
#include "pipeline/output.h"
#include "pipeline/sink.h"
#include "util/fault.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct file_sink {
    cp_format_sink h;
    cp_output out;
    cp_aws *aws; /* an S3 output's own client (aws.h: one thread at a time) */
    void *writer;
    bool published;
} file_sink;

static cp_status file_open(cp_sink *k, const cp_schema *schema, const cp_item_keys *keys,
                           cp_error *err)
{
    file_sink *s = (file_sink *)k;
    cp_aws *aws = s->h.l->aws;
    if (aws && cp_location_is_s3(s->h.location)) {
        /* written by a worker while the load's client reads the source */
        if (!s->aws)
            CP_RETURN_IF_ERROR(cp_aws_clone(aws, &s->aws, err));
        aws = s->aws;
    }
    k->threaded = true;
    CP_RETURN_IF_ERROR(cp_output_open(&s->out, aws, s->h.location, err));
    cp_status st =
        s->h.f->writer_new(s->h.l, schema, keys, cp_output_write, &s->out, &s->writer, err);
    return st == CP_IO ? cp_output_failed(&s->out, s->h.location, st, err) : st;
}

static cp_status file_write(cp_sink *k, const cp_batch *b, cp_error *err)
{
    file_sink *s = (file_sink *)k;
    cp_status st = s->h.f->write(s->writer, b, err);
    return st == CP_IO ? cp_output_failed(&s->out, s->h.location, st, err) : st;
}

static cp_status file_finish(cp_sink *k, cp_error *err)
{
    file_sink *s = (file_sink *)k;
    cp_status st = s->h.f->finish(s->writer, err);
    if (st != CP_OK)
        return st == CP_IO ? cp_output_failed(&s->out, s->h.location, st, err) : st;
    CP_RETURN_IF_ERROR(cp_output_sync(&s->out, err));
    cp_fault_pointf("%s-written", s->h.f->name);
    return CP_OK;
}

static cp_status file_publish(cp_sink *k, const cp_sink_commit *c, cp_error *err)
{
    file_sink *s = (file_sink *)k;
    (void)c;
    CP_RETURN_IF_ERROR(cp_output_commit(&s->out, err));
    s->published = true;
    cp_fault_pointf("%s-published", s->h.f->name);
    return CP_OK;
}

static void file_release(cp_sink *k)
{
    file_sink *s = (file_sink *)k;
    if (s->writer)
        s->h.f->free(s->writer);
    s->writer = NULL;
}

static void file_abort(cp_sink *k)
{
    file_release(k);
    cp_output_abort(&((file_sink *)k)->out);
}

static cp_status file_report(const cp_sink *k, cp_load_summary *sum)
{
    const file_sink *s = (const file_sink *)k;
    if (!s->published)
        return CP_OK;
    return cp_load_summary_add_output(sum, s->h.f->name, s->h.location, s->out.bytes);
}

static void file_free(cp_sink *k)
{
    file_release(k);
    cp_aws_free(((file_sink *)k)->aws);
    free(((file_sink *)k)->h.location);
}

CP_SINK_OPS(file_ops, file);

cp_status cp_sink_file_new(const cp_sink_format *f, const cp_sink_load *l, cp_sink **out,
                           cp_error *err)
{
    file_sink *s = cp_format_sink_new(sizeof *s, &file_ops, f, l, true, err);
    *out = s ? &s->h.base : NULL;
    return s ? CP_OK : CP_NOMEM;
}
