#include "csv/reader.h"

#include <stdlib.h>
#include <string.h>

/*
 * Zeroes r and starts it in dialect d on src: text in encoding enc (detected: found by
 * sniffing) continued from dec's state when dec is not NULL, tokenized with limits (NULL:
 * the defaults). Out of memory leaves nothing to release.
 */
static cp_status start(cp_csv_reader *r, cp_source *src, const cp_dialect *d, cp_encoding enc,
                       bool detected, const cp_decoder *dec, const cp_tokenizer_options *limits,
                       cp_error *err)
{
    memset(r, 0, sizeof *r);
    r->dialect = *d;
    cp_tokenizer_options o;
    if (limits)
        o = *limits;
    else
        cp_tokenizer_options_default(&o);
    o.delimiter = d->delimiter;
    o.quote = d->quote;
    if (cp_text_reader_init(&r->text, src, enc, detected, 0) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    if (dec)
        r->text.dec = *dec;
    r->tok = cp_tokenizer_new(&o, cp_text_reader_fill, &r->text);
    if (!r->tok) {
        cp_text_reader_release(&r->text);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    return CP_OK;
}

cp_status cp_csv_reader_open(cp_csv_reader *r, cp_source *src, const cp_dialect *d, bool detected,
                             const cp_tokenizer_options *limits, cp_error *err)
{
    memset(r, 0, sizeof *r);
    CP_RETURN_IF_ERROR(cp_source_rewind(src, err));
    CP_RETURN_IF_ERROR(start(r, src, d, d->encoding, detected, NULL, limits, err));
    cp_status st = cp_tokenizer_skip_lines(r->tok, d->skip_lines, err);
    if (st != CP_OK) {
        cp_csv_reader_close(r);
        return st;
    }
    r->skip_rows = d->header ? (d->header_rows ? d->header_rows : 1) : 0;
    r->slow = r->skip_rows > 0 || d->repeats_header;
    return CP_OK;
}

/* Keeps a copy of the header row to recognize it when the data repeats it. */
static __attribute__((noinline)) cp_status keep_header(cp_csv_reader *r, const cp_row *row)
{
    size_t bytes = 0;
    for (size_t i = 0; i < row->nfields; i++)
        bytes += row->fields[i].len;
    r->header = malloc(row->nfields * sizeof *r->header);
    r->header_text = malloc(bytes ? bytes : 1);
    if (!r->header || !r->header_text)
        return CP_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < row->nfields; i++) {
        memcpy(r->header_text + o, row->fields[i].data, row->fields[i].len);
        r->header[i].data = r->header_text + o;
        r->header[i].len = row->fields[i].len;
        r->header[i].quoted = false;
        o += row->fields[i].len;
    }
    r->header_nfields = row->nfields;
    r->header_len0 = row->fields[0].len;
    return CP_OK;
}

/* Keeps a copy of like's header row (a reader of the same file opened before). */
static cp_status copy_header(cp_csv_reader *r, const cp_csv_reader *like)
{
    if (!like || !like->header)
        return CP_OK;
    const cp_row row = {.fields = like->header, .nfields = like->header_nfields};
    return keep_header(r, &row);
}

cp_status cp_csv_reader_open_at(cp_csv_reader *r, cp_source *src, const cp_dialect *d,
                                const cp_decoder *dec, const cp_csv_reader *like,
                                const cp_tokenizer_options *limits, cp_error *err)
{
    CP_RETURN_IF_ERROR(start(r, src, d, dec->enc, false, dec, limits, err));
    if (copy_header(r, like) != CP_OK) {
        cp_csv_reader_close(r);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    r->slow = d->repeats_header;
    return CP_OK;
}

/* Out of line: the caller's test on the field count and first length rules out most rows. */
static __attribute__((noinline)) bool repeats_header(const cp_csv_reader *r, const cp_row *row)
{
    for (size_t i = 1; i < row->nfields; i++)
        if (row->fields[i].len != r->header[i].len ||
            memcmp(row->fields[i].data, r->header[i].data, row->fields[i].len) != 0)
            return false;
    return memcmp(row->fields[0].data, r->header[0].data, row->fields[0].len) == 0;
}

bool cp_csv_reader_drop_repeat(cp_csv_reader *r, const cp_row *row)
{
    if (row->nfields != r->header_nfields || row->fields[0].len != r->header_len0 ||
        !repeats_header(r, row))
        return false;
    r->repeated_headers++;
    return true;
}

/* The header rows still to skip, and rows that repeat the header. */
static __attribute__((noinline)) bool skip_row(cp_csv_reader *r, cp_status st, const cp_row *row,
                                               cp_status *fail)
{
    *fail = CP_OK;
    if (r->skip_rows && (st == CP_OK || st == CP_BAD_QUOTE)) {
        if (st == CP_OK && !r->header && r->dialect.header && keep_header(r, row) != CP_OK)
            *fail = CP_NOMEM;
        r->skip_rows--;
        r->slow = r->skip_rows > 0 || r->dialect.repeats_header;
        return true;
    }
    return st == CP_OK && r->dialect.repeats_header && cp_csv_reader_drop_repeat(r, row);
}

/* cp_csv_reader_next while header rows are to be skipped or repeats looked for. */
static __attribute__((noinline)) cp_status next_slow(cp_csv_reader *r, cp_status st, cp_row *row,
                                                     cp_error *err)
{
    for (;;) {
        if (st == CP_OK && row->nfields == 0)
            return CP_OK;
        cp_status fail;
        if (!skip_row(r, st, row, &fail)) {
            if (st == CP_OK || st == CP_BAD_QUOTE)
                r->data_rows++;
            return st;
        }
        if (fail != CP_OK)
            return cp_error_set(err, fail, "out of memory");
        st = cp_tokenizer_next(r->tok, row, err);
    }
}

cp_status cp_csv_reader_next(cp_csv_reader *r, cp_row *row, cp_error *err)
{
    cp_status st = cp_tokenizer_next(r->tok, row, err);
    if (r->slow)
        return next_slow(r, st, row, err);
    if ((st == CP_OK && row->nfields > 0) || st == CP_BAD_QUOTE)
        r->data_rows++;
    return st;
}

cp_encoding cp_csv_reader_encoding(const cp_csv_reader *r)
{
    return r->text.dec.enc;
}

void cp_csv_reader_close(cp_csv_reader *r)
{
    free(r->header);
    free(r->header_text);
    r->header = NULL;
    r->header_text = NULL;
    r->header_nfields = 0;
    cp_tokenizer_free(r->tok);
    r->tok = NULL;
    cp_text_reader_release(&r->text);
}

const char *cp_delimiter_name(char c)
{
    switch (c) {
    case ',':
        return ",";
    case ';':
        return ";";
    case '\t':
        return "\\t";
    case '|':
        return "|";
    case '"':
        return "\"";
    case '\'':
        return "'";
    }
    return "?";
}
