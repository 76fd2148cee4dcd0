/*
 * pq_dict.h - the dictionary of one column chunk for RLE_DICTIONARY encoding.
 *
 * Entries are kept in first-seen order, already PLAIN-encoded (so the dictionary page is
 * the `plain` buffer as is), and found again through an open-addressing hash table. Two
 * ways in, not to be mixed within one chunk (between resets):
 *
 *   cp_pq_dict_insert      any value, keyed by its bytes (the raw PLAIN bytes of
 *                          fixed-width values; the UTF-8 bytes of strings);
 *   cp_pq_dict_insert_key  a fixed-width value of at most 8 PLAIN bytes, keyed by a 64-bit
 *                          integer that identifies it (e.g. its bits): no byte hashing.
 *
 * The PLAIN size is bounded by `limit`: an insert that would pass it answers CP_TOO_LARGE
 * and changes nothing, and the column writer falls back to PLAIN pages.
 */
#ifndef CP_PQ_DICT_H
#define CP_PQ_DICT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct cp_pq_dict_entry {
    uint32_t hash; /* high half of the 64-bit hash of the bytes */
    uint32_t len;
    uint32_t offset; /* the value's bytes start at plain.data + offset */
} cp_pq_dict_entry;

typedef struct cp_pq_dict {
    cp_buf plain;              /* the dictionary page body: entries in PLAIN encoding */
    bool byte_array;           /* entries carry a 4-byte length prefix in `plain` */
    size_t limit;              /* maximum bytes of `plain` */
    size_t n;                  /* entries */
    cp_pq_dict_entry *entries; /* cp_pq_dict_insert */
    size_t cap;                /* room in entries */
    uint64_t *keys;            /* cp_pq_dict_insert_key */
    size_t kcap;               /* room in keys */
    uint32_t key_len;          /* PLAIN bytes of each keyed entry (0: not keyed) */
    uint32_t *slots;           /* hash table: entry index + 1, 0 = empty */
    size_t nslots;             /* power of two */
} cp_pq_dict;

/* limit must be below 2 GiB. Allocates nothing. */
void cp_pq_dict_init(cp_pq_dict *d, bool byte_array, size_t limit);
void cp_pq_dict_release(cp_pq_dict *d);
/* Forgets every entry, keeping memory (for the next column chunk). */
void cp_pq_dict_reset(cp_pq_dict *d);

/*
 * Finds value[0..len) or appends it; *index receives its entry number (d->n grew when it
 * is new). CP_TOO_LARGE when appending would pass the limit (nothing changes), CP_NOMEM.
 */
cp_status cp_pq_dict_insert(cp_pq_dict *d, const void *value, size_t len, uint32_t *index);

/*
 * Finds the value known by `key` or appends it, its PLAIN bytes being plain[0..len) (len
 * 1..8, the same for every key until the next reset; equal keys must mean equal bytes).
 * Same answers as cp_pq_dict_insert.
 */
cp_status cp_pq_dict_insert_key(cp_pq_dict *d, uint64_t key, const void *plain, size_t len,
                                uint32_t *index);

/*
 * The two halves of the inserts, for callers that look up often and add rarely: a find
 * (inline, allocates nothing) answers the entry number + 1, or 0 when the value is not
 * there; an add appends a value the find did not find (same answers as the inserts). The
 * byte forms take the value's cp_pq_dict_hash.
 */
static inline uint64_t cp_pq_dict__load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t cp_pq_dict__load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t cp_pq_dict__mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* 32 well-mixed bits of value[0..len) (host byte order: they never leave the process). */
static inline uint32_t cp_pq_dict_hash(const void *value, size_t len)
{
    const unsigned char *p = value;
    const uint64_t m = 0x9e3779b97f4a7c15ULL;
    uint64_t h = (uint64_t)len * m;
    if (len >= 8) {
        const unsigned char *last = p + len - 8;
        for (; p < last; p += 8)
            h = (h ^ cp_pq_dict__load64(p)) * m;
        h ^= cp_pq_dict__load64(last); /* the last 8 bytes, maybe overlapping */
    } else if (len >= 4) {
        h ^= (uint64_t)cp_pq_dict__load32(p) << 32 | cp_pq_dict__load32(p + len - 4);
    } else if (len) {
        h ^= (uint64_t)p[0] << 16 | (uint64_t)p[len / 2] << 8 | p[len - 1];
    }
    return (uint32_t)(cp_pq_dict__mix(h * m) >> 32);
}

static inline uint32_t cp_pq_dict_key_hash(uint64_t key)
{
    return (uint32_t)(cp_pq_dict__mix(key) >> 32);
}

static inline bool cp_pq_dict__equal(const unsigned char *a, const unsigned char *b, size_t len)
{
    if (len <= 16) {
        if (len >= 8)
            return cp_pq_dict__load64(a) == cp_pq_dict__load64(b) &&
                   cp_pq_dict__load64(a + len - 8) == cp_pq_dict__load64(b + len - 8);
        if (len >= 4)
            return cp_pq_dict__load32(a) == cp_pq_dict__load32(b) &&
                   cp_pq_dict__load32(a + len - 4) == cp_pq_dict__load32(b + len - 4);
        for (size_t i = 0; i < len; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    if (len <= 64) {
        for (size_t i = 0; i + 8 < len; i += 8)
            if (cp_pq_dict__load64(a + i) != cp_pq_dict__load64(b + i))
                return false;
        return cp_pq_dict__load64(a + len - 8) == cp_pq_dict__load64(b + len - 8);
    }
    return memcmp(a, b, len) == 0;
}

static inline uint32_t cp_pq_dict_find(const cp_pq_dict *d, const void *value, size_t len,
                                       uint32_t hash)
{
    if (d->n == 0)
        return 0;
    const unsigned char *base = (const unsigned char *)d->plain.data;
    size_t mask = d->nslots - 1;
    for (size_t s = hash & mask;; s = (s + 1) & mask) {
        uint32_t e = d->slots[s];
        if (e == 0)
            return 0;
        const cp_pq_dict_entry *en = &d->entries[e - 1];
        if (en->hash == hash && en->len == len && cp_pq_dict__equal(base + en->offset, value, len))
            return e;
    }
}

static inline uint32_t cp_pq_dict_find_key(const cp_pq_dict *d, uint64_t key)
{
    if (d->n == 0)
        return 0;
    size_t mask = d->nslots - 1;
    for (size_t s = cp_pq_dict_key_hash(key) & mask;; s = (s + 1) & mask) {
        uint32_t e = d->slots[s];
        if (e == 0 || d->keys[e - 1] == key)
            return e;
    }
}

cp_status cp_pq_dict_add(cp_pq_dict *d, const void *value, size_t len, uint32_t hash,
                         uint32_t *index);
cp_status cp_pq_dict_add_key(cp_pq_dict *d, uint64_t key, const void *plain, size_t len,
                             uint32_t *index);

/* The PLAIN bytes of entry i (with the length prefix for byte arrays), *len their count. */
const void *cp_pq_dict_plain_entry(const cp_pq_dict *d, uint32_t i, size_t *len);

#endif
