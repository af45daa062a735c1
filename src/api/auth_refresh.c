/*
 * auth_refresh.c - POST /api/collections/{collection}/auth-refresh: the
 * requester's own record (of the path's collection) answered as a login,
 * with a fresh token when the presented one is refreshable and the same
 * token otherwise (an impersonation token is not refreshable).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../core/auth.h"
#include "../core/token.h"
#include "auth_internal.h"

static int refresh_final(bs_event *ev, void *user)
{
    auth_req *ar = user;
    bs_record_auth_event *e = (bs_record_auth_event *)ev;
    if (!e->record)
        return bs_error_set(&ar->q.err, 404, "Missing auth record context.");
    const char *token = bs_req_header(ar->q.r, "Authorization");
    if (!token)
        token = "";
    if (strlen(token) > 7 && strncasecmp(token, "Bearer ", 7) == 0)
        token += 7;
    /* The auth middleware decoded this token already, unless a hook has
     * changed the header since. */
    const bs_auth *a = ar->q.r->auth;
    bool refreshable;
    if (a && a->token && strcmp(a->token, token) == 0) {
        refreshable = a->refreshable;
    } else {
        json_object *claims = NULL;
        refreshable = bs_token_peek(token, &claims) == 0 &&
                      bs_json_get_bool(claims, "refreshable", false);
        if (claims)
            json_object_put(claims);
    }
    char *fresh = NULL;
    if (refreshable) {
        bs_buf t;
        bs_buf_init(&t);
        if (bs_token_for_record(e->record, BS_TOKEN_AUTH, 0, true, NULL,
                                &t) != 0) {
            bs_buf_dispose(&t);
            return bs_error_set(&ar->q.err, 500, "Failed to refresh auth "
                                               "token.");
        }
        fresh = bs_buf_steal(&t, NULL);
    }
    bsa_auth_respond(ar, e->record, fresh ? fresh : token, "", NULL);
    free(fresh);
    return 0;
}

static int auth_refresh(bs_event *ev, void *user)
{
    bs_req *r = (bs_req *)ev;
    auth_req ar;
    bs_record *rec = NULL;
    if (bsa_auth_begin(r, user, &ar) != 0)
        goto done;
    if (!r->auth) {
        bs_resp_status_error(r, 404, "Missing auth record context.");
        goto done;
    }
    if (r->auth->schema == ar.q.schema && r->auth->collection == ar.q.c) {
        /* Verifying the token loaded the record's row just now. */
        rec = bs_record_from_raw(ar.q.schema, ar.q.c, r->auth->record);
    } else {
        bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
        bs_record_find(conn, ar.q.schema, ar.q.c, r->auth->id, &rec);
        bs_store_reader_release(r->ev.app->store, conn);
    }
    bs_record_auth_event e = {.record = rec};
    bsa_auth_trigger(&ar, BS_ON_RECORD_AUTH_REFRESH_REQUEST, &e, refresh_final,
                     &ar);

done:
    bs_record_free(rec);
    bsa_auth_end(&ar);
    return 0;
}

int bsa_auth_refresh_register(auth_api *api)
{
    static const char *const tags[] = {"authRefresh", NULL};
    if (!bsa_auth_route(api, "POST",
                        "/api/collections/{collection}/auth-refresh",
                        auth_refresh, tags, true))
        return BS_ENOMEM;
    return 0;
}
