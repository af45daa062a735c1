/*
 * auth_methods.c - GET /api/collections/{collection}/auth-methods: which
 * ways to sign in the collection offers (password with its identity
 * fields, OAuth2 providers with a fresh state and PKCE pair each, MFA,
 * OTP), also in the legacy authProviders / usernamePassword /
 * emailPassword shape the older SDKs read.
 */
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/oauth2.h"
#include "auth_internal.h"

static void write_provider(bs_buf *b, const bs_oauth2_config *cfg,
                           bool with_logo)
{
    char state[31], verifier[44];
    if (bs_random_string(state, 30, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
                                    "MNOPQRSTUVWXYZ0123456789") ||
        bs_random_string(verifier, 43, "abcdefghijklmnopqrstuvwxyzABCDEFGHI"
                                       "JKLMNOPQRSTUVWXYZ0123456789")) {
        b->oom = true;
        return;
    }
    bs_buf challenge, url;
    bs_buf_init(&challenge);
    bs_buf_init(&url);
    if (cfg->pkce)
        bs_oauth2_s256(verifier, &challenge);
    bs_oauth2_auth_url(cfg, state, cfg->pkce ? challenge.data : NULL, &url);
    bs_buf_puts(&url, "&redirect_uri=");
    const char *logo = with_logo ? bs_oauth2_logo(cfg) : "";
    bs_buf_puts(b, "{\"name\":");
    bs_buf_json_str(b, cfg->name, strlen(cfg->name));
    bs_buf_puts(b, ",\"displayName\":");
    bs_buf_json_str(b, cfg->display_name, strlen(cfg->display_name));
    bs_buf_puts(b, ",\"logo\":");
    bs_buf_json_str(b, logo, strlen(logo));
    bs_buf_puts(b, ",\"state\":");
    bs_buf_json_str(b, state, strlen(state));
    for (int i = 0; i < 2; i++) {
        bs_buf_puts(b, i ? ",\"authUrl\":" : ",\"authURL\":");
        bs_buf_json_str(b, url.data ? url.data : "", url.len);
    }
    bs_buf_puts(b, ",\"codeVerifier\":");
    bs_buf_json_str(b, cfg->pkce ? verifier : "", cfg->pkce ? 43 : 0);
    bs_buf_puts(b, ",\"codeChallenge\":");
    bs_buf_json_str(b, challenge.data ? challenge.data : "", challenge.len);
    bs_buf_puts(b, ",\"codeChallengeMethod\":");
    bs_buf_puts(b, cfg->pkce ? "\"S256\"}" : "\"\"}");
    bs_buf_dispose(&challenge);
    bs_buf_dispose(&url);
}

static int auth_methods(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    if (bsa_auth_begin(r, user, &ar) == 0) {
        const json_object *o = ar.q.c->options;
        json_object *pw = bs_json_get(o, "passwordAuth");
        json_object *oa = bs_json_get(o, "oauth2");
        json_object *mfa = bs_json_get(o, "mfa");
        json_object *otp = bs_json_get(o, "otp");
        bool pw_on = bs_json_get_bool(pw, "enabled", false);
        bool oa_on = bs_json_get_bool(oa, "enabled", false);
        bool mfa_on = bs_json_get_bool(mfa, "enabled", false);
        bool otp_on = bs_json_get_bool(otp, "enabled", false);
        json_object *idf = bs_json_get(pw, "identityFields");
        bool email_id = false, username_id = false;
        bs_resp_raw(r, 200, "application/json", NULL, 0);
        bs_buf *b = &r->resp;
        bs_buf_puts(b, "{\"password\":{\"identityFields\":");
        if (pw_on && idf && json_object_is_type(idf, json_type_array)) {
            bs_json_write(b, idf);
            for (size_t i = 0; i < json_object_array_length(idf); i++) {
                const char *f =
                    json_object_get_string(json_object_array_get_idx(idf, i));
                email_id |= f && strcmp(f, "email") == 0;
                username_id |= f && strcmp(f, "username") == 0;
            }
        } else {
            bs_buf_puts(b, pw_on ? "null" : "[]");
        }
        bs_buf_printf(b, ",\"enabled\":%s},\"oauth2\":{\"providers\":[",
                      pw_on ? "true" : "false");
        /* The providers twice: with logos, then as the legacy
         * authProviders without them. */
        bs_buf legacy;
        bs_buf_init(&legacy);
        json_object *list = bs_json_get(oa, "providers");
        size_t np = oa_on && list && json_object_is_type(list, json_type_array)
                        ? json_object_array_length(list)
                        : 0;
        int written = 0;
        for (size_t i = 0; i < np; i++) {
            bs_oauth2_config cfg;
            if (bs_oauth2_config_init(&cfg, json_object_array_get_idx(list, i)))
                continue;
            if (written++) {
                bs_buf_putc(b, ',');
                bs_buf_putc(&legacy, ',');
            }
            write_provider(b, &cfg, true);
            write_provider(&legacy, &cfg, false);
        }
        bs_buf_printf(b, "],\"enabled\":%s},", oa_on ? "true" : "false");
        bs_buf_printf(b, "\"mfa\":{\"enabled\":%s,\"duration\":%lld},",
                      mfa_on ? "true" : "false",
                      (long long)(mfa_on ? bs_json_get_int(mfa, "duration", 0)
                                         : 0));
        bs_buf_printf(b, "\"otp\":{\"enabled\":%s,\"duration\":%lld},",
                      otp_on ? "true" : "false",
                      (long long)(otp_on ? bs_json_get_int(otp, "duration", 0)
                                         : 0));
        bs_buf_puts(b, "\"authProviders\":");
        if (oa_on) {
            bs_buf_putc(b, '[');
            bs_buf_append(b, legacy.data ? legacy.data : "", legacy.len);
            bs_buf_putc(b, ']');
        } else {
            bs_buf_puts(b, "null");
        }
        bs_buf_printf(b, ",\"usernamePassword\":%s,\"emailPassword\":%s}\n",
                      pw_on && username_id ? "true" : "false",
                      pw_on && email_id ? "true" : "false");
        bs_buf_dispose(&legacy);
    }
    bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_methods_register(auth_api *api)
{
    static const char *const tags[] = {"listAuthMethods", NULL};
    if (!bsa_auth_route(api, "GET",
                        "/api/collections/{collection}/auth-methods",
                        auth_methods, tags, false))
        return BS_ENOMEM;
    return 0;
}
