/*
 * pg_cmd.h - the `pg` command of the command line: a pb_data moved into
 * PostgreSQL and back (src/core/pg_transfer.c does the work).
 */
#ifndef BS_PG_CMD_H
#define BS_PG_CMD_H

#include "basalt.h"

/* Runs `pg export` or `pg import` (args[0] = "pg") with the data
 * directory dir (NULL when --dir was not given) and the PostgreSQL URL
 * url (--db). Prints progress on stdout and errors on stderr. Returns
 * the exit status: 0, 1 on failure, 2 on a usage error. */
int bs_cli_pg(const char *prog, const char *dir, const char *url, int nargs,
              char **args);

#endif
