/*
 * schema.h - the collection schema snapshot.
 *
 * The rows of `_collections` are loaded into one immutable snapshot that
 * every thread reads without locking. A schema change builds a new
 * snapshot from the database and swaps it in as a whole; readers holding
 * the old one keep it alive with a reference until they let go.
 */
#ifndef BS_SCHEMA_H
#define BS_SCHEMA_H

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../db/store.h"
#include "ftype.h"

enum bs_rule { BS_RULE_LIST, BS_RULE_VIEW, BS_RULE_CREATE, BS_RULE_UPDATE,
               BS_RULE_DELETE, BS_RULE_COUNT };

/* A compact view of one field definition, resolved once (by
 * bs_finfo_init) and read by records, the filter and validation. The
 * strings point into the definition. */
typedef struct bs_finfo {
    const char *name;
    bs_ftype type;
    bool hidden;
    bool multiple;            /* select/file/relation with maxSelect > 1 */
    bool required;
    bool primary_key;         /* text: the record id */
    bool on_create, on_update; /* autodate */
    const char *autogenerate; /* text: the autogeneratePattern, or "" */
    const char *collection_id; /* relation: the related collection, or "" */
    const json_object *def;   /* the full definition */
} bs_finfo;

typedef struct bs_collection {
    char *id;
    char *name;
    char *type;               /* "base", "auth" or "view" */
    bool system;
    char *rules[BS_RULE_COUNT]; /* NULL = superusers only */
    json_object *fields;      /* array, as stored */
    bs_finfo *finfo;          /* one per field, same order */
    int nfields;
    json_object *indexes;     /* array of strings */
    json_object *options;     /* object */
    char *created;
    char *updated;
} bs_collection;

typedef struct bs_schema {
    atomic_int refs;
    int n;
    bs_collection *items;
} bs_schema;

/* Loads every collection through conn. Returns 0 and a snapshot with one
 * reference, or BS_EDB. */
int bs_schema_load(bs_conn *conn, bs_schema **out);

void bs_schema_ref(bs_schema *s);
void bs_schema_unref(bs_schema *s);

/* Finds a collection by id, or by name (case-insensitive like SQLite
 * table names). NULL when missing. The pointer lives as long as the
 * snapshot. */
const bs_collection *bs_schema_find(const bs_schema *s, const char *id_or_name);

bool bs_collection_is_auth(const bs_collection *c);

/* Fills fi from one field definition (a json object as stored); the
 * one place a bs_finfo is built. fi borrows from def. */
void bs_finfo_init(bs_finfo *fi, const json_object *def);

/* Builds c->finfo and c->nfields from c->fields (an array, or anything
 * else for none). Returns 0 or BS_ENOMEM. The caller frees c->finfo. */
int bs_collection_fill_finfo(bs_collection *c);

/* Frees what a collection owns (names, rules, fields, indexes, options,
 * field info) and zeroes it; the struct itself is the caller's. */
void bs_collection_dispose(bs_collection *c);

/* A field of c by name, or NULL: the one lookup of a field by name. */
const bs_finfo *bs_collection_finfo(const bs_collection *c, const char *name);

/* The auth collection's token options: the secret and duration of the
 * named token config ("authToken", "fileToken", ...). */
const char *bs_collection_token_secret(const bs_collection *c,
                                       const char *which);
int64_t bs_collection_token_duration(const bs_collection *c,
                                     const char *which);

#endif
