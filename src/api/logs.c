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
 * route answered it builds the row (method, url, status, execTime in
 * milliseconds, auth, IPs, referer, user agent, and the error message
 * and data for a failure) and queues it; the background writer
 * (src/db/log_writer.c) stores it. It costs one clock read when logs
 * are off. Like PocketBase, a successful request of a route that skips
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

/* Appends ,"key":"s" with s cut to max bytes plus "..." as PocketBase's
 * cutStr does. */
static void put_cut(bs_buf *b, const char *key, const char *s, size_t max)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    bs_buf_puts(b, ",\"");
    bs_buf_puts(b, key);
    bs_buf_puts(b, "\":");
    if (n <= max) {
        bs_buf_json_str(b, s, n);
        return;
    }
    /* Cut at a character boundary so the JSON text stays valid UTF-8. */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    bs_buf_json_str(b, s, max);
    b->len--; /* reopen the string to append the ellipsis */
    bs_buf_puts(b, "...\"");
}

/* The message: method and the percent-decoded request target (the raw
 * target when it does not decode). */
static void put_message(bs_buf *m, const char *method, const char *url)
{
    bs_buf_puts(m, method);
    bs_buf_putc(m, ' ');
    size_t start = m->len;
    for (const char *p = url; *p; p++) {
        if (*p == '%') {
            int hi = bs_hex_digit(p[1]);
            int lo = hi < 0 ? -1 : bs_hex_digit(p[2]);
            if (lo < 0) {
                m->len = start;
                bs_buf_puts(m, url);
                return;
            }
            bs_buf_putc(m, (char)(hi * 16 + lo));
            p += 2;
        } else {
            bs_buf_putc(m, *p);
        }
    }
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
        bs_buf_puts(b, ",\"details\":null,\"error\":\"\"");
        return;
    }
    json_object *data = bs_json_get(body, "data");
    bs_buf_puts(b, ",\"details\":");
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
    double ms = (double)(now_ns() - started_ns) / 1e6;
    const char *method = r->method ? r->method : "";
    const char *url = r->url ? r->url : "";
    bs_logs *l = app->logs;

    /* Keys in Go's map order (sorted), as PocketBase stores them. */
    bs_buf d;
    bs_buf_init(&d);
    bs_buf_puts(&d, "{\"auth\":");
    const char *coll = r->auth && r->auth->collection
                           ? r->auth->collection->name
                           : "";
    bs_buf_json_str(&d, coll, strlen(coll));
    if (r->auth && atomic_load(&l->log_auth_id) && r->auth->id)
        put_cut(&d, "authId", r->auth->id, 255);
    if (failed)
        put_error(&d, r);
    bs_buf_puts(&d, ",\"execTime\":");
    bs_buf_json_num(&d, ms);
    put_cut(&d, "method", method, 50);
    put_cut(&d, "referer", bs_req_header(r, "Referer"), 2000);
    bool log_ip = atomic_load(&l->log_ip);
    if (log_ip)
        put_cut(&d, "remoteIP", bs_req_remote_ip(r), 255);
    bs_buf_puts(&d, ",\"status\":");
    bs_buf_json_num(&d, status);
    bs_buf_puts(&d, ",\"type\":\"request\"");
    put_cut(&d, "url", url, 3000);
    put_cut(&d, "userAgent", bs_req_header(r, "User-Agent"), 2000);
    if (log_ip) {
        bs_settings *s = bs_app_settings(app);
        put_cut(&d, "userIP",
                bs_ratelimit_client_ip(r, s ? s->value : NULL), 255);
        bs_settings_unref(s);
    }
    bs_buf_putc(&d, '}');

    bs_buf m;
    bs_buf_init(&m);
    put_message(&m, method, url);
    if (!d.oom && !m.oom)
        bs_logs_add(app, level, m.data, m.len, d.data, d.len);
    bs_buf_dispose(&m);
    bs_buf_dispose(&d);
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
