#include "util/status.h"

#include <stdio.h>
#include <string.h>

const char *cp_status_name(cp_status st)
{
    switch (st) {
#define CP_STATUS_NAME(name, num, msg)                                                             \
    case CP_##name:                                                                                \
        return #name;
        CP_STATUS_MAP(CP_STATUS_NAME)
#undef CP_STATUS_NAME
    }
    return "UNKNOWN";
}

const char *cp_status_message(cp_status st)
{
    switch (st) {
#define CP_STATUS_MSG(name, num, msg)                                                              \
    case CP_##name:                                                                                \
        return msg;
        CP_STATUS_MAP(CP_STATUS_MSG)
#undef CP_STATUS_MSG
    }
    return "unknown status";
}

void cp_error_clear(cp_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

cp_status cp_error_vset(cp_error *err, cp_status code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    /* the cause first: "building the item of row 3: out of memory", not only the step */
    if (code == CP_NOMEM && n >= 0 && !strstr(err->message, "memory"))
        snprintf(err->message + strlen(err->message), sizeof err->message - strlen(err->message),
                 "%sout of memory", err->message[0] ? ": " : "");
    return code;
}

cp_status cp_error_set(cp_error *err, cp_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cp_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void cp_error_prefix(cp_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t pl = strlen(prefix), ml = strlen(err->message);
    if (pl + 2 >= sizeof err->message)
        pl = sizeof err->message - 3;
    if (pl + 2 + ml >= sizeof err->message)
        ml = sizeof err->message - pl - 3;
    memmove(err->message + pl + 2, err->message, ml);
    memcpy(err->message, prefix, pl);
    err->message[pl] = ':';
    err->message[pl + 1] = ' ';
    err->message[pl + 2 + ml] = '\0';
}

void cp_error_quote_value(char *out, size_t cap, const char *value, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (cap == 0)
        return;
    const size_t room = cap > 8 ? cap - 8 : 0; /* keeps space for "..." and the NUL */
    size_t o = 0, i = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        char esc[5];
        size_t n = 0;
        if (c == '\n' || c == '\r' || c == '\t') {
            esc[n++] = '\\';
            esc[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            esc[n++] = '\\';
            esc[n++] = 'x';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        } else {
            esc[n++] = (char)c;
        }
        if (o + n > room)
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    if (i < len && cap > 8) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < cap ? o : cap - 1] = '\0';
}
