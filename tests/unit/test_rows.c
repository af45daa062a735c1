/*
 * test_rows.c - the row reader of src/db/rows.c: opening, binding,
 * stepping, typed reads by index and by name, rows as JSON, constraint
 * failures with their column, the statement caches, one-statement exec.
 */
#include "base/json.h"
#include "db/query.h"
#include "db/rows.h"
#include "db/sql.h"
#include "db/store.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];
static bs_store *store;

/* Runs a write transaction with sql (several statements allowed). */
static int setup_sql(const char *sql)
{
    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    int rc = bs_store_tx_begin(store, &c, &e);
    if (rc == 0)
        rc = bs_store_tx_end(store, bs_conn_exec(c, sql, &e) == 0, &e);
    bs_error_dispose(&e);
    return rc;
}

TEST(typed_reads_by_index_and_name)
{
    bs_conn *c = bs_store_reader_acquire(store);
    bs_rows r;
    REQUIRE(bs_rows_open(&r, c,
                         "SELECT 7 AS i, 2.5 AS d, 'a''b' AS s, NULL AS n, "
                         "?1 AS p",
                         -1, BS_ROWS_ONCE) == 0);
    CHECK(bs_rows_params(&r) == 1);
    bs_rows_bind_text(&r, 1, "xyz", 2);
    REQUIRE(bs_rows_next(&r) == 1);
    CHECK(bs_rows_columns(&r) == 5);
    CHECK_STR(bs_rows_name(&r, 2), "s");
    CHECK(bs_rows_index(&r, "n") == 3);
    CHECK(bs_rows_index(&r, "missing") == -1);
    CHECK(bs_rows_type(&r, 0) == BS_COL_INT);
    CHECK(bs_rows_type(&r, 1) == BS_COL_REAL);
    CHECK(bs_rows_type(&r, 2) == BS_COL_TEXT);
    CHECK(bs_rows_type(&r, 3) == BS_COL_NULL);
    CHECK(bs_rows_is_null(&r, 3));
    CHECK(bs_rows_int(&r, 0) == 7);
    CHECK(bs_rows_real(&r, 1) == 2.5);
    size_t n = 0;
    CHECK_STR(bs_rows_text(&r, 2, &n), "a'b");
    CHECK(n == 3);
    CHECK(bs_rows_text(&r, 3, &n) == NULL);
    CHECK(n == 0);
    CHECK_STR(bs_rows_text_named(&r, "p", &n), "xy");
    CHECK(bs_rows_text_named(&r, "missing", NULL) == NULL);
    CHECK(bs_rows_int_named(&r, "i") == 7);
    CHECK(bs_rows_next(&r) == 0);
    bs_rows_close(&r);
    bs_rows_close(&r);
    bs_store_reader_release(store, c);
}

TEST(row_as_json)
{
    bs_conn *c = bs_store_reader_acquire(store);
    bs_rows r;
    REQUIRE(bs_rows_open(&r, c,
                         "SELECT 1 AS i, 2.5 AS d, 'txt' AS s, NULL AS n, "
                         "x'610062' AS b, 9007199254740993 AS big",
                         -1, BS_ROWS_ONCE) == 0);
    REQUIRE(bs_rows_next(&r) == 1);
    json_object *o = bs_rows_json(&r);
    REQUIRE(o != NULL);
    bs_buf b;
    bs_buf_init(&b);
    bs_json_write(&b, o);
    CHECK_STR(b.data, "{\"i\":1,\"d\":2.5,\"s\":\"txt\",\"n\":null,"
                      "\"b\":\"a\\u0000b\",\"big\":9007199254740993}");
    bs_buf_dispose(&b);
    json_object_put(o);
    bs_rows_close(&r);
    bs_store_reader_release(store, c);
}

TEST(unique_failure_names_the_column)
{
    REQUIRE(setup_sql("CREATE TABLE people (id TEXT PRIMARY KEY, "
                      "email TEXT NOT NULL, nick TEXT);"
                      "CREATE UNIQUE INDEX people_email ON people (email);"
                      "INSERT INTO people VALUES ('a', 'a@x', NULL);") == 0);
    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(store, &c, &e) == 0);
    bs_rows r;
    bs_constraint k;
    REQUIRE(bs_rows_open(&r, c, "INSERT INTO people VALUES (?1, ?2, NULL)",
                         -1, BS_ROWS_FIXED) == 0);
    bs_rows_bind_text(&r, 1, "b", -1);
    bs_rows_bind_text(&r, 2, "a@x", -1);
    CHECK(bs_rows_exec(&r) == BS_ECONSTRAINT);
    REQUIRE(bs_rows_constraint(&r, &k) == 0);
    CHECK(k.kind == BS_CONSTRAINT_UNIQUE);
    CHECK_STR(k.table, "people");
    CHECK_STR(k.column, "email");
    CHECK(strstr(bs_rows_errmsg(&r), "UNIQUE") != NULL);

    /* The same cached statement again, now with a NULL email. */
    bs_rows_reset(&r);
    bs_rows_bind_text(&r, 1, "c", -1);
    bs_rows_bind_text(&r, 2, NULL, 0);
    CHECK(bs_rows_exec(&r) == BS_ECONSTRAINT);
    REQUIRE(bs_rows_constraint(&r, &k) == 0);
    CHECK(k.kind == BS_CONSTRAINT_NOTNULL);
    CHECK_STR(k.column, "email");

    bs_rows_reset(&r);
    bs_rows_bind_text(&r, 1, "d", -1);
    bs_rows_bind_text(&r, 2, "d@x", -1);
    CHECK(bs_rows_exec(&r) == 1);
    CHECK(bs_rows_constraint(&r, &k) == BS_ENOTFOUND);
    bs_rows_close(&r);

    REQUIRE(bs_rows_open(&r, c, "UPDATE people SET nick = 'n'", -1,
                         BS_ROWS_ONCE) == 0);
    CHECK(bs_rows_exec(&r) == 2);
    bs_rows_close(&r);
    CHECK(bs_store_tx_end(store, true, &e) == 0);
    bs_error_dispose(&e);
}

TEST(query_through_the_cache)
{
    bs_conn *c = bs_store_reader_acquire(store);
    for (int round = 0; round < 2; round++) {
        bs_query q;
        bs_query_init(&q);
        bs_query_sql(&q, "SELECT id FROM people WHERE email = ");
        bs_query_param_text(&q, "d@x", 3);
        bs_rows r;
        REQUIRE(bs_rows_open_query(&r, c, &q, BS_ROWS_CACHED) == 0);
        REQUIRE(bs_rows_next(&r) == 1);
        CHECK_STR(bs_rows_text(&r, 0, NULL), "d");
        bs_rows_close(&r);
        bs_query_dispose(&q);
    }
    bs_rows r;
    CHECK(bs_sql_select_by_id(c, "people", "a", &r) == 1);
    CHECK_STR(bs_rows_text_named(&r, "email", NULL), "a@x");
    bs_rows_close(&r);
    CHECK(bs_sql_select_by_id(c, "people", "zz", &r) == 0);
    bs_rows_close(&r);
    CHECK(bs_sql_select_by_id(c, "nosuchtable", "a", &r) == BS_EDB);
    bs_rows_close(&r);
    CHECK(bs_rows_open(&r, c, "SELEC 1", -1, BS_ROWS_ONCE) == BS_EDB);
    CHECK(strstr(bs_conn_errmsg(c), "syntax") != NULL);
    bs_rows_close(&r);
    bs_store_reader_release(store, c);
}

TEST(exec1_runs_one_statement)
{
    bs_error e;
    bs_error_init(&e);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(store, &c, &e) == 0);
    char msg[128];
    CHECK(bs_conn_exec1(c, "CREATE TABLE one (v)", msg, sizeof msg) == 0);
    CHECK(bs_conn_exec1(c, "INSERT INTO one VALUES (1); INSERT INTO one "
                           "VALUES (2)",
                        msg, sizeof msg) == BS_EDB);
    CHECK_STR(msg, "multiple statements are not supported");
    CHECK(bs_conn_exec1(c, "INSERT INTO nope VALUES (1)", msg,
                        sizeof msg) == BS_EDB);
    CHECK(strstr(msg, "no such table") != NULL);
    CHECK(bs_store_tx_end(store, true, &e) == 0);
    bs_error_dispose(&e);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    bs_error e;
    bs_error_init(&e);
    if (bs_store_open(&store, dir, 2, &e) != 0)
        return 1;
    RUN(typed_reads_by_index_and_name);
    RUN(row_as_json);
    RUN(unique_failure_names_the_column);
    RUN(query_through_the_cache);
    RUN(exec1_runs_one_statement);
    bs_store_close(store);
    bs_error_dispose(&e);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
