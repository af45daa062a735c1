/*
 * pg.c - a PostgreSQL connection through libpq (see pg.h).
 *
 * Statements go through PQexecParams, so every value travels as a
 * parameter; results are held whole (the callers fetch big tables in
 * pieces with a cursor). Notices from the server (such as "relation
 * already exists, skipping") are dropped: the callers report what they
 * did themselves.
 */
#include "pg.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

struct bs_pg {
    PGconn *conn;
};

struct bs_pg_res {
    PGresult *r;
};

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The server's message without its trailing newline, into err unless
 * err is NULL (a failure that follows another, already reported). */
static int fail(bs_error *err, const char *what, const char *message)
{
    size_t n = message ? strlen(message) : 0;
    while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == ' '))
        n--;
    if (err)
        bs_error_set(err, 400, "%s%sPostgreSQL: %.*s", what ? what : "",
                     what ? ": " : "", (int)n, message ? message : "");
    return BS_EDB;
}

int bs_pg_connect(const char *url, bs_pg **out, bs_error *err)
{
    *out = NULL;
    bs_pg *pg = calloc(1, sizeof *pg);
    if (!pg)
        return BS_ENOMEM;
    pg->conn = PQconnectdb(url);
    if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
        int rc = fail(err, "cannot connect",
                      pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
        bs_pg_close(pg);
        return rc;
    }
    PQsetNoticeProcessor(pg->conn, quiet, NULL);
    *out = pg;
    return 0;
}

void bs_pg_close(bs_pg *pg)
{
    if (!pg)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    free(pg);
}

#define MAX_PARAMS 16

int bs_pg_exec(bs_pg *pg, const char *sql, int n, const bs_pg_param *p,
               bool binary, bs_pg_res **out, const char *what,
               bs_error *err)
{
    if (out)
        *out = NULL;
    if (n > MAX_PARAMS)
        return bs_error_set(err, 500, "Too many parameters.");
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    for (int i = 0; i < n; i++) {
        values[i] = p[i].v;
        lengths[i] = p[i].v ? (p[i].len < 0 ? (int)strlen(p[i].v)
                                            : (int)p[i].len)
                            : 0;
        formats[i] = p[i].binary ? 1 : 0;
    }
    PGresult *r = PQexecParams(pg->conn, sql, n, NULL, values, lengths,
                               formats, binary ? 1 : 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = fail(err, what,
                      r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
        PQclear(r);
        return rc;
    }
    if (!out) {
        PQclear(r);
        return 0;
    }
    bs_pg_res *res = malloc(sizeof *res);
    if (!res) {
        PQclear(r);
        return BS_ENOMEM;
    }
    res->r = r;
    *out = res;
    return 0;
}

int bs_pg_exec_script(bs_pg *pg, const char *sql, const char *what,
                      bs_error *err)
{
    PGresult *r = PQexec(pg->conn, sql);
    int rc = 0;
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = fail(err, what,
                  r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
    PQclear(r);
    return rc;
}

int bs_pg_res_rows(const bs_pg_res *r)
{
    return PQntuples(r->r);
}

int bs_pg_res_cols(const bs_pg_res *r)
{
    return PQnfields(r->r);
}

const char *bs_pg_res_value(const bs_pg_res *r, int row, int col,
                            size_t *len)
{
    if (PQgetisnull(r->r, row, col)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = (size_t)PQgetlength(r->r, row, col);
    return PQgetvalue(r->r, row, col);
}

void bs_pg_res_free(bs_pg_res *r)
{
    if (!r)
        return;
    PQclear(r->r);
    free(r);
}

int bs_pg_copy_begin(bs_pg *pg, const char *sql, bs_error *err)
{
    PGresult *r = PQexec(pg->conn, sql);
    int rc = 0;
    if (!r || PQresultStatus(r) != PGRES_COPY_IN)
        rc = fail(err, "COPY",
                  r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
    PQclear(r);
    return rc;
}

int bs_pg_copy_put(bs_pg *pg, const char *data, size_t len, bs_error *err)
{
    while (len > 0) {
        int piece = len > (1 << 20) ? (1 << 20) : (int)len;
        if (PQputCopyData(pg->conn, data, piece) != 1)
            return fail(err, "COPY", PQerrorMessage(pg->conn));
        data += piece;
        len -= (size_t)piece;
    }
    return 0;
}

int bs_pg_copy_end(bs_pg *pg, const char *what, bs_error *err)
{
    if (PQputCopyEnd(pg->conn, NULL) != 1)
        return fail(err, what, PQerrorMessage(pg->conn));
    int rc = 0;
    PGresult *r;
    while ((r = PQgetResult(pg->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
            rc = fail(err, what, PQresultErrorMessage(r));
        PQclear(r);
    }
    return rc;
}
