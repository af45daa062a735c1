/*
 * regex.h - regular expression matching (PCRE2), for field patterns.
 *
 * PocketBase patterns are Go (RE2) expressions; PCRE2 accepts the same
 * syntax for everything RE2 supports.
 */
#ifndef BS_REGEX_H
#define BS_REGEX_H

#include <stdbool.h>
#include <stddef.h>

/* Matches subject[0..n) against pattern (UTF-8). Returns 1 on a match,
 * 0 on no match (or when the match limit is reached), -1 when the
 * pattern does not compile. Any thread; each thread keeps its recently
 * compiled patterns (see regex.c). */
int bs_regex_match(const char *pattern, const char *subject, size_t n);

#endif
