/*
 * oauth2.c - OAuth2 / OpenID Connect providers, code exchange, profiles.
 *
 * Each provider is a row of a table: endpoints, scopes, PKCE support and
 * where its profile keeps the id, name, username, email, the flag saying
 * the email is verified, and the avatar (dotted paths into the profile
 * JSON, "data.0.id" reaching into arrays). The few providers that need
 * more (a second call for the verified email, a name made of two parts,
 * a profile that is the id_token itself) carry flags handled in
 * fetch_profile(). Everything else is shared: the authorization URL, the
 * token request (client credentials tried in a Basic header first, then
 * in the form, like golang.org/x/oauth2's auto-detection) and the
 * profile request with the bearer token.
 */
#include "oauth2.h"

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "basalt.h"
#include "token.h"

enum {
    SP_EMAILS_GITHUB = 1 << 0,  /* verified primary email from <userinfo>/emails */
    SP_EMAILS_BITBUCKET = 1 << 1,
    SP_DISCORD = 1 << 2,        /* name and avatar URL composed */
    SP_STRAVA = 1 << 3,         /* name = firstname lastname */
    SP_CLIENT_ID_HEADER = 1 << 4,
    SP_YANDEX = 1 << 5,         /* avatar URL composed */
    SP_APPLE = 1 << 6,          /* the profile is the verified id_token */
    SP_OIDC = 1 << 7,           /* userinfo, else the id_token */
    SP_EMAIL_FORMAT = 1 << 8,   /* take the email only when well formed */
};

struct bs_oauth2_provider {
    const char *name;
    const char *display;
    const char *color;          /* logo background */
    bool pkce;
    const char *scopes;         /* space separated */
    const char *auth_url;
    const char *token_url;
    const char *user_info_url;
    const char *id;             /* profile paths */
    const char *name_path;
    const char *username;
    const char *email;
    const char *verified;       /* NULL: the email is taken as is */
    const char *avatar;
    const char *active;         /* NULL, or a path that must be truthy */
    const char *active_value;   /* ...or equal to this string */
    int flags;
};

static const bs_oauth2_provider PROVIDERS[] = {
    {"apple", "Apple", "#000000", true, "name email",
     "https://appleid.apple.com/auth/authorize",
     "https://appleid.apple.com/auth/token", "", "sub", "name", NULL,
     "email", "email_verified", NULL, NULL, NULL, SP_APPLE},
    {"bitbucket", "Bitbucket", "#2684ff", false, "account",
     "https://bitbucket.org/site/oauth2/authorize",
     "https://bitbucket.org/site/oauth2/access_token",
     "https://api.bitbucket.org/2.0/user", "uuid", "display_name",
     "username", NULL, NULL, "links.avatar.href", "account_status",
     "active", SP_EMAILS_BITBUCKET},
    {"box", "Box", "#0061d5", true, "root_readonly",
     "https://account.box.com/api/oauth2/authorize",
     "https://api.box.com/oauth2/token", "https://api.box.com/2.0/users/me",
     "id", "name", NULL, "login", NULL, "avatar_url", "status", "active", 0},
    {"discord", "Discord", "#5865f2", true, "identify email",
     "https://discord.com/api/oauth2/authorize",
     "https://discord.com/api/oauth2/token",
     "https://discord.com/api/users/@me", "id", "global_name", "username",
     "email", "verified", NULL, NULL, NULL, SP_DISCORD},
    {"facebook", "Facebook", "#1877f2", true, "email",
     "https://www.facebook.com/v3.2/dialog/oauth",
     "https://graph.facebook.com/v3.2/oauth/access_token",
     "https://graph.facebook.com/me?fields=name,email,picture.type(large)",
     "id", "name", NULL, "email", NULL, "picture.data.url", NULL, NULL, 0},
    {"gitea", "Gitea/Forgejo", "#609926", true, "read:user user:email",
     "https://gitea.com/login/oauth/authorize",
     "https://gitea.com/login/oauth/access_token",
     "https://gitea.com/api/v1/user", "id", "full_name", "login", NULL, NULL,
     "avatar_url", "active", NULL, SP_EMAILS_GITHUB},
    {"gitee", "Gitee", "#c71d23", true, "user_info emails",
     "https://gitee.com/oauth/authorize", "https://gitee.com/oauth/token",
     "https://gitee.com/api/v5/user", "id", "name", "login", "email", NULL,
     "avatar_url", NULL, NULL, SP_EMAIL_FORMAT},
    {"github", "GitHub", "#24292f", true, "read:user user:email",
     "https://github.com/login/oauth/authorize",
     "https://github.com/login/oauth/access_token",
     "https://api.github.com/user", "id", "name", "login", NULL, NULL,
     "avatar_url", NULL, NULL, SP_EMAILS_GITHUB},
    {"gitlab", "GitLab", "#fc6d26", true, "read_user",
     "https://gitlab.com/oauth/authorize", "https://gitlab.com/oauth/token",
     "https://gitlab.com/api/v4/user", "id", "name", "username", "email",
     "confirmed_at", "avatar_url", NULL, NULL, 0},
    {"google", "Google", "#4285f4", true,
     "https://www.googleapis.com/auth/userinfo.profile "
     "https://www.googleapis.com/auth/userinfo.email",
     "https://accounts.google.com/o/oauth2/v2/auth",
     "https://oauth2.googleapis.com/token",
     "https://www.googleapis.com/oauth2/v3/userinfo", "sub", "name", NULL,
     "email", "email_verified", "picture", NULL, NULL, 0},
    {"instagram", "Instagram", "#e1306c", true, "instagram_business_basic",
     "https://www.instagram.com/oauth/authorize",
     "https://api.instagram.com/oauth/access_token",
     "https://graph.instagram.com/me?fields=id,username,account_type,"
     "user_id,name,profile_picture_url,followers_count,follows_count,"
     "media_count",
     "user_id", "name", "username", NULL, NULL, "profile_picture_url", NULL,
     NULL, 0},
    {"kakao", "Kakao", "#fee500", true,
     "account_email profile_nickname profile_image",
     "https://kauth.kakao.com/oauth/authorize",
     "https://kauth.kakao.com/oauth/token",
     "https://kapi.kakao.com/v2/user/me", "id", NULL, "properties.nickname",
     "kakao_account.email", "kakao_account.is_email_verified",
     "properties.profile_image", NULL, NULL, 0},
    {"livechat", "LiveChat", "#ff5100", true, "",
     "https://accounts.livechat.com/", "https://accounts.livechat.com/token",
     "https://accounts.livechat.com/v2/accounts/me", "account_id", "name",
     NULL, "email", "email_verified", "avatar_url", NULL, NULL, 0},
    {"mailcow", "mailcow", "#0f4c81", true, "profile", "", "", "", "id",
     "full_name", "username", "email", NULL, NULL, "active", "1", 0},
    {"microsoft", "Microsoft", "#00a4ef", true, "User.Read",
     "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
     "https://login.microsoftonline.com/common/oauth2/v2.0/token",
     "https://graph.microsoft.com/v1.0/me", "id", "displayName", NULL, "mail",
     NULL, NULL, NULL, NULL, 0},
    {"oidc", "OIDC", "#ff6200", true, "openid email profile", "", "", "",
     "sub", "name", "preferred_username", "email", "email_verified",
     "picture", NULL, NULL, SP_OIDC},
    {"oidc2", "OIDC", "#ff6200", true, "openid email profile", "", "", "",
     "sub", "name", "preferred_username", "email", "email_verified",
     "picture", NULL, NULL, SP_OIDC},
    {"oidc3", "OIDC", "#ff6200", true, "openid email profile", "", "", "",
     "sub", "name", "preferred_username", "email", "email_verified",
     "picture", NULL, NULL, SP_OIDC},
    {"patreon", "Patreon", "#ff424d", true, "identity identity[email]",
     "https://www.patreon.com/oauth2/authorize",
     "https://api.patreon.com/oauth2/token",
     "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D="
     "full_name,email,vanity,image_url,is_email_verified",
     "data.id", "data.attributes.full_name", "data.attributes.vanity",
     "data.attributes.email", "data.attributes.is_email_verified",
     "data.attributes.image_url", NULL, NULL, 0},
    {"planningcenter", "Planning Center", "#2266f7", true, "people",
     "https://api.planningcenteronline.com/oauth/authorize",
     "https://api.planningcenteronline.com/oauth/token",
     "https://api.planningcenteronline.com/people/v2/me", "data.id",
     "data.attributes.name", NULL, NULL, NULL, "data.attributes.avatar",
     "data.attributes.status", "active", 0},
    {"spotify", "Spotify", "#1db954", true, "user-read-private",
     "https://accounts.spotify.com/authorize",
     "https://accounts.spotify.com/api/token",
     "https://api.spotify.com/v1/me", "id", "display_name", NULL, NULL, NULL,
     "images.0.url", NULL, NULL, 0},
    {"strava", "Strava", "#fc4c02", true, "profile:read_all",
     "https://www.strava.com/oauth/authorize",
     "https://www.strava.com/api/v3/oauth/token",
     "https://www.strava.com/api/v3/athlete", "id", NULL, "username", NULL,
     NULL, "profile", NULL, NULL, SP_STRAVA},
    {"twitch", "Twitch", "#9146ff", true, "user:read:email",
     "https://id.twitch.tv/oauth2/authorize",
     "https://id.twitch.tv/oauth2/token", "https://api.twitch.tv/helix/users",
     "data.0.id", "data.0.display_name", "data.0.login", "data.0.email", NULL,
     "data.0.profile_image_url", NULL, NULL, SP_CLIENT_ID_HEADER},
    {"twitter", "X/Twitter", "#000000", true,
     "users.read users.email tweet.read offline.access",
     "https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token",
     "https://api.x.com/2/users/me?user.fields=id,name,username,"
     "profile_image_url,confirmed_email",
     "data.id", "data.name", "data.username", "data.confirmed_email", NULL,
     "data.profile_image_url", NULL, NULL, 0},
    {"wakatime", "WakaTime", "#1f2937", true, "email",
     "https://wakatime.com/oauth/authorize", "https://wakatime.com/oauth/token",
     "https://wakatime.com/api/v1/users/current", "data.id",
     "data.display_name", "data.username", "data.email",
     "data.is_email_confirmed", "data.photo", NULL, NULL, 0},
    {"yandex", "Yandex", "#fc3f1d", true, "login:email login:avatar login:info",
     "https://oauth.yandex.com/authorize", "https://oauth.yandex.com/token",
     "https://login.yandex.ru/info", "id", "real_name", "login",
     "default_email", NULL, NULL, NULL, NULL, SP_YANDEX},
};

#define NPROVIDERS (sizeof PROVIDERS / sizeof PROVIDERS[0])

static const bs_oauth2_provider *find_provider(const char *name)
{
    for (size_t i = 0; name && i < NPROVIDERS; i++) {
        if (strcmp(PROVIDERS[i].name, name) == 0)
            return &PROVIDERS[i];
    }
    return NULL;
}

bool bs_oauth2_provider_known(const char *name)
{
    return find_provider(name) != NULL;
}

static const char *nonempty(const json_object *o, const char *key,
                            const char *def)
{
    const char *v = bs_json_get_str(o, key, "");
    return *v ? v : def;
}

int bs_oauth2_config_init(bs_oauth2_config *cfg, const json_object *entry)
{
    memset(cfg, 0, sizeof *cfg);
    const char *name = bs_json_get_str(entry, "name", "");
    const bs_oauth2_provider *p = find_provider(name);
    if (!p)
        return BS_EINVAL;
    cfg->provider = p;
    cfg->name = name;
    cfg->client_id = bs_json_get_str(entry, "clientId", "");
    cfg->client_secret = bs_json_get_str(entry, "clientSecret", "");
    cfg->auth_url = nonempty(entry, "authURL", p->auth_url);
    cfg->token_url = nonempty(entry, "tokenURL", p->token_url);
    cfg->user_info_url = nonempty(entry, "userInfoURL", p->user_info_url);
    cfg->display_name = nonempty(entry, "displayName", p->display);
    json_object *pkce = bs_json_get(entry, "pkce");
    cfg->pkce = pkce && json_object_is_type(pkce, json_type_boolean)
                    ? json_object_get_boolean(pkce)
                    : p->pkce;
    cfg->extra = bs_json_get(entry, "extra");
    if (!*cfg->client_id || !*cfg->auth_url || !*cfg->token_url)
        return BS_EINVAL;
    return 0;
}

bool bs_oauth2_config_find(const json_object *options, const char *name,
                           bs_oauth2_config *cfg)
{
    json_object *list = bs_json_get(bs_json_get(options, "oauth2"),
                                    "providers");
    size_t n = list && json_object_is_type(list, json_type_array)
                   ? json_object_array_length(list)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        if (strcmp(bs_json_get_str(e, "name", ""), name ? name : "") == 0)
            return bs_oauth2_config_init(cfg, e) == 0;
    }
    return false;
}

const char *bs_oauth2_logo(const bs_oauth2_config *cfg)
{
    /* A plain badge per provider: a rounded square in the provider's
     * color with its initial (no third-party artwork is shipped). */
    static __thread char buf[400];
    const bs_oauth2_provider *p = cfg->provider;
    char initial = p->display[0] >= 'a' && p->display[0] <= 'z'
                       ? (char)(p->display[0] - 32)
                       : p->display[0];
    if ((unsigned char)initial >= 0x80)
        initial = (char)(p->name[0] - 32);
    snprintf(buf, sizeof buf,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" "
             "height=\"64\" viewBox=\"0 0 64 64\"><rect width=\"64\" "
             "height=\"64\" rx=\"14\" fill=\"%s\"/><text x=\"32\" y=\"44\" "
             "font-family=\"sans-serif\" font-size=\"34\" font-weight=\"bold\" "
             "text-anchor=\"middle\" fill=\"#fff\">%c</text></svg>",
             p->color, initial);
    return buf;
}

/* ---- URLs --------------------------------------------------------------- */

static void url_escape(bs_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            bs_buf_putc(b, (char)c);
        } else if (c == ' ') {
            bs_buf_putc(b, '+');
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            bs_buf_append(b, e, 3);
        }
    }
}

static void param(bs_buf *b, bool *first, const char *k, const char *v)
{
    bs_buf_putc(b, *first ? (strchr(b->data ? b->data : "", '?') ? '&' : '?')
                          : '&');
    *first = false;
    url_escape(b, k);
    bs_buf_putc(b, '=');
    url_escape(b, v);
}

void bs_oauth2_s256(const char *verifier, bs_buf *out)
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)verifier, strlen(verifier), d);
    bs_base64url_encode(d, sizeof d, out);
}

/* The scopes of the config: extra.scopes is not a PocketBase option, the
 * provider defaults apply (Microsoft adds openid for id_token emails). */
static void scopes_of(const bs_oauth2_config *cfg, bs_buf *out)
{
    bs_buf_puts(out, cfg->provider->scopes);
    if (strcmp(cfg->provider->name, "microsoft") == 0 &&
        *bs_json_get_str(cfg->extra, "idTokenEmailClaim", ""))
        bs_buf_puts(out, " openid");
}

void bs_oauth2_auth_url(const bs_oauth2_config *cfg, const char *state,
                        const char *code_challenge, bs_buf *out)
{
    /* url.Values.Encode sorts the keys. */
    bs_buf_puts(out, cfg->auth_url);
    bool first = true;
    param(out, &first, "client_id", cfg->client_id);
    if (code_challenge) {
        param(out, &first, "code_challenge", code_challenge);
        param(out, &first, "code_challenge_method", "S256");
    }
    if (strcmp(cfg->provider->name, "apple") == 0)
        param(out, &first, "response_mode", "form_post");
    param(out, &first, "response_type", "code");
    bs_buf scopes;
    bs_buf_init(&scopes);
    scopes_of(cfg, &scopes);
    if (scopes.len)
        param(out, &first, "scope", scopes.data);
    bs_buf_dispose(&scopes);
    param(out, &first, "state", state);
}

/* ---- HTTP ----------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *user)
{
    bs_buf *b = user;
    if (b->len + size * n > (8u << 20))
        return 0; /* a profile is never this large */
    bs_buf_append(b, p, size * n);
    return b->oom ? 0 : size * n;
}

/* Sends one request; fills *status and body. Returns 0 or BS_EIO. */
static int http_call(const char *method, const char *url,
                     struct curl_slist *headers, const char *body,
                     const char *userpwd, long *status, bs_buf *resp,
                     char *reason, size_t cap)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(reason, cap, "failed to initialize libcurl");
        return BS_EIO;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "basalt/" BASALT_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    }
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    }
    CURLcode res = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    if (res != CURLE_OK) {
        snprintf(reason, cap, "%s %s: %s", method, url,
                 curl_easy_strerror(res));
        return BS_EIO;
    }
    return 0;
}

typedef struct capped {
    bs_buf *b;
    uint64_t max;
} capped;

static size_t collect_capped(char *p, size_t size, size_t n, void *user)
{
    capped *c = user;
    if (c->b->len + size * n > c->max)
        return 0;
    bs_buf_append(c->b, p, size * n);
    return c->b->oom ? 0 : size * n;
}

int bs_oauth2_download(const char *url, uint64_t max, bs_buf *out,
                       char *reason, size_t cap)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(reason, cap, "failed to initialize libcurl");
        return BS_EIO;
    }
    capped w = {out, max};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "basalt/" BASALT_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_capped);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
    CURLcode res = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    int rc = 0;
    if (res != CURLE_OK) {
        snprintf(reason, cap, "failed to download %s: %s", url,
                 res == CURLE_WRITE_ERROR || res == CURLE_FILESIZE_EXCEEDED
                     ? "larger than the field's maxSize"
                     : curl_easy_strerror(res));
        rc = BS_EIO;
    } else if (status < 200 || status > 399) {
        snprintf(reason, cap, "failed to download url %s (%ld)", url, status);
        rc = BS_EIO;
    }
    if (rc) {
        bs_buf_dispose(out);
        bs_buf_init(out);
    }
    return rc;
}

/* Parses a token response: JSON, or a form-encoded body (GitHub without
 * an Accept header). Returns a new object or NULL. */
static json_object *parse_token_body(const bs_buf *b)
{
    json_object *o = NULL;
    const char *s = b->data ? b->data : "";
    if (bs_json_parse(s, b->len, &o) == 0 && o &&
        json_object_is_type(o, json_type_object))
        return o;
    if (o)
        json_object_put(o);
    o = json_object_new_object();
    const char *p = s;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq) {
            char *k = curl_easy_unescape(NULL, p, (int)(eq - p), NULL);
            char *v = curl_easy_unescape(NULL, eq + 1,
                                         (int)(n - (size_t)(eq - p) - 1),
                                         NULL);
            if (k && v) {
                for (char *q = v; *q; q++)
                    if (*q == '+')
                        *q = ' ';
                json_object_object_add(o, k, json_object_new_string(v));
            }
            curl_free(k);
            curl_free(v);
        }
        p += n + (amp ? 1 : 0);
    }
    return o;
}

static void form_field(bs_buf *b, const char *k, const char *v)
{
    if (b->len)
        bs_buf_putc(b, '&');
    url_escape(b, k);
    bs_buf_putc(b, '=');
    url_escape(b, v);
}

/* The token request; returns the token object (new reference). */
static int fetch_token(const bs_oauth2_config *cfg, const char *code,
                       const char *verifier, const char *redirect_url,
                       json_object **out, char *reason, size_t cap)
{
    *out = NULL;
    bs_buf form;
    bs_buf_init(&form);
    form_field(&form, "code", code);
    if (verifier && *verifier)
        form_field(&form, "code_verifier", verifier);
    form_field(&form, "grant_type", "authorization_code");
    if (redirect_url && *redirect_url)
        form_field(&form, "redirect_uri", redirect_url);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    /* Basic credentials are form-escaped first (RFC 6749 2.3.1). */
    bs_buf userpwd;
    bs_buf_init(&userpwd);
    url_escape(&userpwd, cfg->client_id);
    bs_buf_putc(&userpwd, ':');
    url_escape(&userpwd, cfg->client_secret);
    int rc = BS_EIO;
    json_object *tok = NULL;
    /* First with the credentials in a Basic header; a server that refuses
     * that gets them in the form (oauth2's AuthStyleAutoDetect). */
    for (int attempt = 0; attempt < 2 && !tok; attempt++) {
        bs_buf body, resp;
        bs_buf_init(&body);
        bs_buf_init(&resp);
        bs_buf_append(&body, form.data, form.len);
        if (attempt == 1) {
            form_field(&body, "client_id", cfg->client_id);
            form_field(&body, "client_secret", cfg->client_secret);
        }
        long status = 0;
        rc = http_call("POST", cfg->token_url, h, body.data ? body.data : "",
                       attempt == 0 ? userpwd.data : NULL, &status, &resp,
                       reason, cap);
        bool answered = rc == 0;
        if (rc == 0) {
            json_object *t = parse_token_body(&resp);
            if (status >= 200 && status < 300 && t &&
                *bs_json_get_str(t, "access_token", "")) {
                tok = t;
            } else {
                rc = BS_EIO;
                snprintf(reason, cap, "token request failed (%ld): %.200s",
                         status, resp.data ? resp.data : "");
                if (t)
                    json_object_put(t);
            }
        }
        bs_buf_dispose(&body);
        bs_buf_dispose(&resp);
        if (!answered)
            break;
    }
    curl_slist_free_all(h);
    if (userpwd.data)
        explicit_bzero(userpwd.data, userpwd.len);
    bs_buf_dispose(&userpwd);
    bs_buf_dispose(&form);
    if (!tok)
        return BS_EIO;
    *out = tok;
    return 0;
}

/* ---- profiles --------------------------------------------------------------- */

/* The value at a dotted path ("data.0.email"), or NULL. */
static json_object *jpath(const json_object *o, const char *path)
{
    if (!path || !*path)
        return NULL;
    json_object *cur = (json_object *)o;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char seg[128];
        if (n >= sizeof seg)
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (json_object_is_type(cur, json_type_array)) {
            char *end;
            long idx = strtol(seg, &end, 10);
            if (*end || idx < 0 ||
                (size_t)idx >= json_object_array_length(cur))
                return NULL;
            cur = json_object_array_get_idx(cur, (size_t)idx);
        } else if (json_object_is_type(cur, json_type_object)) {
            if (!json_object_object_get_ex(cur, seg, &cur))
                return NULL;
        } else {
            return NULL;
        }
        p += n + (dot ? 1 : 0);
    }
    return cur;
}

/* A profile value as text: strings as they are, integers in decimal. */
static void text_of(const json_object *v, bs_buf *out)
{
    if (!v)
        return;
    switch (json_object_get_type(v)) {
    case json_type_string:
        bs_buf_puts(out, json_object_get_string((json_object *)v));
        break;
    case json_type_int:
        bs_buf_printf(out, "%lld", (long long)json_object_get_int64(v));
        break;
    case json_type_double:
        bs_buf_json_num(out, json_object_get_double(v));
        break;
    case json_type_boolean:
        bs_buf_puts(out, json_object_get_boolean(v) ? "true" : "false");
        break;
    default:
        break;
    }
}

/* cast.ToBool: booleans, "true"/"1"/"t", non-zero numbers. A non-empty
 * date string (GitLab's confirmed_at) also counts. */
static bool truthy(const json_object *v)
{
    if (!v)
        return false;
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return json_object_get_boolean(v);
    case json_type_int:
    case json_type_double:
        return json_object_get_double(v) != 0;
    case json_type_string: {
        const char *s = json_object_get_string((json_object *)v);
        return *s && strcasecmp(s, "false") != 0 && strcmp(s, "0") != 0 &&
               strcasecmp(s, "f") != 0;
    }
    default:
        return false;
    }
}

static bool email_format(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && !strchr(at + 1, '@') &&
           strchr(at + 1, '.') && !strpbrk(s, " \t\r\n<>");
}

static void set_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void set_path(json_object *user, const char *k, const json_object *raw,
                     const char *path)
{
    bs_buf b;
    bs_buf_init(&b);
    text_of(jpath(raw, path), &b);
    set_str(user, k, b.data ? b.data : "");
    bs_buf_dispose(&b);
}

/* Decodes the claims of a JWT without checking it (any algorithm). */
static json_object *jwt_claims(const char *jwt, json_object **header)
{
    const char *d1 = strchr(jwt, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strlen(jwt) > 16384)
        return NULL;
    unsigned char buf[16384];
    json_object *claims = NULL;
    long n = bs_base64url_decode_lenient(d1 + 1, (size_t)(d2 - d1 - 1),
                                         buf, sizeof buf);
    if (n <= 0 || bs_json_parse((const char *)buf, (size_t)n, &claims) != 0 ||
        !claims || !json_object_is_type(claims, json_type_object)) {
        if (claims)
            json_object_put(claims);
        return NULL;
    }
    if (header) {
        *header = NULL;
        n = bs_base64url_decode_lenient(jwt, (size_t)(d1 - jwt), buf,
                                        sizeof buf);
        if (n > 0)
            bs_json_parse((const char *)buf, (size_t)n, header);
    }
    return claims;
}

static bool aud_has(const json_object *claims, const char *client_id)
{
    json_object *aud = bs_json_get(claims, "aud");
    if (!aud)
        return false;
    if (json_object_is_type(aud, json_type_string))
        return strcmp(json_object_get_string(aud), client_id) == 0;
    if (json_object_is_type(aud, json_type_array)) {
        size_t n = json_object_array_length(aud);
        for (size_t i = 0; i < n; i++) {
            const char *a =
                json_object_get_string(json_object_array_get_idx(aud, i));
            if (a && strcmp(a, client_id) == 0)
                return true;
        }
    }
    return false;
}

bool bs_oauth2_jwks_verify(const char *jwt, const json_object *jwks)
{
    json_object *header = NULL;
    json_object *claims = jwt_claims(jwt, &header);
    bool ok = false;
    if (!claims || !header ||
        strcmp(bs_json_get_str(header, "alg", ""), "RS256") != 0)
        goto done;
    const char *kid = bs_json_get_str(header, "kid", "");
    json_object *keys = bs_json_get(jwks, "keys");
    size_t nk = keys && json_object_is_type(keys, json_type_array)
                    ? json_object_array_length(keys)
                    : 0;
    const char *d2 = strrchr(jwt, '.');
    unsigned char sig[1024];
    long sn = bs_base64url_decode_lenient(d2 + 1, strlen(d2 + 1), sig,
                                          sizeof sig);
    if (sn <= 0)
        goto done;
    for (size_t i = 0; i < nk && !ok; i++) {
        json_object *k = json_object_array_get_idx(keys, i);
        if (strcmp(bs_json_get_str(k, "kty", ""), "RSA") != 0 ||
            (*kid && strcmp(bs_json_get_str(k, "kid", ""), kid) != 0))
            continue;
        unsigned char nb[1024], eb[16];
        const char *ns = bs_json_get_str(k, "n", ""), *es = bs_json_get_str(k, "e", "");
        long nn = bs_base64url_decode_lenient(ns, strlen(ns), nb, sizeof nb);
        long en = bs_base64url_decode_lenient(es, strlen(es), eb, sizeof eb);
        if (nn <= 0 || en <= 0)
            continue;
        BIGNUM *bn_n = BN_bin2bn(nb, (int)nn, NULL);
        BIGNUM *bn_e = BN_bin2bn(eb, (int)en, NULL);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *pctx = NULL;
        EVP_PKEY *pkey = NULL;
        EVP_MD_CTX *md = NULL;
        if (bn_n && bn_e && bld &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) &&
            (params = OSSL_PARAM_BLD_to_param(bld)) &&
            (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
            EVP_PKEY_fromdata_init(pctx) == 1 &&
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
            (md = EVP_MD_CTX_new()) &&
            EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1)
            ok = EVP_DigestVerify(md, sig, (size_t)sn,
                                  (const unsigned char *)jwt,
                                  (size_t)(d2 - jwt)) == 1;
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pkey);
        EVP_PKEY_CTX_free(pctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_free(bn_n);
        BN_free(bn_e);
    }

done:
    if (claims)
        json_object_put(claims);
    if (header)
        json_object_put(header);
    return ok;
}

#define ID_TOKEN_LEEWAY 300

/* GET url with the bearer token; the parsed JSON body in *out. */
static int get_json(const bs_oauth2_config *cfg, const char *url,
                    const char *access_token, json_object **out, long *status,
                    char *reason, size_t cap)
{
    *out = NULL;
    struct curl_slist *h = NULL;
    bs_buf auth;
    bs_buf_init(&auth);
    if (access_token) {
        bs_buf_printf(&auth, "Authorization: Bearer %s", access_token);
        h = curl_slist_append(h, auth.data);
    }
    h = curl_slist_append(h, "Accept: application/json");
    bs_buf cid;
    bs_buf_init(&cid);
    if (cfg->provider->flags & SP_CLIENT_ID_HEADER) {
        bs_buf_printf(&cid, "Client-Id: %s", cfg->client_id);
        h = curl_slist_append(h, cid.data);
    }
    bs_buf resp;
    bs_buf_init(&resp);
    int rc = http_call("GET", url, h, NULL, NULL, status, &resp, reason, cap);
    curl_slist_free_all(h);
    if (auth.data)
        explicit_bzero(auth.data, auth.len);
    bs_buf_dispose(&auth);
    bs_buf_dispose(&cid);
    if (rc == 0 && *status >= 400) {
        snprintf(reason, cap, "failed to fetch OAuth2 user profile via %s "
                              "(%ld): %.200s",
                 url, *status, resp.data ? resp.data : "");
        rc = BS_EIO;
    }
    if (rc == 0 && (bs_json_parse(resp.data ? resp.data : "", resp.len,
                                  out) != 0 || !*out)) {
        snprintf(reason, cap, "the OAuth2 profile is not JSON");
        rc = BS_EIO;
    }
    bs_buf_dispose(&resp);
    return rc;
}

/* The claims of the token response's id_token, checked like PocketBase
 * checks them for Apple and OIDC. */
static int id_token_profile(const bs_oauth2_config *cfg, json_object *tok,
                            json_object **out, char *reason, size_t cap)
{
    *out = NULL;
    const char *idt = bs_json_get_str(tok, "id_token", "");
    if (!*idt) {
        snprintf(reason, cap, "empty id_token");
        return BS_EINVAL;
    }
    json_object *claims = jwt_claims(idt, NULL);
    if (!claims) {
        snprintf(reason, cap, "invalid id_token");
        return BS_EINVAL;
    }
    bool apple = cfg->provider->flags & SP_APPLE;
    int64_t now = (int64_t)time(NULL);
    json_object *exp = bs_json_get(claims, "exp");
    json_object *iat = bs_json_get(claims, "iat");
    const char *err = NULL;
    if (apple && !exp)
        err = "id_token: exp is required";
    else if (exp && json_object_get_int64(exp) + ID_TOKEN_LEEWAY < now)
        err = "id_token: expired";
    else if (iat && json_object_get_int64(iat) - ID_TOKEN_LEEWAY > now)
        err = "id_token: issued in the future";
    else if (!aud_has(claims, cfg->client_id))
        err = "id_token: aud does not match the client id";
    else if (apple && strcmp(bs_json_get_str(claims, "iss", ""),
                             "https://appleid.apple.com") != 0)
        err = "id_token: invalid issuer";
    json_object *issuers = bs_json_get(cfg->extra, "issuers");
    if (!err && !apple && issuers &&
        json_object_is_type(issuers, json_type_array) &&
        json_object_array_length(issuers) > 0) {
        bool found = false;
        const char *iss = bs_json_get_str(claims, "iss", "");
        for (size_t i = 0; i < json_object_array_length(issuers); i++) {
            const char *v = json_object_get_string(
                json_object_array_get_idx(issuers, i));
            if (v && strcmp(v, iss) == 0)
                found = true;
        }
        if (!found)
            err = "id_token: iss is not one of the allowed issuers";
    }
    const char *jwks_url =
        apple ? "https://appleid.apple.com/auth/keys"
              : bs_json_get_str(cfg->extra, "jwksURL", "");
    if (!err && *jwks_url) {
        json_object *jwks = NULL;
        long status = 0;
        if (get_json(cfg, jwks_url, NULL, &jwks, &status, reason, cap) != 0)
            err = "id_token: failed to fetch the JWKS";
        else if (!bs_oauth2_jwks_verify(idt, jwks))
            err = "id_token: invalid signature";
        if (jwks)
            json_object_put(jwks);
    }
    if (err) {
        snprintf(reason, cap, "%s", err);
        json_object_put(claims);
        return BS_EINVAL;
    }
    *out = claims;
    return 0;
}

/* The verified primary email from <userinfo>/emails (GitHub, Gitea,
 * Bitbucket). An answer of 401/403/404 means no email. */
static void fetch_primary_email(const bs_oauth2_config *cfg,
                                const char *access_token, json_object *user)
{
    bool bitbucket = cfg->provider->flags & SP_EMAILS_BITBUCKET;
    bs_buf url;
    bs_buf_init(&url);
    bs_buf_printf(&url, "%s/emails", cfg->user_info_url);
    json_object *list = NULL;
    long status = 0;
    char reason[256];
    if (get_json(cfg, url.data, access_token, &list, &status, reason,
                 sizeof reason) == 0) {
        json_object *items = bitbucket ? bs_json_get(list, "values") : list;
        size_t n = items && json_object_is_type(items, json_type_array)
                       ? json_object_array_length(items)
                       : 0;
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(items, i);
            bool primary = truthy(bs_json_get(e, bitbucket ? "is_primary"
                                                           : "primary"));
            bool verified = truthy(bs_json_get(e, bitbucket ? "is_confirmed"
                                                            : "verified"));
            if (primary && verified) {
                set_str(user, "email", bs_json_get_str(e, "email", ""));
                break;
            }
        }
    }
    if (list)
        json_object_put(list);
    bs_buf_dispose(&url);
}

int bs_oauth2_fetch_user(const bs_oauth2_config *cfg, const char *code,
                         const char *code_verifier, const char *redirect_url,
                         json_object **user_out, bool *token_failed,
                         char *reason, size_t cap)
{
    *user_out = NULL;
    *token_failed = true;
    const bs_oauth2_provider *p = cfg->provider;
    json_object *tok = NULL;
    int rc = fetch_token(cfg, code, cfg->pkce ? code_verifier : NULL,
                         redirect_url, &tok, reason, cap);
    if (rc)
        return rc;
    *token_failed = false;
    const char *access = bs_json_get_str(tok, "access_token", "");
    json_object *raw = NULL;
    long status = 0;
    if ((p->flags & SP_APPLE) ||
        ((p->flags & SP_OIDC) && !*cfg->user_info_url))
        rc = id_token_profile(cfg, tok, &raw, reason, cap);
    else if (!*cfg->user_info_url) {
        snprintf(reason, cap, "missing user info URL");
        rc = BS_EINVAL;
    } else
        rc = get_json(cfg, cfg->user_info_url, access, &raw, &status, reason,
                      cap);
    if (rc) {
        json_object_put(tok);
        return rc;
    }
    if (!json_object_is_type(raw, json_type_object)) {
        snprintf(reason, cap, "the OAuth2 profile is not an object");
        json_object_put(raw);
        json_object_put(tok);
        return BS_EINVAL;
    }
    if (p->active) {
        json_object *a = jpath(raw, p->active);
        bool ok = p->active_value ? (a && strcmp(json_object_get_string(a),
                                                 p->active_value) == 0)
                                  : truthy(a);
        if (!ok) {
            snprintf(reason, cap, "the OAuth2 user is not active");
            json_object_put(raw);
            json_object_put(tok);
            return BS_EINVAL;
        }
    }
    json_object *user = json_object_new_object();
    set_path(user, "id", raw, p->id);
    set_path(user, "name", raw, p->name_path);
    set_path(user, "username", raw, p->username);
    set_path(user, "avatarURL", raw, p->avatar);
    set_str(user, "email", "");
    if (p->email) {
        json_object *ev = jpath(raw, p->email);
        bool ok = !p->verified || truthy(jpath(raw, p->verified));
        if ((p->flags & SP_EMAIL_FORMAT) && ev &&
            !email_format(json_object_get_string(ev)))
            ok = false;
        if (ok)
            set_path(user, "email", raw, p->email);
    }
    if (p->flags & (SP_EMAILS_GITHUB | SP_EMAILS_BITBUCKET))
        fetch_primary_email(cfg, access, user);
    if (p->flags & SP_DISCORD) {
        const char *id = bs_json_get_str(raw, "id", "");
        const char *av = bs_json_get_str(raw, "avatar", "");
        bs_buf b;
        bs_buf_init(&b);
        if (*av)
            bs_buf_printf(&b, "https://cdn.discordapp.com/avatars/%s/%s.png",
                          id, av);
        set_str(user, "avatarURL", b.data ? b.data : "");
        bs_buf_reset(&b);
        const char *name = bs_json_get_str(raw, "global_name", "");
        if (!*name) {
            const char *disc = bs_json_get_str(raw, "discriminator", "");
            bs_buf_puts(&b, bs_json_get_str(raw, "username", ""));
            if (*disc && strcmp(disc, "0") != 0)
                bs_buf_printf(&b, "#%s", disc);
            set_str(user, "name", b.data ? b.data : "");
        }
        bs_buf_dispose(&b);
    }
    if (p->flags & SP_STRAVA) {
        bs_buf b;
        bs_buf_init(&b);
        bs_buf_printf(&b, "%s %s", bs_json_get_str(raw, "firstname", ""),
                      bs_json_get_str(raw, "lastname", ""));
        set_str(user, "name", b.data);
        bs_buf_dispose(&b);
    }
    if ((p->flags & SP_YANDEX) &&
        !bs_json_get_bool(raw, "is_avatar_empty", true)) {
        bs_buf b;
        bs_buf_init(&b);
        bs_buf_printf(&b, "https://avatars.yandex.net/get-yapic/%s/islands-200",
                      bs_json_get_str(raw, "default_avatar_id", ""));
        set_str(user, "avatarURL", b.data);
        bs_buf_dispose(&b);
    }
    set_str(user, "avatarUrl", bs_json_get_str(user, "avatarURL", ""));
    set_str(user, "accessToken", access);
    set_str(user, "refreshToken", bs_json_get_str(tok, "refresh_token", ""));
    int64_t expires_in = bs_json_get_int(tok, "expires_in", 0);
    if (expires_in <= 0) {
        /* Some servers send it as a string. */
        const char *s = bs_json_get_str(tok, "expires_in", "");
        expires_in = strtoll(s, NULL, 10);
    }
    char expiry[25] = "";
    if (expires_in > 0)
        bs_time_str((int64_t)time(NULL) + expires_in, 0, expiry);
    set_str(user, "expiry", expiry);
    json_object_object_add(user, "rawUser", raw);
    json_object_put(tok);
    if (!*bs_json_get_str(user, "id", "")) {
        snprintf(reason, cap, "the OAuth2 profile has no user id");
        json_object_put(user);
        return BS_EINVAL;
    }
    *user_out = user;
    return 0;
}
