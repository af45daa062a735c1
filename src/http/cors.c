/*
 * cors.c - Cross-Origin Resource Sharing middleware.
 */
#include "cors.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static const char *allowed(const bs_cors *c, const char *origin)
{
    if (c->any)
        return "*";
    for (int i = 0; i < c->n; i++) {
        if (strcasecmp(c->origins[i], origin) == 0)
            return c->origins[i];
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
