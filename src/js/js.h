/*
 * js.h - JavaScript hooks: the pb_hooks directory run on JavaScriptCore.
 *
 * The command line's `serve` opens the hooks of an app with bs_js_open
 * before bootstrapping it and frees them after the server stopped. What
 * the files register (routes, hooks, middlewares, cron jobs) is bound to
 * the app through the public C API (include/basalt.h) and nothing else;
 * docs/js.md describes the design and the JavaScript surface.
 */
#ifndef BS_JS_H
#define BS_JS_H

#include <stdbool.h>

#include "basalt.h"

typedef struct bs_js bs_js;

typedef struct bs_js_config {
    const char *hooks_dir; /* the pb_hooks directory (required) */
    bool watch;            /* reload when a file changes */
    int pool_size;         /* contexts created up front; 0: 4 */
    int time_limit_ms;     /* longest handler run; 0: the environment's
                              BASALT_JS_TIME_LIMIT_MS, else 30 s */
} bs_js_config;

/* Loads every *.pb.js and *.pb.ts file directly inside cfg->hooks_dir,
 * in filename order, and binds what they register to app. A missing
 * directory loads nothing (and is watched when watching). A file that
 * fails to load is reported in err ("file:line: message") and nothing is
 * bound; with cfg->watch the failure is only logged and the files are
 * loaded again when they change. Call on the main thread before
 * bs_app_bootstrap; *out is freed with bs_js_free after serving. */
int bs_js_open(bs_app *app, const bs_js_config *cfg, bs_js **out,
               bs_error *err);

/* Unbinds everything, stops the watcher and frees the contexts. Call
 * once no request or job runs any more (after bs_app_serve returned). */
void bs_js_free(bs_js *js);

#endif
