/*
 * arena.c - bump allocator for memory that dies together.
 *
 * Blocks are chained newest first. A request that needs more than a block
 * gets a dedicated block of its own size, so large bodies do not waste the
 * tail of a regular block.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bs_arena_block {
    bs_arena_block *next;
    size_t used;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

#define ALIGN 16

void bs_arena_init(bs_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
}

void bs_arena_dispose(bs_arena *a)
{
    bs_arena_block *b = a->head;
    while (b) {
        bs_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

static bs_arena_block *block_new(size_t cap)
{
    bs_arena_block *b = malloc(sizeof(*b) + cap);
    if (!b)
        return NULL;
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

void *bs_arena_alloc(bs_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    if (need < n)
        return NULL; /* overflow */

    bs_arena_block *b = a->head;
    if (b && b->cap - b->used >= need) {
        void *p = b->data + b->used;
        b->used += need;
        return p;
    }
    if (need > a->block_size / 4) {
        /* Dedicated block, linked behind the head so the head keeps its
         * free tail for later small allocations. */
        bs_arena_block *big = block_new(need);
        if (!big)
            return NULL;
        big->used = need;
        if (b) {
            big->next = b->next;
            b->next = big;
        } else {
            a->head = big;
        }
        return big->data;
    }
    bs_arena_block *nb = block_new(a->block_size);
    if (!nb)
        return NULL;
    nb->next = a->head;
    a->head = nb;
    nb->used = need;
    return nb->data;
}

void *bs_arena_calloc(bs_arena *a, size_t n)
{
    void *p = bs_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *bs_arena_strndup(bs_arena *a, const char *s, size_t n)
{
    char *p = bs_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *bs_arena_strdup(bs_arena *a, const char *s)
{
    return bs_arena_strndup(a, s, strlen(s));
}

char *bs_arena_printf(bs_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = bs_arena_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
