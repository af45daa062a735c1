/*
 * router.c - method + path pattern routing.
 *
 * Routes are kept in a flat list and matched in one pass that keeps the
 * most specific match; with the few dozen routes of the API this costs
 * well under a microsecond and keeps the code obvious.
 */
#include "router.h"

#include "../base/util.h"

#include <stdlib.h>
#include <string.h>

enum seg_kind { SEG_LIT = 0, SEG_PARAM = 1, SEG_WILD = 2 };

#define MAX_SEGS 16

typedef struct seg {
    enum seg_kind kind;
    char *text; /* literal text or parameter name */
} seg;

struct bs_route {
    char *method;
    int nsegs;
    seg segs[MAX_SEGS];
    bs_handler_fn fn;
    void *user;
    bs_hook *mw;
    struct bs_route *next;
};

struct bs_router {
    bs_route *head, *tail;
};

bs_router *bs_router_new(void)
{
    return calloc(1, sizeof(bs_router));
}

void bs_router_free(bs_router *rt)
{
    if (!rt)
        return;
    for (bs_route *r = rt->head; r;) {
        bs_route *next = r->next;
        for (int i = 0; i < r->nsegs; i++)
            free(r->segs[i].text);
        free(r->method);
        bs_hook_free(r->mw);
        free(r);
        r = next;
    }
    free(rt);
}

bs_route *bs_router_add(bs_router *rt, const char *method,
                        const char *pattern, bs_handler_fn fn, void *user)
{
    if (!pattern || pattern[0] != '/')
        return NULL;
    bs_route *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->method = method ? strdup(method) : NULL;
    r->fn = fn;
    r->user = user;
    /* Split exactly like request paths: "/" is one empty segment. */
    const char *p = pattern + 1;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (r->nsegs == MAX_SEGS)
            goto bad;
        seg *s = &r->segs[r->nsegs++];
        if (n >= 2 && p[0] == '{' && p[n - 1] == '}') {
            if (n > 5 && memcmp(p + n - 4, "...}", 4) == 0) {
                if (end)
                    goto bad; /* a wildcard must be last */
                s->kind = SEG_WILD;
                s->text = strndup(p + 1, n - 5);
            } else {
                s->kind = SEG_PARAM;
                s->text = strndup(p + 1, n - 2);
            }
        } else {
            s->kind = SEG_LIT;
            s->text = strndup(p, n);
        }
        if (!s->text)
            goto bad;
        if (!end)
            break;
        p = end + 1;
    }
    if (rt->tail)
        rt->tail->next = r;
    else
        rt->head = r;
    rt->tail = r;
    return r;

bad:
    for (int i = 0; i < r->nsegs; i++)
        free(r->segs[i].text);
    free(r->method);
    free(r);
    return NULL;
}

bs_hook *bs_route_middlewares(bs_route *route)
{
    if (!route->mw)
        route->mw = bs_hook_new();
    return route->mw;
}

char *bs_url_decode(bs_arena *a, const char *s, size_t n)
{
    char *out = bs_arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return NULL;
            int hi = bs_hex_digit(s[i + 1]), lo = bs_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return NULL;
        out[j++] = c;
    }
    out[j] = '\0';
    return out;
}

typedef struct split_path {
    int n;
    bool overflow; /* more segments than MAX_SEGS: only wildcards match */
    bool bad;      /* a segment does not decode: nothing matches */
    const char *start[MAX_SEGS]; /* raw segments, pointing into path */
    const char *dec[MAX_SEGS];   /* decoded segments (arena) */
} split_path;

/* Splits "/a/b/c" into segments and decodes each one, so that literal
 * segments compare with the unescaped text (as Go's ServeMux does) while
 * "%2F" stays inside its segment. */
static void split(bs_arena *a, const char *path, split_path *sp)
{
    sp->n = 0;
    sp->overflow = false;
    sp->bad = false;
    const char *p = path[0] == '/' ? path + 1 : path;
    for (;;) {
        if (sp->n == MAX_SEGS) {
            sp->overflow = true;
            return;
        }
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        sp->start[sp->n] = p;
        sp->dec[sp->n] = bs_url_decode(a, p, len);
        if (!sp->dec[sp->n]) {
            sp->bad = true;
            return;
        }
        sp->n++;
        if (!end)
            return;
        p = end + 1;
    }
}

/* Compares specificity vectors; positive when a is more specific. */
static int more_specific(const bs_route *a, const bs_route *b)
{
    for (int i = 0; i < MAX_SEGS; i++) {
        int ka = i < a->nsegs ? (int)a->segs[i].kind : 3;
        int kb = i < b->nsegs ? (int)b->segs[i].kind : 3;
        if (ka != kb)
            return kb - ka;
        if (ka == 3)
            break;
    }
    /* A route bound to the method beats a catch-all of the same shape. */
    return (a->method != NULL) - (b->method != NULL);
}

static bool seg_match(const bs_route *rt, const split_path *sp)
{
    int i;
    for (i = 0; i < rt->nsegs; i++) {
        const seg *s = &rt->segs[i];
        if (s->kind == SEG_WILD)
            return true;
        if (i >= sp->n)
            return false;
        if (s->kind == SEG_PARAM) {
            if (sp->dec[i][0] == '\0')
                return false;
            continue;
        }
        if (strcmp(s->text, sp->dec[i]) != 0)
            return false;
    }
    return i == sp->n && !sp->overflow;
}

const bs_route *bs_router_match(bs_router *rt, bs_req *r, const char *method,
                                const char *raw_path)
{
    split_path sp;
    split(&r->arena, raw_path, &sp);
    if (sp.bad)
        return NULL;
    const bs_route *best = NULL;
    for (const bs_route *route = rt->head; route; route = route->next) {
        if (!seg_match(route, &sp))
            continue;
        if (route->method && strcmp(route->method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 &&
              strcmp(route->method, "GET") == 0))
            continue;
        if (!best || more_specific(route, best) > 0)
            best = route;
    }
    if (!best)
        return NULL;
    r->nparams = 0;
    for (int i = 0; i < best->nsegs && r->nparams < BS_MAX_PARAMS; i++) {
        const seg *s = &best->segs[i];
        const char *val;
        if (s->kind == SEG_LIT)
            continue;
        if (s->kind == SEG_WILD) {
            const char *raw = i < sp.n ? sp.start[i] : "";
            val = bs_url_decode(&r->arena, raw, strlen(raw));
            if (!val)
                return NULL;
        } else {
            val = sp.dec[i];
        }
        r->param_names[r->nparams] = s->text;
        r->param_values[r->nparams] = val;
        r->nparams++;
    }
    r->route = best;
    return best;
}

int bs_route_run(const bs_route *route, bs_req *r)
{
    return bs_hook_trigger(route->mw, &r->ev, route->fn, route->user);
}
