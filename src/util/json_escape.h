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

#endif
