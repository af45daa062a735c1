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

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../core/auth.h"
#include "../core/expand.h"
#include "../core/field.h"
#include "../core/record.h"
#include "../core/rules.h"
#include "../db/sql.h"
#include "api.h"
#include "body.h"

#define LIST_ROUTE "/api/collections/{collection}/records"
#define ITEM_ROUTE "/api/collections/{collection}/records/{id}"

/* Per-request state shared by the handlers. */
typedef struct rec_req {
    bs_req *r;
    bs_schema *schema;
    const bs_collection *c;
    bool superuser;
    json_object *info;   /* @request data, built on first use */
    json_object *body;   /* submitted data (borrowed), for @request.body */
    bs_error err;
} rec_req;

/* The @request data; built only when a rule or filter needs it. */
static json_object *request_info(rec_req *rr)
{
    if (!rr->info)
        rr->info = bs_rules_request_info(rr->r, rr->body);
    return rr->info;
}

static int rec_begin(bs_req *r, rec_req *rr)
{
    memset(rr, 0, sizeof *rr);
    bs_error_init(&rr->err);
    rr->r = r;
    rr->schema = bs_app_schema(r->ev.app);
    rr->c = bs_schema_find(rr->schema, bs_req_param(r, "collection"));
    rr->superuser = r->auth && r->auth->superuser;
    if (!rr->c) {
        bs_resp_status_error(r, 404, "Missing collection context.");
        return BS_ENOTFOUND;
    }
    return 0;
}

static void rec_end(rec_req *rr)
{
    if (rr->info)
        json_object_put(rr->info);
    bs_error_dispose(&rr->err);
    bs_schema_unref(rr->schema);
}

static bs_rule_ctx rule_ctx(rec_req *rr, const char *alias)
{
    bs_rule_ctx ctx = {.app = rr->r->ev.app,
                       .schema = rr->schema,
                       .collection = rr->c,
                       .alias = alias,
                       .request = request_info(rr),
                       .superuser = rr->superuser};
    return ctx;
}

/* A null rule means superusers only: answers 403 and returns false. */
static bool rule_allows(rec_req *rr, const char *rule)
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
static void set_visibility(rec_req *rr, bs_record *rec)
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

static int enrich(rec_req *rr, bs_record **recs, int n)
{
    for (int i = 0; i < n; i++)
        set_visibility(rr, recs[i]);
    if (!rr->superuser && rr->r->auth && n > 0 &&
        bs_collection_is_auth(recs[0]->collection) &&
        *bs_json_get_str(recs[0]->collection->options, "manageRule", ""))
        bs_manage_visibility(rr->r->ev.app, rr->schema, recs[0]->collection,
                             request_info(rr), recs, n);
    const char *expand = bs_req_query(rr->r, "expand");
    if (expand && *expand) {
        for (int i = 0; i < n; i++)
            recs[i]->expand_requested = true;
        bs_expand_ctx ex = {.app = rr->r->ev.app,
                            .schema = rr->schema,
                            .request = request_info(rr),
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
        int rc = bs_hook_trigger(rr->r->ev.app->hooks[BS_ON_RECORD_ENRICH],
                                 &e.ev, NULL, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- request events ------------------------------------------------------ */

typedef struct list_state {
    rec_req *rr;
    bs_record **recs;
    int n;
    int64_t page, per_page, total;
    bool skip_total;
} list_state;

static void write_page(bs_req *r, list_state *ls)
{
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    r->search_result = true;
    bs_buf *b = &r->resp;
    bs_buf_puts(b, "{\"items\":[");
    for (int i = 0; i < ls->n; i++) {
        if (i)
            bs_buf_putc(b, ',');
        bs_record_write_json(ls->recs[i], b);
    }
    int64_t pages = ls->skip_total ? -1
                    : ls->total == 0
                        ? 0
                        : (ls->total + ls->per_page - 1) / ls->per_page;
    bs_buf_printf(b, "],\"page\":%lld,\"perPage\":%lld,\"totalItems\":%lld,"
                     "\"totalPages\":%lld}\n",
                  (long long)ls->page, (long long)ls->per_page,
                  (long long)(ls->skip_total ? -1 : ls->total),
                  (long long)pages);
}

static int list_final(bs_event *e, void *user)
{
    list_state *ls = user;
    bs_req *r = (bs_req *)((bs_request_event *)e)->req;
    int rc = enrich(ls->rr, ls->recs, ls->n);
    if (rc)
        return rc;
    write_page(r, ls);
    return 0;
}

int bs_api_records_list(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    rec_req rr;
    list_state ls = {.rr = &rr};
    bs_query q;
    bs_rule_sql rs;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
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
    int rc = 0;
    bs_rule_ctx ctx = {0};
    if ((!rr.superuser && list_rule && *list_rule) || (filter && *filter) ||
        (sort && *sort))
        ctx = rule_ctx(&rr, c->name);
    if (!rr.superuser && list_rule && *list_rule)
        rc = bs_rules_add_filter(&ctx, list_rule, true, &q, &rs, &rr.err);
    if (!rc && filter && *filter)
        rc = bs_rules_add_filter(&ctx, filter, false, &q, &rs, &rr.err);
    if (!rc && sort && *sort)
        rc = bs_rules_add_sort(&ctx, sort, &q, &rs, &rr.err);
    if (!rc)
        rc = bs_rules_finish(&rs, &q, &rr.err);
    if (rc) {
        bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    bs_api_paging(r, &ls.page, &ls.per_page, &ls.skip_total);

    bs_conn *conn = bs_store_reader_acquire(r->ev.app->store);
    sqlite3 *db = bs_conn_db(conn);
    bool is_view = strcmp(c->type, "view") == 0;
    /* The page of rows. */
    bs_buf base;
    bs_buf_init(&base);
    bs_buf_puts(&base, " FROM ");
    bs_sql_ident(&base, c->name);
    if (rs.joins.len)
        bs_buf_append(&base, rs.joins.data, rs.joins.len);
    if (rs.where.len) {
        bs_buf_puts(&base, " WHERE ");
        bs_buf_append(&base, rs.where.data, rs.where.len);
    }
    bs_query page_q = q; /* shares the parameters; only the text differs */
    bs_buf text;
    bs_buf_init(&text);
    bs_buf_puts(&text, rs.distinct ? "SELECT DISTINCT " : "SELECT ");
    bs_sql_ident(&text, c->name);
    bs_buf_puts(&text, ".*");
    bs_buf_append(&text, base.data, base.len);
    bs_buf_puts(&text, " ORDER BY ");
    if (rs.order.len) {
        bs_buf_append(&text, rs.order.data, rs.order.len);
        bs_buf_puts(&text, ", ");
    }
    bs_sql_ident(&text, c->name);
    bs_buf_puts(&text, is_view ? ".id" : "._rowid_");
    bs_buf_printf(&text, " LIMIT %lld OFFSET %lld", (long long)ls.per_page,
                  (long long)((ls.page - 1) * ls.per_page));
    page_q.sql = text;
    sqlite3_stmt *st = bs_query_prepare_cached(&page_q, conn);
    int cap = 0;
    if (!st) {
        bs_log('D', "list query failed: %s (%s)", sqlite3_errmsg(db),
               text.data);
        rc = bs_error_set(&rr.err, 400, "Something went wrong while "
                                        "processing your request.");
    } else {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (ls.n == cap) {
                cap = cap ? cap * 2 : 32;
                bs_record **tmp = realloc(ls.recs, sizeof *tmp * (size_t)cap);
                if (!tmp)
                    break;
                ls.recs = tmp;
            }
            bs_record *rec = bs_record_from_row(rr.schema, c, st);
            if (rec)
                ls.recs[ls.n++] = rec;
        }
        if (step != SQLITE_DONE && step != SQLITE_ROW) {
            bs_log('D', "list query step failed: %s", sqlite3_errmsg(db));
            rc = bs_error_set(&rr.err, 400, "Something went wrong while "
                                            "processing your request.");
        }
        sqlite3_reset(st);
    }
    /* The total, unless skipped. */
    if (!rc && !ls.skip_total) {
        bs_buf ct;
        bs_buf_init(&ct);
        if (rs.distinct) {
            bs_buf_puts(&ct, "SELECT COUNT(DISTINCT ");
            bs_sql_ident(&ct, c->name);
            bs_buf_puts(&ct, is_view ? ".id)" : "._rowid_)");
        } else {
            bs_buf_puts(&ct, "SELECT COUNT(*)");
        }
        bs_buf_append(&ct, base.data, base.len);
        page_q.sql = ct;
        st = bs_query_prepare_cached(&page_q, conn);
        if (st && sqlite3_step(st) == SQLITE_ROW)
            ls.total = sqlite3_column_int64(st, 0);
        else
            rc = bs_error_set(&rr.err, 400, "Something went wrong while "
                                            "processing your request.");
        if (st)
            sqlite3_reset(st);
        bs_buf_dispose(&ct);
    }
    bs_store_reader_release(r->ev.app->store, conn);
    bs_buf_dispose(&text);
    bs_buf_dispose(&base);
    if (rc) {
        bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    bs_request_event re = {.ev = {.app = r->ev.app, .tags = {c->id, c->name},
                                  .error = &rr.err},
                           .req = r,
                           .collection = c->name};
    rc = bs_hook_trigger(r->ev.app->hooks[BS_ON_RECORDS_LIST_REQUEST], &re.ev,
                         list_final, &ls);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &rr.err);

done:
    for (int i = 0; i < ls.n; i++)
        bs_record_free(ls.recs[i]);
    free(ls.recs);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    rec_end(&rr);
    return 0;
}

/* Loads the record with id when it matches rule (NULL or "" rule, or a
 * superuser: no check). Returns 0, BS_ENOTFOUND, or an error in rr->err. */
static int find_with_rule(rec_req *rr, const char *id, const char *rule,
                          bs_record **out)
{
    *out = NULL;
    bs_query q;
    bs_rule_sql rs;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    int rc = 0;
    if (!rr->superuser && rule && *rule) {
        bs_rule_ctx ctx = rule_ctx(rr, rr->c->name);
        rc = bs_rules_add_filter(&ctx, rule, true, &q, &rs, &rr->err);
    }
    if (!rc)
        rc = bs_rules_finish(&rs, &q, &rr->err);
    if (rc)
        goto done;
    bs_buf text;
    bs_buf_init(&text);
    bs_buf_puts(&text, "SELECT ");
    bs_sql_ident(&text, rr->c->name);
    bs_buf_puts(&text, ".* FROM ");
    bs_sql_ident(&text, rr->c->name);
    bs_buf_append(&text, rs.joins.data ? rs.joins.data : "", rs.joins.len);
    bs_buf_puts(&text, " WHERE ");
    bs_sql_ident(&text, rr->c->name);
    bs_param idp = {.type = BS_PARAM_TEXT, .s = (char *)id, .n = strlen(id)};
    int n = bs_query_add_param(&q, &idp);
    bs_buf_printf(&text, ".id = ?%d", n);
    if (rs.where.len) {
        bs_buf_puts(&text, " AND (");
        bs_buf_append(&text, rs.where.data, rs.where.len);
        bs_buf_putc(&text, ')');
    }
    bs_buf_puts(&text, " LIMIT 1");
    bs_buf_dispose(&q.sql);
    q.sql = text;
    bs_conn *conn = bs_store_reader_acquire(rr->r->ev.app->store);
    sqlite3_stmt *st = bs_query_prepare_cached(&q, conn);
    if (!st) {
        bs_log('D', "view query failed: %s", sqlite3_errmsg(bs_conn_db(conn)));
        rc = bs_error_set(&rr->err, 400, "Something went wrong while "
                                         "processing your request.");
    } else if (sqlite3_step(st) == SQLITE_ROW) {
        *out = bs_record_from_row(rr->schema, rr->c, st);
        rc = *out ? 0 : BS_ENOMEM;
    } else {
        rc = BS_ENOTFOUND;
    }
    if (st)
        sqlite3_reset(st);
    bs_store_reader_release(rr->r->ev.app->store, conn);

done:
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return rc;
}

static int write_record_final(bs_event *e, void *user)
{
    rec_req *rr = user;
    bs_request_event *re = (bs_request_event *)e;
    bs_req *r = re->req;
    int rc = enrich(rr, &re->record, 1);
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
    rec_req rr;
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
    int rc = find_with_rule(&rr, bs_req_param(r, "id"), rule, &rec);
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
    rc = bs_hook_trigger(r->ev.app->hooks[hook], &re.ev, final, &rr);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &rr.err);

done:
    bs_record_free(rec);
    rec_end(&rr);
    return 0;
}

int bs_api_record_view(bs_event *ev, void *user)
{
    (void)user;
    return item_action((bs_req *)ev, "view", BS_RULE_VIEW, false,
                       BS_ON_RECORD_VIEW_REQUEST, write_record_final);
}

/* ---- create / update ------------------------------------------------------- */

/* Applies submitted data to rec: plain keys, "key+"/"+key"/"key-"
 * modifiers. Unknown keys are ignored like PocketBase does. Hidden
 * fields (except an auth password) are dropped for non-superusers. */
static void apply_data(rec_req *rr, bs_record *rec, json_object *data)
{
    bool auth = bs_collection_is_auth(rec->collection);
    /* Plain keys first, then modifiers, so "field+" adds to a value set
     * in the same request. */
    for (int pass = 0; pass < 2; pass++) {
        json_object_object_foreach(data, key, val) {
            size_t n = strlen(key);
            char mod = 0;
            char name[256];
            if (n == 0 || n >= sizeof name)
                continue;
            if (key[0] == '+') {
                mod = '^';
                memcpy(name, key + 1, n);
            } else if (key[n - 1] == '+' || key[n - 1] == '-') {
                mod = key[n - 1];
                memcpy(name, key, n - 1);
                name[n - 1] = '\0';
            } else {
                memcpy(name, key, n + 1);
            }
            if ((pass == 0) != (mod == 0))
                continue;
            const json_object *f = bs_collection_field(rec->collection, name);
            if (!f)
                continue;
            if (bs_field_hidden(f) && !rr->superuser &&
                !(auth && strcmp(name, "password") == 0))
                continue;
            if (mod && strcmp(bs_field_type(f), "password") != 0) {
                json_object *nv = bs_field_modify(
                    f, bs_json_get(rec->data, name), mod, val);
                json_object_object_add(rec->data, name, nv);
            } else {
                bs_record_set(rec, name, json_object_get(val));
            }
        }
    }
}

/* Whether rule selects the new record: the record's values are exposed
 * as a one-row CTE named like the collection, and the rule (compiled
 * against it) must select that row. */
static bool cte_rule_matches(rec_req *rr, bs_record *rec, const char *rule)
{
    bs_query q;
    bs_rule_sql rs;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_buf text;
    bs_buf_init(&text);
    bs_buf_puts(&text, "WITH ");
    bs_sql_ident(&text, rr->c->name);
    bs_buf_puts(&text, " AS (SELECT ");
    for (int i = 0; i < rr->c->nfields; i++) {
        const bs_finfo *fi = &rr->c->finfo[i];
        json_object *v = bs_json_get(rec->data, fi->name);
        bs_param p = {.type = BS_PARAM_NULL};
        bs_buf tmp;
        bs_buf_init(&tmp);
        if (strcmp(fi->name, "id") == 0 && !*bs_record_get_string(rec, "id")) {
            p.type = BS_PARAM_TEXT;
            p.s = "__pb_create__temp_id";
            p.n = strlen(p.s);
        } else if (strcmp(fi->name, "verified") == 0 &&
                   bs_collection_is_auth(rr->c)) {
            p.type = BS_PARAM_INT;
            p.i = 0; /* never trust a submitted verified flag in rules */
        } else if (!v) {
            p.type = BS_PARAM_NULL;
        } else if (json_object_is_type(v, json_type_boolean)) {
            p.type = BS_PARAM_INT;
            p.i = json_object_get_boolean(v);
        } else if (json_object_is_type(v, json_type_double) ||
                   json_object_is_type(v, json_type_int)) {
            p.type = BS_PARAM_REAL;
            p.d = json_object_get_double(v);
        } else if (json_object_is_type(v, json_type_string)) {
            p.type = BS_PARAM_TEXT;
            p.s = (char *)json_object_get_string(v);
            p.n = (size_t)json_object_get_string_len(v);
        } else {
            bs_json_write(&tmp, v);
            p.type = BS_PARAM_TEXT;
            p.s = tmp.data ? tmp.data : "";
            p.n = tmp.len;
        }
        int idx = bs_query_add_param(&q, &p);
        bs_buf_dispose(&tmp);
        bs_buf_printf(&text, "%s?%d AS ", i ? ", " : "", idx);
        bs_sql_ident(&text, fi->name);
    }
    bs_buf_puts(&text, ") ");
    bs_rule_ctx ctx = rule_ctx(rr, rr->c->name);
    bs_error err;
    bs_error_init(&err);
    bool ok = false;
    if (bs_rules_add_filter(&ctx, rule, true, &q, &rs, &err) == 0 &&
        bs_rules_finish(&rs, &q, &err) == 0) {
        bs_buf_puts(&text, "SELECT 1 FROM ");
        bs_sql_ident(&text, rr->c->name);
        bs_buf_append(&text, rs.joins.data ? rs.joins.data : "", rs.joins.len);
        if (rs.where.len) {
            bs_buf_puts(&text, " WHERE ");
            bs_buf_append(&text, rs.where.data, rs.where.len);
        }
        bs_buf_puts(&text, " LIMIT 1");
        bs_buf_dispose(&q.sql);
        q.sql = text;
        bs_buf_init(&text);
        bs_conn *conn = bs_store_reader_acquire(rr->r->ev.app->store);
        sqlite3_stmt *st = bs_query_prepare(&q, bs_conn_db(conn));
        ok = st && sqlite3_step(st) == SQLITE_ROW;
        if (!st)
            bs_log('D', "rule query on new record failed: %s",
                   sqlite3_errmsg(bs_conn_db(conn)));
        sqlite3_finalize(st);
        bs_store_reader_release(rr->r->ev.app->store, conn);
    }
    bs_error_dispose(&err);
    bs_buf_dispose(&text);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return ok;
}

/* The create rule, checked against the submitted values. */
static int check_create_rule(rec_req *rr, bs_record *rec)
{
    const char *rule = rr->c->rules[BS_RULE_CREATE];
    if (rr->superuser || !rule || !*rule || cte_rule_matches(rr, rec, rule))
        return 0;
    bs_error_dispose(&rr->err);
    return bs_error_set(&rr->err, 400, "Failed to create record.");
}

static int save_final(bs_event *e, void *user)
{
    rec_req *rr = user;
    bs_request_event *re = (bs_request_event *)e;
    bool create = bs_record_is_new(re->record);
    int rc = bs_record_save(e->app, re->record, &rr->err);
    if (rc) {
        if (!rr->err.status)
            bs_error_set(&rr->err, 400, create ? "Failed to create record."
                                               : "Failed to update record.");
        return rc;
    }
    return write_record_final(e, user);
}

/* The form rules of auth records (PocketBase's record upsert form): the
 * email and verified state may change only with manage access, a
 * password needs its confirmation, and changing it without manage
 * access needs the old password. Field errors go to rr->err. */
static void validate_auth_form(rec_req *rr, bs_record *rec,
                               json_object *data, bool manager)
{
    if (!bs_collection_is_auth(rr->c))
        return;
    bool manage = manager || rr->superuser;
    bool is_new = rec->is_new;
    const char *password = rec->plain_password ? rec->plain_password : "";
    const char *confirm = bs_json_get_str(data, "passwordConfirm", "");
    const char *old = bs_json_get_str(data, "oldPassword", "");
    const json_object *orig = rec->original;
    if (!is_new && !manage &&
        strcmp(bs_record_get_string(rec, "email"),
               bs_json_get_str(orig, "email", "")) != 0)
        bs_error_field(&rr->err, "email", "validation_values_mismatch",
                       "Values don't match.");
    if (!manage && bs_record_get_bool(rec, "verified") !=
                       (orig ? bs_json_get_bool(orig, "verified", false)
                             : false))
        bs_error_field(&rr->err, "verified", "validation_values_mismatch",
                       "Values don't match.");
    if ((is_new || *confirm || *old) && !*password)
        bs_error_field(&rr->err, "password", "validation_required",
                       "Cannot be blank.");
    if ((is_new || *password || *old) && !*confirm)
        bs_error_field(&rr->err, "passwordConfirm", "validation_required",
                       "Cannot be blank.");
    else if (strcmp(confirm, password) != 0)
        bs_error_field(&rr->err, "passwordConfirm",
                       "validation_values_mismatch", "Values don't match.");
    if (!is_new && !manage && (*password || *confirm)) {
        if (!*old)
            bs_error_field(&rr->err, "oldPassword", "validation_required",
                           "Cannot be blank.");
        else if (!bs_password_check(rec, old))
            bs_error_field(&rr->err, "oldPassword",
                           "validation_invalid_old_password",
                           "Missing or invalid old password.");
    }
}

/* The submitted data as rules see it (@request.body): modifier keys
 * ("total+", "tags-") replaced by the field's resulting value. */
static json_object *resolve_body(const bs_record *rec, json_object *data)
{
    json_object *out = json_object_new_object();
    json_object_object_foreach(data, key, val) {
        size_t n = strlen(key);
        char name[256];
        if (n == 0 || n >= sizeof name)
            continue;
        bool mod = key[0] == '+' || key[n - 1] == '+' || key[n - 1] == '-';
        if (!mod) {
            json_object_object_add(out, key, json_object_get(val));
            continue;
        }
        if (key[0] == '+') {
            memcpy(name, key + 1, n);
        } else {
            memcpy(name, key, n - 1);
            name[n - 1] = '\0';
        }
        json_object *v = bs_json_get(rec->data, name);
        if (bs_collection_field(rec->collection, name))
            json_object_object_add(out, name, v ? json_object_get(v) : NULL);
    }
    return out;
}

static int record_upsert(bs_req *r, bool create)
{
    rec_req rr;
    bs_record *rec = NULL;
    bs_body body = {0};
    json_object *resolved = NULL;
    int rc;
    if (rec_begin(r, &rr) != 0)
        goto done;
    if (strcmp(rr.c->type, "view") == 0) {
        bs_resp_status_error(r, 400, "Unsupported collection type.");
        goto done;
    }
    if (!bs_api_collection_rate_allowed(r, rr.c,
                                        create ? LIST_ROUTE : ITEM_ROUTE,
                                        create ? "create" : "update"))
        goto done;
    const char *rule = rr.c->rules[create ? BS_RULE_CREATE : BS_RULE_UPDATE];
    if (!rule_allows(&rr, rule))
        goto done;
    rc = bs_body_read(r, &body, &rr.err);
    if (rc) {
        /* PocketBase fails here while reading the request info, with its
         * generic message. */
        bs_error_dispose(&rr.err);
        bs_error_set(&rr.err, 400, "Something went wrong while processing "
                                   "your request.");
        bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    rr.body = body.data;
    if (create) {
        rec = bs_record_new(rr.schema, rr.c);
        rc = rec ? 0 : BS_ENOMEM;
    } else {
        /* Load first: the update rule sees the submitted data with its
         * modifiers resolved against this record (checked below). */
        rc = find_with_rule(&rr, bs_req_param(r, "id"), NULL, &rec);
        if (rc == BS_ENOTFOUND) {
            bs_resp_status_error(r, 404, NULL);
            goto done;
        }
        if (rc == 0)
            bs_record_keep_original(rec);
    }
    if (rc) {
        bs_req_fail(r, rc, &rr.err);
        goto done;
    }
    apply_data(&rr, rec, body.data);
    resolved = resolve_body(rec, body.data);
    rr.body = resolved;
    if (!create && !rr.superuser && *rule) {
        bs_record *check = NULL;
        rc = find_with_rule(&rr, bs_record_id(rec), rule, &check);
        bs_record_free(check);
        if (rc) {
            if (rc == BS_ENOTFOUND)
                bs_resp_status_error(r, 404, NULL);
            else
                bs_req_fail(r, rc, &rr.err);
            goto done;
        }
    }
    const char *manage_rule = bs_json_get_str(rr.c->options, "manageRule", "");
    bool manager = false;
    if (!rr.superuser && r->auth && bs_collection_is_auth(rr.c) &&
        *manage_rule)
        manager = create ? cte_rule_matches(&rr, rec, manage_rule)
                         : bs_has_manage_access(r->ev.app, rr.schema, rr.c,
                                                request_info(&rr), rec);
    validate_auth_form(&rr, rec, body.data, manager);
    if (bs_error_has_fields(&rr.err)) {
        bs_error_set(&rr.err, 400, create ? "Failed to create record."
                                          : "Failed to update record.");
        bs_req_fail(r, BS_EHTTP, &rr.err);
        goto done;
    }
    if (create && check_create_rule(&rr, rec) != 0) {
        bs_req_fail(r, BS_EHTTP, &rr.err);
        goto done;
    }
    bs_request_event re = {.ev = {.app = r->ev.app,
                                  .tags = {rr.c->id, rr.c->name},
                                  .error = &rr.err},
                           .req = r,
                           .collection = rr.c->name,
                           .record = rec};
    rc = bs_hook_trigger(
        r->ev.app->hooks[create ? BS_ON_RECORD_CREATE_REQUEST
                                : BS_ON_RECORD_UPDATE_REQUEST],
        &re.ev, save_final, &rr);
    if (rc && !r->responded) {
        if (!rr.err.status)
            bs_error_set(&rr.err, 400, create ? "Failed to create record."
                                              : "Failed to update record.");
        bs_req_fail(r, rc, &rr.err);
    }

done:
    bs_record_free(rec);
    if (resolved)
        json_object_put(resolved);
    bs_body_dispose(&body);
    rec_end(&rr);
    return 0;
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
    rec_req *rr = user;
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
