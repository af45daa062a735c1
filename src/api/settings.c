/*
 * settings.c - GET and PATCH /api/settings (superusers only).
 *
 * PATCH merges the submitted document over the current settings,
 * validates the result, saves it in one transaction and swaps the
 * settings snapshot. Secrets are never sent back.
 */
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/regex.h"
#include "../base/util.h"
#include "../core/cluster.h"
#include "../core/events.h"
#include "../core/s3.h"
#include "../core/token.h"
#include "api.h"

static int list_final(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = ((bs_request_event *)e)->req;
    bs_settings *s = bs_app_settings(e->app);
    json_object *pub = bs_settings_public(s->value);
    bs_settings_unref(s);
    if (!pub)
        return BS_ENOMEM;
    bs_resp_json(r, 200, pub);
    json_object_put(pub);
    return 0;
}

/* Runs a settings request hook with a bs_request_event, as basalt.h
 * promises its handlers. */
static int run_hook(bs_event *e, bs_hook_id id, bs_handler_fn final)
{
    bs_req *r = (bs_req *)e;
    bs_request_event re = {.ev = {.app = e->app, .error = e->error},
                           .req = r};
    return bs_trigger_request(e->app, id, &re, final, NULL);
}

static int settings_list(bs_event *e, void *user)
{
    (void)user;
    return run_hook(e, BS_ON_SETTINGS_LIST_REQUEST, list_final);
}

static int update_final(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = ((bs_request_event *)e)->req;
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
    if (rc) {
        bs_error_set(&err, 400, "An error occurred while saving the new "
                                "settings.");
        goto done;
    }
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
    bs_ratelimiter_reset_shared(app->limiter);
    json_object_get(next);
    bs_app_set_settings(app, bs_settings_wrap(next));
    bs_cluster_notify(app, BS_CLUSTER_SETTINGS);
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
    return run_hook(e, BS_ON_SETTINGS_UPDATE_REQUEST, update_final);
}

/* POST /api/settings/test/s3: checks the request and that the chosen
 * S3 filesystem is enabled. */
static int settings_test_s3(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL;
    if (bs_req_json_body(r, &body, &err) != 0) {
        bs_resp_error(r, &err);
        goto done;
    }
    const char *fs = bs_json_get_str(body, "filesystem", "");
    if (!*fs) {
        bs_error_field(&err, "filesystem", "validation_required",
                       "Cannot be blank.");
    } else if (strcmp(fs, "storage") != 0 && strcmp(fs, "backups") != 0) {
        bs_error_field(&err, "filesystem", "validation_in_invalid",
                       "Must be a valid value.");
    }
    if (bs_error_has_fields(&err)) {
        bs_error_set(&err, 400, "Failed to test the S3 filesystem.");
        bs_resp_error(r, &err);
        goto done;
    }
    bs_settings *st = bs_app_settings(e->app);
    json_object *s3 = strcmp(fs, "backups") == 0
                          ? bs_json_get(bs_json_get(st->value, "backups"), "s3")
                          : bs_json_get(st->value, "s3");
    bool enabled = bs_json_get_bool(s3, "enabled", false);
    bs_s3 cfg;
    bool usable = enabled && bs_s3_from_json(&cfg, s3);
    bs_settings_unref(st);
    if (!enabled) {
        bs_resp_status_error(r, 400, "Failed to test the S3 filesystem. Raw "
                                     "error: \nS3 storage filesystem is not "
                                     "enabled.");
        goto done;
    }
    if (!usable) {
        bs_resp_status_error(r, 400, "Failed to initialize the S3 storage. "
                                     "Raw error: \nthe S3 settings are "
                                     "incomplete.");
        goto done;
    }
    /* As PocketBase checks: upload a file, then delete its prefix (which
     * lists the bucket too). */
    char prefix[64], key[80], rnd[6], msg[400];
    if (bs_random_string(rnd, 5, "abcdefghijklmnopqrstuvwxyz0123456789") != 0)
        snprintf(rnd, sizeof rnd, "00000");
    snprintf(prefix, sizeof prefix, "pb_settings_test_%s", rnd);
    snprintf(key, sizeof key, "%s/test.txt", prefix);
    msg[0] = '\0';
    if (bs_s3_put_data(&cfg, key, "test", 4, "text/plain; charset=utf-8",
                       NULL, msg, sizeof msg) != 0) {
        bs_resp_status_error(r, 400,
                             bs_arena_printf(&r->arena,
                                             "Failed to upload a test file. "
                                             "Raw error: \n%s",
                                             msg));
    } else {
        strcat(prefix, "/");
        if (bs_s3_delete_prefix(&cfg, prefix, msg, sizeof msg) != 0)
            bs_resp_status_error(r, 400,
                                 bs_arena_printf(&r->arena,
                                                 "Failed to delete a test "
                                                 "file. Raw error: [%s]",
                                                 msg));
        else
            bs_resp_empty(r, 204);
    }
    bs_s3_dispose(&cfg);

done:
    if (body)
        json_object_put(body);
    bs_error_dispose(&err);
    return 0;
}

/* Signs header.claims with an EC P-256 key (PEM) as ES256: the raw r||s
 * signature, base64url. Returns 0 or BS_EINVAL for an unusable key. */
static int sign_es256(const char *pem, const bs_buf *signing_input,
                      bs_buf *out)
{
    int rc = BS_EINVAL;
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                        : NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char der[128];
    size_t der_len = sizeof der;
    if (key && md && EVP_PKEY_base_id(key) == EVP_PKEY_EC &&
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, der, &der_len,
                       (const unsigned char *)signing_input->data,
                       signing_input->len) == 1) {
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
        if (sig) {
            unsigned char raw[64];
            const BIGNUM *sr, *ss;
            ECDSA_SIG_get0(sig, &sr, &ss);
            if (BN_bn2binpad(sr, raw, 32) == 32 &&
                BN_bn2binpad(ss, raw + 32, 32) == 32) {
                bs_base64url_encode(raw, sizeof raw, out);
                rc = 0;
            }
            ECDSA_SIG_free(sig);
        }
    }
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return rc;
}

/* POST /api/settings/apple/generate-client-secret: an ES256 client
 * secret for "Sign in with Apple". */
static int apple_client_secret(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL;
    if (bs_req_json_body(r, &body, &err) != 0) {
        bs_resp_error(r, &err);
        goto done;
    }
    const char *client = bs_json_get_str(body, "clientId", "");
    const char *team = bs_json_get_str(body, "teamId", "");
    const char *kid = bs_json_get_str(body, "keyId", "");
    const char *pem = bs_json_get_str(body, "privateKey", "");
    int64_t duration = bs_json_get_int(body, "duration", 0);
    if (!*client)
        bs_error_field(&err, "clientId", "validation_required",
                       "Cannot be blank.");
    if (!*team)
        bs_error_field(&err, "teamId", "validation_required",
                       "Cannot be blank.");
    else if (strlen(team) != 10)
        bs_error_field(&err, "teamId", "validation_length_invalid",
                       "The length must be exactly 10.");
    if (!*kid)
        bs_error_field(&err, "keyId", "validation_required",
                       "Cannot be blank.");
    else if (strlen(kid) != 10)
        bs_error_field(&err, "keyId", "validation_length_invalid",
                       "The length must be exactly 10.");
    if (!*pem)
        bs_error_field(&err, "privateKey", "validation_required",
                       "Cannot be blank.");
    else if (bs_regex_match("-----BEGIN PRIVATE KEY----[\\s\\S]+-----END "
                            "PRIVATE KEY-----",
                            pem, strlen(pem)) != 1)
        bs_error_field(&err, "privateKey", "validation_match_invalid",
                       "Must be in a valid format.");
    if (duration == 0)
        bs_error_field(&err, "duration", "validation_required",
                       "Cannot be blank.");
    else if (duration < 1)
        bs_error_field(&err, "duration",
                       "validation_min_greater_equal_than_required",
                       "Must be no less than 1.");
    else if (duration > 15777000)
        bs_error_field(&err, "duration",
                       "validation_max_less_equal_than_required",
                       "Must be no greater than 15777000.");
    if (bs_error_has_fields(&err)) {
        bs_error_set(&err, 400, "An error occurred while validating the "
                                "submitted data.");
        bs_resp_error(r, &err);
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    bs_buf hdr, claims, input;
    bs_buf_init(&hdr);
    bs_buf_init(&claims);
    bs_buf_init(&input);
    bs_buf_puts(&hdr, "{\"alg\":\"ES256\",\"kid\":");
    bs_buf_json_str(&hdr, kid, strlen(kid));
    bs_buf_puts(&hdr, ",\"typ\":\"JWT\"}");
    bs_buf_puts(&claims, "{\"iss\":");
    bs_buf_json_str(&claims, team, strlen(team));
    bs_buf_puts(&claims, ",\"sub\":");
    bs_buf_json_str(&claims, client, strlen(client));
    bs_buf_printf(&claims, ",\"aud\":[\"https://appleid.apple.com\"],"
                           "\"exp\":%lld,\"iat\":%lld}",
                  (long long)(now + duration), (long long)now);
    bs_base64url_encode((const unsigned char *)hdr.data, hdr.len, &input);
    bs_buf_putc(&input, '.');
    bs_base64url_encode((const unsigned char *)claims.data, claims.len,
                        &input);
    bs_buf sig;
    bs_buf_init(&sig);
    if (sign_es256(pem, &input, &sig) != 0) {
        bs_resp_status_error(r, 400, "Failed to generate client secret.");
    } else {
        bs_buf out;
        bs_buf_init(&out);
        bs_buf_puts(&out, "{\"secret\":\"");
        bs_buf_append(&out, input.data, input.len);
        bs_buf_putc(&out, '.');
        bs_buf_append(&out, sig.data, sig.len);
        bs_buf_puts(&out, "\"}\n");
        bs_resp_raw(r, 200, "application/json", out.data, out.len);
        bs_buf_dispose(&out);
    }
    bs_buf_dispose(&sig);
    bs_buf_dispose(&hdr);
    bs_buf_dispose(&claims);
    bs_buf_dispose(&input);

done:
    if (body)
        json_object_put(body);
    bs_error_dispose(&err);
    return 0;
}

int bs_api_settings_register(bs_app *app)
{
    if (!bs_api_superuser_route(app, "GET", "/api/settings", settings_list) ||
        !bs_api_superuser_route(app, "PATCH", "/api/settings",
                                settings_update) ||
        !bs_api_superuser_route(app, "POST", "/api/settings/test/s3",
                                settings_test_s3) ||
        !bs_api_superuser_route(app, "POST",
                                "/api/settings/apple/generate-client-secret",
                                apple_client_secret))
        return BS_ENOMEM;
    return 0;
}
