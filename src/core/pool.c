/*
 * pool.c - worker threads started on demand (see pool.h).
 *
 * The design is simple: one mutex guards a FIFO of jobs and the counts of
 * workers and idle workers. A submit that finds no idle worker starts one
 * (up to max); each worker takes jobs until the pool closes and the queue
 * is empty.
 */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../base/util.h"

#define MAX_THREADS 64

typedef struct job {
    bs_pool_fn fn;
    void *arg;
    struct job *next;
} job;

struct bs_pool {
    bs_app *app;
    pthread_mutex_t lock;
    pthread_cond_t more;
    job *head, *tail;
    int max;
    int nthreads;
    int idle;
    int queued;
    bool closing;
    pthread_t threads[MAX_THREADS];
};

static void *worker(void *data)
{
    bs_pool *p = data;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->closing) {
            p->idle++;
            pthread_cond_wait(&p->more, &p->lock);
            p->idle--;
        }
        job *j = p->head;
        if (!j)
            break; /* closing and nothing left */
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        j->fn(p->app, j->arg);
        free(j);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

bs_pool *bs_pool_new(bs_app *app, int max)
{
    bs_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->app = app;
    p->max = max < 1 ? 1 : max > MAX_THREADS ? MAX_THREADS : max;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->more, NULL);
    return p;
}

int bs_pool_submit(bs_pool *p, bs_pool_fn fn, void *arg)
{
    job *j = malloc(sizeof *j);
    if (!j)
        return BS_ENOMEM;
    *j = (job){.fn = fn, .arg = arg};
    pthread_mutex_lock(&p->lock);
    if (p->closing) {
        pthread_mutex_unlock(&p->lock);
        free(j);
        return BS_EINVAL;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    /* Every queued job needs a worker of its own, up to max. */
    if (p->idle < p->queued && p->nthreads < p->max) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
            p->nthreads++;
        else if (p->nthreads == 0)
            bs_log('E', "Failed to start a worker thread");
    }
    pthread_cond_signal(&p->more);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void bs_pool_free(bs_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->closing = true;
    pthread_cond_broadcast(&p->more);
    int n = p->nthreads;
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
    /* Without any worker (none could start), run what is left here. */
    for (job *j = p->head; j;) {
        job *next = j->next;
        j->fn(p->app, j->arg);
        free(j);
        j = next;
    }
    pthread_cond_destroy(&p->more);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
