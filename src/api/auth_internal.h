/*
 * auth_internal.h - what the auth API files (auth.c, auth_*.c) share.
 *
 * The auth endpoints keep a little state of their own for the app: a
 * store of short-lived keys (ttl_store.h: resend throttles of the
 * verification and password reset mails, the Apple user names handed
 * from the OAuth2 redirect to auth-with-oauth2). It lives in one
 * auth_api, created by bs_api_auth_register, passed to every handler as
 * its user pointer and freed when the app terminates. The rate limit
 * counters are the app's (app->limiter), shared with the record
 * endpoints.
 *
 * Each handler works on an auth_req: the request context shared with the
 * record endpoints (context.h: the resolved auth collection, the schema
 * reference, the submitted body, the @request data and an error to
 * fill) and the auth_api.
 */
#ifndef BS_AUTH_INTERNAL_H
#define BS_AUTH_INTERNAL_H

#include "../core/ratelimit.h"
#include "../core/record.h"
#include "../core/record_list.h"
#include "api.h"
#include "../http/body.h"
#include "context.h"
#include "ttl_store.h"

typedef struct auth_api {
    bs_app *app;
    bs_ratelimiter *limiter;  /* the app's (borrowed) */
    bsa_ttl_store store;      /* the short-lived keys */
} auth_api;

typedef struct auth_req {
    bsa_req q;       /* the request context (context.h); q.c is the auth
                        collection of the path */
    auth_api *api;
} auth_req;

/* Starts a handler: resolves the auth collection of the path (404
 * "Missing or invalid auth collection context." otherwise, answered).
 * bsa_auth_end must be called in every case. */
int bsa_auth_begin(bs_req *r, auth_api *api, auth_req *ar);
void bsa_auth_end(auth_req *ar);

/* Reads the submitted body (JSON, multipart or urlencoded); answers 400
 * "An error occurred while loading the submitted data." on failure. */
int bsa_auth_read_body(auth_req *ar);

/* A string form value: missing or null is "", a string is itself, and
 * any other JSON type (number, bool, array, object) is refused like Go's
 * binder refuses it (returns false). Only form values sent twice, which
 * arrive as an array, count by their first value. */
bool bsa_form_str(auth_req *ar, const char *key, const char **out);

/* Answers the 400 of a bad body when a form value has the wrong type. */
void bsa_fail_loading(auth_req *ar);

/* Field validation helpers: add PocketBase's error for the field when
 * the rule fails; return whether the value passed. */
bool bsa_check_required(bs_error *e, const char *field, const char *v);
bool bsa_check_length(bs_error *e, const char *field, const char *v, size_t min,
                      size_t max);
bool bsa_check_email(bs_error *e, const char *field, const char *v);

/* Answers 400 with the collected field errors (keys sorted, as Go
 * marshals the errors map) and message. */
void bsa_fail_validation(auth_req *ar, const char *message);

/* Finds an auth record of c by email (case-insensitive when the unique
 * email index says NOCASE). Returns 0, BS_ENOTFOUND or BS_EDB. */
int bsa_auth_find_by_email(auth_api *api, bs_schema *schema,
                           const bs_collection *c, const char *email,
                           bs_record **out);

/* Whether field is one of c's passwordAuth.identityFields. */
bool bsa_auth_identity_allowed(const bs_collection *c, const char *field);

/* Finds by one identity field (must be in passwordAuth.identityFields
 * and carry a single-column unique index). */
int bsa_auth_find_by_identity(auth_api *api, bs_schema *schema,
                              const bs_collection *c, const char *field,
                              const char *value, bs_record **out);

/* Whether another record of ar's collection holds value in field, as
 * its single-column unique index sees it (false without such an
 * index). */
bool bsa_auth_value_taken(auth_req *ar, const char *field, const char *value);

/* The common auth response (PocketBase's recordAuthResponse): superuser
 * IP whitelist, authRule, the BS_ON_RECORD_AUTH_REQUEST hook whose
 * built-in step runs the MFA check, enriches the record, sends the new
 * device alert and writes {"meta"?, "record", "token"}. token NULL
 * issues a fresh refreshable auth token. meta is borrowed. Always
 * answers the request. */
int bsa_auth_respond(auth_req *ar, bs_record *rec, const char *token,
                     const char *method, json_object *meta);

/* Triggers hook with final as the built-in step and answers the request
 * with ar->err when the chain fails without answering. */
int bsa_auth_trigger(auth_req *ar, int hook, bs_record_auth_event *e,
                     bs_handler_fn final, void *user);

/* Seconds since the epoch of a stored date ("2006-01-02 15:04:05.000Z"),
 * 0 when unparsable. */
int64_t bsa_auth_date_secs(const char *s);

/* A system collection of the request's schema (_otps, _mfas, ...). */
const bs_collection *bsa_auth_system_collection(auth_req *ar, const char *name);

/* The records of a system collection (_otps, _mfas, _authOrigins,
 * _externalAuths) referring to rec, newest first. Free with
 * bsa_auth_free_recs. */
int bsa_auth_refs_of(auth_req *ar, const char *coll, const bs_record *rec,
                     bs_record ***out, int *n);
void bsa_auth_free_recs(bs_record **recs, int n);

/* Loads a record of a system collection by id. */
int bsa_auth_find_system_record(auth_req *ar, const char *coll, const char *id,
                                bs_record **out);

/* A random password as SetRandomPassword sets (30 characters). */
void bsa_random_password(char out[31]);

/* Routes of the endpoint files, one family each. */
int bsa_auth_methods_register(auth_api *api);
int bsa_auth_password_register(auth_api *api);
int bsa_auth_refresh_register(auth_api *api);
int bsa_auth_impersonate_register(auth_api *api);
int bsa_auth_otp_register(auth_api *api);
int bsa_auth_mail_register(auth_api *api);
int bsa_auth_oauth2_register(auth_api *api);
int bsa_auth_settings_register(auth_api *api);

/* Binds the route middlewares of a collection auth endpoint: the
 * collection rate limit with tags, then (optionally) the same-collection
 * auth requirement. */
bs_route *bsa_auth_route(auth_api *api, const char *method, const char *pattern,
                         bs_handler_fn fn, const char *const *tags,
                         bool same_collection_auth);

/* A route (user pointer: api) that requires a superuser. */
bs_route *bsa_auth_superuser_route(auth_api *api, const char *method,
                                   const char *pattern, bs_handler_fn fn);

#endif
