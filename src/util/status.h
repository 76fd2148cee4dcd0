/*
 * status.h - the one list of status codes used across csvpipe.
 *
 * Every fallible function returns a cp_status. The numbers are fixed (they appear in
 * logs, the ledger and exit summaries); add new codes at the end of the list.
 * Details about one failure (file, line, column, value) travel in a cp_error.
 */
#ifndef CP_STATUS_H
#define CP_STATUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define CP_STATUS_MAP(X)                                                                           \
    X(OK, 0, "success")                                                                            \
    X(NOMEM, 1, "out of memory")                                                                   \
    X(TOO_LARGE, 2, "a value is larger than its configured limit")                                 \
    X(IO, 3, "input/output error")                                                                 \
    X(USAGE, 4, "invalid usage")                                                                   \
    X(BAD_ENCODING, 5, "the text is not valid in its encoding")                                    \
    X(BAD_QUOTE, 6, "broken quoting")                                                              \
    X(UNTERMINATED_QUOTE, 7, "a quoted field is never closed")                                     \
    X(FIELD_TOO_LONG, 8, "a field is longer than the field size limit")                            \
    X(TOO_MANY_FIELDS, 9, "a row has more fields than the header")                                 \
    X(TOO_MANY_COLUMNS, 10, "the file has more columns than the column limit")                     \
    X(TYPE_MISMATCH, 11, "a value does not fit its column's type")                                 \
    X(EMPTY, 12, "the input is empty")                                                             \
    X(BINARY, 13, "the input looks like binary data, not text")                                    \
    X(NOT_FOUND, 14, "not found")                                                                  \
    X(INTERNAL, 15, "internal error")                                                              \
    X(FORMAT, 16, "output format error")                                                           \
    X(DATABASE, 17, "database error")                                                              \
    X(REJECTED, 18, "the file was rejected")                                                       \
    X(INTERRUPTED, 19, "interrupted")                                                              \
    X(BAD_SCHEMA, 20, "a schema file is invalid or does not fit the file")

typedef enum cp_status {
#define CP_STATUS_ENUM(name, num, msg) CP_##name = num,
    CP_STATUS_MAP(CP_STATUS_ENUM)
#undef CP_STATUS_ENUM
} cp_status;

/* Symbolic name ("TYPE_MISMATCH") and static message of a status; never NULL. */
const char *cp_status_name(cp_status st);
const char *cp_status_message(cp_status st);

/*
 * Details of one failure. Parsers fill line/column/offset where they know them
 * (0 = unknown; line and column are 1-based). `message` is complete and meant for a
 * person: it names the place and the value, and what to do when there is a fix.
 */
typedef struct cp_error {
    cp_status code;
    uint64_t line;
    uint32_t column;
    uint64_t offset;
    char message[1024];
} cp_error;

/* Clears err (NULL allowed). */
void cp_error_clear(cp_error *err);

/*
 * Readies err for another call without clearing the rest of its message: the code, the
 * position and the message's first byte. Cheap enough for an error struct reused per row.
 */
static inline void cp_error_reset(cp_error *err)
{
    err->code = CP_OK;
    err->line = 0;
    err->column = 0;
    err->offset = 0;
    err->message[0] = '\0';
}

/*
 * Sets err->code and a printf-formatted message; returns code so callers can write
 * `return cp_error_set(err, CP_X, ...)`. err may be NULL (then only code is returned).
 * A CP_NOMEM message that does not say so ends in ": out of memory".
 */
cp_status cp_error_set(cp_error *err, cp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
cp_status cp_error_vset(cp_error *err, cp_status code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepends "prefix: " to an existing message (e.g. the file name). */
void cp_error_prefix(cp_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Writes a printable, bounded excerpt of a value into out (at most cap-1 bytes plus NUL):
 * control characters escaped, long values cut with "...". For error messages.
 */
void cp_error_quote_value(char *out, size_t cap, const char *value, size_t len);

#define CP_RETURN_IF_ERROR(expr)                                                                   \
    do {                                                                                           \
        cp_status cp_st_ = (expr);                                                                 \
        if (cp_st_ != CP_OK)                                                                       \
            return cp_st_;                                                                         \
    } while (0)

#endif
