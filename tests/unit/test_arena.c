/*
 * test_arena.c - the bump allocator: alignment, dedicated large blocks,
 * string helpers and many small allocations that must not overlap.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/arena.h"
#include "harness.h"

TEST(empty_arena_takes_no_memory)
{
    bs_arena a;
    bs_arena_init(&a, 0);
    CHECK(a.head == NULL);
    CHECK(a.block_size == 4096); /* 0 selects the default size */
    bs_arena_dispose(&a);
    CHECK(a.head == NULL);
}

TEST(allocations_are_16_byte_aligned)
{
    bs_arena a;
    bs_arena_init(&a, 256);
    for (size_t n = 0; n < 200; n++) {
        void *p = bs_arena_alloc(&a, n % 37);
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p & 15) == 0);
    }
    bs_arena_dispose(&a);
}

TEST(zero_size_gives_distinct_pointers)
{
    bs_arena a;
    bs_arena_init(&a, 0);
    void *p = bs_arena_alloc(&a, 0);
    void *q = bs_arena_alloc(&a, 0);
    CHECK(p != NULL);
    CHECK(q != NULL);
    CHECK(p != q);
    bs_arena_dispose(&a);
}

TEST(many_allocations_do_not_overlap)
{
    enum { N = 5000 };
    bs_arena a;
    bs_arena_init(&a, 1024);
    unsigned char **ptrs = malloc(sizeof *ptrs * N);
    size_t *lens = malloc(sizeof *lens * N);
    REQUIRE(ptrs && lens);
    for (size_t i = 0; i < N; i++) {
        lens[i] = 1 + (i * 7) % 300; /* some go to dedicated blocks */
        ptrs[i] = bs_arena_alloc(&a, lens[i]);
        REQUIRE(ptrs[i] != NULL);
        memset(ptrs[i], (int)(i & 0xff), lens[i]);
    }
    /* Every block still holds its own fill byte: nothing overlapped. */
    int bad = 0;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < lens[i]; j++) {
            if (ptrs[i][j] != (unsigned char)(i & 0xff))
                bad++;
        }
    }
    CHECK(bad == 0);
    free(ptrs);
    free(lens);
    bs_arena_dispose(&a);
}

TEST(large_block_keeps_head_tail_for_small_ones)
{
    bs_arena a;
    bs_arena_init(&a, 1024);
    char *small1 = bs_arena_alloc(&a, 16);
    REQUIRE(small1 != NULL);
    char *big = bs_arena_alloc(&a, 100000);
    REQUIRE(big != NULL);
    CHECK(((uintptr_t)big & 15) == 0);
    memset(big, 'x', 100000);
    char *small2 = bs_arena_alloc(&a, 16);
    REQUIRE(small2 != NULL);
    /* The small allocation after the big one comes from the same regular
     * block, right after the first one. */
    CHECK(small2 == small1 + 16);
    CHECK(big[0] == 'x' && big[99999] == 'x');
    bs_arena_dispose(&a);
}

TEST(large_first_allocation)
{
    bs_arena a;
    bs_arena_init(&a, 512);
    char *big = bs_arena_alloc(&a, 1 << 20);
    REQUIRE(big != NULL);
    memset(big, 1, 1 << 20);
    char *s = bs_arena_strdup(&a, "after");
    CHECK_STR(s, "after");
    bs_arena_dispose(&a);
}

TEST(overflowing_size_fails)
{
    bs_arena a;
    bs_arena_init(&a, 0);
    CHECK(bs_arena_alloc(&a, SIZE_MAX) == NULL);
    CHECK(bs_arena_alloc(&a, SIZE_MAX - 8) == NULL);
    bs_arena_dispose(&a);
}

TEST(calloc_zero_fills)
{
    bs_arena a;
    bs_arena_init(&a, 128);
    /* Dirty the block first so calloc has something to clear. */
    unsigned char *d = bs_arena_alloc(&a, 64);
    REQUIRE(d != NULL);
    memset(d, 0xAB, 64);
    bs_arena_dispose(&a);
    bs_arena_init(&a, 128);
    unsigned char *z = bs_arena_calloc(&a, 24);
    REQUIRE(z != NULL);
    int nonzero = 0;
    for (int i = 0; i < 24; i++)
        nonzero += z[i] != 0;
    CHECK(nonzero == 0);
    bs_arena_dispose(&a);
}

TEST(strdup_strndup_printf)
{
    bs_arena a;
    bs_arena_init(&a, 64);
    char *s = bs_arena_strdup(&a, "hello");
    CHECK_STR(s, "hello");
    char *t = bs_arena_strndup(&a, "abcdef", 3);
    CHECK_STR(t, "abc");
    char *e = bs_arena_strndup(&a, "", 0);
    CHECK_STR(e, "");
    char *emb = bs_arena_strndup(&a, "a\0b", 3);
    REQUIRE(emb != NULL);
    CHECK(emb[0] == 'a' && emb[1] == '\0' && emb[2] == 'b' && emb[3] == '\0');
    char *p = bs_arena_printf(&a, "%s-%d-%05.1f", "x", 42, 3.25);
    CHECK_STR(p, "x-42-003.2");
    /* Longer than a block: printf must size exactly. */
    char *long_text = bs_arena_printf(&a, "%0300d", 7);
    REQUIRE(long_text != NULL);
    CHECK(strlen(long_text) == 300);
    CHECK(long_text[299] == '7' && long_text[0] == '0');
    /* Earlier strings survive later allocations. */
    CHECK_STR(s, "hello");
    CHECK_STR(t, "abc");
    bs_arena_dispose(&a);
}

TEST(reuse_after_dispose)
{
    bs_arena a;
    bs_arena_init(&a, 256);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++)
            CHECK(bs_arena_printf(&a, "%d:%d", round, i) != NULL);
        CHECK(a.head != NULL);
        bs_arena_dispose(&a);
        CHECK(a.head == NULL);
    }
}

int main(void)
{
    RUN(empty_arena_takes_no_memory);
    RUN(allocations_are_16_byte_aligned);
    RUN(zero_size_gives_distinct_pointers);
    RUN(many_allocations_do_not_overlap);
    RUN(large_block_keeps_head_tail_for_small_ones);
    RUN(large_first_allocation);
    RUN(overflowing_size_fails);
    RUN(calloc_zero_fills);
    RUN(strdup_strndup_printf);
    RUN(reuse_after_dispose);
    return harness_summary(__FILE__);
}
