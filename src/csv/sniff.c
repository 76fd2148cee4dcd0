#include "csv/sniff.h"
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *const cp_reserved_names[] = {"_source", "_row", "_dataset", NULL};

void cp_csv_options_default(cp_csv_options *o)
{
    memset(o, 0, sizeof *o);
    o->header = -1;
    o->skip_lines = -1;
    o->sample_bytes = (size_t)1 << 20;
    o->sample_rows = 20000;
    cp_tokenizer_options_default(&o->limits);
}

typedef struct mem_text {
    const char *p;
    size_t len, pos;
} mem_text;

static cp_status mem_fill(void *ctx, char *dst, size_t cap, size_t *n, cp_error *err)
{
    mem_text *m = ctx;
    size_t k = m->len - m->pos < cap ? m->len - m->pos : cap;
    memcpy(dst, m->p + m->pos, k);
    m->pos += k;
    *n = k;
    return CP_OK;
}

/*
 * The rows of the sample, out of the tokenizer: a value points into the sample's text
 * where the same bytes stand there (most do), else into a copy in the arena. The text
 * outlives the sample.
 */
typedef struct sample {
    cp_arena arena;
    cp_field **rows;
    size_t *nfields;
    uint64_t *lines; /* the physical line where each row starts */
    size_t n, cap;
} sample;

static void sample_release(sample *s)
{
    cp_arena_release(&s->arena);
    free(s->rows);
    free(s->nfields);
    free(s->lines);
    memset(s, 0, sizeof *s);
}

/* Where the bytes of f stand in text, or NULL: f points into the tokenizer's copy of row. */
static const char *in_text(const mem_text *text, const cp_row *row, const cp_field *f)
{
    const uintptr_t data = (uintptr_t)f->data, start = (uintptr_t)row->text;
    if (data < start || f->len > row->text_len || data - start > row->text_len - f->len)
        return NULL; /* not in the row's text: undoubled quotes, in the tokenizer's own buffer */
    const uint64_t at = row->offset + (data - start);
    if (at > text->len || f->len > text->len - at)
        return NULL;
    const char *p = text->p + at;
    return memcmp(p, f->data, f->len) == 0 ? p : NULL;
}

static cp_status sample_add(sample *s, const cp_row *row, const mem_text *text)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        cp_field **r = realloc(s->rows, nc * sizeof *r);
        if (!r)
            return CP_NOMEM;
        s->rows = r;
        size_t *f = realloc(s->nfields, nc * sizeof *f);
        if (!f)
            return CP_NOMEM;
        s->nfields = f;
        uint64_t *l = realloc(s->lines, nc * sizeof *l);
        if (!l)
            return CP_NOMEM;
        s->lines = l;
        s->cap = nc;
    }
    cp_field *fields = cp_arena_alloc(&s->arena, row->nfields * sizeof *fields);
    if (!fields)
        return CP_NOMEM;
    for (size_t i = 0; i < row->nfields; i++) {
        const char *d = in_text(text, row, &row->fields[i]);
        if (!d && !(d = cp_arena_strndup(&s->arena, row->fields[i].data, row->fields[i].len)))
            return CP_NOMEM;
        fields[i].data = d;
        fields[i].len = row->fields[i].len;
        fields[i].quoted = row->fields[i].quoted;
    }
    s->rows[s->n] = fields;
    s->nfields[s->n] = row->nfields;
    s->lines[s->n] = row->line;
    s->n++;
    return CP_OK;
}

typedef struct scan_stats {
    size_t rows;
    size_t modal;      /* most common field count */
    size_t modal_rows; /* rows with that count */
    size_t quoted;     /* quoted fields */
    size_t dec_comma;  /* fields that are decimal-comma numbers */
    cp_status fatal;   /* an error that ended the scan */
    cp_error fatal_err;
} scan_stats;

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static bool is_decimal_comma(const cp_field *f)
{
    static const cp_locale comma = {',', CP_DATE_ORDER_UNKNOWN, 0};
    static const cp_locale point = {'.', CP_DATE_ORDER_UNKNOWN, 0};
    cp_num n;
    return cp_scan_number(f->data, f->len, &comma, &n) == CP_NUM_DECIMAL &&
           cp_scan_number(f->data, f->len, &point, &n) == CP_NUM_NONE;
}

/*
 * Tokenizes the sample text with one dialect, after its first `skip` lines. Keeps the
 * rows in `keep` when given. When the sample is not the whole file its last row may be
 * cut, so it is left out.
 */
static cp_status scan(const char *text, size_t len, bool complete, uint64_t skip, char delim,
                      char quote, size_t max_rows, const cp_tokenizer_options *limits, sample *keep,
                      scan_stats *st)
{
    memset(st, 0, sizeof *st);
    mem_text m = {text, len, 0};
    cp_tokenizer_options o = *limits;
    o.delimiter = delim;
    o.quote = quote;
    o.chunk_bytes = len + 64 < o.chunk_bytes ? len + 64 : o.chunk_bytes;
    cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
    if (!t)
        return CP_NOMEM;
    size_t *counts = malloc((max_rows + 1) * sizeof *counts);
    if (!counts || cp_tokenizer_skip_lines(t, skip, NULL) != CP_OK) {
        free(counts);
        cp_tokenizer_free(t);
        return CP_NOMEM;
    }
    cp_status ret = CP_OK;
    bool reached_end = false;
    bool last_kept = false; /* the last row counted is also the last row of keep */
    while (st->rows < max_rows) {
        cp_row row;
        cp_error e;
        cp_error_clear(&e);
        cp_status s = cp_tokenizer_next(t, &row, &e);
        if (s == CP_BAD_QUOTE) {
            counts[st->rows++] = 0; /* counts as an inconsistent row */
            last_kept = false;
            continue;
        }
        if (s != CP_OK) {
            if (s == CP_NOMEM) {
                ret = s;
                break;
            }
            st->fatal = s;
            st->fatal_err = e;
            reached_end = !complete; /* a cut sample can end inside a quoted field */
            break;
        }
        if (row.nfields == 0) {
            reached_end = true;
            break;
        }
        for (size_t i = 0; i < row.nfields; i++) {
            st->quoted += row.fields[i].quoted;
            if (delim != ',' && is_decimal_comma(&row.fields[i]))
                st->dec_comma++;
        }
        counts[st->rows++] = row.nfields;
        if (keep && (ret = sample_add(keep, &row, &(mem_text){text, len, 0})) != CP_OK)
            break;
        last_kept = keep != NULL;
    }
    if (ret == CP_OK && reached_end && !complete && st->fatal == CP_OK && st->rows > 1) {
        /* the last row may be cut by the end of the sample */
        st->rows--;
        if (last_kept)
            keep->n--; /* a row with broken quoting was never kept */
    }
    if (ret == CP_OK && st->rows > 0) {
        qsort(counts, st->rows, sizeof *counts, cmp_size);
        size_t best = 0, best_n = 0;
        for (size_t i = 0; i < st->rows;) {
            size_t j = i;
            while (j < st->rows && counts[j] == counts[i])
                j++;
            if (counts[i] != 0 && (j - i > best_n || (j - i == best_n && counts[i] > best))) {
                best = counts[i];
                best_n = j - i;
            }
            i = j;
        }
        st->modal = best;
        st->modal_rows = best_n;
    }
    free(counts);
    cp_tokenizer_free(t);
    return ret;
}

static const char delimiter_candidates[] = {',', ';', '\t', '|'};

static double consistency(const scan_stats *s)
{
    return s->rows && s->modal > 1 ? (double)s->modal_rows / (double)s->rows : 0.0;
}

static cp_status choose_delimiter(const char *text, size_t len, bool complete, uint64_t skip,
                                  const cp_csv_options *o, char quote, char *out)
{
    scan_stats best_st;
    memset(&best_st, 0, sizeof best_st);
    char best = 0;
    const size_t rows = o->sample_rows < 5000 ? o->sample_rows : 5000;
    for (size_t i = 0; i < sizeof delimiter_candidates; i++) {
        char d = delimiter_candidates[i];
        scan_stats st;
        CP_RETURN_IF_ERROR(scan(text, len, complete, skip, d, quote, rows, &o->limits, NULL, &st));
        if (best == 0) {
            best = d;
            best_st = st;
            continue;
        }
        double c = consistency(&st), bc = consistency(&best_st);
        bool better;
        if (c > bc + 1e-9)
            better = true;
        else if (c < bc - 1e-9 || c == 0.0)
            better = false;
        else if (d == ';' && best == ',' && st.dec_comma > 0)
            better = true; /* "1,5;2,5": the commas are decimal commas */
        else
            better = st.modal > best_st.modal;
        if (better) {
            best = d;
            best_st = st;
        }
    }
    *out = best;
    return CP_OK;
}

static cp_status choose_quote(const char *text, size_t len, bool complete, uint64_t skip,
                              const cp_csv_options *o, char delim, char *out)
{
    *out = '"';
    if (memchr(text, '"', len) || !memchr(text, '\'', len))
        return CP_OK;
    scan_stats dq, sq;
    const size_t rows = o->sample_rows < 5000 ? o->sample_rows : 5000;
    CP_RETURN_IF_ERROR(scan(text, len, complete, skip, delim, '"', rows, &o->limits, NULL, &dq));
    CP_RETURN_IF_ERROR(scan(text, len, complete, skip, delim, '\'', rows, &o->limits, NULL, &sq));
    /* single quotes only when they wrap whole fields and keep the rows consistent */
    if (sq.quoted * 4 >= sq.rows && sq.fatal == CP_OK && consistency(&sq) >= consistency(&dq))
        *out = '\'';
    return CP_OK;
}

/*
 * The decimal separator: values only one separator can explain (1,5  1.234,56  1,234.5
 * 1.234.567) decide by their count; when there are none, a value that could be a decimal
 * comma or a thousands group (1,234) counts as a decimal comma, as it always did, except
 * in a file delimited by commas, where a decimal comma is rare and "1,234" is a thousands
 * group. The currency: the symbol most numbers of the sample carry, if any. The date
 * order: below.
 */
static void choose_locale(const sample *s, const cp_csv_options *o, char delim, cp_locale *loc)
{
    size_t comma = 0, point = 0, comma_or_3 = 0, dmy = 0, mdy = 0;
    size_t currency[32] = {0};
    for (size_t r = 0; r < s->n; r++) {
        for (size_t i = 0; i < s->nfields[r]; i++) {
            const cp_field *f = &s->rows[r][i];
            if (f->len == 0)
                continue;
            unsigned cur;
            switch (cp_decimal_evidence(f->data, f->len, &cur)) {
            case CP_DECIMAL_HINT_COMMA:
                comma++;
                break;
            case CP_DECIMAL_HINT_POINT:
                point++;
                break;
            case CP_DECIMAL_HINT_COMMA_OR_3:
                comma_or_3++;
                break;
            default:
                break;
            }
            if (cur && cur < sizeof currency / sizeof currency[0])
                currency[cur]++;
            cp_temporal t;
            if (cp_parse_temporal(f->data, f->len, CP_DATE_ORDER_UNKNOWN, &t) != CP_TEMPORAL_NONE) {
                if (t.orders == CP_ORDER_OK_DMY)
                    dmy++;
                else if (t.orders == CP_ORDER_OK_MDY)
                    mdy++;
            }
        }
    }
    if (o->decimal_sep)
        loc->decimal_sep = o->decimal_sep;
    else if (comma || point)
        loc->decimal_sep = comma > point ? ',' : '.';
    else
        loc->decimal_sep = comma_or_3 && delim != ',' ? ',' : '.';
    loc->currency = 0;
    for (unsigned k = 1; k < sizeof currency / sizeof currency[0]; k++)
        if (currency[k] > currency[loc->currency])
            loc->currency = (uint8_t)k;
    if (o->date_order != CP_DATE_ORDER_UNKNOWN)
        loc->date_order = o->date_order;
    else if (dmy > mdy)
        loc->date_order = CP_DATE_ORDER_DMY;
    else if (mdy > dmy)
        loc->date_order = CP_DATE_ORDER_MDY;
    else
        loc->date_order =
            (delim == ';' || loc->decimal_sep == ',') ? CP_DATE_ORDER_DMY : CP_DATE_ORDER_MDY;
}

/*
 * Excel's first line "sep=;" (also quoted, "\"sep=;\"", and with the delimiter repeated
 * after it as a spreadsheet saves it again): the file's delimiter. Returns it, or 0.
 */
static char excel_sep_line(const char *text, size_t len)
{
    size_t i = len > 0 && text[0] == '"';
    const bool quoted = i == 1;
    if (len < i + 5 || (text[i] != 's' && text[i] != 'S') ||
        (text[i + 1] != 'e' && text[i + 1] != 'E') || (text[i + 2] != 'p' && text[i + 2] != 'P') ||
        text[i + 3] != '=')
        return 0;
    const char c = text[i + 4];
    if (c == '\r' || c == '\n' || c == '"' || (unsigned char)c >= 0x80 || c == '\0')
        return 0;
    i += 5;
    if (quoted) {
        if (i >= len || text[i] != '"')
            return 0;
        i++;
    }
    while (i < len && (text[i] == c || text[i] == ',' || text[i] == ';'))
        i++;
    return i == len || text[i] == '\r' || text[i] == '\n' ? c : 0;
}

static bool blank(const cp_field *f)
{
    for (size_t i = 0; i < f->len; i++)
        if (f->data[i] != ' ' && f->data[i] != '\t')
            return false;
    return true;
}

static size_t nonblank(const sample *s, size_t r)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nfields[r]; i++)
        n += !blank(&s->rows[r][i]);
    return n;
}

static bool has_letter(const cp_field *f)
{
    for (size_t i = 0; i < f->len; i++) {
        unsigned char c = (unsigned char)f->data[i];
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            return true;
        if (c >= 0x80)
            return true;
    }
    return false;
}

static bool same_row(const sample *s, size_t a, size_t b)
{
    if (s->nfields[a] != s->nfields[b])
        return false;
    for (size_t i = 0; i < s->nfields[a]; i++) {
        const cp_field *x = &s->rows[a][i], *y = &s->rows[b][i];
        if (x->len != y->len || memcmp(x->data, y->data, x->len) != 0)
            return false;
    }
    return true;
}

/*
 * A title, note or group row above the header: few non-blank values for the width of
 * the table (a third of the columns at most, or half in a row of another length), and
 * text among them, or none at all. A row of numbers is data.
 */
static bool preamble_like(const sample *s, size_t r, size_t ncols, const cp_value_opts *vo)
{
    const size_t nb = nonblank(s, r), nf = s->nfields[r];
    if (!(nb * 3 <= ncols || (nf != ncols && nb * 2 <= ncols)))
        return false;
    if (nb == 0)
        return true;
    for (size_t i = 0; i < nf; i++) {
        const cp_field *f = &s->rows[r][i];
        if (!blank(f) && !cp_is_null_token(vo, f->data, f->len) &&
            cp_infer_value_type(f, vo).id == CP_TYPE_STRING)
            return true;
    }
    return false;
}

/* A row of two or more names: every value holds a letter and reads as text. */
static bool names_only(const sample *s, size_t r, const cp_value_opts *vo)
{
    size_t nb = 0;
    for (size_t i = 0; i < s->nfields[r]; i++) {
        const cp_field *f = &s->rows[r][i];
        if (blank(f))
            continue;
        if (!has_letter(f) || cp_is_null_token(vo, f->data, f->len) ||
            cp_infer_value_type(f, vo).id != CP_TYPE_STRING)
            return false;
        nb++;
    }
    return nb >= 2;
}

static bool typed(cp_type t)
{
    return t.id != CP_TYPE_STRING && t.id != CP_TYPE_NULL;
}

/*
 * The types of the body's columns (rows [from, n) without the rows that repeat the
 * header candidate), each worked out when first asked for: a header above a typed first
 * column is settled after one column, as a data row is after a pass.
 */
typedef struct body {
    const sample *s;
    const cp_value_opts *vo;
    size_t ncols, from;
    bool *repeat; /* per sample row */
    bool *known;  /* per column */
    cp_type *types;
} body;

static void body_release(body *b)
{
    free(b->repeat);
    free(b->known);
    free(b->types);
    memset(b, 0, sizeof *b);
}

static cp_status body_init(body *b, const sample *s, size_t ncols, const cp_value_opts *vo,
                           size_t from, size_t header)
{
    memset(b, 0, sizeof *b);
    b->s = s;
    b->vo = vo;
    b->ncols = ncols;
    b->from = from;
    b->repeat = calloc(s->n ? s->n : 1, sizeof *b->repeat);
    b->known = calloc(ncols ? ncols : 1, sizeof *b->known);
    b->types = calloc(ncols ? ncols : 1, sizeof *b->types);
    if (!b->repeat || !b->known || !b->types) {
        body_release(b);
        return CP_NOMEM;
    }
    size_t repeats = 0;
    for (size_t r = from; r < s->n; r++)
        repeats += b->repeat[r] = s->nfields[r] == s->nfields[header] && same_row(s, r, header);
    if (repeats * 2 >= s->n - from)
        memset(b->repeat, 0, s->n * sizeof *b->repeat); /* most rows alike: they are data */
    return CP_OK;
}

static cp_type body_type(body *b, size_t c)
{
    if (!b->known[c]) {
        cp_infer inf;
        cp_infer_init(&inf);
        for (size_t r = b->from; r < b->s->n; r++)
            if (!b->repeat[r] && c < b->s->nfields[r])
                cp_infer_add(&inf, &b->s->rows[r][c], b->vo);
        b->types[c] = cp_infer_type(&inf);
        b->known[c] = true;
    }
    return b->types[c];
}

/* The value of row r in column c when it says something: not blank, not a null token. */
static const cp_field *telling(const sample *s, size_t r, size_t c, const cp_value_opts *vo)
{
    if (c >= s->nfields[r])
        return NULL;
    const cp_field *f = &s->rows[r][c];
    return blank(f) || cp_is_null_token(vo, f->data, f->len) ? NULL : f;
}

/* Whether f, in a column of type t, is text where the column holds other kinds. */
static bool foreign(cp_type t, const cp_field *f, const cp_value_opts *vo)
{
    return cp_type_join(t, cp_infer_value_type(f, vo)).id == CP_TYPE_STRING;
}

/*
 * Whether the first-row values from column c on, in typed columns, are consecutive
 * integers, three or more (0,1,2 above numbers) or two or more years (2020,2021):
 * positions and years that name columns, unless the next row counts up the same way.
 * With any_column, the columns' types are not asked and the run is three or more (a
 * header of positions above columns of text). *end receives the end of the run.
 */
static bool integer_run(body *b, size_t h, size_t c, bool any_column, size_t *end)
{
    const sample *s = b->s;
    const size_t n = s->nfields[h] < b->ncols ? s->nfields[h] : b->ncols;
    const cp_locale *loc = &b->vo->locale;
    int64_t first, prev, w;
    size_t e = c;
    if (!cp_parse_int64(s->rows[h][c].data, s->rows[h][c].len, loc, &first))
        return false;
    prev = first;
    for (e = c + 1; e < n && cp_parse_int64(s->rows[h][e].data, s->rows[h][e].len, loc, &w) &&
                    prev < INT64_MAX && w == prev + 1 && (any_column || typed(body_type(b, e)));
         e++)
        prev = w;
    *end = e;
    const bool years = !any_column && first >= 1800 && first <= 2101 - (int64_t)(e - c);
    if (!(e - c >= 3 || (years && e - c >= 2)) || !(any_column || typed(body_type(b, c))))
        return false;
    if (h + 1 >= s->n || s->nfields[h + 1] < e)
        return true;
    for (size_t k = c; k + 1 < e; k++) {
        int64_t x, y;
        if (!cp_parse_int64(s->rows[h + 1][k].data, s->rows[h + 1][k].len, loc, &x) ||
            !cp_parse_int64(s->rows[h + 1][k + 1].data, s->rows[h + 1][k + 1].len, loc, &y) ||
            x == INT64_MAX || y != x + 1)
            return true;
    }
    return false;
}

/* Whether a value below row h in column c is of a kind that joins t short of text: a
   number below a number, a date below a date. */
static bool kind_below(const sample *s, size_t h, size_t c, cp_type t, const cp_value_opts *vo)
{
    for (size_t r = h + 1; r < s->n; r++) {
        const cp_field *f = telling(s, r, c, vo);
        if (!f)
            continue;
        const cp_type u = cp_infer_value_type(f, vo);
        if (u.id != CP_TYPE_STRING && cp_type_join(t, u).id != CP_TYPE_STRING)
            return true;
    }
    return false;
}

/* Whether a value of row h shows up in its column in a row below that is not a copy of h. */
static bool recurs_apart(const body *b, size_t h)
{
    const sample *s = b->s;
    for (size_t r = h + 1; r < s->n; r++) {
        if (b->repeat[r] || same_row(s, r, h))
            continue;
        const size_t n = s->nfields[r] < s->nfields[h] ? s->nfields[r] : s->nfields[h];
        for (size_t c = 0; c < n; c++) {
            const cp_field *x = &s->rows[h][c], *y = &s->rows[r][c];
            if (!blank(x) && x->len == y->len && memcmp(x->data, y->data, x->len) == 0)
                return true;
        }
    }
    return false;
}

/*
 * Whether row h is a header for the rows below it:
 *   - text above a typed column ("price" above numbers), or a run of consecutive
 *     integers above numbers (years), makes it a header;
 *   - otherwise a value of its column's kind in any typed column makes it data, and so
 *     does a number (a date, a boolean) above a column of blanks;
 *   - with no such evidence (all columns text, or blanks above the typed ones), a row of
 *     two or more values that repeats exactly below is a header (files pasted together),
 *     unless most rows are alike or one of its values shows up in the other rows (a
 *     value that comes back in a column of categories: happy,sad,happy); so are three or
 *     more consecutive integers (0,1,2 naming columns of text); otherwise it is a header
 *     unless half or more of its values recur below in their columns (data drawn from a
 *     few values) or are numbers, dates or booleans of a kind their column also holds
 *     below (in a column of text, "2018" above "R+15" names it).
 */
static bool is_header(body *b, size_t h)
{
    const sample *s = b->s;
    const cp_value_opts *vo = b->vo;
    if (h + 1 >= s->n) {
        /* a lone row is a header when its values are text */
        size_t nb = 0;
        for (size_t i = 0; i < s->nfields[h]; i++) {
            const cp_field *f = &s->rows[h][i];
            if (blank(f))
                continue;
            if (cp_is_null_token(vo, f->data, f->len) ||
                cp_infer_value_type(f, vo).id != CP_TYPE_STRING)
                return false;
            nb++;
        }
        return nb > 0;
    }
    bool fits = false;
    for (size_t c = 0; c < b->ncols; c++) {
        const cp_field *f = telling(s, h, c, vo);
        if (!f)
            continue;
        const cp_type t = body_type(b, c);
        if (t.id == CP_TYPE_NULL && cp_infer_value_type(f, vo).id != CP_TYPE_STRING)
            fits = true; /* a number above nothing but blanks: more like data than a name */
        if (!typed(t))
            continue;
        if (foreign(t, f, vo))
            return true;
        fits = true;
    }
    for (size_t c = 0; c < b->ncols; c++) {
        size_t e;
        if (telling(s, h, c, vo) && integer_run(b, h, c, false, &e))
            return true;
    }
    if (fits)
        return false;
    for (size_t c = 0; c < b->ncols; c++) {
        size_t e;
        if (telling(s, h, c, vo) && integer_run(b, h, c, true, &e))
            return true;
    }
    bool repeated = false;
    for (size_t r = b->from; r < s->n && !repeated; r++)
        repeated = b->repeat[r];
    if (repeated && nonblank(s, h) >= 2 && !recurs_apart(b, h))
        return true;
    size_t nb = 0, against = 0;
    for (size_t c = 0; c < s->nfields[h]; c++) {
        const cp_field *f = &s->rows[h][c];
        if (blank(f))
            continue;
        nb++;
        const cp_type t = cp_is_null_token(vo, f->data, f->len) ? cp_type_of(CP_TYPE_STRING)
                                                                : cp_infer_value_type(f, vo);
        if (t.id != CP_TYPE_STRING) {
            against += kind_below(s, h, c, t, vo); /* a number among numbers: data */
            continue;
        }
        for (size_t r = h + 1; r < s->n; r++) {
            if (c < s->nfields[r] && s->rows[r][c].len == f->len &&
                memcmp(s->rows[r][c].data, f->data, f->len) == 0) {
                against++; /* a value that recurs below */
                break;
            }
        }
    }
    return nb > 0 && against * 2 < nb;
}

/* A row under the header that labels the columns again: words above typed columns and no
   value of their kinds (a row of units, a survey tool's question texts). */
static bool labels_again(body *b, size_t r)
{
    bool words = false;
    for (size_t c = 0; c < b->ncols; c++) {
        const cp_field *f = telling(b->s, r, c, b->vo);
        if (!f || !typed(body_type(b, c)))
            continue;
        if (!foreign(b->types[c], f, b->vo))
            return false;
        words |= has_letter(f);
    }
    return words;
}

enum { MAX_PREAMBLE_ROWS = 50, MAX_SUBHEADER_ROWS = 3 };

typedef struct layout {
    size_t first;       /* the sample row where the table starts (after the preamble) */
    bool header;        /* row `first` is a header */
    size_t header_rows; /* rows of the header (with the rows under it that label again) */
} layout;

/* Where the table starts, whether it has a header and how many rows that spans. */
static cp_status find_layout(const sample *s, size_t ncols, const cp_csv_options *o,
                             const cp_value_opts *vo, layout *out)
{
    memset(out, 0, sizeof *out);
    size_t p = 0;
    if (o->skip_lines < 0) {
        while (p + 1 < s->n && p < MAX_PREAMBLE_ROWS && preamble_like(s, p, ncols, vo))
            p++;
        if (preamble_like(s, p, ncols, vo))
            p = 0;
        if (p == 0) {
            /* sparse rows of numbers (a row and a column count) above a row of names */
            size_t q = 0;
            while (q + 1 < s->n && q < MAX_PREAMBLE_ROWS && nonblank(s, q) * 3 <= ncols)
                q++;
            if (names_only(s, q, vo))
                p = q;
        }
    }
    body b;
    bool backed = false;
    for (;;) {
        /* the body's types leave out the rows where more header rows may be */
        const bool room = p + 1 + MAX_SUBHEADER_ROWS + 2 <= s->n;
        if (body_init(&b, s, ncols, vo, room ? p + 1 + MAX_SUBHEADER_ROWS : p + 1, p) != CP_OK)
            return CP_NOMEM;
        bool h = is_header(&b, p);
        if (p > 1 && !h && o->header != 1 && !backed && nonblank(s, p - 1) >= 2) {
            /* a header that names only the first columns looks like a preamble row */
            p--;
            backed = true;
            body_release(&b);
            continue;
        }
        if (p > 0 && !h && o->header != 1) {
            p = 0; /* a preamble is only skipped above a header */
            body_release(&b);
            continue;
        }
        out->first = p;
        out->header = o->header >= 0 ? o->header == 1 : h;
        if (out->header) {
            out->header_rows = 1;
            for (size_t r = p + 1; room && r < p + 1 + MAX_SUBHEADER_ROWS; r++) {
                if (same_row(s, r, p) || !labels_again(&b, r))
                    break;
                out->header_rows++;
            }
        }
        break;
    }
    body_release(&b);
    return CP_OK;
}

/* The text of the first n lines of text, each cut to fit, for people to see. */
static cp_status keep_preamble(const char *text, size_t len, uint64_t n, cp_sniff_result *out)
{
    const size_t shown = n < CP_SNIFF_MAX_PREAMBLE_SHOWN ? (size_t)n : CP_SNIFF_MAX_PREAMBLE_SHOWN;
    if (shown == 0)
        return CP_OK;
    out->preamble = calloc(shown, sizeof *out->preamble);
    if (!out->preamble)
        return CP_NOMEM;
    size_t i = 0;
    for (size_t k = 0; k < shown && i <= len; k++) {
        size_t e = i;
        while (e < len && text[e] != '\n' && text[e] != '\r')
            e++;
        size_t n_bytes = e - i < 200 ? e - i : 200;
        while (n_bytes > 0 && n_bytes < e - i && ((unsigned char)text[i + n_bytes] & 0xC0) == 0x80)
            n_bytes--;
        out->preamble[k] = malloc(n_bytes + 1);
        if (!out->preamble[k])
            return CP_NOMEM;
        memcpy(out->preamble[k], text + i, n_bytes);
        out->preamble[k][n_bytes] = '\0';
        out->npreamble = k + 1;
        i = e + (e < len);
        if (e < len && text[e] == '\r' && i < len && text[i] == '\n')
            i++;
    }
    return CP_OK;
}

cp_status cp_sniff(cp_source *src, const cp_csv_options *opts, cp_sniff_result *out, cp_error *err)
{
    cp_csv_options defaults;
    if (!opts) {
        cp_csv_options_default(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    const size_t sample_bytes = opts->sample_bytes ? opts->sample_bytes : (size_t)1 << 20;
    const size_t sample_rows = opts->sample_rows ? opts->sample_rows : 20000;
    uint8_t *raw = malloc(sample_bytes);
    char *text = malloc(CP_DECODE_ROOM(sample_bytes));
    sample smp;
    memset(&smp, 0, sizeof smp);
    cp_arena_init(&smp.arena, 0);
    cp_status st = CP_OK;
    if (!raw || !text) {
        st = cp_error_set(err, CP_NOMEM, "out of memory");
        goto out;
    }
    size_t n;
    if ((st = cp_source_read_full(src, raw, sample_bytes, &n, err)) != CP_OK)
        goto out;
    bool complete = n < sample_bytes;
    if (!complete) {
        uint8_t extra;
        size_t k;
        if ((st = cp_source_read(src, &extra, 1, &k, err)) != CP_OK)
            goto out;
        complete = k == 0;
    }
    out->sample_complete = complete;

    cp_dialect *d = &out->dialect;
    out->encoding_detected = opts->encoding == CP_ENC_AUTO;
    if (opts->encoding != CP_ENC_AUTO) {
        d->encoding = opts->encoding;
        if (n == 0) {
            st = cp_error_set(err, CP_EMPTY, "%s: the file is empty", src->name);
            goto out;
        }
    } else if ((st = cp_encoding_detect(raw, n, complete, &d->encoding, err)) != CP_OK) {
        cp_error_prefix(err, "%s", src->name);
        goto out;
    }
    cp_decoder dec;
    cp_decoder_init(&dec, d->encoding, out->encoding_detected);
    size_t consumed, tlen;
    st = cp_decoder_decode(&dec, raw, n, complete, text, &consumed, &tlen, err);
    if (st != CP_OK && tlen == 0) {
        cp_error_prefix(err, "%s", src->name);
        goto out;
    }
    st = CP_OK;
    d->encoding = dec.enc; /* UTF-8 may have become Windows-1252 */

    /* lines skipped before anything is read: --skip, or Excel's sep= line */
    const char sep = excel_sep_line(text, tlen);
    out->excel_sep = sep != 0;
    uint64_t skip = opts->skip_lines >= 0 ? (uint64_t)opts->skip_lines : sep ? 1 : 0;

    char quote = opts->quote ? opts->quote : '"';
    if (opts->delimiter)
        d->delimiter = opts->delimiter;
    else if (sep)
        d->delimiter = sep;
    else if ((st = choose_delimiter(text, tlen, complete, skip, opts, quote, &d->delimiter)) !=
             CP_OK) {
        cp_error_set(err, st, "%s: out of memory reading the sample", src->name);
        goto out;
    }
    if (opts->quote)
        d->quote = opts->quote;
    else if ((st = choose_quote(text, tlen, complete, skip, opts, d->delimiter, &d->quote)) !=
             CP_OK) {
        cp_error_set(err, st, "%s: out of memory reading the sample", src->name);
        goto out;
    }

    scan_stats ss;
    if ((st = scan(text, tlen, complete, skip, d->delimiter, d->quote, sample_rows + 1,
                   &opts->limits, &smp, &ss)) != CP_OK) {
        cp_error_set(err, st, "%s: out of memory reading the sample", src->name);
        goto out;
    }
    if (smp.n == 0) {
        if (ss.fatal != CP_OK) {
            if (err)
                *err = ss.fatal_err;
            cp_error_prefix(err, "%s", src->name);
            st = ss.fatal;
        } else if (ss.rows > 0) {
            st = cp_error_set(err, CP_BAD_QUOTE,
                              "%s: no row of the first %zu bytes could be read: each has text "
                              "after a closing quote (a quote inside a quoted field must be "
                              "doubled)",
                              src->name, tlen);
        } else if (opts->skip_lines > 0) {
            st = cp_error_set(err, CP_EMPTY,
                              "%s: no rows after the %llu lines skipped (--skip, or a schema's "
                              "skipped_lines); the header must start within the first %zu bytes",
                              src->name, (unsigned long long)skip, sample_bytes);
        } else if (skip > 0) {
            st = cp_error_set(err, CP_EMPTY, "%s: the file has no rows after Excel's sep= line",
                              src->name);
        } else {
            st = cp_error_set(err, CP_EMPTY, "%s: the file has no rows (only blank lines)",
                              src->name);
        }
        goto out;
    }
    /* the line ending, from a tokenizer pass over the first rows */
    {
        mem_text m = {text, tlen, 0};
        cp_tokenizer_options o = opts->limits;
        o.delimiter = d->delimiter;
        o.quote = d->quote;
        o.chunk_bytes = tlen + 64 < o.chunk_bytes ? tlen + 64 : o.chunk_bytes;
        cp_tokenizer *t = cp_tokenizer_new(&o, mem_fill, &m);
        cp_row row;
        if (!t) {
            st = cp_error_set(err, CP_NOMEM, "%s: out of memory reading the sample", src->name);
            goto out;
        }
        for (int i = 0; i < 2; i++)
            if (cp_tokenizer_next(t, &row, NULL) != CP_OK || row.nfields == 0)
                break;
        d->line_ending = cp_tokenizer_line_ending(t);
        cp_tokenizer_free(t);
    }

    d->values.null_tokens = opts->null_tokens;
    size_t ncols = ss.modal ? ss.modal : smp.nfields[0];
    if (ncols == 0)
        ncols = 1;
    choose_locale(&smp, opts, d->delimiter, &d->values.locale);
    layout lay;
    if ((st = find_layout(&smp, ncols, opts, &d->values, &lay)) != CP_OK)
        goto nomem;
    const size_t h = lay.first;
    d->header = lay.header;
    d->header_rows = lay.header ? (unsigned)lay.header_rows : 0;
    d->skip_lines = h > 0 ? smp.lines[h] - 1 : skip;
    if ((st = keep_preamble(text, tlen, d->skip_lines, out)) != CP_OK)
        goto nomem;
    if (d->header && smp.nfields[h] > ncols)
        ncols = smp.nfields[h];

    if ((st = cp_schema_init(&out->schema, ncols)) != CP_OK)
        goto nomem;
    out->columns = calloc(ncols, sizeof *out->columns);
    if (!out->columns)
        goto nomem;
    const size_t first = h + d->header_rows;
    /* rows that repeat the header are left out, as the reader skips them */
    size_t kept = first, repeats = 0;
    for (size_t r = first; r < smp.n; r++)
        repeats += d->header && smp.nfields[r] == smp.nfields[h] && same_row(&smp, r, h);
    if (repeats * 2 < smp.n - first) {
        for (size_t r = first; r < smp.n; r++) {
            if (repeats && smp.nfields[r] == smp.nfields[h] && same_row(&smp, r, h))
                continue;
            smp.rows[kept] = smp.rows[r];
            smp.nfields[kept++] = smp.nfields[r];
        }
        d->repeats_header = repeats > 0;
        smp.n = kept;
    }
    out->sample_rows = smp.n - first;
    for (size_t c = 0; c < ncols; c++) {
        cp_infer *inf = &out->columns[c];
        cp_infer_init(inf);
        for (size_t r = first; r < smp.n; r++) {
            static const cp_field missing = {"", 0, false};
            cp_infer_add(inf, c < smp.nfields[r] ? &smp.rows[r][c] : &missing, &d->values);
        }
        cp_type t = cp_infer_type(inf);
        out->schema.columns[c].type = t.id == CP_TYPE_NULL ? cp_type_of(CP_TYPE_STRING) : t;
    }
    {
        const char **names = NULL;
        size_t *lens = NULL;
        if (d->header) {
            names = calloc(ncols, sizeof *names);
            lens = calloc(ncols, sizeof *lens);
            if (!names || !lens) {
                free(names);
                free(lens);
                goto nomem;
            }
            for (size_t c = 0; c < ncols; c++) {
                names[c] = c < smp.nfields[h] ? smp.rows[h][c].data : "";
                lens[c] = c < smp.nfields[h] ? smp.rows[h][c].len : 0;
            }
        }
        st = cp_schema_set_names(&out->schema, names, lens, cp_reserved_names);
        free(names);
        free(lens);
        if (st != CP_OK)
            goto nomem;
    }
    goto out;
nomem:
    st = cp_error_set(err, CP_NOMEM, "out of memory");
out:
    sample_release(&smp);
    free(raw);
    free(text);
    if (st != CP_OK)
        cp_sniff_result_release(out);
    return st;
}

void cp_sniff_result_release(cp_sniff_result *r)
{
    cp_schema_release(&r->schema);
    free(r->columns);
    r->columns = NULL;
    for (size_t i = 0; i < r->npreamble; i++)
        free(r->preamble[i]);
    free(r->preamble);
    r->preamble = NULL;
    r->npreamble = 0;
}
