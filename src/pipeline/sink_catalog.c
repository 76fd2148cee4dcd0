/*
 * sink_catalog.c - the Glue Data Catalog as a sink (aws/glue.h): it writes nothing; at
 * CP_COMMIT_CATALOG, once the Parquet files are published, the dataset's table is made or
 * updated (columns in Hive types, partition keys), each partition holding files is
 * registered, the partitions that only the source's stale files fill leave the table, and
 * then those files are removed (the partition sink leaves them to this step, so that a
 * crash before finds them again). Each is idempotent, so a retry after a failure or a crash
 * converges; the ledger row, committed later, still says whether the load happened. At finish,
 * before any file is published, the table is read and a file it cannot take (a column that changes
 * kind, other partition keys) fails the load: nothing published.
 *
 * Column types: cp_glue_type_name (aws/glue.h). Partition keys of year(), month() and day()
 * are strings ("2024-03"); a column partition key keeps its column's type.
 */
#define _GNU_SOURCE
#include "aws/glue.h"
#include "pipeline/output.h"
#include "pipeline/sink.h"
#include "table/partition.h"
#include "util/fault.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct catalog_sink {
    cp_sink base;
    const cp_sink_load *l;
    cp_sink *parquet; /* the partition sink, or NULL */
    const cp_schema *schema;
    char *location;
} catalog_sink;

static cp_status cat_open(cp_sink *k, const cp_schema *schema, const cp_item_keys *keys,
                          cp_error *err)
{
    (void)keys;
    (void)err;
    ((catalog_sink *)k)->schema = schema;
    return CP_OK;
}

static cp_status cat_write(cp_sink *k, const cp_batch *b, cp_error *err)
{
    (void)k;
    (void)b;
    (void)err;
    return CP_OK;
}

/* "%41" -> 'A': the value a Hive-escaped folder name stands for, in place */
static void unescape(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        unsigned v;
        if (p[0] == '%' && p[1] && p[2] && sscanf(p + 1, "%2x", &v) == 1) {
            *o++ = (char)v;
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* The partition values of folders ("k1=v1/k2=v2", Hive-escaped), unescaped, per folder. */
typedef struct partition_values {
    size_t n;
    char **copies;
    const char ***values;
} partition_values;

static void values_release(partition_values *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->copies ? v->copies[i] : NULL);
        free(v->values ? (void *)v->values[i] : NULL);
    }
    free(v->copies);
    free(v->values);
    memset(v, 0, sizeof *v);
}

static cp_status values_of(const char *const *folders, size_t n, size_t nkeys, partition_values *v,
                           cp_error *err)
{
    memset(v, 0, sizeof *v);
    v->copies = calloc(n + 1, sizeof *v->copies);
    v->values = calloc(n + 1, sizeof *v->values);
    if (!v->copies || !v->values)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    v->n = n;
    for (size_t i = 0; i < n; i++) {
        if (!(v->copies[i] = strdup(folders[i])) ||
            !(v->values[i] = calloc(nkeys + 1, sizeof *v->values[i])))
            return cp_error_set(err, CP_NOMEM, "out of memory");
        char *save = NULL;
        size_t k = 0;
        for (char *part = strtok_r(v->copies[i], "/", &save); part && k < nkeys;
             part = strtok_r(NULL, "/", &save)) {
            char *eq = strchr(part, '=');
            char *value = eq ? eq + 1 : part;
            unescape(value);
            v->values[i][k++] = value;
        }
        if (k != nkeys)
            return cp_error_set(err, CP_INTERNAL, "partition folder %s has %zu keys, not %zu",
                                folders[i], k, nkeys);
    }
    return CP_OK;
}

static cp_status register_partitions(catalog_sink *s, const cp_glue_table *t, cp_error *err)
{
    size_t n = 0;
    const char *const *folders = cp_sink_partition_folders(s->parquet, &n);
    if (!folders)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    partition_values v;
    char **locations = calloc(n + 1, sizeof *locations);
    cp_status st = values_of(folders, n, t->npartition_keys, &v, err);
    if (st == CP_OK && !locations)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
    for (size_t i = 0; st == CP_OK && i < n; i++)
        if (asprintf(&locations[i], "%s%s/", s->location, folders[i]) < 0) {
            locations[i] = NULL;
            st = cp_error_set(err, CP_NOMEM, "out of memory");
        }
    size_t added = 0;
    if (st == CP_OK)
        st = cp_glue_add_partitions(s->l->aws, t, (const char *const *const *)v.values,
                                    (const char *const *)locations, n, &added, err);
    if (st == CP_OK)
        cp_log_info("%s.%s: %zu partition%s, %zu new", t->database, t->name, n, n == 1 ? "" : "s",
                    added);
    for (size_t i = 0; locations && i < n; i++)
        free(locations[i]);
    free(locations);
    values_release(&v);
    return st;
}

/* The partitions the load's stale files left empty leave the table. */
static cp_status unregister_emptied(catalog_sink *s, const cp_glue_table *t, cp_error *err)
{
    size_t n = 0;
    const char *const *folders = cp_sink_partition_emptied(s->parquet, &n);
    if (n == 0)
        return CP_OK;
    partition_values v;
    size_t deleted = 0;
    cp_status st = values_of(folders, n, t->npartition_keys, &v, err);
    if (st == CP_OK)
        st = cp_glue_delete_partitions(s->l->aws, t, (const char *const *const *)v.values, n,
                                       &deleted, err);
    if (st == CP_OK)
        cp_log_info("%s.%s: %zu partition%s left empty, removed", t->database, t->name, deleted,
                    deleted == 1 ? "" : "s");
    values_release(&v);
    return st;
}

/*
 * The Glue table of the load's schema into *t (its partition keys in keys, their names in
 * pk); free(t->columns) afterwards.
 */
static cp_status make_table(catalog_sink *s, cp_glue_table *t, cp_glue_column *keys,
                            cp_partition_keys *pk, cp_error *err)
{
    const cp_schema *schema = s->schema;
    memset(pk, 0, sizeof *pk);
    memset(t, 0, sizeof *t);
    if (s->parquet)
        CP_RETURN_IF_ERROR(cp_partition_resolve(s->l->o->partition, schema, pk, err));
    cp_glue_column *columns = calloc(schema->ncolumns + 1, sizeof *columns);
    if (!columns)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    *t =
        (cp_glue_table){s->l->o->catalog_database, s->l->dataset, s->location, columns, 0, keys, 0};
    for (size_t i = 0; i < schema->ncolumns; i++)
        if (!cp_partition_is_key_column(pk, i))
            columns[t->ncolumns++] =
                (cp_glue_column){schema->columns[i].name, schema->columns[i].type};
    for (size_t i = 0; i < pk->nkeys; i++)
        keys[t->npartition_keys++] = (cp_glue_column){pk->keys[i].name, cp_type_of(CP_TYPE_STRING)};
    return CP_OK;
}

/* Before anything is published: the table can take this file (or is missing). */
static cp_status cat_finish(cp_sink *k, cp_error *err)
{
    catalog_sink *s = (catalog_sink *)k;
    cp_glue_table t;
    cp_glue_column keys[CP_PARTITION_MAX_EXPRS];
    cp_partition_keys pk;
    CP_RETURN_IF_ERROR(make_table(s, &t, keys, &pk, err));
    cp_status st = cp_glue_check_table(s->l->aws, &t, err);
    free((void *)t.columns);
    return st;
}

static cp_status cat_publish(cp_sink *k, const cp_sink_commit *c, cp_error *err)
{
    catalog_sink *s = (catalog_sink *)k;
    (void)c;
    cp_glue_table t;
    cp_glue_column keys[CP_PARTITION_MAX_EXPRS];
    cp_partition_keys pk;
    CP_RETURN_IF_ERROR(make_table(s, &t, keys, &pk, err));
    bool changed = false;
    cp_status st = cp_glue_put_table(s->l->aws, &t, &changed, err);
    if (st == CP_OK) {
        if (changed)
            cp_log_info("%s.%s: the Glue table made or updated", t.database, t.name);
        cp_fault_point("catalog-table");
        if (s->parquet)
            st = register_partitions(s, &t, err);
        if (st == CP_OK && s->parquet)
            st = unregister_emptied(s, &t, err);
    }
    if (st == CP_OK)
        cp_fault_point("catalog-registered");
    if (st == CP_OK && s->parquet)
        st = cp_sink_partition_remove_stale(s->parquet, err);
    free((void *)t.columns);
    return st;
}

static void cat_abort(cp_sink *k)
{
    ((catalog_sink *)k)->schema = NULL;
}

static void cat_free(cp_sink *k)
{
    free(((catalog_sink *)k)->location);
}

static const cp_sink_ops catalog_ops = {
    .open = cat_open,
    .write = cat_write,
    .finish = cat_finish,
    .publish = cat_publish,
    .abort = cat_abort,
    .release = cat_free,
};

cp_status cp_sink_catalog_new(const cp_sink_load *l, cp_sink *parquet, cp_sink **out, cp_error *err)
{
    *out = NULL;
    if (!cp_location_is_s3(l->o->out_dir) || !l->aws)
        return cp_error_set(err, CP_USAGE,
                            "the Glue catalog registers S3 outputs only; --out %s is not one",
                            l->o->out_dir);
    catalog_sink *s = calloc(1, sizeof *s);
    if (!s || asprintf(&s->location, "%s/%s/%s/", l->o->out_dir, cp_sink_parquet.folder,
                       l->dataset) < 0) {
        free(s);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    s->base.ops = &catalog_ops;
    s->base.step = CP_COMMIT_CATALOG;
    s->l = l;
    s->parquet = parquet;
    if (parquet)
        cp_sink_partition_defer_stale(parquet);
    *out = &s->base;
    return CP_OK;
}
