#include "csv/decode.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const char *const enc_names[] = {
    [CP_ENC_AUTO] = "auto",         [CP_ENC_UTF8] = "utf-8",       [CP_ENC_UTF8_BOM] = "utf-8-bom",
    [CP_ENC_UTF16LE] = "utf-16le",  [CP_ENC_UTF16BE] = "utf-16be", [CP_ENC_CP1252] = "windows-1252",
    [CP_ENC_LATIN1] = "iso-8859-1",
};

const char *cp_encoding_name(cp_encoding enc)
{
    return enc_names[enc];
}

bool cp_encoding_parse(const char *name, cp_encoding *out)
{
    static const struct {
        const char *alias;
        cp_encoding enc;
    } aliases[] = {
        {"auto", CP_ENC_AUTO},          {"utf-8", CP_ENC_UTF8},
        {"utf8", CP_ENC_UTF8},          {"utf-8-bom", CP_ENC_UTF8_BOM},
        {"utf-8-sig", CP_ENC_UTF8_BOM}, {"utf-16le", CP_ENC_UTF16LE},
        {"utf16le", CP_ENC_UTF16LE},    {"utf-16be", CP_ENC_UTF16BE},
        {"utf16be", CP_ENC_UTF16BE},    {"windows-1252", CP_ENC_CP1252},
        {"cp1252", CP_ENC_CP1252},      {"win1252", CP_ENC_CP1252},
        {"iso-8859-1", CP_ENC_LATIN1},  {"latin1", CP_ENC_LATIN1},
        {"latin-1", CP_ENC_LATIN1},     {"iso8859-1", CP_ENC_LATIN1},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].enc;
            return true;
        }
    }
    return false;
}

/* Length of the valid UTF-8 sequence at s, 0 when invalid, -1 when cut short by len. */
static int utf8_seq(const uint8_t *s, size_t len)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((size_t)i >= len)
            return -1;
        uint8_t b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return 0;
    }
    return n;
}

#if defined(__SSE2__)
/* Bytes of v within [lo, hi], unsigned, as a 16-bit mask. */
static inline unsigned bytes_between(__m128i v, uint8_t lo, uint8_t hi)
{
    __m128i ge = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8((char)lo)), v);
    __m128i le = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8((char)hi)), v);
    return (unsigned)_mm_movemask_epi8(_mm_and_si128(ge, le));
}

/*
 * From i, skips whole 16-byte blocks that hold only ASCII and two-byte sequences (C2..DF
 * then 80..BF: the accented letters of Latin scripts), without a branch per byte. Returns
 * where the general check must go on: a sequence start, everything before it valid.
 */
static size_t skip_simple_blocks(const uint8_t *s, size_t len, size_t i)
{
    unsigned carry = 0; /* a lead byte ended the last block: its continuation starts this */
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned high = (unsigned)_mm_movemask_epi8(v);
        if (high == 0 && !carry) {
            i += 16;
            continue;
        }
        unsigned lead = bytes_between(v, 0xC2, 0xDF), cont = bytes_between(v, 0x80, 0xBF);
        if ((lead | cont) != high || cont != (((lead << 1) | carry) & 0xFFFF))
            break;
        carry = lead >> 15;
        i += 16;
    }
    return i - carry;
}
#endif

size_t cp_utf8_valid_prefix(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
#if defined(__SSE2__)
        i = skip_simple_blocks(s, len, i);
#else
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            i += 8;
        }
#endif
        /* one block the fast path could not take (or the tail), one sequence at a time */
        const size_t stop = len - i > 16 ? i + 16 : len;
        while (i < stop) {
            if (s[i] < 0x80) {
                i++;
                continue;
            }
            int n = utf8_seq(s + i, len - i);
            if (n <= 0)
                return i;
            i += (size_t)n;
        }
    }
    return i;
}

static bool starts_with(const uint8_t *s, size_t len, const char *prefix)
{
    const size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* What a spreadsheet or archive handed in as a CSV is, for the error; NULL for others. */
static const char *container(const uint8_t *s, size_t len)
{
    if (starts_with(s, len, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"))
        return "an Excel 97-2003 workbook (.xls) or another OLE2 document, not CSV text: save "
               "the sheet as CSV first";
    if (!starts_with(s, len, "PK\x03\x04") && !starts_with(s, len, "PK\x05\x06"))
        return NULL;
    /* the first member's name: Excel writes [Content_Types].xml first, others xl/...;
       OpenDocument a stored "mimetype" member with its type */
    const size_t name_len = len >= 30 ? (size_t)s[26] | (size_t)s[27] << 8 : 0;
    const uint8_t *name = s + 30;
    const size_t avail = len >= 30 ? len - 30 : 0;
    const size_t n = name_len < avail ? name_len : avail;
    if (starts_with(name, n, "[Content_Types].xml") || starts_with(name, n, "xl/") ||
        starts_with(name, n, "_rels/") || starts_with(name, n, "docProps/"))
        return "an Excel workbook (.xlsx), not CSV text: save the sheet as CSV first";
    if (starts_with(name, avail, "mimetypeapplication/vnd.oasis.opendocument"))
        return "an OpenDocument file (.ods), not CSV text: save the sheet as CSV first";
    return "a zip archive, not CSV text; gzip, zstd, bzip2 and xz files are read as they "
           "are, zip is not: extract the CSV first (unzip FILE)";
}

cp_status cp_encoding_detect(const uint8_t *s, size_t len, bool complete, cp_encoding *out,
                             cp_error *err)
{
    if (len == 0)
        return cp_error_set(err, CP_EMPTY, "the file is empty");
    const char *what = container(s, len);
    if (what)
        return cp_error_set(err, CP_BINARY, "the file is %s", what);
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
        *out = CP_ENC_UTF8_BOM;
        return CP_OK;
    }
    if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
        *out = CP_ENC_UTF16LE;
        return CP_OK;
    }
    if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
        *out = CP_ENC_UTF16BE;
        return CP_OK;
    }
    size_t zeros_even = 0, zeros_odd = 0, controls = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c == 0 && (i & 1))
            zeros_odd++;
        else if (c == 0)
            zeros_even++;
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
            controls++;
    }
    if (len >= 4 && zeros_odd * 3 >= len && zeros_even * 20 <= len) {
        *out = CP_ENC_UTF16LE;
        return CP_OK;
    }
    if (len >= 4 && zeros_even * 3 >= len && zeros_odd * 20 <= len) {
        *out = CP_ENC_UTF16BE;
        return CP_OK;
    }
    if (zeros_even + zeros_odd > 0 || controls * 100 > len)
        return cp_error_set(err, CP_BINARY,
                            "the file looks like binary data, not text (%zu NUL and %zu control "
                            "bytes in the first %zu bytes); if it is compressed, decompress it "
                            "first",
                            zeros_even + zeros_odd, controls, len);
    /*
     * Windows-1252 text almost never forms valid multi-byte UTF-8 sequences. A sample that
     * has them and also a few invalid bytes is UTF-8 with errors: choosing UTF-8 makes the
     * decoder stop at the first bad byte with its offset, rather than mistranslate the
     * whole file.
     */
    size_t multibyte = 0, invalid = 0;
    for (size_t i = 0; i < len;) {
        size_t v = cp_utf8_valid_prefix(s + i, len - i);
        for (size_t k = i; k < i + v; k++)
            multibyte += (s[k] & 0xC0) == 0xC0;
        i += v;
        if (i == len)
            break;
        int n = utf8_seq(s + i, len - i);
        if (n < 0 && !complete)
            break; /* a sequence cut by the end of the sample */
        invalid++;
        i++;
    }
    *out = invalid == 0 || multibyte > invalid ? CP_ENC_UTF8 : CP_ENC_CP1252;
    return CP_OK;
}

void cp_decoder_init(cp_decoder *d, cp_encoding enc, bool detected)
{
    memset(d, 0, sizeof *d);
    d->enc = enc;
    d->may_fall_back = detected && enc == CP_ENC_UTF8;
    d->ascii_only = true;
    d->at_start = true;
}

/* Windows-1252 0x80..0x9F; the five unassigned bytes map to the C1 code points. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static inline size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static size_t decode_single_byte(cp_encoding enc, const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        /* ASCII is the same in UTF-8: runs of it are copied 8 bytes at a time */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, in + i, 8);
            if (w & 0x8080808080808080ULL)
                break;
            memcpy(out + o, &w, 8);
            i += 8;
            o += 8;
        }
        if (i == len)
            break;
        uint8_t c = in[i];
        if (c < 0x80)
            out[o++] = (char)c;
        else if (c < 0xA0 && enc == CP_ENC_CP1252)
            o += put_utf8(out + o, cp1252_high[c - 0x80]);
        else
            o += put_utf8(out + o, c);
    }
    return o;
}

static cp_status bad_byte(cp_decoder *d, cp_error *err, uint64_t at, const uint8_t *p, size_t n)
{
    char shown[32] = "";
    size_t o = 0;
    for (size_t i = 0; i < n && i < 4; i++)
        o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02X", p[i]);
    cp_error_set(err, CP_BAD_ENCODING,
                 "invalid %s at byte offset %llu (bytes %s); if the file is not %s, name its "
                 "encoding with --encoding (for example --encoding windows-1252)",
                 cp_encoding_name(d->enc), (unsigned long long)at, shown, cp_encoding_name(d->enc));
    if (err)
        err->offset = at;
    return CP_BAD_ENCODING;
}

/* The valid UTF-8 s[0..v) was decoded: is it still all ASCII? */
static void note_ascii(cp_decoder *d, const uint8_t *s, size_t v)
{
    if (!d->ascii_only)
        return;
    for (size_t k = 0; k < v; k++) {
        if (s[k] & 0x80) {
            d->ascii_only = false;
            return;
        }
    }
}

bool cp_decoder_utf8_settled(const cp_decoder *d)
{
    return (d->enc == CP_ENC_UTF8 || d->enc == CP_ENC_UTF8_BOM) && !d->at_start;
}

size_t cp_decoder_take_utf8(cp_decoder *d, const uint8_t *s, size_t len)
{
    const size_t v = cp_utf8_valid_prefix(s, len);
    note_ascii(d, s, v);
    d->offset += v;
    return v;
}

static cp_status decode_utf8(cp_decoder *d, const uint8_t *in, size_t len, bool eof, char *out,
                             size_t *consumed, size_t *produced, cp_error *err)
{
    size_t i = 0;
    for (;;) {
        size_t v = cp_utf8_valid_prefix(in + i, len - i);
        note_ascii(d, in + i, v);
        memcpy(out + i, in + i, v);
        i += v;
        if (i == len)
            break;
        if (!eof && utf8_seq(in + i, len - i) < 0)
            break; /* cut short: wait for the rest */
        if (d->may_fall_back && d->ascii_only) {
            /* everything so far was ASCII, the same in Windows-1252 */
            d->enc = CP_ENC_CP1252;
            d->may_fall_back = false;
            size_t o = i + decode_single_byte(CP_ENC_CP1252, in + i, len - i, out + i);
            d->offset += len;
            *consumed = len;
            *produced = o;
            return CP_OK;
        }
        *consumed = i;
        *produced = i;
        d->offset += i;
        return bad_byte(d, err, d->offset, in + i, len - i);
    }
    d->offset += i;
    *consumed = i;
    *produced = i;
    return CP_OK;
}

static cp_status decode_utf16(cp_decoder *d, const uint8_t *in, size_t len, bool eof, char *out,
                              size_t *consumed, size_t *produced, cp_error *err)
{
    const bool le = d->enc == CP_ENC_UTF16LE;
    size_t o = 0, j = 0;
    cp_status st = CP_OK;
    while (j + 2 <= len) {
        uint16_t u = le ? (uint16_t)(in[j] | in[j + 1] << 8) : (uint16_t)(in[j] << 8 | in[j + 1]);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (j + 4 > len)
                break;
            uint16_t u2 = le ? (uint16_t)(in[j + 2] | in[j + 3] << 8)
                             : (uint16_t)(in[j + 2] << 8 | in[j + 3]);
            if (u2 < 0xDC00 || u2 > 0xDFFF) {
                st = bad_byte(d, err, d->offset + j, in + j, 4);
                break;
            }
            o += put_utf8(out + o, 0x10000 + (((uint32_t)u - 0xD800) << 10) + (u2 - 0xDC00));
            j += 4;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            st = bad_byte(d, err, d->offset + j, in + j, 2);
            break;
        } else {
            if (!(d->at_start && u == 0xFEFF))
                o += put_utf8(out + o, u);
            j += 2;
        }
        d->at_start = false;
    }
    if (st == CP_OK && eof && j < len)
        st = bad_byte(d, err, d->offset + j, in + j, len - j);
    d->offset += j;
    *consumed = j;
    *produced = o;
    return st;
}

cp_status cp_decoder_decode(cp_decoder *d, const uint8_t *in, size_t len, bool eof, char *out,
                            size_t *consumed, size_t *produced, cp_error *err)
{
    *consumed = 0;
    *produced = 0;
    switch (d->enc) {
    case CP_ENC_UTF16LE:
    case CP_ENC_UTF16BE:
        return decode_utf16(d, in, len, eof, out, consumed, produced, err);
    case CP_ENC_CP1252:
    case CP_ENC_LATIN1:
        *produced = decode_single_byte(d->enc, in, len, out);
        *consumed = len;
        d->offset += len;
        return CP_OK;
    case CP_ENC_UTF8_BOM:
    case CP_ENC_UTF8:
    case CP_ENC_AUTO:
        break;
    }
    if (d->at_start) {
        /* drop a UTF-8 BOM at the very start, announced or not */
        if (len < 3 && !eof)
            return CP_OK;
        d->at_start = false;
        if (len >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF) {
            d->offset += 3;
            cp_status st = decode_utf8(d, in + 3, len - 3, eof, out, consumed, produced, err);
            *consumed += 3;
            return st;
        }
    }
    return decode_utf8(d, in, len, eof, out, consumed, produced, err);
}
