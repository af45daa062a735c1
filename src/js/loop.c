/*
 * loop.c - one handler call: borrow a context, run the function, wait
 * for the promise it returns, turn what it threw into a bs_error.
 *
 * The wait is a small event loop per call. JavaScriptCore runs promise
 * jobs when a call into the VM returns at its outermost level; the
 * prelude keeps the timers (setTimeout, setInterval) in JavaScript and
 * `__bs.runTimers()` runs the due ones and says how long until the next.
 * So the loop is: if the promise has settled, stop; run the due timers;
 * if nothing is left to wait for, the promise can never settle (an
 * error); otherwise sleep until the next timer, never past the deadline.
 * Timers still pending when the call ends are dropped.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/util.h"
#include "engine.h"

bool bsj_watchdog(JSContextRef ctx, void *data)
{
    (void)ctx;
    bsj_ctx *c = data;
    if (bs_mono_ms() < c->deadline_ms) {
        /* Returning false does not re-arm the watchdog: set it again. */
        JSContextGroupSetExecutionTimeLimit(c->group, BSJ_WATCHDOG_S,
                                            bsj_watchdog, c);
        return false;
    }
    c->terminated = true;
    return true;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int bsj_loop_wait(bsj_ctx *c, JSObjectRef state, JSValueRef *exc)
{
    JSContextRef ctx = c->ctx;
    for (;;) {
        if (JSValueToBoolean(ctx, bsj_get(ctx, state, "done"))) {
            if (JSValueToBoolean(ctx, bsj_get(ctx, state, "failed")))
                *exc = bsj_get(ctx, state, "error");
            return 0;
        }
        if (c->terminated)
            break;
        JSValueRef texc = NULL;
        JSValueRef next = JSObjectCallAsFunction(ctx, c->run_timers, NULL, 0,
                                                 NULL, &texc);
        if (c->terminated)
            break;
        if (texc) {
            char *text = bsj_exception_text(ctx, texc);
            bs_log('E', "js: a timer callback threw: %s", text ? text : "?");
            free(text);
        }
        if (JSValueToBoolean(ctx, bsj_get(ctx, state, "done")))
            continue;
        double wait = next ? JSValueToNumber(ctx, next, NULL) : -1;
        if (wait < 0) {
            bsj_throw(ctx, exc, "The handler's promise can never settle: "
                                "nothing is left to wait for.");
            return 0;
        }
        int64_t now = bs_mono_ms();
        if (now >= c->deadline_ms) {
            c->terminated = true;
            break;
        }
        int64_t left = c->deadline_ms - now;
        sleep_ms((int64_t)wait < left ? (int64_t)wait : left);
    }
    bsj_throw(ctx, exc, "The handler ran past the time limit.");
    return BS_EABORT;
}

int bsj_call(bsj_desc *d, bs_event *e, bs_error *err)
{
    bsj_gen *gen = d->gen;
    if (!bsj_gen_acquire(gen))
        return e ? bs_event_next(e) : 0;
    bs_error local;
    bs_error_init(&local);
    bs_error *out = e && e->error ? e->error : err ? err : &local;
    int rc = 0;
    bsj_ctx *c = bsj_borrow(gen, out);
    if (!c) {
        rc = out->status ? BS_EHTTP : BS_ENOMEM;
        goto end;
    }
    bsj_ctx *outer = bsj_current();
    bsj_set_current(c);
    JSContextRef ctx = c->ctx;
    c->deadline_ms = bs_mono_ms() + gen->js->time_limit_ms;
    JSValueRef args[3] = {
        c->fns[d->index] ? (JSValueRef)c->fns[d->index]
                         : JSValueMakeUndefined(ctx),
        JSValueMakeNumber(ctx, d->event),
        e ? (JSValueRef)bsj_handle_new(ctx, BSJ_H_EVENT, e, false)
          : JSValueMakeNull(ctx)};
    if (e && JSValueIsObject(ctx, args[2])) {
        bsj_handle *h = JSObjectGetPrivate((JSObjectRef)args[2]);
        h->kind = d->event;
    }
    JSValueRef exc = NULL;
    JSValueRef r = JSObjectCallAsFunction(ctx, c->dispatch, NULL, 3, args,
                                          &exc);
    if (!exc && !c->terminated && r && JSValueIsObject(ctx, r))
        bsj_loop_wait(c, (JSObjectRef)r, &exc);
    if (!c->terminated)
        JSObjectCallAsFunction(ctx, c->clear_timers, NULL, 0, NULL, NULL);
    if (exc || c->terminated)
        rc = bsj_exception_to_error(c, exc ? exc : JSValueMakeNull(ctx), out);
    bsj_handles_release(c);
    bsj_set_current(outer);
    bsj_give_back(c);
end:
    bsj_gen_release(gen);
    if (out == &local && rc) {
        bs_log('E', "js: %s", local.message ? local.message
                                            : bs_strerror(rc));
    }
    bs_error_dispose(&local);
    return rc;
}
