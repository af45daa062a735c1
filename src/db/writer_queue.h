/*
 * writer_queue.h - who holds data.db's writer connection, and group
 * commit: write transactions that arrive together share one COMMIT.
 * Internal to src/db; store.c is its only user (bs_store_tx_*).
 */
#ifndef BS_WRITER_QUEUE_H
#define BS_WRITER_QUEUE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "basalt.h"

typedef struct bs_wq bs_wq;

/* Most transactions one COMMIT covers: bounds how long the first of a
 * group waits for its answer while others keep joining. */
#define BS_WQ_GROUP_MAX 64

/* A queue for the writer connection db (which it does not own). */
bs_wq *bs_wq_new(sqlite3 *db);
void bs_wq_free(bs_wq *q);

/* Takes the writer (blocking) and starts a transaction on it.
 * grouped: the transaction joins the open group, or opens one, inside its
 * own SAVEPOINT; otherwise a group still open is committed first and the
 * transaction is a plain BEGIN IMMEDIATE … COMMIT of its own. */
int bs_wq_begin(bs_wq *q, bool grouped, bs_error *err);

/* Ends the calling thread's transaction and gives the writer up.
 * A plain one commits or rolls back. A grouped one releases or rolls back
 * its savepoint; then, when another transaction waits for the writer and
 * the group is not full, it hands the writer over and (committing) waits
 * until a later member commits the group; otherwise it commits the group
 * itself. Returns 0 once the transaction's writes are committed (as
 * durable as a COMMIT of its own), BS_EDB if the commit failed, or 0 for
 * a rollback. */
int bs_wq_end(bs_wq *q, bool commit, bs_error *err);

/* Takes the writer only when it is free and no group is open; true when
 * taken (give it back with bs_wq_release_idle). */
bool bs_wq_try_idle(bs_wq *q);
void bs_wq_release_idle(bs_wq *q);

/* Takes the writer (blocking, in turn with the transactions waiting
 * for it) without starting a transaction: an open group is committed
 * first, so nothing is written until bs_wq_release_idle. For work on
 * another connection that needs the database to hold still (the end of
 * a WAL checkpoint). */
void bs_wq_hold(bs_wq *q);

/* Transactions waiting for the writer now (for tests). */
int bs_wq_waiting(bs_wq *q);

/* Counters since bs_wq_new: COMMITs run for groups, and grouped
 * transactions that committed. */
void bs_wq_stats(bs_wq *q, uint64_t *group_commits, uint64_t *members);

#endif
