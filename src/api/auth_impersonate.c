/*
 * auth_impersonate.c - POST /api/collections/{collection}/impersonate/{id}
 * (superusers): a non-refreshable auth token for any record of the
 * collection, valid for the given duration in seconds (0: the
 * collection's auth token duration), answered as a login.
 */
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../core/auth.h"
#include "../core/token.h"
#include "auth_internal.h"

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
    if (bsa_auth_begin(r, user, &ar) != 0)
        goto done;
    bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
    int rc = bs_record_find(conn, ar.q.schema, ar.q.c, bs_req_param(r, "id"),
                            &rec);
    bs_store_reader_release(r->ev.app->store, conn);
    if (rc) {
        bs_resp_status_error(r, 404, NULL);
        goto done;
    }
    if (bsa_auth_read_body(&ar) != 0)
        goto done;
    int64_t duration = 0;
    /* A form sends text (a key given twice binds its first value); JSON
     * must hold an integer, as Go's decoder into an int64 demands. */
    json_object *d = bs_json_get(ar.q.body.data, "duration");
    if (ar.q.body.form && d && json_object_is_type(d, json_type_array))
        d = json_object_array_length(d) ? json_object_array_get_idx(d, 0)
                                        : NULL;
    if (d && json_object_is_type(d, json_type_int)) {
        duration = json_object_get_int64(d);
    } else if (ar.q.body.form && d &&
               json_object_is_type(d, json_type_string)) {
        char *end;
        const char *s = json_object_get_string(d);
        duration = strtoll(s, &end, 10);
        if (*s && *end) {
            bsa_fail_loading(&ar);
            goto done;
        }
    } else if (d && !json_object_is_type(d, json_type_null)) {
        bsa_fail_loading(&ar);
        goto done;
    }
    if (duration < 0) {
        bs_error_field(&ar.q.err, "duration",
                       "validation_min_greater_equal_than_required",
                       "Must be no less than 0.");
        bsa_fail_validation(&ar, "An error occurred while validating the "
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
    bsa_auth_respond(&ar, rec, t.data, "", NULL);
    bs_buf_dispose(&t);

done:
    bs_record_free(rec);
    if (ar.q.schema)
        bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_impersonate_register(auth_api *api)
{
    if (!bsa_auth_superuser_route(
            api, "POST", "/api/collections/{collection}/impersonate/{id}",
            impersonate))
        return BS_ENOMEM;
    return 0;
}
