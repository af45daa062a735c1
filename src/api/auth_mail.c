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
#include <stdarg.h>
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

/* What sets the verification and the password reset flows apart. */
typedef struct mail_flow {
    const char *token_type;   /* the type of the mailed token */
    const char *limit;        /* prefix of the resend throttle key */
    const char *mail;         /* the mail, as a failed send is logged */
    int (*send)(bs_app *app, struct bs_record *rec, int flags,
                bs_error *err);
    bool unverified_only;     /* verified records get no mail */
    bool throttle_failures;   /* a failed send starts the throttle too */
    int request_hook, confirm_hook;
    bs_handler_fn confirm_final;
    const char *bad_token;    /* the 400 of a token without its record */
} mail_flow;

/* What the built-in step of a flow's hook works with. was_verified is
 * the record's state before the confirm hook ran; token and password
 * are the password reset form's. */
typedef struct flow_ctx {
    auth_req *ar;
    const mail_flow *flow;
    bool was_verified;
    const char *token;
    const char *password;
} flow_ctx;

/* The store key of a flow's resend throttle for rec. */
static void resend_key(char *out, size_t cap, const mail_flow *f,
                       const bs_record *rec)
{
    snprintf(out, cap, "%s%s%s", f->limit, rec->collection->id,
             bs_record_id(rec));
}

/* Whether the collection allows password authentication. */
static bool password_auth_enabled(const bs_collection *c)
{
    return bs_json_get_bool(bs_json_get(c->options, "passwordAuth"),
                            "enabled", false);
}

/* Answers 400 with message when the path names the superusers
 * collection; returns whether it did. */
static bool refuse_superusers(auth_req *ar, const char *message)
{
    if (strcmp(ar->q.c->name, "_superusers") != 0)
        return false;
    bs_resp_status_error(ar->q.r, 400, message);
    return true;
}

/* Reads the body and the string form values named by the (key, out)
 * pairs after ar, ended by a NULL key; answers the 400 of a bad body
 * on failure. */
static int read_form(auth_req *ar, ...) __attribute__((sentinel));
static int read_form(auth_req *ar, ...)
{
    if (bsa_auth_read_body(ar) != 0)
        return BS_EHTTP;
    va_list ap;
    va_start(ap, ar);
    int rc = 0;
    const char *key;
    while (rc == 0 && (key = va_arg(ap, const char *)) != NULL) {
        const char **out = va_arg(ap, const char **);
        if (!bsa_form_str(ar, key, out)) {
            bsa_fail_loading(ar);
            rc = BS_EHTTP;
        }
    }
    va_end(ap);
    return rc;
}

/* Answers PocketBase's 400 of a failed validation when ar->q.err holds
 * field errors; returns whether it did. */
static bool fail_invalid(auth_req *ar)
{
    if (!bs_error_has_fields(&ar->q.err))
        return false;
    bsa_fail_validation(ar, "An error occurred while validating the "
                            "submitted data.");
    return true;
}

/* Saves a confirmed record. On failure keeps the save's field errors,
 * else sets a 400 with message, and returns BS_EHTTP. */
static int save_confirmed(bs_app *app, auth_req *ar, bs_record *rec,
                          const char *message)
{
    if (bs_record_save(app, rec, &ar->q.err) == 0)
        return 0;
    if (!ar->q.err.status || !bs_error_has_fields(&ar->q.err))
        bs_error_set(&ar->q.err, 400, "%s", message);
    return BS_EHTTP;
}

/* Reads {"email"} and validates it; answers on failure. */
static int read_email(auth_req *ar, const char **email)
{
    if (read_form(ar, "email", email, (const char *)NULL) != 0)
        return BS_EHTTP;
    if (bsa_check_required(&ar->q.err, "email", *email) &&
        bsa_check_length(&ar->q.err, "email", *email, 1, 255))
        bsa_check_email(&ar->q.err, "email", *email);
    return fail_invalid(ar) ? BS_EHTTP : 0;
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

/* ---- verification and password reset ----------------------------------------- */

/* Whether the flow mails rec at all. */
static bool wants_mail(const mail_flow *f, const bs_record *rec)
{
    return !f->unverified_only || !bs_record_get_bool(rec, "verified");
}

/* The built-in step of a request hook: sends the flow's mail and starts
 * the resend throttle. A failed send is only logged; the answer is 204
 * in every case. */
static int request_final(bs_event *ev, void *user)
{
    flow_ctx *fc = user;
    const mail_flow *f = fc->flow;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (e->record && wants_mail(f, e->record)) {
        bs_error err;
        bs_error_init(&err);
        int rc = f->send(ev->app, e->record, BS_MAIL_ASYNC, &err);
        if (rc != 0)
            bs_log('E', "Failed to send %s email: %s", f->mail,
                   err.message ? err.message : "");
        if (rc == 0 || f->throttle_failures) {
            char key[160];
            resend_key(key, sizeof key, f, e->record);
            bsa_ttl_store_set(&fc->ar->api->store, key, NULL, RESEND_MS);
        }
        bs_error_dispose(&err);
    }
    bs_resp_empty(fc->ar->q.r, 204);
    return 0;
}

/* Whether rec's mail of the flow went out within the resend window. */
static bool throttled(auth_req *ar, const mail_flow *f, const bs_record *rec)
{
    char key[160];
    resend_key(key, sizeof key, f, rec);
    return bsa_ttl_store_has(&ar->api->store, key);
}

/* The request step of a flow: reads the address and runs the flow's
 * request hook, unless the address is unknown or its mail throttled,
 * which are answered 204 like a real request. */
static void request_mail(auth_req *ar, const mail_flow *f)
{
    const char *email;
    if (read_email(ar, &email) != 0)
        return;
    bs_record *rec = NULL;
    int rc = bsa_auth_find_by_email(ar->api, ar->q.schema, ar->q.c, email,
                                    &rec);
    if (rc != 0 || (wants_mail(f, rec) && throttled(ar, f, rec))) {
        bs_resp_empty(ar->q.r, 204);
    } else {
        flow_ctx fc = {.ar = ar, .flow = f};
        bs_record_auth_event e = {.record = rec};
        bsa_auth_trigger(ar, f->request_hook, &e, request_final, &fc);
    }
    bs_record_free(rec);
}

/* Checks a verification or password reset token field by field. */
static void check_token_field(auth_req *ar, const char *token,
                              const char *type, bool need_email)
{
    if (!bsa_check_required(&ar->q.err, "token", token))
        return;
    json_object *claims = NULL;
    const char *email = claim(token, "email", &claims);
    bs_record *rec = NULL;
    if (need_email && !*email) {
        bs_error_field(&ar->q.err, "token", "validation_invalid_token_claims",
                       "Missing email token claim.");
    } else if (bs_token_find_record(ar->q.r->ev.app, ar->q.schema, token, type,
                                    &rec) != 0) {
        bs_error_field(&ar->q.err, "token", "validation_invalid_token",
                       "Invalid or expired token.");
    } else if (strcmp(rec->collection->id, ar->q.c->id) != 0) {
        bs_error_field(&ar->q.err, "token",
                       "validation_token_collection_mismatch",
                       "The provided token is for different auth "
                       "collection.");
    } else if (need_email &&
               strcmp(bs_record_get_string(rec, "email"), email) != 0) {
        bs_error_field(&ar->q.err, "token", "validation_token_email_mismatch",
                       "The record email doesn't match with the requested "
                       "token claims.");
    }
    bs_record_free(rec);
    if (claims)
        json_object_put(claims);
}

/* The confirm step of a flow once its form is checked: answers the field
 * errors, or finds the token's record and runs the flow's confirm hook
 * with e, which carries the flow's own event data. */
static void confirm_mail(flow_ctx *fc, const char *token,
                         bs_record_auth_event *e)
{
    auth_req *ar = fc->ar;
    const mail_flow *f = fc->flow;
    if (fail_invalid(ar))
        return;
    bs_record *rec = NULL;
    if (bs_token_find_record(ar->q.r->ev.app, ar->q.schema, token,
                             f->token_type, &rec) != 0) {
        bs_resp_status_error(ar->q.r, 400, f->bad_token);
    } else {
        fc->was_verified = bs_record_get_bool(rec, "verified");
        e->record = rec;
        bsa_auth_trigger(ar, f->confirm_hook, e, f->confirm_final, fc);
    }
    bs_record_free(rec);
}

/* Ends a confirm hook's built-in step: lifts the flow's resend throttle
 * and answers 204. */
static int confirm_done(flow_ctx *fc, const bs_record *rec)
{
    char key[160];
    resend_key(key, sizeof key, fc->flow, rec);
    bsa_ttl_store_remove(&fc->ar->api->store, key);
    bs_resp_empty(fc->ar->q.r, 204);
    return 0;
}

/* The built-in step of the confirm verification hook: marks the record
 * verified (unless it was already). */
static int confirm_verification_final(bs_event *ev, void *user)
{
    flow_ctx *fc = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&fc->ar->q.err, 400, "%s", fc->flow->bad_token);
    if (!fc->was_verified) {
        bs_record_set(e->record, "verified", json_object_new_boolean(1));
        /* Like the OTP flow: a later enabled password login must not
         * find a password someone else chose. */
        if (!password_auth_enabled(e->record->collection)) {
            char pw[31];
            bsa_random_password(pw);
            bs_record_set(e->record, "password", json_object_new_string(pw));
            explicit_bzero(pw, sizeof pw);
        }
        if (save_confirmed(ev->app, fc->ar, e->record,
                           "An error occurred while saving the verified "
                           "state.") != 0)
            return BS_EHTTP;
    }
    return confirm_done(fc, e->record);
}

/* The built-in step of the confirm password reset hook: sets the new
 * password, and verifies the record when the token was mailed to its
 * current address. */
static int confirm_reset_final(bs_event *ev, void *user)
{
    flow_ctx *fc = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&fc->ar->q.err, 400, "%s", fc->flow->bad_token);
    bs_record *rec = e->record;
    bs_record_set(rec, "password", json_object_new_string(fc->password));
    if (!bs_record_get_bool(rec, "verified")) {
        json_object *claims = NULL;
        const char *email = claim(fc->token, "email", &claims);
        /* The reset link reached the mailbox of the record's address. */
        if (*email && strcmp(bs_record_get_string(rec, "email"), email) == 0)
            bs_record_set(rec, "verified", json_object_new_boolean(1));
        if (claims)
            json_object_put(claims);
    }
    if (save_confirmed(ev->app, fc->ar, rec,
                       "Failed to set new password.") != 0)
        return BS_EHTTP;
    return confirm_done(fc, rec);
}

static const mail_flow VERIFICATION = {
    .token_type = BS_TOKEN_VERIFICATION,
    .limit = "@limitVerificationEmail_",
    .mail = "verification",
    .send = bs_mail_send_record_verification,
    .unverified_only = true,
    .throttle_failures = true,
    .request_hook = BS_ON_RECORD_REQUEST_VERIFICATION_REQUEST,
    .confirm_hook = BS_ON_RECORD_CONFIRM_VERIFICATION_REQUEST,
    .confirm_final = confirm_verification_final,
    .bad_token = "Invalid or expired verification token.",
};

static const mail_flow PASSWORD_RESET = {
    .token_type = BS_TOKEN_PASSWORD_RESET,
    .limit = "@limitPasswordResetEmail_",
    .mail = "password reset",
    .send = bs_mail_send_record_password_reset,
    .request_hook = BS_ON_RECORD_REQUEST_PASSWORD_RESET_REQUEST,
    .confirm_hook = BS_ON_RECORD_CONFIRM_PASSWORD_RESET_REQUEST,
    .confirm_final = confirm_reset_final,
    .bad_token = "Invalid or expired password reset token.",
};

static const char SUPERUSERS_VERIFIED[] =
    "All superusers are verified by default.";

static int request_verification(bs_event *ev, void *user)
{
    auth_req ar;
    if (bsa_auth_begin((bs_req *)ev, user, &ar) == 0 &&
        !refuse_superusers(&ar, SUPERUSERS_VERIFIED))
        request_mail(&ar, &VERIFICATION);
    bsa_auth_end(&ar);
    return 0;
}

static int confirm_verification(bs_event *ev, void *user)
{
    auth_req ar;
    const char *token;
    if (bsa_auth_begin((bs_req *)ev, user, &ar) == 0 &&
        !refuse_superusers(&ar, SUPERUSERS_VERIFIED) &&
        read_form(&ar, "token", &token, (const char *)NULL) == 0) {
        check_token_field(&ar, token, BS_TOKEN_VERIFICATION, true);
        flow_ctx fc = {.ar = &ar, .flow = &VERIFICATION};
        bs_record_auth_event e = {0};
        confirm_mail(&fc, token, &e);
    }
    bsa_auth_end(&ar);
    return 0;
}

static int request_password_reset(bs_event *ev, void *user)
{
    auth_req ar;
    if (bsa_auth_begin((bs_req *)ev, user, &ar) == 0) {
        if (password_auth_enabled(ar.q.c))
            request_mail(&ar, &PASSWORD_RESET);
        else
            bs_resp_status_error(ar.q.r, 400, "The collection is not "
                                            "configured to allow password "
                                            "authentication.");
    }
    bsa_auth_end(&ar);
    return 0;
}

/* Checks the new password of a reset form and its confirmation. */
static void check_new_password(auth_req *ar, const char *password,
                               const char *confirm)
{
    const json_object *pf = bs_collection_field(ar->q.c, "password");
    int64_t min = pf ? bs_json_get_int(pf, "min", 0) : 0;
    if (bsa_check_required(&ar->q.err, "password", password))
        bsa_check_length(&ar->q.err, "password", password,
                         min > 0 ? (size_t)min : 1, 255);
    if (bsa_check_required(&ar->q.err, "passwordConfirm", confirm) &&
        strcmp(confirm, password) != 0)
        bs_error_field(&ar->q.err, "passwordConfirm",
                       "validation_values_mismatch", "Values don't match.");
}

static int confirm_password_reset(bs_event *ev, void *user)
{
    auth_req ar;
    const char *token, *password, *confirm;
    if (bsa_auth_begin((bs_req *)ev, user, &ar) == 0 &&
        read_form(&ar, "token", &token, "password", &password,
                  "passwordConfirm", &confirm, (const char *)NULL) == 0) {
        check_token_field(&ar, token, BS_TOKEN_PASSWORD_RESET, false);
        check_new_password(&ar, password, confirm);
        flow_ctx fc = {.ar = &ar, .flow = &PASSWORD_RESET, .token = token,
                       .password = password};
        bs_record_auth_event e = {.password = password};
        confirm_mail(&fc, token, &e);
    }
    bsa_auth_end(&ar);
    return 0;
}

/* ---- email change ------------------------------------------------------------ */

static const char SUPERUSERS_CHANGE[] =
    "All superusers can change their emails directly.";

static int request_email_change_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->q.err, 401, "The request requires valid auth "
                                           "record.");
    bs_error err;
    bs_error_init(&err);
    int rc = bs_mail_send_record_email_change(ev->app, e->record,
                                              e->new_email, 0, &err);
    bs_error_dispose(&err);
    if (rc)
        return bs_error_set(&ar->q.err, 400, "Failed to request email change.");
    bs_resp_empty(ar->q.r, 204);
    return 0;
}

static int request_email_change(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL, *other = NULL;
    if (bsa_auth_begin(r, user, &ar) != 0 ||
        refuse_superusers(&ar, SUPERUSERS_CHANGE))
        goto done;
    if (r->auth) {
        bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
        bs_record_find(conn, ar.q.schema, r->auth->collection, r->auth->id,
                       &rec);
        bs_store_reader_release(r->ev.app->store, conn);
    }
    if (!rec) {
        bs_resp_status_error(r, 401, "The request requires valid auth "
                                     "record.");
        goto done;
    }
    const char *new_email;
    if (read_form(&ar, "newEmail", &new_email, (const char *)NULL) != 0)
        goto done;
    if (bsa_check_required(&ar.q.err, "newEmail", new_email) &&
        bsa_check_length(&ar.q.err, "newEmail", new_email, 1, 255) &&
        bsa_check_email(&ar.q.err, "newEmail", new_email)) {
        if (strcmp(new_email, bs_record_get_string(rec, "email")) == 0)
            bs_error_field(&ar.q.err, "newEmail", "validation_not_in_invalid",
                           "Must not be in list.");
        else if (bsa_auth_find_by_email(ar.api, ar.q.schema, rec->collection,
                                        new_email, &other) == 0 &&
                 strcmp(bs_record_id(other), bs_record_id(rec)) != 0)
            bs_error_field(&ar.q.err, "newEmail",
                           "validation_invalid_new_email",
                           "Invalid new email address.");
    }
    if (fail_invalid(&ar))
        goto done;
    bs_record_auth_event e = {.record = rec, .new_email = new_email};
    bsa_auth_trigger(&ar, BS_ON_RECORD_REQUEST_EMAIL_CHANGE_REQUEST, &e,
                     request_email_change_final, &ar);

done:
    bs_record_free(rec);
    bs_record_free(other);
    bsa_auth_end(&ar);
    return 0;
}

/* PocketBase's parseToken of the email change form: the record and the
 * new address, or a field error for "token". */
static int parse_change_token(auth_req *ar, const char *token,
                              bs_record **rec, char **new_email)
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
    } else if (bs_token_find_record(ar->q.r->ev.app, ar->q.schema, token,
                                    BS_TOKEN_EMAIL_CHANGE, &found) != 0) {
        code = "validation_invalid_token";
        msg = "Invalid or expired token.";
    } else if (strcmp(found->collection->id, ar->q.c->id) != 0) {
        code = "validation_token_collection_mismatch";
        msg = "The provided token is for different auth collection.";
    } else if (bsa_auth_find_by_email(ar->api, ar->q.schema, ar->q.c, ne,
                                      &other) == 0) {
        code = "validation_invalid_token_email";
        msg = "The new email address is invalid.";
    }
    bs_record_free(other);
    if (code) {
        bs_error_field(&ar->q.err, "token", code, msg);
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
        return bs_error_set(&ar->q.err, 400, "Invalid or expired token.");
    bs_record_set(e->record, "email", json_object_new_string(e->new_email));
    bs_record_set(e->record, "verified", json_object_new_boolean(1));
    if (save_confirmed(ev->app, ar, e->record,
                       "Failed to confirm email change.") != 0)
        return BS_EHTTP;
    bs_resp_empty(ar->q.r, 204);
    return 0;
}

static int confirm_email_change(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    char *new_email = NULL;
    const char *token, *password;
    if (bsa_auth_begin(r, user, &ar) != 0 ||
        refuse_superusers(&ar, SUPERUSERS_CHANGE) ||
        read_form(&ar, "token", &token, "password", &password,
                  (const char *)NULL) != 0)
        goto done;
    /* rec stays for the password check below. */
    if (bsa_check_required(&ar.q.err, "token", token))
        parse_change_token(&ar, token, &rec, &new_email);
    if (bsa_check_required(&ar.q.err, "password", password) &&
        bsa_check_length(&ar.q.err, "password", password, 1, 100) &&
        (!rec || !bs_password_check(rec, password)))
        bs_error_field(&ar.q.err, "password", "validation_invalid_password",
                       "Missing or invalid auth record password.");
    if (fail_invalid(&ar))
        goto done;
    if (!rec) {
        bs_resp_status_error(r, 400, "Invalid or expired token.");
        goto done;
    }
    bs_record_auth_event e = {.record = rec, .new_email = new_email};
    bsa_auth_trigger(&ar, BS_ON_RECORD_CONFIRM_EMAIL_CHANGE_REQUEST, &e,
                     confirm_email_change_final, &ar);

done:
    bs_record_free(rec);
    free(new_email);
    bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_mail_register(auth_api *api)
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
        if (!bsa_auth_route(api, "POST", p, routes[i].fn, routes[i].tags,
                            routes[i].same))
            return BS_ENOMEM;
    }
    return 0;
}
