/*
 * test_webhooks.c - webhooks (src/core/webhooks.c, webhook_sender.c):
 * the signature and the backoff, validation of the API's input, and
 * the outbox written in the record's transaction: filters, every
 * event, nothing for a rolled-back change, the delivery body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "basalt.h"
#include "core/app.h"
#include "core/collection.h"
#include "core/record.h"
#include "core/tx.h"
#include "core/webhooks.h"
#include "harness.h"
#include "testapp.h"

static bs_app *app;
static char dir[64];

static int create_collection_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    const char *def =
        "{\"name\":\"posts\",\"type\":\"base\",\"fields\":["
        "{\"name\":\"title\",\"type\":\"text\"},"
        "{\"name\":\"secretNote\",\"type\":\"text\",\"hidden\":true}]}";
    json_object *col = json_tokener_parse(def);
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    return rc;
}

/* Rows of the outbox, optionally of one action. */
static long outbox_rows(const char *action)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(bs_conn_db(c),
                           "SELECT COUNT(*) FROM _webhookDeliveries WHERE "
                           "?1 IS NULL OR action = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        if (action)
            sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return n;
}

/* The body of the newest delivery row, parsed (caller puts it). */
static json_object *last_body(void)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    json_object *o = NULL;
    if (sqlite3_prepare_v2(bs_conn_db(c),
                           "SELECT body FROM _webhookDeliveries ORDER BY "
                           "rowid DESC LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        o = json_tokener_parse((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return o;
}

static bs_record *new_post(const char *title)
{
    bs_schema *s = bs_app_schema(app);
    bs_record *r = bs_record_new(s, bs_schema_find(s, "posts"));
    bs_schema_unref(s);
    bs_record_set(r, "title", json_object_new_string(title));
    bs_record_set(r, "secretNote", json_object_new_string("hush"));
    return r;
}

static int save_webhook(const char *body_text, const char *id,
                        json_object **out, bs_error *err)
{
    json_object *body = json_tokener_parse(body_text);
    int rc = bs_webhooks_save(app, id, body, out, err);
    json_object_put(body);
    return rc;
}

TEST(signature)
{
    char sig[65];
    bs_webhook_sign("whsec", 1700000000, "{\"a\":1}", 7, sig);
    /* HMAC-SHA256("whsec", "1700000000.{\"a\":1}") */
    CHECK_STR(sig,
              "8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032");
    char other[65];
    bs_webhook_sign("whsec", 1700000001, "{\"a\":1}", 7, other);
    CHECK(strcmp(sig, other) != 0);
}

TEST(backoff)
{
    /* r = 0: no jitter, the doubling itself. */
    CHECK(bs_webhook_backoff_ms(1000, 1, 0) == 1000);
    CHECK(bs_webhook_backoff_ms(1000, 2, 0) == 2000);
    CHECK(bs_webhook_backoff_ms(1000, 4, 0) == 8000);
    /* Capped at an hour, however many attempts. */
    CHECK(bs_webhook_backoff_ms(1000, 40, 0) == 3600000);
    CHECK(bs_webhook_backoff_ms(30000, 1000, 7) <= 3600000);
    /* Jitter stays within [d/2, d]. */
    for (uint32_t r = 0; r < 5000; r += 37) {
        int64_t d = bs_webhook_backoff_ms(1000, 3, r * 2654435761u);
        CHECK(d >= 2000 && d <= 4000);
    }
}

static bool tables_exist(void)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(bs_conn_db(c),
                           "SELECT 1 FROM sqlite_master WHERE name = "
                           "'_webhooks'",
                           -1, &st, NULL) == SQLITE_OK)
        yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return yes;
}

/* Before the first webhook there are no tables, and every read finds
 * nothing: a PocketBase directory is left as it was. */
TEST(no_tables_until_the_first_webhook)
{
    CHECK(!tables_exist());
    json_object *page = NULL;
    CHECK(bs_webhooks_list(app, 1, 30, &page) == 0);
    CHECK(bs_json_get_int(page, "totalItems", -1) == 0);
    json_object_put(page);
    page = NULL;
    CHECK(bs_webhooks_find(app, "missingid12345", &page) == BS_ENOTFOUND);
    CHECK(bs_webhooks_deliveries(app, "missingid12345", NULL, 1, 30, &page) ==
          BS_ENOTFOUND);
    CHECK(bs_webhooks_delete(app, "missingid12345") == BS_ENOTFOUND);
    CHECK(bs_webhooks_cleanup(app, 7) == 0);
    CHECK(bs_webhooks_reload(app) == 0);
    bs_error err;
    bs_error_init(&err);
    bs_record *r = new_post("before any webhook");
    CHECK(bs_record_save(app, r, &err) == 0);
    bs_record_free(r);
    CHECK(!tables_exist());
    bs_error_dispose(&err);
}

TEST(validation)
{
    bs_error err;
    bs_error_init(&err);
    json_object *out = NULL;
    int rc = save_webhook("{\"collection\":\"nope\",\"events\":[\"create\","
                          "\"explode\"],\"url\":\"ftp://x\",\"active\":1}",
                          NULL, &out, &err);
    CHECK(rc == BS_EHTTP && err.status == 400 && !out);
    CHECK(bs_json_get(err.data, "collection"));
    CHECK(bs_json_get(err.data, "events"));
    CHECK(bs_json_get(err.data, "url"));
    CHECK(bs_json_get(err.data, "active"));
    CHECK_STR(bs_json_get_str(bs_json_get(err.data, "url"), "code", ""),
              "validation_invalid_url");
    bs_error_dispose(&err);

    bs_error_init(&err);
    rc = save_webhook("{\"collection\":\"posts\",\"events\":[\"create\"],"
                      "\"url\":\"http://127.0.0.1:9/\",\"filter\":"
                      "\"title ~~ \"}",
                      NULL, &out, &err);
    CHECK(rc == BS_EHTTP);
    CHECK_STR(bs_json_get_str(bs_json_get(err.data, "filter"), "code", ""),
              "validation_invalid_filter");
    bs_error_dispose(&err);

    bs_error_init(&err);
    rc = save_webhook("{}", NULL, &out, &err);
    CHECK(rc == BS_EHTTP);
    CHECK_STR(bs_json_get_str(bs_json_get(err.data, "url"), "code", ""),
              "validation_required");
    bs_error_dispose(&err);

    bs_error_init(&err);
    CHECK(save_webhook("{\"active\":false}", "missingid12345", &out, &err) ==
          BS_ENOTFOUND);
    bs_error_dispose(&err);
}

static int save_then_fail(bs_tx *tx, void *data)
{
    (void)tx;
    bs_error *err = data;
    bs_record *r = new_post("rolled back");
    int rc = bs_record_save(app, r, err);
    bs_record_free(r);
    return rc ? rc : BS_EABORT;
}

TEST(outbox)
{
    bs_error err;
    bs_error_init(&err);
    json_object *hook = NULL;
    REQUIRE(save_webhook("{\"collection\":\"posts\",\"events\":[\"create\","
                         "\"update\",\"delete\"],\"url\":"
                         "\"http://127.0.0.1:9/hook\",\"filter\":\"title != "
                         "'skip'\"}",
                         NULL, &hook, &err) == 0);
    REQUIRE(hook);
    const char *hook_id = bs_json_get_str(hook, "id", "");
    CHECK(strlen(hook_id) == 15);
    CHECK_STR(bs_json_get_str(hook, "collectionName", ""), "posts");
    CHECK(strlen(bs_json_get_str(hook, "secret", "")) == 32);
    CHECK(bs_json_get_bool(hook, "active", false));

    /* A create the filter selects, and one it does not. */
    bs_record *r = new_post("hello");
    CHECK(bs_record_save(app, r, &err) == 0);
    CHECK(outbox_rows("create") == 1);
    json_object *body = last_body();
    REQUIRE(body);
    CHECK_STR(bs_json_get_str(body, "action", ""), "create");
    CHECK_STR(bs_json_get_str(body, "webhook", ""), hook_id);
    CHECK_STR(bs_json_get_str(body, "collection", ""), "posts");
    CHECK(strlen(bs_json_get_str(body, "id", "")) == 15);
    json_object *rec = bs_json_get(body, "record");
    CHECK_STR(bs_json_get_str(rec, "title", ""), "hello");
    /* The superuser's view: hidden fields included. */
    CHECK_STR(bs_json_get_str(rec, "secretNote", ""), "hush");
    CHECK_STR(bs_json_get_str(rec, "id", "-"), bs_record_id(r));
    json_object_put(body);

    bs_record *skipped = new_post("skip");
    CHECK(bs_record_save(app, skipped, &err) == 0);
    CHECK(outbox_rows("create") == 1);

    /* Update: the filter is tested against the new values. */
    bs_record_set(skipped, "title", json_object_new_string("now seen"));
    CHECK(bs_record_save(app, skipped, &err) == 0);
    CHECK(outbox_rows("update") == 1);

    /* Delete: tested while the row is still there. */
    CHECK(bs_record_delete(app, r, &err) == 0);
    CHECK(outbox_rows("delete") == 1);
    body = last_body();
    CHECK_STR(bs_json_get_str(bs_json_get(body, "record"), "title", ""),
              "hello");
    json_object_put(body);

    /* A rolled-back transaction leaves no delivery. */
    long before = outbox_rows(NULL);
    CHECK(bs_run_in_transaction(app, save_then_fail, &err, &err) != 0);
    CHECK(outbox_rows(NULL) == before);

    /* The delivery log: pending rows; only a failed one can be retried. */
    json_object *page = NULL;
    CHECK(bs_webhooks_deliveries(app, hook_id, "pending", 1, 30, &page) == 0);
    CHECK(bs_json_get_int(page, "totalItems", -1) == before);
    json_object *first = json_object_array_get_idx(bs_json_get(page, "items"), 0);
    CHECK_STR(bs_json_get_str(first, "status", ""), "pending");
    bs_error rerr;
    bs_error_init(&rerr);
    CHECK(bs_webhooks_retry(app, hook_id, bs_json_get_str(first, "id", ""),
                            &rerr) == BS_EHTTP);
    CHECK(rerr.status == 400);
    bs_error_dispose(&rerr);
    json_object_put(page);
    CHECK(bs_webhooks_deliveries(app, "missingid12345", NULL, 1, 30, &page) ==
          BS_ENOTFOUND);

    /* Inactive: no more rows. */
    json_object *upd = NULL;
    char id[16];
    snprintf(id, sizeof id, "%s", hook_id);
    CHECK(save_webhook("{\"active\":false}", id, &upd, &err) == 0);
    CHECK(!bs_json_get_bool(upd, "active", true));
    json_object_put(upd);
    bs_record *quiet = new_post("quiet");
    CHECK(bs_record_save(app, quiet, &err) == 0);
    CHECK(outbox_rows(NULL) == before);

    /* Deleting the webhook deletes its deliveries. */
    CHECK(bs_webhooks_delete(app, id) == 0);
    CHECK(outbox_rows(NULL) == 0);
    CHECK(bs_webhooks_delete(app, id) == BS_ENOTFOUND);

    bs_record_free(quiet);
    bs_record_free(skipped);
    bs_record_free(r);
    json_object_put(hook);
    bs_error_dispose(&err);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_webhooks_%d", (int)getpid());
    RUN(signature);
    RUN(backoff);
    app = testapp_open(dir, create_collection_tx);
    RUN(no_tables_until_the_first_webhook);
    RUN(validation);
    CHECK(!tables_exist()); /* invalid input creates nothing */
    RUN(outbox);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
