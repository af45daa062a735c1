/*
 * harness.h - a small unit test harness.
 *
 * A test file defines test functions with TEST(name), lists them in
 * main() with RUN(name), and ends with `return harness_summary();`.
 * CHECK(cond) records a failure with file and line and goes on;
 * REQUIRE(cond) also leaves the test. Every test file is its own process,
 * run by tests/unit/run.sh with a timeout.
 */
#ifndef BS_TEST_HARNESS_H
#define BS_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_failed_checks;
static int harness_tests;
static int harness_failed_tests;
static int harness_current_failed;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                          \
    do {                                                                   \
        harness_current_failed = 0;                                        \
        harness_tests++;                                                   \
        test_##name();                                                     \
        if (harness_current_failed)                                        \
            harness_failed_tests++;                                        \
    } while (0)

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            harness_failed_checks++;                                       \
            harness_current_failed = 1;                                    \
        }                                                                  \
    } while (0)

#define REQUIRE(cond)                                                      \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__,   \
                    __LINE__, #cond);                                      \
            harness_failed_checks++;                                       \
            harness_current_failed = 1;                                    \
            return;                                                        \
        }                                                                  \
    } while (0)

/* Compares two NUL-terminated strings and prints both on mismatch. */
#define CHECK_STR(got, want)                                               \
    do {                                                                   \
        const char *g_ = (got), *w_ = (want);                              \
        if (!g_ || strcmp(g_, w_) != 0) {                                  \
            fprintf(stderr, "%s:%d: got  %s\n%*swant %s\n", __FILE__,      \
                    __LINE__, g_ ? g_ : "(null)",                          \
                    (int)strlen(__FILE__) + 8, "", w_);                    \
            harness_failed_checks++;                                       \
            harness_current_failed = 1;                                    \
        }                                                                  \
    } while (0)

static inline int harness_summary(const char *file)
{
    printf("%-28s %d tests, %d failed\n", file, harness_tests,
           harness_failed_tests);
    return harness_failed_checks ? 1 : 0;
}

#endif
