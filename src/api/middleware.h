/*
 * middleware.h - the auth middlewares of the HTTP API.
 *
 * Each is a bs_handler_fn bound on app->middlewares (global) or on a
 * route's middlewares; user is unused. They run on the worker thread
 * handling the request.
 */
#ifndef BS_API_MIDDLEWARE_H
#define BS_API_MIDDLEWARE_H

#include "../http/request.h"

/* Global middleware: sets req->auth from the Authorization header (an
 * invalid token leaves the request a guest) and frees it afterwards. */
int bs_auth_middleware(bs_event *e, void *user);

/* Route middlewares: answer 401 without an auth record, and (superuser)
 * 403 when the record is not a superuser. */
int bs_require_superuser(bs_event *e, void *user);
int bs_require_auth(bs_event *e, void *user);

/* Route middleware of /api/collections/{collection}/...: answers 401
 * without an auth record and 403 when the record is not of the path's
 * collection (PocketBase's RequireSameCollectionContextAuth). */
int bs_require_same_collection_auth(bs_event *e, void *user);

#endif
