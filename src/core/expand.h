/*
 * expand.h - expanding relations of records (`?expand=rel,rel.sub`) and
 * the per-requester visibility of auth record emails.
 */
#ifndef BS_EXPAND_H
#define BS_EXPAND_H

#include "record.h"

typedef struct bs_expand_ctx {
    bs_app *app;
    bs_schema *schema;
    json_object *request;       /* @request data for the view rules */
    bool superuser;
    const char *auth_collection; /* id of the requester's collection */
    const char *auth_id;
} bs_expand_ctx;

/* The most bytes the expanded relations of one request may add to its
 * response. PocketBase has no such limit; without one, a few records
 * related to each other make a response of gigabytes. */
#define BS_EXPAND_MAX_BYTES (16u << 20)

/* Expands the comma-separated paths on every record (up to 6 levels).
 * Each related record must pass its collection's view rule for this
 * requester; those that do not are left out. Unknown paths are ignored.
 * Related records are shared between the records that point at them
 * (see bs_record_ref). Returns 0; BS_EHTTP with err set to a 400 when the
 * expansion would add more than BS_EXPAND_MAX_BYTES to the response (the
 * records then carry a partial expansion and must not be written); or
 * BS_ENOMEM. Called on the request's thread. */
int bs_expand_records(const bs_expand_ctx *ctx, bs_record **recs, int n,
                      const char *paths, bs_error *err);

#endif
