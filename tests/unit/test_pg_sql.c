/*
 * test_pg_sql.c - the PostgreSQL store's rewriting of statements
 * (src/db/pg_sql.c): placeholders, quoted names, rowid, COLLATE NOCASE,
 * INSERT OR IGNORE, and text that must pass through unchanged; and the
 * mapping of PostgreSQL's values onto the types SQLite reports.
 */
#include <math.h>
#include <string.h>

#include "db/pg_sql.h"
#include "harness.h"

/* The rewritten text of sql, in a static buffer; *n gets the count of
 * parameters. */
static const char *tr(const char *sql, int *n, bool *used, int cap)
{
    static char out[1024];
    bs_buf b;
    bs_buf_init(&b);
    int k = bs_pg_sql_translate(sql, strlen(sql), &b, used, cap);
    if (n)
        *n = k;
    snprintf(out, sizeof out, "%.*s", (int)b.len, b.data ? b.data : "");
    bs_buf_dispose(&b);
    return out;
}

TEST(placeholders_are_numbered)
{
    int n = 0;
    bool used[8] = {false};
    CHECK_STR(tr("SELECT * FROM t WHERE a = ?1 AND b = ?3", &n, used, 8),
              "SELECT * FROM t WHERE a = $1 AND b = $3");
    CHECK(n == 3);
    CHECK(used[0] && !used[1] && used[2]);
    /* A bare ? takes the number after the largest so far, as in SQLite. */
    CHECK_STR(tr("INSERT INTO t (a, b, c) VALUES (?, ?, ?)", &n, NULL, 0),
              "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)");
    CHECK(n == 3);
    CHECK_STR(tr("UPDATE t SET a = ?5, b = ? WHERE id = ?", &n, NULL, 0),
              "UPDATE t SET a = $5, b = $6 WHERE id = $7");
    CHECK(n == 7);
    /* $N (the filter dialect of PostgreSQL) stays, and counts. */
    CHECK_STR(tr("SELECT $2 || $1", &n, NULL, 0), "SELECT $2 || $1");
    CHECK(n == 2);
    CHECK_STR(tr("SELECT 1", &n, NULL, 0), "SELECT 1");
    CHECK(n == 0);
    tr("SELECT ?99999", &n, NULL, 0);
    CHECK(n == -1);
}

TEST(literals_and_comments_pass_through)
{
    int n = 0;
    CHECK_STR(tr("SELECT 'a?1 `b` == _rowid_', \"x?\" -- ?2 `c`\n, ?", &n,
                 NULL, 0),
              "SELECT 'a?1 `b` == _rowid_', \"x?\" -- ?2 `c`\n, $1");
    CHECK(n == 1);
    CHECK_STR(tr("SELECT 'it''s ?' /* ?3 */ FROM t", &n, NULL, 0),
              "SELECT 'it''s ?' /* ?3 */ FROM t");
    CHECK(n == 0);
    /* An unterminated literal is copied to the end. */
    CHECK_STR(tr("SELECT 'open ?1", &n, NULL, 0), "SELECT 'open ?1");
    CHECK_STR(tr("SELECT $$body ?1 `a`$$, ?", &n, NULL, 0),
              "SELECT $$body ?1 `a`$$, $1");
    CHECK(n == 1);
    CHECK_STR(tr("DO $x$ a $$ ? $x$ ?", &n, NULL, 0), "DO $x$ a $$ ? $x$ $1");
    CHECK_STR(tr("SELECT $x$ open ?", &n, NULL, 0), "SELECT $x$ open ?");
    CHECK_STR(tr("SELECT a$b, $", &n, NULL, 0), "SELECT a$b, $");
    /* A placeholder never joins what comes before it. */
    CHECK_STR(tr("SELECT $?1, a?2, (?3)", &n, NULL, 0),
              "SELECT $ $1, a $2, ($3)");
}

TEST(names_rowid_and_operators)
{
    CHECK_STR(tr("SELECT `a``b`, `q\"`, `t`.`listRule` FROM `x y`", NULL,
                 NULL, 0),
              "SELECT \"a`b\", \"q\"\"\", \"t\".\"listRule\" FROM \"x y\"");
    /* Bare names with both cases keep their case; functions do not
     * change. */
    CHECK_STR(tr("SELECT listRule, lower(Name) FROM _collections", NULL,
                 NULL, 0),
              "SELECT \"listRule\", lower(\"Name\") FROM _collections");
    CHECK_STR(tr("SELECT t._rowid_, rowid FROM t ORDER BY t.ROWID", NULL,
                 NULL, 0),
              "SELECT t.\"_rowid\", \"_rowid\" FROM t ORDER BY t.\"_rowid\"");
    CHECK_STR(tr("SELECT a == b, a != b, a >= b", NULL, NULL, 0),
              "SELECT a = b, a != b, a >= b");
    CHECK_STR(tr("WHERE email = ?1 COLLATE  nocase", NULL, NULL, 0),
              "WHERE email = $1 COLLATE \"bs_nocase\"");
    CHECK_STR(tr("ORDER BY a COLLATE BINARY", NULL, NULL, 0),
              "ORDER BY a COLLATE BINARY");
}

TEST(insert_or_ignore)
{
    CHECK_STR(tr("INSERT OR IGNORE INTO m (f, a) VALUES (?1, ?2);  ", NULL,
                 NULL, 0),
              "INSERT INTO m (f, a) VALUES ($1, $2) ON CONFLICT DO NOTHING");
    CHECK_STR(tr("insert or  ignore into m VALUES (1)", NULL, NULL, 0),
              "insert into m VALUES (1) ON CONFLICT DO NOTHING");
    CHECK_STR(tr("INSERT OR REPLACE INTO m VALUES (1)", NULL, NULL, 0),
              "INSERT OR REPLACE INTO m VALUES (1)");
}

TEST(values_read_as_sqlite_types)
{
    int64_t i = -1;
    double d = -1;
    CHECK(bs_pg_col_kind(BS_PG_TEXT, NULL, &i, &d) == BS_COL_NULL);
    CHECK(i == 0 && d == 0);
    CHECK(bs_pg_col_kind(BS_PG_BOOL, "t", &i, &d) == BS_COL_INT);
    CHECK(i == 1 && d == 1);
    CHECK(bs_pg_col_kind(BS_PG_BOOL, "f", &i, NULL) == BS_COL_INT);
    CHECK(i == 0);
    CHECK(bs_pg_col_kind(BS_PG_INT8, "-9000000000", &i, NULL) == BS_COL_INT);
    CHECK(i == -9000000000LL);
    CHECK(bs_pg_col_kind(BS_PG_INT4, "42", &i, NULL) == BS_COL_INT);
    /* A number column holds doubles; an integral one reads as an
     * integer, as SQLite's NUMERIC affinity stores it. */
    CHECK(bs_pg_col_kind(BS_PG_FLOAT8, "5", &i, &d) == BS_COL_INT);
    CHECK(i == 5 && d == 5);
    CHECK(bs_pg_col_kind(BS_PG_FLOAT8, "-0.5", &i, &d) == BS_COL_REAL);
    CHECK(d == -0.5 && i == 0);
    CHECK(bs_pg_col_kind(BS_PG_FLOAT8, "1e+20", &i, &d) == BS_COL_REAL);
    CHECK(d == 1e20);
    CHECK(bs_pg_col_kind(BS_PG_FLOAT8, "NaN", &i, &d) == BS_COL_REAL);
    CHECK(isnan(d) && i == 0);
    CHECK(bs_pg_col_kind(BS_PG_FLOAT8, "Infinity", &i, &d) == BS_COL_REAL);
    CHECK(isinf(d) && i == 0);
    CHECK(bs_pg_col_kind(BS_PG_NUMERIC, "2.25", NULL, &d) == BS_COL_REAL);
    CHECK(d == 2.25);
    CHECK(bs_pg_col_kind(BS_PG_TEXT, "12abc", &i, &d) == BS_COL_TEXT);
    CHECK(i == 12 && d == 12);
    CHECK(bs_pg_col_kind(BS_PG_BYTEA, "\\x00", NULL, NULL) == BS_COL_BLOB);
    CHECK(bs_pg_col_kind(3802 /* jsonb */, "{}", NULL, NULL) == BS_COL_TEXT);
}

int main(void)
{
    RUN(placeholders_are_numbered);
    RUN(literals_and_comments_pass_through);
    RUN(names_rowid_and_operators);
    RUN(insert_or_ignore);
    RUN(values_read_as_sqlite_types);
    return harness_summary(__FILE__);
}
