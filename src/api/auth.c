/*
 * auth.c - the record auth API: shared machinery, auth-methods,
 * auth-with-password, auth-refresh, impersonate, and rate limiting.
 *
 * Every auth endpoint lives under /api/collections/{collection}/ and
 * follows PocketBase's order of checks: the collection rate limit and
 * any auth requirement run as route middlewares, the handler resolves the
 * auth collection (404), checks the collection's switch for the method
 * (403, or 400 for the mail flows), reads and validates the body (400
 * with per-field errors), looks the record up, then triggers the
 * request's hook with the built-in behaviour as the final step.
 *
 * A successful login of any kind ends in auth_respond(), PocketBase's
 * recordAuthResponse: the superuser IP whitelist, the collection's
 * authRule, then the BS_ON_RECORD_AUTH_REQUEST hook whose final step
 * asks for a second factor when MFA is on (401 {"mfaId"}), enriches the
 * record (its own email always visible, hidden fields for superusers,
 * ?expand), records the login origin (alerting the owner of a login from
 * a new device) and writes {"record":...,"token":...}.
 *
 * The other endpoints live beside this file: auth_otp.c (request-otp,
 * auth-with-otp), auth_mail.c (verification, password reset, email
 * change), auth_oauth2.c (auth-with-oauth2, /api/oauth2-redirect)
 * and auth_settings.c (the settings' test email). The model hooks of the
 * auth system collections are core's (src/core/auth_models.c).
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/events.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../schema/index.h"
#include "../core/expand.h"
#include "../core/field.h"
#include "../core/mail.h"
#include "../core/oauth2.h"
#include "../core/password.h"
#include "../core/rules.h"
#include "../core/token.h"
#include "../db/query.h"
#include "../db/sql.h"
#include "auth_internal.h"
#include "middleware.h"

/* ---- the store of short-lived keys ------------------------------------------ */

static void store_purge_locked(auth_api *api, int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < api->nstore; i++) {
        if (api->store[i].expires <= now) {
            free(api->store[i].key);
            free(api->store[i].value);
        } else {
            api->store[j++] = api->store[i];
        }
    }
    api->nstore = j;
}

static ttl_entry *store_find_locked(auth_api *api, const char *key)
{
    for (size_t i = 0; i < api->nstore; i++) {
        if (strcmp(api->store[i].key, key) == 0)
            return &api->store[i];
    }
    return NULL;
}

bool auth_store_has(auth_api *api, const char *key)
{
    pthread_mutex_lock(&api->lock);
    store_purge_locked(api, bs_mono_ms());
    bool has = store_find_locked(api, key) != NULL;
    pthread_mutex_unlock(&api->lock);
    return has;
}

void auth_store_set(auth_api *api, const char *key, const char *value,
                    int64_t ttl_ms)
{
    pthread_mutex_lock(&api->lock);
    int64_t now = bs_mono_ms();
    store_purge_locked(api, now);
    ttl_entry *e = store_find_locked(api, key);
    if (!e && api->nstore == api->capstore) {
        size_t cap = api->capstore ? api->capstore * 2 : 16;
        ttl_entry *n = realloc(api->store, sizeof *n * cap);
        if (n) {
            api->store = n;
            api->capstore = cap;
        }
    }
    if (!e && api->nstore < api->capstore) {
        e = &api->store[api->nstore];
        e->key = strdup(key);
        e->value = NULL;
        if (e->key)
            api->nstore++;
        else
            e = NULL;
    }
    if (e) {
        free(e->value);
        e->value = value ? strdup(value) : NULL;
        e->expires = now + ttl_ms;
    }
    pthread_mutex_unlock(&api->lock);
}

static char *store_remove_locked(auth_api *api, const char *key)
{
    ttl_entry *e = store_find_locked(api, key);
    if (!e)
        return NULL;
    char *v = e->value;
    free(e->key);
    *e = api->store[--api->nstore];
    return v;
}

void auth_store_remove(auth_api *api, const char *key)
{
    pthread_mutex_lock(&api->lock);
    free(store_remove_locked(api, key));
    pthread_mutex_unlock(&api->lock);
}

char *auth_store_take(auth_api *api, const char *key)
{
    pthread_mutex_lock(&api->lock);
    store_purge_locked(api, bs_mono_ms());
    char *v = store_remove_locked(api, key);
    pthread_mutex_unlock(&api->lock);
    return v;
}

/* ---- request plumbing ----------------------------------------------------- */

int auth_begin(bs_req *r, auth_api *api, auth_req *ar)
{
    memset(ar, 0, sizeof *ar);
    bs_error_init(&ar->err);
    ar->r = r;
    ar->api = api;
    ar->schema = bs_app_schema(r->ev.app);
    const char *name = bs_req_param(r, "collection");
    ar->c = name ? bs_schema_find(ar->schema, name) : NULL;
    if (!ar->c || !bs_collection_is_auth(ar->c)) {
        bs_resp_status_error(r, 404, "Missing or invalid auth collection "
                                     "context.");
        return BS_ENOTFOUND;
    }
    return 0;
}

void auth_end(auth_req *ar)
{
    if (ar->have_body)
        bs_body_dispose(&ar->body);
    if (ar->info)
        json_object_put(ar->info);
    bs_error_dispose(&ar->err);
    bs_schema_unref(ar->schema);
}

void fail_loading(auth_req *ar)
{
    bs_resp_status_error(ar->r, 400, "An error occurred while loading the "
                                     "submitted data.");
}

int auth_read_body(auth_req *ar)
{
    bs_error err;
    bs_error_init(&err);
    int rc = bs_body_read(ar->r, &ar->body, &err);
    bs_error_dispose(&err);
    if (rc) {
        fail_loading(ar);
        return rc;
    }
    ar->have_body = true;
    return 0;
}

bool form_str(auth_req *ar, const char *key, const char **out)
{
    *out = "";
    json_object *v = ar->have_body ? bs_json_get(ar->body.data, key) : NULL;
    if (!v)
        return true;
    if (ar->body.form && json_object_is_type(v, json_type_array)) {
        /* A form key sent several times: the first value binds. */
        if (json_object_array_length(v) == 0)
            return true;
        v = json_object_array_get_idx(v, 0);
        if (!v)
            return true;
    }
    if (!json_object_is_type(v, json_type_string))
        return false;
    *out = json_object_get_string(v);
    return true;
}

bool check_required(bs_error *e, const char *field, const char *v)
{
    if (v && *v)
        return true;
    bs_error_field(e, field, "validation_required", "Cannot be blank.");
    return false;
}

/* Length in characters (runes), as ozzo counts it. */
static size_t rune_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool check_length(bs_error *e, const char *field, const char *v, size_t min,
                  size_t max)
{
    if (!v || !*v)
        return true; /* emptiness is Required's business */
    size_t n = rune_len(v);
    if ((min && n < min) || (max && n > max)) {
        char msg[96];
        if (min == max) {
            snprintf(msg, sizeof msg, "The length must be exactly %zu.", min);
            bs_error_field(e, field, "validation_length_invalid", msg);
        } else if (!min) {
            snprintf(msg, sizeof msg, "The length must be no more than %zu.",
                     max);
            bs_error_field(e, field, "validation_length_too_long", msg);
        } else if (!max) {
            snprintf(msg, sizeof msg, "The length must be no less than %zu.",
                     min);
            bs_error_field(e, field, "validation_length_too_short", msg);
        } else {
            snprintf(msg, sizeof msg,
                     "The length must be between %zu and %zu.", min, max);
            bs_error_field(e, field, "validation_length_out_of_range", msg);
        }
        return false;
    }
    return true;
}

bool check_email(bs_error *e, const char *field, const char *v)
{
    if (!v || !*v || bs_email_valid(v))
        return true;
    bs_error_field(e, field, "validation_is_email",
                   "Must be a valid email address.");
    return false;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void fail_validation(auth_req *ar, const char *message)
{
    /* Go marshals the errors map with sorted keys. */
    json_object *data = ar->err.data;
    if (data) {
        size_t n = (size_t)json_object_object_length(data), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        if (keys) {
            json_object_object_foreach(data, k, v) {
                (void)v;
                keys[i++] = k;
            }
            qsort(keys, n, sizeof *keys, key_cmp);
            json_object *sorted = json_object_new_object();
            for (i = 0; i < n; i++)
                json_object_object_add(
                    sorted, keys[i],
                    json_object_get(bs_json_get(data, keys[i])));
            free(keys);
            json_object_put(data);
            ar->err.data = sorted;
        }
    }
    bs_error_set(&ar->err, 400, "%s", message);
    bs_resp_error(ar->r, &ar->err);
}

json_object *auth_info(auth_req *ar)
{
    if (!ar->info) {
        ar->info = bs_rules_request_info(
            ar->r, ar->have_body ? ar->body.data : NULL);
        if (ar->info && ar->context)
            json_object_object_add(ar->info, "context",
                                   json_object_new_string(ar->context));
    }
    return ar->info;
}

void random_password(char out[31])
{
    if (bs_random_string(out, 30,
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789") != 0)
        strcpy(out, "fallback-password-never-used-0");
}

/* ---- rules and lookups ---------------------------------------------------- */

bool record_matches_rule(auth_req *ar, const bs_collection *c,
                         const char *id, const char *rule, bs_error *err)
{
    if (ar->r->auth && ar->r->auth->superuser)
        return true;
    if (!rule)
        return false;
    while (isspace((unsigned char)*rule))
        rule++;
    if (!*rule)
        return true; /* no query and no @request data for an empty rule */
    bs_rule_ctx ctx = {.app = ar->r->ev.app, .schema = ar->schema,
                       .collection = c, .alias = c->name,
                       .request = auth_info(ar)};
    return bs_rules_find_record(&ctx, id, rule, NULL, err) == 0;
}


static int find_by_field(auth_api *api, bs_schema *schema,
                         const bs_collection *c, const char *field,
                         const char *value, bool nocase, bs_record **out)
{
    bs_record_where w = {.column = field, .value = value, .nocase = nocase};
    return bs_record_find_first_where(api->app, schema, c, &w, 1, NULL, out);
}

int find_by_email(auth_api *api, bs_schema *schema, const bs_collection *c,
                  const char *email, bs_record **out)
{
    bool nocase = false;
    bs_indexes_single_unique(c->indexes, "email", &nocase);
    return find_by_field(api, schema, c, "email", email, nocase, out);
}

bool auth_value_taken(auth_req *ar, const char *field, const char *value)
{
    bool nocase = false;
    if (!bs_indexes_single_unique(ar->c->indexes, field, &nocase))
        return false;
    bs_record *other = NULL;
    int rc = find_by_field(ar->api, ar->schema, ar->c, field, value, nocase,
                           &other);
    bs_record_free(other);
    return rc == 0;
}

static bool identity_allowed(const bs_collection *c, const char *field)
{
    json_object *fields = bs_json_get(bs_json_get(c->options, "passwordAuth"),
                                      "identityFields");
    size_t n = fields && json_object_is_type(fields, json_type_array)
                   ? json_object_array_length(fields)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        const char *f =
            json_object_get_string(json_object_array_get_idx(fields, i));
        if (f && strcmp(f, field) == 0)
            return true;
    }
    return false;
}

int find_by_identity(auth_api *api, bs_schema *schema,
                     const bs_collection *c, const char *field,
                     const char *value, bs_record **out)
{
    *out = NULL;
    bool nocase = false;
    if (!identity_allowed(c, field) || !bs_collection_field(c, field) ||
        !bs_indexes_single_unique(c->indexes, field, &nocase))
        return BS_ENOTFOUND;
    return find_by_field(api, schema, c, field, value, nocase, out);
}

/* ---- the auth response ------------------------------------------------------ */

int64_t auth_date_secs(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

typedef struct respond_ctx {
    auth_req *ar;
} respond_ctx;

const bs_collection *auth_system_collection(auth_req *ar, const char *name)
{
    return bs_schema_find(ar->schema, name);
}

int auth_refs_of(auth_req *ar, const char *coll, const bs_record *rec,
                   bs_record ***out, int *n)
{
    *out = NULL;
    *n = 0;
    const bs_collection *c = auth_system_collection(ar, coll);
    if (!c)
        return BS_ENOTFOUND;
    bs_record_where w[2] = {
        {.column = "collectionRef", .value = rec->collection->id},
        {.column = "recordRef", .value = bs_record_id(rec)}};
    bs_record_page page;
    int rc = bs_record_find_where(ar->r->ev.app, ar->schema, c, w, 2,
                                  "created DESC, rowid DESC", 0, &page);
    if (rc == 0) {
        *out = page.items;
        *n = page.n;
    }
    return rc;
}

void auth_free_recs(bs_record **recs, int n)
{
    for (int i = 0; i < n; i++)
        bs_record_free(recs[i]);
    free(recs);
}

int auth_find_system_record(auth_req *ar, const char *coll, const char *id,
                              bs_record **out)
{
    *out = NULL;
    const bs_collection *c = auth_system_collection(ar, coll);
    if (!c)
        return BS_ENOTFOUND;
    bs_conn *conn = bs_store_reader_acquire(ar->r->ev.app->store);
    int rc = bs_record_find(conn, ar->schema, c, id, out);
    bs_store_reader_release(ar->r->ev.app->store, conn);
    return rc;
}

/* PocketBase's checkMFA. Returns 0 with *mfa_id set when a first factor
 * must be answered with 401, 0 with *mfa_id empty to go on, or an error
 * already put in ar->err. */
static int check_mfa(auth_req *ar, bs_record *rec, const char *method,
                     char mfa_id[64])
{
    mfa_id[0] = '\0';
    json_object *mfa_opts = bs_json_get(rec->collection->options, "mfa");
    if (!bs_json_get_bool(mfa_opts, "enabled", false) || !method || !*method)
        return 0;
    const char *rule = bs_json_get_str(mfa_opts, "rule", "");
    if (*rule) {
        bs_error rerr;
        bs_error_init(&rerr);
        bool wants = record_matches_rule(ar, rec->collection,
                                         bs_record_id(rec), rule, &rerr);
        bool failed = rerr.status != 0;
        bs_error_dispose(&rerr);
        if (failed)
            return bs_error_set(&ar->err, 400, "Failed to authenticate.");
        if (!wants)
            return 0;
    }
    const char *given = bs_req_query(ar->r, "mfaId");
    if (!given || !*given) {
        given = "";
        if (!form_str(ar, "mfaId", &given))
            return bs_error_set(&ar->err, 400, "Failed to read MFA Id");
    }
    bs_app *app = ar->r->ev.app;
    if (!*given) {
        const bs_collection *mc = auth_system_collection(ar, "_mfas");
        if (!mc)
            return bs_error_set(&ar->err, 500, "Failed to create MFA record");
        bs_record *mfa = bs_record_new(ar->schema, mc);
        if (!mfa)
            return BS_ENOMEM;
        bs_record_set(mfa, "collectionRef",
                      json_object_new_string(rec->collection->id));
        bs_record_set(mfa, "recordRef",
                      json_object_new_string(bs_record_id(rec)));
        bs_record_set(mfa, "method", json_object_new_string(method));
        int rc = bs_record_save(app, mfa, &ar->err);
        if (rc == 0)
            snprintf(mfa_id, 64, "%s", bs_record_id(mfa));
        else if (!ar->err.status)
            bs_error_set(&ar->err, 500, "Failed to create MFA record");
        bs_record_free(mfa);
        return rc;
    }
    bs_record *mfa = NULL;
    auth_find_system_record(ar, "_mfas", given, &mfa);
    int64_t duration = bs_json_get_int(mfa_opts, "duration", 0);
    if (!mfa || auth_date_secs(bs_record_get_string(mfa, "created")) + duration <
                    (int64_t)time(NULL)) {
        if (mfa) {
            bs_error derr;
            bs_error_init(&derr);
            if (bs_record_delete(app, mfa, &derr) != 0)
                bs_log('W', "Failed to delete expired MFA record %s",
                       bs_record_id(mfa));
            bs_error_dispose(&derr);
        }
        bs_record_free(mfa);
        return bs_error_set(&ar->err, 400, "Invalid or expired MFA session.");
    }
    int rc = 0;
    if (strcmp(bs_record_get_string(mfa, "recordRef"), bs_record_id(rec)) ||
        strcmp(bs_record_get_string(mfa, "collectionRef"),
               rec->collection->id))
        rc = bs_error_set(&ar->err, 400, "Invalid MFA session.");
    else if (strcmp(bs_record_get_string(mfa, "method"), method) == 0)
        rc = bs_error_set(&ar->err, 400, "A different authentication method "
                                         "is required.");
    if (rc == 0) {
        bs_error derr;
        bs_error_init(&derr);
        if (bs_record_delete(app, mfa, &derr) != 0)
            bs_log('W', "Failed to delete MFA record %s", bs_record_id(mfa));
        bs_error_dispose(&derr);
    }
    bs_record_free(mfa);
    return rc;
}

#define MAX_AUTH_ORIGINS 5

/* PocketBase's authAlert: keeps up to five login origins (fingerprints
 * of IP and user agent) per record and mails the owner about a login
 * from a new one (not on the very first login). */
static void auth_alert(auth_req *ar, bs_record *rec)
{
    bs_app *app = ar->r->ev.app;
    const bs_collection *oc = auth_system_collection(ar, "_authOrigins");
    if (!oc)
        return;
    bs_settings *s = bs_app_settings(app);
    const char *ip = bs_ratelimit_client_ip(ar->r, s->value);
    bs_settings_unref(s);
    const char *ua = bs_req_header(ar->r, "User-Agent");
    bs_buf uab;
    bs_buf_init(&uab);
    if (ua && strlen(ua) > 200) {
        bs_buf_append(&uab, ua, 200);
        bs_buf_puts(&uab, "...");
    } else {
        bs_buf_puts(&uab, ua ? ua : "");
    }
    bs_buf fp_in;
    bs_buf_init(&fp_in);
    bs_buf_puts(&fp_in, ip);
    bs_buf_append(&fp_in, uab.data ? uab.data : "", uab.len);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdn = 0;
    EVP_Digest(fp_in.data ? fp_in.data : "", fp_in.len, md, &mdn, EVP_md5(),
               NULL);
    char fingerprint[33];
    for (unsigned i = 0; i < mdn && i < 16; i++)
        snprintf(fingerprint + 2 * i, 3, "%02x", md[i]);
    fingerprint[32] = '\0';
    bs_buf_dispose(&fp_in);

    bs_record **origins = NULL;
    int n = 0;
    if (auth_refs_of(ar, "_authOrigins", rec, &origins, &n) != 0) {
        bs_buf_dispose(&uab);
        auth_free_recs(origins, n);
        return;
    }
    bool first_login = n == 0;
    bs_record *current = NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(bs_record_get_string(origins[i], "fingerprint"),
                   fingerprint) == 0) {
            current = origins[i];
            break;
        }
    }
    bs_record *fresh = NULL;
    if (!current) {
        fresh = bs_record_new(ar->schema, oc);
        if (!fresh) {
            bs_buf_dispose(&uab);
            auth_free_recs(origins, n);
            return;
        }
        bs_record_set(fresh, "collectionRef",
                      json_object_new_string(rec->collection->id));
        bs_record_set(fresh, "recordRef",
                      json_object_new_string(bs_record_id(rec)));
        bs_record_set(fresh, "fingerprint", json_object_new_string(fingerprint));
        current = fresh;
    }
    bs_error err;
    bs_error_init(&err);
    if (!first_login && fresh && *bs_record_get_string(rec, "email")) {
        char now[25];
        bs_now_str(now);
        bs_buf info;
        bs_buf_init(&info);
        bs_buf_printf(&info, "%s - %s %s", now, ip, uab.data ? uab.data : "");
        if (bs_mail_send_record_auth_alert(app, rec, info.data, BS_MAIL_ASYNC,
                                           &err) != 0)
            bs_log('W', "[recordAuthResponse] Failed to send login alert: %s",
                   err.message ? err.message : "");
        bs_buf_dispose(&info);
        bs_error_dispose(&err);
        bs_error_init(&err);
    }
    if (fresh && n >= MAX_AUTH_ORIGINS) {
        for (int i = n - 1; i >= MAX_AUTH_ORIGINS - 1; i--) {
            if (bs_record_delete(app, origins[i], &err) != 0)
                bs_log('W', "Failed to delete old AuthOrigin record %s",
                       bs_record_id(origins[i]));
            bs_error_dispose(&err);
            bs_error_init(&err);
        }
    }
    if (bs_record_save(app, current, &err) != 0)
        bs_log('W', "[recordAuthResponse] Failed to save the auth origin: %s",
               err.message ? err.message : "");
    bs_error_dispose(&err);
    bs_record_free(fresh);
    auth_free_recs(origins, n);
    bs_buf_dispose(&uab);
}

/* The enrich step: the record as its owner sees it, with ?expand
 * resolved as if the record itself were the requester. */
static int enrich_auth_record(auth_req *ar, bs_record *rec)
{
    bs_app *app = ar->r->ev.app;
    bool superuser = strcmp(rec->collection->name, "_superusers") == 0;
    if (superuser)
        rec->unhide = true;
    rec->ignore_email_visibility = true;
    const char *expand = bs_req_query(ar->r, "expand");
    if (expand && *expand) {
        /* requestInfo.Auth = the authenticated record. */
        json_object *info = NULL;
        json_object_deep_copy(auth_info(ar), &info, NULL);
        json_object *row = NULL;
        bs_conn *conn = bs_store_reader_acquire(app->store);
        bs_record_row_load(conn, rec->collection, bs_record_id(rec), &row);
        bs_store_reader_release(app->store, conn);
        if (info && row) {
            json_object_object_add(row, "collectionId",
                                   json_object_new_string(rec->collection->id));
            json_object_object_add(
                row, "collectionName",
                json_object_new_string(rec->collection->name));
            json_object_object_add(info, "auth", row);
            row = NULL;
        }
        bs_expand_ctx ex = {.app = app,
                            .schema = ar->schema,
                            .request = info ? info : auth_info(ar),
                            .superuser = superuser,
                            .auth_collection = rec->collection->id,
                            .auth_id = bs_record_id(rec)};
        int rc = bs_expand_records(&ex, &rec, 1, expand, &ar->err);
        if (row)
            json_object_put(row);
        if (info)
            json_object_put(info);
        if (rc)
            return rc;
    }
    bs_record_event e = {.ev = {.app = app,
                                .tags = {rec->collection->id,
                                         rec->collection->name}},
                         .record = rec};
    return bs_trigger_record(app, BS_ON_RECORD_ENRICH, &e, NULL, NULL);
}

static int respond_final(bs_event *ev, void *user)
{
    respond_ctx *rc_ = user;
    auth_req *ar = rc_->ar;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    bs_req *r = ar->r;
    if (r->responded)
        return 0;
    if (!e->record)
        return bs_error_set(&ar->err, 400, "Failed to authenticate.");
    char mfa_id[64];
    int rc = check_mfa(ar, e->record, e->auth_method, mfa_id);
    if (rc)
        return rc;
    if (mfa_id[0]) {
        bs_resp_raw(r, 401, "application/json", NULL, 0);
        bs_buf_puts(&r->resp, "{\"mfaId\":");
        bs_buf_json_str(&r->resp, mfa_id, strlen(mfa_id));
        bs_buf_puts(&r->resp, "}\n");
        return BS_EABORT; /* like PocketBase's ErrMFA, after answering */
    }
    rc = enrich_auth_record(ar, e->record);
    if (rc)
        return rc;
    if (e->auth_method && *e->auth_method &&
        bs_json_get_bool(bs_json_get(e->record->collection->options,
                                     "authAlert"),
                         "enabled", false))
        auth_alert(ar, e->record);
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_buf *b = &r->resp;
    bs_buf_putc(b, '{');
    if (e->meta) {
        bs_buf_puts(b, "\"meta\":");
        bs_json_write_sorted(b, e->meta);
        bs_buf_putc(b, ',');
    }
    bs_buf_puts(b, "\"record\":");
    bs_record_write_json(e->record, b);
    bs_buf_puts(b, ",\"token\":");
    const char *token = e->token ? e->token : "";
    bs_buf_json_str(b, token, strlen(token));
    bs_buf_puts(b, "}\n");
    return 0;
}

int auth_trigger(auth_req *ar, int hook, bs_record_auth_event *e,
                 bs_handler_fn final, void *user)
{
    bs_app *app = ar->r->ev.app;
    e->ev.app = app;
    e->ev.tags[0] = ar->c->id;
    e->ev.tags[1] = ar->c->name;
    e->ev.error = &ar->err;
    e->req = ar->r;
    e->collection = ar->c->name;
    int rc = bs_trigger_auth_request(app, hook, e, final, user);
    if (rc && !ar->r->responded)
        bs_req_fail(ar->r, rc, &ar->err);
    return rc;
}

int auth_respond(auth_req *ar, bs_record *rec, const char *token,
                 const char *method, json_object *meta)
{
    bs_req *r = ar->r;
    bs_app *app = r->ev.app;
    bool su = strcmp(rec->collection->name, "_superusers") == 0;
    if (su) {
        bs_settings *s = bs_app_settings(app);
        json_object *ips = bs_json_get(s->value, "superuserIPs");
        bool blocked = ips && json_object_is_type(ips, json_type_array) &&
                       json_object_array_length(ips) > 0 &&
                       !bs_ip_in_list(ips, bs_ratelimit_client_ip(r, s->value));
        bs_settings_unref(s);
        if (blocked) {
            bs_resp_status_error(r, 403, NULL);
            return BS_EHTTP;
        }
    }
    bs_error rerr;
    bs_error_init(&rerr);
    /* A null authRule lets only superuser requesters through. */
    json_object *rule_v = bs_json_get(rec->collection->options, "authRule");
    const char *rule = rule_v && json_object_is_type(rule_v, json_type_string)
                           ? json_object_get_string(rule_v)
                           : NULL;
    bool allowed = record_matches_rule(ar, rec->collection,
                                       bs_record_id(rec), rule, &rerr);
    bs_error_dispose(&rerr);
    if (!allowed) {
        bs_resp_status_error(r, 403, "The request doesn't satisfy the "
                                     "collection requirements to "
                                     "authenticate.");
        return BS_EHTTP;
    }
    char *own = NULL;
    if (!token) {
        bs_buf t;
        bs_buf_init(&t);
        if (bs_token_for_record(rec, BS_TOKEN_AUTH, 0, true, NULL, &t) != 0) {
            bs_buf_dispose(&t);
            bs_resp_status_error(r, 500, "Failed to create auth token.");
            return BS_EHTTP;
        }
        own = bs_buf_steal(&t, NULL);
        token = own;
    }
    bs_record_auth_event e = {.record = rec,
                              .auth_method = method ? method : "",
                              .token = token,
                              .meta = meta};
    respond_ctx ctx = {.ar = ar};
    int rc = auth_trigger(ar, BS_ON_RECORD_AUTH_REQUEST, &e, respond_final,
                          &ctx);
    free(own);
    return rc;
}

/* ---- rate limiting ----------------------------------------------------------- */

typedef struct route_mw {
    struct route_mw *next;
    auth_api *api;
    const char *const *tags;
    bool same_collection_auth;
} route_mw;

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

static bool rate_allowed_route(bs_ratelimiter *rl, bs_req *r,
                               const bs_collection *c, const char *route,
                               const char *const *tags);

bool auth_rate_allowed(auth_api *api, bs_req *r, const bs_collection *c,
                       const char *const *tags)
{
    return rate_allowed_route(api->limiter, r, c, NULL, tags);
}

bool bs_api_collection_rate_allowed(bs_req *r, const bs_collection *c,
                                    const char *route, const char *tag)
{
    const char *tags[2] = {tag, NULL};
    return rate_allowed_route(r->ev.app->limiter, r, c, route, tags);
}

static bool rate_allowed_route(bs_ratelimiter *rl, bs_req *r,
                               const bs_collection *c, const char *route,
                               const char *const *tags)
{
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

/* Global middleware: the "METHOD /path" and "/path" rules. */
static int rate_limit_mw(bs_event *ev, void *user)
{
    auth_api *api = user;
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
            ok = check_rule(api->limiter, r, id ? id : "", &rule, ip);
        }
    }
    bs_settings_unref(s);
    return ok ? bs_event_next(ev) : 0;
}

/* Route middleware: the collection rate limit of an auth endpoint. */
static int collection_rate_mw(bs_event *ev, void *user)
{
    route_mw *mw = user;
    bs_req *r = (bs_req *)ev;
    bs_schema *schema = bs_app_schema(ev->app);
    const char *name = bs_req_param(r, "collection");
    const bs_collection *c = name ? bs_schema_find(schema, name) : NULL;
    int rc = 0;
    if (!c)
        bs_resp_status_error(r, 404, "Missing or invalid collection context.");
    else if (auth_rate_allowed(mw->api, r, c, mw->tags))
        rc = bs_event_next(ev);
    bs_schema_unref(schema);
    return rc;
}

/* Route middleware: PocketBase's RequireSameCollectionContextAuth. */
static int same_collection_mw(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    if (!r->auth) {
        bs_resp_status_error(r, 401, "The request requires valid record "
                                     "authorization token.");
        return 0;
    }
    bs_schema *schema = bs_app_schema(ev->app);
    const char *name = bs_req_param(r, "collection");
    const bs_collection *c = name ? bs_schema_find(schema, name) : NULL;
    bool same = c && strcmp(c->id, r->auth->collection->id) == 0;
    int rc = 0;
    if (!same) {
        char msg[300];
        snprintf(msg, sizeof msg, "The request requires auth record from %s "
                                  "collection.",
                 r->auth->collection->name);
        bs_resp_status_error(r, 403, msg);
    } else {
        rc = bs_event_next(ev);
    }
    bs_schema_unref(schema);
    return rc;
}

bs_route *auth_route(auth_api *api, const char *method, const char *pattern,
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
        route_mw *mw = calloc(1, sizeof *mw);
        if (!mw)
            return NULL;
        mw->api = api;
        mw->tags = tags;
        mw->next = api->mws;
        api->mws = mw;
        bs_handler h = {.id = "pbRateLimit", .priority = -1000,
                        .fn = collection_rate_mw, .user = mw};
        if (bs_hook_bind(mws, &h) != 0)
            return NULL;
    }
    if (same_collection_auth) {
        bs_handler h = {.id = "pbRequireSameCollectionContextAuth",
                        .fn = same_collection_mw};
        if (bs_hook_bind(mws, &h) != 0)
            return NULL;
    }
    return rt;
}

bs_route *auth_superuser_route(auth_api *api, const char *method,
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

/* ---- auth-methods ----------------------------------------------------------- */

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
    if (auth_begin(r, user, &ar) == 0) {
        const json_object *o = ar.c->options;
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
    auth_end(&ar);
    return 0;
}

/* ---- auth-with-password ------------------------------------------------------- */

/* A bcrypt check against some record of the collection (or a fixed hash)
 * so that an unknown identity costs what a wrong password costs. */
static void dummy_password_check(auth_req *ar)
{
    static const char fallback[] =
        "$2a$10$1UPJoBdUnQm8OnEbV2I6Iu4yz5UC0/ZRa1BHWd5cDvhUSZZ5Qkk/S";
    bs_record_where w = {.column = "password", .value = "", .differs = true};
    bs_record *some = NULL;
    bs_record_find_first_where(ar->r->ev.app, ar->schema, ar->c, &w, 1, NULL,
                               &some);
    const char *hash = some ? bs_record_get_string(some, "password") : "";
    bs_password_verify("", *hash ? hash : fallback);
    bs_record_free(some);
}

static int password_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record || !bs_password_check(e->record, e->password)) {
        if (!e->record)
            dummy_password_check(ar);
        return bs_error_set(&ar->err, 400, "Failed to authenticate.");
    }
    auth_respond(ar, e->record, NULL, "password", NULL);
    return 0;
}

static int auth_with_password(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    json_object *pw = bs_json_get(ar.c->options, "passwordAuth");
    if (!bs_json_get_bool(pw, "enabled", false)) {
        bs_resp_status_error(r, 403, "The collection is not configured to "
                                     "allow password authentication.");
        goto done;
    }
    if (auth_read_body(&ar) != 0)
        goto done;
    ar.context = "password";
    const char *identity, *password, *field;
    if (!form_str(&ar, "identity", &identity) ||
        !form_str(&ar, "password", &password) ||
        !form_str(&ar, "identityField", &field)) {
        fail_loading(&ar);
        goto done;
    }
    if (check_required(&ar.err, "identity", identity))
        check_length(&ar.err, "identity", identity, 1, 255);
    if (check_required(&ar.err, "password", password))
        check_length(&ar.err, "password", password, 1, 255);
    if (*field && check_length(&ar.err, "identityField", field, 1, 255) &&
        !identity_allowed(ar.c, field))
        bs_error_field(&ar.err, "identityField", "validation_in_invalid",
                       "Must be a valid value.");
    if (bs_error_has_fields(&ar.err)) {
        fail_validation(&ar, "An error occurred while validating the "
                             "submitted data.");
        goto done;
    }
    int rc = BS_ENOTFOUND;
    if (*field) {
        rc = find_by_identity(ar.api, ar.schema, ar.c, field, identity, &rec);
    } else {
        /* Email first, then the other identity fields in order. */
        json_object *idf = bs_json_get(pw, "identityFields");
        size_t n = idf && json_object_is_type(idf, json_type_array)
                       ? json_object_array_length(idf)
                       : 0;
        for (int pass = 0; pass < 2 && !rec; pass++) {
            for (size_t i = 0; i < n && !rec; i++) {
                const char *f =
                    json_object_get_string(json_object_array_get_idx(idf, i));
                if (!f || (strcmp(f, "email") == 0) != (pass == 0))
                    continue;
                if (strcmp(f, "email") == 0 && !bs_email_valid(identity))
                    continue;
                rc = find_by_identity(ar.api, ar.schema, ar.c, f, identity,
                                      &rec);
                if (rc != 0 && rc != BS_ENOTFOUND)
                    break;
            }
        }
    }
    if (rc != 0 && rc != BS_ENOTFOUND) {
        bs_resp_status_error(r, 500, NULL);
        goto done;
    }
    bs_record_auth_event e = {.record = rec,
                              .identity = identity,
                              .identity_field = field,
                              .password = password};
    auth_trigger(&ar, BS_ON_RECORD_AUTH_WITH_PASSWORD_REQUEST, &e,
                 password_final, &ar);

done:
    bs_record_free(rec);
    auth_end(&ar);
    return 0;
}

/* ---- auth-refresh ------------------------------------------------------------- */

static int refresh_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->err, 404, "Missing auth record context.");
    const char *token = bs_req_header(ar->r, "Authorization");
    if (!token)
        token = "";
    if (strlen(token) > 7 && strncasecmp(token, "Bearer ", 7) == 0)
        token += 7;
    json_object *claims = NULL;
    char *fresh = NULL;
    if (bs_token_peek(token, &claims) == 0 &&
        bs_json_get_bool(claims, "refreshable", false)) {
        bs_buf t;
        bs_buf_init(&t);
        if (bs_token_for_record(e->record, BS_TOKEN_AUTH, 0, true, NULL,
                                &t) != 0) {
            bs_buf_dispose(&t);
            json_object_put(claims);
            return bs_error_set(&ar->err, 500, "Failed to refresh auth "
                                               "token.");
        }
        fresh = bs_buf_steal(&t, NULL);
    }
    if (claims)
        json_object_put(claims);
    auth_respond(ar, e->record, fresh ? fresh : token, "", NULL);
    free(fresh);
    return 0;
}

static int auth_refresh(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (!r->auth) {
        bs_resp_status_error(r, 404, "Missing auth record context.");
        goto done;
    }
    bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
    bs_record_find(conn, ar.schema, ar.c, r->auth->id, &rec);
    bs_store_reader_release(r->ev.app->store, conn);
    bs_record_auth_event e = {.record = rec};
    auth_trigger(&ar, BS_ON_RECORD_AUTH_REFRESH_REQUEST, &e, refresh_final,
                 &ar);

done:
    bs_record_free(rec);
    auth_end(&ar);
    return 0;
}

/* ---- impersonate --------------------------------------------------------------- */

static int impersonate(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    memset(&ar, 0, sizeof ar);
    if (!r->auth || !r->auth->superuser) {
        bs_resp_status_error(r, 403, NULL);
        return 0;
    }
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
    int rc = bs_record_find(conn, ar.schema, ar.c, bs_req_param(r, "id"),
                            &rec);
    bs_store_reader_release(r->ev.app->store, conn);
    if (rc) {
        bs_resp_status_error(r, 404, NULL);
        goto done;
    }
    if (auth_read_body(&ar) != 0)
        goto done;
    int64_t duration = 0;
    /* A form sends text (a key given twice binds its first value); JSON
     * must hold an integer, as Go's decoder into an int64 demands. */
    json_object *d = bs_json_get(ar.body.data, "duration");
    if (ar.body.form && d && json_object_is_type(d, json_type_array))
        d = json_object_array_length(d) ? json_object_array_get_idx(d, 0)
                                        : NULL;
    if (d && json_object_is_type(d, json_type_int)) {
        duration = json_object_get_int64(d);
    } else if (ar.body.form && d && json_object_is_type(d, json_type_string)) {
        char *end;
        const char *s = json_object_get_string(d);
        duration = strtoll(s, &end, 10);
        if (*s && *end) {
            fail_loading(&ar);
            goto done;
        }
    } else if (d && !json_object_is_type(d, json_type_null)) {
        fail_loading(&ar);
        goto done;
    }
    if (duration < 0) {
        bs_error_field(&ar.err, "duration",
                       "validation_min_greater_equal_than_required",
                       "Must be no less than 0.");
        fail_validation(&ar, "An error occurred while validating the "
                             "submitted data.");
        goto done;
    }
    bs_buf t;
    bs_buf_init(&t);
    if (bs_token_for_record(rec, BS_TOKEN_AUTH, duration, false, NULL, &t)) {
        bs_buf_dispose(&t);
        bs_resp_status_error(r, 500, "Failed to generate static auth token");
        goto done;
    }
    auth_respond(&ar, rec, t.data, "", NULL);
    bs_buf_dispose(&t);

done:
    bs_record_free(rec);
    if (ar.schema)
        auth_end(&ar);
    return 0;
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
    for (size_t i = 0; i < api->nstore; i++) {
        free(api->store[i].key);
        free(api->store[i].value);
    }
    free(api->store);
    route_mw *mw = api->mws;
    while (mw) {
        route_mw *next = mw->next;
        free(mw);
        mw = next;
    }
    pthread_mutex_destroy(&api->lock);
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
    static const char *const t_methods[] = {"listAuthMethods", NULL};
    static const char *const t_refresh[] = {"authRefresh", NULL};
    static const char *const t_password[] = {"authWithPassword", "auth", NULL};
    auth_api *api = calloc(1, sizeof *api);
    if (!api)
        return BS_ENOMEM;
    api->app = app;
    api->limiter = app->limiter;
    pthread_mutex_init(&api->lock, NULL);
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
                        .fn = rate_limit_mw, .user = api};
    if (bs_hook_bind(app->hooks[BS_ON_SETTINGS_RELOAD], &reload) != 0 ||
        bs_hook_bind(app->middlewares, &limit) != 0)
        return BS_ENOMEM;
    static const char base[] = "/api/collections/{collection}";
    char p[128];
#define ROUTE(method, path, fn, tags, same)                                 \
    (snprintf(p, sizeof p, "%s%s", base, path),                             \
     auth_route(api, method, p, fn, tags, same) != NULL)
    if (!ROUTE("GET", "/auth-methods", auth_methods, t_methods, false) ||
        !ROUTE("POST", "/auth-refresh", auth_refresh, t_refresh, true) ||
        !ROUTE("POST", "/auth-with-password", auth_with_password, t_password,
               false))
        return BS_ENOMEM;
#undef ROUTE
    if (!auth_superuser_route(api, "POST",
                              "/api/collections/{collection}/impersonate/{id}",
                              impersonate))
        return BS_ENOMEM;
    int rc;
    if ((rc = auth_otp_register(api)) || (rc = auth_mail_register(api)) ||
        (rc = auth_oauth2_register(api)) ||
        (rc = auth_settings_register(api)))
        return rc;
    return 0;
}
