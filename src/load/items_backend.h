/*
 * items_backend.h - private to src/load: what an item store backend implements.
 *
 * A backend (items_sqlite.c, items_dynamodb.c) defines a `const cp_items_backend` and
 * allocates its struct with a `cp_items` as its first member, so items.c can dispatch on
 * s->backend and the backend can cast back. items.c checks the arguments that are the
 * same for every backend (NULLs) before dispatching; cp_items_check_schema holds the
 * checks of a file's schema that every backend makes in its begin.
 */
#ifndef CP_ITEMS_BACKEND_H
#define CP_ITEMS_BACKEND_H

#include "load/items.h"

typedef struct cp_items_backend {
    const char *scheme; /* URL prefix, e.g. "sqlite:" */
    bool transactional; /* abort rolls back the file's puts */
    /* target is the URL without the scheme */
    cp_items *(*open)(const char *target, cp_error *err);
    void (*close)(cp_items *s);
    cp_status (*begin)(cp_items *s, const char *dataset, const cp_schema *schema,
                       const char *source_uri, const size_t *key_columns, size_t nkeys,
                       cp_error *err);
    cp_status (*write)(cp_items *s, const cp_batch *b, cp_error *err);
    cp_status (*finish)(cp_items *s, uint64_t rows_now, uint64_t rows_before, cp_error *err);
    void (*abort)(cp_items *s);
    /* cp_items_check_row; NULL when every row fits */
    cp_status (*check_row)(cp_items *s, const cp_batch *b, size_t row, cp_error *why);
    /* cp_items_create_table; NULL when opening already creates what is needed */
    cp_status (*create)(const char *target, cp_error *err);
} cp_items_backend;

struct cp_items {
    const cp_items_backend *backend;
};

extern const cp_items_backend cp_items_sqlite_backend;
extern const cp_items_backend cp_items_dynamodb_backend;

/* No column may be named _dataset, _source or _row; key columns must exist. */
cp_status cp_items_check_schema(const char *dataset, const cp_schema *schema,
                                const size_t *key_columns, size_t nkeys, cp_error *err);

#endif
