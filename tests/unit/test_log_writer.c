/*
 * test_log_writer.c - the background writer of `_logs` rows: batches of
 * at most batch_max rows per transaction, rows dropped and counted when
 * the ring is full (never a wait), the thread writing within its flush
 * interval, and a free that writes what is still queued.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/log_writer.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];
static char path[300];

/* A fresh auxiliary.db with PocketBase's `_logs` table. */
static void fresh_db(void)
{
    remove(path);
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode = WAL;"
                 "CREATE TABLE _logs (id TEXT PRIMARY KEY NOT NULL, level "
                 "INTEGER DEFAULT 0 NOT NULL, message TEXT DEFAULT '' NOT "
                 "NULL, data JSON DEFAULT '{}' NOT NULL, created TEXT NOT "
                 "NULL)",
                 NULL, NULL, NULL);
    sqlite3_close(db);
}

static int64_t count_where(const char *where)
{
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM _logs WHERE %s", where);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static bool push(bs_log_writer *w, int level, const char *msg)
{
    const char *data = "{\"type\":\"request\",\"status\":200}";
    return bs_log_writer_push(w, level, msg, strlen(msg), data, strlen(data),
                              1651399200123); /* 2022-05-01 10:00:00.123 */
}

TEST(batches)
{
    fresh_db();
    bs_log_writer_config cfg = {.batch_max = 10, .manual = true};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    for (int i = 0; i < 25; i++)
        CHECK(push(w, i % 2 ? 8 : 0, "GET /api/health"));
    CHECK(count_where("1") == 0); /* nothing before a flush */
    bs_log_writer_flush(w);
    bs_log_writer_stats st;
    bs_log_writer_stats_get(w, &st);
    CHECK(st.queued == 25);
    CHECK(st.written == 25);
    CHECK(st.batches == 3); /* 10 + 10 + 5 */
    CHECK(st.dropped == 0);
    CHECK(count_where("1") == 25);
    CHECK(count_where("level = 8") == 12);
    CHECK(count_where("message = 'GET /api/health' AND "
                      "json_extract(data, '$.status') = 200 AND "
                      "created = '2022-05-01 10:00:00.123Z' AND "
                      "length(id) = 15") == 25);
    bs_log_writer_free(w);
    bs_error_dispose(&err);
}

TEST(drops_when_full)
{
    fresh_db();
    bs_log_writer_config cfg = {.capacity = 5, .manual = true};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    int accepted = 0;
    for (int i = 0; i < 8; i++)
        accepted += push(w, 0, "m");
    CHECK(accepted == 5);
    bs_log_writer_stats st;
    bs_log_writer_stats_get(w, &st);
    CHECK(st.dropped == 3);
    bs_log_writer_flush(w);
    CHECK(count_where("1") == 5);
    /* Room again once written. */
    CHECK(push(w, 0, "again"));
    bs_log_writer_free(w); /* writes the last row */
    CHECK(count_where("message = 'again'") == 1);
    bs_error_dispose(&err);
}

TEST(thread_writes_and_free_drains)
{
    fresh_db();
    bs_log_writer_config cfg = {.batch_max = 64, .flush_ms = 20};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    for (int i = 0; i < 1000; i++)
        push(w, 4, "warn");
    bs_log_writer_flush(w);
    bs_log_writer_stats st;
    bs_log_writer_stats_get(w, &st);
    CHECK(st.written + st.dropped == 1000);
    CHECK(st.written == 1000); /* the default ring holds them all */
    CHECK(st.batches >= 16);   /* at most 64 per transaction */
    CHECK(count_where("level = 4") == 1000);
    bs_log_writer_free(w);

    /* A long interval: free still writes what is queued. */
    fresh_db();
    cfg.flush_ms = 60000;
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    for (int i = 0; i < 3; i++)
        push(w, 0, "late");
    bs_log_writer_free(w);
    CHECK(count_where("message = 'late'") == 3);
    bs_error_dispose(&err);
}

TEST(missing_table_is_an_error)
{
    remove(path);
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_log_writer_new(&w, path, NULL, &err) == BS_EDB);
    CHECK(w == NULL);
    CHECK(err.message != NULL);
    bs_error_dispose(&err);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/auxiliary.db", dir);
    RUN(batches);
    RUN(drops_when_full);
    RUN(thread_writes_and_free_drains);
    RUN(missing_table_is_an_error);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
