/*
 * sql_console.h - running a superuser's SQL text, as PocketBase's SQL
 * console (POST /api/sql) does.
 *
 * The text is classified the way PocketBase does it: text that does not
 * start with SELECT but starts with INSERT, CREATE, UPDATE, DELETE,
 * DROP, DETACH, ALTER or REPLACE (any case, after leading space) is a
 * write and runs on the writer inside one transaction (every statement,
 * in order; any failure rolls all of them back); the result is the
 * number of rows the last statement changed. Anything else runs on a
 * read-only connection and returns the columns and rows of its last
 * statement (the earlier ones are only compiled, as Go's SQLite driver
 * does); values are text or null (integers in decimal, reals as Go
 * prints them).
 *
 * Limits: max_rows rows, a deadline after which SQLite interrupts the
 * statement, and an authorizer that refuses ATTACH, DETACH, transaction
 * control (the console owns the transaction) and the DDL that the
 * caller's `protect` refuses (dropping or altering a collection's
 * table), so the text can neither reach files outside the data
 * directory nor leave the in-memory schema wrong.
 */
#ifndef BS_SQL_CONSOLE_H
#define BS_SQL_CONSOLE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "store.h"

typedef struct bs_sql_console_opts {
    int max_rows;        /* rows returned at most (PocketBase: 1000) */
    int timeout_ms;      /* interrupt after this long; 0: no limit */
    /* Whether a table or view may not be dropped or altered (NULL:
     * every one may). Called while the statement is compiled. */
    bool (*protect)(void *user, const char *table);
    void *user;
} bs_sql_console_opts;

/* Whether query runs as a write (see above). */
bool bs_sql_console_is_write(const char *query);

/* Runs query (NUL-terminated). Returns 0 and *out = {affectedRows,
 * columns: [{name, type, nullable}], rows: [[text|null, ...]]} (a new
 * object), or BS_EDB with SQLite's message in msg (cap bytes). *wrote
 * tells whether a write transaction committed. Any thread; takes a
 * reader or the writer lock for the length of the run. */
int bs_sql_console_run(bs_store *s, const char *query,
                       const bs_sql_console_opts *o, json_object **out,
                       bool *wrote, char *msg, size_t cap);

#endif
