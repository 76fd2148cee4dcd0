/*
 * libFuzzer target: the Glue Data Catalog's answers (aws/glue.h): GetTable's table (its
 * columns and partition keys, merged with a load's), CreateTable's and UpdateTable's, and
 * BatchCreatePartition's and BatchDeletePartition's Errors, through the real client and a scripted
 * server (fake_http.h); and the Hive type names of a table's columns.
 *
 * Input: one control byte, then either a GetTable answer body (bit 0 clear), parsed by
 * cp_glue_parse_table and each column's Type by cp_glue_type_parse, or a script of answers
 * (bit 0 set) for cp_glue_put_table, cp_glue_add_partitions, cp_glue_delete_partitions. Checked: a
 * parsed table gives an array of columns each with a string Name and Type and the partition keys'
 * names; a Type that parses is written back the same by cp_glue_type_name; every failure
 * says why (a message) and a table is "changed" only on success.
 */
#include "aws/glue.h"
#include "fake_http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_http *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    server = fake_http_start_for("AWS_ENDPOINT_URL_GLUE");
    return 0;
}

static void check_table(const char *body, size_t len)
{
    void *columns = NULL;
    cp_buf keys;
    cp_buf_init(&keys, CP_BUF_UNLIMITED);
    cp_error err;
    cp_error_clear(&err);
    cp_status st = cp_glue_parse_table(body, len, &columns, &keys, &err);
    if (st != CP_OK) {
        if (columns || !err.message[0])
            abort();
        cp_buf_release(&keys);
        return;
    }
    if (!json_is_array((json_t *)columns))
        abort();
    size_t i;
    json_t *c;
    json_array_foreach((json_t *)columns, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "Name"));
        const char *type = json_string_value(json_object_get(c, "Type"));
        if (!name || !type)
            abort();
        cp_type t;
        char again[24];
        if (cp_glue_type_parse(type, &t) && strcmp(cp_glue_type_name(t, again, sizeof again), type))
            abort();
    }
    json_decref((json_t *)columns);
    cp_buf_release(&keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!(data[0] & 1)) {
        check_table((const char *)data + 1, size - 1);
        return 0;
    }
    cp_error err;
    cp_aws *aws = fake_http_aws(server, data + 1, size - 1, &err);
    const cp_glue_column columns[] = {{"id", cp_type_of(CP_TYPE_INT64)},
                                      {"amount", cp_type_decimal(18, 2)},
                                      {"at", cp_type_of(CP_TYPE_TIMESTAMPTZ)}};
    const cp_glue_column keys[] = {{"at_month", cp_type_of(CP_TYPE_STRING)}};
    const cp_glue_table t = {"lake", "orders", "s3://b/parquet/orders/", columns, 3, keys, 1};
    bool changed = true;
    cp_status st = cp_glue_put_table(aws, &t, &changed, &err);
    if (st != CP_OK && (changed || !err.message[0]))
        abort();
    if (st == CP_OK) {
        const char *const v1[] = {"2024-01"}, *const v2[] = {"__HIVE_DEFAULT_PARTITION__"};
        const char *const *values[] = {v1, v2};
        const char *const locations[] = {
            "s3://b/parquet/orders/at_month=2024-01/",
            "s3://b/parquet/orders/at_month=__HIVE_DEFAULT_PARTITION__/"};
        size_t added = 99;
        cp_error_clear(&err);
        st = cp_glue_add_partitions(aws, &t, values, locations, 2, &added, &err);
        if ((st != CP_OK && !err.message[0]) || added > 2)
            abort();
        size_t deleted = 99;
        cp_error_clear(&err);
        st = cp_glue_delete_partitions(aws, &t, values, 2, &deleted, &err);
        if ((st != CP_OK && !err.message[0]) || deleted > 2)
            abort();
    }
    cp_aws_free(aws);
    return 0;
}
