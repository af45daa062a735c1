/*
 * cluster.c - realtime across nodes and snapshot reloads over the
 * message bus (see cluster.h for the subjects and the message format).
 *
 * Publishing. The record hooks After{Create,Update,Delete}Success run
 * after the commit, on the thread that committed; each encodes the
 * record's stored values and publishes them (src/db/bus.c, which never
 * waits for the network: a write is handed to the connection or fails
 * at once). The collection hooks of the same kind, the settings API and
 * the SQL console send the notices. When the bus is down a publish
 * fails: counted, and logged at most every ten seconds.
 *
 * Receiving. The bus hands every message of basalt.<prefix>.> to
 * on_message on its delivery thread, one at a time and in the order the
 * server sent them, so a record of a collection created a moment before
 * meets the reloaded schema. A record is rebuilt from the stored values
 * against this node's current schema snapshot (bs_record_from_raw:
 * unknown fields are ignored, missing ones take their zero value) and
 * given to the local broker, which renders it for each of its clients as
 * for a local change. A notice reloads the snapshots as a commit by
 * another process does (bs_app_reload_snapshots). Notices sent while
 * this node was cut off from the bus are lost, so the snapshots are
 * also read again each time the connection comes back.
 *
 * This file is the record and app side; the NATS client lives in
 * src/db/bus.c, below every model, so that this layer never names
 * libnats.
 */
#include "cluster.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/stats.h"
#include "../base/util.h"
#include "../db/bus.h"
#include "app.h"
#include "auth.h"
#include "files.h"
#include "events.h"
#include "field.h"
#include "realtime.h"

#define WARN_EVERY_MS 10000
/* How long a node waits for the holder of a realtime client. */
#define FORWARD_WAIT_MS 1000
/* Each node says hello this often; a node not heard from for
 * PEER_ALIVE_MS is no longer waited for. */
#define HELLO_EVERY_MS 1000
#define PEER_ALIVE_MS 3500
/* How long a change waits for the other nodes to reload. */
#define ACK_WAIT_MS 3000
#define MAX_PEERS 128

typedef struct peer {
    char node[65];
    int64_t seen;         /* bs_mono_ms */
} peer;

struct bs_cluster {
    bs_app *app;
    char *url;
    char *prefix;
    char node[17];        /* random per process */
    pthread_rwlock_t bus_lock; /* bus: publishers read, stop writes */
    bs_bus *bus;          /* NULL when not running */
    _Atomic bool bound;   /* the hooks are bound */
    bs_counter published;
    bs_counter publish_failed;
    bs_counter received;
    bs_counter reloads;
    bs_counter dropped;
    bs_counter forwarded;
    bs_counter acks_missed;
    _Atomic int64_t last_warn; /* bs_mono_ms of the last warning */

    pthread_mutex_t peers_lock; /* guards peers and npeers */
    peer peers[MAX_PEERS];
    int npeers;

    pthread_mutex_t hello_lock; /* guards hello_stop */
    pthread_cond_t hello_wake;
    bool hello_stop;
    bool hello_running;         /* hello_thread was started */
    pthread_t hello_thread;
};

/* ---- messages ------------------------------------------------------------- */

void bs_cluster_encode_record(bs_buf *out, const char *node,
                              const char *action, const bs_record *rec)
{
    const bs_collection *c = rec->collection;
    json_object *o = json_object_new_object();
    json_object *vals = json_object_new_object();
    if (!o || !vals) {
        json_object_put(o);
        json_object_put(vals);
        out->oom = true;
        return;
    }
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "node", json_object_new_string(node));
    json_object_object_add(o, "kind", json_object_new_string("record"));
    json_object_object_add(o, "action", json_object_new_string(action));
    json_object_object_add(o, "collection", json_object_new_string(c->id));
    for (int i = 0; i < c->nfields; i++) {
        const bs_finfo *fi = &c->finfo[i];
        json_object_object_add(
            vals, fi->name,
            bs_finfo_to_raw(fi, bs_json_get(rec->data, fi->name)));
    }
    json_object_object_add(o, "record", vals);
    bs_json_write(out, o);
    json_object_put(o);
}

void bs_cluster_encode_notice(bs_buf *out, const char *node,
                              bs_cluster_kind kind)
{
    json_object *o = json_object_new_object();
    if (!o) {
        out->oom = true;
        return;
    }
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "node", json_object_new_string(node));
    const char *name = kind == BS_CLUSTER_MSG_SETTINGS ? "settings"
                       : kind == BS_CLUSTER_MSG_HELLO  ? "hello"
                       : kind == BS_CLUSTER_MSG_ACK    ? "ack"
                                                       : "schema";
    json_object_object_add(o, "kind", json_object_new_string(name));
    bs_json_write(out, o);
    json_object_put(o);
}

void bs_cluster_encode_subscribe(bs_buf *out, const char *node,
                                 const char *client_id,
                                 const json_object *topics,
                                 const char *authorization, const char *ip)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "node", json_object_new_string(node));
    json_object_object_add(o, "kind", json_object_new_string("subscribe"));
    json_object_object_add(o, "clientId", json_object_new_string(client_id));
    json_object_object_add(o, "subscriptions",
                           json_object_get((json_object *)topics));
    json_object_object_add(o, "authorization",
                           json_object_new_string(authorization
                                                      ? authorization
                                                      : ""));
    json_object_object_add(o, "ip", json_object_new_string(ip ? ip : ""));
    bs_json_write(out, o);
    json_object_put(o);
}

/* Copies the string member key of o into out (size n): false when it is
 * missing, not a string, too long or (unless empty_ok) empty. */
static bool get_str(json_object *o, const char *key, char *out, size_t n,
                    bool empty_ok)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return false;
    size_t len = (size_t)json_object_get_string_len(v);
    const char *s = json_object_get_string(v);
    if ((len == 0 && !empty_ok) || len >= n || memchr(s, '\0', len))
        return false;
    memcpy(out, s, len + 1);
    return true;
}

static bool get_text(json_object *o, const char *key, char *out, size_t n)
{
    return get_str(o, key, out, n, false);
}

/* Whether v is an array of at most 1000 strings (as a local POST
 * allows). */
static bool string_array(json_object *v)
{
    if (!json_object_is_type(v, json_type_array) ||
        json_object_array_length(v) > 1000)
        return false;
    for (size_t i = 0; i < json_object_array_length(v); i++)
        if (!json_object_is_type(json_object_array_get_idx(v, i),
                                 json_type_string))
            return false;
    return true;
}

/* Whether s is made of [A-Za-z0-9_-] only: a node id (hex digits as
 * bs_cluster_configure makes them) or a subject prefix. */
static bool is_token(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

int bs_cluster_decode(const char *data, size_t len, bs_cluster_msg *m)
{
    static const char *const actions[] = {"create", "update", "delete"};
    memset(m, 0, sizeof *m);
    json_object *o = NULL;
    int rc = bs_json_parse(data, len, &o);
    if (rc)
        return rc == BS_ENOMEM ? BS_ENOMEM : BS_EINVAL;
    rc = BS_EINVAL;
    char kind[16];
    json_object *v = NULL;
    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "v", &v) ||
        !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) != 1 ||
        !get_text(o, "node", m->node, sizeof m->node) ||
        !is_token(m->node) || !get_text(o, "kind", kind, sizeof kind))
        goto end;
    if (strcmp(kind, "schema") == 0) {
        m->kind = BS_CLUSTER_MSG_SCHEMA;
        rc = 0;
        goto end;
    }
    if (strcmp(kind, "settings") == 0) {
        m->kind = BS_CLUSTER_MSG_SETTINGS;
        rc = 0;
        goto end;
    }
    if (strcmp(kind, "hello") == 0 || strcmp(kind, "ack") == 0) {
        m->kind = kind[0] == 'h' ? BS_CLUSTER_MSG_HELLO : BS_CLUSTER_MSG_ACK;
        rc = 0;
        goto end;
    }
    if (strcmp(kind, "subscribe") == 0) {
        json_object *topics = NULL;
        if (!get_text(o, "clientId", m->client_id, sizeof m->client_id) ||
            !get_str(o, "authorization", m->authorization,
                     sizeof m->authorization, true) ||
            !get_str(o, "ip", m->ip, sizeof m->ip, true) ||
            !json_object_object_get_ex(o, "subscriptions", &topics) ||
            !string_array(topics))
            goto end;
        m->kind = BS_CLUSTER_MSG_SUBSCRIBE;
        m->topics = json_object_get(topics);
        rc = 0;
        goto end;
    }
    char action[8];
    if (strcmp(kind, "record") != 0 ||
        !get_text(o, "action", action, sizeof action) ||
        !get_text(o, "collection", m->collection, sizeof m->collection))
        goto end;
    for (int i = 0; i < 3; i++)
        if (strcmp(action, actions[i]) == 0)
            m->action = actions[i];
    json_object *rec = NULL, *id = NULL;
    if (!m->action || !json_object_object_get_ex(o, "record", &rec) ||
        !json_object_is_type(rec, json_type_object) ||
        !json_object_object_get_ex(rec, "id", &id) ||
        !json_object_is_type(id, json_type_string) ||
        json_object_get_string_len(id) == 0)
        goto end;
    m->kind = BS_CLUSTER_MSG_RECORD;
    m->record = json_object_get(rec);
    rc = 0;
end:
    json_object_put(o);
    if (rc) {
        bs_cluster_msg_dispose(m);
        memset(m, 0, sizeof *m);
    }
    return rc;
}

void bs_cluster_msg_dispose(bs_cluster_msg *m)
{
    if (m->record)
        json_object_put(m->record);
    m->record = NULL;
    if (m->topics)
        json_object_put(m->topics);
    m->topics = NULL;
}

/* ---- publishing -------------------------------------------------------------- */

/* basalt.<prefix>.<what>, with <token> appended after a dot when given:
 * a collection id, whose characters outside [A-Za-z0-9_-] (NATS gives
 * '.', '*' and '>' a meaning) become '_'. */
static void subject_for(const bs_cluster *cl, const char *what,
                        const char *token, char *out, size_t n)
{
    int k = snprintf(out, n, "basalt.%s.%s%s", cl->prefix, what,
                     token ? "." : "");
    if (k < 0 || (size_t)k >= n || !token)
        return;
    size_t at = (size_t)k;
    for (; *token && at + 1 < n; token++) {
        char ch = *token;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        out[at++] = ok ? ch : '_';
    }
    out[at] = '\0';
}

/* Counts the outcome rc of a publish on subject, warning (at most every
 * WARN_EVERY_MS) when it failed. */
static void count_publish(bs_cluster *cl, const char *subject, int rc)
{
    if (rc == 0) {
        bs_counter_add(&cl->published, 1);
        return;
    }
    bs_counter_add(&cl->publish_failed, 1);
    int64_t now = bs_mono_ms();
    int64_t last = atomic_load(&cl->last_warn);
    if ((last == 0 || now - last >= WARN_EVERY_MS) &&
        atomic_compare_exchange_strong(&cl->last_warn, &last, now))
        bs_log_warn(cl->app,
                    "Cannot publish to NATS: other nodes miss this node's "
                    "changes until it is back",
                    "subject", subject, "failed",
                    rc == BS_ENOMEM ? "out of memory" : "not connected",
                    NULL);
}

static void publish(bs_cluster *cl, const char *subject, const bs_buf *b)
{
    pthread_rwlock_rdlock(&cl->bus_lock);
    int rc = b->oom ? BS_ENOMEM
                    : bs_bus_publish(cl->bus, subject, b->data, b->len);
    pthread_rwlock_unlock(&cl->bus_lock);
    count_publish(cl, subject, rc);
}

/* ---- the other nodes ------------------------------------------------------- */

/* Notes that node was heard from now. */
static void peer_seen(bs_cluster *cl, const char *node)
{
    int64_t now = bs_mono_ms();
    pthread_mutex_lock(&cl->peers_lock);
    int slot = -1;
    for (int i = 0; i < cl->npeers && slot < 0; i++)
        if (strcmp(cl->peers[i].node, node) == 0)
            slot = i;
    /* A new node takes the place of one long silent, or a new one. */
    for (int i = 0; i < cl->npeers && slot < 0; i++)
        if (now - cl->peers[i].seen > PEER_ALIVE_MS)
            slot = i;
    if (slot < 0 && cl->npeers < MAX_PEERS)
        slot = cl->npeers++;
    if (slot >= 0) {
        snprintf(cl->peers[slot].node, sizeof cl->peers[slot].node, "%s",
                 node);
        cl->peers[slot].seen = now;
    }
    pthread_mutex_unlock(&cl->peers_lock);
}

/* Copies the ids of the nodes heard from in the last PEER_ALIVE_MS into
 * out; returns how many. */
static int live_peers(bs_cluster *cl, char (*out)[65])
{
    int64_t now = bs_mono_ms();
    int n = 0;
    pthread_mutex_lock(&cl->peers_lock);
    for (int i = 0; i < cl->npeers; i++)
        if (now - cl->peers[i].seen <= PEER_ALIVE_MS)
            memcpy(out[n++], cl->peers[i].node, sizeof out[0]);
    pthread_mutex_unlock(&cl->peers_lock);
    return n;
}

typedef struct ack_wait {
    char (*nodes)[65];
    bool *acked;
    int n, left;
} ack_wait;

static bool on_ack(const char *data, size_t len, void *user)
{
    ack_wait *w = user;
    bs_cluster_msg m;
    if (bs_cluster_decode(data, len, &m) != 0)
        return true;
    for (int i = 0; m.kind == BS_CLUSTER_MSG_ACK && i < w->n; i++) {
        if (!w->acked[i] && strcmp(w->nodes[i], m.node) == 0) {
            w->acked[i] = true;
            w->left--;
            break;
        }
    }
    bs_cluster_msg_dispose(&m);
    return w->left > 0;
}

/* Publishes the notice in b and waits (up to ACK_WAIT_MS) until every
 * node heard from lately says it has reloaded, so that the change is
 * seen by all of them once it is answered. */
static void publish_notice(bs_cluster *cl, const char *subject,
                           const bs_buf *b)
{
    char nodes[MAX_PEERS][65];
    bool acked[MAX_PEERS] = {false};
    ack_wait w = {.nodes = nodes, .acked = acked};
    w.n = w.left = live_peers(cl, nodes);
    if (w.n == 0 || b->oom) {
        publish(cl, subject, b);
        return;
    }
    pthread_rwlock_rdlock(&cl->bus_lock);
    int rc = bs_bus_gather(cl->bus, subject, b->data, b->len, ACK_WAIT_MS,
                           on_ack, &w);
    pthread_rwlock_unlock(&cl->bus_lock);
    count_publish(cl, subject, rc);
    if (rc == 0 && w.left > 0) {
        bs_counter_add(&cl->acks_missed, (uint64_t)w.left);
        char missing[16], of[16];
        snprintf(missing, sizeof missing, "%d", w.left);
        snprintf(of, sizeof of, "%d", w.n);
        bs_log_warn(cl->app,
                    "Some nodes did not confirm a reload in time: they may "
                    "serve the older schema or settings for a moment",
                    "subject", subject, "missing", missing, "of", of, NULL);
    }
}

/* Answers a notice on reply once this node has reloaded. */
static void answer_notice(bs_cluster *cl, const char *reply)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_cluster_encode_notice(&b, cl->node, BS_CLUSTER_MSG_ACK);
    /* Not a blocking lock: see answer_subscribe. */
    if (!b.oom && pthread_rwlock_tryrdlock(&cl->bus_lock) == 0) {
        bs_bus_publish(cl->bus, reply, b.data, b.len);
        pthread_rwlock_unlock(&cl->bus_lock);
    }
    bs_buf_dispose(&b);
}

/* Says hello every HELLO_EVERY_MS until bs_cluster_stop. */
static void *hello_main(void *p)
{
    bs_cluster *cl = p;
    char subject[160];
    subject_for(cl, "hello", NULL, subject, sizeof subject);
    bs_buf b;
    bs_buf_init(&b);
    bs_cluster_encode_notice(&b, cl->node, BS_CLUSTER_MSG_HELLO);
    pthread_mutex_lock(&cl->hello_lock);
    while (!cl->hello_stop) {
        pthread_mutex_unlock(&cl->hello_lock);
        pthread_rwlock_rdlock(&cl->bus_lock);
        if (cl->bus && !b.oom)
            bs_bus_publish(cl->bus, subject, b.data, b.len);
        pthread_rwlock_unlock(&cl->bus_lock);
        struct timespec ts;
        bs_mono_deadline(&ts, HELLO_EVERY_MS);
        pthread_mutex_lock(&cl->hello_lock);
        while (!cl->hello_stop &&
               pthread_cond_timedwait(&cl->hello_wake, &cl->hello_lock,
                                      &ts) == 0) {
        }
    }
    pthread_mutex_unlock(&cl->hello_lock);
    bs_buf_dispose(&b);
    return NULL;
}

static void publish_record(bs_cluster *cl, const char *action,
                           const bs_record *rec)
{
    char subject[256];
    subject_for(cl, "records", rec->collection->id, subject, sizeof subject);
    bs_buf b;
    bs_buf_init(&b);
    bs_cluster_encode_record(&b, cl->node, action, rec);
    publish(cl, subject, &b);
    bs_buf_dispose(&b);
}

static int on_created(bs_event *e, void *user)
{
    publish_record(user, "create", ((bs_record_event *)e)->record);
    return bs_event_next(e);
}

static int on_updated(bs_event *e, void *user)
{
    publish_record(user, "update", ((bs_record_event *)e)->record);
    return bs_event_next(e);
}

static int on_deleted(bs_event *e, void *user)
{
    publish_record(user, "delete", ((bs_record_event *)e)->record);
    return bs_event_next(e);
}

static int on_collection_changed(bs_event *e, void *user)
{
    bs_cluster *cl = user;
    bs_cluster_notify(cl->app, BS_CLUSTER_SCHEMA);
    return bs_event_next(e);
}

void bs_cluster_notify(bs_app *app, unsigned changes)
{
    bs_cluster *cl = app ? app->cluster : NULL;
    if (!cl || !cl->bound)
        return;
    static const struct {
        unsigned bit;
        bs_cluster_kind kind;
        const char *what;
    } notices[] = {{BS_CLUSTER_SCHEMA, BS_CLUSTER_MSG_SCHEMA, "schema"},
                   {BS_CLUSTER_SETTINGS, BS_CLUSTER_MSG_SETTINGS,
                    "settings"}};
    for (size_t i = 0; i < sizeof notices / sizeof notices[0]; i++) {
        if (!(changes & notices[i].bit))
            continue;
        char subject[160];
        subject_for(cl, notices[i].what, NULL, subject, sizeof subject);
        bs_buf b;
        bs_buf_init(&b);
        bs_cluster_encode_notice(&b, cl->node, notices[i].kind);
        publish_notice(cl, subject, &b);
        bs_buf_dispose(&b);
    }
}

/* ---- receiving ----------------------------------------------------------------- */

/* Answers a subscribe request of another node on reply when this node
 * holds the client, with the checks of a local POST /api/realtime
 * (src/api/realtime.c); stays silent otherwise. */
static void answer_subscribe(bs_cluster *cl, const bs_cluster_msg *m,
                             const char *reply)
{
    bs_rt_client *c = bs_realtime_find(cl->app->realtime, m->client_id);
    if (!c)
        return;
    int status = 204;
    const char *message = "";
    bs_auth *auth = NULL;
    if (m->authorization[0] &&
        bs_auth_from_token(cl->app, m->authorization, &auth) != 0)
        auth = NULL; /* a bad token loads no requester, as locally */
    int had = bs_rt_client_auth_cmp(c, auth);
    if (*bs_rt_client_ip(c) && strcmp(bs_rt_client_ip(c), m->ip) != 0) {
        status = 400;
        message = "Invalid realtime client.";
    } else if (had > 0) {
        status = 403;
        message = "The current and the previous request authorization "
                  "don't match.";
    } else if (bs_rt_client_set(c, m->topics, had < 0 ? auth : NULL) != 0) {
        status = 500;
        message = "Something went wrong while processing your request.";
    } else if (had < 0) {
        auth = NULL; /* taken over by the client */
    }
    bs_auth_free(auth);
    bs_rt_client_unref(c);
    if (status == 204)
        bs_counter_add(&cl->forwarded, 1);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_int(status));
    if (*message)
        json_object_object_add(o, "message", json_object_new_string(message));
    bs_buf b;
    bs_buf_init(&b);
    bs_json_write(&b, o);
    json_object_put(o);
    /* Not a blocking lock: bs_cluster_stop holds it for writing while it
     * waits for this callback to return. */
    if (!b.oom && pthread_rwlock_tryrdlock(&cl->bus_lock) == 0) {
        bs_bus_publish(cl->bus, reply, b.data, b.len);
        pthread_rwlock_unlock(&cl->bus_lock);
    }
    bs_buf_dispose(&b);
}

static void on_message(const char *subject, const char *data, size_t len,
                       const char *reply, void *user)
{
    bs_cluster *cl = user;
    bs_app *app = cl->app;
    (void)subject;
    bs_cluster_msg m;
    if (bs_cluster_decode(data, len, &m) != 0) {
        bs_counter_add(&cl->dropped, 1);
        return;
    }
    if (strcmp(m.node, cl->node) == 0) {
        bs_cluster_msg_dispose(&m);
        return;
    }
    peer_seen(cl, m.node);
    if (m.kind == BS_CLUSTER_MSG_HELLO || m.kind == BS_CLUSTER_MSG_ACK) {
        bs_cluster_msg_dispose(&m);
        return;
    }
    if (m.kind == BS_CLUSTER_MSG_SUBSCRIBE) {
        if (reply)
            answer_subscribe(cl, &m, reply);
        bs_cluster_msg_dispose(&m);
        return;
    }
    if (m.kind != BS_CLUSTER_MSG_RECORD) {
        bs_app_reload_snapshots(app);
        bs_schema *now = bs_app_schema(app);
        bs_realtime_sync_schema(app->realtime, now);
        bs_schema_unref(now);
        bs_counter_add(&cl->reloads, 1);
        if (reply)
            answer_notice(cl, reply);
        return;
    }
    bs_schema *schema = bs_app_schema(app);
    const bs_collection *c = schema ? bs_schema_find(schema, m.collection)
                                    : NULL;
    bs_record *rec = NULL;
    if (c && strcmp(c->id, m.collection) == 0)
        rec = bs_record_from_raw(schema, c, m.record);
    if (rec) {
        bs_counter_add(&cl->received, 1);
        bs_realtime_publish_remote(app->realtime, m.action, rec);
    } else {
        bs_counter_add(&cl->dropped, 1);
    }
    bs_schema_unref(schema);
    bs_cluster_msg_dispose(&m);
}

/* The bus came back (or first came up late): notices sent meanwhile
 * were lost, so the snapshots are read again. */
static void on_connected(void *user)
{
    bs_cluster *cl = user;
    bs_app_reload_snapshots(cl->app);
    bs_counter_add(&cl->reloads, 1);
}

/* ---- life cycle ------------------------------------------------------------- */

static bool valid_prefix(const char *p)
{
    return *p && strlen(p) <= 64 && is_token(p);
}

static int replace(char **slot, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return BS_ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

int bs_cluster_configure(bs_app *app, const char *url, const char *prefix)
{
    if (prefix && !valid_prefix(prefix))
        return BS_EINVAL;
    bs_cluster *cl = app->cluster;
    if (!cl) {
        cl = calloc(1, sizeof *cl);
        if (!cl)
            return BS_ENOMEM;
        cl->app = app;
        if (bs_random_string(cl->node, 16, "0123456789abcdef") != 0) {
            free(cl);
            return BS_EINVAL;
        }
        pthread_rwlock_init(&cl->bus_lock, NULL);
        pthread_mutex_init(&cl->peers_lock, NULL);
        pthread_mutex_init(&cl->hello_lock, NULL);
        bs_cond_init_monotonic(&cl->hello_wake);
        app->cluster = cl;
    }
    if ((url && replace(&cl->url, url) != 0) ||
        (prefix && replace(&cl->prefix, prefix) != 0))
        return BS_ENOMEM;
    return 0;
}

static const struct {
    bs_hook_id hook;
    const char *id;
    bs_handler_fn fn;
} binds[] = {
    {BS_ON_RECORD_AFTER_CREATE_SUCCESS, "basaltClusterCreate", on_created},
    {BS_ON_RECORD_AFTER_UPDATE_SUCCESS, "basaltClusterUpdate", on_updated},
    {BS_ON_RECORD_AFTER_DELETE_SUCCESS, "basaltClusterDelete", on_deleted},
    {BS_ON_COLLECTION_AFTER_CREATE_SUCCESS, "basaltClusterCollectionCreate",
     on_collection_changed},
    {BS_ON_COLLECTION_AFTER_UPDATE_SUCCESS, "basaltClusterCollectionUpdate",
     on_collection_changed},
    {BS_ON_COLLECTION_AFTER_DELETE_SUCCESS, "basaltClusterCollectionDelete",
     on_collection_changed},
};
#define NBINDS (sizeof binds / sizeof binds[0])

static void unbind(bs_cluster *cl)
{
    for (size_t i = 0; cl->bound && i < NBINDS; i++)
        bs_hook_unbind(cl->app->hooks[binds[i].hook], binds[i].id);
    cl->bound = false;
}

int bs_cluster_start(bs_app *app)
{
    /* The environment fills what the command line left unset. */
    bs_cluster *cl = app->cluster;
    const char *url = getenv("BASALT_NATS_URL");
    const char *prefix = getenv("BASALT_NATS_PREFIX");
    if (cl && cl->url && *cl->url)
        url = NULL;
    else if (!url || !*url)
        return 0; /* no bus: a single node */
    if (cl && cl->prefix)
        prefix = NULL;
    else if (!prefix || !*prefix)
        prefix = "default";
    int rc = bs_cluster_configure(app, url, prefix);
    if (rc) {
        bs_log('E', "Bad NATS subject prefix (BASALT_NATS_PREFIX): use "
                    "letters, digits, '_' and '-'");
        return rc;
    }
    cl = app->cluster;
    if (cl->bus)
        return 0;
    char subject[128], name[64];
    snprintf(subject, sizeof subject, "basalt.%s.>", cl->prefix);
    snprintf(name, sizeof name, "basalt-%s", cl->node);
    char err[256] = "";
    bs_bus_config bc = {.url = cl->url, .name = name, .subject = subject,
                        .on_message = on_message,
                        .on_connected = on_connected, .user = cl,
                        .reconnect_ms = (int)bs_env_positive(
                            "BASALT_NATS_RECONNECT_MS", 500)};
    bs_bus *bus = NULL;
    rc = bs_bus_open(&bc, &bus, err, sizeof err);
    if (rc) {
        bs_log('E', "Cannot use NATS at %s: %s", cl->url, err);
        return rc;
    }
    pthread_rwlock_wrlock(&cl->bus_lock);
    cl->bus = bus;
    pthread_rwlock_unlock(&cl->bus_lock);
    for (size_t i = 0; i < NBINDS; i++) {
        bs_handler h = {.id = binds[i].id, .priority = -99,
                        .fn = binds[i].fn, .user = cl};
        if (bs_hook_bind(app->hooks[binds[i].hook], &h) != 0) {
            cl->bound = true;
            bs_cluster_stop(app);
            return BS_ENOMEM;
        }
    }
    cl->bound = true;
    cl->hello_stop = false;
    cl->hello_running =
        pthread_create(&cl->hello_thread, NULL, hello_main, cl) == 0;
    if (!cl->hello_running)
        bs_log('W', "Cluster: cannot start the hello thread: changes made "
                    "here will not wait for the other nodes");
    /* A change committed elsewhere between the start-up load and the
     * subscription sent no notice this node heard. */
    bs_app_reload_snapshots(app);
    bs_log('I', "Cluster: node %s on NATS %s, subjects basalt.%s.*",
           cl->node, cl->url, cl->prefix);
    bs_s3 s3;
    if (bs_store_is_pg(app->store) && !bs_files_s3(app, &s3))
        bs_log('W', "Record files are refused until S3 storage is enabled "
                    "in the settings: the nodes share no directory");
    else if (bs_store_is_pg(app->store))
        bs_s3_dispose(&s3);
    return 0;
}

void bs_cluster_stop(bs_app *app)
{
    bs_cluster *cl = app ? app->cluster : NULL;
    if (!cl)
        return;
    unbind(cl);
    if (cl->hello_running) {
        pthread_mutex_lock(&cl->hello_lock);
        cl->hello_stop = true;
        pthread_cond_signal(&cl->hello_wake);
        pthread_mutex_unlock(&cl->hello_lock);
        pthread_join(cl->hello_thread, NULL);
        cl->hello_running = false;
    }
    pthread_rwlock_wrlock(&cl->bus_lock);
    bs_bus *bus = cl->bus;
    cl->bus = NULL;
    pthread_rwlock_unlock(&cl->bus_lock);
    bs_bus_close(bus);
}

void bs_cluster_free(bs_cluster *cl)
{
    if (!cl)
        return;
    bs_cluster_stop(cl->app);
    free(cl->url);
    free(cl->prefix);
    pthread_rwlock_destroy(&cl->bus_lock);
    pthread_mutex_destroy(&cl->peers_lock);
    pthread_mutex_destroy(&cl->hello_lock);
    pthread_cond_destroy(&cl->hello_wake);
    free(cl);
}

bool bs_cluster_running(bs_app *app)
{
    bs_cluster *cl = app ? app->cluster : NULL;
    if (!cl)
        return false;
    pthread_rwlock_rdlock(&cl->bus_lock);
    bool running = cl->bus != NULL;
    pthread_rwlock_unlock(&cl->bus_lock);
    return running;
}

int bs_cluster_forward_subscribe(bs_app *app, const char *client_id,
                                 const json_object *topics,
                                 const char *authorization, const char *ip,
                                 int *status, char *message, size_t cap)
{
    bs_cluster *cl = app ? app->cluster : NULL;
    if (!cl)
        return BS_ENOTFOUND;
    char subject[160];
    subject_for(cl, "realtime.subscribe", NULL, subject, sizeof subject);
    bs_buf req, ans;
    bs_buf_init(&req);
    bs_buf_init(&ans);
    bs_cluster_encode_subscribe(&req, cl->node, client_id, topics,
                                authorization, ip);
    pthread_rwlock_rdlock(&cl->bus_lock);
    int rc = req.oom ? BS_ENOMEM
             : cl->bus ? bs_bus_request(cl->bus, subject, req.data, req.len,
                                        FORWARD_WAIT_MS, &ans)
                       : BS_ENOTFOUND;
    pthread_rwlock_unlock(&cl->bus_lock);
    json_object *o = NULL;
    if (rc == 0 && bs_json_parse(ans.data, ans.len, &o) != 0)
        rc = BS_EIO;
    if (rc == 0) {
        int64_t st = bs_json_get_int(o, "status", 0);
        const char *msg = bs_json_get_str(o, "message", "");
        if (st < 200 || st > 599) {
            rc = BS_EIO;
        } else {
            *status = (int)st;
            snprintf(message, cap, "%s", msg);
        }
    }
    json_object_put(o);
    bs_buf_dispose(&req);
    bs_buf_dispose(&ans);
    return rc;
}

void bs_cluster_stats_get(bs_app *app, bs_cluster_stats *out)
{
    *out = (bs_cluster_stats){0};
    bs_cluster *cl = app ? app->cluster : NULL;
    if (!cl)
        return;
    bs_bus_stats bst;
    pthread_rwlock_rdlock(&cl->bus_lock);
    bs_bus_stats_get(cl->bus, &bst);
    out->enabled = cl->bus != NULL;
    pthread_rwlock_unlock(&cl->bus_lock);
    out->connected = bst.connected;
    out->reconnects = bst.reconnects;
    out->published = bs_counter_get(&cl->published);
    out->publish_failed = bs_counter_get(&cl->publish_failed);
    out->received = bs_counter_get(&cl->received);
    out->reloads = bs_counter_get(&cl->reloads);
    out->dropped = bs_counter_get(&cl->dropped);
    out->forwarded = bs_counter_get(&cl->forwarded);
    out->acks_missed = bs_counter_get(&cl->acks_missed);
}
