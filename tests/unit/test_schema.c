/* Unit tests for table/schema: name normalization, unique names, copy, JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "table/schema.h"

#include <jansson.h>
#include <string.h>

static void norm(const char *in, const char *want)
{
    char out[CP_NAME_MAX + 1];
    memset(out, 'Z', sizeof out);
    cp_name_normalize(in, strlen(in), out);
    if (strcmp(out, want) != 0)
        fail_msg("\"%s\" -> \"%s\", expected \"%s\"", in, out, want);
}

static void test_normalize(void **state)
{
    (void)state;
    norm("Pre\xc3\xa7o Unit\xc3\xa1rio", "preco_unitario");
    norm("ID", "id");
    norm("customerId", "customerid");
    norm("  Total (R$) ", "total_r");
    norm("a,b;c{d}e(f)g=h", "a_b_c_d_e_f_g_h");
    norm("a , b", "a_b");
    norm("2024 sales", "_2024_sales");
    norm("1", "_1");
    norm("_source", "_source");
    norm("snake_case_name", "snake_case_name");
    norm("tail___", "tail");
    /* transliteration */
    norm("\xc3\xa7 \xc3\xa3 \xc3\xa9 \xc3\x9f \xc3\x86 \xc3\x98", "c_a_e_ss_ae_o");
    norm("Stra\xc3\x9f"
         "e",
         "strasse");
    norm("na\xc3\xafve caf\xc3\xa9", "naive_cafe");
    norm("\xc5\x92uvre", "oeuvre");
    norm("\xc3\x86ON", "aeon");
    norm("\xc3\x98rsted", "orsted");
    norm("S\xc3\xa3o Jo\xc3\xa3o", "sao_joao");
    norm("\xc3\x91"
         "and\xc3\xba",
         "nandu");
    norm("\xc5\xa0ibenik \xc5\x81\xc3\xb3w", "sibenik_low");
    /* nothing left */
    norm("", "");
    norm("!!!", "");
    norm("\xce\xa3\xce\xa9", ""); /* Greek: no ASCII spelling */
    norm("   ", "");
    /* the result is always [a-z_][a-z0-9_]* */
    const char *odd[] = {"\xe2\x82\xac price", "a\tb\nc", "\"quoted\"", "x\xc3\x97y", "9\xc3\xa9"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char out[CP_NAME_MAX + 1];
        cp_name_normalize(odd[i], strlen(odd[i]), out);
        assert_true(out[0] == '\0' || out[0] == '_' || (out[0] >= 'a' && out[0] <= 'z'));
        for (const char *p = out; *p; p++)
            assert_true(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'));
    }
}

static void test_normalize_cap(void **state)
{
    (void)state;
    char in[300], want[64], out[CP_NAME_MAX + 1];
    memset(in, 'A', 100);
    in[100] = '\0';
    memset(want, 'a', 63);
    want[63] = '\0';
    norm(in, want);
    /* multi-byte letters: the cap is on output bytes */
    size_t o = 0;
    for (int i = 0; i < 80; i++) {
        memcpy(in + o, "\xc3\xa9", 2);
        o += 2;
    }
    in[o] = '\0';
    memset(want, 'e', 63);
    norm(in, want);
    o = 0;
    for (int i = 0; i < 40; i++) {
        memcpy(in + o, "\xc3\x9f", 2); /* ß -> ss */
        o += 2;
    }
    in[o] = '\0';
    memset(want, 's', 63);
    norm(in, want);
    /* a separator at the cut is not left at the end */
    memset(in, 'a', 62);
    memcpy(in + 62, " b", 3);
    memset(want, 'a', 62);
    want[62] = '\0';
    norm(in, want);
    /* a leading digit takes one byte of the cap */
    in[0] = '7';
    memset(in + 1, 'x', 99);
    in[100] = '\0';
    cp_name_normalize(in, 100, out);
    assert_int_equal(strlen(out), 63);
    assert_int_equal(strncmp(out, "_7xx", 4), 0);
    /* only len bytes are read */
    cp_name_normalize("abcdef", 3, out);
    assert_string_equal(out, "abc");
}

static void set_names(cp_schema *s, size_t n, const char *const *headers,
                      const char *const *reserved)
{
    size_t lens[16];
    assert_true(n <= 16);
    for (size_t i = 0; headers && i < n; i++)
        lens[i] = strlen(headers[i]);
    assert_int_equal(cp_schema_init(s, n), CP_OK);
    assert_int_equal(cp_schema_set_names(s, headers, headers ? lens : NULL, reserved), CP_OK);
}

static void test_unique_names(void **state)
{
    (void)state;
    cp_schema s;
    const char *h1[] = {"a", "A", "a ", "", "_source", "_row", "Pre\xc3\xa7o", "preco", ""};
    const char *const reserved[] = {"_source", "_row", "_dataset", NULL};
    set_names(&s, 9, h1, reserved);
    const char *want[] = {"a",      "a_2",   "a_3",     "column_4", "_source_2",
                          "_row_2", "preco", "preco_2", "column_9"};
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(s.columns[i].name, want[i]);
    assert_string_equal(s.columns[6].source_name, "Pre\xc3\xa7o");
    assert_string_equal(s.columns[2].source_name, "a ");
    assert_int_equal(s.columns[0].type.id, CP_TYPE_NULL);
    cp_schema_release(&s);

    /* no header row */
    set_names(&s, 3, NULL, NULL);
    assert_string_equal(s.columns[0].name, "column_1");
    assert_string_equal(s.columns[2].name, "column_3");
    assert_string_equal(s.columns[2].source_name, "");
    cp_schema_release(&s);

    /* a generated name that a header already took */
    const char *h2[] = {"column_2", ""};
    set_names(&s, 2, h2, NULL);
    assert_string_equal(s.columns[0].name, "column_2");
    assert_string_equal(s.columns[1].name, "column_2_2");
    cp_schema_release(&s);

    /* long duplicates stay within 63 bytes */
    char longh[100];
    memset(longh, 'x', 99);
    longh[99] = '\0';
    const char *h3[12];
    for (int i = 0; i < 12; i++)
        h3[i] = longh;
    set_names(&s, 12, h3, NULL);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(strlen(s.columns[i].name), i == 0 ? 63 : 63);
        for (size_t k = 0; k < i; k++)
            assert_string_not_equal(s.columns[i].name, s.columns[k].name);
    }
    assert_string_equal(s.columns[1].name + 61, "_2");
    assert_string_equal(s.columns[11].name + 60, "_12");
    cp_schema_release(&s);
}

static void test_copy_and_json(void **state)
{
    (void)state;
    cp_schema s, c;
    const char *h[] = {"Pre\xc3\xa7o \"unit\"", "qty"};
    set_names(&s, 2, h, NULL);
    s.columns[0].type = cp_type_decimal(18, 2);
    s.columns[1].type = cp_type_of(CP_TYPE_INT64);
    assert_int_equal(cp_schema_copy(&c, &s), CP_OK);
    cp_schema_release(&s);
    assert_int_equal(c.ncolumns, 2);
    assert_string_equal(c.columns[0].name, "preco_unit");
    assert_string_equal(c.columns[0].source_name, "Pre\xc3\xa7o \"unit\"");

    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_schema_to_json(&c, &b), CP_OK);
    json_error_t je;
    json_t *j = json_loadb(b.data, b.len, 0, &je);
    assert_non_null(j);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 2);
    json_t *c0 = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "name")), "preco_unit");
    assert_string_equal(json_string_value(json_object_get(c0, "source_name")),
                        "Pre\xc3\xa7o \"unit\"");
    assert_string_equal(json_string_value(json_object_get(c0, "type")), "DECIMAL(18,2)");
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "type")), "INT64");
    json_decref(j);
    cp_buf_release(&b);
    cp_schema_release(&c);

    /* an empty schema */
    assert_int_equal(cp_schema_init(&s, 0), CP_OK);
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_schema_to_json(&s, &b), CP_OK);
    assert_string_equal(b.data, "[]");
    cp_buf_release(&b);
    cp_schema_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_normalize_cap),
        cmocka_unit_test(test_unique_names),
        cmocka_unit_test(test_copy_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
