/*
 * index.c - parsing and rebuilding collection index definitions.
 *
 * PocketBase reads an index with one loose regular expression,
 *
 *   create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+
 *   (\S*)\s*\(([\s\S]*)\)(?:\s*where\s+([\s\S]*))?
 *
 * matched case-insensitively anywhere in the text. The scanner below
 * walks the same steps by hand. Because the column group is greedy it
 * runs to the last ')' of the text, so a WHERE clause is only recognized
 * after it; we keep that behaviour so that the same texts are accepted
 * and rejected.
 */
#include "index.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basalt.h"

/* ---- the tokenizer ------------------------------------------------------ */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static bool is_quote(char c)
{
    return c == '\'' || c == '"' || c == '`';
}

void bs_sql_split_free(char **parts)
{
    if (!parts)
        return;
    for (char **p = parts; *p; p++)
        free(*p);
    free(parts);
}

/* Appends a trimmed copy of s[0..n) to the list (empty pieces dropped). */
static int push_piece(char ***list, size_t *count, size_t *cap,
                      const char *s, size_t n, const char *seps)
{
    size_t a = 0, b = n;
    while (a < b && is_ws(s[a]) && !strchr(seps, s[a]))
        a++;
    while (b > a && is_ws(s[b - 1]) && !strchr(seps, s[b - 1]))
        b--;
    if (a == b)
        return 0;
    if (*count + 2 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        char **tmp = realloc(*list, ncap * sizeof *tmp);
        if (!tmp)
            return BS_ENOMEM;
        *list = tmp;
        *cap = ncap;
    }
    char *copy = strndup(s + a, b - a);
    if (!copy)
        return BS_ENOMEM;
    (*list)[(*count)++] = copy;
    (*list)[*count] = NULL;
    return 0;
}

int bs_sql_split(const char *s, const char *seps, bool keep_sep, char ***out)
{
    char **list = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    *out = NULL;
    const char *start = s;
    int parens = 0;
    char quote = 0, prev = 0;
    const char *p = s;
    for (;; p++) {
        char ch = *p;
        if (ch == '\0') {
            if (parens > 0 || quote) {
                rc = BS_EINVAL;
                goto fail;
            }
            rc = push_piece(&list, &count, &cap, start, (size_t)(p - start),
                            seps);
            if (rc)
                goto fail;
            break;
        }
        if (prev != '\\') {
            if (ch == '(' && !quote)
                parens++;
            else if (ch == ')' && parens > 0 && !quote)
                parens--;
            else if (is_quote(ch)) {
                if (quote == ch)
                    quote = 0;
                else if (!quote)
                    quote = ch;
            }
        }
        if (strchr(seps, ch) && parens == 0 && !quote) {
            size_t n = (size_t)(p - start) + (keep_sep ? 1 : 0);
            rc = push_piece(&list, &count, &cap, start, n, seps);
            if (rc)
                goto fail;
            start = p + 1;
            prev = 0;
            continue;
        }
        prev = ch;
    }
    if (!list) {
        list = calloc(1, sizeof *list);
        if (!list)
            return BS_ENOMEM;
    }
    *out = list;
    return 0;

fail:
    if (list) {
        for (size_t i = 0; i < count; i++)
            free(list[i]);
        free(list);
    }
    return rc;
}

/* ---- parsing ------------------------------------------------------------ */

static const char TRIM_CHARS[] = "`\"'[]\r\n\t\f\v ";

/* A copy of s[0..n) without the leading and trailing TRIM_CHARS. */
static char *trim_copy(const char *s, size_t n)
{
    size_t a = 0, b = n;
    while (a < b && strchr(TRIM_CHARS, s[a]))
        a++;
    while (b > a && strchr(TRIM_CHARS, s[b - 1]))
        b--;
    return strndup(s + a, b - a);
}

static const char *skip_ws(const char *s)
{
    while (is_ws(*s))
        s++;
    return s;
}

/* Matches a keyword case-insensitively; returns the end or NULL. */
static const char *keyword(const char *s, const char *kw)
{
    size_t n = strlen(kw);
    return strncasecmp(s, kw, n) == 0 ? s + n : NULL;
}

/* Matches "kw\s+" and returns the position after the spaces. */
static const char *keyword_ws(const char *s, const char *kw)
{
    const char *e = keyword(s, kw);
    if (!e || !is_ws(*e))
        return NULL;
    return skip_ws(e);
}

static int set_str(char **slot, const char *s, size_t n)
{
    char *copy = strndup(s, n);
    if (!copy)
        return BS_ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

int bs_index_set(char **slot, const char *value)
{
    return set_str(slot, value, strlen(value));
}

static void index_init(bs_index *idx)
{
    memset(idx, 0, sizeof *idx);
}

void bs_index_dispose(bs_index *idx)
{
    free(idx->schema_name);
    free(idx->index_name);
    free(idx->table_name);
    free(idx->where);
    for (int i = 0; i < idx->ncolumns; i++) {
        free(idx->columns[i].name);
        free(idx->columns[i].collate);
        free(idx->columns[i].sort);
    }
    index_init(idx);
}

/* Ends with "\s+word" (case-insensitive)? Returns the start of the
 * spaces, or NULL. */
static const char *ends_with_word(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    if (n < w + 2 || strncasecmp(s + n - w, word, w) != 0 ||
        !is_ws(s[n - w - 1]))
        return NULL;
    const char *p = s + n - w - 1;
    while (p > s && is_ws(p[-1]))
        p--;
    return p > s ? p : NULL;
}

/* One column: "<name> [COLLATE x] [ASC|DESC]". */
static int parse_column(const char *col, bs_index *idx)
{
    size_t n = strlen(col);
    const char *sort = "";
    const char *e;
    if ((e = ends_with_word(col, n, "asc"))) {
        sort = "ASC";
        n = (size_t)(e - col);
    } else if ((e = ends_with_word(col, n, "desc"))) {
        sort = "DESC";
        n = (size_t)(e - col);
    }
    const char *collate = NULL;
    size_t collate_n = 0;
    /* "\s+collate\s+(\w+)" at the end. */
    size_t w = n;
    while (w > 0 && (isalnum((unsigned char)col[w - 1]) || col[w - 1] == '_'))
        w--;
    if (w < n && w > 0 && is_ws(col[w - 1])) {
        size_t k = w;
        while (k > 0 && is_ws(col[k - 1]))
            k--;
        if (k > 7 && strncasecmp(col + k - 7, "collate", 7) == 0 &&
            is_ws(col[k - 8])) {
            collate = col + w;
            collate_n = n - w;
            n = k - 7;
            while (n > 0 && is_ws(col[n - 1]))
                n--;
        }
    }
    char *name = trim_copy(col, n);
    if (!name)
        return BS_ENOMEM;
    if (!*name || idx->ncolumns == BS_INDEX_MAX_COLUMNS) {
        free(name);
        return 0;
    }
    bs_index_column *c = &idx->columns[idx->ncolumns];
    c->name = name;
    c->collate = strndup(collate ? collate : "", collate_n);
    c->sort = strdup(sort);
    if (!c->collate || !c->sort) {
        free(c->name);
        free(c->collate);
        free(c->sort);
        memset(c, 0, sizeof *c);
        return BS_ENOMEM;
    }
    idx->ncolumns++;
    return 0;
}

/* Tries the pattern at s (which starts with "create"). Returns 1 on a
 * match (idx filled), 0 when it does not match, or a negative code. */
static int try_match(const char *s, bs_index *idx)
{
    s += 6;
    if (!is_ws(*s))
        return 0;
    s = skip_ws(s);
    const char *u = keyword_ws(s, "unique");
    bool unique = false;
    if (u) {
        unique = true;
        s = u;
    }
    s = keyword(s, "index");
    if (!s)
        return 0;
    s = skip_ws(s);
    bool optional = false;
    const char *o = keyword_ws(s, "if");
    if (o && (o = keyword_ws(o, "not")) && (o = keyword_ws(o, "exists"))) {
        optional = true;
        s = o;
    }
    const char *name = s;
    while (*s && !is_ws(*s))
        s++;
    size_t name_n = (size_t)(s - name);
    if (!is_ws(*s))
        return 0;
    s = skip_ws(s);
    s = keyword(s, "on");
    if (!s || !is_ws(*s))
        return 0;
    s = skip_ws(s);
    const char *table = s;
    while (*s && !is_ws(*s) && *s != '(')
        s++;
    size_t table_n = (size_t)(s - table);
    s = skip_ws(s);
    if (*s != '(')
        return 0;
    const char *cols = s + 1;
    const char *close = strrchr(cols, ')');
    if (!close)
        return 0;

    idx->unique = unique;
    idx->optional = optional;
    char *raw_name = strndup(name, name_n);
    if (!raw_name)
        return BS_ENOMEM;
    char **parts = NULL;
    int rc = bs_sql_split(raw_name, ".", false, &parts);
    free(raw_name);
    if (rc == BS_ENOMEM)
        return rc;
    if (rc == 0 && parts[0]) {
        if (parts[1] && !parts[2]) {
            idx->schema_name = trim_copy(parts[0], strlen(parts[0]));
            idx->index_name = trim_copy(parts[1], strlen(parts[1]));
        } else {
            idx->index_name = trim_copy(parts[0], strlen(parts[0]));
        }
    }
    bs_sql_split_free(parts);
    idx->table_name = trim_copy(table, table_n);
    if (!idx->schema_name)
        idx->schema_name = strdup("");
    if (!idx->index_name)
        idx->index_name = strdup("");
    if (!idx->table_name || !idx->schema_name || !idx->index_name)
        return BS_ENOMEM;

    char *colstr = strndup(cols, (size_t)(close - cols));
    if (!colstr)
        return BS_ENOMEM;
    rc = bs_sql_split(colstr, ",", false, &parts);
    free(colstr);
    if (rc == BS_ENOMEM)
        return rc;
    if (rc == 0) {
        for (char **p = parts; *p && rc == 0; p++)
            rc = parse_column(*p, idx);
        bs_sql_split_free(parts);
        if (rc)
            return rc;
    }

    const char *w = skip_ws(close + 1);
    const char *where = keyword(w, "where");
    if (where && is_ws(*where)) {
        where = skip_ws(where);
        size_t n = strlen(where);
        while (n > 0 && is_ws(where[n - 1]))
            n--;
        idx->where = strndup(where, n);
    } else {
        idx->where = strdup("");
    }
    return idx->where ? 1 : BS_ENOMEM;
}

int bs_index_parse(const char *sql, bs_index *idx)
{
    index_init(idx);
    for (const char *p = sql; *p; p++) {
        if (strncasecmp(p, "create", 6) != 0)
            continue;
        int rc = try_match(p, idx);
        if (rc == 1)
            return 0;
        bs_index_dispose(idx);
        if (rc < 0)
            return rc;
    }
    return 0;
}

bool bs_index_valid(const bs_index *idx)
{
    return idx->index_name && *idx->index_name && idx->table_name &&
           *idx->table_name && idx->ncolumns > 0;
}

/* ---- building ----------------------------------------------------------- */

static void put_trimmed(bs_buf *out, const char *s)
{
    size_t a = 0, b = strlen(s);
    while (a < b && isspace((unsigned char)s[a]))
        a++;
    while (b > a && isspace((unsigned char)s[b - 1]))
        b--;
    bs_buf_append(out, s + a, b - a);
}

void bs_index_build(const bs_index *idx, bs_buf *out)
{
    if (!bs_index_valid(idx))
        return;
    bs_buf_puts(out, "CREATE ");
    if (idx->unique)
        bs_buf_puts(out, "UNIQUE ");
    bs_buf_puts(out, "INDEX ");
    if (idx->optional)
        bs_buf_puts(out, "IF NOT EXISTS ");
    if (idx->schema_name && *idx->schema_name) {
        bs_buf_putc(out, '`');
        bs_buf_puts(out, idx->schema_name);
        bs_buf_puts(out, "`.");
    }
    bs_buf_putc(out, '`');
    bs_buf_puts(out, idx->index_name);
    bs_buf_puts(out, "` ON `");
    bs_buf_puts(out, idx->table_name);
    bs_buf_puts(out, "` (");
    if (idx->ncolumns > 1)
        bs_buf_puts(out, "\n  ");
    bool has = false;
    for (int i = 0; i < idx->ncolumns; i++) {
        const bs_index_column *c = &idx->columns[i];
        if (has)
            bs_buf_puts(out, ",\n  ");
        if (strchr(c->name, '(') || strchr(c->name, ' ')) {
            put_trimmed(out, c->name);
        } else {
            bs_buf_putc(out, '`');
            put_trimmed(out, c->name);
            bs_buf_putc(out, '`');
        }
        if (*c->collate) {
            bs_buf_puts(out, " COLLATE ");
            bs_buf_puts(out, c->collate);
        }
        if (*c->sort) {
            bs_buf_putc(out, ' ');
            bs_buf_puts(out, c->sort);
        }
        has = true;
    }
    if (has && idx->ncolumns > 1)
        bs_buf_putc(out, '\n');
    bs_buf_putc(out, ')');
    if (idx->where && *idx->where) {
        bs_buf_puts(out, " WHERE ");
        bs_buf_puts(out, idx->where);
    }
}

bool bs_index_is_single_unique(const char *sql, const char *column)
{
    bs_index idx;
    if (bs_index_parse(sql, &idx) != 0)
        return false;
    bool ok = idx.unique && idx.ncolumns == 1 &&
              strcasecmp(idx.columns[0].name, column) == 0;
    bs_index_dispose(&idx);
    return ok;
}

bool bs_indexes_single_unique(const json_object *indexes, const char *column,
                              bool *nocase)
{
    if (nocase)
        *nocase = false;
    if (!indexes || !json_object_is_type(indexes, json_type_array))
        return false;
    size_t n = json_object_array_length(indexes);
    for (size_t i = 0; i < n; i++) {
        /* Only string items: json-c caches the text of other values in
         * the object, a write a shared schema must not see. */
        json_object *item = json_object_array_get_idx(indexes, i);
        if (!json_object_is_type(item, json_type_string))
            continue;
        bs_index idx;
        if (bs_index_parse(json_object_get_string(item), &idx) != 0)
            continue;
        bool ok = idx.unique && idx.ncolumns == 1 &&
                  strcasecmp(idx.columns[0].name, column) == 0;
        if (ok && nocase)
            *nocase = strcasecmp(idx.columns[0].collate, "nocase") == 0;
        bs_index_dispose(&idx);
        if (ok)
            return true;
    }
    return false;
}
