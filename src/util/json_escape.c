#include "util/json_escape.h"

#include <string.h>

cp_status cp_json_append_string(cp_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (len > (SIZE_MAX - 2) / 6)
        return CP_TOO_LARGE;
    CP_RETURN_IF_ERROR(cp_buf_reserve(out, len * 6 + 2));
    char *o = out->data + out->len;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len) {
            unsigned char c = (unsigned char)s[run];
            if (c < 0x20 || c == '"' || c == '\\')
                break;
            run++;
        }
        memcpy(o, s + i, run - i);
        o += run - i;
        if (run == len)
            break;
        unsigned char c = (unsigned char)s[run];
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        i = run + 1;
    }
    *o++ = '"';
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return CP_OK;
}
