/*
 * settings.c - defaults, storage, validation and public view of settings.
 */
#include "settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/rows.h"

/* The document of a fresh install, keys in PocketBase's order. */
static const char DEFAULTS[] =
    "{\"superuserIPs\":[],"
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

bs_settings *bs_settings_wrap(json_object *value)
{
    bs_settings *s = calloc(1, sizeof *s);
    if (!s) {
        json_object_put(value);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    s->value = value;
    return s;
}

static json_object *defaults_json(void)
{
    json_object *v = NULL;
    bs_json_parse(DEFAULTS, sizeof DEFAULTS - 1, &v);
    return v;
}

bs_settings *bs_settings_new_default(void)
{
    json_object *v = defaults_json();
    return v ? bs_settings_wrap(v) : NULL;
}

void bs_settings_ref(bs_settings *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void bs_settings_unref(bs_settings *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    json_object_put(s->value);
    free(s);
}

int bs_settings_load(bs_conn *conn, bs_settings **out, bool *found)
{
    *out = NULL;
    *found = false;
    json_object *v = defaults_json();
    if (!v)
        return BS_ENOMEM;
    bs_rows st;
    if (bs_rows_open(&st, conn,
                     "SELECT value FROM _params WHERE id = 'settings'", -1,
                     BS_ROWS_FIXED) != 0) {
        json_object_put(v);
        return BS_EDB;
    }
    if (bs_rows_next(&st) == 1) {
        size_t n = 0;
        const char *t = bs_rows_text(&st, 0, &n);
        json_object *stored = NULL;
        *found = true;
        if (t && bs_json_parse(t, n, &stored) == 0 && stored &&
            json_object_is_type(stored, json_type_object)) {
            bs_json_merge(v, stored);
        } else if (t) {
            bs_log('W', "stored settings are not plain JSON (encrypted?); "
                        "using the defaults");
        }
        if (stored)
            json_object_put(stored);
    }
    bs_rows_close(&st);
    *out = bs_settings_wrap(v);
    return *out ? 0 : BS_ENOMEM;
}

int bs_settings_save(bs_conn *conn, const json_object *value, bs_error *err)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_json_write(&b, value);
    char now[25];
    bs_now_str(now);
    bs_rows st;
    st = (bs_rows){0};
    int rc = BS_EDB;
    if (!b.oom &&
        bs_rows_open(&st, conn,
                     "INSERT INTO _params (id, value, created, updated) "
                     "VALUES ('settings', ?1, ?2, ?2) ON CONFLICT(id) DO "
                     "UPDATE SET value = excluded.value, updated = "
                     "excluded.updated",
                     -1, BS_ROWS_FIXED) == 0) {
        bs_rows_bind_text(&st, 1, b.data, (long)b.len);
        bs_rows_bind_text(&st, 2, now, -1);
        if (bs_rows_exec(&st) >= 0)
            rc = 0;
    }
    bs_rows_close(&st);
    bs_buf_dispose(&b);
    if (rc)
        bs_error_set(err, 400, "Failed to save the settings.");
    return rc;
}

/* ---- validation ------------------------------------------------------ */

static const char *str_at(const json_object *v, const char *obj,
                          const char *key)
{
    return bs_json_get_str(bs_json_get(v, obj), key, "");
}

static void require_len(bs_error *e, const char *path, const char *s,
                        size_t max)
{
    if (!*s) {
        bs_error_field(e, path, "validation_required", "Cannot be blank.");
    } else if (strlen(s) > max) {
        bs_error_field(e, path, "validation_length_out_of_range",
                       "The length must be between 1 and 255.");
    }
}

static bool looks_like_url(const char *s)
{
    const char *p = strstr(s, "://");
    if (!p || p == s)
        return false;
    for (const char *q = s; q < p; q++) {
        if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' &&
            *q != '.')
            return false;
    }
    return p[3] != '\0' && p[3] != '/' && !strchr(s, ' ');
}

static void check_int_min(bs_error *e, const json_object *v, const char *obj,
                          const char *key, int64_t min)
{
    json_object *o = bs_json_get(v, obj);
    json_object *x = bs_json_get(o, key);
    if (!x)
        return;
    if (!json_object_is_type(x, json_type_int) ||
        json_object_get_int64(x) < min) {
        char path[128];
        snprintf(path, sizeof path, "%s.%s", obj, key);
        char msg[64];
        snprintf(msg, sizeof msg, "Must be no less than %lld.",
                 (long long)min);
        bs_error_field(e, path, "validation_min_greater_equal_than_required",
                       msg);
    }
}

static void check_s3(bs_error *e, const json_object *s3, const char *prefix)
{
    if (!bs_json_get_bool(s3, "enabled", false))
        return;
    static const char *const req[] = {"endpoint", "bucket", "region",
                                      "accessKey", "secret"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        if (!*bs_json_get_str(s3, req[i], "")) {
            char path[128];
            snprintf(path, sizeof path, "%s.%s", prefix, req[i]);
            bs_error_field(e, path, "validation_required", "Cannot be blank.");
        }
    }
}

int bs_settings_validate(const json_object *v, bs_error *err)
{
    require_len(err, "meta.appName", str_at(v, "meta", "appName"), 255);
    const char *url = str_at(v, "meta", "appURL");
    if (!*url)
        bs_error_field(err, "meta.appURL", "validation_required",
                       "Cannot be blank.");
    else if (!looks_like_url(url))
        bs_error_field(err, "meta.appURL", "validation_is_url",
                       "Must be a valid URL.");
    require_len(err, "meta.senderName", str_at(v, "meta", "senderName"), 255);
    const char *sender = str_at(v, "meta", "senderAddress");
    if (!*sender)
        bs_error_field(err, "meta.senderAddress", "validation_required",
                       "Cannot be blank.");
    else if (!bs_email_valid(sender))
        bs_error_field(err, "meta.senderAddress", "validation_is_email",
                       "Must be a valid email address.");
    const char *accent = str_at(v, "meta", "accentColor");
    if (*accent && (strlen(accent) != 7 || accent[0] != '#'))
        bs_error_field(err, "meta.accentColor", "validation_is_hex_color",
                       "Must be a valid hex color code.");

    json_object *smtp = bs_json_get(v, "smtp");
    if (bs_json_get_bool(smtp, "enabled", false)) {
        if (!*bs_json_get_str(smtp, "host", ""))
            bs_error_field(err, "smtp.host", "validation_required",
                           "Cannot be blank.");
        if (bs_json_get_int(smtp, "port", 0) == 0)
            bs_error_field(err, "smtp.port", "validation_required",
                           "Cannot be blank.");
    }
    const char *am = bs_json_get_str(smtp, "authMethod", "");
    if (*am && strcmp(am, "PLAIN") != 0 && strcmp(am, "LOGIN") != 0)
        bs_error_field(err, "smtp.authMethod", "validation_in_invalid",
                       "Must be a valid value.");
    check_int_min(err, v, "smtp", "port", 0);
    check_s3(err, bs_json_get(v, "s3"), "s3");
    check_s3(err, bs_json_get(bs_json_get(v, "backups"), "s3"), "backups.s3");
    check_int_min(err, v, "logs", "maxDays", 0);
    check_int_min(err, v, "batch", "maxRequests", 0);
    check_int_min(err, v, "batch", "timeout", 0);
    check_int_min(err, v, "batch", "maxBodySize", 0);
    json_object *batch = bs_json_get(v, "batch");
    if (bs_json_get_bool(batch, "enabled", false)) {
        if (bs_json_get_int(batch, "maxRequests", 0) == 0)
            bs_error_field(err, "batch.maxRequests", "validation_required",
                           "Cannot be blank.");
        if (bs_json_get_int(batch, "timeout", 0) == 0)
            bs_error_field(err, "batch.timeout", "validation_required",
                           "Cannot be blank.");
    }
    if (bs_error_has_fields(err))
        return bs_error_set(err, 400, "An error occurred while validating "
                                      "the submitted data.");
    return 0;
}

json_object *bs_settings_public(const json_object *value)
{
    json_object *copy = NULL;
    if (json_object_deep_copy((json_object *)value, &copy, NULL) != 0)
        return NULL;
    json_object_object_del(bs_json_get(copy, "smtp"), "password");
    json_object_object_del(bs_json_get(copy, "s3"), "secret");
    json_object_object_del(bs_json_get(bs_json_get(copy, "backups"), "s3"),
                           "secret");
    return copy;
}
