/*
 * crons.c - the cron jobs API, for superusers (PocketBase's apis/cron.go):
 *
 *   GET  /api/crons        [{id, expression}], sorted by id, the system
 *                          jobs (__pb...) last
 *   POST /api/crons/{id}   runs the job now, in the background: 204, or
 *                          404 "Missing or invalid cron job."
 */
#include "../core/app.h"
#include "../core/cron.h"
#include "api.h"

static int crons_list(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    json_object *list = bs_cron_list(e->app->cron);
    if (!list) {
        bs_resp_status_error(r, 500, NULL);
        return 0;
    }
    bs_resp_json(r, 200, list);
    json_object_put(list);
    return 0;
}

static int crons_run(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    int rc = bs_cron_run(e->app, bs_req_param(r, "id"));
    if (rc == BS_ENOTFOUND)
        bs_resp_status_error(r, 404, "Missing or invalid cron job.");
    else if (rc)
        bs_resp_status_error(r, 500, NULL);
    else
        bs_resp_empty(r, 204);
    return 0;
}

int bs_api_crons_register(bs_app *app)
{
    if (!bs_api_superuser_route(app, "GET", "/api/crons", crons_list) ||
        !bs_api_superuser_route(app, "POST", "/api/crons/{id}", crons_run))
        return BS_ENOMEM;
    return 0;
}
