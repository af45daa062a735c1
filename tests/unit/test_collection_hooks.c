/*
 * test_collection_hooks.c - saving, changing, deleting and importing
 * collections through a real app on a temp dir: the hook chain (order,
 * changes made by handlers, refusals, after-commit hooks seeing the new
 * schema), table changes that keep rows, and rollbacks that leave the
 * database as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/json.h"
#include "basalt.h"
#include "core/app.h"
#include "core/collection.h"
#include "core/collection_import.h"
#include "harness.h"
#include "tmpdir.h"

static bs_app *app;
static char dir[256];
static char trace[256];

static void tr(const char *s)
{
    strncat(trace, s, sizeof trace - strlen(trace) - 1);
}

static json_object *P(const char *s)
{
    json_object *v = NULL;
    bs_json_parse(s, strlen(s), &v);
    return v;
}

/* One SQL value as text (first column of the first row), or "". */
static void query1(const char *sql, char *out, size_t cap)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(bs_conn_db(c), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
}

/* The whole schema as text: what a refused change must leave alone. */
static char *schema_text(void)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    bs_buf b;
    bs_buf_init(&b);
    if (sqlite3_prepare_v2(bs_conn_db(c),
                           "SELECT name || ':' || IFNULL(sql, '') FROM "
                           "sqlite_master ORDER BY name",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            bs_buf_puts(&b, (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(bs_conn_db(c),
                       "SELECT id || name || fields || indexes FROM "
                       "_collections ORDER BY id",
                       -1, &st, NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        bs_buf_puts(&b, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return bs_buf_steal(&b, NULL);
}

static json_object *new_collection(const char *def)
{
    json_object *data = P(def);
    json_object *col = bs_collection_scaffold(bs_json_get_str(data, "type", ""),
                                              bs_json_get_str(data, "name", ""),
                                              NULL);
    bs_error e;
    bs_error_init(&e);
    bs_collection_bind(col, data, &e);
    bs_error_dispose(&e);
    json_object_put(data);
    return col;
}

static bool schema_has(const char *name)
{
    bs_schema *s = bs_app_schema(app);
    bool found = bs_schema_find(s, name) != NULL;
    bs_schema_unref(s);
    return found;
}

/* ---- handlers ------------------------------------------------------------ */

static int h_create(bs_event *e, void *u)
{
    (void)u;
    bs_collection_event *ce = (bs_collection_event *)e;
    tr("C");
    CHECK(ce->tx != NULL);
    /* Handlers may change the collection before it is validated. */
    json_object *f = P("{\"type\":\"text\",\"name\":\"added_by_hook\"}");
    bs_fields_add(bs_json_get(ce->collection, "fields"), f);
    return bs_event_next(e);
}

static int h_validate(bs_event *e, void *u)
{
    (void)u;
    tr("V");
    return bs_event_next(e);
}

static int h_execute(bs_event *e, void *u)
{
    (void)u;
    bs_collection_event *ce = (bs_collection_event *)e;
    tr("X");
    CHECK(ce->tx != NULL);
    return bs_event_next(e);
}

static int h_success(bs_event *e, void *u)
{
    (void)u;
    bs_collection_event *ce = (bs_collection_event *)e;
    tr("S");
    CHECK(ce->tx == NULL);
    /* After the commit the snapshot already has the collection. */
    CHECK(schema_has(bs_json_get_str(ce->collection, "name", "")));
    return bs_event_next(e);
}

static int h_error(bs_event *e, void *u)
{
    (void)u;
    tr("E");
    CHECK(e->error != NULL);
    return bs_event_next(e);
}

static int h_refuse(bs_event *e, void *u)
{
    (void)u;
    tr("R");
    bs_error_field(e->error, "name", "custom_refusal", "Not today.");
    e->error->status = 400;
    return BS_EHTTP;
}

static int h_tagged(bs_event *e, void *u)
{
    (void)u;
    tr("T");
    return bs_event_next(e);
}

/* ---- tests ------------------------------------------------------------------ */

TEST(create_runs_the_chain_in_order)
{
    bs_handler c = {.id = "c", .fn = h_create};
    bs_handler v = {.id = "v", .fn = h_validate};
    bs_handler x = {.id = "x", .fn = h_execute};
    bs_handler s = {.id = "s", .fn = h_success};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_CREATE), &c) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_VALIDATE), &v) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_CREATE_EXECUTE),
                         &x) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_AFTER_CREATE_SUCCESS),
                         &s) == 0);
    trace[0] = '\0';
    json_object *col = new_collection(
        "{\"name\":\"posts\",\"fields\":[{\"type\":\"text\",\"name\":\"title\"},"
        "{\"type\":\"number\",\"name\":\"views\"}]}");
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_collection_save(app, col, NULL, BS_COLLECTION_NEW, &err) == 0);
    CHECK_STR(trace, "CVXS");
    char sql[512];
    query1("SELECT sql FROM sqlite_master WHERE name = 'posts'", sql,
           sizeof sql);
    CHECK(strstr(sql, "`added_by_hook` TEXT DEFAULT '' NOT NULL") != NULL);
    CHECK(*bs_json_get_str(col, "created", "") != '\0');
    bs_error_dispose(&err);
    json_object_put(col);
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_CREATE));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_VALIDATE));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_CREATE_EXECUTE));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_AFTER_CREATE_SUCCESS));
}

TEST(a_refusing_handler_changes_nothing)
{
    bs_handler r = {.id = "r", .fn = h_refuse};
    bs_handler e = {.id = "e", .fn = h_error};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_VALIDATE), &r) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_AFTER_CREATE_ERROR),
                         &e) == 0);
    char *before = schema_text();
    trace[0] = '\0';
    json_object *col = new_collection("{\"name\":\"refused\"}");
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_collection_save(app, col, NULL, BS_COLLECTION_NEW, &err) ==
          BS_EHTTP);
    CHECK_STR(trace, "RE");
    CHECK(err.status == 400);
    char *after = schema_text();
    CHECK_STR(after, before);
    CHECK(!schema_has("refused"));
    free(before);
    free(after);
    bs_error_dispose(&err);
    json_object_put(col);
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_VALIDATE));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_AFTER_CREATE_ERROR));
}

TEST(validation_errors_have_pocketbase_codes)
{
    static const struct {
        const char *def, *path, *code;
    } cases[] = {
        {"{}", "name", "validation_required"},
        {"{\"name\":\"posts\"}", "name", "validation_collection_name_exists"},
        {"{\"name\":\"bad-name\"}", "name", "validation_match_invalid"},
        {"{\"name\":\"n\",\"fields\":[{\"type\":\"text\",\"name\":\"expand\"}]}",
         "fields.1.name", "validation_not_in_invalid"},
        {"{\"name\":\"n\",\"indexes\":[\"bogus\"]}", "indexes.0",
         "validation_invalid_index_expression"},
        {"{\"name\":\"n\",\"type\":\"view\",\"viewQuery\":\"select 1 as x\"}",
         "viewQuery", "validation_invalid_view_query"},
    };
    char *before = schema_text();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *col = new_collection(cases[i].def);
        bs_error err;
        bs_error_init(&err);
        CHECK(bs_collection_save(app, col, NULL, BS_COLLECTION_NEW, &err) ==
              BS_EHTTP);
        json_object *v = err.data;
        char path[64];
        snprintf(path, sizeof path, "%s", cases[i].path);
        for (char *k = strtok(path, "."); k && v; k = strtok(NULL, "."))
            v = bs_json_get(v, k);
        if (strcmp(bs_json_get_str(v, "code", ""), cases[i].code) != 0)
            fprintf(stderr, "case %zu: %s\n", i,
                    err.data ? json_object_to_json_string(err.data) : "-");
        CHECK_STR(bs_json_get_str(v, "code", ""), cases[i].code);
        bs_error_dispose(&err);
        json_object_put(col);
    }
    char *after = schema_text();
    CHECK_STR(after, before);
    free(before);
    free(after);
}

TEST(update_changes_the_table_and_keeps_rows)
{
    bs_conn *c = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_store_tx_begin(app->store, &c, &err) == 0);
    REQUIRE(bs_conn_exec(c, "INSERT INTO posts (id, title, views) VALUES "
                            "('aaaaaaaaaaaaaaa', 'first', 3)",
                         &err) == 0);
    REQUIRE(bs_store_tx_end(app->store, true, &err) == 0);

    bs_conn *r = bs_store_reader_acquire(app->store);
    json_object *col = NULL;
    REQUIRE(bs_collection_load(r, "posts", &col) == 0);
    bs_store_reader_release(app->store, r);
    json_object *fields = bs_json_get(col, "fields");
    json_object_object_add(bs_fields_by_name(fields, "title"), "name",
                           json_object_new_string("headline"));
    bs_fields_add(fields, P("{\"type\":\"bool\",\"name\":\"pinned\"}"));
    json_object_object_add(col, "name", json_object_new_string("articles"));
    json_object_object_add(col, "indexes",
                           P("[\"create unique index idx_h on x (headline)\"]"));
    CHECK(bs_collection_save(app, col, NULL, 0, &err) == 0);
    char v[256];
    query1("SELECT headline || '/' || views || '/' || pinned FROM articles", v,
           sizeof v);
    CHECK_STR(v, "first/3/0");
    query1("SELECT sql FROM sqlite_master WHERE name = 'idx_h'", v, sizeof v);
    CHECK_STR(v, "CREATE UNIQUE INDEX `idx_h` ON `articles` (`headline`)");
    CHECK(schema_has("articles"));
    CHECK(!schema_has("posts"));
    bs_error_dispose(&err);
    json_object_put(col);
}

TEST(tags_select_the_collection)
{
    static const char *const tags[] = {"articles", NULL};
    bs_handler t = {.id = "t", .fn = h_tagged, .tags = tags};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_COLLECTION_UPDATE), &t) == 0);
    bs_conn *r = bs_store_reader_acquire(app->store);
    json_object *a = NULL, *u = NULL;
    REQUIRE(bs_collection_load(r, "articles", &a) == 0);
    REQUIRE(bs_collection_load(r, "users", &u) == 0);
    bs_store_reader_release(app->store, r);
    bs_error err;
    bs_error_init(&err);
    trace[0] = '\0';
    CHECK(bs_collection_save(app, u, NULL, 0, &err) == 0);
    CHECK_STR(trace, "");
    CHECK(bs_collection_save(app, a, NULL, 0, &err) == 0);
    CHECK_STR(trace, "T");
    bs_error_dispose(&err);
    json_object_put(a);
    json_object_put(u);
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_COLLECTION_UPDATE));
}

TEST(import_is_all_or_nothing)
{
    char *before = schema_text();
    json_object *items = P(
        "[{\"name\":\"imp_a\",\"fields\":[{\"type\":\"relation\",\"name\":"
        "\"b\",\"collectionId\":\"pbc_b\"}]},"
        "{\"id\":\"pbc_b\",\"name\":\"imp_b\"},"
        "{\"name\":\"imp_bad\",\"fields\":[{\"type\":\"text\",\"name\":"
        "\"collectionName\"}]}]");
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_collections_import(app, items, false, &err) == BS_EHTTP);
    CHECK_STR(bs_json_get_str(bs_json_get(err.data, "collections"), "code", ""),
              "validation_collections_import_failure");
    char *after = schema_text();
    CHECK_STR(after, before);
    free(before);
    free(after);
    bs_error_dispose(&err);

    /* Without the bad one: both created, in any order of reference. */
    json_object_array_del_idx(items, 2, 1);
    CHECK(bs_collections_import(app, items, false, &err) == 0);
    CHECK(schema_has("imp_a"));
    CHECK(schema_has("imp_b"));
    bs_error_dispose(&err);
    json_object_put(items);
}

TEST(delete_checks_references)
{
    bs_conn *r = bs_store_reader_acquire(app->store);
    json_object *b = NULL, *a = NULL;
    REQUIRE(bs_collection_load(r, "imp_b", &b) == 0);
    REQUIRE(bs_collection_load(r, "imp_a", &a) == 0);
    bs_store_reader_release(app->store, r);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_collection_delete(app, b, 0, &err) != 0);
    CHECK(err.message && strstr(err.message, "imp_a") != NULL);
    bs_error_dispose(&err);
    CHECK(bs_collection_delete(app, a, 0, &err) == 0);
    CHECK(bs_collection_delete(app, b, 0, &err) == 0);
    CHECK(!schema_has("imp_a"));
    char v[64];
    query1("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('imp_a', "
           "'imp_b')",
           v, sizeof v);
    CHECK_STR(v, "0");
    bs_error_dispose(&err);
    json_object_put(a);
    json_object_put(b);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    if (!app || bs_app_bootstrap(app, &err) != 0) {
        fprintf(stderr, "setup failed: %s\n", err.message ? err.message : "?");
        return 1;
    }
    RUN(create_runs_the_chain_in_order);
    RUN(a_refusing_handler_changes_nothing);
    RUN(validation_errors_have_pocketbase_codes);
    RUN(update_changes_the_table_and_keeps_rows);
    RUN(tags_select_the_collection);
    RUN(import_is_all_or_nothing);
    RUN(delete_checks_references);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
