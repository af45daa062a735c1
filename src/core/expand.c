/*
 * expand.c - expanding relations of records.
 *
 * The requested paths are merged into a small tree first ("a,a.b,c"
 * gives a -> b and c), so each relation is loaded once for all records of
 * a level with one query, filtered by the related collection's view rule.
 *
 * A related record is shared, not copied: every parent that points at it
 * holds a reference to the one loaded instance, so memory grows with the
 * records loaded, not with the response. The response itself still spells
 * out the whole tree (a record once per parent), and with relations that
 * point at each other that tree grows as fan-out to the power of depth
 * while the data stays small. Its size is therefore worked out from the
 * shared records before anything is written (each record's own JSON size,
 * summed up the tree), and a request whose expansion would pass
 * BS_EXPAND_MAX_BYTES is refused with a 400.
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
        bs_rows st;
        bs_rows_open_query(&st, conn, &q, BS_ROWS_ONCE);
        int cap = 0;
        while (bs_rows_next(&st) == 1) {
            if (*nout == cap) {
                cap = cap ? cap * 2 : 16;
                bs_record **tmp = realloc(*out, sizeof *tmp * (size_t)cap);
                if (!tmp)
                    break;
                *out = tmp;
            }
            bs_record *r = bs_record_from_row(ctx->schema, c, &st);
            if (r)
                (*out)[(*nout)++] = r;
        }
        bs_rows_close(&st);
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
                    const bs_finfo **field, const char **via,
                    bool *via_multi)
{
    *via = NULL;
    *via_multi = false;
    const bs_finfo *f = bs_collection_finfo(c, name);
    if (f && f->type == BS_F_RELATION) {
        *target = bs_schema_find(ctx->schema, f->collection_id);
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
    const bs_finfo *vf = bs_collection_finfo(src, sep + 5);
    if (!vf || vf->type != BS_F_RELATION ||
        strcmp(vf->collection_id, c->id) != 0)
        return false;
    *target = src;
    *field = vf;
    *via = vf->name;
    *via_multi = vf->multiple;
    return true;
}

/* Adds b to a, saturating just past BS_EXPAND_MAX_BYTES: any total over
 * the limit is as good as another, and the products of deep fan-outs
 * would otherwise overflow. */
static size_t sat_add(size_t a, size_t b)
{
    const size_t over = (size_t)BS_EXPAND_MAX_BYTES + 1;
    return a >= over || b >= over || a + b >= over ? over : a + b;
}

/* A record's id with its place in an array, for lookups by id. */
typedef struct id_pos {
    const char *id;
    int pos;
} id_pos;

static int cmp_id_pos(const void *a, const void *b)
{
    return strcmp(((const id_pos *)a)->id, ((const id_pos *)b)->id);
}

/* Sorts recs' ids with their places into a new array (NULL when out of
 * memory). */
static id_pos *index_ids(bs_record **recs, int n)
{
    id_pos *ix = malloc(sizeof *ix * (size_t)(n ? n : 1));
    if (!ix)
        return NULL;
    for (int i = 0; i < n; i++)
        ix[i] = (id_pos){bs_record_id(recs[i]), i};
    qsort(ix, (size_t)n, sizeof *ix, cmp_id_pos);
    return ix;
}

/* The place of the record with id in the array ix indexes, or -1. */
static int find_id(const id_pos *ix, int n, const char *id)
{
    id_pos key = {id, 0};
    const id_pos *hit = id ? bsearch(&key, ix, (size_t)n, sizeof *ix,
                                     cmp_id_pos)
                           : NULL;
    return hit ? hit->pos : -1;
}

/* Appends rel index j to parent i's list (capacity cap per list). */
static int list_add(int **lists, int *counts, int i, int j, size_t cap)
{
    if (!lists[i] && !(lists[i] = malloc(sizeof **lists * cap)))
        return BS_ENOMEM;
    lists[i][counts[i]++] = j;
    return 0;
}

/* Finds the related records of every parent recs[i] for one path node:
 * lists[i] gets indexes into rel, in PocketBase's order (for a relation,
 * the order of the ids in the parent's field; for a back-relation, the
 * order of rel). Lookups go through sorted ids, so a level costs
 * O(links * log n) rather than parents times related records. */
static int match_related(bs_record **recs, int n, const char *name,
                         const char *via, bs_record **rel, int nrel,
                         int **lists, int *counts)
{
    int rc = 0;
    id_pos *ix = via ? index_ids(recs, n) : index_ids(rel, nrel);
    if (!ix)
        return BS_ENOMEM;
    if (via) {
        for (int j = 0; j < nrel && rc == 0; j++) {
            json_object *v = bs_json_get(rel[j]->data, via);
            bool arr = v && json_object_is_type(v, json_type_array);
            size_t cnt = arr ? json_object_array_length(v) : (v ? 1 : 0);
            for (size_t x = 0; x < cnt && rc == 0; x++) {
                int i = find_id(ix, n, json_object_get_string(
                                           arr ? json_object_array_get_idx(v, x)
                                               : v));
                /* A parent named twice in one field lists j once. */
                if (i >= 0 && !(counts[i] && lists[i][counts[i] - 1] == j))
                    rc = list_add(lists, counts, i, j, (size_t)nrel);
            }
        }
        goto done;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        json_object *v = bs_json_get(recs[i]->data, name);
        bool arr = v && json_object_is_type(v, json_type_array);
        size_t cnt = arr ? json_object_array_length(v)
                         : (v && json_object_get_string_len(v) ? 1 : 0);
        for (size_t x = 0; x < cnt && rc == 0; x++) {
            int j = find_id(ix, nrel, json_object_get_string(
                                          arr ? json_object_array_get_idx(v, x)
                                              : v));
            if (j >= 0)
                rc = list_add(lists, counts, i, j, cnt);
        }
    }
done:
    free(ix);
    return rc;
}

/* Expands the children of path node t on recs, adding to added[i] the
 * bytes that recs[i]'s expansion will take in the response. Each related
 * record is loaded once per level and shared by every parent that points
 * at it; the bytes are those of the tree the response spells out, where
 * a shared record appears once per parent. */
static int expand_level(const bs_expand_ctx *ctx, bs_record **recs, int n,
                        const node *t, size_t *added)
{
    if (n == 0)
        return 0;
    const bs_collection *c = recs[0]->collection;
    int rc = 0;
    for (int k = 0; k < t->n && rc == 0; k++) {
        const node *child = t->children[k];
        const bs_collection *target;
        const bs_finfo *f;
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
        size_t *bytes = nrel ? calloc((size_t)nrel, sizeof *bytes) : NULL;
        int **lists = nrel ? calloc((size_t)n, sizeof *lists) : NULL;
        int *counts = nrel ? calloc((size_t)n, sizeof *counts) : NULL;
        if (nrel && (!bytes || !lists || !counts))
            rc = BS_ENOMEM;
        /* Each related record's own size, then deeper levels on the loaded
         * set, which add their sizes. */
        bs_buf scratch;
        bs_buf_init(&scratch);
        for (int j = 0; j < nrel && rc == 0; j++) {
            set_visibility(ctx, rel[j]);
            bs_buf_reset(&scratch);
            bs_record_write_json(rel[j], &scratch);
            bytes[j] = scratch.len + 1;
        }
        bs_buf_dispose(&scratch);
        if (rc == 0)
            rc = expand_level(ctx, rel, nrel, child, bytes);
        if (rc == 0 && nrel)
            rc = match_related(recs, n, child->name, via, rel, nrel, lists,
                               counts);
        bool multiple = via ? true : f->multiple;
        for (int i = 0; nrel && i < n && rc == 0; i++) {
            if (!counts[i])
                continue;
            bs_record **items = malloc(sizeof *items * (size_t)counts[i]);
            if (!items) {
                rc = BS_ENOMEM;
                break;
            }
            size_t sum = strlen(child->name) + 16;
            for (int x = 0; x < counts[i]; x++) {
                items[x] = bs_record_ref(rel[lists[i][x]]);
                sum = sat_add(sum, bytes[lists[i][x]]);
            }
            added[i] = sat_add(added[i], sum);
            if (bs_record_add_expand(recs[i], child->name, multiple, items,
                                     counts[i]) != 0)
                rc = BS_ENOMEM;
            if (added[i] > BS_EXPAND_MAX_BYTES)
                rc = BS_EHTTP;
        }
        for (int i = 0; lists && i < n; i++)
            free(lists[i]);
        free(lists);
        free(counts);
        free(bytes);
        for (int j = 0; j < nrel; j++)
            bs_record_free(rel[j]);
        free(rel);
    }
    return rc;
}

int bs_expand_records(const bs_expand_ctx *ctx, bs_record **recs, int n,
                      const char *paths, bs_error *err)
{
    node *root = calloc(1, sizeof *root);
    size_t *added = calloc((size_t)(n ? n : 1), sizeof *added);
    int rc = 0;
    if (!root || !added) {
        rc = BS_ENOMEM;
        goto done;
    }
    const char *p = paths;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        tree_add(root, p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    rc = expand_level(ctx, recs, n, root, added);
    size_t total = 0;
    for (int i = 0; i < n && rc == 0; i++)
        total = sat_add(total, added[i]);
    if (rc == 0 && total > BS_EXPAND_MAX_BYTES)
        rc = BS_EHTTP;
    if (rc == BS_EHTTP)
        bs_error_set(err, 400, "The expanded relations are too large to "
                               "return at once; request fewer records or "
                               "expand fewer relations.");
done:
    if (root)
        tree_free(root);
    free(added);
    return rc;
}
