/*
 * arena.h - a bump allocator for memory that lives as long as one batch.
 *
 * Allocations are carved from large blocks and never freed one by one: cp_arena_reset
 * makes all of them invalid at once and keeps the first block for reuse, so a stream of
 * batches allocates nothing in the steady state. Not thread-safe.
 */
#ifndef CP_ARENA_H
#define CP_ARENA_H

#include <stddef.h>

typedef struct cp_arena_block cp_arena_block;

typedef struct cp_arena {
    cp_arena_block *head;
    size_t block_size;
    size_t used; /* bytes handed out since the last reset */
} cp_arena;

/* block_size 0 means 64 KiB. Allocates nothing until the first cp_arena_alloc. */
void cp_arena_init(cp_arena *a, size_t block_size);
/* Frees every block. */
void cp_arena_release(cp_arena *a);
/* Invalidates every allocation; keeps one block. */
void cp_arena_reset(cp_arena *a);
/* Returns size bytes aligned to 16, or NULL when out of memory. */
void *cp_arena_alloc(cp_arena *a, size_t size);
/* Copies len bytes and a NUL into the arena. */
char *cp_arena_strndup(cp_arena *a, const char *s, size_t len);

#endif
