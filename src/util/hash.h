/*
 * hash.h - FNV-1a (64 bits) of bytes: for in-memory hash tables, and for values that
 * processes of different versions must agree on (a lock byte), so it never changes.
 */
#ifndef CP_HASH_H
#define CP_HASH_H

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

#endif
