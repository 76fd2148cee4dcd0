/*
 * The scanner works on buf[pos..len) with a sentinel line end at buf[len], so the search
 * for the end of an unquoted field checks no bounds. It looks at the buffer in 64-byte
 * blocks (at multiples of 64 from buf): one pass over a block makes a mask with a bit per
 * delimiter, CR and LF (SSE2 compares, or word arithmetic elsewhere), and the fields of the
 * block cost a count of trailing zeros each. The buffer has 64 bytes of padding after the
 * sentinel, so the block holding it can be read whole. The mask of the last block stays
 * cached across rows and is dropped whenever the buffer changes (refill). When a row runs
 * past the buffered text, the partial row moves to the front, more text is filled in
 * behind it and the row is scanned again from its start: rows are short next to the
 * buffer, so the rescans cost little and the scanner keeps no state between calls but
 * that cache.
 */
#include "csv/tokenizer.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { C_PLAIN = 0, C_DELIM, C_QUOTE, C_CR, C_LF };

/* bytes readable past the sentinel, so the 64-byte block holding it can be read whole */
#define PAD 64
#define NO_BLOCK SIZE_MAX

struct cp_tokenizer {
    cp_tokenizer_options o;
    cp_text_fill_fn fill;
    void *ctx;
    char *buf;
    size_t cap; /* usable bytes; buf has one more for the sentinel */
    size_t pos, len;
    bool eof;
    uint64_t line;   /* line number at buf[pos] */
    uint64_t offset; /* text offset of buf[pos] */
    const char *line_ending;
    cp_field *fields; /* the row being scanned; data points into buf */
    size_t *escaped;  /* indexes of its fields that hold doubled quotes */
    size_t nescaped;
    cp_buf unescaped; /* fields with doubled quotes, undoubled, so the row text stays raw */
    size_t nalloc;
    int delim;           /* the delimiter as unsigned char, or -1 when it is the quote, CR or LF */
    char split;          /* the delimiter, or LF when delim is -1 */
    uint64_t split_word; /* split in every byte */
    size_t blk;          /* buf index of the cached block (a multiple of 64), or NO_BLOCK */
    uint64_t blk_mask;   /* bit k: buf[blk + k] is a delimiter, CR or LF */
    unsigned char cls[256];
};

void cp_tokenizer_options_default(cp_tokenizer_options *o)
{
    o->delimiter = ',';
    o->quote = '"';
    o->max_field_bytes = (size_t)16 << 20;
    o->max_row_bytes = 0;
    o->max_columns = 65536;
    o->chunk_bytes = (size_t)1 << 20;
}

cp_tokenizer *cp_tokenizer_new(const cp_tokenizer_options *opts, cp_text_fill_fn fill, void *ctx)
{
    cp_tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (opts)
        t->o = *opts;
    else
        cp_tokenizer_options_default(&t->o);
    if (!t->o.delimiter)
        t->o.delimiter = ',';
    if (!t->o.quote)
        t->o.quote = '"';
    if (!t->o.max_field_bytes)
        t->o.max_field_bytes = (size_t)16 << 20;
    if (!t->o.max_row_bytes)
        t->o.max_row_bytes = t->o.max_field_bytes * 4;
    if (!t->o.max_columns)
        t->o.max_columns = 65536;
    if (!t->o.chunk_bytes)
        t->o.chunk_bytes = (size_t)1 << 20;
    if (t->o.chunk_bytes < 128)
        t->o.chunk_bytes = 128; /* refill always offers at least 64 bytes (see refill) */
    t->fill = fill;
    t->ctx = ctx;
    t->cap = t->o.chunk_bytes * 2;
    t->buf = malloc(t->cap + 1 + PAD);
    t->nalloc = 64;
    t->escaped = malloc(t->nalloc * sizeof *t->escaped);
    t->fields = malloc(t->nalloc * sizeof *t->fields);
    if (!t->buf || !t->escaped || !t->fields) {
        cp_tokenizer_free(t);
        return NULL;
    }
    t->line = 1;
    t->line_ending = "none";
    cp_buf_init(&t->unescaped, t->o.max_row_bytes);
    t->cls[(unsigned char)t->o.delimiter] = C_DELIM;
    t->cls[(unsigned char)t->o.quote] = C_QUOTE;
    t->cls['\r'] = C_CR;
    t->cls['\n'] = C_LF;
    t->delim =
        t->cls[(unsigned char)t->o.delimiter] == C_DELIM ? (unsigned char)t->o.delimiter : -1;
    t->split = t->delim < 0 ? '\n' : t->o.delimiter;
    t->split_word = 0x0101010101010101ULL * (unsigned char)t->split;
    t->blk = NO_BLOCK;
    return t;
}

void cp_tokenizer_free(cp_tokenizer *t)
{
    if (!t)
        return;
    free(t->buf);
    free(t->escaped);
    free(t->fields);
    cp_buf_release(&t->unescaped);
    free(t);
}

const char *cp_tokenizer_line_ending(const cp_tokenizer *t)
{
    return t->line_ending;
}

uint64_t cp_tokenizer_line(const cp_tokenizer *t)
{
    return t->line;
}

uint64_t cp_tokenizer_offset(const cp_tokenizer *t)
{
    return t->offset;
}

/* Moves the partial row to the front and reads more text behind it. */
static cp_status refill(cp_tokenizer *t, cp_error *err)
{
    t->blk = NO_BLOCK;
    if (t->pos > 0) {
        memmove(t->buf, t->buf + t->pos, t->len - t->pos);
        t->len -= t->pos;
        t->pos = 0;
    }
    size_t limit = t->o.max_row_bytes + t->o.chunk_bytes;
    if (t->cap - t->len < t->o.chunk_bytes / 2 && t->cap < limit) {
        size_t ncap = t->cap * 2 < limit ? t->cap * 2 : limit;
        char *nb = realloc(t->buf, ncap + 1 + PAD);
        if (!nb)
            return cp_error_set(err, CP_NOMEM, "out of memory growing the row buffer");
        t->buf = nb;
        t->cap = ncap;
    }
    size_t room = t->cap - t->len;
    if (room < 64) {
        cp_error_set(err, CP_TOO_LARGE,
                     "line %llu: a row is longer than the row size limit (%zu bytes)",
                     (unsigned long long)t->line, t->o.max_row_bytes);
        if (err)
            err->line = t->line;
        return CP_TOO_LARGE;
    }
    size_t n;
    cp_status st = t->fill(t->ctx, t->buf + t->len, room, &n, err);
    if (st != CP_OK) {
        /* the failure is right after the buffered text: count the lines up to it */
        uint64_t line = t->line;
        for (size_t k = t->pos; k < t->len; k++)
            line += t->buf[k] == '\n' ||
                    (t->buf[k] == '\r' && (k + 1 == t->len || t->buf[k + 1] != '\n'));
        if (err && !err->line) {
            err->line = line;
            cp_error_prefix(err, "line %llu", (unsigned long long)line);
        }
        return st;
    }
    if (n == 0)
        t->eof = true;
    t->len += n;
    t->buf[t->len] = '\n';
    memset(t->buf + t->len + 1, 0, PAD);
    return CP_OK;
}

static bool grow_fields(cp_tokenizer *t)
{
    size_t n = t->nalloc * 2;
    size_t *e = realloc(t->escaped, n * sizeof *e);
    if (!e)
        return false;
    t->escaped = e;
    cp_field *f = realloc(t->fields, n * sizeof *f);
    if (!f)
        return false;
    t->fields = f;
    t->nalloc = n;
    return true;
}

static void note_line_ending(cp_tokenizer *t, const char *kind)
{
    if (t->line_ending[0] == 'n')
        t->line_ending = kind;
}

typedef enum { SCAN_ROW, SCAN_MORE, SCAN_ERROR, SCAN_BLANK } scan_result;

/* Skips to the line end after a broken quote, ignoring quotes, for row recovery. */
static scan_result skip_line(cp_tokenizer *t, size_t i, size_t *end, size_t *next, uint64_t *lines)
{
    while (i < t->len && t->buf[i] != '\n' && t->buf[i] != '\r')
        i++;
    if (i == t->len && !t->eof)
        return SCAN_MORE;
    *end = i;
    if (i < t->len && t->buf[i] == '\r') {
        if (i + 1 == t->len && !t->eof)
            return SCAN_MORE;
        i += (i + 1 < t->len && t->buf[i + 1] == '\n') ? 2 : 1;
        (*lines)++;
    } else if (i < t->len) {
        i++;
        (*lines)++;
    }
    *next = i;
    return SCAN_ROW;
}

#if !(defined(__SSE2__) && defined(__GNUC__)) && defined(__BYTE_ORDER__) &&                        \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The high bit of each byte of w that equals the byte repeated in pattern, exactly. */
static inline uint64_t bytes_equal(uint64_t w, uint64_t pattern)
{
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
    uint64_t x = w ^ pattern;
    return ~(((x & low7) + low7) | x) & ~low7;
}
#endif

/* The mask of split bytes, CRs and LFs among the 64 bytes at p. */
static inline uint64_t block_mask(const cp_tokenizer *t, const char *p)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i delim = _mm_set1_epi8(t->split);
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, delim),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
        m |= (uint64_t)(unsigned)_mm_movemask_epi8(hit) << (16 * k);
    }
    return m;
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t m = 0;
    for (int k = 0; k < 8; k++) {
        uint64_t w;
        memcpy(&w, p + 8 * k, 8);
        uint64_t h = bytes_equal(w, t->split_word) | bytes_equal(w, 0x0A0A0A0A0A0A0A0AULL) |
                     bytes_equal(w, 0x0D0D0D0D0D0D0D0DULL);
        /* the high bits of the eight bytes gathered into the top byte, byte 0 lowest */
        m |= (((h >> 7) * 0x0102040810204080ULL) >> 56) << (8 * k);
    }
    return m;
#else
    uint64_t m = 0;
    for (int k = 0; k < 64; k++) {
        m |= (uint64_t)(p[k] == t->split || p[k] == '\r' || p[k] == '\n') << k;
    }
    return m;
#endif
}

static inline unsigned lowest_bit(uint64_t m)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(m);
#else
    unsigned k = 0;
    while (!(m & 1)) {
        m >>= 1;
        k++;
    }
    return k;
#endif
}

/* The bits of the block holding buf[i] at i and above; caches the block's mask. */
static inline uint64_t mask_from(cp_tokenizer *t, size_t i)
{
    size_t blk = i & ~(size_t)63;
    if (blk != t->blk) {
        t->blk = blk;
        t->blk_mask = block_mask(t, t->buf + blk);
    }
    return t->blk_mask & (~0ULL << (i - blk));
}

/* The mask of the next block, which becomes the cached one. */
static inline uint64_t next_block(cp_tokenizer *t)
{
    t->blk += 64;
    t->blk_mask = block_mask(t, t->buf + t->blk);
    return t->blk_mask;
}

/*
 * Scans one row starting at t->pos. On SCAN_ROW, t->fields[0..*nf) hold the fields (a
 * field with doubled quotes still raw: its index is in t->escaped),
 * *end is the end of the row text and *next the start of the next row.
 */
static scan_result scan_row(cp_tokenizer *t, size_t *nf, size_t *end, size_t *next, uint64_t *lines,
                            cp_error *err)
{
    const unsigned char *cls = t->cls;
    char *b = t->buf;
    const size_t len = t->len;
    const char q = t->o.quote;
    const int delim = t->delim;
    size_t i = t->pos;
    size_t n = 0;
    *lines = 0;
    t->nescaped = 0;

    if (i == len)
        return t->eof ? SCAN_ROW : SCAN_MORE; /* nf 0: the end */
    if (b[i] == '\n' || b[i] == '\r') {
        /* a blank line */
        if (b[i] == '\r') {
            if (i + 1 == len && !t->eof)
                return SCAN_MORE;
            *next = i + ((i + 1 < len && b[i + 1] == '\n') ? 2 : 1);
            note_line_ending(t, *next - i == 2 ? "CRLF" : "CR");
        } else {
            *next = i + 1;
            note_line_ending(t, "LF");
        }
        *lines = 1;
        return SCAN_BLANK;
    }
    /* the split, CR and LF bits of block t->blk at i and above */
    uint64_t m = mask_from(t, i);
    size_t room = t->nalloc < t->o.max_columns ? t->nalloc : t->o.max_columns;
    for (;;) {
        if (n == room) {
            if (n >= t->o.max_columns) {
                cp_error_set(err, CP_TOO_MANY_COLUMNS,
                             "line %llu: more than %zu fields in one row (the column limit)",
                             (unsigned long long)(t->line + *lines), t->o.max_columns);
                if (err)
                    err->line = t->line + *lines;
                return SCAN_ERROR;
            }
            if (!grow_fields(t)) {
                cp_error_set(err, CP_NOMEM, "out of memory");
                return SCAN_ERROR;
            }
            room = t->nalloc < t->o.max_columns ? t->nalloc : t->o.max_columns;
        }
        cp_field *f = &t->fields[n++];
        f->quoted = false;
        if (b[i] == q && i < len) {
            f->quoted = true;
            uint64_t qline = t->line + *lines;
            i++;
            const size_t start = i;
            for (;;) {
                const char *hit = memchr(b + i, q, len - i);
                size_t j = hit ? (size_t)(hit - b) : len;
                for (size_t k = i; k < j; k++) {
                    if (b[k] == '\n')
                        (*lines)++;
                    else if (b[k] == '\r' && (k + 1 >= len || b[k + 1] != '\n'))
                        (*lines)++;
                }
                if (j - start > t->o.max_field_bytes) {
                    cp_error_set(err, CP_FIELD_TOO_LONG,
                                 "line %llu, column %zu: a quoted field is longer than the "
                                 "field size limit (%zu bytes)",
                                 (unsigned long long)qline, n, t->o.max_field_bytes);
                    if (err) {
                        err->line = qline;
                        err->column = (uint32_t)n;
                    }
                    return SCAN_ERROR;
                }
                if (j == len) {
                    if (!t->eof)
                        return SCAN_MORE;
                    cp_error_set(err, CP_UNTERMINATED_QUOTE,
                                 "line %llu, column %zu: the quoted field that starts here is "
                                 "never closed (the file ends inside it)",
                                 (unsigned long long)qline, n);
                    if (err) {
                        err->line = qline;
                        err->column = (uint32_t)n;
                    }
                    return SCAN_ERROR;
                }
                if (j + 1 == len && !t->eof)
                    return SCAN_MORE; /* is it a doubled quote? */
                if (j + 1 < len && b[j + 1] == q) {
                    if (!t->nescaped || t->escaped[t->nescaped - 1] != n - 1)
                        t->escaped[t->nescaped++] = n - 1;
                    i = j + 2;
                    continue;
                }
                f->data = b + start;
                f->len = j - start;
                i = j + 1;
                break;
            }
            if (i < len && cls[(unsigned char)b[i]] == C_DELIM) {
                i++;
                m = mask_from(t, i);
                continue;
            }
            if (i == len || b[i] == '\n' || b[i] == '\r')
                goto row_end;
            /* text after the closing quote */
            {
                char shown[64];
                size_t at = i;
                size_t e = at;
                while (e < len && e - at < 24 && cls[(unsigned char)b[e]] != C_DELIM &&
                       b[e] != '\n' && b[e] != '\r')
                    e++;
                while (e > at && e < len && ((unsigned char)b[e] & 0xC0) == 0x80)
                    e--; /* not inside a UTF-8 sequence: messages go into JSON */
                cp_error_quote_value(shown, sizeof shown, b + at, e - at);
                uint64_t eline = t->line + *lines;
                cp_error_set(err, CP_BAD_QUOTE,
                             "line %llu, column %zu: unexpected text \"%s\" after the closing "
                             "quote; a quote inside a quoted field must be doubled (\"\")",
                             (unsigned long long)eline, n, shown);
                if (err) {
                    err->line = t->line;
                    err->column = (uint32_t)n;
                }
                scan_result r = skip_line(t, i, end, next, lines);
                if (r == SCAN_MORE)
                    return SCAN_MORE;
                *nf = n;
                return SCAN_ERROR;
            }
        }
        const size_t start = i;
        while (!m)
            m = next_block(t);
        i = t->blk + lowest_bit(m);
        m &= m - 1;
        /* b[i] is a delimiter, CR, LF or the sentinel at len */
        f->data = b + start;
        f->len = i - start;
        if (f->len > t->o.max_field_bytes) {
            cp_error_set(err, CP_FIELD_TOO_LONG,
                         "line %llu, column %zu: a field is longer than the field size limit "
                         "(%zu bytes)",
                         (unsigned long long)(t->line + *lines), n, t->o.max_field_bytes);
            if (err) {
                err->line = t->line + *lines;
                err->column = (uint32_t)n;
            }
            return SCAN_ERROR;
        }
        if ((unsigned char)b[i] == delim) {
            i++;
            continue;
        }
        if (i == len && !t->eof)
            return SCAN_MORE; /* the sentinel */
        goto row_end;
    }
row_end:
    *end = i;
    *nf = n;
    if (i < len) {
        if (b[i] == '\r') {
            if (i + 1 == len && !t->eof)
                return SCAN_MORE;
            if (i + 1 < len && b[i + 1] == '\n') {
                note_line_ending(t, "CRLF");
                i += 2;
            } else {
                note_line_ending(t, "CR");
                i += 1;
            }
        } else {
            note_line_ending(t, "LF");
            i += 1;
        }
        (*lines)++;
    }
    *next = i;
    return SCAN_ROW;
}

cp_status cp_tokenizer_skip_lines(cp_tokenizer *t, uint64_t n, cp_error *err)
{
    while (n > 0) {
        if (t->pos == t->len) {
            if (t->eof)
                return CP_OK;
            CP_RETURN_IF_ERROR(refill(t, err));
            continue;
        }
        size_t i = t->pos;
        while (i < t->len && t->buf[i] != '\n' && t->buf[i] != '\r')
            i++;
        if (i == t->len) {
            /* no line end buffered: the whole buffer is part of the line */
            t->offset += i - t->pos;
            t->pos = i;
            if (t->eof)
                return CP_OK;
            continue;
        }
        if (t->buf[i] == '\r' && i + 1 == t->len && !t->eof) {
            /* a CR at the end of the buffer: is an LF next? */
            t->offset += i - t->pos;
            t->pos = i;
            CP_RETURN_IF_ERROR(refill(t, err));
            continue;
        }
        size_t next = i + 1;
        if (t->buf[i] == '\r' && next < t->len && t->buf[next] == '\n')
            next++;
        note_line_ending(t, t->buf[i] == '\n' ? "LF" : next - i == 2 ? "CRLF" : "CR");
        t->offset += next - t->pos;
        t->pos = next;
        t->line++;
        n--;
    }
    return CP_OK;
}

/* Appends the field's text with each doubled quote made single; returns its new length. */
static cp_status unescape(cp_tokenizer *t, const cp_field *f, size_t *len)
{
    const char *p = f->data;
    const char q = t->o.quote;
    size_t before = t->unescaped.len;
    size_t k = 0;
    while (k < f->len) {
        const char *hit = memchr(p + k, q, f->len - k);
        size_t j = hit ? (size_t)(hit - p) + 1 : f->len;
        CP_RETURN_IF_ERROR(cp_buf_append(&t->unescaped, p + k, j - k));
        k = hit ? j + 1 : j;
    }
    *len = t->unescaped.len - before;
    return CP_OK;
}

cp_status cp_tokenizer_next(cp_tokenizer *t, cp_row *row, cp_error *err)
{
    cp_error local;
    if (!err) {
        cp_error_clear(&local);
        err = &local;
    }
    memset(row, 0, sizeof *row);
    for (;;) {
        size_t nf = 0, end = 0, next = 0;
        uint64_t lines = 0;
        if (t->pos == t->len && !t->eof) {
            CP_RETURN_IF_ERROR(refill(t, err));
            continue;
        }
        scan_result r = scan_row(t, &nf, &end, &next, &lines, err);
        if (r == SCAN_MORE) {
            if (t->eof)
                return cp_error_set(err, CP_INTERNAL, "tokenizer wanted text past the end");
            CP_RETURN_IF_ERROR(refill(t, err));
            continue;
        }
        row->line = t->line;
        row->offset = t->offset;
        if (r == SCAN_BLANK) {
            t->line += lines;
            t->offset += next - t->pos;
            t->pos = next;
            continue;
        }
        if (r == SCAN_ERROR) {
            if (!err || err->code != CP_BAD_QUOTE)
                return err ? err->code : CP_INTERNAL;
            row->text = t->buf + t->pos;
            row->text_len = end - t->pos;
            row->end_line = t->line + lines - (lines > 0);
            t->line += lines;
            t->offset += next - t->pos;
            t->pos = next;
            return CP_BAD_QUOTE;
        }
        if (nf == 0) {
            row->nfields = 0;
            return CP_OK; /* the end */
        }
        if (t->nescaped) {
            /* room for them all first, so unescaped does not move under the pointers */
            size_t total = 0;
            for (size_t e = 0; e < t->nescaped; e++)
                total += t->fields[t->escaped[e]].len;
            cp_buf_reset(&t->unescaped);
            if (total > t->unescaped.max)
                total = t->unescaped.max; /* undoubled, they are shorter; appends check */
            cp_status st = cp_buf_reserve(&t->unescaped, total);
            for (size_t e = 0; st == CP_OK && e < t->nescaped; e++) {
                cp_field *f = &t->fields[t->escaped[e]];
                size_t start = t->unescaped.len, ul = 0;
                st = unescape(t, f, &ul);
                f->data = t->unescaped.data + start;
                f->len = ul;
            }
            if (st != CP_OK) {
                if (st == CP_TOO_LARGE)
                    cp_error_set(err, st,
                                 "line %llu: a row is longer than the row size limit (%zu bytes)",
                                 (unsigned long long)t->line, t->o.max_row_bytes);
                else
                    cp_error_set(err, st, "line %llu: out of memory", (unsigned long long)t->line);
                err->line = t->line;
                return st;
            }
        }
        row->fields = t->fields;
        row->nfields = nf;
        row->text = t->buf + t->pos;
        row->text_len = end - t->pos;
        row->end_line = t->line + lines - (lines > 0 && next > end);
        t->line += lines;
        t->offset += next - t->pos;
        t->pos = next;
        return CP_OK;
    }
}
