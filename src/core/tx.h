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

#endif
