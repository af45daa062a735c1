/*
 * dialect.h - the SQL spelling the filter compiler needs from an engine.
 *
 * The compiler never writes engine-specific SQL itself: identifier
 * quoting, placeholders, JSON access, LIKE with its escape character,
 * date formatting and random order all go through one of these tables:
 * SQLite's (dialect.c) and PostgreSQL's (dialect_pg.c).
 *
 * Every function appends to b. Arguments named `col` or `expr` are SQL
 * expressions already written by the compiler (quoted identifiers,
 * placeholders), never user text.
 */
#ifndef BS_FILTER_DIALECT_H
#define BS_FILTER_DIALECT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "../base/buf.h"

/* One step of a JSON path: an object key or an array index. */
typedef struct bs_json_step {
    const char *key;    /* NULL for an index step */
    long long index;
} bs_json_step;

typedef struct bs_sql_dialect {
    const char *name;

    /* A quoted identifier (table, alias or column name). */
    void (*ident)(bs_buf *b, const char *name);

    /* The placeholder of bound parameter number n (1-based). */
    void (*param)(bs_buf *b, int n);

    /* The value to bind for a JSON path made of steps, as consumed by
     * json_extract's path argument. */
    void (*json_path)(bs_buf *b, const bs_json_step *steps, int n);

    /* The JSON value at path (an expression, usually a placeholder bound
     * to a json_path value; NULL for the whole document) inside col, which
     * may also hold a plain non-JSON value (then only the root path finds
     * it). A missing value is NULL. */
    void (*json_extract)(bs_buf *b, const char *col, const char *path);

    /* A table expression, aliased as alias, whose rows carry one column
     * "value": the items of col when it holds a JSON array, otherwise
     * col itself as a single row. */
    void (*json_each)(bs_buf *b, const char *col, const char *alias);

    /* The number of items of col: its array length when it holds a JSON
     * array, 0 when it is NULL or '', otherwise 1. */
    void (*json_array_length)(bs_buf *b, const char *col);

    /* `left LIKE pattern` (or NOT LIKE), case-insensitive for ASCII,
     * with backslash as the escape character. */
    void (*like)(bs_buf *b, const char *left, const char *pattern,
                 bool negate);

    /* A LIKE pattern matching any text that contains the value of expr
     * (used when the right side of ~ is a column, not a literal). */
    void (*contains_pattern)(bs_buf *b, const char *expr);

    /* strftime(format, value, modifiers...) as SQLite defines it. */
    void (*strftime)(bs_buf *b, const char *const *args, int n);

    /* An ORDER BY term in random order. */
    void (*random_order)(bs_buf *b);

    /* The engine's row id of the table aliased as alias. */
    void (*rowid)(bs_buf *b, const char *alias);

    /* A table expression with exactly one row, to start a FROM clause
     * made of LEFT JOINs only; the compiler aliases it. */
    const char *one_row;

    /* The operators "is the same value as" and "is not the same value
     * as", for which NULL is a value like any other. */
    const char *is_same;
    const char *is_distinct;

    /* The SQL of the filter literals true and false. */
    const char *true_lit;
    const char *false_lit;

    /* The expression expr as text, for the equality forms that compare
     * it with '' or fall back to '' for NULL (see expr.c); NULL when the
     * engine compares any value with text as it is. */
    void (*as_text)(bs_buf *b, const char *expr);

    /* The directions of a sort term, with NULL first when ascending. */
    const char *asc;
    const char *desc;
} bs_sql_dialect;

/* SQLite 3.38 or newer (JSON functions and iif built in). */
const bs_sql_dialect *bs_sql_dialect_sqlite(void);

/* PostgreSQL 15 over the column mapping of docs/scale.md. Its SQL calls
 * helper functions that bs_sql_dialect_postgres_setup() creates. */
const bs_sql_dialect *bs_sql_dialect_postgres(void);

/* The SQL that creates the PostgreSQL dialect's helper functions in a
 * database (idempotent: CREATE OR REPLACE), run once by whoever sets up
 * the database, before any compiled filter runs. */
const char *bs_sql_dialect_postgres_setup(void);

/* The text that a PostgreSQL statement receives for a filter parameter
 * v (sent untyped, so that the server infers its type from where it is
 * used, much as SQLite applies a column's affinity): numbers in decimal,
 * text as it is. NULL for a NULL parameter. The result is valid until
 * the next call with the same buf, which the caller disposes of. */
struct bs_filter_value;
const char *bs_filter_pg_param(const struct bs_filter_value *v, bs_buf *buf);

/* The type to declare for parameter $n of the statement sql: 0 (let the
 * server infer it) when sql uses it, else 25 (text). The compiler can
 * keep a parameter it no longer needs (an empty literal written as ''),
 * and PostgreSQL refuses a parameter of unknown type that nothing
 * uses. */
unsigned bs_filter_pg_param_type(const char *sql, int n);

/* Binds the parameters of a finished filter query (filter.h) to st,
 * a statement of the SQLite engine (copies of the text, so the query may
 * be freed before st runs). Placeholders beyond the statement's last one
 * are skipped. Returns 0 or BS_EDB. */
struct bs_filter_sql;
int bs_filter_bind(const struct bs_filter_sql *sql, sqlite3_stmt *st);

#endif
