/*
 * js_twin.c - the C twin of bench/js/main.pb.js, for the `jshooks`
 * benchmark: a JSON route and a record create-request hook, written
 * once in C here and once in JavaScript there, so bench/run.sh can
 * compare the two on the same requests.
 *
 *   build/examples/js_twin serve --http ADDR --dir DATA_DIR
 *
 *  - GET /api/bench/hello/{name} answers {"message":"hello NAME","n":42};
 *  - a create request on `posts` appends "!" to the title, then saves.
 */
#include <basalt.h>
#include <stdio.h>
#include <string.h>

static int hello(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    char msg[256];
    snprintf(msg, sizeof msg, "hello %s", bs_req_param(r, "name"));
    json_object *o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(msg));
    json_object_object_add(o, "n", json_object_new_int(42));
    bs_resp_json(r, 200, o);
    json_object_put(o);
    return 0;
}

static int on_create(bs_event *e, void *user)
{
    (void)user;
    bs_record *rec = ((bs_request_event *)e)->record;
    char title[512];
    snprintf(title, sizeof title, "%s!", bs_record_get_string(rec, "title"));
    bs_record_set_string(rec, "title", title);
    return bs_event_next(e);
}

static int on_serve(bs_event *e, void *user)
{
    (void)user;
    if (!bs_app_route(e->app, "GET", "/api/bench/hello/{name}", hello, NULL))
        return BS_ENOMEM;
    return bs_event_next(e);
}

int main(int argc, char **argv)
{
    bs_app *app = bs_app_new(NULL);
    if (!app)
        return 1;
    static const char *const posts[] = {"posts", NULL};
    bs_handler create = {.fn = on_create, .tags = posts};
    bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_CREATE_REQUEST), &create);
    bs_hook_bind_func(bs_app_hook(app, BS_ON_SERVE), on_serve, NULL);
    int rc = bs_app_start(app, argc, argv);
    bs_app_free(app);
    return rc;
}
