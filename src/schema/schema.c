/*
 * schema.c - loading and sharing the collection schema snapshot.
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"

/* The text of a column of row (a copy), or NULL when it is NULL. */
static char *col_text(json_object *row, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(row, name, &v) || !v)
        return NULL;
    return strdup(json_object_get_string(v));
}

/* A column of row holding JSON text, parsed; an empty value of type want
 * when it is NULL, invalid or of another type. */
static json_object *col_json(json_object *row, const char *name,
                             json_type want)
{
    json_object *col = NULL;
    const char *t = NULL;
    if (json_object_object_get_ex(row, name, &col) && col)
        t = json_object_get_string(col);
    json_object *v = NULL;
    if (t)
        bs_json_parse(t, strlen(t), &v);
    if (!v || !json_object_is_type(v, want)) {
        if (v)
            json_object_put(v);
        v = want == json_type_array ? json_object_new_array()
                                    : json_object_new_object();
    }
    return v;
}

void bs_finfo_init(bs_finfo *fi, const json_object *f)
{
    fi->def = f;
    fi->name = bs_json_get_str(f, "name", "");
    fi->type = bs_ftype_of(bs_json_get_str(f, "type", ""));
    fi->hidden = bs_json_get_bool(f, "hidden", false);
    fi->required = bs_json_get_bool(f, "required", false);
    fi->primary_key = fi->type == BS_F_TEXT &&
                      bs_json_get_bool(f, "primaryKey", false);
    fi->on_create = bs_json_get_bool(f, "onCreate", false);
    fi->on_update = bs_json_get_bool(f, "onUpdate", false);
    fi->autogenerate = bs_json_get_str(f, "autogeneratePattern", "");
    fi->collection_id = bs_json_get_str(f, "collectionId", "");
    fi->multiple = bs_ftypes[fi->type].multi &&
                   bs_json_get_int(f, "maxSelect", 0) > 1;
}

int bs_collection_fill_finfo(bs_collection *c)
{
    size_t n = json_object_is_type(c->fields, json_type_array)
                   ? json_object_array_length(c->fields)
                   : 0;
    c->finfo = calloc(n ? n : 1, sizeof *c->finfo);
    c->nfields = 0;
    if (!c->finfo)
        return BS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        bs_finfo_init(&c->finfo[i], json_object_array_get_idx(c->fields, i));
    c->nfields = (int)n;
    return 0;
}

const bs_finfo *bs_collection_finfo(const bs_collection *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (int i = 0; i < c->nfields; i++) {
        if (strcmp(c->finfo[i].name, name) == 0)
            return &c->finfo[i];
    }
    return NULL;
}

void bs_collection_dispose(bs_collection *c)
{
    free(c->finfo);
    free(c->id);
    free(c->name);
    free(c->type);
    for (int i = 0; i < BS_RULE_COUNT; i++)
        free(c->rules[i]);
    json_object_put(c->fields);
    json_object_put(c->indexes);
    json_object_put(c->options);
    free(c->created);
    free(c->updated);
    memset(c, 0, sizeof *c);
}

/* The snapshot being loaded and the room in its items array. */
typedef struct schema_load {
    bs_schema *s;
    int cap;
} schema_load;

static const char *const rule_columns[BS_RULE_COUNT] = {
    "listRule", "viewRule", "createRule", "updateRule", "deleteRule"};

/* Adds the collection of one `_collections` row. */
static int add_row(json_object *row, void *user)
{
    schema_load *l = user;
    bs_schema *s = l->s;
    if (s->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        bs_collection *items = realloc(s->items, sizeof *items * (size_t)l->cap);
        if (!items)
            return BS_ENOMEM;
        s->items = items;
    }
    bs_collection *c = &s->items[s->n++];
    memset(c, 0, sizeof *c);
    json_object *sys = NULL;
    c->id = col_text(row, "id");
    c->name = col_text(row, "name");
    c->type = col_text(row, "type");
    c->system = json_object_object_get_ex(row, "system", &sys) &&
                json_object_get_int64(sys) != 0;
    for (int i = 0; i < BS_RULE_COUNT; i++)
        c->rules[i] = col_text(row, rule_columns[i]);
    c->fields = col_json(row, "fields", json_type_array);
    c->indexes = col_json(row, "indexes", json_type_array);
    c->options = col_json(row, "options", json_type_object);
    c->created = col_text(row, "created");
    c->updated = col_text(row, "updated");
    if (!c->type)
        c->type = strdup("base");
    return bs_collection_fill_finfo(c) != 0 ? BS_ENOMEM : 0;
}

int bs_schema_load(bs_conn *conn, bs_schema **out)
{
    *out = NULL;
    static const char *sql =
        "SELECT id, name, type, system, listRule, viewRule, createRule, "
        "updateRule, deleteRule, fields, indexes, options, created, updated "
        "FROM _collections ORDER BY rowid";
    bs_schema *s = calloc(1, sizeof *s);
    if (!s)
        return BS_ENOMEM;
    atomic_init(&s->refs, 1);
    schema_load l = {.s = s};
    int rc = bs_sql_each_row(conn, sql, "loading collections", add_row, &l);
    if (rc) {
        bs_schema_unref(s);
        return BS_EDB;
    }
    *out = s;
    return 0;
}

void bs_schema_ref(bs_schema *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void bs_schema_unref(bs_schema *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (int i = 0; i < s->n; i++)
        bs_collection_dispose(&s->items[i]);
    free(s->items);
    free(s);
}

const bs_collection *bs_schema_find(const bs_schema *s, const char *key)
{
    if (!s || !key)
        return NULL;
    for (int i = 0; i < s->n; i++) {
        if (s->items[i].id && strcmp(s->items[i].id, key) == 0)
            return &s->items[i];
    }
    for (int i = 0; i < s->n; i++) {
        if (s->items[i].name && strcasecmp(s->items[i].name, key) == 0)
            return &s->items[i];
    }
    return NULL;
}

bool bs_collection_is_auth(const bs_collection *c)
{
    return c && strcmp(c->type, "auth") == 0;
}

const char *bs_collection_token_secret(const bs_collection *c,
                                       const char *which)
{
    return bs_json_get_str(bs_json_get(c->options, which), "secret", "");
}

int64_t bs_collection_token_duration(const bs_collection *c,
                                     const char *which)
{
    return bs_json_get_int(bs_json_get(c->options, which), "duration", 0);
}
