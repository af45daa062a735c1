/*
 * bind_core.c - the natives of loading and of the runtime itself:
 * registering handlers, compiling a file into a CommonJS module
 * function, reading and resolving modules for require(), logging,
 * sleeping and the clock.
 *
 * A module is compiled as one function expression whose body is the
 * file, on the file's first line, so the line numbers of errors are the
 * file's own: `(function (exports, require, module, __filename,
 * __dirname) {` + text + `\n})`. The text's ES module syntax is
 * rewritten first (esm.c), keeping its lines.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../base/util.h"
#include "engine.h"
#include "esm.h"

static JSValueRef n_register(JSContextRef ctx, JSObjectRef fn,
                             JSObjectRef self, size_t argc,
                             const JSValueRef argv[], JSValueRef *exc)
{
    bsj_ctx *c = bsj_current();
    if (!c || argc < 2 || !JSValueIsObject(ctx, argv[0]))
        return bsj_throw(ctx, exc, "register: bad arguments");
    int i = bsj_register(c, (JSObjectRef)argv[0], argv[1], exc);
    return i < 0 ? JSValueMakeUndefined(ctx) : JSValueMakeNumber(ctx, i);
}

static JSValueRef n_compile(JSContextRef ctx, JSObjectRef fn,
                            JSObjectRef self, size_t argc,
                            const JSValueRef argv[], JSValueRef *exc)
{
    if (argc < 2)
        return bsj_throw(ctx, exc, "compile: bad arguments");
    char *text = bsj_cstr(ctx, argv[0]);
    char *file = bsj_cstr(ctx, argv[1]);
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "(function (exports, require, module, __filename, "
                    "__dirname) {");
    /* import/export become require and exports (esm.c). */
    if (text && bsj_esm_transform(text, strlen(text), &b) < 0)
        b.oom = true;
    bs_buf_puts(&b, "\n})");
    bs_buf_putc(&b, '\0');
    JSValueRef out = NULL;
    if (!b.oom && text && file) {
        JSStringRef src = JSStringCreateWithUTF8CString(b.data);
        JSStringRef url = JSStringCreateWithUTF8CString(file);
        out = JSEvaluateScript(ctx, src, NULL, url, 1, exc);
        JSStringRelease(src);
        JSStringRelease(url);
    } else {
        bsj_throw(ctx, exc, "Out of memory.");
    }
    bs_buf_dispose(&b);
    free(text);
    free(file);
    return out ? out : JSValueMakeUndefined(ctx);
}

static JSValueRef n_read_file(JSContextRef ctx, JSObjectRef fn,
                              JSObjectRef self, size_t argc,
                              const JSValueRef argv[], JSValueRef *exc)
{
    char *path = argc ? bsj_cstr(ctx, argv[0]) : NULL;
    bs_buf b;
    bs_buf_init(&b);
    if (!path || bsj_read_file(path, &b) != 0) {
        bsj_throw(ctx, exc, "Cannot read %s", path ? path : "(nothing)");
        bs_buf_dispose(&b);
        free(path);
        return JSValueMakeUndefined(ctx);
    }
    JSValueRef v = bsj_string_n(ctx, b.data ? b.data : "", b.len);
    bs_buf_dispose(&b);
    free(path);
    return v;
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A package's entry in its package.json: "exports" (a path, or the
 * "." entry, a path or conditions of which "require", "node", "default"
 * and "import" are taken in that order), else "main", else "module". */
static const char *package_entry(json_object *pkg)
{
    static const char *const conds[] = {"require", "node", "default",
                                        "import"};
    json_object *e = json_object_object_get(pkg, "exports");
    if (e && json_object_is_type(e, json_type_object) &&
        json_object_object_get(e, "."))
        e = json_object_object_get(e, ".");
    for (int depth = 0; depth < 4 && e &&
                        json_object_is_type(e, json_type_object);
         depth++) {
        json_object *pick = NULL;
        for (size_t i = 0; !pick && i < sizeof conds / sizeof conds[0]; i++)
            pick = json_object_object_get(e, conds[i]);
        e = pick;
    }
    if (e && json_object_is_type(e, json_type_string))
        return json_object_get_string(e);
    json_object *m = json_object_object_get(pkg, "main");
    if (!m)
        m = json_object_object_get(pkg, "module");
    return m && json_object_is_type(m, json_type_string)
               ? json_object_get_string(m)
               : NULL;
}

/* The file a module path names, Node's way: the path, with .js, with
 * .json, its package.json's entry, its index.js. */
static bool try_module(const char *base, char out[PATH_MAX])
{
    static const char *const suffixes[] = {"", ".js", ".json", "/index.js"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (snprintf(p, sizeof p, "%s%s", base, suffixes[i]) >=
            (int)sizeof p)
            return false;
        if (is_file(p) && realpath(p, out))
            return true;
        if (i == 2) {
            char pkg[PATH_MAX];
            if (snprintf(pkg, sizeof pkg, "%s/package.json", base) >=
                (int)sizeof pkg)
                return false;
            json_object *j = is_file(pkg) ? json_object_from_file(pkg) : NULL;
            const char *m = j ? package_entry(j) : NULL;
            bool ok = false;
            if (m) {
                char mp[PATH_MAX];
                snprintf(mp, sizeof mp, "%s/%s", base, m);
                ok = (is_file(mp) && realpath(mp, out)) ||
                     (snprintf(mp, sizeof mp, "%s/%s.js", base, m) > 0 &&
                      is_file(mp) && realpath(mp, out));
            }
            json_object_put(j);
            if (ok)
                return true;
        }
    }
    return false;
}

static JSValueRef n_resolve(JSContextRef ctx, JSObjectRef fn,
                            JSObjectRef self, size_t argc,
                            const JSValueRef argv[], JSValueRef *exc)
{
    char *dir = argc > 1 ? bsj_cstr(ctx, argv[0]) : NULL;
    char *spec = argc > 1 ? bsj_cstr(ctx, argv[1]) : NULL;
    char out[PATH_MAX];
    bool found = false;
    if (dir && spec && *spec) {
        char base[PATH_MAX];
        if (spec[0] == '/') {
            found = try_module(spec, out);
        } else if (strncmp(spec, "./", 2) == 0 ||
                   strncmp(spec, "../", 3) == 0 || strcmp(spec, ".") == 0 ||
                   strcmp(spec, "..") == 0) {
            found = snprintf(base, sizeof base, "%s/%s", dir, spec) <
                        (int)sizeof base &&
                    try_module(base, out);
        } else {
            /* node_modules of the directory and of each parent. */
            char d[PATH_MAX];
            snprintf(d, sizeof d, "%s", dir);
            for (;;) {
                if (snprintf(base, sizeof base, "%s/node_modules/%s", d,
                             spec) < (int)sizeof base &&
                    (found = try_module(base, out)))
                    break;
                char *slash = strrchr(d, '/');
                if (!slash || slash == d)
                    break;
                *slash = '\0';
            }
        }
    }
    free(dir);
    free(spec);
    return found ? bsj_string(ctx, out) : JSValueMakeNull(ctx);
}

static JSValueRef n_log(JSContextRef ctx, JSObjectRef fn, JSObjectRef self,
                        size_t argc, const JSValueRef argv[], JSValueRef *exc)
{
    char *level = argc > 1 ? bsj_cstr(ctx, argv[0]) : NULL;
    char *msg = argc > 1 ? bsj_cstr(ctx, argv[1]) : NULL;
    if (level && msg)
        bs_log(level[0], "%s", msg);
    free(level);
    free(msg);
    return JSValueMakeUndefined(ctx);
}

static JSValueRef n_warn_legacy(JSContextRef ctx, JSObjectRef fn,
                                JSObjectRef self, size_t argc,
                                const JSValueRef argv[], JSValueRef *exc)
{
    bsj_ctx *c = bsj_current();
    if (!c || argc < 3)
        return JSValueMakeUndefined(ctx);
    char *old_name = bsj_cstr(ctx, argv[1]);
    char *new_name = bsj_cstr(ctx, argv[2]);
    bsj_warn_legacy(c->gen->js, (int)JSValueToNumber(ctx, argv[0], NULL),
                    old_name ? old_name : "?", new_name ? new_name : "?");
    free(old_name);
    free(new_name);
    return JSValueMakeUndefined(ctx);
}

/* sleep(ms): blocks the calling handler, never past its deadline. */
static JSValueRef n_sleep(JSContextRef ctx, JSObjectRef fn, JSObjectRef self,
                          size_t argc, const JSValueRef argv[],
                          JSValueRef *exc)
{
    bsj_ctx *c = bsj_current();
    double ms = argc ? JSValueToNumber(ctx, argv[0], NULL) : 0;
    if (!(ms > 0))
        return JSValueMakeUndefined(ctx);
    int64_t left = c ? c->deadline_ms - bs_mono_ms() : (int64_t)ms;
    bool over = c && (int64_t)ms > left;
    int64_t t = over ? (left > 0 ? left : 0) : (int64_t)ms;
    struct timespec ts = {.tv_sec = t / 1000,
                          .tv_nsec = (long)(t % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    if (over) {
        c->terminated = true;
        return bsj_throw(ctx, exc, "sleep: the handler ran past the time "
                                   "limit.");
    }
    return JSValueMakeUndefined(ctx);
}

static JSValueRef n_now(JSContextRef ctx, JSObjectRef fn, JSObjectRef self,
                        size_t argc, const JSValueRef argv[], JSValueRef *exc)
{
    return JSValueMakeNumber(ctx, (double)bs_mono_ms());
}

void bsj_bind_core(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "register", n_register);
    bsj_def(ctx, n, "compile", n_compile);
    bsj_def(ctx, n, "readFile", n_read_file);
    bsj_def(ctx, n, "resolve", n_resolve);
    bsj_def(ctx, n, "log", n_log);
    bsj_def(ctx, n, "warnLegacy", n_warn_legacy);
    bsj_def(ctx, n, "sleep", n_sleep);
    bsj_def(ctx, n, "now", n_now);
}
