/*
 * start.c - bs_app_start: the whole command line of a Basalt program.
 *
 *   PROG serve [--http ADDR] [--dir DIR] [--dev] [--origins LIST]
 *              [--nats URL] [--natsPrefix NAME] [--hooksDir DIR] [--hooksWatch[=false]] [--hooksPool N]
 *              [--migrationsDir DIR] [--automigrate[=false]]
 *   PROG migrate up | down [n] | create NAME | collections | history-sync
 *   PROG superuser upsert|create|update|delete EMAIL [PASSWORD]
 *   PROG collections import FILE [--delete-missing]
 *   PROG pg export --db URL | pg import --db URL --dir NEWDIR
 *   PROG COMMAND ...            (registered with bs_app_add_command)
 *   PROG --help | --version
 *
 * Flags take their value as "--flag=value" or "--flag value"; --dir and
 * --dev work with every command. The `basalt` binary (main.c) is this
 * function and nothing else; a program embedding the library gets the
 * same command line with its own hooks, routes and commands. Messages
 * name the program by its argv[0].
 */
#include <dirent.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../core/app.h"
#include "../core/cluster.h"
#include "../core/collection_import.h"
#include "../core/superuser.h"
#include "../js/js.h"
#include "migrate_cmd.h"
#include "pg_cmd.h"
#include "basalt.h"

#define MAX_ARGS 64

typedef struct cli {
    const char *prog;
    const char *dir;
    const char *http;
    const char *origins;
    const char *hooks_dir;
    const char *hooks_pool;
    const char *migrations_dir;
    const char *db;
    const char *nats;
    const char *nats_prefix;
    bool hooks_nowatch;
    int automigrate; /* 0 default (on with --dev), 1 on, -1 off */
    bool dev;
    bool delete_missing;
    bool help;
    bool version;
    int nargs;
    char *args[MAX_ARGS];
    /* Unknown flags, kept for a custom command. */
    int nextra;
    const char *bad_flag;
} cli;

static void usage(bs_app *app, const cli *c, FILE *out)
{
    const char *p = c->prog;
    fprintf(out,
            "%s (Basalt " BASALT_VERSION ") - a backend in one program.\n"
            "\n"
            "Usage:\n"
            "  %s serve [--http ADDR] [--dir DIR] [--dev] [--origins LIST] "
            "[--db URL] [--nats URL]\n"
            "  %s superuser upsert|create|update EMAIL PASSWORD [--dir DIR]\n"
            "  %s superuser delete EMAIL [--dir DIR]\n"
            "  %s collections import FILE [--dir DIR] [--delete-missing]\n"
            "  %s migrate up | down [n] | create NAME | collections | "
            "history-sync\n"
            "  %s pg export --db URL [--dir DIR]\n"
            "  %s pg import --db URL --dir NEWDIR\n",
            p, p, p, p, p, p, p, p);
    for (int i = 0; i < app->ncommands; i++)
        fprintf(out, "  %s %-24s %s\n", p, app->commands[i].name,
                app->commands[i].help);
    fprintf(out,
            "  %s --help | --version\n"
            "\n"
            "Flags:\n"
            "  --http ADDR      address to listen on (default 127.0.0.1:8090)\n"
            "  --dir DIR        data directory (default ./pb_data)\n"
            "  --dev            log requests and SQL errors verbosely\n"
            "  --origins LIST   comma-separated CORS origins (default *)\n"
            "  --hooksDir DIR   JavaScript hooks (default pb_hooks beside "
            "the data directory)\n"
            "  --hooksWatch=false  do not reload the hooks when they change\n"
            "  --hooksPool N    JavaScript contexts made up front (default 4)\n"
            "  --migrationsDir DIR  JavaScript migrations (default "
            "pb_migrations beside the data directory)\n"
            "  --automigrate[=false]  write a migration for each collection "
            "change (default on with --dev)\n"
            "  --db URL         keep the data in this PostgreSQL database "
            "(postgres://...; or BASALT_DB_URL), and the database of pg "
            "export and import\n"
            "  --nats URL       share realtime changes and schema reloads with "
            "other nodes over NATS (nats://host:port; or BASALT_NATS_URL)\n"
            "  --natsPrefix NAME  subject prefix of this cluster on NATS "
            "(default \"default\"; or BASALT_NATS_PREFIX)\n",
            p);
}

/* Returns the flag's value for "--name=v" or "--name v" and advances *i;
 * NULL when argv[*i] is another flag. *missing is set when the flag has
 * no value. */
static const char *flag_value(int argc, char **argv, int *i, const char *name,
                              bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] == '\0' && *i + 1 < argc) {
        (*i)++;
        return argv[*i];
    }
    if (a[n] == '\0')
        *missing = true;
    return NULL;
}

static const char *prog_name(const char *argv0)
{
    if (!argv0 || !*argv0)
        return "basalt";
    const char *s = strrchr(argv0, '/');
    return s ? s + 1 : argv0;
}

/* Splits argv into the global flags and the arguments. Returns 0 or 2
 * (a usage error, already reported). */
static int parse(cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->prog = prog_name(argc > 0 ? argv[0] : NULL);
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        const char *v;
        bool missing = false;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            c->help = true;
            continue;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            c->version = true;
            continue;
        }
        if (strcmp(a, "--delete-missing") == 0) {
            c->delete_missing = true;
            continue;
        }
        if (strcmp(a, "--dev") == 0) {
            c->dev = true;
            continue;
        }
        if (strcmp(a, "--hooksWatch") == 0 ||
            strcmp(a, "--hooksWatch=true") == 0) {
            c->hooks_nowatch = false;
            continue;
        }
        if (strcmp(a, "--automigrate") == 0 ||
            strcmp(a, "--automigrate=true") == 0) {
            c->automigrate = 1;
            continue;
        }
        if (strcmp(a, "--automigrate=false") == 0) {
            c->automigrate = -1;
            continue;
        }
        if (strcmp(a, "--hooksWatch=false") == 0) {
            c->hooks_nowatch = true;
            continue;
        }
        static const char *const names[] = {
            "--dir",           "--http", "--origins", "--hooksDir",
            "--hooksPool",     "--migrationsDir", "--db", "--natsPrefix",
            "--nats"};
        const char **slots[] = {&c->dir,  &c->http,       &c->origins,
                                &c->hooks_dir, &c->hooks_pool,
                                &c->migrations_dir, &c->db, &c->nats_prefix,
                                &c->nats};
        bool taken = false;
        for (int k = 0; k < 9 && !taken; k++) {
            if ((v = flag_value(argc, argv, &i, names[k], &missing))) {
                *slots[k] = v;
                taken = true;
            } else if (missing) {
                fprintf(stderr, "%s: flag %s needs a value\n", c->prog,
                        names[k]);
                return 2;
            }
        }
        if (taken)
            continue;
        if (a[0] == '-' && a[1] != '\0') {
            if (!c->bad_flag)
                c->bad_flag = a;
            c->nextra++;
        }
        if (c->nargs == MAX_ARGS) {
            fprintf(stderr, "%s: too many arguments\n", c->prog);
            return 2;
        }
        c->args[c->nargs++] = a;
    }
    if (c->dir && c->dir[0] == '\0') {
        fprintf(stderr, "%s: --dir must not be empty\n", c->prog);
        return 2;
    }
    return 0;
}

/* A built-in command refuses flags it does not know. */
static int refuse_unknown_flag(const cli *c)
{
    if (!c->bad_flag)
        return 0;
    fprintf(stderr, "%s: unknown flag %s (see %s --help)\n", c->prog,
            c->bad_flag, c->prog);
    return 2;
}

static int fail(const cli *c, bs_error *err, int rc)
{
    fprintf(stderr, "%s: %s\n", c->prog,
            err->message ? err->message : bs_strerror(rc));
    bs_error_dispose(err);
    return 1;
}

/* Applies the flags to the app and bootstraps it. */
static int boot(bs_app *app, const cli *c, bool serving, bs_error *err)
{
    bs_app_config cfg = {.data_dir = c->dir, .http_addr = c->http,
                         .origins = c->origins, .dev = c->dev,
                         .db_url = c->db,
                         .threads = serving ? 0 : 1};
    int rc = bs_app_configure(app, &cfg, c->dev);
    if (rc)
        return bs_error_set(err, 500, "The app is already bootstrapped.");
    return bs_app_bootstrap(app, err);
}

/* With no superuser yet, prints the link to the dashboard's installer
 * page (as PocketBase does): it carries a short-lived token of the
 * installer placeholder superuser, with which the page creates the
 * first real one. */
static void print_installer_link(bs_app *app, const cli *c)
{
    bs_buf token;
    bs_buf_init(&token);
    bs_error err;
    bs_error_init(&err);
    const char *addr = app->http_addr;
    const char *host = "";
    if (strncmp(addr, "0.0.0.0:", 8) == 0 || addr[0] == ':') {
        host = "127.0.0.1";
        addr = strchr(addr, ':');
    }
    if (bs_superuser_installer_token(app, &token, &err) == 0)
        fprintf(stderr,
                "\n(!) No superuser yet. Open this link in a browser to "
                "create the first one (valid for 30 minutes):\n"
                "http://%s%s/_/#/pbinstall/%.*s\n"
                "(or create one with: %s superuser upsert EMAIL PASSWORD "
                "--dir %s)\n\n",
                host, addr, (int)token.len, token.data, c->prog,
                bs_app_data_dir(app));
    else
        fprintf(stderr,
                "No superuser yet. Create one with:\n"
                "  %s superuser upsert EMAIL PASSWORD --dir %s\n",
                c->prog, bs_app_data_dir(app));
    bs_error_dispose(&err);
    bs_buf_dispose(&token);
}

/* dir = given, else `name` beside the data directory (which may not
 * exist yet: its parent is resolved). */
static void beside_data(bs_app *app, const char *given, const char *name,
                        char dir[4096])
{
    if (given) {
        snprintf(dir, 4096, "%s", given);
    } else {
        /* The data directory may not exist yet: resolve its parent. */
        char data[4096];
        snprintf(data, sizeof data, "%s", bs_app_data_dir(app));
        size_t n = strlen(data);
        while (n > 1 && data[n - 1] == '/')
            data[--n] = '\0';
        char *slash = strrchr(data, '/');
        if (slash == data)
            snprintf(dir, 4096, "/%s", name);
        else if (slash)
            snprintf(dir, 4096, "%.*s/%s", (int)(slash - data), data, name);
        else
            snprintf(dir, 4096, "%s", name);
    }
}

/* Loads pb_hooks (beside the data directory unless --hooksDir says
 * otherwise) before the bootstrap, so the files' onBootstrap handlers
 * run. A file that fails to load stops the start unless watching (only
 * `serve` watches). */
static int open_hooks(bs_app *app, const cli *c, bool watch, bs_js **js,
                      bs_error *err)
{
    bs_app_config cfg = {.data_dir = c->dir};
    if (bs_app_configure(app, &cfg, false) != 0)
        return bs_error_set(err, 500, "The app is already bootstrapped.");
    char dir[4096];
    beside_data(app, c->hooks_dir, "pb_hooks", dir);
    char *abs = realpath(dir, NULL);
    int pool = c->hooks_pool ? atoi(c->hooks_pool) : 0;
    if (c->hooks_pool && (pool < 1 || pool > 64)) {
        free(abs);
        return bs_error_set(err, 400, "--hooksPool must be 1 to 64.");
    }
    bs_js_config jc = {.hooks_dir = abs ? abs : dir,
                       .watch = watch && !c->hooks_nowatch,
                       .pool_size = pool};
    int rc = bs_js_open(app, &jc, js, err);
    free(abs);
    return rc;
}

/* pb_data/types.d.ts for editors, as PocketBase writes it; a failure
 * is only logged. */
static void write_types(bs_app *app)
{
    char path[4200];
    bs_error err;
    bs_error_init(&err);
    snprintf(path, sizeof path, "%s/types.d.ts", bs_app_data_dir(app));
    if (bs_js_write_types(app, path, &err) != 0)
        bs_log_warn(app, "Cannot write types.d.ts", "error",
                    err.message ? err.message : "unknown", NULL);
    bs_error_dispose(&err);
}

/* Whether dir holds a hook file (*.pb.js or *.pb.ts). */
static bool has_hook_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        found = n > 6 && (strcmp(e->d_name + n - 6, ".pb.js") == 0 ||
                          strcmp(e->d_name + n - 6, ".pb.ts") == 0);
    }
    closedir(d);
    return found;
}

/* types.d.ts at `serve`, written before serving (a backup taken at once
 * must not meet a half-written file). With hook files the engine runs
 * in this process anyway. Without, a child process writes it (`PROG
 * __types PATH`, the same program), waited for, so that the server never
 * maps the JavaScript engine's pages (about 20 MB that would stay
 * resident) for a file only editors read. */
static void serve_types(bs_app *app, const cli *c)
{
    char path[4200], hooks[4096];
    snprintf(path, sizeof path, "%s/types.d.ts", bs_app_data_dir(app));
    if (bs_js_types_current(path))
        return;
    beside_data(app, c->hooks_dir, "pb_hooks", hooks);
    if (has_hook_files(hooks)) {
        write_types(app);
        return;
    }
    char *argv[] = {(char *)c->prog, (char *)"__types", path, NULL};
    pid_t pid;
    int status = 0;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        write_types(app); /* the child could not: here, as before */
}

/* The child of serve_types: writes the file at args[1]. */
static int cmd_types(bs_app *app, const cli *c)
{
    if (c->nargs != 2) {
        fprintf(stderr, "%s: __types takes the file to write\n", c->prog);
        return 2;
    }
    bs_error err;
    bs_error_init(&err);
    int rc = bs_js_write_types(app, c->args[1], &err);
    if (rc)
        fprintf(stderr, "%s: types.d.ts: %s\n", c->prog,
                err.message ? err.message : "cannot be written");
    bs_error_dispose(&err);
    return rc ? 1 : 0;
}

static int cmd_serve(bs_app *app, const cli *c)
{
    if (c->nargs != 1) {
        fprintf(stderr, "%s: serve takes no arguments\n", c->prog);
        return 2;
    }
    bs_error err;
    bs_error_init(&err);
    bs_js *js = NULL;
    bs_js_automigrate *am = NULL;
    char mdir[4096];
    int rc = open_hooks(app, c, true, &js, &err);
    if (rc == 0)
        rc = boot(app, c, true, &err);
    if (rc == 0 && (c->nats || c->nats_prefix) &&
        bs_cluster_configure(app, c->nats, c->nats_prefix) != 0)
        rc = bs_error_set(&err, 400, "--natsPrefix takes letters, digits, "
                                     "'_' and '-'.");
    if (rc == 0)
        serve_types(app, c);
    /* pb_migrations: applied after the bootstrap, before serving. */
    if (rc == 0) {
        beside_data(app, c->migrations_dir, "pb_migrations", mdir);
        rc = bs_js_migrate_up(app, mdir, NULL, &err);
    }
    if (rc == 0 && (c->automigrate > 0 || (c->automigrate == 0 && c->dev)))
        rc = bs_js_automigrate_bind(app, mdir, &am);
    if (rc == 0 && bs_superuser_count(app) == 0)
        print_installer_link(app, c);
    if (rc == 0)
        rc = bs_app_serve(app, true, &err);
    bs_js_automigrate_free(am);
    bs_js_free(js);
    return rc ? fail(c, &err, rc) : 0;
}

static int cmd_superuser(bs_app *app, const cli *c)
{
    static const struct {
        const char *name;
        bs_su_op op;
        int args;
    } ops[] = {{"upsert", BS_SU_UPSERT, 4}, {"create", BS_SU_CREATE, 4},
               {"update", BS_SU_UPDATE, 4}, {"delete", BS_SU_DELETE, 3}};
    if (c->nargs < 2) {
        fprintf(stderr, "%s: superuser needs a subcommand: upsert, "
                        "create, update or delete\n", c->prog);
        return 2;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(c->args[1], ops[i].name) != 0)
            continue;
        if (c->nargs != ops[i].args) {
            fprintf(stderr, "%s: superuser %s needs %s\n", c->prog,
                    ops[i].name,
                    ops[i].args == 4 ? "EMAIL and PASSWORD" : "EMAIL");
            return 2;
        }
        bs_error err;
        bs_error_init(&err);
        int rc = boot(app, c, false, &err);
        if (rc == 0)
            rc = bs_superuser_apply(app, ops[i].op, c->args[2],
                                    ops[i].args == 4 ? c->args[3] : NULL,
                                    &err);
        if (rc == BS_EHTTP && ops[i].op == BS_SU_DELETE && err.status == 404) {
            /* Like PocketBase: deleting a missing superuser only warns. */
            printf("Superuser %s is missing or already deleted.\n",
                   c->args[2]);
            bs_error_dispose(&err);
            return 0;
        }
        if (rc)
            return fail(c, &err, rc);
        printf("Superuser %s: %s\n",
               ops[i].op == BS_SU_DELETE ? "deleted" : "saved", c->args[2]);
        return 0;
    }
    fprintf(stderr, "%s: unknown superuser subcommand \"%s\"\n", c->prog,
            c->args[1]);
    return 2;
}

/* `collections import FILE`: the same import as PUT
 * /api/collections/import, from a schema file (an array of collections,
 * {"collections":[...]}, current or pre-0.23 shape). */
static int cmd_collections(bs_app *app, const cli *c)
{
    if (c->nargs != 3 || strcmp(c->args[1], "import") != 0) {
        fprintf(stderr, "%s: usage: %s collections import FILE "
                        "[--dir DIR] [--delete-missing]\n", c->prog, c->prog);
        return 2;
    }
    FILE *f = fopen(c->args[2], "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s\n", c->prog, c->args[2]);
        return 1;
    }
    bs_buf text;
    bs_buf_init(&text);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        bs_buf_append(&text, chunk, n);
    fclose(f);
    char msg[256] = "out of memory";
    json_object *items =
        text.oom ? NULL
                 : bs_collections_import_parse(text.data ? text.data : "",
                                               text.len, msg, sizeof msg);
    bs_buf_dispose(&text);
    if (!items) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, c->args[2], msg);
        return 1;
    }
    bs_error err;
    bs_error_init(&err);
    int rc = boot(app, c, false, &err);
    if (rc == 0)
        rc = bs_collections_import(app, items, c->delete_missing, &err);
    size_t count = json_object_array_length(items);
    json_object_put(items);
    if (rc) {
        const char *detail = NULL;
        json_object *d = err.data ? json_object_object_get(err.data,
                                                            "collections")
                                  : NULL;
        if (d)
            detail = json_object_get_string(
                json_object_object_get(d, "message"));
        fprintf(stderr, "%s: import failed: %s\n", c->prog,
                detail ? detail
                       : err.message ? err.message : bs_strerror(rc));
        bs_error_dispose(&err);
        return 1;
    }
    printf("Imported %zu collection%s.\n", count, count == 1 ? "" : "s");
    return 0;
}

/* `migrate ...` on pb_migrations (or --migrationsDir). As in
 * PocketBase, the hooks are loaded too (not watched), so what they bind
 * to saves runs for the migrations' saves as well. */
static int cmd_migrate(bs_app *app, const cli *c)
{
    if (!bs_cli_migrate_check(c->prog, c->nargs, (char **)c->args))
        return 2;
    bs_app_config cfg = {.data_dir = c->dir};
    bs_error err;
    bs_error_init(&err);
    bs_js *js = NULL;
    int rc = 0;
    if (bs_cli_migrate_needs_app((char **)c->args)) {
        rc = open_hooks(app, c, false, &js, &err);
        if (rc == 0)
            rc = boot(app, c, false, &err);
        if (rc == 0)
            write_types(app);
    } else if (bs_app_configure(app, &cfg, false) != 0) {
        rc = bs_error_set(&err, 500, "The app is already bootstrapped.");
    }
    if (rc) {
        bs_js_free(js);
        return fail(c, &err, rc);
    }
    bs_error_dispose(&err);
    char mdir[4096];
    beside_data(app, c->migrations_dir, "pb_migrations", mdir);
    rc = bs_cli_migrate(app, c->prog, mdir, c->nargs, (char **)c->args);
    bs_js_free(js);
    return rc;
}

static int cmd_custom(bs_app *app, const cli *c, const bs_command *cmd)
{
    bs_error err;
    bs_error_init(&err);
    int rc = boot(app, c, false, &err);
    if (rc)
        return fail(c, &err, rc);
    bs_error_dispose(&err);
    return cmd->fn(app, c->nargs, (char **)c->args, cmd->user);
}

int bs_app_start(bs_app *app, int argc, char **argv)
{
    cli c;
    app->argv = argv;
    int rc = parse(&c, argc, argv);
    if (rc)
        return rc;
    if (c.help) {
        usage(app, &c, stdout);
        return 0;
    }
    if (c.version) {
        printf("%s version %s\n", c.prog, BASALT_VERSION);
        return 0;
    }
    if (c.nargs == 0) {
        if (c.bad_flag)
            return refuse_unknown_flag(&c);
        usage(app, &c, stderr);
        return 2;
    }
    for (int i = 0; i < app->ncommands; i++) {
        if (strcmp(c.args[0], app->commands[i].name) == 0)
            return cmd_custom(app, &c, &app->commands[i]);
    }
    if ((rc = refuse_unknown_flag(&c)))
        return rc;
    if (strcmp(c.args[0], "serve") == 0)
        return cmd_serve(app, &c);
    if (strcmp(c.args[0], "__types") == 0)
        return cmd_types(app, &c);
    if (strcmp(c.args[0], "superuser") == 0)
        return cmd_superuser(app, &c);
    if (strcmp(c.args[0], "collections") == 0)
        return cmd_collections(app, &c);
    if (strcmp(c.args[0], "migrate") == 0)
        return cmd_migrate(app, &c);
    if (strcmp(c.args[0], "pg") == 0)
        return bs_cli_pg(c.prog, c.dir, c.db, c.nargs, (char **)c.args);
    fprintf(stderr, "%s: unknown command \"%s\" (see %s --help)\n", c.prog,
            c.args[0], c.prog);
    return 2;
}
