/*
 * engine.c - the glue between JavaScriptCore and Basalt's C values:
 * handles (opaque objects standing for records, events and query rows),
 * strings and JSON both ways, exceptions both ways, and the thread's
 * running context.
 *
 * Errors cross the boundary like this: a failing C call made from
 * JavaScript throws the prelude's ApiError (status, message, data) with
 * the C code kept in `__code`; an exception leaving a handler becomes a
 * bs_error again — an ApiError with its status, message and data, any
 * other throw a 400 "Something went wrong while processing your
 * request." as PocketBase answers it — and a script stopped by the time
 * limit a 500.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "engine.h"

static __thread bsj_ctx *running;

bsj_ctx *bsj_current(void)
{
    return running;
}

void bsj_set_current(bsj_ctx *c)
{
    running = c;
}

bs_app *bsj_app(void)
{
    return running ? running->gen->js->app : NULL;
}

/* ---- handles ------------------------------------------------------------- */

static void handle_finalize(JSObjectRef obj)
{
    bsj_handle *h = JSObjectGetPrivate(obj);
    if (!h)
        return;
    if (h->owned && h->p && h->type == BSJ_H_RECORD)
        bs_record_free(h->p);
    if (h->owned && h->p && h->type == BSJ_H_ROWS)
        bs_db_rows_free(h->p);
    free(h);
}

static JSClassRef handle_cls;

static void handle_class_make(void)
{
    JSClassDefinition def = kJSClassDefinitionEmpty;
    def.className = "BasaltHandle";
    def.finalize = handle_finalize;
    handle_cls = JSClassCreate(&def);
}

JSObjectRef bsj_handle_new(JSContextRef ctx, int type, void *p, bool owned)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, handle_class_make);
    JSClassRef cls = handle_cls;
    bsj_handle *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->type = type;
    h->p = p;
    h->owned = owned;
    JSObjectRef obj = JSObjectMake(ctx, cls, h);
    h->obj = obj;
    if (!owned) {
        /* Kept alive (and so reachable from this list) until the call
         * ends and the handle is invalidated. */
        bsj_ctx *c = bsj_current();
        JSValueProtect(ctx, obj);
        if (c) {
            h->next = c->borrowed;
            c->borrowed = h;
        }
    }
    return obj;
}

void bsj_handles_release(bsj_ctx *c)
{
    bsj_handle *h = c->borrowed;
    c->borrowed = NULL;
    while (h) {
        bsj_handle *next = h->next;
        h->p = NULL;
        h->next = NULL;
        JSValueUnprotect(c->ctx, h->obj);
        h = next;
    }
}

void *bsj_handle_get(JSContextRef ctx, JSValueRef v, int type,
                     JSValueRef *exc)
{
    static const char *const names[] = {"record", "event", "query"};
    bsj_handle *h = NULL;
    if (v && JSValueIsObject(ctx, v))
        h = JSObjectGetPrivate((JSObjectRef)v);
    if (!h || h->type != type) {
        bsj_throw(ctx, exc, "Expected a %s.", names[type]);
        return NULL;
    }
    if (!h->p) {
        bsj_throw(ctx, exc, "The %s is no longer valid: it belonged to a "
                            "handler call that has ended.", names[type]);
        return NULL;
    }
    return h->p;
}

/* ---- values ------------------------------------------------------------- */

JSValueRef bsj_string(JSContextRef ctx, const char *s)
{
    JSStringRef js = JSStringCreateWithUTF8CString(s ? s : "");
    JSValueRef v = JSValueMakeString(ctx, js);
    JSStringRelease(js);
    return v;
}

JSValueRef bsj_string_n(JSContextRef ctx, const char *s, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return JSValueMakeNull(ctx);
    memcpy(copy, s, n);
    copy[n] = '\0';
    JSValueRef v = bsj_string(ctx, copy);
    free(copy);
    return v;
}

static char *js_string_dup(JSStringRef s)
{
    size_t max = JSStringGetMaximumUTF8CStringSize(s);
    char *out = malloc(max);
    if (out)
        JSStringGetUTF8CString(s, out, max);
    return out;
}

char *bsj_cstr(JSContextRef ctx, JSValueRef v)
{
    JSStringRef s = JSValueToStringCopy(ctx, v, NULL);
    if (!s)
        return NULL;
    char *out = js_string_dup(s);
    JSStringRelease(s);
    return out;
}

json_object *bsj_to_json(JSContextRef ctx, JSValueRef v)
{
    if (!v || JSValueIsUndefined(ctx, v) || JSValueIsNull(ctx, v))
        return NULL;
    if (JSValueIsBoolean(ctx, v))
        return json_object_new_boolean(JSValueToBoolean(ctx, v));
    if (JSValueIsString(ctx, v)) {
        char *s = bsj_cstr(ctx, v);
        json_object *j = s ? json_object_new_string(s) : NULL;
        free(s);
        return j;
    }
    if (JSValueIsNumber(ctx, v)) {
        double d = JSValueToNumber(ctx, v, NULL);
        if (d == (double)(int64_t)d && d > -9007199254740992.0 &&
            d < 9007199254740992.0)
            return json_object_new_int64((int64_t)d);
        return json_object_new_double(d);
    }
    JSStringRef s = JSValueCreateJSONString(ctx, v, 0, NULL);
    if (!s)
        return NULL;
    char *text = js_string_dup(s);
    JSStringRelease(s);
    json_object *j = text ? json_tokener_parse(text) : NULL;
    free(text);
    return j;
}

JSValueRef bsj_from_json(JSContextRef ctx, const json_object *j)
{
    switch (json_object_get_type(j)) {
    case json_type_null:
        return JSValueMakeNull(ctx);
    case json_type_boolean:
        return JSValueMakeBoolean(ctx, json_object_get_boolean(j));
    case json_type_int:
        return JSValueMakeNumber(ctx, (double)json_object_get_int64(j));
    case json_type_double:
        return JSValueMakeNumber(ctx, json_object_get_double(j));
    case json_type_string:
        return bsj_string_n(ctx, json_object_get_string((json_object *)j),
                            (size_t)json_object_get_string_len(j));
    default: {
        const char *text = json_object_to_json_string_ext(
            (json_object *)j, JSON_C_TO_STRING_PLAIN);
        JSStringRef s = JSStringCreateWithUTF8CString(text);
        JSValueRef v = JSValueMakeFromJSONString(ctx, s);
        JSStringRelease(s);
        return v ? v : JSValueMakeNull(ctx);
    }
    }
}

void bsj_set(JSContextRef ctx, JSObjectRef o, const char *name, JSValueRef v)
{
    JSStringRef n = JSStringCreateWithUTF8CString(name);
    JSObjectSetProperty(ctx, o, n, v, kJSPropertyAttributeNone, NULL);
    JSStringRelease(n);
}

JSValueRef bsj_get(JSContextRef ctx, JSObjectRef o, const char *name)
{
    JSStringRef n = JSStringCreateWithUTF8CString(name);
    JSValueRef v = JSObjectGetProperty(ctx, o, n, NULL);
    JSStringRelease(n);
    return v;
}

void bsj_def(JSContextRef ctx, JSObjectRef o, const char *name,
             bsj_native_fn fn)
{
    JSStringRef n = JSStringCreateWithUTF8CString(name);
    JSObjectSetProperty(ctx, o, n, JSObjectMakeFunctionWithCallback(ctx, n, fn),
                        kJSPropertyAttributeDontEnum, NULL);
    JSStringRelease(n);
}

/* ---- exceptions ------------------------------------------------------------ */

JSValueRef bsj_throw(JSContextRef ctx, JSValueRef *exc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    JSValueRef arg = bsj_string(ctx, msg);
    *exc = JSObjectMakeError(ctx, 1, &arg, NULL);
    return JSValueMakeUndefined(ctx);
}

JSValueRef bsj_throw_error(JSContextRef ctx, JSValueRef *exc,
                           const bs_error *err, int code)
{
    const char *msg = err && err->message && *err->message
                          ? err->message : bs_strerror(code);
    JSObjectRef global = JSContextGetGlobalObject(ctx);
    JSValueRef bs = bsj_get(ctx, global, "__bs");
    JSValueRef make = JSValueIsObject(ctx, bs)
                          ? bsj_get(ctx, (JSObjectRef)bs, "makeError") : NULL;
    if (make && JSValueIsObject(ctx, make)) {
        JSValueRef args[4] = {
            JSValueMakeNumber(ctx, err ? err->status : 0),
            bsj_string(ctx, msg),
            err && err->data ? bsj_from_json(ctx, err->data)
                             : JSValueMakeNull(ctx),
            JSValueMakeNumber(ctx, code)};
        JSValueRef e = JSObjectCallAsFunction(ctx, (JSObjectRef)make, NULL, 4,
                                              args, NULL);
        if (e) {
            *exc = e;
            return JSValueMakeUndefined(ctx);
        }
    }
    return bsj_throw(ctx, exc, "%s", msg);
}

char *bsj_exception_text(JSContextRef ctx, JSValueRef exc)
{
    char *msg = bsj_cstr(ctx, exc);
    char *file = NULL;
    int line = 0;
    if (JSValueIsObject(ctx, exc)) {
        JSValueRef f = bsj_get(ctx, (JSObjectRef)exc, "sourceURL");
        JSValueRef l = bsj_get(ctx, (JSObjectRef)exc, "line");
        if (f && JSValueIsString(ctx, f))
            file = bsj_cstr(ctx, f);
        if (l && JSValueIsNumber(ctx, l))
            line = (int)JSValueToNumber(ctx, l, NULL);
    }
    bs_buf b;
    bs_buf_init(&b);
    if (file && line > 0)
        bs_buf_printf(&b, "%s:%d: ", file, line);
    else if (file)
        bs_buf_printf(&b, "%s: ", file);
    bs_buf_puts(&b, msg ? msg : "unknown error");
    free(msg);
    free(file);
    return bs_buf_steal(&b, NULL);
}

int bsj_exception_to_error(bsj_ctx *c, JSValueRef exc, bs_error *err)
{
    JSContextRef ctx = c->ctx;
    if (c->terminated) {
        bs_log('E', "js: a handler ran past the time limit (%d ms) and was "
                    "stopped", c->gen->js->time_limit_ms);
        if (err)
            bs_error_internal(err, NULL);
        return BS_EHTTP;
    }
    int status = 0, code = BS_EHTTP;
    if (JSValueIsObject(ctx, exc)) {
        JSObjectRef o = (JSObjectRef)exc;
        JSValueRef st = bsj_get(ctx, o, "status");
        JSValueRef api = bsj_get(ctx, o, "__api");
        JSValueRef cd = bsj_get(ctx, o, "__code");
        if (api && JSValueToBoolean(ctx, api) && JSValueIsNumber(ctx, st))
            status = (int)JSValueToNumber(ctx, st, NULL);
        if (cd && JSValueIsNumber(ctx, cd))
            code = (int)JSValueToNumber(ctx, cd, NULL);
        if (status && err) {
            char *msg = bsj_cstr(ctx, bsj_get(ctx, o, "message"));
            json_object *data = bsj_to_json(ctx, bsj_get(ctx, o, "data"));
            bs_error_set(err, status, "%s", msg ? msg : "");
            if (data && json_object_is_type(data, json_type_object) &&
                json_object_object_length(data) > 0) {
                json_object_put(err->data);
                err->data = data;
            } else {
                json_object_put(data);
            }
            free(msg);
            return code ? code : BS_EHTTP;
        }
    }
    char *text = bsj_exception_text(ctx, exc);
    bs_log('E', "js: %s", text ? text : "an exception");
    free(text);
    if (err && !err->status && code == BS_EHTTP)
        bs_error_bad_request(err, NULL);
    return code ? code : BS_EHTTP;
}

int bsj_read_file(const char *path, bs_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno ? errno : EIO;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bs_buf_append(out, chunk, n);
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    return e ? e : out->oom ? ENOMEM : 0;
}
