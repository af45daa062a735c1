/*
 * health.c - GET /api/health.
 */
#include <string.h>

#include "../base/json.h"
#include "../core/auth.h"
#include "../core/backup.h"
#include "api.h"

static int health(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_buf *b = &r->resp;
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_buf_puts(b, "{\"message\":\"API is healthy.\",\"code\":200,\"data\":");
    if (r->auth && r->auth->superuser) {
        /* Go marshals the map with sorted keys. */
        bs_settings *s = bs_app_settings(e->app);
        const char *proxy = "";
        json_object *hdrs =
            bs_json_get(bs_json_get(s->value, "trustedProxy"), "headers");
        size_t n = hdrs ? json_object_array_length(hdrs) : 0;
        for (size_t i = 0; i < n && !*proxy; i++) {
            const char *h = json_object_get_string(
                json_object_array_get_idx(hdrs, i));
            if (h && *h && bs_req_header(r, h))
                proxy = bs_arena_strdup(&r->arena, h);
        }
        static const char *const common[] = {"CF-Connecting-IP",
                                             "Fly-Client-IP",
                                             "X-Forwarded-For"};
        for (size_t i = 0; i < 3 && !*proxy; i++) {
            if (bs_req_header(r, common[i]))
                proxy = common[i];
        }
        bs_settings_unref(s);
        const char *ip = bs_req_remote_ip(r);
        bs_buf_puts(b, bs_backup_active(e->app, NULL, 0)
                           ? "{\"canBackup\":false,\"possibleProxyHeader\":"
                           : "{\"canBackup\":true,\"possibleProxyHeader\":");
        bs_buf_json_str(b, proxy, strlen(proxy));
        bs_buf_puts(b, ",\"realIP\":");
        bs_buf_json_str(b, ip, strlen(ip));
        bs_buf_putc(b, '}');
    } else {
        bs_buf_puts(b, "{}");
    }
    bs_buf_puts(b, "}\n");
    return 0;
}

int bs_api_health_register(bs_app *app)
{
    return bs_router_add(app->router, "GET", "/api/health", health, NULL)
               ? 0
               : BS_ENOMEM;
}
