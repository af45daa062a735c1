/*
 * auth_oauth2.c - auth-with-oauth2 and the /api/oauth2-redirect page.
 *
 * auth-with-oauth2 exchanges the authorization code (with the PKCE
 * verifier) for the provider's user, then finds the auth record: the one
 * linked to this provider account in `_externalAuths`, else the record
 * already logged in, else the record with the provider's verified email.
 * Without one, a record is created through the records API's own create
 * handler (so the create rule, the field validation and the record hooks
 * apply) from createData and the collection's mapped fields. Linking
 * and creating run in one transaction; PocketBase's protections against
 * accounts pre-created by someone else are kept (an unverified record
 * found this way gets a random password and loses other links).
 *
 * /api/oauth2-redirect is where providers send the browser back in the
 * SDK's all-in-one flow: the state is a realtime client id, and the code
 * goes to that client as an "@oauth2" message. That hand-off is the one
 * place that touches realtime: handoff_to_realtime() below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/field.h"
#include "../core/files.h"
#include "../core/oauth2.h"
#include "../core/realtime.h"
#include "../core/tx.h"
#include "../db/sql.h"
#include "auth_internal.h"

/* ---- linking and creating ------------------------------------------------------ */

typedef struct oauth2_ctx {
    auth_req *ar;
    bs_record *external;     /* the existing _externalAuths link, or NULL */
    bs_record *created;      /* a record made here (owned) */
} oauth2_ctx;

typedef struct submit_ctx {
    oauth2_ctx *oc;
    bs_record_auth_event *e;
} submit_ctx;

/* PocketBase's oldCanAssignUsername: the mapped username must fit the
 * field and be free. */
static bool can_assign_username(auth_req *ar, const char *field,
                                const char *username)
{
    const bs_finfo *fi = bs_collection_finfo(ar->q.c, field);
    if (!fi)
        return false;
    if (fi->type == BS_F_TEXT) {
        json_object *v = json_object_new_string(username);
        bs_field_error fe;
        bool ok = bs_finfo_validate(fi, v, true, &fe);
        json_object_put(v);
        if (!ok)
            return false;
    }
    return !bsa_auth_value_taken(ar, field, username);
}

static int delete_links(auth_req *ar, bs_record *rec)
{
    bs_record **links = NULL;
    int n = 0;
    int rc = bsa_auth_refs_of(ar, "_externalAuths", rec, &links, &n);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = bs_record_delete(ar->q.r->ev.app, links[i], &ar->q.err);
    bsa_auth_free_recs(links, n);
    return rc;
}

/* The provider's avatar as an upload to the mapped file field, as
 * PocketBase does on sign-up: downloaded (at most the field's maxSize,
 * 15 s), then validated and stored like any upload. A failed download
 * is only logged: the sign-up goes on without the avatar. */
static void avatar_upload(const bs_finfo *fi, const char *field,
                          const char *url, bs_body *files)
{
    char reason[300];
    bs_buf data;
    bs_buf_init(&data);
    if (bs_oauth2_download(url, (uint64_t)bs_files_max_size(fi->def), &data,
                           reason, sizeof reason) != 0) {
        bs_log('W', "Failed to retrieve OAuth2 avatar: %s", reason);
        return;
    }
    /* The name is the last element of the URL's path (Go's path.Base). */
    size_t n = strcspn(url, "?#");
    while (n > 1 && url[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && url[start - 1] != '/')
        start--;
    bs_upload *u = calloc(1, sizeof *u);
    if (u) {
        u->field = strdup(field);
        u->filename = strndup(url + start, n - start);
        u->data = data;
        u->size = data.len;
    }
    if (!u || !u->field || !u->filename) {
        if (u) {
            free(u->field);
            free(u->filename);
            free(u);
        }
        bs_buf_dispose(&data);
        return;
    }
    files->files = u;
    files->nfiles = 1;
}

static int submit_tx(bs_tx *tx, void *data)
{
    submit_ctx *sc = data;
    oauth2_ctx *oc = sc->oc;
    auth_req *ar = oc->ar;
    bs_record_auth_event *e = sc->e;
    bs_app *app = bs_tx_app(tx);
    json_object *user = e->oauth2_user;
    const char *user_email = bs_json_get_str(user, "email", "");
    int rc = 0;
    if (!e->record) {
        if (strcmp(ar->q.c->name, "_superusers") == 0)
            return bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
        json_object *payload = NULL;
        bs_body files = {0};
        if (e->create_data)
            json_object_deep_copy(e->create_data, &payload, NULL);
        if (!payload)
            payload = json_object_new_object();
        json_object *ev = bs_json_get(payload, "email");
        if (!ev || !json_object_is_type(ev, json_type_string) ||
            !*json_object_get_string(ev))
            json_object_object_add(payload, "email",
                                   json_object_new_string(user_email));
        json_object *mapped = bs_json_get(
            bs_json_get(ar->q.c->options, "oauth2"), "mappedFields");
        const char *m_id = bs_json_get_str(mapped, "id", "");
        const char *m_name = bs_json_get_str(mapped, "name", "");
        const char *m_user = bs_json_get_str(mapped, "username", "");
        const char *m_avatar = bs_json_get_str(mapped, "avatarURL", "");
        if (*m_id && !bs_json_get(payload, m_id))
            json_object_object_add(
                payload, m_id,
                json_object_new_string(bs_json_get_str(user, "id", "")));
        if (*m_name && !bs_json_get(payload, m_name))
            json_object_object_add(
                payload, m_name,
                json_object_new_string(bs_json_get_str(user, "name", "")));
        const char *uname = bs_json_get_str(user, "username", "");
        if (*m_user && !bs_json_get(payload, m_user) &&
            can_assign_username(ar, m_user, uname))
            json_object_object_add(payload, m_user,
                                   json_object_new_string(uname));
        const char *avatar = bs_json_get_str(user, "avatarURL", "");
        if (*m_avatar && *avatar && !bs_json_get(payload, m_avatar)) {
            const bs_finfo *af = bs_collection_finfo(ar->q.c, m_avatar);
            if (af && af->type == BS_F_FILE)
                avatar_upload(af, m_avatar, avatar, &files);
            else
                json_object_object_add(payload, m_avatar,
                                       json_object_new_string(avatar));
        }
        /* The records API's OAuth2 context: a random password when none
         * is submitted. */
        if (!bs_json_get(payload, "password")) {
            char pw[31];
            bsa_random_password(pw);
            json_object_object_add(payload, "password",
                                   json_object_new_string(pw));
            json_object_object_add(payload, "passwordConfirm",
                                   json_object_new_string(pw));
            explicit_bzero(pw, sizeof pw);
        }
        rc = bs_api_record_create_for(ar->q.r, ar->q.c, "oauth2", payload,
                                      &files, &oc->created);
        json_object_put(payload);
        bs_body_dispose(&files);
        if (rc)
            return rc;
        e->record = oc->created;
        if (strcmp(bs_record_get_string(e->record, "email"), user_email) == 0 &&
            !bs_record_get_bool(e->record, "verified")) {
            bs_record_set(e->record, "verified", json_object_new_boolean(1));
            rc = bs_record_save(app, e->record, &ar->q.err);
            if (rc)
                return rc;
        }
    } else {
        bs_record *rec = e->record;
        bool need_update = false;
        bs_req *r = ar->q.r;
        bool logged = r->auth && strcmp(r->auth->id, bs_record_id(rec)) == 0 &&
                      strcmp(r->auth->collection->id, rec->collection->id) == 0;
        bool verified = bs_record_get_bool(rec, "verified");
        if (!logged && !verified) {
            /* Someone may have pre-created the account: reset its
             * password. */
            char pw[31];
            bsa_random_password(pw);
            bs_record_set(rec, "password", json_object_new_string(pw));
            explicit_bzero(pw, sizeof pw);
            need_update = true;
        }
        if (!verified) {
            rc = delete_links(ar, rec);
            if (rc)
                return rc;
            bs_record_free(oc->external);
            oc->external = NULL;
        }
        if (!*bs_record_get_string(rec, "email") && *user_email) {
            bs_record_set(rec, "email", json_object_new_string(user_email));
            need_update = true;
        }
        const char *email = bs_record_get_string(rec, "email");
        if (!verified && (!*email || strcmp(email, user_email) == 0)) {
            bs_record_set(rec, "verified", json_object_new_boolean(1));
            need_update = true;
        }
        if (need_update) {
            rc = bs_record_save(app, rec, &ar->q.err);
            if (rc)
                return rc;
        }
    }
    if (!oc->external) {
        const bs_collection *xc =
            bsa_auth_system_collection(ar, "_externalAuths");
        bs_record *link = xc ? bs_record_new(ar->q.schema, xc) : NULL;
        if (!link)
            return bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
        bs_record_set(link, "collectionRef",
                      json_object_new_string(e->record->collection->id));
        bs_record_set(link, "recordRef",
                      json_object_new_string(bs_record_id(e->record)));
        bs_record_set(link, "provider", json_object_new_string(e->provider));
        bs_record_set(link, "providerId",
                      json_object_new_string(bs_json_get_str(user, "id", "")));
        bs_error lerr;
        bs_error_init(&lerr);
        rc = bs_record_save(app, link, &lerr);
        if (rc) {
            bs_log('D', "failed to save linked rel: %s",
                   lerr.message ? lerr.message : "");
            bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
        }
        bs_error_dispose(&lerr);
        bs_record_free(link);
    }
    return rc;
}

static int oauth2_final(bs_event *ev, void *user)
{
    oauth2_ctx *oc = user;
    auth_req *ar = oc->ar;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    submit_ctx sc = {.oc = oc, .e = e};
    int rc = bs_run_in_transaction(ev->app, submit_tx, &sc, &ar->q.err);
    if (rc) {
        if (ar->q.r->responded)
            return rc;
        if (!ar->q.err.status)
            bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
        return rc;
    }
    /* meta: the provider's user plus isNew (a map: keys sorted). */
    json_object *meta = NULL;
    json_object_deep_copy(e->oauth2_user, &meta, NULL);
    if (!meta)
        return BS_ENOMEM;
    json_object_object_add(meta, "isNew",
                           json_object_new_boolean(e->is_new_record));
    bsa_auth_respond(ar, e->record, NULL, "oauth2", meta);
    json_object_put(meta);
    return 0;
}

static int auth_with_oauth2(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    json_object *ouser = NULL;
    oauth2_ctx oc = {.ar = &ar};
    if (bsa_auth_begin(r, user, &ar) != 0)
        goto done;
    if (!bs_json_get_bool(bs_json_get(ar.q.c->options, "oauth2"), "enabled",
                          false)) {
        bs_resp_status_error(r, 403, "The collection is not configured to "
                                     "allow OAuth2 authentication.");
        goto done;
    }
    ar.q.context = "oauth2";
    if (bsa_auth_read_body(&ar) != 0)
        goto done;
    const char *provider, *code, *verifier, *redirect, *redirect_legacy;
    json_object *create_data = bs_json_get(ar.q.body.data, "createData");
    if (!bsa_form_str(&ar, "provider", &provider) ||
        !bsa_form_str(&ar, "code", &code) ||
        !bsa_form_str(&ar, "codeVerifier", &verifier) ||
        !bsa_form_str(&ar, "redirectURL", &redirect) ||
        !bsa_form_str(&ar, "redirectUrl", &redirect_legacy) ||
        (create_data && !json_object_is_type(create_data, json_type_object) &&
         !json_object_is_type(create_data, json_type_null))) {
        bsa_fail_loading(&ar);
        goto done;
    }
    if (create_data && json_object_is_type(create_data, json_type_null))
        create_data = NULL;
    if (!*redirect && *redirect_legacy)
        redirect = redirect_legacy;
    bs_oauth2_config cfg;
    bool have_cfg = false;
    if (bsa_check_required(&ar.q.err, "provider", provider) &&
        bsa_check_length(&ar.q.err, "provider", provider, 0, 100)) {
        have_cfg = bs_oauth2_config_find(ar.q.c->options, provider, &cfg);
        if (!have_cfg) {
            char msg[200];
            snprintf(msg, sizeof msg, "Provider with name %s is missing or is "
                                      "not enabled.",
                     provider);
            bs_error_field(&ar.q.err, "provider", "validation_invalid_provider",
                           msg);
        }
    }
    bsa_check_required(&ar.q.err, "code", code);
    if (bs_error_has_fields(&ar.q.err)) {
        bsa_fail_validation(&ar,
                            "An error occurred while loading the submitted "
                            "data.");
        goto done;
    }
    char reason[300];
    bool token_failed = false;
    if (bs_oauth2_fetch_user(&cfg, code, verifier, redirect, &ouser,
                             &token_failed, reason, sizeof reason) != 0) {
        bs_log('D', "auth-with-oauth2 (%s): %s", provider, reason);
        bs_resp_status_error(r, 400, token_failed
                                         ? "Failed to fetch OAuth2 token."
                                         : "Failed to fetch OAuth2 user.");
        goto done;
    }
    if (strcmp(provider, "apple") == 0 &&
        !*bs_json_get_str(ouser, "name", "")) {
        char key[300];
        snprintf(key, sizeof key, "@redirect_name_%s", code);
        char *name = bsa_ttl_store_take(&ar.api->store, key);
        if (name) {
            json_object_object_add(ouser, "name", json_object_new_string(name));
            free(name);
        }
    }
    /* The record: linked account, else the logged-in record of this
     * collection, else the provider's (verified) email. */
    const char *pid = bs_json_get_str(ouser, "id", "");
    const bs_collection *xc = bsa_auth_system_collection(&ar, "_externalAuths");
    if (xc) {
        bs_record_where w[3] = {{.column = "collectionRef",
                                 .value = ar.q.c->id},
                                {.column = "provider", .value = provider},
                                {.column = "providerId", .value = pid}};
        bs_record_find_first_where(r->ev.app, ar.q.schema, xc, w, 3, NULL,
                                   &oc.external);
    }
    if (oc.external) {
        bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
        int rc = bs_record_find(conn, ar.q.schema, ar.q.c,
                                bs_record_get_string(oc.external, "recordRef"),
                                &rec);
        bs_store_reader_release(r->ev.app->store, conn);
        if (rc) {
            bs_resp_status_error(r, 404, NULL);
            goto done;
        }
    } else if (r->auth && strcmp(r->auth->collection->id, ar.q.c->id) == 0) {
        bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
        bs_record_find(conn, ar.q.schema, ar.q.c, r->auth->id, &rec);
        bs_store_reader_release(r->ev.app->store, conn);
    } else if (*bs_json_get_str(ouser, "email", "")) {
        int rc =
            bsa_auth_find_by_email(ar.api, ar.q.schema, ar.q.c,
                                   bs_json_get_str(ouser, "email", ""), &rec);
        if (rc != 0 && rc != BS_ENOTFOUND) {
            bs_resp_status_error(r, 500, "Failed OAuth2 auth record check.");
            goto done;
        }
    }
    bs_record_auth_event e = {.record = rec,
                              .provider = provider,
                              .oauth2_user = ouser,
                              .create_data = create_data,
                              .is_new_record = rec == NULL};
    bsa_auth_trigger(&ar, BS_ON_RECORD_AUTH_WITH_OAUTH2_REQUEST, &e,
                     oauth2_final, &oc);

done:
    bs_record_free(rec);
    bs_record_free(oc.created);
    bs_record_free(oc.external);
    if (ouser)
        json_object_put(ouser);
    bsa_auth_end(&ar);
    return 0;
}

/* ---- /api/oauth2-redirect ------------------------------------------------------ */

/* Delivers message as an "@oauth2" realtime message to the client whose
 * id is client_id, when that client is connected, subscribed to
 * "@oauth2" and comes from client_ip; the subscription is then dropped.
 * Returns whether it was delivered. This is the single hand-off point
 * between OAuth2 and realtime. */
static bool handoff_to_realtime(bs_app *app, const char *client_id,
                                const char *client_ip, const char *message)
{
    if (bs_realtime_send_once(app->realtime, client_id, client_ip, "@oauth2",
                              message))
        return true;
    bs_log('D', "oauth2-redirect: no realtime client %s (from %s) to "
                "receive %s",
           client_id, client_ip, message);
    return false;
}

static void redirect_page(bs_req *r, bool ok)
{
    /* PocketBase's answers when no admin UI is bundled. */
    if (ok) {
        static const char html[] =
            "Auth completed. You can close this window and go back to the "
            "app.";
        bs_resp_raw(r, 200, "text/html; charset=utf-8", html,
                    sizeof html - 1);
    } else {
        static const char text[] =
            "Failed to authenticate. You can close this window and go back "
            "to the app to try again.";
        bs_resp_raw(r, 200, "text/plain; charset=utf-8", text,
                    sizeof text - 1);
    }
}

/* Keeps the name Apple sends (only) with the first redirect, for the
 * auth-with-oauth2 call that follows with the same code. */
static void store_apple_name(auth_api *api, const char *code,
                             const char *user_json)
{
    json_object *u = NULL;
    if (strlen(code) > 900 ||
        bs_json_parse(user_json, strlen(user_json), &u) != 0 || !u) {
        if (u)
            json_object_put(u);
        return;
    }
    json_object *name = bs_json_get(u, "name");
    char full[160];
    snprintf(full, sizeof full, "%s %s",
             bs_json_get_str(name, "firstName", ""),
             bs_json_get_str(name, "lastName", ""));
    json_object_put(u);
    char *s = full;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    if (!*s)
        return;
    char key[1000];
    snprintf(key, sizeof key, "@redirect_name_%s", code);
    bsa_ttl_store_set(&api->store, key, s, 60 * 1000);
}

static int oauth2_redirect(bs_event *ev, void *user)
{
    auth_api *api = user;
    bs_req *r = (bs_req *)ev;
    const char *state = "", *code = "", *error = "", *apple_user = "";
    bs_body body = {0};
    bool have_body = false;
    if (strcmp(r->method, "POST") == 0) {
        bs_error err;
        bs_error_init(&err);
        have_body = bs_req_read_body(r, &body, &err) == 0;
        bs_error_dispose(&err);
        if (!have_body) {
            redirect_page(r, false);
            return 0;
        }
        state = bs_json_get_str(body.data, "state", "");
        code = bs_json_get_str(body.data, "code", "");
        error = bs_json_get_str(body.data, "error", "");
        apple_user = bs_json_get_str(body.data, "user", "");
    } else {
        const char *v;
        if ((v = bs_req_query(r, "state")))
            state = v;
        if ((v = bs_req_query(r, "code")))
            code = v;
        if ((v = bs_req_query(r, "error")))
            error = v;
    }
    bool ok = false;
    if (*state) {
        if (*apple_user && !*error && *code)
            store_apple_name(api, code, apple_user);
        json_object *msg = json_object_new_object();
        json_object_object_add(msg, "state", json_object_new_string(state));
        json_object_object_add(msg, "code", json_object_new_string(code));
        if (*error)
            json_object_object_add(msg, "error", json_object_new_string(error));
        bs_buf text;
        bs_buf_init(&text);
        bs_json_write(&text, msg);
        json_object_put(msg);
        bs_settings *s = bs_app_settings(ev->app);
        const char *ip = bs_ratelimit_client_ip(r, s->value);
        bs_settings_unref(s);
        ok = handoff_to_realtime(ev->app, state, ip,
                                 text.data ? text.data : "{}") &&
             !*error && *code;
        bs_buf_dispose(&text);
    }
    redirect_page(r, ok);
    if (have_body)
        bs_body_dispose(&body);
    return 0;
}

int bsa_auth_oauth2_register(auth_api *api)
{
    static const char *const t_auth[] = {"authWithOAuth2", "auth", NULL};
    if (!bsa_auth_route(api, "POST",
                        "/api/collections/{collection}/auth-with-oauth2",
                        auth_with_oauth2, t_auth, false) ||
        !bs_router_add(api->app->router, "GET", "/api/oauth2-redirect",
                       oauth2_redirect, api) ||
        !bs_router_add(api->app->router, "POST", "/api/oauth2-redirect",
                       oauth2_redirect, api))
        return BS_ENOMEM;
    return 0;
}
