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

/* ---- types.d.ts (types.c) -------------------------------------------------
 *
 * TypeScript declarations of every global the hooks and migrations see,
 * generated from the bindings themselves (see types.c). */

/* The declarations' text; *out is malloc'ed. Any thread. */
int bs_js_types_text(bs_app *app, char **out, bs_error *err);

/* Writes them to path (pb_data/types.d.ts) unless the file already
 * holds the same text. */
int bs_js_write_types(bs_app *app, const char *path, bs_error *err);

/* Whether the file at path was written by this very program (its last
 * line says so), so that writing it again would change nothing; no
 * engine is started to tell. */
bool bs_js_types_current(const char *path);

/* ---- migrations (migrations.c) -------------------------------------------
 *
 * dir is the pb_migrations directory: its *.js and *.ts files, in
 * filename order, each calling migrate(up, down). Applied files are rows
 * of `_migrations` (file name, applied in microseconds) as in PocketBase.
 * Errors name the file: "Failed to apply migration FILE: file:line: msg".
 */

/* Applies every file not yet in _migrations, each in its own
 * transaction with its row; stops at the first failure (that file rolled
 * back). *applied (may be NULL) counts the files applied. */
int bs_js_migrate_up(bs_app *app, const char *dir, int *applied,
                     bs_error *err);

/* Reverts the last n applied files (latest first) with their down
 * functions and forgets them. */
int bs_js_migrate_down(bs_app *app, const char *dir, int n, int *reverted,
                       bs_error *err);

/* Forgets the _migrations rows of .js/.ts files no longer in dir. */
int bs_js_migrate_history_sync(bs_app *app, const char *dir, int *removed,
                               bs_error *err);

/* Writes a blank migration <unix ts>_<name>.js; *path is malloc'ed. */
int bs_js_migrate_create(const char *dir, const char *name, char **path,
                         bs_error *err);

/* Writes <ts>_collections_snapshot.js importing every current
 * collection. */
int bs_js_migrate_collections(bs_app *app, const char *dir, char **path,
                              bs_error *err);

/* Automigrate: after each successful collection create, update or
 * delete, writes <ts>_created_|updated_|deleted_<name>.js reproducing it
 * (and its reverse) and records it as applied. */
typedef struct bs_js_automigrate bs_js_automigrate;
int bs_js_automigrate_bind(bs_app *app, const char *dir,
                           bs_js_automigrate **out);
void bs_js_automigrate_free(bs_js_automigrate *am);

#endif
