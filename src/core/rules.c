/*
 * rules.c - API rules and client filters applied to record queries.
 */
#include "rules.h"

#include <assert.h>
#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"
#include "../db/store.h"
#include "../schema/ftype.h"
#include "../filter/filter.h"
#include "app.h"
#include "auth.h"
#include "record.h"

void bs_rule_sql_init(bs_rule_sql *s)
{
    bs_buf_init(&s->joins);
    bs_buf_init(&s->where);
    bs_buf_init(&s->where_scan);
    bs_buf_init(&s->order);
    s->distinct = false;
    s->fq = NULL;
}

void bs_rule_sql_dispose(bs_rule_sql *s)
{
    bs_filter_query_free(s->fq);
    s->fq = NULL;
    bs_buf_dispose(&s->joins);
    bs_buf_dispose(&s->where);
    bs_buf_dispose(&s->where_scan);
    bs_buf_dispose(&s->order);
}

typedef struct kv_collect {
    json_object *obj;
    bool header; /* lower-case names and '-' as '_' */
} kv_collect;

static void collect_kv(void *user, const char *key, const char *value)
{
    kv_collect *c = user;
    char name[256];
    size_t n = strlen(key);
    if (n >= sizeof name)
        return;
    for (size_t i = 0; i <= n; i++) {
        char ch = key[i];
        if (c->header) {
            ch = (char)tolower((unsigned char)ch);
            if (ch == '-')
                ch = '_';
        }
        name[i] = ch;
    }
    json_object_object_add(c->obj, name, json_object_new_string(value));
}

/* The auth record as @request.auth sees it, or NULL for a guest. */
static json_object *auth_info(const bs_auth *a)
{
    json_object *auth = NULL;
    if (a) {
        json_object_deep_copy(a->record, &auth, NULL);
        if (auth) {
            json_object_object_add(auth, "collectionId",
                                   json_object_new_string(a->collection->id));
            json_object_object_add(auth, "collectionName",
                                   json_object_new_string(a->collection->name));
        }
    }
    return auth;
}

json_object *bs_rules_request_info_of(const bs_auth *auth,
                                      const json_object *query,
                                      const json_object *headers,
                                      const char *method,
                                      const char *context)
{
    json_object *info = json_object_new_object();
    if (!info)
        return NULL;
    json_object *q = NULL;
    if (query)
        json_object_deep_copy((json_object *)query, &q, NULL);
    /* Header names as a request's: lower case, '-' as '_'. */
    kv_collect h = {json_object_new_object(), true};
    if (headers && json_object_is_type(headers, json_type_object)) {
        json_object_object_foreach((json_object *)headers, k, v)
            collect_kv(&h, k, json_object_get_string(v));
    }
    json_object_object_add(info, "auth", auth_info(auth));
    json_object_object_add(info, "body", json_object_new_object());
    json_object_object_add(info, "query", q ? q : json_object_new_object());
    json_object_object_add(info, "headers", h.obj);
    json_object_object_add(info, "method", json_object_new_string(method));
    json_object_object_add(info, "context", json_object_new_string(context));
    return info;
}

json_object *bs_rules_request_info(bs_req *r, const json_object *body)
{
    json_object *info = json_object_new_object();
    if (!info)
        return NULL;
    json_object_object_add(info, "auth", auth_info(r->auth));
    json_object *b = NULL;
    if (body)
        json_object_deep_copy((json_object *)body, &b, NULL);
    json_object_object_add(info, "body", b ? b : json_object_new_object());
    kv_collect query = {json_object_new_object(), false};
    bs_req_foreach(r, 1, collect_kv, &query);
    json_object_object_add(info, "query", query.obj);
    kv_collect headers = {json_object_new_object(), true};
    bs_req_foreach(r, 0, collect_kv, &headers);
    json_object_object_add(info, "headers", headers.obj);
    json_object_object_add(info, "method", json_object_new_string(r->method));
    json_object_object_add(info, "context",
                           json_object_new_string(r->context ? r->context
                                                             : "default"));
    return info;
}

/* Starts the statement's filter query on first use; placeholders follow
 * the parameters already in q. */
static int ensure_query(const bs_rule_ctx *ctx, bs_query *q, bs_rule_sql *s)
{
    if (s->fq)
        return 0;
    bs_filter_ctx fc = {.schema = ctx->schema,
                        .collection = ctx->collection,
                        .alias = ctx->alias,
                        .request = ctx->request,
                        .superuser = ctx->superuser,
                        .params = ctx->params,
                        .dialect = ctx->dialect ? ctx->dialect
                                   : ctx->app     ? ctx->app->dialect
                                                  : NULL};
    return bs_filter_query_new(&s->fq, &fc, q->nparams + 1);
}

/* The client sees PocketBase's generic answer; the precise reason goes
 * to the debug log. */
static int compile_failed(int rc, bs_error *err)
{
    if (rc == BS_ENOMEM)
        return rc;
    bs_log('D', "filter: %s", err->message ? err->message : "invalid");
    bs_error_dispose(err);
    return bs_error_set(err, 400, "Something went wrong while processing "
                                  "your request.");
}

int bs_rules_add_filter(const bs_rule_ctx *ctx, const char *expr,
                        bool is_rule, bs_query *q, bs_rule_sql *s,
                        bs_error *err)
{
    int rc = ensure_query(ctx, q, s);
    if (rc == 0)
        rc = is_rule ? bs_filter_add_rule(s->fq, expr, err)
                     : bs_filter_add_client(s->fq, expr, err);
    return rc ? compile_failed(rc, err) : 0;
}

int bs_rules_add_sort(const bs_rule_ctx *ctx, const char *expr,
                      bs_query *q, bs_rule_sql *s, bs_error *err)
{
    int rc = ensure_query(ctx, q, s);
    if (rc == 0)
        rc = bs_filter_add_client_sort(s->fq, expr, err);
    return rc ? compile_failed(rc, err) : 0;
}

int bs_rules_finish(bs_rule_sql *s, bs_query *q, bs_error *err)
{
    if (!s->fq)
        return 0;
    bs_filter_sql out;
    int rc = bs_filter_finish(s->fq, &out, err);
    if (rc)
        return compile_failed(rc, err);
    assert(out.first_param == q->nparams + 1);
    if (*out.joins) {
        bs_buf_putc(&s->joins, ' ');
        bs_buf_puts(&s->joins, out.joins);
    }
    bs_buf_puts(&s->where, out.where);
    bs_buf_puts(&s->where_scan, out.where_scan);
    bs_buf_puts(&s->order, out.order);
    s->distinct = out.distinct;
    for (int i = 0; i < out.nparams; i++) {
        const bs_filter_value *v = &out.params[i];
        bs_param p = {.type = BS_PARAM_NULL};
        switch (v->type) {
        case BS_FILTER_NULL:
            break;
        case BS_FILTER_INT:
            p.type = BS_PARAM_INT;
            p.i = v->i;
            break;
        case BS_FILTER_REAL:
            p.type = BS_PARAM_REAL;
            p.d = v->d;
            break;
        case BS_FILTER_TEXT:
            p.type = BS_PARAM_TEXT;
            p.s = (char *)v->s;
            p.n = v->n;
            break;
        }
        bs_query_add_param(q, &p);
    }
    return q->oom || s->where.oom || s->joins.oom ? BS_ENOMEM : 0;
}

/* Runs `SELECT id FROM c WHERE id IN ids AND (rule)` for the manage
 * rule; returns the matching ids as an array (new reference). */
static json_object *manage_matches(bs_app *app, bs_schema *schema,
                                   const bs_collection *c,
                                   json_object *request, json_object *ids)
{
    const char *rule = c->options ? bs_json_get_str(c->options, "manageRule",
                                                    NULL)
                                  : NULL;
    json_object *out = json_object_new_array();
    if (!rule || !*rule || !bs_json_get(request, "auth") ||
        json_object_is_type(bs_json_get(request, "auth"), json_type_null))
        return out;
    bs_rule_ctx ctx = {.app = app, .schema = schema, .collection = c,
                       .alias = c->name, .request = request};
    bs_query q;
    bs_rule_sql rs;
    bs_error err;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_error_init(&err);
    if (bs_rules_add_filter(&ctx, rule, true, &q, &rs, &err) == 0 &&
        bs_rules_finish(&rs, &q, &err) == 0) {
        bs_buf text;
        bs_buf_init(&text);
        bs_buf_puts(&text, "SELECT DISTINCT ");
        bs_sql_ident(&text, c->name);
        bs_buf_puts(&text, ".id FROM ");
        bs_sql_ident(&text, c->name);
        bs_buf_append(&text, rs.joins.data ? rs.joins.data : "", rs.joins.len);
        bs_buf ids_text;
        bs_buf_init(&ids_text);
        bs_json_write(&ids_text, ids);
        bs_param p = {.type = BS_PARAM_TEXT, .s = ids_text.data,
                      .n = ids_text.len};
        int idx = bs_query_add_param(&q, &p);
        bs_buf_puts(&text, " WHERE ");
        bs_sql_ident(&text, c->name);
        bs_buf_printf(&text, ".id IN (SELECT value FROM json_each(?%d))", idx);
        if (rs.where.len) {
            bs_buf_puts(&text, " AND (");
            bs_buf_append(&text, rs.where.data, rs.where.len);
            bs_buf_putc(&text, ')');
        }
        bs_buf_dispose(&q.sql);
        q.sql = text;
        bs_conn *conn = bs_store_reader_acquire(app->store);
        bs_rows st;
        bs_rows_open_query(&st, conn, &q, BS_ROWS_ONCE);
        while (bs_rows_next(&st) == 1) {
            size_t n = 0;
            const char *id = bs_rows_text(&st, 0, &n);
            json_object_array_add(
                out, json_object_new_string_len(id ? id : "", (int)n));
        }
        bs_rows_close(&st);
        bs_store_reader_release(app->store, conn);
        bs_buf_dispose(&ids_text);
    }
    bs_error_dispose(&err);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return out;
}

void bs_manage_visibility(bs_app *app, bs_schema *schema,
                          const bs_collection *c, json_object *request,
                          bs_record **recs, int n)
{
    if (n == 0 || !bs_collection_is_auth(c))
        return;
    json_object *ids = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(ids, json_object_new_string(bs_record_id(recs[i])));
    json_object *managed = manage_matches(app, schema, c, request, ids);
    size_t m = json_object_array_length(managed);
    for (size_t j = 0; j < m; j++) {
        const char *id =
            json_object_get_string(json_object_array_get_idx(managed, j));
        for (int i = 0; i < n; i++) {
            if (strcmp(bs_record_id(recs[i]), id) == 0)
                recs[i]->ignore_email_visibility = true;
        }
    }
    json_object_put(managed);
    json_object_put(ids);
}

bool bs_has_manage_access(bs_app *app, bs_schema *schema,
                          const bs_collection *c, json_object *request,
                          const bs_record *rec)
{
    if (!bs_collection_is_auth(c) || rec->is_new)
        return false;
    json_object *ids = json_object_new_array();
    json_object_array_add(ids, json_object_new_string(bs_record_id(rec)));
    json_object *managed = manage_matches(app, schema, c, request, ids);
    bool ok = json_object_array_length(managed) > 0;
    json_object_put(managed);
    json_object_put(ids);
    return ok;
}

static int find_record(const bs_rule_ctx *ctx, const char *id,
                       const char *rule, bool is_rule, bs_record **out,
                       bs_error *err);

int bs_rules_find_record(const bs_rule_ctx *ctx, const char *id,
                         const char *rule, bs_record **out, bs_error *err)
{
    return find_record(ctx, id, ctx->superuser ? NULL : rule, true, out,
                       err);
}

int bs_rules_match_filter(const bs_rule_ctx *ctx, const char *id,
                          const char *filter, bs_error *err)
{
    return find_record(ctx, id, filter, false, NULL, err);
}

static int find_record(const bs_rule_ctx *ctx, const char *id,
                       const char *rule, bool is_rule, bs_record **out,
                       bs_error *err)
{
    const bs_collection *c = ctx->collection;
    if (out)
        *out = NULL;
    bs_query q;
    bs_rule_sql rs;
    bs_buf text;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_buf_init(&text);
    int rc = 0;
    while (rule && isspace((unsigned char)*rule))
        rule++;
    if (rule && *rule)
        rc = bs_rules_add_filter(ctx, rule, is_rule, &q, &rs, err);
    if (!rc)
        rc = bs_rules_finish(&rs, &q, err);
    if (rc)
        goto end;
    bs_buf_puts(&text, "SELECT ");
    bs_sql_ident(&text, c->name);
    bs_buf_puts(&text, out ? ".* FROM " : ".id FROM ");
    bs_sql_ident(&text, c->name);
    bs_buf_append(&text, rs.joins.data ? rs.joins.data : "", rs.joins.len);
    bs_buf_puts(&text, " WHERE ");
    bs_sql_ident(&text, c->name);
    bs_param idp = {.type = BS_PARAM_TEXT, .s = (char *)id, .n = strlen(id)};
    bs_buf_printf(&text, ".id = ?%d", bs_query_add_param(&q, &idp));
    if (rs.where.len) {
        bs_buf_puts(&text, " AND (");
        bs_buf_append(&text, rs.where.data, rs.where.len);
        bs_buf_putc(&text, ')');
    }
    bs_buf_puts(&text, " LIMIT 1");
    bs_buf_dispose(&q.sql);
    q.sql = text;
    bs_buf_init(&text);
    bs_conn *conn = bs_store_reader_acquire(ctx->app->store);
    bs_rows st;
    if (bs_rows_open_query(&st, conn, &q, BS_ROWS_CACHED) != 0) {
        bs_log('D', "rule query failed: %s", bs_conn_errmsg(conn));
        rc = bs_error_set(err, 400, "Something went wrong while processing "
                                    "your request.");
    } else if (bs_rows_next(&st) == 1) {
        if (out) {
            *out = bs_record_from_row(ctx->schema, c, &st);
            rc = *out ? 0 : BS_ENOMEM;
        }
    } else {
        rc = BS_ENOTFOUND;
    }
    bs_rows_close(&st);
    bs_store_reader_release(ctx->app->store, conn);

end:
    bs_buf_dispose(&text);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return rc;
}

/* Binds one value of an unsaved record as a parameter of q. Values that
 * are neither scalars nor NULL are bound as their JSON text (kept in tmp
 * until the query has run). */
static int bind_value(bs_query *q, json_object *v, bs_buf *tmp)
{
    bs_param p = {.type = BS_PARAM_NULL};
    if (!v) {
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
        bs_buf_reset(tmp);
        bs_json_write(tmp, v);
        p.type = BS_PARAM_TEXT;
        p.s = tmp->data ? tmp->data : "";
        p.n = tmp->len;
    }
    return bs_query_add_param(q, &p);
}

bool bs_rules_match_values(const bs_rule_ctx *ctx, const bs_record *rec,
                           const char *rule)
{
    const bs_collection *c = ctx->collection;
    bs_query q;
    bs_rule_sql rs;
    bs_buf text, tmp;
    bs_error err;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_buf_init(&text);
    bs_buf_init(&tmp);
    bs_error_init(&err);
    bool ok = false;
    /* PostgreSQL types a bare parameter in a SELECT list as text: each
     * value is cast to its column's type, as the table would hold it. */
    bool pg = bs_store_is_pg(ctx->app->store);
    bs_buf_puts(&text, "WITH ");
    bs_sql_ident(&text, c->name);
    bs_buf_puts(&text, " AS (SELECT ");
    for (int i = 0; i < c->nfields; i++) {
        const bs_finfo *fi = &c->finfo[i];
        json_object *v = bs_json_get(rec->data, fi->name);
        json_object *sub = NULL;
        if (strcmp(fi->name, "id") == 0 && !*bs_record_get_string(rec, "id"))
            v = sub = json_object_new_string("__pb_create__temp_id");
        else if (strcmp(fi->name, "verified") == 0 &&
                 bs_collection_is_auth(c))
            v = sub = json_object_new_boolean(0); /* never trust a submitted
                                                    * verified flag */
        int idx = bind_value(&q, v, &tmp);
        if (sub)
            json_object_put(sub);
        if (pg)
            bs_buf_printf(&text, "%sCAST(?%d AS %s) AS ", i ? ", " : "",
                          idx, bs_ftype_pg_column(fi->type));
        else
            bs_buf_printf(&text, "%s?%d AS ", i ? ", " : "", idx);
        bs_sql_ident(&text, fi->name);
    }
    bs_buf_puts(&text, ") ");
    if (bs_rules_add_filter(ctx, rule, true, &q, &rs, &err) ||
        bs_rules_finish(&rs, &q, &err))
        goto end;
    bs_buf_puts(&text, "SELECT 1 FROM ");
    bs_sql_ident(&text, c->name);
    bs_buf_append(&text, rs.joins.data ? rs.joins.data : "", rs.joins.len);
    if (rs.where.len) {
        bs_buf_puts(&text, " WHERE ");
        bs_buf_append(&text, rs.where.data, rs.where.len);
    }
    bs_buf_puts(&text, " LIMIT 1");
    bs_buf_dispose(&q.sql);
    q.sql = text;
    bs_buf_init(&text);
    bs_conn *conn = bs_store_reader_acquire(ctx->app->store);
    bs_rows st;
    if (bs_rows_open_query(&st, conn, &q, BS_ROWS_ONCE) == 0)
        ok = bs_rows_next(&st) == 1;
    else
        bs_log('D', "rule query on new record failed: %s",
               bs_conn_errmsg(conn));
    bs_rows_close(&st);
    bs_store_reader_release(ctx->app->store, conn);

end:
    bs_error_dispose(&err);
    bs_buf_dispose(&text);
    bs_buf_dispose(&tmp);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return ok;
}

/* ---- one rule, many requesters --------------------------------------------- *
 *
 * On SQLite a rule is compiled for a batch: its parameters are columns
 * of a VALUES table of the requesters, so one statement decides every
 * requester whose rule has the same SQL text. PostgreSQL types the
 * columns of such a table as text, which then fails to meet a number or
 * a bool column; there a rule is compiled as a request compiles it, in
 * the store's dialect with its own untyped parameters (dialect_pg.c),
 * and decided by one statement per set of requesters with the same SQL
 * and the same parameter values. */

/* Compiled for a batch, a parameter of the rule is a column of the
 * requesters' table: the rule's SQL is then the same text for every
 * requester of one shape, and their parameter values become its rows. */
static void batch_param(bs_buf *b, int n)
{
    bs_buf_printf(b, "\"__bs_req\".\"p%d\"", n);
}

/* Parameters per statement, below SQLite's default limit of 32766. */
#define BATCH_PARAMS 30000

/* A rule compiled for one requester: the SQL text of its shape and the
 * requester's parameter values, copied out of the filter query into one
 * allocation, so that it outlives the query and the request data. */
struct bs_rules_compiled {
    atomic_int refs;
    bs_schema *schema;   /* a reference: what the rule was compiled in */
    uint64_t hash;       /* of joins and where (and of the parameter
                          * values, unless batch), to group requesters */
    bool refuses;        /* the rule does not compile: allows nobody */
    bool batch;          /* parameters are columns of the requesters'
                          * table (SQLite), not placeholders */
    bs_filter_sql sql;   /* strings and params point into this block */
};

static void bind_filter_value(bs_rows *st, int idx, const bs_filter_value *v)
{
    switch (v->type) {
    case BS_FILTER_NULL:
        bs_rows_bind_null(st, idx);
        break;
    case BS_FILTER_INT:
        bs_rows_bind_int(st, idx, v->i);
        break;
    case BS_FILTER_REAL:
        bs_rows_bind_real(st, idx, v->d);
        break;
    case BS_FILTER_TEXT:
        bs_rows_bind_text(st, idx, v->s, (long)v->n);
        break;
    }
}

static bool same_shape(const bs_filter_sql *a, const bs_filter_sql *b)
{
    return a->nparams == b->nparams && strcmp(a->joins, b->joins) == 0 &&
           strcmp(a->where, b->where) == 0;
}

/* Whether a and b (of the same shape) bind the same values. */
static bool same_params(const bs_filter_sql *a, const bs_filter_sql *b)
{
    for (int j = 0; j < a->nparams; j++) {
        const bs_filter_value *x = &a->params[j], *y = &b->params[j];
        if (x->type != y->type)
            return false;
        if ((x->type == BS_FILTER_INT && x->i != y->i) ||
            (x->type == BS_FILTER_REAL &&
             memcmp(&x->d, &y->d, sizeof x->d) != 0) ||
            (x->type == BS_FILTER_TEXT &&
             (x->n != y->n || memcmp(x->s, y->s, x->n) != 0)))
            return false;
    }
    return true;
}

/* The hash of the shape of s and, with values, of its parameters. */
static uint64_t shape_hash(const bs_filter_sql *s, bool values)
{
    uint64_t h = bs_fnv1a(BS_FNV_SEED, s->joins, strlen(s->joins));
    h = bs_fnv1a(h, "\x1f", 1);
    h = bs_fnv1a(h, s->where, strlen(s->where));
    for (int j = 0; values && j < s->nparams; j++) {
        const bs_filter_value *v = &s->params[j];
        h = bs_fnv1a(h, &v->type, sizeof v->type);
        if (v->type == BS_FILTER_INT)
            h = bs_fnv1a(h, &v->i, sizeof v->i);
        else if (v->type == BS_FILTER_REAL)
            h = bs_fnv1a(h, &v->d, sizeof v->d);
        else if (v->type == BS_FILTER_TEXT)
            h = bs_fnv1a(h, v->s, v->n);
    }
    return h ^ (uint64_t)s->nparams;
}

/* Copies the compiled pieces of sql into one block after a new
 * bs_rules_compiled (batch as in bs_rules_compiled). NULL when out of
 * memory. */
static bs_rules_compiled *compiled_copy(const bs_filter_sql *sql, bool batch)
{
    size_t jn = strlen(sql->joins) + 1, wn = strlen(sql->where) + 1;
    size_t size = sizeof(bs_rules_compiled) +
                  sizeof(bs_filter_value) * (size_t)sql->nparams + jn + wn;
    for (int j = 0; j < sql->nparams; j++)
        if (sql->params[j].type == BS_FILTER_TEXT)
            size += sql->params[j].n + 1;
    bs_rules_compiled *rc = calloc(1, size);
    if (!rc)
        return NULL;
    bs_filter_value *params = (bs_filter_value *)(rc + 1);
    char *text = (char *)(params + sql->nparams);
    for (int j = 0; j < sql->nparams; j++) {
        params[j] = sql->params[j];
        if (params[j].type == BS_FILTER_TEXT) {
            memcpy(text, sql->params[j].s, sql->params[j].n);
            text[sql->params[j].n] = '\0';
            params[j].s = text;
            text += sql->params[j].n + 1;
        }
    }
    memcpy(text, sql->joins, jn);
    rc->sql.joins = text;
    memcpy(text + jn, sql->where, wn);
    rc->sql.where = text + jn;
    rc->sql.where_scan = rc->sql.where;
    rc->sql.params = params;
    rc->sql.nparams = sql->nparams;
    rc->batch = batch;
    rc->hash = shape_hash(&rc->sql, !batch);
    return rc;
}

int bs_rules_compile_for(bs_app *app, bs_schema *schema,
                         const bs_collection *c, const char *rule,
                         json_object *request, bs_rules_compiled **out)
{
    *out = NULL;
    const bs_sql_dialect *store =
        app->dialect ? app->dialect : bs_sql_dialect_sqlite();
    bool batch = store == bs_sql_dialect_sqlite();
    bs_sql_dialect d = *store;
    if (batch)
        d.param = batch_param;
    bs_filter_ctx fc = {.schema = schema, .collection = c, .alias = c->name,
                        .request = request, .dialect = &d};
    bs_filter_query *fq = NULL;
    bs_error err;
    bs_error_init(&err);
    bs_filter_sql sql = {.joins = "", .where = ""};
    const char *text = rule;
    while (text && isspace((unsigned char)*text))
        text++;
    int rc = 0;
    if (text && *text)
        rc = bs_filter_query_new(&fq, &fc, 1);
    if (rc)
        goto end;
    if (!text || (*text && (bs_filter_add_rule(fq, text, &err) ||
                            bs_filter_finish(fq, &sql, &err)))) {
        /* No rule (superusers only), or one that does not compile:
         * nobody is allowed. */
        if (text)
            bs_log('D', "filter: %s", err.message ? err.message : "invalid");
        *out = calloc(1, sizeof **out);
        if (*out) {
            (*out)->refuses = true;
            (*out)->sql.joins = (*out)->sql.where = "";
        }
    } else {
        *out = compiled_copy(&sql, batch);
    }
    if (!*out) {
        rc = BS_ENOMEM;
        goto end;
    }
    atomic_init(&(*out)->refs, 1);
    bs_schema_ref(schema);
    (*out)->schema = schema;
end:
    bs_filter_query_free(fq);
    bs_error_dispose(&err);
    return rc;
}

bs_rules_compiled *bs_rules_compiled_ref(bs_rules_compiled *rc)
{
    if (rc)
        atomic_fetch_add(&rc->refs, 1);
    return rc;
}

void bs_rules_compiled_unref(bs_rules_compiled *rc)
{
    if (!rc || atomic_fetch_sub(&rc->refs, 1) != 1)
        return;
    bs_schema_unref(rc->schema);
    free(rc);
}

bool bs_rules_compiled_in(const bs_rules_compiled *rc, const bs_schema *s)
{
    return rc && rc->schema == s;
}

/* Appends `SELECT 1 FROM c joins WHERE c.id = ?id_param AND (where)`
 * for the compiled sql (id_param 0: a bare "?"). */
static void put_check(bs_buf *b, const bs_collection *c,
                      const bs_filter_sql *sql, int id_param)
{
    bs_buf_puts(b, "SELECT 1 FROM ");
    bs_sql_ident(b, c->name);
    if (*sql->joins) {
        bs_buf_putc(b, ' ');
        bs_buf_puts(b, sql->joins);
    }
    bs_buf_puts(b, " WHERE ");
    bs_sql_ident(b, c->name);
    bs_buf_puts(b, ".id = ?");
    if (id_param)
        bs_buf_printf(b, "%d", id_param);
    if (*sql->where)
        bs_buf_printf(b, " AND (%s)", sql->where);
}

/* Opens st on the statement text (BS_ROWS_ONCE). Returns 0, BS_ENOMEM
 * or BS_EDB; st may be closed in every case. */
static int open_check(bs_rows *st, bs_conn *conn, const bs_buf *text)
{
    memset(st, 0, sizeof *st);
    if (text->oom)
        return BS_ENOMEM;
    if (bs_rows_open(st, conn, text->data, (long)text->len,
                     BS_ROWS_ONCE) != 0) {
        bs_log('D', "rule check failed: %s", bs_conn_errmsg(conn));
        return BS_EDB;
    }
    return 0;
}

/* Runs one statement for items group[0..n) (all of one shape) and sets
 * allowed[] for those whose requester the rule lets see id. */
static int run_batch(bs_conn *conn, const bs_collection *c, const char *id,
                     bs_rules_compiled *const *items, const int *group,
                     int n, bool *allowed)
{
    const bs_filter_sql *first = &items[group[0]]->sql;
    int m = first->nparams;
    bs_buf text;
    bs_buf_init(&text);
    if (m) {
        bs_buf_puts(&text, "WITH \"__bs_req\"(\"k\"");
        for (int j = 1; j <= m; j++)
            bs_buf_printf(&text, ",\"p%d\"", j);
        /* Plain "?" placeholders, numbered by SQLite in text order (the
         * rows', then the id's): "?NNN" costs SQLite a scan of the
         * numbers seen so far for each one, quadratic at 10,000 rows. */
        bs_buf_puts(&text, ") AS (VALUES ");
        for (int i = 0; i < n; i++) {
            bs_buf_puts(&text, i ? ",(?" : "(?");
            for (int j = 0; j < m; j++)
                bs_buf_puts(&text, ",?");
            bs_buf_putc(&text, ')');
        }
        bs_buf_puts(&text, ") SELECT \"__bs_req\".\"k\" FROM \"__bs_req\" "
                           "WHERE EXISTS (");
    } else {
        bs_buf_puts(&text, "SELECT -1 WHERE EXISTS (");
    }
    int id_param = m ? n * (m + 1) + 1 : 1;
    put_check(&text, c, first, 0);
    bs_buf_puts(&text, ")");
    bs_rows st;
    int rc = open_check(&st, conn, &text);
    if (!rc) {
        int at = 1;
        for (int i = 0; m && i < n; i++) {
            bs_rows_bind_int(&st, at++, i);
            const bs_filter_sql *s = &items[group[i]]->sql;
            for (int j = 0; j < m; j++)
                bind_filter_value(&st, at++, &s->params[j]);
        }
        bs_rows_bind_text(&st, id_param, id, -1);
        while (bs_rows_next(&st) == 1) {
            int64_t k = bs_rows_int(&st, 0);
            if (k < 0) {
                for (int i = 0; i < n; i++)
                    allowed[group[i]] = true;
            } else if (k < n) {
                allowed[group[k]] = true;
            }
        }
    }
    bs_rows_close(&st);
    bs_buf_dispose(&text);
    return rc;
}

/* Decides items group[0..n), whose SQL and parameter values are the same
 * (compiled in the store's dialect, not for a batch), with the one
 * statement a request would run: the rule's own parameters, then the
 * id. */
static int run_alike(bs_conn *conn, const bs_collection *c, const char *id,
                     bs_rules_compiled *const *items, const int *group,
                     int n, bool *allowed)
{
    const bs_filter_sql *sql = &items[group[0]]->sql;
    bs_buf text;
    bs_buf_init(&text);
    put_check(&text, c, sql, sql->nparams + 1);
    bs_buf_puts(&text, " LIMIT 1");
    bs_rows st;
    int rc = open_check(&st, conn, &text);
    if (!rc) {
        for (int j = 0; j < sql->nparams; j++)
            bind_filter_value(&st, j + 1, &sql->params[j]);
        bs_rows_bind_text(&st, sql->nparams + 1, id, -1);
        int found = bs_rows_next(&st);
        if (found < 0)
            bs_log('D', "rule check failed: %s", bs_conn_errmsg(conn));
        for (int i = 0; found == 1 && i < n; i++)
            allowed[group[i]] = true;
    }
    bs_rows_close(&st);
    bs_buf_dispose(&text);
    return rc;
}

int bs_rules_check_compiled(bs_app *app, const bs_collection *c,
                            const char *id, bs_rules_compiled *const *items,
                            int n, bool *allowed)
{
    for (int i = 0; i < n; i++)
        allowed[i] = false;
    if (n <= 0)
        return 0;
    int *group = malloc(sizeof *group * (size_t)n);
    bool *done = calloc((size_t)n, sizeof *done);
    int rc = group && done ? 0 : BS_ENOMEM;
    bs_conn *conn = rc ? NULL : bs_store_reader_acquire(app->store);
    for (int i = 0; conn && i < n; i++) {
        if (done[i] || !items[i] || items[i]->refuses)
            continue;
        /* The requesters from i on whose rule compiled to the same SQL
         * (and, outside a batch, the same parameter values). */
        const bs_rules_compiled *a = items[i];
        int k = 0, params = 1;
        int per = a->batch ? a->sql.nparams + 1 : 0;
        for (int j = i; j < n && params + per <= BATCH_PARAMS; j++) {
            const bs_rules_compiled *b = items[j];
            if (done[j] || !b || b->refuses || b->batch != a->batch ||
                b->hash != a->hash || !same_shape(&a->sql, &b->sql) ||
                (!a->batch && !same_params(&a->sql, &b->sql)))
                continue;
            group[k++] = j;
            done[j] = true;
            params += per;
        }
        int brc = a->batch ? run_batch(conn, c, id, items, group, k, allowed)
                           : run_alike(conn, c, id, items, group, k, allowed);
        if (brc == BS_ENOMEM)
            rc = brc;
    }
    if (conn)
        bs_store_reader_release(app->store, conn);
    free(group);
    free(done);
    return rc;
}

int bs_rules_check_many(bs_app *app, bs_schema *schema,
                        const bs_collection *c, const char *id,
                        const char *rule, json_object *const *requests,
                        int n, bool *allowed)
{
    for (int i = 0; i < n; i++)
        allowed[i] = false;
    if (!rule || n <= 0)
        return 0;
    while (isspace((unsigned char)*rule))
        rule++;
    if (!*rule) {
        for (int i = 0; i < n; i++)
            allowed[i] = true;
        return 0;
    }
    bs_rules_compiled **items = calloc((size_t)n, sizeof *items);
    int rc = items ? 0 : BS_ENOMEM;
    for (int i = 0; !rc && i < n; i++)
        rc = bs_rules_compile_for(app, schema, c, rule, requests[i],
                                  &items[i]);
    if (!rc)
        rc = bs_rules_check_compiled(app, c, id, items, n, allowed);
    for (int i = 0; items && i < n; i++)
        bs_rules_compiled_unref(items[i]);
    free(items);
    return rc;
}
