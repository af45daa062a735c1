/*
 * test_serve_hooks.c - the serve and terminate hooks of a program that
 * embeds the library: handlers run in priority order around the built-in
 * step, see the app and a listening server after next, and a serve
 * handler that fails stops the start with its error and no server left
 * listening.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"
#include "harness.h"
#include "tmpdir.h"

static char trace[64];
static int port_seen;

static void add(const char *s)
{
    strncat(trace, s, sizeof trace - strlen(trace) - 1);
}

/* Serve handler: records its letter, continues, then records the port
 * the started server listens on and stops the app. */
static int on_serve_outer(bs_event *e, void *user)
{
    add(user);
    int rc = bs_event_next(e);
    port_seen = bs_app_port(e->app);
    add("!");
    bs_app_stop(e->app);
    return rc;
}

static int on_serve(bs_event *e, void *user)
{
    add(user);
    return bs_event_next(e);
}

static int on_terminate(bs_event *e, void *user)
{
    add(user);
    return bs_event_next(e);
}

static int refuse(bs_event *e, void *user)
{
    (void)user;
    add("x");
    return bs_error_set(e->error, 503, "Not today.");
}

static bs_app *open_app(char *dir, size_t n)
{
    if (tmpdir_make(dir, n) != 0)
        return NULL;
    char data[300];
    snprintf(data, sizeof data, "%s/pb_data", dir);
    bs_app_config cfg = {.data_dir = data, .http_addr = "127.0.0.1:0",
                         .threads = 1};
    bs_app *app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    if (app && bs_app_bootstrap(app, &err) != 0) {
        bs_app_free(app);
        app = NULL;
    }
    bs_error_dispose(&err);
    return app;
}

TEST(serve_and_terminate_order)
{
    char dir[256];
    bs_app *app = open_app(dir, sizeof dir);
    REQUIRE(app);
    trace[0] = '\0';
    port_seen = 0;
    bs_hook *serve = bs_app_hook(app, BS_ON_SERVE);
    bs_hook *term = bs_app_hook(app, BS_ON_TERMINATE);
    REQUIRE(bs_hook_bind(serve, &(bs_handler){.priority = 5, .fn = on_serve,
                                              .user = "b"}) == 0);
    REQUIRE(bs_hook_bind(serve, &(bs_handler){.priority = -5,
                                              .fn = on_serve_outer,
                                              .user = "a"}) == 0);
    REQUIRE(bs_hook_bind(term, &(bs_handler){.fn = on_terminate,
                                             .user = "T"}) == 0);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_app_serve(app, false, &err) == 0);
    /* a before b, the server started inside next, then terminate. */
    CHECK_STR(trace, "ab!T");
    CHECK(port_seen > 0);
    bs_error_dispose(&err);
    bs_app_free(app);
    tmpdir_remove(dir);
}

TEST(a_failing_serve_handler_stops_the_start)
{
    char dir[256];
    bs_app *app = open_app(dir, sizeof dir);
    REQUIRE(app);
    trace[0] = '\0';
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_SERVE),
                         &(bs_handler){.fn = refuse}) == 0);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_app_serve(app, false, &err) != 0);
    CHECK(err.status == 503);
    CHECK_STR(err.message ? err.message : "", "Not today.");
    CHECK_STR(trace, "x");
    bs_error_dispose(&err);
    bs_app_free(app);
    tmpdir_remove(dir);
}

int main(void)
{
    RUN(serve_and_terminate_order);
    RUN(a_failing_serve_handler_stops_the_start);
    return harness_summary(__FILE__);
}
