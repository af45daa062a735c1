/*
 * routes.c - custom routes, groups and middlewares, as a program of its
 * own built on libbasalt (docs/hooks.md walks through it).
 *
 *   build/examples/routes serve --http ADDR --dir DIR
 *   build/examples/routes hello NAME --dir DIR   (a custom command)
 *
 * Routes, all under the group /api/demo:
 *   GET  /api/demo/hello/{name}   anyone; a greeting as JSON
 *   GET  /api/demo/me             require auth: the request info
 *   GET  /api/demo/users/{id}     a superuser or the user {id} itself
 *   POST /api/demo/echo           body limit of 64 bytes: echoes the body
 *   GET  /api/demo/big            gzip: a long text
 *   GET  /api/demo/teapot         a PocketBase-style 400 with field data
 *   GET  /api/demo/order          middlewares by priority (X-Trace)
 *   GET  /api/demo/admin/stats    group /admin requires a superuser: SQL
 *   GET  /api/demo/ticks          runs of the cron job "demoTick"
 *
 * The cron job "demoTick" runs every five minutes (and on demand with
 * POST /api/crons/demoTick); it only counts its runs.
 */
#include <basalt.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void answer(bs_req *r, json_object *v)
{
    bs_resp_json(r, 200, v);
    json_object_put(v);
}

static int hello(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    json_object *v = json_object_new_object();
    char text[256];
    snprintf(text, sizeof text, "Hello, %s!", bs_req_param(r, "name"));
    json_object_object_add(v, "message", json_object_new_string(text));
    answer(r, v);
    return 0;
}

static int me(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    answer(r, bs_req_info(r));
    return 0;
}

static int user_view(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_record *rec = NULL;
    if (bs_record_find_by_id(e->app, "users", bs_req_param(r, "id"), &rec))
        return bs_error_not_found(e->error, NULL);
    answer(r, bs_record_export(rec));
    bs_record_free(rec);
    return 0;
}

static int echo(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    json_object *info = bs_req_info(r);
    json_object *body = NULL;
    json_object_object_get_ex(info, "body", &body);
    answer(r, json_object_get(body));
    json_object_put(info);
    return 0;
}

static int big(bs_event *e, void *user)
{
    (void)user;
    char text[4096];
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = "basalt "[i % 7];
    text[sizeof text - 1] = '\0';
    bs_resp_raw((bs_req *)e, 200, "text/plain", text, strlen(text));
    return 0;
}

static int teapot(bs_event *e, void *user)
{
    (void)user;
    bs_error_field(e->error, "pot", "validation_teapot", "Short and stout.");
    return bs_error_bad_request(e->error, "I'm a teapot.");
}

/* Sets X-Inner to its letter (user) on the way in and X-Outer on the
 * way out: the innermost middleware writes X-Inner last, the outermost
 * writes X-Outer last. */
static int trace(bs_event *e, void *user)
{
    bs_resp_header((bs_req *)e, "X-Inner", (const char *)user);
    int rc = bs_event_next(e);
    bs_resp_header((bs_req *)e, "X-Outer", (const char *)user);
    return rc;
}

static int order(bs_event *e, void *user)
{
    (void)user;
    bs_resp_empty((bs_req *)e, 204);
    return 0;
}

/* The users count, with SQL through the query API. */
static int stats(bs_event *e, void *user)
{
    (void)user;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "verified", json_object_new_boolean(0));
    json_object *row = NULL;
    int rc = bs_db_one(e->app,
                       "SELECT COUNT(*) AS users,"
                       " COUNT(*) FILTER (WHERE verified = {:verified})"
                       " AS unverified FROM users",
                       p, &row, e->error);
    json_object_put(p);
    if (rc)
        return rc;
    answer((bs_req *)e, row);
    return 0;
}

static atomic_int ticks;

static void demo_tick(bs_app *app, void *user)
{
    (void)app;
    (void)user;
    ticks++;
}

static int ticks_view(bs_event *e, void *user)
{
    (void)user;
    json_object *v = json_object_new_object();
    json_object_object_add(v, "ticks", json_object_new_int(ticks));
    answer((bs_req *)e, v);
    return 0;
}

static int on_serve(bs_event *e, void *user)
{
    (void)user;
    bs_app *app = e->app;
    bs_route_group *demo = bs_app_group(app, "/api/demo");
    bs_route_group *admin = bs_group_group(demo, "/admin");
    if (!demo || !admin)
        return BS_ENOMEM;
    bs_handler auth = {.fn = bs_mw_require_auth};
    bs_handler su = {.fn = bs_mw_require_superuser};
    bs_handler owner = {.fn = bs_mw_require_superuser_or_owner, .user = "id"};
    bs_handler limit = {.fn = bs_mw_body_limit, .user = (void *)(uintptr_t)64};
    bs_handler gz = {.fn = bs_mw_gzip};
    int rc = 0;
    rc |= !bs_group_route(demo, "GET", "/hello/{name}", hello, NULL);
    rc |= bs_route_bind(bs_group_route(demo, "GET", "/me", me, NULL), &auth);
    rc |= bs_route_bind(bs_group_route(demo, "GET", "/users/{id}", user_view,
                                       NULL), &owner);
    rc |= bs_route_bind(bs_group_route(demo, "POST", "/echo", echo, NULL),
                        &limit);
    rc |= bs_route_bind(bs_group_route(demo, "GET", "/big", big, NULL), &gz);
    rc |= !bs_group_route(demo, "GET", "/teapot", teapot, NULL);
    rc |= !bs_group_route(demo, "GET", "/ticks", ticks_view, NULL);
    rc |= !bs_group_route(admin, "GET", "/stats", stats, NULL);
    rc |= bs_group_bind(admin, &su);
    /* Priorities order the middlewares of a route and of its groups
     * together: c (group, -1) runs before a (route, 0) and b (route, 5),
     * whatever the binding order. */
    bs_route *o = bs_group_route(demo, "GET", "/order", order, NULL);
    bs_handler ta = {.id = "a", .fn = trace, .user = "a"};
    bs_handler tb = {.id = "b", .priority = 5, .fn = trace, .user = "b"};
    bs_handler tc = {.id = "c", .priority = -1, .fn = trace, .user = "c"};
    rc |= bs_route_bind(o, &tb);
    rc |= bs_route_bind(o, &ta);
    rc |= bs_group_bind(demo, &tc);
    return rc ? BS_EINVAL : bs_event_next(e);
}

static int hello_command(bs_app *app, int argc, char **argv, void *user)
{
    (void)user;
    int64_t n = 0;
    bs_record_count(app, "users", NULL, NULL, &n);
    printf("Hello, %s! There are %lld users.\n", argc > 1 ? argv[1] : "you",
           (long long)n);
    return 0;
}

int main(int argc, char **argv)
{
    bs_app *app = bs_app_new(NULL);
    if (!app)
        return 1;
    bs_hook_bind_func(bs_app_hook(app, BS_ON_SERVE), on_serve, NULL);
    bs_app_add_command(app, "hello", "NAME  greets NAME and counts users",
                       hello_command, NULL);
    bs_cron_add(app, "demoTick", "*/5 * * * *", demo_tick, NULL);
    int rc = bs_app_start(app, argc, argv);
    bs_app_free(app);
    return rc;
}
