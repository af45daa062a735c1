/*
 * db_api.c - SQL for programs that embed Basalt, without the engine.
 *
 * A program runs its own SQL with {:name} placeholders (the spelling of
 * PocketBase's dbx) and reads typed columns by name; it never sees a
 * SQLite handle, so the same code can run on another engine behind
 * src/db. Placeholders are rewritten to numbered parameters (?1, ?2...)
 * outside quoted text and comments, and each value is bound; nothing
 * from params ever becomes SQL text.
 *
 * Connections: on a thread inside a transaction of the app (a model
 * hook, bs_run_in_transaction) statements run on that transaction's
 * connection and see its uncommitted writes. Otherwise a query reads
 * from a reader connection, held until the rows are freed, and an exec
 * runs in a transaction of its own on the writer.
 */
#include <stdlib.h>
#include <string.h>

#include "db_api.h"
#include "../base/buf.h"
#include "../db/rows.h"
#include "app.h"
#include "tx.h"

#define MAX_PARAMS 64

struct bs_db_rows {
    bs_app *app;
    bs_conn *conn;
    bool reader;       /* conn is a reader to release */
    bs_rows rows;
    int last;          /* the last step: 1 row, 0 done, < 0 failed */
};

/* The SQL with its placeholders numbered, and the value of each. */
typedef struct prepared {
    bs_buf sql;
    int n;
    const char *names[MAX_PARAMS];
    size_t lens[MAX_PARAMS];
    json_object *values[MAX_PARAMS];
} prepared;

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Copies a quoted run or comment starting at s[i] into b; returns the
 * index after it (the end of the text when it is not closed). */
static size_t copy_skipped(bs_buf *b, const char *s, size_t len, size_t i)
{
    size_t start = i;
    char c = s[i];
    if (c == '-' && i + 1 < len && s[i + 1] == '-') {
        while (i < len && s[i] != '\n')
            i++;
    } else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
        i += 2;
        while (i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'))
            i++;
        i = i + 2 < len ? i + 2 : len;
    } else {
        char close = c == '[' ? ']' : c;
        i++;
        while (i < len && s[i] != close)
            i++;
        if (i < len)
            i++;
    }
    bs_buf_append(b, s + start, i - start);
    return i;
}

/* Rewrites sql's {:name} placeholders, looking each value up in params. */
static int prepare_sql(prepared *p, const char *sql, json_object *params,
                       bs_error *err)
{
    memset(p, 0, sizeof *p);
    bs_buf_init(&p->sql);
    size_t len = strlen(sql), i = 0;
    while (i < len) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`' || c == '[' ||
            (c == '-' && i + 1 < len && sql[i + 1] == '-') ||
            (c == '/' && i + 1 < len && sql[i + 1] == '*')) {
            i = copy_skipped(&p->sql, sql, len, i);
            continue;
        }
        if (c == '{' && i + 1 < len && sql[i + 1] == ':') {
            size_t k = i + 2;
            while (k < len && name_char(sql[k]))
                k++;
            if (k > i + 2 && k < len && sql[k] == '}') {
                const char *name = sql + i + 2;
                size_t n = k - i - 2;
                int idx = -1;
                for (int j = 0; j < p->n; j++) {
                    if (p->lens[j] == n && memcmp(p->names[j], name, n) == 0)
                        idx = j;
                }
                if (idx < 0) {
                    char key[128];
                    json_object *v = NULL;
                    if (n >= sizeof key || !params ||
                        !json_object_is_type(params, json_type_object))
                        return bs_error_set(err, 400,
                                            "Missing value for {:%.*s}.",
                                            (int)n, name);
                    memcpy(key, name, n);
                    key[n] = '\0';
                    if (!json_object_object_get_ex(params, key, &v))
                        return bs_error_set(err, 400,
                                            "Missing value for {:%s}.", key);
                    if (p->n == MAX_PARAMS)
                        return bs_error_set(err, 400,
                                            "Too many placeholders.");
                    idx = p->n++;
                    p->names[idx] = name;
                    p->lens[idx] = n;
                    p->values[idx] = v;
                }
                bs_buf_printf(&p->sql, "?%d", idx + 1);
                /* "{:a}0" must not become "?10", parameter ten. */
                if (k + 1 < len && sql[k + 1] >= '0' && sql[k + 1] <= '9')
                    bs_buf_putc(&p->sql, ' ');
                i = k + 1;
                continue;
            }
        }
        bs_buf_putc(&p->sql, c);
        i++;
    }
    if (p->sql.oom)
        return BS_ENOMEM;
    return 0;
}

int bs_db_placeholders(const char *sql, json_object *params, bs_buf *out,
                       int *nparams, bs_error *err)
{
    prepared p;
    int rc = prepare_sql(&p, sql, params, err);
    if (rc == 0) {
        bs_buf_append(out, p.sql.data ? p.sql.data : "", p.sql.len);
        *nparams = p.n;
    }
    bs_buf_dispose(&p.sql);
    return rc;
}

static void bind_value(bs_rows *r, int idx, json_object *v)
{
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_null:
        bs_rows_bind_null(r, idx);
        break;
    case json_type_boolean:
        bs_rows_bind_int(r, idx, json_object_get_boolean(v) ? 1 : 0);
        break;
    case json_type_int:
        bs_rows_bind_int(r, idx, json_object_get_int64(v));
        break;
    case json_type_double:
        bs_rows_bind_real(r, idx, json_object_get_double(v));
        break;
    case json_type_string:
        bs_rows_bind_text(r, idx, json_object_get_string(v),
                          json_object_get_string_len(v));
        break;
    default:
        bs_rows_bind_text(r, idx,
                          json_object_to_json_string_ext(
                              v, JSON_C_TO_STRING_PLAIN),
                          -1);
        break;
    }
}

/* Opens sql on conn with its values bound. */
static int open_on(bs_rows *rows, bs_conn *conn, const char *sql,
                   json_object *params, bs_error *err)
{
    prepared p;
    int rc = prepare_sql(&p, sql, params, err);
    if (rc == 0) {
        rc = bs_rows_open(rows, conn, p.sql.data, (long)p.sql.len,
                          BS_ROWS_CACHED);
        if (rc)
            bs_error_set(err, 400, "%s", bs_conn_errmsg(conn));
    }
    for (int i = 0; rc == 0 && i < p.n; i++)
        bind_value(rows, i + 1, p.values[i]);
    bs_buf_dispose(&p.sql);
    return rc;
}

int bs_db_query(bs_app *app, const char *sql, json_object *params,
                bs_db_rows **out, bs_error *err)
{
    *out = NULL;
    bs_db_rows *q = calloc(1, sizeof *q);
    if (!q)
        return BS_ENOMEM;
    q->app = app;
    bs_tx *tx = bs_tx_current(app);
    q->reader = !tx;
    q->conn = tx ? bs_tx_conn(tx) : bs_store_reader_acquire(app->store);
    int rc = open_on(&q->rows, q->conn, sql, params, err);
    if (rc) {
        bs_db_rows_free(q);
        return rc;
    }
    *out = q;
    return 0;
}

int bs_db_next(bs_db_rows *q)
{
    if (q->last < 0)
        return q->last;
    q->last = bs_rows_next(&q->rows);
    return q->last;
}

void bs_db_rows_free(bs_db_rows *q)
{
    if (!q)
        return;
    bs_rows_close(&q->rows);
    if (q->reader)
        bs_store_reader_release(q->app->store, q->conn);
    free(q);
}

int bs_db_columns(const bs_db_rows *q)
{
    return bs_rows_columns(&q->rows);
}

const char *bs_db_column_name(const bs_db_rows *q, int i)
{
    return bs_rows_name(&q->rows, i);
}

bool bs_db_is_null(const bs_db_rows *q, const char *column)
{
    int i = bs_rows_index(&q->rows, column);
    return i < 0 || bs_rows_is_null(&q->rows, i);
}

const char *bs_db_text(const bs_db_rows *q, const char *column)
{
    const char *s = bs_rows_text_named(&q->rows, column, NULL);
    return s ? s : "";
}

int64_t bs_db_int(const bs_db_rows *q, const char *column)
{
    return bs_rows_int_named(&q->rows, column);
}

double bs_db_float(const bs_db_rows *q, const char *column)
{
    int i = bs_rows_index(&q->rows, column);
    return i < 0 ? 0 : bs_rows_real(&q->rows, i);
}

bool bs_db_bool(const bs_db_rows *q, const char *column)
{
    return bs_db_float(q, column) != 0;
}

json_object *bs_db_row_json(const bs_db_rows *q)
{
    return bs_rows_json(&q->rows);
}

/* Reads every row (or only the first when one) into *out. */
static int collect(bs_app *app, const char *sql, json_object *params,
                   bool one, json_object **out, bs_error *err)
{
    *out = NULL;
    bs_db_rows *q = NULL;
    int rc = bs_db_query(app, sql, params, &q, err);
    if (rc)
        return rc;
    json_object *all = one ? NULL : json_object_new_array();
    int step;
    while ((step = bs_db_next(q)) == 1) {
        json_object *row = bs_db_row_json(q);
        if (one) {
            *out = row;
            break;
        }
        json_object_array_add(all, row);
    }
    if (step < 0) {
        rc = step;
        bs_error_set(err, 400, "%s", bs_rows_errmsg(&q->rows));
        json_object_put(all);
        json_object_put(*out);
        *out = NULL;
    } else if (one && !*out) {
        rc = BS_ENOTFOUND;
    } else if (!one) {
        *out = all;
    }
    bs_db_rows_free(q);
    return rc;
}

int bs_db_one(bs_app *app, const char *sql, json_object *params,
              json_object **row, bs_error *err)
{
    return collect(app, sql, params, true, row, err);
}

int bs_db_all(bs_app *app, const char *sql, json_object *params,
              json_object **rows, bs_error *err)
{
    return collect(app, sql, params, false, rows, err);
}

typedef struct exec_ctx {
    const char *sql;
    json_object *params;
    int64_t changes;
    bs_error *err;
} exec_ctx;

static int exec_tx(bs_tx *tx, void *data)
{
    exec_ctx *x = data;
    bs_rows rows;
    int rc = open_on(&rows, bs_tx_conn(tx), x->sql, x->params, x->err);
    if (rc == 0) {
        rc = bs_rows_exec(&rows);
        if (rc >= 0) {
            x->changes = rc;
            rc = 0;
        } else {
            bs_error_set(x->err, 400, "%s", bs_rows_errmsg(&rows));
        }
    }
    bs_rows_close(&rows);
    return rc;
}

int bs_db_exec(bs_app *app, const char *sql, json_object *params,
               int64_t *changes, bs_error *err)
{
    exec_ctx x = {.sql = sql, .params = params, .err = err};
    int rc = bs_run_in_transaction(app, exec_tx, &x, err);
    if (changes)
        *changes = rc == 0 ? x.changes : 0;
    return rc;
}
