/*
 * filter.c - the query object: fragments, parameters, joins, assembly.
 *
 * Fragments (rules, client filters, sort terms) are compiled as they are
 * added; the joins they need accumulate on the query, keyed by what they
 * join. bs_filter_finish then adds the list rule checks of collections
 * joined on behalf of a client without hidden access and decides where
 * each join goes:
 *
 *  - when no condition join can repeat a main row, condition joins sit
 *    in the main query as plain LEFT JOINs;
 *  - otherwise the condition becomes
 *        EXISTS (SELECT 1 FROM (SELECT 1) LEFT JOIN ... WHERE cond)
 *    which keeps PocketBase's "some combination of joined rows satisfies
 *    the whole condition" meaning without DISTINCT on the main query;
 *  - sort joins always sit in the main query, and when one of them can
 *    repeat rows the result says distinct.
 */
#include "compile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int bsf_fail(bs_filter_query *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->reason, sizeof q->reason, fmt, ap);
    va_end(ap);
    return BS_EINVAL;
}

int bsf_nomem(bs_filter_query *q)
{
    q->oom = true;
    snprintf(q->reason, sizeof q->reason, "out of memory");
    return BS_ENOMEM;
}

char *bsf_take(bs_filter_query *q, bs_buf *b)
{
    if (b->oom) {
        bs_buf_reset(b);
        b->oom = false;
        q->oom = true;
        return NULL;
    }
    char *s = bs_arena_strndup(&q->arena, b->data ? b->data : "", b->len);
    bs_buf_reset(b);
    if (!s)
        q->oom = true;
    return s;
}

static bs_filter_value *param_new(bs_filter_query *q, int *idx)
{
    if (q->nparams == q->cap_params) {
        int cap = q->cap_params ? q->cap_params * 2 : 16;
        bs_filter_value *p = realloc(q->params, sizeof *p * (size_t)cap);
        if (!p) {
            q->oom = true;
            return NULL;
        }
        q->params = p;
        q->cap_params = cap;
    }
    *idx = q->nparams++;
    bs_filter_value *v = &q->params[*idx];
    memset(v, 0, sizeof *v);
    return v;
}

int bsf_param_text(bs_filter_query *q, const char *s, size_t n)
{
    char *copy = bs_arena_strndup(&q->arena, s, n);
    int idx;
    bs_filter_value *v = copy ? param_new(q, &idx) : NULL;
    if (!v) {
        q->oom = true;
        return -1;
    }
    v->type = BS_FILTER_TEXT;
    v->s = copy;
    v->n = n;
    return idx;
}

int bsf_param_real(bs_filter_query *q, double d)
{
    int idx;
    bs_filter_value *v = param_new(q, &idx);
    if (!v)
        return -1;
    v->type = BS_FILTER_REAL;
    v->d = d;
    return idx;
}

int bsf_param_int(bs_filter_query *q, int64_t i, bool boolean)
{
    int idx;
    bs_filter_value *v = param_new(q, &idx);
    if (!v)
        return -1;
    v->type = BS_FILTER_INT;
    v->i = i;
    v->boolean = boolean;
    return idx;
}

void bsf_placeholder(bs_filter_query *q, bs_buf *b, int idx)
{
    q->d->param(b, q->first_param + idx);
}

void bsf_column(bs_filter_query *q, bs_buf *b, const char *alias,
                const char *column)
{
    q->d->ident(b, alias);
    bs_buf_putc(b, '.');
    q->d->ident(b, column);
}

static bool alias_taken(const bs_filter_query *q, const char *a)
{
    if (strcasecmp(a, q->alias) == 0)
        return true;
    for (int i = 0; i < q->njoins; i++) {
        if (strcasecmp(q->joins[i].alias, a) == 0)
            return true;
    }
    return false;
}

bsf_join *bsf_join_get(bsf_pass *p, const char *key, const char *want_alias,
                       const bs_collection *coll, bool *fresh)
{
    bs_filter_query *q = p->q;
    *fresh = false;
    if (!p->allow_hidden && coll && !coll->rules[BS_RULE_LIST]) {
        bsf_fail(q,
                 "\"%s\" fields can be accessed only when allowHiddenFields "
                 "is enabled or by superusers",
                 coll->name);
        return NULL;
    }
    bsf_join *j = NULL;
    for (int i = 0; i < q->njoins; i++) {
        if (strcmp(q->joins[i].key, key) == 0) {
            j = &q->joins[i];
            break;
        }
    }
    if (!j) {
        if (q->njoins >= BSF_MAX_JOINS) {
            bsf_fail(q, "too many joins (max %d)", BSF_MAX_JOINS);
            return NULL;
        }
        if (q->njoins == q->cap_joins) {
            int cap = q->cap_joins ? q->cap_joins * 2 : 8;
            bsf_join *js = realloc(q->joins, sizeof *js * (size_t)cap);
            if (!js) {
                bsf_nomem(q);
                return NULL;
            }
            q->joins = js;
            q->cap_joins = cap;
        }
        char *alias = bs_arena_strdup(&q->arena, want_alias);
        for (int n = 2; alias && alias_taken(q, alias); n++)
            alias = bs_arena_printf(&q->arena, "%s_%d", want_alias, n);
        char *k = bs_arena_strdup(&q->arena, key);
        if (!alias || !k) {
            bsf_nomem(q);
            return NULL;
        }
        j = &q->joins[q->njoins++];
        memset(j, 0, sizeof *j);
        j->key = k;
        j->alias = alias;
        j->coll = coll;
        j->sql = "";
        *fresh = true;
    }
    j->scopes |= p->scope;
    if (!p->allow_hidden && coll)
        j->check_rule = true;
    return j;
}

int bs_filter_query_new(bs_filter_query **out, const bs_filter_ctx *ctx,
                        int first_param)
{
    *out = NULL;
    if (!ctx || !ctx->schema || !ctx->collection || !ctx->collection->name ||
        first_param < 1)
        return BS_EINVAL;
    bs_filter_query *q = calloc(1, sizeof *q);
    if (!q)
        return BS_ENOMEM;
    q->ctx = *ctx;
    q->d = ctx->dialect ? ctx->dialect : bs_sql_dialect_sqlite();
    q->alias = ctx->alias ? ctx->alias : ctx->collection->name;
    bs_arena_init(&q->arena, 8192);
    q->first_param = first_param;
    bs_buf_init(&q->cond);
    bs_buf_init(&q->cond_sort);
    bs_buf_init(&q->order);
    bs_buf_init(&q->out_where);
    bs_buf_init(&q->out_where_scan);
    bs_buf_init(&q->out_joins);
    *out = q;
    return 0;
}

void bs_filter_query_free(bs_filter_query *q)
{
    if (!q)
        return;
    bs_arena_dispose(&q->arena);
    free(q->params);
    free(q->joins);
    bs_buf_dispose(&q->cond);
    bs_buf_dispose(&q->cond_sort);
    bs_buf_dispose(&q->order);
    bs_buf_dispose(&q->out_where);
    bs_buf_dispose(&q->out_where_scan);
    bs_buf_dispose(&q->out_joins);
    free(q);
}

/* Turns an internal result into the public one. */
static int report(bs_filter_query *q, int rc, bs_error *err)
{
    if (rc == 0 && q->oom)
        rc = BS_ENOMEM;
    if (rc == 0)
        return 0;
    q->failed = true;
    if (rc == BS_EINVAL) {
        if (err)
            bs_error_set(err, 400, "%s", q->reason);
        return BS_EHTTP;
    }
    return rc;
}

static int usable(bs_filter_query *q)
{
    if (q->failed)
        return bsf_fail(q, "the query already failed");
    if (q->finished)
        return bsf_fail(q, "the query is already finished");
    return 0;
}

static void pass_init(bsf_pass *p, bs_filter_query *q, unsigned flags,
                      unsigned scope)
{
    p->q = q;
    p->base = q->ctx.collection;
    p->base_alias = q->alias;
    p->suffix = "";
    p->allow_hidden = (flags & BS_FILTER_ALLOW_HIDDEN) != 0;
    p->scope = scope;
}

/* Appends `(sql)` to b, separated from what is there by AND. */
static void and_append(bs_buf *b, const char *sql, size_t n)
{
    if (b->len)
        bs_buf_puts(b, " AND ");
    bs_buf_putc(b, '(');
    bs_buf_append(b, sql, n);
    bs_buf_putc(b, ')');
}

/* Turns a {:name} placeholder into the literal its value is written
 * as (the value itself, never text to parse again), so that it is bound
 * like any literal. */
static int bind_operand(bs_filter_query *q, bs_fopd *o)
{
    if (o->kind == BS_FOPD_FUNC) {
        for (int i = 0; i < o->nargs; i++) {
            int rc = bind_operand(q, &o->args[i]);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (o->kind != BS_FOPD_PARAM)
        return 0;
    json_object *v = NULL;
    if (!q->ctx.params ||
        !json_object_is_type(q->ctx.params, json_type_object) ||
        !json_object_object_get_ex(q->ctx.params, o->text.ptr, &v))
        return bsf_fail(q, "missing placeholder parameter {:%s}",
                        o->text.ptr);
    const char *s;
    size_t n;
    switch (json_object_get_type(v)) {
    case json_type_null:
        o->kind = BS_FOPD_IDENT;
        s = "null";
        break;
    case json_type_boolean:
        o->kind = BS_FOPD_IDENT;
        s = json_object_get_boolean(v) ? "true" : "false";
        break;
    case json_type_int:
        o->kind = BS_FOPD_NUMBER;
        s = bs_arena_printf(&q->arena, "%lld",
                            (long long)json_object_get_int64(v));
        break;
    case json_type_double:
        o->kind = BS_FOPD_NUMBER;
        s = bs_arena_printf(&q->arena, "%.17g", json_object_get_double(v));
        break;
    case json_type_string:
        o->kind = BS_FOPD_TEXT;
        n = (size_t)json_object_get_string_len(v);
        s = bs_arena_strndup(&q->arena, json_object_get_string(v), n);
        if (!s)
            return bsf_nomem(q);
        o->text = (bs_str){s, n};
        return 0;
    default:
        o->kind = BS_FOPD_TEXT;
        s = bs_arena_strdup(&q->arena, json_object_to_json_string_ext(
                                           v, JSON_C_TO_STRING_PLAIN));
        break;
    }
    if (!s)
        return bsf_nomem(q);
    o->text = (bs_str){s, strlen(s)};
    return 0;
}

static int bind_node(bs_filter_query *q, bs_fnode *nd)
{
    if (nd->kind != BS_FNODE_CMP) {
        for (int i = 0; i < nd->nkids; i++) {
            int rc = bind_node(q, nd->kids[i]);
            if (rc)
                return rc;
        }
        return 0;
    }
    int rc = bind_operand(q, &nd->left);
    return rc ? rc : bind_operand(q, &nd->right);
}

int bs_filter_add(bs_filter_query *q, const char *text, size_t len,
                  unsigned flags, bs_error *err)
{
    int rc = usable(q);
    bs_buf frag;
    bs_buf_init(&frag);
    if (rc)
        goto end;
    if ((flags & BS_FILTER_CLIENT) && len > BS_FILTER_MAX_LENGTH) {
        rc = bsf_fail(q, "max filter length limit reached");
        goto end;
    }
    bs_fnode *root = NULL;
    bs_fparse_error pe;
    rc = bs_filter_parse(&q->arena, text, len, &root, &pe);
    if (rc) {
        if (rc == BS_EINVAL)
            bsf_fail(q, "%s", pe.msg);
        goto end;
    }
    rc = bind_node(q, root);
    if (rc)
        goto end;
    bsf_pass p;
    pass_init(&p, q, flags, BSF_SCOPE_WHERE);
    rc = bsf_build(&p, root, &frag);
    if (rc)
        goto end;
    if (frag.oom) {
        rc = bsf_nomem(q);
        goto end;
    }
    and_append(&q->cond, frag.data, frag.len);
end:
    bs_buf_dispose(&frag);
    return report(q, rc, err);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Compiles one sort term (trimmed, direction removed). */
static int sort_term(bsf_pass *p, const char *name, size_t n, bool desc)
{
    bs_filter_query *q = p->q;
    const char *dir = desc ? q->d->desc : q->d->asc;
    if (n == 7 && memcmp(name, "@random", 7) == 0) {
        if (q->order.len)
            bs_buf_puts(&q->order, ", ");
        q->d->random_order(&q->order);
        return 0;
    }
    if (n == 6 && memcmp(name, "@rowid", 6) == 0) {
        if (q->order.len)
            bs_buf_puts(&q->order, ", ");
        q->d->rowid(&q->order, q->alias);
        bs_buf_printf(&q->order, " %s", dir);
        return 0;
    }
    char *field = bs_arena_strndup(&q->arena, name, n);
    if (!field)
        return bsf_nomem(q);
    bsf_operand o;
    int rc = bsf_resolve_field(p, field, &o);
    if (rc == BS_EINVAL || (rc == 0 && (o.nvp > 0 || !o.sql[0] ||
                                        strcasecmp(o.sql, "null") == 0)))
        return bsf_fail(q, "invalid sort field \"%s\"", field);
    if (rc)
        return rc;
    if (q->order.len)
        bs_buf_puts(&q->order, ", ");
    if (o.ev_alias) {
        /* An email the owner keeps private sorts as NULL, so that the
         * order of the rows cannot reveal it (PocketBase orders by the
         * hidden value; filters are already limited the same way). */
        bs_buf_puts(&q->order, "CASE WHEN ");
        bsf_column(q, &q->order, o.ev_alias, "emailVisibility");
        bs_buf_printf(&q->order, " = TRUE THEN %s END %s", o.sql, dir);
        return 0;
    }
    bs_buf_printf(&q->order, "%s %s", o.sql, dir);
    return 0;
}

int bs_filter_add_sort(bs_filter_query *q, const char *text, size_t len,
                       unsigned flags, bs_error *err)
{
    int rc = usable(q);
    if (rc)
        return report(q, rc, err);
    if (!text)
        len = 0;
    int terms = 1;
    for (size_t i = 0; i < len; i++)
        terms += text[i] == ',';
    if ((flags & BS_FILTER_CLIENT) && q->nsort + terms > BS_FILTER_MAX_SORT)
        return report(q, bsf_fail(q, "max sort expressions limit reached"),
                      err);
    bsf_pass p;
    pass_init(&p, q, flags, BSF_SCOPE_SORT);
    size_t i = 0;
    for (int t = 0; t < terms; t++) {
        size_t end = i;
        while (end < len && text[end] != ',')
            end++;
        size_t a = i, b = end;
        while (a < b && is_blank(text[a]))
            a++;
        while (b > a && is_blank(text[b - 1]))
            b--;
        bool desc = false;
        if (a < b && text[a] == '-') {
            desc = true;
            a++;
        } else if (a < b && text[a] == '+') {
            a++;
        }
        if ((flags & BS_FILTER_CLIENT) && b - a > BS_FILTER_MAX_SORT_FIELD) {
            rc = bsf_fail(q, "max sort field length limit reached");
            break;
        }
        rc = sort_term(&p, text + a, b - a, desc);
        if (rc)
            break;
        q->nsort++;
        i = end + 1;
    }
    if (rc == 0 && q->order.oom)
        rc = bsf_nomem(q);
    return report(q, rc, err);
}

int bs_filter_add_rule(bs_filter_query *q, const char *rule, bs_error *err)
{
    return bs_filter_add(q, rule, rule ? strlen(rule) : 0,
                         BS_FILTER_ALLOW_HIDDEN, err);
}

int bs_filter_add_client(bs_filter_query *q, const char *filter,
                         bs_error *err)
{
    unsigned flags = BS_FILTER_CLIENT;
    if (q->ctx.superuser)
        flags |= BS_FILTER_ALLOW_HIDDEN;
    return bs_filter_add(q, filter, filter ? strlen(filter) : 0, flags, err);
}

int bs_filter_add_client_sort(bs_filter_query *q, const char *sort,
                              bs_error *err)
{
    unsigned flags = BS_FILTER_CLIENT;
    if (q->ctx.superuser)
        flags |= BS_FILTER_ALLOW_HIDDEN;
    return bs_filter_add_sort(q, sort, sort ? strlen(sort) : 0, flags, err);
}

/* Compiles the list rule of the collection joined as j into the
 * condition: `id = '' || (rule)` evaluated on the joined row, so that a
 * missing relation does not hide the main row. */
static int rule_check(bs_filter_query *q, int ji)
{
    /* Copies: compiling the rule may add joins and move the array. */
    const bs_collection *coll = q->joins[ji].coll;
    const char *alias = q->joins[ji].alias;
    unsigned scope = (q->joins[ji].scopes & BSF_SCOPE_WHERE)
                         ? BSF_SCOPE_WHERE
                         : BSF_SCOPE_SORT;
    const char *rule = coll->rules[BS_RULE_LIST];
    if (!rule || !*rule)
        return 0;
    bs_fnode *root = NULL;
    bs_fparse_error pe;
    int rc = bs_filter_parse(&q->arena, rule, strlen(rule), &root, &pe);
    if (rc == BS_EINVAL)
        return bsf_fail(q,
                        "failed to build \"%s\" ListRule join subquery filter "
                        "expression: %s",
                        coll->name, pe.msg);
    if (rc)
        return rc;
    bs_fnode *empty = bs_arena_calloc(&q->arena, sizeof *empty);
    bs_fnode *or = bs_arena_calloc(&q->arena, sizeof *or);
    bs_fnode **kids = bs_arena_alloc(&q->arena, sizeof *kids * 2);
    char *suffix = bs_arena_printf(&q->arena, "_r%d", ++q->seq);
    if (!empty || !or || !kids || !suffix)
        return bsf_nomem(q);
    empty->kind = BS_FNODE_CMP;
    empty->left = (bs_fopd){.kind = BS_FOPD_IDENT, .text = BS_STR("id")};
    empty->op = BS_FOP_EQ;
    empty->right = (bs_fopd){.kind = BS_FOPD_TEXT, .text = BS_STR("")};
    kids[0] = empty;
    kids[1] = root;
    or->kind = BS_FNODE_OR;
    or->kids = kids;
    or->nkids = 2;

    bsf_pass p = {
        .q = q,
        .base = coll,
        .base_alias = alias,
        .suffix = suffix,
        .allow_hidden = true,
        .scope = scope,
    };
    bs_buf frag;
    bs_buf_init(&frag);
    rc = bsf_build(&p, or, &frag);
    if (rc == BS_EINVAL) {
        char inner[sizeof q->reason];
        memcpy(inner, q->reason, sizeof inner);
        bsf_fail(q,
                 "failed to build \"%s\" ListRule join subquery filter "
                 "expression: %s",
                 coll->name, inner);
    }
    if (rc == 0) {
        bs_buf *dst = scope == BSF_SCOPE_WHERE ? &q->cond : &q->cond_sort;
        and_append(dst, frag.data ? frag.data : "", frag.len);
        if (frag.oom)
            rc = bsf_nomem(q);
    }
    bs_buf_dispose(&frag);
    return rc;
}

/* The deepest nesting of parentheses in SQL text, outside quotes. */
static int sql_depth(const char *s)
{
    int depth = 0, max = 0;
    char quote = 0;
    for (; s && *s; s++) {
        if (quote) {
            if (*s == quote)
                quote = 0;
        } else if (*s == '\'' || *s == '"') {
            quote = *s;
        } else if (*s == '(') {
            if (++depth > max)
                max = depth;
        } else if (*s == ')') {
            depth--;
        }
    }
    return max;
}

/* Appends s to b with every occurrence of from replaced by to. */
static void put_replaced(bs_buf *b, const char *s, const char *from,
                         const char *to)
{
    size_t n = strlen(from);
    for (const char *hit; (hit = strstr(s, from)) != NULL; s = hit + n) {
        bs_buf_append(b, s, (size_t)(hit - s));
        bs_buf_puts(b, to);
    }
    bs_buf_puts(b, s);
}

/* The WHERE joins of a scan, with the root's reference to the main row
 * replaced by to; every join but root. */
static void put_joins(bs_filter_query *q, bs_buf *b, int root, const char *to)
{
    for (int i = 0; i < q->njoins; i++) {
        if (i == root || !(q->joins[i].scopes & BSF_SCOPE_WHERE))
            continue;
        bs_buf_putc(b, ' ');
        put_replaced(b, q->joins[i].sql, q->joins[root].root_src, to);
    }
}

/* When the WHERE joins all hang off one single relation of the main
 * table (author.permissions.active = true), writes the condition for a
 * statement reading every main row as a set of related ids computed once
 * per statement:
 *
 *     main.rel IN (SELECT r.id FROM rel_table AS r <joins> WHERE cond)
 *     OR (EXISTS (<the same with no related row>)
 *         AND NOT EXISTS (SELECT 1 FROM rel_table WHERE id = main.rel))
 *
 * Same meaning as the correlated EXISTS of bs_filter_finish: a main row
 * whose relation names a stored record matches when some combination of
 * rows joined from that record satisfies cond; one naming nothing
 * matches when cond holds for the all-NULL joined row, which the second
 * EXISTS decides once (it refers to no main row). Returns false, writing
 * nothing, when the joins or cond refer to the main row otherwise. */
static bool scan_where(bs_filter_query *q, bs_buf *w)
{
    int root = -1;
    bs_buf mark;
    bs_buf_init(&mark);
    q->d->ident(&mark, q->alias);
    bs_buf_putc(&mark, '.');
    bool ok = !mark.oom;
    for (int i = 0; ok && i < q->njoins; i++) {
        const bsf_join *j = &q->joins[i];
        if (!(j->scopes & BSF_SCOPE_WHERE) || !strstr(j->sql, mark.data))
            continue;
        if (root >= 0 || !j->root_src || !j->coll)
            ok = false;
        root = i;
    }
    ok = ok && root >= 0;
    bs_buf id, text;
    bs_buf_init(&id);
    bs_buf_init(&text);
    if (ok) {
        const bsf_join *r = &q->joins[root];
        bsf_column(q, &id, r->alias, "id");
        /* Nothing but the root may still name the main row. */
        put_joins(q, &text, root, id.data ? id.data : "");
        put_replaced(&text, q->cond.data, r->root_src, id.data ? id.data : "");
        ok = !text.oom && !strstr(text.data ? text.data : "", mark.data);
        bs_buf_reset(&text);
    }
    if (ok) {
        const bsf_join *r = &q->joins[root];
        const char *rid = id.data;
        bs_buf_printf(&text, "(%s IN (SELECT %s FROM ", r->root_src, rid);
        q->d->ident(&text, r->coll->name);
        bs_buf_puts(&text, " AS ");
        q->d->ident(&text, r->alias);
        put_joins(q, &text, root, rid);
        bs_buf_puts(&text, " WHERE ");
        put_replaced(&text, q->cond.data, r->root_src, rid);
        bs_buf_printf(&text, ") OR (EXISTS (SELECT 1 FROM %s AS ",
                      q->d->one_row);
        q->d->ident(&text, "__bs_w");
        bs_buf_puts(&text, " LEFT JOIN ");
        q->d->ident(&text, r->coll->name);
        bs_buf_puts(&text, " AS ");
        q->d->ident(&text, r->alias);
        bs_buf_puts(&text, " ON FALSE");
        put_joins(q, &text, root, "NULL");
        bs_buf_puts(&text, " WHERE ");
        put_replaced(&text, q->cond.data, r->root_src, "NULL");
        bs_buf_puts(&text, ") AND NOT EXISTS (SELECT 1 FROM ");
        q->d->ident(&text, r->coll->name);
        bs_buf_puts(&text, " AS ");
        q->d->ident(&text, "__bs_wr");
        bs_buf_puts(&text, " WHERE ");
        bsf_column(q, &text, "__bs_wr", "id");
        bs_buf_printf(&text, " = %s)))", r->root_src);
        bs_buf_append(w, text.data ? text.data : "", text.len);
        if (text.oom)
            w->oom = true;
    }
    bs_buf_dispose(&mark);
    bs_buf_dispose(&id);
    bs_buf_dispose(&text);
    return ok;
}

static void fill_out(bs_filter_query *q, bs_filter_sql *out)
{
    *out = q->out;
}

int bs_filter_finish(bs_filter_query *q, bs_filter_sql *out, bs_error *err)
{
    memset(out, 0, sizeof *out);
    if (q->finished && !q->failed) {
        fill_out(q, out);
        return 0;
    }
    int rc = q->failed ? bsf_fail(q, "the query already failed") : 0;
    for (int i = 0; rc == 0 && i < q->njoins; i++) {
        if (q->joins[i].check_rule)
            rc = rule_check(q, i);
    }
    if (rc)
        return report(q, rc, err);

    bool wdup = false;
    for (int i = 0; i < q->njoins; i++) {
        if ((q->joins[i].scopes & BSF_SCOPE_WHERE) && q->joins[i].dup)
            wdup = true;
    }
    bs_buf *w = &q->out_where;
    bs_buf *ws = &q->out_where_scan;
    bool scan = q->cond.len && wdup && scan_where(q, ws);
    if (q->cond.len && wdup) {
        bs_buf_printf(w, "EXISTS (SELECT 1 FROM %s AS ", q->d->one_row);
        q->d->ident(w, "__bs_w");
        for (int i = 0; i < q->njoins; i++) {
            if (q->joins[i].scopes & BSF_SCOPE_WHERE)
                bs_buf_printf(w, " %s", q->joins[i].sql);
        }
        bs_buf_printf(w, " WHERE %s)", q->cond.data);
    } else if (q->cond.len) {
        bs_buf_append(w, q->cond.data, q->cond.len);
    }
    if (q->cond_sort.len) {
        if (w->len)
            bs_buf_puts(w, " AND ");
        bs_buf_append(w, q->cond_sort.data, q->cond_sort.len);
        if (scan) {
            bs_buf_puts(ws, " AND ");
            bs_buf_append(ws, q->cond_sort.data, q->cond_sort.len);
        }
    }
    bool distinct = false;
    for (int i = 0; i < q->njoins; i++) {
        const bsf_join *j = &q->joins[i];
        if (!(j->scopes & BSF_SCOPE_SORT) &&
            !((j->scopes & BSF_SCOPE_WHERE) && !wdup))
            continue;
        if (q->out_joins.len)
            bs_buf_putc(&q->out_joins, ' ');
        bs_buf_puts(&q->out_joins, j->sql);
        distinct = distinct || j->dup;
    }
    if (w->oom || ws->oom || q->out_joins.oom || q->order.oom || q->oom)
        return report(q, bsf_nomem(q), err);
    if (sql_depth(w->data) > BSF_MAX_SQL_DEPTH ||
        sql_depth(ws->data) > BSF_MAX_SQL_DEPTH ||
        sql_depth(q->out_joins.data) > BSF_MAX_SQL_DEPTH ||
        sql_depth(q->order.data) > BSF_MAX_SQL_DEPTH)
        return report(q, bsf_fail(q, "the filter is too complex"), err);

    q->finished = true;
    q->out.where = w->data ? w->data : "";
    q->out.where_scan = scan ? ws->data : q->out.where;
    q->out.joins = q->out_joins.data ? q->out_joins.data : "";
    q->out.order = q->order.data ? q->order.data : "";
    q->out.distinct = distinct;
    q->out.params = q->params;
    q->out.nparams = q->nparams;
    q->out.first_param = q->first_param;
    fill_out(q, out);
    return 0;
}

int bs_filter_validate(const bs_schema *schema, const bs_collection *c,
                       const char *rule, bs_error *err)
{
    json_object *req = json_object_new_object();
    if (!req)
        return BS_ENOMEM;
    bs_filter_ctx ctx = {.schema = schema, .collection = c, .request = req};
    bs_filter_query *q = NULL;
    int rc = bs_filter_query_new(&q, &ctx, 1);
    if (rc == 0)
        rc = bs_filter_add_rule(q, rule, err);
    if (rc == 0) {
        bs_filter_sql out;
        rc = bs_filter_finish(q, &out, err);
    }
    bs_filter_query_free(q);
    json_object_put(req);
    return rc;
}
