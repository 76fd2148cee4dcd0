/*
 * json_escape.c - JSON string literals.
 *
 * Most values need no escaping, so the work is finding the first byte that does: 16 bytes
 * at a time with SSE2, and for values of at most 16 bytes (most CSV fields) two
 * overlapping 8- or 4-byte words tested with SWAR bit tricks, then copied with the same
 * overlapping loads and stores instead of a call to memcpy.
 */
#include "util/json_escape.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_OK 1
#else
#define SWAR_OK 0
#endif

static inline uint64_t load8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

static inline uint32_t load4(const char *s)
{
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

/*
 * The high bit of each byte of x that is a control character, '"' or '\\'. Borrows can
 * mark a byte above a marked one, never below, so the lowest mark is exact.
 */
static inline uint64_t escape_marks(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
}

/* True when s[0..len), len <= 16, holds nothing to escape. */
static inline bool short_is_plain(const char *s, size_t len)
{
#if SWAR_OK
    if (len >= 8)
        return (escape_marks(load8(s)) | escape_marks(load8(s + len - 8))) == 0;
    if (len >= 4)
        return escape_marks(load4(s) | (uint64_t)load4(s + len - 4) << 32) == 0;
#endif
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* Copies len <= 16 bytes. */
static inline void copy_short(char *o, const char *s, size_t len)
{
    if (len >= 8) {
        uint64_t a = load8(s), b = load8(s + len - 8);
        memcpy(o, &a, 8);
        memcpy(o + len - 8, &b, 8);
    } else if (len >= 4) {
        uint32_t a = load4(s), b = load4(s + len - 4);
        memcpy(o, &a, 4);
        memcpy(o + len - 4, &b, 4);
    } else if (len) {
        char a = s[0], b = s[len / 2], c = s[len - 1];
        o[0] = a;
        o[len / 2] = b;
        o[len - 1] = c;
    }
}

#if defined(__SSE2__) && defined(__GNUC__)
static inline unsigned escape_mask16(const char *s)
{
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1F), zero = _mm_setzero_si128();
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i control = _mm_cmpeq_epi8(_mm_subs_epu8(v, control_max), zero); /* v <= 0x1F */
    __m128i hit =
        _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* The length of the run at the start of s[0..len) that needs no escaping. */
static inline size_t plain_run(const char *s, size_t len)
{
    size_t i = 0;
#if defined(__SSE2__) && defined(__GNUC__)
    for (; i + 16 <= len; i += 16) {
        unsigned m = escape_mask16(s + i);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
    if (i < len && len >= 16) {
        /* the last 16 bytes, of which the first 16 - (len - i) were already checked */
        unsigned m = escape_mask16(s + len - 16) >> (16 - (len - i));
        return m ? i + (size_t)__builtin_ctz(m) : len;
    }
#endif
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
    }
    return i;
}

char *cp_json_put_string(char *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    *o++ = '"';
    if (len <= 16 && short_is_plain(s, len)) {
        copy_short(o, s, len);
        o += len;
        *o++ = '"';
        return o;
    }
    size_t i = 0;
    while (i < len) {
        size_t run = i + plain_run(s + i, len - i);
        memcpy(o, s + i, run - i);
        o += run - i;
        if (run == len)
            break;
        unsigned char c = (unsigned char)s[run];
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        i = run + 1;
    }
    *o++ = '"';
    return o;
}

cp_status cp_json_append_string(cp_buf *out, const char *s, size_t len)
{
    /* Worst case every byte becomes \u00XX. */
    if (len > (SIZE_MAX - 2) / 6)
        return CP_TOO_LARGE;
    CP_RETURN_IF_ERROR(cp_buf_reserve(out, CP_JSON_STRING_ROOM(len)));
    char *o = cp_json_put_string(out->data + out->len, s, len);
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return CP_OK;
}
