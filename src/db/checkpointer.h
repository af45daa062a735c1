/*
 * checkpointer.h - checkpoints data.db's write-ahead log on a thread of
 * its own, so that no write transaction waits for one.
 * Internal to src/db; store.c is its only user.
 */
#ifndef BS_CHECKPOINTER_H
#define BS_CHECKPOINTER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct bs_ckpt bs_ckpt;

/* The log size (in pages) at which a checkpoint is asked for: SQLite's
 * own wal_autocheckpoint default, so the log grows as it did before. */
#define BS_CKPT_PAGES 1000

/* Past this many pages the writer checkpoints by itself, as SQLite's
 * automatic checkpoint did: the thread has fallen behind (a slow disk)
 * or cannot finish (a long read holds old pages), and the log must not
 * grow without bound. */
#define BS_CKPT_WRITER_PAGES (8 * BS_CKPT_PAGES)

/* Keeps every writer of the database out while held (the writer lock),
 * and lets them in again. */
typedef void (*bs_ckpt_hold_fn)(void *user);

/* Opens a connection of its own to the database at path (synchronous =
 * NORMAL, as the writer's) and starts the thread; hold and release (with
 * user) stop and restart commits for the short end of each checkpoint.
 * NULL when either fails; the caller then keeps SQLite's automatic
 * checkpoints. */
bs_ckpt *bs_ckpt_start(const char *path, bs_ckpt_hold_fn hold,
                       bs_ckpt_hold_fn release, void *user);

/* Stops the thread after any checkpoint under way and closes its
 * connection. NULL is allowed. */
void bs_ckpt_stop(bs_ckpt *c);

/* Tells the thread the log now holds `pages` pages; at BS_CKPT_PAGES or
 * more it wakes the thread (once, until it has run). Called by the
 * writer's WAL hook after each commit; costs an atomic load when there
 * is nothing to do. */
void bs_ckpt_note(bs_ckpt *c, int pages);

/* Checkpoints run by the thread so far, and the time they took. Any
 * thread. */
void bs_ckpt_stats(bs_ckpt *c, uint64_t *runs, uint64_t *ns);

#endif
