/*
 * query.c - SQL statements with numbered bound parameters.
 */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "sql.h"
#include "store.h"

void bs_query_init(bs_query *q)
{
    memset(q, 0, sizeof *q);
    bs_buf_init(&q->sql);
}

void bs_query_dispose(bs_query *q)
{
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i].s);
    free(q->params);
    bs_buf_dispose(&q->sql);
    memset(q, 0, sizeof *q);
}

void bs_query_sql(bs_query *q, const char *text)
{
    bs_buf_puts(&q->sql, text);
}

void bs_query_ident(bs_query *q, const char *name)
{
    bs_sql_ident(&q->sql, name);
}

int bs_query_add_param(bs_query *q, const bs_param *p)
{
    if (q->nparams == q->cap) {
        int cap = q->cap ? q->cap * 2 : 8;
        bs_param *np = realloc(q->params, sizeof *np * (size_t)cap);
        if (!np) {
            q->oom = true;
            return 0;
        }
        q->params = np;
        q->cap = cap;
    }
    bs_param *d = &q->params[q->nparams];
    *d = *p;
    if (p->type == BS_PARAM_TEXT) {
        d->s = malloc(p->n + 1);
        if (!d->s) {
            q->oom = true;
            return 0;
        }
        memcpy(d->s, p->s, p->n);
        d->s[p->n] = '\0';
    }
    return ++q->nparams;
}

static void placeholder(bs_query *q, const bs_param *p)
{
    int n = bs_query_add_param(q, p);
    if (n)
        bs_buf_printf(&q->sql, "?%d", n);
}

void bs_query_param_text(bs_query *q, const char *s, size_t n)
{
    bs_param p = {.type = BS_PARAM_TEXT, .s = (char *)s, .n = n};
    placeholder(q, &p);
}

void bs_query_param_int(bs_query *q, int64_t v)
{
    bs_param p = {.type = BS_PARAM_INT, .i = v};
    placeholder(q, &p);
}

void bs_query_param_real(bs_query *q, double v)
{
    bs_param p = {.type = BS_PARAM_REAL, .d = v};
    placeholder(q, &p);
}

void bs_query_param_null(bs_query *q)
{
    bs_param p = {.type = BS_PARAM_NULL};
    placeholder(q, &p);
}

static void bind_all(bs_query *q, sqlite3_stmt *st);

sqlite3_stmt *bs_query_prepare(bs_query *q, sqlite3 *db)
{
    if (q->oom || q->sql.oom)
        return NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, q->sql.data, (int)q->sql.len, &st, NULL) !=
        SQLITE_OK)
        return NULL;
    bind_all(q, st);
    return st;
}

sqlite3_stmt *bs_query_prepare_cached(bs_query *q, bs_conn *c)
{
    if (q->oom || q->sql.oom)
        return NULL;
    sqlite3_stmt *st = bs_conn_prepare_dyn(c, q->sql.data, q->sql.len);
    if (st)
        bind_all(q, st);
    return st;
}

static void bind_all(bs_query *q, sqlite3_stmt *st)
{
    for (int i = 0; i < q->nparams; i++) {
        const bs_param *p = &q->params[i];
        switch (p->type) {
        case BS_PARAM_NULL:
            sqlite3_bind_null(st, i + 1);
            break;
        case BS_PARAM_INT:
            sqlite3_bind_int64(st, i + 1, p->i);
            break;
        case BS_PARAM_REAL:
            sqlite3_bind_double(st, i + 1, p->d);
            break;
        case BS_PARAM_TEXT:
            sqlite3_bind_text(st, i + 1, p->s, (int)p->n, SQLITE_STATIC);
            break;
        }
    }
}

void bs_query_debug(const bs_query *q, const char *what)
{
    if (!bs_log_verbose())
        return;
    json_object *o = json_object_new_object();
    json_object *ps = json_object_new_array();
    json_object_object_add(o, "sql",
                           json_object_new_string_len(
                               q->sql.data ? q->sql.data : "",
                               (int)q->sql.len));
    for (int i = 0; i < q->nparams; i++) {
        const bs_param *p = &q->params[i];
        json_object_array_add(
            ps, p->type == BS_PARAM_INT    ? json_object_new_int64(p->i)
                : p->type == BS_PARAM_REAL ? json_object_new_double(p->d)
                : p->type == BS_PARAM_TEXT
                    ? json_object_new_string_len(p->s, (int)p->n)
                    : NULL);
    }
    json_object_object_add(o, "params", ps);
    fprintf(stderr, "DEBUG sql %s: %s\n", what,
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}
