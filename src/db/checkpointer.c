/*
 * checkpointer.c - the write-ahead log's checkpoints, off the writer.
 *
 * SQLite checkpoints the log automatically at the end of the COMMIT that
 * takes it past 1000 pages, on the committing connection: the pages are
 * copied into the database file and, at synchronous = NORMAL, both files
 * are synced. On the writer that is the worst place for it. The writer
 * connection is held by one save at a time (and, with group commit, by
 * the COMMIT the others wait for), so every save queued behind that
 * COMMIT waited for the copy and two fsyncs: tens of milliseconds now and
 * then, a fifth of the wall time of a run of creates.
 *
 * Design: the writer's automatic checkpoint is replaced by a WAL hook
 * (store.c) that reports the log's size here after each commit. Past
 * BS_CKPT_PAGES this wakes a thread that checkpoints on a connection of
 * its own, in two steps:
 *  1. A PASSIVE checkpoint, beside the writer: it takes no lock a writer
 *     or reader needs and copies what no reader still uses, while
 *     commits go on appending to the log. This is nearly all the work.
 *  2. The log can only start over (at the writer's next transaction)
 *     once every page in it was copied, and under steady writes there
 *     are always new ones: so the thread then holds the writer lock (in
 *     turn with the saves; an open group is committed first) and runs a
 *     last PASSIVE checkpoint for the pages appended since: a short
 *     stall (two syncs and the tail), a fraction of the whole copy. Step
 *     1 is repeated while each round finds many new pages, to keep that
 *     tail short.
 * Durability is unchanged: a commit is in the log exactly as with the
 * automatic checkpoint, and each checkpoint syncs the log before copying
 * and the database after, at the same synchronous setting. If the
 * thread cannot keep up, the writer falls back to checkpointing by
 * itself (BS_CKPT_WRITER_PAGES), so the log stays bounded.
 */
#include "checkpointer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>

#include "../base/stats.h"
#include "../base/util.h"

struct bs_ckpt {
    sqlite3 *db;             /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool requested;          /* under lock */
    bool stopping;           /* under lock */
    int asked_at;            /* log size at the last request (writer only) */
    bs_ckpt_hold_fn hold, release;
    void *user;
    bs_counter runs, ns;
};

/* One PASSIVE checkpoint on the thread's connection; *done is the log
 * size it copied up to. SQLITE_BUSY means another checkpoint (the
 * nightly one, or the writer's fallback) is running; the next request
 * retries. */
static int passive(bs_ckpt *c, int *done)
{
    int log = 0;
    *done = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &log, done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        bs_log('W', "WAL checkpoint failed: %s", sqlite3_errmsg(c->db));
    return rc;
}

/* Step 1, repeated while each round still finds many new pages (those
 * appended during the round before), so that step 2, with the writer
 * held, has only a short tail to copy. */
#define TAIL_PAGES 64
#define ROUNDS 4

static void checkpoint(bs_ckpt *c)
{
    int done = 0, before = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (passive(c, &done) != SQLITE_OK)
            return;
        bool small = done - before < TAIL_PAGES;
        before = done;
        if (small)
            break;
    }
    c->hold(c->user);
    passive(c, &done);
    /* The log is copied whole: requests made meanwhile are answered. */
    pthread_mutex_lock(&c->lock);
    c->requested = false;
    pthread_mutex_unlock(&c->lock);
    c->release(c->user);
}

static void *loop(void *arg)
{
    bs_ckpt *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->requested && !c->stopping)
            pthread_cond_wait(&c->wake, &c->lock);
        if (c->stopping)
            break;
        c->requested = false;
        pthread_mutex_unlock(&c->lock);
        int64_t t0 = bs_mono_ns();
        checkpoint(c);
        bs_counter_add(&c->runs, 1);
        bs_counter_add(&c->ns, (uint64_t)(bs_mono_ns() - t0));
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

bs_ckpt *bs_ckpt_start(const char *path, bs_ckpt_hold_fn hold,
                       bs_ckpt_hold_fn release, void *user)
{
    bs_ckpt *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->hold = hold;
    c->release = release;
    c->user = user;
    if (sqlite3_open_v2(path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(c->db,
                     "PRAGMA busy_timeout = 10000;"
                     "PRAGMA synchronous = NORMAL;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    /* This connection never commits, so it never checkpoints by itself;
     * say so anyway, so that closing it is all it does. */
    sqlite3_wal_autocheckpoint(c->db, 0);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, loop, c) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    pthread_setname_np(c->thread, "basalt-ckpt");
    return c;
}

void bs_ckpt_stop(bs_ckpt *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    sqlite3_close(c->db);
    free(c);
}

void bs_ckpt_note(bs_ckpt *c, int pages)
{
    if (pages < BS_CKPT_PAGES) {
        c->asked_at = 0; /* the log started over */
        return;
    }
    /* Asked already: ask again only once the log has grown by a quarter
     * more (a reader kept the last checkpoint from finishing), not after
     * every commit. */
    if (c->asked_at && pages >= c->asked_at &&
        pages < c->asked_at + BS_CKPT_PAGES / 4)
        return;
    c->asked_at = pages;
    pthread_mutex_lock(&c->lock);
    c->requested = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

void bs_ckpt_stats(bs_ckpt *c, uint64_t *runs, uint64_t *ns)
{
    *runs = c ? bs_counter_get(&c->runs) : 0;
    *ns = c ? bs_counter_get(&c->ns) : 0;
}
