/*
 * sql.c - SQL text helpers for SQLite, read through bs_rows.
 */
#include "sql.h"

#include "store.h"

#include <stdio.h>
#include <string.h>

#include "../base/util.h"

void bs_sql_ident(bs_buf *b, const char *name)
{
    bs_buf_putc(b, '"');
    /* Runs without a quote are copied whole; each quote is doubled. */
    const char *q;
    while ((q = strchr(name, '"')) != NULL) {
        bs_buf_append(b, name, (size_t)(q - name) + 1);
        bs_buf_putc(b, '"');
        name = q + 1;
    }
    bs_buf_puts(b, name);
    bs_buf_putc(b, '"');
}

int bs_sql_select_by_id(struct bs_conn *conn, const char *table,
                        const char *id, bs_rows *rows)
{
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "SELECT * FROM ");
    bs_sql_ident(&sql, table);
    bs_buf_puts(&sql, " WHERE id = ?1 LIMIT 1");
    rows->st = NULL;
    rows->pg = NULL;
    int rc = sql.oom ? BS_ENOMEM
                     : bs_rows_open(rows, conn, sql.data, (long)sql.len,
                                    BS_ROWS_CACHED);
    bs_buf_dispose(&sql);
    if (rc)
        return rc;
    bs_rows_bind_text(rows, 1, id, -1);
    return bs_rows_next(rows);
}

bool bs_sql_has_table(struct bs_conn *conn, const char *name, bool views)
{
    int64_t one = 0;
    const char *sql;
    if (bs_conn_is_pg(conn))
        sql = views ? "SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace = "
                      "current_schema()::regnamespace AND relkind IN "
                      "('r', 'p', 'v') AND lower(relname) = lower(?1)"
                    : "SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace = "
                      "current_schema()::regnamespace AND relkind IN "
                      "('r', 'p') AND lower(relname) = lower(?1)";
    else
        sql = views ? "SELECT 1 FROM sqlite_master WHERE type IN "
                      "('table','view') AND LOWER(name) = LOWER(?1)"
                    : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                      "LOWER(name) = LOWER(?1)";
    return bs_conn_query_int(conn, sql, -1, BS_ROWS_FIXED, name, &one) == 1;
}

int bs_sql_index_table(struct bs_conn *conn, const char *index,
                       const char *not_a, const char *not_b, char *out,
                       size_t cap)
{
    const char *sql =
        bs_conn_is_pg(conn)
            ? "SELECT tablename FROM pg_catalog.pg_indexes WHERE schemaname = "
              "current_schema() AND lower(tablename) != lower(?1) AND "
              "lower(tablename) != lower(?2) AND lower(indexname) = "
              "lower(?3) LIMIT 1"
            : "SELECT tbl_name FROM sqlite_master WHERE type = 'index' "
              "AND LOWER(tbl_name) != LOWER(?1) AND LOWER(tbl_name) != "
              "LOWER(?2) AND LOWER(name) = LOWER(?3) LIMIT 1";
    bs_rows st;
    int rc = bs_rows_open(&st, conn, sql, -1, BS_ROWS_ONCE);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, not_a, -1);
        bs_rows_bind_text(&st, 2, not_b, -1);
        bs_rows_bind_text(&st, 3, index, -1);
        rc = bs_rows_next(&st);
        if (rc == 1) {
            const char *t = bs_rows_text(&st, 0, NULL);
            snprintf(out, cap, "%s", t ? t : "");
        }
    }
    bs_rows_close(&st);
    return rc;
}

int bs_sql_each_row(struct bs_conn *conn, const char *sql, const char *what,
                    bs_sql_row_fn fn, void *user)
{
    bs_rows rows;
    int rc = bs_rows_open(&rows, conn, sql, -1, BS_ROWS_ONCE);
    if (rc) {
        bs_log('E', "%s: %s", what, bs_conn_errmsg(conn));
        bs_rows_close(&rows);
        return rc == BS_ENOMEM ? rc : BS_EDB;
    }
    int step;
    while ((step = bs_rows_next(&rows)) == 1) {
        json_object *row = bs_rows_json(&rows);
        if (!row) {
            rc = BS_ENOMEM;
            break;
        }
        rc = fn(row, user);
        json_object_put(row);
        if (rc)
            break;
    }
    if (!rc && step < 0) {
        bs_log('E', "%s: %s", what, bs_conn_errmsg(conn));
        rc = BS_EDB;
    }
    bs_rows_close(&rows);
    return rc;
}
