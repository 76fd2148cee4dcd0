/*
 * pq_dict.h - the dictionary of one column chunk for RLE_DICTIONARY encoding.
 *
 * Entries are kept in first-seen order, already PLAIN-encoded (so the dictionary page is
 * the `plain` buffer as is), and found again through an open-addressing hash table keyed
 * by the value's bytes (the raw PLAIN bytes of fixed-width values; the UTF-8 bytes of
 * strings). The PLAIN size is bounded by `limit`: an insert that would pass it answers
 * CP_TOO_LARGE and changes nothing, and the column writer falls back to PLAIN pages.
 */
#ifndef CP_PQ_DICT_H
#define CP_PQ_DICT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cp_pq_dict {
    cp_buf plain;      /* the dictionary page body: entries in PLAIN encoding */
    bool byte_array;   /* entries carry a 4-byte length prefix in `plain` */
    size_t limit;      /* maximum bytes of `plain` */
    size_t n;          /* entries */
    size_t cap;        /* room in offsets/lengths */
    uint32_t *offsets; /* entry i's value bytes start at plain.data + offsets[i] */
    uint32_t *lengths;
    uint32_t *slots; /* hash table: entry index + 1, 0 = empty */
    size_t nslots;   /* power of two */
} cp_pq_dict;

/* limit must be below 2 GiB. Allocates nothing. */
void cp_pq_dict_init(cp_pq_dict *d, bool byte_array, size_t limit);
void cp_pq_dict_release(cp_pq_dict *d);
/* Forgets every entry, keeping memory (for the next column chunk). */
void cp_pq_dict_reset(cp_pq_dict *d);

/*
 * Finds value[0..len) or appends it; *index receives its entry number. CP_TOO_LARGE when
 * appending would pass the limit (nothing changes), CP_NOMEM.
 */
cp_status cp_pq_dict_insert(cp_pq_dict *d, const void *value, size_t len, uint32_t *index);

#endif
