#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cp_buf_init(cp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void cp_buf_release(cp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

cp_status cp_buf_reserve(cp_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return CP_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return CP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max != CP_BUF_UNLIMITED && cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return CP_NOMEM;
    b->data = p;
    b->cap = cap;
    return CP_OK;
}

cp_status cp_buf_append_grow(cp_buf *b, const void *data, size_t len)
{
    CP_RETURN_IF_ERROR(cp_buf_reserve(b, len));
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return CP_OK;
}

cp_status cp_buf_append_str(cp_buf *b, const char *s)
{
    return cp_buf_append(b, s, strlen(s));
}

cp_status cp_buf_append_char(cp_buf *b, char c)
{
    return cp_buf_append(b, &c, 1);
}

cp_status cp_buf_printf(cp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CP_INTERNAL;
    CP_RETURN_IF_ERROR(cp_buf_reserve(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return CP_OK;
}

char *cp_buf_detach(cp_buf *b, size_t *len)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
