/*
 * fts.c - full-text search on SQLite's FTS5: index DDL, triggers and the
 * search-text checker (see fts.h).
 *
 * Design note on the checker. FTS5's own query language reaches further
 * than the records API wants (column filters, NEAR, initial-token
 * queries) and reports mistakes as SQL errors. The checker is a small
 * recursive-descent parser over the supported subset; it re-writes every
 * word and phrase as a quoted FTS5 string, so the text FTS5 parses is
 * always well formed: only AND, OR, NOT, parentheses and the prefix star
 * appear outside quotes.
 */
#include "fts.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sql.h"
#include "store.h"
#include "../base/util.h"

void bs_fts_table(bs_buf *b, const char *collection_id)
{
    bs_buf_puts(b, "\"_fts_");
    for (const char *p = collection_id; *p; p++) {
        if (*p == '"')
            bs_buf_putc(b, '"');
        bs_buf_putc(b, *p);
    }
    bs_buf_putc(b, '"');
}

/* The quoted name of one of the index's triggers ("_fts_<id>_ai"). */
static void trigger_name(bs_buf *b, const char *collection_id,
                         const char *suffix)
{
    bs_buf_puts(b, "\"_fts_");
    for (const char *p = collection_id; *p; p++) {
        if (*p == '"')
            bs_buf_putc(b, '"');
        bs_buf_putc(b, *p);
    }
    bs_buf_puts(b, suffix);
    bs_buf_putc(b, '"');
}

/* Appends ", <prefix>.col" for each column. */
static void column_list(bs_buf *b, const char *prefix,
                        const char *const *cols, int n)
{
    for (int i = 0; i < n; i++) {
        bs_buf_puts(b, ", ");
        if (prefix)
            bs_buf_puts(b, prefix);
        bs_sql_ident(b, cols[i]);
    }
}

void bs_fts_snippet_sql(bs_buf *b, const char *collection_id,
                        const char *table, int column, int tokens, int nids)
{
    /* The table drives the join: each listed record's row is looked up
     * in the index by rowid, whatever the number of matches. */
    bs_buf_puts(b, "SELECT t.id, snippet(");
    bs_fts_table(b, collection_id);
    bs_buf_printf(b, ", %d, char(2), char(3), '\xe2\x80\xa6', %d) FROM ", column,
                  tokens);
    bs_sql_ident(b, table);
    bs_buf_puts(b, " AS t CROSS JOIN ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, " ON ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, ".rowid = t._rowid_ WHERE ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, " MATCH ? AND t.id IN (");
    for (int i = 0; i < nids; i++)
        bs_buf_puts(b, i ? ", ?" : "?");
    bs_buf_putc(b, ')');
}

/* Appends a quoted SQL string literal (for FTS5's content option). */
static void string_literal(bs_buf *b, const char *s)
{
    bs_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            bs_buf_putc(b, '\'');
        bs_buf_putc(b, *p);
    }
    bs_buf_putc(b, '\'');
}

void bs_fts_create_sql(bs_buf *b, const char *collection_id,
                       const char *table, const char *const *cols, int n)
{
    bs_buf_puts(b, "CREATE VIRTUAL TABLE ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, " USING fts5(");
    for (int i = 0; i < n; i++) {
        if (i)
            bs_buf_puts(b, ", ");
        bs_sql_ident(b, cols[i]);
    }
    /* FTS5 quotes the content table's name itself: it is given bare,
     * as a string literal. */
    bs_buf_puts(b, ", content=");
    string_literal(b, table);
    bs_buf_puts(b, ", content_rowid='_rowid_', "
                   "tokenize='unicode61 remove_diacritics 2');\n");

    /* After an insert: index the new row. */
    bs_buf_puts(b, "CREATE TRIGGER ");
    trigger_name(b, collection_id, "_ai");
    bs_buf_puts(b, " AFTER INSERT ON ");
    bs_sql_ident(b, table);
    bs_buf_puts(b, " BEGIN INSERT INTO ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, "(rowid");
    column_list(b, NULL, cols, n);
    bs_buf_puts(b, ") VALUES (new._rowid_");
    column_list(b, "new.", cols, n);
    bs_buf_puts(b, "); END;\n");

    /* After a delete: remove the old row's terms. */
    bs_buf_puts(b, "CREATE TRIGGER ");
    trigger_name(b, collection_id, "_ad");
    bs_buf_puts(b, " AFTER DELETE ON ");
    bs_sql_ident(b, table);
    bs_buf_puts(b, " BEGIN INSERT INTO ");
    bs_fts_table(b, collection_id);
    bs_buf_putc(b, '(');
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, ", rowid");
    column_list(b, NULL, cols, n);
    bs_buf_puts(b, ") VALUES ('delete', old._rowid_");
    column_list(b, "old.", cols, n);
    bs_buf_puts(b, "); END;\n");

    /* After an update of an indexed column: both. */
    bs_buf_puts(b, "CREATE TRIGGER ");
    trigger_name(b, collection_id, "_au");
    bs_buf_puts(b, " AFTER UPDATE OF ");
    for (int i = 0; i < n; i++) {
        if (i)
            bs_buf_puts(b, ", ");
        bs_sql_ident(b, cols[i]);
    }
    bs_buf_puts(b, " ON ");
    bs_sql_ident(b, table);
    bs_buf_puts(b, " BEGIN INSERT INTO ");
    bs_fts_table(b, collection_id);
    bs_buf_putc(b, '(');
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, ", rowid");
    column_list(b, NULL, cols, n);
    bs_buf_puts(b, ") VALUES ('delete', old._rowid_");
    column_list(b, "old.", cols, n);
    bs_buf_puts(b, "); INSERT INTO ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, "(rowid");
    column_list(b, NULL, cols, n);
    bs_buf_puts(b, ") VALUES (new._rowid_");
    column_list(b, "new.", cols, n);
    bs_buf_puts(b, "); END;\n");

    /* Index the rows already there. */
    bs_buf_puts(b, "INSERT INTO ");
    bs_fts_table(b, collection_id);
    bs_buf_putc(b, '(');
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, ") VALUES ('rebuild');\n");
}

void bs_fts_drop_sql(bs_buf *b, const char *collection_id)
{
    static const char *const suffixes[] = {"_ai", "_ad", "_au"};
    for (int i = 0; i < 3; i++) {
        bs_buf_puts(b, "DROP TRIGGER IF EXISTS ");
        trigger_name(b, collection_id, suffixes[i]);
        bs_buf_puts(b, ";\n");
    }
    bs_buf_puts(b, "DROP TABLE IF EXISTS ");
    bs_fts_table(b, collection_id);
    bs_buf_puts(b, ";\n");
}

static int run(struct bs_conn *conn, bs_buf *sql, char *msg, size_t cap)
{
    if (sql->oom) {
        snprintf(msg, cap, "out of memory");
        return BS_ENOMEM;
    }
    char *emsg = NULL;
    int rc = sqlite3_exec(bs_conn_db(conn), sql->data, NULL, NULL, &emsg);
    if (rc != SQLITE_OK) {
        snprintf(msg, cap, "%s", emsg ? emsg : sqlite3_errstr(rc));
        bs_log('D', "search index DDL failed: %s (%s)", msg, sql->data);
        sqlite3_free(emsg);
        return BS_EDB;
    }
    return 0;
}

int bs_fts_create(struct bs_conn *conn, const char *collection_id,
                  const char *table, const char *const *cols, int n,
                  char *msg, size_t cap)
{
    if (bs_conn_is_pg(conn)) {
        snprintf(msg, cap, "full-text search is not supported on the "
                           "PostgreSQL store yet");
        return BS_EDB;
    }
    bs_buf sql;
    bs_buf_init(&sql);
    bs_fts_create_sql(&sql, collection_id, table, cols, n);
    int rc = run(conn, &sql, msg, cap);
    bs_buf_dispose(&sql);
    return rc;
}

int bs_fts_drop(struct bs_conn *conn, const char *collection_id, char *msg,
                size_t cap)
{
    if (bs_conn_is_pg(conn))
        return 0; /* no search index is ever made there */
    bs_buf sql;
    bs_buf_init(&sql);
    bs_fts_drop_sql(&sql, collection_id);
    int rc = run(conn, &sql, msg, cap);
    bs_buf_dispose(&sql);
    return rc;
}

/* ---- the search-text checker ------------------------------------------- */

typedef enum { T_END, T_WORD, T_PHRASE, T_LPAREN, T_RPAREN, T_AND, T_OR,
               T_NOT } tok_kind;

typedef struct parser {
    const char *p;
    tok_kind kind;
    const char *start; /* the word or the phrase's inside */
    size_t len;
    bool prefix;       /* a '*' right after the word or phrase */
    int depth;
    int terms;
    bs_buf *out;
    char *msg;
    size_t cap;
} parser;

static int fail(parser *ps, const char *why)
{
    snprintf(ps->msg, ps->cap, "%s", why);
    return BS_EINVAL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Characters that end a bare word. */
static bool is_delim(char c)
{
    return !c || is_space(c) || c == '"' || c == '(' || c == ')' || c == '*';
}

/* Reads the next token into ps. */
static int next(parser *ps)
{
    while (is_space(*ps->p))
        ps->p++;
    ps->prefix = false;
    char c = *ps->p;
    if (!c) {
        ps->kind = T_END;
        return 0;
    }
    if (c == '(' || c == ')') {
        ps->kind = c == '(' ? T_LPAREN : T_RPAREN;
        ps->p++;
        return 0;
    }
    if (c == '*')
        return fail(ps, "A '*' must follow a word or a phrase.");
    if (c == '"') {
        const char *end = strchr(ps->p + 1, '"');
        if (!end)
            return fail(ps, "Unterminated phrase.");
        ps->kind = T_PHRASE;
        ps->start = ps->p + 1;
        ps->len = (size_t)(end - ps->start);
        ps->p = end + 1;
    } else {
        const char *s = ps->p;
        while (!is_delim(*ps->p)) {
            if (strchr(":^{}+", *ps->p))
                return fail(ps, "Column filters and the FTS5 operators "
                                "':', '^', '+' and '{}' are not "
                                "supported.");
            ps->p++;
        }
        ps->start = s;
        ps->len = (size_t)(ps->p - s);
        ps->kind = T_WORD;
        if (ps->len == 3 && memcmp(s, "AND", 3) == 0)
            ps->kind = T_AND;
        else if (ps->len == 2 && memcmp(s, "OR", 2) == 0)
            ps->kind = T_OR;
        else if (ps->len == 3 && memcmp(s, "NOT", 3) == 0)
            ps->kind = T_NOT;
    }
    if (ps->kind == T_WORD || ps->kind == T_PHRASE) {
        if (*ps->p == '*') {
            ps->prefix = true;
            ps->p++;
            if (!is_delim(*ps->p) || *ps->p == '*' || *ps->p == '"')
                return fail(ps, "A '*' must end a word or a phrase.");
        }
    }
    return 0;
}

static bool starts_primary(tok_kind k)
{
    return k == T_WORD || k == T_PHRASE || k == T_LPAREN;
}

static int parse_or(parser *ps);

static int parse_primary(parser *ps)
{
    if (ps->kind == T_LPAREN) {
        if (++ps->depth > 16)
            return fail(ps, "Too many nested parentheses.");
        bs_buf_putc(ps->out, '(');
        int rc = next(ps);
        if (!rc)
            rc = parse_or(ps);
        if (rc)
            return rc;
        if (ps->kind != T_RPAREN)
            return fail(ps, "Missing ')'.");
        ps->depth--;
        bs_buf_putc(ps->out, ')');
        return next(ps);
    }
    if (ps->kind != T_WORD && ps->kind != T_PHRASE)
        return fail(ps, ps->kind == T_END ? "Missing a search term."
                                          : "Expected a word, a phrase or "
                                            "'('.");
    if (++ps->terms > BS_FTS_MAX_TERMS)
        return fail(ps, "Too many search terms.");
    bs_buf_putc(ps->out, '"');
    bs_buf_append(ps->out, ps->start, ps->len);
    bs_buf_putc(ps->out, '"');
    if (ps->prefix)
        bs_buf_putc(ps->out, '*');
    return next(ps);
}

static int parse_not(parser *ps)
{
    int rc = parse_primary(ps);
    while (!rc && ps->kind == T_NOT) {
        bs_buf_puts(ps->out, " NOT ");
        rc = next(ps);
        if (!rc)
            rc = parse_primary(ps);
    }
    return rc;
}

static int parse_and(parser *ps)
{
    int rc = parse_not(ps);
    while (!rc && (ps->kind == T_AND || starts_primary(ps->kind))) {
        bs_buf_puts(ps->out, " AND ");
        if (ps->kind == T_AND)
            rc = next(ps);
        if (!rc)
            rc = parse_not(ps);
    }
    return rc;
}

static int parse_or(parser *ps)
{
    int rc = parse_and(ps);
    while (!rc && ps->kind == T_OR) {
        bs_buf_puts(ps->out, " OR ");
        rc = next(ps);
        if (!rc)
            rc = parse_and(ps);
    }
    return rc;
}

int bs_fts_query_check(const char *text, bs_buf *out, char *msg, size_t cap)
{
    parser ps = {.p = text, .out = out, .msg = msg, .cap = cap};
    if (cap)
        msg[0] = 0;
    if (strlen(text) > BS_FTS_MAX_QUERY)
        return fail(&ps, "The search query is too long.");
    int rc = next(&ps);
    if (!rc)
        rc = parse_or(&ps);
    if (!rc && ps.kind != T_END)
        rc = fail(&ps, ps.kind == T_RPAREN ? "Unexpected ')'."
                                           : "Unexpected operator.");
    if (!rc && out->oom)
        rc = BS_ENOMEM;
    return rc;
}
