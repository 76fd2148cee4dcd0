/*
 * items_backend.h - private to src/load: what an item store backend implements.
 *
 * A backend (items_sqlite.c, items_dynamodb.c) defines a `const cp_items_backend` and
 * allocates its struct with a `cp_items` as its first member, so items.c can dispatch on
 * s->backend and the backend can cast back. items.c checks what is the same for every
 * backend (NULLs, the file's schema, a file begun or not, the batch's column count) and
 * keeps the file being loaded in s->file before dispatching: the backend's begin finds
 * it filled, and items.c clears it after finish or abort.
 */
#ifndef CP_ITEMS_BACKEND_H
#define CP_ITEMS_BACKEND_H

#include "load/items.h"

typedef struct cp_items_backend {
    const char *const *schemes; /* URL prefixes, e.g. "sqlite:"; NULL-terminated */
    bool transactional;         /* abort rolls back the file's puts */
    /* target is the URL without the scheme */
    cp_items *(*open)(const char *target, cp_error *err);
    void (*close)(cp_items *s);
    /* s->file is filled */
    cp_status (*begin)(cp_items *s, const cp_schema *schema, cp_error *err);
    cp_status (*write)(cp_items *s, const cp_batch *b, cp_error *err);
    /* s->file is cleared afterwards, whatever the outcome */
    cp_status (*finish)(cp_items *s, uint64_t rows_now, uint64_t rows_before, cp_error *err);
    void (*abort)(cp_items *s);
    /* cp_items_check_row; NULL when every row fits */
    cp_status (*check_row)(cp_items *s, const cp_batch *b, size_t row, cp_error *why);
    /* cp_items_create_table; NULL when opening already creates what is needed */
    cp_status (*create)(const char *target, cp_error *err);
} cp_items_backend;

/* The file being loaded, the same for every backend (between cp_items_begin and finish). */
typedef struct cp_items_file {
    bool open;
    char *dataset;
    char *source;
    size_t *key_columns;
    cp_item_keys keys; /* over dataset, source and key_columns */
    size_t ncolumns;
    cp_buf names;     /* ,"col": for every column, back to back */
    size_t *name_end; /* end offset of column i's entry in names */
    cp_buf pk, sk;    /* the keys of the row in hand (cp_items_file_key), scratch */
} cp_items_file;

struct cp_items {
    const cp_items_backend *backend;
    cp_items_file file;
};

/* The pk and sk of row `row` of b into s->file.pk and sk; CP_TOO_LARGE/CP_NOMEM. */
static inline cp_status cp_items_file_key(cp_items *s, const cp_batch *b, size_t row)
{
    return cp_item_key(&s->file.keys, b, row, &s->file.pk, &s->file.sk);
}

extern const cp_items_backend cp_items_sqlite_backend;
extern const cp_items_backend cp_items_dynamodb_backend;

#endif
