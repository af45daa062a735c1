/*
 * sql.c - SQL text helpers for SQLite.
 */
#include "sql.h"

#include "store.h"

#include <string.h>

#include "../base/util.h"

void bs_sql_ident(bs_buf *b, const char *name)
{
    bs_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            bs_buf_putc(b, '"');
        bs_buf_putc(b, *p);
    }
    bs_buf_putc(b, '"');
}

json_object *bs_sql_row_json(sqlite3_stmt *st)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        json_object *v = NULL;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            v = json_object_new_int64(sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            v = json_object_new_double(sqlite3_column_double(st, i));
            break;
        case SQLITE_NULL:
            v = NULL;
            break;
        default:
            v = json_object_new_string_len(
                (const char *)sqlite3_column_text(st, i),
                sqlite3_column_bytes(st, i));
        }
        json_object_object_add(o, name, v);
    }
    return o;
}

int bs_sql_select_by_id(struct bs_conn *conn, const char *table,
                        const char *id, sqlite3_stmt **out)
{
    *out = NULL;
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "SELECT * FROM ");
    bs_sql_ident(&sql, table);
    bs_buf_puts(&sql, " WHERE id = ?1 LIMIT 1");
    sqlite3_stmt *st =
        sql.oom ? NULL : bs_conn_prepare_dyn(conn, sql.data, sql.len);
    bs_buf_dispose(&sql);
    if (!st)
        return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW)
        sqlite3_reset(st);
    else
        *out = st;
    return step;
}

int bs_sql_each_row(struct bs_conn *conn, const char *sql, const char *what,
                    bs_sql_row_fn fn, void *user)
{
    sqlite3 *db = bs_conn_db(conn);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        bs_log('E', "%s: %s", what, sqlite3_errmsg(db));
        return BS_EDB;
    }
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        json_object *row = bs_sql_row_json(st);
        if (!row) {
            rc = BS_ENOMEM;
            break;
        }
        rc = fn(row, user);
        json_object_put(row);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE) {
        bs_log('E', "%s: %s", what, sqlite3_errmsg(db));
        rc = BS_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}
