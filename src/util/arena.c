#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cp_arena_block {
    cp_arena_block *next;
    size_t size;
    size_t pos;
    _Alignas(16) unsigned char data[];
};

void cp_arena_init(cp_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used = 0;
}

void cp_arena_release(cp_arena *a)
{
    cp_arena_block *b = a->head;
    while (b) {
        cp_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
}

void cp_arena_reset(cp_arena *a)
{
    if (!a->head)
        return;
    /* Keep the last (oldest) block when it has the standard size; free the others. */
    cp_arena_block *b = a->head, *keep = NULL;
    while (b) {
        cp_arena_block *next = b->next;
        if (!next && b->size == a->block_size)
            keep = b;
        else
            free(b);
        b = next;
    }
    if (keep) {
        keep->pos = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used = 0;
}

void *cp_arena_alloc(cp_arena *a, size_t size)
{
    if (size > SIZE_MAX - 15)
        return NULL; /* rounding up would wrap around */
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    cp_arena_block *b = a->head;
    if (!b || b->size - b->pos < size) {
        size_t bsize = size > a->block_size ? size : a->block_size;
        if (bsize > SIZE_MAX - sizeof(cp_arena_block))
            return NULL;
        cp_arena_block *nb = malloc(sizeof(cp_arena_block) + bsize);
        if (!nb)
            return NULL;
        nb->size = bsize;
        nb->pos = 0;
        if (b && bsize != a->block_size) {
            /* An oversized block goes behind the current one, which keeps serving. */
            nb->next = b->next;
            b->next = nb;
            nb->pos = size;
            a->used += size;
            return nb->data;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->pos;
    b->pos += size;
    a->used += size;
    return p;
}

char *cp_arena_strndup(cp_arena *a, const char *s, size_t len)
{
    char *p = cp_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
