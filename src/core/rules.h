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
#include "../schema/schema.h"

typedef struct bs_rule_ctx {
    bs_app *app;
    bs_schema *schema;
    const bs_collection *collection;
    const char *alias;        /* SQL name of the main table in the query */
    json_object *request;     /* @request data (borrowed) */
    bool superuser;
    json_object *params;      /* {:name} placeholder values, or NULL */
    /* The SQL dialect of the database the query runs on; NULL: the
     * store's (app->dialect). The logs, in SQLite whatever the store,
     * set SQLite's. */
    const struct bs_sql_dialect *dialect;
} bs_rule_ctx;

/* The @request data of r: auth (the auth record's fields or null), body,
 * query, headers (lower-cased, '-' as '_'), method and context. body is
 * borrowed (may be NULL). Returns a new object. */
json_object *bs_rules_request_info(bs_req *r, const json_object *body);

/* The same for a request without a connection: auth (NULL: a guest),
 * query and headers (objects of strings, copied; NULL: none), an empty
 * body. Returns a new object. */
json_object *bs_rules_request_info_of(const bs_auth *auth,
                                      const json_object *query,
                                      const json_object *headers,
                                      const char *method,
                                      const char *context);

/* Compiled parts for one query: joins to add after FROM, and a WHERE
 * expression. Parameters are added to the query as they are compiled. */
typedef struct bs_rule_sql {
    struct bs_filter_query *fq; /* the compiler, until finished */
    bs_buf joins;
    bs_buf where;      /* "" when nothing to add */
    bs_buf where_scan; /* where for a statement reading every row */
    bs_buf order;      /* ORDER BY list, "" when none */
    bool distinct;     /* joins may repeat main rows */
} bs_rule_sql;

void bs_rule_sql_init(bs_rule_sql *s);
void bs_rule_sql_dispose(bs_rule_sql *s);

/* ANDs expr into s: an API rule (is_rule: written by an admin, hidden
 * fields allowed) or a client filter (length limits; hidden fields and
 * unrestricted joins only for superusers). Every fragment of one
 * statement goes into the same s, then bs_rules_finish completes it.
 * Returns 0 or BS_EHTTP with a 400 in err. */
int bs_rules_add_filter(const bs_rule_ctx *ctx, const char *expr,
                        bool is_rule, bs_query *q, bs_rule_sql *s,
                        bs_error *err);

/* Adds the terms of a client sort expression ("-created,title"). */
int bs_rules_add_sort(const bs_rule_ctx *ctx, const char *expr,
                      bs_query *q, bs_rule_sql *s, bs_error *err);

/* Completes s: fills joins, where and order and appends the compiled
 * parameters to q. No parameter may be added to q between the first
 * add and the finish. */
int bs_rules_finish(bs_rule_sql *s, bs_query *q, bs_error *err);

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

/* Finds the record with id in ctx->collection when rule selects it (a
 * NULL or empty rule, or a superuser context: no check). With out NULL
 * only the match is tested; otherwise *out receives the record (caller
 * frees). Returns 0, BS_ENOTFOUND, or BS_EHTTP with a 400 in err when
 * the rule cannot be compiled. Any thread. */
int bs_rules_find_record(const bs_rule_ctx *ctx, const char *id,
                         const char *rule, struct bs_record **out,
                         bs_error *err);

/* Whether the client filter (options.filter of a realtime topic)
 * selects the record with id: compiled with the requester's privileges
 * (hidden fields and unrestricted joins only for a superuser, joined
 * collections limited by their list rules), applied to superusers too.
 * Returns 0, BS_ENOTFOUND, or BS_EHTTP with a 400 in err. Any thread. */
int bs_rules_match_filter(const bs_rule_ctx *ctx, const char *id,
                          const char *filter, bs_error *err);

/* Whether rule selects the unsaved values of rec: they are exposed as a
 * one-row table named like the collection (an empty id reads as a
 * placeholder, a submitted `verified` of an auth record as false). A rule
 * that does not compile matches nothing. */
bool bs_rules_match_values(const bs_rule_ctx *ctx,
                           const struct bs_record *rec, const char *rule);

/* One requester's compiled rule, to decide it for many records without
 * compiling it again (the realtime broker keeps one per subscription):
 * immutable, reference-counted, usable from any thread. */
typedef struct bs_rules_compiled bs_rules_compiled;

/* Compiles rule (an API rule of c in schema; NULL: superusers only, so
 * nobody here; "": everybody; one that does not compile: nobody) for
 * the requester whose @request data is request (borrowed; only read
 * here), in the SQL of app's store. Returns 0 and a new compiled rule in
 * *out, or BS_ENOMEM. */
int bs_rules_compile_for(bs_app *app, bs_schema *schema,
                         const bs_collection *c, const char *rule,
                         json_object *request, bs_rules_compiled **out);
bs_rules_compiled *bs_rules_compiled_ref(bs_rules_compiled *rc);
void bs_rules_compiled_unref(bs_rules_compiled *rc);

/* Whether rc was compiled in schema s (a rule or field change makes a
 * new schema snapshot, so a compiled rule of another one is stale). */
bool bs_rules_compiled_in(const bs_rules_compiled *rc, const bs_schema *s);

/* Decides the compiled rules items[0..n) (of collection c, compiled
 * for app; NULL items allow nobody) for the record with id. On SQLite
 * the items whose SQL is the same text are decided by one statement,
 * their parameters as rows of a VALUES table (up to ~30,000 parameters
 * per statement); on PostgreSQL, which would type such a table's
 * columns as text, the items whose SQL and parameter values are the
 * same are decided by one statement with the rule's own parameters.
 * Returns 0 or BS_ENOMEM; allowed[i] receives each answer. Any
 * thread. */
int bs_rules_check_compiled(bs_app *app, const bs_collection *c,
                            const char *id, bs_rules_compiled *const *items,
                            int n, bool *allowed);

/* Decides rule (an API rule of c) for the record with id for n
 * requesters at once, requests[i] being the @request data of each:
 * allowed[i] receives whether the rule selects the record for it. The
 * rule is compiled per requester (bs_rules_compile_for) and decided by
 * bs_rules_check_compiled, so that the requesters whose compiled SQL is
 * the same text share a statement, not one query per requester. A NULL
 * rule allows nobody (the caller handles superusers), a blank one
 * everybody; a rule that does not compile allows nobody. Returns 0 or
 * BS_ENOMEM. Any thread. */
int bs_rules_check_many(bs_app *app, bs_schema *schema,
                        const bs_collection *c, const char *id,
                        const char *rule, json_object *const *requests,
                        int n, bool *allowed);

#endif
