/*
 * glue.c - the Glue Data Catalog's tables and partitions (glue.h): GetTable, then
 * CreateTable or UpdateTable with the columns merged; BatchCreatePartition and
 * BatchDeletePartition.
 */
#include "aws/glue.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TARGET_PREFIX "AWSGlue."
#define PARTITIONS_PER_CALL 100
#define DELETES_PER_CALL 25

static const char input_format[] = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat";
static const char output_format[] =
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat";
static const char serde[] = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe";

/* POSTs body (consumed) to operation op; the answer in r. CP_OK whenever an answer came. */
static cp_status call(cp_aws *aws, const char *op, json_t *body, cp_aws_response *r, cp_error *err)
{
    char target[128];
    snprintf(target, sizeof target, TARGET_PREFIX "%s", op);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return cp_error_set(err, CP_NOMEM, "out of memory making the Glue %s request", op);
    cp_status st = cp_aws_json_call(aws, CP_AWS_GLUE, target, text, r, err);
    free(text);
    return st;
}

char *cp_glue_type_name(cp_type t, char *out, size_t cap)
{
    switch (t.id) {
    case CP_TYPE_BOOLEAN:
        snprintf(out, cap, "boolean");
        break;
    case CP_TYPE_INT64:
        snprintf(out, cap, "bigint");
        break;
    case CP_TYPE_DECIMAL:
        snprintf(out, cap, "decimal(%u,%u)", (unsigned)t.precision, (unsigned)t.scale);
        break;
    case CP_TYPE_DOUBLE:
        snprintf(out, cap, "double");
        break;
    case CP_TYPE_DATE:
        snprintf(out, cap, "date");
        break;
    case CP_TYPE_TIMESTAMP:
    case CP_TYPE_TIMESTAMPTZ:
        snprintf(out, cap, "timestamp");
        break;
    case CP_TYPE_STRING:
    case CP_TYPE_NULL:
        snprintf(out, cap, "string");
        break;
    }
    return out;
}

bool cp_glue_type_parse(const char *name, cp_type *out)
{
    static const struct {
        const char *name;
        cp_type_id id;
    } simple[] = {{"boolean", CP_TYPE_BOOLEAN},     {"bigint", CP_TYPE_INT64},
                  {"double", CP_TYPE_DOUBLE},       {"date", CP_TYPE_DATE},
                  {"timestamp", CP_TYPE_TIMESTAMP}, {"string", CP_TYPE_STRING}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(name, simple[i].name) == 0) {
            *out = cp_type_of(simple[i].id);
            return true;
        }
    unsigned p, s;
    char end;
    if (sscanf(name, "decimal(%u,%u%c", &p, &s, &end) == 3 && end == ')' && p >= 1 && p <= 38 &&
        s <= p) {
        char again[24];
        *out = cp_type_decimal(p, s);
        return strcmp(cp_glue_type_name(*out, again, sizeof again), name) == 0;
    }
    return false;
}

static json_t *columns_json(const cp_glue_column *c, size_t n)
{
    json_t *a = json_array();
    char type[24];
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:s,s:s}", "Name", c[i].name, "Type",
                                               cp_glue_type_name(c[i].type, type, sizeof type))) !=
            0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *storage(const char *location, json_t *columns)
{
    return json_pack("{s:o*,s:s,s:s,s:s,s:{s:s,s:{s:s}}}", "Columns", columns, "Location", location,
                     "InputFormat", input_format, "OutputFormat", output_format, "SerdeInfo",
                     "SerializationLibrary", serde, "Parameters", "serialization.format", "1");
}

static json_t *table_input(const cp_glue_table *t, json_t *columns)
{
    return json_pack("{s:s,s:s,s:{s:s,s:s},s:o*,s:o*}", "Name", t->name, "TableType",
                     "EXTERNAL_TABLE", "Parameters", "classification", "parquet", "EXTERNAL",
                     "TRUE", "StorageDescriptor", storage(t->location, columns), "PartitionKeys",
                     columns_json(t->partition_keys, t->npartition_keys));
}

/*
 * UpdateTable's TableInput: the table as GetTable answered it (its Parameters, Description,
 * Owner, PartitionKeys, storage settings...), with the given columns at t's location.
 */
static json_t *update_input(const char *body, size_t len, const cp_glue_table *t, json_t *columns)
{
    static const char *const kept[] = {"Name",
                                       "Description",
                                       "Owner",
                                       "Retention",
                                       "PartitionKeys",
                                       "TableType",
                                       "Parameters",
                                       "ViewOriginalText",
                                       "ViewExpandedText",
                                       "TargetTable",
                                       NULL};
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *table = json_object_get(j, "Table");
    json_t *in = json_object();
    json_t *sd = json_deep_copy(json_object_get(table, "StorageDescriptor"));
    if (!sd)
        sd = storage(t->location, NULL);
    for (size_t i = 0; in && kept[i]; i++) {
        json_t *v = json_object_get(table, kept[i]);
        if (v && json_object_set(in, kept[i], v) != 0) {
            json_decref(in);
            in = NULL;
        }
    }
    if (!in || !sd) {
        json_decref(columns);
        json_decref(sd);
        json_decref(in);
        json_decref(j);
        return NULL;
    }
    if (json_object_set_new(sd, "Columns", columns) != 0 ||
        json_object_set_new(sd, "Location", json_string(t->location)) != 0 ||
        json_object_set_new(in, "StorageDescriptor", json_incref(sd)) != 0) {
        json_decref(in);
        in = NULL;
    }
    json_decref(sd);
    json_decref(j);
    return in;
}

cp_status cp_glue_parse_table(const char *body, size_t len, void **columns, cp_buf *keys,
                              cp_error *err)
{
    *columns = NULL;
    json_error_t je;
    json_t *j = json_loadb(body ? body : "", len, 0, &je);
    json_t *table = json_object_get(j, "Table");
    json_t *cols = json_object_get(json_object_get(table, "StorageDescriptor"), "Columns");
    json_t *pk = json_object_get(table, "PartitionKeys");
    cp_status st = CP_OK;
    if (!json_is_object(table) || (cols && !json_is_array(cols)) || (pk && !json_is_array(pk)))
        st = cp_error_set(err, CP_FORMAT, "Glue GetTable: an answer without the table (%s)",
                          j ? "no Table" : je.text);
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
    {
        if (st == CP_OK && (!json_is_string(json_object_get(c, "Name")) ||
                            !json_is_string(json_object_get(c, "Type"))))
            st = cp_error_set(err, CP_FORMAT, "Glue GetTable: column %zu without Name or Type", i);
    }
    cp_buf_reset(keys);
    json_array_foreach(pk, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "Name"));
        if (st == CP_OK && !name)
            st = cp_error_set(err, CP_FORMAT, "Glue GetTable: partition key %zu without Name", i);
        if (st == CP_OK && ((i && cp_buf_append_char(keys, ',') != CP_OK) ||
                            cp_buf_append_str(keys, name) != CP_OK))
            st = cp_error_set(err, CP_NOMEM, "out of memory");
    }
    if (st == CP_OK)
        *columns = cols ? json_incref(cols) : json_array();
    if (st == CP_OK && !*columns)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
    json_decref(j);
    return st;
}

static cp_type as_stored(cp_type t)
{
    return t.id == CP_TYPE_TIMESTAMPTZ ? cp_type_of(CP_TYPE_TIMESTAMP) : t;
}

/*
 * The table's columns (have) evolved by t's (glue.h) into *out; *differs when that
 * changed them. CP_REJECTED for a join that is no widening.
 */
static cp_status merge(json_t *have, const cp_glue_table *t, const char *what, json_t **out,
                       bool *differs, cp_error *err)
{
    *differs = false;
    if (!(*out = json_deep_copy(have)))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    for (size_t k = 0; k < t->ncolumns; k++) {
        const cp_glue_column *want = &t->columns[k];
        size_t i;
        json_t *c;
        bool found = false;
        json_array_foreach(*out, i, c)
        {
            if (strcmp(json_string_value(json_object_get(c, "Name")), want->name) != 0)
                continue;
            found = true;
            const char *type = json_string_value(json_object_get(c, "Type"));
            cp_type table;
            if (!cp_glue_type_parse(type, &table))
                break;
            const cp_type join = cp_type_join(table, as_stored(want->type));
            if (cp_type_equal(join, table))
                break;
            char name[24], file[24];
            if (join.id == CP_TYPE_STRING) {
                cp_error_set(err, CP_REJECTED,
                             "%s: column %s is %s in the table and %s in this file; a table's "
                             "column widens (bigint to decimal to double, date to timestamp) "
                             "but does not change its kind",
                             what, want->name, type,
                             cp_glue_type_name(want->type, file, sizeof file));
                json_decref(*out);
                *out = NULL;
                return CP_REJECTED;
            }
            json_object_set_new(c, "Type", json_string(cp_glue_type_name(join, name, sizeof name)));
            *differs = true;
            break;
        }
        if (!found) {
            char name[24];
            json_array_append_new(*out,
                                  json_pack("{s:s,s:s}", "Name", want->name, "Type",
                                            cp_glue_type_name(want->type, name, sizeof name)));
            *differs = true;
        }
    }
    return CP_OK;
}

static bool same_keys(const cp_glue_table *t, const cp_buf *keys)
{
    cp_buf want;
    cp_buf_init(&want, CP_BUF_UNLIMITED);
    for (size_t i = 0; i < t->npartition_keys; i++)
        if ((i && cp_buf_append_char(&want, ',') != CP_OK) ||
            cp_buf_append_str(&want, t->partition_keys[i].name) != CP_OK)
            break;
    bool same = strcmp(want.data ? want.data : "", keys->data ? keys->data : "") == 0;
    cp_buf_release(&want);
    return same;
}

static cp_status put_table(cp_aws *aws, const cp_glue_table *t, bool check_only, bool *changed,
                           cp_error *err)
{
    if (changed)
        *changed = false;
    char what[400];
    snprintf(what, sizeof what, "Glue table %s.%s", t->database, t->name);
    cp_aws_response r;
    cp_aws_response_init(&r);
    cp_status st =
        call(aws, "GetTable", json_pack("{s:s,s:s}", "DatabaseName", t->database, "Name", t->name),
             &r, err);
    const bool missing = st == CP_OK && r.status == 400 && strstr(r.code, "EntityNotFound");
    if (st == CP_OK && r.status != 200 && !missing)
        st = cp_aws_fail(&r, err, what);
    if (st != CP_OK) {
        cp_aws_response_release(&r);
        return st;
    }
    json_t *body = NULL;
    const char *op = "CreateTable";
    if (missing) {
        body = json_pack("{s:s,s:o*}", "DatabaseName", t->database, "TableInput",
                         table_input(t, columns_json(t->columns, t->ncolumns)));
    } else {
        void *have = NULL;
        cp_buf keys;
        cp_buf_init(&keys, CP_BUF_UNLIMITED);
        st = cp_glue_parse_table(r.body.data, r.body.len, &have, &keys, err);
        if (st == CP_OK && !same_keys(t, &keys))
            st = cp_error_set(err, CP_REJECTED,
                              "%s is partitioned by (%s), not as --partition-by says; a "
                              "table's partition keys cannot change: drop the table or use "
                              "another dataset name",
                              what, keys.data ? keys.data : "");
        bool differs = false;
        json_t *merged = NULL;
        if (st == CP_OK)
            st = merge(have, t, what, &merged, &differs, err);
        if (st == CP_OK && differs) {
            op = "UpdateTable";
            body = json_pack("{s:s,s:o*}", "DatabaseName", t->database, "TableInput",
                             update_input(r.body.data, r.body.len, t, merged));
            merged = NULL;
            if (!body)
                st = cp_error_set(err, CP_NOMEM, "out of memory");
        }
        json_decref(merged);
        json_decref(have);
        cp_buf_release(&keys);
        if (st != CP_OK || !differs || check_only) {
            json_decref(body);
            cp_aws_response_release(&r);
            return st;
        }
    }
    if (check_only) {
        json_decref(body);
        cp_aws_response_release(&r);
        return CP_OK;
    }
    cp_aws_response_release(&r);
    cp_aws_response_init(&r);
    snprintf(what, sizeof what, "Glue %s %s.%s", op, t->database, t->name);
    st = call(aws, op, body, &r, err);
    /* a load of another source made it in between: the next load updates it */
    if (st == CP_OK && r.status != 200 && !strstr(r.code, "AlreadyExists"))
        st = cp_aws_fail(&r, err, what);
    if (st == CP_OK && changed)
        *changed = true;
    cp_aws_response_release(&r);
    return st;
}

cp_status cp_glue_put_table(cp_aws *aws, const cp_glue_table *t, bool *changed, cp_error *err)
{
    return put_table(aws, t, false, changed, err);
}

cp_status cp_glue_check_table(cp_aws *aws, const cp_glue_table *t, cp_error *err)
{
    return put_table(aws, t, true, NULL, err);
}

/* The Errors of a Batch*Partition answer other than `fine` (its error code's text). */
static cp_status partition_errors(const cp_aws_response *r, const char *what, const char *fine,
                                  size_t sent, size_t *added, cp_error *err)
{
    json_error_t je;
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return cp_error_set(err, CP_IO, "%s: unreadable answer (%s)", what, je.text);
    }
    json_t *errors = json_object_get(j, "Errors");
    size_t i, failed = 0;
    json_t *e;
    cp_status st = CP_OK;
    json_array_foreach(errors, i, e)
    {
        json_t *d = json_object_get(e, "ErrorDetail");
        const char *code = json_string_value(json_object_get(d, "ErrorCode"));
        const char *msg = json_string_value(json_object_get(d, "ErrorMessage"));
        failed++;
        if (st == CP_OK && !(code && strstr(code, fine)))
            st = cp_error_set(err, CP_IO, "%s: %s: %s", what, code ? code : "an error",
                              msg ? msg : "");
    }
    if (added && failed <= sent)
        *added += sent - failed;
    json_decref(j);
    return st;
}

/* {"Values": [t's partition key values]} with location's StorageDescriptor when not NULL. */
static json_t *partition_input(const cp_glue_table *t, const char *const *values,
                               const char *location)
{
    json_t *v = json_array();
    for (size_t k = 0; v && k < t->npartition_keys; k++)
        json_array_append_new(v, json_string(values[k]));
    if (!location)
        return json_pack("{s:o*}", "Values", v);
    return json_pack("{s:o*,s:o*}", "Values", v, "StorageDescriptor",
                     storage(location, columns_json(t->columns, t->ncolumns)));
}

/*
 * Glue's operation op (BatchCreatePartition, BatchDeletePartition) over the n partitions
 * of t, per_call at a time, each call's partitions (partition_input of values[i] and, when
 * locations is not NULL, locations[i]) under list_key. An error whose code contains fine
 * is no failure; *done (NULL allowed) counts the partitions with no error.
 */
static cp_status batch_partitions(cp_aws *aws, const cp_glue_table *t, const char *op,
                                  const char *list_key, size_t per_call,
                                  const char *const *const *values, const char *const *locations,
                                  size_t n, const char *fine, size_t *done, cp_error *err)
{
    if (done)
        *done = 0;
    char what[400];
    snprintf(what, sizeof what, "Glue %s %s.%s", op, t->database, t->name);
    cp_status st = CP_OK;
    for (size_t at = 0; st == CP_OK && at < n; at += per_call) {
        const size_t m = n - at < per_call ? n - at : per_call;
        json_t *list = json_array();
        for (size_t i = 0; list && i < m; i++) {
            if (json_array_append_new(list,
                                      partition_input(t, values[at + i],
                                                      locations ? locations[at + i] : NULL)) != 0) {
                json_decref(list);
                list = NULL;
            }
        }
        json_t *body = json_pack("{s:s,s:s,s:o*}", "DatabaseName", t->database, "TableName",
                                 t->name, list_key, list);
        cp_aws_response r;
        cp_aws_response_init(&r);
        st = call(aws, op, body, &r, err);
        if (st == CP_OK && r.status != 200)
            st = cp_aws_fail(&r, err, what);
        if (st == CP_OK)
            st = partition_errors(&r, what, fine, m, done, err);
        cp_aws_response_release(&r);
    }
    return st;
}

cp_status cp_glue_add_partitions(cp_aws *aws, const cp_glue_table *t,
                                 const char *const *const *values, const char *const *locations,
                                 size_t n, size_t *added, cp_error *err)
{
    return batch_partitions(aws, t, "BatchCreatePartition", "PartitionInputList",
                            PARTITIONS_PER_CALL, values, locations, n, "AlreadyExists", added, err);
}

cp_status cp_glue_delete_partitions(cp_aws *aws, const cp_glue_table *t,
                                    const char *const *const *values, size_t n, size_t *deleted,
                                    cp_error *err)
{
    return batch_partitions(aws, t, "BatchDeletePartition", "PartitionsToDelete", DELETES_PER_CALL,
                            values, NULL, n, "EntityNotFound", deleted, err);
}
