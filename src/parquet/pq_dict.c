/*
 * pq_dict.c - column chunk dictionary (see pq_dict.h). The hash table is kept at most
 * half full and doubles when it passes that.
 */
#include "parquet/pq_dict.h"

#include "parquet/pq_encoding.h"

#include <stdlib.h>
#include <string.h>

void cp_pq_dict_init(cp_pq_dict *d, bool byte_array, size_t limit)
{
    memset(d, 0, sizeof *d);
    d->byte_array = byte_array;
    d->limit = limit;
    cp_buf_init(&d->plain, limit);
}

void cp_pq_dict_release(cp_pq_dict *d)
{
    cp_buf_release(&d->plain);
    free(d->offsets);
    free(d->lengths);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

void cp_pq_dict_reset(cp_pq_dict *d)
{
    cp_buf_reset(&d->plain);
    d->n = 0;
    if (d->slots)
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

static uint64_t hash_bytes(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ len;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h;
}

static cp_status grow_table(cp_pq_dict *d)
{
    size_t nslots = d->nslots ? d->nslots * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return CP_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
        size_t s = hash_bytes(d->plain.data + d->offsets[i], d->lengths[i]) & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)i + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return CP_OK;
}

cp_status cp_pq_dict_insert(cp_pq_dict *d, const void *value, size_t len, uint32_t *index)
{
    if ((d->n + 1) * 2 > d->nslots)
        CP_RETURN_IF_ERROR(grow_table(d));
    size_t s = hash_bytes(value, len) & (d->nslots - 1);
    while (d->slots[s]) {
        uint32_t e = d->slots[s] - 1;
        if (d->lengths[e] == len && memcmp(d->plain.data + d->offsets[e], value, len) == 0) {
            *index = e;
            return CP_OK;
        }
        s = (s + 1) & (d->nslots - 1);
    }
    size_t need = len + (d->byte_array ? 4 : 0);
    if (d->plain.len + need > d->limit || len > UINT32_MAX)
        return CP_TOO_LARGE;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        uint32_t *o = realloc(d->offsets, cap * sizeof *o);
        if (!o)
            return CP_NOMEM;
        d->offsets = o;
        uint32_t *l = realloc(d->lengths, cap * sizeof *l);
        if (!l)
            return CP_NOMEM;
        d->lengths = l;
        d->cap = cap;
    }
    if (d->byte_array) {
        unsigned char le[4];
        cp_pq_store_le32(le, (uint32_t)len);
        CP_RETURN_IF_ERROR(cp_buf_append(&d->plain, le, 4));
    }
    size_t off = d->plain.len;
    CP_RETURN_IF_ERROR(cp_buf_append(&d->plain, value, len));
    d->offsets[d->n] = (uint32_t)off;
    d->lengths[d->n] = (uint32_t)len;
    d->slots[s] = (uint32_t)d->n + 1;
    *index = (uint32_t)d->n;
    d->n++;
    return CP_OK;
}
