/*
 * cluster.h - several Basalt nodes sharing one message bus (NATS):
 * realtime across nodes and snapshot reloads.
 *
 * A node started with a bus URL (`basalt serve --nats URL`, or the
 * environment's BASALT_NATS_URL) publishes every record change it
 * commits, after the commit, on the subject
 *
 *     basalt.<prefix>.records.<collectionId>
 *
 * and a short notice on basalt.<prefix>.schema or basalt.<prefix>.settings
 * after it commits a collection or settings change. Every node
 * subscribes to basalt.<prefix>.> and hands the changes of the others to
 * its own realtime broker (bs_realtime_publish_remote), whose clients get
 * them with the node's own rule checks; a notice makes it reload its
 * schema and settings snapshots from the database, as it does when it
 * sees another process's commit. The prefix (BASALT_NATS_PREFIX, default
 * "default") lets several clusters share a NATS server.
 *
 * A message is one JSON object (bs_cluster_encode_record and
 * bs_cluster_decode):
 *
 *     {"v":1,"node":"<node id>","kind":"record","action":"create",
 *      "collection":"<collection id>","record":{<field>: <stored value>}}
 *     {"v":1,"node":"<node id>","kind":"schema"}      (or "settings")
 *
 * A notice is sent as a request: each node answers it on the reply
 * subject with {"v":1,"node":"<node id>","kind":"ack"} once it has
 * reloaded, and the node that made the change waits (up to three
 * seconds) for the answers of every node it heard from in the last 3.5
 * seconds before it answers its own client, so that a request sent
 * next, through a balancer, to any node meets the change. To know whom
 * to wait for, every node says {"v":1,"node":"<node id>","kind":"hello"}
 * on basalt.<prefix>.hello each second. A node that just started loads
 * its snapshots again once subscribed, so it needs no notice for what
 * was committed before.
 *
 * Realtime clients are held by the node their stream is connected to,
 * but behind a load balancer the client's POST /api/realtime (its
 * subscriptions) may reach another node. That node asks the others on
 * basalt.<prefix>.realtime.subscribe, waiting for an answer:
 *
 *     {"v":1,"node":"<node id>","kind":"subscribe","clientId":"...",
 *      "subscriptions":["..."],"authorization":"<token or empty>",
 *      "ip":"<the client's address as the asking node saw it>"}
 *
 * Only the node holding the client answers, after the checks a local
 * POST makes (the address, the token against the client's auth):
 * {"status":204} or {"status":4xx,"message":"..."}.
 *
 * The record holds every field of the collection as the database stores
 * it (bs_finfo_to_raw; hidden fields, password hashes and token keys
 * included), not a rendering for some client: the NATS server must be
 * as private as the database. The node id is random per process; a node
 * ignores its own messages (and asks the server not to echo them).
 *
 * Delivery is at most once, as in PocketBase: nothing is stored or
 * retried. While the bus is down the node serves as before, its local
 * clients get its local changes, publishing fails (counted, a warning
 * logged at most every ten seconds) and the library reconnects in the
 * background; changes made meanwhile are not seen by the other nodes.
 */
#ifndef BS_CLUSTER_H
#define BS_CLUSTER_H

#include <json-c/json.h>

#include "../base/buf.h"
#include "record.h"

typedef struct bs_cluster bs_cluster;

/* What a notice says changed. */
typedef enum bs_cluster_change {
    BS_CLUSTER_SCHEMA = 1,
    BS_CLUSTER_SETTINGS = 2,
} bs_cluster_change;

/* ---- messages --------------------------------------------------------- */

typedef enum bs_cluster_kind {
    BS_CLUSTER_MSG_RECORD,
    BS_CLUSTER_MSG_SCHEMA,
    BS_CLUSTER_MSG_SETTINGS,
    BS_CLUSTER_MSG_SUBSCRIBE,
    BS_CLUSTER_MSG_HELLO,
    BS_CLUSTER_MSG_ACK,
} bs_cluster_kind;

/* A decoded message. */
typedef struct bs_cluster_msg {
    bs_cluster_kind kind;
    char node[65];
    const char *action;     /* "create", "update" or "delete" (static) */
    char collection[101];
    json_object *record;    /* owned: the stored values, an object with a
                               non-empty string "id" */
    /* A subscribe request: */
    char client_id[256];
    json_object *topics;    /* owned: an array of strings */
    char authorization[4096]; /* "" for a guest */
    char ip[64];
} bs_cluster_msg;

/* Appends the message for a change of rec by action to out. */
void bs_cluster_encode_record(bs_buf *out, const char *node,
                              const char *action, const bs_record *rec);

/* Appends a notice of kind (BS_CLUSTER_MSG_SCHEMA or _SETTINGS), a
 * hello (_HELLO) or the answer to a notice (_ACK). */
void bs_cluster_encode_notice(bs_buf *out, const char *node,
                              bs_cluster_kind kind);

/* Appends a subscribe request (topics: an array of strings). */
void bs_cluster_encode_subscribe(bs_buf *out, const char *node,
                                 const char *client_id,
                                 const json_object *topics,
                                 const char *authorization, const char *ip);

/* Decodes len bytes received from the bus (untrusted). Returns 0 and
 * fills m (release with bs_cluster_msg_dispose), or BS_EINVAL for
 * anything that is not a well-formed message of version 1 (m is then
 * empty), or BS_ENOMEM. */
int bs_cluster_decode(const char *data, size_t len, bs_cluster_msg *m);
void bs_cluster_msg_dispose(bs_cluster_msg *m);

/* ---- the node --------------------------------------------------------- */

/* Sets the bus URL and subject prefix of app (NULL keeps the current
 * one; the environment's BASALT_NATS_URL and BASALT_NATS_PREFIX are the
 * defaults). Before serving. Returns 0, BS_EINVAL for a prefix that is
 * not a NATS subject token of [A-Za-z0-9_-], or BS_ENOMEM. */
int bs_cluster_configure(bs_app *app, const char *url, const char *prefix);

/* When a URL is configured: connects (or starts retrying in the
 * background), subscribes and binds the record and collection hooks
 * that publish. Without a URL it does nothing. Returns 0, or BS_EINVAL
 * (logged) for a URL the client library refuses. Called by the API
 * layer before the HTTP server starts. */
int bs_cluster_start(bs_app *app);

/* Unbinds the hooks and closes the connection; no message is handled
 * after it returns. */
void bs_cluster_stop(bs_app *app);

/* Frees what configure made (stopping first). */
void bs_cluster_free(bs_cluster *c);

/* Tells the other nodes that changes (bs_cluster_change bits) were
 * committed, after the commit, and waits until they have reloaded (see
 * above; up to three seconds). A no-op when not running. Any thread. */
void bs_cluster_notify(bs_app *app, unsigned changes);

/* Whether the bus is running (a client unknown here may be another
 * node's). Any thread. */
bool bs_cluster_running(bs_app *app);

/* Sets the subscriptions of the realtime client with this id on the
 * node that holds it (see the subscribe request above), with the
 * Authorization header (NULL or "" for a guest) and the client address
 * of the request. Returns 0 with the holder's answer in *status and
 * message (cap bytes; "" with 204), BS_ENOTFOUND when no node holds the
 * client (or no bus runs), BS_EIO or BS_ENOMEM. Waits up to a second;
 * any thread but the bus's. */
int bs_cluster_forward_subscribe(bs_app *app, const char *client_id,
                                 const json_object *topics,
                                 const char *authorization, const char *ip,
                                 int *status, char *message, size_t cap);

/* The node's counters, for the metrics. */
typedef struct bs_cluster_stats {
    bool enabled;            /* a bus is configured and started */
    bool connected;
    uint64_t published;      /* messages handed to the bus */
    uint64_t publish_failed; /* messages that could not be (bus down) */
    uint64_t received;       /* record changes of other nodes handed to
                                the broker */
    uint64_t reloads;        /* snapshot reloads asked by other nodes */
    uint64_t dropped;        /* messages dropped: undecodable, or for a
                                collection this node does not know */
    uint64_t forwarded;      /* realtime subscriptions set for another
                                node's request */
    uint64_t acks_missed;    /* nodes that did not confirm a reload of
                                this node's change in time */
    uint64_t reconnects;
} bs_cluster_stats;

/* Fills out (zeros when no bus is configured). Any thread. */
void bs_cluster_stats_get(bs_app *app, bs_cluster_stats *out);

#endif
