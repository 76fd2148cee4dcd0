/* Unit tests for util/json_escape: JSON string literals, checked against jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/json_escape.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(const char *in, size_t len, const char *expect)
{
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_json_append_string(&b, in, len), CP_OK);
    assert_string_equal(b.data, expect);
    assert_int_equal(b.len, strlen(expect));
    cp_buf_release(&b);
}

static void test_escapes(void **state)
{
    (void)state;
    check("", 0, "\"\"");
    check("plain text", 10, "\"plain text\"");
    check("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    check("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    check("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    check("nul\0in", 6, "\"nul\\u0000in\"");
    check("/", 1, "\"/\""); /* no need to escape the solidus */
    check("\x7f", 1, "\"\x7f\"");
    check("Pre\xc3\xa7o \xe2\x82\xac \xf0\x9f\x98\x80", 15,
          "\"Pre\xc3\xa7o \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

/* Each special byte at every place of strings around the 16-byte steps of the scan. */
static void test_specials_at_every_place(void **state)
{
    (void)state;
    static const struct {
        char c;
        const char *escaped;
    } specials[] = {
        {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\x01', "\\u0001"}, {'\x1f', "\\u001f"}};
    for (size_t k = 0; k < sizeof specials / sizeof *specials; k++) {
        for (size_t len = 1; len <= 40; len++) {
            for (size_t at = 0; at < len; at++) {
                char in[48], expect[64];
                size_t o = 0;
                expect[o++] = '"';
                for (size_t i = 0; i < len; i++) {
                    /* bytes past 0x7F are copied as they are */
                    in[i] = i == at ? specials[k].c : (char)(i % 3 ? 'a' + i % 26 : 0xC3);
                    if (i == at) {
                        memcpy(expect + o, specials[k].escaped, strlen(specials[k].escaped));
                        o += strlen(specials[k].escaped);
                    } else {
                        expect[o++] = in[i];
                    }
                }
                expect[o++] = '"';
                expect[o] = '\0';
                check(in, len, expect);
            }
        }
    }
}

static void test_appends(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append_str(&b, "{"), CP_OK);
    assert_int_equal(cp_json_append_string(&b, "k", 1), CP_OK);
    assert_int_equal(cp_buf_append_char(&b, ':'), CP_OK);
    assert_int_equal(cp_json_append_string(&b, "v\"", 2), CP_OK);
    assert_int_equal(cp_buf_append_char(&b, '}'), CP_OK);
    assert_string_equal(b.data, "{\"k\":\"v\\\"\"}");
    cp_buf_release(&b);
}

static void test_round_trip_jansson(void **state)
{
    (void)state;
    /* every byte 0x01..0x7f plus some UTF-8, decoded by an independent parser */
    char in[200];
    size_t n = 0;
    for (int c = 1; c < 0x80; c++)
        in[n++] = (char)c;
    memcpy(in + n, "\xc3\xa3\xe2\x80\x94", 5);
    n += 5;
    in[n++] = '\0'; /* an embedded NUL too */
    in[n++] = 'z';
    cp_buf b;
    cp_buf_init(&b, CP_BUF_UNLIMITED);
    assert_int_equal(cp_json_append_string(&b, in, n), CP_OK);
    json_error_t je;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    assert_non_null(v);
    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), in, n);
    json_decref(v);
    cp_buf_release(&b);
}

static void test_limit(void **state)
{
    (void)state;
    cp_buf b;
    cp_buf_init(&b, 8);
    /* "abcdefgh" needs 10 bytes as JSON: past the maximum, nothing written */
    assert_int_equal(cp_json_append_string(&b, "abcdefgh", 8), CP_TOO_LARGE);
    assert_int_equal(b.len, 0);
    cp_buf_release(&b);
}

/* The escaping rule byte by byte, for comparison. */
static size_t reference_escape(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        const char *e = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                                    : NULL;
        if (e) {
            memcpy(out + o, e, 2);
            o += 2;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

/* One string through cp_json_put_string: the input in a block of exactly its size (so the
 * sanitizer sees any read past it), the output checked and nothing written past its end. */
static void check_put(const unsigned char *bytes, size_t len)
{
    unsigned char *in = malloc(len ? len : 1);
    assert_non_null(in);
    if (len)
        memcpy(in, bytes, len);
    size_t room = CP_JSON_STRING_ROOM(len);
    char *out = malloc(room + 16), *want = malloc(room);
    assert_non_null(out);
    assert_non_null(want);
    memset(out, '#', room + 16);
    size_t want_len = reference_escape(in, len, want);
    char *end = cp_json_put_string(out, (const char *)in, len);
    assert_int_equal((size_t)(end - out), want_len);
    assert_memory_equal(out, want, want_len);
    for (size_t i = want_len; i < room + 16; i++)
        assert_int_equal(out[i], '#');
    free(in);
    free(out);
    free(want);
}

/* Every byte value at every place of strings of 0..40 bytes: the short-string word tests
 * (4, 8 and 16 bytes), the 16-byte scan and its overlapping last step. */
static void test_put_every_byte_every_place(void **state)
{
    (void)state;
    unsigned char buf[64];
    for (size_t len = 0; len <= 40; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)('a' + i % 26);
        check_put(buf, len);
        for (unsigned c = 0; c < 256; c++) {
            for (size_t at = 0; at < len; at++) {
                for (size_t i = 0; i < len; i++)
                    buf[i] = (unsigned char)(i % 5 ? 'a' + i % 26 : 0xC3); /* UTF-8 lead bytes */
                buf[at] = (unsigned char)c;
                check_put(buf, len);
                if (at + 3 < len) {
                    buf[at + 3] = '"'; /* a second one after it */
                    check_put(buf, len);
                }
            }
        }
    }
}

/* Random bytes of random lengths, escapes dense or sparse. */
static void test_put_random(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    unsigned char buf[300];
    for (int n = 0; n < 200000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % 300);
        unsigned density = (unsigned)(x >> 20) % 64 + 1;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = (x >> 32) % density == 0 ? (unsigned char)(x % 0x23)
                                              : (unsigned char)(0x20 + (x >> 8) % 0xE0);
        }
        check_put(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_specials_at_every_place),
        cmocka_unit_test(test_round_trip_jansson),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_put_every_byte_every_place),
        cmocka_unit_test(test_put_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
