/*
 * router.h - method + path pattern routing.
 *
 * Patterns are paths whose segments are literals, `{name}` parameters
 * (one segment) or a final `{name...}` wildcard (the rest of the path,
 * possibly empty). When several routes match, the most specific wins,
 * comparing segment by segment: literal before parameter before wildcard.
 * Each route may carry middlewares (a bs_hook run around the handler).
 */
#ifndef BS_ROUTER_H
#define BS_ROUTER_H

#include "request.h"

typedef struct bs_router bs_router;
typedef struct bs_route bs_route;

bs_router *bs_router_new(void);
void bs_router_free(bs_router *rt);

/* Adds a route. method NULL matches every method. The handler receives
 * the bs_req (as its event) and user. Returns the route (owned by the
 * router) so middlewares can be bound to it, or NULL on a bad pattern. */
bs_route *bs_router_add(bs_router *rt, const char *method,
                        const char *pattern, bs_handler_fn fn, void *user);

/* Route-level middlewares; created on first use. */
bs_hook *bs_route_middlewares(bs_route *route);

/* Finds the route for method and raw path (percent-encoded; segments are
 * decoded one by one after splitting, so "%2F" stays inside a segment).
 * Fills r->params from the arena. Returns NULL when nothing matches. */
const bs_route *bs_router_match(bs_router *rt, bs_req *r, const char *method,
                                const char *raw_path);

/* Runs the route's middlewares and handler for r. */
int bs_route_run(const bs_route *route, bs_req *r);

/* Percent-decodes s[0..n) into the arena ('+' is kept). NULL when the
 * text has an invalid escape or decodes to a NUL byte. */
char *bs_url_decode(bs_arena *a, const char *s, size_t n);

#endif
