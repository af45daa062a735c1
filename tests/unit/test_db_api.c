/*
 * test_db_api.c - SQL from an embedding program through the public
 * query API: placeholders bound (never spliced), typed reads, the one-row
 * and all-rows helpers, and statements inside and outside a transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"
#include "core/db_api.h"
#include "harness.h"

static bs_app *app;
static char dir[64];

static json_object *obj(const char *text)
{
    return json_tokener_parse(text);
}

static int64_t count_where(const char *sql, const char *params)
{
    json_object *p = params ? obj(params) : NULL;
    json_object *row = NULL;
    bs_error err;
    bs_error_init(&err);
    int64_t n = -1;
    if (bs_db_one(app, sql, p, &row, &err) == 0)
        n = json_object_get_int64(json_object_object_get(row, "n"));
    json_object_put(row);
    json_object_put(p);
    bs_error_dispose(&err);
    return n;
}

TEST(exec_and_typed_reads)
{
    bs_error err;
    bs_error_init(&err);
    int64_t changes = -1;
    REQUIRE(bs_db_exec(app, "CREATE TABLE items (name TEXT, qty INTEGER,"
                            " price REAL, ok BOOLEAN, note TEXT)",
                       NULL, &changes, &err) == 0);
    json_object *p = obj("{\"n\":\"apple\",\"q\":3,\"p\":1.25,\"ok\":true,"
                         "\"note\":null}");
    REQUIRE(bs_db_exec(app, "INSERT INTO items VALUES ({:n}, {:q}, {:p},"
                            " {:ok}, {:note})",
                       p, &changes, &err) == 0);
    CHECK(changes == 1);
    json_object_put(p);
    p = obj("{\"n\":\"pear\",\"q\":7}");
    /* A name used twice binds one value; quoted text is left alone. */
    REQUIRE(bs_db_exec(app, "INSERT INTO items VALUES ({:n}, {:q}, {:q},"
                            " 0, '{:n} -- not a placeholder')",
                       p, NULL, &err) == 0);
    json_object_put(p);

    bs_db_rows *rows = NULL;
    REQUIRE(bs_db_query(app, "SELECT * FROM items ORDER BY name", NULL,
                        &rows, &err) == 0);
    CHECK(bs_db_columns(rows) == 5);
    CHECK_STR(bs_db_column_name(rows, 1), "qty");
    REQUIRE(bs_db_next(rows) == 1);
    CHECK_STR(bs_db_text(rows, "name"), "apple");
    CHECK(bs_db_int(rows, "qty") == 3);
    CHECK(bs_db_float(rows, "price") == 1.25);
    CHECK(bs_db_bool(rows, "ok"));
    CHECK(bs_db_is_null(rows, "note"));
    CHECK_STR(bs_db_text(rows, "note"), "");
    CHECK(bs_db_is_null(rows, "missing"));
    REQUIRE(bs_db_next(rows) == 1);
    CHECK_STR(bs_db_text(rows, "note"), "{:n} -- not a placeholder");
    CHECK(bs_db_float(rows, "price") == 7);
    CHECK(!bs_db_bool(rows, "ok"));
    json_object *row = bs_db_row_json(rows);
    CHECK_STR(json_object_get_string(json_object_object_get(row, "name")),
              "pear");
    json_object_put(row);
    CHECK(bs_db_next(rows) == 0);
    bs_db_rows_free(rows);
    bs_error_dispose(&err);
}

TEST(one_all_and_refusals)
{
    bs_error err;
    bs_error_init(&err);
    CHECK(count_where("SELECT COUNT(*) AS n FROM items WHERE qty > {:q}",
                      "{\"q\":5}") == 1);
    /* Bound, never spliced. */
    CHECK(count_where("SELECT COUNT(*) AS n FROM items WHERE name = {:n}",
                      "{\"n\":\"x' OR 1=1 --\"}") == 0);
    json_object *all = NULL;
    REQUIRE(bs_db_all(app, "SELECT name FROM items ORDER BY qty DESC", NULL,
                      &all, &err) == 0);
    CHECK_STR(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN),
              "[{\"name\":\"pear\"},{\"name\":\"apple\"}]");
    json_object_put(all);
    json_object *row = NULL;
    json_object *p = obj("{\"n\":\"none\"}");
    CHECK(bs_db_one(app, "SELECT * FROM items WHERE name = {:n}", p, &row,
                    &err) == BS_ENOTFOUND);
    CHECK(row == NULL);
    json_object_put(p);
    CHECK(bs_db_one(app, "SELECT * FROM items WHERE name = {:n}", NULL,
                    &row, &err) == BS_EHTTP);
    CHECK(err.status == 400 && strstr(err.message, "{:n}"));
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(bs_db_one(app, "SELECT nope FROM items", NULL, &row, &err) < 0);
    CHECK(err.message && strstr(err.message, "nope"));
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(bs_db_exec(app, "CREATE UNIQUE INDEX u ON items (name)", NULL,
                     NULL, &err) == 0);
    p = obj("{\"n\":\"pear\"}");
    CHECK(bs_db_exec(app, "INSERT INTO items (name) VALUES ({:n})", p, NULL,
                     &err) == BS_ECONSTRAINT);
    json_object_put(p);
    bs_error_dispose(&err);
}

/* Inside a transaction: writes are seen by the same thread's reads, and
 * a rollback takes them all back. */
static int in_tx(bs_tx *tx, void *data)
{
    (void)tx;
    int *seen = data;
    bs_error err;
    bs_error_init(&err);
    json_object *p = obj("{\"n\":\"plum\"}");
    int rc = bs_db_exec(app, "INSERT INTO items (name) VALUES ({:n})", p,
                        NULL, &err);
    json_object_put(p);
    *seen = (int)count_where("SELECT COUNT(*) AS n FROM items", NULL);
    bs_error_dispose(&err);
    return rc ? rc : BS_EINVAL; /* roll back */
}

TEST(inside_a_transaction)
{
    int seen = 0;
    int64_t before = count_where("SELECT COUNT(*) AS n FROM items", NULL);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_run_in_transaction(app, in_tx, &seen, &err) == BS_EINVAL);
    CHECK(seen == before + 1);
    CHECK(count_where("SELECT COUNT(*) AS n FROM items", NULL) == before);
    bs_error_dispose(&err);
}

/* A placeholder followed by a digit stays its own parameter (found by
 * fuzz_dbparams: "{:a}0" was rewritten to "?10", parameter ten). */
TEST(placeholder_before_a_digit)
{
    json_object *params = json_object_new_object();
    json_object_object_add(params, "a", json_object_new_int(7));
    bs_buf out;
    bs_buf_init(&out);
    bs_error err;
    bs_error_init(&err);
    int n = 0;
    CHECK(bs_db_placeholders("SELECT {:a}0, '{:a}', {:a}", params, &out, &n,
                             &err) == 0);
    CHECK(n == 1);
    CHECK_STR(out.data, "SELECT ?1 0, '{:a}', ?1");
    bs_buf_dispose(&out);
    bs_error_dispose(&err);
    json_object_put(params);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_dbapi_%d", (int)getpid());
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    if (!app || bs_app_bootstrap(app, &err) != 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    bs_error_dispose(&err);
    RUN(exec_and_typed_reads);
    RUN(one_all_and_refusals);
    RUN(inside_a_transaction);
    RUN(placeholder_before_a_digit);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
