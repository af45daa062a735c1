/*
 * auth_mail.c - the flows that go through a mailed token: email
 * verification, password reset and email change (request-* and
 * confirm-* endpoints).
 *
 * The request endpoints answer 204 whether or not the address belongs to
 * someone (PocketBase's enumeration protection) and throttle repeated
 * verification and reset mails for two minutes per record. The confirm
 * endpoints verify the token (type, signature with the record's current
 * tokenKey, expiry, collection) field by field, so a client gets
 * PocketBase's per-field error codes. Tokens are single-use in effect:
 * a password reset and an email change renew the tokenKey, which
 * invalidates every token signed before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/mail.h"
#include "../core/token.h"
#include "auth_internal.h"

#define RESEND_MS (2 * 60 * 1000)

static void resend_key(char *out, size_t cap, const char *prefix,
                       const bs_record *rec)
{
    snprintf(out, cap, "%s%s%s", prefix, rec->collection->id,
             bs_record_id(rec));
}

/* Reads {"email"} and validates it; answers on failure. */
static int read_email(auth_req *ar, const char **email)
{
    if (auth_read_body(ar) != 0)
        return BS_EHTTP;
    if (!form_str(ar, "email", email)) {
        fail_loading(ar);
        return BS_EHTTP;
    }
    if (check_required(&ar->err, "email", *email) &&
        check_length(&ar->err, "email", *email, 1, 255))
        check_email(&ar->err, "email", *email);
    if (bs_error_has_fields(&ar->err)) {
        fail_validation(ar, "An error occurred while validating the "
                            "submitted data.");
        return BS_EHTTP;
    }
    return 0;
}

/* A claim of a token as a string ("" when missing). The claims object is
 * kept in *holder for the caller to release. */
static const char *claim(const char *token, const char *key,
                         json_object **holder)
{
    *holder = NULL;
    if (!token || bs_token_peek(token, holder) != 0)
        return "";
    return bs_json_get_str(*holder, key, "");
}

/* ---- verification ------------------------------------------------------------ */

static int request_verification_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (e->record && !bs_record_get_bool(e->record, "verified")) {
        bs_error err;
        bs_error_init(&err);
        if (bs_mail_send_record_verification(ev->app, e->record,
                                             BS_MAIL_ASYNC, &err) != 0)
            bs_log('E', "Failed to send verification email: %s",
                   err.message ? err.message : "");
        bs_error_dispose(&err);
        char key[160];
        resend_key(key, sizeof key, "@limitVerificationEmail_", e->record);
        auth_store_set(ar->api, key, NULL, RESEND_MS);
    }
    bs_resp_empty(ar->r, 204);
    return 0;
}

static int request_verification(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (strcmp(ar.c->name, "_superusers") == 0) {
        bs_resp_status_error(r, 400, "All superusers are verified by "
                                     "default.");
        goto done;
    }
    const char *email;
    if (read_email(&ar, &email) != 0)
        goto done;
    if (find_by_email(ar.api, ar.schema, ar.c, email, &rec) != 0) {
        bs_resp_empty(r, 204); /* the same answer as for a real address */
        goto done;
    }
    char key[160];
    resend_key(key, sizeof key, "@limitVerificationEmail_", rec);
    if (!bs_record_get_bool(rec, "verified") &&
        auth_store_has(ar.api, key)) {
        bs_resp_empty(r, 204);
        goto done;
    }
    bs_record_auth_event e = {.record = rec};
    auth_trigger(&ar, BS_ON_RECORD_REQUEST_VERIFICATION_REQUEST, &e,
                 request_verification_final, &ar);

done:
    bs_record_free(rec);
    auth_end(&ar);
    return 0;
}

/* Checks a verification or password reset token field by field. */
static void check_token_field(auth_req *ar, const char *token,
                              const char *type, bool need_email)
{
    if (!check_required(&ar->err, "token", token))
        return;
    json_object *claims = NULL;
    const char *email = claim(token, "email", &claims);
    bs_record *rec = NULL;
    if (need_email && !*email) {
        bs_error_field(&ar->err, "token", "validation_invalid_token_claims",
                       "Missing email token claim.");
    } else if (bs_token_find_record(ar->r->ev.app, ar->schema, token, type,
                                    &rec) != 0) {
        bs_error_field(&ar->err, "token", "validation_invalid_token",
                       "Invalid or expired token.");
    } else if (strcmp(rec->collection->id, ar->c->id) != 0) {
        bs_error_field(&ar->err, "token",
                       "validation_token_collection_mismatch",
                       "The provided token is for different auth "
                       "collection.");
    } else if (need_email &&
               strcmp(bs_record_get_string(rec, "email"), email) != 0) {
        bs_error_field(&ar->err, "token", "validation_token_email_mismatch",
                       "The record email doesn't match with the requested "
                       "token claims.");
    }
    bs_record_free(rec);
    if (claims)
        json_object_put(claims);
}

typedef struct confirm_ctx {
    auth_req *ar;
    bool was_verified;
    const char *token;
    const char *password;
} confirm_ctx;

static int confirm_verification_final(bs_event *ev, void *user)
{
    confirm_ctx *cc = user;
    auth_req *ar = cc->ar;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->err, 400, "Invalid or expired verification "
                                           "token.");
    if (!cc->was_verified) {
        bs_record_set(e->record, "verified", json_object_new_boolean(1));
        /* Like the OTP flow: a later enabled password login must not
         * find a password someone else chose. */
        if (!bs_json_get_bool(bs_json_get(e->record->collection->options,
                                          "passwordAuth"),
                              "enabled", false)) {
            char pw[31];
            random_password(pw);
            bs_record_set(e->record, "password", json_object_new_string(pw));
            explicit_bzero(pw, sizeof pw);
        }
        if (bs_record_save(ev->app, e->record, &ar->err) != 0) {
            if (!ar->err.status || !bs_error_has_fields(&ar->err))
                bs_error_set(&ar->err, 400, "An error occurred while saving "
                                            "the verified state.");
            return BS_EHTTP;
        }
    }
    char key[160];
    resend_key(key, sizeof key, "@limitVerificationEmail_", e->record);
    auth_store_remove(ar->api, key);
    bs_resp_empty(ar->r, 204);
    return 0;
}

static int confirm_verification(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (strcmp(ar.c->name, "_superusers") == 0) {
        bs_resp_status_error(r, 400, "All superusers are verified by "
                                     "default.");
        goto done;
    }
    if (auth_read_body(&ar) != 0)
        goto done;
    const char *token;
    if (!form_str(&ar, "token", &token)) {
        fail_loading(&ar);
        goto done;
    }
    check_token_field(&ar, token, BS_TOKEN_VERIFICATION, true);
    if (bs_error_has_fields(&ar.err)) {
        fail_validation(&ar, "An error occurred while validating the "
                             "submitted data.");
        goto done;
    }
    if (bs_token_find_record(r->ev.app, ar.schema, token,
                             BS_TOKEN_VERIFICATION, &rec) != 0) {
        bs_resp_status_error(r, 400, "Invalid or expired verification "
                                     "token.");
        goto done;
    }
    confirm_ctx cc = {.ar = &ar,
                      .was_verified = bs_record_get_bool(rec, "verified")};
    bs_record_auth_event e = {.record = rec};
    auth_trigger(&ar, BS_ON_RECORD_CONFIRM_VERIFICATION_REQUEST, &e,
                 confirm_verification_final, &cc);

done:
    bs_record_free(rec);
    auth_end(&ar);
    return 0;
}

/* ---- password reset ---------------------------------------------------------- */

static int request_reset_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (e->record) {
        bs_error err;
        bs_error_init(&err);
        if (bs_mail_send_record_password_reset(ev->app, e->record,
                                               BS_MAIL_ASYNC, &err) != 0) {
            bs_log('E', "Failed to send password reset email: %s",
                   err.message ? err.message : "");
        } else {
            char key[160];
            resend_key(key, sizeof key, "@limitPasswordResetEmail_",
                       e->record);
            auth_store_set(ar->api, key, NULL, RESEND_MS);
        }
        bs_error_dispose(&err);
    }
    bs_resp_empty(ar->r, 204);
    return 0;
}

static int request_password_reset(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (!bs_json_get_bool(bs_json_get(ar.c->options, "passwordAuth"),
                          "enabled", false)) {
        bs_resp_status_error(r, 400, "The collection is not configured to "
                                     "allow password authentication.");
        goto done;
    }
    const char *email;
    if (read_email(&ar, &email) != 0)
        goto done;
    if (find_by_email(ar.api, ar.schema, ar.c, email, &rec) != 0) {
        bs_resp_empty(r, 204);
        goto done;
    }
    char key[160];
    resend_key(key, sizeof key, "@limitPasswordResetEmail_", rec);
    if (auth_store_has(ar.api, key)) {
        bs_resp_empty(r, 204);
        goto done;
    }
    bs_record_auth_event e = {.record = rec};
    auth_trigger(&ar, BS_ON_RECORD_REQUEST_PASSWORD_RESET_REQUEST, &e,
                 request_reset_final, &ar);

done:
    bs_record_free(rec);
    auth_end(&ar);
    return 0;
}

static int confirm_reset_final(bs_event *ev, void *user)
{
    confirm_ctx *cc = user;
    auth_req *ar = cc->ar;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->err, 400, "Invalid or expired password reset "
                                           "token.");
    bs_record *rec = e->record;
    bs_record_set(rec, "password", json_object_new_string(cc->password));
    if (!bs_record_get_bool(rec, "verified")) {
        json_object *claims = NULL;
        const char *email = claim(cc->token, "email", &claims);
        /* The reset link reached the mailbox of the record's address. */
        if (*email && strcmp(bs_record_get_string(rec, "email"), email) == 0)
            bs_record_set(rec, "verified", json_object_new_boolean(1));
        if (claims)
            json_object_put(claims);
    }
    if (bs_record_save(ev->app, rec, &ar->err) != 0) {
        if (!ar->err.status || !bs_error_has_fields(&ar->err))
            bs_error_set(&ar->err, 400, "Failed to set new password.");
        return BS_EHTTP;
    }
    char key[160];
    resend_key(key, sizeof key, "@limitPasswordResetEmail_", rec);
    auth_store_remove(ar->api, key);
    bs_resp_empty(ar->r, 204);
    return 0;
}

static int confirm_password_reset(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (auth_read_body(&ar) != 0)
        goto done;
    const char *token, *password, *confirm;
    if (!form_str(&ar, "token", &token) ||
        !form_str(&ar, "password", &password) ||
        !form_str(&ar, "passwordConfirm", &confirm)) {
        fail_loading(&ar);
        goto done;
    }
    check_token_field(&ar, token, BS_TOKEN_PASSWORD_RESET, false);
    const json_object *pf = bs_collection_field(ar.c, "password");
    int64_t min = pf ? bs_json_get_int(pf, "min", 0) : 0;
    if (check_required(&ar.err, "password", password))
        check_length(&ar.err, "password", password,
                     min > 0 ? (size_t)min : 1, 255);
    if (check_required(&ar.err, "passwordConfirm", confirm) &&
        strcmp(confirm, password) != 0)
        bs_error_field(&ar.err, "passwordConfirm", "validation_values_mismatch",
                       "Values don't match.");
    if (bs_error_has_fields(&ar.err)) {
        fail_validation(&ar, "An error occurred while validating the "
                             "submitted data.");
        goto done;
    }
    if (bs_token_find_record(r->ev.app, ar.schema, token,
                             BS_TOKEN_PASSWORD_RESET, &rec) != 0) {
        bs_resp_status_error(r, 400, "Invalid or expired password reset "
                                     "token.");
        goto done;
    }
    confirm_ctx cc = {.ar = &ar, .token = token, .password = password};
    bs_record_auth_event e = {.record = rec, .password = password};
    auth_trigger(&ar, BS_ON_RECORD_CONFIRM_PASSWORD_RESET_REQUEST, &e,
                 confirm_reset_final, &cc);

done:
    bs_record_free(rec);
    auth_end(&ar);
    return 0;
}

/* ---- email change ------------------------------------------------------------ */

static int request_email_change_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->err, 401, "The request requires valid auth "
                                           "record.");
    bs_error err;
    bs_error_init(&err);
    int rc = bs_mail_send_record_email_change(ev->app, e->record,
                                              e->new_email, 0, &err);
    bs_error_dispose(&err);
    if (rc)
        return bs_error_set(&ar->err, 400, "Failed to request email change.");
    bs_resp_empty(ar->r, 204);
    return 0;
}

static int request_email_change(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL, *other = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (strcmp(ar.c->name, "_superusers") == 0) {
        bs_resp_status_error(r, 400, "All superusers can change their emails "
                                     "directly.");
        goto done;
    }
    if (r->auth) {
        bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
        bs_record_find(conn, ar.schema, r->auth->collection, r->auth->id,
                       &rec);
        bs_store_reader_release(r->ev.app->store, conn);
    }
    if (!rec) {
        bs_resp_status_error(r, 401, "The request requires valid auth "
                                     "record.");
        goto done;
    }
    if (auth_read_body(&ar) != 0)
        goto done;
    const char *new_email;
    if (!form_str(&ar, "newEmail", &new_email)) {
        fail_loading(&ar);
        goto done;
    }
    if (check_required(&ar.err, "newEmail", new_email) &&
        check_length(&ar.err, "newEmail", new_email, 1, 255) &&
        check_email(&ar.err, "newEmail", new_email)) {
        if (strcmp(new_email, bs_record_get_string(rec, "email")) == 0)
            bs_error_field(&ar.err, "newEmail", "validation_not_in_invalid",
                           "Must not be in list.");
        else if (find_by_email(ar.api, ar.schema, rec->collection, new_email,
                               &other) == 0 &&
                 strcmp(bs_record_id(other), bs_record_id(rec)) != 0)
            bs_error_field(&ar.err, "newEmail", "validation_invalid_new_email",
                           "Invalid new email address.");
    }
    if (bs_error_has_fields(&ar.err)) {
        fail_validation(&ar, "An error occurred while validating the "
                             "submitted data.");
        goto done;
    }
    bs_record_auth_event e = {.record = rec, .new_email = new_email};
    auth_trigger(&ar, BS_ON_RECORD_REQUEST_EMAIL_CHANGE_REQUEST, &e,
                 request_email_change_final, &ar);

done:
    bs_record_free(rec);
    bs_record_free(other);
    auth_end(&ar);
    return 0;
}

/* PocketBase's parseToken of the email change form: the record and the
 * new address, or a field error for "token". */
static int parse_change_token(auth_req *ar, const char *token,
                              bs_record **rec, char **new_email,
                              bool add_error)
{
    *rec = NULL;
    *new_email = NULL;
    json_object *claims = NULL;
    const char *ne = claim(token, "newEmail", &claims);
    const char *code = NULL, *msg = NULL;
    bs_record *found = NULL, *other = NULL;
    if (!*ne) {
        code = "validation_invalid_token_payload";
        msg = "Invalid token payload - newEmail must be set.";
    } else if (bs_token_find_record(ar->r->ev.app, ar->schema, token,
                                    BS_TOKEN_EMAIL_CHANGE, &found) != 0) {
        code = "validation_invalid_token";
        msg = "Invalid or expired token.";
    } else if (strcmp(found->collection->id, ar->c->id) != 0) {
        code = "validation_token_collection_mismatch";
        msg = "The provided token is for different auth collection.";
    } else if (find_by_email(ar->api, ar->schema, ar->c, ne, &other) == 0) {
        code = "validation_invalid_token_email";
        msg = "The new email address is invalid.";
    }
    bs_record_free(other);
    if (code) {
        if (add_error)
            bs_error_field(&ar->err, "token", code, msg);
        bs_record_free(found);
        if (claims)
            json_object_put(claims);
        return BS_EINVAL;
    }
    *rec = found;
    *new_email = strdup(ne);
    if (claims)
        json_object_put(claims);
    return *new_email ? 0 : BS_ENOMEM;
}

static int confirm_email_change_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->err, 400, "Invalid or expired token.");
    bs_record_set(e->record, "email", json_object_new_string(e->new_email));
    bs_record_set(e->record, "verified", json_object_new_boolean(1));
    if (bs_record_save(ev->app, e->record, &ar->err) != 0) {
        if (!ar->err.status || !bs_error_has_fields(&ar->err))
            bs_error_set(&ar->err, 400, "Failed to confirm email change.");
        return BS_EHTTP;
    }
    bs_resp_empty(ar->r, 204);
    return 0;
}

static int confirm_email_change(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    char *new_email = NULL;
    if (auth_begin(r, user, &ar) != 0)
        goto done;
    if (strcmp(ar.c->name, "_superusers") == 0) {
        bs_resp_status_error(r, 400, "All superusers can change their emails "
                                     "directly.");
        goto done;
    }
    if (auth_read_body(&ar) != 0)
        goto done;
    const char *token, *password;
    if (!form_str(&ar, "token", &token) ||
        !form_str(&ar, "password", &password)) {
        fail_loading(&ar);
        goto done;
    }
    if (check_required(&ar.err, "token", token) &&
        parse_change_token(&ar, token, &rec, &new_email, true) == 0) {
        /* keep rec for the password check below */
    }
    if (check_required(&ar.err, "password", password) &&
        check_length(&ar.err, "password", password, 1, 100) &&
        (!rec || !bs_password_check(rec, password)))
        bs_error_field(&ar.err, "password", "validation_invalid_password",
                       "Missing or invalid auth record password.");
    if (bs_error_has_fields(&ar.err)) {
        fail_validation(&ar, "An error occurred while validating the "
                             "submitted data.");
        goto done;
    }
    if (!rec) {
        bs_resp_status_error(r, 400, "Invalid or expired token.");
        goto done;
    }
    bs_record_auth_event e = {.record = rec, .new_email = new_email};
    auth_trigger(&ar, BS_ON_RECORD_CONFIRM_EMAIL_CHANGE_REQUEST, &e,
                 confirm_email_change_final, &ar);

done:
    bs_record_free(rec);
    free(new_email);
    auth_end(&ar);
    return 0;
}

int auth_mail_register(auth_api *api)
{
    static const char *const t_req_ver[] = {"requestVerification", NULL};
    static const char *const t_conf_ver[] = {"confirmVerification", NULL};
    static const char *const t_req_pw[] = {"requestPasswordReset", NULL};
    static const char *const t_conf_pw[] = {"confirmPasswordReset", NULL};
    static const char *const t_req_em[] = {"requestEmailChange", NULL};
    static const char *const t_conf_em[] = {"confirmEmailChange", NULL};
    static const char base[] = "/api/collections/{collection}/";
    static const struct {
        const char *path;
        bs_handler_fn fn;
        const char *const *tags;
        bool same;
    } routes[] = {
        {"request-password-reset", request_password_reset, t_req_pw, false},
        {"confirm-password-reset", confirm_password_reset, t_conf_pw, false},
        {"request-verification", request_verification, t_req_ver, false},
        {"confirm-verification", confirm_verification, t_conf_ver, false},
        {"request-email-change", request_email_change, t_req_em, true},
        {"confirm-email-change", confirm_email_change, t_conf_em, false},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s%s", base, routes[i].path);
        if (!auth_route(api, "POST", p, routes[i].fn, routes[i].tags,
                        routes[i].same))
            return BS_ENOMEM;
    }
    return 0;
}
