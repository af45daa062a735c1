/*
 * dialect.c - the SQLite spelling of the filter compiler's SQL, and the
 * binding of a compiled filter's parameters to a SQLite statement.
 *
 * The JSON helpers follow PocketBase's normalizations so that columns
 * holding plain values (a single relation id, a text) behave like
 * one-item arrays, and json_extract on a non-JSON value does not fail.
 */
#include "dialect.h"

#include "../db/sql.h"
#include "filter.h"

static void sqlite_ident(bs_buf *b, const char *name)
{
    bs_sql_ident(b, name);
}

static void sqlite_param(bs_buf *b, int n)
{
    bs_buf_printf(b, "?%d", n);
}

/* Object keys are written quoted ($."key") so that any character other
 * than '"' is taken literally; the compiler only passes keys made of
 * letters, digits and _ @ #, and drops a '"' defensively. */
static void sqlite_json_path(bs_buf *b, const bs_json_step *steps, int n)
{
    for (int i = 0; i < n; i++) {
        if (steps[i].key) {
            bs_buf_puts(b, ".\"");
            for (const char *p = steps[i].key; *p; p++) {
                if (*p != '"')
                    bs_buf_putc(b, *p);
            }
            bs_buf_putc(b, '"');
        } else {
            bs_buf_printf(b, "[%lld]", steps[i].index);
        }
    }
}

static void sqlite_json_extract(bs_buf *b, const char *col, const char *path)
{
    bs_buf_printf(b, "CASE WHEN json_valid(%s) THEN json_extract(%s, ", col,
                  col);
    if (path)
        bs_buf_printf(b, "'$' || %s", path);
    else
        bs_buf_puts(b, "'$'");
    bs_buf_printf(b, ") ELSE json_extract(json_object('pb', %s), ", col);
    if (path)
        bs_buf_printf(b, "'$.pb' || %s", path);
    else
        bs_buf_puts(b, "'$.pb'");
    bs_buf_puts(b, ") END");
}

static void sqlite_json_each(bs_buf *b, const char *col, const char *alias)
{
    bs_buf_printf(b,
                  "json_each(CASE WHEN iif(json_valid(%s), "
                  "json_type(%s) = 'array', FALSE) THEN %s "
                  "ELSE json_array(%s) END) AS ",
                  col, col, col, col);
    bs_sql_ident(b, alias);
}

static void sqlite_json_array_length(bs_buf *b, const char *col)
{
    bs_buf_printf(b,
                  "json_array_length(CASE WHEN iif(json_valid(%s), "
                  "json_type(%s) = 'array', FALSE) THEN %s "
                  "ELSE (CASE WHEN %s = '' OR %s IS NULL THEN json_array() "
                  "ELSE json_array(%s) END) END)",
                  col, col, col, col, col, col);
}

static void sqlite_like(bs_buf *b, const char *left, const char *pattern,
                        bool negate)
{
    bs_buf_printf(b, "%s %sLIKE %s ESCAPE '\\'", left, negate ? "NOT " : "",
                  pattern);
}

static void sqlite_contains_pattern(bs_buf *b, const char *expr)
{
    bs_buf_printf(b, "('%%' || %s || '%%')", expr);
}

static void sqlite_strftime(bs_buf *b, const char *const *args, int n)
{
    bs_buf_puts(b, "strftime(");
    for (int i = 0; i < n; i++) {
        if (i)
            bs_buf_puts(b, ", ");
        bs_buf_puts(b, args[i]);
    }
    bs_buf_putc(b, ')');
}

static void sqlite_random_order(bs_buf *b)
{
    bs_buf_puts(b, "RANDOM()");
}

static void sqlite_rowid(bs_buf *b, const char *alias)
{
    bs_sql_ident(b, alias);
    bs_buf_puts(b, "._rowid_");
}

static const bs_sql_dialect sqlite_dialect = {
    .name = "sqlite",
    .ident = sqlite_ident,
    .param = sqlite_param,
    .json_path = sqlite_json_path,
    .json_extract = sqlite_json_extract,
    .json_each = sqlite_json_each,
    .json_array_length = sqlite_json_array_length,
    .like = sqlite_like,
    .contains_pattern = sqlite_contains_pattern,
    .strftime = sqlite_strftime,
    .random_order = sqlite_random_order,
    .rowid = sqlite_rowid,
    .one_row = "(SELECT 1)",
    .is_same = "IS",
    .is_distinct = "IS NOT",
    .true_lit = "1",
    .false_lit = "0",
    .as_text = NULL,
    .asc = "ASC",
    .desc = "DESC",
};

const bs_sql_dialect *bs_sql_dialect_sqlite(void)
{
    return &sqlite_dialect;
}

int bs_filter_bind(const bs_filter_sql *sql, sqlite3_stmt *st)
{
    int max = sqlite3_bind_parameter_count(st);
    for (int i = 0; i < sql->nparams; i++) {
        int idx = sql->first_param + i;
        if (idx > max)
            break;
        const bs_filter_value *v = &sql->params[i];
        int rc;
        switch (v->type) {
        case BS_FILTER_INT:
            rc = sqlite3_bind_int64(st, idx, v->i);
            break;
        case BS_FILTER_REAL:
            rc = sqlite3_bind_double(st, idx, v->d);
            break;
        case BS_FILTER_TEXT:
            rc = sqlite3_bind_text(st, idx, v->s, (int)v->n, SQLITE_TRANSIENT);
            break;
        default:
            rc = sqlite3_bind_null(st, idx);
            break;
        }
        if (rc != SQLITE_OK)
            return BS_EDB;
    }
    return 0;
}
