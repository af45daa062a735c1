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
#include <signal.h>

#include "../db/store.h"
#include "../http/router.h"
#include "../http/server.h"
#include "../http/static.h"
#include "../schema/schema.h"
#include "settings.h"

struct bs_app {
    char *data_dir;
    char *public_dir;
    char *http_addr;
    char *origins;
    bool dev;
    int threads;

    bs_store *store;

    pthread_mutex_t snap_lock;  /* guards the two snapshot pointers */
    bs_schema *schema;
    bs_settings *settings;

    bs_router *router;
    struct bs_cors *cors;
    bs_hook *middlewares;
    bs_static pub;
    bool has_pub;
    bs_server *server;
    int stop_pipe[2];

    bs_hook *hooks[BS_HOOK_COUNT];

    /* State of the API layer shared by its areas (the rate limiter and
     * short-lived auth data), owned and freed by that layer. */
    void *api_state;
};

/* Returns the current schema with a reference; release with
 * bs_schema_unref. Any thread. */
bs_schema *bs_app_schema(bs_app *app);

/* Reloads the schema from the database and swaps it in. */
int bs_app_reload_schema(bs_app *app);

/* Current settings with a reference; release with bs_settings_unref. */
bs_settings *bs_app_settings(bs_app *app);

/* Replaces the settings snapshot (takes the caller's reference) and fires
 * the settings_reload hook. */
void bs_app_set_settings(bs_app *app, bs_settings *s);

#endif
