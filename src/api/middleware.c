/*
 * middleware.c - the auth middlewares of the HTTP API: loading the
 * requester from the Authorization header, and requiring an auth record
 * or a superuser on a route.
 */
#include "middleware.h"

#include "../core/auth.h"

int bs_auth_middleware(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    const char *h = bs_req_header(r, "Authorization");
    if (h && *h)
        bs_auth_from_token(e->app, h, &r->auth);
    int rc = bs_event_next(e);
    bs_auth_free(r->auth);
    r->auth = NULL;
    return rc;
}

int bs_require_auth(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!r->auth) {
        bs_resp_status_error(r, 401, "The request requires valid record "
                                     "authorization token.");
        return 0;
    }
    return bs_event_next(e);
}

int bs_require_superuser(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!r->auth) {
        bs_resp_status_error(r, 401, "The request requires valid record "
                                     "authorization token.");
        return 0;
    }
    if (!r->auth->superuser) {
        bs_resp_status_error(r, 403, "The authorized record is not allowed "
                                     "to perform this action.");
        return 0;
    }
    return bs_event_next(e);
}
