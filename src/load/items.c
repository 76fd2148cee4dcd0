/*
 * items.c - the item loader's front: dispatches on the URL scheme to items_sqlite.c or
 * items_dynamodb.c, checks what every backend shares, and keeps the file being loaded
 * (names, keys, the JSON names of its columns) for the backends.
 */
#include "load/items_backend.h"
#include "util/json_escape.h"

#include <stdlib.h>
#include <string.h>

static const cp_items_backend *const backends[] = {&cp_items_sqlite_backend,
                                                   &cp_items_dynamodb_backend};

/* The backend of url, and the length of its scheme. */
static const cp_items_backend *backend_of(const char *url, size_t *scheme_len)
{
    for (size_t i = 0; url && i < sizeof backends / sizeof backends[0]; i++) {
        for (const char *const *sc = backends[i]->schemes; *sc; sc++) {
            if (strncmp(url, *sc, strlen(*sc)) == 0) {
                *scheme_len = strlen(*sc);
                return backends[i];
            }
        }
    }
    return NULL;
}

static void file_end(cp_items_file *f)
{
    free(f->dataset);
    free(f->source);
    free(f->key_columns);
    free(f->name_end);
    f->dataset = f->source = NULL;
    f->key_columns = f->name_end = NULL;
    memset(&f->keys, 0, sizeof f->keys);
    f->ncolumns = 0;
    cp_buf_reset(&f->names);
    f->open = false;
}

cp_items *cp_items_open(const char *url, cp_error *err)
{
    size_t n = 0;
    const cp_items_backend *be = backend_of(url, &n);
    if (!be) {
        cp_error_set(err, CP_USAGE, "%s: unknown item store; use sqlite:PATH or dynamodb:TABLE",
                     url ? url : "(none)");
        return NULL;
    }
    cp_items *s = be->open(url + n, err);
    if (s) {
        s->backend = be;
        memset(&s->file, 0, sizeof s->file);
        cp_buf_init(&s->file.names, CP_BUF_UNLIMITED);
        cp_buf_init(&s->file.pk, CP_BUF_UNLIMITED);
        cp_buf_init(&s->file.sk, CP_BUF_UNLIMITED);
    }
    return s;
}

cp_status cp_items_check_row(cp_items *s, const cp_batch *b, size_t row, cp_error *why)
{
    if (!s || !s->file.open || !s->backend->check_row)
        return CP_OK;
    return s->backend->check_row(s, b, row, why);
}

bool cp_items_checks_rows(const cp_items *s)
{
    return s && s->backend->check_row;
}

bool cp_items_transactional(const cp_items *s)
{
    return s && s->backend->transactional;
}

void cp_items_close(cp_items *s)
{
    if (!s)
        return;
    cp_items_abort(s);
    cp_buf_release(&s->file.names);
    cp_buf_release(&s->file.pk);
    cp_buf_release(&s->file.sk);
    s->backend->close(s);
}

cp_status cp_items_create_table(const char *url, cp_error *err)
{
    size_t n = 0;
    const cp_items_backend *be = backend_of(url, &n);
    if (!be)
        return cp_error_set(err, CP_USAGE,
                            "%s: unknown item store; use sqlite:PATH or dynamodb:TABLE",
                            url ? url : "(none)");
    return be->create ? be->create(url + n, err) : CP_OK;
}

/* No column may be named _dataset, _source or _row; key columns must exist. */
static cp_status check_schema(const char *dataset, const cp_schema *schema,
                              const size_t *key_columns, size_t nkeys, cp_error *err)
{
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const char *name = schema->columns[i].name;
        if (strcmp(name, "_dataset") == 0 || strcmp(name, "_source") == 0 ||
            strcmp(name, "_row") == 0)
            return cp_error_set(err, CP_USAGE,
                                "column %zu of \"%s\" is named \"%s\", which items keep for "
                                "themselves (the schema's names must reserve it)",
                                i + 1, dataset, name);
    }
    for (size_t k = 0; k < nkeys; k++)
        if (key_columns[k] >= schema->ncolumns)
            return cp_error_set(err, CP_USAGE, "key column index %zu is out of range (%zu columns)",
                                key_columns[k], schema->ncolumns);
    return CP_OK;
}

/* ,"col": for every column of schema into f->names, and where each ends. */
static cp_status build_names(cp_items_file *f, const cp_schema *schema)
{
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const char *name = schema->columns[i].name;
        CP_RETURN_IF_ERROR(cp_buf_append_char(&f->names, ','));
        CP_RETURN_IF_ERROR(cp_json_append_string(&f->names, name, strlen(name)));
        CP_RETURN_IF_ERROR(cp_buf_append_char(&f->names, ':'));
        f->name_end[i] = f->names.len;
    }
    return CP_OK;
}

static cp_status file_begin(cp_items_file *f, const char *dataset, const cp_schema *schema,
                            const char *source_uri, const size_t *key_columns, size_t nkeys,
                            cp_error *err)
{
    f->dataset = strdup(dataset);
    f->source = strdup(source_uri);
    f->key_columns = calloc(nkeys ? nkeys : 1, sizeof *f->key_columns);
    f->name_end = calloc(schema->ncolumns ? schema->ncolumns : 1, sizeof *f->name_end);
    if (!f->dataset || !f->source || !f->key_columns || !f->name_end)
        return cp_error_set(err, CP_NOMEM, "out of memory starting the items of %s", source_uri);
    if (nkeys)
        memcpy(f->key_columns, key_columns, nkeys * sizeof *key_columns);
    f->keys.dataset = f->dataset;
    f->keys.source_uri = f->source;
    f->keys.columns = f->key_columns;
    f->keys.ncolumns = nkeys;
    f->ncolumns = schema->ncolumns;
    cp_status st = build_names(f, schema);
    if (st != CP_OK)
        return cp_error_set(err, st, "building the item form of %s", source_uri);
    return CP_OK;
}

cp_status cp_items_begin(cp_items *s, const char *dataset, const cp_schema *schema,
                         const char *source_uri, const size_t *key_columns, size_t nkeys,
                         cp_error *err)
{
    if (!s || !dataset || !schema || !source_uri || (nkeys && !key_columns))
        return cp_error_set(err, CP_USAGE, "cp_items_begin: NULL argument");
    cp_items_abort(s); /* a file still open is given up */
    CP_RETURN_IF_ERROR(check_schema(dataset, schema, key_columns, nkeys, err));
    cp_status st = file_begin(&s->file, dataset, schema, source_uri, key_columns, nkeys, err);
    if (st == CP_OK)
        st = s->backend->begin(s, schema, err);
    if (st != CP_OK) {
        file_end(&s->file);
        return st;
    }
    s->file.open = true;
    return CP_OK;
}

cp_status cp_items_write(cp_items *s, const cp_batch *b, cp_error *err)
{
    if (!s || !b)
        return cp_error_set(err, CP_USAGE, "cp_items_write: NULL argument");
    if (!s->file.open)
        return cp_error_set(err, CP_USAGE, "cp_items_write: no file begun");
    if (b->schema->ncolumns != s->file.ncolumns)
        return cp_error_set(err, CP_USAGE, "batch has %zu columns, the items were begun with %zu",
                            b->schema->ncolumns, s->file.ncolumns);
    return s->backend->write(s, b, err);
}

cp_status cp_items_finish(cp_items *s, uint64_t rows_now, uint64_t rows_before, cp_error *err)
{
    if (!s)
        return cp_error_set(err, CP_USAGE, "cp_items_finish: NULL argument");
    if (!s->file.open)
        return cp_error_set(err, CP_USAGE, "cp_items_finish: no file begun");
    cp_status st = s->backend->finish(s, rows_now, rows_before, err);
    file_end(&s->file);
    return st;
}

void cp_items_abort(cp_items *s)
{
    if (!s || !s->file.open)
        return;
    s->backend->abort(s);
    file_end(&s->file);
}

void cp_items_keyless_key(const char *dataset, const char *source_uri, uint64_t row, cp_buf *pk,
                          cp_buf *sk)
{
    /* only a buffer limit can fail; the buffers are then left short (see item_key.h) */
    (void)cp_item_keyless_key(dataset, source_uri, row, pk, sk);
}
