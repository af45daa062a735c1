/*
 * fuzz_filter.c - the filter compiler on arbitrary input, checked by
 * SQLite.
 *
 * Input: one byte of options, then the filter text, optionally followed
 * by a NUL and a sort text. The options pick the main collection, the
 * requester (guest, user, superuser), whether the text is compiled as a
 * client filter or as an API rule, and the main table's alias. When the
 * text starts with byte 0xff, the bytes after it instead drive a small
 * generator of well-formed filters (field paths, modifiers, operators,
 * functions, nesting), so that most inputs compile and reach SQLite.
 *
 * Whatever the input, compiling must not crash or leak, and when it
 * succeeds the SQL must:
 *  - be accepted by sqlite3_prepare on a database with the schema (a
 *    syntax error in compiled output is a bug);
 *  - use no placeholder without a parameter, and leave the caller's own
 *    placeholders (?1, ?2) alone;
 *  - contain only printable ASCII (user text is bound, never spliced:
 *    this covers the {:name} placeholders too, whose text value holds
 *    quotes, filter syntax and non-ASCII bytes);
 *  - run without error (a progress handler stops long cross joins).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "filter/filter.h"
#include "fuzz_dict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static bs_schema schema;
static json_object *req_user;
static json_object *req_guest;
static json_object *params; /* the {:name} values of every run */

static const struct {
    const char *id, *name, *type, *list_rule, *fields, *indexes;
} defs[] = {
    {"c_users", "users", "auth", "id = @request.auth.id || verified = true",
     "[{\"name\":\"id\",\"type\":\"text\"},"
     "{\"name\":\"password\",\"type\":\"password\",\"hidden\":true},"
     "{\"name\":\"email\",\"type\":\"email\"},"
     "{\"name\":\"emailVisibility\",\"type\":\"bool\"},"
     "{\"name\":\"verified\",\"type\":\"bool\"},"
     "{\"name\":\"name\",\"type\":\"text\"},"
     "{\"name\":\"friends\",\"type\":\"relation\",\"collectionId\":\"c_users\","
     "\"maxSelect\":5},"
     "{\"name\":\"created\",\"type\":\"autodate\"}]",
     "[]"},
    {"c_tags", "tags", "base", "",
     "[{\"name\":\"id\",\"type\":\"text\"},{\"name\":\"name\",\"type\":\"text\"},"
     "{\"name\":\"color\",\"type\":\"text\"}]",
     "[]"},
    {"c_posts", "posts", "base", "public = true && tags.name ?!= 'hidden'",
     "[{\"name\":\"id\",\"type\":\"text\"},"
     "{\"name\":\"title\",\"type\":\"text\"},"
     "{\"name\":\"views\",\"type\":\"number\"},"
     "{\"name\":\"public\",\"type\":\"bool\"},"
     "{\"name\":\"type\",\"type\":\"select\",\"maxSelect\":3},"
     "{\"name\":\"file\",\"type\":\"file\",\"maxSelect\":1},"
     "{\"name\":\"author\",\"type\":\"relation\",\"collectionId\":\"c_users\","
     "\"maxSelect\":1},"
     "{\"name\":\"tags\",\"type\":\"relation\",\"collectionId\":\"c_tags\","
     "\"maxSelect\":5},"
     "{\"name\":\"data\",\"type\":\"json\"},"
     "{\"name\":\"location\",\"type\":\"geoPoint\"},"
     "{\"name\":\"secret\",\"type\":\"text\",\"hidden\":true},"
     "{\"name\":\"created\",\"type\":\"autodate\"}]",
     "[]"},
    {"c_comments", "comments", "base", "",
     "[{\"name\":\"id\",\"type\":\"text\"},"
     "{\"name\":\"post\",\"type\":\"relation\",\"collectionId\":\"c_posts\","
     "\"maxSelect\":1},"
     "{\"name\":\"author\",\"type\":\"relation\",\"collectionId\":\"c_users\","
     "\"maxSelect\":1},"
     "{\"name\":\"body\",\"type\":\"text\"}]",
     "[\"CREATE UNIQUE INDEX idx ON comments (author)\"]"},
    {"c_secrets", "secrets", "base", NULL,
     "[{\"name\":\"id\",\"type\":\"text\"},{\"name\":\"value\",\"type\":\"text\"},"
     "{\"name\":\"post\",\"type\":\"relation\",\"collectionId\":\"c_posts\","
     "\"maxSelect\":1}]",
     "[]"},
};

static const char *setup_sql =
    "CREATE TABLE users (id TEXT PRIMARY KEY, password TEXT, email TEXT,"
    " emailVisibility BOOLEAN, verified BOOLEAN, name TEXT, friends JSON,"
    " created TEXT);"
    "CREATE TABLE tags (id TEXT PRIMARY KEY, name TEXT, color TEXT);"
    "CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT, views NUMERIC,"
    " public BOOLEAN, type JSON, file TEXT, author TEXT, tags JSON, data JSON,"
    " location JSON, secret TEXT, created TEXT);"
    "CREATE TABLE comments (id TEXT PRIMARY KEY, post TEXT, author TEXT,"
    " body TEXT);"
    "CREATE TABLE secrets (id TEXT PRIMARY KEY, value TEXT, post TEXT);"
    "INSERT INTO users VALUES ('u1','h','a@x.io',1,1,'Ann','[\"u2\"]','2024'),"
    " ('u2','h','b@x.io',0,0,'Bob','[\"u1\",\"u2\"]','2025');"
    "INSERT INTO tags VALUES ('t1','red','red'),('t2','hidden','blue');"
    "INSERT INTO posts VALUES"
    " ('p1','Hi',1,1,'[\"a\"]','f.png','u1','[\"t1\",\"t2\"]','{\"a\":[1]}',"
    "  '{\"lon\":1,\"lat\":2}','s','2024-01-01 00:00:00.000Z'),"
    " ('p2',NULL,2,0,'x','','u2','t1','not json','','','');"
    "INSERT INTO comments VALUES ('c1','p1','u2','ok'),('c2','p2','u1','');"
    "INSERT INTO secrets VALUES ('s1','v','p1');";

static json_object *parse(const char *text)
{
    json_object *v = NULL;
    if (bs_json_parse(text, strlen(text), &v) != 0)
        abort();
    return v;
}

static void setup(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, setup_sql, NULL, NULL, NULL) != SQLITE_OK)
        abort();
    size_t n = sizeof defs / sizeof defs[0];
    schema.n = (int)n;
    schema.items = calloc(n, sizeof *schema.items);
    for (size_t i = 0; i < n; i++) {
        bs_collection *c = &schema.items[i];
        c->id = (char *)defs[i].id;
        c->name = (char *)defs[i].name;
        c->type = (char *)defs[i].type;
        c->rules[BS_RULE_LIST] = (char *)defs[i].list_rule;
        c->fields = parse(defs[i].fields);
        c->indexes = parse(defs[i].indexes);
        bs_collection_fill_finfo(c); /* as the schema loader does */
    }
    req_user = parse(
        "{\"context\":\"default\",\"method\":\"POST\","
        "\"headers\":{\"x_a\":\"1\"},\"query\":{\"q\":\"x\"},"
        "\"body\":{\"title\":\"t\",\"views\":\"3\",\"tags\":[\"t1\",\"t2\"],"
        "\"type\":\"a\",\"author\":\"u2\",\"data\":{\"k\":[1,{\"z\":null}]}},"
        "\"auth\":{\"id\":\"u1\",\"collectionId\":\"c_users\","
        "\"collectionName\":\"users\",\"email\":\"a@x.io\","
        "\"emailVisibility\":true,\"verified\":true}}");
    req_guest = parse("{\"context\":\"default\",\"method\":\"GET\","
                      "\"headers\":{},\"query\":{},\"body\":{},\"auth\":null}");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_add_dict(argc, argv, "tests/fuzz/fuzz_filter.dict");
    setup();
    params = json_tokener_parse(
        "{\"s\":\"x' || 1=1 || title != '\\u00e9\\\" -- )\",\"n\":12,"
        "\"d\":-2.5,\"b\":true,\"z\":null,\"o\":{\"a\":[1,\"'\"]}}");
    if (!params)
        abort();
    return 0;
}

/* ---- generator of well-formed filters ---------------------------------- */

typedef struct gen {
    const uint8_t *p;
    size_t n;
    char *out;
    size_t len, cap;
} gen;

static unsigned pick(gen *g, unsigned n)
{
    if (g->n == 0)
        return 0;
    g->n--;
    return *g->p++ % n;
}

static void put(gen *g, const char *s)
{
    size_t k = strlen(s);
    if (g->len + k + 1 > g->cap)
        return;
    memcpy(g->out + g->len, s, k + 1);
    g->len += k;
}

static const char *const paths[] = {
    "id", "title", "views", "public", "type", "file", "author", "tags",
    "data", "data.a", "data.a.0", "data.k.z", "location", "location.lon",
    "location.lat", "secret", "created", "author.name", "author.email",
    "author.friends", "author.friends.name", "author.friends.friends.email",
    "author.password", "author.id", "tags.name", "tags.color", "tags.id",
    "comments_via_post.body", "comments_via_post.author.name",
    "comments_via_author.body", "posts_via_author.title",
    "posts_via_tags.views", "secrets_via_post.value", "name", "email",
    "friends.name", "friends.friends.name", "post.title", "post.tags.name",
    "post.author.friends.email", "body", "color", "verified",
    "@request.auth.id", "@request.auth.name", "@request.auth.friends.name",
    "@request.auth.collectionName", "@request.auth.email",
    "@request.body.title", "@request.body.tags", "@request.body.type",
    "@request.body.author.name", "@request.body.tags.name",
    "@request.body.data.k.1.z", "@request.body.views", "@request.query.q",
    "@request.headers.x_a", "@request.method", "@request.context",
    "@collection.tags.name", "@collection.posts:a.views",
    "@collection.users.friends.name", "@collection.secrets.value",
    "@now", "@todayStart", "@weekday", "@yearEnd", "null", "true", "false",
};
static const char *const mods[] = {"", "", "", ":each", ":length", ":lower",
                                   ":isset", ":changed"};
static const char *const lits[] = {"'x'", "''", "'%a_'", "1", "-2.5", "0",
                                   "'\\%'", "\"red\"", "'2024-01-01'",
                                   "{:s}", "{:n}", "{:d}", "{:b}", "{:z}",
                                   "{:o}", "{:missing}"};
static const char *const ops[] = {"=", "!=", ">", ">=", "<", "<=", "~",
                                  "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=",
                                  "?~", "?!~"};

static void gen_operand(gen *g, int fdepth)
{
    unsigned k = pick(g, 12);
    if (k < 7) {
        put(g, paths[pick(g, sizeof paths / sizeof paths[0])]);
        put(g, mods[pick(g, sizeof mods / sizeof mods[0])]);
    } else if (k < 10 || fdepth > 0) {
        put(g, lits[pick(g, sizeof lits / sizeof lits[0])]);
    } else if (k == 10) {
        put(g, "geoDistance(");
        for (int i = 0; i < 4; i++) {
            if (i)
                put(g, ", ");
            gen_operand(g, fdepth + 1);
        }
        put(g, ")");
    } else {
        put(g, "strftime('%Y-%m', ");
        gen_operand(g, fdepth + 1);
        if (pick(g, 2))
            put(g, ", '+1 day'");
        put(g, ")");
    }
}

static void gen_expr(gen *g, int depth)
{
    if (depth < 8 && pick(g, 4) == 0) {
        put(g, "(");
        gen_expr(g, depth + 1);
        put(g, pick(g, 2) ? " && " : " || ");
        gen_expr(g, depth + 1);
        put(g, ")");
        return;
    }
    for (int i = 0; i < 8; i++) {
        if (i)
            put(g, pick(g, 2) ? " && " : " || ");
        gen_operand(g, 0);
        put(g, " ");
        put(g, ops[pick(g, sizeof ops / sizeof ops[0])]);
        put(g, " ");
        gen_operand(g, 0);
        if (g->n == 0 || pick(g, 3) != 0)
            break;
    }
}

static int progress(void *arg)
{
    int *ticks = arg;
    return ++*ticks > 200; /* stop after ~200k VM steps */
}

/* Checks the compiled SQL of a successful compilation. Returns a hash of
 * the ids it selects in order, or 0 when the run was stopped. */
static uint64_t check(const bs_filter_sql *s, const char *alias,
                      const char *table)
{
    for (const char *p = s->where; *p; p++) {
        if (*p < 0x20 || *p > 0x7e)
            abort();
    }
    for (const char *p = s->joins; *p; p++) {
        if (*p < 0x20 || *p > 0x7e)
            abort();
    }
    for (const char *p = s->order; *p; p++) {
        if (*p < 0x20 || *p > 0x7e)
            abort();
    }
    size_t n = strlen(s->where) + strlen(s->joins) + strlen(s->order) + 256;
    char *sql = malloc(n);
    if (!sql)
        abort();
    snprintf(sql, n,
             "SELECT %s\"%s\".\"id\" FROM \"%s\" AS \"%s\" %s WHERE ?1 IS NOT ?2"
             "%s%s%s ORDER BY %s%s\"%s\".\"id\" LIMIT 50",
             s->distinct ? "DISTINCT " : "", alias, table, alias, s->joins,
             s->where[0] ? " AND (" : "", s->where, s->where[0] ? ")" : "",
             s->order, s->order[0] ? ", " : "", alias);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare failed: %s\n%s\n", sqlite3_errmsg(db), sql);
        abort();
    }
    if (sqlite3_bind_parameter_count(st) > s->first_param + s->nparams - 1) {
        fprintf(stderr, "placeholder without parameter\n%s\n", sql);
        abort();
    }
    sqlite3_bind_text(st, 1, "a", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "b", -1, SQLITE_STATIC);
    if (bs_filter_bind(s, st) != 0)
        abort();
    int ticks = 0;
    sqlite3_progress_handler(db, 1000, progress, &ticks);
    int rc;
    uint64_t hash = 14695981039346656037ULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *id = sqlite3_column_text(st, 0);
        for (; id && *id; id++)
            hash = (hash ^ *id) * 1099511628211ULL;
        hash = (hash ^ ',') * 1099511628211ULL;
    }
    sqlite3_progress_handler(db, 0, NULL, NULL);
    if (rc != SQLITE_DONE && rc != SQLITE_INTERRUPT) {
        fprintf(stderr, "step failed: %s\n%s\n", sqlite3_errmsg(db), sql);
        abort();
    }
    sqlite3_finalize(st);
    free(sql);
    return rc == SQLITE_DONE ? hash | 1 : 0;
}

/* Compiles the input into q's context; 0 or the compiler's error. */
static int compile(bs_filter_ctx *ctx, uint8_t opt, const char *text,
                   size_t len, const char *sort, size_t sort_len,
                   bs_filter_query **q, bs_filter_sql *s, bs_error *err)
{
    if (bs_filter_query_new(q, ctx, 3) != 0)
        abort();
    unsigned flags = BS_FILTER_CLIENT;
    if ((opt & 4) || ctx->superuser)
        flags |= BS_FILTER_ALLOW_HIDDEN;
    int rc = 0;
    if (len > 0 || !sort)
        rc = bs_filter_add(*q, text, len, flags, err);
    if (rc == 0 && (opt & 8) && len > 0)
        rc = bs_filter_add(*q, text, len, flags ^ BS_FILTER_ALLOW_HIDDEN, err);
    if (rc == 0 && sort)
        rc = bs_filter_add_sort(*q, sort, sort_len, flags, err);
    if (rc == 0)
        rc = bs_filter_finish(*q, s, err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *sort = NULL;
    size_t sort_len = 0;
    char generated[4096];
    if (len > 0 && data[1] == 0xff) {
        gen g = {data + 2, size - 2, generated, 0, sizeof generated};
        generated[0] = '\0';
        gen_expr(&g, 0);
        text = generated;
        len = g.len;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        sort = nul + 1;
        sort_len = len - (size_t)(sort - text);
        len = (size_t)(nul - text);
    }
    static const char *const colls[] = {"posts", "users", "comments", "tags"};
    const bs_collection *c = bs_schema_find(&schema, colls[(opt >> 4) & 3]);
    bs_filter_ctx ctx = {
        .schema = &schema,
        .collection = c,
        .alias = (opt & 0x40) ? "m" : NULL,
        .request = (opt & 2) ? req_user : ((opt & 0x80) ? NULL : req_guest),
        .superuser = (opt & 1) != 0,
        .now_ms = 1700000000000LL,
        .params = params,
    };
    const char *alias = ctx.alias ? ctx.alias : c->name;
    bs_filter_query *q = NULL;
    bs_error err;
    bs_error_init(&err);
    bs_filter_sql s;
    int rc = compile(&ctx, opt, text, len, sort, sort_len, &q, &s, &err);
    if (rc == 0) {
        uint64_t rows = check(&s, alias, c->name);
        /* The condition's form for reading every row must select the
         * same rows; with a sort, ties (and @random) may order them
         * apart. */
        bs_filter_sql scan = s;
        scan.where = s.where_scan;
        uint64_t scan_rows = check(&scan, alias, c->name);
        if (!sort && rows && scan_rows && rows != scan_rows) {
            fprintf(stderr, "where_scan selects other rows\n%s\n",
                    s.where_scan);
            abort();
        }
    } else if (rc != BS_EHTTP || err.status != 400 || !err.message) {
        abort();
    }
    bs_error_dispose(&err);
    bs_filter_query_free(q);
    return 0;
}
