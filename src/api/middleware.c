/*
 * middleware.c - the auth middlewares of the HTTP API: loading the
 * requester from the Authorization header, and requiring an auth record,
 * a superuser, or an auth record of the route's collection on a route.
 */
#include "middleware.h"

#include <stdio.h>
#include <string.h>

#include "../core/app.h"
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

/* Answers 401 and returns false when the request has no auth record. */
static bool has_record(bs_req *r)
{
    if (r->auth)
        return true;
    bs_resp_status_error(r, 401, "The request requires valid record "
                                 "authorization token.");
    return false;
}

int bs_require_auth(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!has_record(r))
        return 0;
    return bs_event_next(e);
}

int bs_require_superuser(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!has_record(r))
        return 0;
    if (!r->auth->superuser) {
        bs_resp_status_error(r, 403, "The authorized record is not allowed "
                                     "to perform this action.");
        return 0;
    }
    return bs_event_next(e);
}

int bs_require_same_collection_auth(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    if (!has_record(r))
        return 0;
    bs_schema *schema = bs_app_schema(ev->app);
    const char *name = bs_req_param(r, "collection");
    const bs_collection *c = name ? bs_schema_find(schema, name) : NULL;
    bool same = c && strcmp(c->id, r->auth->collection->id) == 0;
    int rc = 0;
    if (!same) {
        char msg[300];
        snprintf(msg, sizeof msg, "The request requires auth record from %s "
                                  "collection.",
                 r->auth->collection->name);
        bs_resp_status_error(r, 403, msg);
    } else {
        rc = bs_event_next(ev);
    }
    bs_schema_unref(schema);
    return rc;
}
