/*
 * test_sql_console.c - the SQL console's engine part: which text is a
 * write, reads returning the last statement's rows as text (row cap,
 * Go's float spelling), writes in one transaction (rolled back as a
 * whole), the deadline, and the refusals (ATTACH, VACUUM INTO,
 * transaction control, settings pragmas, DDL on protected tables).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "db/sql_console.h"
#include "harness.h"
#include "testapp.h"
#include "tmpdir.h"

static bs_app *app;
static char dir[256];

static bool protect_posts(void *user, const char *table)
{
    (void)user;
    return strcmp(table, "posts") == 0;
}

/* Runs q; returns rc, with the result's JSON text or the error in out. */
static int run(const char *q, int max_rows, int timeout_ms, char *out,
               size_t cap)
{
    bs_sql_console_opts o = {.max_rows = max_rows, .timeout_ms = timeout_ms,
                             .protect = protect_posts};
    json_object *res = NULL;
    bool wrote = false;
    int rc = bs_sql_console_run(app->store, q, &o, &res, &wrote, out, cap);
    if (rc == 0) {
        snprintf(out, cap, "%s",
                 json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
        json_object_put(res);
    }
    return rc;
}

TEST(classification)
{
    CHECK(bs_sql_console_is_write("insert into t values(1)"));
    CHECK(bs_sql_console_is_write("  \n CREATE table t(a)"));
    CHECK(bs_sql_console_is_write("Replace into t values(1)"));
    CHECK(bs_sql_console_is_write("detach x"));
    CHECK(!bs_sql_console_is_write("select 1; delete from t"));
    CHECK(!bs_sql_console_is_write("with x as (select 1) delete from t"));
    CHECK(!bs_sql_console_is_write("pragma table_info(t)"));
    CHECK(!bs_sql_console_is_write("vacuum"));
}

TEST(reads)
{
    char out[4096];
    REQUIRE(run("select 1;select 2 as two", 1000, 0, out, sizeof out) == 0);
    CHECK_STR(out, "{\"affectedRows\":0,\"columns\":[{\"name\":\"two\","
                   "\"type\":\"\",\"nullable\":true}],\"rows\":[[\"2\"]]}");
    REQUIRE(run("select 1.5, 1e21, 0.00001, null, x'41'", 1000, 0, out,
                sizeof out) == 0);
    CHECK(strstr(out, "[[\"1.5\",\"1e+21\",\"1e-05\",null,\"A\"]]") != NULL);
    REQUIRE(run("with recursive c(x) as (select 1 union all select x + 1 "
                "from c where x < 10) select x from c",
                3, 0, out, sizeof out) == 0);
    CHECK(strstr(out, "\"rows\":[[\"1\"],[\"2\"],[\"3\"]]}") != NULL);
    REQUIRE(run("-- only a comment", 1000, 0, out, sizeof out) == 0);
    CHECK(strstr(out, "\"columns\":[],\"rows\":[]") != NULL);
    CHECK(run("   ", 1000, 0, out, sizeof out) == BS_EDB);
    CHECK_STR(out, "empty query");
    CHECK(run("invalid", 1000, 0, out, sizeof out) == BS_EDB);
    CHECK(strncmp(out, "SQL logic error: ", 17) == 0);
    /* A read-only connection: a write not recognised as one fails. */
    CHECK(run("with x as (select 1) insert into posts values ('z')", 1000, 0,
              out, sizeof out) == BS_EDB);
}

TEST(writes)
{
    char out[4096];
    REQUIRE(run("create table t(id int primary key);insert into t(id) "
                "values(1),(2)",
                1000, 0, out, sizeof out) == 0);
    CHECK(strstr(out, "\"affectedRows\":2") != NULL);
    REQUIRE(run("create table u(a)", 1000, 0, out, sizeof out) == 0);
    CHECK(strstr(out, "\"affectedRows\":0") != NULL);
    /* One failing statement rolls every one back. */
    CHECK(run("create table v(a);insert into t values(3);invalid", 1000, 0,
              out, sizeof out) == BS_EDB);
    REQUIRE(run("select count(*) from t", 1000, 0, out, sizeof out) == 0);
    CHECK(strstr(out, "[[\"2\"]]") != NULL);
    CHECK(run("select * from v", 1000, 0, out, sizeof out) == BS_EDB);
}

TEST(refusals)
{
    char out[4096];
    CHECK(run("drop table posts", 1000, 0, out, sizeof out) == BS_EDB);
    CHECK(strstr(out, "not authorized") != NULL);
    CHECK(run("alter table posts add column x text", 1000, 0, out,
              sizeof out) == BS_EDB);
    CHECK(run("create table w(a); drop table posts", 1000, 0, out,
              sizeof out) == BS_EDB);
    CHECK(run("select * from w", 1000, 0, out, sizeof out) == BS_EDB);
    CHECK(run("drop table u", 1000, 0, out, sizeof out) == 0); /* not a
                                                                  collection */
    char q[512];
    snprintf(q, sizeof q, "attach '%s/evil.db' as e", dir);
    CHECK(run(q, 1000, 0, out, sizeof out) == BS_EDB);
    snprintf(q, sizeof q, "vacuum into '%s/copy.db'", dir);
    CHECK(run(q, 1000, 0, out, sizeof out) == BS_EDB);
    snprintf(q, sizeof q, "%s/copy.db", dir);
    CHECK(access(q, F_OK) != 0);
    snprintf(q, sizeof q, "%s/evil.db", dir);
    CHECK(access(q, F_OK) != 0);
    CHECK(run("insert into t values(9); commit", 1000, 0, out, sizeof out) ==
          BS_EDB);
    CHECK(run("begin", 1000, 0, out, sizeof out) == BS_EDB);
    CHECK(run("pragma foreign_keys = off", 1000, 0, out, sizeof out) ==
          BS_EDB);
    CHECK(run("pragma foreign_keys", 1000, 0, out, sizeof out) == 0);
    CHECK(strstr(out, "[[\"1\"]]") != NULL);
    CHECK(run("pragma table_info(posts)", 1000, 0, out, sizeof out) == 0);
}

TEST(deadline)
{
    char out[4096];
    CHECK(run("with recursive c(x) as (select 1 union all select x + 1 from "
              "c) select count(*) from c",
              1000, 100, out, sizeof out) == BS_EDB);
    CHECK(strstr(out, "interrupted") != NULL);
    /* The connections work afterwards, the writer too. */
    CHECK(run("select 1", 1000, 0, out, sizeof out) == 0);
    CHECK(run("with recursive c(x) as (select 1 union all select x + 1 from "
              "c) select count(*) from c",
              1000, 100, out, sizeof out) == BS_EDB);
    CHECK(run("insert into t values(10)", 1000, 0, out, sizeof out) == 0);
}

static int create_posts(bs_tx *tx, void *data)
{
    return bs_db_exec(bs_tx_app(tx), "CREATE TABLE posts (id TEXT)", NULL,
                      NULL, data);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    app = testapp_open(dir, create_posts);
    RUN(classification);
    RUN(reads);
    RUN(writes);
    RUN(refusals);
    RUN(deadline);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
