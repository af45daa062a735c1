/*
 * rows.h - statements and the rows they return, without naming the engine.
 *
 * The layers above the store run SQL through this API only: open a
 * bs_rows on a connection (from SQL text or a bs_query), bind values,
 * step with bs_rows_next and read the current row's columns by index or
 * by name, then bs_rows_close. A bs_rows is embedded by its user
 * (usually on the stack) and reading a row allocates nothing: text is
 * borrowed from the engine until the next step or the close.
 *
 * How a statement is kept is chosen when it is opened:
 *  - BS_ROWS_ONCE: prepared for this use and finalized by bs_rows_close;
 *  - BS_ROWS_FIXED: SQL text that stays valid (a literal), kept in the
 *    connection's cache of fixed statements;
 *  - BS_ROWS_CACHED: SQL built at run time, kept in the connection's
 *    cache of recent statements (bs_conn_prepare_dyn).
 * Cached statements are reset, not finalized, by bs_rows_close.
 *
 * A failing statement returns BS_EDB, or BS_ECONSTRAINT when it broke a
 * constraint; bs_rows_constraint then names the table and column, and
 * bs_rows_errmsg has the engine's message for logs. Everything here is
 * used on the thread that holds the connection.
 */
#ifndef BS_ROWS_H
#define BS_ROWS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basalt.h"

struct bs_conn;
struct bs_query;
struct sqlite3_stmt;
struct bs_pgrows;

typedef enum { BS_ROWS_ONCE, BS_ROWS_FIXED, BS_ROWS_CACHED } bs_rows_keep;

/* The type of a column's value in the current row. */
typedef enum {
    BS_COL_NULL,
    BS_COL_INT,
    BS_COL_REAL,
    BS_COL_TEXT,
    BS_COL_BLOB
} bs_col_type;

/* A result being read. The fields are private to src/db. */
typedef struct bs_rows {
    struct sqlite3_stmt *st;
    struct bs_pgrows *pg; /* on a PostgreSQL connection instead of st */
    struct bs_conn *conn;
    bs_rows_keep keep;
    int last; /* the engine's code of the last step */
} bs_rows;

/* Opens r on conn for len bytes of sql (len -1: up to the NUL; for
 * BS_ROWS_FIXED the text must stay valid as long as the connection).
 * Returns 0, BS_ENOMEM or BS_EDB (see bs_conn_errmsg). r may be closed
 * in every case. */
int bs_rows_open(bs_rows *r, struct bs_conn *conn, const char *sql,
                 long len, bs_rows_keep keep);

/* Opens r on the query's text and binds its parameters (which must
 * outlive the reading of r). keep is BS_ROWS_ONCE or BS_ROWS_CACHED. */
int bs_rows_open_query(bs_rows *r, struct bs_conn *conn,
                       struct bs_query *q, bs_rows_keep keep);

/* Binds parameter idx (from 1) before the first bs_rows_next. Text is
 * copied (n -1: up to the NUL; NULL binds NULL). */
void bs_rows_bind_text(bs_rows *r, int idx, const char *s, long n);
void bs_rows_bind_int(bs_rows *r, int idx, int64_t v);
void bs_rows_bind_real(bs_rows *r, int idx, double v);
void bs_rows_bind_null(bs_rows *r, int idx);
/* The number of parameters the statement takes. */
int bs_rows_params(const bs_rows *r);

/* Steps to the next row: 1 on a row, 0 when done, BS_ECONSTRAINT or
 * BS_EDB on failure. */
int bs_rows_next(bs_rows *r);

/* Steps to the end for a statement without rows (or whose rows are not
 * wanted). Returns the number of rows it changed, or BS_ECONSTRAINT or
 * BS_EDB. */
int bs_rows_exec(bs_rows *r);

/* Resets r for another run with other bindings (which are cleared). */
void bs_rows_reset(bs_rows *r);

/* Resets or finalizes the statement. Safe on a failed open and twice. */
void bs_rows_close(bs_rows *r);

/* ---- the current row ---------------------------------------------------
 * Column i counts from 0. Text is borrowed until the next step or close;
 * a NULL value reads as NULL text, 0 and 0.0. */
int bs_rows_columns(const bs_rows *r);
const char *bs_rows_name(const bs_rows *r, int i);
/* The index of the column called name, or -1. */
int bs_rows_index(const bs_rows *r, const char *name);
bs_col_type bs_rows_type(const bs_rows *r, int i);
bool bs_rows_is_null(const bs_rows *r, int i);
/* The text of column i and its length in bytes (len may be NULL). */
const char *bs_rows_text(const bs_rows *r, int i, size_t *len);
int64_t bs_rows_int(const bs_rows *r, int i);
double bs_rows_real(const bs_rows *r, int i);
/* The same by column name; a missing column reads as NULL. */
const char *bs_rows_text_named(const bs_rows *r, const char *name,
                               size_t *len);
int64_t bs_rows_int_named(const bs_rows *r, const char *name);

/* The current row as a json object keyed by column name: integers and
 * reals as numbers, text and blobs as strings, NULL as null. New
 * reference, or NULL when out of memory. */
json_object *bs_rows_json(const bs_rows *r);

/* ---- failures ----------------------------------------------------------- */

typedef enum {
    BS_CONSTRAINT_OTHER,
    BS_CONSTRAINT_UNIQUE,
    BS_CONSTRAINT_NOTNULL,
    BS_CONSTRAINT_CHECK,
    BS_CONSTRAINT_FOREIGNKEY
} bs_constraint_kind;

/* Which constraint a statement broke. For a UNIQUE index over several
 * columns, column is the first of them. Empty strings when unknown. */
typedef struct bs_constraint {
    bs_constraint_kind kind;
    char table[128];
    char column[128];
} bs_constraint;

/* After BS_ECONSTRAINT from r, fills out and returns 0; otherwise
 * returns BS_ENOTFOUND. */
int bs_rows_constraint(const bs_rows *r, bs_constraint *out);

/* The engine's message for the last failure on r's connection. */
const char *bs_rows_errmsg(const bs_rows *r);
const char *bs_conn_errmsg(struct bs_conn *conn);

/* ---- helpers ------------------------------------------------------------ */

/* Runs one statement of sql (BS_ROWS_ONCE), ignoring any rows: 0 or a
 * negative code, with the engine's message copied into msg (cap bytes)
 * on failure. Text after the statement other than spaces and ';' is an
 * error: multiple statements are not supported. */
int bs_conn_exec1(struct bs_conn *conn, const char *sql, char *msg,
                  size_t cap);

/* Runs sql (len and keep as for bs_rows_open) with arg bound to ?1 when
 * not NULL, and reads the first column of its first row as an integer
 * into *out (left alone without a row). Returns 1 with a row, 0 without,
 * or a negative code. For counts and existence tests. */
int bs_conn_query_int(struct bs_conn *conn, const char *sql, long len,
                      bs_rows_keep keep, const char *arg, int64_t *out);

#endif
