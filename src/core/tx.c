/*
 * tx.c - transactions with an after-commit queue.
 *
 * The transaction a thread is inside is remembered in a thread-local
 * pointer: the writer lock is held by that thread, so a nested call must
 * join rather than wait for the lock it already holds.
 *
 * Record saves and deletes run with bs_run_in_group: their transaction
 * may share its COMMIT with others arriving at the same time (see
 * src/db/writer_queue.c). The after-commit queue is per transaction and
 * runs on the caller's thread once the shared COMMIT has returned, so
 * hooks see the same order as with a commit of their own.
 */
#include "tx.h"

#include <stdlib.h>

#include "app.h"

typedef struct after_item {
    bs_tx_after_fn fn;
    void *data;
    void (*free_data)(void *);
    struct after_item *next;
} after_item;

struct bs_tx {
    bs_app *app;
    bs_conn *conn;
    after_item *head, *tail;
};

static _Thread_local bs_tx *current_tx;

bs_conn *bs_tx_conn(bs_tx *tx)
{
    return tx->conn;
}

bs_app *bs_tx_app(bs_tx *tx)
{
    return tx->app;
}

bs_tx *bs_tx_current(bs_app *app)
{
    return current_tx && current_tx->app == app ? current_tx : NULL;
}

int bs_tx_after(bs_tx *tx, bs_tx_after_fn fn, void *data,
                void (*free_data)(void *))
{
    after_item *it = calloc(1, sizeof *it);
    if (!it) {
        if (free_data)
            free_data(data);
        return BS_ENOMEM;
    }
    it->fn = fn;
    it->data = data;
    it->free_data = free_data;
    if (tx->tail)
        tx->tail->next = it;
    else
        tx->head = it;
    tx->tail = it;
    return 0;
}

/* Runs and frees the queue. Items queued by the callbacks themselves
 * (with no transaction open any more) are not possible: bs_tx_after needs
 * a live transaction. */
static void run_queue(bs_tx *tx, bool committed)
{
    after_item *it = tx->head;
    tx->head = tx->tail = NULL;
    while (it) {
        after_item *next = it->next;
        if (it->fn)
            it->fn(tx->app, it->data, committed);
        if (it->free_data)
            it->free_data(it->data);
        free(it);
        it = next;
    }
}

static int run_tx(bs_app *app, bool grouped, bs_tx_fn fn, void *data,
                  bs_error *err)
{
    bs_tx *outer = bs_tx_current(app);
    if (outer)
        return fn(outer, data);

    bs_tx tx = {.app = app};
    int rc = grouped ? bs_store_tx_join(app->store, &tx.conn, err)
                     : bs_store_tx_begin(app->store, &tx.conn, err);
    if (rc)
        return rc;
    current_tx = &tx;
    rc = fn(&tx, data);
    current_tx = NULL;
    int end = bs_store_tx_end(app->store, rc == 0, rc ? NULL : err);
    if (rc == 0 && end != 0)
        rc = end;
    run_queue(&tx, rc == 0);
    return rc;
}

int bs_run_in_transaction(bs_app *app, bs_tx_fn fn, void *data,
                          bs_error *err)
{
    return run_tx(app, false, fn, data, err);
}

int bs_run_in_group(bs_app *app, bs_tx_fn fn, void *data, bs_error *err)
{
    return run_tx(app, true, fn, data, err);
}
