/*
 * sql.h - SQL text helpers: identifier quoting and row conversion.
 *
 * This is the one place that knows how SQLite spells identifiers and how
 * its column values map onto JSON; other engines get their own version.
 */
#ifndef BS_SQL_H
#define BS_SQL_H

#include <json-c/json.h>
#include <sqlite3.h>

#include "../base/buf.h"

/* Appends name as a quoted identifier ("name", with quotes doubled). */
void bs_sql_ident(bs_buf *b, const char *name);

/* The current row of st as a json object keyed by column name: integers
 * and reals as numbers, text as strings, NULL as null, blobs as strings. */
json_object *bs_sql_row_json(sqlite3_stmt *st);

/* Runs `SELECT * FROM "table" WHERE id = ?` through the connection's
 * statement cache. Returns SQLITE_ROW (the statement is on the row; reset
 * it when done), SQLITE_DONE (no such row; already reset) or an error
 * code. */
struct bs_conn;
int bs_sql_select_by_id(struct bs_conn *conn, const char *table,
                        const char *id, sqlite3_stmt **out);

/* Runs sql (a statement without parameters) on conn and calls fn with
 * each result row, as bs_sql_row_json makes it (borrowed: freed after
 * the call). Stops at the first nonzero return of fn and returns it;
 * otherwise 0, BS_ENOMEM, or BS_EDB when the statement fails (the
 * error is logged with what). For callers above the store that read
 * rows without knowing the engine. */
typedef int (*bs_sql_row_fn)(json_object *row, void *user);
int bs_sql_each_row(struct bs_conn *conn, const char *sql, const char *what,
                    bs_sql_row_fn fn, void *user);

#endif
