/*
 * rate_limit.h - the rate limits of the HTTP API (rate_limit.c): the
 * global middleware and the collection rate limits. The counters are
 * the app's (app->limiter). Everything here runs on the worker thread
 * of the request.
 */
#ifndef BS_API_RATE_LIMIT_H
#define BS_API_RATE_LIMIT_H

#include "../http/request.h"
#include "../schema/schema.h"

/* Global middleware (user unused): the "METHOD /path" and "/path"
 * rules of the settings. */
int bsa_rate_limit_mw(bs_event *ev, void *user);

/* Route middleware of a collection endpoint: resolves the collection of
 * the path (404 "Missing or invalid collection context.") and checks
 * its rate limit with the tags of user, a NULL-terminated array of
 * strings that outlives the route. */
int bsa_collection_rate_mw(bs_event *ev, void *user);

/* The collection rate limit of c with tags (NULL-terminated): the
 * counter is named by c, route (the route pattern; NULL for the request
 * path) and the tags. Answers 429 itself and returns false when over
 * the limit. */
bool bsa_rate_allowed(bs_req *r, const bs_collection *c, const char *route,
                      const char *const *tags);

#endif
