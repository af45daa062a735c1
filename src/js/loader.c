/*
 * loader.c - the hooks directory: reading it, making a generation,
 * binding what it registered to the app, reloading it when it changes.
 *
 * Loading follows PocketBase: the *.pb.js and *.pb.ts files directly in
 * the directory, in filename order (.pb.ts is read as JavaScript). The
 * loader context runs them and each registrar call (`routerAdd`,
 * `onRecordCreate`, `cronAdd`...) becomes a descriptor. Binding puts a
 * C trampoline on the app for each descriptor, with the descriptor as
 * its user pointer: hooks with bs_hook_bind (their tags included),
 * route middlewares with bs_route_bind, routerUse with bs_app_use, cron
 * jobs with bs_cron_add. Routes are registered once per method and
 * pattern and find the current generation's handler when they run.
 *
 * Reloading (the watcher thread polls the directory's names, sizes and
 * times every 250 ms) loads a new generation next to the old one; when
 * it loads, its descriptors are bound, the old ones unbound, and the old
 * generation is retired: calls already running on it finish there, and
 * its contexts are freed when the last one ends. A generation that fails
 * to load is reported and the old one stays.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"
#include "engine.h"

/* ---- the hooks of JavaScript names ------------------------------------------ */

static const struct {
    const char *name;
    int id;
    int event;
} hook_names[] = {
    {"onBootstrap", BS_ON_BOOTSTRAP, BSJ_EV_BASE},
    {"onServe", BS_ON_SERVE, BSJ_EV_BASE},
    {"onTerminate", BS_ON_TERMINATE, BSJ_EV_BASE},
    {"onSettingsReload", BS_ON_SETTINGS_RELOAD, BSJ_EV_BASE},
    {"onRecordValidate", BS_ON_RECORD_VALIDATE, BSJ_EV_RECORD},
    {"onRecordCreate", BS_ON_RECORD_CREATE, BSJ_EV_RECORD},
    {"onRecordCreateExecute", BS_ON_RECORD_CREATE_EXECUTE, BSJ_EV_RECORD},
    {"onRecordAfterCreateSuccess", BS_ON_RECORD_AFTER_CREATE_SUCCESS,
     BSJ_EV_RECORD},
    {"onRecordAfterCreateError", BS_ON_RECORD_AFTER_CREATE_ERROR,
     BSJ_EV_RECORD},
    {"onRecordUpdate", BS_ON_RECORD_UPDATE, BSJ_EV_RECORD},
    {"onRecordUpdateExecute", BS_ON_RECORD_UPDATE_EXECUTE, BSJ_EV_RECORD},
    {"onRecordAfterUpdateSuccess", BS_ON_RECORD_AFTER_UPDATE_SUCCESS,
     BSJ_EV_RECORD},
    {"onRecordAfterUpdateError", BS_ON_RECORD_AFTER_UPDATE_ERROR,
     BSJ_EV_RECORD},
    {"onRecordDelete", BS_ON_RECORD_DELETE, BSJ_EV_RECORD},
    {"onRecordDeleteExecute", BS_ON_RECORD_DELETE_EXECUTE, BSJ_EV_RECORD},
    {"onRecordAfterDeleteSuccess", BS_ON_RECORD_AFTER_DELETE_SUCCESS,
     BSJ_EV_RECORD},
    {"onRecordAfterDeleteError", BS_ON_RECORD_AFTER_DELETE_ERROR,
     BSJ_EV_RECORD},
    {"onRecordEnrich", BS_ON_RECORD_ENRICH, BSJ_EV_RECORD},
    {"onCollectionValidate", BS_ON_COLLECTION_VALIDATE, BSJ_EV_COLLECTION},
    {"onCollectionCreate", BS_ON_COLLECTION_CREATE, BSJ_EV_COLLECTION},
    {"onCollectionCreateExecute", BS_ON_COLLECTION_CREATE_EXECUTE,
     BSJ_EV_COLLECTION},
    {"onCollectionAfterCreateSuccess", BS_ON_COLLECTION_AFTER_CREATE_SUCCESS,
     BSJ_EV_COLLECTION},
    {"onCollectionAfterCreateError", BS_ON_COLLECTION_AFTER_CREATE_ERROR,
     BSJ_EV_COLLECTION},
    {"onCollectionUpdate", BS_ON_COLLECTION_UPDATE, BSJ_EV_COLLECTION},
    {"onCollectionUpdateExecute", BS_ON_COLLECTION_UPDATE_EXECUTE,
     BSJ_EV_COLLECTION},
    {"onCollectionAfterUpdateSuccess", BS_ON_COLLECTION_AFTER_UPDATE_SUCCESS,
     BSJ_EV_COLLECTION},
    {"onCollectionAfterUpdateError", BS_ON_COLLECTION_AFTER_UPDATE_ERROR,
     BSJ_EV_COLLECTION},
    {"onCollectionDelete", BS_ON_COLLECTION_DELETE, BSJ_EV_COLLECTION},
    {"onCollectionDeleteExecute", BS_ON_COLLECTION_DELETE_EXECUTE,
     BSJ_EV_COLLECTION},
    {"onCollectionAfterDeleteSuccess", BS_ON_COLLECTION_AFTER_DELETE_SUCCESS,
     BSJ_EV_COLLECTION},
    {"onCollectionAfterDeleteError", BS_ON_COLLECTION_AFTER_DELETE_ERROR,
     BSJ_EV_COLLECTION},
    {"onRecordsListRequest", BS_ON_RECORDS_LIST_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onRecordViewRequest", BS_ON_RECORD_VIEW_REQUEST, BSJ_EV_RECORD_REQUEST},
    {"onRecordCreateRequest", BS_ON_RECORD_CREATE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onRecordUpdateRequest", BS_ON_RECORD_UPDATE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onRecordDeleteRequest", BS_ON_RECORD_DELETE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onCollectionsListRequest", BS_ON_COLLECTIONS_LIST_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onCollectionViewRequest", BS_ON_COLLECTION_VIEW_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onCollectionCreateRequest", BS_ON_COLLECTION_CREATE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onCollectionUpdateRequest", BS_ON_COLLECTION_UPDATE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onCollectionDeleteRequest", BS_ON_COLLECTION_DELETE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onCollectionsImportRequest", BS_ON_COLLECTIONS_IMPORT_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onSettingsListRequest", BS_ON_SETTINGS_LIST_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onSettingsUpdateRequest", BS_ON_SETTINGS_UPDATE_REQUEST,
     BSJ_EV_RECORD_REQUEST},
    {"onBatchRequest", BS_ON_BATCH_REQUEST, BSJ_EV_RECORD_REQUEST},
    {"onRecordAuthRequest", BS_ON_RECORD_AUTH_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordAuthWithPasswordRequest",
     BS_ON_RECORD_AUTH_WITH_PASSWORD_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordAuthRefreshRequest", BS_ON_RECORD_AUTH_REFRESH_REQUEST,
     BSJ_EV_AUTH_REQUEST},
    {"onRecordAuthWithOAuth2Request", BS_ON_RECORD_AUTH_WITH_OAUTH2_REQUEST,
     BSJ_EV_AUTH_REQUEST},
    {"onRecordAuthWithOTPRequest", BS_ON_RECORD_AUTH_WITH_OTP_REQUEST,
     BSJ_EV_AUTH_REQUEST},
    {"onRecordRequestOTPRequest", BS_ON_RECORD_REQUEST_OTP_REQUEST,
     BSJ_EV_AUTH_REQUEST},
    {"onRecordRequestPasswordResetRequest",
     BS_ON_RECORD_REQUEST_PASSWORD_RESET_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordConfirmPasswordResetRequest",
     BS_ON_RECORD_CONFIRM_PASSWORD_RESET_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordRequestVerificationRequest",
     BS_ON_RECORD_REQUEST_VERIFICATION_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordConfirmVerificationRequest",
     BS_ON_RECORD_CONFIRM_VERIFICATION_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordRequestEmailChangeRequest",
     BS_ON_RECORD_REQUEST_EMAIL_CHANGE_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onRecordConfirmEmailChangeRequest",
     BS_ON_RECORD_CONFIRM_EMAIL_CHANGE_REQUEST, BSJ_EV_AUTH_REQUEST},
    {"onMailerSend", BS_ON_MAILER_SEND, BSJ_EV_MAILER},
    {"onMailerRecordAuthAlertSend", BS_ON_MAILER_RECORD_AUTH_ALERT_SEND,
     BSJ_EV_MAILER},
    {"onMailerRecordPasswordResetSend",
     BS_ON_MAILER_RECORD_PASSWORD_RESET_SEND, BSJ_EV_MAILER},
    {"onMailerRecordVerificationSend", BS_ON_MAILER_RECORD_VERIFICATION_SEND,
     BSJ_EV_MAILER},
    {"onMailerRecordEmailChangeSend", BS_ON_MAILER_RECORD_EMAIL_CHANGE_SEND,
     BSJ_EV_MAILER},
    {"onMailerRecordOTPSend", BS_ON_MAILER_RECORD_OTP_SEND, BSJ_EV_MAILER},
    {"onRealtimeConnectRequest", BS_ON_REALTIME_CONNECT_REQUEST,
     BSJ_EV_REALTIME},
    {"onRealtimeSubscribeRequest", BS_ON_REALTIME_SUBSCRIBE_REQUEST,
     BSJ_EV_REALTIME},
    {"onRealtimeMessageSend", BS_ON_REALTIME_MESSAGE_SEND, BSJ_EV_REALTIME},
    {"onFileDownloadRequest", BS_ON_FILE_DOWNLOAD_REQUEST, BSJ_EV_FILE},
    {"onFileTokenRequest", BS_ON_FILE_TOKEN_REQUEST, BSJ_EV_FILE},
    {"onBackupCreate", BS_ON_BACKUP_CREATE, BSJ_EV_BACKUP},
    {"onBackupRestore", BS_ON_BACKUP_RESTORE, BSJ_EV_BACKUP},
};

int bsj_hook_lookup(const char *name, int *event)
{
    for (size_t i = 0; i < sizeof hook_names / sizeof hook_names[0]; i++) {
        if (strcmp(hook_names[i].name, name) == 0) {
            *event = hook_names[i].event;
            return hook_names[i].id;
        }
    }
    return -1;
}

JSObjectRef bsj_hook_kinds(JSContextRef ctx)
{
    JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
    for (size_t i = 0; i < sizeof hook_names / sizeof hook_names[0]; i++)
        bsj_set(ctx, o, hook_names[i].name,
                JSValueMakeNumber(ctx, hook_names[i].event));
    return o;
}

void bsj_warn_legacy(bs_js *js, int which, const char *old_name,
                     const char *new_name)
{
    if (which < 0 || which >= (int)(sizeof js->warned))
        return;
    pthread_mutex_lock(&js->lock);
    bool first = !js->warned[which];
    js->warned[which] = true;
    pthread_mutex_unlock(&js->lock);
    if (first)
        bs_log('W', "js: %s is PocketBase's pre-0.23 API; it runs as %s",
               old_name, new_name);
}

/* ---- generations ---------------------------------------------------------- */

bool bsj_gen_acquire(bsj_gen *gen)
{
    bs_js *js = gen->js;
    pthread_mutex_lock(&js->lock);
    bool ok = !gen->retired;
    if (ok)
        gen->refs++;
    pthread_mutex_unlock(&js->lock);
    return ok;
}

static void gen_free_contexts(bsj_gen *gen)
{
    for (bsj_ctx *c = gen->free; c;) {
        bsj_ctx *next = c->next_free;
        bsj_ctx_free(c);
        c = next;
    }
    gen->free = NULL;
    gen->ncontexts = 0;
    for (int i = 0; i < gen->nfiles; i++) {
        free(gen->files[i].path);
        free(gen->files[i].text);
    }
    free(gen->files);
    gen->files = NULL;
    gen->nfiles = 0;
}

void bsj_gen_release(bsj_gen *gen)
{
    bs_js *js = gen->js;
    pthread_mutex_lock(&js->lock);
    bool last = --gen->refs == 0 && gen->retired;
    pthread_mutex_unlock(&js->lock);
    if (last)
        gen_free_contexts(gen);
}

static void desc_free(bsj_desc *d)
{
    if (!d)
        return;
    for (char **t = d->tags; t && *t; t++)
        free(*t);
    free(d->tags);
    for (char **t = d->builtin_args; t && *t; t++)
        free(*t);
    free(d->builtin_args);
    free(d->method);
    free(d->path);
    free(d->file);
    free(d);
}

static void gen_free(bsj_gen *gen)
{
    gen_free_contexts(gen);
    for (int i = 0; i < gen->ndescs; i++)
        desc_free(gen->descs[i]);
    free(gen->descs);
    pthread_mutex_destroy(&gen->lock);
    free(gen);
}

/* ---- registering ------------------------------------------------------------ */

static char *opt_str(JSContextRef ctx, JSObjectRef o, const char *name)
{
    JSValueRef v = bsj_get(ctx, o, name);
    if (!v || JSValueIsUndefined(ctx, v) || JSValueIsNull(ctx, v))
        return NULL;
    return bsj_cstr(ctx, v);
}

/* A NULL-terminated copy of the strings of array property `name`. */
static char **opt_list(JSContextRef ctx, JSObjectRef o, const char *name)
{
    JSValueRef v = bsj_get(ctx, o, name);
    if (!v || !JSValueIsArray(ctx, v))
        return NULL;
    JSObjectRef a = (JSObjectRef)v;
    int n = (int)JSValueToNumber(ctx, bsj_get(ctx, a, "length"), NULL);
    if (n <= 0)
        return NULL;
    char **out = calloc((size_t)n + 1, sizeof *out);
    for (int i = 0; out && i < n; i++)
        out[i] = bsj_cstr(ctx, JSObjectGetPropertyAtIndex(ctx, a, (unsigned)i,
                                                          NULL));
    return out;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int store_fn(bsj_ctx *c, int index, JSValueRef fn)
{
    if (index >= c->nfns) {
        int n = index + 16;
        JSObjectRef *fns = realloc(c->fns, (size_t)n * sizeof *fns);
        if (!fns)
            return BS_ENOMEM;
        memset(fns + c->nfns, 0, (size_t)(n - c->nfns) * sizeof *fns);
        c->fns = fns;
        c->nfns = n;
    }
    if (fn && JSValueIsObject(c->ctx, fn)) {
        JSValueProtect(c->ctx, fn);
        c->fns[index] = (JSObjectRef)fn;
    }
    return 0;
}

int bsj_register(bsj_ctx *c, JSObjectRef meta, JSValueRef fn, JSValueRef *exc)
{
    JSContextRef ctx = c->ctx;
    bsj_gen *gen = c->gen;
    if (!c->loading) {
        bsj_throw(ctx, exc, "Handlers can only be registered at the top "
                            "level of a hook file.");
        return -1;
    }
    bsj_desc *d = calloc(1, sizeof *d);
    if (!d) {
        bsj_throw(ctx, exc, "Out of memory.");
        return -1;
    }
    char *kind = opt_str(ctx, meta, "kind");
    static const char *const kinds[] = {"hook", "route", "route_mw", "use",
                                        "cron"};
    d->kind = -1;
    for (int i = 0; kind && i < 5; i++)
        if (strcmp(kind, kinds[i]) == 0)
            d->kind = i;
    free(kind);
    d->gen = gen;
    d->tags = opt_list(ctx, meta, "tags");
    d->builtin_args = opt_list(ctx, meta, "args");
    d->method = opt_str(ctx, meta, "method");
    d->path = opt_str(ctx, meta, "path");
    d->file = opt_str(ctx, meta, "file");
    d->priority = (int)JSValueToNumber(ctx, bsj_get(ctx, meta, "priority"),
                                       NULL);
    d->route = (int)JSValueToNumber(ctx, bsj_get(ctx, meta, "route"), NULL);
    d->event = BSJ_EV_REQUEST;
    char *hook = opt_str(ctx, meta, "hook");
    char *builtin = opt_str(ctx, meta, "builtin");
    int rc = 0;
    if (d->kind == BSJ_HOOK) {
        d->hook = hook ? bsj_hook_lookup(hook, &d->event) : -1;
        if (d->hook < 0)
            rc = -1;
    } else if (d->kind == BSJ_CRON) {
        d->event = BSJ_EV_CRON;
    } else if (d->kind < 0) {
        rc = -1;
    }
    if (builtin) {
        static const struct {
            const char *name;
            bs_handler_fn fn;
        } builtins[] = {{"requireAuth", bs_mw_require_auth},
                        {"requireSuperuserAuth", bs_mw_require_superuser},
                        {"requireSuperuserOrOwnerAuth",
                         bs_mw_require_superuser_or_owner},
                        {"bodyLimit", bs_mw_body_limit},
                        {"gzip", bs_mw_gzip}};
        for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
            if (strcmp(builtin, builtins[i].name) == 0)
                d->builtin = builtins[i].fn;
        if (!d->builtin)
            rc = -1;
    }
    if (rc) {
        bsj_throw(ctx, exc, "Unknown hook or middleware %s.",
                  hook ? hook : builtin ? builtin : "(none)");
        free(hook);
        free(builtin);
        desc_free(d);
        return -1;
    }
    free(hook);
    free(builtin);

    int index = c->loaded;
    if (c->loader) {
        if (gen->ndescs == gen->cap) {
            int cap = gen->cap ? gen->cap * 2 : 16;
            bsj_desc **descs = realloc(gen->descs, (size_t)cap * sizeof *descs);
            if (!descs) {
                desc_free(d);
                bsj_throw(ctx, exc, "Out of memory.");
                return -1;
            }
            gen->descs = descs;
            gen->cap = cap;
        }
        d->index = index;
        snprintf(d->id, sizeof d->id, "js%d.%d", gen->number, index);
        gen->descs[gen->ndescs++] = d;
    } else {
        bsj_desc *want = index < gen->ndescs ? gen->descs[index] : NULL;
        bool ok = want && want->kind == d->kind && want->hook == d->hook &&
                  same(want->method, d->method) && same(want->path, d->path);
        desc_free(d);
        if (!ok) {
            bsj_throw(ctx, exc, "This context registered other handlers "
                                "than the first one.");
            return -1;
        }
    }
    if (store_fn(c, index, fn) != 0) {
        bsj_throw(ctx, exc, "Out of memory.");
        return -1;
    }
    c->loaded++;
    return index;
}

/* ---- trampolines ------------------------------------------------------------ */

static int hook_fn(bs_event *e, void *user)
{
    return bsj_call(user, e, NULL);
}

/* A middleware may run where the event has no error struct (routerUse
 * runs before the route's own error handling): it answers itself. */
static int mw_fn(bs_event *e, void *user)
{
    if (e->error)
        return bsj_call(user, e, NULL);
    bs_error err;
    bs_error_init(&err);
    e->error = &err;
    int rc = bsj_call(user, e, NULL);
    e->error = NULL;
    bs_req *r = (bs_req *)e;
    if (rc && err.status) {
        bs_resp_error(r, &err);
    }
    bs_error_dispose(&err);
    return rc;
}

static int route_fn(bs_event *e, void *user)
{
    bsj_route *rt = user;
    bs_js *js = rt->js;
    pthread_mutex_lock(&js->lock);
    bsj_gen *gen = js->current;
    if (gen)
        gen->refs++;
    pthread_mutex_unlock(&js->lock);
    bsj_desc *d = NULL;
    for (int i = 0; gen && i < gen->ndescs && !d; i++) {
        bsj_desc *x = gen->descs[i];
        if (x->kind == BSJ_ROUTE && same(x->method, rt->method) &&
            strcmp(x->path, rt->path) == 0)
            d = x;
    }
    int rc = d ? bsj_call(d, e, NULL) : bs_error_not_found(e->error, NULL);
    if (gen)
        bsj_gen_release(gen);
    return rc;
}

static void cron_fn(bs_app *app, void *user)
{
    (void)app;
    bsj_desc *d = user;
    bs_error err;
    bs_error_init(&err);
    int rc = bsj_call(d, NULL, &err);
    if (rc)
        bs_log('E', "js: cron job %s failed: %s", d->method,
               err.message ? err.message : bs_strerror(rc));
    bs_error_dispose(&err);
}

/* ---- binding ------------------------------------------------------------------ */

static bsj_route *route_for(bs_js *js, const char *method, const char *path)
{
    for (bsj_route *r = js->routes; r; r = r->next)
        if (same(r->method, method) && strcmp(r->path, path) == 0)
            return r;
    bsj_route *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->js = js;
    r->method = method ? strdup(method) : NULL;
    r->path = strdup(path);
    r->route = bs_app_route(js->app, method, path, route_fn, r);
    if (!r->route) {
        free(r->method);
        free(r->path);
        free(r);
        return NULL;
    }
    pthread_mutex_lock(&js->lock);
    r->next = js->routes;
    js->routes = r;
    pthread_mutex_unlock(&js->lock);
    return r;
}

static int gen_bind(bs_js *js, bsj_gen *gen, bs_error *err)
{
    for (int i = 0; i < gen->ndescs; i++) {
        bsj_desc *d = gen->descs[i];
        bs_handler h = {.id = d->id, .priority = d->priority, .user = d};
        int rc = 0;
        switch (d->kind) {
        case BSJ_HOOK:
            h.fn = hook_fn;
            h.priority = 0;
            h.tags = (const char *const *)d->tags;
            rc = bs_hook_bind(bs_app_hook(js->app, d->hook), &h);
            break;
        case BSJ_ROUTE:
            rc = route_for(js, d->method, d->path) ? 0 : BS_EINVAL;
            break;
        case BSJ_ROUTE_MW:
        case BSJ_USE:
            h.fn = d->builtin ? d->builtin : mw_fn;
            if (d->builtin == bs_mw_require_superuser_or_owner)
                h.user = d->builtin_args ? d->builtin_args[0] : NULL;
            else if (d->builtin == bs_mw_body_limit)
                h.user = (void *)(uintptr_t)(d->builtin_args
                                                 ? strtoull(d->builtin_args[0],
                                                            NULL, 10)
                                                 : 0);
            else if (d->builtin)
                h.user = (void *)d->builtin_args;
            if (d->kind == BSJ_USE) {
                rc = bs_app_use(js->app, &h);
            } else {
                bsj_desc *route = gen->descs[d->route];
                bsj_route *r = route_for(js, route->method, route->path);
                rc = r ? bs_route_bind(r->route, &h) : BS_EINVAL;
            }
            break;
        case BSJ_CRON:
            rc = bs_cron_add(js->app, d->method, d->path, cron_fn, d);
            break;
        }
        if (rc) {
            return bs_error_set(err, 500, "%s: cannot register %s %s",
                                d->file ? d->file : "?",
                                d->kind == BSJ_ROUTE ? "the route"
                                : d->kind == BSJ_CRON ? "the cron job"
                                                      : "a handler",
                                d->path ? d->path : "");
        }
    }
    return 0;
}

static bool gen_has_cron(const bsj_gen *gen, const char *id)
{
    for (int i = 0; gen && i < gen->ndescs; i++)
        if (gen->descs[i]->kind == BSJ_CRON &&
            strcmp(gen->descs[i]->method, id) == 0)
            return true;
    return false;
}

/* Unbinds what old bound; cron jobs the next generation has are left
 * (they were already replaced by id). */
static void gen_unbind(bs_js *js, bsj_gen *old, const bsj_gen *next)
{
    for (int i = 0; i < old->ndescs; i++) {
        bsj_desc *d = old->descs[i];
        switch (d->kind) {
        case BSJ_HOOK:
            bs_hook_unbind(bs_app_hook(js->app, d->hook), d->id);
            break;
        case BSJ_ROUTE_MW: {
            bsj_desc *route = old->descs[d->route];
            bsj_route *r = route_for(js, route->method, route->path);
            if (r)
                bs_route_unbind(r->route, d->id);
            break;
        }
        case BSJ_USE:
            bs_app_unuse(js->app, d->id);
            break;
        case BSJ_CRON:
            if (!gen_has_cron(next, d->method))
                bs_cron_remove(js->app, d->method);
            break;
        }
    }
}

/* ---- reading the directory ------------------------------------------------------- */

static bool is_hook_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' &&
           ((n > 6 && strcmp(name + n - 6, ".pb.js") == 0) ||
            (n > 6 && strcmp(name + n - 6, ".pb.ts") == 0));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *read_text(const char *path)
{
    bs_buf b;
    bs_buf_init(&b);
    if (bsj_read_file(path, &b) != 0) {
        bs_buf_dispose(&b);
        return NULL;
    }
    bs_buf_putc(&b, '\0');
    return bs_buf_steal(&b, NULL);
}

/* The hook files of dir in filename order. */
static int read_files(const char *dir, bsj_file **out, int *nout,
                      bs_error *err)
{
    *out = NULL;
    *nout = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* no directory: no hooks */
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_hook_file(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    bsj_file *files = n ? calloc((size_t)n, sizeof *files) : NULL;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (!files || !names[i]) {
            rc = BS_ENOMEM;
        } else if (rc == 0) {
            size_t len = strlen(dir) + strlen(names[i]) + 2;
            files[i].path = malloc(len);
            if (files[i].path)
                snprintf(files[i].path, len, "%s/%s", dir, names[i]);
            files[i].text = files[i].path ? read_text(files[i].path) : NULL;
            if (!files[i].text)
                rc = bs_error_set(err, 500, "%s: cannot read the file",
                                  files[i].path ? files[i].path : names[i]);
        }
        free(names[i]);
    }
    free(names);
    if (rc) {
        for (int i = 0; files && i < n; i++) {
            free(files[i].path);
            free(files[i].text);
        }
        free(files);
        return rc;
    }
    *out = files;
    *nout = n;
    return 0;
}

/* FNV-1a over the names, sizes and times of the directory's entries
 * (two levels deep, without dot folders and node_modules). */
static uint64_t dir_signature(const char *dir, int depth)
{
    uint64_t h = BS_FNV_SEED;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "node_modules") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        /* Order-independent: entries are summed. */
        uint64_t e =
            bs_fnv1a(BS_FNV_SEED, de->d_name, strlen(de->d_name));
        e = bs_fnv1a(e, &st.st_size, sizeof st.st_size);
        e = bs_fnv1a(e, &st.st_mtim, sizeof st.st_mtim);
        if (S_ISDIR(st.st_mode) && depth > 0)
            e ^= dir_signature(path, depth - 1);
        h += e;
    }
    closedir(d);
    return h;
}

/* ---- loading ------------------------------------------------------------------ */

static int gen_load(bs_js *js, bsj_gen **out, bs_error *err)
{
    *out = NULL;
    bsj_gen *gen = calloc(1, sizeof *gen);
    if (!gen)
        return BS_ENOMEM;
    gen->js = js;
    pthread_mutex_init(&gen->lock, NULL);
    pthread_mutex_lock(&js->lock);
    gen->number = ++js->generations;
    pthread_mutex_unlock(&js->lock);
    int rc = read_files(js->dir, &gen->files, &gen->nfiles, err);
    bsj_ctx *c = NULL;
    if (rc == 0 && gen->nfiles == 0) {
        /* No hooks: no handler will ask for a context, so the engine is
         * not started (it would cost about 20 MB resident). A context
         * asked for anyway is made on demand (bsj_borrow). */
        *out = gen;
        return 0;
    }
    if (rc == 0)
        rc = bsj_ctx_new(gen, true, &c, err);
    if (rc == 0) {
        gen->free = c;
        gen->ncontexts = 1;
        for (int i = 1; i < js->pool_size && rc == 0; i++) {
            rc = bsj_ctx_new(gen, false, &c, err);
            if (rc == 0) {
                c->next_free = gen->free;
                gen->free = c;
                gen->ncontexts++;
            }
        }
    }
    if (rc) {
        gen_free(gen);
        return rc;
    }
    *out = gen;
    return 0;
}

/* Binds gen, unbinds and retires the current generation. */
static int gen_swap(bs_js *js, bsj_gen *gen, bs_error *err)
{
    int rc = gen_bind(js, gen, err);
    bsj_gen *old = js->current;
    if (rc) {
        gen_unbind(js, gen, old);
        pthread_mutex_lock(&js->lock);
        gen->retired = true;
        gen->next_retired = js->retired;
        js->retired = gen;
        pthread_mutex_unlock(&js->lock);
        gen_free_contexts(gen);
        return rc;
    }
    if (old)
        gen_unbind(js, old, gen);
    pthread_mutex_lock(&js->lock);
    js->current = gen;
    bool free_old = false;
    if (old) {
        old->retired = true;
        old->next_retired = js->retired;
        js->retired = old;
        free_old = old->refs == 0;
    }
    pthread_mutex_unlock(&js->lock);
    if (free_old)
        gen_free_contexts(old);
    return 0;
}

static int load_and_swap(bs_js *js, bs_error *err)
{
    js->signature = dir_signature(js->dir, 2);
    bsj_gen *gen = NULL;
    int rc = gen_load(js, &gen, err);
    if (rc == 0)
        rc = gen_swap(js, gen, err);
    return rc;
}

static void *watch_main(void *arg)
{
    bs_js *js = arg;
    uint64_t seen = js->signature;
    for (;;) {
        struct pollfd p = {.fd = js->stop_pipe[0], .events = POLLIN};
        if (poll(&p, 1, 250) != 0)
            break;
        uint64_t sig = dir_signature(js->dir, 2);
        if (sig == js->signature) {
            seen = sig;
            continue;
        }
        if (sig != seen) { /* wait until it stops changing */
            seen = sig;
            continue;
        }
        bs_error err;
        bs_error_init(&err);
        if (load_and_swap(js, &err) == 0)
            bs_log('I', "js: reloaded the hooks of %s", js->dir);
        else
            bs_log('E', "js: %s", err.message ? err.message : "reload failed");
        bs_error_dispose(&err);
    }
    return NULL;
}

static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    return v && *v && !*end && n > 0 && n < 86400000 ? (int)n : def;
}

int bs_js_open(bs_app *app, const bs_js_config *cfg, bs_js **out,
               bs_error *err)
{
    *out = NULL;
    bs_js *js = calloc(1, sizeof *js);
    if (!js)
        return BS_ENOMEM;
    js->app = app;
    js->dir = strdup(cfg->hooks_dir);
    js->watch = cfg->watch;
    js->pool_size = cfg->pool_size > 0 ? cfg->pool_size : 4;
    if (js->pool_size > BSJ_MAX_CONTEXTS)
        js->pool_size = BSJ_MAX_CONTEXTS;
    js->time_limit_ms = cfg->time_limit_ms > 0
                            ? cfg->time_limit_ms
                            : env_int("BASALT_JS_TIME_LIMIT_MS", 30000);
    js->stop_pipe[0] = js->stop_pipe[1] = -1;
    pthread_mutex_init(&js->lock, NULL);
    if (!js->dir) {
        bs_js_free(js);
        return BS_ENOMEM;
    }
    int rc = load_and_swap(js, err);
    if (rc && !js->watch) {
        bs_js_free(js);
        return rc;
    }
    if (rc) {
        bs_log('E', "js: %s", err->message ? err->message : "load failed");
        bs_error_dispose(err);
        bs_error_init(err);
    }
    if (js->watch && pipe2(js->stop_pipe, O_CLOEXEC) == 0 &&
        pthread_create(&js->watcher, NULL, watch_main, js) == 0)
        js->watching = true;
    *out = js;
    return 0;
}

void bs_js_free(bs_js *js)
{
    if (!js)
        return;
    if (js->watching) {
        ssize_t w = write(js->stop_pipe[1], "x", 1);
        (void)w;
        pthread_join(js->watcher, NULL);
    }
    if (js->stop_pipe[0] >= 0) {
        close(js->stop_pipe[0]);
        close(js->stop_pipe[1]);
    }
    if (js->current) {
        gen_unbind(js, js->current, NULL);
        js->current->retired = true;
        js->current->next_retired = js->retired;
        js->retired = js->current;
        js->current = NULL;
    }
    for (bsj_gen *g = js->retired; g;) {
        bsj_gen *next = g->next_retired;
        gen_free(g);
        g = next;
    }
    for (bsj_route *r = js->routes; r;) {
        bsj_route *next = r->next;
        free(r->method);
        free(r->path);
        free(r);
        r = next;
    }
    pthread_mutex_destroy(&js->lock);
    free(js->dir);
    free(js);
}
