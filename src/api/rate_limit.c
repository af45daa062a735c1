/*
 * rate_limit.c - the rate limits of the HTTP API, on the counters of
 * core/ratelimit.c (app->limiter): the global middleware with the
 * "METHOD /path" and "/path" rules, and the collection rate limits of
 * the records and auth endpoints ("<collection>:<tag>", "*:<tag>", then
 * the path rules), as PocketBase checks them. Superusers and the
 * excluded IPs are never limited; a request over a limit is answered
 * 429.
 */
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/ratelimit.h"
#include "api.h"
#include "rate_limit.h"

static bool skip_rate_limit(bs_req *r, const json_object *settings,
                            const char **ip)
{
    json_object *rl = bs_json_get(settings, "rateLimits");
    *ip = "";
    if (!bs_json_get_bool(rl, "enabled", false) ||
        (r->auth && r->auth->superuser))
        return true;
    *ip = bs_ratelimit_client_ip(r, settings);
    return bs_ip_in_list(bs_json_get(rl, "excludedIPs"), *ip);
}

/* The request path, decoded, without the query. */
static const char *request_path(bs_req *r)
{
    const char *url = r->url ? r->url : "/";
    const char *q = strchr(url, '?');
    size_t n = q ? (size_t)(q - url) : strlen(url);
    char *p = bs_url_decode(&r->arena, url, n);
    return p ? p : bs_arena_strndup(&r->arena, url, n);
}

static bool check_rule(bs_ratelimiter *rl, bs_req *r, const char *id,
                       const bs_ratelimit_rule *rule, const char *ip)
{
    if (!*ip)
        return true;
    bool ok = bs_ratelimiter_allow(rl, id, ip, rule->max_requests,
                                   rule->duration, (int64_t)time(NULL));
    if (!ok)
        bs_resp_status_error(r, 429, NULL);
    return ok;
}

bool bsa_rate_allowed(bs_req *r, const bs_collection *c, const char *route,
                      const char *const *tags)
{
    bs_ratelimiter *rl = r->ev.app->limiter;
    bs_settings *s = bs_app_settings(r->ev.app);
    const char *ip = NULL;
    bool ok = true;
    if (!skip_rate_limit(r, s->value, &ip)) {
        const char *labels[16];
        int n = 0;
        /* rtId: collection id + route pattern + tags; the pattern is the
         * same for one route, so the path of the request stands in. */
        bs_buf id;
        bs_buf_init(&id);
        bs_buf_puts(&id, c->id);
        bs_buf_puts(&id, route ? route : request_path(r));
        for (int i = 0; tags && tags[i] && n < 6; i++) {
            bs_buf_puts(&id, tags[i]);
            labels[n++] = bs_arena_printf(&r->arena, "%s:%s", c->name,
                                          tags[i]);
        }
        for (int i = 0; tags && tags[i] && n < 12; i++)
            labels[n++] = bs_arena_printf(&r->arena, "*:%s", tags[i]);
        const char *path = request_path(r);
        labels[n++] = bs_arena_printf(&r->arena, "%s %s", r->method, path);
        labels[n++] = path;
        bs_ratelimit_rule rule;
        if (bs_ratelimit_find_rule(bs_json_get(s->value, "rateLimits"),
                                   labels, n, r->auth ? "@auth" : "@guest",
                                   &rule)) {
            bs_buf_puts(&id, rule.audience);
            ok = check_rule(rl, r, id.data ? id.data : "", &rule, ip);
        }
        bs_buf_dispose(&id);
    }
    bs_settings_unref(s);
    return ok;
}

bool bs_api_collection_rate_allowed(bs_req *r, const bs_collection *c,
                                    const char *route, const char *tag)
{
    const char *tags[2] = {tag, NULL};
    return bsa_rate_allowed(r, c, route, tags);
}

/* Global middleware: the "METHOD /path" and "/path" rules. */
int bsa_rate_limit_mw(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_settings *s = bs_app_settings(ev->app);
    const char *ip = NULL;
    bool ok = true;
    if (!skip_rate_limit(r, s->value, &ip)) {
        const char *path = request_path(r);
        const char *labels[2] = {
            bs_arena_printf(&r->arena, "%s %s", r->method, path), path};
        bs_ratelimit_rule rule;
        if (bs_ratelimit_find_rule(bs_json_get(s->value, "rateLimits"),
                                   labels, 2, r->auth ? "@auth" : "@guest",
                                   &rule)) {
            const char *id =
                bs_arena_printf(&r->arena, "%s%s", rule.label, rule.audience);
            ok = check_rule(ev->app->limiter, r, id ? id : "", &rule,
                            ip);
        }
    }
    bs_settings_unref(s);
    return ok ? bs_event_next(ev) : 0;
}

/* Route middleware: the collection rate limit of an auth endpoint. */
int bsa_collection_rate_mw(bs_event *ev, void *user)
{
    const char *const *tags = user;
    bs_req *r = (bs_req *)ev;
    bs_schema *schema = bs_app_schema(ev->app);
    const char *name = bs_req_param(r, "collection");
    const bs_collection *c = name ? bs_schema_find(schema, name) : NULL;
    int rc = 0;
    if (!c)
        bs_resp_status_error(r, 404, "Missing or invalid collection context.");
    else if (bsa_rate_allowed(r, c, NULL, tags))
        rc = bs_event_next(ev);
    bs_schema_unref(schema);
    return rc;
}

