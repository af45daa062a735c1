/*
 * context.h - the request context every collection endpoint works on:
 * the records API (records.c) uses it as is, the auth API (auth_*.c)
 * embeds it in its auth_req.
 *
 * A handler starts it with bsa_req_init on its own stack, fills err on
 * failure, and ends it with bsa_req_dispose in every case. Everything
 * here belongs to the worker thread of the request.
 */
#ifndef BS_API_CONTEXT_H
#define BS_API_CONTEXT_H

#include "../base/error.h"
#include "../http/request.h"
#include "../schema/schema.h"
#include "../http/body.h"

typedef struct bsa_req {
    bs_req *r;
    bs_schema *schema;        /* a reference, released by dispose */
    const bs_collection *c;   /* the collection named by the path, or NULL */
    bool superuser;           /* the requester is a superuser */
    json_object *info;        /* @request data, built on first use */
    const char *context;      /* @request.context ("password", "otp",
                                 "oauth2"), NULL for the default; borrowed */
    bs_body body;             /* the submitted body when have_body */
    bool have_body;           /* body was read (and becomes @request.body) */
    bool internal;            /* for another endpoint: no response, no
                                 expand */
    struct bs_record_form *form; /* records: the submission being saved,
                                    whose @request data rules see; NULL
                                    otherwise */
    bs_error err;
} bsa_req;

/* Zeroes q, takes a reference to the app's schema and resolves the
 * collection of that id or name (NULL: none). The caller answers a
 * missing collection itself. */
void bsa_req_init(bsa_req *q, bs_req *r, const char *collection);

/* Releases the schema, the body, the @request data and the error. */
void bsa_req_dispose(bsa_req *q);

/* The @request data of the request: during a records create or update
 * (form set) the form's, whose body is the resolved submission; else
 * bsa_req_own_info's. Borrowed; lives until dispose. */
json_object *bsa_req_info(bsa_req *q);

/* The @request data of the request itself, built on first use: the
 * requester, the body when read (have_body), query, headers, method, and
 * context when set. user is the bsa_req; the signature is a
 * bs_request_info_fn, the builder a record form calls when a rule needs
 * it. Borrowed; lives until dispose. */
json_object *bsa_req_own_info(void *user);

/* Whether the record id of c satisfies rule for this requester
 * (PocketBase's CanAccessRecord): superusers always, a NULL rule nobody
 * else, "" everybody, else the rule must select the record (evaluated
 * with bsa_req_info). err carries a rule compile failure. */
bool bsa_req_matches_rule(bsa_req *q, const bs_collection *c,
                          const char *id, const char *rule, bs_error *err);

/* Shapes records for the requester as the records API returns them
 * (records.c): hidden fields and email visibility, the manage rule,
 * `expand` from the query, the enrich hook. Returns 0 or an error code
 * with q->err filled. */
int bsa_records_enrich(bsa_req *q, bs_record **recs, int n);

#endif
