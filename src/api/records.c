/*
 * records.c - the records API: list, view, create, update and delete
 * under /api/collections/{collection}/records.
 *
 * Each handler resolves the collection, checks the API rule the way
 * PocketBase does (nil rule: superusers only, 403; list rule folded into
 * the query; view/update/delete misses: 404; create rule checked against
 * the submitted values: 400), then triggers the request hook with the
 * built-in behaviour as its final step.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/events.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/expand.h"
#include "../core/record.h"
#include "../core/record_form.h"
#include "../core/record_list.h"
#include "../core/rules.h"
#include "../core/search.h"
#include "api.h"
#include "../http/body.h"
#include "../http/fields.h"
#include "context.h"

#define LIST_ROUTE "/api/collections/{collection}/records"
#define ITEM_ROUTE "/api/collections/{collection}/records/{id}"

/* The handlers work on the request context of context.h. Its body is not
 * used: the submitted data goes to the record form, which puts it into
 * @request.body itself; while a form is saved (rr->form), its @request
 * data is the one rules see. */

/* Starts rr on the collection of the path (404 otherwise, answered). */
static int rec_begin(bs_req *r, bsa_req *rr)
{
    bsa_req_init(rr, r, bs_req_param(r, "collection"));
    if (!rr->c) {
        bs_resp_status_error(r, 404, "Missing collection context.");
        return BS_ENOTFOUND;
    }
    return 0;
}

static bs_rule_ctx rule_ctx(bsa_req *rr, const char *alias)
{
    bs_rule_ctx ctx = {.app = rr->r->ev.app,
                       .schema = rr->schema,
                       .collection = rr->c,
                       .alias = alias,
                       .request = bsa_req_info(rr),
                       .superuser = rr->superuser};
    return ctx;
}

/* A null rule means superusers only: answers 403 and returns false. */
static bool rule_allows(bsa_req *rr, const char *rule)
{
    if (rule || rr->superuser)
        return true;
    bs_resp_status_error(rr->r, 403, "Only superusers can perform this "
                                     "action.");
    return false;
}

/* Filters and sorts that name @collection or @request are for
 * superusers only when they come from the client. */
static bool superuser_only_param(const char *s)
{
    return s && (strstr(s, "@collection") || strstr(s, "@request"));
}

/* Marks how a record is shown to this requester (superusers see hidden
 * fields and every email; owners and managers see their emails). */
static void set_visibility(bsa_req *rr, bs_record *rec)
{
    if (rr->superuser) {
        rec->unhide = true;
        rec->ignore_email_visibility = true;
        return;
    }
    if (rr->r->auth && bs_collection_is_auth(rec->collection) &&
        strcmp(rr->r->auth->collection->id, rec->collection->id) == 0 &&
        strcmp(rr->r->auth->id, bs_record_id(rec)) == 0)
        rec->ignore_email_visibility = true;
}

int bsa_records_enrich(bsa_req *rr, bs_record **recs, int n)
{
    for (int i = 0; i < n; i++)
        set_visibility(rr, recs[i]);
    if (!rr->superuser && rr->r->auth && n > 0 &&
        bs_collection_is_auth(recs[0]->collection) &&
        *bs_json_get_str(recs[0]->collection->options, "manageRule", ""))
        bs_manage_visibility(rr->r->ev.app, rr->schema, recs[0]->collection,
                             bsa_req_info(rr), recs, n);
    const char *expand = rr->internal ? NULL : bs_req_query(rr->r, "expand");
    if (expand && *expand) {
        for (int i = 0; i < n; i++)
            recs[i]->expand_requested = true;
        bs_expand_ctx ex = {.app = rr->r->ev.app,
                            .schema = rr->schema,
                            .request = bsa_req_info(rr),
                            .superuser = rr->superuser,
                            .auth_collection = rr->r->auth ? rr->r->auth->collection->id : NULL,
                            .auth_id = rr->r->auth ? rr->r->auth->id : NULL};
        int rc = bs_expand_records(&ex, recs, n, expand, &rr->err);
        if (rc)
            return rc;
    }
    for (int i = 0; i < n; i++) {
        bs_record_event e = {.ev = {.app = rr->r->ev.app,
                                    .tags = {rr->c->id, rr->c->name}},
                             .record = recs[i]};
        int rc = bs_trigger_record(rr->r->ev.app, BS_ON_RECORD_ENRICH,
                                 &e, NULL, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- request events ------------------------------------------------------ */

typedef struct list_state {
    bsa_req *rr;
    bs_record_page page;
    int64_t page_no, per_page;
} list_state;

static void write_page(bs_req *r, list_state *ls)
{
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    r->search_result = true;
    bs_buf *b = &r->resp;
    bs_buf_puts(b, "{\"items\":[");
    for (int i = 0; i < ls->page.n; i++) {
        if (i)
            bs_buf_putc(b, ',');
        bs_record_write_json(ls->page.items[i], b);
    }
    int64_t total = ls->page.total;
    int64_t pages = total < 0 ? -1
                    : total == 0 ? 0
                                 : (total + ls->per_page - 1) / ls->per_page;
    bs_buf_printf(b, "],\"page\":%lld,\"perPage\":%lld,\"totalItems\":%lld,"
                     "\"totalPages\":%lld}\n",
                  (long long)ls->page_no, (long long)ls->per_page,
                  (long long)total, (long long)pages);
}

/* With a search, each "field:snippet(n)" of `fields` becomes the field's
 * snippet (the picking of the response leaves it as it is). */
static int fill_snippets(bs_req *r, list_state *ls)
{
    const char *search = bs_req_query(r, "search");
    const char *spec = bs_req_query(r, "fields");
    if (!search || !*search || !spec || !strstr(spec, ":snippet("))
        return 0;
    bs_fields_snippet want[8];
    int n = bs_fields_snippets(spec, want, 8);
    for (int i = 0; i < n; i++) {
        int rc = bs_search_snippets(r->ev.app, ls->rr->c, ls->rr->superuser,
                                    search, want[i].field, want[i].tokens,
                                    ls->page.items, ls->page.n,
                                    &ls->rr->err);
        if (rc)
            return rc;
    }
    return 0;
}

static int list_final(bs_event *e, void *user)
{
    list_state *ls = user;
    bs_req *r = (bs_req *)((bs_request_event *)e)->req;
    int rc = bsa_records_enrich(ls->rr, ls->page.items, ls->page.n);
    if (!rc)
        rc = fill_snippets(r, ls);
    if (rc)
        return rc;
    write_page(r, ls);
    return 0;
}

int bs_api_records_list(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bsa_req rr;
    list_state ls = {.rr = &rr};
    if (rec_begin(r, &rr) != 0 ||
        !bs_api_collection_rate_allowed(r, rr.c, LIST_ROUTE, "list"))
        goto done;
    const bs_collection *c = rr.c;
    const char *list_rule = c->rules[BS_RULE_LIST];
    if (!rule_allows(&rr, list_rule))
        goto done;
    const char *filter = bs_req_query(r, "filter");
    const char *sort = bs_req_query(r, "sort");
    if (!rr.superuser &&
        (superuser_only_param(filter) || superuser_only_param(sort))) {
        bs_resp_status_error(r, 403, "Only superusers can filter by "
                                     "'@collection', '@request' and other "
                                     "special parameters.");
        goto done;
    }
    bs_record_list_query lq = {.rule = list_rule, .filter = filter,
                               .sort = sort,
                               .search = bs_req_query(r, "search")};
    /* The @request data is built only when something compiles. */
    if ((!rr.superuser && list_rule && *list_rule) || (filter && *filter) ||
        (sort && *sort))
        lq.ctx = rule_ctx(&rr, c->name);
    else
        lq.ctx = (bs_rule_ctx){.app = r->ev.app, .schema = rr.schema,
                               .collection = c, .alias = c->name,
                               .superuser = rr.superuser};
    bs_api_paging(r, &lq.page, &lq.per_page, &lq.skip_total);
    ls.page_no = lq.page;
    ls.per_page = lq.per_page;
    int rc = bs_record_list(&lq, &ls.page, &rr.err);
    if (rc) {
        bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    bs_request_event re = {.ev = {.app = r->ev.app, .tags = {c->id, c->name},
                                  .error = &rr.err},
                           .req = r,
                           .collection = c->name};
    rc = bs_trigger_request(r->ev.app, BS_ON_RECORDS_LIST_REQUEST, &re,
                         list_final, &ls);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &rr.err);

done:
    bs_record_page_dispose(&ls.page);
    bsa_req_dispose(&rr);
    return 0;
}

static int write_record_final(bs_event *e, void *user)
{
    bsa_req *rr = user;
    bs_request_event *re = (bs_request_event *)e;
    bs_req *r = re->req;
    int rc = bsa_records_enrich(rr, &re->record, 1);
    if (rc)
        return rc;
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_record_write_json(re->record, &r->resp);
    bs_buf_putc(&r->resp, '\n');
    return 0;
}

/* View and delete: load the record the rule lets the requester see (404
 * otherwise) and run the request hook with `final` innermost. */
static int item_action(bs_req *r, const char *tag, enum bs_rule which,
                       bool writable, bs_hook_id hook, bs_handler_fn final)
{
    bsa_req rr;
    bs_record *rec = NULL;
    if (rec_begin(r, &rr) != 0)
        goto done;
    if (writable && strcmp(rr.c->type, "view") == 0) {
        bs_resp_status_error(r, 400, "Unsupported collection type.");
        goto done;
    }
    const char *rule = rr.c->rules[which];
    if (!bs_api_collection_rate_allowed(r, rr.c, ITEM_ROUTE, tag) ||
        !rule_allows(&rr, rule))
        goto done;
    /* The @request data is built only for a rule that will run. */
    bs_rule_ctx ctx = {.app = r->ev.app, .schema = rr.schema,
                       .collection = rr.c, .alias = rr.c->name,
                       .superuser = rr.superuser};
    if (!rr.superuser && rule && *rule)
        ctx = rule_ctx(&rr, rr.c->name);
    int rc = bs_rules_find_record(&ctx, bs_req_param(r, "id"), rule, &rec,
                                  &rr.err);
    if (rc) {
        if (rc == BS_ENOTFOUND)
            bs_resp_status_error(r, 404, NULL);
        else
            bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    bs_request_event re = {.ev = {.app = r->ev.app,
                                  .tags = {rr.c->id, rr.c->name},
                                  .error = &rr.err},
                           .req = r,
                           .collection = rr.c->name,
                           .record = rec};
    rc = bs_trigger_request(r->ev.app, hook, &re, final, &rr);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &rr.err);

done:
    bs_record_free(rec);
    bsa_req_dispose(&rr);
    return 0;
}

int bs_api_record_view(bs_event *ev, void *user)
{
    (void)user;
    return item_action((bs_req *)ev, "view", BS_RULE_VIEW, false,
                       BS_ON_RECORD_VIEW_REQUEST, write_record_final);
}

/* ---- create / update ------------------------------------------------------- */

static int save_final(bs_event *e, void *user)
{
    bsa_req *rr = user;
    bs_request_event *re = (bs_request_event *)e;
    bool create = bs_record_is_new(re->record);
    int rc = bs_record_save(e->app, re->record, &rr->err);
    if (rc) {
        if (!rr->err.status)
            bs_error_set(&rr->err, 400, create ? "Failed to create record."
                                               : "Failed to update record.");
        return rc;
    }
    if (rr->internal)
        return bsa_records_enrich(rr, &re->record, 1);
    return write_record_final(e, user);
}

/* Create (id NULL) or update of the submitted data: the record form
 * (core/record_form.c) loads the record, applies the data and checks
 * access; the request hook runs with the save innermost. Failures are
 * answered on rr->r. On success with saved set, *saved receives the
 * record (caller frees). */
static void submit(bsa_req *rr, const char *id, json_object *data,
                   bs_body *files, bs_record **saved)
{
    bs_req *r = rr->r;
    bool create = id == NULL;
    bs_record_form form;
    bs_record_form_init(&form, r->ev.app, rr->schema, rr->c,
                        bsa_req_own_info, rr, rr->superuser);
    rr->form = &form;
    int rc = create ? bs_record_form_load_new(&form)
                    : bs_record_form_load_stored(&form, id, &rr->err);
    if (rc == 0)
        rc = bs_record_form_load(&form, data);
    if (rc == 0 && files && files->nfiles)
        rc = bs_record_form_load_files(&form, files, &rr->err);
    if (rc == 0)
        rc = bs_record_form_authorize(&form, &rr->err);
    if (rc == BS_ENOTFOUND) {
        bs_resp_status_error(r, 404, NULL);
        goto done;
    }
    if (rc) {
        bs_req_fail(r, rc, &rr->err);
        goto done;
    }
    bs_request_event re = {.ev = {.app = r->ev.app,
                                  .tags = {rr->c->id, rr->c->name},
                                  .error = &rr->err},
                           .req = r,
                           .collection = rr->c->name,
                           .record = form.record};
    rc = bs_trigger_request(r->ev.app, create ? BS_ON_RECORD_CREATE_REQUEST
                                : BS_ON_RECORD_UPDATE_REQUEST,
        &re, save_final, rr);
    if (rc && !r->responded) {
        if (!rr->err.status)
            bs_error_set(&rr->err, 400, create ? "Failed to create record."
                                               : "Failed to update record.");
        bs_req_fail(r, rc, &rr->err);
    } else if (rc == 0 && saved) {
        *saved = form.record;
        form.record = NULL;
    }

done:
    rr->form = NULL;
    bs_record_form_dispose(&form);
}

/* The checks every create or update request makes before its body is
 * read: a writable collection, the rate limit, and the 403 of a
 * superuser-only rule. */
static bool may_submit(bsa_req *rr, bool create)
{
    if (strcmp(rr->c->type, "view") == 0) {
        bs_resp_status_error(rr->r, 400, "Unsupported collection type.");
        return false;
    }
    return bs_api_collection_rate_allowed(rr->r, rr->c,
                                          create ? LIST_ROUTE : ITEM_ROUTE,
                                          create ? "create" : "update") &&
           rule_allows(rr, rr->c->rules[create ? BS_RULE_CREATE
                                               : BS_RULE_UPDATE]);
}

static int record_upsert(bs_req *r, bool create)
{
    bsa_req rr;
    bs_body body = {0};
    if (rec_begin(r, &rr) != 0 || !may_submit(&rr, create))
        goto done;
    int rc = bs_req_read_body(r, &body, &rr.err);
    if (rc) {
        /* PocketBase fails here while reading the request info, with its
         * generic message. */
        bs_error_dispose(&rr.err);
        bs_error_set(&rr.err, 400, "Something went wrong while processing "
                                   "your request.");
        bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    submit(&rr, create ? NULL : bs_req_param(r, "id"), body.data, &body,
           NULL);

done:
    bs_body_dispose(&body);
    bsa_req_dispose(&rr);
    return 0;
}

int bs_api_record_create_for(bs_req *r, const bs_collection *c,
                             const char *context, json_object *data,
                             bs_body *files, bs_record **out)
{
    *out = NULL;
    bsa_req rr;
    bsa_req_init(&rr, r, c->id);
    rr.internal = true;
    rr.context = context;
    if (!rr.c) {
        bs_resp_status_error(r, 404, "Missing collection context.");
    } else if (may_submit(&rr, true)) {
        submit(&rr, NULL, data, files, out);
    }
    bsa_req_dispose(&rr);
    return *out ? 0 : BS_EHTTP;
}

int bs_api_record_create(bs_event *ev, void *user)
{
    (void)user;
    return record_upsert((bs_req *)ev, true);
}

int bs_api_record_update(bs_event *ev, void *user)
{
    (void)user;
    return record_upsert((bs_req *)ev, false);
}

/* ---- delete ------------------------------------------------------------------ */

static int delete_final(bs_event *e, void *user)
{
    bsa_req *rr = user;
    bs_request_event *re = (bs_request_event *)e;
    int rc = bs_record_delete(e->app, re->record, &rr->err);
    if (rc) {
        if (!rr->err.status)
            bs_error_set(&rr->err, 400,
                         "Failed to delete record. Make sure that the record "
                         "is not part of a required relation reference.");
        return rc;
    }
    bs_resp_empty(re->req, 204);
    return 0;
}

int bs_api_record_delete(bs_event *ev, void *user)
{
    (void)user;
    return item_action((bs_req *)ev, "delete", BS_RULE_DELETE, true,
                       BS_ON_RECORD_DELETE_REQUEST, delete_final);
}

int bs_api_records_register(bs_app *app)
{
    static const char base[] = LIST_ROUTE;
    if (!bs_router_add(app->router, "GET", base, bs_api_records_list, NULL) ||
        !bs_router_add(app->router, "POST", base, bs_api_record_create,
                       NULL) ||
        !bs_router_add(app->router, "GET",
                       "/api/collections/{collection}/records/{id}",
                       bs_api_record_view, NULL) ||
        !bs_router_add(app->router, "PATCH",
                       "/api/collections/{collection}/records/{id}",
                       bs_api_record_update, NULL) ||
        !bs_router_add(app->router, "DELETE",
                       "/api/collections/{collection}/records/{id}",
                       bs_api_record_delete, NULL))
        return BS_ENOMEM;
    return 0;
}
