/*
 * test_record_hooks.c - the hook chain around record saves and the
 * transaction's after-commit queue, through a real app on a temp dir.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"
#include "core/app.h"
#include "core/collection.h"
#include "core/record.h"
#include "core/tx.h"
#include "harness.h"
#include "testapp.h"

static bs_app *app;
static char dir[64];
static char trace[256];
static int success_count, error_count;

static void tr(const char *s)
{
    strncat(trace, s, sizeof trace - strlen(trace) - 1);
}

static int create_collection_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    const char *def =
        "{\"name\":\"orders\",\"type\":\"base\",\"listRule\":\"\","
        "\"fields\":[{\"name\":\"title\",\"type\":\"text\",\"required\":true},"
        "{\"name\":\"items\",\"type\":\"json\"},"
        "{\"name\":\"status\",\"type\":\"text\"}]}";
    json_object *col = json_tokener_parse(def);
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    return rc;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_hooks_%d", (int)getpid());
    app = testapp_open(dir, create_collection_tx);
}

static long count_rows(void)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(bs_conn_db(c), "SELECT COUNT(*) FROM orders", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return n;
}

/* Saves a new order with title; returns the save's result. */
static int save_order(const char *title, bs_error *err)
{
    bs_schema *s = bs_app_schema(app);
    bs_record *r = bs_record_new(s, bs_schema_find(s, "orders"));
    bs_record_set(r, "title", json_object_new_string(title));
    int rc = bs_record_save(app, r, err);
    bs_record_free(r);
    bs_schema_unref(s);
    return rc;
}

static int h_a(bs_event *e, void *u) { (void)u; tr("A"); return bs_event_next(e); }
static int h_b(bs_event *e, void *u) { (void)u; tr("B"); return bs_event_next(e); }
static int h_c(bs_event *e, void *u) { (void)u; tr("C"); return bs_event_next(e); }
static int h_tag(bs_event *e, void *u) { (void)u; tr("T"); return bs_event_next(e); }

TEST(order_priority_then_registration)
{
    bs_hook *h = bs_app_hook(app, BS_ON_RECORD_CREATE);
    bs_handler a = {.id = "a", .priority = 10, .fn = h_a};
    bs_handler b = {.id = "b", .priority = -5, .fn = h_b};
    bs_handler c = {.id = "c", .priority = 10, .fn = h_c};
    REQUIRE(bs_hook_bind(h, &a) == 0);
    REQUIRE(bs_hook_bind(h, &b) == 0);
    REQUIRE(bs_hook_bind(h, &c) == 0);
    trace[0] = '\0';
    bs_error err;
    bs_error_init(&err);
    CHECK(save_order("one", &err) == 0);
    CHECK_STR(trace, "BAC");
    CHECK(bs_hook_unbind(h, "b"));
    trace[0] = '\0';
    CHECK(save_order("two", &err) == 0);
    CHECK_STR(trace, "AC");
    bs_hook_unbind_all(h);
    trace[0] = '\0';
    CHECK(save_order("three", &err) == 0);
    CHECK_STR(trace, "");
    bs_error_dispose(&err);
}

TEST(tags_by_name_and_id)
{
    bs_hook *h = bs_app_hook(app, BS_ON_RECORD_CREATE);
    static const char *const other[] = {"other", NULL};
    static const char *const by_name[] = {"orders", NULL};
    bs_handler t1 = {.id = "t1", .fn = h_tag, .tags = other};
    REQUIRE(bs_hook_bind(h, &t1) == 0);
    trace[0] = '\0';
    bs_error err;
    bs_error_init(&err);
    CHECK(save_order("x", &err) == 0);
    CHECK_STR(trace, "");
    bs_handler t2 = {.id = "t2", .fn = h_tag, .tags = by_name};
    REQUIRE(bs_hook_bind(h, &t2) == 0);
    trace[0] = '\0';
    CHECK(save_order("y", &err) == 0);
    CHECK_STR(trace, "T");
    bs_schema *s = bs_app_schema(app);
    const char *id_tags[] = {bs_schema_find(s, "orders")->id, NULL};
    bs_handler t3 = {.id = "t3", .fn = h_tag, .tags = id_tags};
    REQUIRE(bs_hook_bind(h, &t3) == 0);
    bs_schema_unref(s);
    trace[0] = '\0';
    CHECK(save_order("z", &err) == 0);
    CHECK_STR(trace, "TT");
    bs_hook_unbind_all(h);
    bs_error_dispose(&err);
}

static int h_refuse(bs_event *e, void *u)
{
    (void)u;
    bs_error_field(e->error, "title", "validation_custom", "Refused.");
    return bs_error_set(e->error, 422, "Refused by a hook.");
}

TEST(error_aborts_and_nothing_persists)
{
    bs_hook *h = bs_app_hook(app, BS_ON_RECORD_CREATE);
    REQUIRE(bs_hook_bind_func(h, h_refuse, NULL) != NULL);
    long before = count_rows();
    bs_error err;
    bs_error_init(&err);
    CHECK(save_order("refused", &err) == BS_EHTTP);
    CHECK(err.status == 422);
    CHECK(bs_error_has_fields(&err));
    CHECK(count_rows() == before);
    bs_hook_unbind_all(h);
    bs_error_dispose(&err);
}

static int h_change(bs_event *e, void *u)
{
    (void)u;
    bs_record_event *re = (bs_record_event *)e;
    bs_record_set(re->record, "status", json_object_new_string("pending"));
    int rc = bs_event_next(e);
    /* After next the record is stored and has its id. */
    if (rc == 0 && bs_record_id(re->record)[0])
        tr("S");
    return rc;
}

TEST(change_before_next_is_stored)
{
    bs_hook *h = bs_app_hook(app, BS_ON_RECORD_CREATE);
    REQUIRE(bs_hook_bind_func(h, h_change, NULL) != NULL);
    trace[0] = '\0';
    bs_error err;
    bs_error_init(&err);
    CHECK(save_order("changed", &err) == 0);
    CHECK_STR(trace, "S");
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(bs_conn_db(c),
                       "SELECT status FROM orders WHERE title = 'changed'",
                       -1, &st, NULL);
    REQUIRE(st && sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "pending");
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    bs_hook_unbind_all(h);
    bs_error_dispose(&err);
}

static int h_success(bs_event *e, void *u)
{
    (void)u;
    success_count++;
    return bs_event_next(e);
}

static int h_error(bs_event *e, void *u)
{
    (void)u;
    error_count++;
    return bs_event_next(e);
}

/* Saves one order inside the transaction, then fails the transaction. */
static int nested_then_fail(bs_tx *tx, void *data)
{
    (void)tx;
    bs_error *err = data;
    if (save_order("nested", err) != 0)
        return BS_EINVAL;
    /* The save above must not have fired its success hook yet. */
    if (success_count != 0)
        return BS_EINVAL;
    return bs_error_set(err, 400, "Later failure.");
}

static int nested_ok(bs_tx *tx, void *data)
{
    (void)tx;
    bs_error *err = data;
    int rc = save_order("nested-ok", err);
    if (rc == 0 && success_count != 0)
        return BS_EINVAL; /* must wait for the commit */
    return rc;
}

TEST(after_success_only_after_commit)
{
    bs_handler s = {.id = "s", .fn = h_success};
    bs_handler er = {.id = "e", .fn = h_error};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_AFTER_CREATE_SUCCESS),
                         &s) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_AFTER_CREATE_ERROR),
                         &er) == 0);
    success_count = error_count = 0;
    long before = count_rows();
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_run_in_transaction(app, nested_then_fail, &err, &err) != 0);
    CHECK(success_count == 0);
    CHECK(error_count == 1);
    CHECK(count_rows() == before);

    success_count = error_count = 0;
    bs_error_dispose(&err);
    CHECK(bs_run_in_transaction(app, nested_ok, &err, &err) == 0);
    CHECK(success_count == 1);
    CHECK(error_count == 0);
    CHECK(count_rows() == before + 1);

    /* A plain failing save (validation) fires the error hook once. */
    success_count = error_count = 0;
    CHECK(save_order("", &err) != 0);
    CHECK(success_count == 0);
    CHECK(error_count == 1);
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_RECORD_AFTER_CREATE_SUCCESS));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_RECORD_AFTER_CREATE_ERROR));
    bs_error_dispose(&err);
}

int main(void)
{
    setup();
    RUN(order_priority_then_registration);
    RUN(tags_by_name_and_id);
    RUN(error_aborts_and_nothing_persists);
    RUN(change_before_next_is_stored);
    RUN(after_success_only_after_commit);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
