/*
 * cors.h - Cross-Origin Resource Sharing middleware.
 *
 * Allowed origins come from a comma-separated list ("*" by default).
 * Simple requests get Access-Control-Allow-Origin when their Origin is
 * allowed; every OPTIONS request is a preflight, answered here with 204
 * and the allowed methods and headers. Non-preflight responses also get
 * PocketBase's security headers (X-Frame-Options and friends).
 */
#ifndef BS_CORS_H
#define BS_CORS_H

#include "request.h"

typedef struct bs_cors bs_cors;

bs_cors *bs_cors_new(const char *origins);
void bs_cors_free(bs_cors *c);

/* Global middleware; user is the bs_cors. */
int bs_cors_middleware(bs_event *e, void *user);

#endif
