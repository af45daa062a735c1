/*
 * oauth2.h - OAuth2 / OpenID Connect providers for auth-with-oauth2.
 *
 * An auth collection lists provider configs in options.oauth2.providers:
 * {"name", "clientId", "clientSecret", "authURL", "tokenURL",
 * "userInfoURL", "displayName", "pkce", "extra"}. The name picks one of
 * the built-in providers (PocketBase's names: "google", "github",
 * "gitlab", "microsoft", "discord", "apple", "oidc", "oidc2", "oidc3",
 * ...), which supplies the default endpoints, scopes, PKCE support and
 * the way its user profile maps onto the common user shape; the URLs and
 * the display name of the config override the defaults.
 *
 * The common user is a json object shaped like PocketBase's AuthUser:
 * id, name, username, email (only when the provider says it is
 * verified), avatarURL (and the legacy avatarUrl), rawUser (the
 * provider's profile), accessToken, refreshToken, expiry.
 *
 * Network calls go through libcurl with timeouts; they block the calling
 * thread. Every function may be called from any thread.
 */
#ifndef BS_OAUTH2_H
#define BS_OAUTH2_H

#include <json-c/json.h>
#include <stdbool.h>

#include "../base/buf.h"

typedef struct bs_oauth2_provider bs_oauth2_provider;

/* A collection's provider config resolved against its provider. The
 * strings point into the config json (or static defaults) and live as
 * long as it does. */
typedef struct bs_oauth2_config {
    const bs_oauth2_provider *provider;
    const char *name;
    const char *client_id;
    const char *client_secret;
    const char *auth_url;
    const char *token_url;
    const char *user_info_url;
    const char *display_name;
    bool pkce;
    const json_object *extra;
} bs_oauth2_config;

/* Whether name is a known provider (also for _externalAuths.provider). */
bool bs_oauth2_provider_known(const char *name);

/* Resolves one entry of options.oauth2.providers. Returns 0, or
 * BS_EINVAL for an unknown provider or a config missing its client id or
 * required endpoints. */
int bs_oauth2_config_init(bs_oauth2_config *cfg, const json_object *entry);

/* Finds the config named `name` among a collection's options (its
 * "oauth2" object must be enabled for this to matter; this only looks
 * the name up). */
bool bs_oauth2_config_find(const json_object *options, const char *name,
                           bs_oauth2_config *cfg);

/* The provider's logo (an SVG document) for auth-methods. */
const char *bs_oauth2_logo(const bs_oauth2_config *cfg);

/* Appends the authorization URL (without redirect_uri: the client adds
 * it), with response_type=code, client_id, scope and state, plus the
 * S256 challenge when code_challenge is given and Apple's form_post. */
void bs_oauth2_auth_url(const bs_oauth2_config *cfg, const char *state,
                        const char *code_challenge, bs_buf *out);

/* The PKCE S256 challenge of a verifier (base64url of SHA-256). */
void bs_oauth2_s256(const char *verifier, bs_buf *out);

/* Exchanges the authorization code for a token and fetches the user.
 * Returns 0 and a new user object in *user, or a negative code with a
 * short English reason in reason[0..cap); *token_failed tells whether
 * the code exchange itself failed (else the profile did). */
int bs_oauth2_fetch_user(const bs_oauth2_config *cfg, const char *code,
                         const char *code_verifier, const char *redirect_url,
                         json_object **user, bool *token_failed,
                         char *reason, size_t cap);

/* Verifies an RS256 JWT against the keys of a JWKS document (the "keys"
 * array of RSA keys with kid, n and e). Returns true when one key with
 * the token's kid validates the signature. */
bool bs_oauth2_jwks_verify(const char *jwt, const json_object *jwks);

/* Downloads a provider's avatar (http or https, redirects followed, 15 s
 * at most, as PocketBase allows) into out. A body over max bytes, a
 * status outside 200-399 or a transfer error fails: returns BS_EIO with
 * a short reason, out then empty. */
int bs_oauth2_download(const char *url, uint64_t max, bs_buf *out,
                       char *reason, size_t cap);

#endif
