/*
 * migrate.h - system migrations of the data directory.
 *
 * A fresh data directory gets PocketBase's internal tables and system
 * collections. An existing PocketBase data directory is left as it is:
 * only migrations missing from `_migrations` run, so user data is never
 * rewritten.
 */
#ifndef BS_MIGRATE_H
#define BS_MIGRATE_H

#include "basalt.h"

int bs_migrate_run(bs_app *app, bs_error *err);

#endif
