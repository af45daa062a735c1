/*
 * expr.c - comparisons and boolean structure, compiled to SQL.
 *
 * Equality treats NULL and '' as the same value, picking the cheapest
 * correct form from what is known about each side:
 *
 *   either side compares with IS only (JSON)   a IS b       a IS NOT b
 *   both sides empty ('' or NULL)              '' = ''      '' IS NOT ''
 *   one side a known non-empty literal         a = b        a IS NOT b
 *   one side empty                             (a = '' OR a IS NULL)
 *                                              (a IS NOT '' AND a IS NOT NULL)
 *   otherwise                                  COALESCE(a, '') = COALESCE(b, '')
 *
 * "Not equal" is always IS NOT, so that NULL columns compare as values
 * (the dialect's spelling of IS and IS NOT; an engine that types its
 * columns strictly also gets the operands of the forms with '' as text).
 *
 * Multi-match: for a plain operator on an operand with several values,
 *     cond(joined row) AND NOT EXISTS (SELECT 1 FROM (values) AS v
 *                                      WHERE NOT cond(v))
 * i.e. the joined row matches and no value fails. With values on both
 * sides, the two value lists are crossed. The ?-operators skip this and
 * accept any matching joined row.
 */
#include "compile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_empty_ident(const bsf_operand *o)
{
    const char *s = o->sql;
    return !*s || strcasecmp(s, "null") == 0 || strcmp(s, "''") == 0 ||
           strcmp(s, "\"\"") == 0 || strcmp(s, "``") == 0;
}

static bool has_empty_param(const bs_filter_query *q, const bsf_operand *o)
{
    for (int i = 0; i < o->nvp; i++) {
        const bs_filter_value *v = &q->params[o->vp[i]];
        if (v->type == BS_FILTER_NULL || (v->type == BS_FILTER_TEXT && v->n == 0))
            return true;
    }
    return false;
}

static bool known_nonempty(const bs_filter_query *q, const bsf_operand *o)
{
    if (o->nf == BSF_NF_FORCE)
        return false;
    const char *s = o->sql;
    if (strcmp(s, "1") == 0 || strcmp(s, "0") == 0 ||
        strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)
        return true;
    return o->nvp > 0 && !has_empty_param(q, o) && !is_empty_ident(o);
}

static bool is_empty(const bs_filter_query *q, const bsf_operand *o)
{
    return is_empty_ident(o) ||
           (o->nf == BSF_NF_AUTO && o->nvp == 1 && has_empty_param(q, o));
}

/* The operand's SQL as text when the dialect needs it for a comparison
 * with '' (see bs_sql_dialect.as_text), else as it is. */
static const char *text_of(bs_filter_query *q, const bsf_operand *o)
{
    if (!q->d->as_text)
        return o->sql;
    bs_buf b;
    bs_buf_init(&b);
    q->d->as_text(&b, o->sql);
    const char *s = bsf_take(q, &b);
    bs_buf_dispose(&b);
    return s ? s : "";
}

static void equal_expr(bs_filter_query *q, bool eq, const bsf_operand *l,
                       const bsf_operand *r, bs_buf *out)
{
    const char *op = eq ? "=" : q->d->is_distinct;
    const char *null_op = eq ? q->d->is_same : q->d->is_distinct;
    const char *join = eq ? "OR" : "AND";
    const char *null_test = eq ? "IS NULL" : "IS NOT NULL";
    if (l->nf == BSF_NF_OFF || r->nf == BSF_NF_OFF) {
        bs_buf_printf(out, "%s %s %s", l->sql, null_op, r->sql);
        return;
    }
    bool le = is_empty(q, l), re = is_empty(q, r);
    if (le && re) {
        bs_buf_printf(out, "'' %s ''", op);
        return;
    }
    if (known_nonempty(q, l) || known_nonempty(q, r)) {
        bs_buf_printf(out, "%s %s %s", le ? "''" : l->sql, op,
                      re ? "''" : r->sql);
        return;
    }
    if (le) {
        const char *rt = text_of(q, r);
        bs_buf_printf(out, "('' %s %s %s %s %s)", op, rt, join, rt,
                      null_test);
        return;
    }
    if (re) {
        const char *lt = text_of(q, l);
        bs_buf_printf(out, "(%s %s '' %s %s %s)", lt, op, join, lt,
                      null_test);
        return;
    }
    bs_buf_printf(out, "COALESCE(%s, '') %s COALESCE(%s, '')", text_of(q, l),
                  op, text_of(q, r));
}

/* Go's cast.ToString of a parameter, for LIKE patterns. */
static void value_text(const bs_filter_value *v, bs_buf *b)
{
    switch (v->type) {
    case BS_FILTER_TEXT:
        bs_buf_append(b, v->s, v->n);
        break;
    case BS_FILTER_INT:
        if (v->boolean)
            bs_buf_puts(b, v->i ? "true" : "false");
        else
            bs_buf_printf(b, "%lld", (long long)v->i);
        break;
    case BS_FILTER_REAL: {
        /* strconv.FormatFloat(d, 'f', -1, 64): the fewest digits after
         * the point that read back as the same number. */
        double d = v->d;
        if (isnan(d)) {
            bs_buf_puts(b, "NaN");
            break;
        }
        if (isinf(d)) {
            bs_buf_puts(b, d > 0 ? "+Inf" : "-Inf");
            break;
        }
        char tmp[400];
        for (int prec = 0; prec <= 340; prec++) {
            snprintf(tmp, sizeof tmp, "%.*f", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
        bs_buf_puts(b, tmp);
        break;
    }
    default:
        break;
    }
}

static bool contains_unescaped(const char *s, size_t n, char ch)
{
    char prev = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ch && prev != '\\')
            return true;
        prev = (c == '\\' && prev == '\\') ? 0 : c;
    }
    return false;
}

/* Puts a backslash before every \ % _ that has none, scanning from the
 * end as PocketBase does (so "\%" stays one escaped percent). */
static void escape_like(const char *s, size_t n, bs_buf *b)
{
    char *rev = malloc(n * 2 + 2);
    if (!rev) {
        b->oom = true;
        return;
    }
    size_t k = 0;
    bool match = false;
    for (size_t i = n; i-- > 0;) {
        char c = s[i];
        if (match) {
            if (c != '\\')
                rev[k++] = '\\';
            match = false;
        } else if (c == '\\' || c == '%' || c == '_') {
            match = true;
        }
        rev[k++] = c;
        if (i == 0 && match)
            rev[k++] = '\\';
    }
    while (k > 0)
        bs_buf_putc(b, rev[--k]);
    free(rev);
}

/* Turns the operand's parameters into LIKE patterns, once. */
static int wrap_like(bs_filter_query *q, const bsf_operand *o)
{
    for (int i = 0; i < o->nvp; i++) {
        bs_filter_value *v = &q->params[o->vp[i]];
        if (v->like_wrapped)
            continue;
        bs_buf t, w;
        bs_buf_init(&t);
        bs_buf_init(&w);
        value_text(v, &t);
        const char *s = t.data ? t.data : "";
        if (!contains_unescaped(s, t.len, '%')) {
            bs_buf_putc(&w, '%');
            escape_like(s, t.len, &w);
            bs_buf_putc(&w, '%');
        } else {
            bs_buf_append(&w, s, t.len);
        }
        char *p = (t.oom || w.oom) ? NULL
                                   : bs_arena_strndup(&q->arena,
                                                      w.data ? w.data : "",
                                                      w.len);
        size_t n = w.len;
        bs_buf_dispose(&t);
        bs_buf_dispose(&w);
        if (!p)
            return bsf_nomem(q);
        v->type = BS_FILTER_TEXT;
        v->s = p;
        v->n = n;
        v->boolean = false;
        v->like_wrapped = true;
    }
    return 0;
}

/* The comparison itself, without multi-match or after-checks. */
static int core_cmp(bs_filter_query *q, const bsf_operand *l, bs_fop op,
                    const bsf_operand *r, bs_buf *out)
{
    switch (op) {
    case BS_FOP_EQ:
    case BS_FOP_NEQ:
        equal_expr(q, op == BS_FOP_EQ, l, r, out);
        return 0;
    case BS_FOP_LIKE:
    case BS_FOP_NLIKE: {
        bool neg = op == BS_FOP_NLIKE;
        if (r->nvp == 0) {
            bs_buf pat;
            bs_buf_init(&pat);
            q->d->contains_pattern(&pat, r->sql);
            q->d->like(out, l->sql, pat.data ? pat.data : "", neg);
            bool oom = pat.oom;
            bs_buf_dispose(&pat);
            return oom ? bsf_nomem(q) : 0;
        }
        int rc = wrap_like(q, r);
        if (rc)
            return rc;
        q->d->like(out, l->sql, r->sql, neg);
        return 0;
    }
    case BS_FOP_LT:
        bs_buf_printf(out, "%s < %s", l->sql, r->sql);
        return 0;
    case BS_FOP_LTE:
        bs_buf_printf(out, "%s <= %s", l->sql, r->sql);
        return 0;
    case BS_FOP_GT:
        bs_buf_printf(out, "%s > %s", l->sql, r->sql);
        return 0;
    case BS_FOP_GTE:
        bs_buf_printf(out, "%s >= %s", l->sql, r->sql);
        return 0;
    }
    return bsf_fail(q, "unknown expression operator");
}

/* NOT EXISTS over the values of one multi-valued side. */
static int many_vs_one(bsf_pass *p, const bsf_operand *many, bs_fop op,
                       const bsf_operand *other, bool many_right, bs_buf *out)
{
    bs_filter_query *q = p->q;
    bs_buf v;
    bs_buf_init(&v);
    bsf_column(q, &v, "__bs_sm", "v");
    const char *vsql = bsf_take(q, &v);
    bs_buf_dispose(&v);
    if (!vsql)
        return bsf_nomem(q);
    bsf_operand m = {.sql = vsql, .nf = many->nf, .negate = true};
    bsf_operand o = {.sql = other->sql, .vp = other->vp, .nvp = other->nvp};
    bs_buf cond;
    bs_buf_init(&cond);
    int rc = many_right ? bsf_build_cmp(p, &o, op, false, &m, &cond)
                        : bsf_build_cmp(p, &m, op, false, &o, &cond);
    if (rc == 0) {
        bs_buf_printf(out, "NOT EXISTS (SELECT 1 FROM (SELECT %s AS ",
                      many->mm->value);
        q->d->ident(out, "v");
        bs_buf_printf(out, " FROM %s) AS ", many->mm->from);
        q->d->ident(out, "__bs_sm");
        bs_buf_printf(out, " WHERE %s)", cond.data ? cond.data : "");
        if (cond.oom)
            rc = bsf_nomem(q);
    }
    bs_buf_dispose(&cond);
    return rc;
}

/* NOT EXISTS over every pair of values of two multi-valued sides. */
static int many_vs_many(bsf_pass *p, const bsf_operand *l, bs_fop op,
                        const bsf_operand *r, bs_buf *out)
{
    bs_filter_query *q = p->q;
    bs_buf v;
    bs_buf_init(&v);
    bsf_column(q, &v, "__bs_ml", "v");
    const char *lv = bsf_take(q, &v);
    bsf_column(q, &v, "__bs_mr", "v");
    const char *rv = bsf_take(q, &v);
    bs_buf_dispose(&v);
    if (!lv || !rv)
        return bsf_nomem(q);
    bsf_operand lo = {.sql = lv, .nf = l->nf};
    bsf_operand ro = {.sql = rv, .nf = r->nf, .negate = true};
    bs_buf cond;
    bs_buf_init(&cond);
    int rc = bsf_build_cmp(p, &lo, op, false, &ro, &cond);
    if (rc == 0) {
        bs_buf_printf(out, "NOT EXISTS (SELECT 1 FROM (SELECT %s AS ",
                      l->mm->value);
        q->d->ident(out, "v");
        bs_buf_printf(out, " FROM %s) AS ", l->mm->from);
        q->d->ident(out, "__bs_ml");
        bs_buf_printf(out, " LEFT JOIN (SELECT %s AS ", r->mm->value);
        q->d->ident(out, "v");
        bs_buf_printf(out, " FROM %s) AS ", r->mm->from);
        q->d->ident(out, "__bs_mr");
        bs_buf_printf(out, " ON TRUE WHERE %s)", cond.data ? cond.data : "");
        if (cond.oom)
            rc = bsf_nomem(q);
    }
    bs_buf_dispose(&cond);
    return rc;
}

/* Replaces the text of e with `((e) AND (extra))`. */
static void and_wrap(bs_buf *e, const char *extra)
{
    bs_buf t;
    bs_buf_init(&t);
    bs_buf_printf(&t, "((%s) AND (%s))", e->data ? e->data : "", extra);
    if (t.oom)
        e->oom = true;
    bs_buf_reset(e);
    bs_buf_append(e, t.data ? t.data : "", t.len);
    bs_buf_dispose(&t);
}

/* Applies an operand's after-checks (negation, email visibility). */
static void after(bs_filter_query *q, const bsf_operand *o, bs_buf *e)
{
    if (o->negate) {
        bs_buf t;
        bs_buf_init(&t);
        bs_buf_printf(&t, "NOT (%s)", e->data ? e->data : "");
        if (t.oom)
            e->oom = true;
        bs_buf_reset(e);
        bs_buf_append(e, t.data ? t.data : "", t.len);
        bs_buf_dispose(&t);
    }
    if (o->ev_alias) {
        bs_buf ev;
        bs_buf_init(&ev);
        bsf_column(q, &ev, o->ev_alias, "emailVisibility");
        bs_buf_puts(&ev, " = TRUE");
        and_wrap(e, ev.data ? ev.data : "");
        if (ev.oom)
            e->oom = true;
        bs_buf_dispose(&ev);
    }
}

int bsf_build_cmp(bsf_pass *p, const bsf_operand *l, bs_fop op, bool any,
                  const bsf_operand *r, bs_buf *out)
{
    bs_filter_query *q = p->q;
    bs_buf e, mm;
    bs_buf_init(&e);
    bs_buf_init(&mm);
    int rc = core_cmp(q, l, op, r, &e);
    if (rc == 0 && !any && (l->mm || r->mm)) {
        if (l->mm && r->mm)
            rc = many_vs_many(p, l, op, r, &mm);
        else if (l->mm)
            rc = many_vs_one(p, l, op, r, false, &mm);
        else
            rc = many_vs_one(p, r, op, l, true, &mm);
        if (rc == 0)
            and_wrap(&e, mm.data ? mm.data : "");
        if (mm.oom)
            e.oom = true;
    }
    if (rc == 0) {
        after(q, l, &e);
        after(q, r, &e);
        if (e.oom)
            rc = bsf_nomem(q);
        else
            bs_buf_append(out, e.data ? e.data : "", e.len);
    }
    bs_buf_dispose(&e);
    bs_buf_dispose(&mm);
    return rc;
}

/* The literal of an operand for messages. */
static const char *literal(const bs_fopd *o)
{
    return o->text.ptr ? o->text.ptr : "";
}

static int operand(bsf_pass *p, const bs_fopd *o, bsf_operand *out,
                   const char *side)
{
    bs_filter_query *q = p->q;
    int rc = bsf_resolve(p, o, out);
    if (rc == BS_EINVAL) {
        char inner[sizeof q->reason];
        memcpy(inner, q->reason, sizeof inner);
        return bsf_fail(q, "invalid %s operand \"%.64s\" - %s", side,
                        literal(o), inner);
    }
    return rc;
}

int bsf_build(bsf_pass *p, const bs_fnode *n, bs_buf *out)
{
    if (n->kind == BS_FNODE_CMP) {
        bsf_operand l, r;
        int rc = operand(p, &n->left, &l, "left");
        if (rc == 0)
            rc = operand(p, &n->right, &r, "right");
        if (rc == 0)
            rc = bsf_build_cmp(p, &l, n->op, n->any, &r, out);
        return rc;
    }
    bs_buf_putc(out, '(');
    for (int i = 0; i < n->nkids; i++) {
        if (i)
            bs_buf_puts(out, n->kind == BS_FNODE_AND ? " AND " : " OR ");
        int rc = bsf_build(p, n->kids[i], out);
        if (rc)
            return rc;
    }
    bs_buf_putc(out, ')');
    return 0;
}
