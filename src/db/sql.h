/*
 * sql.h - SQL text helpers: identifier quoting, rows by id, every row.
 *
 * This is the one place that knows how SQLite spells identifiers and how
 * its column values map onto JSON; other engines get their own version.
 */
#ifndef BS_SQL_H
#define BS_SQL_H

#include <json-c/json.h>
#include <stdbool.h>
#include "../base/buf.h"
#include "rows.h"

/* Appends name as a quoted identifier ("name", with quotes doubled). */
void bs_sql_ident(bs_buf *b, const char *name);

/* Opens rows on `SELECT * FROM "table" WHERE id = ?` through the
 * connection's statement cache and steps once. Returns 1 (rows is on the
 * row), 0 (no such row) or a negative code; close rows in every case. */
struct bs_conn;
int bs_sql_select_by_id(struct bs_conn *conn, const char *table,
                        const char *id, bs_rows *rows);

/* Whether the database of conn has a table (or, with views, a table or
 * a view) called name, compared without case. On either engine. */
bool bs_sql_has_table(struct bs_conn *conn, const char *name, bool views);

/* The table of the index called index (compared without case) when it
 * is neither not_a nor not_b: 1 with its name in out (cap bytes), 0
 * when there is none, or a negative code. On either engine. */
int bs_sql_index_table(struct bs_conn *conn, const char *index,
                       const char *not_a, const char *not_b, char *out,
                       size_t cap);

/* Runs sql (a statement without parameters) on conn and calls fn with
 * each result row, as bs_rows_json makes it (borrowed: freed after
 * the call). Stops at the first nonzero return of fn and returns it;
 * otherwise 0, BS_ENOMEM, or BS_EDB when the statement fails (the
 * error is logged with what). For callers above the store that read
 * rows without knowing the engine. */
typedef int (*bs_sql_row_fn)(json_object *row, void *user);
int bs_sql_each_row(struct bs_conn *conn, const char *sql, const char *what,
                    bs_sql_row_fn fn, void *user);

#endif
