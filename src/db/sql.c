/*
 * sql.c - SQL text helpers for SQLite.
 */
#include "sql.h"

#include <string.h>

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
