#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char cp_csv_options_help[] =
    "CSV options (each decided from the file when not given):\n"
    "  --encoding NAME       utf-8, utf-8-bom, utf-16le, utf-16be, windows-1252,\n"
    "                        iso-8859-1\n"
    "  --delimiter C         , ; tab | or any one character ('\\t' or 'tab' for tab)\n"
    "  --quote C             \" or '\n"
    "  --skip N              lines above the header to skip (a title, notes; 0: none)\n"
    "  --header, --no-header whether the first row names the columns\n"
    "  --decimal C           decimal separator: . or ,\n"
    "  --date-order ORDER    dmy (dd/mm/yyyy) or mdy (mm/dd/yyyy)\n"
    "  --null TOKEN          a null token (repeatable; replaces the defaults\n"
    "                        NULL null NA N/A \\N; the empty field is always null)\n"
    "  --max-field-size N    longest field accepted (default 16M)\n"
    "  --type COL=TYPE       force column COL (output name or header) to TYPE:\n"
    "                        BOOLEAN INT64 DECIMAL(p,s) DOUBLE DATE TIMESTAMP\n"
    "                        TIMESTAMPTZ STRING; a value that does not fit is a\n"
    "                        rejected row (repeatable)\n"
    "  --schema FILE         types, names and dialect from FILE: the JSON of\n"
    "                        `csvpipe inspect --json`, edited\n";

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    if (stop_signal) { /* the second: what the signal does without a handler */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
    cp_pipeline_interrupt();
}

void cp_cli_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cp_cli_stop_signal(void)
{
    return stop_signal;
}

void cp_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("csvpipe: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cp_parse_max_invocations(const char *arg, unsigned long *out)
{
    char *end;
    errno = 0;
    *out = strtoul(arg, &end, 10);
    if (*end || end == arg || *out == 0 || errno || arg[0] == '-') {
        cp_cli_error("--max-invocations takes a positive number");
        return -1;
    }
    return 0;
}

int cp_parse_size(const char *s, size_t *out)
{
    if (*s < '0' || *s > '9') /* strtoull would take "-1" (as the largest value) and " 1" */
        return -1;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return -1;
    unsigned long long mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1ULL << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1ULL << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1ULL << 30;
        end++;
        break;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end != '\0' || v > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

static int one_char(const char *what, const char *arg, char *out)
{
    if (strcmp(arg, "\\t") == 0 || strcasecmp(arg, "tab") == 0) {
        *out = '\t';
        return 1;
    }
    if (strlen(arg) != 1 || arg[0] == '\n' || arg[0] == '\r') {
        cp_cli_error("%s must be one character, not '%s'", what, arg);
        return -1;
    }
    *out = arg[0];
    return 1;
}

int cp_csv_option(int opt, const char *arg, cp_csv_options *o, cp_null_list *nulls)
{
    switch (opt) {
    case CP_OPT_ENCODING:
        if (!cp_encoding_parse(arg, &o->encoding)) {
            cp_cli_error("unknown encoding '%s' (try utf-8, windows-1252, iso-8859-1, "
                         "utf-16le, utf-16be)",
                         arg);
            return -1;
        }
        return 1;
    case CP_OPT_DELIMITER:
        return one_char("--delimiter", arg, &o->delimiter);
    case CP_OPT_QUOTE:
        if (one_char("--quote", arg, &o->quote) < 0)
            return -1;
        if (o->quote == o->delimiter) {
            cp_cli_error("--quote and --delimiter must differ");
            return -1;
        }
        return 1;
    case CP_OPT_HEADER:
        o->header = 1;
        return 1;
    case CP_OPT_NO_HEADER:
        o->header = 0;
        return 1;
    case CP_OPT_DECIMAL:
        if (strcmp(arg, ".") != 0 && strcmp(arg, ",") != 0) {
            cp_cli_error("--decimal must be '.' or ','");
            return -1;
        }
        o->decimal_sep = arg[0];
        return 1;
    case CP_OPT_DATE_ORDER:
        if (strcasecmp(arg, "dmy") == 0 || strcasecmp(arg, "day-first") == 0)
            o->date_order = CP_DATE_ORDER_DMY;
        else if (strcasecmp(arg, "mdy") == 0 || strcasecmp(arg, "month-first") == 0)
            o->date_order = CP_DATE_ORDER_MDY;
        else {
            cp_cli_error("--date-order must be dmy or mdy");
            return -1;
        }
        return 1;
    case CP_OPT_NULL: {
        const char **t = realloc(nulls->tokens, (nulls->n + 2) * sizeof *t);
        if (!t) {
            cp_cli_error("out of memory");
            return -1;
        }
        t[nulls->n++] = arg;
        t[nulls->n] = NULL;
        nulls->tokens = t;
        o->null_tokens = t;
        return 1;
    }
    case CP_OPT_SKIP: {
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (end == arg || *end != '\0' || v < 0 || errno != 0) {
            cp_cli_error("--skip must be a number of lines, 0 or more, not '%s'", arg);
            return -1;
        }
        o->skip_lines = v;
        return 1;
    }
    case CP_OPT_MAX_FIELD:
        if (cp_parse_size(arg, &o->limits.max_field_bytes) < 0 || o->limits.max_field_bytes == 0 ||
            o->limits.max_field_bytes > ((size_t)1 << 30)) {
            cp_cli_error("--max-field-size must be a size from 1 to 1G, such as 16M");
            return -1;
        }
        return 1;
    }
    return 0;
}

void cp_null_list_release(cp_null_list *l)
{
    free(l->tokens);
    l->tokens = NULL;
    l->n = 0;
}

int cp_override_option(int opt, const char *arg, cp_overrides *ov)
{
    if (opt != CP_OPT_TYPE && opt != CP_OPT_SCHEMA)
        return 0;
    cp_error err;
    cp_error_clear(&err);
    cp_status st = opt == CP_OPT_TYPE ? cp_overrides_add_type(ov, arg, &err)
                                      : cp_overrides_read_schema(ov, arg, &err);
    if (st != CP_OK) {
        cp_cli_error("%s%s", opt == CP_OPT_SCHEMA ? "--schema: " : "", err.message);
        return -1;
    }
    return 1;
}

int cp_cli_catalog_parse(const char *text, cp_pipeline_options *o, char *msg, size_t cap)
{
    const char *db = strncmp(text, "glue:", 5) == 0 ? text + 5 : NULL;
    if (!db || !*db || strlen(db) > 255 || strpbrk(db, "/ \t")) {
        snprintf(msg, cap, "catalog \"%.200s\": use glue:DATABASE (a Glue database name)", text);
        return -1;
    }
    if (strncmp(o->out_dir, "s3://", 5) != 0) {
        snprintf(msg, cap,
                 "catalog %.200s: the output must be on S3 (--out s3://BUCKET/PREFIX), "
                 "where Athena reads it; it is %.200s",
                 text, o->out_dir);
        return -1;
    }
    if (!(o->formats & CP_FORMAT_PARQUET)) {
        snprintf(msg, cap,
                 "catalog %.200s: it registers the Parquet files; add parquet to the "
                 "formats",
                 text);
        return -1;
    }
    o->catalog_database = db;
    return 0;
}
