#include "util/hash.h"

#include <stdlib.h>

cp_status cp_hash_slots_grow(uint32_t **slots, size_t *nslots, size_t first_size, size_t count,
                             uint64_t (*hash_of)(const void *ctx, size_t i), const void *ctx)
{
    const size_t n = *nslots ? *nslots * 2 : first_size, mask = n - 1;
    uint32_t *t = calloc(n, sizeof *t);
    if (!t)
        return CP_NOMEM;
    for (size_t i = 0; i < count; i++) {
        size_t s = (size_t)hash_of(ctx, i) & mask;
        while (t[s])
            s = (s + 1) & mask;
        t[s] = (uint32_t)i + 1;
    }
    free(*slots);
    *slots = t;
    *nslots = n;
    return CP_OK;
}
