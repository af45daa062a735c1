/*
 * auth_otp.c - one-time passwords: request-otp and auth-with-otp.
 *
 * request-otp stores a bcrypt-hashed random code in `_otps` and mails it;
 * an unknown email gets the same 200 with a made-up otpId, so the answer
 * does not tell whether the address exists. auth-with-otp checks the
 * code (single use: the OTP is deleted before the login completes), with
 * a fixed limit of 5 attempts per record in 3 minutes against guessing,
 * and marks the record verified when the code went to its own address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/mail.h"
#include "auth_internal.h"

/* More than this many live OTPs per record reuse the newest one. */
#define MAX_RECENT_OTPS 9

static void write_otp_id(bs_req *r, const char *id)
{
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_buf_puts(&r->resp, "{\"otpId\":");
    bs_buf_json_str(&r->resp, id, strlen(id));
    bs_buf_puts(&r->resp, "}\n");
}

static bool expired(const bs_record *rec, int64_t duration)
{
    return bsa_auth_date_secs(bs_record_get_string(rec, "created")) + duration <
           (int64_t)time(NULL);
}

static int request_otp_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    bs_app *app = ev->app;
    if (!e->record) {
        /* Enumeration protection: an otpId that leads nowhere. */
        char fake[16];
        if (bs_random_id(fake) != 0)
            return BS_EIO;
        write_otp_id(ar->q.r, fake);
        return BS_EABORT;
    }
    json_object *otp_opts = bs_json_get(ar->q.c->options, "otp");
    int64_t duration = bs_json_get_int(otp_opts, "duration", 180);
    bs_record *reuse = NULL;
    bs_record **otps = NULL;
    int n = 0;
    if (!app->dev && bsa_auth_refs_of(ar, "_otps", e->record, &otps, &n) == 0) {
        int recent = 0;
        for (int i = 0; i < n; i++) {
            if (!expired(otps[i], duration))
                recent++;
            if (recent > MAX_RECENT_OTPS) {
                reuse = otps[0];
                bs_log('W', "Too many OTP requests - reusing the last issued "
                            "(record %s, otp %s)",
                       bs_record_id(e->record), bs_record_id(reuse));
                break;
            }
        }
    }
    int rc = 0;
    if (reuse) {
        write_otp_id(ar->q.r, bs_record_id(reuse));
    } else {
        const bs_collection *oc = bsa_auth_system_collection(ar, "_otps");
        bs_record *otp = oc ? bs_record_new(ar->q.schema, oc) : NULL;
        if (!otp) {
            rc = bs_error_set(&ar->q.err, 500, "Failed to create the OTP.");
        } else {
            bs_record_set(otp, "collectionRef",
                          json_object_new_string(e->record->collection->id));
            bs_record_set(otp, "recordRef",
                          json_object_new_string(bs_record_id(e->record)));
            bs_record_set(otp, "password", json_object_new_string(e->password));
            rc = bs_record_save(app, otp, &ar->q.err);
            if (rc == 0) {
                /* The hooks run here, the delivery in the background (a
                 * failed delivery is logged). */
                bs_error merr;
                bs_error_init(&merr);
                if (bs_mail_send_record_otp(app, e->record, bs_record_id(otp),
                                            e->password, BS_MAIL_ASYNC,
                                            &merr) != 0)
                    bs_log('E', "Failed to send OTP email: %s",
                           merr.message ? merr.message : "");
                bs_error_dispose(&merr);
                write_otp_id(ar->q.r, bs_record_id(otp));
            }
            bs_record_free(otp);
        }
    }
    bsa_auth_free_recs(otps, n);
    return rc;
}

static int request_otp(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (bsa_auth_begin(r, user, &ar) != 0)
        goto done;
    json_object *otp = bs_json_get(ar.q.c->options, "otp");
    if (!bs_json_get_bool(otp, "enabled", false)) {
        bs_resp_status_error(r, 403, "The collection is not configured to "
                                     "allow OTP authentication.");
        goto done;
    }
    if (bsa_auth_read_body(&ar) != 0)
        goto done;
    const char *email;
    if (!bsa_form_str(&ar, "email", &email)) {
        bsa_fail_loading(&ar);
        goto done;
    }
    if (bsa_check_required(&ar.q.err, "email", email) &&
        bsa_check_length(&ar.q.err, "email", email, 1, 255))
        bsa_check_email(&ar.q.err, "email", email);
    if (bs_error_has_fields(&ar.q.err)) {
        bsa_fail_validation(&ar, "An error occurred while validating the "
                                 "submitted data.");
        goto done;
    }
    int rc = bsa_auth_find_by_email(ar.api, ar.q.schema, ar.q.c, email, &rec);
    if (rc != 0 && rc != BS_ENOTFOUND) {
        bs_resp_status_error(r, 500, NULL);
        goto done;
    }
    int64_t len = bs_json_get_int(otp, "length", 8);
    if (len < 1 || len > 64)
        len = 8;
    char password[65];
    if (bs_random_string(password, (size_t)len, "1234567890") != 0) {
        bs_resp_status_error(r, 500, NULL);
        goto done;
    }
    bs_record_auth_event e = {.record = rec, .password = password};
    bsa_auth_trigger(&ar, BS_ON_RECORD_REQUEST_OTP_REQUEST, &e,
                     request_otp_final, &ar);
    explicit_bzero(password, sizeof password);

done:
    bs_record_free(rec);
    bsa_auth_end(&ar);
    return 0;
}

/* ---- auth-with-otp ------------------------------------------------------------ */

typedef struct otp_ctx {
    auth_req *ar;
    bs_record *otp;
} otp_ctx;

static int auth_with_otp_final(bs_event *ev, void *user)
{
    otp_ctx *oc = user;
    auth_req *ar = oc->ar;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    bs_app *app = ev->app;
    if (!e->record)
        return bs_error_set(&ar->q.err, 400, "Invalid or expired OTP");
    /* Single use: gone before the login goes on. */
    char sent_to[320];
    snprintf(sent_to, sizeof sent_to, "%s",
             bs_record_get_string(oc->otp, "sentTo"));
    bs_error err;
    bs_error_init(&err);
    if (bs_record_delete(app, oc->otp, &err) != 0)
        bs_log('E', "Failed to delete used OTP %s", bs_record_id(oc->otp));
    bs_error_dispose(&err);
    bs_record *rec = e->record;
    if (!bs_record_get_bool(rec, "verified") && *sent_to &&
        strcmp(bs_record_get_string(rec, "email"), sent_to) == 0) {
        bs_record_set(rec, "verified", json_object_new_boolean(1));
        /* A verified upgrade through a code alone resets the password,
         * against accounts pre-created by someone else. */
        if (!bs_json_get_bool(bs_json_get(rec->collection->options, "mfa"),
                              "enabled", false)) {
            char pw[31];
            bsa_random_password(pw);
            bs_record_set(rec, "password", json_object_new_string(pw));
            explicit_bzero(pw, sizeof pw);
        }
        bs_error_init(&err);
        if (bs_record_save(app, rec, &err) != 0)
            bs_log('E', "Failed to update record verified state after "
                        "successful OTP validation (record %s): %s",
                   bs_record_id(rec), err.message ? err.message : "");
        bs_error_dispose(&err);
    }
    bsa_auth_respond(ar, rec, NULL, "otp", NULL);
    return 0;
}

static int auth_with_otp(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *otp = NULL, *rec = NULL;
    if (bsa_auth_begin(r, user, &ar) != 0)
        goto done;
    json_object *otp_opts = bs_json_get(ar.q.c->options, "otp");
    if (!bs_json_get_bool(otp_opts, "enabled", false)) {
        bs_resp_status_error(r, 403, "The collection is not configured to "
                                     "allow OTP authentication.");
        goto done;
    }
    if (bsa_auth_read_body(&ar) != 0)
        goto done;
    ar.q.context = "otp";
    const char *otp_id, *password;
    if (!bsa_form_str(&ar, "otpId", &otp_id) ||
        !bsa_form_str(&ar, "password", &password)) {
        bsa_fail_loading(&ar);
        goto done;
    }
    if (bsa_check_required(&ar.q.err, "otpId", otp_id))
        bsa_check_length(&ar.q.err, "otpId", otp_id, 1, 255);
    if (bsa_check_required(&ar.q.err, "password", password))
        bsa_check_length(&ar.q.err, "password", password, 1, 71);
    if (bs_error_has_fields(&ar.q.err)) {
        bsa_fail_validation(&ar, "An error occurred while validating the "
                                 "submitted data.");
        goto done;
    }
    /* One generic answer for every failure: no hint which part was
     * wrong. */
    static const char invalid[] = "Invalid or expired OTP";
    if (bsa_auth_find_system_record(&ar, "_otps", otp_id, &otp) != 0 ||
        strcmp(bs_record_get_string(otp, "collectionRef"), ar.q.c->id) != 0 ||
        expired(otp, bs_json_get_int(otp_opts, "duration", 180))) {
        bs_resp_status_error(r, 400, invalid);
        goto done;
    }
    bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
    int rc = bs_record_find(conn, ar.q.schema, ar.q.c,
                            bs_record_get_string(otp, "recordRef"), &rec);
    bs_store_reader_release(r->ev.app->store, conn);
    if (rc) {
        bs_resp_status_error(r, 400, invalid);
        goto done;
    }
    /* Codes are short digit strings: at most 5 tries per record in 3
     * minutes, whatever the settings say. */
    bs_settings *s = bs_app_settings(r->ev.app);
    const char *ip = bs_ratelimit_client_ip(r, s->value);
    bs_settings_unref(s);
    char rl_id[64];
    snprintf(rl_id, sizeof rl_id, "@pb_otp_%s", bs_record_id(rec));
    if (*ip && !bs_ratelimiter_allow(ar.api->limiter, rl_id, ip, 5, 180,
                                     (int64_t)time(NULL))) {
        bs_resp_status_error(r, 429, "Too many attempts, please try again "
                                     "later with a new OTP.");
        goto done;
    }
    if (!bs_password_check(otp, password)) {
        bs_resp_status_error(r, 400, invalid);
        goto done;
    }
    otp_ctx oc = {.ar = &ar, .otp = otp};
    bs_record_auth_event e = {.record = rec, .otp_id = otp_id};
    bsa_auth_trigger(&ar, BS_ON_RECORD_AUTH_WITH_OTP_REQUEST, &e,
                     auth_with_otp_final, &oc);

done:
    bs_record_free(otp);
    bs_record_free(rec);
    bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_otp_register(auth_api *api)
{
    static const char *const t_request[] = {"requestOTP", NULL};
    static const char *const t_auth[] = {"authWithOTP", "auth", NULL};
    if (!bsa_auth_route(api, "POST",
                        "/api/collections/{collection}/request-otp",
                        request_otp, t_request, false) ||
        !bsa_auth_route(api, "POST",
                        "/api/collections/{collection}/auth-with-otp",
                        auth_with_otp, t_auth, false))
        return BS_ENOMEM;
    return 0;
}
