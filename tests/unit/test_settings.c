/*
 * test_settings.c - the default settings document, validation and the
 * public view.
 *
 * The expected default document is what PocketBase v0.39 stores for a
 * fresh install: json.Marshal of core.settings from newDefaultSettings()
 * (core/settings_model.go). There SuperuserIPs is a nil []string, printed
 * as null, and S3Config.Secret is tagged `json:"secret,omitempty"`.
 */
#include <stdlib.h>

#include "base/error.h"
#include "base/json.h"
#include "core/settings.h"
#include "harness.h"

static const char PB_DEFAULTS_HEAD[] = "{\"superuserIPs\":";

static const char PB_DEFAULTS_REST[] =
    "\"smtp\":{\"enabled\":false,\"port\":587,\"host\":\"smtp.example.com\","
    "\"username\":\"\",\"password\":\"\",\"authMethod\":\"\",\"tls\":false,"
    "\"localName\":\"\"},"
    "\"backups\":{\"cron\":\"\",\"cronMaxKeep\":3,\"s3\":{\"enabled\":false,"
    "\"bucket\":\"\",\"region\":\"\",\"endpoint\":\"\",\"accessKey\":\"\","
    "\"forcePathStyle\":false}},"
    "\"s3\":{\"enabled\":false,\"bucket\":\"\",\"region\":\"\",\"endpoint\":"
    "\"\",\"accessKey\":\"\",\"forcePathStyle\":false},"
    "\"meta\":{\"accentColor\":\"#1055c9\",\"appName\":\"Acme\",\"appURL\":"
    "\"http://localhost:8090\",\"senderName\":\"Support\",\"senderAddress\":"
    "\"support@example.com\",\"hideControls\":false},"
    "\"rateLimits\":{\"rules\":["
    "{\"label\":\"*:auth\",\"audience\":\"\",\"duration\":3,\"maxRequests\":2},"
    "{\"label\":\"*:create\",\"audience\":\"\",\"duration\":5,"
    "\"maxRequests\":20},"
    "{\"label\":\"/api/batch\",\"audience\":\"\",\"duration\":1,"
    "\"maxRequests\":3},"
    "{\"label\":\"/api/\",\"audience\":\"\",\"duration\":10,"
    "\"maxRequests\":300}],\"excludedIPs\":[],\"enabled\":false},"
    "\"trustedProxy\":{\"headers\":[],\"useLeftmostIP\":false},"
    "\"batch\":{\"enabled\":false,\"maxRequests\":50,\"timeout\":3,"
    "\"maxBodySize\":0},"
    "\"logs\":{\"maxDays\":5,\"minLevel\":0,\"logIP\":true,"
    "\"logAuthId\":false}}";

static char *write_doc(const json_object *v)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_json_write(&b, v);
    return bs_buf_steal(&b, NULL);
}

/* A fresh copy of the defaults to change and validate. */
static json_object *defaults(void)
{
    bs_settings *s = bs_settings_new_default();
    if (!s)
        return NULL;
    json_object *copy = NULL;
    json_object_deep_copy(s->value, &copy, NULL);
    bs_settings_unref(s);
    return copy;
}

static void set_str(json_object *v, const char *obj, const char *key,
                    const char *val)
{
    json_object_object_add(bs_json_get(v, obj), key,
                           json_object_new_string(val));
}

static const char *field_code(const bs_error *e, const char *obj,
                              const char *key)
{
    json_object *f = bs_json_get(bs_json_get(e->data, obj), key);
    return bs_json_get_str(f, "code", NULL);
}

TEST(defaults_top_level_key_order)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    static const char *const keys[] = {"superuserIPs", "smtp", "backups",
                                       "s3", "meta", "rateLimits",
                                       "trustedProxy", "batch", "logs"};
    int i = 0, wrong = 0;
    json_object_object_foreach(v, k, val) {
        (void)val;
        if (i >= 9 || strcmp(k, keys[i]) != 0)
            wrong++;
        i++;
    }
    CHECK(i == 9);
    CHECK(wrong == 0);
    json_object_put(v);
}

/* Everything after superuserIPs, byte for byte. */
TEST(defaults_written_like_pocketbase)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    char *s = write_doc(v);
    REQUIRE(s != NULL);
    CHECK(strncmp(s, PB_DEFAULTS_HEAD, strlen(PB_DEFAULTS_HEAD)) == 0);
    const char *rest = strstr(s, "\"smtp\":");
    REQUIRE(rest != NULL);
    CHECK_STR(rest, PB_DEFAULTS_REST);
    free(s);
    json_object_put(v);
}

/* PocketBase serializes a nil SuperuserIPs as an empty array when it
 * stores the settings (settings_model.go, DBExport). */
TEST(defaults_superuser_ips_empty_array_like_pocketbase)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    char *s = write_doc(v);
    REQUIRE(s != NULL);
    CHECK(strncmp(s, "{\"superuserIPs\":[],\"smtp\":", 26) == 0);
    free(s);
    json_object_put(v);
}

TEST(defaults_validate)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == 0);
    CHECK(!bs_error_has_fields(&e));
    CHECK(e.status == 0);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(empty_app_name_is_required)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    set_str(v, "meta", "appName", "");
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK(e.status == 400);
    CHECK_STR(e.message, "An error occurred while validating the submitted "
                         "data.");
    CHECK_STR(field_code(&e, "meta", "appName"), "validation_required");
    json_object *f = bs_json_get(bs_json_get(e.data, "meta"), "appName");
    CHECK_STR(bs_json_get_str(f, "message", ""), "Cannot be blank.");
    /* Only that field is reported. */
    CHECK(json_object_object_length(e.data) == 1);
    CHECK(json_object_object_length(bs_json_get(e.data, "meta")) == 1);
    /* The error body PocketBase sends for it. */
    bs_buf b;
    bs_buf_init(&b);
    bs_error_write_json(&e, &b);
    CHECK_STR(b.data, "{\"data\":{\"meta\":{\"appName\":{\"code\":"
                      "\"validation_required\",\"message\":\"Cannot be "
                      "blank.\"}}},\"message\":\"An error occurred while "
                      "validating the submitted data.\",\"status\":400}\n");
    bs_buf_dispose(&b);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(app_name_too_long)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    char name[300];
    memset(name, 'n', 256);
    name[256] = '\0';
    set_str(v, "meta", "appName", name);
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "meta", "appName"),
              "validation_length_out_of_range");
    bs_error_dispose(&e);
    name[255] = '\0';
    set_str(v, "meta", "appName", name);
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == 0);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(bad_urls)
{
    static const char *const bad[] = {"not a url", "localhost:8090",
                                      "://x", "http://", "http:///path",
                                      "http://exa mple.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *v = defaults();
        REQUIRE(v != NULL);
        set_str(v, "meta", "appURL", bad[i]);
        bs_error e;
        bs_error_init(&e);
        CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
        const char *code = field_code(&e, "meta", "appURL");
        if (!code || strcmp(code, "validation_is_url") != 0) {
            fprintf(stderr, "appURL %s gave %s\n", bad[i],
                    code ? code : "(none)");
            CHECK(0);
        }
        bs_error_dispose(&e);
        json_object_put(v);
    }
    json_object *v = defaults();
    REQUIRE(v != NULL);
    set_str(v, "meta", "appURL", "");
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "meta", "appURL"), "validation_required");
    bs_error_dispose(&e);
    set_str(v, "meta", "appURL", "https://example.com:8443/base");
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == 0);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(bad_sender_address)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    set_str(v, "meta", "senderAddress", "not-an-email");
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "meta", "senderAddress"), "validation_is_email");
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(smtp_enabled_needs_host)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    json_object *smtp = bs_json_get(v, "smtp");
    json_object_object_add(smtp, "enabled", json_object_new_boolean(1));
    json_object_object_add(smtp, "host", json_object_new_string(""));
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "smtp", "host"), "validation_required");
    CHECK(field_code(&e, "smtp", "port") == NULL);
    bs_error_dispose(&e);
    /* Disabled SMTP may have an empty host. */
    json_object_object_add(smtp, "enabled", json_object_new_boolean(0));
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == 0);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(smtp_bad_auth_method_and_negative_port)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    json_object *smtp = bs_json_get(v, "smtp");
    json_object_object_add(smtp, "authMethod", json_object_new_string("MD5"));
    json_object_object_add(smtp, "port", json_object_new_int(-1));
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "smtp", "authMethod"), "validation_in_invalid");
    CHECK_STR(field_code(&e, "smtp", "port"),
              "validation_min_greater_equal_than_required");
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(s3_enabled_needs_credentials)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    json_object_object_add(bs_json_get(v, "s3"), "enabled",
                           json_object_new_boolean(1));
    json_object *bs3 = bs_json_get(bs_json_get(v, "backups"), "s3");
    json_object_object_add(bs3, "enabled", json_object_new_boolean(1));
    json_object_object_add(bs3, "bucket", json_object_new_string("b"));
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "s3", "endpoint"), "validation_required");
    CHECK_STR(field_code(&e, "s3", "secret"), "validation_required");
    json_object *be = bs_json_get(bs_json_get(e.data, "backups"), "s3");
    CHECK_STR(bs_json_get_str(bs_json_get(be, "region"), "code", ""),
              "validation_required");
    CHECK(bs_json_get(be, "bucket") == NULL);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(batch_enabled_needs_limits)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    json_object *batch = bs_json_get(v, "batch");
    json_object_object_add(batch, "enabled", json_object_new_boolean(1));
    json_object_object_add(batch, "timeout", json_object_new_int(0));
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_settings_validate(v, &e) == BS_EHTTP);
    CHECK_STR(field_code(&e, "batch", "timeout"), "validation_required");
    CHECK(field_code(&e, "batch", "maxRequests") == NULL);
    bs_error_dispose(&e);
    json_object_put(v);
}

TEST(public_view_drops_secrets)
{
    json_object *v = defaults();
    REQUIRE(v != NULL);
    set_str(v, "smtp", "password", "smtp-pass");
    set_str(v, "s3", "secret", "s3-secret");
    json_object *bs3 = bs_json_get(bs_json_get(v, "backups"), "s3");
    json_object_object_add(bs3, "secret", json_object_new_string("b-secret"));
    json_object *pub = bs_settings_public(v);
    REQUIRE(pub != NULL);
    CHECK(!json_object_object_get_ex(bs_json_get(pub, "smtp"), "password",
                                     NULL));
    CHECK(!json_object_object_get_ex(bs_json_get(pub, "s3"), "secret", NULL));
    CHECK(!json_object_object_get_ex(
        bs_json_get(bs_json_get(pub, "backups"), "s3"), "secret", NULL));
    char *s = write_doc(pub);
    CHECK(strstr(s, "smtp-pass") == NULL);
    CHECK(strstr(s, "s3-secret") == NULL);
    CHECK(strstr(s, "b-secret") == NULL);
    /* Everything else is still there. */
    CHECK(strstr(s, "\"username\":\"\"") != NULL);
    CHECK(strstr(s, "\"accessKey\":\"\"") != NULL);
    free(s);
    /* The original keeps its secrets. */
    CHECK_STR(bs_json_get_str(bs_json_get(v, "smtp"), "password", ""),
              "smtp-pass");
    CHECK_STR(bs_json_get_str(bs3, "secret", ""), "b-secret");
    json_object_put(pub);
    json_object_put(v);
}

TEST(snapshot_refcount)
{
    bs_settings *s = bs_settings_new_default();
    REQUIRE(s != NULL);
    CHECK(atomic_load(&s->refs) == 1);
    bs_settings_ref(s);
    CHECK(atomic_load(&s->refs) == 2);
    bs_settings_unref(s);
    CHECK(atomic_load(&s->refs) == 1);
    CHECK_STR(bs_json_get_str(bs_json_get(s->value, "meta"), "appName", ""),
              "Acme");
    bs_settings_unref(s);
    bs_settings_unref(NULL);
}

int main(void)
{
    RUN(defaults_top_level_key_order);
    RUN(defaults_written_like_pocketbase);
    RUN(defaults_superuser_ips_empty_array_like_pocketbase);
    RUN(defaults_validate);
    RUN(empty_app_name_is_required);
    RUN(app_name_too_long);
    RUN(bad_urls);
    RUN(bad_sender_address);
    RUN(smtp_enabled_needs_host);
    RUN(smtp_bad_auth_method_and_negative_port);
    RUN(s3_enabled_needs_credentials);
    RUN(batch_enabled_needs_limits);
    RUN(public_view_drops_secrets);
    RUN(snapshot_refcount);
    return harness_summary(__FILE__);
}
