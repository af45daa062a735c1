/*
 * expand.c - expanding relations of records.
 *
 * The requested paths are merged into a small tree first ("a,a.b,c"
 * gives a -> b and c), so each relation is loaded once for all records of
 * a level with one query, filtered by the related collection's view rule.
 */
#include "expand.h"

#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"
#include "app.h"
#include "field.h"
#include "rules.h"

#define MAX_DEPTH 6
#define MAX_CHILDREN 32

typedef struct node {
    char name[128];
    struct node *children[MAX_CHILDREN];
    int n;
} node;

static void tree_free(node *t)
{
    for (int i = 0; i < t->n; i++)
        tree_free(t->children[i]);
    if (t)
        free(t);
}

static void tree_add(node *root, const char *path, size_t len)
{
    node *cur = root;
    int depth = 0;
    while (len > 0 && depth < MAX_DEPTH) {
        const char *dot = memchr(path, '.', len);
        size_t n = dot ? (size_t)(dot - path) : len;
        while (n && *path == ' ') {
            path++;
            n--;
            len--;
        }
        while (n && path[n - 1] == ' ')
            n--;
        if (n == 0 || n >= sizeof cur->name)
            return;
        node *next = NULL;
        for (int i = 0; i < cur->n; i++) {
            if (strlen(cur->children[i]->name) == n &&
                memcmp(cur->children[i]->name, path, n) == 0)
                next = cur->children[i];
        }
        if (!next) {
            if (cur->n == MAX_CHILDREN)
                return;
            next = calloc(1, sizeof *next);
            if (!next)
                return;
            memcpy(next->name, path, n);
            cur->children[cur->n++] = next;
        }
        cur = next;
        depth++;
        if (!dot)
            return;
        len -= (size_t)(dot - path) + 1;
        path = dot + 1;
    }
}

/* Loads the records of c whose ids are in ids (or, for a back-relation,
 * whose field `via` holds one of ids), keeping only those that pass c's
 * view rule for the requester. */
static int load_related(const bs_expand_ctx *ctx, const bs_collection *c,
                        json_object *ids, const char *via, bool via_multi,
                        bs_record ***out, int *nout)
{
    *out = NULL;
    *nout = 0;
    const char *rule = c->rules[BS_RULE_VIEW];
    if (!ctx->superuser && !rule)
        return 0;
    bs_query q;
    bs_rule_sql rs;
    bs_error err;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_error_init(&err);
    int rc = 0;
    if (!ctx->superuser && *rule) {
        bs_rule_ctx rctx = {.app = ctx->app, .schema = ctx->schema,
                            .collection = c, .alias = c->name,
                            .request = ctx->request};
        rc = bs_rules_add_filter(&rctx, rule, true, &q, &rs, &err);
    }
    if (rc == 0)
        rc = bs_rules_finish(&rs, &q, &err);
    if (rc == 0) {
        bs_buf text, ids_text;
        bs_buf_init(&text);
        bs_buf_init(&ids_text);
        bs_json_write(&ids_text, ids);
        bs_param p = {.type = BS_PARAM_TEXT, .s = ids_text.data,
                      .n = ids_text.len};
        int idx = bs_query_add_param(&q, &p);
        bs_buf_puts(&text, "SELECT DISTINCT ");
        bs_sql_ident(&text, c->name);
        bs_buf_puts(&text, ".* FROM ");
        bs_sql_ident(&text, c->name);
        bs_buf_append(&text, rs.joins.data ? rs.joins.data : "", rs.joins.len);
        bs_buf_puts(&text, " WHERE ");
        if (!via) {
            bs_sql_ident(&text, c->name);
            bs_buf_printf(&text, ".id IN (SELECT value FROM json_each(?%d))",
                          idx);
        } else if (via_multi) {
            bs_buf_puts(&text, "EXISTS (SELECT 1 FROM json_each(CASE WHEN "
                               "json_valid(");
            bs_sql_ident(&text, c->name);
            bs_buf_putc(&text, '.');
            bs_sql_ident(&text, via);
            bs_buf_puts(&text, ") THEN ");
            bs_sql_ident(&text, c->name);
            bs_buf_putc(&text, '.');
            bs_sql_ident(&text, via);
            bs_buf_printf(&text, " ELSE '[]' END) je WHERE je.value IN "
                                 "(SELECT value FROM json_each(?%d)))",
                          idx);
        } else {
            bs_sql_ident(&text, c->name);
            bs_buf_putc(&text, '.');
            bs_sql_ident(&text, via);
            bs_buf_printf(&text, " IN (SELECT value FROM json_each(?%d))", idx);
        }
        if (rs.where.len) {
            bs_buf_puts(&text, " AND (");
            bs_buf_append(&text, rs.where.data, rs.where.len);
            bs_buf_putc(&text, ')');
        }
        bs_buf_puts(&text, " ORDER BY ");
        bs_sql_ident(&text, c->name);
        bs_buf_puts(&text, strcmp(c->type, "view") == 0 ? ".id" : "._rowid_");
        bs_buf_dispose(&q.sql);
        q.sql = text;
        bs_conn *conn = bs_store_reader_acquire(ctx->app->store);
        sqlite3_stmt *st = bs_query_prepare(&q, bs_conn_db(conn));
        int cap = 0;
        while (st && sqlite3_step(st) == SQLITE_ROW) {
            if (*nout == cap) {
                cap = cap ? cap * 2 : 16;
                bs_record **tmp = realloc(*out, sizeof *tmp * (size_t)cap);
                if (!tmp)
                    break;
                *out = tmp;
            }
            bs_record *r = bs_record_from_row(ctx->schema, c, st);
            if (r)
                (*out)[(*nout)++] = r;
        }
        sqlite3_finalize(st);
        bs_store_reader_release(ctx->app->store, conn);
        bs_buf_dispose(&ids_text);
    }
    bs_error_dispose(&err);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return rc;
}

static void set_visibility(const bs_expand_ctx *ctx, bs_record *r)
{
    if (ctx->superuser) {
        r->unhide = true;
        r->ignore_email_visibility = true;
    } else if (ctx->auth_collection &&
               strcmp(ctx->auth_collection, r->collection->id) == 0 &&
               strcmp(ctx->auth_id, bs_record_id(r)) == 0) {
        r->ignore_email_visibility = true;
    }
}

/* Finds the relation (or back-relation "coll_via_field") named by n on
 * collection c. */
static bool resolve(const bs_expand_ctx *ctx, const bs_collection *c,
                    const char *name, const bs_collection **target,
                    const json_object **field, const char **via,
                    bool *via_multi)
{
    *via = NULL;
    *via_multi = false;
    const json_object *f = bs_collection_field(c, name);
    if (f && strcmp(bs_field_type(f), "relation") == 0) {
        *target = bs_schema_find(ctx->schema,
                                 bs_json_get_str(f, "collectionId", ""));
        *field = f;
        return *target != NULL;
    }
    const char *sep = strstr(name, "_via_");
    if (!sep)
        return false;
    char cname[128];
    size_t n = (size_t)(sep - name);
    if (n >= sizeof cname)
        return false;
    memcpy(cname, name, n);
    cname[n] = '\0';
    const bs_collection *src = bs_schema_find(ctx->schema, cname);
    if (!src)
        return false;
    const json_object *vf = bs_collection_field(src, sep + 5);
    if (!vf || strcmp(bs_field_type(vf), "relation") != 0 ||
        strcmp(bs_json_get_str(vf, "collectionId", ""), c->id) != 0)
        return false;
    *target = src;
    *field = vf;
    *via = bs_field_name(vf);
    *via_multi = bs_field_is_multiple(vf);
    return true;
}

static void expand_level(const bs_expand_ctx *ctx, bs_record **recs, int n,
                         const node *t)
{
    if (n == 0)
        return;
    const bs_collection *c = recs[0]->collection;
    for (int k = 0; k < t->n; k++) {
        const node *child = t->children[k];
        const bs_collection *target;
        const json_object *f;
        const char *via;
        bool via_multi;
        if (!resolve(ctx, c, child->name, &target, &f, &via, &via_multi))
            continue;
        json_object *ids = json_object_new_array();
        for (int i = 0; i < n; i++) {
            if (via) {
                json_object_array_add(ids,
                                      json_object_new_string(bs_record_id(recs[i])));
                continue;
            }
            json_object *v = bs_json_get(recs[i]->data, child->name);
            if (v && json_object_is_type(v, json_type_array)) {
                for (size_t j = 0; j < json_object_array_length(v); j++)
                    json_object_array_add(
                        ids, json_object_get(json_object_array_get_idx(v, j)));
            } else if (v && json_object_get_string_len(v) > 0) {
                json_object_array_add(ids, json_object_get(v));
            }
        }
        bs_record **rel = NULL;
        int nrel = 0;
        load_related(ctx, target, ids, via, via_multi, &rel, &nrel);
        json_object_put(ids);
        if (nrel == 0) {
            free(rel);
            continue;
        }
        for (int i = 0; i < nrel; i++)
            set_visibility(ctx, rel[i]);
        /* Deeper levels first, on the loaded set, so each copy carries
         * its own expansion. */
        expand_level(ctx, rel, nrel, child);
        bool multiple = via ? true : bs_field_is_multiple(f);
        for (int i = 0; i < n; i++) {
            bs_record **items = calloc((size_t)nrel, sizeof *items);
            int ni = 0;
            if (!items)
                continue;
            if (via) {
                for (int j = 0; j < nrel; j++) {
                    json_object *v = bs_json_get(rel[j]->data, via);
                    bool match = false;
                    if (v && json_object_is_type(v, json_type_array)) {
                        for (size_t x = 0; x < json_object_array_length(v) && !match; x++)
                            match = strcmp(json_object_get_string(json_object_array_get_idx(v, x)),
                                           bs_record_id(recs[i])) == 0;
                    } else if (v) {
                        match = strcmp(json_object_get_string(v),
                                       bs_record_id(recs[i])) == 0;
                    }
                    if (match)
                        items[ni++] = bs_record_clone_deep(rel[j]);
                }
            } else {
                json_object *v = bs_json_get(recs[i]->data, child->name);
                size_t cnt = v && json_object_is_type(v, json_type_array)
                                 ? json_object_array_length(v)
                                 : (v && json_object_get_string_len(v) ? 1 : 0);
                for (size_t x = 0; x < cnt; x++) {
                    const char *id =
                        json_object_is_type(v, json_type_array)
                            ? json_object_get_string(json_object_array_get_idx(v, x))
                            : json_object_get_string(v);
                    for (int j = 0; j < nrel; j++) {
                        if (strcmp(bs_record_id(rel[j]), id) == 0) {
                            items[ni++] = bs_record_clone_deep(rel[j]);
                            break;
                        }
                    }
                }
            }
            if (ni == 0) {
                free(items);
                continue;
            }
            bs_record_add_expand(recs[i], child->name, multiple, items, ni);
        }
        for (int j = 0; j < nrel; j++)
            bs_record_free(rel[j]);
        free(rel);
    }
}

void bs_expand_records(const bs_expand_ctx *ctx, bs_record **recs, int n,
                       const char *paths)
{
    node *root = calloc(1, sizeof *root);
    if (!root)
        return;
    const char *p = paths;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        tree_add(root, p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    expand_level(ctx, recs, n, root);
    tree_free(root);
}
