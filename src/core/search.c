/*
 * search.c - when a collection's search index is built and dropped (see
 * search.h). The index is rebuilt only when its definition changes: the
 * table's name or the ordered list of searchable columns.
 */
#include "search.h"

#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../db/fts.h"
#include "../db/rows.h"
#include "../db/sql.h"
#include "../schema/ftype.h"
#include "app.h"
#include "tx.h"

/* The searchable fields of a fields array in order, at most max, into
 * defs. Returns how many. */
static int searchable_fields(const json_object *fields,
                             const json_object **defs, int max)
{
    int n = 0;
    size_t count = json_object_is_type(fields, json_type_array)
                       ? json_object_array_length(fields)
                       : 0;
    for (size_t i = 0; i < count && n < max; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (!bs_json_get_bool(f, "searchable", false))
            continue;
        bs_ftype t = bs_ftype_of(bs_json_get_str(f, "type", ""));
        if (t != BS_F_TEXT && t != BS_F_EDITOR && t != BS_F_EMAIL &&
            t != BS_F_URL && t != BS_F_JSON)
            continue;
        defs[n++] = f;
    }
    return n;
}

int bs_search_columns(const json_object *fields, const char **names, int max)
{
    const json_object *defs[BS_SEARCH_MAX_FIELDS];
    int n = searchable_fields(fields, defs,
                              max < BS_SEARCH_MAX_FIELDS ? max
                                                         : BS_SEARCH_MAX_FIELDS);
    for (int i = 0; i < n; i++)
        names[i] = bs_json_get_str(defs[i], "name", "");
    return n;
}

bool bs_search_field_public(const json_object *f, bool auth)
{
    if (bs_json_get_bool(f, "hidden", false))
        return false;
    return !(auth && strcmp(bs_json_get_str(f, "name", ""), "email") == 0);
}

int bs_search_query(const bs_collection *c, bool superuser, const char *text,
                    bs_buf *out, bs_error *err)
{
    const json_object *defs[BS_SEARCH_MAX_FIELDS];
    int n = strcmp(c->type, "view") == 0
                ? 0
                : searchable_fields(c->fields, defs, BS_SEARCH_MAX_FIELDS);
    bool auth = strcmp(c->type, "auth") == 0;
    int open = 0;
    for (int i = 0; i < n; i++)
        open += bs_search_field_public(defs[i], auth);
    if (n == 0 || (!superuser && open == 0))
        return bs_error_set(err, 400, "The collection has no searchable "
                                      "fields.");
    bs_buf q;
    bs_buf_init(&q);
    char why[160];
    int rc = bs_fts_query_check(text, &q, why, sizeof why);
    if (rc == BS_EINVAL)
        rc = bs_error_set(err, 400, "Invalid search query. %s", why);
    if (rc == 0 && !superuser && open < n) {
        /* FTS5's column filter: only the fields this requester may
         * search. */
        bs_buf_putc(out, '{');
        for (int i = 0, k = 0; i < n; i++) {
            if (!bs_search_field_public(defs[i], auth))
                continue;
            if (k++)
                bs_buf_putc(out, ' ');
            bs_sql_ident(out, bs_json_get_str(defs[i], "name", ""));
        }
        bs_buf_puts(out, "} : (");
        bs_buf_append(out, q.data, q.len);
        bs_buf_putc(out, ')');
    } else if (rc == 0) {
        bs_buf_append(out, q.data, q.len);
    }
    bs_buf_dispose(&q);
    return rc;
}

/* Appends s[0..n) HTML-escaped. */
static void put_escaped(bs_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': bs_buf_puts(out, "&amp;"); break;
        case '<': bs_buf_puts(out, "&lt;"); break;
        case '>': bs_buf_puts(out, "&gt;"); break;
        case '"': bs_buf_puts(out, "&quot;"); break;
        default: bs_buf_putc(out, s[i]);
        }
    }
}

void bs_search_snippet_html(const char *s, size_t n, bool strip_tags,
                            bs_buf *out)
{
    size_t i = 0;
    if (strip_tags) {
        /* A tag cut at the start: its rest ends at a '>' met before any
         * '<'. */
        size_t j = 0;
        while (j < n && s[j] != '<' && s[j] != '>')
            j++;
        if (j < n && s[j] == '>')
            i = j + 1;
    }
    bool in_tag = false, marked = false;
    for (; i < n; i++) {
        char ch = s[i];
        if (ch == '\x02' || ch == '\x03') {
            bool open = ch == '\x02';
            /* Markers inside a dropped tag are dropped with it. */
            if (!in_tag && open != marked) {
                bs_buf_puts(out, open ? "<mark>" : "</mark>");
                marked = open;
            }
        } else if (strip_tags && in_tag) {
            in_tag = ch != '>';
        } else if (strip_tags && ch == '<') {
            in_tag = true;
        } else if (strip_tags && ch == '&') {
            bs_buf_putc(out, ch); /* the source's entities stay */
        } else {
            put_escaped(out, &ch, 1);
        }
    }
    if (marked)
        bs_buf_puts(out, "</mark>");
}

int bs_search_snippets(bs_app *app, const bs_collection *c, bool superuser,
                       const char *text, const char *field, int tokens,
                       bs_record **recs, int n, bs_error *err)
{
    if (n <= 0)
        return 0;
    const json_object *defs[BS_SEARCH_MAX_FIELDS];
    int nf = strcmp(c->type, "view") == 0
                 ? 0
                 : searchable_fields(c->fields, defs, BS_SEARCH_MAX_FIELDS);
    int col = -1;
    for (int i = 0; i < nf && col < 0; i++)
        if (strcmp(bs_json_get_str(defs[i], "name", ""), field) == 0)
            col = i;
    if (col < 0)
        return bs_error_set(err, 400, "The field %s is not searchable, so it "
                                      "has no snippet.", field);
    if (!superuser &&
        !bs_search_field_public(defs[col], strcmp(c->type, "auth") == 0))
        return 0;
    bool editor = bs_ftype_of(bs_json_get_str(defs[col], "type", "")) ==
                  BS_F_EDITOR;
    bs_buf q, sql, html;
    bs_buf_init(&q);
    bs_buf_init(&sql);
    bs_buf_init(&html);
    int rc = bs_search_query(c, superuser, text, &q, err);
    if (rc)
        goto end;
    bs_fts_snippet_sql(&sql, c->id, c->name, col, tokens, n);
    if (q.oom || sql.oom) {
        rc = BS_ENOMEM;
        goto end;
    }
    bs_tx *tx = bs_tx_current(app);
    bs_conn *conn = tx ? bs_tx_conn(tx) : bs_store_reader_acquire(app->store);
    bs_rows st;
    rc = bs_rows_open(&st, conn, sql.data, (long)sql.len, BS_ROWS_CACHED);
    if (!rc) {
        bs_rows_bind_text(&st, 1, q.data, (long)q.len);
        for (int i = 0; i < n; i++)
            bs_rows_bind_text(&st, i + 2, bs_record_id(recs[i]), -1);
        int step;
        while ((step = bs_rows_next(&st)) == 1) {
            size_t len = 0;
            const char *id = bs_rows_text(&st, 0, NULL);
            const char *snip = bs_rows_text(&st, 1, &len);
            bs_buf_reset(&html);
            bs_search_snippet_html(snip ? snip : "", snip ? len : 0, editor,
                                   &html);
            for (int i = 0; i < n; i++) {
                if (id && strcmp(bs_record_id(recs[i]), id) == 0) {
                    bs_record_set(recs[i], field,
                                  json_object_new_string_len(
                                      html.data ? html.data : "",
                                      (int)html.len));
                    break;
                }
            }
        }
        rc = step < 0 ? step : 0;
    }
    if (rc) {
        bs_error_dispose(err);
        bs_error_set(err, 0, "search snippets: %s", bs_conn_errmsg(conn));
    }
    bs_rows_close(&st);
    if (!tx)
        bs_store_reader_release(app->store, conn);
end:
    bs_buf_dispose(&html);
    bs_buf_dispose(&sql);
    bs_buf_dispose(&q);
    return rc;
}

/* Whether col's index differs from old's (NULL: none). */
static bool index_changes(const json_object *col, const json_object *old)
{
    const char *a[BS_SEARCH_MAX_FIELDS], *b[BS_SEARCH_MAX_FIELDS];
    int na = bs_search_columns(bs_json_get(col, "fields"), a,
                               BS_SEARCH_MAX_FIELDS);
    int nb = old ? bs_search_columns(bs_json_get(old, "fields"), b,
                                     BS_SEARCH_MAX_FIELDS)
                 : 0;
    if (na != nb)
        return true;
    if (na == 0)
        return false;
    if (strcasecmp(bs_json_get_str(col, "name", ""),
                   bs_json_get_str(old, "name", "")) != 0)
        return true;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return true;
    return false;
}

static int db_error(bs_error *err, int rc, const char *msg)
{
    bs_error_dispose(err);
    bs_error_set(err, 0, "search index: %s", msg);
    return rc;
}

int bs_search_before_table_sync(bs_conn *conn, const json_object *col,
                                const json_object *old, bs_error *err)
{
    if (!old || !index_changes(col, old))
        return 0;
    char msg[300];
    int rc = bs_fts_drop(conn, bs_json_get_str(old, "id", ""), msg,
                         sizeof msg);
    return rc ? db_error(err, rc, msg) : 0;
}

int bs_search_after_table_sync(bs_conn *conn, const json_object *col,
                               const json_object *old, bs_error *err)
{
    if (!index_changes(col, old))
        return 0;
    const char *cols[BS_SEARCH_MAX_FIELDS];
    int n = bs_search_columns(bs_json_get(col, "fields"), cols,
                              BS_SEARCH_MAX_FIELDS);
    if (n == 0)
        return 0;
    char msg[300];
    const char *id = bs_json_get_str(col, "id", "");
    /* A leftover index of the same id (a new collection reusing an id)
     * goes first. */
    int rc = bs_fts_drop(conn, id, msg, sizeof msg);
    if (!rc)
        rc = bs_fts_create(conn, id, bs_json_get_str(col, "name", ""), cols,
                           n, msg, sizeof msg);
    return rc ? db_error(err, rc, msg) : 0;
}

int bs_search_drop(bs_conn *conn, const char *collection_id, bs_error *err)
{
    char msg[300];
    int rc = bs_fts_drop(conn, collection_id, msg, sizeof msg);
    return rc ? db_error(err, rc, msg) : 0;
}
