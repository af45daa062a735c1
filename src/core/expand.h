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

/* Expands the comma-separated paths on every record (up to 6 levels).
 * Each related record must pass its collection's view rule for this
 * requester; those that do not are left out. Unknown paths are ignored. */
void bs_expand_records(const bs_expand_ctx *ctx, bs_record **recs, int n,
                       const char *paths);

#endif
