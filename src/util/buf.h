/*
 * buf.h - growable byte buffers with a hard maximum.
 *
 * A cp_buf grows geometrically up to the `max` given at init and answers CP_TOO_LARGE past
 * it, so no input can make csvpipe allocate without bound. The content is always followed
 * by a NUL byte (not counted in len) once anything was appended, so it can be used as a C
 * string when it holds text. The buffer owns its memory; cp_buf_detach hands it over.
 */
#ifndef CP_BUF_H
#define CP_BUF_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct cp_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} cp_buf;

#define CP_BUF_UNLIMITED ((size_t)-1)

/* Initializes an empty buffer that may hold at most max bytes. Allocates nothing. */
void cp_buf_init(cp_buf *b, size_t max);
/* Frees the memory; the buffer is empty and reusable with the same max afterwards. */
void cp_buf_release(cp_buf *b);
/* Empties the buffer, keeping its memory. */
static inline void cp_buf_reset(cp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for `extra` more bytes (plus the NUL). CP_TOO_LARGE past max, CP_NOMEM. */
cp_status cp_buf_reserve(cp_buf *b, size_t extra);
/* cp_buf_append when the bytes do not fit in the memory the buffer has. */
cp_status cp_buf_append_grow(cp_buf *b, const void *data, size_t len);
static inline cp_status cp_buf_append(cp_buf *b, const void *data, size_t len)
{
    if (b->len > b->max || len > b->max - b->len || b->cap - b->len <= len) /* and the NUL */
        return cp_buf_append_grow(b, data, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return CP_OK;
}
cp_status cp_buf_append_str(cp_buf *b, const char *s);
cp_status cp_buf_append_char(cp_buf *b, char c);
cp_status cp_buf_printf(cp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the data (caller frees with free(); never NULL) and leaves the buffer empty. */
char *cp_buf_detach(cp_buf *b, size_t *len);

#endif
