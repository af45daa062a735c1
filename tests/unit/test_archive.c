/*
 * test_archive.c - zip archives (src/core/archive.c) and database
 * snapshots (src/db/snapshot.c): entry names that stay inside the target,
 * a round trip with exclusions and renamed extras, refusals before
 * anything is written (traversal, links, over the size and ratio
 * limits, not a zip), and a snapshot that writers never wait for.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "basalt.h"
#include "core/archive.h"
#include "db/snapshot.h"
#include "harness.h"
#include "tmpdir.h"

static char root[256];

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *p)
{
    static char buf[4096];
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

#define OK(s) bs_archive_name_ok(s, strlen(s))

TEST(names)
{
    CHECK(OK("data.db"));
    CHECK(OK("storage/abc/def/file.png"));
    CHECK(OK("storage/"));
    CHECK(OK("a..b/..c/c.."));
    CHECK(!OK(""));
    CHECK(!OK("/etc/passwd"));
    CHECK(!OK("../x"));
    CHECK(!OK("storage/../../x"));
    CHECK(!OK("storage/.."));
    CHECK(!OK("./data.db"));
    CHECK(!OK("a//b"));
    CHECK(!OK("a\\..\\b"));
    CHECK(!OK("a\nb"));
    CHECK(!bs_archive_name_ok("a\0b", 3));
    CHECK(!OK("/"));
}

TEST(round_trip)
{
    put("src/data.db", "live db");
    put("src/storage/c1/r1/a.txt", "file a");
    put("src/storage/.tmp/spool", "spooled");
    put("src/backups/old.zip", "old");
    put("src/top.txt", "top");
    put("snap", "snapshot db");
    char src[300], zip[300], out[300], p[400];
    snprintf(src, sizeof src, "%s/src", root);
    snprintf(zip, sizeof zip, "%s/a.zip", root);
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(p, sizeof p, "%s/snap", root);
    const char *ex[] = {"backups", "data.db", "storage/.tmp"};
    bs_archive_extra extra[] = {{"data.db", p}};
    char msg[300] = "";
    REQUIRE(bs_archive_create(zip, src, ex, 3, extra, 1, msg, sizeof msg) ==
            0);
    REQUIRE(bs_archive_extract(zip, out, &bs_archive_default_limits, msg,
                               sizeof msg) == 0);
    snprintf(p, sizeof p, "%s/data.db", out);
    CHECK(strcmp(slurp(p), "snapshot db") == 0);
    snprintf(p, sizeof p, "%s/storage/c1/r1/a.txt", out);
    CHECK(strcmp(slurp(p), "file a") == 0);
    snprintf(p, sizeof p, "%s/top.txt", out);
    CHECK(strcmp(slurp(p), "top") == 0);
    snprintf(p, sizeof p, "%s/storage/.tmp", out);
    CHECK(!exists(p));
    snprintf(p, sizeof p, "%s/backups", out);
    CHECK(!exists(p));
    /* The target must be new. */
    CHECK(bs_archive_extract(zip, out, &bs_archive_default_limits, msg,
                             sizeof msg) != 0);
}

/* Writes a zip with one entry of `size` bytes of 'x' under name; mode
 * (when not 0) is its Unix mode. */
static void forge(const char *zip, const char *name, size_t size,
                  unsigned mode)
{
    int err;
    unlink(zip);
    zip_t *za = zip_open(zip, ZIP_CREATE, &err);
    char *data = malloc(size + 1);
    memset(data, 'x', size);
    zip_source_t *s = zip_source_buffer(za, data, size, 0);
    zip_int64_t i = zip_file_add(za, name, s, 0);
    if (mode)
        zip_file_set_external_attributes(za, (zip_uint64_t)i, 0,
                                         ZIP_OPSYS_UNIX, (zip_uint32_t)mode
                                                             << 16);
    zip_close(za);
    free(data);
}

TEST(refusals_write_nothing)
{
    char zip[300], out[300], msg[300];
    snprintf(zip, sizeof zip, "%s/bad.zip", root);
    snprintf(out, sizeof out, "%s/bad_out", root);

    forge(zip, "../escape.txt", 10, 0);
    CHECK(bs_archive_extract(zip, out, &bs_archive_default_limits, msg,
                             sizeof msg) == BS_EINVAL);
    CHECK(strstr(msg, "outside") != NULL);
    CHECK(!exists(out));

    forge(zip, "link", 10, 0120777);
    CHECK(bs_archive_extract(zip, out, &bs_archive_default_limits, msg,
                             sizeof msg) == BS_EINVAL);
    CHECK(strstr(msg, "link") != NULL);
    CHECK(!exists(out));

    /* 1 MiB of one byte deflates a thousandfold. */
    forge(zip, "data.db", 1 << 20, 0);
    bs_archive_limits ratio = bs_archive_default_limits;
    ratio.ratio_floor = 1000;
    CHECK(bs_archive_extract(zip, out, &ratio, msg, sizeof msg) == BS_EINVAL);
    CHECK(strstr(msg, "zip bomb") != NULL);
    CHECK(!exists(out));
    bs_archive_limits total = bs_archive_default_limits;
    total.max_total = 1000;
    CHECK(bs_archive_extract(zip, out, &total, msg, sizeof msg) == BS_EINVAL);
    CHECK(!exists(out));
    /* Within the limits it extracts. */
    CHECK(bs_archive_extract(zip, out, &bs_archive_default_limits, msg,
                             sizeof msg) == 0);

    put("junk.zip", "PK\x03\x04 this is not really a zip");
    snprintf(zip, sizeof zip, "%s/junk.zip", root);
    snprintf(out, sizeof out, "%s/junk_out", root);
    CHECK(bs_archive_extract(zip, out, &bs_archive_default_limits, msg,
                             sizeof msg) == BS_EINVAL);
    CHECK(!exists(out));
}

typedef struct writer {
    const char *path;
    atomic_bool stop;
    int ok, busy;
} writer;

static void *write_loop(void *arg)
{
    writer *w = arg;
    sqlite3 *db;
    sqlite3_open(w->path, &db);
    /* No busy wait: a write that had to wait for the snapshot fails. */
    sqlite3_busy_timeout(db, 0);
    while (!atomic_load(&w->stop)) {
        int rc = sqlite3_exec(db, "INSERT INTO t(v) VALUES (randomblob(500))",
                              NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            w->ok++;
        else
            w->busy++;
    }
    sqlite3_close(db);
    return NULL;
}

TEST(snapshot_never_blocks_writers)
{
    char src[300], dst[300], msg[300];
    snprintf(src, sizeof src, "%s/live.db", root);
    snprintf(dst, sizeof dst, "%s/copy.db", root);
    sqlite3 *db;
    REQUIRE(sqlite3_open(src, &db) == SQLITE_OK);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; CREATE TABLE t(v);"
                 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n"
                 " WHERE i < 20000) INSERT INTO t SELECT randomblob(500) FROM n",
                 NULL, NULL, NULL);
    writer w = {.path = src};
    pthread_t th;
    pthread_create(&th, NULL, write_loop, &w);
    while (w.ok < 10)
        usleep(1000);
    int before = w.ok;
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++)
        rc = bs_db_snapshot(src, dst, msg, sizeof msg);
    int during = w.ok - before;
    atomic_store(&w.stop, true);
    pthread_join(th, NULL);
    sqlite3_close(db);
    CHECK(rc == 0);
    CHECK(w.busy == 0);
    CHECK(during > 0);
    CHECK(bs_db_check_file(dst, msg, sizeof msg) == 0);
    /* The copy is of one commit: at least the rows made before. */
    sqlite3 *c;
    sqlite3_open(dst, &c);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(c, "SELECT count(*) FROM t", -1, &st, NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= 20000);
    sqlite3_finalize(st);
    sqlite3_close(c);
}

TEST(check_file_refuses_non_databases)
{
    char msg[300], p[300];
    put("fake.db", "SQLite format 3 but no: just text, long enough to matter");
    snprintf(p, sizeof p, "%s/fake.db", root);
    CHECK(bs_db_check_file(p, msg, sizeof msg) == BS_EDB);
    snprintf(p, sizeof p, "%s/none.db", root);
    CHECK(bs_db_check_file(p, msg, sizeof msg) == BS_EDB);
    CHECK(!exists(p));
}

int main(void)
{
    if (tmpdir_make(root, sizeof root) != 0)
        return 1;
    RUN(names);
    RUN(round_trip);
    RUN(refusals_write_nothing);
    RUN(snapshot_never_blocks_writers);
    RUN(check_file_refuses_non_databases);
    tmpdir_remove(root);
    return harness_summary(__FILE__);
}
