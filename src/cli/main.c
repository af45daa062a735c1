/*
 * main.c - the `basalt` binary: the smallest program built on libbasalt.
 *
 * Everything the command line does lives in the library (src/cli/start.c,
 * bs_app_start), so a program of your own that binds hooks, routes and
 * commands gets the same command line.
 */
#include "basalt.h"

int main(int argc, char **argv)
{
    bs_app *app = bs_app_new(NULL);
    if (!app)
        return 1;
    int rc = bs_app_start(app, argc, argv);
    bs_app_free(app);
    return rc;
}
