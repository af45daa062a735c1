/*
 * metrics.c - GET /api/metrics (the Prometheus text format) and the
 * middleware that counts every request.
 *
 * Who may scrape: a superuser's token, or, when the environment sets
 * BASALT_METRICS_TOKEN, a request whose Authorization header is
 * "Bearer <that token>" (compared in constant time), so that a
 * Prometheus server needs no account. Anybody else gets the 401 or 403
 * that superuser routes answer. A successful scrape is not kept in the
 * request log (it would fill it every few seconds); a refused one is.
 *
 * The middleware is the outermost of the global ones: it times the
 * whole chain (CORS, auth, rate limits, the handler) and counts the
 * answer under the matched route's pattern. A deferred answer (POST
 * /api/backups) is counted when it is written.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/stats.h"
#include "../core/auth.h"
#include "../core/metrics.h"
#include "../http/defer.h"
#include "api.h"

typedef struct metrics_api {
    char *token; /* BASALT_METRICS_TOKEN, or NULL */
} metrics_api;

static void count(bs_req *r, int64_t started)
{
    bs_app *app = r->ev.app;
    bs_metrics_request(app->metrics, r->route, r->method, r->status,
                       bs_mono_ns() - started);
}

static void count_deferred(bs_req *r, void *user)
{
    count(r, *(int64_t *)user);
}

/* The global middleware (id "basaltMetrics"). */
static int count_requests(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    int64_t started = bs_mono_ns();
    bs_metrics_in_flight(e->app->metrics, 1);
    int rc = bs_event_next(e);
    /* A deferred request waits without a thread: no longer in flight. */
    bs_metrics_in_flight(e->app->metrics, -1);
    int64_t *at = r->defer ? bs_arena_alloc(&r->arena, sizeof *at) : NULL;
    if (at) {
        *at = started;
        bs_defer_after(r->defer, count_deferred, at);
    } else {
        count(r, started);
    }
    return rc;
}

/* Whether s equals the configured token, in time independent of where
 * they differ. */
static bool token_matches(const char *want, const char *got)
{
    size_t n = strlen(want), m = strlen(got);
    unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(want[i] ^ (i < m ? got[i] : 0));
    return diff == 0;
}

static int metrics(bs_event *e, void *user)
{
    metrics_api *api = user;
    bs_req *r = (bs_req *)e;
    bool allowed = r->auth && r->auth->superuser;
    if (!allowed && api->token) {
        const char *h = bs_req_header(r, "Authorization");
        allowed = h && strncasecmp(h, "Bearer ", 7) == 0 &&
                  token_matches(api->token, h + 7);
    }
    if (!allowed) {
        if (!r->auth)
            bs_resp_status_error(r, 401, "The request requires valid record "
                                         "authorization token.");
        else
            bs_resp_status_error(r, 403, "The authorized record is not "
                                         "allowed to perform this action.");
        return 0;
    }
    r->log_skip_success = true;
    bs_resp_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0);
    bs_metrics_write(e->app, &r->resp);
    if (r->resp.oom)
        bs_resp_status_error(r, 500, NULL);
    return 0;
}

static int on_terminate(bs_event *e, void *user)
{
    metrics_api *api = user;
    int rc = bs_event_next(e);
    bs_hook_unbind(e->app->middlewares, "basaltMetrics");
    bs_hook_unbind(e->app->hooks[BS_ON_TERMINATE], "basaltMetricsFree");
    free(api->token);
    free(api);
    return rc;
}

int bs_api_metrics_register(bs_app *app)
{
    metrics_api *api = calloc(1, sizeof *api);
    if (!api)
        return BS_ENOMEM;
    const char *t = getenv("BASALT_METRICS_TOKEN");
    if (t && *t && !(api->token = strdup(t))) {
        free(api);
        return BS_ENOMEM;
    }
    bs_handler term = {.id = "basaltMetricsFree", .priority = 1000,
                       .fn = on_terminate, .user = api};
    if (bs_hook_bind(app->hooks[BS_ON_TERMINATE], &term) != 0) {
        free(api->token);
        free(api);
        return BS_ENOMEM;
    }
    bs_handler mw = {.id = "basaltMetrics", .priority = -3000,
                     .fn = count_requests};
    if (bs_hook_bind(app->middlewares, &mw) != 0 ||
        !bs_router_add(app->router, "GET", "/api/metrics", metrics, api))
        return BS_ENOMEM;
    return 0;
}
