/*
 * test_partition.c - table/partition: parsing --partition-by (functions in any case,
 * spaces, a trailing comma; unknown functions, missing parentheses, empty and too many
 * expressions refused with the EXPR named), resolving against a schema (names as written
 * or normalized, month() of a non-date refused, keys named <col>_month), the folders of
 * rows (dates before 1970 and TIMESTAMPs before midnight UTC, NULL and the empty string as
 * __HIVE_DEFAULT_PARTITION__, Hive's escapes), and cp_batch_append_from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "table/partition.h"

#include <stdlib.h>
#include <string.h>

static void test_parse(void **state)
{
    (void)state;
    cp_partition_spec s;
    cp_error e;
    assert_int_equal(cp_partition_spec_parse(" MONTH( order_date ) ,region,", &s, &e), CP_OK);
    assert_int_equal(s.nexprs, 2);
    assert_int_equal(s.exprs[0].fn, CP_PARTITION_MONTH);
    assert_string_equal(s.exprs[0].column, "order_date");
    assert_int_equal(s.exprs[1].fn, CP_PARTITION_VALUE);
    assert_string_equal(s.exprs[1].column, "region");
    assert_int_equal(cp_partition_spec_parse("week(d)", &s, &e), CP_USAGE);
    assert_non_null(strstr(e.message, "\"week(d)\" is not a partition expression"));
    assert_int_equal(cp_partition_spec_parse("day(d", &s, &e), CP_USAGE);
    assert_non_null(strstr(e.message, "\"day(d\" lacks its closing parenthesis"));
    assert_int_equal(cp_partition_spec_parse("year()", &s, &e), CP_USAGE);
    assert_int_equal(cp_partition_spec_parse("a,,b", &s, &e), CP_USAGE);
    assert_int_equal(cp_partition_spec_parse("", &s, &e), CP_USAGE);
    assert_int_equal(cp_partition_spec_parse("a,b,c,d,e,f,g,h,i", &s, &e), CP_USAGE);
    assert_int_equal(cp_partition_spec_parse("f(g(x))", &s, &e), CP_USAGE);
}

/* The rows every test below reads: Order Date (DATE), at (TIMESTAMP), region (STRING). */
static const char *const rows[][3] = {
    {"2024-03-15", "2024-03-15 23:59:59", "EU"},
    {"1969-12-31", "1969-12-31 23:59:59.25", "a/b=c:%#"},
    {"", "", ""},
    {"2020-01-01", "2024-03-15T08:07:06.000001", "US"},
};
#define NROWS (sizeof rows / sizeof rows[0])

typedef struct fixture {
    cp_schema schema;
    cp_batch batch;
} fixture;

/* cmocka's setup: *state is a fixture whose batch holds rows. */
static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(cp_schema_init(&f->schema, 3), CP_OK);
    f->schema.columns[0].type = cp_type_of(CP_TYPE_DATE);
    f->schema.columns[1].type = cp_type_of(CP_TYPE_TIMESTAMP);
    f->schema.columns[2].type = cp_type_of(CP_TYPE_STRING);
    const char *h[] = {"Order Date", "at", "region"};
    size_t hl[] = {10, 2, 6};
    assert_int_equal(cp_schema_set_names(&f->schema, h, hl, NULL), CP_OK);
    assert_int_equal(cp_batch_init(&f->batch, &f->schema, 8, 1 << 16, 1 << 16), CP_OK);
    cp_batch_clear(&f->batch, 1);
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    for (size_t r = 0; r < NROWS; r++) {
        cp_field fields[3];
        for (size_t c = 0; c < 3; c++)
            fields[c] = (cp_field){rows[r][c], strlen(rows[r][c]), c == 2 && rows[r][c][0]};
        assert_int_equal(cp_batch_append_row(&f->batch, fields, 3, &opts, NULL), CP_OK);
    }
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    cp_batch_release(&f->batch);
    cp_schema_release(&f->schema);
    free(f);
    return 0;
}

/* Each row's path is want[row] under the keys *k of --partition-by expr. */
static void expect_paths(fixture *f, const char *expr, const char *const want[NROWS],
                         cp_partition_keys *k)
{
    cp_partition_spec s;
    cp_error e;
    assert_int_equal(cp_partition_spec_parse(expr, &s, &e), CP_OK);
    assert_int_equal(cp_partition_resolve(&s, &f->schema, k, &e), CP_OK);
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    for (size_t r = 0; r < NROWS; r++) {
        cp_buf_reset(&b);
        assert_int_equal(cp_partition_append_path(&b, k, &f->batch, r), CP_OK);
        assert_string_equal(b.data, want[r]);
    }
    cp_buf_release(&b);
}

/* A TIMESTAMP key's value is Hive's yyyy-MM-dd HH:mm:ss[.ffffff] (UTC for TIMESTAMPTZ). */
static void test_timestamp_values(void **state)
{
    fixture *f = *state;
    static const char *const want[NROWS] = {
        "at=2024-03-15 23%3A59%3A59",
        "at=1969-12-31 23%3A59%3A59.250000",
        "at=__HIVE_DEFAULT_PARTITION__",
        "at=2024-03-15 08%3A07%3A06.000001",
    };
    cp_partition_keys k;
    expect_paths(f, "at", want, &k);
    f->schema.columns[1].type = cp_type_of(CP_TYPE_TIMESTAMPTZ);
    expect_paths(f, "at", want, &k);
}

static void test_paths(void **state)
{
    fixture *f = *state;
    static const char *const want[NROWS] = {
        "region=EU/order_date_year=2024/order_date_month=2024-03/at_day=2024-03-15",
        "region=a%2Fb%3Dc%3A%25%23/order_date_year=1969/order_date_month=1969-12/"
        "at_day=1969-12-31",
        "region=__HIVE_DEFAULT_PARTITION__/order_date_year=__HIVE_DEFAULT_PARTITION__/"
        "order_date_month=__HIVE_DEFAULT_PARTITION__/at_day=__HIVE_DEFAULT_PARTITION__",
        "region=US/order_date_year=2020/order_date_month=2020-01/at_day=2024-03-15",
    };
    cp_partition_keys k;
    expect_paths(f, "region,year(Order Date),month(order_date),day(at)", want, &k);
    assert_string_equal(k.keys[1].name, "order_date_year");
    assert_string_equal(k.keys[3].name, "at_day");
    assert_true(cp_partition_is_key_column(&k, 2));
    assert_false(cp_partition_is_key_column(&k, 0));
    cp_partition_spec s;
    cp_error e;
    assert_int_equal(cp_partition_spec_parse("month(region)", &s, &e), CP_OK);
    assert_int_equal(cp_partition_resolve(&s, &f->schema, &k, &e), CP_USAGE);
    assert_non_null(strstr(e.message, "month(region) needs a DATE or TIMESTAMP column"));
    assert_int_equal(cp_partition_spec_parse("nope", &s, &e), CP_OK);
    assert_int_equal(cp_partition_resolve(&s, &f->schema, &k, &e), CP_USAGE);
    assert_non_null(strstr(e.message, "\"nope\" is not a column"));
}

static void test_append_from(void **state)
{
    fixture *f = *state;
    cp_schema two;
    assert_int_equal(cp_schema_init(&two, 2), CP_OK);
    two.columns[0].type = cp_type_of(CP_TYPE_STRING);
    two.columns[1].type = cp_type_of(CP_TYPE_DATE);
    cp_batch sub;
    assert_int_equal(cp_batch_init(&sub, &two, 4, 1 << 16, 0), CP_OK);
    cp_batch_clear(&sub, 1);
    const size_t cols[] = {2, 0};
    assert_int_equal(cp_batch_append_from(&sub, &f->batch, 3, cols), CP_OK);
    assert_int_equal(cp_batch_append_from(&sub, &f->batch, 2, cols), CP_OK);
    assert_int_equal(sub.nrows, 2);
    size_t len;
    const char *s = cp_batch_string(&sub, 0, 0, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(s, "US", 2);
    assert_int_equal(sub.cols[1].v.date[0], f->batch.cols[0].v.date[3]);
    assert_false(cp_batch_valid(&sub, 0, 1));
    assert_false(cp_batch_valid(&sub, 1, 1));
    assert_int_equal(sub.cols[0].nnulls, 1);
    cp_batch_release(&sub);
    cp_schema_release(&two);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_paths, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_values, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_append_from, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
