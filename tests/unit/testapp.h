/*
 * testapp.h - an app on a fresh data directory for the unit tests that
 * save and read records: bootstrapped, with the test's own collections
 * created in one transaction and the schema reloaded.
 */
#ifndef BS_TEST_APP_H
#define BS_TEST_APP_H

#include <stdio.h>
#include <stdlib.h>

#include "basalt.h"
#include "core/app.h"

/* Opens an app on dir and runs tx (NULL: none) in a transaction with a
 * bs_error as its data. Exits the test process when anything fails. */
static inline bs_app *testapp_open(const char *dir, bs_tx_fn tx)
{
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    bs_app *app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    int rc = app ? bs_app_bootstrap(app, &err) : BS_ENOMEM;
    if (rc == 0 && tx)
        rc = bs_run_in_transaction(app, tx, &err, &err);
    if (rc == 0)
        rc = bs_app_reload_schema(app);
    if (rc) {
        fprintf(stderr, "setup failed: %s\n", err.message ? err.message : "?");
        exit(1);
    }
    bs_error_dispose(&err);
    return app;
}

#endif
