/*
 * rules.h - API rules and client filters applied to record queries.
 *
 * The bridge between the records API and the filter language: it builds
 * the @request data of a request and appends compiled rule and filter
 * expressions (with their joins and parameters) to a query.
 */
#ifndef BS_RULES_H
#define BS_RULES_H

#include "../db/query.h"
#include "../http/request.h"
#include "schema.h"

typedef struct bs_rule_ctx {
    bs_app *app;
    bs_schema *schema;
    const bs_collection *collection;
    const char *alias;        /* SQL name of the main table in the query */
    json_object *request;     /* @request data (borrowed) */
    bool superuser;
} bs_rule_ctx;

/* The @request data of r: auth (the auth record's fields or null), body,
 * query, headers (lower-cased, '-' as '_'), method and context. body is
 * borrowed (may be NULL). Returns a new object. */
json_object *bs_rules_request_info(bs_req *r, const json_object *body);

/* Compiled parts for one query: joins to add after FROM, and a WHERE
 * expression. Parameters are added to the query as they are compiled. */
typedef struct bs_rule_sql {
    bs_buf joins;
    bs_buf where;      /* "" when nothing to add */
    bs_buf order;      /* ORDER BY list, "" when none */
    bool distinct;     /* joins may repeat main rows */
} bs_rule_sql;

void bs_rule_sql_init(bs_rule_sql *s);
void bs_rule_sql_dispose(bs_rule_sql *s);

/* Compiles expr (an API rule or a client filter) and ANDs it into s,
 * adding parameters to q. `allow_hidden` lets hidden fields through
 * (superusers). Returns 0 or BS_EHTTP with a 400 in err. */
int bs_rules_add_filter(const bs_rule_ctx *ctx, const char *expr,
                        bool allow_hidden, bs_query *q, bs_rule_sql *s,
                        bs_error *err);

/* Compiles a sort expression ("-created,title") into s->order. */
int bs_rules_add_sort(const bs_rule_ctx *ctx, const char *expr,
                      bool allow_hidden, bs_query *q, bs_rule_sql *s,
                      bs_error *err);

/* Marks the auth records the requester manages (the collection's
 * manageRule matches them) so their emails are shown. */
struct bs_record;
void bs_manage_visibility(bs_app *app, bs_schema *schema,
                          const bs_collection *c, json_object *request,
                          struct bs_record **recs, int n);

/* Whether the requester may manage rec (change its email, password and
 * verified state without the old password). */
bool bs_has_manage_access(bs_app *app, bs_schema *schema,
                          const bs_collection *c, json_object *request,
                          const struct bs_record *rec);

#endif
