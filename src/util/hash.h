/*
 * hash.h - FNV-1a (64 bits) of bytes: for in-memory hash tables, and for values that
 * processes of different versions must agree on (a lock byte), so it never changes. And the
 * slots of an open-addressing table (linear probing, a power-of-two size, 0 = free,
 * otherwise an entry's index + 1) rebuilt from its entries.
 */
#ifndef CP_HASH_H
#define CP_HASH_H

#include "util/status.h"

#include <stddef.h>
#include <stdint.h>

/* The 64-bit FNV-1a hash of data[0..n); inline, as it runs per row. */
static inline uint64_t cp_hash_fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/*
 * Replaces *slots (*nslots of them, NULL and 0 at first) with a table twice that size
 * (first_size at first) holding entries 0..count-1, entry i at the first free slot from
 * hash_of(ctx, i). CP_NOMEM leaves the table as it was.
 */
cp_status cp_hash_slots_grow(uint32_t **slots, size_t *nslots, size_t first_size, size_t count,
                             uint64_t (*hash_of)(const void *ctx, size_t i), const void *ctx);

#endif
