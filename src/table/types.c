#include "table/types.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool is_numeric(cp_type_id id)
{
    return id == CP_TYPE_INT64 || id == CP_TYPE_DECIMAL || id == CP_TYPE_DOUBLE;
}

static cp_type as_decimal(cp_type t)
{
    if (t.id == CP_TYPE_INT64)
        return cp_type_decimal(19, 0);
    return t;
}

cp_type cp_type_join(cp_type a, cp_type b)
{
    if (a.id == CP_TYPE_NULL)
        return b;
    if (b.id == CP_TYPE_NULL)
        return a;
    if (a.id == b.id && a.id != CP_TYPE_DECIMAL)
        return a;
    if (is_numeric(a.id) && is_numeric(b.id)) {
        if (a.id == CP_TYPE_DOUBLE || b.id == CP_TYPE_DOUBLE)
            return cp_type_of(CP_TYPE_DOUBLE);
        cp_type da = as_decimal(a), db = as_decimal(b);
        unsigned ia = (unsigned)(da.precision - da.scale), ib = (unsigned)(db.precision - db.scale);
        unsigned ip = ia > ib ? ia : ib;
        unsigned sc = da.scale > db.scale ? da.scale : db.scale;
        if (ip + sc > CP_DECIMAL_MAX_PRECISION)
            return cp_type_of(CP_TYPE_DOUBLE);
        return cp_type_decimal(ip + sc, sc);
    }
    if ((a.id == CP_TYPE_DATE && b.id == CP_TYPE_TIMESTAMP) ||
        (a.id == CP_TYPE_TIMESTAMP && b.id == CP_TYPE_DATE))
        return cp_type_of(CP_TYPE_TIMESTAMP);
    return cp_type_of(CP_TYPE_STRING);
}

bool cp_type_equal(cp_type a, cp_type b)
{
    if (a.id != b.id)
        return false;
    return a.id != CP_TYPE_DECIMAL || (a.precision == b.precision && a.scale == b.scale);
}

bool cp_type_fits(cp_type narrow, cp_type wide)
{
    return cp_type_equal(cp_type_join(narrow, wide), wide);
}

static const char *const type_names[] = {
    [CP_TYPE_NULL] = "NULL",           [CP_TYPE_BOOLEAN] = "BOOLEAN",
    [CP_TYPE_INT64] = "INT64",         [CP_TYPE_DECIMAL] = "DECIMAL",
    [CP_TYPE_DOUBLE] = "DOUBLE",       [CP_TYPE_DATE] = "DATE",
    [CP_TYPE_TIMESTAMP] = "TIMESTAMP", [CP_TYPE_TIMESTAMPTZ] = "TIMESTAMPTZ",
    [CP_TYPE_STRING] = "STRING",
};

char *cp_type_format(cp_type t, char *out, size_t cap)
{
    if (t.id == CP_TYPE_DECIMAL)
        snprintf(out, cap, "DECIMAL(%u,%u)", t.precision, t.scale);
    else
        snprintf(out, cap, "%s", type_names[t.id]);
    return out;
}

bool cp_type_parse(const char *name, cp_type *out)
{
    unsigned p, s;
    int end = 0;
    if (sscanf(name, "DECIMAL(%u,%u)%n", &p, &s, &end) == 2 && end > 0 && name[end] == '\0') {
        if (p < 1 || p > CP_DECIMAL_MAX_PRECISION || s > p)
            return false;
        *out = cp_type_decimal(p, s);
        return true;
    }
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (i != CP_TYPE_DECIMAL && strcmp(name, type_names[i]) == 0) {
            *out = cp_type_of((cp_type_id)i);
            return true;
        }
    }
    return false;
}

const char cp_type_user_names[] =
    "BOOLEAN, INT64, DECIMAL(p,s), DOUBLE, DATE, TIMESTAMP, TIMESTAMPTZ, STRING";

bool cp_type_parse_user(const char *text, cp_type *out)
{
    char canon[40];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        if (n + 1 >= sizeof canon)
            return false;
        canon[n++] = (char)toupper((unsigned char)*p);
    }
    canon[n] = '\0';
    cp_type t;
    if (!cp_type_parse(canon, &t) || t.id == CP_TYPE_NULL)
        return false;
    *out = t;
    return true;
}
