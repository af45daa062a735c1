/*
 * fuzz_router.c - route matching and percent-decoding on arbitrary input.
 *
 * A router with PocketBase's API route table is built once. Each input is
 * split into a method choice (first byte) and a raw path (the rest, up to
 * a NUL). Besides memory safety the driver checks the router against a
 * small reference matcher written from router.h's contract:
 *  - the matched route really matches the path and the method;
 *  - no other matching route is more specific;
 *  - when some route matches but the router returns none, the path holds
 *    a '%' (a parameter failed to decode);
 *  - parameter values are decoded, NUL-free and non-empty for {name}.
 * bs_url_decode is also run on the raw bytes: a result must be exactly
 * the input length minus two bytes per escape, with no NUL inside.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dict.h"
#include "http/router.h"

typedef struct route_def {
    const char *method;
    const char *pattern;
} route_def;

static const route_def ROUTES[] = {
    {"GET", "/api/health"},
    {"GET", "/api/settings"},
    {"PATCH", "/api/settings"},
    {"POST", "/api/settings/test/s3"},
    {"POST", "/api/settings/test/email"},
    {"POST", "/api/settings/apple/generate-client-secret"},
    {"GET", "/api/collections"},
    {"POST", "/api/collections"},
    {"PUT", "/api/collections/import"},
    {"GET", "/api/collections/meta/scaffolds"},
    {"GET", "/api/collections/{collection}"},
    {"PATCH", "/api/collections/{collection}"},
    {"DELETE", "/api/collections/{collection}"},
    {"DELETE", "/api/collections/{collection}/truncate"},
    {"GET", "/api/collections/{collection}/records"},
    {"POST", "/api/collections/{collection}/records"},
    {"GET", "/api/collections/{collection}/records/{id}"},
    {"PATCH", "/api/collections/{collection}/records/{id}"},
    {"DELETE", "/api/collections/{collection}/records/{id}"},
    {"GET", "/api/collections/{collection}/auth-methods"},
    {"POST", "/api/collections/{collection}/auth-refresh"},
    {"POST", "/api/collections/{collection}/auth-with-password"},
    {"POST", "/api/collections/{collection}/auth-with-oauth2"},
    {"POST", "/api/collections/{collection}/request-otp"},
    {"POST", "/api/collections/{collection}/auth-with-otp"},
    {"POST", "/api/collections/{collection}/request-password-reset"},
    {"POST", "/api/collections/{collection}/confirm-password-reset"},
    {"POST", "/api/collections/{collection}/request-verification"},
    {"POST", "/api/collections/{collection}/confirm-verification"},
    {"POST", "/api/collections/{collection}/request-email-change"},
    {"POST", "/api/collections/{collection}/confirm-email-change"},
    {"POST", "/api/collections/{collection}/impersonate/{id}"},
    {"GET", "/api/files/{collection}/{recordId}/{filename}"},
    {"POST", "/api/files/token"},
    {"GET", "/api/realtime"},
    {"POST", "/api/realtime"},
    {"POST", "/api/batch"},
    {"GET", "/api/logs"},
    {"GET", "/api/logs/stats"},
    {"GET", "/api/logs/{id}"},
    {"GET", "/api/crons"},
    {"POST", "/api/crons/{id}"},
    {"GET", "/api/backups"},
    {"POST", "/api/backups"},
    {"POST", "/api/backups/upload"},
    {"GET", "/api/backups/{key}"},
    {"DELETE", "/api/backups/{key}"},
    {"POST", "/api/backups/{key}/restore"},
    {"GET", "/api/oauth2-redirect"},
    {"POST", "/api/oauth2-redirect"},
    {"GET", "/_/{path...}"},
    {NULL, "/{path...}"},
};
#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

static const char *const METHODS[] = {"GET",    "POST", "PATCH",   "PUT",
                                      "DELETE", "HEAD", "OPTIONS", "get"};

static bs_router *router;
static const route_def *ran; /* the route whose handler ran */

static int handler(bs_event *e, void *user)
{
    (void)e;
    ran = user;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_add_dict(argc, argv, "tests/fuzz/fuzz_router.dict");
    router = bs_router_new();
    if (!router)
        abort();
    for (size_t i = 0; i < NROUTES; i++) {
        if (!bs_router_add(router, ROUTES[i].method, ROUTES[i].pattern,
                           handler, (void *)&ROUTES[i]))
            abort();
    }
    return 0;
}

/* ---- reference matcher ------------------------------------------------- */

/* Kind of pattern segment i (0 literal, 1 param, 2 wildcard) or 3 past the
 * end; text and len receive the literal text. */
static int seg_kind(const char *pattern, int i, const char **text,
                    size_t *len)
{
    const char *p = pattern + 1;
    for (int k = 0; k < i; k++) {
        p = strchr(p, '/');
        if (!p)
            return 3;
        p++;
    }
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    *text = p;
    *len = n;
    if (n >= 2 && p[0] == '{' && p[n - 1] == '}')
        return (n > 5 && memcmp(p + n - 4, "...}", 4) == 0) ? 2 : 1;
    return 0;
}

/* Splits path into raw segments ("/a/b" -> "a","b"; "/" -> ""). */
static int split_path(const char *path, const char **start, size_t *len,
                      int max)
{
    const char *p = path[0] == '/' ? path + 1 : path;
    int n = 0;
    for (;;) {
        if (n == max)
            return n + 1; /* more than max */
        const char *end = strchr(p, '/');
        start[n] = p;
        len[n] = end ? (size_t)(end - p) : strlen(p);
        n++;
        if (!end)
            return n;
        p = end + 1;
    }
}

#define MAXSEG 16

static bool ref_match(const char *pattern, const char *path)
{
    const char *st[MAXSEG];
    size_t ln[MAXSEG];
    int n = split_path(path, st, ln, MAXSEG);
    for (int i = 0;; i++) {
        const char *t;
        size_t tl;
        int k = seg_kind(pattern, i, &t, &tl);
        if (k == 2)
            return true;
        if (k == 3)
            return i == n; /* n > MAXSEG never equals i <= MAXSEG-ish */
        if (i >= n || i >= MAXSEG)
            return false;
        if (k == 1) {
            if (ln[i] == 0)
                return false;
            continue;
        }
        if (tl != ln[i] || memcmp(t, st[i], tl) != 0)
            return false;
    }
}

static bool method_ok(const char *route_method, const char *method)
{
    return !route_method || strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

/* Positive when route a is more specific than route b. */
static int ref_specific(const route_def *a, const route_def *b)
{
    for (int i = 0; i < MAXSEG + 1; i++) {
        const char *t;
        size_t tl;
        int ka = seg_kind(a->pattern, i, &t, &tl);
        int kb = seg_kind(b->pattern, i, &t, &tl);
        if (ka != kb)
            return kb - ka;
        if (ka == 3)
            break;
    }
    return (a->method != NULL) - (b->method != NULL);
}

static void check_decode(bs_arena *a, const uint8_t *data, size_t size)
{
    char *d = bs_url_decode(a, (const char *)data, size);
    if (!d)
        return;
    size_t pct = 0;
    for (size_t i = 0; i < size; i++)
        pct += data[i] == '%';
    if (strlen(d) != size - 2 * pct) {
        fprintf(stderr, "bs_url_decode: length %zu, expected %zu\n",
                strlen(d), size - 2 * pct);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *method = METHODS[data[0] % 8];
    size_t n = size - 1;
    char *path = malloc(n + 2);
    if (!path)
        return 0;
    /* Paths always start with '/' on the wire; half the inputs keep the
     * bytes as they are, the other half get the slash. */
    size_t off = 0;
    if (data[0] & 0x80)
        path[off++] = '/';
    memcpy(path + off, data + 1, n);
    path[off + n] = '\0';

    bs_req r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    bs_arena_init(&r.arena, 0);

    const bs_route *m = bs_router_match(router, &r, method, path);
    /* The reference view of the same question. */
    const route_def *best = NULL;
    for (size_t i = 0; i < NROUTES; i++) {
        if (!method_ok(ROUTES[i].method, method) ||
            !ref_match(ROUTES[i].pattern, path))
            continue;
        if (!best || ref_specific(&ROUTES[i], best) > 0)
            best = &ROUTES[i];
    }
    if (m) {
        ran = NULL;
        bs_route_run(m, &r);
        const route_def *got = ran;
        if (!got || !method_ok(got->method, method) ||
            !ref_match(got->pattern, path)) {
            fprintf(stderr, "router matched %s for %s %s\n",
                    got ? got->pattern : "?", method, path);
            abort();
        }
        if (best && ref_specific(best, got) > 0) {
            fprintf(stderr, "router chose %s over more specific %s for %s\n",
                    got->pattern, best->pattern, path);
            abort();
        }
        if (r.nparams < 0 || r.nparams > BS_MAX_PARAMS)
            abort();
        for (int i = 0; i < r.nparams; i++) {
            const char *v = r.param_values[i];
            if (!r.param_names[i] || !v)
                abort();
            /* {name} parameters are never empty. */
            if (strcmp(r.param_names[i], "path") != 0 && v[0] == '\0')
                abort();
        }
        if (r.route != m)
            abort();
    } else if (best && !strchr(path, '%')) {
        fprintf(stderr, "router found nothing for %s %s; %s matches\n",
                method, path, best->pattern);
        abort();
    }

    check_decode(&r.arena, data + 1, n);
    bs_arena_dispose(&r.arena);
    free(path);
    return 0;
}
