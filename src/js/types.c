/*
 * types.c - pb_data/types.d.ts: TypeScript declarations of the hooks'
 * globals, written for editors.
 *
 * The text is generated, not kept: a context of its own (the prelude and
 * the natives, no hook files) is asked for it (`__bs.typesDts` in
 * prelude.js), which walks the globals that context really defines and
 * the hook table of loader.c. So a name added to the surface appears in
 * the file without anyone editing a copy. Its last line names the
 * program that wrote it; the same program starting again leaves the file
 * alone without generating it (an engine costs memory that a server
 * without hooks would otherwise never spend). Otherwise it is written
 * only when its text changed (through a temporary file and a rename, so
 * an editor never reads half of it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/util.h"
#include "engine.h"
#include "js.h"

/* The whole of path, or NULL when it cannot be read. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                text = NULL;
                goto end;
            }
            text = grown;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    text[len] = '\0';
end:
    fclose(f);
    return text;
}

int bs_js_types_text(bs_app *app, char **out, bs_error *err)
{
    *out = NULL;
    bs_js js;
    memset(&js, 0, sizeof js);
    js.app = app;
    js.dir = (char *)"";
    js.time_limit_ms = 30000;
    pthread_mutex_init(&js.lock, NULL);
    bsj_gen gen;
    memset(&gen, 0, sizeof gen);
    gen.js = &js;
    pthread_mutex_init(&gen.lock, NULL);
    bsj_ctx *c = NULL;
    int rc = bsj_ctx_new(&gen, true, &c, err);
    if (rc)
        goto end;
    bsj_ctx *outer = bsj_current();
    bsj_set_current(c);
    JSContextRef ctx = c->ctx;
    JSObjectRef bs = (JSObjectRef)bsj_get(ctx, JSContextGetGlobalObject(ctx),
                                          "__bs");
    JSValueRef args[2] = {bsj_hook_kinds(ctx),
                          bsj_string(ctx, BASALT_VERSION)};
    JSValueRef exc = NULL;
    c->deadline_ms = bs_mono_ms() + js.time_limit_ms;
    JSValueRef text = JSObjectCallAsFunction(
        ctx, (JSObjectRef)bsj_get(ctx, bs, "typesDts"), NULL, 2, args, &exc);
    if (exc) {
        char *msg = bsj_exception_text(ctx, exc);
        rc = bs_error_set(err, 500, "types.d.ts: %s", msg ? msg : "failed");
        free(msg);
    } else {
        *out = bsj_cstr(ctx, text);
        if (!*out)
            rc = BS_ENOMEM;
    }
    bsj_set_current(outer);
end:
    bsj_ctx_free(c);
    pthread_mutex_destroy(&gen.lock);
    pthread_mutex_destroy(&js.lock);
    return rc;
}

/* The last line of the file: which program wrote it (version, and the
 * size and time of the running executable), so a start of the same
 * program finds the file current without starting an engine to
 * generate the text again. */
static void stamp_line(char *out, size_t cap)
{
    struct stat st;
    if (stat("/proc/self/exe", &st) != 0)
        memset(&st, 0, sizeof st);
    snprintf(out, cap, "// Written by Basalt %s (%lld, %lld); regenerated "
                       "when the program changes.\n",
             BASALT_VERSION, (long long)st.st_size,
             (long long)st.st_mtime);
}

bool bs_js_types_current(const char *path)
{
    char stamp[200];
    stamp_line(stamp, sizeof stamp);
    char *old = read_all(path);
    bool current = old && strstr(old, stamp);
    free(old);
    return current;
}

int bs_js_write_types(bs_app *app, const char *path, bs_error *err)
{
    char *text = NULL;
    char *old = NULL;
    char tmp[4200], stamp[200];
    stamp_line(stamp, sizeof stamp);
    old = read_all(path);
    int rc = 0;
    if (old && strstr(old, stamp))
        goto end;
    char *body = NULL;
    rc = bs_js_types_text(app, &body, err);
    if (rc)
        goto end;
    size_t sl = strlen(stamp), bl = strlen(body);
    text = malloc(sl + bl + 1);
    if (!text) {
        free(body);
        rc = BS_ENOMEM;
        goto end;
    }
    memcpy(text, body, bl);
    memcpy(text + bl, stamp, sl + 1);
    free(body);
    if (old && strcmp(old, text) == 0)
        goto end;
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = bs_error_set(err, 500, "types.d.ts: cannot write %s", tmp);
        goto end;
    }
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        rc = bs_error_set(err, 500, "types.d.ts: cannot write %s", path);
    }
end:
    free(old);
    free(text);
    return rc;
}
