/*
 * auth_settings.c - POST /api/settings/test/email (superusers): sends one
 * of the auth mails (verification, password-reset, email-change, otp,
 * login-alert) to an address, rendered for a stand-in record of the
 * chosen auth collection (_superusers by default), through the real
 * mail hooks and transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/field.h"
#include "../core/mail.h"
#include "../core/token.h"
#include "auth_internal.h"

/* A request context without a collection (these routes have none). */
static void plain_begin(bs_req *r, auth_api *api, auth_req *ar)
{
    memset(ar, 0, sizeof *ar);
    bsa_req_init(&ar->q, r, NULL);
    ar->api = api;
}

/* ---- test email ------------------------------------------------------------- */

static const char *const TEMPLATES[] = {"verification", "password-reset",
                                        "email-change", "otp", "login-alert"};

static int test_email(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    plain_begin(r, user, &ar);
    if (bsa_auth_read_body(&ar) != 0)
        goto done;
    const char *email, *tmpl, *coll;
    if (!bsa_form_str(&ar, "email", &email) ||
        !bsa_form_str(&ar, "template", &tmpl) ||
        !bsa_form_str(&ar, "collection", &coll)) {
        bsa_fail_loading(&ar);
        goto done;
    }
    const bs_collection *c = NULL;
    if (*coll && bsa_check_length(&ar.q.err, "collection", coll, 1, 255)) {
        c = bs_schema_find(ar.q.schema, coll);
        if (!c || !bs_collection_is_auth(c))
            bs_error_field(&ar.q.err, "collection",
                           "validation_invalid_auth_collection",
                           "Must be a valid auth collection id or name.");
    }
    if (bsa_check_required(&ar.q.err, "email", email) &&
        bsa_check_length(&ar.q.err, "email", email, 1, 255))
        bsa_check_email(&ar.q.err, "email", email);
    int which = -1;
    if (bsa_check_required(&ar.q.err, "template", tmpl)) {
        for (int i = 0; i < 5; i++)
            if (strcmp(tmpl, TEMPLATES[i]) == 0)
                which = i;
        if (which < 0)
            bs_error_field(&ar.q.err, "template", "validation_in_invalid",
                           "Must be a valid value.");
    }
    if (bs_error_has_fields(&ar.q.err)) {
        bsa_fail_validation(&ar, "Failed to send the test email.");
        goto done;
    }
    if (!c)
        c = bs_schema_find(ar.q.schema, "_superusers");
    if (!c) {
        bs_resp_status_error(r, 400, "Failed to send the test email. Raw "
                                     "error: \nmissing _superusers");
        goto done;
    }
    /* A stand-in record: every visible field holds a marker. */
    rec = bs_record_new(ar.q.schema, c);
    if (!rec) {
        bs_resp_status_error(r, 500, NULL);
        goto done;
    }
    size_t nf = json_object_array_length(c->fields);
    for (size_t i = 0; i < nf; i++) {
        const json_object *f = json_object_array_get_idx(c->fields, i);
        if (bs_field_hidden(f))
            continue;
        char v[300];
        snprintf(v, sizeof v, "__pb_test_%s__", bs_field_name(f));
        bs_record_set(rec, bs_field_name(f), json_object_new_string(v));
    }
    char key[51];
    bs_random_string(key, 50, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                              "UVWXYZ0123456789");
    bs_record_set(rec, "tokenKey", json_object_new_string(key));
    bs_record_set(rec, "email", json_object_new_string(email));
    bs_error err;
    bs_error_init(&err);
    int rc = 0;
    switch (which) {
    case 0:
        rc = bs_mail_send_record_verification(ev->app, rec, 0, &err);
        break;
    case 1:
        rc = bs_mail_send_record_password_reset(ev->app, rec, 0, &err);
        break;
    case 2:
        rc = bs_mail_send_record_email_change(ev->app, rec, email, 0, &err);
        break;
    case 3:
        rc = bs_mail_send_record_otp(ev->app, rec, "_PB_TEST_OTP_ID_",
                                     "123456", 0, &err);
        break;
    default: {
        char now[25];
        bs_now_str(now);
        char info[80];
        snprintf(info, sizeof info, "%s - TEST_IP TEST_USER_AGENT", now);
        rc = bs_mail_send_record_auth_alert(ev->app, rec, info, 0, &err);
        break;
    }
    }
    if (rc) {
        char msg[400];
        snprintf(msg, sizeof msg, "Failed to send the test email. Raw error: "
                                  "\n%s",
                 err.message ? err.message : bs_strerror(rc));
        bs_resp_status_error(r, 400, msg);
    } else {
        bs_resp_empty(r, 204);
    }
    bs_error_dispose(&err);

done:
    bs_record_free(rec);
    bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_settings_register(auth_api *api)
{
    if (!bsa_auth_superuser_route(api, "POST", "/api/settings/test/email",
                                  test_email))
        return BS_ENOMEM;
    return 0;
}
