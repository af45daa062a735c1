/*
 * test_backup.c - backups from C (src/core/backup.c): the create and
 * restore hooks see the name and may change it or refuse; the default
 * and the API names; one operation at a time; and a restore whose
 * restart fails (an app not started by bs_app_start cannot re-exec)
 * puts the old data back, as does one of a hostile archive, which never
 * gets as far as the swap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basalt.h"
#include "core/app.h"
#include "core/backup.h"
#include "harness.h"
#include "testapp.h"
#include "tmpdir.h"

static char dir[256];
static bs_app *app;

static bool has_backup(const char *key)
{
    char p[600];
    snprintf(p, sizeof p, "%s/backups/%s", dir, key);
    struct stat st;
    return stat(p, &st) == 0 && st.st_size > 0;
}

static int rename_handler(bs_event *e, void *user)
{
    bs_backup_event *be = (bs_backup_event *)e;
    *(char **)user = strdup(be->name);
    be->name = "renamed_by_hook.zip";
    return bs_event_next(e);
}

static int refuse_handler(bs_event *e, void *user)
{
    (void)user;
    return bs_error_set(e->error, 400, "Backups are paused.");
}

TEST(names)
{
    CHECK(bs_backup_name_valid("a_b-1.zip"));
    CHECK(!bs_backup_name_valid("A.zip"));
    CHECK(!bs_backup_name_valid(".zip"));
    CHECK(!bs_backup_name_valid("x.tar"));
    CHECK(bs_backup_key_ok("@auto_pb_backup_x_1.zip"));
    CHECK(!bs_backup_key_ok("../x.zip"));
    CHECK(!bs_backup_key_ok(".hidden"));
    CHECK(!bs_backup_key_ok("a/b.zip"));
    char name[128];
    bs_backup_default_name(app, "pb_backup_", name, sizeof name);
    CHECK(strncmp(name, "pb_backup_acme_", 15) == 0);
    CHECK(strlen(name) == strlen("pb_backup_acme_20260101000000.zip"));
}

TEST(create_hook_renames_and_refuses)
{
    char *seen = NULL;
    bs_handler h = {.fn = rename_handler, .user = &seen};
    bs_hook *hook = bs_app_hook(app, BS_ON_BACKUP_CREATE);
    REQUIRE(bs_hook_bind(hook, &h) == 0);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_backup_create(app, "asked.zip", &err) == 0);
    CHECK(seen && strcmp(seen, "asked.zip") == 0);
    CHECK(has_backup("renamed_by_hook.zip"));
    CHECK(!has_backup("asked.zip"));
    free(seen);
    bs_hook_unbind_all(hook);

    bs_handler r = {.fn = refuse_handler};
    REQUIRE(bs_hook_bind(hook, &r) == 0);
    CHECK(bs_backup_create(app, "refused.zip", &err) != 0);
    CHECK(err.message && strcmp(err.message, "Backups are paused.") == 0);
    CHECK(!has_backup("refused.zip"));
    CHECK(!bs_backup_active(app, NULL, 0));
    bs_hook_unbind_all(hook);
    bs_error_dispose(&err);
}

static int restore_spy(bs_event *e, void *user)
{
    (*(int *)user)++;
    return bs_event_next(e);
}

TEST(failed_restart_puts_the_old_data_back)
{
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_db_exec(app, "CREATE TABLE marker(v)", NULL, NULL, &err) == 0);
    REQUIRE(bs_backup_create(app, "before_marker_rows.zip", &err) == 0);
    REQUIRE(bs_db_exec(app, "INSERT INTO marker VALUES (1)", NULL, NULL,
                       &err) == 0);
    int calls = 0;
    bs_handler spy = {.fn = restore_spy, .user = &calls};
    bs_hook *hook = bs_app_hook(app, BS_ON_BACKUP_RESTORE);
    REQUIRE(bs_hook_bind(hook, &spy) == 0);
    /* No argv: the swap happens, the restart cannot, the swap is undone. */
    CHECK(bs_backup_restore(app, "before_marker_rows.zip", &err) != 0);
    CHECK(calls == 1);
    CHECK(err.message && strstr(err.message, "arguments") != NULL);
    json_object *row = NULL;
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(bs_db_one(app, "SELECT count(*) AS n FROM marker", NULL, &row,
                    &err) == 0);
    CHECK(row && json_object_get_int(json_object_object_get(row, "n")) == 1);
    json_object_put(row);
    /* The store still writes to the real data.db. */
    CHECK(bs_db_exec(app, "INSERT INTO marker VALUES (2)", NULL, NULL,
                     &err) == 0);
    char p[600];
    snprintf(p, sizeof p, "%s/data.db", dir);
    struct stat st;
    CHECK(stat(p, &st) == 0);
    snprintf(p, sizeof p, "%s/.pb_temp_to_delete", dir);
    CHECK(stat(p, &st) != 0 || st.st_nlink == 2);
    bs_hook_unbind_all(hook);
    bs_error_dispose(&err);
}

TEST(hostile_archive_is_refused)
{
    char p[600];
    snprintf(p, sizeof p, "%s/backups/hostile.zip", dir);
    FILE *f = fopen(p, "w");
    fputs("PK\x05\x06 not a zip at all", f);
    fclose(f);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_backup_restore(app, "hostile.zip", &err) != 0);
    CHECK(err.message && strstr(err.message, "zip") != NULL);
    CHECK(!bs_backup_active(app, NULL, 0));
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(bs_backup_restore(app, "../data.db", &err) != 0);
    bs_error_dispose(&err);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    app = testapp_open(dir, NULL);
    RUN(names);
    RUN(create_hook_renames_and_refuses);
    RUN(failed_restart_puts_the_old_data_back);
    RUN(hostile_archive_is_refused);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
