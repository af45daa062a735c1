/*
 * test_store.c - the SQLite store: opening, pragmas, transactions, the
 * reader pool, the statement cache; and the SQL text helpers of sql.c.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "base/json.h"
#include "db/sql.h"
#include "db/store.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];

static int count_rows(bs_conn *c, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(bs_conn_db(c), sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static const char *pragma_text(bs_conn *c, const char *sql, char *out,
                               size_t n)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(bs_conn_db(c), sql, -1, &st, NULL) != SQLITE_OK)
        return out;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

TEST(open_creates_both_databases)
{
    char sub[300];
    snprintf(sub, sizeof sub, "%s/new", dir);
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, sub, 2, &e) == 0);
    REQUIRE(s != NULL);
    char p[400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/data.db", sub);
    CHECK(stat(p, &sb) == 0);
    snprintf(p, sizeof p, "%s/auxiliary.db", sub);
    CHECK(stat(p, &sb) == 0);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    char buf[64];
    CHECK_STR(pragma_text(c, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_STR(pragma_text(c, "PRAGMA foreign_keys", buf, sizeof buf), "1");
    CHECK(bs_store_tx_end(s, true, &e) == 0);
    bs_store_close(s);
    bs_error_dispose(&e);
}

TEST(open_fails_on_a_file)
{
    char file[300];
    snprintf(file, sizeof file, "%s/plainfile", dir);
    FILE *f = fopen(file, "w");
    REQUIRE(f != NULL);
    fclose(f);
    bs_store *s = (bs_store *)1;
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_store_open(&s, file, 1, &e) == BS_EIO);
    CHECK(s == NULL);
    CHECK(e.status == 500);
    bs_error_dispose(&e);
}

TEST(commit_and_rollback)
{
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, dir, 2, &e) == 0);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    CHECK(bs_conn_exec(c, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES "
                          "('a');", &e) == 0);
    CHECK(bs_store_tx_end(s, true, &e) == 0);

    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    CHECK(bs_conn_exec(c, "INSERT INTO t VALUES ('b')", &e) == 0);
    CHECK(count_rows(c, "t") == 2);
    CHECK(bs_store_tx_end(s, false, &e) == 0);

    bs_conn *r = bs_store_reader_acquire(s);
    REQUIRE(r != NULL);
    CHECK(count_rows(r, "t") == 1);
    /* Readers are read-only. */
    CHECK(bs_conn_exec(r, "INSERT INTO t VALUES ('c')", &e) == BS_EDB);
    CHECK(e.status == 400);
    bs_store_reader_release(s, r);
    bs_store_close(s);
    bs_error_dispose(&e);
}

TEST(failed_statement_rolls_back_whole_tx)
{
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, dir, 1, &e) == 0);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    bs_conn_exec(c, "CREATE TABLE IF NOT EXISTS u (v TEXT UNIQUE)", &e);
    CHECK(bs_store_tx_end(s, true, &e) == 0);
    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    CHECK(bs_conn_exec(c, "INSERT INTO u VALUES ('x')", &e) == 0);
    CHECK(bs_conn_exec(c, "INSERT INTO u VALUES ('x')", &e) == BS_EDB);
    CHECK(bs_store_tx_end(s, false, &e) == 0);
    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    CHECK(count_rows(c, "u") == 0);
    /* The writer is usable again: the lock was released. */
    CHECK(bs_store_tx_end(s, true, &e) == 0);
    bs_store_close(s);
    bs_error_dispose(&e);
}

TEST(statement_cache)
{
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, dir, 1, &e) == 0);
    bs_conn *r = bs_store_reader_acquire(s);
    static const char q[] = "SELECT ?1 + 1";
    sqlite3_stmt *a = bs_conn_prepare(r, q);
    REQUIRE(a != NULL);
    sqlite3_bind_int(a, 1, 41);
    CHECK(sqlite3_step(a) == SQLITE_ROW);
    CHECK(sqlite3_column_int(a, 0) == 42);
    /* The same text (even through another pointer) gives the same
     * statement, reset and with its bindings cleared. */
    char copy[sizeof q];
    memcpy(copy, q, sizeof q);
    sqlite3_stmt *b = bs_conn_prepare(r, copy);
    CHECK(a == b);
    CHECK(sqlite3_step(b) == SQLITE_ROW);
    CHECK(sqlite3_column_type(b, 0) == SQLITE_NULL);
    sqlite3_reset(b);
    CHECK(bs_conn_prepare(r, "SELECT 2") != a);
    CHECK(bs_conn_prepare(r, "SELEC nonsense") == NULL);
    bs_store_reader_release(s, r);
    bs_store_close(s);
    bs_error_dispose(&e);
}

typedef struct pool_arg {
    bs_store *s;
    int ok;
} pool_arg;

static void *use_reader(void *p)
{
    pool_arg *a = p;
    for (int i = 0; i < 200; i++) {
        bs_conn *c = bs_store_reader_acquire(a->s);
        sqlite3_stmt *st = bs_conn_prepare(c, "SELECT 7");
        if (st && sqlite3_step(st) == SQLITE_ROW &&
            sqlite3_column_int(st, 0) == 7)
            a->ok++;
        if (st)
            sqlite3_reset(st);
        bs_store_reader_release(a->s, c);
    }
    return NULL;
}

TEST(reader_pool_shared_by_threads)
{
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, dir, 2, &e) == 0);
    pool_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i].s = s;
        args[i].ok = 0;
        REQUIRE(pthread_create(&th[i], NULL, use_reader, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].ok == 200);
    }
    bs_store_close(s);
    bs_error_dispose(&e);
}

TEST(aux_connection)
{
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, dir, 1, &e) == 0);
    bs_conn *a = bs_store_aux_acquire(s);
    REQUIRE(a != NULL);
    CHECK(bs_conn_exec(a, "CREATE TABLE IF NOT EXISTS logs_t (x); INSERT "
                          "INTO logs_t VALUES (1);", &e) == 0);
    CHECK(count_rows(a, "logs_t") >= 1);
    bs_store_aux_release(s, a);
    /* The table is in auxiliary.db, not data.db. */
    bs_conn *r = bs_store_reader_acquire(s);
    CHECK(count_rows(r, "logs_t") == -1);
    bs_store_reader_release(s, r);
    bs_store_close(s);
    bs_error_dispose(&e);
}

/* ---- sql.c --------------------------------------------------------------- */

TEST(sql_ident_quotes)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_sql_ident(&b, "name");
    bs_buf_putc(&b, ' ');
    bs_sql_ident(&b, "we\"ird");
    bs_buf_putc(&b, ' ');
    bs_sql_ident(&b, "");
    bs_buf_putc(&b, ' ');
    bs_sql_ident(&b, "\"a\"\"b\"");
    CHECK_STR(b.data, "\"name\" \"we\"\"ird\" \"\" \"\"\"a\"\"\"\"b\"\"\"");
    bs_buf_dispose(&b);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    RUN(open_creates_both_databases);
    RUN(open_fails_on_a_file);
    RUN(commit_and_rollback);
    RUN(failed_statement_rolls_back_whole_tx);
    RUN(statement_cache);
    RUN(reader_pool_shared_by_threads);
    RUN(aux_connection);
    RUN(sql_ident_quotes);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
