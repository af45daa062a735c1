/*
 * app.c - the application's life: create, bootstrap, stop, free.
 *
 * Creating the app binds the built-in model hooks (auth_models.c).
 * Bootstrap opens the store, runs pending system migrations, loads the
 * settings and the schema snapshot and fires the bootstrap hook. Serving
 * belongs to the API layer (src/api/serve.c: bs_app_serve), which waits
 * for a stop request on the app's self-pipe; bs_app_stop writes to it
 * and is safe to call from a signal handler.
 */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/util.h"
#include "../filter/dialect.h"
#include "auth.h"
#include "auth_models.h"
#include "backup.h"
#include "cluster.h"
#include "cron.h"
#include "pool.h"
#include "realtime.h"
#include "webhooks.h"
#include "events.h"
#include "logs.h"
#include "metrics.h"
#include "migrate.h"

/* HTTP worker threads per CPU by default. More workers let more record
 * saves share a COMMIT (on 2 CPUs: 1.03 saves per COMMIT with 2 workers,
 * 3.4 with 4, 4.5 with 8), but creates were about 13% slower with 4
 * than with 2 in the same run (waking the members of a group costs CPU,
 * and the COMMIT was not what bounded them), so one per CPU stays the
 * default; BASALT_HTTP_THREADS sets another count. */
#define HTTP_THREADS_PER_CPU 1

static char *dup_or(const char *s, const char *def)
{
    return strdup(s && *s ? s : def);
}

/* HTTP worker threads when the configuration leaves it open:
 * BASALT_HTTP_THREADS when set, else HTTP_THREADS_PER_CPU per CPU. */
static int default_threads(void)
{
    const char *v = getenv("BASALT_HTTP_THREADS");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*end && n >= 1 && n <= 1024)
            return (int)n;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return (int)(cpus * HTTP_THREADS_PER_CPU);
}

bs_app *bs_app_new(const bs_app_config *cfg)
{
    bs_app_config none = {0};
    if (!cfg)
        cfg = &none;
    bs_app *app = calloc(1, sizeof *app);
    if (!app)
        return NULL;
    app->data_dir = dup_or(cfg->data_dir, "pb_data");
    if (cfg->public_dir && *cfg->public_dir) {
        app->public_dir = strdup(cfg->public_dir);
    } else {
        size_t n = strlen(app->data_dir) + 16;
        app->public_dir = malloc(n);
        if (app->public_dir)
            snprintf(app->public_dir, n, "%s/../pb_public", app->data_dir);
    }
    const char *url = cfg->db_url ? cfg->db_url : getenv("BASALT_DB_URL");
    app->db_url = url && *url ? strdup(url) : NULL;
    app->http_addr = dup_or(cfg->http_addr, "127.0.0.1:8090");
    app->origins = dup_or(cfg->origins, "*");
    app->dev = cfg->dev;
    app->threads = cfg->threads > 0 ? cfg->threads : default_threads();
    app->stop_pipe[0] = app->stop_pipe[1] = -1;
    pthread_mutex_init(&app->snap_lock, NULL);
    /* Recursive: a settings_reload handler may save a collection. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&app->reload_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&app->backup_lock, NULL);
    for (int i = 0; i < BS_HOOK_COUNT; i++)
        app->hooks[i] = bs_hook_new();
    app->router = bs_router_new();
    app->middlewares = bs_hook_new();
    app->limiter = bs_ratelimiter_new();
    app->metrics = bs_metrics_new();
    if (!app->metrics || !app->data_dir || !app->public_dir || !app->http_addr ||
        !app->origins || !app->router || !app->middlewares || !app->limiter ||
        pipe2(app->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        bs_app_free(app);
        return NULL;
    }
    for (int i = 0; i < BS_HOOK_COUNT; i++) {
        if (!app->hooks[i]) {
            bs_app_free(app);
            return NULL;
        }
    }
    /* The model invariants come first, so that every save from any
     * caller keeps them. */
    if (bs_auth_models_bind(app) != 0) {
        bs_app_free(app);
        return NULL;
    }
    /* Every committed record change is published to realtime clients. */
    app->realtime = bs_realtime_new(app);
    if (!app->realtime) {
        bs_app_free(app);
        return NULL;
    }
    /* Record changes that match a webhook write its outbox rows. */
    app->webhooks = bs_webhooks_new(app);
    if (!app->webhooks) {
        bs_app_free(app);
        return NULL;
    }
    app->logs = bs_logs_new(app);
    if (!app->logs) {
        bs_app_free(app);
        return NULL;
    }
    app->pool = bs_pool_new(app, 16);
    app->cron = app->pool ? bs_cron_new(app, app->pool) : NULL;
    if (!app->cron || bs_cron_system_jobs(app) != 0 ||
        bs_backup_bind(app) != 0) {
        bs_app_free(app);
        return NULL;
    }
    bs_log_set_verbose(app->dev);
    return app;
}

void bs_app_free(bs_app *app)
{
    if (!app)
        return;
    /* The scheduler first, then the queued and running work, while the
     * store is still open. */
    bs_cron_free(app->cron);
    bs_pool_free(app->pool);
    bs_cluster_free(app->cluster);
    bs_realtime_free(app->realtime);
    bs_webhooks_free(app->webhooks);
    bs_logs_free(app->logs); /* writes what is queued */
    if (app->limiter)
        bs_ratelimiter_share(app->limiter, NULL);
    bs_store_close(app->store);
    bs_schema_unref(app->schema);
    bs_settings_unref(app->settings);
    bs_router_free(app->router);
    bs_hook_free(app->middlewares);
    bs_ratelimiter_free(app->limiter);
    bs_metrics_free(app->metrics);
    for (int i = 0; i < BS_HOOK_COUNT; i++)
        bs_hook_free(app->hooks[i]);
    for (int i = 0; i < 2; i++) {
        if (app->stop_pipe[i] >= 0)
            close(app->stop_pipe[i]);
    }
    for (int i = 0; i < app->ncommands; i++) {
        free(app->commands[i].name);
        free(app->commands[i].help);
    }
    free(app->commands);
    pthread_mutex_destroy(&app->snap_lock);
    pthread_mutex_destroy(&app->reload_lock);
    pthread_mutex_destroy(&app->backup_lock);
    free(app->backup_active);
    free(app->data_dir);
    free(app->public_dir);
    free(app->http_addr);
    free(app->db_url);
    free(app->origins);
    free(app);
}

bs_hook *bs_app_hook(bs_app *app, bs_hook_id id)
{
    return (unsigned)id < BS_HOOK_COUNT ? app->hooks[id] : NULL;
}

int bs_app_add_route(bs_app *app, const char *method, const char *pattern,
                     bs_handler_fn fn, void *user)
{
    return bs_router_add(app->router, method, pattern, fn, user) ? 0
                                                                 : BS_EINVAL;
}

/* Replaces *slot with a copy of s when s is given; false when out of
 * memory. */
static bool replace_str(char **slot, const char *s)
{
    if (!s)
        return true;
    char *d = strdup(s);
    if (!d)
        return false;
    free(*slot);
    *slot = d;
    return true;
}

int bs_app_configure(bs_app *app, const bs_app_config *cfg, bool set_dev)
{
    if (app->store)
        return BS_EINVAL;
    bool data_changed = cfg->data_dir && !cfg->public_dir;
    if (!replace_str(&app->data_dir, cfg->data_dir) ||
        !replace_str(&app->public_dir, cfg->public_dir) ||
        !replace_str(&app->http_addr, cfg->http_addr) ||
        !replace_str(&app->origins, cfg->origins) ||
        !replace_str(&app->db_url, cfg->db_url))
        return BS_ENOMEM;
    if (data_changed) {
        /* pb_public follows the data directory unless set apart. */
        size_t n = strlen(app->data_dir) + 16;
        char *pub = malloc(n);
        if (!pub)
            return BS_ENOMEM;
        snprintf(pub, n, "%s/../pb_public", app->data_dir);
        free(app->public_dir);
        app->public_dir = pub;
    }
    if (set_dev) {
        app->dev = cfg->dev;
        bs_log_set_verbose(app->dev);
    }
    if (cfg->threads > 0)
        app->threads = cfg->threads;
    return 0;
}

int bs_app_go(bs_app *app, bs_job_fn fn, void *arg)
{
    return fn ? bs_pool_submit(app->pool, fn, arg) : BS_EINVAL;
}

const char *bs_app_data_dir(const bs_app *app)
{
    return app->data_dir;
}

int bs_app_add_command(bs_app *app, const char *name, const char *help,
                       bs_command_fn fn, void *user)
{
    if (!name || !*name || name[0] == '-' || !fn)
        return BS_EINVAL;
    for (int i = 0; i < app->ncommands; i++) {
        if (strcmp(app->commands[i].name, name) == 0)
            return BS_EINVAL;
    }
    bs_command *cmds = realloc(app->commands,
                               sizeof *cmds * (size_t)(app->ncommands + 1));
    if (!cmds)
        return BS_ENOMEM;
    app->commands = cmds;
    bs_command *c = &cmds[app->ncommands];
    c->name = strdup(name);
    c->help = strdup(help ? help : "");
    c->fn = fn;
    c->user = user;
    if (!c->name || !c->help) {
        free(c->name);
        free(c->help);
        return BS_ENOMEM;
    }
    app->ncommands++;
    return 0;
}

bs_schema *bs_app_schema(bs_app *app)
{
    pthread_mutex_lock(&app->snap_lock);
    bs_schema *s = app->schema;
    if (s)
        bs_schema_ref(s);
    pthread_mutex_unlock(&app->snap_lock);
    return s;
}

int bs_app_reload_schema(bs_app *app)
{
    pthread_mutex_lock(&app->reload_lock);
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_schema *s = NULL;
    int rc = bs_schema_load(c, &s);
    bs_store_reader_release(app->store, c);
    if (rc == 0) {
        pthread_mutex_lock(&app->snap_lock);
        bs_schema *old = app->schema;
        app->schema = s;
        pthread_mutex_unlock(&app->snap_lock);
        bs_schema_unref(old);
    }
    pthread_mutex_unlock(&app->reload_lock);
    return rc;
}

/* Swaps the settings snapshot and fires the settings_reload hook; the
 * caller holds reload_lock. */
static void swap_settings(bs_app *app, bs_settings *s)
{
    pthread_mutex_lock(&app->snap_lock);
    bs_settings *old = app->settings;
    app->settings = s;
    pthread_mutex_unlock(&app->snap_lock);
    bs_settings_unref(old);
    bs_event e = {.app = app};
    bs_trigger_base(app, BS_ON_SETTINGS_RELOAD, &e, NULL, NULL);
}

static int reload_settings(bs_app *app)
{
    pthread_mutex_lock(&app->reload_lock);
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_settings *s = NULL;
    bool found = false;
    int rc = bs_settings_load(c, &s, &found);
    bs_store_reader_release(app->store, c);
    if (rc == 0)
        swap_settings(app, s);
    pthread_mutex_unlock(&app->reload_lock);
    return rc;
}

void bs_app_reload_snapshots(bs_app *app)
{
    if (bs_app_reload_schema(app) != 0)
        bs_log_warn(app, "Failed to reload the collections", NULL);
    if (reload_settings(app) != 0)
        bs_log_warn(app, "Failed to reload the settings", NULL);
    if (bs_webhooks_reload(app) != 0)
        bs_log_warn(app, "Failed to reload the webhooks", NULL);
}

bool bs_app_sync_external(bs_app *app)
{
    if (!app->store || !bs_store_changed_elsewhere(app->store))
        return false;
    bs_app_reload_snapshots(app);
    bs_log('D', "Reloaded collections and settings changed by another "
                "process");
    return true;
}

bs_settings *bs_app_settings(bs_app *app)
{
    pthread_mutex_lock(&app->snap_lock);
    bs_settings *s = app->settings;
    if (s)
        bs_settings_ref(s);
    pthread_mutex_unlock(&app->snap_lock);
    return s;
}

void bs_app_set_settings(bs_app *app, bs_settings *s)
{
    pthread_mutex_lock(&app->reload_lock);
    swap_settings(app, s);
    pthread_mutex_unlock(&app->reload_lock);
}

/* The innermost step of the bootstrap hook. */
static int bootstrap_final(bs_event *e, void *user)
{
    bs_app *app = e->app;
    bs_error *err = user;
    int readers = app->threads + 1;
    int rc;
    if (app->db_url) {
        rc = bs_store_open_pg(&app->store, app->data_dir, app->db_url,
                              readers, err);
        app->dialect = bs_sql_dialect_postgres();
    } else {
        rc = bs_store_open(&app->store, app->data_dir, readers, err);
    }
    if (rc)
        return rc;
    bs_ratelimiter_share(app->limiter, app->store);
    rc = bs_migrate_run(app, err);
    if (rc)
        return rc;
    rc = bs_app_reload_schema(app);
    if (rc)
        return bs_error_set(err, 500, "Failed to load the collections.");
    if (bs_webhooks_reload(app) != 0)
        return bs_error_set(err, 500, "Failed to load the webhooks.");
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_settings *s = NULL;
    bool found = false;
    rc = bs_settings_load(c, &s, &found);
    bs_store_reader_release(app->store, c);
    if (rc)
        return bs_error_set(err, 500, "Failed to load the settings.");
    pthread_mutex_lock(&app->snap_lock);
    app->settings = s;
    pthread_mutex_unlock(&app->snap_lock);
    return bs_logs_start(app, err);
}

int bs_app_bootstrap(bs_app *app, bs_error *err)
{
    bs_event e = {.app = app, .error = err};
    return bs_trigger_base(app, BS_ON_BOOTSTRAP, &e, bootstrap_final, err);
}

void bs_app_stop(bs_app *app)
{
    int saved = errno;
    char c = 1;
    if (write(app->stop_pipe[1], &c, 1) < 0) {
        /* The pipe is full: a stop is already pending. */
    }
    errno = saved;
}

int bs_app_port(const bs_app *app)
{
    return app->server ? bs_server_port(app->server) : 0;
}
