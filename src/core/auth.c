/*
 * auth.c - token verification and auth record loading.
 */
#include "auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../db/sql.h"
#include "app.h"
#include "token.h"

void bs_auth_free(bs_auth *a)
{
    if (!a)
        return;
    if (a->record)
        json_object_put(a->record);
    free(a->token);
    bs_schema_unref(a->schema);
    free(a);
}

int bs_record_row_load(bs_conn *conn, const bs_collection *c, const char *id,
                       json_object **out)
{
    *out = NULL;
    bs_rows rows;
    int step = bs_sql_select_by_id(conn, c->name, id, &rows);
    if (step == 1)
        *out = bs_rows_json(&rows);
    bs_rows_close(&rows);
    if (step != 1)
        return step == 0 ? BS_ENOTFOUND : BS_EDB;
    return *out ? 0 : BS_ENOMEM;
}

int bs_auth_from_token(bs_app *app, const char *token, bs_auth **out)
{
    *out = NULL;
    if (!token)
        return BS_EINVAL;
    if (strncasecmp(token, "Bearer ", 7) == 0)
        token += 7;
    while (*token == ' ')
        token++;
    json_object *claims = NULL;
    if (bs_token_peek(token, &claims) != 0)
        return BS_EINVAL;
    int rc = BS_EINVAL;
    bs_auth *a = calloc(1, sizeof *a);
    if (!a) {
        json_object_put(claims);
        return BS_ENOMEM;
    }
    a->schema = bs_app_schema(app);
    const char *type = bs_json_get_str(claims, "type", "");
    const char *cid = bs_json_get_str(claims, "collectionId", "");
    const char *id = bs_json_get_str(claims, "id", "");
    if (strcmp(type, "auth") != 0 || !*cid || !*id)
        goto done;
    const bs_collection *c = bs_schema_find(a->schema, cid);
    if (!c || strcmp(c->id, cid) != 0 || !bs_collection_is_auth(c))
        goto done;
    bs_conn *conn = bs_store_reader_acquire(app->store);
    int lrc = bs_record_row_load(conn, c, id, &a->record);
    bs_store_reader_release(app->store, conn);
    if (lrc)
        goto done;
    bs_buf key;
    bs_buf_init(&key);
    bs_buf_puts(&key, bs_json_get_str(a->record, "tokenKey", ""));
    bs_buf_puts(&key, bs_collection_token_secret(c, "authToken"));
    bool valid = !key.oom && bs_token_verify_claims(token, claims, key.data,
                                                    key.len, time(NULL)) == 0;
    bs_buf_dispose(&key);
    if (!valid)
        goto done;
    a->collection = c;
    a->id = bs_json_get_str(a->record, "id", "");
    a->superuser = strcmp(c->name, "_superusers") == 0;
    /* Kept so that a handler reading the same token again (auth-refresh)
     * need not decode it twice; without memory it decodes it itself. */
    a->token = strdup(token);
    a->refreshable = bs_json_get_bool(claims, "refreshable", false);
    rc = 0;

done:
    json_object_put(claims);
    if (rc) {
        bs_auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

const char *bs_req_auth_id(bs_req *r)
{
    return r->auth ? r->auth->id : NULL;
}

const char *bs_req_auth_collection(bs_req *r)
{
    return r->auth ? r->auth->collection->name : NULL;
}

bool bs_req_is_superuser(bs_req *r)
{
    return r->auth && r->auth->superuser;
}
