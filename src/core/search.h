/*
 * search.h - full-text search over a collection's searchable fields.
 *
 * A text, editor, email, url or json field with `"searchable": true`
 * (a Basalt extension kept in the collection's JSON) is indexed; the
 * index itself lives in src/db/fts.c. This module decides when a
 * collection save must (re)build the index and compiles a records-list
 * search into SQL.
 */
#ifndef BS_SEARCH_H
#define BS_SEARCH_H

#include <json-c/json.h>
#include <stdbool.h>

#include "../base/error.h"
#include "../db/store.h"

/* The names of the searchable fields in a collection's fields array, at
 * most max of them, into names (borrowed from fields). Returns how many. */
int bs_search_columns(const json_object *fields, const char **names,
                      int max);

/* The upper bound on searchable fields of one collection. */
#define BS_SEARCH_MAX_FIELDS 32

/* Collection saves call these around the table change: the first drops
 * the old index when the searchable set or the table name changes (old
 * NULL: a new collection), the second builds the new one. Both run in
 * the save's transaction. Return 0, or an error with err set. */
int bs_search_before_table_sync(bs_conn *conn, const json_object *col,
                                const json_object *old, bs_error *err);
int bs_search_after_table_sync(bs_conn *conn, const json_object *col,
                               const json_object *old, bs_error *err);

/* Drops the index of a deleted collection. */
int bs_search_drop(bs_conn *conn, const char *collection_id, bs_error *err);

#endif
