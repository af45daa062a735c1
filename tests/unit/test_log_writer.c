/*
 * test_log_writer.c - the background writer of `_logs` rows: batches of
 * at most batch_max rows per transaction, rows dropped and counted when
 * the memory buffer or the pending file is full (never a wait), the
 * threads writing within the flush interval, a free that writes what is
 * still queued, raw rows formatted by the configured function, and the
 * pending file: imported after a crash, a torn end discarded, a row
 * imported twice stored once.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

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

/* The bytes one push() row takes in the memory buffer: a 40-byte head,
 * the message length, the message and the data. */
#define ROW_BYTES(msg) (40 + 4 + strlen(msg) + 32)

TEST(drops_when_full)
{
    fresh_db();
    bs_log_writer_config cfg = {.buffer_bytes = 5 * ROW_BYTES("m"),
                                .manual = true};
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

/* The format function of raw rows: kind 7 carries "message|data". */
static bool format_pipe(int kind, const char *payload, size_t len,
                        bs_buf *message, bs_buf *data)
{
    const char *bar = memchr(payload, '|', len);
    if (kind != 7 || !bar)
        return false;
    bs_buf_append(message, payload, (size_t)(bar - payload));
    bs_buf_append(data, bar + 1, len - (size_t)(bar - payload) - 1);
    return true;
}

TEST(raw_rows_are_formatted_by_the_writer)
{
    fresh_db();
    bs_log_writer_config cfg = {.manual = true, .format = format_pipe};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    const char *p = "GET /x|{\"status\":201}";
    size_t n = strlen(p);
    for (int kind = 7; kind <= 8; kind++) {
        char *at = bs_log_writer_reserve_raw(w, 0, kind, n, 1651399200123);
        REQUIRE(at != NULL);
        memcpy(at, p, n);
        bs_log_writer_commit(w);
    }
    char *at = bs_log_writer_reserve_raw(w, 0, 7, n, 1651399200124);
    REQUIRE(at != NULL);
    memcpy(at, p, n);
    bs_log_writer_commit(w);
    CHECK(bs_log_writer_reserve_raw(w, 0, 0, n, 0) == NULL); /* kind 0 */
    bs_log_writer_flush(w);
    bs_log_writer_stats st;
    bs_log_writer_stats_get(w, &st);
    CHECK(st.written == 2);
    CHECK(st.failed == 1); /* kind 8: the format function refused it */
    CHECK(count_where("message = 'GET /x' AND "
                      "json_extract(data, '$.status') = 201") == 2);
    bs_log_writer_free(w);
    bs_error_dispose(&err);
}

static char pending[320];

static long file_size(const char *f)
{
    FILE *fp = fopen(f, "rb");
    if (!fp)
        return -1;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fclose(fp);
    return n;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[4096];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

TEST(pending_rows_survive_a_crash)
{
    fresh_db();
    remove(pending);
    char saved[340];
    snprintf(saved, sizeof saved, "%s.saved", pending);
    bs_log_writer_config cfg = {.manual = true};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    for (int i = 0; i < 30; i++)
        push(w, 4, "staged");
    bs_log_writer_catch_up(w, 0); /* staged, not imported */
    CHECK(count_where("1") == 0);
    CHECK(file_size(pending) > 30 * 40);
    bs_log_writer_stats st;
    bs_log_writer_stats_get(w, &st);
    CHECK(st.pending == 30);
    /* The file as a kill -9 would leave it, plus a torn record. */
    copy_file(pending, saved);
    FILE *fp = fopen(saved, "ab");
    REQUIRE(fp != NULL);
    fwrite("\x30\0\0\0torn", 1, 8, fp);
    fclose(fp);
    bs_log_writer_free(w);
    CHECK(count_where("message = 'staged'") == 30);
    CHECK(file_size(pending) == -1); /* removed once empty */

    /* The next start imports the crash image: the 30 rows are there
     * already (same ids), so they are stored once, and the torn end is
     * dropped. */
    fresh_db();
    copy_file(saved, pending);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    bs_log_writer_flush(w);
    CHECK(count_where("message = 'staged'") == 30);
    bs_log_writer_stats_get(w, &st);
    CHECK(st.written == 30);
    bs_log_writer_free(w);
    copy_file(saved, pending);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    bs_log_writer_flush(w);
    CHECK(count_where("message = 'staged'") == 30); /* not 60 */
    CHECK(file_size(pending) == 0);
    bs_log_writer_free(w);

    /* With the threads: the importer takes a previous run's rows on
     * its own. */
    fresh_db();
    copy_file(saved, pending);
    bs_log_writer_config threaded = {.flush_ms = 20};
    REQUIRE(bs_log_writer_new(&w, path, &threaded, &err) == 0);
    for (int i = 0; i < 500 && count_where("1") < 30; i++)
        usleep(10000);
    CHECK(count_where("message = 'staged'") == 30);
    bs_log_writer_free(w);
    remove(saved);
    bs_error_dispose(&err);
}

/* The record checksum changes with any byte of the covered head or of
 * the payload, and with the length. */
TEST(record_sum_sees_every_byte)
{
    bs_log_record_head h;
    memset(&h, 0, sizeof h);
    char payload[41];
    for (int i = 0; i < 41; i++)
        payload[i] = (char)('a' + i % 26);
    h.len = sizeof payload;
    h.created_ms = 1651399200123;
    h.kind = 1;
    h.sum = BS_LOG_SUM_WORDS;
    memcpy(h.id, "abcdefghijklmno", 16);
    uint32_t base = bs_log_record_sum(&h, payload);
    for (size_t i = 0; i < sizeof payload; i++) {
        for (int bit = 0; bit < 8; bit++) {
            payload[i] ^= (char)(1 << bit);
            CHECK(bs_log_record_sum(&h, payload) != base);
            payload[i] ^= (char)(1 << bit);
        }
    }
    unsigned char *head = (unsigned char *)&h;
    for (size_t i = offsetof(bs_log_record_head, created_ms); i < sizeof h;
         i++) {
        head[i] ^= 0x10;
        CHECK(bs_log_record_sum(&h, payload) != base);
        head[i] ^= 0x10;
    }
    h.len = sizeof payload - 1; /* a torn payload: the last byte gone */
    CHECK(bs_log_record_sum(&h, payload) != base);
    h.len = sizeof payload;
    CHECK(bs_log_record_sum(&h, payload) == base);
}

/* A pending file written by an earlier version, whose records carry a
 * CRC-32 (sum 0), is still imported; a record with a wrong CRC-32 is
 * not. */
TEST(pending_records_with_crc32_are_read)
{
    fresh_db();
    remove(pending);
    const char *body = "old row";
    const char *data = "{\"a\":1}";
    uint32_t mlen = (uint32_t)strlen(body);
    char payload[64];
    size_t n = 0;
    memcpy(payload, &mlen, sizeof mlen);
    n += sizeof mlen;
    memcpy(payload + n, body, mlen);
    n += mlen;
    memcpy(payload + n, data, strlen(data));
    n += strlen(data);
    FILE *fp = fopen(pending, "wb");
    REQUIRE(fp != NULL);
    for (int i = 0; i < 2; i++) {
        bs_log_record_head h;
        memset(&h, 0, sizeof h);
        h.len = (uint32_t)n;
        h.created_ms = 1651399200123;
        h.level = 4;
        memcpy(h.id, i ? "oldrow000000002" : "oldrow000000001", 16);
        size_t from = offsetof(bs_log_record_head, created_ms);
        uLong c = crc32(0L, Z_NULL, 0);
        c = crc32(c, (const Bytef *)&h + from, (uInt)(sizeof h - from));
        c = crc32(c, (const Bytef *)payload, (uInt)n);
        h.crc = (uint32_t)c + (uint32_t)i; /* the second one is wrong */
        fwrite(&h, sizeof h, 1, fp);
        fwrite(payload, n, 1, fp);
    }
    fclose(fp);
    bs_log_writer_config cfg = {.manual = true};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    bs_log_writer_flush(w);
    CHECK(count_where("id = 'oldrow000000001' AND message = 'old row' AND "
                      "json_extract(data, '$.a') = 1") == 1);
    CHECK(count_where("id = 'oldrow000000002'") == 0);
    bs_log_writer_free(w);
    bs_error_dispose(&err);
}

static atomic_bool spinning;

static void *spin(void *arg)
{
    (void)arg;
    volatile uint64_t x = 0;
    while (atomic_load(&spinning))
        x++;
    return NULL;
}

/* While every core is busy, the idle-priority importer waits between
 * batches instead of running in every gap (stats.pauses); once the
 * cores are free again it imports the rest on its own. */
TEST(importer_pauses_while_the_machine_is_busy)
{
    fresh_db();
    remove(pending);
    bs_log_writer_config cfg = {.flush_ms = 20};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 && cpus < 16 ? (int)cpus * 2 : 8;
    pthread_t spinners[32];
    atomic_store(&spinning, true);
    for (int i = 0; i < n; i++)
        REQUIRE(pthread_create(&spinners[i], NULL, spin, NULL) == 0);
    const int rows = 3000;
    bs_log_writer_stats st = {0};
    for (int i = 0; i < rows; i++)
        CHECK(push(w, 0, "busy"));
    for (int i = 0; i < 1000; i++) {
        bs_log_writer_stats_get(w, &st);
        if (st.pauses > 0)
            break;
        usleep(10000);
    }
    atomic_store(&spinning, false);
    for (int i = 0; i < n; i++)
        pthread_join(spinners[i], NULL);
    CHECK(st.pauses > 0);
    CHECK(st.written < (uint64_t)rows); /* it waited, rows are pending */
    for (int i = 0; i < 1500 && st.written < (uint64_t)rows; i++) {
        usleep(10000);
        bs_log_writer_stats_get(w, &st);
    }
    CHECK(st.written == (uint64_t)rows);
    CHECK(count_where("message = 'busy'") == rows);
    bs_log_writer_free(w);
    bs_error_dispose(&err);
}

TEST(pending_file_limit_drops)
{
    fresh_db();
    remove(pending);
    bs_log_writer_config cfg = {.manual = true,
                                .pending_max_bytes = 10 * ROW_BYTES("m")};
    bs_log_writer *w = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_log_writer_new(&w, path, &cfg, &err) == 0);
    for (int i = 0; i < 8; i++)
        push(w, 0, "m");
    bs_log_writer_catch_up(w, 0);
    for (int i = 0; i < 8; i++)
        push(w, 0, "m"); /* 16 rows would pass the limit: dropped */
    bs_log_writer_catch_up(w, 0);
    bs_log_writer_stats st;
    bs_log_writer_stats_get(w, &st);
    CHECK(st.dropped == 8);
    CHECK(st.pending == 8);
    bs_log_writer_catch_up(w, 5); /* a reader imports 5 of them */
    CHECK(count_where("1") == 5);
    bs_log_writer_flush(w);
    CHECK(count_where("1") == 8);
    bs_log_writer_free(w);
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
    snprintf(pending, sizeof pending, "%s-logs", path);
    RUN(batches);
    RUN(drops_when_full);
    RUN(thread_writes_and_free_drains);
    RUN(raw_rows_are_formatted_by_the_writer);
    RUN(pending_rows_survive_a_crash);
    RUN(record_sum_sees_every_byte);
    RUN(pending_records_with_crc32_are_read);
    RUN(importer_pauses_while_the_machine_is_busy);
    RUN(pending_file_limit_drops);
    RUN(missing_table_is_an_error);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
