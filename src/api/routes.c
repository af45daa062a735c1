/*
 * routes.c - wires the global middlewares and every area's routes.
 *
 * Middleware order (outermost first): the metrics' request counter,
 * CORS, auth loading, then the
 * request logger (inside auth loading, so the row names the requester). Static files of pb_public are served at "/{path...}"
 * when the folder exists; a path under /api that no route takes is a
 * JSON 404 for every method, never a static file or the index.html
 * fallback (see docs/compatibility.md).
 */
#include <string.h>

#include "../core/auth.h"
#include "api.h"
#include "middleware.h"

bs_route *bs_api_superuser_route(bs_app *app, const char *method,
                                 const char *pattern, bs_handler_fn fn)
{
    bs_route *rt = bs_router_add(app->router, method, pattern, fn, NULL);
    if (!rt)
        return NULL;
    bs_handler h = {.id = "requireSuperuserAuth", .priority = -1000,
                    .fn = bs_require_superuser};
    bs_hook *mw = bs_route_middlewares(rt);
    if (!mw || bs_hook_bind(mw, &h) != 0)
        return NULL;
    return rt;
}

void bs_api_paging(bs_req *r, int64_t *page, int64_t *per_page,
                   bool *skip_total)
{
    *page = bs_req_query_int(r, "page", 1);
    if (*page < 1)
        *page = 1;
    *per_page = bs_req_query_int(r, "perPage", 30);
    if (*per_page <= 0)
        *per_page = 30;
    if (*per_page > 1000)
        *per_page = 1000;
    /* The callers skip (page - 1) * perPage rows. A page so large that
     * this overflows is past any table's end anyway, so it is lowered to
     * the last page whose offset still fits in 64 bits. */
    if (*page > INT64_MAX / *per_page)
        *page = INT64_MAX / *per_page;
    *skip_total = bs_req_query_bool(r, "skipTotal");
}

/* Any method on an /api path that no route takes. The message is the
 * one PocketBase gives without pb_public: its static route's "File not
 * found." for GET (and HEAD), its catch-all's for other methods. */
static int api_not_found(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bool get = strcmp(r->method, "GET") == 0 || r->is_head;
    bs_resp_status_error(r, 404, get ? "File not found." : NULL);
    return 0;
}

int bs_api_register(bs_app *app, bs_api_serving *sv)
{
    bs_cors *cors = bs_cors_new(app->origins);
    if (!cors)
        return BS_ENOMEM;
    sv->cors = cors;
    bs_handler mw_cors = {.id = "pbCors", .priority = -2000,
                          .fn = bs_cors_middleware, .user = cors};
    bs_handler mw_auth = {.id = "pbLoadAuthToken", .priority = -1000,
                          .fn = bs_auth_middleware};
    if (bs_hook_bind(app->middlewares, &mw_cors) ||
        bs_hook_bind(app->middlewares, &mw_auth))
        return BS_ENOMEM;
    int rc = 0;
    if ((rc = bs_api_metrics_register(app)) ||
        (rc = bs_api_openapi_register(app)) ||
        (rc = bs_api_health_register(app)) ||
        (rc = bs_api_settings_register(app)) ||
        (rc = bs_api_records_register(app)) ||
        (rc = bs_api_collections_register(app)) ||
        (rc = bs_api_batch_register(app)) ||
        (rc = bs_api_files_register(app)) ||
        (rc = bs_api_realtime_register(app)) ||
        (rc = bs_api_crons_register(app)) ||
        (rc = bs_api_backups_register(app)) ||
        (rc = bs_api_logs_register(app)) ||
        (rc = bs_api_webhooks_register(app)) ||
        (rc = bs_api_sql_register(app)) ||
        (rc = bs_api_dashboard_register(app)) ||
        (rc = bs_api_auth_register(app)))
        return rc;
    if (!bs_router_add(app->router, NULL, "/api", api_not_found, NULL) ||
        !bs_router_add(app->router, NULL, "/api/{path...}", api_not_found,
                       NULL))
        return BS_ENOMEM;
    /* Like PocketBase, GET requests no route takes go to pb_public, which
     * answers "File not found." when the folder or the file is missing. */
    sv->has_pub = bs_static_init(&sv->pub, app->public_dir, true) == 0;
    if (!bs_router_add(app->router, "GET", "/{path...}", bs_static_handler,
                       &sv->pub))
        return BS_ENOMEM;
    return 0;
}
