/*
 * test_regex.c - pattern matching and the per-thread cache of compiled
 * patterns: a cached pattern answers as a fresh compile would, patterns
 * pushed out of the cache still match, and threads do not share answers.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/regex.h"
#include "harness.h"

TEST(match_and_no_match)
{
    CHECK(bs_regex_match("^[a-z0-9]+$", "abc123", 6) == 1);
    CHECK(bs_regex_match("^[a-z0-9]+$", "abc-123", 7) == 0);
    /* The same pattern again comes from the cache with the same answers. */
    CHECK(bs_regex_match("^[a-z0-9]+$", "abc123", 6) == 1);
    CHECK(bs_regex_match("^[a-z0-9]+$", "ABC", 3) == 0);
    /* Only n bytes of the subject are read. */
    CHECK(bs_regex_match("^[a-z]+$", "abc-", 3) == 1);
    CHECK(bs_regex_match("^\\p{L}+$", "\xc3\xa9t\xc3\xa9", 5) == 1);
}

TEST(invalid_pattern)
{
    CHECK(bs_regex_match("([a-z", "a", 1) == -1);
    /* Not remembered as valid: asked again, still refused. */
    CHECK(bs_regex_match("([a-z", "a", 1) == -1);
    CHECK(bs_regex_match("", "", 0) == 1);
}

TEST(more_patterns_than_slots)
{
    /* Forty distinct patterns, twice over: every answer stays right while
     * older patterns are pushed out of the cache and compiled again. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 40; i++) {
            char pattern[32], yes[16], no[16];
            snprintf(pattern, sizeof pattern, "^x%d$", i);
            snprintf(yes, sizeof yes, "x%d", i);
            snprintf(no, sizeof no, "x%d", i + 1);
            CHECK(bs_regex_match(pattern, yes, strlen(yes)) == 1);
            CHECK(bs_regex_match(pattern, no, strlen(no)) == 0);
        }
    }
}

TEST(match_limit)
{
    /* Catastrophic backtracking stops at the limit and counts as no match. */
    char subject[64];
    memset(subject, 'a', sizeof subject - 2);
    subject[sizeof subject - 2] = 'b';
    subject[sizeof subject - 1] = '\0';
    CHECK(bs_regex_match("^(a+)+$", subject, strlen(subject)) == 0);
}

static void *thread_main(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < 200; i++) {
        char pattern[32], yes[16];
        snprintf(pattern, sizeof pattern, "^t%d$", i % 24);
        snprintf(yes, sizeof yes, "t%d", i % 24);
        if (bs_regex_match(pattern, yes, strlen(yes)) != 1 ||
            bs_regex_match(pattern, "t", 1) != 0)
            (*bad)++;
    }
    return NULL;
}

TEST(threads)
{
    pthread_t t[4];
    int bad[4] = {0};
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&t[i], NULL, thread_main, &bad[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(bad[i] == 0);
    }
}

int main(void)
{
    RUN(match_and_no_match);
    RUN(invalid_pattern);
    RUN(more_patterns_than_slots);
    RUN(match_limit);
    RUN(threads);
    return harness_summary(__FILE__);
}
