/*
 * serve.c - bs_app_serve: register the routes, run the HTTP server, wait
 * for a stop.
 *
 * Serve registers the routes (built-in ones first, then the serve hook
 * lets an embedding program add its own), starts the HTTP server in the
 * innermost step of that hook and waits for a stop request on the app's
 * self-pipe, which bs_app_stop (and so the signal handlers) writes to.
 * What serving adds to the app (the CORS list, pb_public) lives in a
 * bs_api_serving on this function's stack and is released once the
 * server has stopped.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../base/util.h"
#include "../core/backup.h"
#include "../core/cluster.h"
#include "../core/cron.h"
#include "../core/events.h"
#include "../core/files.h"
#include "../core/realtime.h"
#include "../core/webhooks.h"
#include "api.h"

static void on_signal(int sig);
static bs_app *signal_app; /* the one app a signal handler may stop */

static void on_signal(int sig)
{
    (void)sig;
    if (signal_app)
        bs_app_stop(signal_app);
}

typedef struct serve_ctx {
    bs_error *err;
    bs_api_serving *sv;
} serve_ctx;

/* The innermost step of the serve hook: start the server. */
static int serve_final(bs_event *e, void *user)
{
    bs_app *app = e->app;
    serve_ctx *sc = user;
    bs_error *err = sc->err;
    bs_server_config cfg = {
        .addr = app->http_addr,
        .threads = app->threads,
        .body_limit = 32u << 20,
        .timeout_s = 60,
        .router = app->router,
        .middlewares = app->middlewares,
        .app = app,
        .uploads = {.dir = sc->sv->upload_dir,
                    .limit = bsa_upload_limit,
                    .user = app},
    };
    return bs_server_start(&app->server, &cfg, err);
}

/* Releases what bs_api_register put in sv; the server must be stopped. */
static void serving_dispose(bs_app *app, bs_api_serving *sv)
{
    bs_hook_unbind(app->middlewares, "pbCors");
    free(sv->upload_dir);
    bs_cors_free(sv->cors);
    if (sv->has_pub)
        bs_static_dispose(&sv->pub);
}

int bs_app_serve(bs_app *app, bool install_signals, bs_error *err)
{
    bs_api_serving sv = {0};
    int rc = bs_api_register(app, &sv);
    if (rc) {
        serving_dispose(app, &sv);
        return bs_error_set(err, 500, "Failed to register the routes.");
    }
    if (install_signals) {
        signal_app = app;
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
    }
    /* What earlier backups and restores left (the data a restore
     * replaced among it) goes. */
    bs_backup_clean_temp(app);
    /* Multipart file parts are spooled beside the storage, so that a
     * save moves them into place with a rename. */
    if (bs_files_init_tmp(app) == 0 &&
        asprintf(&sv.upload_dir, "%s/%s", app->data_dir, BS_FILES_TMP) < 0)
        sv.upload_dir = NULL;
    if (!sv.upload_dir)
        bs_log('W', "No upload folder: multipart bodies are read whole");
    /* Other nodes' changes and notices (when a NATS URL is set). */
    if (bs_cluster_start(app) != 0) {
        serving_dispose(app, &sv);
        return bs_error_set(err, 500, "Failed to start the NATS connection.");
    }
    bs_event e = {.app = app, .error = err};
    serve_ctx sc = {err, &sv};
    rc = bs_trigger_base(app, BS_ON_SERVE, &e, serve_final, &sc);
    if (rc) {
        /* A serve hook may fail after the server started. */
        bs_cluster_stop(app);
        bs_realtime_stop(app->realtime);
        if (app->server) {
            bs_server_stop(app->server, 2000);
            app->server = NULL;
        }
        /* What registration set up (the auth API's state among it) is
         * released by the terminate hook, as after a stop, so a start
         * that fails leaks nothing. */
        bs_event te = {.app = app};
        bs_trigger_base(app, BS_ON_TERMINATE, &te, NULL, NULL);
        serving_dispose(app, &sv);
        return rc;
    }
    bs_log('I', "Server started at http://%s", app->http_addr);
    if (bs_cron_start(app->cron) != 0)
        bs_log('W', "Failed to start the cron scheduler");
    if (bs_webhooks_start(app) != 0)
        bs_log('W', "Failed to start the webhooks sender");

    /* Wait for a stop, looking once a second for schema and settings
     * changes committed by another process. */
    struct pollfd pfd = {.fd = app->stop_pipe[0], .events = POLLIN};
    bs_app_sync_external(app);
    for (;;) {
        int n = poll(&pfd, 1, 1000);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR)
            break;
        bs_app_sync_external(app);
    }
    char drain[64];
    while (read(app->stop_pipe[0], drain, sizeof drain) > 0) {
    }
    bs_log('I', "Shutting down");
    bs_cron_stop(app->cron);
    bs_webhooks_stop(app);
    /* Realtime streams never end by themselves: end them first, so the
     * server's drain sees them finish. */
    bs_cluster_stop(app);
    bs_realtime_stop(app->realtime);
    bs_server_stop(app->server, 2000);
    app->server = NULL;
    bs_event te = {.app = app};
    bs_trigger_base(app, BS_ON_TERMINATE, &te, NULL, NULL);
    serving_dispose(app, &sv);
    if (install_signals)
        signal_app = NULL;
    return 0;
}
