/*
 * view.c - view collections: parsing their query, inferring their
 * fields, creating the SQL view, the dry run.
 *
 * The identifiers parser follows PocketBase's on purpose, loose as it
 * is: comments are blanked, JOIN keywords and the keywords that end the
 * interesting part (WHERE, GROUP BY, HAVING, ORDER, LIMIT, WITH) are
 * replaced by markers, the text is split at commas and blanks outside
 * quotes and parentheses, and a small state machine collects the pieces
 * after SELECT, FROM and each JOIN (up to its ON). Each comma-separated
 * piece is then read as "expr", "expr alias" or "expr AS alias". Being
 * this loose is what decides which queries PocketBase accepts (an
 * unaliased "a + b" is refused), so it is kept.
 */
#include "view.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "collection.h"
#include "../schema/index.h"
#include "record.h"
#include "tx.h"
#include "../db/rows.h"
#include "../db/sql.h"

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* ---- text rewriting ----------------------------------------------------- */

/* Blanks SQL comments: block comments and "--" line comments. */
static void strip_comments(const char *s, bs_buf *out)
{
    while (*s) {
        if (s[0] == '/' && s[1] == '*') {
            const char *end = strstr(s + 2, "*/");
            if (end) {
                bs_buf_putc(out, ' ');
                s = end + 2;
                continue;
            }
        }
        if (s[0] == '-' && s[1] == '-' && s[2] && s[2] != '\n') {
            bs_buf_putc(out, ' ');
            s += 2;
            while (*s && *s != '\n')
                s++;
            continue;
        }
        bs_buf_putc(out, *s++);
    }
}

/* Matches a phrase of words separated by whitespace at s, case
 * insensitively; returns its end or NULL. */
static const char *match_phrase(const char *s, const char *phrase)
{
    while (*phrase) {
        if (*phrase == ' ') {
            if (!is_ws(*s))
                return NULL;
            while (is_ws(*s))
                s++;
            phrase++;
            continue;
        }
        if (tolower((unsigned char)*s) != *phrase)
            return NULL;
        s++;
        phrase++;
    }
    return s;
}

/* Replaces "\s+(phrase)\s" by marker, trying the phrases in order at
 * the start of every whitespace run. */
static void replace_keywords(const char *s, const char *const *phrases,
                             const char *marker, bs_buf *out)
{
    const char *p = s;
    while (*p) {
        if (is_ws(*p)) {
            const char *j = p;
            while (is_ws(*j))
                j++;
            const char *end = NULL;
            for (const char *const *ph = phrases; *ph && !end; ph++) {
                const char *e = match_phrase(j, *ph);
                if (e && is_ws(*e))
                    end = e + 1;
            }
            if (end) {
                bs_buf_puts(out, marker);
                p = end;
                continue;
            }
            bs_buf_append(out, p, (size_t)(j - p));
            p = j;
            continue;
        }
        bs_buf_putc(out, *p++);
    }
}

static const char *const JOINS[] = {
    "full outer join", "left outer join", "right outer join", "full join",
    "cross join",      "inner join",      "outer join",       "left join",
    "right join",      "join",            NULL};
static const char *const DISCARDS[] = {"where", "group by", "having", "order",
                                       "limit", "with",     NULL};

/* ---- identifiers -------------------------------------------------------- */

static char *trim_ident(const char *s, bool single_quotes)
{
    const char *chars = single_quotes ? "`\"[];'" : "`\"[];";
    bs_buf b;
    bs_buf_init(&b);
    const char *part = s;
    for (;;) {
        const char *dot = strchr(part, '.');
        size_t n = dot ? (size_t)(dot - part) : strlen(part);
        size_t a = 0;
        while (a < n && strchr(chars, part[a]))
            a++;
        while (n > a && strchr(chars, part[n - 1]))
            n--;
        bs_buf_append(&b, part + a, n - a);
        if (!dot)
            break;
        bs_buf_putc(&b, '.');
        part = dot + 1;
    }
    char *out = strdup(b.data ? b.data : "");
    bs_buf_dispose(&b);
    return out;
}

static void ident_list_free(bs_view_ident *list, int n)
{
    for (int i = 0; i < n; i++) {
        free(list[i].original);
        free(list[i].alias);
    }
    free(list);
}

/* Splits a comma separated expression list into identifiers. */
static int extract(const char *expr, bs_view_ident **out, int *count,
                   char *msg, size_t cap)
{
    *out = NULL;
    *count = 0;
    char **raw = NULL;
    int rc = bs_sql_split(expr, ",", false, &raw);
    if (rc) {
        snprintf(msg, cap, "unbalanced parenthesis or quoted expression");
        return rc == BS_ENOMEM ? rc : BS_EINVAL;
    }
    int n = 0;
    for (char **r = raw; *r; r++)
        n++;
    bs_view_ident *list = calloc((size_t)(n ? n : 1), sizeof *list);
    if (!list) {
        bs_sql_split_free(raw);
        return BS_ENOMEM;
    }
    int k = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char **parts = NULL;
        rc = bs_sql_split(raw[i], " \n\t", false, &parts);
        if (rc) {
            snprintf(msg, cap, "unbalanced parenthesis or quoted expression");
            rc = rc == BS_ENOMEM ? rc : BS_EINVAL;
            break;
        }
        int np = 0;
        while (parts[np])
            np++;
        const char *orig = NULL, *alias = NULL;
        if (np == 3) {
            if (strcasecmp(parts[1], "as") != 0) {
                snprintf(msg, cap,
                         "invalid identifier part - expected \"as\", got %s",
                         parts[1]);
                rc = BS_EINVAL;
            }
            orig = parts[0];
            alias = parts[2];
        } else if (np == 2) {
            orig = parts[0];
            alias = parts[1];
        } else if (np == 1) {
            orig = parts[0];
            const char *dot = strrchr(parts[0], '.');
            alias = dot ? dot + 1 : parts[0];
        } else {
            snprintf(msg, cap, "invalid identifier parts %s", raw[i]);
            rc = BS_EINVAL;
        }
        if (rc == 0) {
            list[k].original = trim_ident(orig, false);
            list[k].alias = trim_ident(alias, true);
            k++;
            if (!list[k - 1].original || !list[k - 1].alias)
                rc = BS_ENOMEM;
        }
        bs_sql_split_free(parts);
    }
    bs_sql_split_free(raw);
    if (rc) {
        ident_list_free(list, k);
        return rc;
    }
    *out = list;
    *count = k;
    return 0;
}

void bs_view_parsed_dispose(bs_view_parsed *p)
{
    ident_list_free(p->columns, p->ncolumns);
    ident_list_free(p->tables, p->ntables);
    memset(p, 0, sizeof *p);
}

int bs_view_parse(const char *query, bs_view_parsed *out, char *msg,
                  size_t cap)
{
    memset(out, 0, sizeof *out);
    /* strings.Trim(strings.TrimSpace(q), ";") */
    while (isspace((unsigned char)*query))
        query++;
    size_t n = strlen(query);
    while (n && isspace((unsigned char)query[n - 1]))
        n--;
    while (n && *query == ';') {
        query++;
        n--;
    }
    while (n && query[n - 1] == ';')
        n--;
    char *q = strndup(query, n);
    if (!q)
        return BS_ENOMEM;
    bs_buf a, b, c;
    bs_buf_init(&a);
    bs_buf_init(&b);
    bs_buf_init(&c);
    strip_comments(q, &a);
    free(q);
    replace_keywords(a.data ? a.data : "", JOINS, " __pb_join__ ", &b);
    replace_keywords(b.data ? b.data : "", DISCARDS, " __pb_discard__ ", &c);
    int rc = (a.oom || b.oom || c.oom) ? BS_ENOMEM : 0;
    char **tokens = NULL;
    if (rc == 0) {
        rc = bs_sql_split(c.data ? c.data : "", ", \n\t", true, &tokens);
        if (rc == BS_EINVAL)
            snprintf(msg, cap, "unbalanced parenthesis or quoted expression");
    }
    bs_buf sel, from, join;
    bs_buf_init(&sel);
    bs_buf_init(&from);
    bs_buf_init(&join);
    if (rc == 0) {
        bool skip = false;
        enum { NONE, SEL, FROM, JOIN } part = NONE;
        bs_buf *active = NULL;
        for (char **t = tokens; *t; t++) {
            char low[32];
            const char *s = *t;
            while (isspace((unsigned char)*s))
                s++;
            size_t len = strlen(s);
            while (len && isspace((unsigned char)s[len - 1]))
                len--;
            if (len < sizeof low) {
                for (size_t i = 0; i < len; i++)
                    low[i] = (char)tolower((unsigned char)s[i]);
                low[len] = '\0';
            } else {
                low[0] = '\0';
            }
            if (strcmp(low, "select") == 0) {
                skip = false;
                part = SEL;
                active = &sel;
            } else if (strcmp(low, "distinct") == 0) {
                continue;
            } else if (strcmp(low, "from") == 0) {
                skip = false;
                part = FROM;
                active = &from;
            } else if (strcmp(low, "__pb_join__") == 0) {
                skip = false;
                if (part == JOIN)
                    bs_buf_putc(&join, ',');
                part = JOIN;
                active = &join;
            } else if (strcmp(low, "__pb_discard__") == 0) {
                skip = true;
            } else {
                if (part == JOIN && strcmp(low, "on") == 0)
                    skip = true;
                if (!skip && active) {
                    bs_buf_putc(active, ' ');
                    bs_buf_puts(active, *t);
                }
            }
        }
        bs_sql_split_free(tokens);
        if (sel.oom || from.oom || join.oom)
            rc = BS_ENOMEM;
    }
    bs_view_ident *froms = NULL, *joins = NULL;
    int nfroms = 0, njoins = 0;
    if (rc == 0)
        rc = extract(sel.data ? sel.data : "", &out->columns, &out->ncolumns,
                     msg, cap);
    if (rc == 0)
        rc = extract(from.data ? from.data : "", &froms, &nfroms, msg, cap);
    if (rc == 0)
        rc = extract(join.data ? join.data : "", &joins, &njoins, msg, cap);
    if (rc == 0) {
        out->tables = calloc((size_t)(nfroms + njoins + 1), sizeof *out->tables);
        if (!out->tables) {
            rc = BS_ENOMEM;
        } else {
            memcpy(out->tables, froms, sizeof *froms * (size_t)nfroms);
            memcpy(out->tables + nfroms, joins, sizeof *joins * (size_t)njoins);
            out->ntables = nfroms + njoins;
            free(froms);
            free(joins);
            froms = joins = NULL;
            nfroms = njoins = 0;
        }
    }
    ident_list_free(froms, nfroms);
    ident_list_free(joins, njoins);
    if (rc)
        bs_view_parsed_dispose(out);
    bs_buf_dispose(&a);
    bs_buf_dispose(&b);
    bs_buf_dispose(&c);
    bs_buf_dispose(&sel);
    bs_buf_dispose(&from);
    bs_buf_dispose(&join);
    return rc;
}

char *bs_view_normalize_query(const char *query, char *msg, size_t cap)
{
    while (isspace((unsigned char)*query))
        query++;
    size_t n = strlen(query);
    while (n && isspace((unsigned char)query[n - 1]))
        n--;
    while (n && *query == ';') {
        query++;
        n--;
    }
    while (n && query[n - 1] == ';')
        n--;
    char *q = strndup(query, n);
    if (!q)
        return NULL;
    char **parts = NULL;
    int rc = bs_sql_split(q, ";", false, &parts);
    int count = 0;
    if (rc == 0) {
        while (parts[count])
            count++;
        bs_sql_split_free(parts);
    }
    if (rc == 0 && count > 1) {
        snprintf(msg, cap, "multiple statements are not supported");
        free(q);
        return NULL;
    }
    return q;
}

/* ---- SQLite's view of the query ----------------------------------------- */

static void random_suffix(char *out, size_t n)
{
    if (bs_random_string(out, n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                 "OPQRSTUVWXYZ0123456789"))
        memset(out, 'x', n), out[n] = '\0';
}

int bs_view_drop(bs_conn *conn, const char *name, char *msg, size_t cap)
{
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "DROP VIEW IF EXISTS ");
    bs_ddl_ident(&sql, name);
    int rc = sql.oom ? BS_ENOMEM : bs_conn_exec1(conn, sql.data, msg, cap);
    bs_buf_dispose(&sql);
    return rc;
}

typedef struct col_info {
    char **names;
    char **types;
    int n;
} col_info;

static void col_info_dispose(col_info *ci)
{
    for (int i = 0; i < ci->n; i++) {
        free(ci->names[i]);
        free(ci->types[i]);
    }
    free(ci->names);
    free(ci->types);
    memset(ci, 0, sizeof *ci);
}

static int table_info(bs_conn *conn, const char *name, col_info *ci,
                      char *msg, size_t cap)
{
    memset(ci, 0, sizeof *ci);
    bs_rows st;
    if (bs_rows_open(&st, conn, "SELECT name, type FROM pragma_table_info(?1)",
                     -1, BS_ROWS_ONCE) != 0) {
        snprintf(msg, cap, "%s", bs_conn_errmsg(conn));
        bs_rows_close(&st);
        return BS_EINVAL;
    }
    bs_rows_bind_text(&st, 1, name, -1);
    int step, rc = 0;
    while ((step = bs_rows_next(&st)) == 1) {
        char **nn = realloc(ci->names, sizeof *nn * (size_t)(ci->n + 1));
        if (nn)
            ci->names = nn;
        char **nt = realloc(ci->types, sizeof *nt * (size_t)(ci->n + 1));
        if (nt)
            ci->types = nt;
        if (!nn || !nt) {
            rc = BS_ENOMEM;
            break;
        }
        const char *cn = bs_rows_text(&st, 0, NULL);
        const char *ct = bs_rows_text(&st, 1, NULL);
        ci->names[ci->n] = strdup(cn ? cn : "");
        ci->types[ci->n] = strdup(ct ? ct : "");
        ci->n++;
    }
    if (rc == 0 && step < 0) {
        snprintf(msg, cap, "%s", bs_rows_errmsg(&st));
        rc = BS_EINVAL;
    }
    bs_rows_close(&st);
    if (rc == 0 && ci->n == 0) {
        snprintf(msg, cap,
                 "empty table info probably due to invalid or missing table "
                 "%s",
                 name);
        rc = BS_EINVAL;
    }
    if (rc)
        col_info_dispose(ci);
    return rc;
}

/* CREATE VIEW name AS SELECT * FROM (query), checked to work. */
static int create_view(bs_conn *conn, const char *name, const char *query,
                       char *msg, size_t cap)
{
    int rc = bs_view_drop(conn, name, msg, cap);
    if (rc)
        return rc;
    char *q = bs_view_normalize_query(query, msg, cap);
    if (!q)
        return BS_EINVAL;
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "CREATE VIEW ");
    bs_ddl_ident(&sql, name);
    bs_buf_puts(&sql, " AS SELECT * FROM (");
    bs_buf_puts(&sql, q);
    bs_buf_puts(&sql, ")");
    free(q);
    rc = sql.oom ? BS_ENOMEM : bs_conn_exec1(conn, sql.data, msg, cap);
    bs_buf_dispose(&sql);
    if (rc)
        return rc == BS_ENOMEM ? rc : BS_EINVAL;
    col_info ci;
    rc = table_info(conn, name, &ci, msg, cap);
    if (rc) {
        char ignore[64];
        bs_view_drop(conn, name, ignore, sizeof ignore);
        return rc;
    }
    col_info_dispose(&ci);
    return 0;
}

/* The columns the query returns, through a temporary view. */
static int query_info(bs_conn *conn, const char *query, col_info *ci,
                      char *msg, size_t cap)
{
    char name[16] = "_temp_";
    random_suffix(name + 6, 6);
    int rc = create_view(conn, name, query, msg, cap);
    if (rc)
        return rc;
    rc = table_info(conn, name, ci, msg, cap);
    char ignore[64];
    bs_view_drop(conn, name, ignore, sizeof ignore);
    return rc;
}

/* Wraps the query so that its id is text (PocketBase's
 * normalizeViewQueryId). Returns a new string or NULL. */
static char *normalize_id(bs_conn *conn, const char *query, char *msg,
                          size_t cap)
{
    char *q = bs_view_normalize_query(query, msg, cap);
    if (!q)
        return NULL;
    col_info ci;
    if (query_info(conn, q, &ci, msg, cap) != 0) {
        free(q);
        return NULL;
    }
    bool text_id = false;
    for (int i = 0; i < ci.n; i++) {
        if (strcasecmp(ci.names[i], "id") == 0 &&
            strcasecmp(ci.types[i], "text") == 0)
            text_id = true;
    }
    col_info_dispose(&ci);
    if (text_id)
        return q;
    bs_view_parsed p;
    if (bs_view_parse(q, &p, msg, cap) != 0) {
        free(q);
        return NULL;
    }
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "SELECT ");
    for (int i = 0; i < p.ncolumns; i++) {
        if (i)
            bs_buf_putc(&b, ',');
        if (strcmp(p.columns[i].alias, "id") == 0) {
            bs_buf_puts(&b, "CAST(");
            bs_ddl_ident(&b, p.columns[i].alias);
            bs_buf_puts(&b, " as TEXT) ");
            bs_ddl_ident(&b, p.columns[i].alias);
        } else {
            bs_ddl_ident(&b, p.columns[i].alias);
        }
    }
    bs_buf_puts(&b, " FROM (");
    bs_buf_puts(&b, q);
    bs_buf_putc(&b, ')');
    bs_view_parsed_dispose(&p);
    free(q);
    char *out = b.oom ? NULL : strdup(b.data);
    bs_buf_dispose(&b);
    return out;
}

int bs_view_save(bs_conn *conn, const char *name, const char *query,
                 char *msg, size_t cap)
{
    char *q = normalize_id(conn, query, msg, cap);
    if (!q) {
        if (!*msg)
            snprintf(msg, cap, "failed to normalize view query id");
        return BS_EINVAL;
    }
    int rc = create_view(conn, name, q, msg, cap);
    free(q);
    return rc;
}

/* ---- field inference ---------------------------------------------------- */

static json_object *new_field(const char *type, const char *name)
{
    json_object *raw = json_object_new_object();
    json_object_object_add(raw, "type", json_object_new_string(type));
    json_object_object_add(raw, "name", json_object_new_string(name));
    json_object *f = bs_field_canonical(raw);
    json_object_put(raw);
    json_object_object_add(f, "id", json_object_new_string(""));
    return f;
}

static json_object *default_id_field(void)
{
    json_object *f = new_field("text", "id");
    json_object_object_add(f, "system", json_object_new_boolean(1));
    json_object_object_add(f, "required", json_object_new_boolean(1));
    json_object_object_add(f, "primaryKey", json_object_new_boolean(1));
    json_object_object_add(f, "pattern", json_object_new_string("^[a-z0-9]+$"));
    return f;
}

static json_object *default_field(const char *name)
{
    if (strcmp(name, "id") == 0)
        return default_id_field();
    json_object *f = new_field("json", name);
    json_object_object_add(f, "maxSize", json_object_new_int(1));
    return f;
}

/* The type word of "cast(... as <type>)", lower-cased, or "". */
static void cast_type(const char *lower, char *out, size_t cap)
{
    out[0] = '\0';
    if (strncmp(lower, "cast", 4) != 0)
        return;
    const char *p = lower + 4;
    while (is_ws(*p))
        p++;
    if (*p != '(')
        return;
    size_t n = strlen(lower);
    if (n == 0 || lower[n - 1] != ')')
        return;
    n--;
    while (n > 0 && is_ws(lower[n - 1]))
        n--;
    size_t w = n;
    while (w > 0 && (isalnum((unsigned char)lower[w - 1]) ||
                     lower[w - 1] == '_'))
        w--;
    if (w == n || w == 0 || !is_ws(lower[w - 1]))
        return;
    size_t k = w;
    while (k > 0 && is_ws(lower[k - 1]))
        k--;
    if (k < 2 || lower[k - 2] != 'a' || lower[k - 1] != 's' ||
        k - 2 <= (size_t)(p - lower) || !is_ws(lower[k - 3]))
        return;
    if (n - w < cap) {
        memcpy(out, lower + w, n - w);
        out[n - w] = '\0';
    }
}

static json_object *find_collection(json_object *all, const char *name)
{
    size_t n = json_object_array_length(all);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(all, i);
        if (strcmp(bs_json_get_str(c, "name", ""), name) == 0)
            return c;
    }
    return NULL;
}

/* The collection a table alias stands for, or NULL. */
static json_object *alias_collection(const bs_view_parsed *p, json_object *all,
                                     const char *alias)
{
    json_object *found = NULL;
    for (int i = 0; i < p->ntables; i++) {
        if (strchr(p->tables[i].alias, '('))
            continue;
        if (strcmp(p->tables[i].alias, alias) == 0) {
            json_object *c = find_collection(all, p->tables[i].original);
            if (c)
                found = c;
        }
    }
    return found;
}

/* The suggested field of one column (a new reference). */
static json_object *suggest(const bs_view_parsed *p, json_object *all,
                            const bs_view_ident *col)
{
    if (strcmp(col->alias, "id") == 0)
        return default_id_field();
    size_t n = strlen(col->original);
    char *lower = malloc(n + 1);
    if (!lower)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)col->original[i]);
    json_object *f = NULL;
    char ct[32];
    cast_type(lower, ct, sizeof ct);
    if (strncmp(lower, "count(", 6) == 0) {
        f = new_field("number", col->alias);
        json_object_object_add(f, "onlyInt", json_object_new_boolean(1));
    } else if (strncmp(lower, "total(", 6) == 0) {
        f = new_field("number", col->alias);
    } else if (strcmp(ct, "real") == 0 || strcmp(ct, "decimal") == 0 ||
               strcmp(ct, "numeric") == 0) {
        f = new_field("number", col->alias);
    } else if (strcmp(ct, "int") == 0 || strcmp(ct, "integer") == 0) {
        f = new_field("number", col->alias);
        json_object_object_add(f, "onlyInt", json_object_new_boolean(1));
    } else if (strcmp(ct, "text") == 0) {
        f = new_field("text", col->alias);
    } else if (strcmp(ct, "boolean") == 0 || strcmp(ct, "bool") == 0) {
        f = new_field("bool", col->alias);
    }
    free(lower);
    if (f)
        return f;

    const char *dot = strchr(col->original, '.');
    bool two = dot && !strchr(dot + 1, '.');
    char *table = NULL;
    const char *field_name;
    if (two) {
        table = strndup(col->original, (size_t)(dot - col->original));
        field_name = dot + 1;
    } else {
        /* The whole text up to the first dot. */
        table = p->ntables > 0 ? strdup(p->tables[0].alias) : NULL;
        field_name = col->original;
    }
    char first_part[256];
    if (!two) {
        size_t len = dot ? (size_t)(dot - col->original) : strlen(col->original);
        if (len >= sizeof first_part)
            len = sizeof first_part - 1;
        memcpy(first_part, col->original, len);
        first_part[len] = '\0';
        field_name = first_part;
    }
    json_object *c = table ? alias_collection(p, all, table) : NULL;
    free(table);
    if (!c)
        return default_field(col->alias);
    json_object *match = NULL;
    json_object *fields = bs_json_get(c, "fields");
    size_t nf = json_object_array_length(fields);
    for (size_t i = 0; i < nf && !match; i++) {
        json_object *x = json_object_array_get_idx(fields, i);
        if (strcasecmp(bs_json_get_str(x, "name", ""), field_name) == 0)
            match = x;
    }
    if (!match)
        return default_field(col->alias);
    if (strcasecmp(field_name, "id") == 0) {
        f = new_field("relation", col->alias);
        json_object_object_add(f, "maxSelect", json_object_new_int(1));
        json_object_object_add(f, "collectionId",
                               json_object_new_string(
                                   bs_json_get_str(c, "id", "")));
        return f;
    }
    f = bs_field_canonical(match);
    if (!f)
        return default_field(col->alias);
    char id[16] = "_clone_";
    random_suffix(id + 7, 4);
    json_object_object_add(f, "id", json_object_new_string(id));
    json_object_object_add(f, "name", json_object_new_string(col->alias));
    return f;
}

int bs_view_fields(bs_app *app, bs_conn *conn, const char *query,
                   json_object **fields, char *msg, size_t cap)
{
    (void)app;
    *fields = NULL;
    bs_view_parsed p;
    int rc = bs_view_parse(query, &p, msg, cap);
    if (rc)
        return rc;
    json_object *all = NULL;
    rc = bs_collection_load_all(conn, &all);
    if (rc) {
        snprintf(msg, cap, "failed to load the collections");
        bs_view_parsed_dispose(&p);
        return rc;
    }
    /* Suggestions by alias (a later column of the same alias wins). */
    json_object *suggested = json_object_new_object();
    for (int i = 0; i < p.ncolumns && rc == 0; i++) {
        if (strcmp(p.columns[i].alias, "*") == 0) {
            snprintf(msg, cap,
                     "wildcard columns (*) are not supported - manually type "
                     "the collection field names you want the view query to "
                     "have");
            rc = BS_EINVAL;
            break;
        }
        json_object *f = suggest(&p, all, &p.columns[i]);
        if (!f) {
            rc = BS_ENOMEM;
            break;
        }
        json_object_object_add(suggested, p.columns[i].alias, f);
    }
    col_info ci = {0};
    if (rc == 0)
        rc = query_info(conn, query, &ci, msg, cap);
    json_object *list = NULL;
    if (rc == 0) {
        list = json_object_new_array();
        bool has_id = false;
        for (int i = 0; i < ci.n; i++) {
            if (strcmp(ci.names[i], "id") == 0)
                has_id = true;
            json_object *s = bs_json_get(suggested, ci.names[i]);
            json_object *f = NULL;
            if (s)
                json_object_deep_copy(s, &f, NULL);
            else
                f = default_field(ci.names[i]);
            if (!*bs_json_get_str(f, "id", ""))
                json_object_object_del(f, "id");
            bs_fields_add(list, f);
        }
        if (!has_id) {
            snprintf(msg, cap,
                     "missing required id column (you can use "
                     "`(ROW_NUMBER() OVER()) as id` if you don't have one)");
            rc = BS_EINVAL;
        }
    }
    col_info_dispose(&ci);
    json_object_put(suggested);
    json_object_put(all);
    bs_view_parsed_dispose(&p);
    if (rc) {
        if (list)
            json_object_put(list);
        return rc;
    }
    *fields = list;
    return 0;
}

/* ---- dependent views ---------------------------------------------------- */

static void strip_ids(json_object *fields)
{
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++)
        json_object_object_add(json_object_array_get_idx(fields, i), "id",
                               json_object_new_string(""));
}

static bool same_fields(const json_object *a, const json_object *b)
{
    json_object *x = NULL, *y = NULL;
    json_object_deep_copy((json_object *)a, &x, NULL);
    json_object_deep_copy((json_object *)b, &y, NULL);
    bool same = false;
    if (x && y) {
        json_object *cx = json_object_new_array(), *cy = json_object_new_array();
        size_t n = json_object_array_length(x);
        for (size_t i = 0; i < n; i++) {
            json_object *c = bs_field_canonical(json_object_array_get_idx(x, i));
            json_object_array_add(cx, c);
        }
        n = json_object_array_length(y);
        for (size_t i = 0; i < n; i++) {
            json_object *c = bs_field_canonical(json_object_array_get_idx(y, i));
            json_object_array_add(cy, c);
        }
        strip_ids(cx);
        strip_ids(cy);
        bs_buf bx, by;
        bs_buf_init(&bx);
        bs_buf_init(&by);
        bs_json_write_sorted(&bx, cx);
        bs_json_write_sorted(&by, cy);
        same = bx.len == by.len &&
               (bx.len == 0 || strncasecmp(bx.data, by.data, bx.len) == 0);
        bs_buf_dispose(&bx);
        bs_buf_dispose(&by);
        json_object_put(cx);
        json_object_put(cy);
    }
    if (x)
        json_object_put(x);
    if (y)
        json_object_put(y);
    return same;
}

int bs_view_check_dependents(bs_app *app, bs_conn *conn,
                             const char *exclude_id, char *msg, size_t cap)
{
    json_object *all = NULL;
    int rc = bs_collection_load_all(conn, &all);
    if (rc) {
        snprintf(msg, cap, "failed to load the collections");
        return rc;
    }
    bs_buf errors;
    bs_buf_init(&errors);
    size_t n = json_object_array_length(all);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(all, i);
        if (strcmp(bs_json_get_str(c, "type", ""), "view") != 0 ||
            (exclude_id &&
             strcmp(bs_json_get_str(c, "id", ""), exclude_id) == 0))
            continue;
        char one[400] = "";
        json_object *fields = NULL;
        int frc = bs_view_fields(app, conn, bs_json_get_str(c, "viewQuery", ""),
                                 &fields, one, sizeof one);
        if (frc == 0 && !same_fields(fields, bs_json_get(c, "fields"))) {
            /* Save it, undoing its partial work if that fails. */
            char ignore[64];
            bs_conn_exec1(conn, "SAVEPOINT bs_dependent_view", ignore,
                         sizeof ignore);
            bs_error err;
            bs_error_init(&err);
            frc = bs_collection_save(app, c, NULL, BS_COLLECTION_NO_VALIDATE,
                                     &err);
            if (frc) {
                snprintf(one, sizeof one, "%s",
                         err.message ? err.message : "failed to save");
                bs_conn_exec1(conn, "ROLLBACK TO bs_dependent_view", ignore,
                             sizeof ignore);
            }
            bs_conn_exec1(conn, "RELEASE bs_dependent_view", ignore,
                         sizeof ignore);
            bs_error_dispose(&err);
        }
        if (fields)
            json_object_put(fields);
        if (frc) {
            if (errors.len)
                bs_buf_puts(&errors, "; ");
            bs_buf_printf(&errors, "[%s] %s", bs_json_get_str(c, "name", ""),
                          one);
        }
    }
    json_object_put(all);
    if (errors.len) {
        snprintf(msg, cap, "%s", errors.data);
        rc = BS_EINVAL;
    }
    bs_buf_dispose(&errors);
    return rc;
}

/* ---- dry run ------------------------------------------------------------ */

typedef struct dry_ctx {
    const char *query;
    int sample_size;
    bs_buf *out;
    char *msg;
    size_t cap;
    bool done;
} dry_ctx;

static int dry_tx(bs_tx *tx, void *data)
{
    dry_ctx *d = data;
    bs_app *app = bs_tx_app(tx);
    bs_conn *conn = bs_tx_conn(tx);
    char *q = bs_view_normalize_query(d->query, d->msg, d->cap);
    if (!q)
        return BS_EINVAL;
    json_object *fields = NULL;
    int rc = bs_view_fields(app, conn, q, &fields, d->msg, d->cap);
    char tname[16] = "temp_view_";
    random_suffix(tname + 10, 5);
    json_object *tcol = bs_collection_scaffold("view", tname, NULL);
    if (rc == 0 && tcol) {
        json_object_object_add(tcol, "fields", json_object_get(fields));
        size_t n = json_object_array_length(fields);
        for (size_t i = 0; i < n && rc == 0; i++) {
            json_object *f = json_object_array_get_idx(fields, i);
            char one[300];
            if (bs_field_settings_check(app, conn, f, tcol, one, sizeof one)) {
                snprintf(d->msg, d->cap, "invalid field \"%s\" (%zu): %s",
                         bs_json_get_str(f, "name", ""), i, one);
                rc = BS_EINVAL;
            }
        }
    }
    char *nq = NULL;
    if (rc == 0) {
        nq = normalize_id(conn, q, d->msg, d->cap);
        if (!nq) {
            char inner[400];
            snprintf(inner, sizeof inner, "%s", d->msg);
            snprintf(d->msg, d->cap, "failed to normalize view query id: %s",
                     inner);
            rc = BS_EINVAL;
        }
    }
    bs_record **recs = NULL;
    int nrecs = 0;
    bs_schema *schema = bs_app_schema(app);
    bs_collection tmp = {0};
    if (rc == 0) {
        tmp.id = (char *)bs_json_get_str(tcol, "id", "");
        tmp.name = tname;
        tmp.type = "view";
        tmp.fields = fields;
        if (bs_collection_fill_finfo(&tmp) != 0)
            rc = BS_ENOMEM;
        bs_buf sql;
        bs_buf_init(&sql);
        if (rc)
            sql.oom = true;
        bs_buf_puts(&sql, "SELECT ");
        bs_ddl_ident(&sql, tname);
        bs_buf_puts(&sql, ".* FROM (SELECT * FROM (");
        bs_buf_puts(&sql, nq);
        bs_buf_puts(&sql, ")) AS ");
        bs_ddl_ident(&sql, tname);
        bs_buf_printf(&sql, " LIMIT %d", d->sample_size);
        bs_rows st;
        st = (bs_rows){0};
        if (sql.oom) {
            rc = BS_ENOMEM;
        } else if (bs_rows_open(&st, conn, sql.data, (long)sql.len,
                                BS_ROWS_ONCE) != 0) {
            snprintf(d->msg, d->cap, "failed to retrieve query records: %s",
                     bs_conn_errmsg(conn));
            rc = BS_EINVAL;
        } else {
            int step;
            while ((step = bs_rows_next(&st)) == 1) {
                bs_record **t = realloc(recs, sizeof *recs * (size_t)(nrecs + 1));
                if (!t) {
                    rc = BS_ENOMEM;
                    break;
                }
                recs = t;
                recs[nrecs] = bs_record_from_row(schema, &tmp, &st);
                if (recs[nrecs])
                    nrecs++;
            }
            if (rc == 0 && step < 0) {
                snprintf(d->msg, d->cap,
                         "failed to retrieve query records: %s",
                         bs_rows_errmsg(&st));
                rc = BS_EINVAL;
            }
        }
        bs_rows_close(&st);
        bs_buf_dispose(&sql);
    }
    for (int i = 0; i < nrecs && rc == 0; i++) {
        const char *id = bs_record_id(recs[i]);
        if (!*id) {
            snprintf(d->msg, d->cap,
                     "the query could return records with empty or invalid "
                     "ids");
            rc = BS_EINVAL;
        }
        for (int j = 0; j < i && rc == 0; j++) {
            if (strcmp(id, bs_record_id(recs[j])) == 0) {
                snprintf(d->msg, d->cap,
                         "the query could return records with non-unique "
                         "ids");
                rc = BS_EINVAL;
            }
        }
    }
    if (rc == 0) {
        bs_buf_puts(d->out, "{\"fields\":");
        bs_json_write_sorted(d->out, fields);
        bs_buf_puts(d->out, ",\"sample\":[");
        for (int i = 0; i < nrecs; i++) {
            if (i)
                bs_buf_putc(d->out, ',');
            bs_record_write_json(recs[i], d->out);
        }
        bs_buf_puts(d->out, "]}");
        d->done = true;
    }
    for (int i = 0; i < nrecs; i++)
        bs_record_free(recs[i]);
    free(recs);
    free(tmp.finfo);
    bs_schema_unref(schema);
    free(nq);
    free(q);
    if (tcol)
        json_object_put(tcol);
    if (fields)
        json_object_put(fields);
    /* Roll back whatever the query could have touched. */
    return rc ? rc : BS_EABORT;
}

int bs_view_dry_run(bs_app *app, const char *query, int sample_size,
                    bs_buf *out, char *msg, size_t cap)
{
    dry_ctx d = {.query = query, .sample_size = sample_size, .out = out,
                 .msg = msg, .cap = cap};
    msg[0] = '\0';
    bs_error err;
    bs_error_init(&err);
    int rc = bs_run_in_transaction(app, dry_tx, &d, &err);
    bs_error_dispose(&err);
    if (d.done)
        return 0;
    if (rc == 0 || rc == BS_EABORT)
        rc = BS_EINVAL;
    if (!msg[0])
        snprintf(msg, cap, "%s", bs_strerror(rc));
    return rc;
}

/* ---- files of view collections ---------------------------------------- */

/* The collection and field the column `field` of a view's query reads:
 * "alias.name" or a bare "name" of the first table, when that names a
 * file field of a collection. */
static int file_column_source(const bs_schema *s, const bs_collection *view,
                              const char *field, const bs_collection **src,
                              const bs_finfo **src_field)
{
    bs_view_parsed p;
    char msg[256];
    const char *query = bs_json_get_str(view->options, "viewQuery", "");
    if (bs_view_parse(query, &p, msg, sizeof msg) != 0)
        return BS_ENOTFOUND;
    int rc = BS_ENOTFOUND;
    for (int i = 0; i < p.ncolumns && rc == BS_ENOTFOUND; i++) {
        const bs_view_ident *col = &p.columns[i];
        if (strcmp(col->alias, field) != 0)
            continue;
        const char *dot = strchr(col->original, '.');
        char table[256], name[256];
        if (dot && !strchr(dot + 1, '.')) {
            snprintf(table, sizeof table, "%.*s",
                     (int)(dot - col->original), col->original);
            snprintf(name, sizeof name, "%s", dot + 1);
        } else {
            snprintf(table, sizeof table, "%s",
                     p.ntables > 0 ? p.tables[0].alias : "");
            snprintf(name, sizeof name, "%.*s",
                     (int)(dot ? (size_t)(dot - col->original)
                               : strlen(col->original)),
                     col->original);
        }
        const bs_collection *c = NULL;
        for (int t = 0; t < p.ntables; t++) {
            const bs_collection *x =
                strchr(p.tables[t].alias, '(') ||
                        strcmp(p.tables[t].alias, table) != 0
                    ? NULL
                    : bs_schema_find(s, p.tables[t].original);
            if (x)
                c = x; /* a later table of the same alias wins */
        }
        for (int k = 0; c && k < c->nfields; k++) {
            if (strcasecmp(c->finfo[k].name, name) == 0 &&
                c->finfo[k].type == BS_F_FILE) {
                *src = c;
                *src_field = &c->finfo[k];
                rc = 0;
                break;
            }
        }
    }
    bs_view_parsed_dispose(&p);
    return rc;
}

int bs_view_file_record(bs_app *app, const bs_schema *s,
                        const bs_collection *view, const char *field,
                        const char *filename, const bs_collection **src,
                        char **id)
{
    *id = NULL;
    const bs_collection *c = view;
    const bs_finfo *fi = NULL;
    char name[256];
    snprintf(name, sizeof name, "%s", field);
    for (int level = 1; strcmp(c->type, "view") == 0; level++) {
        if (level > 5)
            return BS_ENOTFOUND;
        const bs_collection *next = NULL;
        if (file_column_source(s, c, name, &next, &fi) != 0)
            return BS_ENOTFOUND;
        c = next;
        snprintf(name, sizeof name, "%s", fi->name);
    }
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "SELECT id FROM ");
    bs_sql_ident(&sql, c->name);
    if (fi->multiple) {
        bs_buf_puts(&sql, " WHERE EXISTS (SELECT 1 FROM json_each(CASE WHEN "
                          "json_valid(");
        bs_sql_ident(&sql, fi->name);
        bs_buf_puts(&sql, ") THEN ");
        bs_sql_ident(&sql, fi->name);
        bs_buf_puts(&sql, " ELSE '[]' END) WHERE value = ?1) LIMIT 1");
    } else {
        bs_buf_puts(&sql, " WHERE ");
        bs_sql_ident(&sql, fi->name);
        bs_buf_puts(&sql, " = ?1 LIMIT 1");
    }
    if (sql.oom) {
        bs_buf_dispose(&sql);
        return BS_ENOMEM;
    }
    bs_conn *conn = bs_store_reader_acquire(app->store);
    bs_rows st;
    st = (bs_rows){0};
    int rc = bs_rows_open(&st, conn, sql.data, (long)sql.len, BS_ROWS_ONCE);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, filename, -1);
        int step = bs_rows_next(&st);
        if (step == 1) {
            const char *v = bs_rows_text(&st, 0, NULL);
            *id = v ? strdup(v) : NULL;
            rc = *id ? 0 : BS_ENOMEM;
        } else {
            rc = step == 0 ? BS_ENOTFOUND : BS_EDB;
        }
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, conn);
    bs_buf_dispose(&sql);
    if (rc == 0)
        *src = c;
    return rc;
}
