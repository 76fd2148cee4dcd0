#include "csv/reader.h"

#include <string.h>

cp_status cp_csv_reader_open(cp_csv_reader *r, cp_source *src, const cp_dialect *d, bool detected,
                             const cp_tokenizer_options *limits, cp_error *err)
{
    memset(r, 0, sizeof *r);
    r->dialect = *d;
    CP_RETURN_IF_ERROR(cp_source_rewind(src, err));
    cp_tokenizer_options o;
    if (limits)
        o = *limits;
    else
        cp_tokenizer_options_default(&o);
    o.delimiter = d->delimiter;
    o.quote = d->quote;
    if (cp_text_reader_init(&r->text, src, d->encoding, detected, 0) != CP_OK)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    r->tok = cp_tokenizer_new(&o, cp_text_reader_fill, &r->text);
    if (!r->tok) {
        cp_text_reader_release(&r->text);
        return cp_error_set(err, CP_NOMEM, "out of memory");
    }
    r->skip_header = d->header;
    return CP_OK;
}

cp_status cp_csv_reader_next(cp_csv_reader *r, cp_row *row, cp_error *err)
{
    for (;;) {
        cp_status st = cp_tokenizer_next(r->tok, row, err);
        if (st == CP_OK && row->nfields == 0)
            return CP_OK;
        if (r->skip_header && (st == CP_OK || st == CP_BAD_QUOTE)) {
            r->skip_header = false;
            continue;
        }
        if (st == CP_OK || st == CP_BAD_QUOTE)
            r->data_rows++;
        return st;
    }
}

cp_encoding cp_csv_reader_encoding(const cp_csv_reader *r)
{
    return r->text.dec.enc;
}

void cp_csv_reader_close(cp_csv_reader *r)
{
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
