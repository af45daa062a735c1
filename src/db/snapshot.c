/*
 * snapshot.c - the snapshots and integrity checks of snapshot.h.
 */
#include "snapshot.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basalt.h"

/* Pages copied per backup step: 4 MiB of 4 KiB pages. */
#define STEP_PAGES 1024

static void set_msg(char *msg, size_t cap, const char *what, sqlite3 *db)
{
    if (msg && cap)
        snprintf(msg, cap, "%s: %s", what,
                 db ? sqlite3_errmsg(db) : "out of memory");
}

int bs_db_snapshot(const char *src, const char *dst, char *msg, size_t cap)
{
    sqlite3 *from = NULL, *to = NULL;
    sqlite3_backup *b = NULL;
    bool in_tx = false;
    int rc = BS_EDB;
    if (sqlite3_open_v2(src, &from, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        set_msg(msg, cap, "open source", from);
        goto end;
    }
    sqlite3_busy_timeout(from, 10000);
    /* The read transaction that fixes the snapshot: it starts at the
     * first read and lasts until COMMIT. */
    if (sqlite3_exec(from, "PRAGMA query_only = ON; BEGIN;"
                           " SELECT count(*) FROM sqlite_schema;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        set_msg(msg, cap, "read source", from);
        goto end;
    }
    in_tx = true;
    unlink(dst);
    if (sqlite3_open_v2(dst, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(to, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        set_msg(msg, cap, "open destination", to);
        goto end;
    }
    b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
        set_msg(msg, cap, "backup", to);
        goto end;
    }
    int step;
    do {
        step = sqlite3_backup_step(b, STEP_PAGES);
    } while (step == SQLITE_OK);
    if (sqlite3_backup_finish(b) != SQLITE_OK || step != SQLITE_DONE) {
        b = NULL;
        set_msg(msg, cap, "backup", to);
        goto end;
    }
    b = NULL;
    rc = 0;
end:
    if (b)
        sqlite3_backup_finish(b);
    if (in_tx)
        sqlite3_exec(from, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(to);
    sqlite3_close(from);
    if (rc)
        unlink(dst);
    return rc;
}

int bs_db_check_file(const char *path, char *msg, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = BS_EDB;
    if (access(path, F_OK) != 0) {
        snprintf(msg, cap, "%s is missing", path);
        return BS_EDB;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        set_msg(msg, cap, "open", db);
        goto end;
    }
    /* Nothing from the file runs: no triggers or views of its schema are
     * used by the check, and functions in it are not trusted. */
    sqlite3_exec(db, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &st, NULL) !=
        SQLITE_OK) {
        set_msg(msg, cap, "integrity check", db);
        goto end;
    }
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        set_msg(msg, cap, "integrity check", db);
        goto end;
    }
    const char *v = (const char *)sqlite3_column_text(st, 0);
    if (!v || strcmp(v, "ok") != 0) {
        snprintf(msg, cap, "integrity check: %s", v ? v : "no answer");
        goto end;
    }
    rc = 0;
end:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
