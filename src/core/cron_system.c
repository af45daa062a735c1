/*
 * cron_system.c - PocketBase's system cron jobs, registered with every
 * app (listed by GET /api/crons after the program's own):
 *
 *   __pbLogsCleanup__   every 6 hours  request logs older than logs.maxDays
 *   __pbDBOptimize__    at midnight    WAL checkpoint and PRAGMA optimize
 *   __pbMFACleanup__    every hour     expired _mfas records
 *   __pbOTPCleanup__    every hour     expired _otps records
 *
 * Like PocketBase, the clean-ups delete with plain SQL (no record hooks).
 * A job does nothing before the app is bootstrapped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/rows.h"
#include "app.h"
#include "cron.h"
#include "logs.h"

/* PocketBase's date text for now minus secs seconds. */
static void ago(int64_t secs, char out[25])
{
    bs_time_str((int64_t)time(NULL) - secs, 0, out);
}

static void logs_cleanup(bs_app *app, void *user)
{
    (void)user;
    bs_logs_cleanup(app);
}

static void db_optimize(bs_app *app, void *user)
{
    (void)user;
    if (!app->store)
        return;
    char msg[160];
    /* PostgreSQL's autovacuum looks after its own tables. */
    bs_conn *c = bs_store_is_pg(app->store)
                     ? NULL
                     : bs_store_reader_acquire(app->store);
    if (c && (bs_conn_exec1(c, "PRAGMA wal_checkpoint(TRUNCATE)", msg,
                            sizeof msg) ||
              bs_conn_exec1(c, "PRAGMA optimize", msg, sizeof msg)))
        bs_log('W', "Cron: optimizing data.db failed: %s", msg);
    bs_store_reader_release(app->store, c);
    bs_conn *aux = bs_store_aux_acquire(app->store);
    if (bs_conn_exec1(aux, "PRAGMA wal_checkpoint(TRUNCATE)", msg,
                      sizeof msg) ||
        bs_conn_exec1(aux, "PRAGMA optimize", msg, sizeof msg))
        bs_log('W', "Cron: optimizing auxiliary.db failed: %s", msg);
    bs_store_aux_release(app->store, aux);
}

/* Deletes the records of table (_mfas or _otps) older than the duration
 * of option (mfa or otp) of their auth collection. */
static void expire(bs_app *app, const char *table, const char *option)
{
    if (!app->store)
        return;
    bs_schema *s = bs_app_schema(app);
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        const bs_collection *c = &s->items[i];
        if (strcmp(c->type, "auth") != 0)
            continue;
        int64_t secs = bs_json_get_int(bs_json_get(c->options, option),
                                       "duration", 0);
        if (secs <= 0)
            continue;
        json_object *p = json_object_new_object();
        char before[25];
        ago(secs, before);
        json_object_object_add(p, "c", json_object_new_string(c->id));
        json_object_object_add(p, "t", json_object_new_string(before));
        char sql[128];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE collectionRef = {:c}"
                                  " AND created < {:t}", table);
        bs_error err;
        bs_error_init(&err);
        if (bs_db_exec(app, sql, p, NULL, &err))
            bs_log('W', "Cron: %s clean-up failed: %s", table,
                   err.message ? err.message : "?");
        bs_error_dispose(&err);
        json_object_put(p);
    }
    bs_schema_unref(s);
}

static void mfa_cleanup(bs_app *app, void *user)
{
    (void)user;
    expire(app, "_mfas", "mfa");
}

static void otp_cleanup(bs_app *app, void *user)
{
    (void)user;
    expire(app, "_otps", "otp");
}

int bs_cron_system_jobs(bs_app *app)
{
    int rc = bs_cron_add(app, "__pbLogsCleanup__", "0 */6 * * *",
                         logs_cleanup, NULL);
    if (rc == 0)
        rc = bs_cron_add(app, "__pbDBOptimize__", "0 0 * * *", db_optimize,
                         NULL);
    if (rc == 0)
        rc = bs_cron_add(app, "__pbMFACleanup__", "0 * * * *", mfa_cleanup,
                         NULL);
    if (rc == 0)
        rc = bs_cron_add(app, "__pbOTPCleanup__", "0 * * * *", otp_cleanup,
                         NULL);
    return rc;
}
