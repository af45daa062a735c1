/*
 * migrations.c - pb_migrations: JavaScript migration files applied,
 * reverted and written as PocketBase does.
 *
 * A migration file calls migrate(up, down) at its top level. Files are
 * the *.js and *.ts directly inside the directory, in filename order.
 * Each applied file is a row of data.db's `_migrations` table (file =
 * the file's name, applied = microseconds), the table PocketBase keeps,
 * so a PocketBase project's history carries over. Every file runs in its
 * own transaction together with its row: a failure rolls both back.
 *
 * The files run in one context of their own (the prelude and the
 * natives, no hook files), built on the public C API only.
 * Automigrate binds the collection after-success hooks and writes a file
 * reproducing each change, recorded as applied.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "engine.h"

/* ---- files ------------------------------------------------------------------- */

static bool is_migration_name(const char *n)
{
    size_t len = strlen(n);
    if (n[0] == '.' || len < 4)
        return false;
    if (len > 5 && strcmp(n + len - 5, ".d.ts") == 0)
        return false;
    return strcmp(n + len - 3, ".js") == 0 || strcmp(n + len - 3, ".ts") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The migration file names of dir, sorted; a missing dir has none. */
static int list_files(const char *dir, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_migration_name(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **g = realloc(*out, (size_t)cap * sizeof *g);
            if (!g)
                break;
            *out = g;
        }
        (*out)[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*out, (size_t)*n, sizeof **out, cmp_names);
    return 0;
}

static void free_list(char **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static char *read_text(const char *path)
{
    bs_buf b;
    bs_buf_init(&b);
    if (bsj_read_file(path, &b) != 0) {
        bs_buf_dispose(&b);
        return NULL;
    }
    bs_buf_puts(&b, "");
    if (b.oom) {
        bs_buf_dispose(&b);
        return NULL;
    }
    return bs_buf_steal(&b, NULL);
}

/* ---- the runner ---------------------------------------------------------------- */

typedef struct runner {
    bs_js js;
    bsj_gen gen;
    bsj_ctx *c;
    int64_t last_applied;
} runner;

static int runner_open(runner *r, bs_app *app, const char *dir, bs_error *err)
{
    memset(r, 0, sizeof *r);
    r->js.app = app;
    r->js.dir = (char *)dir;
    const char *lim = getenv("BASALT_JS_TIME_LIMIT_MS");
    r->js.time_limit_ms = lim && atoi(lim) > 0 ? atoi(lim) : 30000;
    pthread_mutex_init(&r->js.lock, NULL);
    r->gen.js = &r->js;
    pthread_mutex_init(&r->gen.lock, NULL);
    return bsj_ctx_new(&r->gen, true, &r->c, err);
}

static void runner_close(runner *r)
{
    bsj_ctx_free(r->c);
    pthread_mutex_destroy(&r->gen.lock);
    pthread_mutex_destroy(&r->js.lock);
}

typedef struct run_one {
    runner *r;
    const char *file;
    JSObjectRef pair;
    bool down;
    JSValueRef exc;
    bs_error *err;
} run_one;

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static json_object *file_param(const char *file)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "file", json_object_new_string(file));
    return p;
}

/* Records file as applied (or, reverting, forgets it) on the running
 * transaction, with an applied time after the previous one. */
static int note(runner *r, const char *file, bool down, bs_error *err)
{
    json_object *p = file_param(file);
    int rc;
    if (down) {
        rc = bs_db_exec(r->js.app, "DELETE FROM _migrations WHERE file = {:file}",
                        p, NULL, err);
    } else {
        int64_t t = now_us();
        if (t <= r->last_applied)
            t = r->last_applied + 1;
        r->last_applied = t;
        json_object_object_add(p, "applied", json_object_new_int64(t));
        rc = bs_db_exec(r->js.app,
                        "INSERT INTO _migrations (file, applied) VALUES "
                        "({:file}, {:applied})",
                        p, NULL, err);
    }
    json_object_put(p);
    return rc;
}

static int run_body(bs_tx *tx, void *data)
{
    (void)tx;
    run_one *o = data;
    runner *r = o->r;
    JSContextRef ctx = r->c->ctx;
    JSObjectRef bs = (JSObjectRef)bsj_get(ctx, JSContextGetGlobalObject(ctx),
                                          "__bs");
    JSObjectRef fn = (JSObjectRef)bsj_get(ctx, bs, "runMigration");
    JSValueRef args[2] = {o->pair, JSValueMakeBoolean(ctx, o->down)};
    r->c->deadline_ms = bs_mono_ms() + r->js.time_limit_ms;
    JSValueRef st = JSObjectCallAsFunction(ctx, fn, NULL, 2, args, &o->exc);
    /* An async migration returned a promise: run its jobs and timers
     * until it settles, still inside the transaction. */
    if (!o->exc && !r->c->terminated && st && JSValueIsObject(ctx, st))
        bsj_loop_wait(r->c, (JSObjectRef)st, &o->exc);
    if (!r->c->terminated)
        JSObjectCallAsFunction(ctx, r->c->clear_timers, NULL, 0, NULL, NULL);
    bsj_handles_release(r->c);
    if (r->c->terminated)
        return bs_error_set(o->err, 500, "it ran past the time limit");
    if (o->exc) {
        JSValueProtect(ctx, o->exc);
        return BS_EABORT;
    }
    return note(r, o->file, o->down, o->err);
}

/* The text of an exception thrown by a migration: "FILE:LINE: message"
 * (the line of the migration file on the stack when the exception was
 * thrown deeper) and the JSON of an ApiError's data. */
static char *error_text(JSContextRef ctx, JSValueRef exc, const char *path)
{
    char *text = bsj_exception_text(ctx, exc);
    bs_buf b;
    bs_buf_init(&b);
    if (JSValueIsObject(ctx, exc)) {
        JSObjectRef o = (JSObjectRef)exc;
        char *stack = bsj_cstr(ctx, bsj_get(ctx, o, "stack"));
        const char *at = stack ? strstr(stack, path) : NULL;
        if (at && text && strncmp(text, path, strlen(path)) != 0) {
            const char *msg = strstr(text, ": ");
            int line = atoi(at + strlen(path) + 1);
            bs_buf_printf(&b, "%s:%d: %s", path, line,
                          msg ? msg + 2 : text);
        }
        free(stack);
        json_object *data = bsj_to_json(ctx, bsj_get(ctx, o, "data"));
        if (!b.len)
            bs_buf_puts(&b, text ? text : "unknown error");
        if (data && json_object_is_type(data, json_type_object) &&
            json_object_object_length(data))
            bs_buf_printf(&b, " %s", json_object_to_json_string(data));
        json_object_put(data);
    } else {
        bs_buf_puts(&b, text ? text : "unknown error");
    }
    free(text);
    return b.oom ? NULL : bs_buf_steal(&b, NULL);
}

/* Loads file (a name inside dir) and runs its up or down function in a
 * transaction with its _migrations row. */
static int run_file(runner *r, const char *dir, const char *file, bool down,
                    bs_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = read_text(path);
    if (!text)
        return bs_error_set(err, 500, "Failed to %s migration %s: cannot "
                            "read the file.", down ? "revert" : "apply", file);
    bsj_ctx *c = r->c;
    bsj_ctx *outer = bsj_current();
    bsj_set_current(c);
    JSContextRef ctx = c->ctx;
    JSObjectRef bs = (JSObjectRef)bsj_get(ctx, JSContextGetGlobalObject(ctx),
                                          "__bs");
    JSValueRef exc = NULL;
    JSValueRef args[2] = {bsj_string(ctx, path), bsj_string(ctx, text)};
    free(text);
    c->deadline_ms = bs_mono_ms() + r->js.time_limit_ms;
    JSObjectCallAsFunction(ctx, (JSObjectRef)bsj_get(ctx, bs, "loadFile"),
                           NULL, 2, args, &exc);
    JSValueRef pair = NULL;
    if (!exc)
        pair = JSObjectCallAsFunction(
            ctx, (JSObjectRef)bsj_get(ctx, bs, "takeMigration"), NULL, 0,
            NULL, &exc);
    int rc = 0;
    const char *verb = down ? "revert" : "apply";
    if (exc || c->terminated) {
        char *msg = c->terminated ? strdup("it ran past the time limit")
                                  : error_text(ctx, exc, path);
        rc = bs_error_set(err, 500, "Failed to %s migration %s: %s", verb,
                          file, msg ? msg : "unknown error");
        free(msg);
    } else if (!pair || !JSValueIsObject(ctx, pair)) {
        rc = bs_error_set(err, 500, "Failed to %s migration %s: the file "
                          "does not call migrate(up, down).", verb, file);
    } else {
        JSValueProtect(ctx, pair);
        run_one o = {.r = r, .file = file, .pair = (JSObjectRef)pair,
                     .down = down, .err = err};
        bs_error inner;
        bs_error_init(&inner);
        o.err = &inner;
        rc = bs_run_in_transaction(r->js.app, run_body, &o, &inner);
        if (o.exc) {
            char *msg = error_text(ctx, o.exc, path);
            JSValueUnprotect(ctx, o.exc);
            rc = bs_error_set(err, 500, "Failed to %s migration %s: %s",
                              verb, file, msg ? msg : "unknown error");
            free(msg);
        } else if (rc) {
            bs_error_set(err, 500, "Failed to %s migration %s: %s", verb,
                         file, inner.message ? inner.message
                                             : bs_strerror(rc));
        }
        bs_error_dispose(&inner);
        JSValueUnprotect(ctx, pair);
    }
    bsj_set_current(outer);
    return rc ? (rc < 0 ? rc : BS_EABORT) : 0;
}

/* The app migrations recorded in _migrations, latest first. */
static int applied_rows(bs_app *app, json_object **rows, bs_error *err)
{
    return bs_db_all(app,
                     "SELECT file FROM _migrations WHERE file LIKE '%.js' "
                     "OR file LIKE '%.ts' ORDER BY applied DESC, file DESC",
                     NULL, rows, err);
}

static bool is_applied(bs_app *app, const char *file)
{
    json_object *p = file_param(file), *row = NULL;
    bs_error e;
    bs_error_init(&e);
    int rc = bs_db_one(app, "SELECT file FROM _migrations WHERE file = {:file}",
                       p, &row, &e);
    json_object_put(p);
    json_object_put(row);
    bs_error_dispose(&e);
    return rc == 0;
}

int bs_js_migrate_up(bs_app *app, const char *dir, int *applied,
                     bs_error *err)
{
    if (applied)
        *applied = 0;
    char **files;
    int n;
    list_files(dir, &files, &n);
    int rc = 0;
    runner r;
    bool open = false;
    for (int i = 0; i < n && rc == 0; i++) {
        if (is_applied(app, files[i]))
            continue;
        if (!open) {
            if ((rc = runner_open(&r, app, dir, err)))
                break;
            open = true;
        }
        rc = run_file(&r, dir, files[i], false, err);
        if (rc == 0) {
            bs_log('I', "Applied migration %s", files[i]);
            if (applied)
                (*applied)++;
        }
    }
    if (open)
        runner_close(&r);
    free_list(files, n);
    return rc;
}

int bs_js_migrate_down(bs_app *app, const char *dir, int count, int *reverted,
                       bs_error *err)
{
    if (reverted)
        *reverted = 0;
    json_object *rows = NULL;
    int rc = applied_rows(app, &rows, err);
    if (rc)
        return rc;
    int total = (int)json_object_array_length(rows);
    runner r;
    bool open = false;
    for (int i = 0; i < total && i < count && rc == 0; i++) {
        const char *file = json_object_get_string(json_object_object_get(
            json_object_array_get_idx(rows, (size_t)i), "file"));
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (stat(path, &st) != 0) {
            rc = bs_error_set(err, 500, "Missing migration file %s (run "
                              "`migrate history-sync` to forget it).", file);
            break;
        }
        if (!open) {
            if ((rc = runner_open(&r, app, dir, err)))
                break;
            open = true;
        }
        rc = run_file(&r, dir, file, true, err);
        if (rc == 0) {
            bs_log('I', "Reverted migration %s", file);
            if (reverted)
                (*reverted)++;
        }
    }
    if (open)
        runner_close(&r);
    json_object_put(rows);
    return rc;
}

int bs_js_migrate_history_sync(bs_app *app, const char *dir, int *removed,
                               bs_error *err)
{
    if (removed)
        *removed = 0;
    json_object *rows = NULL;
    int rc = applied_rows(app, &rows, err);
    for (size_t i = 0; rc == 0 && i < json_object_array_length(rows); i++) {
        const char *file = json_object_get_string(json_object_object_get(
            json_object_array_get_idx(rows, i), "file"));
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (stat(path, &st) == 0)
            continue;
        json_object *p = file_param(file);
        rc = bs_db_exec(app, "DELETE FROM _migrations WHERE file = {:file}", p,
                        NULL, err);
        json_object_put(p);
        if (rc == 0 && removed)
            (*removed)++;
    }
    json_object_put(rows);
    return rc;
}

/* ---- writing files --------------------------------------------------------------- */

static int64_t last_ts;

/* Writes text as dir/<ts>_<name>.js (ts after the last file written by
 * this process, so files of one second keep their order); the path in
 * *path (malloc'ed). */
static int write_migration(const char *dir, const char *name,
                           const char *text, char **path, bs_error *err)
{
    mkdir(dir, 0755);
    int64_t ts = (int64_t)time(NULL);
    if (ts <= last_ts)
        ts = last_ts + 1;
    last_ts = ts;
    char p[4096];
    snprintf(p, sizeof p, "%s/%lld_%s.js", dir, (long long)ts, name);
    FILE *f = fopen(p, "wx");
    if (!f)
        return bs_error_set(err, 500, "Cannot write %s.", p);
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        return bs_error_set(err, 500, "Cannot write %s.", p);
    if (path)
        *path = strdup(p);
    return 0;
}

/* A name as PocketBase writes it in a file name: lower snake case. */
static void snake(const char *in, bs_buf *out)
{
    bool sep = false;
    for (const char *s = in; *s; s++) {
        char ch = *s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (sep && out->len)
                bs_buf_puts(out, "_");
            sep = false;
            bs_buf_append(out, &ch, 1);
        } else if (ch >= 'A' && ch <= 'Z') {
            if (out->len && (sep || (s > in && s[-1] >= 'a' && s[-1] <= 'z')))
                bs_buf_puts(out, "_");
            sep = false;
            ch = (char)(ch - 'A' + 'a');
            bs_buf_append(out, &ch, 1);
        } else {
            sep = true;
        }
    }
}

int bs_js_migrate_create(const char *dir, const char *name, char **path,
                         bs_error *err)
{
    bs_buf n;
    bs_buf_init(&n);
    snake(name, &n);
    bs_buf_puts(&n, "");
    if (n.oom || n.len == 0) {
        bs_buf_dispose(&n);
        return bs_error_set(err, 400, "The migration name is empty.");
    }
    static const char tmpl[] =
        "/// <reference path=\"../pb_data/types.d.ts\" />\n"
        "migrate((app) => {\n"
        "  // add up queries...\n"
        "\n"
        "}, (app) => {\n"
        "  // add down queries...\n"
        "\n"
        "})\n";
    int rc = write_migration(dir, n.data, tmpl, path, err);
    bs_buf_dispose(&n);
    return rc;
}

static const char *json_text(json_object *j)
{
    return json_object_to_json_string_ext(
        j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
               JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Indents every line after the first of text by two spaces. */
static void put_indented(bs_buf *b, const char *text)
{
    for (const char *s = text; *s; s++) {
        bs_buf_append(b, s, 1);
        if (*s == '\n')
            bs_buf_puts(b, "  ");
    }
}

int bs_js_migrate_collections(bs_app *app, const char *dir, char **path,
                              bs_error *err)
{
    json_object *all = NULL;
    int rc = bs_collection_find_all(app, &all);
    if (rc)
        return bs_error_set(err, 500, "Cannot read the collections.");
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "/// <reference path=\"../pb_data/types.d.ts\" />\n"
                    "migrate((app) => {\n  const snapshot = ");
    put_indented(&b, json_text(all));
    bs_buf_puts(&b, ";\n\n  return app.importCollections(snapshot, false);\n"
                    "}, (app) => {\n  return null;\n})\n");
    json_object_put(all);
    char ts[32];
    snprintf(ts, sizeof ts, "collections_snapshot");
    rc = b.oom ? BS_ENOMEM : write_migration(dir, ts, b.data, path, err);
    bs_buf_dispose(&b);
    return rc;
}

/* ---- automigrate ------------------------------------------------------------------ */

typedef struct auto_slot {
    struct bs_js_automigrate *am;
    int kind; /* 0 created, 1 updated, 2 deleted */
} auto_slot;

struct bs_js_automigrate {
    bs_app *app;
    char *dir;
    pthread_mutex_t lock;
    json_object *known; /* id -> the collection as last saved */
    auto_slot slots[3];
};

static const char *const AUTO_IDS[3] = {"basalt.automigrate.create",
                                        "basalt.automigrate.update",
                                        "basalt.automigrate.delete"};
static const char *const AUTO_NAMES[3] = {"created", "updated", "deleted"};
static const bs_hook_id AUTO_HOOKS[3] = {
    BS_ON_COLLECTION_AFTER_CREATE_SUCCESS,
    BS_ON_COLLECTION_AFTER_UPDATE_SUCCESS,
    BS_ON_COLLECTION_AFTER_DELETE_SUCCESS};

/* A copy of a collection without its created/updated times. */
static json_object *clean_copy(json_object *col)
{
    json_object *c = NULL;
    json_object_deep_copy(col, &c, NULL);
    if (c) {
        json_object_object_del(c, "created");
        json_object_object_del(c, "updated");
    }
    return c;
}

static void put_new(bs_buf *b, json_object *col)
{
    bs_buf_puts(b, "  const collection = new Collection(");
    put_indented(b, json_text(col));
    bs_buf_puts(b, ");\n\n  return app.save(collection);\n");
}

static void put_find(bs_buf *b, const char *id)
{
    json_object *s = json_object_new_string(id);
    bs_buf_puts(b, "  const collection = app.findCollectionByNameOrId(");
    bs_buf_puts(b, json_object_to_json_string(s));
    bs_buf_puts(b, ");\n");
    json_object_put(s);
}

/* The field of list whose id is id, or NULL. */
static json_object *field_by_id(json_object *list, const char *id)
{
    size_t n = json_object_is_type(list, json_type_array)
                   ? json_object_array_length(list)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(list, i);
        if (strcmp(bs_json_get_str(f, "id", ""), id) == 0)
            return f;
    }
    return NULL;
}

/* An update as the differences from `from` to `to`, as PocketBase
 * writes it: the changed properties through unmarshal, each removed
 * field by id, each added, changed or moved field put at its position
 * (fields.addAt replaces a field of the same id). Without `from`, the
 * whole collection. */
static void put_update(bs_buf *b, const char *id, json_object *from,
                       json_object *to)
{
    put_find(b, id);
    if (!from) {
        bs_buf_puts(b, "\n  unmarshal(");
        put_indented(b, json_text(to));
        bs_buf_puts(b, ", collection);\n\n  return app.save(collection);\n");
        return;
    }
    json_object *props = json_object_new_object();
    json_object_object_foreach(to, key, val) {
        if (strcmp(key, "fields") == 0 || strcmp(key, "id") == 0)
            continue;
        json_object *was = json_object_object_get(from, key);
        if (!json_object_equal(was, val))
            json_object_object_add(props, key, json_object_get(val));
    }
    if (json_object_object_length(props)) {
        bs_buf_puts(b, "\n  unmarshal(");
        put_indented(b, json_text(props));
        bs_buf_puts(b, ", collection);\n");
    }
    json_object_put(props);
    json_object *old_fields = json_object_object_get(from, "fields");
    json_object *new_fields = json_object_object_get(to, "fields");
    size_t n_old = json_object_is_type(old_fields, json_type_array)
                       ? json_object_array_length(old_fields)
                       : 0;
    for (size_t i = 0; i < n_old; i++) {
        const char *fid = bs_json_get_str(
            json_object_array_get_idx(old_fields, i), "id", "");
        if (field_by_id(new_fields, fid))
            continue;
        json_object *s = json_object_new_string(fid);
        bs_buf_printf(b, "\n  // remove field\n  collection.fields.removeById(%s);\n",
                      json_object_to_json_string(s));
        json_object_put(s);
    }
    size_t n_new = json_object_is_type(new_fields, json_type_array)
                       ? json_object_array_length(new_fields)
                       : 0;
    /* While the fields so far sit where they were, an unchanged one is
     * left alone; after the first move every field is put at its place
     * in turn, which leaves exactly the new order. */
    bool in_place = true;
    for (size_t i = 0; i < n_new; i++) {
        json_object *f = json_object_array_get_idx(new_fields, i);
        json_object *was = field_by_id(old_fields, bs_json_get_str(f, "id", ""));
        json_object *at = n_old > i ? json_object_array_get_idx(old_fields, i)
                                    : NULL;
        in_place = in_place && was && was == at;
        if (in_place && json_object_equal(was, f))
            continue;
        bs_buf_printf(b, "\n  // %s field\n  collection.fields.addAt(%zu, new Field(",
                      was ? "update" : "add", i);
        put_indented(b, json_text(f));
        bs_buf_puts(b, "));\n");
    }
    bs_buf_puts(b, "\n  return app.save(collection);\n");
}

static void put_delete(bs_buf *b, const char *id)
{
    put_find(b, id);
    bs_buf_puts(b, "\n  return app.delete(collection);\n");
}

/* Writes the file reproducing one change and records it as applied. */
static void auto_write(bs_js_automigrate *am, int kind, json_object *col)
{
    const char *id = bs_json_get_str(col, "id", "");
    json_object *now = clean_copy(col);
    json_object *old = NULL;
    pthread_mutex_lock(&am->lock);
    json_object *k = json_object_object_get(am->known, id);
    if (k)
        old = json_object_get(k);
    if (kind == 2)
        json_object_object_del(am->known, id);
    else
        json_object_object_add(am->known, id, json_object_get(now));
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "/// <reference path=\"../pb_data/types.d.ts\" />\n"
                    "migrate((app) => {\n");
    if (kind == 0)
        put_new(&b, now);
    else if (kind == 1)
        put_update(&b, id, old, now);
    else
        put_delete(&b, id);
    bs_buf_puts(&b, "}, (app) => {\n");
    if (kind == 0)
        put_delete(&b, id);
    else if (old && kind == 1)
        put_update(&b, id, now, old);
    else if (old)
        put_new(&b, old);
    else
        bs_buf_puts(&b, "  return null;\n");
    bs_buf_puts(&b, "})\n");
    bs_buf name;
    bs_buf_init(&name);
    bs_buf_puts(&name, AUTO_NAMES[kind]);
    bs_buf_puts(&name, "_");
    snake(bs_json_get_str(col, "name", ""), &name);
    bs_buf_puts(&name, "");
    bs_error err;
    bs_error_init(&err);
    char *path = NULL;
    int rc = b.oom || name.oom ? BS_ENOMEM
                               : write_migration(am->dir, name.data, b.data,
                                                 &path, &err);
    pthread_mutex_unlock(&am->lock);
    if (rc == 0) {
        const char *file = strrchr(path, '/') + 1;
        json_object *p = file_param(file);
        json_object_object_add(p, "applied", json_object_new_int64(now_us()));
        rc = bs_db_exec(am->app, "INSERT OR IGNORE INTO _migrations (file, "
                                 "applied) VALUES ({:file}, {:applied})",
                        p, NULL, &err);
        json_object_put(p);
        bs_log('I', "automigrate: wrote %s", path);
    }
    if (rc)
        bs_log('E', "automigrate: %s",
               err.message ? err.message : bs_strerror(rc));
    bs_error_dispose(&err);
    free(path);
    bs_buf_dispose(&b);
    bs_buf_dispose(&name);
    json_object_put(now);
    json_object_put(old);
}

static int auto_handler(bs_event *e, void *user)
{
    int rc = bs_event_next(e);
    auto_slot *slot = user;
    bs_collection_event *ce = (bs_collection_event *)e;
    if (ce->collection)
        auto_write(slot->am, slot->kind, ce->collection);
    return rc;
}

int bs_js_automigrate_bind(bs_app *app, const char *dir,
                           bs_js_automigrate **out)
{
    *out = NULL;
    bs_js_automigrate *am = calloc(1, sizeof *am);
    if (!am)
        return BS_ENOMEM;
    am->app = app;
    am->dir = strdup(dir);
    am->known = json_object_new_object();
    pthread_mutex_init(&am->lock, NULL);
    json_object *all = NULL;
    if (bs_collection_find_all(app, &all) == 0) {
        for (size_t i = 0; i < json_object_array_length(all); i++) {
            json_object *c = json_object_array_get_idx(all, i);
            json_object_object_add(am->known, bs_json_get_str(c, "id", ""),
                                   clean_copy(c));
        }
    }
    json_object_put(all);
    int rc = am->dir && am->known ? 0 : BS_ENOMEM;
    for (int i = 0; i < 3 && rc == 0; i++) {
        am->slots[i] = (auto_slot){.am = am, .kind = i};
        bs_handler h = {.id = AUTO_IDS[i], .fn = auto_handler,
                        .user = &am->slots[i]};
        rc = bs_hook_bind(bs_app_hook(app, AUTO_HOOKS[i]), &h);
    }
    if (rc) {
        bs_js_automigrate_free(am);
        return rc;
    }
    *out = am;
    return 0;
}

void bs_js_automigrate_free(bs_js_automigrate *am)
{
    if (!am)
        return;
    for (int i = 0; i < 3; i++)
        bs_hook_unbind(bs_app_hook(am->app, AUTO_HOOKS[i]), AUTO_IDS[i]);
    json_object_put(am->known);
    pthread_mutex_destroy(&am->lock);
    free(am->dir);
    free(am);
}
