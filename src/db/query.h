/*
 * query.h - a SQL statement under construction with its bound values.
 *
 * Text is appended piece by piece; every value from a client is added as
 * a parameter (bs_query_param_*) which appends a numbered placeholder
 * "?N" to the text and remembers the value, so user text never becomes
 * SQL. bs_query_prepare compiles and binds in one go.
 */
#ifndef BS_QUERY_H
#define BS_QUERY_H

#include <json-c/json.h>
#include <sqlite3.h>

#include "../base/buf.h"

typedef enum { BS_PARAM_NULL, BS_PARAM_INT, BS_PARAM_REAL, BS_PARAM_TEXT }
    bs_param_type;

typedef struct bs_param {
    bs_param_type type;
    int64_t i;
    double d;
    char *s;   /* owned */
    size_t n;
} bs_param;

typedef struct bs_query {
    bs_buf sql;
    bs_param *params;
    int nparams;
    int cap;
    bool oom;
} bs_query;

void bs_query_init(bs_query *q);
void bs_query_dispose(bs_query *q);

void bs_query_sql(bs_query *q, const char *text);
void bs_query_ident(bs_query *q, const char *name);

/* Each appends "?N" and records the value. */
void bs_query_param_text(bs_query *q, const char *s, size_t n);
void bs_query_param_int(bs_query *q, int64_t v);
void bs_query_param_real(bs_query *q, double v);
void bs_query_param_null(bs_query *q);
/* Adds a value without writing a placeholder; returns its number. */
int bs_query_add_param(bs_query *q, const bs_param *p);

/* Prepares the statement on db and binds every parameter. Returns NULL
 * on failure (the caller logs sqlite3_errmsg(db)). */
sqlite3_stmt *bs_query_prepare(bs_query *q, sqlite3 *db);

/* Like bs_query_prepare through the connection's cache of run-time SQL:
 * reset the statement when done, never finalize it. */
struct bs_conn;
sqlite3_stmt *bs_query_prepare_cached(bs_query *q, struct bs_conn *c);

/* With debug lines on (--dev), writes the statement as one line to
 * stderr: `DEBUG sql WHAT: {"sql":…,"params":[…]}` (bench/sql_direct.c
 * runs it straight through SQLite to compare). */
void bs_query_debug(const bs_query *q, const char *what);

#endif
