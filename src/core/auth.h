/*
 * auth.h - who a request is: token verification and auth record loading.
 *
 * The HTTP middlewares built on it live in the API layer
 * (src/api/middleware.h).
 */
#ifndef BS_AUTH_H
#define BS_AUTH_H

#include "../http/request.h"
#include "../schema/schema.h"

struct bs_auth {
    bs_schema *schema;                /* reference held while auth lives */
    const bs_collection *collection;  /* the record's auth collection */
    json_object *record;              /* the record's row, raw columns */
    const char *id;                   /* points into record */
    char *token;      /* the verified token without "Bearer ", owned;
                       * NULL when the auth did not come from a token */
    bool refreshable; /* the token's "refreshable" claim */
    bool superuser;
};

/* Verifies an auth token (with or without "Bearer ") and loads its
 * record. Returns 0 and a new bs_auth, or BS_EINVAL for any invalid,
 * expired or unknown token. */
int bs_auth_from_token(bs_app *app, const char *token, bs_auth **out);
void bs_auth_free(bs_auth *a);

/* Loads a record row of collection c by id through conn as a json object
 * of raw column values. Returns BS_ENOTFOUND when missing. */
int bs_record_row_load(bs_conn *conn, const bs_collection *c, const char *id,
                       json_object **out);

#endif
