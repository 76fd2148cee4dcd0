/*
 * thrift_compact.h - an encoder for the Thrift compact protocol, enough for Parquet metadata.
 *
 * The compact protocol (apache/thrift doc/specs/thrift-compact-protocol.md) writes:
 *   - integers as zigzag ULEB-128 varints (i16, i32, i64), bytes (i8) as one byte;
 *   - a field header as one byte `delta << 4 | type` when the field id is 1..15 above the
 *     previous field id of the same struct, else the type byte then the id as a zigzag
 *     varint; booleans live in the type nibble (1 = true, 2 = false) and have no payload;
 *   - binary/string as a varint length then the bytes; doubles as 8 bytes little-endian;
 *   - a list header as one byte `size << 4 | elem_type` for sizes 0..14, else
 *     `0xF0 | elem_type` then the size as a varint;
 *   - the end of every struct as a stop byte 0x00.
 *
 * A cp_thrift_writer appends to a caller-owned cp_buf and keeps a stack of "previous field
 * id" per open struct. Errors are sticky: after the first failure (CP_NOMEM, CP_TOO_LARGE
 * from the buffer, or CP_INTERNAL on misuse such as nesting past CP_THRIFT_MAX_DEPTH or
 * writing a field id that does not increase) every call does nothing, and
 * cp_thrift_status reports it. Callers therefore check once, at the end.
 * Not thread-safe; one writer per buffer.
 */
#ifndef CP_THRIFT_COMPACT_H
#define CP_THRIFT_COMPACT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* Compact protocol type codes (field headers and list element types). */
typedef enum cp_thrift_type {
    CP_THRIFT_STOP = 0,
    CP_THRIFT_TRUE = 1,
    CP_THRIFT_FALSE = 2,
    CP_THRIFT_I8 = 3,
    CP_THRIFT_I16 = 4,
    CP_THRIFT_I32 = 5,
    CP_THRIFT_I64 = 6,
    CP_THRIFT_DOUBLE = 7,
    CP_THRIFT_BINARY = 8,
    CP_THRIFT_LIST = 9,
    CP_THRIFT_SET = 10,
    CP_THRIFT_MAP = 11,
    CP_THRIFT_STRUCT = 12,
} cp_thrift_type;

#define CP_THRIFT_MAX_DEPTH 16

typedef struct cp_thrift_writer {
    cp_buf *out;
    cp_status status;
    int depth;                                /* open structs; 0 before cp_thrift_begin */
    int16_t last_id[CP_THRIFT_MAX_DEPTH + 1]; /* previous field id per open struct */
} cp_thrift_writer;

/* Low-level pieces, exposed for the tests and for the Parquet encodings. */
uint64_t cp_thrift_zigzag64(int64_t v);
/* Appends v as ULEB-128 (1..10 bytes). */
cp_status cp_thrift_put_uvarint(cp_buf *out, uint64_t v);

/* Starts writing into out (appends; existing content is kept). */
void cp_thrift_init(cp_thrift_writer *w, cp_buf *out);
cp_status cp_thrift_status(const cp_thrift_writer *w);

/*
 * Opens a top-level struct (a message body such as FileMetaData or PageHeader, or an
 * element of a list of structs); cp_thrift_struct_end closes it with a stop byte.
 */
void cp_thrift_struct_begin(cp_thrift_writer *w);
void cp_thrift_struct_end(cp_thrift_writer *w);

/* Fields of the innermost open struct; ids must increase within one struct. */
void cp_thrift_field_bool(cp_thrift_writer *w, int16_t id, bool v);
void cp_thrift_field_i8(cp_thrift_writer *w, int16_t id, int8_t v);
void cp_thrift_field_i16(cp_thrift_writer *w, int16_t id, int16_t v);
void cp_thrift_field_i32(cp_thrift_writer *w, int16_t id, int32_t v);
void cp_thrift_field_i64(cp_thrift_writer *w, int16_t id, int64_t v);
void cp_thrift_field_double(cp_thrift_writer *w, int16_t id, double v);
void cp_thrift_field_binary(cp_thrift_writer *w, int16_t id, const void *data, size_t len);
void cp_thrift_field_string(cp_thrift_writer *w, int16_t id, const char *s);
/* A struct-valued field: writes the header and opens the nested struct. */
void cp_thrift_field_struct_begin(cp_thrift_writer *w, int16_t id);
/* A list-valued field of n elements of type elem; then write exactly n elements. */
void cp_thrift_field_list_begin(cp_thrift_writer *w, int16_t id, cp_thrift_type elem, uint32_t n);

/* List elements. Struct elements use cp_thrift_struct_begin/_end. */
void cp_thrift_elem_i32(cp_thrift_writer *w, int32_t v);
void cp_thrift_elem_i64(cp_thrift_writer *w, int64_t v);
void cp_thrift_elem_binary(cp_thrift_writer *w, const void *data, size_t len);
/* Appends bytes already encoded by another writer (e.g. whole list elements). */
void cp_thrift_raw(cp_thrift_writer *w, const void *data, size_t len);

#endif
