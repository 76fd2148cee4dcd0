#include "csv/sniff.h"
#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

const char *const cp_reserved_names[] = {"_source", "_row", "_dataset", NULL};

void cp_csv_options_default(cp_csv_options *o)
{
    memset(o, 0, sizeof *o);
    o->header = -1;
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

/* The rows of the sample, copied out of the tokenizer. */
typedef struct sample {
    cp_arena arena;
    cp_field **rows;
    size_t *nfields;
    size_t n, cap;
} sample;

static void sample_release(sample *s)
{
    cp_arena_release(&s->arena);
    free(s->rows);
    free(s->nfields);
    memset(s, 0, sizeof *s);
}

static cp_status sample_add(sample *s, const cp_row *row)
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
        s->cap = nc;
    }
    cp_field *fields = cp_arena_alloc(&s->arena, row->nfields * sizeof *fields);
    if (!fields)
        return CP_NOMEM;
    for (size_t i = 0; i < row->nfields; i++) {
        char *d = cp_arena_strndup(&s->arena, row->fields[i].data, row->fields[i].len);
        if (!d)
            return CP_NOMEM;
        fields[i].data = d;
        fields[i].len = row->fields[i].len;
        fields[i].quoted = row->fields[i].quoted;
    }
    s->rows[s->n] = fields;
    s->nfields[s->n] = row->nfields;
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
    static const cp_locale comma = {',', CP_DATE_ORDER_UNKNOWN};
    static const cp_locale point = {'.', CP_DATE_ORDER_UNKNOWN};
    cp_num n;
    return cp_scan_number(f->data, f->len, &comma, &n) == CP_NUM_DECIMAL &&
           cp_scan_number(f->data, f->len, &point, &n) == CP_NUM_NONE;
}

static bool is_decimal_point(const cp_field *f)
{
    static const cp_locale comma = {',', CP_DATE_ORDER_UNKNOWN};
    static const cp_locale point = {'.', CP_DATE_ORDER_UNKNOWN};
    cp_num n;
    return cp_scan_number(f->data, f->len, &point, &n) == CP_NUM_DECIMAL &&
           cp_scan_number(f->data, f->len, &comma, &n) == CP_NUM_NONE;
}

/*
 * Tokenizes the sample text with one dialect. Keeps the rows in `keep` when given. When
 * the sample is not the whole file its last row may be cut, so it is left out.
 */
static cp_status scan(const char *text, size_t len, bool complete, char delim, char quote,
                      size_t max_rows, const cp_tokenizer_options *limits, sample *keep,
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
    if (!counts) {
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
        if (keep && (ret = sample_add(keep, &row)) != CP_OK)
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

static cp_status choose_delimiter(const char *text, size_t len, bool complete,
                                  const cp_csv_options *o, char quote, char *out)
{
    scan_stats best_st;
    memset(&best_st, 0, sizeof best_st);
    char best = 0;
    const size_t rows = o->sample_rows < 5000 ? o->sample_rows : 5000;
    for (size_t i = 0; i < sizeof delimiter_candidates; i++) {
        char d = delimiter_candidates[i];
        scan_stats st;
        CP_RETURN_IF_ERROR(scan(text, len, complete, d, quote, rows, &o->limits, NULL, &st));
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

static cp_status choose_quote(const char *text, size_t len, bool complete, const cp_csv_options *o,
                              char delim, char *out)
{
    *out = '"';
    if (memchr(text, '"', len) || !memchr(text, '\'', len))
        return CP_OK;
    scan_stats dq, sq;
    const size_t rows = o->sample_rows < 5000 ? o->sample_rows : 5000;
    CP_RETURN_IF_ERROR(scan(text, len, complete, delim, '"', rows, &o->limits, NULL, &dq));
    CP_RETURN_IF_ERROR(scan(text, len, complete, delim, '\'', rows, &o->limits, NULL, &sq));
    /* single quotes only when they wrap whole fields and keep the rows consistent */
    if (sq.quoted * 4 >= sq.rows && sq.fatal == CP_OK && consistency(&sq) >= consistency(&dq))
        *out = '\'';
    return CP_OK;
}

static void choose_locale(const sample *s, const cp_csv_options *o, char delim, cp_locale *loc)
{
    size_t dec_comma = 0, dec_point = 0, dmy = 0, mdy = 0;
    for (size_t r = 0; r < s->n; r++) {
        for (size_t i = 0; i < s->nfields[r]; i++) {
            const cp_field *f = &s->rows[r][i];
            if (f->len == 0)
                continue;
            if (is_decimal_comma(f))
                dec_comma++;
            else if (is_decimal_point(f))
                dec_point++;
            cp_temporal t;
            if (cp_parse_temporal(f->data, f->len, CP_DATE_ORDER_UNKNOWN, &t) != CP_TEMPORAL_NONE) {
                if (t.orders == CP_ORDER_OK_DMY)
                    dmy++;
                else if (t.orders == CP_ORDER_OK_MDY)
                    mdy++;
            }
        }
    }
    loc->decimal_sep = o->decimal_sep ? o->decimal_sep : (dec_comma > dec_point ? ',' : '.');
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

static bool first_row_is_header(const sample *s, size_t ncols, const cp_value_opts *vo)
{
    if (s->n == 0)
        return false;
    const cp_field *h = s->rows[0];
    size_t hn = s->nfields[0];
    if (s->n == 1) {
        /* a lone row is a header when it is all non-empty text */
        for (size_t i = 0; i < hn; i++) {
            if (cp_is_null_token(vo, h[i].data, h[i].len) ||
                cp_infer_value_type(&h[i], vo).id != CP_TYPE_STRING)
                return false;
        }
        return true;
    }
    bool any_typed = false;
    for (size_t c = 0; c < ncols && c < hn; c++) {
        cp_infer inf;
        cp_infer_init(&inf);
        for (size_t r = 1; r < s->n; r++)
            if (c < s->nfields[r])
                cp_infer_add(&inf, &s->rows[r][c], vo);
        cp_type t = cp_infer_type(&inf);
        if (t.id == CP_TYPE_STRING || t.id == CP_TYPE_NULL)
            continue;
        any_typed = true;
        if (cp_is_null_token(vo, h[c].data, h[c].len))
            continue;
        bool is_null;
        cp_value v;
        if (!cp_parse_value(t, &h[c], vo, &is_null, &v))
            return true; /* "price" above numbers */
    }
    if (any_typed)
        return false;
    /* all text: a header has non-empty, distinct values that do not recur below */
    for (size_t c = 0; c < hn; c++) {
        if (cp_is_null_token(vo, h[c].data, h[c].len))
            return false;
        for (size_t k = 0; k < c; k++)
            if (h[k].len == h[c].len && memcmp(h[k].data, h[c].data, h[c].len) == 0)
                return false;
        for (size_t r = 1; r < s->n; r++)
            if (c < s->nfields[r] && s->rows[r][c].len == h[c].len &&
                memcmp(s->rows[r][c].data, h[c].data, h[c].len) == 0)
                return false;
    }
    return true;
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

    char quote = opts->quote ? opts->quote : '"';
    if (opts->delimiter)
        d->delimiter = opts->delimiter;
    else if ((st = choose_delimiter(text, tlen, complete, opts, quote, &d->delimiter)) != CP_OK) {
        cp_error_set(err, st, "%s: out of memory reading the sample", src->name);
        goto out;
    }
    if (opts->quote)
        d->quote = opts->quote;
    else if ((st = choose_quote(text, tlen, complete, opts, d->delimiter, &d->quote)) != CP_OK) {
        cp_error_set(err, st, "%s: out of memory reading the sample", src->name);
        goto out;
    }

    scan_stats ss;
    if ((st = scan(text, tlen, complete, d->delimiter, d->quote, sample_rows + 1, &opts->limits,
                   &smp, &ss)) != CP_OK) {
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
    choose_locale(&smp, opts, d->delimiter, &d->values.locale);
    size_t ncols = ss.modal ? ss.modal : smp.nfields[0];
    if (opts->header >= 0)
        d->header = opts->header == 1;
    else
        d->header = first_row_is_header(&smp, ncols, &d->values);
    if (d->header && smp.nfields[0] > ncols)
        ncols = smp.nfields[0];
    if (ncols == 0)
        ncols = 1;

    if ((st = cp_schema_init(&out->schema, ncols)) != CP_OK)
        goto nomem;
    out->columns = calloc(ncols, sizeof *out->columns);
    if (!out->columns)
        goto nomem;
    size_t first = d->header ? 1 : 0;
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
                names[c] = c < smp.nfields[0] ? smp.rows[0][c].data : "";
                lens[c] = c < smp.nfields[0] ? smp.rows[0][c].len : 0;
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
}
