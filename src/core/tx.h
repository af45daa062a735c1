/*
 * tx.h - transactions on the writer connection (public API in basalt.h).
 */
#ifndef BS_TX_H
#define BS_TX_H

#include "../db/store.h"
#include "basalt.h"

/* The connection statements of this transaction run on. */
bs_conn *bs_tx_conn(bs_tx *tx);

/* The transaction the calling thread is inside for app, or NULL. */
bs_tx *bs_tx_current(bs_app *app);

/* bs_run_in_transaction for a short record save or delete: the
 * transaction runs in its own savepoint and may share its COMMIT with
 * others arriving together (group commit). Nested calls join the outer
 * transaction, as bs_run_in_transaction does. */
int bs_run_in_group(bs_app *app, bs_tx_fn fn, void *data, bs_error *err);

#endif
