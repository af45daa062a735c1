/*
 * custom.c - what an embedding program uses to add routes: routes and
 * groups with middlewares, the built-in middlewares PocketBase offers
 * (require auth, superuser, superuser or owner, body limit, gzip), error
 * helpers, and the request info of e.RequestInfo().
 *
 * Every custom route carries one middleware of its own, innermost of
 * nothing and outermost of everything ("pbCustomErrors", the lowest
 * priority): it gives the request an error struct (e->error) for the
 * handler and the route's middlewares to fill, and answers with it when
 * they return an error without answering, as PocketBase turns a returned
 * ApiError into the response.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/app.h"
#include "../core/auth.h"
#include "../core/record.h"
#include "../core/rules.h"
#include "../http/body.h"
#include "../http/router.h"
#include "api.h"
#include "middleware.h"

/* ---- errors ------------------------------------------------------------ */

static int api_error(bs_error *e, int status, const char *message,
                     const char *def)
{
    if (!e)
        return BS_EHTTP;
    return bs_error_set(e, status, "%s", message && *message ? message : def);
}

int bs_error_bad_request(bs_error *e, const char *message)
{
    return api_error(e, 400, message,
                     "Something went wrong while processing your request.");
}

int bs_error_unauthorized(bs_error *e, const char *message)
{
    return api_error(e, 401, message, "Missing or invalid authentication.");
}

int bs_error_forbidden(bs_error *e, const char *message)
{
    return api_error(e, 403, message,
                     "You are not allowed to perform this request.");
}

int bs_error_not_found(bs_error *e, const char *message)
{
    return api_error(e, 404, message, "The requested resource wasn't found.");
}

int bs_error_too_many_requests(bs_error *e, const char *message)
{
    return api_error(e, 429, message, "Too Many Requests.");
}

int bs_error_internal(bs_error *e, const char *message)
{
    return api_error(e, 500, message,
                     "Something went wrong while processing your request.");
}

/* ---- routes ------------------------------------------------------------ */

/* The outermost middleware of every custom route (see the top). */
static int custom_errors(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_error *outer = e->error;
    bs_error err;
    bs_error_init(&err);
    e->error = &err;
    int rc = bs_event_next(e);
    e->error = outer;
    if (rc && !r->responded) {
        if (err.status)
            bs_resp_error(r, &err);
        else
            bs_req_fail(r, rc, NULL);
    }
    bs_error_dispose(&err);
    return 0;
}

static bs_route *prepare(bs_route *route)
{
    if (!route)
        return NULL;
    bs_handler h = {.id = "pbCustomErrors", .priority = INT_MIN,
                    .fn = custom_errors};
    bs_hook *mw = bs_route_middlewares(route);
    return mw && bs_hook_bind(mw, &h) == 0 ? route : NULL;
}

bs_route *bs_app_route(bs_app *app, const char *method, const char *pattern,
                       bs_handler_fn fn, void *user)
{
    return prepare(bs_router_add(app->router, method, pattern, fn, user));
}

int bs_route_bind(bs_route *route, const bs_handler *mw)
{
    bs_hook *h = route ? bs_route_middlewares(route) : NULL;
    return h ? bs_hook_bind(h, mw) : BS_EINVAL;
}

bool bs_route_unbind(bs_route *route, const char *id)
{
    bs_hook *h = route ? bs_route_middlewares(route) : NULL;
    return h && id ? bs_hook_unbind(h, id) : false;
}

int bs_app_use(bs_app *app, const bs_handler *mw)
{
    return mw && mw->fn ? bs_hook_bind(app->middlewares, mw) : BS_EINVAL;
}

bool bs_app_unuse(bs_app *app, const char *id)
{
    return id ? bs_hook_unbind(app->middlewares, id) : false;
}

const char *bs_req_method(bs_req *r)
{
    return r->method ? r->method : "GET";
}

const char *bs_req_url(bs_req *r)
{
    return r->url ? r->url : (r->path ? r->path : "/");
}

bool bs_req_responded(bs_req *r)
{
    return r->responded;
}

int bs_req_status(bs_req *r)
{
    return r->responded ? r->status : 0;
}

const char *bs_req_path(bs_req *r)
{
    return r->path ? r->path : "/";
}

bs_route_group *bs_app_group(bs_app *app, const char *prefix)
{
    return bs_router_group(app->router, NULL, prefix);
}

bs_route_group *bs_group_group(bs_route_group *g, const char *prefix)
{
    return bs_router_group(NULL, g, prefix);
}

bs_route *bs_group_route(bs_route_group *g, const char *method,
                         const char *pattern, bs_handler_fn fn, void *user)
{
    return prepare(bs_route_group_add(g, method, pattern, fn, user));
}

int bs_group_bind(bs_route_group *g, const bs_handler *mw)
{
    return bs_route_group_bind(g, mw);
}

/* ---- built-in middlewares ---------------------------------------------- */

static int no_auth(bs_event *e)
{
    return bs_error_unauthorized(e->error, "The request requires valid "
                                           "record authorization token.");
}

static int not_allowed(bs_event *e)
{
    return bs_error_forbidden(e->error, "The authorized record is not "
                                        "allowed to perform this action.");
}

int bs_mw_require_auth(bs_event *e, void *user)
{
    bs_req *r = (bs_req *)e;
    const char *const *colls = user;
    if (!r->auth)
        return no_auth(e);
    if (colls && *colls) {
        bool ok = false;
        for (; *colls && !ok; colls++)
            ok = strcmp(*colls, r->auth->collection->name) == 0 ||
                 strcmp(*colls, r->auth->collection->id) == 0;
        if (!ok)
            return not_allowed(e);
    }
    return bs_event_next(e);
}

int bs_mw_require_superuser(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!r->auth)
        return no_auth(e);
    if (!r->auth->superuser)
        return not_allowed(e);
    return bs_event_next(e);
}

int bs_mw_require_superuser_or_owner(bs_event *e, void *user)
{
    bs_req *r = (bs_req *)e;
    const char *param = user ? user : "id";
    if (!r->auth)
        return no_auth(e);
    if (!r->auth->superuser) {
        const char *owner = bs_req_param(r, param);
        if (!owner || strcmp(owner, r->auth->id) != 0)
            return not_allowed(e);
    }
    return bs_event_next(e);
}

int bs_mw_body_limit(bs_event *e, void *user)
{
    bs_req *r = (bs_req *)e;
    size_t limit = (size_t)(uintptr_t)user;
    if (limit && (r->body.len > limit || r->body_seen > limit))
        return bs_error_set(e->error, 413, "Request entity too large");
    return bs_event_next(e);
}

/* Compresses the buffered response in place. */
static int gzip_body(bs_req *r)
{
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return BS_ENOMEM;
    bs_buf out;
    bs_buf_init(&out);
    uLong cap = deflateBound(&z, (uLong)r->resp.len);
    int rc = bs_buf_reserve(&out, cap) ? 0 : BS_ENOMEM;
    if (rc == 0) {
        z.next_in = (Bytef *)r->resp.data;
        z.avail_in = (uInt)r->resp.len;
        z.next_out = (Bytef *)out.data;
        z.avail_out = (uInt)cap;
        rc = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : BS_EIO;
    }
    if (rc == 0) {
        out.len = cap - z.avail_out;
        bs_buf_dispose(&r->resp);
        r->resp = out;
    } else {
        bs_buf_dispose(&out);
    }
    deflateEnd(&z);
    return rc;
}

int bs_mw_gzip(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    int rc = bs_event_next(e);
    const char *ae = bs_req_header(r, "Accept-Encoding");
    if (!r->responded || !ae || !strstr(ae, "gzip") || r->stream ||
        r->fd >= 0 || r->resp.len < 256 || r->status == 204 ||
        r->nheaders + 2 > BS_MAX_RESP_HEADERS)
        return rc;
    for (int i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->hdr_names[i], "Content-Encoding") == 0)
            return rc;
    }
    if (gzip_body(r) == 0) {
        bs_resp_header(r, "Content-Encoding", "gzip");
        bs_resp_header(r, "Vary", "Accept-Encoding");
    }
    return rc;
}

/* ---- request info -------------------------------------------------------- */

json_object *bs_req_info(bs_req *r)
{
    bs_body body;
    bs_error err;
    bs_error_init(&err);
    bool parsed = bs_req_read_body(r, &body, &err) == 0;
    bs_error_dispose(&err);
    json_object *info = bs_rules_request_info(r, parsed ? body.data : NULL);
    if (parsed)
        bs_body_dispose(&body);
    /* The auth record as the API shows it to its owner: no password
     * hash, token key or hidden field. */
    bs_record *rec = NULL;
    if (info && r->auth &&
        bs_record_find_by_id(r->ev.app, r->auth->collection->id,
                             r->auth->id, &rec) == 0) {
        rec->ignore_email_visibility = true;
        json_object_object_add(info, "auth", bs_record_export(rec));
        bs_record_free(rec);
    } else if (info) {
        json_object_object_add(info, "auth", NULL);
    }
    return info;
}
