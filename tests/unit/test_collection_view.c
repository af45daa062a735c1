/*
 * test_collection_view.c - the loose SELECT parser of view collections
 * (PocketBase's identifiersParser): columns with their aliases, FROM
 * and JOIN tables, comments and the keywords that end the parsed part.
 */
#include <stdlib.h>
#include <string.h>

#include "core/view.h"
#include "harness.h"

static bs_view_parsed P;
static char msg[256];

static int parse(const char *q)
{
    bs_view_parsed_dispose(&P);
    msg[0] = '\0';
    return bs_view_parse(q, &P, msg, sizeof msg);
}

TEST(columns_and_aliases)
{
    REQUIRE(parse("SELECT a.id, a.title AS name, count(*) total, "
                  "CAST(a.n AS INTEGER) as n2, `quoted`, 'x' as [y] "
                  "FROM articles a") == 0);
    REQUIRE(P.ncolumns == 6);
    CHECK_STR(P.columns[0].original, "a.id");
    CHECK_STR(P.columns[0].alias, "id");
    CHECK_STR(P.columns[1].original, "a.title");
    CHECK_STR(P.columns[1].alias, "name");
    CHECK_STR(P.columns[2].original, "count(*)");
    CHECK_STR(P.columns[2].alias, "total");
    CHECK_STR(P.columns[3].alias, "n2");
    CHECK_STR(P.columns[4].alias, "quoted");
    CHECK_STR(P.columns[5].alias, "y");
    REQUIRE(P.ntables == 1);
    CHECK_STR(P.tables[0].original, "articles");
    CHECK_STR(P.tables[0].alias, "a");
}

TEST(joins_where_and_comments)
{
    REQUIRE(parse("select distinct p.id, u.email -- the owner\n"
                  "from posts as p\n"
                  "  LEFT   JOIN users u ON u.id = p.author\n"
                  "  inner join /* c */ tags t on t.id = p.tag\n"
                  "WHERE p.x = 1 GROUP BY p.id ORDER BY p.id LIMIT 5;") == 0);
    REQUIRE(P.ncolumns == 2);
    CHECK_STR(P.columns[1].original, "u.email");
    REQUIRE(P.ntables == 3);
    CHECK_STR(P.tables[0].original, "posts");
    CHECK_STR(P.tables[0].alias, "p");
    CHECK_STR(P.tables[1].original, "users");
    CHECK_STR(P.tables[1].alias, "u");
    CHECK_STR(P.tables[2].original, "tags");
    CHECK_STR(P.tables[2].alias, "t");
}

TEST(subqueries_stay_whole)
{
    REQUIRE(parse("select (select max(x) from t2 where t2.a = t.a) as m, "
                  "t.id from (select * from t) t") == 0);
    REQUIRE(P.ncolumns == 2);
    CHECK_STR(P.columns[0].alias, "m");
    REQUIRE(P.ntables == 1);
    CHECK_STR(P.tables[0].alias, "t");
}

TEST(unaliased_expressions_are_refused)
{
    CHECK(parse("select a + b from t") == BS_EINVAL);
    CHECK(strstr(msg, "invalid identifier") != NULL);
    CHECK(parse("select a b c from t") == BS_EINVAL);
    CHECK(strstr(msg, "expected \"as\"") != NULL);
    CHECK(parse("select (a from t") == BS_EINVAL);
}

TEST(statements)
{
    char m[128];
    char *q = bs_view_normalize_query("  select 1 as id;  ", m, sizeof m);
    REQUIRE(q);
    CHECK_STR(q, "select 1 as id");
    free(q);
    q = bs_view_normalize_query("select 1 as id; drop table x", m, sizeof m);
    CHECK(q == NULL);
    CHECK(strstr(m, "multiple statements") != NULL);
    q = bs_view_normalize_query("select ';' as id", m, sizeof m);
    REQUIRE(q);
    free(q);
}

int main(void)
{
    RUN(columns_and_aliases);
    RUN(joins_where_and_comments);
    RUN(subqueries_stay_whole);
    RUN(unaliased_expressions_are_refused);
    RUN(statements);
    bs_view_parsed_dispose(&P);
    return harness_summary(__FILE__);
}
