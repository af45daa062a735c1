/*
 * regex.c - regular expression matching with PCRE2.
 *
 * Patterns are compiled per call with a match limit, so a hostile
 * pattern or subject cannot spin for long.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"

#include <pcre2.h>
#include <string.h>

int bs_regex_match(const char *pattern, const char *subject, size_t n)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF, &errcode, &erroff, NULL);
    if (!re)
        return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    int rc = -1;
    if (md && mc) {
        pcre2_set_match_limit(mc, 100000);
        int m = pcre2_match(re, (PCRE2_SPTR)subject, n, 0, 0, md, mc);
        rc = m >= 0 ? 1 : 0;
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}
