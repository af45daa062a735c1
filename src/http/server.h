/*
 * server.h - the HTTP server: libmicrohttpd glue and request pipeline.
 *
 * Threads: libmicrohttpd runs an epoll loop in each of `threads` worker
 * threads (a thread pool, never a thread per connection). A request is
 * handled entirely on the worker that read it: middlewares, route
 * middlewares and handler run there, then the response is queued.
 *
 * Pipeline for one request: global middlewares (a bs_hook, e.g. CORS and
 * auth loading) around the router; the router picks a route and runs its
 * middlewares and handler; anything unmatched gets 404 in PocketBase's
 * JSON error shape (like PocketBase, never 405).
 */
#ifndef BS_SERVER_H
#define BS_SERVER_H

#include "router.h"

typedef struct bs_server bs_server;

typedef struct bs_server_config {
    const char *addr;       /* "host:port" */
    int threads;            /* worker threads (>= 1) */
    size_t body_limit;      /* default request body limit in bytes */
    unsigned timeout_s;     /* idle connection timeout (no byte moves) */
    unsigned head_timeout_ms; /* deadline for a complete request head,
                             * counted from when a connection starts to
                             * wait for one (new or kept alive); 0: the
                             * environment's BASALT_HEAD_TIMEOUT_MS, else
                             * 30 s, like PocketBase's ReadHeaderTimeout */
    unsigned per_ip_limit;  /* open connections per client address; 0:
                             * BASALT_PER_IP_LIMIT, else no limit */
    bs_router *router;      /* routes (borrowed) */
    bs_hook *middlewares;   /* global middlewares (borrowed) */
    bs_app *app;            /* set as ev.app of every request */
    bs_upload_config uploads; /* streamed multipart bodies (request.h) */
} bs_server_config;

int bs_server_start(bs_server **out, const bs_server_config *cfg,
                    bs_error *err);

/* The bound TCP port. */
int bs_server_port(const bs_server *s);

/* Stops accepting, lets in-flight requests finish (up to drain_ms), then
 * closes every connection and joins the workers. */
void bs_server_stop(bs_server *s, int drain_ms);

#endif
