/* pq_pages.c - column chunk pages in shared slabs (see pq_pages.h). */
#include "parquet/pq_pages.h"
#include "util/array.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SLAB_MIN ((size_t)64 << 10)
#define SLAB_MAX ((size_t)4 << 20)
#define HUGE_PAGE ((size_t)2 << 20)
#define MAPPED_MIN ((size_t)1 << 20) /* slabs from here on are whole huge pages */

void cp_pq_slabs_init(cp_pq_slabs *s, bool huge_pages)
{
    memset(s, 0, sizeof *s);
    s->huge_pages = huge_pages;
}

/* size bytes aligned to a huge page and advised to use them; NULL when mmap fails. */
static unsigned char *map_huge(size_t size)
{
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
    size_t span = size + HUGE_PAGE;
    unsigned char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t aligned = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    unsigned char *start = m + (aligned - (uintptr_t)m);
    if (start > m)
        munmap(m, (size_t)(start - m));
    munmap(start + size, span - size - (size_t)(start - m));
    (void)madvise(start, size, MADV_HUGEPAGE);
    return start;
#else
    (void)size;
    return NULL;
#endif
}

static cp_status slab_new(cp_pq_slab *s, size_t size, bool huge_pages)
{
    s->cap = size;
    s->mapped = false;
    if (huge_pages && size >= MAPPED_MIN && (s->data = map_huge(size)) != NULL) {
        s->mapped = true;
        return CP_OK;
    }
    s->data = malloc(size);
    return s->data ? CP_OK : CP_NOMEM;
}

static void slab_free(cp_pq_slab *s)
{
    if (s->mapped)
        munmap(s->data, s->cap);
    else
        free(s->data);
}

void cp_pq_slabs_release(cp_pq_slabs *s)
{
    for (size_t i = 0; i < s->nslabs; i++)
        slab_free(&s->slabs[i]);
    free(s->slabs);
    cp_pq_slabs_init(s, s->huge_pages);
}

void cp_pq_slabs_reset(cp_pq_slabs *s)
{
    s->cur = 0;
    s->used = 0;
}

/* The size of a new slab at index `at` for a reservation of n bytes of a store of max. */
static size_t slab_size(const cp_pq_slabs *s, size_t at, size_t n, size_t max)
{
    size_t size = at ? 2 * s->slabs[at - 1].cap : SLAB_MIN;
    if (size > SLAB_MAX)
        size = SLAB_MAX;
    if (n <= SIZE_MAX / 4 && size < 4 * n)
        size = 4 * n;
    if (size > max)
        size = n > SLAB_MIN ? n : SLAB_MIN;
    if (s->huge_pages && size >= MAPPED_MIN && size <= SIZE_MAX - HUGE_PAGE)
        size = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    return size;
}

/* Moves on to a slab with n free bytes: the next kept one when it is big enough, else a new one. */
static cp_status next_slab(cp_pq_slabs *s, size_t n, size_t max)
{
    size_t at = s->used && s->cur < s->nslabs ? s->cur + 1 : s->cur;
    if (at < s->nslabs && s->slabs[at].cap >= n) {
        s->cur = at;
        s->used = 0;
        return CP_OK;
    }
    cp_pq_slab *slabs = cp_array_room(s->slabs, at, &s->slabs_cap, sizeof *slabs);
    if (!slabs)
        return CP_NOMEM;
    s->slabs = slabs;
    cp_pq_slab slab;
    CP_RETURN_IF_ERROR(slab_new(&slab, slab_size(s, at, n, max), s->huge_pages));
    if (at < s->nslabs)
        slab_free(&s->slabs[at]);
    else
        s->nslabs++;
    s->slabs[at] = slab;
    s->cur = at;
    s->used = 0;
    return CP_OK;
}

void cp_pq_pages_init(cp_pq_pages *p, cp_pq_slabs *slabs, size_t max)
{
    memset(p, 0, sizeof *p);
    p->slabs = slabs;
    p->max = max;
}

void cp_pq_pages_release(cp_pq_pages *p)
{
    free(p->pieces);
    cp_pq_pages_init(p, p->slabs, p->max);
}

void cp_pq_pages_reset(cp_pq_pages *p)
{
    p->npieces = 0;
    p->len = 0;
}

cp_status cp_pq_pages_reserve(cp_pq_pages *p, size_t n, unsigned char **room)
{
    if (n > p->max || p->len > p->max - n)
        return CP_TOO_LARGE;
    cp_pq_piece *pieces = cp_array_room(p->pieces, p->npieces, &p->pieces_cap, sizeof *pieces);
    if (!pieces)
        return CP_NOMEM;
    p->pieces = pieces;
    cp_pq_slabs *s = p->slabs;
    if (s->cur >= s->nslabs || s->slabs[s->cur].cap - s->used < n)
        CP_RETURN_IF_ERROR(next_slab(s, n, p->max));
    *room = s->slabs[s->cur].data + s->used;
    return CP_OK;
}

void cp_pq_pages_commit(cp_pq_pages *p, const unsigned char *start, size_t len, bool first)
{
    assert(len > 0);
    cp_pq_slabs *s = p->slabs;
    s->used = (size_t)(start + len - s->slabs[s->cur].data);
    cp_pq_piece piece = {start, len};
    if (first) {
        memmove(p->pieces + 1, p->pieces, p->npieces * sizeof *p->pieces);
        p->pieces[0] = piece;
    } else {
        p->pieces[p->npieces] = piece;
    }
    p->npieces++;
    p->len += len;
}
