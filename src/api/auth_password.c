/*
 * auth_password.c - POST /api/collections/{collection}/auth-with-password:
 * the identity is looked up by the identityField given, or by email
 * first and then the other identity fields of the collection in order;
 * the password is checked in the hook's built-in step, and an unknown
 * identity costs a bcrypt check like a wrong password does.
 */
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../core/password.h"
#include "auth_internal.h"

/* A bcrypt check against some record of the collection (or a fixed hash)
 * so that an unknown identity costs what a wrong password costs. */
static void dummy_password_check(auth_req *ar)
{
    static const char fallback[] =
        "$2a$10$1UPJoBdUnQm8OnEbV2I6Iu4yz5UC0/ZRa1BHWd5cDvhUSZZ5Qkk/S";
    bs_record_where w = {.column = "password", .value = "", .differs = true};
    bs_record *some = NULL;
    bs_record_find_first_where(ar->q.r->ev.app, ar->q.schema, ar->q.c, &w, 1,
                               NULL, &some);
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
        return bs_error_set(&ar->q.err, 400, "Failed to authenticate.");
    }
    bsa_auth_respond(ar, e->record, NULL, "password", NULL);
    return 0;
}

static int auth_with_password(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (bsa_auth_begin(r, user, &ar) != 0)
        goto done;
    json_object *pw = bs_json_get(ar.q.c->options, "passwordAuth");
    if (!bs_json_get_bool(pw, "enabled", false)) {
        bs_resp_status_error(r, 403, "The collection is not configured to "
                                     "allow password authentication.");
        goto done;
    }
    if (bsa_auth_read_body(&ar) != 0)
        goto done;
    ar.q.context = "password";
    const char *identity, *password, *field;
    if (!bsa_form_str(&ar, "identity", &identity) ||
        !bsa_form_str(&ar, "password", &password) ||
        !bsa_form_str(&ar, "identityField", &field)) {
        bsa_fail_loading(&ar);
        goto done;
    }
    if (bsa_check_required(&ar.q.err, "identity", identity))
        bsa_check_length(&ar.q.err, "identity", identity, 1, 255);
    if (bsa_check_required(&ar.q.err, "password", password))
        bsa_check_length(&ar.q.err, "password", password, 1, 255);
    if (*field && bsa_check_length(&ar.q.err, "identityField", field, 1, 255) &&
        !bsa_auth_identity_allowed(ar.q.c, field))
        bs_error_field(&ar.q.err, "identityField", "validation_in_invalid",
                       "Must be a valid value.");
    if (bs_error_has_fields(&ar.q.err)) {
        bsa_fail_validation(&ar, "An error occurred while validating the "
                                 "submitted data.");
        goto done;
    }
    int rc = BS_ENOTFOUND;
    if (*field) {
        rc = bsa_auth_find_by_identity(ar.api, ar.q.schema, ar.q.c, field,
                                       identity, &rec);
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
                rc = bsa_auth_find_by_identity(ar.api, ar.q.schema, ar.q.c, f,
                                               identity, &rec);
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
    bsa_auth_trigger(&ar, BS_ON_RECORD_AUTH_WITH_PASSWORD_REQUEST, &e,
                     password_final, &ar);

done:
    bs_record_free(rec);
    bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_password_register(auth_api *api)
{
    static const char *const tags[] = {"authWithPassword", "auth", NULL};
    if (!bsa_auth_route(api, "POST",
                        "/api/collections/{collection}/auth-with-password",
                        auth_with_password, tags, false))
        return BS_ENOMEM;
    return 0;
}
