/*
 * router.c - method + path pattern routing.
 *
 * Routes are kept in a flat list and matched in one pass that keeps the
 * most specific match; with the few dozen routes of the API this costs
 * well under a microsecond and keeps the code obvious.
 */
#include "router.h"

#include "../base/util.h"

#include <stdio.h>
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
    char *pattern;            /* as added, for the metrics' labels */
    int nsegs;
    seg segs[MAX_SEGS];
    bs_handler_fn fn;
    void *user;
    bs_hook *mw;
    struct bs_route *next;
};

struct bs_route_group {
    bs_router *rt;
    struct bs_route_group *parent;
    char *prefix;             /* the whole prefix, parents' included */
    bs_handler *mws;          /* copies; ids owned */
    int nmws;
    bs_route **routes;        /* added through this group */
    int nroutes;
    struct bs_route_group *next;
};

struct bs_router {
    bs_route *head, *tail;
    bs_route_group *groups;
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
        free(r->pattern);
        bs_hook_free(r->mw);
        free(r);
        r = next;
    }
    for (bs_route_group *g = rt->groups; g;) {
        bs_route_group *next = g->next;
        for (int i = 0; i < g->nmws; i++)
            free((char *)g->mws[i].id);
        free(g->mws);
        free(g->routes);
        free(g->prefix);
        free(g);
        g = next;
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
    /* The middleware hook exists before the route is published, so a
     * route added while serving never runs with a half-made one. */
    r->mw = bs_hook_new();
    r->pattern = strdup(pattern);
    if (!r->mw || !r->pattern || (method && !r->method))
        goto bad;
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
    /* Published with a release store, so a worker matching at the same
     * time sees either no route or a complete one (routes may be added
     * while serving; one thread adds at a time). */
    if (rt->tail)
        __atomic_store_n(&rt->tail->next, r, __ATOMIC_RELEASE);
    else
        __atomic_store_n(&rt->head, r, __ATOMIC_RELEASE);
    rt->tail = r;
    return r;

bad:
    for (int i = 0; i < r->nsegs; i++)
        free(r->segs[i].text);
    bs_hook_free(r->mw);
    free(r->method);
    free(r->pattern);
    free(r);
    return NULL;
}

const char *bs_route_pattern(const bs_route *route)
{
    return route->pattern;
}

const char *bs_route_method(const bs_route *route)
{
    return route->method;
}

bs_hook *bs_route_middlewares(bs_route *route)
{
    if (!route->mw)
        route->mw = bs_hook_new();
    return route->mw;
}

bs_route_group *bs_router_group(bs_router *rt, bs_route_group *parent,
                                const char *prefix)
{
    bs_route_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    const char *base = parent ? parent->prefix : "";
    size_t n = strlen(base) + strlen(prefix ? prefix : "") + 1;
    g->prefix = malloc(n);
    if (!g->prefix) {
        free(g);
        return NULL;
    }
    snprintf(g->prefix, n, "%s%s", base, prefix ? prefix : "");
    g->rt = parent ? parent->rt : rt;
    g->parent = parent;
    g->next = g->rt->groups;
    g->rt->groups = g;
    return g;
}

/* Binds the middlewares of g and its parents, the outermost first. */
static int bind_group_mws(const bs_route_group *g, bs_route *route)
{
    if (!g)
        return 0;
    int rc = bind_group_mws(g->parent, route);
    for (int i = 0; rc == 0 && i < g->nmws; i++) {
        bs_hook *h = bs_route_middlewares(route);
        rc = h ? bs_hook_bind(h, &g->mws[i]) : BS_ENOMEM;
    }
    return rc;
}

bs_route *bs_route_group_add(bs_route_group *g, const char *method,
                             const char *pattern, bs_handler_fn fn,
                             void *user)
{
    size_t n = strlen(g->prefix) + strlen(pattern ? pattern : "") + 2;
    char *full = malloc(n);
    if (!full)
        return NULL;
    snprintf(full, n, "%s%s", g->prefix, pattern ? pattern : "");
    if (!full[0])
        snprintf(full, n, "/");
    bs_route *r = bs_router_add(g->rt, method, full, fn, user);
    free(full);
    bs_route **list = r ? realloc(g->routes, sizeof *list *
                                                 (size_t)(g->nroutes + 1))
                        : NULL;
    if (!list)
        return NULL; /* the route, if added, stays without middlewares */
    g->routes = list;
    g->routes[g->nroutes++] = r;
    return bind_group_mws(g, r) == 0 ? r : NULL;
}

static bool under(const bs_route_group *g, const bs_route_group *ancestor)
{
    for (; g; g = g->parent) {
        if (g == ancestor)
            return true;
    }
    return false;
}

int bs_route_group_bind(bs_route_group *g, const bs_handler *h)
{
    bs_handler *list = realloc(g->mws, sizeof *list * (size_t)(g->nmws + 1));
    if (!list)
        return BS_ENOMEM;
    g->mws = list;
    bs_handler c = *h;
    c.tags = NULL;
    if (h->id && !(c.id = strdup(h->id)))
        return BS_ENOMEM;
    if (!h->id) {
        /* A generated id, the same in every route it is copied to. */
        char id[48];
        snprintf(id, sizeof id, "__group_%p_%d", (void *)g, g->nmws);
        if (!(c.id = strdup(id)))
            return BS_ENOMEM;
    }
    g->mws[g->nmws++] = c;
    /* Routes added before reach it too. */
    for (bs_route_group *o = g->rt->groups; o; o = o->next) {
        if (!under(o, g))
            continue;
        for (int i = 0; i < o->nroutes; i++) {
            bs_hook *mw = bs_route_middlewares(o->routes[i]);
            if (!mw || bs_hook_bind(mw, &c) != 0)
                return BS_ENOMEM;
        }
    }
    return 0;
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
    /* The segment count rules most routes out before any text compare: a
     * wildcard (always last) takes any rest, other routes the exact count. */
    bool wild = rt->nsegs > 0 && rt->segs[rt->nsegs - 1].kind == SEG_WILD;
    if (wild ? sp->n < rt->nsegs - 1 : rt->nsegs != sp->n || sp->overflow)
        return false;
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
    for (const bs_route *route = __atomic_load_n(&rt->head, __ATOMIC_ACQUIRE);
         route; route = __atomic_load_n(&route->next, __ATOMIC_ACQUIRE)) {
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
