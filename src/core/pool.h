/*
 * pool.h - a small pool of worker threads for work off the HTTP threads
 * (bs_app_go, cron jobs).
 *
 * Threads are started on demand: a submitted job goes to an idle worker,
 * or to a new one while fewer than `max` exist, so a slow job never
 * holds back the next (only past `max` busy workers do jobs queue).
 * Idle workers stay for the pool's life. Freeing the pool runs what is
 * queued, then joins every worker.
 */
#ifndef BS_POOL_H
#define BS_POOL_H

#include "basalt.h"

typedef struct bs_pool bs_pool;
typedef void (*bs_pool_fn)(bs_app *app, void *arg);

/* A pool whose jobs receive app; at most max threads. NULL when out of
 * memory. No thread starts before the first job. */
bs_pool *bs_pool_new(bs_app *app, int max);

/* Queues fn(app, arg). Returns 0, BS_ENOMEM, or BS_EINVAL once the pool
 * is being freed. Any thread, a job of the pool included. */
int bs_pool_submit(bs_pool *p, bs_pool_fn fn, void *arg);

/* Runs the queued jobs, waits for the running ones and frees the pool.
 * Must not be called from one of its jobs. */
void bs_pool_free(bs_pool *p);

#endif
