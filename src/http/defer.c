/*
 * defer.c - answers written later, on suspended connections (see
 * defer.h).
 *
 * libmicrohttpd lets the access handler suspend its connection instead
 * of queueing a response; after MHD_resume_connection it calls the
 * handler again, which then queues one. The deferral's mutex orders the
 * two sides: the server suspends only if the owner has not resumed yet,
 * and the owner resumes only a connection that is suspended, so a resume
 * is never lost and never doubled. Locks, in order: the set's, then a
 * deferral's.
 */
#include "defer.h"

#include <stdatomic.h>
#include <stdlib.h>

struct bs_defer {
    pthread_mutex_t lock;
    struct MHD_Connection *conn; /* while suspended */
    bool suspended;
    bool ready;                  /* the owner resumed */
    bool cancelled;              /* the server stops, or the request ended */
    bool linked;                 /* in a set */
    atomic_int refs;
    bs_defer *prev, *next;       /* in the set, under its lock */
    bs_defer_respond_fn respond;
    bs_defer_free_fn free_user;
    void *user;
    /* Set and run on the worker thread, innermost middleware's first. */
    bs_defer_respond_fn after[BS_DEFER_AFTER_MAX];
    void *after_user[BS_DEFER_AFTER_MAX];
    int nafter;
};

static void defer_unref(bs_defer *d)
{
    if (atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    if (d->free_user)
        d->free_user(d->user);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

bs_defer *bs_resp_defer(bs_req *r, bs_defer_respond_fn respond,
                        bs_defer_free_fn free_user, void *user)
{
    bs_defer *d = calloc(1, sizeof *d);
    if (!d) {
        bs_resp_status_error(r, 500, NULL);
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    atomic_init(&d->refs, 2);
    d->respond = respond;
    d->free_user = free_user;
    d->user = user;
    r->defer = d;
    return d;
}

void bs_defer_resume(bs_defer *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    d->ready = true;
    if (d->suspended && !d->cancelled) {
        d->suspended = false;
        MHD_resume_connection(d->conn);
    }
    pthread_mutex_unlock(&d->lock);
    defer_unref(d);
}

void bs_defer_after(bs_defer *d, bs_defer_respond_fn after, void *user)
{
    if (d->nafter == BS_DEFER_AFTER_MAX)
        return;
    d->after[d->nafter] = after;
    d->after_user[d->nafter++] = user;
}

void bs_defer_set_init(bs_defer_set *set)
{
    pthread_mutex_init(&set->lock, NULL);
    set->head = NULL;
}

void bs_defer_set_dispose(bs_defer_set *set)
{
    pthread_mutex_destroy(&set->lock);
}

bool bs_defer_suspend(bs_defer *d, bs_defer_set *set,
                      struct MHD_Connection *c)
{
    pthread_mutex_lock(&set->lock);
    pthread_mutex_lock(&d->lock);
    bool wait = !d->ready;
    if (wait) {
        d->conn = c;
        d->suspended = true;
        MHD_suspend_connection(c);
    }
    if (!d->linked) {
        d->linked = true;
        d->prev = NULL;
        d->next = set->head;
        if (set->head)
            set->head->prev = d;
        set->head = d;
    }
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_unlock(&set->lock);
    return wait;
}

bool bs_defer_answer(bs_defer *d, bs_req *r)
{
    pthread_mutex_lock(&d->lock);
    bool go = d->ready && !d->cancelled && d->respond;
    bs_defer_respond_fn fn = d->respond;
    d->respond = NULL; /* once */
    pthread_mutex_unlock(&d->lock);
    if (go) {
        fn(r, d->user);
        for (int i = 0; i < d->nafter; i++)
            d->after[i](r, d->after_user[i]);
    }
    return go;
}

void bs_defer_cancel_all(bs_defer_set *set)
{
    pthread_mutex_lock(&set->lock);
    for (bs_defer *d = set->head; d; d = d->next) {
        pthread_mutex_lock(&d->lock);
        d->cancelled = true;
        if (d->suspended) {
            d->suspended = false;
            MHD_resume_connection(d->conn);
        }
        pthread_mutex_unlock(&d->lock);
    }
    pthread_mutex_unlock(&set->lock);
}

void bs_defer_release(bs_defer *d, bs_defer_set *set)
{
    pthread_mutex_lock(&set->lock);
    pthread_mutex_lock(&d->lock);
    if (d->linked) {
        if (d->prev)
            d->prev->next = d->next;
        else
            set->head = d->next;
        if (d->next)
            d->next->prev = d->prev;
        d->linked = false;
    }
    d->cancelled = true;
    d->suspended = false;
    d->conn = NULL;
    pthread_mutex_unlock(&d->lock);
    pthread_mutex_unlock(&set->lock);
    defer_unref(d);
}
