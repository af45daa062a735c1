/*
 * test_backup.c - backups from C (src/core/backup.c): the create and
 * restore hooks see the name and may change it or refuse; the default
 * and the API names; one operation at a time; and a restore whose
 * restart fails (an app not started by bs_app_start cannot re-exec)
 * puts the old data back, as does one of a hostile archive, which never
 * gets as far as the swap. A backup started in the background keeps
 * the one-at-a-time rule and reports when it ends; the failure alert
 * goes to every superuser through the mailer hook.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "basalt.h"
#include "core/app.h"
#include "core/backup.h"
#include "core/mail.h"
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

/* A create hook that holds the backup until the test lets it go. */
static sem_t hook_entered, hook_release, done_sem;
static int done_rc = 99;

static int holding_handler(bs_event *e, void *user)
{
    (void)user;
    sem_post(&hook_entered);
    sem_wait(&hook_release);
    return bs_event_next(e);
}

static void on_done(void *user, int rc)
{
    done_rc = rc;
    /* The operation has ended before done is called. */
    *(bool *)user = bs_backup_active(app, NULL, 0);
    sem_post(&done_sem);
}

TEST(start_runs_in_the_background_one_at_a_time)
{
    sem_init(&hook_entered, 0, 0);
    sem_init(&hook_release, 0, 0);
    sem_init(&done_sem, 0, 0);
    bs_handler h = {.fn = holding_handler};
    bs_hook *hook = bs_app_hook(app, BS_ON_BACKUP_CREATE);
    REQUIRE(bs_hook_bind(hook, &h) == 0);
    bs_error err, other;
    bs_error_init(&err);
    bs_error_init(&other);
    bool active_in_done = true;
    REQUIRE(bs_backup_start(app, "background.zip", &err, on_done,
                            &active_in_done) == 0);
    sem_wait(&hook_entered); /* it runs, on another thread */
    char key[64];
    CHECK(bs_backup_active(app, key, sizeof key));
    CHECK(strcmp(key, "background.zip") == 0);
    CHECK(bs_backup_start(app, "second.zip", &other, on_done, NULL) != 0);
    CHECK(other.status == 400 && other.message &&
          strncmp(other.message, "Try again later", 15) == 0);
    CHECK(bs_backup_create(app, "third.zip", &other) != 0);
    sem_post(&hook_release);
    sem_wait(&done_sem);
    CHECK(done_rc == 0);
    CHECK(!active_in_done);
    CHECK(has_backup("background.zip"));
    CHECK(!has_backup("second.zip") && !has_backup("third.zip"));
    bs_hook_unbind_all(hook);
    bs_error_dispose(&err);
    bs_error_dispose(&other);
    sem_destroy(&hook_entered);
    sem_destroy(&hook_release);
    sem_destroy(&done_sem);
}

/* Keeps what the mailer was asked to send, and sends nothing. */
static int mail_spy(bs_event *e, void *user)
{
    bs_mailer_event *me = (bs_mailer_event *)e;
    json_object *seen = user;
    json_object *m = json_object_new_object();
    json_object_object_add(m, "to", json_object_new_string(me->message->to));
    json_object_object_add(m, "subject",
                           json_object_new_string(me->message->subject));
    json_object_object_add(m, "html",
                           json_object_new_string(me->message->html));
    json_object_array_add(seen, m);
    return 0;
}

TEST(failure_alert_goes_to_every_superuser)
{
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_db_exec(app,
                       "INSERT INTO _superusers (id, email, password, "
                       "tokenKey, verified) VALUES ('su1aaaaaaaaaaaa', "
                       "'one@example.com', 'x', 'k1', 1), "
                       "('su2aaaaaaaaaaaa', 'two@example.com', 'x', 'k2', 1), "
                       "('su3aaaaaaaaaaaa', '__pbinstaller@example.com', "
                       "'x', 'k3', 1)",
                       NULL, NULL, &err) == 0);
    json_object *seen = json_object_new_array();
    bs_handler h = {.fn = mail_spy, .user = seen};
    bs_hook *hook = bs_app_hook(app, BS_ON_MAILER_SEND);
    REQUIRE(bs_hook_bind(hook, &h) == 0);
    CHECK(bs_mail_send_backup_failed(app, "@auto_pb_backup_acme_1.zip",
                                     "disk <full>") == 0);
    REQUIRE(json_object_array_length(seen) == 2);
    const char *want[] = {"one@example.com", "two@example.com"};
    for (size_t i = 0; i < 2; i++) {
        json_object *m = json_object_array_get_idx(seen, i);
        CHECK(strcmp(bs_json_get_str(m, "to", ""), want[i]) == 0);
        CHECK(strstr(bs_json_get_str(m, "subject", ""),
                     "Automated backup failed") != NULL);
        const char *html = bs_json_get_str(m, "html", "");
        CHECK(strstr(html, "@auto_pb_backup_acme_1.zip") != NULL);
        CHECK(strstr(html, "disk &lt;full&gt;") != NULL);
    }
    bs_hook_unbind_all(hook);
    json_object_put(seen);
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
    RUN(start_runs_in_the_background_one_at_a_time);
    RUN(failure_alert_goes_to_every_superuser);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
