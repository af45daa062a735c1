/*
 * record_list.c - reading records: a page with the list rule, a client
 * filter and sort, and the total; lookups by column values.
 *
 * The rule, filter and sort compile into one set of joins, a WHERE and
 * an ORDER BY that share their parameters. The page and the count run
 * the same FROM ... WHERE text, so both see the same rows; the row order
 * ends with the rowid (the id for views) so that pages never overlap.
 * A page sorted on the collection's own columns is chosen by rowid first
 * and then read (see bs_record_list).
 *
 * A search reads the collection's FTS5 index first: the FROM clause
 * becomes `index CROSS JOIN table`, so SQLite walks the index's matches
 * and looks each row up, instead of scanning the table; `@rank` at the
 * head of the sort orders by FTS5's bm25 rank.
 */
#include "record_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "../db/fts.h"
#include "../db/sql.h"
#include "app.h"
#include "search.h"
#include "tx.h"

void bs_record_page_dispose(bs_record_page *p)
{
    for (int i = 0; i < p->n; i++)
        bs_record_free(p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

static int generic_error(bs_error *err)
{
    return bs_error_set(err, 400, "Something went wrong while processing "
                                  "your request.");
}

/* Steps st, appending a record per row to out. */
static int read_rows(const bs_record_list_query *lq, bs_rows *st,
                     bs_record_page *out, bs_error *err)
{
    int cap = 0, step;
    while ((step = bs_rows_next(st)) == 1) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 32;
            bs_record **tmp = realloc(out->items, sizeof *tmp * (size_t)cap);
            if (!tmp)
                return BS_ENOMEM;
            out->items = tmp;
        }
        bs_record *rec = bs_record_from_row(lq->ctx.schema,
                                            lq->ctx.collection, st);
        if (!rec)
            return BS_ENOMEM;
        out->items[out->n++] = rec;
    }
    if (step < 0) {
        bs_log('D', "list query step failed: %s", bs_rows_errmsg(st));
        return generic_error(err);
    }
    return 0;
}

/* Splits a leading "@rank" or "-@rank" key off sort: returns 0 (none),
 * 1 (ascending: best first) or -1, and the rest of the sort in *rest. */
static int rank_key(const char *sort, const char **rest)
{
    *rest = sort;
    if (!sort)
        return 0;
    const char *p = sort;
    while (*p == ' ')
        p++;
    int dir = 1;
    if (*p == '-' || *p == '+') {
        dir = *p == '-' ? -1 : 1;
        p++;
    }
    if (strncmp(p, "@rank", 5) != 0)
        return 0;
    p += 5;
    while (*p == ' ')
        p++;
    if (*p && *p != ',')
        return 0;
    *rest = *p == ',' ? p + 1 : p;
    return dir;
}

/* Checks lq's search and adds its text to q as a parameter, writing
 * "<index> CROSS JOIN" into from (with the join condition into on) and
 * the MATCH into match. Returns 0 or BS_EHTTP with a 400 in err. */
static int add_search(const bs_record_list_query *lq, bs_query *q,
                      bs_buf *from, bs_buf *match, bs_error *err)
{
    const bs_collection *c = lq->ctx.collection;
    bs_buf text;
    bs_buf_init(&text);
    int rc = bs_search_query(c, lq->ctx.superuser, lq->search, &text, err);
    if (rc == 0) {
        bs_param p = {.type = BS_PARAM_TEXT, .s = text.data, .n = text.len};
        int n = bs_query_add_param(q, &p);
        if (n <= 0 || q->oom) {
            rc = BS_ENOMEM;
        } else {
            bs_fts_table(from, c->id);
            bs_buf_puts(from, " CROSS JOIN ");
            bs_sql_ident(from, c->name);
            bs_buf_puts(from, " ON ");
            bs_sql_ident(from, c->name);
            bs_buf_puts(from, "._rowid_ = ");
            bs_fts_table(from, c->id);
            bs_buf_puts(from, ".rowid");
            bs_fts_table(match, c->id);
            bs_buf_printf(match, " MATCH ?%d", n);
        }
    }
    bs_buf_dispose(&text);
    return rc;
}

/* Appends " FROM ... WHERE ..." of a list statement to b: the search's
 * FROM and MATCH when from is not NULL, the rules' joins and where. */
static void put_from(bs_buf *b, const bs_collection *c, const bs_rule_sql *rs,
                     const bs_buf *where, const bs_buf *from,
                     const bs_buf *match)
{
    bs_buf_puts(b, " FROM ");
    if (from)
        bs_buf_append(b, from->data, from->len);
    else
        bs_sql_ident(b, c->name);
    if (rs->joins.len)
        bs_buf_append(b, rs->joins.data, rs->joins.len);
    if (where->len || from)
        bs_buf_puts(b, " WHERE ");
    if (from)
        bs_buf_append(b, match->data, match->len);
    if (where->len) {
        if (from)
            bs_buf_puts(b, " AND (");
        bs_buf_append(b, where->data, where->len);
        if (from)
            bs_buf_putc(b, ')');
    }
}

int bs_record_list(const bs_record_list_query *lq, bs_record_page *out,
                   bs_error *err)
{
    memset(out, 0, sizeof *out);
    out->total = -1;
    const bs_rule_ctx *ctx = &lq->ctx;
    const bs_collection *c = ctx->collection;
    bs_query q;
    bs_rule_sql rs;
    bs_buf base, text, from, match;
    bs_query_init(&q);
    bs_rule_sql_init(&rs);
    bs_buf_init(&base);
    bs_buf_init(&text);
    bs_buf_init(&from);
    bs_buf_init(&match);
    bool searching = lq->search && *lq->search;
    const char *sort = lq->sort;
    int rank = rank_key(lq->sort, &sort);
    int rc = 0;
    if (rank && !searching)
        rc = bs_error_set(err, 400, "Sorting by @rank needs a search.");
    if (!ctx->superuser && lq->rule && *lq->rule)
        rc = bs_rules_add_filter(ctx, lq->rule, true, &q, &rs, err);
    if (!rc && lq->filter && *lq->filter)
        rc = bs_rules_add_filter(ctx, lq->filter, false, &q, &rs, err);
    if (!rc && sort && *sort)
        rc = bs_rules_add_sort(ctx, sort, &q, &rs, err);
    if (!rc)
        rc = bs_rules_finish(&rs, &q, err);
    if (!rc && searching)
        rc = add_search(lq, &q, &from, &match, err);
    if (rc)
        goto end;

    bool is_view = strcmp(c->type, "view") == 0;
    put_from(&base, c, &rs, &rs.where, searching ? &from : NULL, &match);
    /* A sort on the collection's own columns picks the page's rowids
     * first and reads only those rows: the sorter then carries two values
     * per matching row instead of whole rows (descriptions, JSON), which
     * is most of a sorted page's cost on wide tables. Not with joins (the
     * outer ORDER BY could not name them), DISTINCT, views (no rowid), a
     * search (the rank lives in the index, outside the outer query) or a
     * random order (it would be drawn twice). */
    bool deferred = rs.order.len && !rs.joins.len && !rs.distinct &&
                    !is_view && !searching &&
                    !strstr(rs.order.data, "RANDOM()");
    bs_buf order;
    bs_buf_init(&order);
    if (rank) {
        bs_fts_table(&order, c->id);
        bs_buf_puts(&order, rank > 0 ? ".rank, " : ".rank DESC, ");
    }
    if (rs.order.len) {
        bs_buf_append(&order, rs.order.data, rs.order.len);
        bs_buf_puts(&order, ", ");
    }
    /* The last key: the rowid, read from the index when searching (the
     * same value through the join), which FTS5 returns in order, so a
     * search without another sort stops at the page's end. */
    if (searching) {
        bs_fts_table(&order, c->id);
        bs_buf_puts(&order, ".rowid");
    } else {
        bs_sql_ident(&order, c->name);
        bs_buf_puts(&order, is_view ? ".id" : "._rowid_");
    }
    char limit[80];
    /* No limit is the largest one: SQLite reads LIMIT -1 so, but
     * PostgreSQL refuses a negative LIMIT and SQLite has no LIMIT ALL. */
    if (lq->use_offset)
        snprintf(limit, sizeof limit, " LIMIT %lld OFFSET %lld",
                 (long long)(lq->per_page > 0 ? lq->per_page : INT64_MAX),
                 (long long)(lq->offset > 0 ? lq->offset : 0));
    else
        snprintf(limit, sizeof limit, " LIMIT %lld OFFSET %lld",
                 (long long)lq->per_page,
                 (long long)((lq->page - 1) * lq->per_page));
    bs_buf_puts(&text, rs.distinct ? "SELECT DISTINCT " : "SELECT ");
    bs_sql_ident(&text, c->name);
    bs_buf_puts(&text, ".*");
    if (deferred) {
        bs_buf_puts(&text, " FROM ");
        bs_sql_ident(&text, c->name);
        bs_buf_puts(&text, " WHERE ");
        bs_sql_ident(&text, c->name);
        bs_buf_puts(&text, "._rowid_ IN (SELECT ");
        bs_sql_ident(&text, c->name);
        bs_buf_puts(&text, "._rowid_");
        bs_buf_append(&text, base.data, base.len);
        bs_buf_puts(&text, " ORDER BY ");
        bs_buf_append(&text, order.data, order.len);
        bs_buf_puts(&text, limit);
        bs_buf_puts(&text, ") ORDER BY ");
        bs_buf_append(&text, order.data, order.len);
    } else {
        bs_buf_append(&text, base.data, base.len);
        bs_buf_puts(&text, " ORDER BY ");
        bs_buf_append(&text, order.data, order.len);
        bs_buf_puts(&text, limit);
    }
    bs_buf_dispose(&order);

    bs_tx *tx = bs_tx_current(ctx->app);
    bs_conn *conn = tx ? bs_tx_conn(tx)
                       : bs_store_reader_acquire(ctx->app->store);
    bs_query page_q = q; /* shares the parameters; only the text differs */
    page_q.sql = text;
    bs_query_debug(&page_q, "list page");
    bs_rows st;
    if (bs_rows_open_query(&st, conn, &page_q, BS_ROWS_CACHED) != 0) {
        bs_log('D', "list query failed: %s (%s)", bs_conn_errmsg(conn),
               text.data);
        rc = generic_error(err);
    } else {
        rc = read_rows(lq, &st, out, err);
    }
    bs_rows_close(&st);
    if (!rc && !lq->skip_total) {
        bs_buf_reset(&text);
        if (rs.distinct) {
            bs_buf_puts(&text, "SELECT COUNT(DISTINCT ");
            bs_sql_ident(&text, c->name);
            bs_buf_puts(&text, is_view ? ".id)" : "._rowid_)");
        } else {
            bs_buf_puts(&text, "SELECT COUNT(*)");
        }
        if (searching && !rs.joins.len && !rs.where_scan.len) {
            /* Nothing but the search: the index alone has one row per
             * matching record (its triggers keep it so). */
            bs_buf_puts(&text, " FROM ");
            bs_fts_table(&text, c->id);
            bs_buf_puts(&text, " WHERE ");
            bs_buf_append(&text, match.data, match.len);
        } else {
            /* The total reads every matching row: the condition's form
             * for that (bs_filter_sql.where_scan). */
            put_from(&text, c, &rs, &rs.where_scan, searching ? &from : NULL,
                     &match);
        }
        page_q.sql = text;
        bs_query_debug(&page_q, "list total");
        if (bs_rows_open_query(&st, conn, &page_q, BS_ROWS_CACHED) == 0 &&
            bs_rows_next(&st) == 1)
            out->total = bs_rows_int(&st, 0);
        else
            rc = generic_error(err);
        bs_rows_close(&st);
    }
    if (!tx)
        bs_store_reader_release(ctx->app->store, conn);

end:
    if (rc)
        bs_record_page_dispose(out);
    bs_buf_dispose(&match);
    bs_buf_dispose(&from);
    bs_buf_dispose(&text);
    bs_buf_dispose(&base);
    bs_rule_sql_dispose(&rs);
    bs_query_dispose(&q);
    return rc;
}

int bs_record_find_where(bs_app *app, bs_schema *schema,
                         const bs_collection *c, const bs_record_where *w,
                         int nw, const char *order, int limit,
                         bs_record_page *out)
{
    memset(out, 0, sizeof *out);
    out->total = -1;
    bs_query q;
    bs_query_init(&q);
    bs_query_sql(&q, "SELECT * FROM ");
    bs_query_ident(&q, c->name);
    for (int i = 0; i < nw; i++) {
        bs_query_sql(&q, i ? " AND " : " WHERE ");
        bs_query_ident(&q, w[i].column);
        bs_query_sql(&q, w[i].differs ? " != " : " = ");
        bs_query_param_text(&q, w[i].value, strlen(w[i].value));
        if (w[i].nocase)
            bs_query_sql(&q, " COLLATE NOCASE");
    }
    if (order) {
        bs_query_sql(&q, " ORDER BY ");
        bs_query_sql(&q, order);
    }
    if (limit > 0) {
        char lim[32];
        snprintf(lim, sizeof lim, " LIMIT %d", limit);
        bs_query_sql(&q, lim);
    }
    bs_record_list_query lq = {.ctx = {.schema = schema, .collection = c}};
    bs_error err;
    bs_error_init(&err);
    bs_conn *conn = bs_store_reader_acquire(app->store);
    bs_rows st;
    int rc = bs_rows_open_query(&st, conn, &q, BS_ROWS_CACHED);
    if (rc == 0)
        rc = read_rows(&lq, &st, out, &err);
    bs_rows_close(&st);
    bs_store_reader_release(app->store, conn);
    if (rc) {
        bs_record_page_dispose(out);
        out->total = -1;
    }
    bs_error_dispose(&err);
    bs_query_dispose(&q);
    return rc == BS_EHTTP ? BS_EDB : rc;
}

int bs_record_find_first_where(bs_app *app, bs_schema *schema,
                               const bs_collection *c,
                               const bs_record_where *w, int nw,
                               const char *order, bs_record **out)
{
    bs_record_page page;
    int rc = bs_record_find_where(app, schema, c, w, nw, order, 1, &page);
    return bs_record_page_first(&page, rc, out);
}

int bs_record_page_first(bs_record_page *p, int rc, bs_record **out)
{
    *out = NULL;
    if (rc == 0 && p->n == 0)
        rc = BS_ENOTFOUND;
    if (rc == 0) {
        /* The page keeps the others, if any, and frees them. */
        *out = p->items[0];
        p->items[0] = p->items[--p->n];
    }
    bs_record_page_dispose(p);
    return rc;
}
