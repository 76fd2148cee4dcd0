/*
 * batch.h - typed column batches: a bounded number of rows held column by column.
 *
 * Every value is parsed once, when its row is appended, into the typed form of its
 * column (see types.h); every sink reads the same batch. A validity bitmap per column
 * marks the non-null values. Memory is bounded by `capacity` rows and by a byte budget
 * for string data, whatever the size of the file; cp_batch_clear reuses the memory.
 *
 * Null rules: an empty field or a null token (NULL, null, NA, N/A, \N by default) is
 * null; in a STRING column a quoted field is always the literal text ("" is the empty
 * string), in other columns a quoted empty field or null token is null too.
 */
#ifndef CP_BATCH_H
#define CP_BATCH_H

#include "table/schema.h"
#include "util/parse.h"

/* One field of a CSV row as the tokenizer hands it over; not NUL-terminated. */
typedef struct cp_field {
    const char *data;
    size_t len;
    bool quoted;
} cp_field;

/* How text values become typed values. */
typedef struct cp_value_opts {
    cp_locale locale;
    const char *const *null_tokens; /* NULL-terminated list; NULL means the defaults */
} cp_value_opts;

extern const char *const cp_default_null_tokens[];

/* True when s[0..len) is one of the null tokens (the empty string always is). */
bool cp_is_null_token(const cp_value_opts *opts, const char *s, size_t len);

typedef struct cp_column_data {
    uint64_t *validity; /* bit r set: row r has a value */
    size_t nnulls;
    union {
        uint8_t *boolean;  /* BOOLEAN: 0 or 1 */
        int64_t *i64;      /* INT64; TIMESTAMP and TIMESTAMPTZ: microseconds since epoch */
        cp_i128 *decimal;  /* DECIMAL(p,s): value * 10^s */
        double *f64;       /* DOUBLE */
        int32_t *date;     /* DATE: days since 1970-01-01 */
        uint32_t *offsets; /* STRING: capacity + 1 offsets into `strings` */
    } v;
    cp_buf strings; /* STRING: the UTF-8 bytes of the column's values, back to back */
} cp_column_data;

typedef struct cp_batch {
    const cp_schema *schema; /* not owned; must outlive the batch */
    size_t nrows;
    size_t capacity;
    size_t string_budget; /* a batch is full once its string bytes pass this */
    size_t string_bytes;
    uint64_t first_row; /* 1-based ordinal of the first row among the file's loaded rows */
    /* NULL: row r is row first_row + r; else row r is row_numbers[r] (not owned) */
    const uint64_t *row_numbers;
    cp_column_data *cols;
} cp_batch;

/* The 1-based ordinal of row r among the file's loaded rows. */
static inline uint64_t cp_batch_row_number(const cp_batch *b, size_t r)
{
    return b->row_numbers ? b->row_numbers[r] : b->first_row + r;
}

/*
 * Allocates room for `capacity` rows of schema. string_budget bounds the string bytes of
 * one batch (a single row may still pass it by up to max_row_bytes).
 */
cp_status cp_batch_init(cp_batch *b, const cp_schema *schema, size_t capacity, size_t string_budget,
                        size_t max_row_bytes);
void cp_batch_release(cp_batch *b);
/* Bytes the batch has allocated: its value arrays, validity bitmaps and string buffers. */
size_t cp_batch_memory(const cp_batch *b);
/* Empties the batch; the next row appended is data row number first_row (row_numbers NULL). */
void cp_batch_clear(cp_batch *b, uint64_t first_row);
static inline bool cp_batch_full(const cp_batch *b)
{
    return b->nrows >= b->capacity || b->string_bytes >= b->string_budget;
}

static inline bool cp_batch_valid(const cp_batch *b, size_t col, size_t row)
{
    return (b->cols[col].validity[row >> 6] >> (row & 63)) & 1;
}

/* The bytes of a STRING value (not NUL-terminated). */
static inline const char *cp_batch_string(const cp_batch *b, size_t col, size_t row, size_t *len)
{
    const cp_column_data *c = &b->cols[col];
    *len = c->v.offsets[row + 1] - c->v.offsets[row];
    return c->strings.data + c->v.offsets[row];
}

/*
 * Parses one row into the batch (the batch must not be full). Fewer fields than columns
 * are padded with nulls; extra fields are accepted only when empty. On CP_TYPE_MISMATCH,
 * CP_TOO_MANY_FIELDS or CP_TOO_LARGE nothing of the row is kept and err says which column
 * (err->column, 1-based) and value.
 */
cp_status cp_batch_append_row(cp_batch *b, const cp_field *fields, size_t nfields,
                              const cp_value_opts *opts, cp_error *err);

/*
 * Appends row `row` of src to dst (not full): dst column i takes src column cols[i] (cols
 * NULL: column i), which must have the same type. CP_TOO_LARGE when dst's strings are at
 * their maximum (nothing of the row kept), CP_NOMEM.
 */
cp_status cp_batch_append_from(cp_batch *dst, const cp_batch *src, size_t row, const size_t *cols);

/* Removes the last row appended (a row that a sink cannot take). */
void cp_batch_pop_row(cp_batch *b);

/*
 * Parses one value as type t (the rules above); *is_null tells a null. Returns false when
 * the value does not fit t. `out` receives the typed value for non-STRING types.
 */
typedef union cp_value {
    bool boolean;
    int64_t i64;
    cp_i128 decimal;
    double f64;
    int32_t date;
} cp_value;
bool cp_parse_value(cp_type t, const cp_field *f, const cp_value_opts *opts, bool *is_null,
                    cp_value *out);
/*
 * cp_parse_value for a value of column col, as cp_batch_append_row parses it: a forced
 * type (cp_column.forced) also takes 0 and 1 as a BOOLEAN, which inference leaves INT64.
 */
bool cp_parse_column_value(const cp_column *col, const cp_field *f, const cp_value_opts *opts,
                           bool *is_null, cp_value *out);

#endif
