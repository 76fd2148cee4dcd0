#include "csv/overrides.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cp_overrides_init(cp_overrides *o)
{
    memset(o, 0, sizeof *o);
    o->skip_lines = -1;
    o->header = -1;
}

static void columns_free(cp_override_column *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].key);
        free(c[i].name);
    }
    free(c);
}

/* Forgets the schema file's settings, keeps the --type ones. */
static void schema_clear(cp_overrides *o)
{
    cp_override_column *types = o->types;
    size_t ntypes = o->ntypes;
    free(o->schema_name);
    columns_free(o->columns, o->ncolumns);
    cp_overrides_init(o);
    o->types = types;
    o->ntypes = ntypes;
}

void cp_overrides_release(cp_overrides *o)
{
    schema_clear(o);
    columns_free(o->types, o->ntypes);
    cp_overrides_init(o);
}

bool cp_overrides_empty(const cp_overrides *o)
{
    return !o->schema_name && o->ntypes == 0;
}

cp_status cp_overrides_add_type(cp_overrides *o, const char *arg, cp_error *err)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg)
        return cp_error_set(err, CP_USAGE,
                            "--type '%s': write COL=TYPE, such as amount=DECIMAL(12,2)", arg);
    cp_type t;
    if (!cp_type_parse_user(eq + 1, &t)) {
        char shown[80];
        cp_error_quote_value(shown, sizeof shown, eq + 1, strlen(eq + 1));
        return cp_error_set(err, CP_USAGE, "--type '%s': unknown type '%s' (types: %s)", arg, shown,
                            cp_type_user_names);
    }
    cp_override_column *grown = realloc(o->types, (o->ntypes + 1) * sizeof *grown);
    if (!grown)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    o->types = grown;
    cp_override_column *c = &o->types[o->ntypes];
    memset(c, 0, sizeof *c);
    if (!(c->key = strndup(arg, (size_t)(eq - arg))))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    c->has_type = true;
    c->type = t;
    o->ntypes++;
    return CP_OK;
}

/* ------------------------------------------------------------------ the schema file */

/* Keys of inspect --json that describe one file and are not settings: accepted, ignored. */
static const char *const ignored_keys[] = {
    "file",    "compression", "line_ending",    "rows",        "rejected_rows",    "restarts",
    "rejects", "preamble",    "excel_sep_line", "header_rows", "repeated_headers", "currency",
    NULL,
};
static const char *const ignored_column_keys[] = {"nulls", "example", NULL};

static bool listed(const char *key, const char *const *list)
{
    for (const char *const *k = list; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

static cp_status bad(cp_error *err, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cp_status bad(cp_error *err, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cp_error_vset(err, CP_BAD_SCHEMA, fmt, ap);
    va_end(ap);
    cp_error_prefix(err, "%s", file);
    return CP_BAD_SCHEMA;
}

static cp_status one_char(const json_t *v, const char *key, const char *file, char *out,
                          cp_error *err)
{
    const char *s = json_string_value(v);
    if (!s)
        return bad(err, file, "\"%s\" must be a string of one character", key);
    if (strcmp(s, "\\t") == 0 || strcasecmp(s, "tab") == 0) {
        *out = '\t';
        return CP_OK;
    }
    if (json_string_length(v) != 1 || s[0] == '\n' || s[0] == '\r' || s[0] == '\0' ||
        (unsigned char)s[0] >= 0x80)
        return bad(err, file, "\"%s\" must be one ASCII character other than a line break", key);
    *out = s[0];
    return CP_OK;
}

/* A name as cp_name_normalize makes them: [a-z_][a-z0-9_]*, at most CP_NAME_MAX bytes. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CP_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static cp_status parse_column(const json_t *col, size_t i, const char *file, cp_override_column *c,
                              cp_error *err)
{
    if (!json_is_object(col))
        return bad(err, file,
                   "columns[%zu] must be an object such as "
                   "{\"source_name\": \"Price\", \"type\": \"DECIMAL(12,2)\"}",
                   i);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)col, key, v)
    {
        if (strcmp(key, "source_name") == 0 || strcmp(key, "name") == 0) {
            const char *s = json_string_value(v);
            if (!s || strlen(s) != json_string_length(v))
                return bad(err, file, "columns[%zu].%s must be a string (without NUL)", i, key);
            char **dst = key[0] == 's' ? &c->key : &c->name;
            if (!(*dst = strdup(s)))
                return cp_error_set(err, CP_NOMEM, "out of memory");
        } else if (strcmp(key, "type") == 0) {
            if (json_is_null(v))
                continue; /* no type: sniffing decides */
            const char *s = json_string_value(v);
            if (!s || !cp_type_parse_user(s, &c->type))
                return bad(err, file, "columns[%zu].type: '%s' is not a type (types: %s)", i,
                           s ? s : "(not a string)", cp_type_user_names);
            c->has_type = true;
        } else if (!listed(key, ignored_column_keys)) {
            return bad(err, file,
                       "columns[%zu]: unknown key \"%s\" (a column has source_name, name "
                       "and type)",
                       i, key);
        }
    }
    if (c->name) {
        if (!valid_name(c->name)) {
            char fix[CP_NAME_MAX + 1];
            cp_name_normalize(c->name, strlen(c->name), fix);
            return bad(err, file,
                       "columns[%zu].name \"%s\" is not a column name (lower-case letters, "
                       "digits and _, not first a digit, at most %d bytes)%s%s%s",
                       i, c->name, CP_NAME_MAX, fix[0] ? "; try \"" : "", fix, fix[0] ? "\"" : "");
        }
        if (listed(c->name, cp_reserved_names))
            return bad(err, file,
                       "columns[%zu].name \"%s\" is reserved for the column csvpipe adds "
                       "to every table",
                       i, c->name);
    }
    return CP_OK;
}

static cp_status parse_root(cp_overrides *o, const json_t *root, const char *file, cp_error *err)
{
    if (!json_is_object(root))
        return bad(err, file,
                   "the schema must be a JSON object, as `csvpipe inspect --json` "
                   "prints it");
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)root, key, v)
    {
        if (strcmp(key, "encoding") == 0) {
            const char *s = json_string_value(v);
            if (!s || !cp_encoding_parse(s, &o->encoding))
                return bad(err, file,
                           "\"encoding\": '%s' is not an encoding (utf-8, utf-8-bom, utf-16le, "
                           "utf-16be, windows-1252, iso-8859-1)",
                           s ? s : "(not a string)");
        } else if (strcmp(key, "delimiter") == 0) {
            CP_RETURN_IF_ERROR(one_char(v, key, file, &o->delimiter, err));
        } else if (strcmp(key, "quote") == 0) {
            CP_RETURN_IF_ERROR(one_char(v, key, file, &o->quote, err));
        } else if (strcmp(key, "skipped_lines") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return bad(err, file,
                           "\"skipped_lines\" must be a number of lines, 0 or more (as --skip)");
            o->skip_lines = (int64_t)json_integer_value(v);
        } else if (strcmp(key, "header") == 0) {
            if (!json_is_boolean(v))
                return bad(err, file, "\"header\" must be true or false");
            o->header = json_is_true(v) ? 1 : 0;
        } else if (strcmp(key, "decimal_separator") == 0) {
            const char *s = json_string_value(v);
            if (!s || (strcmp(s, ".") != 0 && strcmp(s, ",") != 0))
                return bad(err, file, "\"decimal_separator\" must be \".\" or \",\"");
            o->decimal_sep = s[0];
        } else if (strcmp(key, "date_order") == 0) {
            const char *s = json_string_value(v);
            if (s && (strcasecmp(s, "day-first") == 0 || strcasecmp(s, "dmy") == 0))
                o->date_order = CP_DATE_ORDER_DMY;
            else if (s && (strcasecmp(s, "month-first") == 0 || strcasecmp(s, "mdy") == 0))
                o->date_order = CP_DATE_ORDER_MDY;
            else if (s && strcasecmp(s, "unknown") == 0)
                o->date_order = CP_DATE_ORDER_UNKNOWN;
            else
                return bad(err, file, "\"date_order\" must be \"day-first\" or \"month-first\"");
        } else if (strcmp(key, "columns") == 0) {
            if (!json_is_array(v))
                return bad(err, file, "\"columns\" must be an array of columns");
            size_t n = json_array_size(v);
            if (n > 65536)
                return bad(err, file, "%zu columns; at most 65536", n);
            o->has_columns = true;
            o->columns = calloc(n ? n : 1, sizeof *o->columns);
            if (!o->columns)
                return cp_error_set(err, CP_NOMEM, "out of memory");
            for (size_t i = 0; i < n; i++) {
                o->ncolumns = i + 1;
                CP_RETURN_IF_ERROR(
                    parse_column(json_array_get(v, i), i, file, &o->columns[i], err));
            }
            o->ncolumns = n;
        } else if (!listed(key, ignored_keys)) {
            return bad(err, file,
                       "unknown key \"%s\" (a schema has encoding, delimiter, quote, "
                       "skipped_lines, header, decimal_separator, date_order and columns)",
                       key);
        }
    }
    if (o->delimiter && o->quote && o->delimiter == o->quote)
        return bad(err, file, "\"quote\" and \"delimiter\" must differ");
    for (size_t i = 0; i < o->ncolumns; i++) {
        if (!o->columns[i].name)
            continue;
        for (size_t k = 0; k < i; k++)
            if (o->columns[k].name && strcmp(o->columns[k].name, o->columns[i].name) == 0)
                return bad(err, file, "columns[%zu] and columns[%zu] are both named \"%s\"", k, i,
                           o->columns[i].name);
    }
    return CP_OK;
}

cp_status cp_overrides_parse_schema(cp_overrides *o, const char *text, size_t len, const char *name,
                                    cp_error *err)
{
    schema_clear(o);
    if (!(o->schema_name = strdup(name)))
        return cp_error_set(err, CP_NOMEM, "out of memory");
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        /* jansson's text names the token where it stopped; a schema holds no secret */
        cp_status st = bad(err, name,
                           "line %d, column %d: %s (a schema is the JSON that "
                           "`csvpipe inspect --json` prints)",
                           je.line, je.column, je.text);
        if (err) {
            err->line = je.line > 0 ? (uint64_t)je.line : 0;
            err->column = je.column > 0 ? (uint32_t)je.column : 0;
        }
        schema_clear(o);
        return st;
    }
    cp_status st = parse_root(o, root, name, err);
    json_decref(root);
    if (st != CP_OK)
        schema_clear(o);
    return st;
}

cp_status cp_overrides_read_schema(cp_overrides *o, const char *path, cp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cp_error_set(err, errno == ENOENT ? CP_NOT_FOUND : CP_IO, "%s: cannot open: %s",
                            path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    cp_status st = CP_OK;
    while (text) {
        if (len == cap) {
            if (cap >= CP_OVERRIDES_MAX_SCHEMA_BYTES) {
                st = cp_error_set(err, CP_BAD_SCHEMA, "%s: larger than %zu MiB; not a schema", path,
                                  CP_OVERRIDES_MAX_SCHEMA_BYTES >> 20);
                break;
            }
            char *grown = realloc(text, cap * 2);
            if (!grown)
                break;
            text = grown;
            cap *= 2;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                st = cp_error_set(err, CP_IO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!text)
        st = cp_error_set(err, CP_NOMEM, "out of memory");
    if (st == CP_OK)
        st = cp_overrides_parse_schema(o, text, len, path, err);
    free(text);
    return st;
}

void cp_overrides_dialect(const cp_overrides *o, cp_csv_options *csv)
{
    if (csv->encoding == CP_ENC_AUTO)
        csv->encoding = o->encoding;
    if (!csv->delimiter && o->delimiter != csv->quote)
        csv->delimiter = o->delimiter;
    if (!csv->quote && o->quote != csv->delimiter)
        csv->quote = o->quote;
    if (csv->skip_lines < 0)
        csv->skip_lines = o->skip_lines;
    if (csv->header < 0)
        csv->header = o->header;
    if (!csv->decimal_sep)
        csv->decimal_sep = o->decimal_sep;
    if (csv->date_order == CP_DATE_ORDER_UNKNOWN)
        csv->date_order = o->date_order;
}

/* ------------------------------------------------------------------ applying */

/* Appends up to a few quoted strings to msg, "and N more" for the rest. */
static void list_names(char *msg, size_t cap, const char *const *names, size_t n)
{
    size_t used = strlen(msg);
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        if (i == 8) {
            snprintf(msg + used, cap - used, " and %zu more", n - i);
            return;
        }
        char shown[80];
        cp_error_quote_value(shown, sizeof shown, names[i], strlen(names[i]));
        snprintf(msg + used, cap - used, "%s\"%s\"", i ? ", " : "", shown);
        used = strlen(msg);
    }
}

/* The file column a schema column is matched with; -1 when none is left. */
static long match_header(const cp_schema *s, const bool *taken, const cp_override_column *c)
{
    if (c->key && c->key[0]) {
        for (size_t i = 0; i < s->ncolumns; i++)
            if (!taken[i] && strcmp(s->columns[i].source_name, c->key) == 0)
                return (long)i;
        /* "Unit price " for "Unit Price": the same name once normalized */
        char want[CP_NAME_MAX + 1], have[CP_NAME_MAX + 1];
        cp_name_normalize(c->key, strlen(c->key), want);
        for (size_t i = 0; want[0] && i < s->ncolumns; i++) {
            const char *h = s->columns[i].source_name;
            cp_name_normalize(h, strlen(h), have);
            if (!taken[i] && strcmp(have, want) == 0)
                return (long)i;
        }
        return -1;
    }
    if (c->name) {
        for (size_t i = 0; i < s->ncolumns; i++)
            if (!taken[i] && strcmp(s->columns[i].name, c->name) == 0)
                return (long)i;
    }
    return -1;
}

static cp_status apply_schema(const cp_overrides *o, cp_sniff_result *sr, const char *file,
                              cp_error *err)
{
    cp_schema *s = &sr->schema;
    const size_t n = s->ncolumns, m = o->ncolumns;
    long *map = calloc(m ? m : 1, sizeof *map);
    bool *taken = calloc(n ? n : 1, sizeof *taken);
    const char **missing = calloc(m ? m : 1, sizeof *missing);
    const char **extra = calloc(n ? n : 1, sizeof *extra);
    cp_status st = CP_OK;
    if (!map || !taken || !missing || !extra) {
        st = cp_error_set(err, CP_NOMEM, "out of memory");
        goto out;
    }
    if (sr->dialect.header) {
        size_t nmissing = 0, nextra = 0;
        for (size_t j = 0; j < m; j++) {
            map[j] = match_header(s, taken, &o->columns[j]);
            if (map[j] >= 0)
                taken[map[j]] = true;
            else
                missing[nmissing++] = o->columns[j].key && o->columns[j].key[0] ? o->columns[j].key
                                      : o->columns[j].name                      ? o->columns[j].name
                                                           : "(no source_name, no name)";
        }
        for (size_t i = 0; i < n; i++)
            if (!taken[i])
                extra[nextra++] = s->columns[i].source_name;
        if (nmissing || nextra) {
            char msg[900] = "";
            if (nextra) {
                snprintf(msg, sizeof msg, "%s has %s not in %s: ", file,
                         nextra == 1 ? "a column" : "columns", o->schema_name);
                list_names(msg, sizeof msg, extra, nextra);
            }
            if (nmissing) {
                size_t used = strlen(msg);
                snprintf(msg + used, sizeof msg - used,
                         "%s%s lists %s not in %s's header: ", nextra ? "; " : "", o->schema_name,
                         nmissing == 1 ? "a column" : "columns", file);
                list_names(msg, sizeof msg, missing, nmissing);
            }
            st = cp_error_set(err, CP_BAD_SCHEMA,
                              "%s (a schema file lists every column of the file)", msg);
            goto out;
        }
    } else {
        for (size_t j = 0; j < m; j++) {
            if (o->columns[j].key && o->columns[j].key[0]) {
                st = cp_error_set(err, CP_BAD_SCHEMA,
                                  "%s names columns by their headers (\"%s\"), but %s has no "
                                  "header row (say \"header\": true in the schema if it has one)",
                                  o->schema_name, o->columns[j].key, file);
                goto out;
            }
        }
        if (m != n) {
            st = cp_error_set(err, CP_BAD_SCHEMA,
                              "%s has %zu column%s, %s lists %zu (without a header row the "
                              "columns are matched by position)",
                              file, n, n == 1 ? "" : "s", o->schema_name, m);
            goto out;
        }
        for (size_t j = 0; j < m; j++)
            map[j] = (long)j;
    }
    for (size_t j = 0; j < m; j++) {
        const cp_override_column *c = &o->columns[j];
        cp_column *col = &s->columns[map[j]];
        if (c->has_type) {
            col->type = c->type;
            col->forced = true;
        }
        if (c->name && strcmp(col->name, c->name) != 0) {
            char *dup = strdup(c->name);
            if (!dup) {
                st = cp_error_set(err, CP_NOMEM, "out of memory");
                goto out;
            }
            free(col->name);
            col->name = dup;
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->columns[k].name, s->columns[i].name) == 0) {
                st = cp_error_set(err, CP_BAD_SCHEMA,
                                  "%s: columns %zu (\"%s\") and %zu (\"%s\") of %s would both "
                                  "be named \"%s\"; rename one in the schema",
                                  o->schema_name, k + 1, s->columns[k].source_name, i + 1,
                                  s->columns[i].source_name, file, s->columns[i].name);
                goto out;
            }
        }
    }
out:
    free(map);
    free(taken);
    free(missing);
    free(extra);
    return st;
}

/* The column a --type names: its output name, else its header, else the header normalized. */
static long find_column(const cp_schema *s, const char *key)
{
    for (size_t i = 0; i < s->ncolumns; i++)
        if (strcmp(s->columns[i].name, key) == 0)
            return (long)i;
    for (size_t i = 0; i < s->ncolumns; i++)
        if (s->columns[i].source_name[0] && strcmp(s->columns[i].source_name, key) == 0)
            return (long)i;
    char norm[CP_NAME_MAX + 1];
    cp_name_normalize(key, strlen(key), norm);
    for (size_t i = 0; norm[0] && i < s->ncolumns; i++)
        if (strcmp(s->columns[i].name, norm) == 0)
            return (long)i;
    return -1;
}

static cp_status unknown_column(const cp_schema *s, const cp_override_column *t, const char *file,
                                cp_error *err)
{
    const char **names = calloc(s->ncolumns ? s->ncolumns : 1, sizeof *names);
    if (!names)
        return cp_error_set(err, CP_NOMEM, "out of memory");
    for (size_t i = 0; i < s->ncolumns; i++)
        names[i] = s->columns[i].name;
    char list[700] = "";
    list_names(list, sizeof list, names, s->ncolumns);
    free(names);
    char key[80], tname[32];
    cp_error_quote_value(key, sizeof key, t->key, strlen(t->key));
    return cp_error_set(err, CP_USAGE, "--type %s=%s: %s has no column \"%s\" (its columns: %s)",
                        key, cp_type_format(t->type, tname, sizeof tname), file, key, list);
}

cp_status cp_overrides_apply(const cp_overrides *o, cp_sniff_result *sr, const char *file,
                             cp_error *err)
{
    if (o->schema_name && o->has_columns)
        CP_RETURN_IF_ERROR(apply_schema(o, sr, file, err));
    for (size_t i = 0; i < o->ntypes; i++) {
        long c = find_column(&sr->schema, o->types[i].key);
        if (c < 0)
            return unknown_column(&sr->schema, &o->types[i], file, err);
        sr->schema.columns[c].type = o->types[i].type;
        sr->schema.columns[c].forced = true;
    }
    return CP_OK;
}
