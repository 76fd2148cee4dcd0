/*
 * csvpipe inspect FILE: what csvpipe sees in a CSV file. Sniffs the dialect and the
 * schema, then streams the whole file once (widening types and restarting when a later
 * value needs it) to count rows, rejected rows and nulls exactly.
 */
#include "cli/cli.h"
#include "csv/stream.h"
#include "util/decompress.h"
#include "util/json_escape.h"

#include <stdlib.h>
#include <string.h>

static const char usage[] = "usage: csvpipe inspect [options] FILE\n"
                            "\n"
                            "Prints the detected compression, encoding, delimiter, quote, the\n"
                            "lines skipped above the header, header, decimal separator,\n"
                            "currency and date order, the exact row count, and per column its\n"
                            "name, original header, type, null count and an example value.\n"
                            "FILE may be - for standard input. Files compressed with gzip,\n"
                            "zstd, bzip2 or xz are read as they are.\n"
                            "\n"
                            "  --json                one JSON object instead of text\n";

#define MAX_SHOWN_REJECTS 10

typedef struct inspect_state {
    size_t ncols;
    uint64_t *nulls;
    size_t nshown;
    char shown[MAX_SHOWN_REJECTS][1100];
} inspect_state;

static cp_status on_batch(void *ctx, const cp_batch *b, cp_error *err)
{
    inspect_state *s = ctx;
    for (size_t c = 0; c < s->ncols; c++)
        s->nulls[c] += b->cols[c].nnulls;
    return CP_OK;
}

static cp_status on_reject(void *ctx, const cp_row *row, const cp_error *why, cp_error *err)
{
    inspect_state *s = ctx;
    if (s->nshown < MAX_SHOWN_REJECTS)
        snprintf(s->shown[s->nshown++], sizeof s->shown[0], "line %llu: %s",
                 (unsigned long long)row->line, why->message);
    return CP_OK;
}

static cp_status on_restart(void *ctx, const cp_schema *widened, cp_error *err)
{
    inspect_state *s = ctx;
    memset(s->nulls, 0, s->ncols * sizeof *s->nulls);
    s->nshown = 0;
    return CP_OK;
}

static const char *date_order_name(cp_date_order o)
{
    return o == CP_DATE_ORDER_DMY   ? "day-first"
           : o == CP_DATE_ORDER_MDY ? "month-first"
                                    : "unknown";
}

static cp_status print_json(const char *file, const cp_sniff_result *sr, const cp_stream_stats *st,
                            const inspect_state *s)
{
    cp_buf out;
    cp_buf_init(&out, CP_BUF_UNLIMITED);
    bool ok = true;
    const cp_dialect *d = &sr->dialect;
    char delim[2] = {d->delimiter, 0}, quote[2] = {d->quote, 0},
         dec[2] = {d->values.locale.decimal_sep, 0};
    ok &= cp_buf_append_str(&out, "{\"file\":") == CP_OK;
    ok &= cp_json_append_string(&out, file, strlen(file)) == CP_OK;
    ok &= cp_buf_printf(&out, ",\"compression\":\"%s\",\"encoding\":\"%s\",\"delimiter\":",
                        cp_compression_name(st->compression),
                        cp_encoding_name(st->encoding)) == CP_OK;
    ok &= cp_json_append_string(&out, delim, 1) == CP_OK;
    ok &= cp_buf_append_str(&out, ",\"quote\":") == CP_OK;
    ok &= cp_json_append_string(&out, quote, 1) == CP_OK;
    ok &= cp_buf_printf(&out, ",\"skipped_lines\":%llu,\"preamble\":[",
                        (unsigned long long)d->skip_lines) == CP_OK;
    for (size_t i = 0; i < sr->npreamble; i++) {
        if (i)
            ok &= cp_buf_append_char(&out, ',') == CP_OK;
        ok &= cp_json_append_string(&out, sr->preamble[i], strlen(sr->preamble[i])) == CP_OK;
    }
    ok &= cp_buf_printf(&out, "],\"excel_sep_line\":%s", sr->excel_sep ? "true" : "false") == CP_OK;
    const char *currency = cp_currency_symbol(d->values.locale.currency);
    ok &= cp_buf_printf(&out,
                        ",\"header\":%s,\"header_rows\":%u,\"repeated_headers\":%llu,"
                        "\"line_ending\":\"%s\",\"decimal_separator\":\"%s\",\"currency\":",
                        d->header ? "true" : "false", d->header_rows,
                        (unsigned long long)st->repeated_headers, d->line_ending, dec) == CP_OK;
    if (currency)
        ok &= cp_json_append_string(&out, currency, strlen(currency)) == CP_OK;
    else
        ok &= cp_buf_append_str(&out, "null") == CP_OK;
    ok &= cp_buf_printf(&out,
                        ",\"date_order\":\"%s\",\"rows\":%llu,\"rejected_rows\":%llu,"
                        "\"restarts\":%u,\"columns\":[",
                        date_order_name(d->values.locale.date_order), (unsigned long long)st->rows,
                        (unsigned long long)st->rejected, st->restarts) == CP_OK;
    for (size_t c = 0; c < sr->schema.ncolumns; c++) {
        const cp_column *col = &sr->schema.columns[c];
        char tname[32];
        if (c)
            ok &= cp_buf_append_char(&out, ',') == CP_OK;
        ok &= cp_buf_append_str(&out, "{\"name\":") == CP_OK;
        ok &= cp_json_append_string(&out, col->name, strlen(col->name)) == CP_OK;
        ok &= cp_buf_append_str(&out, ",\"source_name\":") == CP_OK;
        ok &= cp_json_append_string(&out, col->source_name, strlen(col->source_name)) == CP_OK;
        ok &= cp_buf_printf(&out, ",\"type\":\"%s\",\"nulls\":%llu,\"example\":",
                            cp_type_format(col->type, tname, sizeof tname),
                            (unsigned long long)s->nulls[c]) == CP_OK;
        const char *ex = sr->columns[c].example;
        if (sr->columns[c].nonnull)
            ok &= cp_json_append_string(&out, ex, strlen(ex)) == CP_OK;
        else
            ok &= cp_buf_append_str(&out, "null") == CP_OK;
        ok &= cp_buf_append_char(&out, '}') == CP_OK;
    }
    ok &= cp_buf_append_str(&out, "],\"rejects\":[") == CP_OK;
    for (size_t i = 0; i < s->nshown; i++) {
        if (i)
            ok &= cp_buf_append_char(&out, ',') == CP_OK;
        ok &= cp_json_append_string(&out, s->shown[i], strlen(s->shown[i])) == CP_OK;
    }
    ok &= cp_buf_append_str(&out, "]}\n") == CP_OK;
    if (ok)
        fwrite(out.data, 1, out.len, stdout);
    cp_buf_release(&out);
    return ok ? CP_OK : CP_NOMEM;
}

/* Spaces that pad UTF-8 text to a width in characters. */
static int pad_to(const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        chars += (*p & 0xC0) != 0x80;
    return chars < width ? width - chars : 0;
}

static void print_text(const char *file, const cp_sniff_result *sr, const cp_stream_stats *st,
                       const inspect_state *s, const char *schema_file)
{
    const cp_dialect *d = &sr->dialect;
    printf("file:              %s\n", file);
    printf("compression:       %s\n", cp_compression_name(st->compression));
    if (schema_file)
        printf("schema file:       %s\n", schema_file);
    printf("encoding:          %s\n", cp_encoding_name(st->encoding));
    printf("delimiter:         %s\n", cp_delimiter_name(d->delimiter));
    printf("quote:             %s\n", cp_delimiter_name(d->quote));
    printf("skipped lines:     %llu%s\n", (unsigned long long)d->skip_lines,
           sr->excel_sep && d->skip_lines ? " (the first is Excel's sep= line)" : "");
    for (size_t i = 0; i < sr->npreamble; i++) {
        char shown[256];
        cp_error_quote_value(shown, sizeof shown, sr->preamble[i], strlen(sr->preamble[i]));
        printf("  %4zu | %s\n", i + 1, shown);
    }
    if (d->header && d->header_rows > 1)
        printf("header:            yes, %u rows (names from the first)\n", d->header_rows);
    else
        printf("header:            %s\n", d->header ? "yes" : "no");
    if (st->repeated_headers)
        printf("repeated headers:  %llu (rows that repeat the header, skipped)\n",
               (unsigned long long)st->repeated_headers);
    printf("line ending:       %s\n", d->line_ending);
    printf("decimal separator: %c\n", d->values.locale.decimal_sep);
    if (d->values.locale.currency)
        printf("currency:          %s\n", cp_currency_symbol(d->values.locale.currency));
    printf("date order:        %s\n", date_order_name(d->values.locale.date_order));
    printf("rows:              %llu\n", (unsigned long long)st->rows);
    printf("rejected rows:     %llu\n", (unsigned long long)st->rejected);
    if (st->restarts)
        printf("restarts:          %u (a value after the sample widened a column)\n", st->restarts);
    printf("\n%5s  %-24s %-24s %-16s %10s  %s\n", "#", "name", "source name", "type", "nulls",
           "example");
    bool any_forced = false;
    for (size_t c = 0; c < sr->schema.ncolumns; c++) {
        const cp_column *col = &sr->schema.columns[c];
        char tname[32], source[80], example[80];
        cp_error_quote_value(source, sizeof source, col->source_name, strlen(col->source_name));
        cp_error_quote_value(example, sizeof example, sr->columns[c].example,
                             strlen(sr->columns[c].example));
        cp_type_format(col->type, tname, sizeof tname);
        if (col->forced)
            strcat(tname, "*");
        any_forced |= col->forced;
        printf("%5zu  %-24s %s%*s %-16s %10llu  %s\n", c + 1, col->name, source, pad_to(source, 24),
               "", tname, (unsigned long long)s->nulls[c], example);
    }
    if (any_forced)
        printf("\n* a forced type (--type, --schema): a value that does not fit is a rejected "
               "row\n");
    if (s->nshown) {
        printf("\nrejected rows (first %zu):\n", s->nshown);
        for (size_t i = 0; i < s->nshown; i++)
            printf("  %s\n", s->shown[i]);
    }
}

/* Damage in compressed data shows as wrong text first: when it is there, it is the error. */
static void explain_damage(cp_source *src, cp_error *err)
{
    if (err->code == CP_IO || err->code == CP_NOMEM || err->code == CP_USAGE)
        return;
    cp_error de;
    cp_error_clear(&de);
    if (cp_decompress_verify(src, NULL, &de) != CP_OK)
        *err = de;
}

int cp_cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {
        CP_CSV_LONG_OPTIONS,
        {"json", no_argument, NULL, CP_OPT_JSON},
        {NULL, 0, NULL, 0},
    };
    cp_csv_options o;
    cp_csv_options_default(&o);
    cp_null_list nulls = {NULL, 0};
    cp_overrides ov;
    cp_overrides_init(&ov);
    bool json = false;
    int opt, rc = CP_EXIT_OK;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        int r = cp_csv_option(opt, optarg, &o, &nulls);
        if (r == 0)
            r = cp_override_option(opt, optarg, &ov);
        if (r < 0) {
            rc = CP_EXIT_USAGE;
            goto done;
        }
        if (r > 0)
            continue;
        if (opt == CP_OPT_JSON) {
            json = true;
        } else if (opt == CP_OPT_HELP) {
            printf("%s\n%s", usage, cp_csv_options_help);
            goto done;
        } else {
            fprintf(stderr, "%s", usage);
            rc = CP_EXIT_USAGE;
            goto done;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "%s", usage);
        rc = CP_EXIT_USAGE;
        goto done;
    }
    cp_overrides_dialect(&ov, &o);
    const char *file = argv[optind];
    cp_error err;
    cp_error_clear(&err);
    /* standard input replays what the sample took: up to twice the sample when it is
       compressed (a bzip2 block, stored deflate blocks), plus the decoder's read-ahead */
    cp_source *src = cp_source_open_file(file, 2 * o.sample_bytes + (512u << 10), &err);
    if (src)
        src = cp_decompress_open(src, &err);
    if (!src) {
        cp_cli_error("%s", err.message);
        rc = CP_EXIT_FAILED;
        goto done;
    }
    cp_sniff_result sr;
    cp_status st = cp_sniff(src, &o, &sr, &err);
    if (st != CP_OK) {
        explain_damage(src, &err);
        cp_cli_error("%s", err.message);
        cp_source_free(src);
        rc = CP_EXIT_FAILED;
        goto done;
    }
    inspect_state s = {sr.schema.ncolumns, calloc(sr.schema.ncolumns, sizeof(uint64_t)), 0, {{0}}};
    if ((st = cp_overrides_apply(&ov, &sr, file, &err)) != CP_OK) {
        cp_cli_error("%s", err.message);
        rc = st == CP_USAGE ? CP_EXIT_USAGE : CP_EXIT_FAILED;
        goto out;
    }
    if (!s.nulls) {
        cp_cli_error("out of memory");
        rc = CP_EXIT_FAILED;
        goto out;
    }
    cp_stream_callbacks cb = {on_batch, on_reject, on_restart, &s, NULL, NULL};
    cp_stream_stats stats;
    st = cp_csv_stream(src, &sr, &o, NULL, &cb, &stats, &err);
    if (st != CP_OK) {
        explain_damage(src, &err);
        cp_cli_error("%s", err.message);
        rc = CP_EXIT_FAILED;
        goto out;
    }
    if (json && print_json(file, &sr, &stats, &s) != CP_OK) {
        cp_cli_error("%s: out of memory writing the answer", file);
        rc = CP_EXIT_FAILED;
    } else if (!json)
        print_text(file, &sr, &stats, &s, ov.schema_name);
out:
    free(s.nulls);
    cp_sniff_result_release(&sr);
    cp_source_free(src);
done:
    cp_null_list_release(&nulls);
    cp_overrides_release(&ov);
    return rc;
}
