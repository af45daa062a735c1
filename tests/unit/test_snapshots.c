/*
 * test_snapshots.c - the app's schema and settings snapshots: a reload
 * from the database (what the server does when another process or node
 * changed data.db) running beside a settings change made here never
 * leaves the older settings in place once the change is swapped in.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "core/settings.h"
#include "db/store.h"
#include "harness.h"
#include "testapp.h"
#include "tmpdir.h"

/* Enough rounds to meet the reload between its read and its swap. */
enum { ROUNDS = 10000 };

typedef struct {
    bs_app *app;
    atomic_bool stop;
} reloader;

static void *reload_loop(void *p)
{
    reloader *r = p;
    while (!atomic_load(&r->stop))
        bs_app_reload_snapshots(r->app);
    return NULL;
}

/* Saves settings with meta.appName = name and swaps them in, as
 * PATCH /api/settings does. */
static int save_name(bs_app *app, const char *name)
{
    bs_settings *cur = bs_app_settings(app);
    json_object *next = NULL;
    json_object_deep_copy(cur->value, &next, NULL);
    bs_settings_unref(cur);
    json_object_object_add(bs_json_get(next, "meta"), "appName",
                           json_object_new_string(name));
    bs_error err;
    bs_error_init(&err);
    bs_conn *c = NULL;
    int rc = bs_store_tx_begin(app->store, &c, &err);
    if (rc == 0) {
        int save_rc = bs_settings_save(c, next, &err);
        rc = bs_store_tx_end(app->store, save_rc == 0, &err);
        if (save_rc)
            rc = save_rc;
    }
    bs_error_dispose(&err);
    if (rc) {
        json_object_put(next);
        return rc;
    }
    bs_app_set_settings(app, bs_settings_wrap(next));
    return 0;
}

TEST(reload_never_brings_back_older_settings)
{
    char dir[256];
    REQUIRE(tmpdir_make(dir, sizeof dir) == 0);
    bs_app *app = testapp_open(dir, NULL);
    reloader r = {.app = app};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, reload_loop, &r) == 0);
    int stale = 0, failed = 0;
    for (int i = 0; i < ROUNDS; i++) {
        char name[32];
        snprintf(name, sizeof name, "app %d", i);
        if (save_name(app, name) != 0) {
            failed++;
            continue;
        }
        bs_settings *s = bs_app_settings(app);
        const char *got =
            bs_json_get_str(bs_json_get(s->value, "meta"), "appName", "");
        if (strcmp(got, name) != 0)
            stale++;
        bs_settings_unref(s);
    }
    atomic_store(&r.stop, true);
    pthread_join(t, NULL);
    CHECK(failed == 0);
    if (stale)
        fprintf(stderr, "%d of %d reads saw older settings\n", stale,
                ROUNDS);
    CHECK(stale == 0);
    bs_app_free(app);
    tmpdir_remove(dir);
}

int main(void)
{
    RUN(reload_never_brings_back_older_settings);
    return harness_summary(__FILE__);
}
