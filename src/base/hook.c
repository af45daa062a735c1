/*
 * hook.c - ordered handler chains with lock-free triggering.
 */
#include "hook.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct record {
    char *id;
    int priority;
    unsigned long seq;       /* registration order */
    bs_handler_fn fn;
    void *user;
    char **tags;             /* NULL-terminated or NULL */
    struct record *all_next; /* every record ever bound, for freeing */
} record;

typedef struct snap {
    size_t n;
    struct snap *retired_next;
    record *items[];
} snap;

struct bs_hook {
    _Atomic(snap *) current;
    pthread_mutex_t lock;
    unsigned long next_seq;
    unsigned long next_auto_id;
    record *all;
    snap *retired;
};

bs_hook *bs_hook_new(void)
{
    bs_hook *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    atomic_store(&h->current, NULL);
    return h;
}

static void record_free(record *r)
{
    if (r->tags) {
        for (char **t = r->tags; *t; t++)
            free(*t);
        free(r->tags);
    }
    free(r->id);
    free(r);
}

void bs_hook_free(bs_hook *h)
{
    if (!h)
        return;
    free(atomic_load(&h->current));
    for (snap *s = h->retired; s;) {
        snap *next = s->retired_next;
        free(s);
        s = next;
    }
    for (record *r = h->all; r;) {
        record *next = r->all_next;
        record_free(r);
        r = next;
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static int rec_cmp(const void *a, const void *b)
{
    const record *x = *(record *const *)a, *y = *(record *const *)b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Publishes a snapshot made of `keep` records of the old one (those not
 * equal to `drop`) plus `add`. Called with the lock held. */
static int publish(bs_hook *h, const record *drop, record *add, bool clear)
{
    snap *old = atomic_load(&h->current);
    size_t n = old && !clear ? old->n : 0;
    snap *s = malloc(sizeof(snap) + sizeof(record *) * (n + 1));
    if (!s)
        return BS_ENOMEM;
    s->n = 0;
    s->retired_next = NULL;
    for (size_t i = 0; i < n; i++) {
        if (old->items[i] != drop)
            s->items[s->n++] = old->items[i];
    }
    if (add)
        s->items[s->n++] = add;
    qsort(s->items, s->n, sizeof(record *), rec_cmp);
    atomic_store(&h->current, s);
    if (old) {
        old->retired_next = h->retired;
        h->retired = old;
    }
    return 0;
}

static record *find(snap *s, const char *id)
{
    for (size_t i = 0; s && i < s->n; i++) {
        if (strcmp(s->items[i]->id, id) == 0)
            return s->items[i];
    }
    return NULL;
}

static char **copy_tags(const char *const *tags)
{
    if (!tags || !tags[0])
        return NULL;
    size_t n = 0;
    while (tags[n])
        n++;
    char **out = calloc(n + 1, sizeof(char *));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(tags[i]);
        if (!out[i]) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static record *bind_locked(bs_hook *h, const bs_handler *hd)
{
    record *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    char auto_id[32];
    if (!hd->id || !*hd->id)
        snprintf(auto_id, sizeof auto_id, "__auto_%lu", ++h->next_auto_id);
    r->id = strdup(hd->id && *hd->id ? hd->id : auto_id);
    r->priority = hd->priority;
    r->fn = hd->fn;
    r->user = hd->user;
    r->tags = copy_tags(hd->tags);
    if (!r->id || (hd->tags && hd->tags[0] && !r->tags)) {
        record_free(r);
        return NULL;
    }
    record *same = find(atomic_load(&h->current), r->id);
    /* A replacement keeps the place (registration order) of the old one. */
    r->seq = same ? same->seq : ++h->next_seq;
    if (publish(h, same, r, false) != 0) {
        record_free(r);
        return NULL;
    }
    r->all_next = h->all;
    h->all = r;
    return r;
}

int bs_hook_bind(bs_hook *h, const bs_handler *handler)
{
    if (!handler || !handler->fn)
        return BS_EINVAL;
    pthread_mutex_lock(&h->lock);
    record *r = bind_locked(h, handler);
    pthread_mutex_unlock(&h->lock);
    return r ? 0 : BS_ENOMEM;
}

const char *bs_hook_bind_func(bs_hook *h, bs_handler_fn fn, void *user)
{
    bs_handler hd = {.fn = fn, .user = user};
    if (!fn)
        return NULL;
    pthread_mutex_lock(&h->lock);
    record *r = bind_locked(h, &hd);
    pthread_mutex_unlock(&h->lock);
    return r ? r->id : NULL;
}

bool bs_hook_unbind(bs_hook *h, const char *id)
{
    bool removed = false;
    pthread_mutex_lock(&h->lock);
    record *r = find(atomic_load(&h->current), id);
    if (r && publish(h, r, NULL, false) == 0)
        removed = true;
    pthread_mutex_unlock(&h->lock);
    return removed;
}

void bs_hook_unbind_all(bs_hook *h)
{
    pthread_mutex_lock(&h->lock);
    publish(h, NULL, NULL, true);
    pthread_mutex_unlock(&h->lock);
}

size_t bs_hook_length(const bs_hook *h)
{
    snap *s = atomic_load(&((bs_hook *)h)->current);
    return s ? s->n : 0;
}

static bool tags_match(const record *r, const bs_event *e)
{
    if (!r->tags)
        return true;
    for (char **t = r->tags; *t; t++) {
        for (int i = 0; i < 2; i++) {
            if (e->tags[i] && strcmp(*t, e->tags[i]) == 0)
                return true;
        }
    }
    return false;
}

int bs_event_next(bs_event *e)
{
    const snap *s = e->chain_;
    while (s && e->pos_ < s->n) {
        const record *r = s->items[e->pos_++];
        if (tags_match(r, e))
            return r->fn(e, r->user);
    }
    e->pos_ = SIZE_MAX / 2; /* calling next again after final is a no-op */
    bs_handler_fn final = e->final_;
    e->final_ = NULL;
    return final ? final(e, e->final_user_) : 0;
}

int bs_hook_trigger(bs_hook *h, bs_event *e, bs_handler_fn final,
                    void *final_user)
{
    snap *s = h ? atomic_load_explicit(&h->current, memory_order_acquire)
                : NULL;
    if (!s || s->n == 0) {
        /* Fast path: no handlers bound. The event's chain state is left
         * alone: it may belong to an outer trigger of the same event. */
        return final ? final(e, final_user) : 0;
    }
    /* Save the chain state so one event struct may be triggered through a
     * nested hook without losing its place. */
    const void *saved_chain = e->chain_;
    size_t saved_pos = e->pos_;
    bs_handler_fn saved_final = e->final_;
    void *saved_user = e->final_user_;
    e->chain_ = s;
    e->pos_ = 0;
    e->final_ = final;
    e->final_user_ = final_user;
    int rc = bs_event_next(e);
    e->chain_ = saved_chain;
    e->pos_ = saved_pos;
    e->final_ = saved_final;
    e->final_user_ = saved_user;
    return rc;
}
