/*
 * test_sink_partition.c - pipeline/sink_partition: two partitions whose rows alternate
 * batch by batch through one writer (--partition-writers 1) suspend each other's Parquet
 * writer every batch, a row group each time, until a file would pass Parquet's 32,767 row
 * groups: the load fails with CP_TOO_LARGE, and the message says why the file has so many
 * (the suspensions, the writers) and what to do (more writers, or sorted input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/parquet_writer.h"
#include "pipeline/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_row_group_bound(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/cp_partition_XXXXXX");
    assert_non_null(mkdtemp(dir));
    cp_error err;
    cp_partition_spec spec;
    assert_int_equal(cp_partition_spec_parse("region", &spec, &err), CP_OK);
    cp_pipeline_options o;
    cp_pipeline_options_default(&o);
    o.out_dir = dir;
    o.partition = &spec;
    o.partition_writers = 1;
    const cp_sink_load l = {&o, NULL, "sales", "sales", "file:///sales.csv"};
    cp_sink *k = NULL;
    assert_int_equal(cp_sink_partition_new(&cp_sink_parquet, &l, &k, &err), CP_OK);

    cp_schema schema;
    assert_int_equal(cp_schema_init(&schema, 2), CP_OK);
    schema.columns[0].type = cp_type_of(CP_TYPE_STRING);
    schema.columns[1].type = cp_type_of(CP_TYPE_INT64);
    const char *names[] = {"region", "n"};
    const size_t lens[] = {6, 1};
    assert_int_equal(cp_schema_set_names(&schema, names, lens, NULL), CP_OK);
    const cp_item_keys keys = {"sales", "file:///sales.csv", NULL, 0};
    assert_int_equal(k->ops->open(k, &schema, &keys, &err), CP_OK);
    k->open = true;

    cp_batch b;
    assert_int_equal(cp_batch_init(&b, &schema, 1, 1 << 10, 1 << 10), CP_OK);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    cp_status st = CP_OK;
    size_t batches = 0;
    while (st == CP_OK && batches < 2 * (CP_PQ_MAX_ROW_GROUPS + 2)) {
        cp_batch_clear(&b, batches + 1);
        const cp_field fields[] = {{batches % 2 ? "a" : "b", 1, false}, {"1", 1, false}};
        assert_int_equal(cp_batch_append_row(&b, fields, 2, &opts, NULL), CP_OK);
        st = k->ops->write(k, &b, &err);
        batches++;
    }
    assert_int_equal(st, CP_TOO_LARGE);
    assert_int_equal(batches, 2 * (CP_PQ_MAX_ROW_GROUPS + 1)); /* b's 32,768th suspension */
    assert_non_null(strstr(err.message, "region=b/sales.parquet: a Parquet file holds at most "
                                        "32,767 row groups"));
    assert_non_null(strstr(err.message, "each of the 32767 times it was suspended"));
    assert_non_null(strstr(err.message, "--partition-writers 1"));
    assert_non_null(strstr(err.message, "sort the input by the partition columns"));

    cp_batch_release(&b);
    cp_sink_free(k);
    cp_schema_release(&schema);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_group_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
