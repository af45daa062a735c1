/*
 * context.c - the request context of the collection endpoints (see
 * context.h): its life cycle, the @request data that rules are
 * evaluated with (built only when a rule runs), and the record access
 * check made with them.
 */
#include <ctype.h>
#include <string.h>

#include "../base/json.h"
#include "../core/app.h"
#include "../core/auth.h"
#include "../core/record_form.h"
#include "../core/rules.h"
#include "context.h"

void bsa_req_init(bsa_req *q, bs_req *r, const char *collection)
{
    memset(q, 0, sizeof *q);
    bs_error_init(&q->err);
    q->r = r;
    q->schema = bs_app_schema(r->ev.app);
    q->c = collection ? bs_schema_find(q->schema, collection) : NULL;
    q->superuser = r->auth && r->auth->superuser;
}

void bsa_req_dispose(bsa_req *q)
{
    if (q->have_body)
        bs_body_dispose(&q->body);
    if (q->info)
        json_object_put(q->info);
    bs_error_dispose(&q->err);
    bs_schema_unref(q->schema);
}

json_object *bsa_req_info(bsa_req *q)
{
    return q->form ? bs_record_form_request(q->form) : bsa_req_own_info(q);
}

json_object *bsa_req_own_info(void *user)
{
    bsa_req *q = user;
    if (!q->info) {
        q->info = bs_rules_request_info(q->r,
                                        q->have_body ? q->body.data : NULL);
        if (q->info && q->context)
            json_object_object_add(q->info, "context",
                                   json_object_new_string(q->context));
    }
    return q->info;
}

bool bsa_req_matches_rule(bsa_req *q, const bs_collection *c,
                          const char *id, const char *rule, bs_error *err)
{
    if (q->r->auth && q->r->auth->superuser)
        return true;
    if (!rule)
        return false;
    while (isspace((unsigned char)*rule))
        rule++;
    if (!*rule)
        return true; /* no query and no @request data for an empty rule */
    bs_rule_ctx ctx = {.app = q->r->ev.app, .schema = q->schema,
                       .collection = c, .alias = c->name,
                       .request = bsa_req_info(q)};
    return bs_rules_find_record(&ctx, id, rule, NULL, err) == 0;
}
