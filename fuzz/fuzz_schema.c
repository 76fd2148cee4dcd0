/*
 * libFuzzer target: a schema file (--schema, CSVPIPE_SCHEMA_PREFIX) through
 * cp_overrides_parse_schema, its dialect into the sniffer, its columns applied to the
 * sniffed file, and the file streamed with the forced types.
 *
 * Input: one control byte, then the schema's JSON. The control byte's low two bits pick
 * one of four small CSV files (header or not, ';' or ',', decimal comma); with bit 7 set
 * the text up to the first newline is a --type argument and the rest the JSON.
 *
 * Checked: a parse is CP_OK or CP_BAD_SCHEMA (or CP_NOMEM) and a failure has a message that
 * names the file and leaves no half schema behind; a schema that parses gives only valid
 * dialect values, and the sniffer skips exactly its skipped_lines; applying is CP_OK,
 * CP_BAD_SCHEMA or CP_USAGE (a --type) with a message; after it every column name is a
 * valid, unique, unreserved name and every forced type formats and parses back; streaming
 * then counts what it hands out, gives every rejected row a reason, and never widens a
 * forced type.
 */
#include "csv/overrides.h"
#include "csv/stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const files[4] = {
    "Order ID,Customer,Qty,Unit Price,Ordered\n1001,Ana,3,19.9,2024-03-01\n"
    "1002,Bob,x,250,2024-03-02\n1003,Chen,12,3.5,2024-03-02 10:00:00\n",
    "1;00501;2,5\n2;10001;3\n3;;1,25\n",
    "Nome;Valor;Pago\nCafé;1,50;sim\nPão;2,25;true\nLeite;4,00;false\n",
    "a,a,b\n1,2,3\n4,5,6,7\n\"8\",\"9\n",
};

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CP_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    for (const char *const *r = cp_reserved_names; *r; r++)
        if (strcmp(*r, s) == 0)
            return false;
    return true;
}

typedef struct counts {
    uint64_t rows, rejected;
} counts;

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    ((counts *)ctx)->rows += b->nrows;
    return CP_OK;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    if (!why->message[0])
        abort();
    ((counts *)ctx)->rejected++;
    return CP_OK;
}

static cp_status on_restart(void *ctx, const cp_schema *s, cp_error *err)
{
    memset(ctx, 0, sizeof(counts));
    return CP_OK;
}

static void check_applied(const cp_sniff_result *sr)
{
    const cp_schema *s = &sr->schema;
    for (size_t i = 0; i < s->ncolumns; i++) {
        if (!valid_name(s->columns[i].name))
            abort();
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->columns[k].name, s->columns[i].name) == 0)
                abort();
        char name[32];
        cp_type back;
        if (!cp_type_parse(cp_type_format(s->columns[i].type, name, sizeof name), &back) ||
            !cp_type_equal(back, s->columns[i].type) || back.id == CP_TYPE_NULL)
            abort();
    }
}

static void stream(const char *csv, cp_sniff_result *sr, const cp_csv_options *opts)
{
    cp_type before[16];
    size_t n = sr->schema.ncolumns < 16 ? sr->schema.ncolumns : 16;
    for (size_t i = 0; i < n; i++)
        before[i] = sr->schema.columns[i].type;
    cp_source *src = cp_source_open_memory(csv, strlen(csv), "f.csv");
    if (!src)
        abort();
    counts c = {0, 0};
    cp_stream_callbacks cb = {on_batch, on_reject, on_restart, &c, NULL, NULL};
    cp_stream_stats stats;
    cp_error err;
    cp_error_clear(&err);
    cp_status st = cp_csv_stream(src, sr, opts, NULL, &cb, &stats, &err);
    if (st != CP_OK && !err.message[0])
        abort();
    if (st == CP_OK && (c.rows != stats.rows || c.rejected != stats.rejected))
        abort();
    for (size_t i = 0; i < n; i++)
        if (sr->schema.columns[i].forced && !cp_type_equal(before[i], sr->schema.columns[i].type))
            abort(); /* a forced type was widened */
    cp_source_free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t ctl = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    cp_overrides o;
    cp_overrides_init(&o);
    cp_error err;
    cp_error_clear(&err);
    if (ctl & 0x80) {
        const char *nl = memchr(text, '\n', len);
        size_t k = nl ? (size_t)(nl - text) : len;
        char *arg = strndup(text, k);
        if (!arg)
            return 0;
        if (!memchr(text, '\0', k)) {
            cp_status st = cp_overrides_add_type(&o, arg, &err);
            if (st != CP_OK && (st != CP_USAGE || !err.message[0]))
                abort();
        }
        free(arg);
        text += nl ? k + 1 : k;
        len -= nl ? k + 1 : k;
    }
    cp_status st = cp_overrides_parse_schema(&o, text, len, "schema.json", &err);
    if (st != CP_OK) {
        if ((st != CP_BAD_SCHEMA && st != CP_NOMEM) || !err.message[0] ||
            (st == CP_BAD_SCHEMA && strncmp(err.message, "schema.json: ", 13) != 0) ||
            o.schema_name || o.ncolumns)
            abort();
        cp_overrides_release(&o);
        return 0;
    }
    if ((o.delimiter && (o.delimiter == '\n' || o.delimiter == '\r' || o.delimiter == o.quote)) ||
        (o.decimal_sep && o.decimal_sep != '.' && o.decimal_sep != ',') || o.header < -1 ||
        o.header > 1 || o.skip_lines < -1)
        abort();
    for (size_t i = 0; i < o.ncolumns; i++)
        if (o.columns[i].name && !valid_name(o.columns[i].name))
            abort();

    const char *csv = files[ctl & 3];
    cp_csv_options opts;
    cp_csv_options_default(&opts);
    cp_overrides_dialect(&o, &opts);
    cp_source *src = cp_source_open_memory(csv, strlen(csv), "f.csv");
    if (!src)
        abort();
    cp_sniff_result sr;
    st = cp_sniff(src, &opts, &sr, &err);
    cp_source_free(src);
    if (st == CP_OK && o.skip_lines >= 0 && sr.dialect.skip_lines != (uint64_t)o.skip_lines)
        abort(); /* the schema's skipped_lines is --skip */
    if (st != CP_OK) {
        if (!err.message[0])
            abort();
        cp_overrides_release(&o);
        return 0;
    }
    st = cp_overrides_apply(&o, &sr, "f.csv", &err);
    if (st == CP_OK) {
        check_applied(&sr);
        stream(csv, &sr, &opts);
    } else if ((st != CP_BAD_SCHEMA && st != CP_USAGE && st != CP_NOMEM) || !err.message[0]) {
        abort();
    }
    cp_sniff_result_release(&sr);
    cp_overrides_release(&o);
    return 0;
}
