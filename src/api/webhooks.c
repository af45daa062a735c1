/*
 * webhooks.c - the webhooks API, for superusers (a Basalt extension;
 * docs/webhooks.md):
 *
 *   GET    /api/webhooks                   a page of webhooks
 *   POST   /api/webhooks                   create: the webhook, or 400
 *   GET    /api/webhooks/{id}              one webhook, or 404
 *   PATCH  /api/webhooks/{id}              update the fields given
 *   DELETE /api/webhooks/{id}              204 (its deliveries go too)
 *   GET    /api/webhooks/{id}/deliveries   a page of its delivery log
 *                                          (?status=pending|delivered|failed)
 *   POST   /api/webhooks/{id}/deliveries/{delivery}/retry
 *                                          204: a failed delivery queued
 *                                          again; 400 when not failed
 */
#include "../core/app.h"
#include "../core/webhooks.h"
#include "api.h"

static void answer(bs_req *r, int rc, json_object *out, bs_error *err,
                   int ok_status)
{
    if (rc == BS_ENOTFOUND)
        bs_resp_status_error(r, 404, NULL);
    else if (rc)
        bs_req_fail(r, rc, err);
    else if (out)
        bs_resp_json(r, ok_status, out);
    else
        bs_resp_empty(r, ok_status);
}

static int webhooks_list(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    int64_t page, per_page;
    bool skip_total;
    bs_api_paging(r, &page, &per_page, &skip_total);
    json_object *out = NULL;
    int rc = bs_webhooks_list(e->app, page, per_page, &out);
    answer(r, rc, out, NULL, 200);
    json_object_put(out);
    return 0;
}

static int webhooks_view(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    json_object *out = NULL;
    int rc = bs_webhooks_find(e->app, bs_req_param(r, "id"), &out);
    answer(r, rc, out, NULL, 200);
    json_object_put(out);
    return 0;
}

/* Create (no id in the path) and update. */
static int webhooks_save(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL, *out = NULL;
    if (bs_req_json_body(r, &body, &err) == 0) {
        int rc = bs_webhooks_save(e->app, bs_req_param(r, "id"), body, &out,
                                  &err);
        answer(r, rc, out, &err, 200);
    }
    json_object_put(body);
    json_object_put(out);
    bs_error_dispose(&err);
    return 0;
}

static int webhooks_delete(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    int rc = bs_webhooks_delete(e->app, bs_req_param(r, "id"));
    answer(r, rc, NULL, NULL, 204);
    return 0;
}

static int deliveries_list(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    int64_t page, per_page;
    bool skip_total;
    bs_api_paging(r, &page, &per_page, &skip_total);
    json_object *out = NULL;
    int rc = bs_webhooks_deliveries(e->app, bs_req_param(r, "id"),
                                    bs_req_query(r, "status"), page, per_page,
                                    &out);
    answer(r, rc, out, NULL, 200);
    json_object_put(out);
    return 0;
}

static int deliveries_retry(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_webhooks_retry(e->app, bs_req_param(r, "id"),
                               bs_req_param(r, "delivery"), &err);
    answer(r, rc, NULL, &err, 204);
    bs_error_dispose(&err);
    return 0;
}

int bs_api_webhooks_register(bs_app *app)
{
    if (!bs_api_superuser_route(app, "GET", "/api/webhooks", webhooks_list) ||
        !bs_api_superuser_route(app, "POST", "/api/webhooks", webhooks_save) ||
        !bs_api_superuser_route(app, "GET", "/api/webhooks/{id}",
                                webhooks_view) ||
        !bs_api_superuser_route(app, "PATCH", "/api/webhooks/{id}",
                                webhooks_save) ||
        !bs_api_superuser_route(app, "DELETE", "/api/webhooks/{id}",
                                webhooks_delete) ||
        !bs_api_superuser_route(app, "GET", "/api/webhooks/{id}/deliveries",
                                deliveries_list) ||
        !bs_api_superuser_route(
            app, "POST", "/api/webhooks/{id}/deliveries/{delivery}/retry",
            deliveries_retry))
        return BS_ENOMEM;
    return 0;
}
