/*
 * test_item_key.c - table/item_key: keyless keys (pk "<dataset>#<source>#<n % 128>", sk
 * the ordinal as 12 zero-padded digits, ordinals taken from the batch's first_row), keyed
 * keys from one and two columns (canonical text of the cells, a null as empty text), and
 * the spread of a 1,000,000-row file over at least 100 partition keys (docs/design.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "table/item_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_keyless_by_ordinal(void **state)
{
    cp_buf pk, sk;
    cp_buf_init(&pk, CP_BUF_UNLIMITED);
    cp_buf_init(&sk, CP_BUF_UNLIMITED);
    static const struct {
        uint64_t ordinal;
        const char *pk, *sk;
    } c[] = {
        {1, "sales#/data/in/sales.csv#1", "000000000001"},
        {127, "sales#/data/in/sales.csv#127", "000000000127"},
        {128, "sales#/data/in/sales.csv#0", "000000000128"},
        {129, "sales#/data/in/sales.csv#1", "000000000129"},
        {1000000, "sales#/data/in/sales.csv#64", "000001000000"},
        {999999999999ULL, "sales#/data/in/sales.csv#127", "999999999999"},
        /* past 12 digits the number is longer, never cut */
        {1000000000000ULL, "sales#/data/in/sales.csv#0", "1000000000000"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        assert_int_equal(cp_buf_append_str(&pk, "old junk"), CP_OK); /* reset first */
        assert_int_equal(cp_buf_append_str(&sk, "old junk"), CP_OK);
        assert_int_equal(cp_item_keyless_key("sales", "/data/in/sales.csv", c[i].ordinal, &pk, &sk),
                         CP_OK);
        assert_string_equal(pk.data, c[i].pk);
        assert_string_equal(sk.data, c[i].sk);
        assert_int_equal(pk.len, strlen(c[i].pk));
        assert_int_equal(sk.len, strlen(c[i].sk));
    }
    /* sort keys of one partition sort like their ordinals */
    char a[16], b[16];
    assert_int_equal(cp_item_keyless_key("d", "s", 9, &pk, &sk), CP_OK);
    snprintf(a, sizeof a, "%s", sk.data);
    assert_int_equal(cp_item_keyless_key("d", "s", 10, &pk, &sk), CP_OK);
    snprintf(b, sizeof b, "%s", sk.data);
    assert_true(strcmp(a, b) < 0);

    /* a bounded buffer that is too small */
    cp_buf small;
    cp_buf_init(&small, 8);
    assert_int_equal(cp_item_keyless_key("sales", "/data/in/sales.csv", 1, &small, &sk),
                     CP_TOO_LARGE);
    cp_buf_release(&small);
    cp_buf_release(&pk);
    cp_buf_release(&sk);
}

/* A batch with columns id INT64, code STRING, day DATE, price DECIMAL(12,2). */
typedef struct fixture {
    cp_schema schema;
    cp_batch batch;
} fixture;

static void fixture_init(fixture *fx, uint64_t first_row)
{
    static const char *const headers[] = {"id", "code", "day", "price"};
    size_t lens[4];
    assert_int_equal(cp_schema_init(&fx->schema, 4), CP_OK);
    const cp_type t[] = {cp_type_of(CP_TYPE_INT64), cp_type_of(CP_TYPE_STRING),
                         cp_type_of(CP_TYPE_DATE), cp_type_decimal(12, 2)};
    for (size_t i = 0; i < 4; i++) {
        fx->schema.columns[i].type = t[i];
        lens[i] = strlen(headers[i]);
    }
    assert_int_equal(cp_schema_set_names(&fx->schema, headers, lens, NULL), CP_OK);
    assert_int_equal(cp_batch_init(&fx->batch, &fx->schema, 8, 1 << 16, 1 << 16), CP_OK);
    cp_batch_clear(&fx->batch, first_row);
    static const char *const rows[][4] = {
        {"42", "007", "2024-01-31", "19.9"},
        {"-3", "A#B", "1999-12-01", "-0.5"},
        {"", "", "", ""}, /* every value null */
        {"5", "x y", "2024-02-29", "1000"},
    };
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    for (size_t r = 0; r < 4; r++) {
        cp_field f[4];
        for (size_t c = 0; c < 4; c++) {
            f[c].data = rows[r][c];
            f[c].len = strlen(rows[r][c]);
            f[c].quoted = false;
        }
        cp_error err;
        assert_int_equal(cp_batch_append_row(&fx->batch, f, 4, &opts, &err), CP_OK);
    }
}

static void fixture_release(fixture *fx)
{
    cp_batch_release(&fx->batch);
    cp_schema_release(&fx->schema);
}

static void test_keyless_from_batch(void **state)
{
    fixture fx;
    fixture_init(&fx, 1001); /* the batch starts at the file's row 1001 */
    cp_item_keys k = {"sales", "s3://in/sales.csv", NULL, 0};
    cp_buf pk, sk;
    cp_buf_init(&pk, CP_BUF_UNLIMITED);
    cp_buf_init(&sk, CP_BUF_UNLIMITED);
    for (size_t r = 0; r < 4; r++) {
        uint64_t ordinal = 1001 + r;
        char want_pk[128], want_sk[32];
        snprintf(want_pk, sizeof want_pk, "sales#s3://in/sales.csv#%llu",
                 (unsigned long long)(ordinal % 128));
        snprintf(want_sk, sizeof want_sk, "%012llu", (unsigned long long)ordinal);
        assert_int_equal(cp_item_key(&k, &fx.batch, r, &pk, &sk), CP_OK);
        assert_string_equal(pk.data, want_pk);
        assert_string_equal(sk.data, want_sk);
    }
    /* the first row of a file is ordinal 1 */
    cp_batch_clear(&fx.batch, 1);
    cp_field f[1] = {{"1", 1, false}};
    cp_value_opts opts = {{'.', CP_DATE_ORDER_DMY, 0}, NULL};
    cp_error err;
    assert_int_equal(cp_batch_append_row(&fx.batch, f, 1, &opts, &err), CP_OK);
    assert_int_equal(cp_item_key(&k, &fx.batch, 0, &pk, &sk), CP_OK);
    assert_string_equal(pk.data, "sales#s3://in/sales.csv#1");
    assert_string_equal(sk.data, "000000000001");
    cp_buf_release(&pk);
    cp_buf_release(&sk);
    fixture_release(&fx);
}

static void test_keyed_one_column(void **state)
{
    fixture fx;
    fixture_init(&fx, 1);
    cp_buf pk, sk;
    cp_buf_init(&pk, CP_BUF_UNLIMITED);
    cp_buf_init(&sk, CP_BUF_UNLIMITED);
    static const char *const want_by_col[4][4] = {
        {"orders#42", "orders#-3", "orders#", "orders#5"},
        {"orders#007", "orders#A#B", "orders#", "orders#x y"},
        {"orders#2024-01-31", "orders#1999-12-01", "orders#", "orders#2024-02-29"},
        {"orders#19.90", "orders#-0.50", "orders#", "orders#1000.00"},
    };
    for (size_t c = 0; c < 4; c++) {
        size_t cols[1] = {c};
        cp_item_keys k = {"orders", "/in/orders.csv", cols, 1};
        for (size_t r = 0; r < 4; r++) {
            assert_int_equal(cp_buf_append_str(&pk, "junk"), CP_OK);
            assert_int_equal(cp_item_key(&k, &fx.batch, r, &pk, &sk), CP_OK);
            assert_string_equal(pk.data, want_by_col[c][r]);
            assert_string_equal(sk.data, "orders"); /* a later file replaces the item */
        }
    }
    cp_buf_release(&pk);
    cp_buf_release(&sk);
    fixture_release(&fx);
}

static void test_keyed_two_columns(void **state)
{
    fixture fx;
    fixture_init(&fx, 500);
    cp_buf pk, sk;
    cp_buf_init(&pk, CP_BUF_UNLIMITED);
    cp_buf_init(&sk, CP_BUF_UNLIMITED);
    size_t cols[2] = {2, 0}; /* day, then id: the order given, not the schema's */
    cp_item_keys k = {"orders", "/in/orders.csv", cols, 2};
    static const char *const want[] = {"orders#2024-01-31#42", "orders#1999-12-01#-3", "orders##",
                                       "orders#2024-02-29#5"};
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(cp_item_key(&k, &fx.batch, r, &pk, &sk), CP_OK);
        assert_string_equal(pk.data, want[r]);
        assert_string_equal(sk.data, "orders");
    }
    /* the same business key in another file (another source, other rows) gives the same key */
    fixture other;
    fixture_init(&other, 77);
    cp_item_keys k2 = {"orders", "/in/orders-2.csv", cols, 2};
    cp_buf pk2, sk2;
    cp_buf_init(&pk2, CP_BUF_UNLIMITED);
    cp_buf_init(&sk2, CP_BUF_UNLIMITED);
    assert_int_equal(cp_item_key(&k, &fx.batch, 1, &pk, &sk), CP_OK);
    assert_int_equal(cp_item_key(&k2, &other.batch, 1, &pk2, &sk2), CP_OK);
    assert_string_equal(pk.data, pk2.data);
    assert_string_equal(sk.data, sk2.data);
    cp_buf_release(&pk2);
    cp_buf_release(&sk2);
    fixture_release(&other);
    cp_buf_release(&pk);
    cp_buf_release(&sk);
    fixture_release(&fx);
}

/* A small open-addressing set of strings, to count distinct partition keys. */
#define SET_SLOTS 4096
typedef struct str_set {
    char *key[SET_SLOTS];
    uint64_t count[SET_SLOTS];
    size_t n;
} str_set;

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void set_add(str_set *set, const char *s, size_t len)
{
    size_t i = fnv1a(s, len) % SET_SLOTS;
    while (set->key[i] && strcmp(set->key[i], s) != 0)
        i = (i + 1) % SET_SLOTS;
    if (!set->key[i]) {
        assert_true(set->n < SET_SLOTS / 2);
        set->key[i] = strdup(s);
        assert_non_null(set->key[i]);
        set->n++;
    }
    set->count[i]++;
}

static void test_million_rows_spread(void **state)
{
    str_set *set = calloc(1, sizeof *set);
    assert_non_null(set);
    cp_buf pk, sk;
    cp_buf_init(&pk, CP_BUF_UNLIMITED);
    cp_buf_init(&sk, CP_BUF_UNLIMITED);
    const uint64_t rows = 1000000;
    char prev_sk[32] = "";
    for (uint64_t r = 1; r <= rows; r++) {
        assert_int_equal(cp_item_keyless_key("big", "/in/big.csv", r, &pk, &sk), CP_OK);
        set_add(set, pk.data, pk.len);
        assert_true(strcmp(prev_sk, sk.data) < 0); /* distinct and in order */
        memcpy(prev_sk, sk.data, sk.len + 1);
    }
    assert_true(set->n >= 100);
    assert_true(set->n <= CP_ITEM_SHARDS);
    /* no hot partition: every key holds close to rows / n items */
    uint64_t lo = UINT64_MAX, hi = 0, total = 0;
    for (size_t i = 0; i < SET_SLOTS; i++) {
        if (!set->key[i])
            continue;
        lo = set->count[i] < lo ? set->count[i] : lo;
        hi = set->count[i] > hi ? set->count[i] : hi;
        total += set->count[i];
        free(set->key[i]);
    }
    assert_int_equal(total, rows);
    assert_true(hi - lo <= 1);
    cp_buf_release(&pk);
    cp_buf_release(&sk);
    free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyless_by_ordinal),  cmocka_unit_test(test_keyless_from_batch),
        cmocka_unit_test(test_keyed_one_column),    cmocka_unit_test(test_keyed_two_columns),
        cmocka_unit_test(test_million_rows_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
