/*
 * pg_transfer.c - `basalt pg export` and `basalt pg import`: a pb_data
 * moved between SQLite and PostgreSQL, verified (see pg_transfer.h).
 *
 * Design note. Each table is described once from SQLite's catalogue:
 * its columns with the kind of value they hold (text, double precision,
 * boolean or bigint), taken from the collection's field types where the
 * table is a collection (docs/scale.md's mapping, bs_ftype_pg_column)
 * and from the declared column type elsewhere. Every value then has one
 * canonical text for its kind: NULL stays NULL, a number is the
 * shortest text that reads back as the same double, a bool is t or f,
 * text is its bytes. That text is what COPY sends, what import binds
 * back into SQLite (where the column's affinity turns "5" into the
 * integer 5 as it did when the record was first written) and what the
 * checksum reads. The checksum of a table is SHA-256 over its rows in
 * rowid order (PostgreSQL keeps SQLite's rowid in the "_rowid" identity
 * column), each row being its rowid and its cells, each cell a NULL mark
 * or its length and canonical text; the row count goes in last. Export
 * computes it while reading SQLite and again from what PostgreSQL holds;
 * import computes it from PostgreSQL while writing SQLite, then again
 * from the new SQLite file, and also compares it with the figure that
 * export recorded.
 *
 * SQLite's own schema text (tables with their defaults, indexes,
 * triggers, views, full-text tables) is kept in basalt_export.sqlite_schema
 * so that import rebuilds the same SQLite schema byte for byte; the
 * PostgreSQL tables are for the PostgreSQL side. Files of pb_data/storage
 * travel as bytea rows of basalt_export.files with their SHA-256.
 */
#include "pg_transfer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/util.h"
#include "../db/pg.h"
#include "../db/rows.h"
#include "../db/sql.h"
#include "../db/store.h"
#include "../filter/dialect.h"
#include "../schema/ftype.h"

/* The PostgreSQL schema of each SQLite database, and of the export's
 * own tables. */
static const char *const SCHEMA[2] = {"public", "auxiliary"};
static const char *const DBNAME[2] = {"data", "auxiliary"};
#define META "basalt_export"

/* Rows fetched from PostgreSQL at a time, and COPY data sent at a time. */
#define FETCH_ROWS "1000"
#define COPY_CHUNK (256 * 1024)

typedef enum { K_TEXT, K_DOUBLE, K_BOOL, K_BIGINT } kind;
static const char *const KIND_PG[] = {"text", "double precision", "boolean",
                                      "bigint"};

typedef struct col {
    char *name;
    kind k;
    bool notnull;
    char *dflt; /* a PostgreSQL literal, or NULL */
} col;

typedef struct tbl {
    int db;
    char *name;
    col *cols;
    int ncols;
    bs_buf keys; /* ", PRIMARY KEY (...)", ", UNIQUE (...)" */
    int64_t rows;
    char sum[65];
} tbl;

/* A line of SQLite's schema (sqlite_master). */
typedef struct entry {
    int db;
    char *type, *name, *tbl_name, *sql;
} entry;

typedef struct job {
    const bs_pg_transfer *t;
    bs_store *st;
    bs_conn *conn[2];
    bool in_tx[2];
    bs_pg *pg;
    entry *e;
    int ne;
    tbl *tb;
    int nt;
    json_object *fields; /* collection name -> its fields */
    json_object *views;  /* view collection name -> its viewQuery */
    bs_buf tmp;
} job;

static void say(const job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const job *j, const char *fmt, ...)
{
    if (!j->t->say)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    j->t->say(j->t->user, line);
}

/* ---- kinds and canonical values --------------------------------------- */

static kind kind_of_pg(const char *type)
{
    for (int k = 0; k < 4; k++) {
        if (type && strcmp(type, KIND_PG[k]) == 0)
            return (kind)k;
    }
    return K_TEXT;
}

/* The kind of a column known only by its declared SQLite type. */
static kind kind_of_decl(const char *decl)
{
    char up[64];
    size_t n = 0;
    for (; decl && decl[n] && n < sizeof up - 1; n++)
        up[n] = (char)(decl[n] >= 'a' && decl[n] <= 'z' ? decl[n] - 32
                                                        : decl[n]);
    up[n] = '\0';
    if (strstr(up, "BOOL"))
        return K_BOOL;
    if (strstr(up, "INT"))
        return K_BIGINT;
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB") ||
        strstr(up, "NUMERIC") || strstr(up, "DECIMAL"))
        return K_DOUBLE;
    return K_TEXT;
}

/* The canonical text of column i of a SQLite row (see the design note),
 * built in tmp when it differs from SQLite's own text. NULL for NULL. */
static const char *sq_value(const bs_rows *r, int i, kind k, bs_buf *tmp,
                            size_t *len)
{
    bs_col_type ty = bs_rows_type(r, i);
    *len = 0;
    if (ty == BS_COL_NULL)
        return NULL;
    bool num = ty == BS_COL_INT || ty == BS_COL_REAL;
    bs_buf_reset(tmp);
    if (k == K_DOUBLE && num)
        bs_buf_real(tmp, ty == BS_COL_INT ? (double)bs_rows_int(r, i)
                                          : bs_rows_real(r, i));
    else if (k == K_BOOL && num)
        bs_buf_putc(tmp, bs_rows_real(r, i) != 0 ? 't' : 'f');
    else if (k == K_BIGINT && ty == BS_COL_INT)
        bs_buf_printf(tmp, "%lld", (long long)bs_rows_int(r, i));
    else
        return bs_rows_text(r, i, len);
    *len = tmp->len;
    return tmp->data ? tmp->data : "";
}

/* The canonical text of a value PostgreSQL printed. */
static const char *pg_value(const char *v, size_t n, kind k, bs_buf *tmp,
                            size_t *len)
{
    *len = n;
    if (!v || k != K_DOUBLE)
        return v;
    bs_buf_reset(tmp);
    bs_buf_real(tmp, strtod(v, NULL));
    *len = tmp->len;
    return tmp->data ? tmp->data : "";
}

/* ---- checksums ---------------------------------------------------------- */

typedef struct digest {
    EVP_MD_CTX *ctx;
    int64_t rows;
} digest;

static int digest_init(digest *d)
{
    d->rows = 0;
    d->ctx = EVP_MD_CTX_new();
    if (!d->ctx || EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(d->ctx);
        d->ctx = NULL;
        return BS_ENOMEM;
    }
    return 0;
}

static void digest_cell(digest *d, const char *v, size_t n)
{
    unsigned char head[9] = {v ? 'V' : 'N'};
    for (int i = 0; i < 8; i++)
        head[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
    EVP_DigestUpdate(d->ctx, head, v ? 9 : 1);
    if (v && n)
        EVP_DigestUpdate(d->ctx, v, n);
}

/* Ends d: the hex digest into out, and frees it. */
static void digest_end(digest *d, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    char count[32];
    int cn = snprintf(count, sizeof count, "#%lld", (long long)d->rows);
    EVP_DigestUpdate(d->ctx, count, (size_t)cn);
    EVP_DigestFinal_ex(d->ctx, md, &n);
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void digest_drop(digest *d)
{
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- names -------------------------------------------------------------- */

/* Appends "schema"."name". */
static void qualified(bs_buf *b, const char *schema, const char *name)
{
    bs_sql_ident(b, schema);
    bs_buf_putc(b, '.');
    bs_sql_ident(b, name);
}

/* The column list "a", "b", ... of t. */
static void column_list(bs_buf *b, const tbl *t)
{
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            bs_buf_puts(b, ", ");
        bs_sql_ident(b, t->cols[i].name);
    }
}

static void tbl_dispose(tbl *t)
{
    for (int i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].dflt);
    }
    free(t->cols);
    free(t->name);
    bs_buf_dispose(&t->keys);
}

static void job_init(job *j, const bs_pg_transfer *t)
{
    memset(j, 0, sizeof *j);
    j->t = t;
    bs_buf_init(&j->tmp);
}

static void job_dispose(job *j)
{
    for (int i = 0; i < j->ne; i++) {
        free(j->e[i].type);
        free(j->e[i].name);
        free(j->e[i].tbl_name);
        free(j->e[i].sql);
    }
    free(j->e);
    for (int i = 0; i < j->nt; i++)
        tbl_dispose(&j->tb[i]);
    free(j->tb);
    json_object_put(j->fields);
    json_object_put(j->views);
    bs_buf_dispose(&j->tmp);
    bs_pg_close(j->pg);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int add_entry(job *j, int db, const char *type, const char *name,
                     const char *tbl_name, const char *sql)
{
    entry *e = realloc(j->e, (size_t)(j->ne + 1) * sizeof *e);
    if (!e)
        return BS_ENOMEM;
    j->e = e;
    e = &j->e[j->ne++];
    e->db = db;
    e->type = dup_or_null(type);
    e->name = dup_or_null(name);
    e->tbl_name = dup_or_null(tbl_name);
    e->sql = dup_or_null(sql);
    return e->type && e->name && e->tbl_name && e->sql ? 0 : BS_ENOMEM;
}

static tbl *add_table(job *j, int db, const char *name)
{
    tbl *t = realloc(j->tb, (size_t)(j->nt + 1) * sizeof *t);
    if (!t)
        return NULL;
    j->tb = t;
    t = &j->tb[j->nt++];
    memset(t, 0, sizeof *t);
    bs_buf_init(&t->keys);
    t->db = db;
    t->name = strdup(name);
    return t->name ? t : NULL;
}

static col *add_col(tbl *t, const char *name, kind k)
{
    col *c = realloc(t->cols, (size_t)(t->ncols + 1) * sizeof *c);
    if (!c)
        return NULL;
    t->cols = c;
    c = &t->cols[t->ncols++];
    memset(c, 0, sizeof *c);
    c->name = strdup(name);
    c->k = k;
    return c->name ? c : NULL;
}

static bool is_virtual(const entry *e)
{
    return strcmp(e->type, "table") == 0 &&
           strncasecmp(e->sql, "CREATE VIRTUAL", 14) == 0;
}

/* ---- SQLite's catalogue (export) ---------------------------------------- */

static int sq_fail(bs_error *err, bs_conn *c, const char *what)
{
    return bs_error_set(err, 400, "SQLite: %s: %s", what, bs_conn_errmsg(c));
}

/* The schema of one SQLite database, shadow tables of full-text indexes
 * and SQLite's own tables left out. */
static int load_entries(job *j, int db, bs_error *err)
{
    static const char sql[] =
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "AND name NOT IN (SELECT name FROM pragma_table_list "
        "WHERE type = 'shadow') ORDER BY rowid";
    bs_rows r;
    int rc = bs_rows_open(&r, j->conn[db], sql, -1, BS_ROWS_ONCE);
    while (rc == 0 && (rc = bs_rows_next(&r)) == 1)
        rc = add_entry(j, db, bs_rows_text(&r, 0, NULL),
                       bs_rows_text(&r, 1, NULL), bs_rows_text(&r, 2, NULL),
                       bs_rows_text(&r, 3, NULL));
    bs_rows_close(&r);
    if (rc == BS_ENOMEM)
        return rc;
    return rc < 0 ? sq_fail(err, j->conn[db], "reading the schema") : 0;
}

/* The fields of every collection, by collection name. */
static int load_fields(job *j, bs_error *err)
{
    j->fields = json_object_new_object();
    j->views = json_object_new_object();
    if (!j->fields || !j->views)
        return BS_ENOMEM;
    bool have = false;
    for (int i = 0; i < j->ne; i++)
        have |= j->e[i].db == 0 && strcmp(j->e[i].name, "_collections") == 0;
    if (!have)
        return 0;
    bs_rows r;
    int rc = bs_rows_open(&r, j->conn[0],
                          "SELECT name, fields, options FROM _collections",
                          -1, BS_ROWS_ONCE);
    while (rc == 0 && (rc = bs_rows_next(&r)) == 1) {
        const char *name = bs_rows_text(&r, 0, NULL);
        json_object *f = json_tokener_parse(bs_rows_text(&r, 1, NULL));
        if (json_object_is_type(f, json_type_array))
            json_object_object_add(j->fields, name, f);
        else
            json_object_put(f);
        json_object *o = json_tokener_parse(bs_rows_text(&r, 2, NULL));
        json_object *q = json_object_object_get(o, "viewQuery");
        if (json_object_is_type(q, json_type_string))
            json_object_object_add(j->views, name, json_object_get(q));
        json_object_put(o);
        rc = 0;
    }
    bs_rows_close(&r);
    return rc < 0 ? sq_fail(err, j->conn[0], "reading _collections") : 0;
}

/* The kind of a collection's field, when table is a collection and col
 * one of its fields. */
static bool field_kind(const job *j, const tbl *t, const char *name,
                       kind *out)
{
    json_object *fs = t->db == 0 ? json_object_object_get(j->fields, t->name)
                                 : NULL;
    size_t n = fs ? json_object_array_length(fs) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fs, i);
        const char *fname =
            json_object_get_string(json_object_object_get(f, "name"));
        if (fname && strcasecmp(fname, name) == 0) {
            const char *type =
                json_object_get_string(json_object_object_get(f, "type"));
            *out = kind_of_pg(bs_ftype_pg_column(bs_ftype_of(type)));
            return true;
        }
    }
    return false;
}

/* A default of SQLite that is a plain literal, in PostgreSQL's words;
 * NULL for an expression (the PostgreSQL column then has no default). */
static char *pg_default(const char *d, kind k)
{
    if (!d || !*d)
        return NULL;
    if (k == K_BOOL) {
        if (strcmp(d, "0") == 0 || strcasecmp(d, "FALSE") == 0)
            return strdup("false");
        if (strcmp(d, "1") == 0 || strcasecmp(d, "TRUE") == 0)
            return strdup("true");
        return NULL;
    }
    if (k == K_DOUBLE || k == K_BIGINT) {
        char *end;
        strtod(d, &end);
        return end != d && *end == '\0' ? strdup(d) : NULL;
    }
    /* One string literal: quotes inside come in pairs. */
    size_t n = strlen(d);
    if (n < 2 || d[0] != '\'' || d[n - 1] != '\'')
        return NULL;
    for (size_t i = 1; i < n - 1; i++) {
        if (d[i] == '\'' && d[++i] != '\'')
            return NULL;
    }
    return strdup(d);
}

/* Appends the columns of a SQLite index as ", KEYWORD (...)". */
static int index_columns(job *j, tbl *t, const char *index,
                         const char *keyword, bs_error *err)
{
    bs_rows r;
    int n = 0;
    int rc = bs_rows_open(&r, j->conn[t->db],
                          "SELECT name FROM pragma_index_info(?1) "
                          "ORDER BY seqno", -1, BS_ROWS_ONCE);
    if (rc == 0)
        bs_rows_bind_text(&r, 1, index, -1);
    bs_buf_printf(&t->keys, ", %s (", keyword);
    while (rc == 0 && (rc = bs_rows_next(&r)) == 1) {
        if (n++)
            bs_buf_puts(&t->keys, ", ");
        bs_sql_ident(&t->keys, bs_rows_text(&r, 0, NULL));
        rc = 0;
    }
    bs_buf_putc(&t->keys, ')');
    bs_rows_close(&r);
    return rc < 0 ? sq_fail(err, j->conn[t->db], "reading an index") : 0;
}

/* Describes table name of database db from SQLite's catalogue. */
static int describe(job *j, int db, const char *name, bs_error *err)
{
    tbl *t = add_table(j, db, name);
    if (!t)
        return BS_ENOMEM;
    bs_rows r;
    int rc = bs_rows_open(&r, j->conn[db],
                          "SELECT name, type, \"notnull\", dflt_value, pk "
                          "FROM pragma_table_info(?1) ORDER BY cid",
                          -1, BS_ROWS_ONCE);
    if (rc == 0)
        bs_rows_bind_text(&r, 1, name, -1);
    int pk = 0;
    while (rc == 0 && (rc = bs_rows_next(&r)) == 1) {
        const char *cname = bs_rows_text(&r, 0, NULL);
        kind k;
        if (!field_kind(j, t, cname, &k))
            k = kind_of_decl(bs_rows_text(&r, 1, NULL));
        col *c = add_col(t, cname, k);
        if (!c) {
            rc = BS_ENOMEM;
            break;
        }
        c->notnull = bs_rows_int(&r, 2) != 0;
        c->dflt = pg_default(bs_rows_text(&r, 3, NULL), k);
        if (bs_rows_int(&r, 4) > 0)
            pk++;
        rc = 0;
    }
    bs_rows_close(&r);
    if (rc < 0)
        return rc == BS_ENOMEM ? rc
                               : sq_fail(err, j->conn[db], "reading columns");
    if (pk > 0) {
        bs_buf_puts(&t->keys, ", PRIMARY KEY (");
        rc = bs_rows_open(&r, j->conn[db],
                          "SELECT name FROM pragma_table_info(?1) "
                          "WHERE pk > 0 ORDER BY pk", -1, BS_ROWS_ONCE);
        if (rc == 0)
            bs_rows_bind_text(&r, 1, name, -1);
        for (int n = 0; rc == 0 && (rc = bs_rows_next(&r)) == 1; n++) {
            if (n)
                bs_buf_puts(&t->keys, ", ");
            bs_sql_ident(&t->keys, bs_rows_text(&r, 0, NULL));
            rc = 0;
        }
        bs_rows_close(&r);
        bs_buf_putc(&t->keys, ')');
        if (rc < 0)
            return sq_fail(err, j->conn[db], "reading the primary key");
    }
    /* UNIQUE constraints written in the table's definition. */
    char **names = NULL;
    int nn = 0;
    rc = bs_rows_open(&r, j->conn[db],
                      "SELECT name FROM pragma_index_list(?1) "
                      "WHERE origin = 'u' ORDER BY name", -1, BS_ROWS_ONCE);
    if (rc == 0)
        bs_rows_bind_text(&r, 1, name, -1);
    while (rc == 0 && (rc = bs_rows_next(&r)) == 1) {
        char **more = realloc(names, (size_t)(nn + 1) * sizeof *names);
        if (!more || !(more[nn] = strdup(bs_rows_text(&r, 0, NULL)))) {
            names = more ? more : names;
            rc = BS_ENOMEM;
            break;
        }
        names = more;
        nn++;
        rc = 0;
    }
    bs_rows_close(&r);
    for (int i = 0; i < nn; i++) {
        if (rc >= 0)
            rc = index_columns(j, t, names[i], "UNIQUE", err);
        free(names[i]);
    }
    free(names);
    if (rc < 0 && rc != BS_ENOMEM && !err->message)
        return sq_fail(err, j->conn[db], "reading the unique constraints");
    return rc < 0 ? rc : 0;
}

/* ---- SQLite's DDL read token by token ----------------------------------- */

typedef struct tok {
    char kind; /* 'w' word or quoted name, 's' string, 'n' number, 'p'
                  punctuation, 0 at the end */
    const char *p;
    size_t n;
    char name[256]; /* a word or a quoted name, unquoted */
} tok;

static const char *lex(const char *s, tok *t)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    memset(t, 0, sizeof *t);
    t->p = s;
    if (!*s)
        return s;
    const char *start = s;
    char close = *s == '"' ? '"' : *s == '`' ? '`' : *s == '[' ? ']' : 0;
    if (close || *s == '\'') {
        char q = close ? close : '\'';
        size_t k = 0;
        for (s++; *s; s++) {
            if (*s == q && s[1] == q && q != ']') {
                s++;
            } else if (*s == q) {
                break;
            }
            if (k < sizeof t->name - 1)
                t->name[k++] = *s;
        }
        if (*s != q) {
            t->kind = 'p'; /* unterminated: refused by the callers */
            t->n = (size_t)(s - start);
            return s;
        }
        s++;
        t->kind = close ? 'w' : 's';
    } else if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
               *s == '_') {
        size_t k = 0;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
               (*s >= '0' && *s <= '9') || *s == '_' || *s == '$') {
            if (k < sizeof t->name - 1)
                t->name[k++] = *s;
            s++;
        }
        t->kind = 'w';
    } else if ((*s >= '0' && *s <= '9') || *s == '.' ||
               (*s == '-' && s[1] >= '0' && s[1] <= '9')) {
        s++;
        while ((*s >= '0' && *s <= '9') || *s == '.' || *s == 'e' ||
               *s == 'E')
            s++;
        t->kind = 'n';
    } else {
        bool two = (s[0] == '!' && s[1] == '=') ||
                   (s[0] == '<' && (s[1] == '>' || s[1] == '=')) ||
                   (s[0] == '>' && s[1] == '=') ||
                   (s[0] == '=' && s[1] == '=');
        s += two ? 2 : 1;
        t->kind = 'p';
    }
    t->n = (size_t)(s - start);
    return s;
}

static bool is_kw(const tok *t, const char *kw)
{
    return t->kind == 'w' && t->p[0] != '"' && t->p[0] != '`' &&
           t->p[0] != '[' && strcasecmp(t->name, kw) == 0;
}

static bool is_punct(const tok *t, const char *p)
{
    return t->kind == 'p' && t->n == strlen(p) && memcmp(t->p, p, t->n) == 0;
}

/* The column of t called name (SQLite compares names without case). */
static const col *find_col(const tbl *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++) {
        if (strcasecmp(t->cols[i].name, name) == 0)
            return &t->cols[i];
    }
    return NULL;
}

/* One comparison of an index's WHERE clause: column op literal, or
 * column IS [NOT] NULL. */
static const char *where_term(const char **s, const tbl *t, bs_buf *out)
{
    tok a, op, v;
    *s = lex(*s, &a);
    const col *c = a.kind == 'w' ? find_col(t, a.name) : NULL;
    if (!c)
        return "a WHERE clause on something other than a column";
    bs_sql_ident(out, c->name);
    *s = lex(*s, &op);
    if (is_kw(&op, "IS")) {
        *s = lex(*s, &v);
        bs_buf_puts(out, " IS ");
        if (is_kw(&v, "NOT")) {
            bs_buf_puts(out, "NOT ");
            *s = lex(*s, &v);
        }
        if (!is_kw(&v, "NULL"))
            return "an IS comparison other than IS [NOT] NULL";
        bs_buf_puts(out, "NULL");
        return NULL;
    }
    static const char *const ops[] = {"=", "==", "!=", "<>", "<",
                                      ">", "<=", ">="};
    const char *pgop = NULL;
    for (int i = 0; i < 8 && !pgop; i++) {
        if (is_punct(&op, ops[i]))
            pgop = i == 1 ? "=" : i == 2 ? "<>" : ops[i];
    }
    if (!pgop)
        return "a WHERE clause beyond comparisons of a column";
    *s = lex(*s, &v);
    bs_buf_printf(out, " %s ", pgop);
    if (c->k == K_BOOL && v.kind == 'n' && v.n == 1 &&
        (v.p[0] == '0' || v.p[0] == '1'))
        bs_buf_puts(out, v.p[0] == '1' ? "true" : "false");
    else if (v.kind == 's' || v.kind == 'n')
        bs_buf_append(out, v.p, v.n);
    else if (is_kw(&v, "TRUE") || is_kw(&v, "FALSE"))
        bs_buf_puts(out, v.name);
    else
        return "a WHERE clause comparing with something other than a value";
    return NULL;
}

/* Writes the PostgreSQL form of SQLite's CREATE INDEX statement sql on
 * table t into out. Returns NULL, or why it cannot be written. Only
 * plain columns (with COLLATE NOCASE as lower(), ASC, DESC) and a WHERE
 * clause of column comparisons joined by AND are translated; every name
 * is written again quoted, every literal is one lexical token. */
static const char *translate_index(const char *sql, const tbl *t,
                                   bs_buf *out)
{
    tok k;
    const char *s = lex(sql, &k);
    if (!is_kw(&k, "CREATE"))
        return "not a CREATE INDEX statement";
    s = lex(s, &k);
    bool unique = is_kw(&k, "UNIQUE");
    if (unique)
        s = lex(s, &k);
    if (!is_kw(&k, "INDEX"))
        return "not a CREATE INDEX statement";
    s = lex(s, &k);
    if (is_kw(&k, "IF")) {
        s = lex(s, &k);
        s = lex(s, &k);
        s = lex(s, &k);
    }
    tok name = k;
    if (name.kind != 'w')
        return "no index name";
    s = lex(s, &k);
    if (!is_kw(&k, "ON"))
        return "no ON";
    s = lex(s, &k);
    s = lex(s, &k);
    if (!is_punct(&k, "("))
        return "no column list";
    bs_buf_printf(out, "CREATE %sINDEX ", unique ? "UNIQUE " : "");
    bs_sql_ident(out, name.name);
    bs_buf_puts(out, " ON ");
    qualified(out, SCHEMA[t->db], t->name);
    bs_buf_puts(out, " (");
    for (int n = 0;; n++) {
        tok c;
        s = lex(s, &c);
        const col *cc = c.kind == 'w' ? find_col(t, c.name) : NULL;
        if (!cc)
            return "an expression (only plain columns are translated)";
        s = lex(s, &k);
        bool lower = false;
        if (is_kw(&k, "COLLATE")) {
            tok coll;
            s = lex(s, &coll);
            if (is_kw(&coll, "NOCASE"))
                lower = true;
            else if (!is_kw(&coll, "BINARY"))
                return "a collation other than NOCASE or BINARY";
            s = lex(s, &k);
        }
        if (n)
            bs_buf_puts(out, ", ");
        if (lower)
            bs_buf_puts(out, "lower(");
        bs_sql_ident(out, cc->name);
        if (lower)
            bs_buf_putc(out, ')');
        if (is_kw(&k, "ASC") || is_kw(&k, "DESC")) {
            bs_buf_printf(out, " %s", k.name);
            s = lex(s, &k);
        }
        if (is_punct(&k, ")"))
            break;
        if (!is_punct(&k, ","))
            return "an expression (only plain columns are translated)";
    }
    bs_buf_putc(out, ')');
    s = lex(s, &k);
    if (is_kw(&k, "WHERE")) {
        bs_buf_puts(out, " WHERE ");
        for (;;) {
            const char *why = where_term(&s, t, out);
            if (why)
                return why;
            s = lex(s, &k);
            if (!is_kw(&k, "AND"))
                break;
            bs_buf_puts(out, " AND ");
        }
    }
    if (is_punct(&k, ";"))
        s = lex(s, &k);
    return k.kind == 0 ? NULL : "text after the column list";
}

/* The query of SQLite's CREATE VIEW statement: the text after AS. */
static const char *view_query(const char *sql)
{
    tok k;
    const char *s = sql;
    for (int n = 0; n < 12; n++) {
        s = lex(s, &k);
        if (k.kind == 0)
            return NULL;
        if (is_punct(&k, "(")) {
            /* A list of column names. */
            while (k.kind && !is_punct(&k, ")"))
                s = lex(s, &k);
        }
        if (is_kw(&k, "AS"))
            return s;
    }
    return NULL;
}

/* ---- PostgreSQL helpers ------------------------------------------------- */

static int pg_run(job *j, const char *sql, const char *what, bs_error *err)
{
    return bs_pg_exec(j->pg, sql, 0, NULL, false, NULL, what, err);
}

/* Whether PostgreSQL knows the relation "schema"."name". */
static int pg_exists(job *j, const char *schema, const char *name,
                     bool *yes, bs_error *err)
{
    bs_buf q;
    bs_buf_init(&q);
    qualified(&q, schema, name);
    bs_buf_putc(&q, '\0');
    bs_pg_param p = {q.data, -1, false};
    bs_pg_res *res = NULL;
    int rc = q.oom ? BS_ENOMEM
                   : bs_pg_exec(j->pg, "SELECT to_regclass($1) IS NOT NULL",
                                1, &p, false, &res, NULL, err);
    if (rc == 0) {
        const char *v = bs_pg_res_value(res, 0, 0, NULL);
        *yes = v && v[0] == 't';
    }
    bs_pg_res_free(res);
    bs_buf_dispose(&q);
    return rc;
}

/* Reads the rows of t from PostgreSQL in rowid order through a cursor,
 * adds each to d and hands it to fn (when not NULL): vals[0] is the
 * rowid, vals[1..] the columns' canonical texts (NULL for NULL). */
typedef int (*pg_row_fn)(job *j, const tbl *t, const char *const *vals,
                         const size_t *lens, void *user, bs_error *err);

static int pg_read(job *j, const tbl *t, digest *d, pg_row_fn fn,
                   void *user, bs_error *err)
{
    bs_buf q;
    bs_buf_init(&q);
    bs_buf_puts(&q, "DECLARE bs_rows NO SCROLL CURSOR FOR SELECT \"_rowid\"");
    bs_buf_puts(&q, ", ");
    column_list(&q, t);
    bs_buf_puts(&q, " FROM ");
    qualified(&q, SCHEMA[t->db], t->name);
    bs_buf_puts(&q, " ORDER BY \"_rowid\"");
    bs_buf_putc(&q, '\0');
    int rc = q.oom ? BS_ENOMEM : pg_run(j, q.data, t->name, err);
    bs_buf_dispose(&q);
    const char **vals = calloc((size_t)t->ncols + 1, sizeof *vals);
    size_t *lens = calloc((size_t)t->ncols + 1, sizeof *lens);
    bs_buf *tmp = calloc((size_t)t->ncols + 1, sizeof *tmp);
    if (!vals || !lens || !tmp)
        rc = rc ? rc : BS_ENOMEM;
    while (rc == 0) {
        bs_pg_res *res = NULL;
        rc = bs_pg_exec(j->pg, "FETCH " FETCH_ROWS " FROM bs_rows", 0, NULL,
                        false, &res, t->name, err);
        int n = rc == 0 ? bs_pg_res_rows(res) : 0;
        for (int row = 0; row < n && rc == 0; row++) {
            for (int i = 0; i <= t->ncols; i++) {
                size_t len;
                const char *v = bs_pg_res_value(res, row, i, &len);
                vals[i] = i == 0 ? v
                                 : pg_value(v, len, t->cols[i - 1].k,
                                            &tmp[i], &len);
                lens[i] = len;
                digest_cell(d, vals[i], lens[i]);
            }
            d->rows++;
            if (fn)
                rc = fn(j, t, vals, lens, user, err);
        }
        bs_pg_res_free(res);
        if (n == 0)
            break;
    }
    if (rc != BS_EDB)
        rc = rc ? rc : pg_run(j, "CLOSE bs_rows", t->name, err);
    for (int i = 0; tmp && i <= t->ncols; i++)
        bs_buf_dispose(&tmp[i]);
    free(tmp);
    free(vals);
    free(lens);
    return rc;
}

/* Appends v to a COPY text line, escaped. */
static void copy_value(bs_buf *b, const char *v, size_t n)
{
    if (!v) {
        bs_buf_puts(b, "\\N");
        return;
    }
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        const char *esc = c == '\\' ? "\\\\" : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (!esc)
            continue;
        bs_buf_append(b, v + from, i - from);
        bs_buf_puts(b, esc);
        from = i + 1;
    }
    bs_buf_append(b, v + from, n - from);
}

/* Reads the rows of t from SQLite in rowid order into d and, with copy,
 * sends them to PostgreSQL as COPY data. */
static int sq_read(job *j, const tbl *t, digest *d, bs_buf *copy,
                   bs_error *err)
{
    bs_buf q;
    bs_buf_init(&q);
    bs_buf_puts(&q, "SELECT rowid");
    bs_buf_puts(&q, ", ");
    column_list(&q, t);
    bs_buf_puts(&q, " FROM ");
    bs_sql_ident(&q, t->name);
    bs_buf_puts(&q, " ORDER BY rowid");
    bs_rows r;
    int rc = q.oom ? BS_ENOMEM
                   : bs_rows_open(&r, j->conn[t->db], q.data, (long)q.len,
                                  BS_ROWS_ONCE);
    while (rc == 0 && (rc = bs_rows_next(&r)) == 1) {
        rc = 0;
        for (int i = 0; i <= t->ncols; i++) {
            size_t len;
            const char *v = sq_value(&r, i, i ? t->cols[i - 1].k : K_BIGINT,
                                     &j->tmp, &len);
            digest_cell(d, v, len);
            if (copy) {
                if (i)
                    bs_buf_putc(copy, '\t');
                copy_value(copy, v, len);
            }
        }
        d->rows++;
        if (copy) {
            bs_buf_putc(copy, '\n');
            if (copy->oom)
                rc = BS_ENOMEM;
            else if (copy->len >= COPY_CHUNK) {
                rc = bs_pg_copy_put(j->pg, copy->data, copy->len, err);
                bs_buf_reset(copy);
            }
        }
    }
    if (rc < 0 && rc != BS_ENOMEM && !err->message)
        sq_fail(err, j->conn[t->db], t->name);
    bs_rows_close(&r);
    bs_buf_dispose(&q);
    if (rc == 0 && copy && copy->len)
        rc = bs_pg_copy_put(j->pg, copy->data, copy->len, err);
    return rc;
}

/* Both sides of t agree, or err says where they do not. */
static int compare(const tbl *t, int64_t rows_a, const char *sum_a,
                   const char *side_a, int64_t rows_b, const char *sum_b,
                   const char *side_b, bs_error *err)
{
    if (rows_a != rows_b)
        return bs_error_set(err, 500,
                            "Verification failed: %s.%s has %lld rows in %s "
                            "but %lld in %s.", DBNAME[t->db], t->name,
                            (long long)rows_a, side_a, (long long)rows_b,
                            side_b);
    if (strcmp(sum_a, sum_b) != 0)
        return bs_error_set(err, 500,
                            "Verification failed: the checksum of %s.%s "
                            "differs between %s (%.16s) and %s (%.16s).",
                            DBNAME[t->db], t->name, side_a, sum_a, side_b,
                            sum_b);
    return 0;
}

/* ---- export ------------------------------------------------------------- */

static int create_pg_table(job *j, const tbl *t, bs_error *err)
{
    bs_buf q;
    bs_buf_init(&q);
    bs_buf_puts(&q, "CREATE TABLE ");
    qualified(&q, SCHEMA[t->db], t->name);
    bs_buf_puts(&q, " (");
    for (int i = 0; i < t->ncols; i++) {
        const col *c = &t->cols[i];
        bs_sql_ident(&q, c->name);
        bs_buf_printf(&q, " %s%s", KIND_PG[c->k], c->notnull ? " NOT NULL"
                                                             : "");
        if (c->dflt)
            bs_buf_printf(&q, " DEFAULT %s", c->dflt);
        bs_buf_puts(&q, ", ");
    }
    bs_buf_puts(&q, "\"_rowid\" bigint GENERATED ALWAYS AS IDENTITY UNIQUE");
    bs_buf_append(&q, t->keys.data, t->keys.len);
    bs_buf_putc(&q, ')');
    bs_buf_putc(&q, '\0');
    int rc = q.oom ? BS_ENOMEM : pg_run(j, q.data, t->name, err);
    bs_buf_dispose(&q);
    return rc;
}

static int export_table(job *j, tbl *t, bs_error *err)
{
    int rc = create_pg_table(j, t, err);
    bs_buf q, copy;
    bs_buf_init(&q);
    bs_buf_init(&copy);
    bs_buf_puts(&q, "COPY ");
    qualified(&q, SCHEMA[t->db], t->name);
    bs_buf_puts(&q, " (\"_rowid\"");
    bs_buf_puts(&q, ", ");
    column_list(&q, t);
    bs_buf_puts(&q, ") FROM STDIN");
    bs_buf_putc(&q, '\0');
    if (rc == 0)
        rc = q.oom ? BS_ENOMEM : bs_pg_copy_begin(j->pg, q.data, err);
    digest src = {0}, dst = {0};
    if (rc == 0)
        rc = digest_init(&src);
    if (rc == 0) {
        rc = sq_read(j, t, &src, &copy, err);
        /* COPY is ended in every case, so that the connection leaves the
         * COPY state; its own error matters only when reading did not
         * fail first. */
        int end = bs_pg_copy_end(j->pg, t->name, rc ? NULL : err);
        rc = rc ? rc : end;
    }
    if (rc == 0) {
        t->rows = src.rows;
        digest_end(&src, t->sum);
    }
    if (rc == 0 && t->rows > 0) {
        /* New rows written on PostgreSQL get rowids after the last. */
        bs_buf name, sql;
        bs_buf_init(&name);
        bs_buf_init(&sql);
        qualified(&name, SCHEMA[t->db], t->name);
        bs_buf_puts(&sql, "SELECT setval(pg_get_serial_sequence($1, "
                          "'_rowid'), (SELECT max(\"_rowid\") FROM ");
        bs_buf_append(&sql, name.data, name.len);
        bs_buf_puts(&sql, "))");
        bs_buf_putc(&name, '\0');
        bs_buf_putc(&sql, '\0');
        bs_pg_param p = {name.data, -1, false};
        rc = name.oom || sql.oom
                 ? BS_ENOMEM
                 : bs_pg_exec(j->pg, sql.data, 1, &p, false, NULL, t->name,
                              err);
        bs_buf_dispose(&name);
        bs_buf_dispose(&sql);
    }
    /* What PostgreSQL now holds, read back. */
    if (rc == 0)
        rc = digest_init(&dst);
    if (rc == 0)
        rc = pg_read(j, t, &dst, NULL, NULL, err);
    if (rc == 0) {
        char sum[65];
        int64_t rows = dst.rows;
        digest_end(&dst, sum);
        rc = compare(t, t->rows, t->sum, "SQLite", rows, sum, "PostgreSQL",
                     err);
    }
    digest_drop(&src);
    digest_drop(&dst);
    bs_buf_dispose(&q);
    bs_buf_dispose(&copy);
    if (rc == 0)
        say(j, "%s.%s: %lld rows, sha256 %.16s, equal on both sides",
            DBNAME[t->db], t->name, (long long)t->rows, t->sum);
    return rc;
}

/* The indexes and views of SQLite, recreated on PostgreSQL where they
 * can be; each one that cannot is reported with the reason. Triggers
 * and full-text tables stay SQLite's (import restores them). */
static int export_extras(job *j, bs_error *err)
{
    int triggers = 0, fts = 0, rc = 0;
    bs_buf q;
    bs_buf_init(&q);
    /* A view may read another view that SQLite's schema lists after it
     * (view2 over view1): a view PostgreSQL refuses is tried again after
     * the others, as long as each pass creates one more, and reported
     * only by a last pass that creates none. */
    bool *wait = j->ne ? calloc((size_t)j->ne, sizeof *wait) : NULL;
    if (j->ne && !wait)
        return BS_ENOMEM;
    bool report = false;
    for (int pass = 0, pending = -1; rc == 0; pass++) {
        int failed = 0;
        for (int i = 0; i < j->ne && rc == 0; i++) {
            if (pass > 0 && !wait[i])
                continue;
            const entry *e = &j->e[i];
            const tbl *t = NULL;
            for (int k = 0; k < j->nt && !t; k++) {
                if (j->tb[k].db == e->db &&
                    strcmp(j->tb[k].name, e->tbl_name) == 0)
                    t = &j->tb[k];
            }
            bs_buf_reset(&q);
            const char *why = NULL;
            bool view = strcmp(e->type, "view") == 0;
            if (strcmp(e->type, "trigger") == 0) {
                triggers++;
                continue;
            } else if (is_virtual(e)) {
                fts++;
                continue;
            } else if (view) {
                /* A view collection's own query reads better on
                 * PostgreSQL than the text SQLite keeps, which wraps it
                 * in an unnamed subquery. */
                json_object *vq =
                    e->db == 0 ? json_object_object_get(j->views, e->name)
                               : NULL;
                const char *body = vq ? json_object_get_string(vq)
                                      : view_query(e->sql);
                if (!body) {
                    why = "its query could not be read";
                } else {
                    /* The view's query is SQL written by a superuser and
                     * run as SQL on SQLite too; PostgreSQL either accepts
                     * it as it is or the view is reported and left out. */
                    bs_buf_puts(&q, "CREATE VIEW ");
                    qualified(&q, SCHEMA[e->db], e->name);
                    bs_buf_puts(&q, " AS ");
                    bs_buf_puts(&q, body);
                }
            } else if (strcmp(e->type, "index") == 0) {
                why = t ? translate_index(e->sql, t, &q)
                        : "its table is not exported";
            } else {
                continue;
            }
            bs_buf_putc(&q, '\0');
            if (!why && q.oom)
                rc = BS_ENOMEM;
            if (why || rc)
                goto next;
            rc = pg_run(j, "SAVEPOINT bs_extra", NULL, err);
            if (rc == 0 && pg_run(j, q.data, NULL, err) != 0) {
                const char *m = err->message ? err->message : "";
                if (view && !report) {
                    wait[i] = true;
                    failed++;
                } else {
                    say(j, "%s %s.%s: not created on PostgreSQL (%s)", e->type,
                        DBNAME[e->db], e->name, m);
                }
                bs_error_dispose(err);
                bs_error_init(err);
                rc = pg_run(j, "ROLLBACK TO SAVEPOINT bs_extra", NULL, err);
            } else if (rc == 0) {
                wait[i] = false;
                rc = pg_run(j, "RELEASE SAVEPOINT bs_extra", NULL, err);
            }
        next:
            if (why)
                say(j, "%s %s.%s: not created on PostgreSQL: %s", e->type,
                    DBNAME[e->db], e->name, why);
        }
        if (report || failed == 0)
            break;
        report = failed == pending; /* no view created by this pass */
        pending = failed;
    }
    free(wait);
    bs_buf_dispose(&q);
    if (rc == 0 && (triggers || fts))
        say(j, "%d trigger%s and %d full-text table%s stay SQLite's: kept "
               "for import, not created on PostgreSQL", triggers,
            triggers == 1 ? "" : "s", fts, fts == 1 ? "" : "s");
    return rc;
}

/* The file counts and bytes of a storage walk. */
typedef struct files {
    int64_t count, bytes;
} files;

static int read_file(const char *path, bs_buf *out)
{
    bs_buf_reset(out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return BS_EIO;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bs_buf_append(out, chunk, n);
    int rc = ferror(f) ? BS_EIO : out->oom ? BS_ENOMEM : 0;
    fclose(f);
    return rc;
}

/* Puts every regular file below root/rel into basalt_export.files. */
static int export_dir(job *j, const char *root, const char *rel, files *fs,
                      bs_error *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT && !*rel ? 0
                                        : bs_error_set(err, 500,
                                                       "Cannot read %s.", path);
    int rc = 0;
    struct dirent *de;
    bs_buf data;
    bs_buf_init(&data);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[4096], full[8192];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (lstat(full, &st) != 0) {
            rc = bs_error_set(err, 500, "Cannot read %s.", full);
        } else if (S_ISDIR(st.st_mode)) {
            rc = export_dir(j, root, sub, fs, err);
        } else if (!S_ISREG(st.st_mode)) {
            say(j, "storage/%s: not a regular file, left out", sub);
        } else if ((rc = read_file(full, &data)) != 0) {
            rc = bs_error_set(err, 500, "Cannot read %s.", full);
        } else {
            char sum[65], size[32];
            sha256_hex(data.data ? data.data : "", data.len, sum);
            snprintf(size, sizeof size, "%zu", data.len);
            bs_pg_param p[4] = {{sub, -1, false},
                                {size, -1, false},
                                {sum, -1, false},
                                {data.data ? data.data : "", (long)data.len,
                                 true}};
            rc = bs_pg_exec(j->pg,
                            "INSERT INTO " META ".files (path, size, "
                            "sha256, data) VALUES ($1, $2, $3, $4)",
                            4, p, false, NULL, sub, err);
            fs->count++;
            fs->bytes += (int64_t)data.len;
        }
    }
    bs_buf_dispose(&data);
    closedir(d);
    return rc;
}

/* pb_data/storage into PostgreSQL, then PostgreSQL's own SHA-256 of
 * every stored file compared with the one computed from the disk. */
static int export_files(job *j, bs_error *err)
{
    char root[4200];
    snprintf(root, sizeof root, "%s/storage", j->t->dir);
    files fs = {0};
    int rc = export_dir(j, root, "", &fs, err);
    bs_pg_res *res = NULL;
    if (rc == 0)
        rc = bs_pg_exec(j->pg,
                        "SELECT count(*), coalesce(sum(length(data)), 0), "
                        "count(*) FILTER (WHERE length(data) <> size OR "
                        "encode(sha256(data), 'hex') <> sha256) FROM " META
                        ".files", 0, NULL, false, &res, "files", err);
    if (rc == 0) {
        long long n = atoll(bs_pg_res_value(res, 0, 0, NULL));
        long long bytes = atoll(bs_pg_res_value(res, 0, 1, NULL));
        long long bad = atoll(bs_pg_res_value(res, 0, 2, NULL));
        if (n != fs.count || bytes != fs.bytes || bad != 0)
            rc = bs_error_set(err, 500,
                              "Verification failed: storage has %lld files "
                              "(%lld bytes) but PostgreSQL holds %lld (%lld "
                              "bytes), %lld of them with another SHA-256.",
                              (long long)fs.count, (long long)fs.bytes, n,
                              bytes, bad);
        else
            say(j, "storage: %lld files, %lld bytes, SHA-256 of each equal "
                   "on both sides", n, bytes);
    }
    bs_pg_res_free(res);
    return rc;
}

/* Refuses a database that already holds the export's schema or any of
 * the tables and views to create. */
static int export_check_empty(job *j, bs_error *err)
{
    bool yes = false;
    int rc = pg_exists(j, META, "sqlite_schema", &yes, err);
    if (rc == 0 && yes)
        return bs_error_set(err, 400,
                            "The database already holds an export (table "
                            META ".sqlite_schema); use an empty database.");
    for (int i = 0; i < j->ne && rc == 0; i++) {
        const entry *e = &j->e[i];
        if (strcmp(e->type, "table") != 0 && strcmp(e->type, "view") != 0)
            continue;
        rc = pg_exists(j, SCHEMA[e->db], e->name, &yes, err);
        if (rc == 0 && yes)
            return bs_error_set(err, 400,
                                "The database already has a table or view "
                                "\"%s\".\"%s\"; export needs a database "
                                "without the pb_data's tables.",
                                SCHEMA[e->db], e->name);
    }
    return rc;
}

static int export_meta(job *j, bs_error *err)
{
    int rc = pg_run(j,
                    "CREATE SCHEMA IF NOT EXISTS auxiliary; ", NULL, err);
    if (rc == 0)
        rc = bs_pg_exec_script(
            j->pg,
            "CREATE SCHEMA " META ";"
            "CREATE TABLE " META ".sqlite_schema (ord integer PRIMARY KEY, "
            "db text NOT NULL, type text NOT NULL, name text NOT NULL, "
            "tbl_name text NOT NULL, sql text NOT NULL);"
            "CREATE TABLE " META ".tables (db text NOT NULL, name text NOT "
            "NULL, rows bigint NOT NULL, sha256 text NOT NULL, PRIMARY KEY "
            "(db, name));"
            "CREATE TABLE " META ".files (path text PRIMARY KEY, size bigint "
            "NOT NULL, sha256 text NOT NULL, data bytea NOT NULL);",
            "creating " META, err);
    if (rc == 0)
        rc = bs_pg_exec_script(j->pg, bs_sql_dialect_postgres_setup(),
                               "creating the filter's helper functions", err);
    for (int i = 0; i < j->ne && rc == 0; i++) {
        const entry *e = &j->e[i];
        char ord[16];
        snprintf(ord, sizeof ord, "%d", i);
        bs_pg_param p[6] = {{ord, -1, false},      {DBNAME[e->db], -1, false},
                            {e->type, -1, false},  {e->name, -1, false},
                            {e->tbl_name, -1, false}, {e->sql, -1, false}};
        rc = bs_pg_exec(j->pg,
                        "INSERT INTO " META ".sqlite_schema VALUES ($1, $2, "
                        "$3, $4, $5, $6)", 6, p, false, NULL, e->name, err);
    }
    return rc;
}

int bs_pg_export(const bs_pg_transfer *t, bs_error *err)
{
    job j;
    job_init(&j, t);
    char path[4200];
    snprintf(path, sizeof path, "%s/data.db", t->dir);
    if (access(path, R_OK) != 0)
        return bs_error_set(err, 400, "No data.db in %s.", t->dir);
    int rc = bs_store_open(&j.st, t->dir, 1, err);
    if (rc)
        return rc;
    /* One read transaction on each file: a consistent snapshot even
     * while a server writes. */
    j.conn[0] = bs_store_reader_acquire(j.st);
    j.conn[1] = bs_store_aux_acquire(j.st);
    bs_conn_set_deadline(j.conn[0], 0);
    for (int db = 0; db < 2 && rc == 0; db++) {
        rc = bs_conn_exec(j.conn[db], "BEGIN", err);
        j.in_tx[db] = rc == 0;
        if (rc == 0)
            rc = load_entries(&j, db, err);
    }
    if (rc == 0)
        rc = load_fields(&j, err);
    for (int i = 0; i < j.ne && rc == 0; i++) {
        if (strcmp(j.e[i].type, "table") == 0 && !is_virtual(&j.e[i]))
            rc = describe(&j, j.e[i].db, j.e[i].name, err);
    }
    if (rc == 0)
        rc = bs_pg_connect(t->url, &j.pg, err);
    if (rc == 0)
        rc = pg_run(&j, "BEGIN", NULL, err);
    if (rc == 0)
        rc = export_check_empty(&j, err);
    if (rc == 0)
        rc = export_meta(&j, err);
    for (int i = 0; i < j.nt && rc == 0; i++)
        rc = export_table(&j, &j.tb[i], err);
    for (int i = 0; i < j.nt && rc == 0; i++) {
        char rows[32];
        snprintf(rows, sizeof rows, "%lld", (long long)j.tb[i].rows);
        bs_pg_param p[4] = {{DBNAME[j.tb[i].db], -1, false},
                            {j.tb[i].name, -1, false},
                            {rows, -1, false},
                            {j.tb[i].sum, -1, false}};
        rc = bs_pg_exec(j.pg, "INSERT INTO " META ".tables VALUES ($1, $2, "
                              "$3, $4)", 4, p, false, NULL, j.tb[i].name, err);
    }
    if (rc == 0)
        rc = export_extras(&j, err);
    if (rc == 0)
        rc = export_files(&j, err);
    if (rc == 0)
        rc = pg_run(&j, "COMMIT", "committing", err);
    if (rc == 0)
        say(&j, "exported %d tables of %s into PostgreSQL", j.nt, t->dir);
    /* Without COMMIT, closing the connection rolls everything back. */
    for (int db = 0; db < 2; db++) {
        if (j.in_tx[db])
            bs_conn_exec(j.conn[db], "ROLLBACK", NULL);
    }
    bs_store_reader_release(j.st, j.conn[0]);
    bs_store_aux_release(j.st, j.conn[1]);
    bs_store_close(j.st);
    job_dispose(&j);
    return rc;
}

/* ---- import ------------------------------------------------------------- */

/* Describes a table from the columns PostgreSQL has for it. */
static int describe_pg(job *j, int db, const char *name, bs_error *err)
{
    tbl *t = add_table(j, db, name);
    if (!t)
        return BS_ENOMEM;
    bs_pg_param p[2] = {{SCHEMA[db], -1, false}, {name, -1, false}};
    bs_pg_res *res = NULL;
    int rc = bs_pg_exec(j->pg,
                        "SELECT column_name, data_type FROM "
                        "information_schema.columns WHERE table_schema = $1 "
                        "AND table_name = $2 AND column_name <> '_rowid' "
                        "ORDER BY ordinal_position", 2, p, false, &res, name,
                        err);
    int n = rc == 0 ? bs_pg_res_rows(res) : 0;
    if (rc == 0 && n == 0)
        rc = bs_error_set(err, 400, "The export has no table %s.%s.",
                          SCHEMA[db], name);
    for (int i = 0; i < n && rc == 0; i++) {
        if (!add_col(t, bs_pg_res_value(res, i, 0, NULL),
                     kind_of_pg(bs_pg_res_value(res, i, 1, NULL))))
            rc = BS_ENOMEM;
    }
    bs_pg_res_free(res);
    return rc;
}

typedef struct insert {
    bs_rows r;
} insert;

/* Writes one row read from PostgreSQL into SQLite. */
static int insert_row(job *j, const tbl *t, const char *const *vals,
                      const size_t *lens, void *user, bs_error *err)
{
    insert *in = user;
    bs_rows_reset(&in->r);
    bs_rows_bind_int(&in->r, 1, strtoll(vals[0], NULL, 10));
    for (int i = 0; i < t->ncols; i++) {
        const char *v = vals[i + 1];
        if (!v)
            bs_rows_bind_null(&in->r, i + 2);
        else if (t->cols[i].k == K_BOOL)
            bs_rows_bind_int(&in->r, i + 2, v[0] == 't');
        else if (t->cols[i].k == K_BIGINT)
            bs_rows_bind_int(&in->r, i + 2, strtoll(v, NULL, 10));
        else
            bs_rows_bind_text(&in->r, i + 2, v, (long)lens[i + 1]);
    }
    int rc = bs_rows_exec(&in->r);
    if (rc < 0)
        return bs_error_set(err, 500, "SQLite: %s.%s: %s", DBNAME[t->db],
                            t->name, bs_rows_errmsg(&in->r));
    return 0;
}

static int import_table(job *j, tbl *t, const char *rows, const char *sum,
                        bs_error *err)
{
    bs_buf q;
    bs_buf_init(&q);
    bs_buf_puts(&q, "INSERT INTO ");
    bs_sql_ident(&q, t->name);
    bs_buf_puts(&q, " (rowid");
    bs_buf_puts(&q, ", ");
    column_list(&q, t);
    bs_buf_puts(&q, ") VALUES (?");
    for (int i = 0; i < t->ncols; i++)
        bs_buf_puts(&q, ", ?");
    bs_buf_putc(&q, ')');
    insert in;
    int rc = q.oom ? BS_ENOMEM
                   : bs_rows_open(&in.r, j->conn[t->db], q.data, (long)q.len,
                                  BS_ROWS_ONCE);
    if (rc)
        rc = bs_error_set(err, 500, "SQLite: %s.%s: %s", DBNAME[t->db],
                          t->name, bs_conn_errmsg(j->conn[t->db]));
    digest src = {0}, dst = {0};
    char pg_sum[65], sq_sum[65];
    int64_t pg_rows = 0;
    if (rc == 0)
        rc = digest_init(&src);
    if (rc == 0)
        rc = pg_read(j, t, &src, insert_row, &in, err);
    bs_rows_close(&in.r);
    bs_buf_dispose(&q);
    if (rc == 0) {
        pg_rows = src.rows;
        digest_end(&src, pg_sum);
        rc = digest_init(&dst);
    }
    if (rc == 0)
        rc = sq_read(j, t, &dst, NULL, err);
    if (rc == 0) {
        t->rows = dst.rows;
        digest_end(&dst, sq_sum);
        rc = compare(t, pg_rows, pg_sum, "PostgreSQL", t->rows, sq_sum,
                     "the new SQLite file", err);
    }
    if (rc == 0 && rows && sum)
        rc = compare(t, atoll(rows), sum, "the export's record", t->rows,
                     sq_sum, "the new SQLite file", err);
    digest_drop(&src);
    digest_drop(&dst);
    if (rc == 0)
        say(j, "%s.%s: %lld rows, sha256 %.16s, equal on both sides%s",
            DBNAME[t->db], t->name, (long long)t->rows, sq_sum,
            sum ? " and to the export" : "");
    return rc;
}

/* Whether a stored path stays inside storage/: relative, no empty, "."
 * or ".." part. */
static bool safe_path(const char *p, size_t n)
{
    if (n == 0 || strlen(p) != n || p[0] == '/')
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.') ||
            (len == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += len;
        if (*s == '/')
            s++;
        if (e && !*s)
            return false;
    }
    return true;
}

static int import_files(job *j, bs_error *err)
{
    int rc = pg_run(j, "DECLARE bs_files NO SCROLL CURSOR FOR SELECT path, "
                       "sha256, data FROM " META ".files ORDER BY path",
                    "files", err);
    files fs = {0};
    bs_buf back;
    bs_buf_init(&back);
    while (rc == 0) {
        bs_pg_res *res = NULL;
        rc = bs_pg_exec(j->pg, "FETCH 50 FROM bs_files", 0, NULL, true, &res,
                        "files", err);
        int n = rc == 0 ? bs_pg_res_rows(res) : 0;
        for (int i = 0; i < n && rc == 0; i++) {
            size_t plen, slen, dlen;
            const char *p = bs_pg_res_value(res, i, 0, &plen);
            const char *want = bs_pg_res_value(res, i, 1, &slen);
            const char *data = bs_pg_res_value(res, i, 2, &dlen);
            char full[8192], sum[65];
            if (!safe_path(p, plen) || slen != 64) {
                rc = bs_error_set(err, 400, "The export lists a file with a "
                                            "bad path or checksum: %s.", p);
                break;
            }
            snprintf(full, sizeof full, "%s/storage/%s", j->t->dir, p);
            FILE *f = bs_make_parents(full) == 0 ? fopen(full, "wbx") : NULL;
            bool ok = f && fwrite(data, 1, dlen, f) == dlen;
            if (f && fclose(f) != 0)
                ok = false;
            if (!ok || read_file(full, &back) != 0) {
                rc = bs_error_set(err, 500, "Cannot write %s.", full);
                break;
            }
            sha256_hex(back.data ? back.data : "", back.len, sum);
            if (memcmp(sum, want, 64) != 0)
                rc = bs_error_set(err, 500, "Verification failed: storage/%s "
                                            "has another SHA-256 than the "
                                            "export's.", p);
            fs.count++;
            fs.bytes += (int64_t)back.len;
        }
        bs_pg_res_free(res);
        if (n == 0)
            break;
    }
    bs_buf_dispose(&back);
    if (rc == 0)
        rc = pg_run(j, "CLOSE bs_files", "files", err);
    if (rc == 0)
        say(j, "storage: %lld files, %lld bytes, SHA-256 of each equal to "
               "the export's", (long long)fs.count, (long long)fs.bytes);
    return rc;
}

/* The export's record of each table: rows and checksum. */
static int import_load(job *j, bs_pg_res **tables, bs_error *err)
{
    bool yes = false;
    int rc = pg_exists(j, META, "sqlite_schema", &yes, err);
    if (rc == 0 && !yes)
        return bs_error_set(err, 400, "The database holds no Basalt export "
                                      "(no table " META ".sqlite_schema).");
    bs_pg_res *res = NULL;
    if (rc == 0)
        rc = bs_pg_exec(j->pg, "SELECT db, type, name, tbl_name, sql FROM "
                               META ".sqlite_schema ORDER BY ord", 0, NULL,
                        false, &res, "reading the schema", err);
    int n = rc == 0 ? bs_pg_res_rows(res) : 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *db = bs_pg_res_value(res, i, 0, NULL);
        rc = add_entry(j, strcmp(db, DBNAME[1]) == 0 ? 1 : 0,
                       bs_pg_res_value(res, i, 1, NULL),
                       bs_pg_res_value(res, i, 2, NULL),
                       bs_pg_res_value(res, i, 3, NULL),
                       bs_pg_res_value(res, i, 4, NULL));
    }
    bs_pg_res_free(res);
    if (rc == 0)
        rc = bs_pg_exec(j->pg, "SELECT db, name, rows, sha256 FROM " META
                               ".tables", 0, NULL, false, tables,
                        "reading the tables", err);
    return rc;
}

/* The new SQLite schema: what is run before the rows (tables) or after
 * them (indexes, full-text tables rebuilt from their content, triggers,
 * views), in SQLite's own order. */
static int import_ddl(job *j, bool tables, bs_error *err)
{
    int rc = 0;
    bs_buf q;
    bs_buf_init(&q);
    for (int i = 0; i < j->ne && rc == 0; i++) {
        const entry *e = &j->e[i];
        bool plain = strcmp(e->type, "table") == 0 && !is_virtual(e);
        if (plain != tables)
            continue;
        char msg[256] = "";
        rc = bs_conn_exec1(j->conn[e->db], e->sql, msg, sizeof msg);
        if (rc)
            rc = bs_error_set(err, 500, "SQLite: %s %s.%s: %s", e->type,
                              DBNAME[e->db], e->name, msg);
        if (rc == 0 && is_virtual(e) && strcasestr(e->sql, "fts5")) {
            bs_buf_reset(&q);
            bs_buf_puts(&q, "INSERT INTO ");
            bs_sql_ident(&q, e->name);
            bs_buf_puts(&q, " (");
            bs_sql_ident(&q, e->name);
            bs_buf_puts(&q, ") VALUES ('rebuild')");
            bs_buf_putc(&q, '\0');
            rc = q.oom ? BS_ENOMEM
                       : bs_conn_exec1(j->conn[e->db], q.data, msg,
                                       sizeof msg);
            if (rc && rc != BS_ENOMEM)
                rc = bs_error_set(err, 500, "SQLite: rebuilding %s.%s: %s",
                                  DBNAME[e->db], e->name, msg);
        }
    }
    bs_buf_dispose(&q);
    return rc;
}

/* Whether dir is missing or an empty directory. */
static int check_new_dir(const char *dir, bool *created, bs_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT)
            return bs_error_set(err, 400, "Cannot open %s.", dir);
        if (bs_make_parents(dir) != 0 || mkdir(dir, 0755) != 0)
            return bs_error_set(err, 400, "Cannot create %s.", dir);
        *created = true;
        return 0;
    }
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)) != NULL)
        empty &= strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty ? 0
                 : bs_error_set(err, 400, "%s is not empty; import writes a "
                                          "new pb_data into a new or empty "
                                          "directory.", dir);
}

static int import_run(job *j, bs_error *err)
{
    bs_pg_res *tables = NULL;
    int rc = pg_run(j, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    NULL, err);
    if (rc == 0)
        rc = import_load(j, &tables, err);
    if (rc == 0)
        rc = bs_store_tx_begin(j->st, &j->conn[0], err);
    j->in_tx[0] = rc == 0;
    if (rc == 0) {
        j->conn[1] = bs_store_aux_acquire(j->st);
        rc = bs_conn_exec(j->conn[1], "BEGIN", err);
        j->in_tx[1] = rc == 0;
    }
    if (rc == 0)
        rc = import_ddl(j, true, err);
    for (int i = 0; i < j->ne && rc == 0; i++) {
        const entry *e = &j->e[i];
        if (strcmp(e->type, "table") != 0 || is_virtual(e))
            continue;
        rc = describe_pg(j, e->db, e->name, err);
        const char *rows = NULL, *sum = NULL;
        int n = rc == 0 ? bs_pg_res_rows(tables) : 0;
        for (int k = 0; k < n; k++) {
            if (strcmp(bs_pg_res_value(tables, k, 0, NULL), DBNAME[e->db]) ==
                    0 &&
                strcmp(bs_pg_res_value(tables, k, 1, NULL), e->name) == 0) {
                rows = bs_pg_res_value(tables, k, 2, NULL);
                sum = bs_pg_res_value(tables, k, 3, NULL);
            }
        }
        if (rc == 0)
            rc = import_table(j, &j->tb[j->nt - 1], rows, sum, err);
    }
    if (rc == 0)
        rc = import_ddl(j, false, err);
    if (rc == 0)
        rc = import_files(j, err);
    if (rc == 0 && j->in_tx[1]) {
        rc = bs_conn_exec(j->conn[1], "COMMIT", err);
        j->in_tx[1] = rc != 0;
    }
    if (j->in_tx[1])
        bs_conn_exec(j->conn[1], "ROLLBACK", NULL);
    if (j->conn[1])
        bs_store_aux_release(j->st, j->conn[1]);
    if (j->in_tx[0]) {
        /* A rollback after a failure keeps the first error. */
        bs_error later;
        bs_error_init(&later);
        int end = bs_store_tx_end(j->st, rc == 0, rc ? &later : err);
        bs_error_dispose(&later);
        rc = rc ? rc : end;
    }
    bs_pg_res_free(tables);
    return rc;
}

int bs_pg_import(const bs_pg_transfer *t, bs_error *err)
{
    job j;
    job_init(&j, t);
    bool created = false;
    int rc = check_new_dir(t->dir, &created, err);
    if (rc)
        return rc;
    rc = bs_pg_connect(t->url, &j.pg, err);
    if (rc == 0)
        rc = bs_store_open(&j.st, t->dir, 1, err);
    if (rc == 0)
        rc = import_run(&j, err);
    if (j.st)
        bs_store_close(j.st);
    if (rc == 0) {
        say(&j, "imported %d tables into %s", j.nt, t->dir);
    } else if (created) {
        bs_remove_tree(AT_FDCWD, t->dir);
    } else {
        static const char *const made[] = {
            "data.db", "data.db-wal", "data.db-shm", "auxiliary.db",
            "auxiliary.db-wal", "auxiliary.db-shm", "storage"};
        int fd = open(t->dir, O_RDONLY | O_DIRECTORY);
        for (size_t i = 0; fd >= 0 && i < sizeof made / sizeof *made; i++)
            bs_remove_tree(fd, made[i]);
        if (fd >= 0)
            close(fd);
    }
    job_dispose(&j);
    return rc;
}
