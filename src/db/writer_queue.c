/*
 * writer_queue.c - the writer connection's lock, and group commit.
 *
 * Every write to data.db runs on one connection, held by one thread at a
 * time. A plain transaction (schema changes, settings, migrations, the SQL
 * console) is BEGIN IMMEDIATE … COMMIT of its own, as before. A grouped
 * one (a record save or delete) joins the transaction that is already
 * open, inside its own SAVEPOINT, so a failure rolls back only its own
 * writes.
 *
 * Design: the writer passes from member to member like a baton. A member
 * runs its statements on its own thread (hooks keep their thread), then
 * ends its savepoint. If another transaction is waiting for the writer at
 * that moment and the group has room, it hands the writer over and, when
 * it has something to commit, sleeps until the group's outcome is known;
 * otherwise it is the last member and runs the COMMIT for everyone, then
 * wakes them. So nobody is answered before the COMMIT that carries its
 * writes has returned (with the same synchronous setting as a commit of
 * its own), and under no contention a grouped transaction costs what a
 * plain one did (the first member of a group needs no savepoint: if it
 * fails, a ROLLBACK undoes only its writes). A plain transaction that
 * takes the writer while a group is open commits that group first.
 *
 * If SQLite ends the open transaction by itself (an I/O error, a full
 * disk), the members waiting for the group learn that their writes were
 * lost (BS_EDB), exactly as if their own COMMIT had failed.
 */
#include "writer_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../base/util.h"

/* The outcome of one shared transaction, waited for by its members. */
typedef struct group {
    int refs;  /* the queue's while open + one per sleeping member */
    bool done;
    int rc;
} group;

enum { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE,
       ST_ROLLBACK_TO, ST_COUNT };

static const char *const ST_SQL[ST_COUNT] = {
    "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "SAVEPOINT bs_member",
    "RELEASE bs_member", "ROLLBACK TO bs_member",
};

struct bs_wq {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    pthread_mutex_t writer;  /* held by the thread using the connection */
    atomic_int waiting;      /* threads blocked on `writer` in bs_wq_begin */
    /* Read and written only by the thread holding `writer`: */
    group *open;             /* the group whose transaction is open */
    int members;             /* transactions that joined it */
    int ok_members;          /* of them, the ones whose writes stay */
    bool grouped;            /* the holder's transaction is a member */
    bool savepoint;          /* ... inside a savepoint (not the first) */
    uint64_t commits, committed_members;
    /* Guards every group's done/rc/refs. */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
};

static int run(bs_wq *q, int which, bs_error *err)
{
    sqlite3_stmt *st = q->st[which];
    int rc = st ? sqlite3_step(st) : sqlite3_exec(q->db, ST_SQL[which], NULL,
                                                  NULL, NULL);
    if (st)
        sqlite3_reset(st);
    if (rc == SQLITE_OK || rc == SQLITE_DONE)
        return 0;
    bs_log('D', "exec failed: %s (%s)", sqlite3_errmsg(q->db),
           ST_SQL[which]);
    if (err)
        bs_error_set(err, 400, "Failed to execute the database query.");
    return BS_EDB;
}

bs_wq *bs_wq_new(sqlite3 *db)
{
    bs_wq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->db = db;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(db, ST_SQL[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &q->st[i], NULL) != SQLITE_OK)
            q->st[i] = NULL; /* run() falls back to sqlite3_exec */
    pthread_mutex_init(&q->writer, NULL);
    pthread_mutex_init(&q->done_lock, NULL);
    pthread_cond_init(&q->done_cond, NULL);
    return q;
}

void bs_wq_free(bs_wq *q)
{
    if (!q)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    free(q->open);
    pthread_mutex_destroy(&q->writer);
    pthread_mutex_destroy(&q->done_lock);
    pthread_cond_destroy(&q->done_cond);
    free(q);
}

static void group_unref_locked(group *g)
{
    if (--g->refs == 0)
        free(g);
}

/* Holder only: commits the open group (if any) and wakes its members. */
static int commit_open(bs_wq *q, bs_error *err)
{
    group *g = q->open;
    if (!g)
        return 0;
    int rc = run(q, ST_COMMIT, err);
    if (rc && !sqlite3_get_autocommit(q->db))
        run(q, ST_ROLLBACK, NULL);
    q->commits++;
    if (rc == 0)
        q->committed_members += (uint64_t)q->ok_members;
    q->open = NULL;
    q->members = q->ok_members = 0;
    pthread_mutex_lock(&q->done_lock);
    g->done = true;
    g->rc = rc;
    pthread_cond_broadcast(&q->done_cond);
    group_unref_locked(g);
    pthread_mutex_unlock(&q->done_lock);
    return rc;
}

/* Holder only: SQLite rolled the open transaction back by itself. */
static void lose_open(bs_wq *q)
{
    group *g = q->open;
    if (!g)
        return;
    q->open = NULL;
    q->members = q->ok_members = 0;
    pthread_mutex_lock(&q->done_lock);
    g->done = true;
    g->rc = BS_EDB;
    pthread_cond_broadcast(&q->done_cond);
    group_unref_locked(g);
    pthread_mutex_unlock(&q->done_lock);
}

int bs_wq_begin(bs_wq *q, bool grouped, bs_error *err)
{
    atomic_fetch_add(&q->waiting, 1);
    pthread_mutex_lock(&q->writer);
    atomic_fetch_sub(&q->waiting, 1);
    q->grouped = grouped;
    if (!grouped) {
        commit_open(q, NULL);
        int rc = run(q, ST_BEGIN, err);
        if (rc)
            pthread_mutex_unlock(&q->writer);
        return rc;
    }
    if (!q->open) {
        group *g = calloc(1, sizeof *g);
        if (!g) {
            pthread_mutex_unlock(&q->writer);
            return BS_ENOMEM;
        }
        int rc = run(q, ST_BEGIN, err);
        if (rc) {
            free(g);
            pthread_mutex_unlock(&q->writer);
            return rc;
        }
        g->refs = 1;
        q->open = g;
    }
    /* The first member needs no savepoint: if it fails, nothing else is
     * in the transaction yet and a plain ROLLBACK undoes only its writes. */
    q->savepoint = q->members++ > 0;
    int rc = q->savepoint ? run(q, ST_SAVEPOINT, err) : 0;
    if (rc) {
        q->members--;
        commit_open(q, NULL);
        pthread_mutex_unlock(&q->writer);
    }
    return rc;
}

int bs_wq_end(bs_wq *q, bool commit, bs_error *err)
{
    int rc = 0;
    if (!q->grouped) {
        if (commit) {
            rc = run(q, ST_COMMIT, err);
            if (rc)
                commit = false;
        }
        if (!commit && !sqlite3_get_autocommit(q->db))
            run(q, ST_ROLLBACK, NULL);
        pthread_mutex_unlock(&q->writer);
        return rc;
    }
    if (!q->savepoint && !commit) {
        /* The group's only member so far: roll the transaction back. */
        if (!sqlite3_get_autocommit(q->db))
            run(q, ST_ROLLBACK, NULL);
        q->ok_members = 0;
        lose_open(q);
        pthread_mutex_unlock(&q->writer);
        return rc;
    }
    if (q->savepoint && commit) {
        rc = run(q, ST_RELEASE, err);
        if (rc)
            commit = false;
    }
    if (q->savepoint && !commit && !sqlite3_get_autocommit(q->db)) {
        run(q, ST_ROLLBACK_TO, NULL);
        run(q, ST_RELEASE, NULL);
    }
    if (sqlite3_get_autocommit(q->db)) {
        lose_open(q);
        pthread_mutex_unlock(&q->writer);
        if (!commit)
            return rc;
        if (err)
            bs_error_set(err, 400, "Failed to execute the database query.");
        return BS_EDB;
    }
    if (commit)
        q->ok_members++;
    if (atomic_load(&q->waiting) > 0 && q->members < BS_WQ_GROUP_MAX) {
        group *g = q->open;
        if (commit) {
            pthread_mutex_lock(&q->done_lock);
            g->refs++;
            pthread_mutex_unlock(&q->done_lock);
        }
        pthread_mutex_unlock(&q->writer);
        if (!commit)
            return rc;
        pthread_mutex_lock(&q->done_lock);
        while (!g->done)
            pthread_cond_wait(&q->done_cond, &q->done_lock);
        rc = g->rc;
        group_unref_locked(g);
        pthread_mutex_unlock(&q->done_lock);
        if (rc && err)
            bs_error_set(err, 400, "Failed to execute the database query.");
        return rc;
    }
    int crc = commit_open(q, commit ? err : NULL);
    pthread_mutex_unlock(&q->writer);
    return commit ? crc : rc;
}

bool bs_wq_try_idle(bs_wq *q)
{
    if (pthread_mutex_trylock(&q->writer) != 0)
        return false;
    if (q->open) {
        pthread_mutex_unlock(&q->writer);
        return false;
    }
    return true;
}

void bs_wq_hold(bs_wq *q)
{
    atomic_fetch_add(&q->waiting, 1);
    pthread_mutex_lock(&q->writer);
    atomic_fetch_sub(&q->waiting, 1);
    commit_open(q, NULL);
}

void bs_wq_release_idle(bs_wq *q)
{
    pthread_mutex_unlock(&q->writer);
}

int bs_wq_waiting(bs_wq *q)
{
    return atomic_load(&q->waiting);
}

void bs_wq_stats(bs_wq *q, uint64_t *group_commits, uint64_t *members)
{
    pthread_mutex_lock(&q->writer);
    *group_commits = q->commits;
    *members = q->committed_members;
    pthread_mutex_unlock(&q->writer);
}
