/*
 * fuzz_router.c - route matching and percent-decoding on arbitrary input.
 *
 * A router with PocketBase's API route table is built once. Each input is
 * split into a method choice (first byte) and a raw path (the rest, up to
 * a NUL). Besides memory safety the driver checks the router against a
 * small reference matcher written from router.h's contract (segments
 * are split first and then percent-decoded one by one; literal segments
 * compare with the decoded text, as in Go's ServeMux; a segment that
 * does not decode matches nothing):
 *  - the router picks exactly the route the reference picks: the most
 *    specific matching one, the first registered among equals;
 *  - parameter names and decoded values are the reference's;
 *  - it finds nothing only when the reference finds nothing.
 * bs_url_decode is also compared with the reference decoder on the raw
 * bytes.
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

#define MAXSEG 16

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

static int hexdig(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) into a new string; NULL for a bad escape or a
 * NUL byte (the contract of bs_url_decode). */
static char *ref_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3 || hexdig(s[i + 1]) < 0 || hexdig(s[i + 2]) < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hexdig(s[i + 1]) * 16 + hexdig(s[i + 2]));
            i += 2;
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* A path split into raw and decoded segments. Only the first MAXSEG
 * segments are looked at; `more` tells that there are others. */
typedef struct ref_path {
    int n;
    bool more;
    bool bad; /* one of the first MAXSEG segments does not decode */
    const char *raw[MAXSEG];
    char *dec[MAXSEG];
} ref_path;

static void ref_split(const char *path, ref_path *rp)
{
    memset(rp, 0, sizeof *rp);
    const char *p = path[0] == '/' ? path + 1 : path;
    for (;;) {
        if (rp->n == MAXSEG) {
            rp->more = true;
            return;
        }
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        rp->raw[rp->n] = p;
        rp->dec[rp->n] = ref_decode(p, len);
        if (!rp->dec[rp->n])
            rp->bad = true;
        rp->n++;
        if (!end || rp->bad)
            return;
        p = end + 1;
    }
}

static void ref_free(ref_path *rp)
{
    for (int i = 0; i < rp->n; i++)
        free(rp->dec[i]);
}

/* Literal segments compare with the decoded path segment (Go's ServeMux
 * does the same); {name} needs a non-empty segment; {name...} takes the
 * rest. */
static bool ref_match(const char *pattern, const ref_path *rp)
{
    for (int i = 0;; i++) {
        const char *t;
        size_t tl;
        int k = seg_kind(pattern, i, &t, &tl);
        if (k == 2)
            return true;
        if (k == 3)
            return i == rp->n && !rp->more;
        if (i >= rp->n)
            return false;
        if (k == 1) {
            if (rp->dec[i][0] == '\0')
                return false;
            continue;
        }
        if (strlen(rp->dec[i]) != tl || memcmp(t, rp->dec[i], tl) != 0)
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

/* Checks the parameters the router filled against the reference. Returns
 * false when the wildcard rest does not decode (the router must then
 * have found nothing). */
static bool check_params(const route_def *d, const ref_path *rp,
                         const bs_req *r, bool matched)
{
    int np = 0;
    for (int i = 0;; i++) {
        const char *t;
        size_t tl;
        int k = seg_kind(d->pattern, i, &t, &tl);
        if (k == 3)
            break;
        if (k == 0)
            continue;
        char *want;
        if (k == 2) {
            const char *rest = i < rp->n ? rp->raw[i] : "";
            want = ref_decode(rest, strlen(rest));
            if (!want)
                return false;
        } else {
            want = strdup(rp->dec[i]);
        }
        if (matched) {
            size_t nl = tl - (k == 2 ? 5 : 2); /* name without braces */
            if (np >= r->nparams || strlen(r->param_names[np]) != nl ||
                memcmp(r->param_names[np], t + 1, nl) != 0 ||
                strcmp(r->param_values[np], want) != 0) {
                fprintf(stderr, "parameter %d of %s: %s, expected %s\n", np,
                        d->pattern,
                        np < r->nparams ? r->param_values[np] : "(none)",
                        want);
                abort();
            }
        }
        np++;
        free(want);
        if (k == 2)
            break;
    }
    if (matched && np != r->nparams)
        abort();
    return true;
}

static void check_decode(bs_arena *a, const uint8_t *data, size_t size)
{
    char *d = bs_url_decode(a, (const char *)data, size);
    char *want = ref_decode((const char *)data, size);
    if ((d == NULL) != (want == NULL) || (d && strcmp(d, want) != 0)) {
        fprintf(stderr, "bs_url_decode: %s, expected %s\n", d ? d : "NULL",
                want ? want : "NULL");
        abort();
    }
    free(want);
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
    /* Paths always start with '/' on the wire; inputs whose first byte
     * has the high bit set get the slash, the others are taken as is. */
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

    /* The reference answer to the same question. */
    ref_path rp;
    ref_split(path, &rp);
    const route_def *best = NULL;
    if (!rp.bad) {
        for (size_t i = 0; i < NROUTES; i++) {
            if (!method_ok(ROUTES[i].method, method) ||
                !ref_match(ROUTES[i].pattern, &rp))
                continue;
            if (!best || ref_specific(&ROUTES[i], best) > 0)
                best = &ROUTES[i];
        }
    }
    if (m) {
        ran = NULL;
        bs_route_run(m, &r);
        if (ran != best) {
            fprintf(stderr, "router chose %s, expected %s, for %s %s\n",
                    ran ? ran->pattern : "?", best ? best->pattern : "none",
                    method, path);
            abort();
        }
        if (r.route != m || r.nparams < 0 || r.nparams > BS_MAX_PARAMS)
            abort();
        check_params(best, &rp, &r, true);
    } else if (best && check_params(best, &rp, &r, false)) {
        fprintf(stderr, "router found nothing for %s %s; %s matches\n",
                method, path, best->pattern);
        abort();
    }
    ref_free(&rp);

    check_decode(&r.arena, data + 1, n);
    bs_arena_dispose(&r.arena);
    free(path);
    return 0;
}
