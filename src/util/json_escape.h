/*
 * json_escape.h - writing JSON string literals.
 */
#ifndef CP_JSON_ESCAPE_H
#define CP_JSON_ESCAPE_H

#include "util/buf.h"

/*
 * Appends the UTF-8 text s[0..len) as a JSON string literal: quotes added, '"', '\\' and
 * control characters escaped, everything else copied as is (the input must be valid
 * UTF-8, which every decoded CSV value is).
 */
cp_status cp_json_append_string(cp_buf *out, const char *s, size_t len);

/* The most bytes cp_json_put_string writes for len bytes of text (every byte \u00XX). */
#define CP_JSON_STRING_ROOM(len) ((len)*6 + 2)

/*
 * cp_json_append_string into raw memory: writes the literal at dst, which must have room
 * for CP_JSON_STRING_ROOM(len) bytes (no NUL is added), and returns the end of what it
 * wrote. For writers that reserve room for a whole row at once.
 */
char *cp_json_put_string(char *dst, const char *s, size_t len);

#endif
