/*
 * test_fts.c - the full-text search module of src/db: the search-text
 * checker (what it accepts, what FTS5 query it writes, what it refuses)
 * and the index SQL (the triggers follow inserts, updates, deletes and
 * rollbacks; snippets for listed records; the drop leaves nothing
 * behind).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "db/fts.h"
#include "harness.h"

/* The checker's output for q, or "!" when refused. */
static const char *check(const char *q)
{
    static char out[2048];
    bs_buf b;
    bs_buf_init(&b);
    char msg[160];
    int rc = bs_fts_query_check(q, &b, msg, sizeof msg);
    if (rc == 0)
        snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    else
        snprintf(out, sizeof out, "!%s", msg[0] ? "" : "(no message)");
    bs_buf_dispose(&b);
    return out;
}

TEST(checker_quotes_words_and_keeps_operators)
{
    CHECK_STR(check("fox"), "\"fox\"");
    CHECK_STR(check("  fox*  "), "\"fox\"*");
    CHECK_STR(check("\"lazy dog\""), "\"lazy dog\"");
    CHECK_STR(check("\"lazy do\"*"), "\"lazy do\"*");
    CHECK_STR(check("lazy fox"), "\"lazy\" AND \"fox\"");
    CHECK_STR(check("a AND b OR c NOT d"), "\"a\" AND \"b\" OR \"c\" NOT \"d\"");
    CHECK_STR(check("(a OR b) c"), "(\"a\" OR \"b\") AND \"c\"");
    CHECK_STR(check("and or not"), "\"and\" AND \"or\" AND \"not\"");
    CHECK_STR(check("NEAR(a b)"), "\"NEAR\" AND (\"a\" AND \"b\")");
    CHECK_STR(check("don't e-mail"), "\"don't\" AND \"e-mail\"");
    CHECK_STR(check("\"title:x\""), "\"title:x\"");
    CHECK_STR(check("café"), "\"café\"");
}

TEST(checker_refuses_unsupported_and_malformed_text)
{
    const char *bad[] = {"",        "   ",     "title:fox", "^fox",
                         "a + b",   "{a b}",   "(fox",      "fox)",
                         "fox AND", "NOT fox", "OR",        "\"fox",
                         "fo*x",    "*",       "fox**",     "a OR OR b",
                         "()",      "fox*\"b\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *got = check(bad[i]);
        if (strcmp(got, "!") != 0)
            fprintf(stderr, "  accepted %s as %s\n", bad[i], got);
        CHECK_STR(got, "!");
    }
}

TEST(checker_limits)
{
    char q[BS_FTS_MAX_QUERY + 2];
    memset(q, 'a', sizeof q - 1);
    q[sizeof q - 1] = 0;
    CHECK_STR(check(q), "!");
    char many[BS_FTS_MAX_TERMS * 3 + 8] = "";
    for (int i = 0; i <= BS_FTS_MAX_TERMS; i++)
        strcat(many, "a ");
    CHECK_STR(check(many), "!");
    char deep[64] = "";
    for (int i = 0; i < 20; i++)
        strcat(deep, "(");
    CHECK_STR(check(deep), "!");
}

static sqlite3 *db;

static int exec(const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int64_t count(const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int64_t hits(const char *term)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM \"_fts_c1\" WHERE \"_fts_c1\" MATCH '%s'",
             term);
    return count(sql);
}

TEST(index_sql_follows_writes_and_rollbacks)
{
    REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
    REQUIRE(exec("CREATE TABLE \"my \"\"posts\" (id TEXT PRIMARY KEY, "
                 "title TEXT, \"bo dy\" TEXT, n INTEGER);"
                 "INSERT INTO \"my \"\"posts\" VALUES "
                 "('a', 'old fox', 'before', 1)") == SQLITE_OK);
    const char *cols[] = {"title", "bo dy"};
    bs_buf sql;
    bs_buf_init(&sql);
    bs_fts_create_sql(&sql, "c1", "my \"posts", cols, 2);
    REQUIRE(exec(sql.data) == SQLITE_OK);
    CHECK(hits("fox") == 1);                /* rows already there */
    CHECK(exec("INSERT INTO \"my \"\"posts\" VALUES "
               "('b', 'new', 'fox den', 2)") == SQLITE_OK);
    CHECK(hits("fox") == 2);
    CHECK(hits("den") == 1);
    CHECK(exec("UPDATE \"my \"\"posts\" SET \"bo dy\" = 'lair' "
               "WHERE id = 'b'") == SQLITE_OK);
    CHECK(hits("den") == 0);
    CHECK(hits("lair") == 1);
    CHECK(exec("UPDATE \"my \"\"posts\" SET n = 3 WHERE id = 'b'") ==
          SQLITE_OK);
    CHECK(hits("lair") == 1);
    CHECK(exec("BEGIN; DELETE FROM \"my \"\"posts\" WHERE id = 'a'; "
               "INSERT INTO \"my \"\"posts\" VALUES ('c', 'ghost', '', 0); "
               "ROLLBACK") == SQLITE_OK);
    CHECK(hits("ghost") == 0);
    CHECK(hits("old") == 1);
    CHECK(exec("DELETE FROM \"my \"\"posts\" WHERE id = 'a'") == SQLITE_OK);
    CHECK(hits("old") == 0);
    CHECK(exec("INSERT INTO \"_fts_c1\"(\"_fts_c1\") "
               "VALUES ('integrity-check')") == SQLITE_OK);

    /* Snippets of the second column for the listed ids only, read
     * through the table. */
    CHECK(exec("INSERT INTO \"my \"\"posts\" VALUES "
               "('d', 'x', 'a sly fox in the den', 4), "
               "('e', 'y', 'no match here', 5)") == SQLITE_OK);
    bs_buf_reset(&sql);
    bs_fts_snippet_sql(&sql, "c1", "my \"posts", 1, 4, 2);
    sqlite3_stmt *st = NULL;
    REQUIRE(sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, "\"fox\"", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "d", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, "e", -1, SQLITE_STATIC);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        CHECK_STR((const char *)sqlite3_column_text(st, 0), "d");
        CHECK(strstr((const char *)sqlite3_column_text(st, 1),
                     "\x02" "fox\x03") != NULL);
    }
    CHECK(rows == 1);
    sqlite3_finalize(st);

    bs_buf_reset(&sql);
    bs_fts_drop_sql(&sql, "c1");
    CHECK(exec(sql.data) == SQLITE_OK);
    CHECK(count("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE "
                "'_fts_c1%'") == 0);
    CHECK(exec(sql.data) == SQLITE_OK); /* dropping twice is fine */
    bs_buf_dispose(&sql);
    sqlite3_close(db);
}

int main(void)
{
    RUN(checker_quotes_words_and_keeps_operators);
    RUN(checker_refuses_unsupported_and_malformed_text);
    RUN(checker_limits);
    RUN(index_sql_follows_writes_and_rollbacks);
    return harness_summary(__FILE__);
}
