/* Unit tests for csv/decode (and csv/text_reader): detection, transcoding, fall-back, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/decode.h"
#include "csv/text_reader.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* ---- names ---- */

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(cp_encoding_name(CP_ENC_UTF8), "utf-8");
    assert_string_equal(cp_encoding_name(CP_ENC_UTF8_BOM), "utf-8-bom");
    assert_string_equal(cp_encoding_name(CP_ENC_UTF16LE), "utf-16le");
    assert_string_equal(cp_encoding_name(CP_ENC_UTF16BE), "utf-16be");
    assert_string_equal(cp_encoding_name(CP_ENC_CP1252), "windows-1252");
    assert_string_equal(cp_encoding_name(CP_ENC_LATIN1), "iso-8859-1");
    static const struct {
        const char *name;
        cp_encoding enc;
    } ok[] = {
        {"utf-8", CP_ENC_UTF8},          {"UTF8", CP_ENC_UTF8},
        {"utf-8-sig", CP_ENC_UTF8_BOM},  {"UTF-16LE", CP_ENC_UTF16LE},
        {"utf16be", CP_ENC_UTF16BE},     {"CP1252", CP_ENC_CP1252},
        {"Windows-1252", CP_ENC_CP1252}, {"latin1", CP_ENC_LATIN1},
        {"ISO-8859-1", CP_ENC_LATIN1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cp_encoding e = CP_ENC_AUTO;
        assert_true(cp_encoding_parse(ok[i].name, &e));
        assert_int_equal(e, ok[i].enc);
        /* every canonical name reads back */
        if (e != CP_ENC_AUTO) {
            cp_encoding back;
            assert_true(cp_encoding_parse(cp_encoding_name(e), &back));
            assert_int_equal(back, e);
        }
    }
    cp_encoding e;
    assert_false(cp_encoding_parse("ebcdic", &e));
    assert_false(cp_encoding_parse("", &e));
    assert_false(cp_encoding_parse("utf-8 ", &e));
}

/* ---- detection ---- */

static cp_status detect(const uint8_t *s, size_t len, bool complete, cp_encoding *enc)
{
    cp_error err;
    cp_error_clear(&err);
    *enc = CP_ENC_AUTO;
    cp_status st = cp_encoding_detect(s, len, complete, enc, &err);
    assert_int_equal(err.code, st);
    if (st != CP_OK)
        assert_true(err.message[0] != '\0');
    return st;
}

static void test_detect(void **state)
{
    (void)state;
    cp_encoding e;
    assert_int_equal(detect(S("\xEF\xBB\xBF"
                              "a,b\n1,2\n"),
                            true, &e),
                     CP_OK);
    assert_int_equal(e, CP_ENC_UTF8_BOM);
    assert_int_equal(detect(S("\xFF\xFE"
                              "a\0,\0b\0\n\0"),
                            true, &e),
                     CP_OK);
    assert_int_equal(e, CP_ENC_UTF16LE);
    assert_int_equal(detect(S("\xFE\xFF\0a\0,\0b\0\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF16BE);
    /* UTF-16 without a BOM, from the zero bytes of ASCII text */
    assert_int_equal(detect(S("n\0a\0m\0e\0,\0v\0\n\0x\0,\0001\0\n\0"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF16LE);
    assert_int_equal(detect(S("\0n\0a\0m\0e\0,\0v\0\n\0x\0,\0001\0\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF16BE);
    /* UTF-8 */
    assert_int_equal(detect(S("a,b\n1,2\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF8);
    assert_int_equal(detect(S("Pre\xc3\xa7o;Qtd\n9,90;1\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF8);
    /* Windows-1252: not valid UTF-8 */
    assert_int_equal(detect(S("Pre\xe7o;Qtd\n9,90;1\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_CP1252);
    assert_int_equal(detect(S("\x93quoted\x94\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_CP1252);
    /* a sequence cut by the end of a partial sample is still UTF-8 ... */
    assert_int_equal(detect(S("name\nPre\xc3"), false, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF8);
    assert_int_equal(detect(S("name\n\xe2\x82"), false, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF8);
    /* ... but not when the sample is the whole file */
    assert_int_equal(detect(S("name\nPre\xc3"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_CP1252);
    /* binary */
    assert_int_equal(
        detect(S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0"), true, &e),
        CP_BINARY);
    assert_int_equal(detect(S("abc\0def,ghi\njkl,mno\npqr,stu\n"), true, &e), CP_BINARY);
    /* control characters without NULs */
    assert_int_equal(detect(S("\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"), true, &e), CP_BINARY);
    /* text controls are fine */
    assert_int_equal(detect(S("a\tb\r\nc\td\f\n"), true, &e), CP_OK);
    assert_int_equal(e, CP_ENC_UTF8);
    /* empty */
    assert_int_equal(detect((const uint8_t *)"", 0, true, &e), CP_EMPTY);
    assert_int_equal(cp_encoding_detect((const uint8_t *)"", 0, true, &e, NULL), CP_EMPTY);
}

/* ---- decoding whole buffers ---- */

/* Decodes everything in one call (eof); returns the status, output in *out (malloc'ed). */
static cp_status decode_all(cp_encoding enc, bool detected, const uint8_t *in, size_t len,
                            char **out, size_t *outlen, cp_error *err, cp_encoding *final)
{
    cp_decoder d;
    cp_decoder_init(&d, enc, detected);
    char *o = malloc(CP_DECODE_ROOM(len));
    assert_non_null(o);
    size_t consumed = 0, produced = 0;
    cp_error_clear(err);
    cp_status st = cp_decoder_decode(&d, in, len, true, o, &consumed, &produced, err);
    assert_true(produced <= CP_DECODE_ROOM(len));
    if (st == CP_OK)
        assert_int_equal(consumed, len);
    o[produced] = '\0';
    *out = o;
    *outlen = produced;
    if (final)
        *final = d.enc;
    return st;
}

static void expect_decoded(cp_encoding enc, bool detected, const uint8_t *in, size_t len,
                           const char *want)
{
    char *o;
    size_t n;
    cp_error err;
    assert_int_equal(decode_all(enc, detected, in, len, &o, &n, &err, NULL), CP_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(o, want, n);
    assert_int_equal(cp_utf8_valid_prefix((const uint8_t *)o, n), n);
    free(o);
}

static void test_cp1252(void **state)
{
    (void)state;
    expect_decoded(CP_ENC_CP1252, false, S("Pre\xe7o"), "Pre\xc3\xa7o");
    expect_decoded(CP_ENC_CP1252, false, S("\x80"), "\xe2\x82\xac");                   /* € */
    expect_decoded(CP_ENC_CP1252, false, S("\x91x\x92"), "\xe2\x80\x98x\xe2\x80\x99"); /* ‘’ */
    expect_decoded(CP_ENC_CP1252, false, S("\x93x\x94"), "\xe2\x80\x9cx\xe2\x80\x9d"); /* “” */
    expect_decoded(CP_ENC_CP1252, false, S("\x96\x97"), "\xe2\x80\x93\xe2\x80\x94");   /* –— */
    expect_decoded(CP_ENC_CP1252, false, S("\x85\x99\x9c"),
                   "\xe2\x80\xa6\xe2\x84\xa2\xc5\x93"); /* …™œ */
    expect_decoded(CP_ENC_CP1252, false, S("n\xe3o \xa0\xff\xc9"),
                   "n\xc3\xa3o \xc2\xa0\xc3\xbf\xc3\x89");
    /* a high byte at every place of an ASCII run, around the 8-byte copies */
    for (size_t at = 0; at < 24; at++) {
        uint8_t in[24];
        char want[32];
        size_t w = 0;
        for (size_t i = 0; i < sizeof in; i++) {
            in[i] = i == at ? 0xE9 : (uint8_t)('a' + i);
            if (i == at) {
                want[w++] = '\xc3';
                want[w++] = '\xa9';
            } else {
                want[w++] = (char)in[i];
            }
        }
        want[w] = '\0';
        expect_decoded(CP_ENC_CP1252, false, in, sizeof in, want);
    }
    /* ISO-8859-1 maps 0x80..0x9F to the C1 controls instead */
    expect_decoded(CP_ENC_LATIN1, false, S("\x80\xe7"), "\xc2\x80\xc3\xa7");
    /* every byte of Windows-1252 gives valid UTF-8 */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char *o;
    size_t n;
    cp_error err;
    assert_int_equal(decode_all(CP_ENC_CP1252, false, all, 256, &o, &n, &err, NULL), CP_OK);
    assert_int_equal(cp_utf8_valid_prefix((const uint8_t *)o, n), n);
    free(o);
}

static void test_utf16(void **state)
{
    (void)state;
    /* BOM dropped, ASCII, é, €, and U+1F600 as a surrogate pair */
    expect_decoded(CP_ENC_UTF16LE, false,
                   S("\xFF\xFE"
                     "a\0,\0\xe9\0\xac\x20\x3d\xd8\x00\xde\n\0"),
                   "a,\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
    expect_decoded(CP_ENC_UTF16BE, false, S("\xFE\xFF\0a\0,\0\xe9\x20\xac\xd8\x3d\xde\x00\0\n"),
                   "a,\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
    /* without a BOM */
    expect_decoded(CP_ENC_UTF16LE, true, S("h\0i\0"), "hi");
    /* U+FEFF after the start is kept */
    expect_decoded(CP_ENC_UTF16LE, false, S("\xFF\xFEx\0\xFF\xFE"), "x\xef\xbb\xbf");
    /* U+10FFFF */
    expect_decoded(CP_ENC_UTF16BE, false, S("\xDB\xFF\xDF\xFF"), "\xf4\x8f\xbf\xbf");

    char *o;
    size_t n;
    cp_error err;
    /* a lone low surrogate */
    assert_int_equal(decode_all(CP_ENC_UTF16LE, false, S("a\0b\0\x00\xdc"), &o, &n, &err, NULL),
                     CP_BAD_ENCODING);
    assert_int_equal(err.offset, 4);
    assert_int_equal(n, 2);
    assert_memory_equal(o, "ab", 2);
    free(o);
    /* a high surrogate followed by something else */
    assert_int_equal(decode_all(CP_ENC_UTF16BE, false, S("\0a\xd8\x3d\0b"), &o, &n, &err, NULL),
                     CP_BAD_ENCODING);
    assert_int_equal(err.offset, 2);
    free(o);
    /* a high surrogate at the end of the file */
    assert_int_equal(decode_all(CP_ENC_UTF16LE, false, S("a\0\x3d\xd8"), &o, &n, &err, NULL),
                     CP_BAD_ENCODING);
    assert_int_equal(err.offset, 2);
    free(o);
    /* an odd byte at the end */
    assert_int_equal(decode_all(CP_ENC_UTF16LE, false, S("a\0b"), &o, &n, &err, NULL),
                     CP_BAD_ENCODING);
    assert_int_equal(err.offset, 2);
    free(o);
}

static void test_utf8(void **state)
{
    (void)state;
    expect_decoded(CP_ENC_UTF8, true, S("Pre\xc3\xa7o \xe2\x82\xac \xf0\x9f\x98\x80"),
                   "Pre\xc3\xa7o \xe2\x82\xac \xf0\x9f\x98\x80");
    /* a BOM is dropped, announced or not */
    expect_decoded(CP_ENC_UTF8_BOM, true,
                   S("\xEF\xBB\xBF"
                     "a,b"),
                   "a,b");
    expect_decoded(CP_ENC_UTF8, true,
                   S("\xEF\xBB\xBF"
                     "a,b"),
                   "a,b");
    /* only at the start */
    expect_decoded(CP_ENC_UTF8, true, S("a\xEF\xBB\xBF"), "a\xEF\xBB\xBF");
    /* short inputs at eof */
    expect_decoded(CP_ENC_UTF8, false, S("ab"), "ab");
    expect_decoded(CP_ENC_UTF8, false, S(""), "");
}

static void test_valid_prefix(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len, valid;
    } cases[] = {
        {"plain ascii text that is long enough for words", 47, 47},
        {"\xc3\xa7", 2, 2},
        {"\xf0\x9f\x98\x80", 4, 4},
        {"\xf4\x8f\xbf\xbf", 4, 4},          /* U+10FFFF */
        {"ab\xc0\x80", 4, 2},                /* overlong NUL */
        {"ab\xc1\xbf", 4, 2},                /* overlong */
        {"ab\xe0\x80\x80", 5, 2},            /* overlong */
        {"ab\xf0\x80\x80\x80", 6, 2},        /* overlong */
        {"ab\xed\xa0\x80", 5, 2},            /* a surrogate */
        {"ab\xf4\x90\x80\x80", 6, 2},        /* past U+10FFFF */
        {"ab\xf5\x80\x80\x80", 6, 2},        /* never valid */
        {"ab\xff", 3, 2},                    /* never valid */
        {"ab\x80", 3, 2},                    /* a lone continuation */
        {"ab\xc3", 3, 2},                    /* cut short */
        {"ab\xe2\x82", 4, 2},                /* cut short */
        {"ab\xc3(", 4, 2},                   /* not a continuation */
        {"0123456789abcdef\xe9xyz", 20, 16}, /* after the 8-byte fast path */
        {"01234567\xc3\xa7"
         "89abcdef\xe9",
         19, 18},
        {"0123456789abcdef0123456789abcdef\xc3\xa7!\xc2", 36, 35}, /* the 16-byte path */
        {"0123456789abcdef0123456789abcde\xdf\xc0", 33, 31},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t v = cp_utf8_valid_prefix((const uint8_t *)cases[i].s, cases[i].len);
        if (v != cases[i].valid)
            fail_msg("case %zu: valid prefix %zu, expected %zu", i, v, cases[i].valid);
    }
}

/* The longest valid UTF-8 prefix, one byte at a time by the table of RFC 3629. */
static size_t reference_valid_prefix(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80)
            n = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            n = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return i;
        if (i + n > len)
            return i;
        for (size_t k = 1; k < n; k++) {
            uint8_t b = s[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
                return i;
        }
        i += n;
    }
    return i;
}

/* Random mixes of ASCII, accented letters, longer sequences and broken bytes, so every
   place of the 16-byte blocks meets every case, against the reference. */
static void test_valid_prefix_random(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a",
                                         "bc",
                                         "defghij",
                                         "\xc3\xa7",
                                         "\xc3\xa3o",
                                         "\xc2\x80",
                                         "\xdf\xbf",
                                         "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80",
                                         "\xc3",
                                         "\xa7",
                                         "\xc0\xaf",
                                         "\xed\xa0\x80",
                                         "\xff"};
    uint64_t seed = 42;
    uint8_t buf[128];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        /* mostly valid: broken pieces (the last five) come rarely */
        while (len < 100) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t k = (size_t)(seed >> 33) % 64;
            size_t np = sizeof pieces / sizeof *pieces;
            const char *piece = pieces[k < 60 ? k % (np - 5) : np - 5 + (k - 60) % 5];
            size_t pl = strlen(piece);
            if (len + pl > sizeof buf)
                break;
            memcpy(buf + len, piece, pl);
            len += pl;
        }
        for (size_t cut = 0; cut <= len; cut += 7) {
            size_t want = reference_valid_prefix(buf, len - cut);
            size_t got = cp_utf8_valid_prefix(buf, len - cut);
            if (got != want)
                fail_msg("round %d, length %zu: valid prefix %zu, expected %zu", round, len - cut,
                         got, want);
        }
    }
}

static void test_fall_back(void **state)
{
    (void)state;
    char *o;
    size_t n;
    cp_error err;
    cp_encoding final;
    /* detected as UTF-8 (all ASCII so far), then a Windows-1252 byte: switch, no error */
    assert_int_equal(
        decode_all(CP_ENC_UTF8, true, S("id;nome\n1;Jo\xe3o \x96 \x80"), &o, &n, &err, &final),
        CP_OK);
    assert_int_equal(final, CP_ENC_CP1252);
    assert_string_equal(o, "id;nome\n1;Jo\xc3\xa3o \xe2\x80\x93 \xe2\x82\xac");
    free(o);
    /* the same bytes with UTF-8 forced: an error naming the byte */
    assert_int_equal(decode_all(CP_ENC_UTF8, false, S("id;nome\n1;Jo\xe3o"), &o, &n, &err, &final),
                     CP_BAD_ENCODING);
    assert_int_equal(final, CP_ENC_UTF8);
    assert_int_equal(err.code, CP_BAD_ENCODING);
    assert_int_equal(err.offset, 12);
    assert_int_equal(n, 12);
    assert_memory_equal(o, "id;nome\n1;Jo", 12);
    assert_non_null(strstr(err.message, "12"));
    free(o);
    /* fall-back across calls: ASCII first, the bad byte in a later chunk */
    cp_decoder d;
    cp_decoder_init(&d, CP_ENC_UTF8, true);
    char out[64];
    size_t c, p;
    assert_int_equal(cp_decoder_decode(&d, S("abc,def\n"), false, out, &c, &p, &err), CP_OK);
    assert_int_equal(c, 8);
    assert_int_equal(p, 8);
    assert_int_equal(d.enc, CP_ENC_UTF8);
    assert_int_equal(cp_decoder_decode(&d, S("Pre\xe7o\n"), false, out, &c, &p, &err), CP_OK);
    assert_int_equal(d.enc, CP_ENC_CP1252);
    assert_int_equal(c, 6);
    assert_int_equal(p, 7);
    assert_memory_equal(out, "Pre\xc3\xa7o\n", 7);
    /* from now on everything is Windows-1252, even what would be valid UTF-8 */
    assert_int_equal(cp_decoder_decode(&d, S("\xc3\xa7"), true, out, &c, &p, &err), CP_OK);
    assert_int_equal(p, 4);
    assert_memory_equal(out, "\xc3\x83\xc2\xa7", 4);
}

static void test_invalid_after_utf8(void **state)
{
    (void)state;
    char *o;
    size_t n;
    cp_error err;
    cp_encoding final;
    /* real UTF-8 (ç) first: no fall-back, the bad byte's offset is reported */
    assert_int_equal(decode_all(CP_ENC_UTF8, true,
                                S("Pre\xc3\xa7o\nabc\xe7"
                                  "d"),
                                &o, &n, &err, &final),
                     CP_BAD_ENCODING);
    assert_int_equal(final, CP_ENC_UTF8);
    assert_int_equal(err.offset, 10);
    assert_int_equal(n, 10);
    assert_memory_equal(o, "Pre\xc3\xa7o\nabc", 10);
    free(o);
    /* a BOM counts in the file offset */
    assert_int_equal(
        decode_all(CP_ENC_UTF8_BOM, true, S("\xEF\xBB\xBF\xc3\xa9\xff"), &o, &n, &err, &final),
        CP_BAD_ENCODING);
    assert_int_equal(err.offset, 5);
    assert_int_equal(n, 2);
    free(o);
    /* offsets count across calls */
    cp_decoder d;
    cp_decoder_init(&d, CP_ENC_UTF8, true);
    char out[64];
    size_t c, p;
    assert_int_equal(cp_decoder_decode(&d, S("\xc3\xa9t\xc3\xa9\n"), false, out, &c, &p, &err),
                     CP_OK);
    assert_int_equal(c, 6);
    cp_error_clear(&err);
    assert_int_equal(cp_decoder_decode(&d, S("abc\x80"), false, out, &c, &p, &err),
                     CP_BAD_ENCODING);
    assert_int_equal(c, 3);
    assert_int_equal(p, 3);
    assert_int_equal(err.offset, 9);
    /* an incomplete sequence at the end of the file */
    assert_int_equal(decode_all(CP_ENC_UTF8, false, S("\xc3\xa9\xe2\x82"), &o, &n, &err, NULL),
                     CP_BAD_ENCODING);
    assert_int_equal(err.offset, 2);
    free(o);
}

/* ---- feeding in pieces ---- */

/*
 * Decodes in[] handing the decoder `piece` new bytes at a time, keeping what it left
 * unconsumed for the next call, as text_reader does. Returns the output (malloc'ed).
 */
static cp_status decode_pieces(cp_encoding enc, bool detected, const uint8_t *in, size_t len,
                               size_t piece, char **out, size_t *outlen, cp_error *err)
{
    cp_decoder d;
    cp_decoder_init(&d, enc, detected);
    char *o = malloc(CP_DECODE_ROOM(len) + 64);
    uint8_t pending[64];
    size_t npending = 0, pos = 0, total = 0;
    assert_non_null(o);
    cp_error_clear(err);
    cp_status st = CP_OK;
    for (;;) {
        size_t take = len - pos < piece ? len - pos : piece;
        assert_true(npending + take <= sizeof pending);
        memcpy(pending + npending, in + pos, take);
        npending += take;
        pos += take;
        bool eof = pos == len;
        size_t c, p;
        char tmp[CP_DECODE_ROOM(64)];
        st = cp_decoder_decode(&d, pending, npending, eof, tmp, &c, &p, err);
        assert_true(c <= npending);
        memcpy(o + total, tmp, p);
        total += p;
        memmove(pending, pending + c, npending - c);
        npending -= c;
        if (st != CP_OK)
            break;
        /* never more than an incomplete sequence (or BOM prefix) is held back */
        assert_true(npending <= 3);
        if (eof) {
            assert_int_equal(npending, 0);
            break;
        }
    }
    *out = o;
    *outlen = total;
    return st;
}

static void same_in_pieces(cp_encoding enc, bool detected, const uint8_t *in, size_t len)
{
    char *whole;
    size_t wn;
    cp_error werr;
    cp_status wst = decode_all(enc, detected, in, len, &whole, &wn, &werr, NULL);
    for (size_t piece = 1; piece <= 7; piece++) {
        char *o;
        size_t n;
        cp_error err;
        cp_status st = decode_pieces(enc, detected, in, len, piece, &o, &n, &err);
        if (st != wst)
            fail_msg("piece %zu: status %d, whole buffer %d", piece, st, wst);
        if (n != wn || memcmp(o, whole, n) != 0)
            fail_msg("piece %zu: %zu bytes differ from the whole-buffer %zu", piece, n, wn);
        if (st != CP_OK)
            assert_int_equal(err.offset, werr.offset);
        free(o);
    }
    free(whole);
}

static void test_pieces(void **state)
{
    (void)state;
    same_in_pieces(CP_ENC_UTF8, true, S("Pre\xc3\xa7o,\xe2\x82\xac,\xf0\x9f\x98\x80\nx\xc3\xa9\n"));
    same_in_pieces(CP_ENC_UTF8_BOM, true, S("\xEF\xBB\xBF\xc3\xa9,\xf0\x9f\x98\x80"));
    same_in_pieces(CP_ENC_UTF8, true, S("\xEF\xBB\xBF"));
    same_in_pieces(CP_ENC_UTF8, true, S("ab"));
    same_in_pieces(CP_ENC_UTF8, true, S("id;nome\n1;Jo\xe3o\n2;\x93x\x94\n"));
    same_in_pieces(CP_ENC_UTF8, true, S("\xc3\xa9 then bad \xe9 byte"));
    same_in_pieces(CP_ENC_UTF8, false, S("ascii then bad \xe9 byte"));
    same_in_pieces(CP_ENC_UTF8, false, S("cut at the end \xe2\x82"));
    same_in_pieces(CP_ENC_UTF16LE, false,
                   S("\xFF\xFE"
                     "a\0,\0\xe9\0\xac\x20\x3d\xd8\x00\xde\n\0\x3d\xd8\x01\xde"));
    same_in_pieces(CP_ENC_UTF16BE, true, S("\0a\xd8\x3d\xde\x00\0\n\xdb\xff\xdf\xff"));
    same_in_pieces(CP_ENC_UTF16LE, false, S("a\0\x00\xdc"));
    same_in_pieces(CP_ENC_CP1252, false, S("\x80\x91\x92\x93\x94\x96\x97\xe7"));
}

/* ---- text reader: a source decoded in chunks ---- */

static void read_text(const uint8_t *in, size_t len, cp_encoding enc, bool detected,
                      size_t raw_chunk, size_t cap, cp_buf *out, cp_status *end, cp_error *err)
{
    cp_source *src = cp_source_open_memory(in, len, "mem.csv");
    assert_non_null(src);
    cp_text_reader r;
    assert_int_equal(cp_text_reader_init(&r, src, enc, detected, raw_chunk), CP_OK);
    char *dst = malloc(cap);
    assert_non_null(dst);
    cp_error_clear(err);
    for (;;) {
        size_t n;
        cp_status st = cp_text_reader_fill(&r, dst, cap, &n, err);
        if (st != CP_OK) {
            *end = st;
            break;
        }
        if (n == 0) {
            *end = CP_OK;
            /* the end is sticky */
            assert_int_equal(cp_text_reader_fill(&r, dst, cap, &n, err), CP_OK);
            assert_int_equal(n, 0);
            break;
        }
        assert_true(n <= cap);
        assert_int_equal(cp_buf_append(out, dst, n), CP_OK);
    }
    free(dst);
    cp_text_reader_release(&r);
    cp_source_free(src);
}

static void test_text_reader(void **state)
{
    (void)state;
    /* a long UTF-16LE text with surrogate pairs, read with tiny raw chunks */
    cp_buf in, want, got;
    cp_buf_init(&in, CP_BUF_UNLIMITED);
    cp_buf_init(&want, CP_BUF_UNLIMITED);
    cp_buf_init(&got, CP_BUF_UNLIMITED);
    assert_int_equal(cp_buf_append(&in, "\xFF\xFE", 2), CP_OK);
    for (int i = 0; i < 500; i++) {
        assert_int_equal(cp_buf_append(&in, "x\0\xe9\0\x3d\xd8\x00\xde\n\0", 10), CP_OK);
        assert_int_equal(cp_buf_append(&want, "x\xc3\xa9\xf0\x9f\x98\x80\n", 8), CP_OK);
    }
    for (size_t chunk = 1; chunk <= 9; chunk++) {
        cp_status end;
        cp_error err;
        cp_buf_reset(&got);
        read_text((const uint8_t *)in.data, in.len, CP_ENC_UTF16LE, false, chunk, 64, &got, &end,
                  &err);
        assert_int_equal(end, CP_OK);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, want.len);
    }
    /* invalid UTF-8 after real UTF-8: the valid text first, then the error */
    cp_status end;
    cp_error err;
    cp_buf_reset(&got);
    read_text(S("a,\xc3\xa9\nb,c\n\xff\n"), CP_ENC_UTF8, true, 4, 64, &got, &end, &err);
    assert_int_equal(end, CP_BAD_ENCODING);
    assert_int_equal(err.offset, 9);
    assert_non_null(strstr(err.message, "byte offset 9"));
    assert_int_equal(got.len, 9);
    assert_memory_equal(got.data, "a,\xc3\xa9\nb,c\n", 9);
    /* an ASCII start falls back to Windows-1252 */
    cp_buf_reset(&got);
    read_text(S("a,b\nPre\xe7o,1\n"), CP_ENC_UTF8, true, 3, 64, &got, &end, &err);
    assert_int_equal(end, CP_OK);
    assert_int_equal(got.len, 13);
    assert_memory_equal(got.data, "a,b\nPre\xc3\xa7o,1\n", 13);
    cp_buf_release(&in);
    cp_buf_release(&want);
    cp_buf_release(&got);
}

/* in, detected as UTF-8, read raw bytes at a time into a 100-byte text buffer: into got. */
static void read_utf8(const cp_buf *in, size_t raw, cp_buf *got, cp_status *end, cp_error *err)
{
    cp_buf_reset(got);
    read_text((const uint8_t *)in->data, in->len, CP_ENC_UTF8, true, raw, 100, got, end, err);
}

/*
 * UTF-8 read straight into the text buffer (cp_decoder_take_utf8): at every read and buffer
 * size, the same text, the same fall-back and the same error offset as one decode of it all.
 */
static void test_text_reader_utf8_in_place(void **state)
{
    (void)state;
    cp_buf in, got;
    cp_buf_init(&in, CP_BUF_UNLIMITED);
    cp_buf_init(&got, CP_BUF_UNLIMITED);
    for (int i = 0; i < 300; i++) {
        const char *row =
            i % 3 ? "id,na\xc3\xafve,\xe2\x82\xac,\xf0\x9f\x98\x80\n" : "plain,ascii,row\n";
        assert_int_equal(cp_buf_append(&in, row, strlen(row)), CP_OK);
    }
    const size_t caps[] = {64, 65, 67, 100, 257, 4096};
    for (size_t raw = 4; raw <= 70; raw += 3) {
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
            cp_status end;
            cp_error err;
            cp_buf_reset(&got);
            read_text((const uint8_t *)in.data, in.len, CP_ENC_UTF8, true, raw, caps[k], &got, &end,
                      &err);
            assert_int_equal(end, CP_OK);
            assert_int_equal(got.len, in.len);
            assert_memory_equal(got.data, in.data, in.len);
        }
    }
    /* a bad byte after real UTF-8, deep in the text (in place of the last row's last comma):
       the text before it, then its offset */
    const size_t bad_at = in.len - 6;
    assert_int_equal(in.data[bad_at], ',');
    in.data[bad_at] = (char)0xff;
    for (size_t raw = 4; raw <= 70; raw += 11) {
        cp_status end;
        cp_error err;
        read_utf8(&in, raw, &got, &end, &err);
        assert_int_equal(end, CP_BAD_ENCODING);
        assert_int_equal(err.offset, bad_at);
        assert_int_equal(got.len, bad_at);
        assert_memory_equal(got.data, in.data, bad_at);
    }
    /* ASCII for a long while, then Windows-1252: the switch at the first bad byte */
    cp_buf_reset(&in);
    for (int i = 0; i < 200; i++)
        assert_int_equal(cp_buf_append(&in, "abc,def\n", 8), CP_OK);
    const size_t ascii = in.len;
    assert_int_equal(cp_buf_append(&in, "Pre\xe7o\n", 6), CP_OK);
    for (size_t raw = 4; raw <= 70; raw += 11) {
        cp_status end;
        cp_error err;
        read_utf8(&in, raw, &got, &end, &err);
        assert_int_equal(end, CP_OK);
        assert_int_equal(got.len, ascii + 7);
        assert_memory_equal(got.data, in.data, ascii);
        assert_memory_equal(got.data + ascii, "Pre\xc3\xa7o\n", 7);
    }
    cp_buf_release(&in);
    cp_buf_release(&got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_detect),
        cmocka_unit_test(test_cp1252),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_valid_prefix),
        cmocka_unit_test(test_valid_prefix_random),
        cmocka_unit_test(test_fall_back),
        cmocka_unit_test(test_invalid_after_utf8),
        cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_text_reader),
        cmocka_unit_test(test_text_reader_utf8_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
