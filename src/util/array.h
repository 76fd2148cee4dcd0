/*
 * array.h - room for one more element in a growable array (a pointer, a count and a
 * capacity kept by the caller), doubling from 16.
 */
#ifndef CP_ARRAY_H
#define CP_ARRAY_H

#include <stdint.h>
#include <stdlib.h>

/*
 * items (n used of *cap, each of size bytes) with room for one more: items itself when
 * n < *cap, else items grown to twice *cap (16 at first) and *cap updated. NULL when out
 * of memory (or the size would overflow); items is kept then, and the caller still owns it.
 * Use: `T *grown = cp_array_room(a, n, &cap, sizeof *grown); if (!grown) ...; a = grown;`
 */
static inline void *cp_array_room(void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    const size_t grown_cap = *cap ? *cap * 2 : 16;
    if (grown_cap > SIZE_MAX / size)
        return NULL;
    void *grown = realloc(items, grown_cap * size);
    if (grown)
        *cap = grown_cap;
    return grown;
}

#endif
