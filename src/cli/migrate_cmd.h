/*
 * migrate_cmd.h - the `migrate` command of the command line.
 */
#ifndef BS_MIGRATE_CMD_H
#define BS_MIGRATE_CMD_H

#include "basalt.h"

/* Whether args (args[0] = "migrate") name a known subcommand with the
 * right arguments; prints the usage and returns false otherwise. */
bool bs_cli_migrate_check(const char *prog, int nargs, char **args);

/* Whether the subcommand works on the database (all but create). */
bool bs_cli_migrate_needs_app(char **args);

/* Runs `migrate up | down [n] | create NAME | collections | history-sync`
 * on dir (the app bootstrapped unless only creating). Returns the exit
 * status. */
int bs_cli_migrate(bs_app *app, const char *prog, const char *dir, int nargs,
                   char **args);

#endif
