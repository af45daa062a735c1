/*
 * migrate_cmd.c - `PROG migrate up | down [n] | create NAME | collections
 * | history-sync`, PocketBase's migrate command over the pb_migrations
 * directory (src/js/migrations.c runs the files).
 */
#include "migrate_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../js/js.h"

static int usage(const char *prog)
{
    fprintf(stderr, "%s: usage: %s migrate up | down [n] | create NAME | "
                    "collections | history-sync [--migrationsDir DIR]\n",
            prog, prog);
    return 2;
}

bool bs_cli_migrate_check(const char *prog, int nargs, char **args)
{
    const char *sub = nargs > 1 ? args[1] : "up";
    bool ok = false;
    if (strcmp(sub, "up") == 0 || strcmp(sub, "collections") == 0 ||
        strcmp(sub, "history-sync") == 0)
        ok = nargs <= 2;
    else if (strcmp(sub, "down") == 0)
        ok = nargs == 2 || (nargs == 3 && atoi(args[2]) > 0);
    else if (strcmp(sub, "create") == 0)
        ok = nargs == 3 && args[2][0];
    if (!ok)
        usage(prog);
    return ok;
}

bool bs_cli_migrate_needs_app(char **args)
{
    return !(args[1] && strcmp(args[1], "create") == 0);
}

static int failed(const char *prog, bs_error *err, int rc)
{
    fprintf(stderr, "%s: %s\n", prog,
            err->message ? err->message : bs_strerror(rc));
    bs_error_dispose(err);
    return 1;
}

int bs_cli_migrate(bs_app *app, const char *prog, const char *dir, int nargs,
                   char **args)
{
    const char *sub = nargs > 1 ? args[1] : "up";
    bs_error err;
    bs_error_init(&err);
    int rc, count = 0;
    char *path = NULL;
    if (strcmp(sub, "up") == 0) {
        rc = bs_js_migrate_up(app, dir, &count, &err);
        if (rc)
            return failed(prog, &err, rc);
        if (count)
            printf("Applied %d migration%s.\n", count, count == 1 ? "" : "s");
        else
            printf("No new migrations to apply.\n");
    } else if (strcmp(sub, "down") == 0) {
        int n = nargs > 2 ? atoi(args[2]) : 1;
        rc = bs_js_migrate_down(app, dir, n, &count, &err);
        if (rc)
            return failed(prog, &err, rc);
        printf("Reverted %d migration%s.\n", count, count == 1 ? "" : "s");
    } else if (strcmp(sub, "create") == 0) {
        rc = bs_js_migrate_create(dir, args[2], &path, &err);
        if (rc)
            return failed(prog, &err, rc);
        printf("Successfully created file %s\n", path);
    } else if (strcmp(sub, "collections") == 0) {
        rc = bs_js_migrate_collections(app, dir, &path, &err);
        if (rc)
            return failed(prog, &err, rc);
        printf("Successfully created file %s\n", path);
    } else {
        rc = bs_js_migrate_history_sync(app, dir, &count, &err);
        if (rc)
            return failed(prog, &err, rc);
        printf("Removed %d migration history entr%s.\n", count,
               count == 1 ? "y" : "ies");
    }
    free(path);
    bs_error_dispose(&err);
    return 0;
}
