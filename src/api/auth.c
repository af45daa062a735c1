/*
 * auth.c - the record auth API: what it keeps for the app (auth_api),
 * the route binders of its endpoints, and the registration of every
 * auth route.
 *
 * Every auth endpoint lives under /api/collections/{collection}/ and
 * follows PocketBase's order of checks: the collection rate limit and
 * any auth requirement run as route middlewares, the handler resolves the
 * auth collection (404), checks the collection's switch for the method
 * (403, or 400 for the mail flows), reads and validates the body (400
 * with per-field errors), looks the record up, then triggers the
 * request's hook with the built-in behaviour as the final step. A
 * successful login of any kind ends in bsa_auth_respond().
 *
 * Where things are, one endpoint family per file:
 *   auth_context.c     the handler's request context, body and form checks
 *   auth_lookup.c      records by email or identity field; system records
 *   auth_respond.c     the auth response (MFA, enrich, login alerts, token)
 *   auth_methods.c     auth-methods
 *   auth_password.c    auth-with-password
 *   auth_refresh.c     auth-refresh
 *   auth_impersonate.c impersonate
 *   auth_otp.c         request-otp, auth-with-otp
 *   auth_mail.c        verification, password reset, email change
 *   auth_oauth2.c      auth-with-oauth2, /api/oauth2-redirect
 *   auth_settings.c    the settings' test email
 * with the request context shared with the records API in context.c,
 * the store of short-lived keys in ttl_store.c and the rate limits
 * in rate_limit.c. The model hooks of the auth system collections are
 * core's (src/core/auth_models.c).
 */
#include <stdlib.h>

#include "auth_internal.h"
#include "middleware.h"
#include "rate_limit.h"

bs_route *bsa_auth_route(auth_api *api, const char *method, const char *pattern,
                         bs_handler_fn fn, const char *const *tags,
                         bool same_collection_auth)
{
    bs_route *rt = bs_router_add(api->app->router, method, pattern, fn, api);
    if (!rt)
        return NULL;
    bs_hook *mws = bs_route_middlewares(rt);
    if (!mws)
        return NULL;
    if (tags) {
        bs_handler h = {.id = "pbRateLimit", .priority = -1000,
                        .fn = bsa_collection_rate_mw, .user = (void *)tags};
        if (bs_hook_bind(mws, &h) != 0)
            return NULL;
    }
    if (same_collection_auth) {
        bs_handler h = {.id = "pbRequireSameCollectionContextAuth",
                        .fn = bs_require_same_collection_auth};
        if (bs_hook_bind(mws, &h) != 0)
            return NULL;
    }
    return rt;
}

bs_route *bsa_auth_superuser_route(auth_api *api, const char *method,
                                   const char *pattern, bs_handler_fn fn)
{
    bs_route *rt = bs_router_add(api->app->router, method, pattern, fn, api);
    bs_hook *mws = rt ? bs_route_middlewares(rt) : NULL;
    bs_handler h = {.id = "pbRequireSuperuserAuth", .priority = -1000,
                    .fn = bs_require_superuser};
    if (!mws || bs_hook_bind(mws, &h) != 0)
        return NULL;
    return rt;
}

/* ---- registration ------------------------------------------------------------- */

static int on_settings_reload(bs_event *e, void *user)
{
    auth_api *api = user;
    int rc = bs_event_next(e);
    bs_ratelimiter_reset(api->limiter);
    return rc;
}

static void api_free(auth_api *api)
{
    if (!api)
        return;
    bsa_ttl_store_dispose(&api->store);
    free(api);
}

static int on_terminate(bs_event *e, void *user)
{
    auth_api *api = user;
    int rc = bs_event_next(e);
    bs_hook_unbind(e->app->middlewares, "pbRateLimit");
    bs_hook_unbind(e->app->hooks[BS_ON_SETTINGS_RELOAD],
                   "pbAuthRateLimitersReset");
    bs_hook_unbind(e->app->hooks[BS_ON_TERMINATE], "pbAuthApiFree");
    api_free(api);
    return rc;
}

int bs_api_auth_register(bs_app *app)
{
    auth_api *api = calloc(1, sizeof *api);
    if (!api)
        return BS_ENOMEM;
    api->app = app;
    api->limiter = app->limiter;
    bsa_ttl_store_init(&api->store);
    bs_handler term = {.id = "pbAuthApiFree", .priority = 1000,
                       .fn = on_terminate, .user = api};
    if (bs_hook_bind(app->hooks[BS_ON_TERMINATE], &term) != 0) {
        api_free(api);
        return BS_ENOMEM;
    }
    /* From here on the api is freed by the terminate hook. */
    bs_handler reload = {.id = "pbAuthRateLimitersReset",
                         .fn = on_settings_reload, .user = api};
    bs_handler limit = {.id = "pbRateLimit", .priority = -990,
                        .fn = bsa_rate_limit_mw};
    if (bs_hook_bind(app->hooks[BS_ON_SETTINGS_RELOAD], &reload) != 0 ||
        bs_hook_bind(app->middlewares, &limit) != 0)
        return BS_ENOMEM;
    int rc;
    if ((rc = bsa_auth_methods_register(api)) ||
        (rc = bsa_auth_refresh_register(api)) ||
        (rc = bsa_auth_password_register(api)) ||
        (rc = bsa_auth_impersonate_register(api)) ||
        (rc = bsa_auth_otp_register(api)) ||
        (rc = bsa_auth_mail_register(api)) ||
        (rc = bsa_auth_oauth2_register(api)) ||
        (rc = bsa_auth_settings_register(api)))
        return rc;
    return 0;
}
