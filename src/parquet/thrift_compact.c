/*
 * thrift_compact.c - Thrift compact protocol encoder (see thrift_compact.h).
 */
#include "parquet/thrift_compact.h"

#include <string.h>

uint64_t cp_thrift_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

cp_status cp_thrift_put_uvarint(cp_buf *out, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (unsigned char)v;
    return cp_buf_append(out, tmp, n);
}

void cp_thrift_init(cp_thrift_writer *w, cp_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->status = CP_OK;
}

cp_status cp_thrift_status(const cp_thrift_writer *w)
{
    return w->status;
}

static bool ok(cp_thrift_writer *w)
{
    return w->status == CP_OK;
}

static void put(cp_thrift_writer *w, const void *data, size_t len)
{
    if (ok(w))
        w->status = cp_buf_append(w->out, data, len);
}

static void put_byte(cp_thrift_writer *w, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(w, &c, 1);
}

static void put_uvarint(cp_thrift_writer *w, uint64_t v)
{
    if (ok(w))
        w->status = cp_thrift_put_uvarint(w->out, v);
}

static void field_header(cp_thrift_writer *w, int16_t id, cp_thrift_type type)
{
    if (!ok(w))
        return;
    if (w->depth < 1 || id <= w->last_id[w->depth]) {
        w->status = CP_INTERNAL;
        return;
    }
    int delta = id - w->last_id[w->depth];
    if (delta <= 15) {
        put_byte(w, (unsigned)(delta << 4) | type);
    } else {
        put_byte(w, type);
        put_uvarint(w, cp_thrift_zigzag64(id));
    }
    w->last_id[w->depth] = id;
}

static void push(cp_thrift_writer *w)
{
    if (!ok(w))
        return;
    if (w->depth >= CP_THRIFT_MAX_DEPTH) {
        w->status = CP_INTERNAL;
        return;
    }
    w->last_id[++w->depth] = 0;
}

void cp_thrift_struct_begin(cp_thrift_writer *w)
{
    push(w);
}

void cp_thrift_struct_end(cp_thrift_writer *w)
{
    if (!ok(w))
        return;
    if (w->depth < 1) {
        w->status = CP_INTERNAL;
        return;
    }
    put_byte(w, CP_THRIFT_STOP);
    w->depth--;
}

void cp_thrift_field_bool(cp_thrift_writer *w, int16_t id, bool v)
{
    field_header(w, id, v ? CP_THRIFT_TRUE : CP_THRIFT_FALSE);
}

void cp_thrift_field_i8(cp_thrift_writer *w, int16_t id, int8_t v)
{
    field_header(w, id, CP_THRIFT_I8);
    put_byte(w, (uint8_t)v);
}

void cp_thrift_field_i16(cp_thrift_writer *w, int16_t id, int16_t v)
{
    field_header(w, id, CP_THRIFT_I16);
    put_uvarint(w, cp_thrift_zigzag64(v));
}

void cp_thrift_field_i32(cp_thrift_writer *w, int16_t id, int32_t v)
{
    field_header(w, id, CP_THRIFT_I32);
    put_uvarint(w, cp_thrift_zigzag64(v));
}

void cp_thrift_field_i64(cp_thrift_writer *w, int16_t id, int64_t v)
{
    field_header(w, id, CP_THRIFT_I64);
    put_uvarint(w, cp_thrift_zigzag64(v));
}

void cp_thrift_field_double(cp_thrift_writer *w, int16_t id, double v)
{
    uint64_t bits;
    unsigned char le[8];
    memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(bits >> (8 * i));
    field_header(w, id, CP_THRIFT_DOUBLE);
    put(w, le, sizeof le);
}

void cp_thrift_field_binary(cp_thrift_writer *w, int16_t id, const void *data, size_t len)
{
    field_header(w, id, CP_THRIFT_BINARY);
    cp_thrift_elem_binary(w, data, len);
}

void cp_thrift_field_string(cp_thrift_writer *w, int16_t id, const char *s)
{
    cp_thrift_field_binary(w, id, s, strlen(s));
}

void cp_thrift_field_struct_begin(cp_thrift_writer *w, int16_t id)
{
    field_header(w, id, CP_THRIFT_STRUCT);
    push(w);
}

void cp_thrift_field_list_begin(cp_thrift_writer *w, int16_t id, cp_thrift_type elem, uint32_t n)
{
    field_header(w, id, CP_THRIFT_LIST);
    if (n < 15) {
        put_byte(w, (n << 4) | elem);
    } else {
        put_byte(w, 0xF0u | elem);
        put_uvarint(w, n);
    }
}

void cp_thrift_elem_i32(cp_thrift_writer *w, int32_t v)
{
    put_uvarint(w, cp_thrift_zigzag64(v));
}

void cp_thrift_elem_i64(cp_thrift_writer *w, int64_t v)
{
    put_uvarint(w, cp_thrift_zigzag64(v));
}

void cp_thrift_elem_binary(cp_thrift_writer *w, const void *data, size_t len)
{
    put_uvarint(w, len);
    if (len)
        put(w, data, len);
}

void cp_thrift_raw(cp_thrift_writer *w, const void *data, size_t len)
{
    if (len)
        put(w, data, len);
}
