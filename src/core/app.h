/*
 * app.h - the application: everything hangs off one bs_app.
 *
 * There are no globals: the store, the schema snapshot, the settings, the
 * router, the hooks and the server are all reached from the app, and
 * handlers get the app from their event.
 */
#ifndef BS_APP_H
#define BS_APP_H

#include <pthread.h>

#include "../db/store.h"
#include "../http/router.h"
#include "../http/server.h"
#include "../schema/schema.h"
#include "ratelimit.h"
#include "settings.h"

struct bs_app {
    char *data_dir;
    char *public_dir;
    char *http_addr;
    char *origins;
    bool dev;
    int threads;

    bs_store *store;
    /* The PostgreSQL database of the store, or NULL for SQLite; the
     * filter dialect of the store's engine (NULL: SQLite's). */
    char *db_url;
    const struct bs_sql_dialect *dialect;

    pthread_mutex_t snap_lock;  /* guards the two snapshot pointers */
    /* Held while a snapshot is loaded and swapped in, so that a reload
     * that read the database before a change committed here cannot
     * swap its older copy in after the change's own. */
    pthread_mutex_t reload_lock;
    bs_schema *schema;
    bs_settings *settings;

    /* Filled and run by the API layer's bs_app_serve (src/api/serve.c);
     * the app owns them and frees them with itself. */
    bs_router *router;
    bs_hook *middlewares;
    bs_server *server;
    int stop_pipe[2];       /* bs_app_stop writes, bs_app_serve waits */

    /* The counters of the settings' rate limit rules, shared by every
     * endpoint; reset by the API layer when the settings change. */
    bs_ratelimiter *limiter;

    /* The realtime broker (realtime.c): created with the app, started
     * by the API layer while serving. */
    struct bs_realtime *realtime;

    /* Webhooks (webhooks.c): created with the app (the outbox hooks),
     * the sender started by the API layer while serving. */
    struct bs_webhooks *webhooks;

    /* Request logs and logger lines (logs.c): created with the app,
     * started by the bootstrap once the store is open. */
    struct bs_logs *logs;

    /* The metrics registry (metrics.c): requests, cron runs, backups. */
    struct bs_metrics *metrics;

    /* The message bus shared with other nodes (cluster.c), NULL until
     * bs_cluster_configure; connected by the API layer while serving. */
    struct bs_cluster *cluster;

    bs_hook *hooks[BS_HOOK_COUNT];

    /* ---- the framework (issue 17) ---------------------------------- */
    /* Commands registered with bs_app_add_command, run by bs_app_start
     * (src/cli/start.c). Registration happens before start, on the
     * thread that owns the app. */
    struct bs_command *commands;
    int ncommands;
    /* Work off the HTTP threads (pool.c: bs_app_go, cron jobs) and the
     * scheduler (cron.c), created with the app; the ticker runs while
     * serving. */
    struct bs_pool *pool;
    struct bs_cron *cron;

    /* ---- backups (backup.c) ---------------------------------------- */
    /* The key of the backup or restore running now ("" before its name
     * is known), NULL when none: one at a time. Guarded by backup_lock. */
    pthread_mutex_t backup_lock;
    char *backup_active;
    /* The program's arguments as bs_app_start received them (not owned),
     * for the restart after a restore; NULL when not started by it. */
    char **argv;
};

/* One command of the program's command line. */
typedef struct bs_command {
    char *name;
    char *help;
    bs_command_fn fn;
    void *user;
} bs_command;

/* Changes the configuration of an app that has not been bootstrapped:
 * each non-NULL string (and dev when set_dev, threads when > 0) replaces
 * the current one. Returns 0, BS_EINVAL once bootstrapped, BS_ENOMEM. */
int bs_app_configure(bs_app *app, const bs_app_config *cfg, bool set_dev);

/* The app's data directory. */
const char *bs_app_data_dir(const bs_app *app);

/* Returns the current schema with a reference; release with
 * bs_schema_unref. Any thread. */
bs_schema *bs_app_schema(bs_app *app);

/* Reloads the schema from the database and swaps it in. Any thread. */
int bs_app_reload_schema(bs_app *app);

/* Reloads the schema snapshot and the settings from the database, as
 * at start-up (after SQL that may have changed them: the SQL console,
 * another process). Any thread. */
void bs_app_reload_snapshots(bs_app *app);

/* Picks up what another process committed to data.db (a collections
 * import, settings written by another node): when the store reports a
 * change made elsewhere, the schema snapshot and the settings are
 * reloaded from the database, as at start-up. Cheap when nothing
 * changed; the server calls it about once a second. Returns true when
 * something was reloaded. Any thread. */
bool bs_app_sync_external(bs_app *app);

/* Current settings with a reference; release with bs_settings_unref. */
bs_settings *bs_app_settings(bs_app *app);

/* Replaces the settings snapshot (takes the caller's reference) and fires
 * the settings_reload hook. */
void bs_app_set_settings(bs_app *app, bs_settings *s);

#endif
