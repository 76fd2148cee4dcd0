/*
 * test_parquet_thrift.c - the Thrift compact protocol encoder, byte for byte against
 * examples worked by hand from apache/thrift doc/specs/thrift-compact-protocol.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parquet/thrift_compact.h"

#include <string.h>

static void expect_bytes(const cp_buf *b, const unsigned char *want, size_t n)
{
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
}

static void test_zigzag_and_varint(void **state)
{
    (void)state;
    assert_int_equal(cp_thrift_zigzag64(0), 0);
    assert_int_equal(cp_thrift_zigzag64(-1), 1);
    assert_int_equal(cp_thrift_zigzag64(1), 2);
    assert_int_equal(cp_thrift_zigzag64(-2), 3);
    assert_true(cp_thrift_zigzag64(INT64_MAX) == UINT64_MAX - 1);
    assert_true(cp_thrift_zigzag64(INT64_MIN) == UINT64_MAX);

    cp_buf b;
    cp_buf_init(&b, 1024);
    assert_int_equal(cp_thrift_put_uvarint(&b, 0), CP_OK);
    assert_int_equal(cp_thrift_put_uvarint(&b, 127), CP_OK);
    assert_int_equal(cp_thrift_put_uvarint(&b, 300), CP_OK);
    assert_int_equal(cp_thrift_put_uvarint(&b, UINT64_MAX), CP_OK);
    const unsigned char want[] = {0x00, 0x7f, 0xac, 0x02, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_bytes(&b, want, sizeof want);
    cp_buf_release(&b);
}

static void test_fields_and_stop(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    cp_thrift_writer w;
    cp_thrift_init(&w, &b);
    cp_thrift_struct_begin(&w);
    cp_thrift_field_i32(&w, 1, 5);           /* 0x15, zigzag 10 */
    cp_thrift_field_bool(&w, 2, true);       /* 0x11: delta 1, true (1) in the type nibble */
    cp_thrift_field_bool(&w, 3, false);      /* 0x12: delta 1, false (2) */
    cp_thrift_field_i64(&w, 20, -3);         /* delta 17 > 15: 0x06, zigzag id 40, zigzag 5 */
    cp_thrift_field_binary(&w, 21, "ab", 2); /* 0x18 0x02 'a' 'b' */
    cp_thrift_field_i8(&w, 22, -1);          /* 0x13 0xff */
    cp_thrift_field_i16(&w, 23, 300);        /* 0x14, zigzag 600 = 0xd8 0x04 */
    cp_thrift_field_double(&w, 24, 1.0);     /* 0x17, little-endian IEEE 754 */
    cp_thrift_struct_end(&w);
    assert_int_equal(cp_thrift_status(&w), CP_OK);
    const unsigned char want[] = {0x15, 0x0a, 0x11, 0x12, 0x06, 0x28, 0x05, 0x18, 0x02,
                                  'a',  'b',  0x13, 0xff, 0x14, 0xd8, 0x04, 0x17, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x00};
    expect_bytes(&b, want, sizeof want);
    cp_buf_release(&b);
}

static void test_nested_structs_and_lists(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    cp_thrift_writer w;
    cp_thrift_init(&w, &b);
    cp_thrift_struct_begin(&w);
    cp_thrift_field_struct_begin(&w, 3);                 /* 0x3c */
    cp_thrift_field_i32(&w, 1, 1);                       /* ids restart inside: 0x15 0x02 */
    cp_thrift_struct_end(&w);                            /* 0x00 */
    cp_thrift_field_list_begin(&w, 4, CP_THRIFT_I32, 3); /* 0x19, 0x35 */
    cp_thrift_elem_i32(&w, 0);
    cp_thrift_elem_i32(&w, -1);
    cp_thrift_elem_i32(&w, 64);                             /* zigzag 128 = 0x80 0x01 */
    cp_thrift_field_list_begin(&w, 5, CP_THRIFT_STRUCT, 2); /* 0x19, 0x2c */
    cp_thrift_struct_begin(&w);
    cp_thrift_field_i32(&w, 2, 7); /* 0x25 0x0e */
    cp_thrift_struct_end(&w);
    cp_thrift_struct_begin(&w);
    cp_thrift_struct_end(&w);
    cp_thrift_field_list_begin(&w, 6, CP_THRIFT_BINARY, 0); /* 0x19, 0x08 */
    cp_thrift_struct_end(&w);
    assert_int_equal(cp_thrift_status(&w), CP_OK);
    const unsigned char want[] = {0x3c, 0x15, 0x02, 0x00, 0x19, 0x35, 0x00, 0x01, 0x80, 0x01,
                                  0x19, 0x2c, 0x25, 0x0e, 0x00, 0x00, 0x19, 0x08, 0x00};
    expect_bytes(&b, want, sizeof want);
    cp_buf_release(&b);
}

static void test_long_list_header(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    cp_thrift_writer w;
    cp_thrift_init(&w, &b);
    cp_thrift_struct_begin(&w);
    cp_thrift_field_list_begin(&w, 1, CP_THRIFT_I64, 14); /* short form: 0xe6 */
    for (int i = 0; i < 14; i++)
        cp_thrift_elem_i64(&w, 0);
    cp_thrift_field_list_begin(&w, 2, CP_THRIFT_I32, 15); /* long form: 0xf5 0x0f */
    for (int i = 0; i < 15; i++)
        cp_thrift_elem_i32(&w, 1);
    cp_thrift_field_list_begin(&w, 3, CP_THRIFT_I32, 200); /* 0xf5 0xc8 0x01 */
    for (int i = 0; i < 200; i++)
        cp_thrift_elem_i32(&w, 0);
    cp_thrift_struct_end(&w);
    assert_int_equal(cp_thrift_status(&w), CP_OK);
    assert_int_equal(b.len, 2 + 14 + 3 + 15 + 4 + 200 + 1);
    const unsigned char *p = (const unsigned char *)b.data;
    assert_int_equal(p[0], 0x19);
    assert_int_equal(p[1], 0xe6);
    assert_int_equal(p[16], 0x19);
    assert_int_equal(p[17], 0xf5);
    assert_int_equal(p[18], 0x0f);
    assert_int_equal(p[19], 0x02);
    assert_int_equal(p[34], 0x19);
    assert_int_equal(p[35], 0xf5);
    assert_int_equal(p[36], 0xc8);
    assert_int_equal(p[37], 0x01);
    assert_int_equal(p[b.len - 1], 0x00);
    cp_buf_release(&b);
}

static void test_misuse_is_sticky(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 1024);
    cp_thrift_writer w;
    cp_thrift_init(&w, &b);
    cp_thrift_field_i32(&w, 1, 1); /* no open struct */
    assert_int_equal(cp_thrift_status(&w), CP_INTERNAL);

    cp_buf_reset(&b);
    cp_thrift_init(&w, &b);
    cp_thrift_struct_begin(&w);
    cp_thrift_field_i32(&w, 2, 1);
    cp_thrift_field_i32(&w, 2, 1); /* ids must increase */
    assert_int_equal(cp_thrift_status(&w), CP_INTERNAL);
    size_t len = b.len;
    cp_thrift_field_i32(&w, 3, 1); /* ignored after the error */
    assert_int_equal(b.len, len);
    cp_buf_release(&b);

    cp_buf small;
    cp_buf_init(&small, 4);
    cp_thrift_init(&w, &small);
    cp_thrift_struct_begin(&w);
    cp_thrift_field_string(&w, 1, "too long for four bytes");
    assert_int_equal(cp_thrift_status(&w), CP_TOO_LARGE);
    cp_buf_release(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zigzag_and_varint),        cmocka_unit_test(test_fields_and_stop),
        cmocka_unit_test(test_nested_structs_and_lists), cmocka_unit_test(test_long_list_header),
        cmocka_unit_test(test_misuse_is_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
