/*
 * pg.h - a PostgreSQL connection through libpq, for the tools that move
 * data between SQLite and PostgreSQL (src/core/pg_transfer.c).
 *
 * This is the one module that names libpq. It keeps to what those tools
 * need: run a statement with bound parameters and read its rows as text
 * (or raw bytes), and stream rows into a table with COPY. Values are
 * always sent as parameters or COPY data, never written into SQL text.
 * A connection is used by one thread at a time.
 */
#ifndef BS_PG_H
#define BS_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "basalt.h"

typedef struct bs_pg bs_pg;
typedef struct bs_pg_res bs_pg_res;

/* One parameter: len bytes of v (len -1: up to the NUL), or SQL NULL
 * when v is NULL. binary sends the bytes as they are (for bytea);
 * otherwise they are the value's text. */
typedef struct bs_pg_param {
    const char *v;
    long len;
    bool binary;
} bs_pg_param;

/* Connects to url (postgres://... or a libpq keyword string). Returns 0
 * with *out set, or BS_EDB with the server's message in err (status 400).
 * Free with bs_pg_close. */
int bs_pg_connect(const char *url, bs_pg **out, bs_error *err);
void bs_pg_close(bs_pg *pg);

/* Runs one statement with n parameters ($1...). With out, the result is
 * returned (free it with bs_pg_res_free); binary asks for the columns'
 * raw bytes instead of their text. Returns 0 or BS_EDB with the server's
 * message in err, prefixed by what when not NULL. */
int bs_pg_exec(bs_pg *pg, const char *sql, int n, const bs_pg_param *p,
               bool binary, bs_pg_res **out, const char *what,
               bs_error *err);

/* Runs sql, which may hold several statements and takes no parameters
 * (fixed DDL such as the filter dialect's helper functions). Returns 0
 * or BS_EDB as bs_pg_exec. */
int bs_pg_exec_script(bs_pg *pg, const char *sql, const char *what,
                      bs_error *err);

int bs_pg_res_rows(const bs_pg_res *r);
int bs_pg_res_cols(const bs_pg_res *r);
/* The value of a cell (NUL-terminated; len may be NULL), borrowed until
 * the result is freed. NULL for SQL NULL. */
const char *bs_pg_res_value(const bs_pg_res *r, int row, int col,
                            size_t *len);
void bs_pg_res_free(bs_pg_res *r);

/* COPY ... FROM STDIN: begin with the COPY statement, send data in the
 * text format in pieces of any size, then end. A failed put or end
 * returns BS_EDB with the server's message; the transaction is then
 * aborted. err may be NULL for an end that follows a failure already
 * reported. */
int bs_pg_copy_begin(bs_pg *pg, const char *sql, bs_error *err);
int bs_pg_copy_put(bs_pg *pg, const char *data, size_t len, bs_error *err);
int bs_pg_copy_end(bs_pg *pg, const char *what, bs_error *err);

#endif
