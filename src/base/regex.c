/*
 * regex.c - regular expression matching with PCRE2.
 *
 * Matches run with a match limit, so a hostile pattern or subject cannot
 * spin for long. Compiling a pattern costs several times more than
 * matching a short value against it, and field patterns repeat on every
 * save, so each thread keeps its most recent compiled patterns (a small
 * ring, looked up by the full pattern text) together with one match
 * block and one match context. Nothing is shared between threads, so no
 * lock is taken; a thread's cache is freed when the thread ends.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define REGEX_SLOTS 16
#define MATCH_LIMIT 100000

typedef struct compiled {
    char *pattern; /* owned copy; NULL for a free slot */
    pcre2_code *re;
} compiled;

typedef struct regex_cache {
    compiled slot[REGEX_SLOTS];
    unsigned next; /* the slot the next new pattern takes */
    pcre2_match_data *md;
    pcre2_match_context *mc;
} regex_cache;

static _Thread_local regex_cache *thread_slot;

static void cache_free(void *p)
{
    regex_cache *c = p;
    for (int i = 0; i < REGEX_SLOTS; i++) {
        free(c->slot[i].pattern);
        pcre2_code_free(c->slot[i].re);
    }
    pcre2_match_data_free(c->md);
    pcre2_match_context_free(c->mc);
    free(c);
}

/* This thread's cache, or NULL when it cannot be made. */
static regex_cache *thread_cache(void)
{
    if (thread_slot)
        return thread_slot;
    regex_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* One ovector pair is enough: only whether it matches is asked. */
    c->md = pcre2_match_data_create(1, NULL);
    c->mc = pcre2_match_context_create(NULL);
    if (!c->md || !c->mc || pcre2_set_match_limit(c->mc, MATCH_LIMIT) != 0 ||
        bs_thread_on_exit(cache_free, c) != 0) {
        cache_free(c);
        return NULL;
    }
    thread_slot = c;
    return c;
}

static pcre2_code *compile(const char *pattern)
{
    int errcode;
    PCRE2_SIZE erroff;
    return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF, &errcode, &erroff, NULL);
}

/* Sets *out to the compiled pattern from c, compiling and remembering it
 * on a miss. Returns 0, -1 when the pattern does not compile, or -2
 * without memory for the copy of its text. */
static int cached(regex_cache *c, const char *pattern, const pcre2_code **out)
{
    for (int i = 0; i < REGEX_SLOTS; i++) {
        if (c->slot[i].pattern && strcmp(c->slot[i].pattern, pattern) == 0) {
            *out = c->slot[i].re;
            return 0;
        }
    }
    pcre2_code *re = compile(pattern);
    if (!re)
        return -1;
    char *copy = strdup(pattern);
    if (!copy) {
        pcre2_code_free(re);
        return -2;
    }
    compiled *s = &c->slot[c->next++ % REGEX_SLOTS];
    free(s->pattern);
    pcre2_code_free(s->re);
    s->pattern = copy;
    s->re = re;
    *out = re;
    return 0;
}

/* The same match without the cache (no memory for it). */
static int match_uncached(const char *pattern, const char *subject, size_t n)
{
    pcre2_code *re = compile(pattern);
    if (!re)
        return -1;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    int rc = -1;
    if (md && mc && pcre2_set_match_limit(mc, MATCH_LIMIT) == 0) {
        int m = pcre2_match(re, (PCRE2_SPTR)subject, n, 0, 0, md, mc);
        rc = m >= 0 ? 1 : 0;
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

int bs_regex_match(const char *pattern, const char *subject, size_t n)
{
    regex_cache *c = thread_cache();
    if (!c)
        return match_uncached(pattern, subject, n);
    const pcre2_code *re = NULL;
    int rc = cached(c, pattern, &re);
    if (rc == -2)
        return match_uncached(pattern, subject, n);
    if (rc)
        return -1;
    int m = pcre2_match(re, (PCRE2_SPTR)subject, n, 0, 0, c->md, c->mc);
    return m >= 0 ? 1 : 0;
}
