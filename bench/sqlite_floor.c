/*
 * sqlite_floor.c - the SQLite floor for creates: rows of the bench's
 * `posts` shape inserted straight through the SQLite C API, one
 * transaction per row, with the pragmas Basalt's writer uses (WAL,
 * synchronous=NORMAL, foreign_keys, temp_store=MEMORY, cache_size).
 * It also prints the rate with GROUP rows per transaction (each in its
 * own SAVEPOINT, as Basalt's group commit runs them), so the cost that
 * sharing a commit saves is visible beside the floor.
 *
 *   cc -O2 -o build/bench/sqlite_floor bench/sqlite_floor.c -lsqlite3
 *   build/bench/sqlite_floor [ROWS] [GROUP]      (default 20000 and 8)
 *
 * Prints one JSON line: rows, one_row_tx_per_s, grouped_per_s, group.
 */
#define _POSIX_C_SOURCE 200809L
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const PRAGMAS =
    "PRAGMA busy_timeout = 10000;"
    "PRAGMA journal_mode = WAL;"
    "PRAGMA journal_size_limit = 200000000;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA cache_size = -4000;";

static const char *const LOREM =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
    "tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim "
    "veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea "
    "commodo consequat. Duis aute irure dolor in reprehenderit in voluptate "
    "velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint "
    "occaecat cupidatat non proident, sunt in culpa qui officia deserunt "
    "mollit anim id est laborum. Sed ut perspiciatis unde omnis iste natus "
    "error sit voluptatem.";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite_floor: %s: %s\n", sql, msg ? msg : "?");
        exit(1);
    }
}

static void insert(sqlite3_stmt *st, long i)
{
    char id[24], title[32], created[32];
    snprintf(id, sizeof id, "r%014ld", i);
    snprintf(title, sizeof title, "post %ld", i);
    snprintf(created, sizeof created, "2026-01-01 00:00:%02ld.%03ldZ",
             (i / 1000) % 60, i % 1000);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, LOREM, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)(i & 1));
    sqlite3_bind_text(st, 5, "[\"a\",\"c\"]", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, "u0000000000000a", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, created, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, created, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "sqlite_floor: insert: %s\n",
                sqlite3_errmsg(sqlite3_db_handle(st)));
        exit(1);
    }
    sqlite3_reset(st);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 20000;
    long group = argc > 2 ? atol(argv[2]) : 8;
    if (rows <= 0 || group <= 0) {
        fprintf(stderr, "usage: sqlite_floor [ROWS] [GROUP]\n");
        return 2;
    }
    char path[] = "/tmp/sqlite_floor.XXXXXX";
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        return 1;
    }
    char file[64];
    snprintf(file, sizeof file, "%s/data.db", path);
    sqlite3 *db;
    if (sqlite3_open(file, &db) != SQLITE_OK)
        return 1;
    must(db, PRAGMAS);
    must(db, "CREATE TABLE posts (id TEXT PRIMARY KEY NOT NULL, title TEXT, "
             "description TEXT, public BOOLEAN, type JSON, author TEXT, "
             "created TEXT, updated TEXT)");
    sqlite3_stmt *st, *begin, *commit, *sp, *rel;
    sqlite3_prepare_v2(db,
                       "INSERT INTO posts (id, title, description, public, "
                       "type, author, created, updated) VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       -1, &st, NULL);
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
    sqlite3_prepare_v2(db, "SAVEPOINT m", -1, &sp, NULL);
    sqlite3_prepare_v2(db, "RELEASE m", -1, &rel, NULL);

    double t0 = now_s();
    for (long i = 0; i < rows; i++) {
        sqlite3_step(begin);
        sqlite3_reset(begin);
        insert(st, i);
        if (sqlite3_step(commit) != SQLITE_DONE)
            return 1;
        sqlite3_reset(commit);
    }
    double one = (double)rows / (now_s() - t0);

    t0 = now_s();
    for (long i = 0; i < rows; i += group) {
        sqlite3_step(begin);
        sqlite3_reset(begin);
        for (long j = i; j < i + group && j < rows; j++) {
            sqlite3_step(sp);
            sqlite3_reset(sp);
            insert(st, rows + j);
            sqlite3_step(rel);
            sqlite3_reset(rel);
        }
        if (sqlite3_step(commit) != SQLITE_DONE)
            return 1;
        sqlite3_reset(commit);
    }
    double grouped = (double)rows / (now_s() - t0);

    printf("{\"rows\":%ld,\"one_row_tx_per_s\":%.0f,\"grouped_per_s\":%.0f,"
           "\"group\":%ld}\n",
           rows, one, grouped, group);
    sqlite3_finalize(st);
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(sp);
    sqlite3_finalize(rel);
    sqlite3_close(db);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", path);
    return system(cmd) == 0 ? 0 : 1;
}
