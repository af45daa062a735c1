/*
 * arena.h - bump allocator for memory that dies together.
 *
 * Every request owns one arena; everything a handler allocates for the
 * request comes from it and is released in one go when the request ends,
 * so handlers rarely free anything themselves.
 */
#ifndef BS_ARENA_H
#define BS_ARENA_H

#include <stddef.h>

typedef struct bs_arena_block bs_arena_block;

typedef struct bs_arena {
    bs_arena_block *head;   /* newest block; allocations come from here */
    size_t block_size;      /* size of the next regular block */
} bs_arena;

/* Prepares an empty arena; no memory is taken until the first allocation. */
void bs_arena_init(bs_arena *a, size_t block_size);

/* Releases every block. The arena may be reused after another init. */
void bs_arena_dispose(bs_arena *a);

/* Returns 16-byte aligned memory living until dispose, or NULL when out of
 * memory. Never returns NULL for n == 0 (a unique small allocation). */
void *bs_arena_alloc(bs_arena *a, size_t n);

/* Like bs_arena_alloc but zero-filled. */
void *bs_arena_calloc(bs_arena *a, size_t n);

/* Copies n bytes and appends a NUL. */
char *bs_arena_strndup(bs_arena *a, const char *s, size_t n);
char *bs_arena_strdup(bs_arena *a, const char *s);

/* printf into the arena. */
char *bs_arena_printf(bs_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
