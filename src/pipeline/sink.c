/* sink.c - the list of file formats, their names in --formats, and what every sink shares. */
#define _GNU_SOURCE
#include "pipeline/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const cp_sink_format *const cp_sink_formats[] = {
    &cp_sink_parquet,
    &cp_sink_json,
};
const size_t cp_sink_nformats = sizeof cp_sink_formats / sizeof cp_sink_formats[0];

static bool format_is(const cp_sink_format *f, const char *word, size_t n)
{
    return (strlen(f->name) == n && strncasecmp(word, f->name, n) == 0) ||
           (f->alias && strlen(f->alias) == n && strncasecmp(word, f->alias, n) == 0);
}

cp_status cp_pipeline_parse_formats(const char *list, unsigned *out, cp_error *err)
{
    *out = 0;
    for (const char *p = list;;) {
        p += strspn(p, ", \t");
        if (!*p)
            return CP_OK;
        const size_t n = strcspn(p, ", \t");
        bool known = n == 4 && strncasecmp(p, "none", 4) == 0;
        for (size_t i = 0; !known && i < cp_sink_nformats; i++) {
            if (format_is(cp_sink_formats[i], p, n)) {
                *out |= cp_sink_formats[i]->bit;
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

const char *cp_commit_step_name(cp_commit_step step)
{
    static const char *const names[CP_COMMIT_NSTEPS] = {"finish",   "outputs", "catalog", "rejects",
                                                        "deferred", "items",   "ledger"};
    return step < CP_COMMIT_NSTEPS ? names[step] : "?";
}

void cp_sink_free(cp_sink *k)
{
    if (!k)
        return;
    if (k->open)
        k->ops->abort(k);
    if (k->ops->release)
        k->ops->release(k);
    free(k);
}

void *cp_format_sink_new(size_t size, const cp_sink_ops *ops, const cp_sink_format *f,
                         const cp_sink_load *l, bool file, cp_error *err)
{
    cp_format_sink *h = calloc(1, size);
    if (!h || asprintf(&h->location, "%s/%s/%s%s%s%s", l->o->out_dir, f->folder, l->dataset,
                       file ? "/" : "", file ? l->stem : "", file ? f->extension : "") < 0) {
        free(h);
        cp_error_set(err, CP_NOMEM, "out of memory naming the %s output", f->name);
        return NULL;
    }
    h->base.ops = ops;
    h->base.step = CP_COMMIT_OUTPUTS;
    h->f = f;
    h->l = l;
    return h;
}
