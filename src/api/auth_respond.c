/*
 * auth_respond.c - the end of every successful login, PocketBase's
 * recordAuthResponse: the superuser IP whitelist, the collection's
 * authRule, then the BS_ON_RECORD_AUTH_REQUEST hook whose built-in step
 * asks for a second factor when MFA is on (401 {"mfaId"}), enriches the
 * record (its own email always visible, hidden fields for superusers,
 * ?expand resolved as if the record were the requester), records the
 * login origin (mailing the owner about a login from a new device) and
 * writes {"meta"?, "record", "token"}.
 *
 * Also bsa_auth_trigger, which every auth endpoint uses to run its request
 * hook with the built-in behaviour as the final step.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../core/auth.h"
#include "../base/util.h"
#include "../core/events.h"
#include "../core/expand.h"
#include "../core/mail.h"
#include "../core/token.h"
#include "auth_internal.h"

typedef struct respond_ctx {
    auth_req *ar;
} respond_ctx;

/* PocketBase's checkMFA. Returns 0 with *mfa_id set when a first factor
 * must be answered with 401, 0 with *mfa_id empty to go on, or an error
 * already put in ar->q.err. */
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
        bool wants = bsa_req_matches_rule(&ar->q, rec->collection,
                                         bs_record_id(rec), rule, &rerr);
        bool failed = rerr.status != 0;
        bs_error_dispose(&rerr);
        if (failed)
            return bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
        if (!wants)
            return 0;
    }
    const char *given = bs_req_query(ar->q.r, "mfaId");
    if (!given || !*given) {
        given = "";
        if (!bsa_form_str(ar, "mfaId", &given))
            return bs_error_set(&ar->q.err, 400, "Failed to read MFA Id");
    }
    bs_app *app = ar->q.r->ev.app;
    if (!*given) {
        const bs_collection *mc = bsa_auth_system_collection(ar, "_mfas");
        if (!mc)
            return bs_error_set(&ar->q.err, 500, "Failed to create MFA record");
        bs_record *mfa = bs_record_new(ar->q.schema, mc);
        if (!mfa)
            return BS_ENOMEM;
        bs_record_set(mfa, "collectionRef",
                      json_object_new_string(rec->collection->id));
        bs_record_set(mfa, "recordRef",
                      json_object_new_string(bs_record_id(rec)));
        bs_record_set(mfa, "method", json_object_new_string(method));
        int rc = bs_record_save(app, mfa, &ar->q.err);
        if (rc == 0)
            snprintf(mfa_id, 64, "%s", bs_record_id(mfa));
        else if (!ar->q.err.status)
            bs_error_set(&ar->q.err, 500, "Failed to create MFA record");
        bs_record_free(mfa);
        return rc;
    }
    bs_record *mfa = NULL;
    bsa_auth_find_system_record(ar, "_mfas", given, &mfa);
    int64_t duration = bs_json_get_int(mfa_opts, "duration", 0);
    if (!mfa ||
        bsa_auth_date_secs(bs_record_get_string(mfa, "created")) + duration <
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
        return bs_error_set(&ar->q.err, 400, "Invalid or expired MFA session.");
    }
    int rc = 0;
    if (strcmp(bs_record_get_string(mfa, "recordRef"), bs_record_id(rec)) ||
        strcmp(bs_record_get_string(mfa, "collectionRef"),
               rec->collection->id))
        rc = bs_error_set(&ar->q.err, 400, "Invalid MFA session.");
    else if (strcmp(bs_record_get_string(mfa, "method"), method) == 0)
        rc = bs_error_set(&ar->q.err, 400, "A different authentication method "
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
    bs_app *app = ar->q.r->ev.app;
    const bs_collection *oc = bsa_auth_system_collection(ar, "_authOrigins");
    if (!oc)
        return;
    bs_settings *s = bs_app_settings(app);
    const char *ip = bs_ratelimit_client_ip(ar->q.r, s->value);
    bs_settings_unref(s);
    const char *ua = bs_req_header(ar->q.r, "User-Agent");
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
    if (bsa_auth_refs_of(ar, "_authOrigins", rec, &origins, &n) != 0) {
        bs_buf_dispose(&uab);
        bsa_auth_free_recs(origins, n);
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
        fresh = bs_record_new(ar->q.schema, oc);
        if (!fresh) {
            bs_buf_dispose(&uab);
            bsa_auth_free_recs(origins, n);
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
    bsa_auth_free_recs(origins, n);
    bs_buf_dispose(&uab);
}

/* The enrich step: the record as its owner sees it, with ?expand
 * resolved as if the record itself were the requester. */
static int enrich_auth_record(auth_req *ar, bs_record *rec)
{
    bs_app *app = ar->q.r->ev.app;
    bool superuser = strcmp(rec->collection->name, "_superusers") == 0;
    if (superuser)
        rec->unhide = true;
    rec->ignore_email_visibility = true;
    const char *expand = bs_req_query(ar->q.r, "expand");
    if (expand && *expand) {
        /* requestInfo.Auth = the authenticated record. */
        json_object *info = NULL;
        json_object_deep_copy(bsa_req_info(&ar->q), &info, NULL);
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
                            .schema = ar->q.schema,
                            .request = info ? info : bsa_req_info(&ar->q),
                            .superuser = superuser,
                            .auth_collection = rec->collection->id,
                            .auth_id = bs_record_id(rec)};
        int rc = bs_expand_records(&ex, &rec, 1, expand, &ar->q.err);
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
    bs_req *r = ar->q.r;
    if (r->responded)
        return 0;
    if (!e->record)
        return bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
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

int bsa_auth_trigger(auth_req *ar, int hook, bs_record_auth_event *e,
                     bs_handler_fn final, void *user)
{
    bs_app *app = ar->q.r->ev.app;
    e->ev.app = app;
    e->ev.tags[0] = ar->q.c->id;
    e->ev.tags[1] = ar->q.c->name;
    e->ev.error = &ar->q.err;
    e->req = ar->q.r;
    e->collection = ar->q.c->name;
    int rc = bs_trigger_auth_request(app, hook, e, final, user);
    if (rc && !ar->q.r->responded)
        bs_req_fail(ar->q.r, rc, &ar->q.err);
    return rc;
}

int bsa_auth_respond(auth_req *ar, bs_record *rec, const char *token,
                     const char *method, json_object *meta)
{
    bs_req *r = ar->q.r;
    bs_app *app = r->ev.app;
    bool su = strcmp(rec->collection->name, "_superusers") == 0;
    if (su) {
        bs_settings *s = bs_app_settings(app);
        bool blocked = !bs_superuser_ip_allowed(r, s->value);
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
    bool allowed = bsa_req_matches_rule(&ar->q, rec->collection,
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
    int rc = bsa_auth_trigger(ar, BS_ON_RECORD_AUTH_REQUEST, &e, respond_final,
                              &ctx);
    free(own);
    return rc;
}

