/*
 * pq_dict.c - column chunk dictionary (see pq_dict.h).
 *
 * Linear probing in a table of entry numbers kept at most half full (it doubles past
 * that). Keyed entries are hashed as integers (the murmur3 finalizer) and compared by
 * key. Byte entries are hashed 8 bytes at a time; each entry keeps its hash, so a probe
 * compares hash and length before it touches any bytes, and growing never rehashes bytes.
 * The finds live in pq_dict.h so the column writer's loops inline them.
 */
#include "parquet/pq_dict.h"

#include "parquet/pq_encoding.h"
#include "util/hash.h"

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
    free(d->entries);
    free(d->keys);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

void cp_pq_dict_reset(cp_pq_dict *d)
{
    cp_buf_reset(&d->plain);
    if (d->slots && d->n)
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
    d->n = 0;
    d->key_len = 0;
}

static uint64_t entry_hash(const void *ctx, size_t i)
{
    const cp_pq_dict *d = ctx;
    return d->key_len ? cp_pq_dict_key_hash(d->keys[i]) : d->entries[i].hash;
}

static cp_status grow_table(cp_pq_dict *d)
{
    return cp_hash_slots_grow(&d->slots, &d->nslots, 1024, d->n, entry_hash, d);
}

/* The capacity for entry n of an array now holding cap (0: big enough). */
static size_t grown_cap(size_t cap, size_t n)
{
    return n < cap ? 0 : cap ? cap * 2 : 256;
}

/* A table at most half full after one more entry; the free slot for `hash`. */
static cp_status free_slot(cp_pq_dict *d, uint32_t hash, size_t *slot)
{
    if ((d->n + 1) * 2 > d->nslots)
        CP_RETURN_IF_ERROR(grow_table(d));
    size_t mask = d->nslots - 1, s = hash & mask;
    while (d->slots[s])
        s = (s + 1) & mask;
    *slot = s;
    return CP_OK;
}

cp_status cp_pq_dict_add(cp_pq_dict *d, const void *value, size_t len, uint32_t hash,
                         uint32_t *index)
{
    if (d->key_len) /* a keyed chunk: not to be mixed */
        return CP_INTERNAL;
    size_t need = len + (d->byte_array ? 4 : 0);
    if (len > UINT32_MAX || d->plain.len + need > d->limit)
        return CP_TOO_LARGE;
    size_t s;
    CP_RETURN_IF_ERROR(free_slot(d, hash, &s));
    size_t cap = grown_cap(d->cap, d->n);
    if (cap) {
        cp_pq_dict_entry *e = realloc(d->entries, cap * sizeof *e);
        if (!e)
            return CP_NOMEM;
        d->entries = e;
        d->cap = cap;
    }
    CP_RETURN_IF_ERROR(cp_buf_reserve(&d->plain, need));
    if (d->byte_array) {
        cp_pq_store_le32((unsigned char *)d->plain.data + d->plain.len, (uint32_t)len);
        d->plain.len += 4;
    }
    size_t off = d->plain.len;
    CP_RETURN_IF_ERROR(cp_buf_append(&d->plain, value, len));
    d->entries[d->n] = (cp_pq_dict_entry){hash, (uint32_t)len, (uint32_t)off};
    d->slots[s] = (uint32_t)d->n + 1;
    *index = (uint32_t)d->n;
    d->n++;
    return CP_OK;
}

cp_status cp_pq_dict_add_key(cp_pq_dict *d, uint64_t key, const void *plain, size_t len,
                             uint32_t *index)
{
    if (d->key_len != len) {
        if (d->n || len == 0 || len > 8) /* a byte chunk or another width: not to be mixed */
            return CP_INTERNAL;
        d->key_len = (uint32_t)len;
    }
    if (d->plain.len + len > d->limit)
        return CP_TOO_LARGE;
    size_t s;
    CP_RETURN_IF_ERROR(free_slot(d, cp_pq_dict_key_hash(key), &s));
    size_t cap = grown_cap(d->kcap, d->n);
    if (cap) {
        uint64_t *k = realloc(d->keys, cap * sizeof *k);
        if (!k)
            return CP_NOMEM;
        d->keys = k;
        d->kcap = cap;
    }
    CP_RETURN_IF_ERROR(cp_buf_append(&d->plain, plain, len));
    d->keys[d->n] = key;
    d->slots[s] = (uint32_t)d->n + 1;
    *index = (uint32_t)d->n;
    d->n++;
    return CP_OK;
}

cp_status cp_pq_dict_insert(cp_pq_dict *d, const void *value, size_t len, uint32_t *index)
{
    if (d->key_len)
        return CP_INTERNAL;
    uint32_t hash = cp_pq_dict_hash(value, len);
    uint32_t e = cp_pq_dict_find(d, value, len, hash);
    if (e) {
        *index = e - 1;
        return CP_OK;
    }
    return cp_pq_dict_add(d, value, len, hash, index);
}

cp_status cp_pq_dict_insert_key(cp_pq_dict *d, uint64_t key, const void *plain, size_t len,
                                uint32_t *index)
{
    if (d->n && d->key_len != len)
        return CP_INTERNAL;
    uint32_t e = cp_pq_dict_find_key(d, key);
    if (e) {
        *index = e - 1;
        return CP_OK;
    }
    return cp_pq_dict_add_key(d, key, plain, len, index);
}

const void *cp_pq_dict_plain_entry(const cp_pq_dict *d, uint32_t i, size_t *len)
{
    if (d->key_len) {
        *len = d->key_len;
        return d->plain.data + (size_t)i * d->key_len;
    }
    size_t pre = d->byte_array ? 4 : 0;
    *len = d->entries[i].len + pre;
    return d->plain.data + d->entries[i].offset - pre;
}
