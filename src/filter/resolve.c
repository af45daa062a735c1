/*
 * resolve.c - operands: literals, field paths and @request values.
 *
 * A field path is walked one property at a time from a starting table:
 * the main collection, an @collection join, the auth record's row or the
 * rows named by a relation in the request body. Each relation step adds
 * a LEFT JOIN to the query (shared with other operands using the same
 * path); a json or geoPoint field ends the walk and the remaining
 * properties become a JSON path; the last property names the column,
 * possibly with a modifier (:lower, :length, :each, ...).
 *
 * Alongside the joins, the walk writes a second, private FROM clause
 * that lists the same path again with its own aliases (__bs_m1, ...),
 * correlated to the current row. When the path can yield several values
 * (a multiple relation, a back-relation without unique index, :each,
 * @collection), the operand carries it as its multi-match subquery and
 * the comparison requires every value to match (see expr.c).
 *
 * Paths under @request resolve missing fields to NULL instead of failing,
 * as PocketBase does, since request data differs from call to call.
 */
#include "compile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../schema/index.h"

/* ---- schema helpers --------------------------------------------------- */

bool bsf_field_get(const bs_collection *c, const char *name, bsf_field *f)
{
    const bs_finfo *fi = bs_collection_finfo(c, name);
    if (!fi)
        return false;
    *f = *fi;
    return true;
}

const bs_collection *bsf_collection(bs_filter_query *q, const char *key)
{
    const bs_collection *base = q->ctx.collection;
    if ((base->name && strcmp(base->name, key) == 0) ||
        (base->id && strcmp(base->id, key) == 0))
        return base;
    return bs_schema_find(q->ctx.schema, key);
}

/* Fields that can hold several values ("MultiValuer" in PocketBase). */
static bool multivaluer(const bsf_field *f)
{
    return bs_ftypes[f->type].multi;
}


/* ---- small helpers ---------------------------------------------------- */

static bool is_w(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The rest of a path after a fixed prefix: [\w.:]*\w */
static bool path_tail_ok(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++) {
        if (!is_w(*p) && *p != '.' && *p != ':')
            return false;
    }
    return is_w(s[strlen(s) - 1]);
}

/* PocketBase's allowed field patterns. */
static bool allowed_name(const char *s)
{
    if (is_w(s[0])) {
        for (const char *p = s + 1; *p; p++) {
            if (!is_w(*p) && *p != '.' && *p != ':')
                return false;
        }
        return true;
    }
    if (strcmp(s, "@request.context") == 0 ||
        strcmp(s, "@request.method") == 0)
        return true;
    static const char *const req[] = {"@request.auth.", "@request.body.",
                                      "@request.query.", "@request.headers."};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        size_t n = strlen(req[i]);
        if (strncmp(s, req[i], n) == 0)
            return path_tail_ok(s + n);
    }
    if (strncmp(s, "@collection.", 12) == 0) {
        const char *p = s + 12;
        const char *start = p;
        while (is_w(*p))
            p++;
        if (p == start)
            return false;
        if (*p == ':') {
            start = ++p;
            while (is_w(*p))
                p++;
            if (p == start)
                return false;
        }
        return *p == '.' && path_tail_ok(p + 1);
    }
    return false;
}

enum { MOD_NONE, MOD_ISSET, MOD_EACH, MOD_LENGTH, MOD_LOWER, MOD_CHANGED };

/* Splits "name:modifier". Like PocketBase, only exactly one colon makes a
 * modifier; "a:b:c" is a plain (and unknown) name. */
static int split_modifier(bs_filter_query *q, const char *prop, char **name,
                          int *mod)
{
    *mod = MOD_NONE;
    const char *colon = strchr(prop, ':');
    if (!colon || strchr(colon + 1, ':')) {
        *name = (char *)prop;
        return 0;
    }
    static const struct {
        const char *s;
        int mod;
    } mods[] = {{"isset", MOD_ISSET},   {"each", MOD_EACH},
                {"length", MOD_LENGTH}, {"lower", MOD_LOWER},
                {"changed", MOD_CHANGED}};
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        if (strcmp(colon + 1, mods[i].s) == 0) {
            *mod = mods[i].mod;
            *name = bs_arena_strndup(&q->arena, prop, (size_t)(colon - prop));
            return *name ? 0 : bsf_nomem(q);
        }
    }
    return bsf_fail(q, "unknown modifier in \"%s\"", prop);
}

static void op_lit(bsf_operand *o, const char *sql)
{
    memset(o, 0, sizeof *o);
    o->sql = sql;
}

int bsf_op_param(bs_filter_query *q, bsf_operand *o, int idx, bool lower)
{
    memset(o, 0, sizeof *o);
    if (idx < 0)
        return bsf_nomem(q);
    int *vp = bs_arena_alloc(&q->arena, sizeof *vp);
    bs_buf b;
    bs_buf_init(&b);
    if (lower)
        bs_buf_puts(&b, "LOWER(");
    bsf_placeholder(q, &b, idx);
    if (lower)
        bs_buf_putc(&b, ')');
    o->sql = bsf_take(q, &b);
    bs_buf_dispose(&b);
    if (!vp || !o->sql)
        return bsf_nomem(q);
    vp[0] = idx;
    o->vp = vp;
    o->nvp = 1;
    return 0;
}

/* Parses a decimal array index the way Go's strconv.Atoi would accept
 * it from an identifier (digits only here). */
static bool parse_index(const char *s, long long *out)
{
    if (!*s)
        return false;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (9223372036854775807LL - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

/* Looks path[0..n) up in v: objects by key, arrays by index. Returns
 * false when a step is missing; *out is NULL for a JSON null. */
static bool json_walk(json_object *v, char **path, int n, json_object **out)
{
    for (int i = 0; i < n; i++) {
        if (json_object_is_type(v, json_type_object)) {
            json_object *next = NULL;
            if (!json_object_object_get_ex(v, path[i], &next))
                return false;
            v = next;
        } else if (json_object_is_type(v, json_type_array)) {
            long long idx;
            if (!parse_index(path[i], &idx) ||
                idx >= (long long)json_object_array_length(v))
                return false;
            v = json_object_array_get_idx(v, (size_t)idx);
        } else {
            return false;
        }
    }
    *out = v;
    return true;
}

/* Go's strconv.ParseFloat on a whole string (no surrounding blanks). */
static bool parse_float(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s))
        return false;
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || (errno == ERANGE && d != 0))
        return false;
    *out = d;
    return true;
}

/* A JSON value as Go's cast.ToString prints it ("" for what it cannot). */
static char *json_to_string(bs_filter_query *q, json_object *v)
{
    bs_buf b;
    bs_buf_init(&b);
    switch (json_object_get_type(v)) {
    case json_type_string:
        bs_buf_append(&b, json_object_get_string(v),
                      (size_t)json_object_get_string_len(v));
        break;
    case json_type_boolean:
        bs_buf_puts(&b, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
        bs_buf_printf(&b, "%lld", (long long)json_object_get_int64(v));
        break;
    case json_type_double:
        bs_buf_json_num(&b, json_object_get_double(v));
        break;
    default:
        break;
    }
    char *s = bsf_take(q, &b);
    bs_buf_dispose(&b);
    return s;
}

/* ---- the walk state --------------------------------------------------- */

typedef struct walk {
    bsf_pass *p;
    bs_filter_query *q;
    const char *name;       /* the whole field path, for messages */
    char **props;           /* the properties still to resolve */
    int nprops;
    const bs_collection *coll;
    const char *alias;
    bool nullify;           /* a missing field is NULL, not an error */
    bool mm_on;             /* the path can yield several values */
    bs_buf mm;              /* FROM clause of the multi-match subquery */
    const char *mm_alias;   /* the current table in that clause */
    int mm_seq;
} walk;

/* A fresh alias for the multi-match clause. */
static const char *mm_next(walk *w)
{
    const char *a = bs_arena_printf(&w->q->arena, "__bs_m%d", ++w->mm_seq);
    if (!a)
        w->q->oom = true;
    return a;
}

static const char *column_sql(bs_filter_query *q, const char *alias,
                              const char *col)
{
    bs_buf b;
    bs_buf_init(&b);
    bsf_column(q, &b, alias, col);
    const char *s = bsf_take(q, &b);
    bs_buf_dispose(&b);
    return s;
}

/* Appends " LEFT JOIN <table> AS <alias> ON " to b. */
static void join_head(bs_filter_query *q, bs_buf *b, const char *table,
                      const char *alias)
{
    bs_buf_puts(b, "LEFT JOIN ");
    q->d->ident(b, table);
    bs_buf_puts(b, " AS ");
    q->d->ident(b, alias);
    bs_buf_puts(b, " ON ");
}

/* Sets the finished SQL of a fresh join from b. */
static int join_set(bs_filter_query *q, bsf_join *j, bs_buf *b, bool dup)
{
    const char *sql = bsf_take(q, b);
    if (!sql)
        return bsf_nomem(q);
    j->sql = sql;
    j->dup = dup;
    return 0;
}

static int walk_props(walk *w, bsf_operand *out);
static int resolve_static(walk *w, char **path, int n, bsf_operand *out);

/* ---- the last property ------------------------------------------------ */

static int finalize(walk *w, const char *prop, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    char *name;
    int mod;
    int rc = split_modifier(q, prop, &name, &mod);
    if (rc)
        return rc;
    bsf_field f;
    if (!bsf_field_get(w->coll, name, &f)) {
        if (w->nullify) {
            op_lit(out, "NULL");
            return 0;
        }
        return bsf_fail(q, "unknown field \"%s\"", name);
    }
    if (f.hidden && !w->p->allow_hidden)
        return bsf_fail(q, "non-filterable field \"%s\"", name);

    memset(out, 0, sizeof *out);
    const char *col = column_sql(q, w->alias, f.name);
    const char *mmcol = column_sql(q, w->mm_alias, f.name);
    if (!col || !mmcol)
        return bsf_nomem(q);
    bs_buf b, mv;
    bs_buf_init(&b);
    bs_buf_init(&mv);
    if (mod == MOD_LENGTH && multivaluer(&f)) {
        q->d->json_array_length(&b, col);
        q->d->json_array_length(&mv, mmcol);
    } else if (mod == MOD_EACH && multivaluer(&f)) {
        char *key = bs_arena_printf(&q->arena, "each|%s|%s", w->alias, f.name);
        char *want = bs_arena_printf(&q->arena, "__je_%s_%s", w->alias, f.name);
        if (!key || !want) {
            rc = bsf_nomem(q);
            goto end;
        }
        bool fresh;
        bsf_join *j = bsf_join_get(w->p, key, want, NULL, &fresh);
        if (!j) {
            rc = q->oom ? BS_ENOMEM : BS_EINVAL;
            goto end;
        }
        if (fresh) {
            bs_buf_puts(&b, "LEFT JOIN ");
            q->d->json_each(&b, col, j->alias);
            bs_buf_puts(&b, " ON TRUE");
            rc = join_set(q, j, &b, true);
            if (rc)
                goto end;
        }
        bsf_column(q, &b, j->alias, "value");
        if (f.multiple)
            w->mm_on = true;
        if (w->mm_on) {
            const char *m = mm_next(w);
            if (!m) {
                rc = bsf_nomem(q);
                goto end;
            }
            bs_buf_puts(&w->mm, " LEFT JOIN ");
            q->d->json_each(&w->mm, mmcol, m);
            bs_buf_puts(&w->mm, " ON TRUE");
            bsf_column(q, &mv, m, "value");
        }
    } else {
        bool json = f.type == BS_F_JSON;
        if (mod == MOD_LOWER) {
            bs_buf_puts(&b, "LOWER(");
            bs_buf_puts(&mv, "LOWER(");
        }
        if (json) {
            out->nf = BSF_NF_OFF;
            q->d->json_extract(&b, col, NULL);
            q->d->json_extract(&mv, mmcol, NULL);
        } else {
            bs_buf_puts(&b, col);
            bs_buf_puts(&mv, mmcol);
        }
        if (mod == MOD_LOWER) {
            bs_buf_putc(&b, ')');
            bs_buf_putc(&mv, ')');
        }
        /* Only emails marked visible can be filtered by non-superusers. */
        if (strcmp(f.name, "email") == 0 && !w->p->allow_hidden &&
            bs_collection_is_auth(w->coll))
            out->ev_alias = w->alias;
    }
    out->sql = bsf_take(q, &b);
    if (!out->sql) {
        rc = bsf_nomem(q);
        goto end;
    }
    if (w->mm_on) {
        bsf_mm *mm = bs_arena_alloc(&q->arena, sizeof *mm);
        if (!mm) {
            rc = bsf_nomem(q);
            goto end;
        }
        mm->value = bsf_take(q, &mv);
        mm->from = bsf_take(q, &w->mm);
        if (!mm->value || !mm->from) {
            rc = bsf_nomem(q);
            goto end;
        }
        out->mm = mm;
    }
end:
    bs_buf_dispose(&b);
    bs_buf_dispose(&mv);
    return rc;
}

/* A json or geoPoint field with more properties after it: the rest is a
 * path inside the JSON value. */
static int json_path(walk *w, const bsf_field *f, int i, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    int n = w->nprops - i - 1;
    bs_json_step *steps = bs_arena_alloc(&q->arena, sizeof *steps * (size_t)(n + 1));
    if (!steps)
        return bsf_nomem(q);
    int ns = 0;
    for (int k = i + 1; k < w->nprops; k++) {
        /* PocketBase strips characters that cannot be in a column name
         * (here: the colon of a modifier) from each key. */
        char *key = bs_arena_strdup(&q->arena, w->props[k]);
        if (!key)
            return bsf_nomem(q);
        char *d = key;
        for (const char *s = key; *s; s++) {
            if (*s != ':')
                *d++ = *s;
        }
        *d = '\0';
        if (!*key)
            continue;
        long long idx;
        if (parse_index(key, &idx)) {
            steps[ns].key = NULL;
            steps[ns].index = idx;
        } else {
            steps[ns].key = key;
            steps[ns].index = 0;
        }
        ns++;
    }
    const char *col = column_sql(q, w->alias, f->name);
    const char *mmcol = column_sql(q, w->mm_alias, f->name);
    if (!col || !mmcol)
        return bsf_nomem(q);
    bs_buf b, mv;
    bs_buf_init(&b);
    bs_buf_init(&mv);
    const char *ph = NULL;
    if (ns > 0) {
        q->d->json_path(&b, steps, ns);
        const char *path = bsf_take(q, &b);
        int idx = path ? bsf_param_text(q, path, strlen(path)) : -1;
        if (idx < 0) {
            bs_buf_dispose(&b);
            return bsf_nomem(q);
        }
        bsf_placeholder(q, &b, idx);
        ph = bsf_take(q, &b);
    }
    memset(out, 0, sizeof *out);
    out->nf = BSF_NF_OFF;
    q->d->json_extract(&b, col, ph);
    out->sql = bsf_take(q, &b);
    int rc = out->sql && (ns == 0 || ph) ? 0 : bsf_nomem(q);
    if (rc == 0 && w->mm_on) {
        q->d->json_extract(&mv, mmcol, ph);
        bsf_mm *mm = bs_arena_alloc(&q->arena, sizeof *mm);
        if (mm) {
            mm->value = bsf_take(q, &mv);
            mm->from = bsf_take(q, &w->mm);
        }
        if (!mm || !mm->value || !mm->from)
            rc = bsf_nomem(q);
        else
            out->mm = mm;
    }
    bs_buf_dispose(&b);
    bs_buf_dispose(&mv);
    return rc;
}

/* Splits "<collection>_via_<field>" at the last "_via_" that leaves word
 * characters on both sides. */
static bool split_via(bs_filter_query *q, const char *prop, char **coll,
                      char **field)
{
    for (const char *p = prop; *p; p++) {
        if (!is_w(*p))
            return false;
    }
    size_t n = strlen(prop);
    for (size_t i = n; i-- > 1;) {
        if (i + 5 >= n || strncmp(prop + i, "_via_", 5) != 0)
            continue;
        *coll = bs_arena_strndup(&q->arena, prop, i);
        *field = bs_arena_strdup(&q->arena, prop + i + 5);
        if (!*coll || !*field) {
            q->oom = true;
            return false;
        }
        return true;
    }
    return false;
}

/* Result codes of a walk step besides errors. */
enum { STEP_NEXT = 0, STEP_NULL = 1 };

static int null_or_fail(walk *w, bsf_operand *out, const char *msg,
                        const char *arg)
{
    if (w->nullify) {
        op_lit(out, "NULL");
        return STEP_NULL;
    }
    return bsf_fail(w->q, "%s \"%s\"", msg, arg);
}

/* A "<collection>_via_<relation field>" step: the records of another
 * collection whose relation field points at the current record. */
static int back_relation(walk *w, const char *prop, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    char *cname = NULL, *fname = NULL;
    if (!split_via(q, prop, &cname, &fname)) {
        if (q->oom)
            return bsf_nomem(q);
        return null_or_fail(w, out, "failed to resolve field", prop);
    }
    const bs_collection *bc = bsf_collection(q, cname);
    if (!bc)
        return null_or_fail(w, out,
                            "failed to load back relation field collection",
                            prop);
    bsf_field bf;
    if (!bsf_field_get(bc, fname, &bf))
        return null_or_fail(w, out, "missing back relation field", fname);
    if (bf.type != BS_F_RELATION)
        return null_or_fail(w, out, "invalid back relation field", fname);
    if (bf.hidden && !w->p->allow_hidden)
        return bsf_fail(q, "non-filterable back relation field \"%s\"",
                        bf.name);
    if (!w->coll->id || strcmp(bf.collection_id, w->coll->id) != 0)
        return null_or_fail(w, out,
                            "invalid collection reference of a back "
                            "relation field", bf.name);

    bool unique = !bf.multiple && bs_indexes_single_unique(bc->indexes, bf.name, NULL);
    char *key = bs_arena_printf(&q->arena, "back|%s|%s|%s", w->alias,
                                bc->id ? bc->id : bc->name, bf.name);
    char *want = bs_arena_printf(&q->arena, "%s_%s_via_%s", w->alias,
                                 bc->name, bf.name);
    const char *cur_id = column_sql(q, w->alias, "id");
    const char *mm_id = column_sql(q, w->mm_alias, "id");
    const char *m = mm_next(w);
    if (!key || !want || !cur_id || !mm_id || !m)
        return bsf_nomem(q);
    bool fresh;
    bsf_join *j = bsf_join_get(w->p, key, want, bc, &fresh);
    if (!j)
        return q->oom ? BS_ENOMEM : BS_EINVAL;
    bs_buf b;
    bs_buf_init(&b);
    int rc = 0;
    if (fresh) {
        join_head(q, &b, bc->name, j->alias);
        if (!bf.multiple) {
            bsf_column(q, &b, j->alias, bf.name);
            bs_buf_printf(&b, " = %s", cur_id);
        } else {
            const char *rel = column_sql(q, j->alias, bf.name);
            if (!rel) {
                bs_buf_dispose(&b);
                return bsf_nomem(q);
            }
            bs_buf_printf(&b, "%s IN (SELECT ", cur_id);
            bsf_column(q, &b, "__bs_je", "value");
            bs_buf_puts(&b, " FROM ");
            q->d->json_each(&b, rel, "__bs_je");
            bs_buf_putc(&b, ')');
        }
        rc = join_set(q, j, &b, bf.multiple || !unique);
    }
    const char *alias = j->alias;
    bs_buf_dispose(&b);
    if (rc)
        return rc;

    if (bf.multiple)
        w->mm_on = true;
    else if (!w->mm_on)
        w->mm_on = !unique;
    bs_buf_putc(&w->mm, ' ');
    join_head(q, &w->mm, bc->name, m);
    if (!bf.multiple) {
        bsf_column(q, &w->mm, m, bf.name);
        bs_buf_printf(&w->mm, " = %s", mm_id);
    } else {
        const char *rel = column_sql(q, m, bf.name);
        if (!rel)
            return bsf_nomem(q);
        bs_buf_printf(&w->mm, "%s IN (SELECT ", mm_id);
        bsf_column(q, &w->mm, "__bs_je", "value");
        bs_buf_puts(&w->mm, " FROM ");
        q->d->json_each(&w->mm, rel, "__bs_je");
        bs_buf_putc(&w->mm, ')');
    }
    w->coll = bc;
    w->alias = alias;
    w->mm_alias = m;
    return STEP_NEXT;
}

/* A step through a relation field to the records it points at. */
static int relation_step(walk *w, const bsf_field *f, const bs_collection *rc_coll)
{
    bs_filter_query *q = w->q;
    const char *col = column_sql(q, w->alias, f->name);
    const char *mmcol = column_sql(q, w->mm_alias, f->name);
    char *key = bs_arena_printf(&q->arena, "rel|%s|%s", w->alias, f->name);
    char *want = bs_arena_printf(&q->arena, "%s_%s", w->alias, f->name);
    if (!col || !mmcol || !key || !want)
        return bsf_nomem(q);
    bs_buf b;
    bs_buf_init(&b);
    int rc = 0;
    bool fresh;
    const char *src = col; /* what the related id is compared with */
    if (f->multiple) {
        char *jkey = bs_arena_printf(&q->arena, "je|%s|%s", w->alias, f->name);
        char *jwant = bs_arena_printf(&q->arena, "__je_%s_%s", w->alias, f->name);
        if (!jkey || !jwant)
            return bsf_nomem(q);
        bsf_join *je = bsf_join_get(w->p, jkey, jwant, NULL, &fresh);
        if (!je)
            return q->oom ? BS_ENOMEM : BS_EINVAL;
        if (fresh) {
            bs_buf_puts(&b, "LEFT JOIN ");
            q->d->json_each(&b, col, je->alias);
            bs_buf_puts(&b, " ON TRUE");
            rc = join_set(q, je, &b, true);
            if (rc)
                goto end;
        }
        src = column_sql(q, je->alias, "value");
        if (!src) {
            rc = bsf_nomem(q);
            goto end;
        }
    }
    bsf_join *j = bsf_join_get(w->p, key, want, rc_coll, &fresh);
    if (!j) {
        rc = q->oom ? BS_ENOMEM : BS_EINVAL;
        goto end;
    }
    if (fresh) {
        join_head(q, &b, rc_coll->name, j->alias);
        bsf_column(q, &b, j->alias, "id");
        bs_buf_printf(&b, " = %s", src);
        rc = join_set(q, j, &b, false);
        if (rc)
            goto end;
        if (!f->multiple && strcmp(w->alias, q->alias) == 0)
            j->root_src = col;
    }
    w->alias = j->alias;

    const char *mmsrc = mmcol;
    if (f->multiple) {
        w->mm_on = true;
        const char *mj = mm_next(w);
        const char *mjv = mj ? column_sql(q, mj, "value") : NULL;
        if (!mjv) {
            rc = bsf_nomem(q);
            goto end;
        }
        bs_buf_puts(&w->mm, " LEFT JOIN ");
        q->d->json_each(&w->mm, mmcol, mj);
        bs_buf_puts(&w->mm, " ON TRUE");
        mmsrc = mjv;
    }
    const char *m = mm_next(w);
    if (!m) {
        rc = bsf_nomem(q);
        goto end;
    }
    bs_buf_putc(&w->mm, ' ');
    join_head(q, &w->mm, rc_coll->name, m);
    bsf_column(q, &w->mm, m, "id");
    bs_buf_printf(&w->mm, " = %s", mmsrc);
    w->mm_alias = m;
    w->coll = rc_coll;
end:
    bs_buf_dispose(&b);
    return rc;
}

/* Walks the remaining properties from w->coll / w->alias. */
static int walk_props(walk *w, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    for (int i = 0; i < w->nprops; i++) {
        const char *prop = w->props[i];
        if (i == w->nprops - 1)
            return finalize(w, prop, out);
        bsf_field f;
        bool has = bsf_field_get(w->coll, prop, &f);
        if (has && f.hidden && !w->p->allow_hidden)
            return bsf_fail(q, "non-filterable field \"%s\"", prop);
        if (has && (f.type == BS_F_JSON || f.type == BS_F_GEOPOINT))
            return json_path(w, &f, i, out);
        if (i >= BSF_MAX_NESTED_RELS)
            return bsf_fail(q, "max nested relations reached for field \"%s\"",
                            prop);
        if (!has) {
            int rc = back_relation(w, prop, out);
            if (rc == STEP_NULL)
                return 0;
            if (rc)
                return rc;
            continue;
        }
        if (f.type != BS_F_RELATION)
            return bsf_fail(q, "field \"%s\" is not a valid relation", prop);
        const bs_collection *rel = bsf_collection(q, f.collection_id);
        if (!rel)
            return bsf_fail(q, "failed to load field \"%s\" collection", prop);
        /* "author.id" is the relation column itself: no join needed. */
        if (!f.multiple && i == w->nprops - 2 &&
            strcmp(w->props[i + 1], "id") == 0)
            return finalize(w, f.name, out);
        int rc = relation_step(w, &f, rel);
        if (rc)
            return rc;
    }
    return bsf_fail(q, "failed to resolve field \"%s\"", w->name);
}

/* ---- @request ------------------------------------------------------------ */

/* Whether the base collection has a number field of this name. */
static bool base_number_field(walk *w, const char *name)
{
    bsf_field f;
    return bsf_field_get(w->p->base, name, &f) && f.type == BS_F_NUMBER;
}

/* A static @request value: path[0..n) inside the request data. */
static int resolve_static(walk *w, char **path, int n, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    char *name;
    int mod;
    int rc = split_modifier(q, path[n - 1], &name, &mod);
    if (rc)
        return rc;
    path[n - 1] = name;
    json_object *v = NULL;
    bool found = json_walk(q->ctx.request, path, n, &v);
    if (mod == MOD_ISSET) {
        op_lit(out, found ? "TRUE" : "FALSE");
        return 0;
    }
    if (mod != MOD_NONE && mod != MOD_LOWER)
        return bsf_fail(q, "invalid modifier sequence in \"%s\"", w->name);
    if (!found || !v) {
        op_lit(out, "NULL");
        return 0;
    }
    int idx = -1;
    switch (json_object_get_type(v)) {
    case json_type_string: {
        const char *s = json_object_get_string(v);
        double d;
        if (base_number_field(w, name) && parse_float(s, &d))
            idx = bsf_param_real(q, d);
        else
            idx = bsf_param_text(q, s, (size_t)json_object_get_string_len(v));
        break;
    }
    case json_type_boolean:
        idx = bsf_param_int(q, json_object_get_boolean(v) ? 1 : 0, true);
        break;
    case json_type_int:
        /* Go decodes JSON numbers as float64. */
        idx = bsf_param_real(q, (double)json_object_get_int64(v));
        break;
    case json_type_double:
        idx = bsf_param_real(q, json_object_get_double(v));
        break;
    default: {
        bs_buf b;
        bs_buf_init(&b);
        bs_json_write_sorted(&b, v);
        idx = b.oom ? -1 : bsf_param_text(q, b.data ? b.data : "", b.len);
        bs_buf_dispose(&b);
        break;
    }
    }
    return bsf_op_param(q, out, idx, mod == MOD_LOWER);
}

static json_object *req_member(bs_filter_query *q, const char *key)
{
    json_object *v = NULL;
    if (!json_object_is_type(q->ctx.request, json_type_object) ||
        !json_object_object_get_ex(q->ctx.request, key, &v))
        return NULL;
    return v;
}

/* @request.auth.<path>: a few fields come from the request data, the
 * rest from the auth record's row, joined by id. */
static int auth_field(walk *w, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    json_object *auth = req_member(q, "auth");
    if (!json_object_is_type(auth, json_type_object)) {
        op_lit(out, "NULL");
        return 0;
    }
    const char *cid = bs_json_get_str(auth, "collectionId", NULL);
    const bs_collection *coll = cid ? bs_schema_find(q->ctx.schema, cid) : NULL;
    if (!coll) {
        const char *cname = bs_json_get_str(auth, "collectionName", NULL);
        coll = cname ? bs_schema_find(q->ctx.schema, cname) : NULL;
    }
    if (!coll) {
        op_lit(out, "NULL");
        return 0;
    }
    static const char *const plain[] = {"id",    "collectionId",
                                        "collectionName", "email",
                                        "emailVisibility", "verified"};
    if (w->nprops == 3) {
        for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
            if (strcmp(w->props[2], plain[i]) == 0)
                return resolve_static(w, w->props + 1, 2, out);
        }
    }
    const char *id = bs_json_get_str(auth, "id", "");
    char *key = bs_arena_printf(&q->arena, "auth|%s", w->p->suffix);
    char *want = bs_arena_printf(&q->arena, "__auth_%s%s", coll->name,
                                 w->p->suffix);
    const char *m = mm_next(w);
    if (!key || !want || !m)
        return bsf_nomem(q);
    bool fresh;
    bsf_join *j = bsf_join_get(w->p, key, want, coll, &fresh);
    if (!j)
        return q->oom ? BS_ENOMEM : BS_EINVAL;
    if (fresh) {
        j->p0 = bsf_param_text(q, id, strlen(id));
        j->np = 1;
        if (j->p0 < 0)
            return bsf_nomem(q);
        bs_buf b;
        bs_buf_init(&b);
        join_head(q, &b, coll->name, j->alias);
        bsf_column(q, &b, j->alias, "id");
        bs_buf_puts(&b, " = ");
        bsf_placeholder(q, &b, j->p0);
        int rc = join_set(q, j, &b, false);
        bs_buf_dispose(&b);
        if (rc)
            return rc;
    }
    bs_buf_putc(&w->mm, ' ');
    join_head(q, &w->mm, coll->name, m);
    bsf_column(q, &w->mm, m, "id");
    bs_buf_puts(&w->mm, " = ");
    bsf_placeholder(q, &w->mm, j->p0);
    w->coll = coll;
    w->alias = j->alias;
    w->mm_alias = m;
    w->props += 2;
    w->nprops -= 2;
    return walk_props(w, out);
}

/* The distinct non-empty strings of a request value, as PocketBase reads
 * relation ids from a body: a string (maybe a JSON array of strings) or
 * an array of scalars. */
static int unique_strings(bs_filter_query *q, json_object *v, char ***out,
                          int *n)
{
    *out = NULL;
    *n = 0;
    json_object *arr = NULL;
    json_object *parsed = NULL;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        if (strchr(s, '[') &&
            bs_json_parse(s, strlen(s), &parsed) == 0 &&
            json_object_is_type(parsed, json_type_array)) {
            size_t len = json_object_array_length(parsed);
            bool all_strings = true;
            for (size_t i = 0; i < len; i++) {
                json_object *it = json_object_array_get_idx(parsed, i);
                if (it && !json_object_is_type(it, json_type_string))
                    all_strings = false;
            }
            if (all_strings)
                arr = parsed;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        arr = v;
    } else {
        return 0;
    }
    size_t len = arr ? json_object_array_length(arr) : 1;
    char **list = bs_arena_alloc(&q->arena, sizeof *list * (len + 1));
    int rc = list ? 0 : bsf_nomem(q);
    for (size_t i = 0; rc == 0 && i < len; i++) {
        char *s = json_to_string(q, arr ? json_object_array_get_idx(arr, i) : v);
        if (!s) {
            rc = bsf_nomem(q);
            break;
        }
        bool seen = !*s;
        for (int k = 0; !seen && k < *n; k++)
            seen = strcmp(list[k], s) == 0;
        if (!seen)
            list[(*n)++] = s;
    }
    if (parsed)
        json_object_put(parsed);
    *out = list;
    return rc;
}

/* @request.body.<relation>.<path>: the records the body points at. */
static int body_relation(walk *w, const bsf_field *f, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    const bs_collection *rel = bsf_collection(q, f->collection_id);
    if (!rel)
        return bsf_fail(q, "failed to load collection \"%s\" from data field "
                        "\"%s\"", f->collection_id, f->name);
    json_object *body = req_member(q, "body");
    json_object *v = NULL;
    if (json_object_is_type(body, json_type_object))
        json_object_object_get_ex(body, f->name, &v);
    char **ids;
    int nids;
    int rc = unique_strings(q, v, &ids, &nids);
    if (rc)
        return rc;
    if (nids == 0) {
        op_lit(out, "NULL");
        return 0;
    }
    char *key = bs_arena_printf(&q->arena, "data|%s|%s", f->name, w->p->suffix);
    char *want = bs_arena_printf(&q->arena, "__data_%s_%s%s", rel->name,
                                 f->name, w->p->suffix);
    const char *m = mm_next(w);
    if (!key || !want || !m)
        return bsf_nomem(q);
    bool fresh;
    bsf_join *j = bsf_join_get(w->p, key, want, rel, &fresh);
    if (!j)
        return q->oom ? BS_ENOMEM : BS_EINVAL;
    bs_buf b;
    bs_buf_init(&b);
    if (fresh) {
        j->np = nids;
        for (int i = 0; i < nids; i++) {
            int idx = bsf_param_text(q, ids[i], strlen(ids[i]));
            if (idx < 0) {
                bs_buf_dispose(&b);
                return bsf_nomem(q);
            }
            if (i == 0)
                j->p0 = idx;
        }
        join_head(q, &b, rel->name, j->alias);
        bsf_column(q, &b, j->alias, "id");
        bs_buf_puts(&b, " IN (");
        for (int i = 0; i < j->np; i++) {
            if (i)
                bs_buf_puts(&b, ", ");
            bsf_placeholder(q, &b, j->p0 + i);
        }
        bs_buf_putc(&b, ')');
        rc = join_set(q, j, &b, j->np > 1);
        if (rc) {
            bs_buf_dispose(&b);
            return rc;
        }
    }
    bs_buf_dispose(&b);
    if (f->multiple)
        w->mm_on = true;
    bs_buf_putc(&w->mm, ' ');
    join_head(q, &w->mm, rel->name, m);
    bsf_column(q, &w->mm, m, "id");
    bs_buf_puts(&w->mm, " IN (");
    for (int i = 0; i < j->np; i++) {
        if (i)
            bs_buf_puts(&w->mm, ", ");
        bsf_placeholder(q, &w->mm, j->p0 + i);
    }
    bs_buf_putc(&w->mm, ')');
    w->coll = rel;
    w->alias = j->alias;
    w->mm_alias = m;
    w->props += 3;
    w->nprops -= 3;
    return walk_props(w, out);
}

/* The body value of a field as a JSON array text: null is [], an array
 * stays, anything else becomes a one-item array. */
static char *body_items(bs_filter_query *q, json_object *v, int *count)
{
    bs_buf b;
    bs_buf_init(&b);
    *count = 0;
    if (!v) {
        bs_buf_puts(&b, "[]");
    } else if (json_object_is_type(v, json_type_array)) {
        *count = (int)json_object_array_length(v);
        bs_json_write_sorted(&b, v);
    } else {
        *count = 1;
        bs_buf_putc(&b, '[');
        bs_json_write_sorted(&b, v);
        bs_buf_putc(&b, ']');
    }
    char *s = bsf_take(q, &b);
    bs_buf_dispose(&b);
    return s;
}

/* @request.body.<field>:each - one row per item of the body value. */
static int body_each(walk *w, const bsf_field *f, json_object *v,
                     bsf_operand *out)
{
    bs_filter_query *q = w->q;
    int count;
    char *items = body_items(q, v, &count);
    char *key = bs_arena_printf(&q->arena, "dataEach|%s|%s", f->name,
                                w->p->suffix);
    char *want = bs_arena_printf(&q->arena, "__dataEach_je_%s%s", f->name,
                                 w->p->suffix);
    if (!items || !key || !want)
        return bsf_nomem(q);
    bool fresh;
    bsf_join *j = bsf_join_get(w->p, key, want, NULL, &fresh);
    if (!j)
        return q->oom ? BS_ENOMEM : BS_EINVAL;
    bs_buf b;
    bs_buf_init(&b);
    int rc = 0;
    if (fresh) {
        j->p0 = bsf_param_text(q, items, strlen(items));
        j->np = 1;
        if (j->p0 < 0) {
            bs_buf_dispose(&b);
            return bsf_nomem(q);
        }
        bsf_placeholder(q, &b, j->p0);
        const char *ph = bsf_take(q, &b);
        if (!ph) {
            bs_buf_dispose(&b);
            return bsf_nomem(q);
        }
        bs_buf_puts(&b, "LEFT JOIN ");
        q->d->json_each(&b, ph, j->alias);
        bs_buf_puts(&b, " ON TRUE");
        rc = join_set(q, j, &b, true);
    }
    const char *alias = j->alias;
    int p0 = j->p0;
    memset(out, 0, sizeof *out);
    if (rc == 0) {
        bsf_column(q, &b, alias, "value");
        out->sql = bsf_take(q, &b);
        if (!out->sql)
            rc = bsf_nomem(q);
    }
    if (rc == 0 && f->multiple) {
        const char *m = mm_next(w);
        bsf_placeholder(q, &b, p0);
        const char *ph = bsf_take(q, &b);
        bsf_mm *mm = bs_arena_alloc(&q->arena, sizeof *mm);
        if (!m || !ph || !mm) {
            rc = bsf_nomem(q);
        } else {
            bs_buf_puts(&w->mm, " LEFT JOIN ");
            q->d->json_each(&w->mm, ph, m);
            bs_buf_puts(&w->mm, " ON TRUE");
            bsf_column(q, &b, m, "value");
            mm->value = bsf_take(q, &b);
            mm->from = bsf_take(q, &w->mm);
            if (!mm->value || !mm->from)
                rc = bsf_nomem(q);
            out->mm = mm;
        }
    }
    bs_buf_dispose(&b);
    return rc;
}

/* @request.body.<field>:changed is shorthand for
 * `@request.body.<field>:isset = true && @request.body.<field> != <field>`,
 * compiled in place. */
static int body_changed(walk *w, const bsf_field *f, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    bs_fnode *isset = bs_arena_calloc(&q->arena, sizeof *isset);
    bs_fnode *neq = bs_arena_calloc(&q->arena, sizeof *neq);
    bs_fnode *and = bs_arena_calloc(&q->arena, sizeof *and);
    bs_fnode **kids = bs_arena_alloc(&q->arena, sizeof *kids * 2);
    char *a = bs_arena_printf(&q->arena, "@request.body.%s:isset", f->name);
    char *b = bs_arena_printf(&q->arena, "@request.body.%s", f->name);
    char *c = bs_arena_strdup(&q->arena, f->name);
    if (!isset || !neq || !and || !kids || !a || !b || !c)
        return bsf_nomem(q);
    isset->kind = BS_FNODE_CMP;
    isset->left = (bs_fopd){.kind = BS_FOPD_IDENT, .text = bs_str_c(a)};
    isset->op = BS_FOP_EQ;
    isset->right = (bs_fopd){.kind = BS_FOPD_IDENT, .text = BS_STR("true")};
    neq->kind = BS_FNODE_CMP;
    neq->left = (bs_fopd){.kind = BS_FOPD_IDENT, .text = bs_str_c(b)};
    neq->op = BS_FOP_NEQ;
    neq->right = (bs_fopd){.kind = BS_FOPD_IDENT, .text = bs_str_c(c)};
    kids[0] = isset;
    kids[1] = neq;
    and->kind = BS_FNODE_AND;
    and->kids = kids;
    and->nkids = 2;
    bs_buf sql;
    bs_buf_init(&sql);
    int rc = bsf_build(w->p, and, &sql);
    memset(out, 0, sizeof *out);
    out->nf = BSF_NF_OFF;
    if (rc == 0) {
        out->sql = bsf_take(q, &sql);
        if (!out->sql)
            rc = bsf_nomem(q);
    }
    bs_buf_dispose(&sql);
    return rc;
}

/* @request.body.<field>... where field is a field of the collection. */
static int body_field(walk *w, bsf_operand *out, bool *handled)
{
    bs_filter_query *q = w->q;
    *handled = false;
    char *name;
    int mod;
    int rc = split_modifier(q, w->props[2], &name, &mod);
    if (rc)
        return rc;
    bsf_field f;
    if (!bsf_field_get(w->p->base, name, &f))
        return 0;
    if (f.type == BS_F_RELATION && w->nprops > 3) {
        *handled = true;
        return body_relation(w, &f, out);
    }
    if (w->nprops != 3)
        return 0;
    json_object *body = req_member(q, "body");
    json_object *v = NULL;
    if (json_object_is_type(body, json_type_object))
        json_object_object_get_ex(body, f.name, &v);
    switch (mod) {
    case MOD_EACH:
    case MOD_LENGTH: {
        *handled = true;
        if (!multivaluer(&f))
            return bsf_fail(q, "field \"%s\" doesn't support multivalue "
                            "operations", f.name);
        if (mod == MOD_EACH)
            return body_each(w, &f, v, out);
        int count;
        if (!body_items(q, v, &count))
            return bsf_nomem(q);
        char *lit = bs_arena_printf(&q->arena, "%d", count);
        if (!lit)
            return bsf_nomem(q);
        op_lit(out, lit);
        return 0;
    }
    case MOD_LOWER: {
        *handled = true;
        char *s = v ? json_to_string(q, v) : bs_arena_strdup(&q->arena, "");
        if (!s)
            return bsf_nomem(q);
        return bsf_op_param(q, out, bsf_param_text(q, s, strlen(s)), true);
    }
    case MOD_CHANGED:
        *handled = true;
        return body_changed(w, &f, out);
    default:
        return 0;
    }
}

static int request_field(walk *w, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    if (!q->ctx.request) {
        op_lit(out, "NULL");
        return 0;
    }
    if (strcmp(w->props[1], "auth") == 0)
        return auth_field(w, out);
    if (strcmp(w->props[1], "body") == 0 && w->nprops > 2) {
        bool handled;
        int rc = body_field(w, out, &handled);
        if (rc || handled)
            return rc;
    }
    return resolve_static(w, w->props + 1, w->nprops - 1, out);
}

/* @collection.<name>[:alias].<path>: every record of another collection,
 * joined without condition. */
static int collection_field(walk *w, bsf_operand *out)
{
    bs_filter_query *q = w->q;
    if (w->nprops < 3)
        return bsf_fail(q, "invalid @collection field path in \"%s\"", w->name);
    char *cname = w->props[1];
    char *ualias = strchr(cname, ':');
    if (ualias)
        *ualias++ = '\0';
    const bs_collection *coll = bsf_collection(q, cname);
    if (!coll)
        return bsf_fail(q, "failed to load collection \"%s\" from field path "
                        "\"%s\"", cname, w->name);
    char *key = bs_arena_printf(&q->arena, "collection|%s|%s|%s",
                                coll->id ? coll->id : coll->name,
                                ualias ? ualias : "", w->p->suffix);
    char *want = bs_arena_printf(&q->arena, "__collection_%s%s%s", coll->name,
                                 ualias ? "_alias" : "", w->p->suffix);
    const char *m = mm_next(w);
    if (!key || !want || !m)
        return bsf_nomem(q);
    bool fresh;
    bsf_join *j = bsf_join_get(w->p, key, want, coll, &fresh);
    if (!j)
        return q->oom ? BS_ENOMEM : BS_EINVAL;
    if (fresh) {
        bs_buf b;
        bs_buf_init(&b);
        join_head(q, &b, coll->name, j->alias);
        bs_buf_puts(&b, "TRUE");
        int rc = join_set(q, j, &b, true);
        bs_buf_dispose(&b);
        if (rc)
            return rc;
    }
    w->mm_on = true;
    bs_buf_putc(&w->mm, ' ');
    join_head(q, &w->mm, coll->name, m);
    bs_buf_puts(&w->mm, "TRUE");
    w->coll = coll;
    w->alias = j->alias;
    w->mm_alias = m;
    w->props += 2;
    w->nprops -= 2;
    return walk_props(w, out);
}

int bsf_resolve_field(bsf_pass *p, const char *name, bsf_operand *out)
{
    bs_filter_query *q = p->q;
    memset(out, 0, sizeof *out);
    if (!allowed_name(name))
        return bsf_fail(q, "failed to resolve field \"%s\"", name);
    int n = 1;
    for (const char *s = name; *s; s++)
        n += *s == '.';
    char **props = bs_arena_alloc(&q->arena, sizeof *props * (size_t)n);
    char *copy = bs_arena_strdup(&q->arena, name);
    if (!props || !copy)
        return bsf_nomem(q);
    int k = 0;
    props[k++] = copy;
    for (char *s = copy; *s; s++) {
        if (*s == '.') {
            *s = '\0';
            props[k++] = s + 1;
        }
    }
    walk w = {
        .p = p,
        .q = q,
        .name = name,
        .props = props,
        .nprops = n,
        .coll = p->base,
        .alias = p->base_alias,
        .nullify = strcmp(props[0], "@request") == 0,
        .mm_alias = p->base_alias,
    };
    bs_buf_init(&w.mm);
    bs_buf_printf(&w.mm, "%s AS ", q->d->one_row);
    q->d->ident(&w.mm, "__bs_m0");
    int rc;
    if (strcmp(props[0], "@collection") == 0)
        rc = collection_field(&w, out);
    else if (w.nullify)
        rc = request_field(&w, out);
    else
        rc = walk_props(&w, out);
    bs_buf_dispose(&w.mm);
    if (rc == 0 && q->oom)
        rc = BS_ENOMEM;
    return rc;
}

/* ---- operands --------------------------------------------------------- */

int bsf_resolve(bsf_pass *p, const bs_fopd *o, bsf_operand *out)
{
    bs_filter_query *q = p->q;
    memset(out, 0, sizeof *out);
    switch (o->kind) {
    case BS_FOPD_TEXT:
        return bsf_op_param(q, out, bsf_param_text(q, o->text.ptr, o->text.len),
                        false);
    case BS_FOPD_NUMBER: {
        double d = strtod(o->text.ptr, NULL);
        return bsf_op_param(q, out, bsf_param_real(q, d), false);
    }
    case BS_FOPD_FUNC:
        return bsf_resolve_func(p, o, out);
    case BS_FOPD_PARAM:
        /* bs_filter_add replaced every bound one. */
        return bsf_fail(q, "missing placeholder parameter {:%s}",
                        o->text.ptr);
    case BS_FOPD_IDENT:
        break;
    }
    bool matched;
    int rc = bsf_resolve_macro(p, o->text.ptr, out, &matched);
    if (rc || matched)
        return rc;
    rc = bsf_resolve_field(p, o->text.ptr, out);
    if (rc != BS_EINVAL)
        return rc;
    /* Not a field: maybe one of the literals null, true, false. */
    if (strcasecmp(o->text.ptr, "null") == 0)
        op_lit(out, "NULL");
    else if (strcasecmp(o->text.ptr, "true") == 0)
        op_lit(out, q->d->true_lit);
    else if (strcasecmp(o->text.ptr, "false") == 0)
        op_lit(out, q->d->false_lit);
    else
        return rc;
    return 0;
}
