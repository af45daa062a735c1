/*
 * test_js_migrations.c - the pb_migrations runner from C: files applied
 * in filename order, each with its _migrations row, a failure rolled
 * back and named, down and history-sync; and the exported
 * bs_collection_save / bs_collection_delete / bs_collections_import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basalt.h"
#include "harness.h"
#include "js/js.h"
#include "testapp.h"
#include "tmpdir.h"

static bs_app *app;
static char dir[96];
static char mig[96];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", mig, name);
    FILE *f = fopen(path, "w");
    if (!f)
        exit(1);
    fputs(text, f);
    fclose(f);
}

static int64_t count(const char *sql)
{
    json_object *row = NULL;
    bs_error err;
    bs_error_init(&err);
    int64_t n = -1;
    if (bs_db_one(app, sql, NULL, &row, &err) == 0)
        n = json_object_get_int64(json_object_object_get(row, "n"));
    json_object_put(row);
    bs_error_dispose(&err);
    return n;
}

static bool has_collection(const char *name)
{
    json_object *c = NULL;
    int rc = bs_collection_find(app, name, &c);
    json_object_put(c);
    return rc == 0;
}

TEST(exported_collection_save_and_delete)
{
    bs_error err;
    bs_error_init(&err);
    json_object *col = json_tokener_parse(
        "{\"name\":\"cities\",\"type\":\"base\",\"fields\":"
        "[{\"name\":\"title\",\"type\":\"text\"}]}");
    CHECK(bs_collection_save(app, col,
                             NULL, BS_COLLECTION_NEW | BS_COLLECTION_DEFAULTS,
                             &err) == 0);
    const char *id = json_object_get_string(json_object_object_get(col, "id"));
    CHECK(id && *id);
    CHECK(has_collection("cities"));
    /* An update: a field added, data preserved. */
    json_object_array_add(json_object_object_get(col, "fields"),
                          json_tokener_parse("{\"name\":\"pop\",\"type\":"
                                             "\"number\"}"));
    CHECK(bs_collection_save(app, col, NULL, 0, &err) == 0);
    CHECK(count("SELECT count(*) AS n FROM pragma_table_info('cities') "
                "WHERE name = 'pop'") == 1);
    /* A validation failure is a 400 with per-field data. */
    json_object *bad = json_tokener_parse("{\"name\":\"\",\"type\":\"base\"}");
    CHECK(bs_collection_save(app, bad, NULL, BS_COLLECTION_NEW, &err) ==
          BS_EHTTP);
    CHECK(err.status == 400);
    json_object_put(bad);
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(bs_collection_delete(app, col, 0, &err) == 0);
    CHECK(!has_collection("cities"));
    json_object_put(col);
    /* The import creates what it is given. */
    json_object *items = json_tokener_parse(
        "[{\"name\":\"rivers\",\"type\":\"base\",\"fields\":"
        "[{\"name\":\"length\",\"type\":\"number\"}]}]");
    CHECK(bs_collections_import(app, items, false, &err) == 0);
    CHECK(has_collection("rivers"));
    json_object_put(items);
    bs_error_dispose(&err);
}

TEST(files_apply_in_order_and_failures_roll_back)
{
    bs_error err;
    bs_error_init(&err);
    write_file("200_second.js",
               "migrate((app) => {\n"
               "  const c = app.findCollectionByNameOrId('lakes');\n"
               "  c.fields.add(new NumberField({name: 'depth'}));\n"
               "  app.save(c);\n"
               "}, (app) => {\n"
               "  const c = app.findCollectionByNameOrId('lakes');\n"
               "  c.fields.removeByName('depth');\n"
               "  app.save(c);\n"
               "})\n");
    write_file("100_first.js",
               "migrate((app) => {\n"
               "  app.save(new Collection({name: 'lakes', fields: "
               "[{name: 'name', type: 'text'}]}));\n"
               "}, (app) => {\n"
               "  app.delete(app.findCollectionByNameOrId('lakes'));\n"
               "})\n");
    write_file("notes.txt", "not a migration");
    int n = 0;
    CHECK(bs_js_migrate_up(app, mig, &n, &err) == 0);
    CHECK(n == 2);
    CHECK(count("SELECT count(*) AS n FROM pragma_table_info('lakes') "
                "WHERE name = 'depth'") == 1);
    CHECK(count("SELECT count(*) AS n FROM _migrations WHERE file IN "
                "('100_first.js', '200_second.js')") == 2);
    CHECK(count("SELECT count(*) AS n FROM _migrations a, _migrations b "
                "WHERE a.file = '100_first.js' AND b.file = '200_second.js' "
                "AND a.applied < b.applied") == 1);
    CHECK(bs_js_migrate_up(app, mig, &n, &err) == 0 && n == 0);

    write_file("300_broken.js",
               "migrate((app) => {\n"
               "  app.save(new Collection({name: 'ponds'}));\n"
               "  null.boom;\n"
               "}, (app) => {})\n");
    CHECK(bs_js_migrate_up(app, mig, &n, &err) != 0);
    CHECK(err.message && strstr(err.message, "300_broken.js:3:"));
    CHECK(!has_collection("ponds"));
    CHECK(count("SELECT count(*) AS n FROM _migrations WHERE file = "
                "'300_broken.js'") == 0);
    bs_error_dispose(&err);
    bs_error_init(&err);
    char path[256];
    snprintf(path, sizeof path, "%s/300_broken.js", mig);
    unlink(path);

    CHECK(bs_js_migrate_down(app, mig, 1, &n, &err) == 0 && n == 1);
    CHECK(count("SELECT count(*) AS n FROM pragma_table_info('lakes') "
                "WHERE name = 'depth'") == 0);
    CHECK(has_collection("lakes"));
    CHECK(bs_js_migrate_up(app, mig, &n, &err) == 0 && n == 1);

    snprintf(path, sizeof path, "%s/200_second.js", mig);
    unlink(path);
    CHECK(bs_js_migrate_history_sync(app, mig, &n, &err) == 0 && n == 1);
    CHECK(count("SELECT count(*) AS n FROM _migrations WHERE file LIKE "
                "'%.js'") == 1);
    CHECK(count("SELECT count(*) AS n FROM _migrations WHERE file LIKE "
                "'%.go'") > 0);
    bs_error_dispose(&err);
}

TEST(create_writes_a_template)
{
    bs_error err;
    bs_error_init(&err);
    char *path = NULL;
    CHECK(bs_js_migrate_create(mig, "Add Index", &path, &err) == 0);
    CHECK(path && strstr(path, "_add_index.js"));
    /* The blank template applies and does nothing. */
    int n = 0;
    CHECK(bs_js_migrate_up(app, mig, &n, &err) == 0 && n == 1);
    free(path);
    CHECK(bs_js_migrate_create(mig, "--", &path, &err) != 0);
    bs_error_dispose(&err);
}

/* An async up function is awaited inside the file's transaction: what
 * it saves after an await (a timer, a promise job) is committed with the
 * _migrations row, and a rejection after an await rolls back all of it. */
TEST(async_migrations_are_awaited_in_the_transaction)
{
    bs_error err;
    bs_error_init(&err);
    write_file("400_async.js",
               "migrate(async (app) => {\n"
               "  await new Promise((ok) => setTimeout(ok, 20));\n"
               "  app.save(new Collection({name: 'brooks', fields: "
               "[{name: 'name', type: 'text'}]}));\n"
               "  await Promise.resolve();\n"
               "  app.db().newQuery(\"INSERT INTO brooks (id, name) VALUES "
               "('b1', 'first')\").execute();\n"
               "}, async (app) => {\n"
               "  await null;\n"
               "  app.delete(app.findCollectionByNameOrId('brooks'));\n"
               "})\n");
    int n = 0;
    CHECK(bs_js_migrate_up(app, mig, &n, &err) == 0 && n == 1);
    CHECK(count("SELECT count(*) AS n FROM brooks WHERE name = 'first'") == 1);
    CHECK(count("SELECT count(*) AS n FROM _migrations WHERE file = "
                "'400_async.js'") == 1);
    CHECK(bs_js_migrate_down(app, mig, 1, &n, &err) == 0 && n == 1);
    CHECK(!has_collection("brooks"));

    write_file("400_async.js",
               "migrate(async (app) => {\n"
               "  app.save(new Collection({name: 'creeks'}));\n"
               "  await new Promise((ok) => setTimeout(ok, 5));\n"
               "  throw new Error('late failure');\n"
               "})\n");
    CHECK(bs_js_migrate_up(app, mig, &n, &err) != 0);
    CHECK(err.message && strstr(err.message, "late failure"));
    CHECK(!has_collection("creeks"));
    CHECK(count("SELECT count(*) AS n FROM _migrations WHERE file = "
                "'400_async.js'") == 0);
    bs_error_dispose(&err);
    bs_error_init(&err);

    /* A promise that can never settle is an error, not a hang. */
    write_file("400_async.js",
               "migrate((app) => new Promise(() => {}))\n");
    CHECK(bs_js_migrate_up(app, mig, &n, &err) != 0);
    CHECK(err.message && strstr(err.message, "never settle"));
    bs_error_dispose(&err);
    char path[256];
    snprintf(path, sizeof path, "%s/400_async.js", mig);
    unlink(path);
}

int main(void)
{
    char root[64];
    snprintf(root, sizeof root, "/tmp/bs_test_jsmig_%d", (int)getpid());
    snprintf(dir, sizeof dir, "%s/pb_data", root);
    snprintf(mig, sizeof mig, "%s/pb_migrations", root);
    mkdir(root, 0700);
    mkdir(mig, 0700);
    app = testapp_open(dir, NULL);
    RUN(exported_collection_save_and_delete);
    RUN(files_apply_in_order_and_failures_roll_back);
    RUN(create_writes_a_template);
    RUN(async_migrations_are_awaited_in_the_transaction);
    bs_app_free(app);
    tmpdir_remove(root);
    return harness_summary(__FILE__);
}
