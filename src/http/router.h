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

/* The pattern a route was added with (a group's prefix included), and
 * its method (NULL for every method). Owned by the router. */
const char *bs_route_pattern(const bs_route *route);
const char *bs_route_method(const bs_route *route);

/* Route-level middlewares; created on first use. */
bs_hook *bs_route_middlewares(bs_route *route);

/* Finds the route for method and raw path (percent-encoded; segments are
 * decoded one by one after splitting, so "%2F" stays inside a segment).
 * Fills r->params from the arena. Returns NULL when nothing matches. */
const bs_route *bs_router_match(bs_router *rt, bs_req *r, const char *method,
                                const char *raw_path);

/* Groups: routes added through a group get its prefix and the
 * middlewares bound to it and to its parents (PocketBase's RouterGroup).
 * A middleware bound to a group later also reaches the group's routes
 * added earlier. Groups are owned by the router. */
typedef struct bs_route_group bs_route_group;

/* A group under parent (NULL: the root) with the prefix appended to the
 * parent's ("/api/custom"; no trailing slash). NULL when out of memory. */
bs_route_group *bs_router_group(bs_router *rt, bs_route_group *parent,
                                const char *prefix);

/* Adds a route under the group's prefix (pattern "" or "/x..."), with
 * the group's middlewares bound to it. */
bs_route *bs_route_group_add(bs_route_group *g, const char *method,
                             const char *pattern, bs_handler_fn fn,
                             void *user);

/* Binds a middleware to the group (copied, tags ignored). */
int bs_route_group_bind(bs_route_group *g, const bs_handler *h);

/* Runs the route's middlewares and handler for r. */
int bs_route_run(const bs_route *route, bs_req *r);

/* Percent-decodes s[0..n) into the arena ('+' is kept). NULL when the
 * text has an invalid escape or decodes to a NUL byte. */
char *bs_url_decode(bs_arena *a, const char *s, size_t n);

#endif
