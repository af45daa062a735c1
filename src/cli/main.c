/*
 * main.c - the `basalt` command line.
 *
 *   basalt serve [--http ADDR] [--dir DIR] [--dev] [--origins LIST]
 *   basalt superuser upsert|create|update|delete EMAIL [PASSWORD]
 *   basalt collections import FILE [--delete-missing]
 *   basalt --help | --version
 *
 * Flags take their value as "--flag=value" or "--flag value"; --dir and
 * --dev work with every command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/app.h"
#include "../core/collection_import.h"
#include "../core/superuser.h"
#include "basalt.h"

typedef struct cli {
    const char *dir;
    const char *http;
    const char *origins;
    bool dev;
    bool delete_missing;
    int nargs;
    const char *args[8];
} cli;

static void usage(FILE *out)
{
    fputs("Basalt " BASALT_VERSION " - a backend in one program.\n"
          "\n"
          "Usage:\n"
          "  basalt serve [--http ADDR] [--dir DIR] [--dev] [--origins LIST]\n"
          "  basalt superuser upsert|create|update EMAIL PASSWORD [--dir DIR]\n"
          "  basalt superuser delete EMAIL [--dir DIR]\n"
          "  basalt collections import FILE [--dir DIR] [--delete-missing]\n"
          "  basalt --help | --version\n"
          "\n"
          "Flags:\n"
          "  --http ADDR      address to listen on (default 127.0.0.1:8090)\n"
          "  --dir DIR        data directory (default ./pb_data)\n"
          "  --dev            log requests and SQL errors verbosely\n"
          "  --origins LIST   comma-separated CORS origins (default *)\n",
          out);
}

/* Returns the flag's value for "--name=v" or "--name v"; advances *i. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
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
    if (a[n] == '\0') {
        fprintf(stderr, "basalt: flag %s needs a value\n", name);
        exit(2);
    }
    return NULL;
}

static void parse(cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->dir = "pb_data";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            printf("basalt version %s\n", BASALT_VERSION);
            exit(0);
        }
        if (strcmp(a, "--delete-missing") == 0) {
            c->delete_missing = true;
            continue;
        }
        if (strcmp(a, "--dev") == 0) {
            c->dev = true;
            continue;
        }
        if ((v = flag_value(argc, argv, &i, "--dir"))) {
            c->dir = v;
            continue;
        }
        if ((v = flag_value(argc, argv, &i, "--http"))) {
            c->http = v;
            continue;
        }
        if ((v = flag_value(argc, argv, &i, "--origins"))) {
            c->origins = v;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "basalt: unknown flag %s (see basalt --help)\n",
                    a);
            exit(2);
        }
        if (c->nargs == (int)(sizeof c->args / sizeof c->args[0])) {
            fprintf(stderr, "basalt: too many arguments\n");
            exit(2);
        }
        c->args[c->nargs++] = a;
    }
    if (c->dir[0] == '\0') {
        fprintf(stderr, "basalt: --dir must not be empty\n");
        exit(2);
    }
}

static int fail(bs_error *err, int rc)
{
    fprintf(stderr, "basalt: %s\n",
            err->message ? err->message : bs_strerror(rc));
    bs_error_dispose(err);
    return 1;
}

static int cmd_serve(const cli *c)
{
    if (c->nargs != 1) {
        fprintf(stderr, "basalt: serve takes no arguments\n");
        return 2;
    }
    bs_app_config cfg = {.data_dir = c->dir, .http_addr = c->http,
                         .origins = c->origins, .dev = c->dev};
    bs_app *app = bs_app_new(&cfg);
    if (!app) {
        fprintf(stderr, "basalt: out of memory\n");
        return 1;
    }
    bs_error err;
    bs_error_init(&err);
    int rc = bs_app_bootstrap(app, &err);
    if (rc == 0 && bs_superuser_count(app) == 0) {
        fprintf(stderr,
                "No superuser yet. Create one with:\n"
                "  basalt superuser upsert EMAIL PASSWORD --dir %s\n",
                c->dir);
    }
    if (rc == 0)
        rc = bs_app_serve(app, true, &err);
    bs_app_free(app);
    return rc ? fail(&err, rc) : 0;
}

static int cmd_superuser(const cli *c)
{
    static const struct {
        const char *name;
        bs_su_op op;
        int args;
    } ops[] = {{"upsert", BS_SU_UPSERT, 4}, {"create", BS_SU_CREATE, 4},
               {"update", BS_SU_UPDATE, 4}, {"delete", BS_SU_DELETE, 3}};
    if (c->nargs < 2) {
        fprintf(stderr, "basalt: superuser needs a subcommand: upsert, "
                        "create, update or delete\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(c->args[1], ops[i].name) != 0)
            continue;
        if (c->nargs != ops[i].args) {
            fprintf(stderr, "basalt: superuser %s needs %s\n", ops[i].name,
                    ops[i].args == 4 ? "EMAIL and PASSWORD" : "EMAIL");
            return 2;
        }
        bs_app_config cfg = {.data_dir = c->dir, .dev = c->dev,
                             .threads = 1};
        bs_app *app = bs_app_new(&cfg);
        if (!app)
            return 1;
        bs_error err;
        bs_error_init(&err);
        int rc = bs_app_bootstrap(app, &err);
        if (rc == 0)
            rc = bs_superuser_apply(app, ops[i].op, c->args[2],
                                    ops[i].args == 4 ? c->args[3] : NULL,
                                    &err);
        bs_app_free(app);
        if (rc == BS_EHTTP && ops[i].op == BS_SU_DELETE && err.status == 404) {
            /* Like PocketBase: deleting a missing superuser only warns. */
            printf("Superuser %s is missing or already deleted.\n",
                   c->args[2]);
            bs_error_dispose(&err);
            return 0;
        }
        if (rc)
            return fail(&err, rc);
        printf("Superuser %s: %s\n",
               ops[i].op == BS_SU_DELETE ? "deleted" : "saved", c->args[2]);
        return 0;
    }
    fprintf(stderr, "basalt: unknown superuser subcommand \"%s\"\n",
            c->args[1]);
    return 2;
}

/* `collections import FILE`: the same import as PUT
 * /api/collections/import, from a schema file (an array of collections,
 * {"collections":[...]}, current or pre-0.23 shape). */
static int cmd_collections(const cli *c)
{
    if (c->nargs != 3 || strcmp(c->args[1], "import") != 0) {
        fprintf(stderr, "basalt: usage: basalt collections import FILE "
                        "[--dir DIR] [--delete-missing]\n");
        return 2;
    }
    FILE *f = fopen(c->args[2], "rb");
    if (!f) {
        fprintf(stderr, "basalt: cannot open %s\n", c->args[2]);
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
        fprintf(stderr, "basalt: %s: %s\n", c->args[2], msg);
        return 1;
    }
    bs_app_config cfg = {.data_dir = c->dir, .dev = c->dev, .threads = 1};
    bs_app *app = bs_app_new(&cfg);
    if (!app) {
        json_object_put(items);
        return 1;
    }
    bs_error err;
    bs_error_init(&err);
    int rc = bs_app_bootstrap(app, &err);
    if (rc == 0)
        rc = bs_collections_import(app, items, c->delete_missing, &err);
    bs_app_free(app);
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
        fprintf(stderr, "basalt: import failed: %s\n",
                detail ? detail
                       : err.message ? err.message : bs_strerror(rc));
        bs_error_dispose(&err);
        return 1;
    }
    printf("Imported %zu collection%s.\n", count, count == 1 ? "" : "s");
    return 0;
}

int main(int argc, char **argv)
{
    cli c;
    parse(&c, argc, argv);
    if (c.nargs == 0) {
        usage(stderr);
        return 2;
    }
    if (strcmp(c.args[0], "serve") == 0)
        return cmd_serve(&c);
    if (strcmp(c.args[0], "superuser") == 0)
        return cmd_superuser(&c);
    if (strcmp(c.args[0], "collections") == 0)
        return cmd_collections(&c);
    fprintf(stderr, "basalt: unknown command \"%s\" (see basalt --help)\n",
            c.args[0]);
    return 2;
}
