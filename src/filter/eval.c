/*
 * eval.c - simple API rules decided in memory (see eval.h).
 *
 * The rule is parsed with the filter parser and kept as its tree; each
 * comparison is checked once, at compile time, to be of the supported
 * shape, so running it only looks values up and compares strings.
 */
#include "eval.h"

#include <stdlib.h>
#include <string.h>

#include "../base/arena.h"
#include "basalt.h"
#include "parse.h"

struct bs_filter_eval {
    bs_arena arena;
    const bs_fnode *root; /* NULL: allow everyone ("") */
};

/* A field whose value is one string in the record data. */
static bool scalar_field(const bs_collection *c, const char *name)
{
    if (strcmp(name, "id") == 0)
        return true;
    for (int i = 0; i < c->nfields; i++) {
        const bs_finfo *f = &c->finfo[i];
        if (strcmp(f->name, name) != 0)
            continue;
        switch (f->type) {
        case BS_F_TEXT:
        case BS_F_EMAIL:
        case BS_F_URL:
        case BS_F_EDITOR:
            return true;
        case BS_F_SELECT:
        case BS_F_RELATION:
            return !f->multiple;
        default:
            return false;
        }
    }
    return false;
}

static bool auth_ident(const char *s)
{
    return strcmp(s, "@request.auth.id") == 0 ||
           strcmp(s, "@request.auth.collectionId") == 0 ||
           strcmp(s, "@request.auth.collectionName") == 0;
}

static bool operand_ok(const bs_collection *c, const bs_fopd *o)
{
    if (o->kind == BS_FOPD_TEXT)
        return true;
    if (o->kind != BS_FOPD_IDENT)
        return false;
    return strcmp(o->text.ptr, "null") == 0 || auth_ident(o->text.ptr) ||
           scalar_field(c, o->text.ptr);
}

static bool supported(const bs_collection *c, const bs_fnode *n)
{
    if (n->kind != BS_FNODE_CMP) {
        for (int i = 0; i < n->nkids; i++)
            if (!supported(c, n->kids[i]))
                return false;
        return true;
    }
    return (n->op == BS_FOP_EQ || n->op == BS_FOP_NEQ) && !n->any &&
           operand_ok(c, &n->left) && operand_ok(c, &n->right);
}

int bs_filter_eval_new(const bs_collection *c, const char *rule,
                       bs_filter_eval **out)
{
    *out = NULL;
    if (!rule)
        return 0;
    bs_filter_eval *e = calloc(1, sizeof *e);
    if (!e)
        return BS_ENOMEM;
    bs_arena_init(&e->arena, 1024);
    size_t len = strlen(rule);
    size_t lead = strspn(rule, " \t\r\n");
    if (lead == len) {
        *out = e; /* "": everyone */
        return 0;
    }
    bs_fnode *root = NULL;
    bs_fparse_error perr;
    int rc = bs_filter_parse(&e->arena, rule, len, &root, &perr);
    if (rc == BS_ENOMEM) {
        bs_filter_eval_free(e);
        return BS_ENOMEM;
    }
    if (rc || !root || !supported(c, root)) {
        bs_filter_eval_free(e);
        return 0;
    }
    e->root = root;
    *out = e;
    return 0;
}

void bs_filter_eval_free(bs_filter_eval *e)
{
    if (!e)
        return;
    bs_arena_dispose(&e->arena);
    free(e);
}

/* An operand's value; null is "". Returns false for a record value that
 * is not a string or null. */
static bool value(const bs_fopd *o, const json_object *data,
                  const bs_filter_auth *auth, const char **out)
{
    const char *s = o->text.ptr;
    *out = "";
    if (o->kind == BS_FOPD_TEXT) {
        *out = s;
        return true;
    }
    if (strcmp(s, "null") == 0)
        return true;
    if (strncmp(s, "@request.auth.", 14) == 0) {
        const char *v = NULL;
        if (auth && strcmp(s + 14, "id") == 0)
            v = auth->id;
        else if (auth && strcmp(s + 14, "collectionId") == 0)
            v = auth->collection_id;
        else if (auth)
            v = auth->collection_name;
        *out = v ? v : "";
        return true;
    }
    json_object *v = NULL;
    if (!json_object_object_get_ex((json_object *)data, s, &v) || !v)
        return true;
    if (!json_object_is_type(v, json_type_string))
        return false;
    *out = json_object_get_string(v);
    return true;
}

static int run(const bs_fnode *n, const json_object *data,
               const bs_filter_auth *auth)
{
    if (n->kind == BS_FNODE_CMP) {
        const char *a, *b;
        if (!value(&n->left, data, auth, &a) ||
            !value(&n->right, data, auth, &b))
            return -1;
        bool eq = strcmp(a, b) == 0;
        return n->op == BS_FOP_EQ ? eq : !eq;
    }
    /* AND: false wins; OR: true wins; an undecidable kid otherwise
     * makes the whole undecidable. */
    bool is_and = n->kind == BS_FNODE_AND;
    int result = is_and ? 1 : 0;
    for (int i = 0; i < n->nkids; i++) {
        int r = run(n->kids[i], data, auth);
        if (r == (is_and ? 0 : 1))
            return r;
        if (r < 0)
            result = -1;
    }
    return result;
}

int bs_filter_eval_run(const bs_filter_eval *e, const json_object *data,
                       const bs_filter_auth *auth)
{
    return e->root ? run(e->root, data, auth) : 1;
}

/* The field of a comparison `F = @request.auth.id` (either way round),
 * or NULL. */
static const char *owner_cmp(const bs_fnode *n)
{
    if (n->kind != BS_FNODE_CMP || n->op != BS_FOP_EQ || n->any ||
        n->left.kind != BS_FOPD_IDENT || n->right.kind != BS_FOPD_IDENT)
        return NULL;
    const char *l = n->left.text.ptr, *r = n->right.text.ptr;
    bool la = strcmp(l, "@request.auth.id") == 0;
    bool ra = strcmp(r, "@request.auth.id") == 0;
    const char *f = la ? r : ra ? l : NULL;
    if (!f || la == ra || strcmp(f, "null") == 0 || f[0] == '@')
        return NULL;
    return f;
}

const char *bs_filter_eval_owner(const bs_filter_eval *e)
{
    const bs_fnode *n = e ? e->root : NULL;
    if (!n)
        return NULL;
    if (n->kind == BS_FNODE_CMP)
        return owner_cmp(n);
    for (int i = 0; n->kind == BS_FNODE_AND && i < n->nkids; i++) {
        const char *f = owner_cmp(n->kids[i]);
        if (f)
            return f;
    }
    return NULL;
}
