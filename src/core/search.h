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

#include "../base/buf.h"
#include "../base/error.h"
#include "../db/store.h"
#include "../schema/schema.h"
#include "basalt.h"

/* The names of the searchable fields in a collection's fields array, at
 * most max of them, into names (borrowed from fields). Returns how many. */
int bs_search_columns(const json_object *fields, const char **names,
                      int max);

/* The upper bound on searchable fields of one collection. */
#define BS_SEARCH_MAX_FIELDS 32

/* Whether a requester who is not a superuser may search the field f of a
 * collection (auth: an auth collection). As in filters, hidden fields
 * are for superusers only; so is an auth collection's email, whose
 * visibility is decided record by record. */
bool bs_search_field_public(const json_object *f, bool auth);

/* Writes the FTS5 query of a client's search text into out: the checked
 * text (bs_fts_query_check), limited to the fields a non-superuser may
 * search when some searchable field is for superusers only. Returns 0,
 * or BS_EHTTP with a 400 in err (bad text; no field to search). */
int bs_search_query(const bs_collection *c, bool superuser,
                    const char *text, bs_buf *out, bs_error *err);

/* Turns an FTS5 snippet, its matches between the bytes 0x02 and 0x03,
 * into an HTML fragment: matches in <mark>, the rest escaped; with
 * strip_tags (editor fields) the HTML tags of the source, and pieces of
 * tags cut at either end, are dropped and its entities kept. */
void bs_search_snippet_html(const char *s, size_t n, bool strip_tags,
                            bs_buf *out);

/* Replaces the value of field in each of the n records of collection c
 * with its snippet for the search text: up to tokens words (1-64) around
 * the best matches, as an HTML fragment (bs_search_snippet_html). A
 * field the requester may not search is left as it is. Returns 0, or
 * BS_EHTTP with a 400 in err (field not searchable, bad text), or a
 * database error. */
int bs_search_snippets(bs_app *app, const bs_collection *c,
                       bool superuser, const char *text, const char *field,
                       int tokens, bs_record **recs, int n,
                       bs_error *err);

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
