/*
 * filter_schema.h - the collections of a filter test, built from a
 * table of definitions (fields and indexes as JSON text), as the schema
 * loader would build them. Shared by the SQLite and PostgreSQL filter
 * tests.
 */
#ifndef BS_TEST_FILTER_SCHEMA_H
#define BS_TEST_FILTER_SCHEMA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "schema/schema.h"

typedef struct coll_def {
    const char *id, *name, *type, *list_rule, *fields, *indexes;
} coll_def;

/* Fills s with copies of the n definitions; exits on bad JSON. */
static inline void filter_schema_load(bs_schema *s, const coll_def *defs, size_t n)
{
    s->n = (int)n;
    s->items = calloc(n, sizeof *s->items);
    for (size_t i = 0; i < n; i++) {
        bs_collection *c = &s->items[i];
        c->id = strdup(defs[i].id);
        c->name = strdup(defs[i].name);
        c->type = strdup(defs[i].type);
        c->rules[BS_RULE_LIST] =
            defs[i].list_rule ? strdup(defs[i].list_rule) : NULL;
        bs_json_parse(defs[i].fields, strlen(defs[i].fields), &c->fields);
        bs_json_parse(defs[i].indexes, strlen(defs[i].indexes), &c->indexes);
        if (!c->fields || !c->indexes) {
            fprintf(stderr, "fixture: bad JSON in %s\n", defs[i].name);
            exit(1);
        }
        bs_collection_fill_finfo(c); /* as the schema loader does */
    }
}

static inline void filter_schema_free(bs_schema *s)
{
    for (int i = 0; i < s->n; i++) {
        bs_collection *c = &s->items[i];
        free(c->id);
        free(c->name);
        free(c->type);
        free(c->rules[BS_RULE_LIST]);
        json_object_put(c->fields);
        json_object_put(c->indexes);
        free(c->finfo);
    }
    free(s->items);
}

#endif
