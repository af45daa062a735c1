/*
 * store.h - the SQLite store: data.db and auxiliary.db connections.
 *
 * Threading model: every write goes through the single writer connection
 * of data.db, serialized by a mutex and held for the length of one short
 * transaction. Reads use a pool of read-only connections (WAL lets them
 * run beside the writer); a thread borrows one for the length of a
 * request. Each connection caches its prepared statements.
 *
 * Code above this layer asks for "a transaction" (bs_store_tx_begin) or
 * "a reader" and never names the writer, so that another database engine
 * can take this module's place.
 */
#ifndef BS_STORE_H
#define BS_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/stats.h"

#include "basalt.h"

typedef struct bs_store bs_store;

/* How long a reader may run queries after it is borrowed before SQLite
 * interrupts them (SQLITE_INTERRUPT): PocketBase's query timeout. */
#define BS_READ_TIMEOUT_MS 30000
typedef struct bs_conn bs_conn;

/* Opens (creating when missing) <dir>/data.db and <dir>/auxiliary.db with
 * PocketBase's pragmas and `readers` read-only connections. */
int bs_store_open(bs_store **out, const char *dir, int readers, bs_error *err);

/* The statement that nodes sharing a PostgreSQL database run first in
 * a transaction that creates or changes what every node relies on (the
 * store's helper functions and collation, the system tables): it waits
 * for any other node doing the same, so that several nodes starting at
 * once do not collide on CREATE (an advisory lock held until the
 * transaction ends). */
#define BS_PG_SETUP_LOCK "SELECT pg_advisory_xact_lock(7306087212384)"

/* Opens a store on the PostgreSQL database at url (postgres://...):
 * the writer and `readers` reader connections are PostgreSQL's; the
 * request logs stay in <dir>/auxiliary.db (SQLite), and dir keeps the
 * files. What runs on it and what does not yet: docs/scale.md, "The
 * PostgreSQL store". */
int bs_store_open_pg(bs_store **out, const char *dir, const char *url,
                     int readers, bs_error *err);

/* Whether this node should run the work that must run once in a
 * cluster (the cron jobs) now. Always true on SQLite. On PostgreSQL,
 * nodes sharing a database elect one: the node whose own connection
 * holds a session advisory lock. A node that does not hold it asks
 * again at each call; the holder keeps it until its connection ends (it
 * dies, or PostgreSQL restarts), and then another takes it at its next
 * call. Any thread; takes a round trip on PostgreSQL. */
bool bs_store_leader(bs_store *s);

/* Rate limits shared by the nodes of a PostgreSQL database: counts one
 * hit of key (a client address) under id in a fixed window of interval
 * seconds, which starts again with the first hit after it ends (the
 * windows of core/ratelimit.c, kept in a table every node updates with
 * one atomic statement). Returns 0 with *hits, the window's hits this
 * one included; BS_ENOTFOUND on SQLite (the caller counts in memory);
 * BS_EDB when PostgreSQL cannot be reached. Any thread; a round trip on
 * a connection of its own, one hit at a time. */
int bs_store_count_hit(bs_store *s, const char *id, const char *key,
                       int64_t interval, int64_t now, int64_t *hits);
/* Forgets every shared window (nothing on SQLite). */
void bs_store_count_reset(bs_store *s);

/* Whether s, or the connection c, is PostgreSQL's. Any thread. */
bool bs_store_is_pg(const bs_store *s);
bool bs_conn_is_pg(const bs_conn *c);

/* Checkpoints the WAL and closes every connection. No connection may be
 * in use. */
void bs_store_close(bs_store *s);

/* Borrows a read-only data.db connection; blocks while all are in use.
 * Give it back with bs_store_reader_release on the same or another thread.
 * On a thread inside a write transaction this returns the writer, so the
 * transaction's own uncommitted writes are visible to its reads. */
bs_conn *bs_store_reader_acquire(bs_store *s);
void bs_store_reader_release(bs_store *s, bs_conn *c);

/* Starts a write transaction (BEGIN IMMEDIATE) on the writer, taking the
 * writer lock; the caller must end it with bs_store_tx_end on the same
 * thread. Returns the connection to run statements on. */
int bs_store_tx_begin(bs_store *s, bs_conn **out, bs_error *err);

/* Like bs_store_tx_begin, for a transaction that may share its COMMIT
 * with others arriving at the same time (group commit, see
 * writer_queue.c): it runs inside its own SAVEPOINT, so ending it
 * without commit undoes only its own writes. Meant for short record
 * saves; schema changes and anything needing a transaction of its own
 * use bs_store_tx_begin. */
int bs_store_tx_join(bs_store *s, bs_conn **out, bs_error *err);

/* Commits (commit=true) or rolls back, then releases the writer lock.
 * A failed commit rolls back and returns BS_EDB. For a joined
 * transaction, commit returns once the shared COMMIT carrying its writes
 * has returned; a failed shared COMMIT is BS_EDB for every member. */
int bs_store_tx_end(bs_store *s, bool commit, bs_error *err);

/* Threads waiting to start a transaction now (tests drive group commit
 * with it). */
int bs_store_tx_waiting(bs_store *s);

/* COMMITs run for groups of joined transactions, and the joined
 * transactions they committed, since the store opened. */
void bs_store_group_stats(bs_store *s, uint64_t *commits, uint64_t *members);

/* WAL checkpoints run off the writer, by the store's checkpoint thread
 * (see checkpointer.c), and the nanoseconds they took, since the store
 * opened. Any thread. */
void bs_store_checkpoints(bs_store *s, uint64_t *runs, uint64_t *ns);

/* Whether another process (`basalt collections import`, the sqlite3
 * shell, another node) has committed to data.db since the last call:
 * SQLite's data_version as the writer sees it, which this process's own
 * commits do not change. The first call only records the version. When
 * the writer is busy the answer is false and the check waits for the
 * next call. On PostgreSQL: whether the collections or the settings
 * changed, by anyone, this process included. One thread at a time (the
 * server's loop). */
bool bs_store_changed_elsewhere(bs_store *s);

/* The auxiliary.db connection (logs); serialized by its own lock. */
bs_conn *bs_store_aux_acquire(bs_store *s);
void bs_store_aux_release(bs_store *s, bs_conn *c);

/* Interrupts the statements of c (SQLITE_INTERRUPT) once
 * bs_mono_ms() passes deadline_ms; 0 lifts the limit. Readers get
 * BS_READ_TIMEOUT_MS when borrowed; this sets another limit for the
 * current borrower (the SQL console), on a reader or the writer. */
void bs_conn_set_deadline(bs_conn *c, int64_t deadline_ms);

/* The raw handle of a SQLite connection; NULL for PostgreSQL's. */
sqlite3 *bs_conn_db(bs_conn *c);

/* Returns a cached prepared statement for sql (which must be a string
 * that stays valid, usually a literal), reset and with cleared bindings.
 * Do not finalize it. Returns NULL on a prepare error (logged). */
sqlite3_stmt *bs_conn_prepare(bs_conn *c, const char *sql);

/* Like bs_conn_prepare for SQL built at run time: the text is copied and
 * the statement kept (least recently used ones are replaced). Do not
 * finalize the result; reset it when done. */
sqlite3_stmt *bs_conn_prepare_dyn(bs_conn *c, const char *sql, size_t len);

/* Runs one or more statements without results. Returns 0 or BS_EDB and
 * copies SQLite's message into err (status 400 "Failed to ..."). */
int bs_conn_exec(bs_conn *c, const char *sql, bs_error *err);

/* The store's counters for the metrics (src/core/metrics.c): the writer
 * lock's queue and timings, and the statement caches. Updated with
 * relaxed atomics (base/stats.h); read at any time. */
typedef struct bs_store_counters {
    _Atomic int64_t waiting;  /* threads waiting for the writer lock now */
    bs_counter commits;       /* write transactions committed */
    bs_counter rollbacks;     /* ... rolled back (or failed to commit) */
    bs_hist wait;             /* waiting for the writer lock */
    bs_hist tx;               /* the lock held: BEGIN to COMMIT/ROLLBACK */
} bs_store_counters;

/* The counters of s (live; owned by the store). Any thread. */
const bs_store_counters *bs_store_counters_get(bs_store *s);

/* The statement caches of every connection, summed: lookups that found
 * a prepared statement (hits) and those that prepared one (misses). Any
 * thread. */
void bs_store_stmt_cache(bs_store *s, uint64_t *hits, uint64_t *misses);

#endif
