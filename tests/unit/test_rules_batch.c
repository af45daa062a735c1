/*
 * test_rules_batch.c - one rule decided for many requesters at once
 * (bs_rules_check_many, the realtime broker's SQL path) gives, for every
 * requester, the decision of the one-requester check the records API
 * uses (bs_rules_find_record); rules simple enough to be decided in
 * memory (filter/eval.h) give it too, and so does each requester's rule
 * compiled once and reused for every record (bs_rules_compile_for, the
 * broker's cache); an owner-shaped rule (bs_filter_eval_owner) allows
 * only the owner. A real app on a temp dir, with
 * users, and notes owned by them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "basalt.h"
#include "core/app.h"
#include "core/auth.h"
#include "core/collection.h"
#include "core/rules.h"
#include "core/tx.h"
#include "db/rows.h"
#include "filter/eval.h"
#include "harness.h"
#include "testapp.h"

static bs_app *app;
static char dir[64];

static const char *const setup_sql[] = {
    "INSERT INTO users (id, email, name, verified, tokenKey, password) VALUES"
    " ('ann000000000001', 'ann@x.io', 'Ann', 1, 'k1', 'x'),"
    " ('bob000000000002', 'bob@x.io', 'Bob', 0, 'k2', 'x'),"
    " ('cid000000000003', 'cid@x.io', '', 0, 'k3', 'x')",
    "INSERT INTO notes (id, title, owner, level) VALUES"
    " ('n1', 'for Ann', 'ann000000000001', 5),"
    " ('n2', 'Bob notes', 'bob000000000002', 1),"
    " ('n3', '', '', 9),"
    " ('n4', 'all', 'cid000000000003', 4)",
};

static int setup_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    json_object *col = json_tokener_parse(
        "{\"name\":\"notes\",\"type\":\"base\",\"listRule\":\"\","
        "\"fields\":[{\"name\":\"title\",\"type\":\"text\"},"
        "{\"name\":\"owner\",\"type\":\"relation\","
        "\"collectionId\":\"_pb_users_auth_\",\"maxSelect\":1},"
        "{\"name\":\"level\",\"type\":\"number\"}]}");
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    char msg[256];
    for (size_t i = 0; rc == 0 && i < sizeof setup_sql / sizeof *setup_sql;
         i++) {
        rc = bs_conn_exec1(bs_tx_conn(tx), setup_sql[i], msg, sizeof msg);
        if (rc)
            fprintf(stderr, "setup: %s\n", msg);
    }
    return rc;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_rules_batch_%d", (int)getpid());
    app = testapp_open(dir, setup_tx);
}

/* An auth of the users collection, loaded from its row. */
static bs_auth *auth_of(bs_schema *s, const char *id)
{
    bs_auth *a = calloc(1, sizeof *a);
    a->schema = s;
    bs_schema_ref(s);
    a->collection = bs_schema_find(s, "users");
    bs_conn *conn = bs_store_reader_acquire(app->store);
    if (bs_record_row_load(conn, a->collection, id, &a->record) != 0) {
        fprintf(stderr, "no user %s\n", id);
        exit(1);
    }
    bs_store_reader_release(app->store, conn);
    a->id = bs_json_get_str(a->record, "id", NULL);
    return a;
}

TEST(batch_matches_one_by_one)
{
    static const char *const rules[] = {
        "",
        "@request.auth.name = 'Ann'",
        "@request.auth.verified = true",
        "owner.name = 'Ann' && @request.auth.id != ''",
        "level > 3 && owner = @request.auth.id",
        "@request.query.key = 'k' || @request.auth.name = 'Bob'",
        "title ~ @request.auth.name",
        "@collection.users.id ?= @request.auth.id && "
        "@collection.users.name ?= 'Ann'",
        "@request.auth.email = 'bob@x.io' || level = 9",
        "owner = @request.auth.id",
        "@request.auth.id != ''",
        "@request.auth.collectionName = 'users' && title != ''",
        "owner.verified = true && owner = @request.auth.id",
        "@request.context = 'realtime' && @request.method = 'GET'",
        "@request.headers.x_token = 'abc' || owner = @request.auth.id",
    };
    static const char *const notes[] = {"n1", "n2", "n3", "n4"};
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = bs_schema_find(s, "notes");
    REQUIRE(c != NULL);
    bs_auth *auths[4] = {NULL, auth_of(s, "ann000000000001"),
                         auth_of(s, "bob000000000002"),
                         auth_of(s, "cid000000000003")};
    json_object *with_key = json_tokener_parse("{\"key\":\"k\"}");
    json_object *headers = json_tokener_parse("{\"X-Token\":\"abc\"}");
    json_object *reqs[8];
    for (int i = 0; i < 8; i++)
        reqs[i] = bs_rules_request_info_of(auths[i % 4], i < 4 ? NULL : with_key,
                                           i < 4 ? NULL : headers, "GET",
                                           "realtime");
    int yes = 0, total = 0, in_memory = 0, owners = 0;
    for (size_t r = 0; r < sizeof rules / sizeof *rules; r++) {
        bs_filter_eval *ev = NULL;
        REQUIRE(bs_filter_eval_new(c, rules[r], &ev) == 0);
        const char *owner = bs_filter_eval_owner(ev);
        bs_rules_compiled *compiled[8];
        for (int i = 0; i < 8; i++) {
            REQUIRE(bs_rules_compile_for(app, s, c, rules[r], reqs[i],
                                         &compiled[i]) == 0);
            CHECK(bs_rules_compiled_in(compiled[i], s));
        }
        for (size_t k = 0; k < sizeof notes / sizeof *notes; k++) {
            bool got[8], reused[8];
            REQUIRE(bs_rules_check_many(app, s, c, notes[k], rules[r], reqs, 8,
                                        got) == 0);
            REQUIRE(bs_rules_check_compiled(app, c, notes[k], compiled, 8,
                                            reused) == 0);
            bs_conn *conn = bs_store_reader_acquire(app->store);
            json_object *row = NULL;
            REQUIRE(bs_record_row_load(conn, c, notes[k], &row) == 0);
            bs_store_reader_release(app->store, conn);
            for (int i = 0; i < 8; i++) {
                bs_rule_ctx ctx = {.app = app, .schema = s, .collection = c,
                                   .alias = c->name, .request = reqs[i]};
                bs_error err;
                bs_error_init(&err);
                bool one = bs_rules_find_record(&ctx, notes[k], rules[r], NULL,
                                                &err) == 0;
                bs_error_dispose(&err);
                if (got[i] != one)
                    fprintf(stderr, "  %s, %s, requester %d: batch %d, one %d\n",
                            rules[r], notes[k], i, got[i], one);
                CHECK(got[i] == one);
                CHECK(reused[i] == one);
                const char *of = owner ? bs_json_get_str(row, owner, "") : "";
                if (one && *of) {
                    bs_auth *a = auths[i % 4];
                    CHECK(a && strcmp(a->id, of) == 0);
                }
                yes += one;
                total++;
                if (ev) {
                    in_memory++;
                    bs_auth *a = auths[i % 4];
                    bs_filter_auth fa = {a ? a->id : NULL, "_pb_users_auth_",
                                         "users"};
                    int mem = bs_filter_eval_run(ev, row, a ? &fa : NULL);
                    if (mem != (int)one)
                        fprintf(stderr, "  %s, %s, requester %d: memory %d, "
                                "SQL %d\n", rules[r], notes[k], i, mem, one);
                    CHECK(mem == (int)one);
                }
            }
            json_object_put(row);
        }
        for (int i = 0; i < 8; i++)
            bs_rules_compiled_unref(compiled[i]);
        owners += owner != NULL;
        bs_filter_eval_free(ev);
    }
    /* Both answers occur, and both paths were taken. */
    CHECK(yes > total / 5 && yes < total * 4 / 5);
    CHECK(in_memory > 0 && in_memory < total);
    CHECK(owners == 1); /* only "owner = @request.auth.id" is in memory */
    /* A NULL rule allows nobody; a rule that does not compile neither. */
    bool got[8];
    REQUIRE(bs_rules_check_many(app, s, c, "n1", NULL, reqs, 8, got) == 0);
    for (int i = 0; i < 8; i++)
        CHECK(!got[i]);
    REQUIRE(bs_rules_check_many(app, s, c, "n1", "nope = 1", reqs, 8, got) == 0);
    for (int i = 0; i < 8; i++)
        CHECK(!got[i]);
    for (int i = 0; i < 8; i++)
        json_object_put(reqs[i]);
    json_object_put(with_key);
    json_object_put(headers);
    for (int i = 1; i < 4; i++)
        bs_auth_free(auths[i]);
    bs_schema_unref(s);
}

int main(void)
{
    setup();
    RUN(batch_matches_one_by_one);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
