/*
 * pool.c - the contexts of a generation: creating one (its own context
 * group, the natives, the prelude, then every hook file in order),
 * borrowing and giving back.
 *
 * A context is created with the generation's files and nothing else, so
 * the n-th function registered is the same handler in every context of
 * the generation (the loader context, the first, writes the
 * descriptors; the others check they registered the same things). The
 * pool never makes a caller wait: with no free context it creates one,
 * up to BSJ_MAX_CONTEXTS (a thread holding a context and needing
 * another, as a nested handler does, could otherwise wait forever).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "engine.h"

/* The JavaScript part of the surface (prelude.js), embedded at build
 * time by scripts/embed.sh. */
extern const char bsj_prelude_js[];

static JSObjectRef protect_fn(JSContextRef ctx, JSObjectRef bs,
                              const char *name)
{
    JSValueRef v = bsj_get(ctx, bs, name);
    if (!v || !JSValueIsObject(ctx, v))
        return NULL;
    JSValueProtect(ctx, v);
    return (JSObjectRef)v;
}

static int load_error(bs_error *err, const char *what, char *text)
{
    bs_error_set(err, 500, "%s%s", what, text ? text : "unknown error");
    free(text);
    return BS_EINVAL;
}

int bsj_ctx_new(bsj_gen *gen, bool loader, bsj_ctx **out, bs_error *err)
{
    *out = NULL;
    bsj_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return BS_ENOMEM;
    c->gen = gen;
    c->loader = loader;
    c->group = JSContextGroupCreate();
    c->ctx = JSGlobalContextCreateInGroup(c->group, NULL);
    JSContextGroupSetExecutionTimeLimit(c->group, BSJ_WATCHDOG_S,
                                        bsj_watchdog, c);
    bsj_ctx *outer = bsj_current();
    bsj_set_current(c);
    c->deadline_ms = bs_mono_ms() + gen->js->time_limit_ms;
    JSContextRef ctx = c->ctx;
    JSObjectRef global = JSContextGetGlobalObject(ctx);
    int rc = 0;

    JSObjectRef n = JSObjectMake(ctx, NULL, NULL);
    bsj_bind_core(ctx, n);
    bsj_bind_record(ctx, n);
    bsj_bind_app(ctx, n);
    bsj_bind_event(ctx, n);
    bsj_bind_http(ctx, n);
    bsj_bind_util(ctx, n);
    bsj_bind_os(ctx, n);
    JSStringRef name = JSStringCreateWithUTF8CString("__n");
    JSObjectSetProperty(ctx, global, name, n, kJSPropertyAttributeDontEnum,
                        NULL);
    JSStringRelease(name);
    bsj_set(ctx, global, "__hooks", bsj_string(ctx, gen->js->dir));

    JSValueRef exc = NULL;
    JSStringRef src = JSStringCreateWithUTF8CString(bsj_prelude_js);
    JSStringRef url = JSStringCreateWithUTF8CString("basalt:prelude.js");
    JSEvaluateScript(ctx, src, NULL, url, 1, &exc);
    JSStringRelease(src);
    JSStringRelease(url);
    if (exc) {
        rc = load_error(err, "prelude: ", bsj_exception_text(ctx, exc));
        goto end;
    }
    JSValueRef bsv = bsj_get(ctx, global, "__bs");
    JSObjectRef bs = (JSObjectRef)bsv;
    c->dispatch = protect_fn(ctx, bs, "dispatch");
    c->run_timers = protect_fn(ctx, bs, "runTimers");
    c->clear_timers = protect_fn(ctx, bs, "clearTimers");
    JSObjectRef load = protect_fn(ctx, bs, "loadFile");
    if (!c->dispatch || !c->run_timers || !c->clear_timers || !load) {
        rc = load_error(err, "prelude: ", strdup("incomplete"));
        goto end;
    }
    c->loading = true;
    for (int i = 0; i < gen->nfiles && rc == 0; i++) {
        JSValueRef args[2] = {bsj_string(ctx, gen->files[i].path),
                              bsj_string(ctx, gen->files[i].text)};
        exc = NULL;
        JSObjectCallAsFunction(ctx, load, NULL, 2, args, &exc);
        if (c->terminated) {
            char what[600];
            snprintf(what, sizeof what, "%s: ", gen->files[i].path);
            rc = load_error(err, what,
                            strdup("the file ran past the time limit"));
        } else if (exc) {
            rc = load_error(err, "", bsj_exception_text(ctx, exc));
        }
    }
    c->loading = false;
    JSValueUnprotect(ctx, load);
    if (rc == 0 && !loader && c->loaded != gen->ndescs)
        rc = load_error(err, "", strdup("the hook files registered other "
                                        "handlers in a second context; "
                                        "register them unconditionally"));
    if (rc == 0)
        JSObjectCallAsFunction(ctx, c->clear_timers, NULL, 0, NULL, NULL);
end:
    bsj_handles_release(c);
    bsj_set_current(outer);
    if (rc) {
        bsj_ctx_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void bsj_ctx_free(bsj_ctx *c)
{
    if (!c)
        return;
    JSContextRef ctx = c->ctx;
    if (!c->terminated) {
        for (int i = 0; i < c->nfns; i++)
            if (c->fns[i])
                JSValueUnprotect(ctx, c->fns[i]);
        if (c->dispatch)
            JSValueUnprotect(ctx, c->dispatch);
        if (c->run_timers)
            JSValueUnprotect(ctx, c->run_timers);
        if (c->clear_timers)
            JSValueUnprotect(ctx, c->clear_timers);
    }
    free(c->fns);
    JSContextGroupClearExecutionTimeLimit(c->group);
    JSGlobalContextRelease(c->ctx);
    JSContextGroupRelease(c->group);
    free(c);
}

bsj_ctx *bsj_borrow(bsj_gen *gen, bs_error *err)
{
    pthread_mutex_lock(&gen->lock);
    bsj_ctx *c = gen->free;
    if (c) {
        gen->free = c->next_free;
        c->next_free = NULL;
    } else if (gen->ncontexts < BSJ_MAX_CONTEXTS) {
        gen->ncontexts++; /* reserved; created outside the lock */
    } else {
        pthread_mutex_unlock(&gen->lock);
        bs_error_internal(err, "Too many JavaScript handlers at once.");
        return NULL;
    }
    pthread_mutex_unlock(&gen->lock);
    if (c)
        return c;
    bs_error load;
    bs_error_init(&load);
    if (bsj_ctx_new(gen, false, &c, &load) != 0) {
        bs_log('E', "js: cannot create a context: %s",
               load.message ? load.message : "out of memory");
        bs_error_dispose(&load);
        pthread_mutex_lock(&gen->lock);
        gen->ncontexts--;
        pthread_mutex_unlock(&gen->lock);
        bs_error_internal(err, NULL);
        return NULL;
    }
    bs_error_dispose(&load);
    return c;
}

void bsj_give_back(bsj_ctx *c)
{
    bsj_gen *gen = c->gen;
    if (c->terminated) {
        /* A terminated VM is not trusted again: a fresh context takes
         * its place when one is next needed. */
        bsj_ctx_free(c);
        pthread_mutex_lock(&gen->lock);
        gen->ncontexts--;
        pthread_mutex_unlock(&gen->lock);
        return;
    }
    pthread_mutex_lock(&gen->lock);
    c->next_free = gen->free;
    gen->free = c;
    pthread_mutex_unlock(&gen->lock);
}
