/*
 * store_pg.h - the PostgreSQL half of the store and of bs_rows.
 * Internal to src/db: store.c opens these connections for a store on a
 * postgres:// URL, and rows.c hands a bs_rows over to them when its
 * connection is one (see store_pg.c for the design).
 */
#ifndef BS_STORE_PG_H
#define BS_STORE_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "basalt.h"
#include "rows.h"

typedef struct bs_pgconn bs_pgconn;

/* Connects to url. A reader refuses writes and has
 * BS_READ_TIMEOUT_MS as its statement timeout. Returns 0, or BS_EDB with
 * the reason in err (status 500). */
int bs_pgconn_open(const char *url, bool reader, bs_pgconn **out,
                   bs_error *err);
void bs_pgconn_close(bs_pgconn *c);

/* Connects c again when its connection broke (the server restarted).
 * Returns 0, or BS_EDB while the server cannot be reached. A statement
 * on a reader that finds its connection broken, and a BEGIN on the
 * writer, call this and run once more. */
int bs_pgconn_revive(bs_pgconn *c);

/* Asks for the session advisory lock `key` (pg_try_advisory_lock)
 * without waiting: 0 with *held telling whether this connection holds
 * it now (it keeps it until the connection ends), or BS_EDB (the
 * connection is broken or the statement failed). */
int bs_pgconn_try_lock(bs_pgconn *c, int64_t key, bool *held);

/* Counts one hit of key under id in the shared table of rate-limit
 * windows (bs_store_count_hit): 0 with *hits, the hits of the current
 * window of interval seconds at time now, this one included; or
 * BS_EDB. */
int bs_pgconn_count_hit(bs_pgconn *c, const char *id, const char *key,
                        int64_t interval, int64_t now, int64_t *hits);

/* Runs sql (any number of statements, no parameters, rewritten by
 * bs_pg_sql_translate). Returns 0 or BS_EDB with the message kept for
 * bs_pgconn_errmsg. */
int bs_pgconn_exec(bs_pgconn *c, const char *sql);
const char *bs_pgconn_errmsg(const bs_pgconn *c);

/* The bs_rows functions for a row reader on a PostgreSQL connection,
 * with the same contracts as in rows.h. */
int bs_pgrows_open(bs_rows *r, bs_pgconn *c, const char *sql, size_t len);
void bs_pgrows_bind(bs_rows *r, int idx, const char *s, long n);
int bs_pgrows_params(const bs_rows *r);
int bs_pgrows_next(bs_rows *r);
int bs_pgrows_changes(const bs_rows *r);
void bs_pgrows_reset(bs_rows *r);
void bs_pgrows_close(bs_rows *r);
int bs_pgrows_columns(const bs_rows *r);
const char *bs_pgrows_name(const bs_rows *r, int i);
bs_col_type bs_pgrows_type(const bs_rows *r, int i);
const char *bs_pgrows_text(const bs_rows *r, int i, size_t *len);
int64_t bs_pgrows_int(const bs_rows *r, int i);
double bs_pgrows_real(const bs_rows *r, int i);
int bs_pgrows_constraint(const bs_rows *r, bs_constraint *out);

#endif
