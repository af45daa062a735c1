/*
 * logs.c - the request logger middleware and the logs API, for
 * superusers (PocketBase's apis/logs.go and its activity logger):
 *
 *   GET /api/logs          a page of rows: filter, sort, page, perPage
 *                          over id, created, level, message, data and
 *                          data.<path>
 *   GET /api/logs/stats    [{total, date}] per hour, with an optional
 *                          filter
 *   GET /api/logs/{id}     one row, or 404
 *
 * The request logger wraps every request that passes CORS (inside the
 * auth loading middleware, which frees the requester when it returns,
 * so the row can name it): after the
 * route answered it gathers the row's parts (method, url, status,
 * execTime in milliseconds, auth, IPs, referer, user agent, and the
 * error message and data for a failure) and queues them; the background
 * writer (src/db/log_writer.c) writes the row's JSON and stores it when
 * a core is free. It costs one clock read when logs are off. Like PocketBase, a successful request of a route that skips
 * success logs (these routes, static files) is not kept, and a failure
 * is kept at level error, a success at level info.
 */
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/logs.h"
#include "../core/ratelimit.h"
#include "../http/defer.h"
#include "api.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The error message and data of a failed JSON response, if it is one. */
static void put_error(bs_buf *b, bs_req *r)
{
    json_object *body = NULL;
    if (!r->content_type || strcmp(r->content_type, "application/json") ||
        !r->resp.len ||
        bs_json_parse(r->resp.data, r->resp.len, &body) != 0 ||
        !json_object_is_type(body, json_type_object)) {
        json_object_put(body);
        bs_buf_puts(b, "\"details\":null,\"error\":\"\"");
        return;
    }
    json_object *data = bs_json_get(body, "data");
    bs_buf_puts(b, "\"details\":");
    if (data)
        bs_json_write(b, data);
    else
        bs_buf_puts(b, "null");
    const char *msg = bs_json_get_str(body, "message", "");
    bs_buf_puts(b, ",\"error\":");
    bs_buf_json_str(b, msg, strlen(msg));
    json_object_put(body);
}

static void log_request(bs_req *r, int64_t started_ns)
{
    bs_app *app = r->ev.app;
    int status = r->responded ? r->status : 0;
    if (!status)
        status = r->ev.error && r->ev.error->status ? r->ev.error->status
                                                    : 204;
    bool failed = status >= 400;
    if (!failed && r->log_skip_success)
        return;
    int level = failed ? BS_LOG_ERROR : BS_LOG_INFO;
    if (!bs_logs_wanted(app, level))
        return;
    bs_logs *l = app->logs;
    bs_request_log rl = {
        .status = status,
        .exec_ms = (double)(now_ns() - started_ns) / 1e6,
        .method = r->method,
        .url = r->url,
        .referer = bs_req_header(r, "Referer"),
        .user_agent = bs_req_header(r, "User-Agent"),
        .auth = r->auth && r->auth->collection ? r->auth->collection->name
                                               : "",
    };
    if (r->auth && atomic_load(&l->log_auth_id) && r->auth->id)
        rl.auth_id = r->auth->id;
    bs_settings *s = NULL;
    if (atomic_load(&l->log_ip)) {
        rl.remote_ip = bs_req_remote_ip(r);
        rl.user_ip = rl.remote_ip;
        if (atomic_load(&l->proxy_headers)) {
            s = bs_app_settings(app);
            rl.user_ip = bs_ratelimit_client_ip(r, s ? s->value : NULL);
        }
        if (!rl.remote_ip)
            rl.remote_ip = "";
        if (!rl.user_ip)
            rl.user_ip = "";
    }
    bs_buf e;
    bs_buf_init(&e);
    if (failed) {
        put_error(&e, r);
        rl.error = e.oom ? NULL : e.data;
    }
    if (!failed || rl.error)
        bs_logs_add_request(app, level, &rl);
    bs_buf_dispose(&e);
    bs_settings_unref(s);
}

static void log_deferred(bs_req *r, void *user)
{
    log_request(r, *(int64_t *)user);
}

/* The global middleware (id "pbActivityLogger"). */
static int request_logger(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    if (!bs_logs_enabled(e->app))
        return bs_event_next(e);
    int64_t started = now_ns();
    int rc = bs_event_next(e);
    int64_t *at = r->defer ? bs_arena_alloc(&r->arena, sizeof *at) : NULL;
    if (at) {
        /* Answered later (POST /api/backups): logged with that answer. */
        *at = started;
        bs_defer_after(r->defer, log_deferred, at);
    } else {
        log_request(r, started);
    }
    return rc;
}

/* ---- the API ----------------------------------------------------------- */

static int logs_list(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    r->log_skip_success = true;
    int64_t page, per_page;
    bool skip_total;
    bs_api_paging(r, &page, &per_page, &skip_total);
    json_object *out = NULL;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_logs_list(e->app, bs_req_query(r, "filter"),
                          bs_req_query(r, "sort"), page, per_page,
                          skip_total, &out, &err);
    if (rc)
        bs_req_fail(r, rc, &err);
    else
        bs_resp_json(r, 200, out);
    r->search_result = true;
    json_object_put(out);
    bs_error_dispose(&err);
    return 0;
}

static int logs_stats(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    r->log_skip_success = true;
    json_object *out = NULL;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_logs_stats(e->app, bs_req_query(r, "filter"), &out, &err);
    if (rc)
        bs_req_fail(r, rc, &err);
    else
        bs_resp_json(r, 200, out);
    json_object_put(out);
    bs_error_dispose(&err);
    return 0;
}

static int logs_view(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    r->log_skip_success = true;
    const char *id = bs_req_param(r, "id");
    json_object *out = NULL;
    if (!id || !*id || bs_logs_find(e->app, id, &out) != 0) {
        bs_resp_status_error(r, 404, NULL);
        return 0;
    }
    bs_resp_json(r, 200, out);
    json_object_put(out);
    return 0;
}

int bs_api_logs_register(bs_app *app)
{
    bs_handler mw = {.id = "pbActivityLogger", .priority = -900,
                     .fn = request_logger};
    if (bs_hook_bind(app->middlewares, &mw) != 0)
        return BS_ENOMEM;
    if (!bs_api_superuser_route(app, "GET", "/api/logs", logs_list) ||
        !bs_api_superuser_route(app, "GET", "/api/logs/stats", logs_stats) ||
        !bs_api_superuser_route(app, "GET", "/api/logs/{id}", logs_view))
        return BS_ENOMEM;
    return 0;
}
