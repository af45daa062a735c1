/*
 * view.h - view collections: SQL views whose fields are inferred from
 * their SELECT query, as PocketBase's core/view.go does.
 *
 * The query is read twice. A loose parser splits it into the selected
 * columns (expression and alias) and the tables of its FROM and JOIN
 * clauses; each column's field is then guessed from where it comes from
 * (a collection's field keeps its definition, an id becomes a relation,
 * COUNT() and CAST() give numbers, text and bools, anything else is a
 * json field). SQLite then says which columns the query really returns
 * (a temporary view and PRAGMA table_info), which decides the list and
 * its order. The query must return an `id` column.
 *
 * The functions that take a bs_conn run inside the caller's write
 * transaction: they create and drop views.
 */
#ifndef BS_VIEW_H
#define BS_VIEW_H

#include <json-c/json.h>

#include "../base/buf.h"
#include "../db/store.h"
#include "../schema/schema.h"
#include "basalt.h"

/* One identifier of a query: "expr AS alias", "table alias", ... */
typedef struct bs_view_ident {
    char *original;
    char *alias;
} bs_view_ident;

typedef struct bs_view_parsed {
    bs_view_ident *columns;
    int ncolumns;
    bs_view_ident *tables;  /* FROM tables first, then JOINed ones */
    int ntables;
} bs_view_parsed;

/* Parses the columns and tables of a SELECT (PocketBase's loose
 * identifiers parser). Returns 0, or BS_EINVAL with a reason in msg. */
int bs_view_parse(const char *query, bs_view_parsed *out, char *msg,
                  size_t cap);
void bs_view_parsed_dispose(bs_view_parsed *p);

/* Trims the query and refuses several statements. Returns a new string
 * or NULL with a reason in msg. */
char *bs_view_normalize_query(const char *query, char *msg, size_t cap);

/* Infers the fields of a view query (a new JSON array in *fields). */
int bs_view_fields(bs_app *app, bs_conn *conn, const char *query,
                   json_object **fields, char *msg, size_t cap);

/* Creates (or replaces) the SQL view `name` for query, wrapping the
 * query so that its id column is text. */
int bs_view_save(bs_conn *conn, const char *name, const char *query,
                 char *msg, size_t cap);

/* Drops the view `name` when it exists. */
int bs_view_drop(bs_conn *conn, const char *name, char *msg, size_t cap);

/* Re-infers the fields of every view collection except exclude_id and
 * saves those whose fields changed (PocketBase's dependent views
 * resave). A view whose query no longer works is an error. */
int bs_view_check_dependents(bs_app *app, bs_conn *conn,
                             const char *exclude_id, char *msg, size_t cap);

/* PocketBase's dry run of a view query: the inferred fields and up to
 * sample_size records, written as {"fields":[...],"sample":[...]} to
 * out. Runs in a transaction that is always rolled back. Returns 0,
 * BS_EINVAL with the reason in msg, or another negative code. */
int bs_view_dry_run(bs_app *app, const char *query, int sample_size,
                    bs_buf *out, char *msg, size_t cap);

/* PocketBase's FindRecordByViewFile: the non-view collection and the
 * record a view collection's file field `field` takes the stored file
 * `filename` from (views of views followed up to 5 levels). *src and
 * *id (the record's id, caller frees) are set on success. Returns 0,
 * BS_ENOTFOUND, or another error. Any thread (a reader connection). */
int bs_view_file_record(bs_app *app, const bs_schema *s,
                        const bs_collection *view, const char *field,
                        const char *filename, const bs_collection **src,
                        char **id);

#endif
