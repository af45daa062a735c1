/*
 * settings.c - GET and PATCH /api/settings (superusers only).
 *
 * PATCH merges the submitted document over the current settings,
 * validates the result, saves it in one transaction and swaps the
 * settings snapshot. Secrets are never sent back.
 */
#include <string.h>

#include "../base/json.h"
#include "api.h"

static int list_final(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_settings *s = bs_app_settings(e->app);
    json_object *pub = bs_settings_public(s->value);
    bs_settings_unref(s);
    if (!pub)
        return BS_ENOMEM;
    bs_resp_json(r, 200, pub);
    json_object_put(pub);
    return 0;
}

static int settings_list(bs_event *e, void *user)
{
    (void)user;
    return bs_hook_trigger(e->app->hooks[BS_ON_SETTINGS_LIST_REQUEST], e,
                           list_final, NULL);
}

static int update_final(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_app *app = e->app;
    bs_error err;
    bs_error_init(&err);
    json_object *patch = NULL, *next = NULL;
    int rc = bs_req_json_body(r, &patch, &err);
    if (rc)
        goto done;
    bs_settings *cur = bs_app_settings(app);
    rc = json_object_deep_copy(cur->value, &next, NULL) == 0 ? 0 : BS_ENOMEM;
    bs_settings_unref(cur);
    if (rc)
        goto done;
    bs_json_merge(next, patch);
    rc = bs_settings_validate(next, &err);
    if (rc)
        goto done;
    bs_conn *c = NULL;
    rc = bs_store_tx_begin(app->store, &c, &err);
    if (rc)
        goto done;
    int save_rc = bs_settings_save(c, next, &err);
    rc = bs_store_tx_end(app->store, save_rc == 0, &err);
    if (save_rc)
        rc = save_rc;
    if (rc) {
        if (!err.status)
            bs_error_set(&err, 400, "Failed to save the settings.");
        goto done;
    }
    json_object_get(next);
    bs_app_set_settings(app, bs_settings_wrap(next));
    json_object *pub = bs_settings_public(next);
    if (pub) {
        bs_resp_json(r, 200, pub);
        json_object_put(pub);
    }

done:
    if (rc)
        bs_req_fail(r, rc, &err);
    bs_error_dispose(&err);
    if (patch)
        json_object_put(patch);
    if (next)
        json_object_put(next);
    return 0;
}

static int settings_update(bs_event *e, void *user)
{
    (void)user;
    return bs_hook_trigger(e->app->hooks[BS_ON_SETTINGS_UPDATE_REQUEST], e,
                           update_final, NULL);
}

int bs_api_settings_register(bs_app *app)
{
    if (!bs_api_superuser_route(app, "GET", "/api/settings", settings_list) ||
        !bs_api_superuser_route(app, "PATCH", "/api/settings",
                                settings_update))
        return BS_ENOMEM;
    return 0;
}
