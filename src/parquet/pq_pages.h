/*
 * pq_pages.h - the stored pages of column chunks, written in place and never copied.
 *
 * A page is made right where it stays: cp_pq_pages_reserve gives n contiguous bytes at the
 * end of the current slab, the caller writes the page somewhere in them (a compressed body,
 * then its header right before it) and cp_pq_pages_commit records those bytes as the next
 * piece of the chunk, or as its first (the dictionary page, made last). The file gets the
 * pieces in order; the reserved bytes before a piece are left unused.
 *
 * The chunks of a row group share one cp_pq_slabs, one reservation at a time, so small
 * chunks do not each hold a slab of their own. Slabs never move: when the current one lacks
 * room the next is taken, twice the size of the one before (from 64 KiB up to 4 MiB, and at
 * least four reservations of the size asked). With huge pages on, slabs of 1 MiB and more
 * are mapped from the system in whole 2 MiB huge pages and asked for transparent huge
 * pages, where the system grants them (malloc otherwise): fewer page faults, but the huge
 * page being filled is resident whole. cp_pq_slabs_reset keeps the slabs for the next row group;
 * cp_pq_slabs_release frees them.
 *
 * Memory: the slabs, at most the bytes of the pieces plus the last slab and an unused tail
 * per slab; each store its list of pieces.
 */
#ifndef CP_PQ_PAGES_H
#define CP_PQ_PAGES_H

#include "util/status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cp_pq_slab {
    unsigned char *data;
    size_t cap;
    bool mapped; /* from mmap, else malloc */
} cp_pq_slab;

typedef struct cp_pq_slabs {
    cp_pq_slab *slabs;
    size_t nslabs, slabs_cap;
    size_t cur;  /* the slab being filled */
    size_t used; /* bytes of slabs[cur] taken */
    bool huge_pages;
} cp_pq_slabs;

/* No slab yet. Allocates nothing. */
void cp_pq_slabs_init(cp_pq_slabs *s, bool huge_pages);
void cp_pq_slabs_release(cp_pq_slabs *s);
/* Makes every slab free again, keeping them: the pieces of every store on s are gone. */
void cp_pq_slabs_reset(cp_pq_slabs *s);

typedef struct cp_pq_piece {
    const unsigned char *data;
    size_t len;
} cp_pq_piece;

/* The pages of one chunk. */
typedef struct cp_pq_pages {
    cp_pq_slabs *slabs; /* shared, not owned */
    cp_pq_piece *pieces;
    size_t npieces, pieces_cap;
    size_t len; /* bytes of all pieces: the chunk's size in the file */
    size_t max;
} cp_pq_pages;

/* An empty store on slabs whose pieces may add up to max bytes. Allocates nothing. */
void cp_pq_pages_init(cp_pq_pages *p, cp_pq_slabs *slabs, size_t max);
void cp_pq_pages_release(cp_pq_pages *p);
/* Forgets the pieces (their bytes stay taken until cp_pq_slabs_reset). */
void cp_pq_pages_reset(cp_pq_pages *p);

/*
 * Points *room at n free contiguous bytes, valid until the next commit on the same slabs;
 * reserving again without a commit gives the same or other bytes. CP_TOO_LARGE when n more
 * bytes would pass max, CP_NOMEM.
 */
cp_status cp_pq_pages_reserve(cp_pq_pages *p, size_t n, unsigned char **room);
/*
 * Records [start, start + len), inside the bytes of the last reservation, as the last piece
 * (or, first, as the first). len is not 0: a slab holding only empty pieces could be
 * replaced under them.
 */
void cp_pq_pages_commit(cp_pq_pages *p, const unsigned char *start, size_t len, bool first);

#endif
