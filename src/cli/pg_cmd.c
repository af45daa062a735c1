/*
 * pg_cmd.c - `PROG pg export --db URL [--dir DIR]` and
 * `PROG pg import --db URL --dir NEWDIR`: a pb_data moved between SQLite
 * and PostgreSQL, verified by row counts and checksums (see
 * src/core/pg_transfer.h and docs/scale.md).
 */
#include "pg_cmd.h"

#include <stdio.h>
#include <string.h>

#include "../core/pg_transfer.h"

static int usage(const char *prog)
{
    fprintf(stderr,
            "%s: usage: %s pg export --db URL [--dir DIR]\n"
            "       %s pg import --db URL --dir NEWDIR\n",
            prog, prog, prog);
    return 2;
}

static void print_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
    fflush(stdout);
}

int bs_cli_pg(const char *prog, const char *dir, const char *url, int nargs,
              char **args)
{
    bool export = nargs == 2 && strcmp(args[1], "export") == 0;
    bool import = nargs == 2 && strcmp(args[1], "import") == 0;
    if (!export && !import)
        return usage(prog);
    if (!url || !*url) {
        fprintf(stderr, "%s: pg %s needs --db URL (postgres://...)\n", prog,
                args[1]);
        return 2;
    }
    if (import && !dir) {
        fprintf(stderr, "%s: pg import needs --dir NEWDIR (a new or empty "
                        "directory)\n", prog);
        return 2;
    }
    bs_pg_transfer t = {.dir = dir ? dir : "pb_data", .url = url,
                        .say = print_line};
    bs_error err;
    bs_error_init(&err);
    int rc = export ? bs_pg_export(&t, &err) : bs_pg_import(&t, &err);
    if (rc) {
        fprintf(stderr, "%s: pg %s failed: %s\n", prog, args[1],
                err.message ? err.message : bs_strerror(rc));
        fprintf(stderr, "%s: %s\n", prog,
                export ? "nothing was written to PostgreSQL"
                       : "no new pb_data was left behind");
    }
    bs_error_dispose(&err);
    return rc ? 1 : 0;
}
