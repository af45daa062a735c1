/*
 * test_filter_pg.c - the filter language on PostgreSQL against SQLite.
 *
 * The same collections and rows go into an in-memory SQLite database
 * (PocketBase's column types) and into a PostgreSQL 15 database (the
 * mapping of docs/scale.md). Every filter of the corpus is compiled
 * twice, with each dialect, run on each engine, and the two sets of
 * matching ids must be equal; sorts compare the order as well. Filters
 * whose results still differ are listed in `known` with the reason: the
 * test checks that they do differ, so that one which starts to agree is
 * noticed and moved into the corpus.
 *
 * PostgreSQL comes from tests/pg/pg.sh, which sets BASALT_PG_URL; without
 * it the test says so and fails, unless BASALT_PG_OPTIONAL is set.
 */
#include <libpq-fe.h>
#include <stdlib.h>

#include "../unit/filter_schema.h"
#include "../unit/harness.h"
#include "filter/filter.h"

/* ---- fixture ------------------------------------------------------------ */

static sqlite3 *lite;
static PGconn *pg;
static bs_schema schema;
static json_object *req;

/* 2024-02-15 12:30:45.678Z, a Thursday in a leap year. */
#define FIXED_NOW 1708000245678LL

static const coll_def defs[] = {
    {"c_users", "users", "auth", "",
     "[{\"name\":\"id\",\"type\":\"text\"},"
     "{\"name\":\"email\",\"type\":\"email\"},"
     "{\"name\":\"emailVisibility\",\"type\":\"bool\"},"
     "{\"name\":\"verified\",\"type\":\"bool\"},"
     "{\"name\":\"name\",\"type\":\"text\"},"
     "{\"name\":\"age\",\"type\":\"number\"},"
     "{\"name\":\"friends\",\"type\":\"relation\",\"collectionId\":\"c_users\","
     "\"maxSelect\":5}]",
     "[]"},
    {"c_tags", "tags", "base", "",
     "[{\"name\":\"id\",\"type\":\"text\"},{\"name\":\"name\",\"type\":\"text\"},"
     "{\"name\":\"color\",\"type\":\"text\"}]",
     "[]"},
    {"c_posts", "posts", "base", "",
     "[{\"name\":\"id\",\"type\":\"text\"},"
     "{\"name\":\"title\",\"type\":\"text\"},"
     "{\"name\":\"views\",\"type\":\"number\"},"
     "{\"name\":\"public\",\"type\":\"bool\"},"
     "{\"name\":\"type\",\"type\":\"select\",\"maxSelect\":3},"
     "{\"name\":\"kind\",\"type\":\"select\",\"maxSelect\":1},"
     "{\"name\":\"author\",\"type\":\"relation\",\"collectionId\":\"c_users\","
     "\"maxSelect\":1},"
     "{\"name\":\"tags\",\"type\":\"relation\",\"collectionId\":\"c_tags\","
     "\"maxSelect\":5},"
     "{\"name\":\"data\",\"type\":\"json\"},"
     "{\"name\":\"published\",\"type\":\"date\"}]",
     "[]"},
    {"c_comments", "comments", "base", "",
     "[{\"name\":\"id\",\"type\":\"text\"},"
     "{\"name\":\"post\",\"type\":\"relation\",\"collectionId\":\"c_posts\","
     "\"maxSelect\":1},"
     "{\"name\":\"author\",\"type\":\"relation\",\"collectionId\":\"c_users\","
     "\"maxSelect\":1},"
     "{\"name\":\"body\",\"type\":\"text\"}]",
     "[]"},
};

/* One column: its name, SQLite type and PostgreSQL type. */
typedef struct col_def {
    const char *name, *lite, *pg;
} col_def;

#define TXT "TEXT", "text"
#define NUM "NUMERIC", "double precision"
#define BOOL "BOOLEAN", "boolean"
#define JSN "JSON", "text"

typedef struct table_def {
    const char *name;
    int ncols;
    col_def cols[10];
    /* Rows of ncols values each; NULL is SQL NULL. Bools are "1"/"0",
     * JSON columns hold JSON text. */
    int nrows;
    const char *rows[16][10];
} table_def;

static const table_def tables[] = {
    {"users", 7,
     {{"id", TXT}, {"email", TXT}, {"emailVisibility", BOOL},
      {"verified", BOOL}, {"name", TXT}, {"age", NUM}, {"friends", JSN}},
     4,
     {{"u1", "ann@example.com", "1", "1", "Ann", "31", "[\"u2\"]"},
      {"u2", "bob@example.com", "0", "0", "Bob", "0", "[\"u1\",\"u3\"]"},
      {"u3", "cid@example.com", "1", "0", "", "-2.5", "[]"},
      {"u4", "DAN@Example.com", "0", "1", "Dan \xc3\x9c", "120", "[\"u4\"]"}}},
    {"tags", 3,
     {{"id", TXT}, {"name", TXT}, {"color", TXT}},
     4,
     {{"t1", "red", "red"},
      {"t2", "blue", "blue"},
      {"t3", "urgent", "red"},
      {"t4", "50%_off", "green"}}},
    {"posts", 10,
     {{"id", TXT}, {"title", TXT}, {"views", NUM}, {"public", BOOL},
      {"type", JSN}, {"kind", TXT}, {"author", TXT}, {"tags", JSN},
      {"data", JSN}, {"published", TXT}},
     12,
     {{"p01", "Hello World", "10", "1", "[\"a\",\"b\"]", "news", "u1",
       "[\"t1\",\"t2\"]",
       "{\"a\":{\"b\":1},\"list\":[1,2,3],\"name\":\"x\"}",
       "2024-01-15 10:00:00.000Z"},
      {"p02", "50% off sale", "5.5", "1", "[\"a\"]", "ad", "u2", "[\"t1\"]",
       "{\"a\":{\"b\":2},\"name\":\"y\"}", "2024-02-15 08:00:00.000Z"},
      {"p03", "", "0", "0", "[]", "", "", "[]", NULL, ""},
      {"p04", NULL, "100", "1", "[\"c\"]", "news", "u3",
       "[\"t3\",\"t1\",\"t2\"]", "{\"a\":{\"b\":3},\"name\":\"x\"}",
       "2024-02-15 23:00:00.000Z"},
      {"p05", "draft_x", "-7", "1", "[\"b\",\"c\"]", "news", "u1", "[\"t3\"]",
       "{\"a\":{\"b\":\"2\"}}", ""},
      {"p06", "back\\slash", "0.25", "0", "[\"a\",\"c\"]", "ad", "u2",
       "[\"t2\"]", "{\"name\":\"\xc3\x9cn\xc3\xaf\",\"tags\":[\"x\",\"y\"]}",
       "2023-12-31 23:59:59.999Z"},
      {"p07", "\xc3\x89" "COLE \xc3\xa9" "cole", "1000000", "1", "[\"b\"]",
       "blog", "", "[\"t4\"]", "[1,2]", "2024-02-29 12:00:00.000Z"},
      {"p08", "under_score", "-0.5", "0", "[\"a\",\"b\",\"c\"]", "blog", "u4",
       "[\"t1\",\"t4\"]", "\"str\"", "2025-06-01 00:00:00.000Z"},
      {"p09", "MiXeD Case", "42", "1", "[]", "news", "u1", "[]", "{}",
       "2024-02-15 12:30:45.678Z"},
      {"p10", "100%", "3", "0", "[\"c\"]", "", "u2", "[\"t2\",\"t3\"]",
       "{\"a\":null,\"n\":10}", "2024-01-01 00:00:00.000Z"},
      {"p11", "it's \"quoted\"", "10", "1", "[\"a\"]", "ad", "nobody",
       "[\"t9\"]", "{\"name\":\"x\",\"flag\":true}", "2024-03-01"},
      {"p12", "42.5", "42.5", "0", "[]", "blog", "u4", "[]", "null",
       "2024-02-15"}}},
    {"comments", 4,
     {{"id", TXT}, {"post", TXT}, {"author", TXT}, {"body", TXT}},
     5,
     {{"c1", "p01", "u2", "nice"},
      {"c2", "p01", "u3", "great"},
      {"c3", "p02", "u1", "nice"},
      {"c4", "p05", "u4", "Nice!"},
      {"c5", "p99", "u1", "orphan"}}},
};

#define NTABLES (int)(sizeof tables / sizeof tables[0])

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "fixture: %s: %s\n", what, msg ? msg : "?");
    exit(1);
}

static void pg_exec(const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        die(sql, PQerrorMessage(pg));
    PQclear(r);
}

/* Creates each table in both engines and inserts the rows with bound
 * values, so that no quoting differs between the two. */
static void load_tables(void)
{
    char sql[2048];
    pg_exec("SET client_min_messages = warning");
    pg_exec(bs_sql_dialect_postgres_setup());
    for (int t = 0; t < NTABLES; t++) {
        const table_def *td = &tables[t];
        int k = snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS \"%s\"",
                         td->name);
        pg_exec(sql);
        k = snprintf(sql, sizeof sql, "CREATE TABLE \"%s\" (", td->name);
        for (int c = 0; c < td->ncols; c++)
            k += snprintf(sql + k, sizeof sql - (size_t)k, "%s\"%s\" %s",
                          c ? ", " : "", td->cols[c].name, td->cols[c].lite);
        snprintf(sql + k, sizeof sql - (size_t)k, ")");
        char *msg = NULL;
        if (sqlite3_exec(lite, sql, NULL, NULL, &msg) != SQLITE_OK)
            die(sql, msg);
        k = snprintf(sql, sizeof sql,
                     "CREATE TABLE \"%s\" (\"_rowid\" bigint GENERATED "
                     "ALWAYS AS IDENTITY", td->name);
        for (int c = 0; c < td->ncols; c++)
            k += snprintf(sql + k, sizeof sql - (size_t)k, ", \"%s\" %s",
                          td->cols[c].name, td->cols[c].pg);
        snprintf(sql + k, sizeof sql - (size_t)k, ")");
        pg_exec(sql);

        char lsql[1024], psql[1024];
        int lk = snprintf(lsql, sizeof lsql, "INSERT INTO \"%s\" VALUES (",
                          td->name);
        int pk = snprintf(psql, sizeof psql, "INSERT INTO \"%s\" (", td->name);
        for (int c = 0; c < td->ncols; c++) {
            lk += snprintf(lsql + lk, sizeof lsql - (size_t)lk, "%s?",
                           c ? ", " : "");
            pk += snprintf(psql + pk, sizeof psql - (size_t)pk, "%s\"%s\"",
                           c ? ", " : "", td->cols[c].name);
        }
        snprintf(lsql + lk, sizeof lsql - (size_t)lk, ")");
        pk += snprintf(psql + pk, sizeof psql - (size_t)pk, ") VALUES (");
        for (int c = 0; c < td->ncols; c++)
            pk += snprintf(psql + pk, sizeof psql - (size_t)pk, "%s$%d::%s",
                           c ? ", " : "", c + 1, td->cols[c].pg);
        snprintf(psql + pk, sizeof psql - (size_t)pk, ")");
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(lite, lsql, -1, &st, NULL) != SQLITE_OK)
            die(lsql, sqlite3_errmsg(lite));
        for (int r = 0; r < td->nrows; r++) {
            const char *const *row = td->rows[r];
            sqlite3_reset(st);
            for (int c = 0; c < td->ncols; c++) {
                if (!row[c])
                    sqlite3_bind_null(st, c + 1);
                else if (strcmp(td->cols[c].lite, "TEXT") == 0 ||
                         strcmp(td->cols[c].lite, "JSON") == 0)
                    sqlite3_bind_text(st, c + 1, row[c], -1, SQLITE_STATIC);
                else
                    sqlite3_bind_double(st, c + 1, strtod(row[c], NULL));
            }
            if (sqlite3_step(st) != SQLITE_DONE)
                die(lsql, sqlite3_errmsg(lite));
            PGresult *res = PQexecParams(pg, psql, td->ncols, NULL, row, NULL,
                                         NULL, 0);
            if (PQresultStatus(res) != PGRES_COMMAND_OK)
                die(psql, PQerrorMessage(pg));
            PQclear(res);
        }
        sqlite3_finalize(st);
    }
}

static void fixture_open(const char *url)
{
    if (sqlite3_open(":memory:", &lite) != SQLITE_OK)
        die("sqlite", "cannot open");
    pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK)
        die(url, PQerrorMessage(pg));
    load_tables();
    filter_schema_load(&schema, defs, sizeof defs / sizeof defs[0]);
    const char *rq =
        "{\"context\":\"default\",\"method\":\"GET\","
        "\"headers\":{\"x_token\":\"abc\"},"
        "\"query\":{\"q\":\"5\",\"word\":\"news\",\"pct\":\"50%\"},"
        "\"body\":{\"title\":\"Hello World\",\"n\":10,\"type\":[\"a\",\"b\"],"
        "\"flag\":true},"
        "\"auth\":{\"id\":\"u1\",\"collectionId\":\"c_users\","
        "\"collectionName\":\"users\",\"email\":\"ann@example.com\","
        "\"verified\":true}}";
    if (bs_json_parse(rq, strlen(rq), &req) != 0)
        die("request", "bad JSON");
}

static void fixture_close(void)
{
    filter_schema_free(&schema);
    json_object_put(req);
    sqlite3_close(lite);
    PQfinish(pg);
}

/* ---- running one filter on both engines -------------------------------- */

/* Compiles filter and sort for coll with dialect d into a statement
 * listing the matching ids (in sort order, then by id). Returns false
 * with the reason in sql when compiling fails. */
static bool compile(const bs_sql_dialect *d, const char *coll,
                    const char *filter, const char *sort, bs_filter_query **qp,
                    bs_filter_sql *s, char *sql, size_t sqlsz)
{
    bs_filter_ctx ctx = {.schema = &schema,
                         .collection = bs_schema_find(&schema, coll),
                         .request = req,
                         .superuser = true,
                         .dialect = d,
                         .now_ms = FIXED_NOW};
    bs_error err;
    bs_error_init(&err);
    int rc = bs_filter_query_new(qp, &ctx, 1);
    if (rc == 0 && filter)
        rc = bs_filter_add_client(*qp, filter, &err);
    if (rc == 0 && sort)
        rc = bs_filter_add_client_sort(*qp, sort, &err);
    if (rc == 0)
        rc = bs_filter_finish(*qp, s, &err);
    if (rc) {
        snprintf(sql, sqlsz, "ERR:%s", err.message ? err.message : "?");
        bs_error_dispose(&err);
        return false;
    }
    snprintf(sql, sqlsz,
             "SELECT %s\"%s\".\"id\" FROM \"%s\" AS \"%s\" %s%s%s "
             "ORDER BY %s%s\"%s\".\"id\"",
             s->distinct ? "DISTINCT " : "", coll, coll, coll, s->joins,
             s->where[0] ? " WHERE " : "", s->where, s->order,
             s->order[0] ? ", " : "", coll);
    return true;
}

/* The ids a statement returns, joined by ','; "SQL:<message>" when the
 * engine refuses it. */
static void run_lite(const char *coll, const char *filter, const char *sort,
                     char *out, size_t outsz)
{
    static char sql[32768];
    bs_filter_query *q = NULL;
    bs_filter_sql s;
    if (!compile(bs_sql_dialect_sqlite(), coll, filter, sort, &q, &s, sql,
                 sizeof sql)) {
        snprintf(out, outsz, "%.4000s", sql);
        bs_filter_query_free(q);
        return;
    }
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(lite, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(out, outsz, "SQL:%s", sqlite3_errmsg(lite));
    } else {
        bs_filter_bind(&s, st);
        size_t k = 0;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW && k < outsz)
            k += (size_t)snprintf(out + k, outsz - k, "%s%s", k ? "," : "",
                                  (const char *)sqlite3_column_text(st, 0));
        if (step != SQLITE_DONE)
            snprintf(out, outsz, "SQL:%s", sqlite3_errmsg(lite));
    }
    sqlite3_finalize(st);
    bs_filter_query_free(q);
}

static void run_pg(const char *coll, const char *filter, const char *sort,
                   char *out, size_t outsz, char *sql, size_t sqlsz)
{
    bs_filter_query *q = NULL;
    bs_filter_sql s;
    if (!compile(bs_sql_dialect_postgres(), coll, filter, sort, &q, &s, sql,
                 sqlsz)) {
        snprintf(out, outsz, "%.4000s", sql);
        bs_filter_query_free(q);
        return;
    }
    const char **values = calloc((size_t)s.nparams + 1, sizeof *values);
    bs_buf *bufs = calloc((size_t)s.nparams + 1, sizeof *bufs);
    for (int i = 0; i < s.nparams; i++) {
        bs_buf_init(&bufs[i]);
        values[i] = bs_filter_pg_param(&s.params[i], &bufs[i]);
    }
    Oid *types = calloc((size_t)s.nparams + 1, sizeof *types);
    for (int i = 0; i < s.nparams; i++)
        types[i] = bs_filter_pg_param_type(sql, s.first_param + i);
    PGresult *r = PQexecParams(pg, sql, s.nparams, types, values, NULL, NULL,
                               0);
    free(types);
    out[0] = '\0';
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(out, outsz, "SQL:%s", PQresultErrorMessage(r));
        char *nl = strchr(out, '\n');
        if (nl)
            *nl = '\0';
    } else {
        size_t k = 0;
        for (int i = 0; i < PQntuples(r) && k < outsz; i++)
            k += (size_t)snprintf(out + k, outsz - k, "%s%s", k ? "," : "",
                                  PQgetvalue(r, i, 0));
    }
    PQclear(r);
    for (int i = 0; i < s.nparams; i++)
        bs_buf_dispose(&bufs[i]);
    free(bufs);
    free(values);
    bs_filter_query_free(q);
}

/* ---- the corpus --------------------------------------------------------- */

typedef struct probe {
    const char *coll;   /* NULL: posts */
    const char *filter; /* NULL: none */
    const char *sort;   /* NULL: none */
} probe;

/* Filters and sorts whose results must be the same on both engines. */
static const probe agree[] = {
    /* = and != on text, NULL and '' */
    {0, "title = 'Hello World'", 0},
    {0, "title != 'Hello World'", 0},
    {0, "title = ''", 0},
    {0, "title != ''", 0},
    {0, "title = null", 0},
    {0, "title != null", 0},
    {0, "'' = title", 0},
    {0, "title = 'hello world'", 0},
    {0, "title = 'it\\'s \"quoted\"'", 0},
    {0, "title = \"back\\\\slash\"", 0},
    {0, "kind = title", 0},
    {0, "kind != title", 0},
    /* numbers: 0, negatives, floats */
    {0, "views = 10", 0},
    {0, "views = 5.5", 0},
    {0, "views != 10", 0},
    {0, "views > 5", 0},
    {0, "views >= 5.5", 0},
    {0, "views < 0", 0},
    {0, "views <= -0.5", 0},
    {0, "views = 0", 0},
    {0, "views > -10 && views < 1", 0},
    {0, "views = 1000000", 0},
    {0, "views = '10'", 0},
    {0, "views > '7'", 0},
    {0, "views = null", 0},
    {0, "views = ''", 0},
    {0, "views != ''", 0},
    {"users", "age = 0", 0},
    {"users", "age < 0", 0},
    /* bools */
    {0, "public = true", 0},
    {0, "public = false", 0},
    {0, "public != true", 0},
    {0, "public = 1", 0},
    {0, "public = 0", 0},
    {0, "public = null", 0},
    {"users", "verified = true && emailVisibility = false", 0},
    {"users", "verified = emailVisibility", 0},
    /* text ordering (bytewise) */
    {0, "title > 'M'", 0},
    {0, "title < 'a'", 0},
    {0, "title >= '\xc3\x89'", 0},
    {0, "kind > ''", 0},
    /* ~ and !~: wrapping, escaping, ASCII case folding */
    {0, "title ~ 'world'", 0},
    {0, "title ~ 'WORLD'", 0},
    {0, "title !~ 'o'", 0},
    {0, "title ~ '50%'", 0},
    {0, "title ~ '%'", 0},
    {0, "title ~ '_'", 0},
    {0, "title ~ 'under_'", 0},
    {0, "title ~ 'k\\s'", 0},
    {0, "title ~ 'Hello%'", 0},
    {0, "title ~ '%e_'", 0},
    {0, "title ~ '\xc3\xa9'", 0},
    {0, "title ~ '\xc3\xa9" "COLE'", 0},
    {0, "title ~ ''", 0},
    {0, "title !~ ''", 0},
    {0, "title ~ '\"quoted\"'", 0},
    {0, "views ~ '5'", 0},
    {0, "title ~ kind", 0},
    {"users", "email ~ 'example.COM'", 0},
    {"users", "name ~ '\xc3\x9c'", 0},
    /* &&, || and parentheses */
    {0, "public = true && views > 5", 0},
    {0, "public = true || views > 50", 0},
    {0, "(kind = 'news' || kind = 'ad') && views < 50", 0},
    {0, "kind = 'news' || (kind = 'ad' && public = false)", 0},
    {0, "((title ~ 'o' || title = '') && (views >= 0)) || id = 'p05'", 0},
    /* multiple select: every value, any value, :each, :length */
    {0, "type = 'a'", 0},
    {0, "type != 'a'", 0},
    {0, "type ?= 'a'", 0},
    {0, "type ?!= 'a'", 0},
    {0, "type ~ 'b'", 0},
    {0, "type ?~ 'b'", 0},
    {0, "type:each = 'c'", 0},
    {0, "type:each ?= 'c'", 0},
    {0, "type:each != 'c'", 0},
    {0, "type:length = 0", 0},
    {0, "type:length > 1", 0},
    {0, "type:length = 2.0", 0},
    {0, "type:length < views", 0},
    {0, "kind:length = 1", 0},
    {0, "kind:each = 'news'", 0},
    {0, "type = ''", 0},
    {0, "type ?= ''", 0},
    /* single relation */
    {0, "author = 'u1'", 0},
    {0, "author = ''", 0},
    {0, "author.name = 'Ann'", 0},
    {0, "author.name != 'Ann'", 0},
    {0, "author.verified = true", 0},
    {0, "author.age > 30", 0},
    {0, "author.friends ?= 'u3'", 0},
    {0, "author.email ~ 'BOB'", 0},
    {0, "author.id = null", 0},
    /* multiple relation */
    {0, "tags ?= 't1'", 0},
    {0, "tags = 't1'", 0},
    {0, "tags.name ?= 'red'", 0},
    {0, "tags.name = 'red'", 0},
    {0, "tags.name ?~ '%'", 0},
    {0, "tags.color ?= 'red' && tags.name ?= 'urgent'", 0},
    {0, "tags.name ?!= 'red'", 0},
    {0, "tags:length >= 2", 0},
    {0, "tags.name:each ?= 'blue'", 0},
    /* back-relations */
    {0, "comments_via_post.body ?= 'nice'", 0},
    {0, "comments_via_post.body = 'nice'", 0},
    {0, "comments_via_post.author.name ?= 'Cid'", 0},
    {0, "comments_via_post.id != ''", 0},
    {"users", "posts_via_author.views ?> 50", 0},
    {"comments", "post.title ~ 'hello'", 0},
    {"comments", "post.id = null", 0},
    {"comments", "post.author.name = author.name", 0},
    /* :lower */
    {0, "title:lower = 'hello world'", 0},
    {0, "title:lower ~ '\xc3\xa9" "cole'", 0},
    {"users", "email:lower = 'dan@example.com'", 0},
    /* JSON paths (text values, nulls, missing paths) */
    {0, "data.name = 'x'", 0},
    {0, "data.name != 'x'", 0},
    {0, "data.name = null", 0},
    {0, "data.name ~ '\xc3\x9c'", 0},
    {0, "data.a = null", 0},
    {0, "data.nope.deeper = null", 0},
    {0, "data.tags.1 = 'y'", 0},
    {0, "data.list.0 = 1", 0},
    {0, "data.a.b = 1", 0},
    {0, "data = null", 0},
    {0, "data ~ 'list'", 0},
    /* dates and macros */
    {0, "published > '2024-02-01'", 0},
    {0, "published < @now", 0},
    {0, "published > @now", 0},
    {0, "published >= @todayStart && published <= @todayEnd", 0},
    {0, "published >= @monthStart && published <= @monthEnd", 0},
    {0, "published >= @yearStart", 0},
    {0, "published > @yesterday", 0},
    {0, "published < @tomorrow && published != ''", 0},
    {0, "views > @day", 0},
    {0, "views = @hour", 0},
    {0, "views >= @month", 0},
    {0, "@weekday = 4", 0},
    {0, "@year = 2024", 0},
    {0, "published = ''", 0},
    /* strftime */
    {0, "strftime('%Y', published) = '2024'", 0},
    {0, "strftime('%Y-%m', published) = '2024-02'", 0},
    {0, "strftime('%d', published) = '15'", 0},
    {0, "strftime('%H:%M:%S', published) = '23:00:00'", 0},
    {0, "strftime('%f', published) = '45.678'", 0},
    {0, "strftime('%j', published) = '060'", 0},
    {0, "strftime('%w', published) = '4'", 0},
    {0, "strftime('%s', published) > '1708000000'", 0},
    {0, "strftime('%Y', published) = ''", 0},
    {0, "strftime('%Y-%m-%d', published, 'start of month') = '2024-02-01'", 0},
    {0, "strftime('%Y-%m-%d', published, '+1 day') = '2024-03-01'", 0},
    {0, "strftime('%Y', published, 'start of year', '-1 year') = '2023'", 0},
    {0, "strftime('%%%Y', published) = '%2024'", 0},
    /* @request */
    {0, "author = @request.auth.id", 0},
    {0, "author != @request.auth.id", 0},
    {0, "author.verified = @request.auth.verified", 0},
    {0, "kind = @request.query.word", 0},
    {0, "title ~ @request.query.pct", 0},
    {0, "views > @request.query.q", 0},
    {0, "title = @request.body.title", 0},
    {0, "views = @request.body.n", 0},
    {0, "type ?= @request.body.type", 0},
    {0, "@request.body.type:each ?= type", 0},
    {0, "@request.body.missing = null", 0},
    {0, "@request.body.flag:isset = true && views > 40", 0},
    {0, "@request.headers.x_token = 'abc' && kind = 'ad'", 0},
    {0, "@request.body.title:lower = title:lower", 0},
    /* @collection */
    {0, "@collection.tags.name ?= kind", 0},
    {0, "@collection.comments.post ?= id", 0},
    {0, "@collection.comments.post ?= id && @collection.comments.body ?= "
        "'great'", 0},
    /* sorts, order compared too */
    {0, 0, "-views"},
    {0, 0, "title"},
    {0, 0, "-title"},
    {0, 0, "public,-views"},
    {0, 0, "published,views"},
    {0, 0, "@rowid"},
    {0, 0, "-@rowid"},
    {0, 0, "author.name,-views"},
    {0, 0, "kind,title"},
    {0, "views > 0", "-published"},
    {"users", 0, "-age"},
    {"users", 0, "name"},
};

/* Filters whose results differ between the engines, each with why. */
typedef struct known {
    const char *filter;
    const char *why;
} known;

static const known differ[] = {
    {"data.a.b >= 10",
     "a JSON number compares as text on PostgreSQL ('2' >= '10'); SQLite "
     "compares numbers as numbers and puts any text above them"},
    {"data.a.b = 2",
     "SQLite tells the JSON number 2 from the JSON string \"2\"; "
     "PostgreSQL reads both as the text '2'"},
    {"data.n > 9",
     "a JSON number compares as text on PostgreSQL: '10' > '9' is false"},
    {"data.flag = true",
     "SQLite reads a JSON true as 1; PostgreSQL reads the text 'true' and "
     "refuses to compare it with a boolean"},
    {"views = true",
     "SQLite's true is the number 1; PostgreSQL refuses number = boolean"},
    {"views = 'abc'",
     "PostgreSQL cannot read 'abc' as a number for a number column and "
     "fails the statement; SQLite finds no row"},
    {"title = views",
     "SQLite compares a text column with a number column as different "
     "storage classes (never equal); PostgreSQL compares both as text"},
    {"@hour > 9",
     "two parameters compare as text on PostgreSQL ('12' < '9'), as numbers "
     "in SQLite; the server cannot infer a type from the other side"},
    {"data.list ~ '1,2'",
     "a JSON array is text without blanks in SQLite ([1,2,3]) and with "
     "them on PostgreSQL ([1, 2, 3])"},
};

/* ---- tests -------------------------------------------------------------- */

static int agreed, differed;

TEST(corpus_agrees)
{
    static char a[8192], b[8192], sql[32768];
    for (size_t i = 0; i < sizeof agree / sizeof agree[0]; i++) {
        const probe *p = &agree[i];
        const char *coll = p->coll ? p->coll : "posts";
        run_lite(coll, p->filter, p->sort, a, sizeof a);
        run_pg(coll, p->filter, p->sort, b, sizeof b, sql, sizeof sql);
        bool ok = strcmp(a, b) == 0 && strncmp(a, "SQL:", 4) != 0 &&
                  strncmp(a, "ERR:", 4) != 0;
        if (!ok) {
            fprintf(stderr,
                    "differs: %s: filter %s sort %s\n  sqlite:   %s\n"
                    "  postgres: %s\n  sql: %s\n",
                    coll, p->filter ? p->filter : "-",
                    p->sort ? p->sort : "-", a, b, sql);
        }
        CHECK(ok);
        agreed += ok;
    }
}

TEST(known_differences_still_differ)
{
    static char a[8192], b[8192], sql[32768];
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        const known *k = &differ[i];
        run_lite("posts", k->filter, NULL, a, sizeof a);
        run_pg("posts", k->filter, NULL, b, sizeof b, sql, sizeof sql);
        bool same = strcmp(a, b) == 0;
        if (same)
            fprintf(stderr, "now agrees, move it to the corpus: %s\n",
                    k->filter);
        CHECK(!same);
        differed += !same;
    }
}

TEST(placeholders_and_parameters)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_filter_value v = {.type = BS_FILTER_REAL, .d = 5};
    CHECK_STR(bs_filter_pg_param(&v, &b), "5");
    v.d = 0.1;
    CHECK_STR(bs_filter_pg_param(&v, &b), "0.1");
    v.d = 1e20;
    CHECK_STR(bs_filter_pg_param(&v, &b), "1e+20");
    v = (bs_filter_value){.type = BS_FILTER_INT, .i = -3};
    CHECK_STR(bs_filter_pg_param(&v, &b), "-3");
    v = (bs_filter_value){.type = BS_FILTER_NULL};
    CHECK(bs_filter_pg_param(&v, &b) == NULL);
    bs_buf_dispose(&b);

    bs_buf_init(&b);
    const bs_sql_dialect *d = bs_sql_dialect_postgres();
    d->ident(&b, "we\"ird");
    d->param(&b, 12);
    bs_json_step steps[] = {{.key = "a\"b"}, {.key = NULL, .index = 3}};
    d->json_path(&b, steps, 2);
    CHECK_STR(b.data, "\"we\"\"ird\"$12{\"a\\\"b\",\"3\"}");
    bs_buf_dispose(&b);
}

int main(void)
{
    const char *url = getenv("BASALT_PG_URL");
    if (!url || !*url) {
        fprintf(stderr, "test_filter_pg: BASALT_PG_URL is not set (run it "
                        "through tests/pg/pg.sh run)\n");
        return getenv("BASALT_PG_OPTIONAL") ? 0 : 1;
    }
    fixture_open(url);
    RUN(corpus_agrees);
    RUN(known_differences_still_differ);
    RUN(placeholders_and_parameters);
    fprintf(stderr, "test_filter_pg: %d of %zu filters agree, %d of %zu "
                    "known differences confirmed\n",
            agreed, sizeof agree / sizeof agree[0], differed,
            sizeof differ / sizeof differ[0]);
    fixture_close();
    return harness_summary(__FILE__);
}
