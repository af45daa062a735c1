/*
 * realtime.c - the realtime broker (see realtime.h for the model).
 *
 * Locks, always taken in this order: the broker's `lock` (the registry,
 * every client's subscriptions and auth), a stream's lock (held by the
 * HTTP worker while it reads a client's queue), a client's `lock` (its
 * queue and flags). A stream is never woken while the broker's lock or
 * a client's lock is held, and the broker's lock is never held while a
 * record is rendered.
 *
 * Publishing a change: the clients whose subscriptions match the record
 * (collection by name or id; the whole collection, the bare name or the
 * id) are gathered under the broker's lock, each with a reference. Then,
 * outside the lock, the record is rendered once per group key (topic
 * kind, auth collection and id, the topic's options): a thousand guests
 * on "posts/ *" (read without the space) cost one rule check and one serialization. Each client
 * gets a frame "id:<client>\nevent:<topic>\ndata:<payload>\n\n" appended
 * to its queue, and its stream is woken.
 */
#include "realtime.h"

#include <json-c/linkhash.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "events.h"
#include "tx.h"

#define IDLE_MS 300000         /* PocketBase's idle timeout: 5 minutes */
#define PING_MS 25000          /* keep-alive comment after this silence */
#define QUEUE_MAX (256u << 10) /* bytes a client may have unwritten */

/* One subscription, parsed from its topic string. */
typedef struct rt_sub {
    char *topic;          /* as subscribed: the event name */
    char *coll;           /* collection name or id, or NULL */
    char *rec;            /* record id, or NULL for "*" and the bare name */
    char *options;        /* the options text, "" when none (group key) */
    json_object *query;   /* options.query as strings, or NULL */
    json_object *headers; /* options.headers, or NULL */
} rt_sub;

/* A client's subscriptions: immutable once built, replaced as a whole,
 * shared by reference with a change being rendered. */
typedef struct rt_subs {
    atomic_int refs;
    int n;
    rt_sub items[];
} rt_subs;

struct bs_rt_client {
    bs_realtime *rt;
    char id[41];
    char ip[64];
    atomic_int refs;
    bs_stream *stream;    /* the owner's reference, set at register */

    pthread_mutex_t lock; /* the fields below, up to the broker's */
    bs_buf queue;         /* frames not yet written, from qoff */
    size_t qoff;
    bool closing;         /* end the stream once the queue is written */
    bool dropped;         /* close the connection now (queue overflow) */
    int64_t last_message; /* when a message was last queued */
    int64_t last_write;   /* when bytes last left (or a ping was queued) */
    int64_t idle_ms;

    /* Guarded by the broker's lock. */
    bool registered;
    rt_subs *subs;        /* NULL: none */
    bs_auth *auth;        /* NULL: guest; set once */
};

/* One message of a rendered change: a client, its subscription, and the
 * payload of its group (-1: the group may not see the record). */
typedef struct rt_out {
    bs_rt_client *c;      /* a reference */
    rt_subs *subs;        /* a reference */
    const bs_auth *auth;  /* the client's, when gathered */
    int sub;
    int payload;
} rt_out;

typedef struct rt_batch {
    char **payloads;
    size_t *lens;
    int npayloads, payload_cap;
    rt_out *outs;
    int nouts, out_cap;
} rt_batch;

/* A change waiting for the broadcaster: a record to render, or the
 * messages of a delete rendered before it happened. */
typedef struct rt_job {
    struct rt_job *next;
    bs_realtime *rt;
    const char *action;
    bs_record *rec;
    bool prepared;
    rt_batch batch;
} rt_job;

struct bs_realtime {
    bs_app *app;
    bs_rt_render_fn render;
    int64_t idle_ms, ping_ms;
    size_t queue_max;

    pthread_mutex_t lock;
    struct lh_table *clients; /* id -> client (a reference) */
    atomic_size_t count;

    pthread_mutex_t qlock;    /* the job queue and the thread's state */
    pthread_cond_t qwake;
    rt_job *head, *tail;
    bool stopping;
    atomic_bool running;
    pthread_t thread;
};

static int64_t env_ms(const char *name, int64_t def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n <= 0 ? def : (int64_t)n;
}

/* ---- subscriptions ------------------------------------------------------- */

static void sub_dispose(rt_sub *s)
{
    free(s->topic);
    free(s->coll);
    free(s->rec);
    free(s->options);
    if (s->query)
        json_object_put(s->query);
    if (s->headers)
        json_object_put(s->headers);
}

static void subs_unref(rt_subs *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (int i = 0; i < s->n; i++)
        sub_dispose(&s->items[i]);
    free(s);
}

/* An object of strings: values that are not strings are written as
 * JSON (PocketBase casts option query values to strings). */
static json_object *string_map(const json_object *o)
{
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    json_object *out = json_object_new_object();
    json_object_object_foreach((json_object *)o, k, v) {
        if (json_object_is_type(v, json_type_string)) {
            json_object_object_add(out, k, json_object_get(v));
        } else {
            bs_buf b;
            bs_buf_init(&b);
            if (v)
                bs_json_write(&b, v);
            json_object_object_add(
                out, k, json_object_new_string_len(b.data ? b.data : "",
                                                   (int)b.len));
            bs_buf_dispose(&b);
        }
    }
    return out;
}

/* Parses "coll/" "*" (the whole collection), "coll/id" or "coll", each with an optional
 * "?options=<url-encoded JSON>". Returns 0 or BS_ENOMEM. */
static int sub_parse(rt_sub *s, const char *topic)
{
    memset(s, 0, sizeof *s);
    s->topic = strdup(topic);
    const char *q = strchr(topic, '?');
    size_t base = q ? (size_t)(q - topic) : strlen(topic);
    const char *slash = memchr(topic, '/', base);
    size_t cn = slash ? (size_t)(slash - topic) : base;
    if (cn)
        s->coll = strndup(topic, cn);
    if (slash) {
        size_t rn = base - cn - 1;
        if (!(rn == 1 && slash[1] == '*'))
            s->rec = strndup(slash + 1, rn);
    }
    const char *opts = NULL;
    json_object *params = q ? bs_query_string_parse(q + 1) : NULL;
    if (params)
        opts = bs_json_get_str(params, "options", NULL);
    s->options = strdup(opts ? opts : "");
    json_object *o = NULL;
    if (opts && bs_json_parse(opts, strlen(opts), &o) == 0 && o) {
        s->query = string_map(bs_json_get(o, "query"));
        s->headers = string_map(bs_json_get(o, "headers"));
    }
    if (o)
        json_object_put(o);
    if (params)
        json_object_put(params);
    if (!s->topic || !s->options || (cn && !s->coll) ||
        (slash && !s->rec && !(base - cn - 1 == 1 && slash[1] == '*')))
        return BS_ENOMEM;
    return 0;
}

static rt_subs *subs_build(const json_object *topics)
{
    size_t n = topics ? json_object_array_length(topics) : 0;
    rt_subs *s = calloc(1, sizeof *s + n * sizeof(rt_sub));
    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    for (size_t i = 0; i < n; i++) {
        const char *t = json_object_get_string(
            json_object_array_get_idx(topics, i));
        if (!t || !*t)
            continue;
        /* A topic given twice is one subscription. */
        bool dup = false;
        for (int j = 0; j < s->n && !dup; j++)
            dup = strcmp(s->items[j].topic, t) == 0;
        if (dup)
            continue;
        int rc = sub_parse(&s->items[s->n], t);
        s->n++;
        if (rc) {
            subs_unref(s);
            return NULL;
        }
    }
    return s;
}

/* ---- clients ------------------------------------------------------------- */

bs_rt_client *bs_rt_client_new(bs_realtime *rt, const char *ip)
{
    bs_rt_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (bs_random_string(c->id, 40, "abcdefghijklmnopqrstuvwxyz0123456789")) {
        free(c);
        return NULL;
    }
    c->id[40] = '\0';
    snprintf(c->ip, sizeof c->ip, "%s", ip ? ip : "");
    c->rt = rt;
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->lock, NULL);
    bs_buf_init(&c->queue);
    c->idle_ms = rt->idle_ms;
    c->last_message = c->last_write = bs_mono_ms();
    return c;
}

bs_rt_client *bs_rt_client_ref(bs_rt_client *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void bs_rt_client_unref(bs_rt_client *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    bs_stream_unref(c->stream);
    subs_unref(c->subs);
    bs_auth_free(c->auth);
    bs_buf_dispose(&c->queue);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const char *bs_rt_client_id(const bs_rt_client *c)
{
    return c->id;
}

const char *bs_rt_client_ip(const bs_rt_client *c)
{
    return c->ip;
}

void bs_rt_client_register(bs_rt_client *c, bs_stream *s, int64_t idle_ms)
{
    bs_realtime *rt = c->rt;
    c->stream = s;
    c->idle_ms = idle_ms > 0 ? idle_ms : rt->idle_ms;
    pthread_mutex_lock(&rt->lock);
    if (lh_table_insert(rt->clients, c->id, bs_rt_client_ref(c)) == 0) {
        c->registered = true;
        atomic_fetch_add(&rt->count, 1);
    } else {
        atomic_fetch_sub(&c->refs, 1); /* not inserted; others hold c */
    }
    pthread_mutex_unlock(&rt->lock);
}

/* Takes c out of the registry (once). */
static void unregister(bs_rt_client *c)
{
    bs_realtime *rt = c->rt;
    bool was = false;
    pthread_mutex_lock(&rt->lock);
    if (c->registered) {
        lh_table_delete(rt->clients, c->id);
        c->registered = false;
        atomic_fetch_sub(&rt->count, 1);
        was = true;
    }
    pthread_mutex_unlock(&rt->lock);
    if (was)
        bs_rt_client_unref(c);
}

ssize_t bs_rt_client_read(void *user, char *buf, size_t max)
{
    bs_rt_client *c = user;
    ssize_t n = 0;
    pthread_mutex_lock(&c->lock);
    size_t avail = c->queue.len - c->qoff;
    if (c->dropped) {
        n = BS_STREAM_ABORT;
    } else if (avail) {
        size_t k = avail < max ? avail : max;
        memcpy(buf, c->queue.data + c->qoff, k);
        c->qoff += k;
        if (c->qoff == c->queue.len) {
            /* An idle client keeps no buffer. */
            bs_buf_dispose(&c->queue);
            bs_buf_init(&c->queue);
            c->qoff = 0;
        }
        c->last_write = bs_mono_ms();
        n = (ssize_t)k;
    } else if (c->closing) {
        n = BS_STREAM_END;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

void bs_rt_client_done(void *user)
{
    bs_rt_client *c = user;
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    bs_buf_dispose(&c->queue);
    bs_buf_init(&c->queue);
    c->qoff = 0;
    pthread_mutex_unlock(&c->lock);
    unregister(c);
    bs_rt_client_unref(c); /* the stream's reference */
}

static void wake(bs_rt_client *c)
{
    if (c->stream)
        bs_stream_wake(c->stream);
}

void bs_rt_client_close(bs_rt_client *c)
{
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    pthread_mutex_unlock(&c->lock);
    wake(c);
}

bs_rt_client *bs_realtime_find(bs_realtime *rt, const char *id)
{
    void *v = NULL;
    pthread_mutex_lock(&rt->lock);
    if (id && lh_table_lookup_ex(rt->clients, id, &v))
        bs_rt_client_ref(v);
    else
        v = NULL;
    pthread_mutex_unlock(&rt->lock);
    return v;
}

const bs_auth *bs_rt_client_auth(bs_rt_client *c)
{
    pthread_mutex_lock(&c->rt->lock);
    const bs_auth *a = c->auth;
    pthread_mutex_unlock(&c->rt->lock);
    return a;
}

int bs_rt_client_set(bs_rt_client *c, const json_object *topics,
                     bs_auth *auth)
{
    rt_subs *s = subs_build(topics);
    if (!s) {
        bs_auth_free(auth);
        return BS_ENOMEM;
    }
    pthread_mutex_lock(&c->rt->lock);
    rt_subs *old = c->subs;
    c->subs = s;
    if (auth && !c->auth) {
        c->auth = auth;
        auth = NULL;
    }
    pthread_mutex_unlock(&c->rt->lock);
    subs_unref(old);
    bs_auth_free(auth);
    return 0;
}

/* Appends one frame to c's queue; drops c when the queue would pass its
 * bound. Wakes the stream. */
static void enqueue(bs_rt_client *c, const char *name, const char *data,
                    size_t len)
{
    bool woke = false;
    pthread_mutex_lock(&c->lock);
    if (!c->closing && !c->dropped) {
        size_t need = sizeof c->id + strlen(name) + len + 24;
        if (c->queue.len - c->qoff + need > c->rt->queue_max) {
            c->dropped = true;
            bs_buf_dispose(&c->queue);
            bs_buf_init(&c->queue);
            c->qoff = 0;
            bs_log('D', "realtime: client %s dropped (queue full)", c->id);
        } else {
            bs_buf_printf(&c->queue, "id:%s\nevent:%s\ndata:", c->id, name);
            bs_buf_append(&c->queue, data, len);
            bs_buf_puts(&c->queue, "\n\n");
            if (c->queue.oom)
                c->dropped = true;
            c->last_message = bs_mono_ms();
        }
        woke = true;
    }
    pthread_mutex_unlock(&c->lock);
    if (woke)
        wake(c);
}

static int send_final(bs_event *e, void *user)
{
    bs_realtime_event *re = (bs_realtime_event *)e;
    enqueue(user, re->name, re->data ? re->data : "", re->data_len);
    return 0;
}

int bs_rt_client_send(bs_rt_client *c, const char *name, const char *data,
                      size_t len)
{
    bs_app *app = c->rt->app;
    if (bs_hook_length(app->hooks[BS_ON_REALTIME_MESSAGE_SEND]) == 0) {
        enqueue(c, name, data, len);
        return 0;
    }
    bs_error err;
    bs_error_init(&err);
    bs_realtime_event e = {.ev = {.app = app, .error = &err},
                           .client_id = c->id,
                           .name = name,
                           .data = malloc(len + 1),
                           .data_len = len};
    if (!e.data)
        return BS_ENOMEM;
    memcpy(e.data, data, len);
    e.data[len] = '\0';
    int rc = bs_trigger_realtime(app, BS_ON_REALTIME_MESSAGE_SEND, &e,
                                 send_final, c);
    free(e.data);
    bs_error_dispose(&err);
    return rc ? BS_EABORT : 0;
}

/* ---- rendering a change ---------------------------------------------------- */

static void batch_dispose(rt_batch *b)
{
    for (int i = 0; i < b->nouts; i++) {
        bs_rt_client_unref(b->outs[i].c);
        subs_unref(b->outs[i].subs);
    }
    for (int i = 0; i < b->npayloads; i++)
        free(b->payloads[i]);
    free(b->payloads);
    free(b->lens);
    free(b->outs);
    memset(b, 0, sizeof *b);
}

static bool sub_matches(const rt_sub *s, const bs_record *rec)
{
    if (!s->coll || (strcmp(s->coll, rec->collection->name) != 0 &&
                     strcmp(s->coll, rec->collection->id) != 0))
        return false;
    return !s->rec || strcmp(s->rec, bs_record_id(rec)) == 0;
}

/* Gathers the subscriptions that match rec (under the broker's lock),
 * then renders the record once per group (outside it). */
static void render_change(bs_realtime *rt, const char *action,
                          const bs_record *rec, rt_batch *b)
{
    pthread_mutex_lock(&rt->lock);
    struct lh_entry *e;
    lh_foreach(rt->clients, e) {
        bs_rt_client *c = (bs_rt_client *)lh_entry_v(e);
        rt_subs *s = c->subs;
        for (int i = 0; s && i < s->n; i++) {
            if (!sub_matches(&s->items[i], rec))
                continue;
            if (b->nouts == b->out_cap) {
                int cap = b->out_cap ? b->out_cap * 2 : 16;
                rt_out *o = realloc(b->outs, sizeof *o * (size_t)cap);
                if (!o)
                    break;
                b->outs = o;
                b->out_cap = cap;
            }
            atomic_fetch_add(&s->refs, 1);
            b->outs[b->nouts++] = (rt_out){.c = bs_rt_client_ref(c),
                                           .subs = s,
                                           .auth = c->auth,
                                           .sub = i,
                                           .payload = -1};
        }
    }
    pthread_mutex_unlock(&rt->lock);
    if (!b->nouts || !rt->render)
        return;

    json_object *groups = json_object_new_object(); /* key -> index */
    bs_buf key;
    bs_buf_init(&key);
    for (int i = 0; i < b->nouts && groups; i++) {
        rt_out *o = &b->outs[i];
        const rt_sub *s = &o->subs->items[o->sub];
        bs_buf_reset(&key);
        bs_buf_printf(&key, "%c\x1f%s\x1f%s\x1f%s", s->rec ? 'v' : 'l',
                      o->auth ? o->auth->collection->id : "",
                      o->auth ? o->auth->id : "", s->options);
        if (key.oom)
            continue;
        json_object *idx;
        if (json_object_object_get_ex(groups, key.data, &idx)) {
            o->payload = json_object_get_int(idx);
            continue;
        }
        if (b->npayloads == b->payload_cap) {
            int cap = b->payload_cap ? b->payload_cap * 2 : 8;
            char **p = realloc(b->payloads, sizeof *p * (size_t)cap);
            if (p)
                b->payloads = p;
            size_t *l = realloc(b->lens, sizeof *l * (size_t)cap);
            if (l)
                b->lens = l;
            if (!p || !l)
                continue;
            b->payload_cap = cap;
        }
        bs_rt_view v = {.auth = o->auth, .by_id = s->rec != NULL,
                        .query = s->query, .headers = s->headers};
        size_t len = 0;
        char *payload = rt->render(rt->app, &v, action, rec, &len);
        int at = -1;
        if (payload) {
            at = b->npayloads++;
            b->payloads[at] = payload;
            b->lens[at] = len;
        }
        json_object_object_add(groups, key.data, json_object_new_int(at));
        o->payload = at;
    }
    bs_buf_dispose(&key);
    if (groups)
        json_object_put(groups);
}

static void deliver(rt_batch *b)
{
    for (int i = 0; i < b->nouts; i++) {
        rt_out *o = &b->outs[i];
        if (o->payload < 0)
            continue;
        bs_rt_client_send(o->c, o->subs->items[o->sub].topic,
                          b->payloads[o->payload], b->lens[o->payload]);
    }
}

/* ---- the broadcaster ------------------------------------------------------- */

static void job_free(rt_job *j)
{
    if (!j)
        return;
    bs_record_free(j->rec);
    batch_dispose(&j->batch);
    free(j);
}

static void push(bs_realtime *rt, rt_job *j)
{
    pthread_mutex_lock(&rt->qlock);
    if (rt->stopping) {
        pthread_mutex_unlock(&rt->qlock);
        job_free(j);
        return;
    }
    if (rt->tail)
        rt->tail->next = j;
    else
        rt->head = j;
    rt->tail = j;
    pthread_cond_signal(&rt->qwake);
    pthread_mutex_unlock(&rt->qlock);
}

static void run_job(bs_realtime *rt, rt_job *j)
{
    if (!j->prepared)
        render_change(rt, j->action, j->rec, &j->batch);
    deliver(&j->batch);
}

/* Keep-alive comments for clients silent for ping_ms, and the end of
 * clients without a message for their idle timeout. */
static void tick(bs_realtime *rt)
{
    int64_t now = bs_mono_ms();
    bs_rt_client **woken = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&rt->lock);
    struct lh_entry *e;
    lh_foreach(rt->clients, e) {
        bs_rt_client *c = (bs_rt_client *)lh_entry_v(e);
        bool act = false;
        pthread_mutex_lock(&c->lock);
        if (!c->closing && now - c->last_message >= c->idle_ms) {
            c->closing = true;
            act = true;
        } else if (!c->closing && now - c->last_write >= rt->ping_ms &&
                   c->queue.len == c->qoff) {
            bs_buf_puts(&c->queue, ":\n\n");
            c->last_write = now;
            act = true;
        }
        pthread_mutex_unlock(&c->lock);
        if (!act)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            bs_rt_client **w = realloc(woken, sizeof *w * nc);
            if (!w)
                break;
            woken = w;
            cap = nc;
        }
        woken[n++] = bs_rt_client_ref(c);
    }
    pthread_mutex_unlock(&rt->lock);
    for (size_t i = 0; i < n; i++) {
        wake(woken[i]);
        bs_rt_client_unref(woken[i]);
    }
    free(woken);
}

static void *broadcaster(void *arg)
{
    bs_realtime *rt = arg;
    int64_t period = rt->ping_ms < rt->idle_ms ? rt->ping_ms : rt->idle_ms;
    period = period > 1000 ? 1000 : period < 50 ? 50 : period;
    int64_t next_tick = bs_mono_ms() + period;
    pthread_mutex_lock(&rt->qlock);
    while (!rt->stopping) {
        if (rt->head) {
            rt_job *j = rt->head;
            rt->head = j->next;
            if (!rt->head)
                rt->tail = NULL;
            pthread_mutex_unlock(&rt->qlock);
            run_job(rt, j);
            job_free(j);
            pthread_mutex_lock(&rt->qlock);
            continue;
        }
        int64_t now = bs_mono_ms();
        if (now >= next_tick) {
            pthread_mutex_unlock(&rt->qlock);
            tick(rt);
            pthread_mutex_lock(&rt->qlock);
            next_tick = now + period;
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (next_tick - now) * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&rt->qwake, &rt->qlock, &ts);
    }
    while (rt->head) {
        rt_job *j = rt->head;
        rt->head = j->next;
        job_free(j);
    }
    rt->tail = NULL;
    pthread_mutex_unlock(&rt->qlock);
    return NULL;
}

void bs_realtime_publish(bs_realtime *rt, const char *action,
                         const bs_record *rec)
{
    if (!rt || !atomic_load(&rt->running) || atomic_load(&rt->count) == 0)
        return;
    rt_job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->action = action;
    j->rec = bs_record_clone(rec);
    if (!j->rec) {
        free(j);
        return;
    }
    push(rt, j);
}

/* ---- the record hooks -------------------------------------------------------- */

static int on_created(bs_event *e, void *user)
{
    bs_realtime_publish(user, "create", ((bs_record_event *)e)->record);
    return bs_event_next(e);
}

static int on_updated(bs_event *e, void *user)
{
    bs_realtime_publish(user, "update", ((bs_record_event *)e)->record);
    return bs_event_next(e);
}

static void prepared_free(void *p)
{
    job_free(p);
}

/* On commit, the delete's messages join the broadcaster's queue (behind
 * the changes committed before it); on rollback they are dropped. */
static void prepared_after(bs_app *app, void *data, bool committed)
{
    rt_job *j = data;
    (void)app;
    if (!committed)
        return;
    rt_job *moved = calloc(1, sizeof *moved);
    if (!moved)
        return;
    moved->prepared = true;
    moved->batch = j->batch;
    memset(&j->batch, 0, sizeof j->batch);
    push(j->rt, moved);
}

/* A delete's messages are rendered before the row goes, while the rules
 * can still see it, and sent only if the transaction commits. */
static int on_delete_execute(bs_event *e, void *user)
{
    bs_realtime *rt = user;
    bs_record_event *re = (bs_record_event *)e;
    if (!atomic_load(&rt->running) || atomic_load(&rt->count) == 0 ||
        !re->tx)
        return bs_event_next(e);
    rt_job *j = calloc(1, sizeof *j);
    if (j) {
        j->rt = rt;
        j->prepared = true;
        render_change(rt, "delete", re->record, &j->batch);
    }
    int rc = bs_event_next(e);
    if (rc || !j || !j->batch.nouts) {
        job_free(j);
        return rc;
    }
    bs_tx_after(re->tx, prepared_after, j, prepared_free);
    return 0;
}

/* ---- life cycle ------------------------------------------------------------- */

bs_realtime *bs_realtime_new(bs_app *app)
{
    bs_realtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->app = app;
    rt->idle_ms = env_ms("BASALT_REALTIME_IDLE_MS", IDLE_MS);
    rt->ping_ms = env_ms("BASALT_REALTIME_PING_MS", PING_MS);
    rt->queue_max = (size_t)env_ms("BASALT_REALTIME_QUEUE_MAX", QUEUE_MAX);
    pthread_mutex_init(&rt->lock, NULL);
    pthread_mutex_init(&rt->qlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->qwake, &ca);
    pthread_condattr_destroy(&ca);
    rt->clients = lh_kchar_table_new(64, NULL);
    bs_handler created = {.id = "pbRealtimeCreate", .priority = -99,
                          .fn = on_created, .user = rt};
    bs_handler updated = {.id = "pbRealtimeUpdate", .priority = -99,
                          .fn = on_updated, .user = rt};
    bs_handler deleted = {.id = "pbRealtimeDelete", .priority = 99,
                          .fn = on_delete_execute, .user = rt};
    if (!rt->clients ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_AFTER_CREATE_SUCCESS],
                     &created) ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_AFTER_UPDATE_SUCCESS],
                     &updated) ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_DELETE_EXECUTE], &deleted)) {
        bs_realtime_free(rt);
        return NULL;
    }
    return rt;
}

int bs_realtime_start(bs_realtime *rt, bs_rt_render_fn render)
{
    if (atomic_load(&rt->running))
        return 0;
    rt->render = render;
    rt->stopping = false;
    if (pthread_create(&rt->thread, NULL, broadcaster, rt) != 0)
        return BS_ENOMEM;
    atomic_store(&rt->running, true);
    return 0;
}

void bs_realtime_stop(bs_realtime *rt)
{
    if (!rt || !atomic_load(&rt->running))
        return;
    pthread_mutex_lock(&rt->qlock);
    rt->stopping = true;
    pthread_cond_signal(&rt->qwake);
    pthread_mutex_unlock(&rt->qlock);
    pthread_join(rt->thread, NULL);
    atomic_store(&rt->running, false);
    /* End every stream: the connections finish and unregister. */
    bs_rt_client **all = NULL;
    size_t n = 0;
    pthread_mutex_lock(&rt->lock);
    size_t cap = (size_t)rt->clients->count;
    all = cap ? malloc(sizeof *all * cap) : NULL;
    struct lh_entry *e;
    lh_foreach(rt->clients, e) {
        if (n < cap)
            all[n++] = bs_rt_client_ref((bs_rt_client *)lh_entry_v(e));
    }
    pthread_mutex_unlock(&rt->lock);
    for (size_t i = 0; i < n; i++) {
        bs_rt_client_close(all[i]);
        bs_rt_client_unref(all[i]);
    }
    free(all);
}

void bs_realtime_free(bs_realtime *rt)
{
    if (!rt)
        return;
    bs_realtime_stop(rt);
    if (rt->clients) {
        struct lh_entry *e;
        lh_foreach(rt->clients, e) bs_rt_client_unref(
            (bs_rt_client *)lh_entry_v(e));
        lh_table_free(rt->clients);
    }
    pthread_cond_destroy(&rt->qwake);
    pthread_mutex_destroy(&rt->qlock);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

size_t bs_realtime_count(bs_realtime *rt)
{
    return rt ? atomic_load(&rt->count) : 0;
}

bool bs_realtime_send_once(bs_realtime *rt, const char *id, const char *ip,
                           const char *topic, const char *data)
{
    bs_rt_client *c = bs_realtime_find(rt, id);
    if (!c)
        return false;
    bool ok = false;
    json_object *rest = json_object_new_array();
    pthread_mutex_lock(&rt->lock);
    if (!*c->ip || !ip || strcmp(c->ip, ip) == 0) {
        for (int i = 0; c->subs && i < c->subs->n; i++) {
            if (strcmp(c->subs->items[i].topic, topic) == 0)
                ok = true;
            else
                json_object_array_add(
                    rest, json_object_new_string(c->subs->items[i].topic));
        }
    }
    pthread_mutex_unlock(&rt->lock);
    if (ok) {
        bs_rt_client_set(c, rest, NULL);
        ok = bs_rt_client_send(c, topic, data, strlen(data)) == 0;
    }
    json_object_put(rest);
    bs_rt_client_unref(c);
    return ok;
}
