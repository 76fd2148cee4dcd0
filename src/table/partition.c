/* partition.c - Hive-style partition folders of rows (partition.h). */
#include "table/partition.h"
#include "table/cell.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    cp_partition_fn fn;
} functions[] = {
    {"year", CP_PARTITION_YEAR},
    {"month", CP_PARTITION_MONTH},
    {"day", CP_PARTITION_DAY},
};

static const char *const suffixes[] = {"", "_year", "_month", "_day"};

static cp_status bad_expr(cp_error *err, const char *p, size_t n, const char *why)
{
    return cp_error_set(err, CP_USAGE,
                        "--partition-by: \"%.*s\" %s; use a column, or year(COL), month(COL) or "
                        "day(COL) of a DATE or TIMESTAMP column, separated by commas",
                        (int)(n > 80 ? 80 : n), p, why);
}

/* s[0..n) without the spaces around it */
static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static cp_status parse_expr(const char *p, size_t n, cp_partition_expr *e, cp_error *err)
{
    const char *text = p;
    const size_t ntext = n;
    trim(&p, &n);
    e->fn = CP_PARTITION_VALUE;
    const char *open = memchr(p, '(', n);
    if (open) {
        size_t fname = (size_t)(open - p);
        const char *f = p;
        trim(&f, &fname);
        bool known = false;
        for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
            if (strlen(functions[i].name) == fname &&
                strncasecmp(f, functions[i].name, fname) == 0) {
                e->fn = functions[i].fn;
                known = true;
            }
        }
        if (!known)
            return bad_expr(err, text, ntext, "is not a partition expression");
        if (p[n - 1] != ')')
            return bad_expr(err, text, ntext, "lacks its closing parenthesis");
        n = (size_t)(p + n - 1 - (open + 1));
        p = open + 1;
        trim(&p, &n);
    }
    if (n == 0)
        return bad_expr(err, text, ntext, "names no column");
    if (n > CP_NAME_MAX)
        return bad_expr(err, text, ntext, "names a column longer than 63 bytes");
    for (size_t i = 0; i < n; i++)
        if (p[i] == '(' || p[i] == ')')
            return bad_expr(err, text, ntext, "is not a partition expression");
    memcpy(e->column, p, n);
    e->column[n] = '\0';
    return CP_OK;
}

cp_status cp_partition_spec_parse(const char *text, cp_partition_spec *out, cp_error *err)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text;;) {
        const size_t n = strcspn(p, ",");
        const char *q = p;
        size_t m = n;
        trim(&q, &m);
        if (m == 0) {
            if (!p[n] && out->nexprs)
                return CP_OK;
            return cp_error_set(err, CP_USAGE,
                                "--partition-by: an empty expression in \"%.80s\"; use "
                                "COL or year(COL), month(COL), day(COL), separated by commas",
                                text);
        }
        if (out->nexprs == CP_PARTITION_MAX_EXPRS)
            return cp_error_set(err, CP_USAGE, "--partition-by: at most %d expressions",
                                CP_PARTITION_MAX_EXPRS);
        CP_RETURN_IF_ERROR(parse_expr(p, n, &out->exprs[out->nexprs++], err));
        if (!p[n])
            return CP_OK;
        p += n + 1;
    }
}

static bool is_temporal(cp_type_id id)
{
    return id == CP_TYPE_DATE || id == CP_TYPE_TIMESTAMP || id == CP_TYPE_TIMESTAMPTZ;
}

cp_status cp_partition_resolve(const cp_partition_spec *spec, const cp_schema *schema,
                               cp_partition_keys *out, cp_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < spec->nexprs; i++) {
        const cp_partition_expr *e = &spec->exprs[i];
        char norm[CP_NAME_MAX + 1];
        cp_name_normalize(e->column, strlen(e->column), norm);
        size_t c = 0;
        for (; c < schema->ncolumns; c++)
            if (strcmp(schema->columns[c].name, e->column) == 0 ||
                strcmp(schema->columns[c].source_name, e->column) == 0 ||
                strcmp(schema->columns[c].name, norm) == 0)
                break;
        if (c == schema->ncolumns)
            return cp_error_set(err, CP_USAGE,
                                "--partition-by: \"%s\" is not a column of this file", e->column);
        const cp_column *col = &schema->columns[c];
        if (e->fn != CP_PARTITION_VALUE && !is_temporal(col->type.id)) {
            char tname[32];
            return cp_error_set(err, CP_USAGE,
                                "--partition-by: %s(%s) needs a DATE or TIMESTAMP column; \"%s\" "
                                "is %s (--type %s=DATE makes it one)",
                                functions[e->fn - 1].name, e->column, col->name,
                                cp_type_format(col->type, tname, sizeof tname), col->name);
        }
        for (size_t j = 0; j < out->nkeys; j++)
            if (out->keys[j].column == c && out->keys[j].fn == e->fn)
                return cp_error_set(err, CP_USAGE, "--partition-by: \"%s\" appears twice",
                                    e->column);
        struct cp_partition_key *k = &out->keys[out->nkeys++];
        k->fn = e->fn;
        k->column = c;
        snprintf(k->name, sizeof k->name, "%s%s", col->name, suffixes[e->fn]);
        for (size_t j = 0; j < schema->ncolumns; j++)
            if (e->fn != CP_PARTITION_VALUE && strcmp(schema->columns[j].name, k->name) == 0)
                return cp_error_set(err, CP_USAGE,
                                    "--partition-by: the partition key %s is also a column of "
                                    "this file; partition by that column instead",
                                    k->name);
    }
    return CP_OK;
}

bool cp_partition_is_key_column(const cp_partition_keys *k, size_t col)
{
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].fn == CP_PARTITION_VALUE && k->keys[i].column == col)
            return true;
    return false;
}

static bool hive_escapes(unsigned char ch)
{
    return ch < 0x20 || ch == 0x7f || strchr("\"#%'*/:=?\\{[]^", ch) != NULL;
}

cp_status cp_partition_append_escaped(cp_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        const unsigned char ch = (unsigned char)s[i];
        if (ch && hive_escapes(ch)) {
            const char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            CP_RETURN_IF_ERROR(cp_buf_append(out, esc, 3));
        } else if (ch == 0) {
            CP_RETURN_IF_ERROR(cp_buf_append(out, "%00", 3));
        } else {
            CP_RETURN_IF_ERROR(cp_buf_append_char(out, (char)ch));
        }
    }
    return CP_OK;
}

/* The day of a DATE or TIMESTAMP value (UTC for TIMESTAMPTZ). */
static int32_t day_of(const cp_batch *b, size_t col, size_t row)
{
    if (b->schema->columns[col].type.id == CP_TYPE_DATE)
        return b->cols[col].v.date[row];
    const int64_t us = b->cols[col].v.i64[row], per_day = INT64_C(86400000000);
    int64_t d = us / per_day;
    if (us % per_day < 0)
        d--;
    return (int32_t)d;
}

/*
 * Hive's timestamp partition value, yyyy-MM-dd HH:mm:ss[.ffffff] (UTC), the only form
 * Hive and Trino (Athena) parse, escaped as Hive escapes it.
 */
static cp_status append_timestamp(cp_buf *out, int64_t us)
{
    const int64_t per_day = INT64_C(86400000000);
    int64_t days = us / per_day, rem = us % per_day;
    if (rem < 0) {
        days--;
        rem += per_day;
    }
    int64_t y;
    unsigned mo, d;
    cp_civil_from_days((int32_t)days, &y, &mo, &d);
    const int64_t secs = rem / 1000000, frac = rem % 1000000;
    char text[48];
    int n = snprintf(text, sizeof text, "%04" PRId64 "-%02u-%02u %02d:%02d:%02d", y, mo, d,
                     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (n > 0 && frac)
        n += snprintf(text + n, sizeof text - (size_t)n, ".%06d", (int)frac);
    if (n < 0 || (size_t)n >= sizeof text)
        return CP_USAGE;
    return cp_partition_append_escaped(out, text, (size_t)n);
}

static cp_status append_value(cp_buf *out, const struct cp_partition_key *k, const cp_batch *b,
                              size_t row)
{
    if (!cp_batch_valid(b, k->column, row))
        return cp_buf_append_str(out, CP_PARTITION_DEFAULT_VALUE);
    const cp_type_id type = b->schema->columns[k->column].type.id;
    if (k->fn == CP_PARTITION_VALUE && (type == CP_TYPE_TIMESTAMP || type == CP_TYPE_TIMESTAMPTZ))
        return append_timestamp(out, b->cols[k->column].v.i64[row]);
    if (k->fn == CP_PARTITION_VALUE) {
        cp_buf text;
        cp_buf_init(&text, CP_BUF_UNLIMITED);
        cp_status st = cp_cell_append_text(&text, b, k->column, row);
        if (st == CP_OK)
            st = text.len ? cp_partition_append_escaped(out, text.data, text.len)
                          : cp_buf_append_str(out, CP_PARTITION_DEFAULT_VALUE);
        cp_buf_release(&text);
        return st;
    }
    int64_t y;
    unsigned m, d;
    cp_civil_from_days(day_of(b, k->column, row), &y, &m, &d);
    switch (k->fn) {
    case CP_PARTITION_YEAR:
        return cp_buf_printf(out, "%04" PRId64, y);
    case CP_PARTITION_MONTH:
        return cp_buf_printf(out, "%04" PRId64 "-%02u", y, m);
    default:
        return cp_buf_printf(out, "%04" PRId64 "-%02u-%02u", y, m, d);
    }
}

cp_status cp_partition_append_path(cp_buf *out, const cp_partition_keys *k, const cp_batch *b,
                                   size_t row)
{
    for (size_t i = 0; i < k->nkeys; i++) {
        if (i)
            CP_RETURN_IF_ERROR(cp_buf_append_char(out, '/'));
        CP_RETURN_IF_ERROR(cp_buf_printf(out, "%s=", k->keys[i].name));
        CP_RETURN_IF_ERROR(append_value(out, &k->keys[i], b, row));
    }
    return CP_OK;
}
