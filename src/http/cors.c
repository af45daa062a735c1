/*
 * cors.c - Cross-Origin Resource Sharing middleware.
 */
#include "cors.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ORIGINS 32

struct bs_cors {
    bool any;
    int n;
    char *origins[MAX_ORIGINS];
};

bs_cors *bs_cors_new(const char *list)
{
    bs_cors *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    const char *p = list && *list ? list : "*";
    while (*p && c->n < MAX_ORIGINS) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 1 && *p == '*')
            c->any = true;
        else if (n)
            c->origins[c->n++] = strndup(p, n);
        p += n;
        while (*p && *p != ',')
            p++;
    }
    return c;
}

void bs_cors_free(bs_cors *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        free(c->origins[i]);
    free(c);
}

/* Matches origin against a configured entry where '*' stands for any
 * run of characters and '?' for one (case-sensitive, as PocketBase). */
static bool wildcard_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* The Access-Control-Allow-Origin value for origin, or NULL: "*" when
 * every origin is allowed, else the request's own origin. */
static const char *allowed(const bs_cors *c, const char *origin)
{
    if (c->any)
        return "*";
    for (int i = 0; i < c->n; i++) {
        if (wildcard_match(c->origins[i], origin))
            return origin;
    }
    return NULL;
}

int bs_cors_middleware(bs_event *e, void *user)
{
    const bs_cors *c = user;
    bs_req *r = (bs_req *)e;
    const char *origin = bs_req_header(r, "Origin");
    /* Every OPTIONS request is answered here as a preflight, whatever
     * the route, as PocketBase does. */
    bool preflight = strcmp(r->method, "OPTIONS") == 0;
    if (!preflight) {
        bs_resp_header(r, "Vary", "Origin");
        bs_resp_header(r, "X-XSS-Protection", "1; mode=block");
        bs_resp_header(r, "X-Content-Type-Options", "nosniff");
        bs_resp_header(r, "X-Frame-Options", "SAMEORIGIN");
        const char *allow = origin ? allowed(c, origin) : NULL;
        int rc = bs_event_next(e);
        if (allow)
            bs_resp_header(r, "Access-Control-Allow-Origin", allow);
        return rc;
    }
    bs_resp_empty(r, 204);
    const char *allow = origin ? allowed(c, origin) : NULL;
    if (!allow) {
        bs_resp_header(r, "Vary", "Origin");
        return 0;
    }
    bs_resp_header(r, "Vary", "Origin, Access-Control-Request-Method, "
                              "Access-Control-Request-Headers");
    bs_resp_header(r, "Access-Control-Allow-Origin", allow);
    bs_resp_header(r, "Access-Control-Allow-Methods",
                   "GET,HEAD,PUT,PATCH,POST,DELETE");
    const char *hdrs = bs_req_header(r, "Access-Control-Request-Headers");
    if (hdrs && *hdrs)
        bs_resp_header(r, "Access-Control-Allow-Headers", hdrs);
    return 0;
}
