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
 * outside the lock, each subscriber's rule is decided: in memory when
 * the rule depends only on the record and @request.auth (filter/eval.h;
 * superusers pass every rule), else by the renderer in SQL. The record
 * is then rendered once per group key. When the rule was decided in
 * memory and nothing else in the rendering depends on who asks (not an
 * auth collection, no expand or filter option, no enrich hook), the key
 * is only (superuser or not, the topic's options): ten thousand users
 * on "posts/ *" (read without the space) cost ten thousand string
 * comparisons and one serialization. Otherwise the key is (topic kind,
 * auth collection and id, options), one rendering per auth. Each client
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
#include "../base/stats.h"
#include "../base/util.h"
#include "../filter/eval.h"
#include "app.h"
#include "events.h"
#include "rules.h"
#include "tx.h"

#define IDLE_MS 300000         /* PocketBase's idle timeout: 5 minutes */
#define MAX_MS 1800000         /* its longest stream: 30 minutes */
#define PING_MS 25000          /* keep-alive comment after this silence */
#define QUEUE_MAX (256u << 10) /* bytes a client may have unwritten */

/* A client's auth, shared by reference with the changes being rendered
 * for it, so that it can be replaced (its record updated) or dropped
 * while they run. */
typedef struct rt_auth {
    atomic_int refs;
    bs_auth *a;
} rt_auth;

static rt_auth *auth_new(bs_auth *a)
{
    rt_auth *r = malloc(sizeof *r);
    if (!r) {
        bs_auth_free(a);
        return NULL;
    }
    atomic_init(&r->refs, 1);
    r->a = a;
    return r;
}

static rt_auth *auth_ref(rt_auth *r)
{
    if (r)
        atomic_fetch_add(&r->refs, 1);
    return r;
}

static void auth_unref(rt_auth *r)
{
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    bs_auth_free(r->a);
    free(r);
}

/* One subscription, parsed from its topic string. */
typedef struct rt_sub {
    char *topic;          /* as subscribed: the event name */
    char *coll;           /* collection name or id, or NULL */
    char *rec;            /* record id, or NULL for "*" and the bare name */
    char *options;        /* the options text, "" when none (group key) */
    json_object *query;   /* options.query as strings, or NULL */
    json_object *headers; /* options.headers, or NULL */
    /* The subscription's rule compiled for SQL with the client's auth
     * (a cache, guarded by the broker's lock): NULL until a change needs
     * it; stale once the schema changes; dropped with the auth. */
    bs_rules_compiled *rule;
    /* The broker's count of published changes when the subscription was
     * first made: a change published before it (its seq <= since) was
     * committed and answered before the client asked, and is not sent
     * to it, as PocketBase decides who gets a change when it commits. */
    uint64_t since;
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
    int64_t end_at;       /* when the stream ends at the latest */

    /* Guarded by the broker's lock. */
    bool registered;
    rt_subs *subs;        /* NULL: none */
    rt_auth *auth;        /* NULL: guest */
};

/* One message of a rendered change: a client, its subscription, and the
 * payload of its group (-1: the group may not see the record). */
typedef struct rt_out {
    bs_rt_client *c;      /* a reference */
    rt_subs *subs;        /* a reference */
    rt_auth *ra;          /* a reference to the client's auth, or NULL */
    const bs_auth *auth;  /* ra's auth, or NULL */
    bs_rules_compiled *rule; /* the subscription's cached rule, a
                                reference, or NULL */
    int sub;
    int payload;
    int allowed;          /* the rule: 1 allows, 0 refuses, -1 undecided */
} rt_out;

typedef struct rt_batch {
    char **payloads;      /* NULL: refused, or still to render */
    size_t *lens;
    int *pending;         /* an out whose view renders the payload after
                             the commit (a delete), or -1 */
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
    uint64_t seq;         /* its number among published changes */
    bool prepared;
    bool gone;            /* a delete committed elsewhere: the row is
                             gone, rules are decided without SQL */
    rt_batch batch;
} rt_job;

struct bs_realtime {
    bs_app *app;
    bs_rt_render_fn render;
    int64_t idle_ms, ping_ms, max_ms;
    size_t queue_max;

    pthread_mutex_t lock;
    struct lh_table *clients; /* id -> client (a reference) */
    struct lh_table *by_auth; /* auth id ("" for superusers) -> the
                                 registered clients signed in as it
                                 (rt_authset, no references) */
    atomic_size_t count;
    _Atomic uint64_t published; /* changes published, ever */
    bs_counter connects;      /* clients registered, ever */
    bs_counter messages;      /* frames queued for clients */
    bs_counter drops;         /* clients dropped for a full queue */
    bool index_broken;        /* by_auth is incomplete (out of memory) */

    pthread_mutex_t qlock;    /* the job queue and the thread's state */
    pthread_cond_t qwake;
    rt_job *head, *tail;
    bool stopping;
    atomic_bool running;
    pthread_t thread;
};

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
    bs_rules_compiled_unref(s->rule);
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
    c->end_at = c->last_message + rt->max_ms;
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
    auth_unref(c->auth);
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

/* ---- the index of clients by auth id -------------------------------------- */

/* The registered clients signed in as one auth id (superusers: ""). A
 * change in a collection whose rules are of the owner shape
 * (`author = @request.auth.id`) looks up its owner's set and the
 * superusers' instead of walking every client. */
typedef struct rt_authset {
    char *key;
    bs_rt_client **c;
    size_t n, cap;
} rt_authset;

static void authset_free(struct lh_entry *e)
{
    rt_authset *set = (rt_authset *)lh_entry_v(e);
    free(set->c);
    free(set->key);
    free(set);
}

static const char *auth_key(const rt_auth *ra)
{
    return ra->a->superuser ? "" : ra->a->id;
}

static rt_authset *authset_of(bs_realtime *rt, const char *key)
{
    void *v = NULL;
    return lh_table_lookup_ex(rt->by_auth, key, &v) ? v : NULL;
}

/* Adds c to the set of its auth. Under the broker's lock. Out of
 * memory, the index is abandoned (every change walks all clients). */
static void index_add(bs_realtime *rt, bs_rt_client *c)
{
    if (!c->auth || !c->registered || rt->index_broken)
        return;
    const char *key = auth_key(c->auth);
    rt_authset *set = authset_of(rt, key);
    if (!set) {
        set = calloc(1, sizeof *set);
        if (set)
            set->key = strdup(key);
        if (!set || !set->key ||
            lh_table_insert(rt->by_auth, set->key, set) != 0) {
            if (set)
                free(set->key);
            free(set);
            rt->index_broken = true;
            return;
        }
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 2;
        bs_rt_client **w = realloc(set->c, sizeof *w * cap);
        if (!w) {
            rt->index_broken = true;
            return;
        }
        set->c = w;
        set->cap = cap;
    }
    set->c[set->n++] = c;
}

/* Takes c out of the set of its auth. Under the broker's lock. */
static void index_remove(bs_realtime *rt, bs_rt_client *c)
{
    rt_authset *set = c->auth ? authset_of(rt, auth_key(c->auth)) : NULL;
    for (size_t i = 0; set && i < set->n; i++) {
        if (set->c[i] != c)
            continue;
        set->c[i] = set->c[--set->n];
        if (!set->n)
            lh_table_delete(rt->by_auth, set->key);
        return;
    }
}

/* Replaces c's auth with ra (taken over; NULL: a guest) and forgets the
 * rules compiled for the previous one. Under the broker's lock. Returns
 * the previous auth, for the caller to unref outside the lock. */
static rt_auth *set_auth(bs_rt_client *c, rt_auth *ra)
{
    bs_realtime *rt = c->rt;
    index_remove(rt, c);
    rt_auth *old = c->auth;
    c->auth = ra;
    index_add(rt, c);
    for (int i = 0; c->subs && i < c->subs->n; i++) {
        bs_rules_compiled_unref(c->subs->items[i].rule);
        c->subs->items[i].rule = NULL;
    }
    return old;
}

void bs_rt_client_register(bs_rt_client *c, bs_stream *s, int64_t idle_ms,
                           int64_t max_ms)
{
    bs_realtime *rt = c->rt;
    c->stream = s;
    c->idle_ms = idle_ms > 0 ? idle_ms : rt->idle_ms;
    c->end_at = bs_mono_ms() + (max_ms > 0 ? max_ms : rt->max_ms);
    pthread_mutex_lock(&rt->lock);
    if (lh_table_insert(rt->clients, c->id, bs_rt_client_ref(c)) == 0) {
        c->registered = true;
        index_add(rt, c);
        atomic_fetch_add(&rt->count, 1);
        bs_counter_add(&rt->connects, 1);
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
        index_remove(rt, c);
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

int bs_rt_client_auth_cmp(bs_rt_client *c, const bs_auth *a)
{
    pthread_mutex_lock(&c->rt->lock);
    const bs_auth *had = c->auth ? c->auth->a : NULL;
    int rc = !had ? -1
             : a && strcmp(had->id, a->id) == 0 &&
                     strcmp(had->collection->id, a->collection->id) == 0
                 ? 0
                 : 1;
    pthread_mutex_unlock(&c->rt->lock);
    return rc;
}

int bs_rt_client_set(bs_rt_client *c, const json_object *topics,
                     bs_auth *auth)
{
    rt_subs *s = subs_build(topics);
    rt_auth *ra = auth ? auth_new(auth) : NULL;
    if (!s || (auth && !ra)) {
        subs_unref(s);
        auth_unref(ra);
        return BS_ENOMEM;
    }
    pthread_mutex_lock(&c->rt->lock);
    rt_subs *old = c->subs;
    /* A topic the client already had keeps its start: the SDK sends
     * the whole list again whenever it adds or drops one. */
    uint64_t now = atomic_load(&c->rt->published);
    for (int i = 0; i < s->n; i++) {
        rt_sub *n = &s->items[i];
        n->since = now;
        for (int k = 0; old && k < old->n; k++) {
            if (strcmp(old->items[k].topic, n->topic) == 0 &&
                strcmp(old->items[k].options, n->options) == 0) {
                n->since = old->items[k].since;
                break;
            }
        }
    }
    c->subs = s;
    if (ra && !c->auth) {
        set_auth(c, ra);
        ra = NULL;
    }
    pthread_mutex_unlock(&c->rt->lock);
    subs_unref(old);
    auth_unref(ra);
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
            bs_counter_add(&c->rt->drops, 1);
            bs_buf_dispose(&c->queue);
            bs_buf_init(&c->queue);
            c->qoff = 0;
            bs_log('D', "realtime: client %s dropped (queue full)", c->id);
        } else {
            /* Appended piece by piece: no format parsing per frame. */
            bs_buf_append(&c->queue, "id:", 3);
            bs_buf_append(&c->queue, c->id, 40);
            bs_buf_append(&c->queue, "\nevent:", 7);
            bs_buf_puts(&c->queue, name);
            bs_buf_append(&c->queue, "\ndata:", 6);
            bs_buf_append(&c->queue, data, len);
            bs_buf_append(&c->queue, "\n\n", 2);
            if (c->queue.oom)
                c->dropped = true;
            else
                bs_counter_add(&c->rt->messages, 1);
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

/* The registered clients for which pick (called under the broker's
 * lock) returns true, each with a reference, in a new array of *n (NULL
 * when none or out of memory). */
static bs_rt_client **clients_where(bs_realtime *rt,
                                    bool (*pick)(bs_rt_client *, void *),
                                    void *user, size_t *n)
{
    bs_rt_client **out = NULL;
    size_t cap = 0;
    *n = 0;
    pthread_mutex_lock(&rt->lock);
    struct lh_entry *e;
    lh_foreach(rt->clients, e) {
        bs_rt_client *c = (bs_rt_client *)lh_entry_v(e);
        if (!pick(c, user))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            bs_rt_client **w = realloc(out, sizeof *w * nc);
            if (!w)
                break;
            out = w;
            cap = nc;
        }
        out[(*n)++] = bs_rt_client_ref(c);
    }
    pthread_mutex_unlock(&rt->lock);
    return out;
}

/* ---- rendering a change ---------------------------------------------------- */

static void batch_dispose(rt_batch *b)
{
    for (int i = 0; i < b->nouts; i++) {
        bs_rt_client_unref(b->outs[i].c);
        subs_unref(b->outs[i].subs);
        auth_unref(b->outs[i].ra);
        bs_rules_compiled_unref(b->outs[i].rule);
    }
    for (int i = 0; i < b->npayloads; i++)
        free(b->payloads[i]);
    free(b->payloads);
    free(b->lens);
    free(b->pending);
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

/* Decides the rules left undecided in memory in SQL. Each
 * subscription keeps its rule compiled with its client's @request data
 * (rt_sub.rule), so a change compiles only the subscriptions that have
 * none yet or whose schema changed since; bs_rules_check_compiled then
 * decides the subscriptions whose SQL is the same text (on PostgreSQL:
 * and whose parameter values are the same) in one statement. Outs that
 * stay undecided (out of memory) are left to the renderer. */
static void check_in_sql(bs_realtime *rt, const bs_record *rec, rt_batch *b)
{
    const bs_collection *coll = rec->collection;
    int n = 0;
    for (int i = 0; i < b->nouts; i++)
        n += b->outs[i].allowed == -1;
    if (!n)
        return;
    bs_rules_compiled **items = calloc((size_t)n, sizeof *items);
    int *of = malloc(sizeof *of * (size_t)n);
    bool *allowed = calloc((size_t)n, sizeof *allowed);
    bool *fresh = calloc((size_t)n, sizeof *fresh);
    int k = 0;
    for (int i = 0; items && of && allowed && fresh && i < b->nouts; i++) {
        rt_out *o = &b->outs[i];
        const rt_sub *s = &o->subs->items[o->sub];
        if (o->allowed != -1)
            continue;
        if (bs_rules_compiled_in(o->rule, rec->schema)) {
            items[k] = o->rule;
        } else {
            json_object *req = bs_rules_request_info_of(
                o->auth, s->query, s->headers, "GET", "realtime");
            const char *rule = coll->rules[s->rec ? BS_RULE_VIEW
                                                  : BS_RULE_LIST];
            if (!req || bs_rules_compile_for(rt->app, rec->schema, coll,
                                             rule, req, &items[k]) != 0) {
                if (req)
                    json_object_put(req);
                continue;
            }
            json_object_put(req);
            fresh[k] = true;
        }
        of[k++] = i;
    }
    if (k && bs_rules_check_compiled(rt->app, coll, bs_record_id(rec), items,
                                     k, allowed) == 0)
        for (int j = 0; j < k; j++)
            b->outs[of[j]].allowed = allowed[j];
    /* The new compilations stay with their subscriptions, unless the
     * client has changed its subscriptions or auth meanwhile. */
    if (k) {
        pthread_mutex_lock(&rt->lock);
        for (int j = 0; j < k; j++) {
            rt_out *o = &b->outs[of[j]];
            if (!fresh[j] || o->c->subs != o->subs || o->c->auth != o->ra)
                continue;
            rt_sub *s = &o->subs->items[o->sub];
            bs_rules_compiled *old = s->rule;
            s->rule = items[j];
            items[j] = old; /* unref'ed below, outside the lock */
        }
        pthread_mutex_unlock(&rt->lock);
    }
    for (int j = 0; j < k; j++)
        if (fresh[j])
            bs_rules_compiled_unref(items[j]);
    free(items);
    free(of);
    free(allowed);
    free(fresh);
}

/* Whether the topic's options make the rendering depend on who asks
 * beyond the rule: an expand (the related collections' rules) or a
 * filter (which may name @request.auth). */
static bool opt_personal(const rt_sub *s)
{
    return s->query && (json_object_object_get_ex(s->query, "expand", NULL) ||
                        json_object_object_get_ex(s->query, "filter", NULL));
}

/* Renders rec for the group of o. */
static char *render_for(bs_realtime *rt, const rt_out *o, const char *action,
                        const bs_record *rec, size_t *len)
{
    const rt_sub *s = &o->subs->items[o->sub];
    bs_rt_view v = {.auth = o->auth, .by_id = s->rec != NULL,
                    .query = s->query, .headers = s->headers,
                    .checked = o->allowed == 1};
    return rt->render(rt->app, &v, action, rec, len);
}

/* Gathers the subscriptions that match rec (under the broker's lock),
 * then renders the record once per group (outside it). With defer (a
 * delete, inside its transaction), the groups whose rendering needs
 * nothing from the database (their rule decided, no expand or filter,
 * no enrich hook: the shared groups) are left for after the commit
 * (batch.pending), so the writer is held only for the rule checks and
 * the renderings that read related rows. */
/* Adds an out for each subscription of c that matches rec. Under the
 * broker's lock. */
static void gather(bs_rt_client *c, const bs_record *rec, uint64_t seq,
                   rt_batch *b)
{
    rt_subs *s = c->subs;
    for (int i = 0; s && i < s->n; i++) {
        if (seq <= s->items[i].since || !sub_matches(&s->items[i], rec))
            continue;
        if (b->nouts == b->out_cap) {
            int cap = b->out_cap ? b->out_cap * 2 : 16;
            rt_out *o = realloc(b->outs, sizeof *o * (size_t)cap);
            if (!o)
                return;
            b->outs = o;
            b->out_cap = cap;
        }
        atomic_fetch_add(&s->refs, 1);
        b->outs[b->nouts++] = (rt_out){
            .c = bs_rt_client_ref(c),
            .subs = s,
            .ra = auth_ref(c->auth),
            .auth = c->auth ? c->auth->a : NULL,
            .rule = bs_rules_compiled_ref(s->items[i].rule),
            .sub = i,
            .payload = -1};
    }
}

/* The owner of rec when only its owner (and superusers) may see it:
 * the collection's list and view rules are each either superusers only
 * or of the owner shape on the same field F (bs_filter_eval_owner), and
 * rec's F is a non-empty text. NULL otherwise. */
static const char *owner_of(const bs_collection *coll,
                            bs_filter_eval *const ev[2], const bs_record *rec)
{
    const char *f = NULL;
    for (int k = 0; k < 2; k++) {
        if (!coll->rules[k ? BS_RULE_VIEW : BS_RULE_LIST])
            continue;
        const char *fk = bs_filter_eval_owner(ev[k]);
        if (!fk || (f && strcmp(f, fk) != 0))
            return NULL;
        f = fk;
    }
    json_object *v = NULL;
    if (!f || !json_object_object_get_ex(rec->data, f, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    const char *id = json_object_get_string(v);
    return *id ? id : NULL;
}

/* Gathers the subscriptions that match rec (under the broker's lock),
 * then renders the record once per group (outside it). With defer (a
 * delete, inside its transaction), the groups whose rendering needs
 * nothing from the database (their rule decided, no expand or filter,
 * no enrich hook: the shared groups) are left for after the commit
 * (batch.pending), so the writer is held only for the rule checks and
 * the renderings that read related rows. */
static void render_change(bs_realtime *rt, const char *action,
                          const bs_record *rec, uint64_t seq, rt_batch *b,
                          bool defer, bool gone)
{
    /* The list and view rules, compiled for in-memory decisions (NULL:
     * SQL decides, batched by check_in_sql). */
    const bs_collection *coll = rec->collection;
    bs_filter_eval *ev[2] = {NULL, NULL};
    if (bs_filter_eval_new(coll, coll->rules[BS_RULE_LIST], &ev[0]) ||
        bs_filter_eval_new(coll, coll->rules[BS_RULE_VIEW], &ev[1])) {
        bs_filter_eval_free(ev[0]);
        ev[0] = ev[1] = NULL; /* out of memory: SQL decides */
    }
    const char *owner = owner_of(coll, ev, rec);

    pthread_mutex_lock(&rt->lock);
    if (owner && !rt->index_broken) {
        /* Nobody else can see it: its owner's clients and superusers. */
        const char *keys[2] = {owner, ""};
        for (int k = 0; k < 2; k++) {
            rt_authset *set = authset_of(rt, keys[k]);
            for (size_t i = 0; set && i < set->n; i++)
                gather(set->c[i], rec, seq, b);
        }
    } else {
        struct lh_entry *e;
        lh_foreach(rt->clients, e) {
            gather((bs_rt_client *)lh_entry_v(e), rec, seq, b);
        }
    }
    pthread_mutex_unlock(&rt->lock);
    if (!b->nouts || !rt->render) {
        bs_filter_eval_free(ev[0]);
        bs_filter_eval_free(ev[1]);
        return;
    }
    bool shareable =
        !bs_collection_is_auth(coll) &&
        bs_hook_length(rt->app->hooks[BS_ON_RECORD_ENRICH]) == 0;

    for (int i = 0; i < b->nouts; i++) {
        rt_out *o = &b->outs[i];
        const rt_sub *s = &o->subs->items[o->sub];
        int kind = s->rec ? BS_RULE_VIEW : BS_RULE_LIST;
        o->allowed = -1;
        if (o->auth && o->auth->superuser) {
            o->allowed = 1;
        } else if (!coll->rules[kind]) {
            o->allowed = 0;
        } else if (ev[s->rec ? 1 : 0]) {
            bs_filter_auth fa = {0};
            if (o->auth)
                fa = (bs_filter_auth){o->auth->id, o->auth->collection->id,
                                      o->auth->collection->name};
            o->allowed = bs_filter_eval_run(ev[s->rec ? 1 : 0], rec->data,
                                            o->auth ? &fa : NULL);
        }
    }
    if (gone) {
        /* The row is gone: a rule that needs SQL cannot be decided, and
         * the message is not sent (never shown to the wrong client). */
        for (int i = 0; i < b->nouts; i++)
            if (b->outs[i].allowed == -1)
                b->outs[i].allowed = 0;
    } else {
        check_in_sql(rt, rec, b);
    }

    json_object *groups = json_object_new_object(); /* key -> index */
    bs_buf key;
    bs_buf_init(&key);
    for (int i = 0; i < b->nouts && groups; i++) {
        rt_out *o = &b->outs[i];
        const rt_sub *s = &o->subs->items[o->sub];
        int allowed = o->allowed;
        if (allowed == 0)
            continue; /* payload stays -1 */
        bs_buf_reset(&key);
        if (allowed == 1 && shareable && !opt_personal(s))
            bs_buf_printf(&key, "S\x1f%d\x1f%s",
                          o->auth && o->auth->superuser, s->options);
        else
            bs_buf_printf(&key, "%c\x1f%s\x1f%s\x1f%s",
                          allowed == 1 ? 'c' : s->rec ? 'v' : 'l',
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
            int *pd = realloc(b->pending, sizeof *pd * (size_t)cap);
            if (pd)
                b->pending = pd;
            if (!p || !l || !pd)
                continue;
            b->payload_cap = cap;
        }
        int at = -1;
        if (defer && key.data[0] == 'S') {
            at = b->npayloads++;
            b->payloads[at] = NULL;
            b->lens[at] = 0;
            b->pending[at] = i;
        } else {
            size_t len = 0;
            char *payload = render_for(rt, o, action, rec, &len);
            if (payload) {
                at = b->npayloads++;
                b->payloads[at] = payload;
                b->lens[at] = len;
                b->pending[at] = -1;
            }
        }
        json_object_object_add(groups, key.data, json_object_new_int(at));
        o->payload = at;
    }
    bs_buf_dispose(&key);
    if (groups)
        json_object_put(groups);
    bs_filter_eval_free(ev[0]);
    bs_filter_eval_free(ev[1]);
}

static void deliver(rt_batch *b)
{
    for (int i = 0; i < b->nouts; i++) {
        rt_out *o = &b->outs[i];
        if (o->payload < 0 || !b->payloads[o->payload])
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

static bool same_auth(const bs_rt_client *c, const bs_record *rec)
{
    const bs_auth *a = c->auth ? c->auth->a : NULL;
    return a && strcmp(a->id, bs_record_id(rec)) == 0 &&
           strcmp(a->collection->id, rec->collection->id) == 0;
}

static bool holds_auth(bs_rt_client *c, void *rec)
{
    return same_auth(c, rec);
}

/* Keeps the clients' auth in step with a changed auth record, as
 * PocketBase does: an update refreshes the cached record, unless its
 * tokenKey changed (a password change, a forced sign-out); then, as after
 * a delete, the client is a guest again (its subscriptions stay). */
static void sync_auth(bs_realtime *rt, const char *action,
                      const bs_record *rec)
{
    const bs_collection *coll = rec->collection;
    const char *id = bs_record_id(rec);
    if (!bs_collection_is_auth(coll) || !id || strcmp(action, "create") == 0)
        return;
    size_t n;
    bs_rt_client **hit = clients_where(rt, holds_auth, (void *)rec, &n);
    if (!n)
        return;

    rt_auth *fresh = NULL; /* NULL: drop to guest */
    json_object *row = NULL;
    if (strcmp(action, "update") == 0) {
        bs_conn *conn = bs_store_reader_acquire(rt->app->store);
        if (bs_record_row_load(conn, coll, id, &row) != 0)
            row = NULL;
        bs_store_reader_release(rt->app->store, conn);
    }
    pthread_mutex_lock(&rt->lock);
    const bs_auth *was = hit[0]->auth ? hit[0]->auth->a : NULL;
    if (row && was &&
        strcmp(bs_json_get_str(row, "tokenKey", ""),
               bs_json_get_str(was->record, "tokenKey", "")) == 0) {
        bs_auth *a = calloc(1, sizeof *a);
        if (a) {
            bs_schema_ref(rec->schema);
            *a = (bs_auth){.schema = rec->schema, .collection = coll,
                           .record = row, .superuser = was->superuser,
                           .id = bs_json_get_str(row, "id", id)};
            row = NULL;
            fresh = auth_new(a);
        }
    }
    rt_auth **old = calloc(n, sizeof *old);
    for (size_t i = 0; i < n; i++) {
        bs_rt_client *c = hit[i];
        if (!old || !same_auth(c, rec))
            continue;
        old[i] = set_auth(c, auth_ref(fresh));
    }
    pthread_mutex_unlock(&rt->lock);
    for (size_t i = 0; i < n; i++) {
        if (old)
            auth_unref(old[i]);
        bs_rt_client_unref(hit[i]);
    }
    if (row)
        json_object_put(row);
    auth_unref(fresh);
    free(old);
    free(hit);
}

static void run_job(bs_realtime *rt, rt_job *j)
{
    rt_batch *b = &j->batch;
    if (!j->prepared)
        render_change(rt, j->action, j->rec, j->seq, b, false, j->gone);
    for (int i = 0; j->rec && i < b->npayloads; i++) {
        if (b->pending[i] < 0)
            continue;
        b->payloads[i] = render_for(rt, &b->outs[b->pending[i]], j->action,
                                    j->rec, &b->lens[i]);
        b->pending[i] = -1;
    }
    deliver(b);
    if (j->rec)
        sync_auth(rt, j->action, j->rec);
}

/* Keep-alive comments for clients silent for ping_ms, and the end of
 * clients without a message for their idle timeout or past their
 * maximum lifetime. */
/* Ends a client past its idle timeout or lifetime, or queues a
 * keep-alive comment; true when its stream must be woken. */
static bool tick_client(bs_rt_client *c, void *user)
{
    int64_t now = *(int64_t *)user;
    bool act = false;
    pthread_mutex_lock(&c->lock);
    if (!c->closing && (now - c->last_message >= c->idle_ms ||
                        now >= c->end_at)) {
        c->closing = true;
        act = true;
    } else if (!c->closing && now - c->last_write >= c->rt->ping_ms &&
               c->queue.len == c->qoff) {
        bs_buf_puts(&c->queue, ":\n\n");
        c->last_write = now;
        act = true;
    }
    pthread_mutex_unlock(&c->lock);
    return act;
}

static void tick(bs_realtime *rt)
{
    int64_t now = bs_mono_ms();
    size_t n;
    bs_rt_client **woken = clients_where(rt, tick_client, &now, &n);
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
    period = rt->max_ms < period ? rt->max_ms : period;
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
        bs_mono_deadline(&ts, next_tick - now);
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
    j->seq = atomic_fetch_add(&rt->published, 1) + 1;
    j->rec = bs_record_clone(rec);
    if (!j->rec) {
        free(j);
        return;
    }
    push(rt, j);
}

void bs_realtime_publish_remote(bs_realtime *rt, const char *action,
                                bs_record *rec)
{
    static const char *const actions[] = {"create", "update", "delete"};
    const char *a = NULL;
    for (int i = 0; i < 3 && action; i++)
        if (strcmp(action, actions[i]) == 0)
            a = actions[i];
    if (!rt || !a || !rec || !atomic_load(&rt->running) ||
        atomic_load(&rt->count) == 0) {
        bs_record_free(rec);
        return;
    }
    rt_job *j = calloc(1, sizeof *j);
    if (!j) {
        bs_record_free(rec);
        return;
    }
    j->action = a;
    j->gone = a == actions[2];
    j->seq = atomic_fetch_add(&rt->published, 1) + 1;
    j->rec = rec;
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
    moved->action = j->action;
    moved->rec = j->rec;
    j->rec = NULL;
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
        j->action = "delete";
        j->seq = atomic_fetch_add(&rt->published, 1) + 1;
        render_change(rt, "delete", re->record, j->seq, &j->batch, true,
                      false);
        /* The record as it was, for the renderings left for after the
         * commit, and because a deleted auth record signs its clients
         * out (sync_auth). */
        bool pending = false;
        for (int i = 0; i < j->batch.npayloads; i++)
            pending = pending || j->batch.pending[i] >= 0;
        if (pending || bs_collection_is_auth(re->record->collection))
            j->rec = bs_record_clone(re->record);
    }
    int rc = bs_event_next(e);
    if (rc || !j || (!j->batch.nouts && !j->rec)) {
        job_free(j);
        return rc;
    }
    bs_tx_after(re->tx, prepared_after, j, prepared_free);
    return 0;
}

/* ---- the collection hooks ------------------------------------------------------ */

/* A signed-in client of a deleted auth collection, or of one whose auth
 * token secret changed (every token of it is void), is a guest again,
 * as in PocketBase; its subscriptions stay. */
static bool signed_out_by(bs_rt_client *c, void *user)
{
    json_object *col = user;
    const bs_auth *a = c->auth ? c->auth->a : NULL;
    if (!a || strcmp(a->collection->id, bs_json_get_str(col, "id", "")) != 0)
        return false;
    json_object *token = bs_json_get(col, "authToken");
    if (!token) /* deleted */
        return true;
    const char *was = bs_collection_token_secret(a->collection, "authToken");
    return strcmp(bs_json_get_str(token, "secret", ""), was ? was : "") != 0;
}

/* The same, judged against a schema snapshot reloaded for a change made
 * on another node, where no collection hook ran: the client's auth
 * collection is gone from s, or its token secret there is another. */
static bool signed_out_in(bs_rt_client *c, void *user)
{
    const bs_schema *s = user;
    const bs_auth *a = c->auth ? c->auth->a : NULL;
    if (!a)
        return false;
    const bs_collection *now = bs_schema_find(s, a->collection->id);
    if (!now || strcmp(now->id, a->collection->id) != 0)
        return true;
    const char *was = bs_collection_token_secret(a->collection, "authToken");
    const char *is = bs_collection_token_secret(now, "authToken");
    return strcmp(was ? was : "", is ? is : "") != 0;
}

/* Makes every client that signed_out(client, user) says a guest. */
static void drop_auths_where(bs_realtime *rt,
                             bool (*signed_out)(bs_rt_client *, void *),
                             void *user)
{
    size_t n;
    bs_rt_client **hit = clients_where(rt, signed_out, user, &n);
    rt_auth **old = n ? calloc(n, sizeof *old) : NULL;
    pthread_mutex_lock(&rt->lock);
    for (size_t i = 0; old && i < n; i++)
        if (signed_out(hit[i], user))
            old[i] = set_auth(hit[i], NULL);
    pthread_mutex_unlock(&rt->lock);
    for (size_t i = 0; i < n; i++) {
        if (old)
            auth_unref(old[i]);
        bs_rt_client_unref(hit[i]);
    }
    free(old);
    free(hit);
}

static void drop_auths(bs_realtime *rt, json_object *col)
{
    drop_auths_where(rt, signed_out_by, col);
}

void bs_realtime_sync_schema(bs_realtime *rt, bs_schema *s)
{
    if (rt && s && atomic_load(&rt->count) > 0)
        drop_auths_where(rt, signed_out_in, s);
}

static int on_collection_updated(bs_event *e, void *user)
{
    json_object *col = ((bs_collection_event *)e)->collection;
    if (col && bs_json_get(col, "authToken"))
        drop_auths(user, col);
    return bs_event_next(e);
}

static int on_collection_deleted(bs_event *e, void *user)
{
    json_object *col = ((bs_collection_event *)e)->collection;
    if (col) {
        /* Only the id counts: signed_out_by reads a missing authToken
         * as a deletion. */
        json_object *id = json_object_new_object();
        if (id) {
            json_object_object_add(
                id, "id", json_object_new_string(bs_json_get_str(col, "id", "")));
            drop_auths(user, id);
            json_object_put(id);
        }
    }
    return bs_event_next(e);
}

/* ---- life cycle ------------------------------------------------------------- */

bs_realtime *bs_realtime_new(bs_app *app)
{
    bs_realtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->app = app;
    rt->idle_ms = bs_env_positive("BASALT_REALTIME_IDLE_MS", IDLE_MS);
    rt->ping_ms = bs_env_positive("BASALT_REALTIME_PING_MS", PING_MS);
    rt->max_ms = bs_env_positive("BASALT_REALTIME_MAX_MS", MAX_MS);
    rt->queue_max =
        (size_t)bs_env_positive("BASALT_REALTIME_QUEUE_MAX", QUEUE_MAX);
    pthread_mutex_init(&rt->lock, NULL);
    pthread_mutex_init(&rt->qlock, NULL);
    bs_cond_init_monotonic(&rt->qwake);
    rt->clients = lh_kchar_table_new(64, NULL);
    rt->by_auth = lh_kchar_table_new(64, authset_free);
    bs_handler created = {.id = "pbRealtimeCreate", .priority = -99,
                          .fn = on_created, .user = rt};
    bs_handler updated = {.id = "pbRealtimeUpdate", .priority = -99,
                          .fn = on_updated, .user = rt};
    bs_handler deleted = {.id = "pbRealtimeDelete", .priority = 99,
                          .fn = on_delete_execute, .user = rt};
    bs_handler coll_updated = {.id = "pbRealtimeCollectionUpdate",
                               .priority = -99, .fn = on_collection_updated,
                               .user = rt};
    bs_handler coll_deleted = {.id = "pbRealtimeCollectionDelete",
                               .priority = -99, .fn = on_collection_deleted,
                               .user = rt};
    if (!rt->clients || !rt->by_auth ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_AFTER_CREATE_SUCCESS],
                     &created) ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_AFTER_UPDATE_SUCCESS],
                     &updated) ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_DELETE_EXECUTE], &deleted) ||
        bs_hook_bind(app->hooks[BS_ON_COLLECTION_AFTER_UPDATE_SUCCESS],
                     &coll_updated) ||
        bs_hook_bind(app->hooks[BS_ON_COLLECTION_AFTER_DELETE_SUCCESS],
                     &coll_deleted)) {
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
    if (rt->by_auth)
        lh_table_free(rt->by_auth);
    pthread_cond_destroy(&rt->qwake);
    pthread_mutex_destroy(&rt->qlock);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

size_t bs_realtime_count(bs_realtime *rt)
{
    return rt ? atomic_load(&rt->count) : 0;
}

void bs_realtime_stats_get(bs_realtime *rt, bs_realtime_stats *out)
{
    *out = (bs_realtime_stats){0};
    if (!rt)
        return;
    out->clients = atomic_load(&rt->count);
    out->connects = bs_counter_get(&rt->connects);
    out->messages = bs_counter_get(&rt->messages);
    out->drops = bs_counter_get(&rt->drops);
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
