/*
 * items.c - the item loader's front: checks the arguments every backend shares and
 * dispatches on the URL scheme to items_sqlite.c or items_dynamodb.c.
 */
#include "load/items_backend.h"

#include <string.h>

static const cp_items_backend *const backends[] = {&cp_items_sqlite_backend,
                                                   &cp_items_dynamodb_backend};

static const cp_items_backend *backend_of(const char *url)
{
    for (size_t i = 0; url && i < sizeof backends / sizeof backends[0]; i++)
        if (strncmp(url, backends[i]->scheme, strlen(backends[i]->scheme)) == 0)
            return backends[i];
    return NULL;
}

cp_items *cp_items_open(const char *url, cp_error *err)
{
    const cp_items_backend *be = backend_of(url);
    if (!be) {
        cp_error_set(err, CP_USAGE, "%s: unknown item store; use sqlite:PATH or dynamodb:TABLE",
                     url ? url : "(none)");
        return NULL;
    }
    cp_items *s = be->open(url + strlen(be->scheme), err);
    if (s)
        s->backend = be;
    return s;
}

cp_status cp_items_check_row(cp_items *s, const cp_batch *b, size_t row, cp_error *why)
{
    if (!s || !s->backend->check_row)
        return CP_OK;
    return s->backend->check_row(s, b, row, why);
}

bool cp_items_transactional(const cp_items *s)
{
    return s && s->backend->transactional;
}

void cp_items_close(cp_items *s)
{
    if (s)
        s->backend->close(s);
}

cp_status cp_items_create_table(const char *url, cp_error *err)
{
    const cp_items_backend *be = backend_of(url);
    if (!be)
        return cp_error_set(err, CP_USAGE,
                            "%s: unknown item store; use sqlite:PATH or dynamodb:TABLE",
                            url ? url : "(none)");
    return be->create ? be->create(url + strlen(be->scheme), err) : CP_OK;
}

cp_status cp_items_check_schema(const char *dataset, const cp_schema *schema,
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

cp_status cp_items_begin(cp_items *s, const char *dataset, const cp_schema *schema,
                         const char *source_uri, const size_t *key_columns, size_t nkeys,
                         cp_error *err)
{
    if (!s || !dataset || !schema || !source_uri || (nkeys && !key_columns))
        return cp_error_set(err, CP_USAGE, "cp_items_begin: NULL argument");
    return s->backend->begin(s, dataset, schema, source_uri, key_columns, nkeys, err);
}

cp_status cp_items_write(cp_items *s, const cp_batch *b, cp_error *err)
{
    if (!s || !b)
        return cp_error_set(err, CP_USAGE, "cp_items_write: NULL argument");
    return s->backend->write(s, b, err);
}

cp_status cp_items_finish(cp_items *s, uint64_t rows_now, uint64_t rows_before, cp_error *err)
{
    if (!s)
        return cp_error_set(err, CP_USAGE, "cp_items_finish: NULL argument");
    return s->backend->finish(s, rows_now, rows_before, err);
}

void cp_items_abort(cp_items *s)
{
    if (s)
        s->backend->abort(s);
}

void cp_items_keyless_key(const char *dataset, const char *source_uri, uint64_t row, cp_buf *pk,
                          cp_buf *sk)
{
    /* only a buffer limit can fail; the buffers are then left short (see item_key.h) */
    (void)cp_item_keyless_key(dataset, source_uri, row, pk, sk);
}
