/*
 * test_collection_index.c - the CREATE INDEX parser and builder, and the
 * quote- and parenthesis-aware splitter under it, checked against what
 * PocketBase's dbutils.ParseIndex / Index.Build produce.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "basalt.h"
#include "schema/index.h"
#include "harness.h"

static char *build(const char *sql)
{
    bs_index idx;
    bs_index_parse(sql, &idx);
    bs_buf b;
    bs_buf_init(&b);
    bs_index_build(&idx, &b);
    bs_index_dispose(&idx);
    char *out = strdup(b.data ? b.data : "");
    bs_buf_dispose(&b);
    return out;
}

static int count(char **parts)
{
    int n = 0;
    while (parts && parts[n])
        n++;
    return n;
}

TEST(split_respects_quotes_and_parentheses)
{
    char **p = NULL;
    REQUIRE(bs_sql_split("a, f(b, c), 'x,y', \"p,q\", `r,s`", ",", false,
                         &p) == 0);
    REQUIRE(count(p) == 5);
    CHECK_STR(p[0], "a");
    CHECK_STR(p[1], "f(b, c)");
    CHECK_STR(p[2], "'x,y'");
    CHECK_STR(p[3], "\"p,q\"");
    CHECK_STR(p[4], "`r,s`");
    bs_sql_split_free(p);

    /* Empty pieces vanish; kept separators stay on their piece. */
    REQUIRE(bs_sql_split("a,,b, ", ",", true, &p) == 0);
    REQUIRE(count(p) == 3);
    CHECK_STR(p[0], "a,");
    CHECK_STR(p[1], ",");
    CHECK_STR(p[2], "b,");
    bs_sql_split_free(p);

    /* A backslash keeps the next quote from closing. */
    REQUIRE(bs_sql_split("'a\\',b',c", ",", false, &p) == 0);
    REQUIRE(count(p) == 2);
    CHECK_STR(p[0], "'a\\',b'");
    bs_sql_split_free(p);

    CHECK(bs_sql_split("f(a, b", ",", false, &p) == BS_EINVAL);
    CHECK(bs_sql_split("'open", ",", false, &p) == BS_EINVAL);
}

TEST(parse_parts)
{
    bs_index idx;
    REQUIRE(bs_index_parse("CREATE UNIQUE INDEX IF NOT EXISTS "
                           "`main`.`idx_a` ON \"t1\" (`a` COLLATE NOCASE DESC, "
                           "lower(b), c asc) WHERE a != ''",
                           &idx) == 0);
    CHECK(idx.unique);
    CHECK(idx.optional);
    CHECK_STR(idx.schema_name, "main");
    CHECK_STR(idx.index_name, "idx_a");
    CHECK_STR(idx.table_name, "t1");
    REQUIRE(idx.ncolumns == 3);
    CHECK_STR(idx.columns[0].name, "a");
    CHECK_STR(idx.columns[0].collate, "NOCASE");
    CHECK_STR(idx.columns[0].sort, "DESC");
    CHECK_STR(idx.columns[1].name, "lower(b)");
    CHECK_STR(idx.columns[2].name, "c");
    CHECK_STR(idx.columns[2].sort, "ASC");
    CHECK_STR(idx.where, "a != ''");
    CHECK(bs_index_valid(&idx));
    bs_index_dispose(&idx);

    REQUIRE(bs_index_parse("create index idx_test on new(test)", &idx) == 0);
    CHECK_STR(idx.table_name, "new");
    CHECK(idx.ncolumns == 1);
    bs_index_dispose(&idx);
}

TEST(invalid_texts)
{
    static const char *const bad[] = {
        "",
        "not an index",
        "create unique idx_test1 on demo1 (text)", /* INDEX missing */
        "create index on t (a)",                   /* no name */
        "create index i on t ()",                  /* no column */
        "create index i on t (a",                  /* no ')' */
        NULL};
    for (const char *const *s = bad; *s; s++) {
        bs_index idx;
        REQUIRE(bs_index_parse(*s, &idx) == 0);
        CHECK(!bs_index_valid(&idx));
        bs_index_dispose(&idx);
    }
}

TEST(build_like_pocketbase)
{
    char *s = build("create index idx_test1 on new (test)");
    CHECK_STR(s, "CREATE INDEX `idx_test1` ON `new` (`test`)");
    free(s);
    s = build("CREATE UNIQUE INDEX `idx_x` ON `t` (a, b desc) WHERE `a` != ''");
    CHECK_STR(s, "CREATE UNIQUE INDEX `idx_x` ON `t` (\n  `a`,\n  `b` DESC\n)"
                 " WHERE `a` != ''");
    free(s);
    s = build("create index i on t (strftime('%Y', created))");
    CHECK_STR(s, "CREATE INDEX `i` ON `t` (strftime('%Y', created))");
    free(s);
    /* The greedy column group swallows a parenthesized WHERE, as in
     * PocketBase; the index is then invalid. */
    s = build("create index i on t (a) where (a > 1)");
    CHECK_STR(s, "");
    free(s);
}

TEST(single_unique)
{
    CHECK(bs_index_is_single_unique(
        "CREATE UNIQUE INDEX `idx_email_x` ON `users` (`email`) WHERE "
        "`email` != ''",
        "EMAIL"));
    CHECK(!bs_index_is_single_unique("CREATE INDEX i ON t (email)", "email"));
    CHECK(!bs_index_is_single_unique("CREATE UNIQUE INDEX i ON t (email, x)",
                                     "email"));
    CHECK(bs_index_is_single_unique(
        "CREATE UNIQUE INDEX `_x_username_idx` ON `users` (username COLLATE "
        "NOCASE)",
        "username"));
}

/* The one single-column UNIQUE test: an index merely named "unique"
 * is not one (the auth lookups once took it for one). */
TEST(indexes_single_unique)
{
    json_object *ix = json_object_new_array();
    json_object_array_add(ix, json_object_new_string(
        "CREATE INDEX `idx_unique_email` ON `users` (`email`)"));
    json_object_array_add(ix, json_object_new_string(
        "CREATE UNIQUE INDEX `idx_pair` ON `users` (`name`, `email`)"));
    json_object_array_add(ix, json_object_new_int(7));
    bool nocase = true;
    CHECK(!bs_indexes_single_unique(ix, "email", &nocase));
    CHECK(!nocase);
    CHECK(!bs_indexes_single_unique(ix, "name", NULL));
    json_object_array_add(ix, json_object_new_string(
        "create unique index idx_email on users (Email COLLATE NOCASE)"));
    CHECK(bs_indexes_single_unique(ix, "email", &nocase));
    CHECK(nocase);
    json_object_array_add(ix, json_object_new_string(
        "CREATE UNIQUE INDEX idx_u ON users (`username`)"));
    CHECK(bs_indexes_single_unique(ix, "username", &nocase));
    CHECK(!nocase);
    CHECK(!bs_indexes_single_unique(NULL, "email", NULL));
    json_object_put(ix);
}

int main(void)
{
    RUN(indexes_single_unique);
    RUN(split_respects_quotes_and_parentheses);
    RUN(parse_parts);
    RUN(invalid_texts);
    RUN(build_like_pocketbase);
    RUN(single_unique);
    return harness_summary(__FILE__);
}
