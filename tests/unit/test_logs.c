/*
 * test_logs.c - the application's logs: logger lines reach `_logs` with
 * their level and key/values, settings.logs decides what is kept
 * (minLevel, maxDays 0 keeps nothing), the list, view and stats read
 * them back through the filter language (data.<path> as JSON paths),
 * and the clean-up deletes rows older than maxDays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/logs.h"
#include "core/settings.h"
#include "db/rows.h"
#include "harness.h"
#include "testapp.h"
#include "tmpdir.h"

/* Replaces settings.logs.<key> with value. */
static void set_logs(bs_app *app, const char *key, json_object *value)
{
    bs_settings *cur = bs_app_settings(app);
    json_object *copy = NULL;
    json_object_deep_copy(cur->value, &copy, NULL);
    bs_settings_unref(cur);
    json_object_object_add(bs_json_get(copy, "logs"), key, value);
    bs_app_set_settings(app, bs_settings_wrap(copy));
}

static int64_t total(bs_app *app, const char *filter)
{
    json_object *page = NULL;
    bs_error err;
    bs_error_init(&err);
    int64_t n = -1;
    if (bs_logs_list(app, filter, NULL, 1, 30, false, &page, &err) == 0)
        n = bs_json_get_int(page, "totalItems", -1);
    json_object_put(page);
    bs_error_dispose(&err);
    return n;
}

TEST(logger_lines_and_levels)
{
    char dir[256];
    REQUIRE(tmpdir_make(dir, sizeof dir) == 0);
    bs_app *app = testapp_open(dir, NULL);
    bs_log_warn(app, "disk almost full", "free", "3%", "disk", "/", NULL);
    bs_log_debug(app, "not kept at minLevel 0", NULL);
    bs_logs_flush(app);
    CHECK(total(app, NULL) == 1);
    CHECK(total(app, "level = 4 && message = 'disk almost full' && "
                     "data.free = '3%' && data.disk = '/'") == 1);

    /* minLevel 5: a warning (4) is dropped, an error (8) kept. */
    set_logs(app, "minLevel", json_object_new_int(5));
    bs_log_warn(app, "w", NULL);
    bs_log_error(app, "e", "error", "boom", NULL);
    json_object *data = json_object_new_object();
    json_object_object_add(data, "n", json_object_new_int(7));
    bs_app_log(app, 9, "custom", data);
    json_object_put(data);
    bs_logs_flush(app);
    CHECK(total(app, "message = 'w'") == 0);
    CHECK(total(app, "message = 'e' && data.error = 'boom'") == 1);
    CHECK(total(app, "data.n = 7 && level = 9") == 1);

    /* maxDays 0: nothing is kept. */
    set_logs(app, "minLevel", json_object_new_int(0));
    set_logs(app, "maxDays", json_object_new_int(0));
    CHECK(!bs_logs_enabled(app));
    bs_log_error(app, "off", NULL);
    bs_logs_flush(app);
    CHECK(total(app, "message = 'off'") == 0);

    /* A bad filter is a 400, not a crash. */
    json_object *page = NULL;
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_logs_list(app, "nope = 1", NULL, 1, 30, false, &page, &err) ==
          BS_EHTTP);
    CHECK(err.status == 400);
    CHECK(page == NULL);
    bs_error_dispose(&err);
    bs_app_free(app);
    tmpdir_remove(dir);
}

TEST(view_stats_and_cleanup)
{
    char dir[256];
    REQUIRE(tmpdir_make(dir, sizeof dir) == 0);
    bs_app *app = testapp_open(dir, NULL);
    bs_conn *aux = bs_store_aux_acquire(app->store);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_conn_exec(aux,
                       "INSERT INTO _logs (id, level, message, data, created) "
                       "VALUES ('old', 0, 'a', '{\"status\":200}', "
                       "'2022-05-01 10:00:00.123Z'), ('old2', 8, 'b', "
                       "'{\"status\":400}', '2022-05-01 10:59:00.000Z'), "
                       "('new', 0, 'c', '{\"status\":500}', "
                       "strftime('%Y-%m-%d %H:%M:%fZ'))",
                       &err) == 0);
    bs_store_aux_release(app->store, aux);

    json_object *one = NULL;
    REQUIRE(bs_logs_find(app, "old2", &one) == 0);
    CHECK(bs_json_get_int(one, "level", 0) == 8);
    CHECK_STR(bs_json_get_str(one, "created", ""), "2022-05-01 10:59:00.000Z");
    CHECK(bs_json_get_int(bs_json_get(one, "data"), "status", 0) == 400);
    json_object_put(one);
    CHECK(bs_logs_find(app, "missing", &one) == BS_ENOTFOUND);

    json_object *stats = NULL;
    REQUIRE(bs_logs_stats(app, "data.status < 500", &stats, &err) == 0);
    CHECK(json_object_array_length(stats) == 1);
    json_object *b = json_object_array_get_idx(stats, 0);
    CHECK_STR(bs_json_get_str(b, "date", ""), "2022-05-01 10:00:00.000Z");
    CHECK(bs_json_get_int(b, "total", 0) == 2);
    json_object_put(stats);
    CHECK(bs_logs_stats(app, "(((", &stats, &err) == BS_EHTTP);

    /* Sorted by a JSON path, descending. */
    json_object *page = NULL;
    REQUIRE(bs_logs_list(app, NULL, "-data.status", 1, 2, true, &page,
                         &err) == 0);
    json_object *items = bs_json_get(page, "items");
    CHECK(json_object_array_length(items) == 2);
    CHECK_STR(bs_json_get_str(json_object_array_get_idx(items, 0), "id", ""),
              "new");
    CHECK(bs_json_get_int(page, "totalItems", 0) == -1); /* skipTotal */
    json_object_put(page);

    /* maxDays 5 (the default): the 2022 rows go. */
    CHECK(bs_logs_cleanup(app) == 0);
    CHECK(total(app, NULL) == 1);
    CHECK(total(app, "id = 'new'") == 1);
    bs_error_dispose(&err);
    bs_app_free(app);
    tmpdir_remove(dir);
}

int main(void)
{
    RUN(logger_lines_and_levels);
    RUN(view_stats_and_cleanup);
    return harness_summary(__FILE__);
}
