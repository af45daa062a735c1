/*
 * test_js.c - the JavaScript hooks from C: loading a hooks directory,
 * handlers bound to the app's hooks, errors thrown in JavaScript turned
 * into bs_errors, the time limit, nested and async handlers on the pool,
 * and load failures reported with file and line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basalt.h"
#include "core/collection.h"
#include "core/tx.h"
#include "harness.h"
#include "js/js.h"
#include "testapp.h"
#include "tmpdir.h"

static bs_app *app;
static char dir[64];
static char hooks[128];

static int create_collection_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    const char *def =
        "{\"name\":\"notes\",\"type\":\"base\","
        "\"fields\":[{\"name\":\"title\",\"type\":\"text\"},"
        "{\"name\":\"mode\",\"type\":\"text\"}]}";
    json_object *col = json_tokener_parse(def);
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    return rc;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", hooks, name);
    FILE *f = fopen(path, "w");
    if (!f)
        exit(1);
    fputs(text, f);
    fclose(f);
}

/* Saves a new note with mode and title; returns the save's code. */
static int save_note(const char *mode, const char *title, bs_error *err,
                     char *out_title, size_t n)
{
    bs_record *r = bs_record_new_in(app, "notes");
    if (!r)
        return BS_ENOMEM;
    bs_record_set_string(r, "mode", mode);
    bs_record_set_string(r, "title", title);
    int rc = bs_record_save(app, r, err);
    if (out_title)
        snprintf(out_title, n, "%s", bs_record_get_string(r, "title"));
    bs_record_free(r);
    return rc;
}

static const char *MAIN =
    "let calls = 0;\n"
    "function tag(s) { return s + '#' + (++calls); }\n"
    "onRecordCreate((e) => {\n"
    "  const mode = e.record.getString('mode');\n"
    "  if (mode === 'bad') throw new BadRequestError('no such thing', {title: {code: 'x', message: 'X.'}});\n"
    "  if (mode === 'plain') throw new Error('detail');\n"
    "  if (mode === 'loop') for (;;) {}\n"
    "  if (mode === 'nested') {\n"
    "    const inner = new Record($app.findCollectionByNameOrId('notes'));\n"
    "    inner.set('mode', 'async');\n"
    "    inner.set('title', 'inner');\n"
    "    $app.save(inner);\n"
    "    e.record.set('title', inner.getString('title'));\n"
    "  }\n"
    "  if (mode === 'plain-ok') e.record.set('title', tag(e.record.getString('title')));\n"
    "  e.next();\n"
    "}, 'notes');\n"
    "onRecordCreate(async (e) => {\n"
    "  if (e.record.getString('mode') === 'async') {\n"
    "    await new Promise((r) => setTimeout(r, 10));\n"
    "    e.record.set('title', e.record.getString('title') + ' (async)');\n"
    "  }\n"
    "  e.next();\n"
    "}, 'notes');\n";

static bs_js *open_hooks(int limit_ms, bs_error *err)
{
    bs_js_config cfg = {.hooks_dir = hooks, .watch = false, .pool_size = 1,
                        .time_limit_ms = limit_ms};
    bs_js *js = NULL;
    int rc = bs_js_open(app, &cfg, &js, err);
    return rc == 0 ? js : NULL;
}

TEST(handlers_run_with_top_level_state)
{
    bs_error err;
    bs_error_init(&err);
    bs_js *js = open_hooks(2000, &err);
    REQUIRE(js);
    char title[128];
    CHECK(save_note("plain-ok", "a", &err, title, sizeof title) == 0);
    CHECK(strcmp(title, "a#1") == 0);
    CHECK(save_note("plain-ok", "b", &err, title, sizeof title) == 0);
    CHECK(strcmp(title, "b#2") == 0);
    bs_js_free(js);
    bs_error_dispose(&err);
}

TEST(errors_become_bs_errors)
{
    bs_error err;
    bs_error_init(&err);
    bs_js *js = open_hooks(2000, &err);
    REQUIRE(js);
    CHECK(save_note("bad", "x", &err, NULL, 0) == BS_EHTTP);
    CHECK(err.status == 400);
    CHECK(err.message && strcmp(err.message, "No such thing") == 0);
    json_object *t = err.data ? json_object_object_get(err.data, "title")
                              : NULL;
    CHECK(t && strcmp(json_object_get_string(
                          json_object_object_get(t, "code")), "x") == 0);
    bs_error_dispose(&err);
    bs_error_init(&err);
    CHECK(save_note("plain", "x", &err, NULL, 0) != 0);
    CHECK(err.status == 400);
    CHECK(err.message &&
          strcmp(err.message,
                 "Something went wrong while processing your request.") == 0);
    bs_js_free(js);
    bs_error_dispose(&err);
}

TEST(async_and_nested_handlers_settle)
{
    bs_error err;
    bs_error_init(&err);
    bs_js *js = open_hooks(2000, &err);
    REQUIRE(js);
    char title[128];
    CHECK(save_note("async", "t", &err, title, sizeof title) == 0);
    CHECK(strcmp(title, "t (async)") == 0);
    /* The inner save runs JavaScript on a second context of the pool,
     * while the first one waits inside $app.save. */
    CHECK(save_note("nested", "outer", &err, title, sizeof title) == 0);
    CHECK(strcmp(title, "inner (async)") == 0);
    bs_js_free(js);
    bs_error_dispose(&err);
}

TEST(runaway_handler_is_stopped)
{
    bs_error err;
    bs_error_init(&err);
    bs_js *js = open_hooks(300, &err);
    REQUIRE(js);
    time_t t0 = time(NULL);
    CHECK(save_note("loop", "x", &err, NULL, 0) == BS_EHTTP);
    CHECK(err.status == 500);
    CHECK(time(NULL) - t0 < 10);
    bs_error_dispose(&err);
    bs_error_init(&err);
    /* The stopped context is replaced; the next call works. */
    char title[128];
    CHECK(save_note("plain-ok", "y", &err, title, sizeof title) == 0);
    CHECK(strncmp(title, "y#", 2) == 0);
    bs_js_free(js);
    bs_error_dispose(&err);
}

TEST(load_errors_name_file_and_line)
{
    write_file("zz_bad.pb.js", "// one\n// two\nconst = 3;\n");
    bs_error err;
    bs_error_init(&err);
    bs_js *js = open_hooks(2000, &err);
    CHECK(js == NULL);
    CHECK(err.message && strstr(err.message, "zz_bad.pb.js:3: SyntaxError"));
    bs_error_dispose(&err);
    bs_error_init(&err);
    write_file("zz_bad.pb.js", "\nnotDefined();\n");
    js = open_hooks(2000, &err);
    CHECK(js == NULL);
    CHECK(err.message && strstr(err.message, "zz_bad.pb.js:2: ReferenceError"));
    bs_error_dispose(&err);
    char path[256];
    snprintf(path, sizeof path, "%s/zz_bad.pb.js", hooks);
    unlink(path);
}

TEST(unknown_hook_and_runtime_registration_fail)
{
    /* Registering from inside a handler is refused. */
    write_file("zz_reg.pb.js",
               "onRecordCreate((e) => { cronAdd('a', '* * * * *', () => {});"
               " e.next(); }, 'notes');\n");
    bs_error err;
    bs_error_init(&err);
    bs_js *js = open_hooks(2000, &err);
    REQUIRE(js);
    CHECK(save_note("plain-ok", "z", &err, NULL, 0) == BS_EHTTP);
    CHECK(err.status == 400);
    bs_js_free(js);
    bs_error_dispose(&err);
    bs_error_init(&err);
    write_file("zz_reg.pb.js", "onNoSuchThing(() => {});\n");
    js = open_hooks(2000, &err);
    CHECK(js == NULL);
    CHECK(err.message && strstr(err.message, "zz_reg.pb.js:1"));
    bs_error_dispose(&err);
    char path[256];
    snprintf(path, sizeof path, "%s/zz_reg.pb.js", hooks);
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_js_%d/pb_data", (int)getpid());
    snprintf(hooks, sizeof hooks, "/tmp/bs_test_js_%d/pb_hooks",
             (int)getpid());
    char root[64];
    snprintf(root, sizeof root, "/tmp/bs_test_js_%d", (int)getpid());
    mkdir(root, 0700);
    mkdir(hooks, 0700);
    app = testapp_open(dir, create_collection_tx);
    write_file("main.pb.js", MAIN);
    RUN(handlers_run_with_top_level_state);
    RUN(errors_become_bs_errors);
    RUN(async_and_nested_handlers_settle);
    RUN(runaway_handler_is_stopped);
    RUN(load_errors_name_file_and_line);
    RUN(unknown_hook_and_runtime_registration_fail);
    bs_app_free(app);
    tmpdir_remove(root);
    return harness_summary(__FILE__);
}
