/*
 * test_checkpointer.c - WAL checkpoints off the writer
 * (src/db/checkpointer.c): under a steady stream of record-sized write
 * transactions the checkpoint thread runs, the log starts over instead of
 * growing, every committed row is there after the store is closed and
 * opened again, and the checkpoints do not look like another process's
 * commits.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/checkpointer.h"
#include "db/store.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];

/* Rows of about one page each: several thousand commits write several
 * times BS_CKPT_PAGES pages. */
#define ROWS 6000

static int64_t count_rows(bs_store *s)
{
    bs_conn *c = bs_store_reader_acquire(s);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(bs_conn_db(c), "SELECT COUNT(*) FROM t", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    bs_store_reader_release(s, c);
    return n;
}

static off_t wal_size(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/data.db-wal", dir);
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Waits until the checkpoint thread has been idle for 100 ms (it only
 * wakes on commits); returns its run count. */
static uint64_t quiet(bs_store *s)
{
    uint64_t runs = 0, ns = 0, last;
    bs_store_checkpoints(s, &runs, &ns);
    do {
        last = runs;
        usleep(100000);
        bs_store_checkpoints(s, &runs, &ns);
    } while (runs != last);
    return runs;
}

TEST(log_starts_over_and_nothing_is_lost)
{
    bs_store *s = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_open(&s, dir, 2, &e) == 0);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(s, &c, &e) == 0);
    REQUIRE(bs_conn_exec(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)",
                         &e) == 0);
    REQUIRE(bs_store_tx_end(s, true, &e) == 0);

    off_t biggest = 0;
    int failed = 0;
    for (int i = 0; i < ROWS; i++) {
        if (bs_store_tx_join(s, &c, &e) != 0) {
            failed++;
            continue;
        }
        if (bs_conn_exec(c, "INSERT INTO t (pad) VALUES (zeroblob(3000))",
                         &e) != 0)
            failed++;
        if (bs_store_tx_end(s, true, &e) != 0)
            failed++;
        /* Saves arrive with some time between them, as requests do; the
         * thread takes the writer in one of those gaps. */
        usleep(100);
        off_t w = wal_size();
        if (w > biggest)
            biggest = w;
    }
    CHECK(failed == 0);

    uint64_t runs = 0, ns = 0;
    for (int i = 0; i < 200 && runs == 0; i++) {
        bs_store_checkpoints(s, &runs, &ns);
        usleep(10000);
    }
    CHECK(runs > 0);
    CHECK(ns > 0);
    /* About twice ROWS pages went through the log; it started over at
     * about BS_CKPT_PAGES (measured: 1,111 pages; the bound leaves room
     * for a slow thread on a busy machine) instead of growing to the
     * writer's own fallback (8,002 pages when the log never starts
     * over). */
    CHECK(biggest > 0);
    CHECK(biggest < (off_t)6 * BS_CKPT_PAGES * 4200);
    CHECK(count_rows(s) == ROWS);

    /* The thread's checkpoints are not commits by another process: the
     * app would reload its schema every second under writes. (The first
     * call only records the version; with the writer idle it does.) */
    uint64_t before = quiet(s);
    CHECK(!bs_store_changed_elsewhere(s));
    for (int i = 0; i < ROWS / 2; i++) {
        if (bs_store_tx_join(s, &c, &e) == 0) {
            bs_conn_exec(c, "INSERT INTO t (pad) VALUES (zeroblob(3000))", &e);
            bs_store_tx_end(s, true, &e);
        }
        usleep(100);
    }
    CHECK(quiet(s) > before);
    CHECK(!bs_store_changed_elsewhere(s));
    CHECK(count_rows(s) == ROWS + ROWS / 2);
    bs_store_close(s);

    REQUIRE(bs_store_open(&s, dir, 1, &e) == 0);
    CHECK(count_rows(s) == ROWS + ROWS / 2);
    bs_store_close(s);
    bs_error_dispose(&e);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    RUN(log_starts_over_and_nothing_is_lost);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
