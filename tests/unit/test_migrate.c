/*
 * test_migrate.c - bootstrapping a fresh data directory: the system
 * collections with PocketBase's ids, field ids and table columns, the
 * migration records, default settings, the bootstrap hook, and that a
 * second bootstrap changes nothing.
 */
#include <stdlib.h>

#include "base/json.h"
#include "core/app.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];

static bs_app *open_app(void)
{
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    bs_app *app = bs_app_new(&cfg);
    if (!app)
        return NULL;
    bs_error e;
    bs_error_init(&e);
    int rc = bs_app_bootstrap(app, &e);
    if (rc) {
        fprintf(stderr, "bootstrap: %d %s\n", rc, e.message ? e.message : "");
        bs_error_dispose(&e);
        bs_app_free(app);
        return NULL;
    }
    bs_error_dispose(&e);
    return app;
}

/* Column names of a table, comma separated, in table order. */
static void columns(bs_app *app, const char *table, char *out, size_t n)
{
    out[0] = '\0';
    bs_conn *c = bs_store_reader_acquire(app->store);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT name, type FROM pragma_table_info('%s')",
             table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(bs_conn_db(c), sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%s%s:%s", len ? "," : "",
                     (const char *)sqlite3_column_text(st, 0),
                     (const char *)sqlite3_column_text(st, 1));
        }
        sqlite3_finalize(st);
    }
    bs_store_reader_release(app->store, c);
}

static int scalar_int(bs_app *app, const char *sql)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(bs_conn_db(c), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return v;
}

static const char *field_id(const bs_collection *c, const char *name)
{
    size_t n = json_object_array_length(c->fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(c->fields, i);
        if (strcmp(bs_json_get_str(f, "name", ""), name) == 0)
            return bs_json_get_str(f, "id", "");
    }
    return NULL;
}

TEST(fresh_directory_gets_system_collections)
{
    bs_app *app = open_app();
    REQUIRE(app != NULL);
    bs_schema *s = bs_app_schema(app);
    REQUIRE(s != NULL);
    static const struct {
        const char *id, *name, *type;
        bool system;
    } want[] = {
        {"pbc_3142635823", "_superusers", "auth", true},
        {"_pb_users_auth_", "users", "auth", false},
        {"pbc_2279338944", "_mfas", "base", true},
        {"pbc_1638494021", "_otps", "base", true},
        {"pbc_2281828961", "_externalAuths", "base", true},
        {"pbc_4275539003", "_authOrigins", "base", true},
    };
    CHECK(s->n == 6);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const bs_collection *c = bs_schema_find(s, want[i].name);
        if (!c) {
            fprintf(stderr, "missing collection %s\n", want[i].name);
            CHECK(0);
            continue;
        }
        CHECK_STR(c->id, want[i].id);
        CHECK_STR(c->type, want[i].type);
        CHECK(c->system == want[i].system);
        CHECK(bs_schema_find(s, want[i].id) == c);
        CHECK_STR(field_id(c, "id"), "text3208210256");
    }
    /* Lookup by name ignores case, like SQLite table names. */
    CHECK(bs_schema_find(s, "USERS") == bs_schema_find(s, "users"));
    CHECK(bs_schema_find(s, "nope") == NULL);

    const bs_collection *su = bs_schema_find(s, "_superusers");
    REQUIRE(su != NULL);
    CHECK(bs_collection_is_auth(su));
    CHECK_STR(field_id(su, "password"), "password901924565");
    CHECK_STR(field_id(su, "tokenKey"), "text2504183744");
    CHECK_STR(field_id(su, "email"), "email3885137012");
    CHECK_STR(field_id(su, "emailVisibility"), "bool1547992806");
    CHECK_STR(field_id(su, "verified"), "bool256245529");
    CHECK_STR(field_id(su, "created"), "autodate2990389176");
    CHECK_STR(field_id(su, "updated"), "autodate3332085495");
    CHECK(strlen(bs_collection_token_secret(su, "authToken")) == 50);
    CHECK(bs_collection_token_duration(su, "authToken") == 86400);
    for (int r = 0; r < BS_RULE_COUNT; r++)
        CHECK(su->rules[r] == NULL);

    const bs_collection *users = bs_schema_find(s, "users");
    REQUIRE(users != NULL);
    CHECK(bs_collection_token_duration(users, "authToken") == 432000);
    CHECK_STR(users->rules[BS_RULE_LIST], "id = @request.auth.id");
    CHECK_STR(users->rules[BS_RULE_CREATE], "");
    CHECK(strcmp(bs_collection_token_secret(users, "authToken"),
                 bs_collection_token_secret(su, "authToken")) != 0);

    const bs_collection *mfas = bs_schema_find(s, "_mfas");
    REQUIRE(mfas != NULL);
    CHECK(!bs_collection_is_auth(mfas));
    CHECK_STR(field_id(mfas, "collectionRef"), "text455797646");
    CHECK_STR(field_id(mfas, "recordRef"), "text127846527");
    CHECK_STR(field_id(mfas, "method"), "text1582905952");
    bs_schema_unref(s);
    bs_app_free(app);
}

TEST(tables_and_columns)
{
    bs_app *app = open_app();
    REQUIRE(app != NULL);
    char cols[1024];
    /* Columns in byte order of their names, as PocketBase creates them. */
    columns(app, "_superusers", cols, sizeof cols);
    CHECK_STR(cols, "created:TEXT,email:TEXT,emailVisibility:BOOLEAN,id:TEXT,"
                    "password:TEXT,tokenKey:TEXT,updated:TEXT,"
                    "verified:BOOLEAN");
    columns(app, "_mfas", cols, sizeof cols);
    CHECK_STR(cols, "collectionRef:TEXT,created:TEXT,id:TEXT,method:TEXT,"
                    "recordRef:TEXT,updated:TEXT");
    columns(app, "users", cols, sizeof cols);
    CHECK_STR(cols, "avatar:TEXT,created:TEXT,email:TEXT,emailVisibility:"
                    "BOOLEAN,id:TEXT,name:TEXT,password:TEXT,tokenKey:TEXT,"
                    "updated:TEXT,verified:BOOLEAN");
    columns(app, "_params", cols, sizeof cols);
    CHECK_STR(cols, "id:TEXT,value:JSON,created:TEXT,updated:TEXT");
    /* The unique indexes of auth collections exist. */
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM sqlite_master WHERE type = "
                          "'index' AND tbl_name = '_superusers' AND sql LIKE "
                          "'CREATE UNIQUE INDEX%'") == 2);
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                          "'idx_email_pbc_3142635823'") == 1);
    /* The auxiliary database has its _logs table. */
    bs_conn *aux = bs_store_aux_acquire(app->store);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(bs_conn_db(aux),
                           "SELECT COUNT(*) FROM sqlite_master WHERE name = "
                           "'_logs'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        found = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    bs_store_aux_release(app->store, aux);
    CHECK(found == 1);
    bs_app_free(app);
}

TEST(migrations_recorded)
{
    bs_app *app = open_app();
    REQUIRE(app != NULL);
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM _migrations") == 8);
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM _migrations WHERE file = "
                          "'1640988000_init.go'") == 1);
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM _migrations WHERE file = "
                          "'1717233556_v0.23_migrate.go'") == 1);
    /* Applied times are microseconds since the epoch. */
    CHECK(scalar_int(app, "SELECT MIN(applied) > 1600000000000000 FROM "
                          "_migrations") == 1);
    bs_app_free(app);
}

TEST(default_settings_loaded)
{
    bs_app *app = open_app();
    REQUIRE(app != NULL);
    bs_settings *st = bs_app_settings(app);
    REQUIRE(st != NULL);
    CHECK_STR(bs_json_get_str(bs_json_get(st->value, "meta"), "appName", ""),
              "Acme");
    bs_settings_unref(st);
    bs_app_free(app);
}

TEST(second_bootstrap_changes_nothing)
{
    bs_app *app = open_app();
    REQUIRE(app != NULL);
    bs_schema *s1 = bs_app_schema(app);
    char secret[64], created[32];
    snprintf(secret, sizeof secret, "%s",
             bs_collection_token_secret(bs_schema_find(s1, "users"),
                                        "authToken"));
    snprintf(created, sizeof created, "%s",
             bs_schema_find(s1, "users")->created);
    int n1 = s1->n;
    bs_schema_unref(s1);
    int migs = scalar_int(app, "SELECT COUNT(*) FROM _migrations");
    long long applied = scalar_int(app, "SELECT SUM(applied % 1000000) FROM "
                                        "_migrations");
    bs_app_free(app);

    app = open_app();
    REQUIRE(app != NULL);
    bs_schema *s2 = bs_app_schema(app);
    CHECK(s2->n == n1);
    CHECK_STR(bs_collection_token_secret(bs_schema_find(s2, "users"),
                                         "authToken"),
              secret);
    CHECK_STR(bs_schema_find(s2, "users")->created, created);
    bs_schema_unref(s2);
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM _migrations") == migs);
    CHECK(scalar_int(app, "SELECT SUM(applied % 1000000) FROM _migrations") ==
          applied);
    CHECK(scalar_int(app, "SELECT COUNT(*) FROM _collections") == n1);
    bs_app_free(app);
}

static int on_bootstrap(bs_event *e, void *user)
{
    int *state = user;
    *state = 1;
    /* Before next the store is not open yet. */
    if (e->app->store != NULL)
        *state = -1;
    int rc = bs_event_next(e);
    if (rc == 0 && *state == 1 && e->app->store != NULL &&
        e->app->schema != NULL)
        *state = 2;
    return rc;
}

static int refuse_bootstrap(bs_event *e, void *user)
{
    return bs_error_set(e->error, 503, "not today");
}

TEST(bootstrap_hook_wraps_bootstrap)
{
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    bs_app *app = bs_app_new(&cfg);
    REQUIRE(app != NULL);
    int state = 0;
    bs_handler h = {.id = "t", .fn = on_bootstrap, .user = &state};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_BOOTSTRAP), &h) == 0);
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_app_bootstrap(app, &e) == 0);
    CHECK(state == 2);
    bs_error_dispose(&e);
    bs_app_free(app);

    char other[300];
    snprintf(other, sizeof other, "%s/refused", dir);
    bs_app_config cfg2 = {.data_dir = other, .threads = 1};
    app = bs_app_new(&cfg2);
    REQUIRE(app != NULL);
    bs_hook_bind_func(bs_app_hook(app, BS_ON_BOOTSTRAP), refuse_bootstrap, NULL);
    bs_error_init(&e);
    CHECK(bs_app_bootstrap(app, &e) == BS_EHTTP);
    CHECK(e.status == 503);
    CHECK(app->store == NULL);
    bs_error_dispose(&e);
    bs_app_free(app);
}

TEST(app_config_defaults)
{
    bs_app *app = bs_app_new(NULL);
    REQUIRE(app != NULL);
    CHECK_STR(app->data_dir, "pb_data");
    CHECK_STR(app->public_dir, "pb_data/../pb_public");
    CHECK_STR(app->http_addr, "127.0.0.1:8090");
    CHECK_STR(app->origins, "*");
    CHECK(app->threads >= 1);
    CHECK(app->store == NULL);
    bs_app_free(app);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    RUN(fresh_directory_gets_system_collections);
    RUN(tables_and_columns);
    RUN(migrations_recorded);
    RUN(default_settings_loaded);
    RUN(second_bootstrap_changes_nothing);
    RUN(bootstrap_hook_wraps_bootstrap);
    RUN(app_config_defaults);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
