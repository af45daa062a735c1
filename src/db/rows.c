/*
 * rows.c - the row reader over SQLite statements.
 *
 * A bs_rows is a thin wrapper of one sqlite3_stmt and the connection it
 * belongs to; the engine's codes become BS_E* codes here, and a broken
 * constraint is recognised by SQLite's extended result code and read
 * back from its message ("UNIQUE constraint failed: t.col"), so no
 * layer above has to know either.
 *
 * On a PostgreSQL connection the same calls go to store_pg.c: each
 * function tests r->pg (NULL for SQLite) once, so SQLite's path costs
 * one branch that always goes the same way.
 */
#include "rows.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"
#include "conn.h"
#include "query.h"
#include "store.h"
#include "store_pg.h"

static int step_code(bs_rows *r, int step)
{
    r->last = step;
    if (step == SQLITE_ROW)
        return 1;
    if (step == SQLITE_DONE)
        return 0;
    if ((step & 0xff) == SQLITE_CONSTRAINT)
        return BS_ECONSTRAINT;
    if ((step & 0xff) == SQLITE_NOMEM)
        return BS_ENOMEM;
    return BS_EDB;
}

int bs_rows_open(bs_rows *r, bs_conn *conn, const char *sql, long len,
                 bs_rows_keep keep)
{
    r->st = NULL;
    r->pg = NULL;
    r->conn = conn;
    r->keep = keep;
    r->last = SQLITE_OK;
    size_t n = len < 0 ? strlen(sql) : (size_t)len;
    if (conn->pg)
        return bs_pgrows_open(r, conn->pg, sql, n);
    switch (keep) {
    case BS_ROWS_ONCE:
        r->last = sqlite3_prepare_v2(bs_conn_db(conn), sql, (int)n, &r->st,
                                     NULL);
        break;
    case BS_ROWS_FIXED:
        r->st = bs_conn_prepare(conn, sql);
        break;
    case BS_ROWS_CACHED:
        r->st = bs_conn_prepare_dyn(conn, sql, n);
        break;
    }
    if (r->st)
        return 0;
    if (r->last == SQLITE_OK)
        r->last = SQLITE_ERROR;
    return r->last == SQLITE_NOMEM ? BS_ENOMEM : BS_EDB;
}

/* A query on PostgreSQL: its text rewritten, its values bound as text. */
static int open_query_pg(bs_rows *r, bs_conn *conn, bs_query *q)
{
    if (q->oom || q->sql.oom)
        return BS_ENOMEM;
    r->st = NULL;
    int rc = bs_pgrows_open(r, conn->pg, q->sql.data, q->sql.len);
    for (int i = 0; rc == 0 && i < q->nparams; i++) {
        const bs_param *p = &q->params[i];
        switch (p->type) {
        case BS_PARAM_NULL:
            bs_rows_bind_null(r, i + 1);
            break;
        case BS_PARAM_INT:
            bs_rows_bind_int(r, i + 1, p->i);
            break;
        case BS_PARAM_REAL:
            bs_rows_bind_real(r, i + 1, p->d);
            break;
        case BS_PARAM_TEXT:
            bs_rows_bind_text(r, i + 1, p->s, (long)p->n);
            break;
        }
    }
    return rc;
}

int bs_rows_open_query(bs_rows *r, bs_conn *conn, bs_query *q,
                       bs_rows_keep keep)
{
    r->conn = conn;
    r->keep = keep;
    r->last = SQLITE_OK;
    r->pg = NULL;
    if (conn->pg)
        return open_query_pg(r, conn, q);
    r->st = keep == BS_ROWS_CACHED ? bs_query_prepare_cached(q, conn)
                                   : bs_query_prepare(q, bs_conn_db(conn));
    if (r->st)
        return 0;
    r->last = SQLITE_ERROR;
    return q->oom || q->sql.oom ? BS_ENOMEM : BS_EDB;
}

void bs_rows_bind_text(bs_rows *r, int idx, const char *s, long n)
{
    if (r->pg) {
        bs_pgrows_bind(r, idx, s, n);
        return;
    }
    if (!s)
        sqlite3_bind_null(r->st, idx);
    else
        sqlite3_bind_text(r->st, idx, s, (int)n, SQLITE_TRANSIENT);
}

void bs_rows_bind_int(bs_rows *r, int idx, int64_t v)
{
    if (r->pg) {
        char t[24];
        snprintf(t, sizeof t, "%lld", (long long)v);
        bs_pgrows_bind(r, idx, t, -1);
        return;
    }
    sqlite3_bind_int64(r->st, idx, v);
}

void bs_rows_bind_real(bs_rows *r, int idx, double v)
{
    if (r->pg) {
        bs_buf t;
        bs_buf_init(&t);
        bs_buf_real(&t, v);
        bs_pgrows_bind(r, idx, t.oom ? "0" : t.data, t.oom ? 1 : (long)t.len);
        bs_buf_dispose(&t);
        return;
    }
    sqlite3_bind_double(r->st, idx, v);
}

void bs_rows_bind_null(bs_rows *r, int idx)
{
    if (r->pg) {
        bs_pgrows_bind(r, idx, NULL, 0);
        return;
    }
    sqlite3_bind_null(r->st, idx);
}

int bs_rows_params(const bs_rows *r)
{
    if (r->pg)
        return bs_pgrows_params(r);
    return r->st ? sqlite3_bind_parameter_count(r->st) : 0;
}

int bs_rows_next(bs_rows *r)
{
    if (r->pg)
        return bs_pgrows_next(r);
    if (!r->st)
        return BS_EDB;
    return step_code(r, sqlite3_step(r->st));
}

int bs_rows_exec(bs_rows *r)
{
    int rc;
    while ((rc = bs_rows_next(r)) == 1)
        ;
    if (rc < 0)
        return rc;
    if (r->pg)
        return bs_pgrows_changes(r);
    return sqlite3_changes(bs_conn_db(r->conn));
}

void bs_rows_reset(bs_rows *r)
{
    if (r->pg) {
        bs_pgrows_reset(r);
        return;
    }
    if (!r->st)
        return;
    sqlite3_reset(r->st);
    sqlite3_clear_bindings(r->st);
}

void bs_rows_close(bs_rows *r)
{
    if (r->pg) {
        bs_pgrows_close(r);
        return;
    }
    if (!r->st)
        return;
    if (r->keep == BS_ROWS_ONCE)
        sqlite3_finalize(r->st);
    else
        sqlite3_reset(r->st);
    r->st = NULL;
}

int bs_rows_columns(const bs_rows *r)
{
    if (r->pg)
        return bs_pgrows_columns(r);
    return sqlite3_column_count(r->st);
}

const char *bs_rows_name(const bs_rows *r, int i)
{
    if (r->pg)
        return bs_pgrows_name(r, i);
    return sqlite3_column_name(r->st, i);
}

int bs_rows_index(const bs_rows *r, const char *name)
{
    if (r->pg) {
        int n = bs_pgrows_columns(r);
        for (int i = 0; i < n; i++) {
            if (strcmp(bs_pgrows_name(r, i), name) == 0)
                return i;
        }
        return -1;
    }
    int n = sqlite3_column_count(r->st);
    for (int i = 0; i < n; i++) {
        if (strcmp(sqlite3_column_name(r->st, i), name) == 0)
            return i;
    }
    return -1;
}

bs_col_type bs_rows_type(const bs_rows *r, int i)
{
    if (r->pg)
        return bs_pgrows_type(r, i);
    switch (sqlite3_column_type(r->st, i)) {
    case SQLITE_INTEGER: return BS_COL_INT;
    case SQLITE_FLOAT: return BS_COL_REAL;
    case SQLITE_TEXT: return BS_COL_TEXT;
    case SQLITE_BLOB: return BS_COL_BLOB;
    }
    return BS_COL_NULL;
}

bool bs_rows_is_null(const bs_rows *r, int i)
{
    if (r->pg)
        return bs_pgrows_type(r, i) == BS_COL_NULL;
    return sqlite3_column_type(r->st, i) == SQLITE_NULL;
}

const char *bs_rows_text(const bs_rows *r, int i, size_t *len)
{
    if (r->pg)
        return bs_pgrows_text(r, i, len);
    const char *t = (const char *)sqlite3_column_text(r->st, i);
    if (len)
        *len = t ? (size_t)sqlite3_column_bytes(r->st, i) : 0;
    return t;
}

int64_t bs_rows_int(const bs_rows *r, int i)
{
    if (r->pg)
        return bs_pgrows_int(r, i);
    return sqlite3_column_int64(r->st, i);
}

double bs_rows_real(const bs_rows *r, int i)
{
    if (r->pg)
        return bs_pgrows_real(r, i);
    return sqlite3_column_double(r->st, i);
}

const char *bs_rows_text_named(const bs_rows *r, const char *name,
                               size_t *len)
{
    int i = bs_rows_index(r, name);
    if (i < 0) {
        if (len)
            *len = 0;
        return NULL;
    }
    return bs_rows_text(r, i, len);
}

int64_t bs_rows_int_named(const bs_rows *r, const char *name)
{
    int i = bs_rows_index(r, name);
    return i < 0 ? 0 : bs_rows_int(r, i);
}

/* bs_rows_json for a row of PostgreSQL. */
static json_object *json_pg(const bs_rows *r, json_object *o)
{
    int n = bs_pgrows_columns(r);
    for (int i = 0; i < n; i++) {
        json_object *v = NULL;
        size_t len;
        switch (bs_pgrows_type(r, i)) {
        case BS_COL_INT:
            v = json_object_new_int64(bs_pgrows_int(r, i));
            break;
        case BS_COL_REAL:
            v = json_object_new_double(bs_pgrows_real(r, i));
            break;
        case BS_COL_NULL:
            break;
        default: {
            const char *t = bs_pgrows_text(r, i, &len);
            v = json_object_new_string_len(t, (int)len);
        }
        }
        json_object_object_add(o, bs_pgrows_name(r, i), v);
    }
    return o;
}

json_object *bs_rows_json(const bs_rows *r)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (r->pg)
        return json_pg(r, o);
    int n = sqlite3_column_count(r->st);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(r->st, i);
        json_object *v = NULL;
        switch (sqlite3_column_type(r->st, i)) {
        case SQLITE_INTEGER:
            v = json_object_new_int64(sqlite3_column_int64(r->st, i));
            break;
        case SQLITE_FLOAT:
            v = json_object_new_double(sqlite3_column_double(r->st, i));
            break;
        case SQLITE_NULL:
            v = NULL;
            break;
        default:
            v = json_object_new_string_len(
                (const char *)sqlite3_column_text(r->st, i),
                sqlite3_column_bytes(r->st, i));
        }
        json_object_object_add(o, name, v);
    }
    return o;
}

/* Copies the text up to the first of stop (or the end) into out. */
static const char *copy_until(const char *p, const char *stop, char *out,
                              size_t cap)
{
    size_t n = strcspn(p, stop);
    size_t k = n < cap ? n : cap - 1;
    memcpy(out, p, k);
    out[k] = '\0';
    return p + n;
}

int bs_rows_constraint(const bs_rows *r, bs_constraint *out)
{
    if (r->pg)
        return bs_pgrows_constraint(r, out);
    memset(out, 0, sizeof *out);
    if ((r->last & 0xff) != SQLITE_CONSTRAINT)
        return BS_ENOTFOUND;
    sqlite3 *db = bs_conn_db(r->conn);
    switch (sqlite3_extended_errcode(db)) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        out->kind = BS_CONSTRAINT_UNIQUE;
        break;
    case SQLITE_CONSTRAINT_NOTNULL:
        out->kind = BS_CONSTRAINT_NOTNULL;
        break;
    case SQLITE_CONSTRAINT_CHECK:
        out->kind = BS_CONSTRAINT_CHECK;
        break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        out->kind = BS_CONSTRAINT_FOREIGNKEY;
        break;
    default:
        out->kind = BS_CONSTRAINT_OTHER;
    }
    /* "UNIQUE constraint failed: t.a, t.b", "NOT NULL constraint
     * failed: t.a", "CHECK constraint failed: name". */
    const char *msg = sqlite3_errmsg(db);
    const char *p = msg ? strstr(msg, "constraint failed: ") : NULL;
    if (!p)
        return 0;
    p += strlen("constraint failed: ");
    if (out->kind == BS_CONSTRAINT_UNIQUE ||
        out->kind == BS_CONSTRAINT_NOTNULL) {
        p = copy_until(p, ".", out->table, sizeof out->table);
        if (*p == '.')
            copy_until(p + 1, ", ", out->column, sizeof out->column);
        else
            out->table[0] = '\0';
    }
    return 0;
}

const char *bs_conn_errmsg(bs_conn *conn)
{
    if (conn->pg)
        return bs_pgconn_errmsg(conn->pg);
    return sqlite3_errmsg(bs_conn_db(conn));
}

const char *bs_rows_errmsg(const bs_rows *r)
{
    return bs_conn_errmsg(r->conn);
}

int bs_conn_exec1(bs_conn *conn, const char *sql, char *msg, size_t cap)
{
    if (conn->pg) {
        bs_rows pr;
        int prc = bs_rows_open(&pr, conn, sql, -1, BS_ROWS_ONCE);
        if (prc == 0)
            prc = bs_rows_exec(&pr);
        if (prc < 0)
            snprintf(msg, cap, "%s", bs_pgconn_errmsg(conn->pg));
        bs_rows_close(&pr);
        return prc < 0 ? BS_EDB : 0;
    }
    sqlite3 *db = bs_conn_db(conn);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, &tail);
    if (rc != SQLITE_OK) {
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
        return BS_EDB;
    }
    while (tail && isspace((unsigned char)*tail))
        tail++;
    if (tail && *tail && *tail != ';') {
        sqlite3_finalize(st);
        snprintf(msg, cap, "multiple statements are not supported");
        return BS_EDB;
    }
    bs_rows r = {.st = st, .pg = NULL, .conn = conn, .keep = BS_ROWS_ONCE};
    rc = st ? bs_rows_exec(&r) : 0;
    if (rc < 0)
        snprintf(msg, cap, "%s", sqlite3_errmsg(db));
    bs_rows_close(&r);
    return rc < 0 ? BS_EDB : 0;
}

int bs_conn_query_int(bs_conn *conn, const char *sql, long len,
                      bs_rows_keep keep, const char *arg, int64_t *out)
{
    bs_rows r;
    int rc = bs_rows_open(&r, conn, sql, len, keep);
    if (rc == 0) {
        if (arg)
            bs_rows_bind_text(&r, 1, arg, -1);
        rc = bs_rows_next(&r);
        if (rc == 1)
            *out = bs_rows_int(&r, 0);
    }
    bs_rows_close(&r);
    return rc;
}
