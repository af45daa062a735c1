/*
 * cors.h - Cross-Origin Resource Sharing middleware.
 *
 * Allowed origins come from a comma-separated list ("*" by default).
 * Simple requests get Access-Control-Allow-Origin when their Origin is
 * allowed; preflight requests (OPTIONS with Access-Control-Request-Method)
 * are answered here with 204 and the allowed methods and headers.
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
