/*
 * realtime.h - the realtime broker: clients, their subscriptions, and the
 * one publish interface through which committed changes become messages.
 *
 * A client is one open event stream (GET /api/realtime). It has a random
 * 40-character id, the address it connected from, the auth attached by
 * its first authenticated subscribe request, its subscriptions (replaced
 * as a whole), and a bounded queue of frames not yet written. Clients are
 * reference-counted: the registry holds one reference, the stream one,
 * and whoever works on a client outside the registry's lock another.
 *
 * Publishing. bs_realtime_new binds the record hooks of the app, so that
 * every committed change, from any caller, is published: creates and
 * updates from the After*Success hooks (after the commit; a rolled-back
 * write runs the After*Error hooks instead), deletes from the delete
 * execute hook, where the messages are rendered while the record still
 * exists and are queued on the transaction, delivered on commit and
 * dropped on rollback. bs_realtime_publish is the interface between the
 * two halves (committed change in, messages out); changes committed by
 * other nodes come in through bs_realtime_publish_remote, fed by the
 * message bus (src/core/cluster.c).
 *
 * Threads. One broadcaster thread takes published changes in order,
 * decides each subscriber's rule (in memory when it depends only on the
 * record and @request.auth, otherwise one batched SQL statement per
 * change), renders the record once per group of subscribers that see
 * it alike (same options and superuser or not when nothing else depends
 * on who asks; same auth otherwise), appends frames to the queues
 * and wakes the suspended connections. The same thread sends keep-alive
 * comments and closes idle clients. A client whose queue passes its
 * bound is dropped; writers never wait for a client.
 */
#ifndef BS_REALTIME_H
#define BS_REALTIME_H

#include <sys/types.h>

#include "../http/stream.h"
#include "auth.h"
#include "record.h"

typedef struct bs_realtime bs_realtime;
typedef struct bs_rt_client bs_rt_client;

/* How a group of subscribers sees a record: the renderer's input. */
typedef struct bs_rt_view {
    const bs_auth *auth;     /* NULL for a guest */
    bool by_id;              /* a record topic (view rule), else the list
                                rule */
    json_object *query;      /* the topic's options.query (strings), or
                                NULL; borrowed */
    json_object *headers;    /* its options.headers, or NULL; borrowed */
    bool checked;            /* the rule already allowed the group (decided
                                in memory): only the options' filter is
                                left to check */
} bs_rt_view;

/* Renders rec, changed by action ("create", "update", "delete"), for one
 * group: returns a malloc'ed payload ({"record":...,"action":...}) and
 * its length in *len, or NULL when the group may not see the record.
 * Installed by the API layer; called on the broadcaster thread (create,
 * update) or inside the deleting transaction (delete). */
typedef char *(*bs_rt_render_fn)(bs_app *app, const bs_rt_view *v,
                                  const char *action, const bs_record *rec,
                                  size_t *len);

/* Creates the broker of app and binds the record hooks that publish.
 * Nothing is delivered until bs_realtime_start. NULL when out of memory. */
bs_realtime *bs_realtime_new(bs_app *app);

/* Frees the broker; it must be stopped. */
void bs_realtime_free(bs_realtime *rt);

/* Starts the broadcaster with the renderer. Returns 0 or BS_ENOMEM. */
int bs_realtime_start(bs_realtime *rt, bs_rt_render_fn render);

/* Ends every client's stream and stops the broadcaster (before the HTTP
 * server stops). Pending changes are dropped. */
void bs_realtime_stop(bs_realtime *rt);

/* Publishes one committed change: rec is copied. Any thread. */
void bs_realtime_publish(bs_realtime *rt, const char *action,
                         const bs_record *rec);

/* Publishes one change committed by another node (src/core/cluster.c):
 * action is "create", "update" or "delete" (anything else is dropped);
 * rec, built from the stored values the other node sent, is taken over.
 * Local subscribers get it with their own rule checks, expand and
 * fields options, as a local change. A delete is rendered from rec
 * after the row is gone (a local one is rendered before, inside its
 * transaction): its rules are decided in memory, and a subscriber whose
 * rule or filter option needs SQL to decide does not get it. Any
 * thread. */
void bs_realtime_publish_remote(bs_realtime *rt, const char *action,
                                bs_record *rec);

/* After the schema snapshot was reloaded for a change made on another
 * node (where the collection hooks ran): clients signed in to an auth
 * collection that s no longer has, or whose token secret changed, are
 * guests again, as the local hooks make them. Any thread. */
void bs_realtime_sync_schema(bs_realtime *rt, bs_schema *s);

/* Number of registered clients. */
size_t bs_realtime_count(bs_realtime *rt);

/* The broker's counters, for the metrics. */
typedef struct bs_realtime_stats {
    uint64_t clients;   /* registered now */
    uint64_t connects;  /* registered since the start */
    uint64_t messages;  /* messages queued for clients */
    uint64_t drops;     /* clients dropped because their queue was full */
} bs_realtime_stats;

/* Fills out (zeros for a NULL rt). Any thread. */
void bs_realtime_stats_get(bs_realtime *rt, bs_realtime_stats *out);

/* ---- clients ------------------------------------------------------------ */

/* A new client from address ip, not yet registered, with one reference
 * for the caller. NULL when out of memory. */
bs_rt_client *bs_rt_client_new(bs_realtime *rt, const char *ip);
void bs_rt_client_unref(bs_rt_client *c);
const char *bs_rt_client_id(const bs_rt_client *c);
const char *bs_rt_client_ip(const bs_rt_client *c);

/* The stream callbacks of a client (user: the client, which the stream
 * holds a reference to; take one with bs_rt_client_ref before). */
bs_rt_client *bs_rt_client_ref(bs_rt_client *c);
ssize_t bs_rt_client_read(void *user, char *buf, size_t max);
void bs_rt_client_done(void *user);

/* Registers c with its stream (the client takes the owner's reference
 * of s), its idle timeout and its maximum lifetime (0: the broker's
 * defaults, 5 and 30 minutes as in PocketBase). */
void bs_rt_client_register(bs_rt_client *c, bs_stream *s, int64_t idle_ms,
                           int64_t max_ms);

/* The registered client with this id, with a reference, or NULL. */
bs_rt_client *bs_realtime_find(bs_realtime *rt, const char *id);

/* Compares the auth attached to c with a (NULL: a guest): -1 when c has
 * none, 0 when it is the same record, 1 when another. The attached auth
 * follows its record: refreshed when the record is updated, dropped
 * (the client is a guest again) when the record is deleted or its
 * tokenKey changes. */
int bs_rt_client_auth_cmp(bs_rt_client *c, const bs_auth *a);

/* Replaces c's subscriptions with the topic strings of the array topics
 * and, when auth is given (taken over), attaches it. Returns 0 or
 * BS_ENOMEM. */
int bs_rt_client_set(bs_rt_client *c, const json_object *topics,
                     bs_auth *auth);

/* Sends one message (through the message send hook) to c. Returns 0,
 * BS_EABORT when a hook refused it with an error, or BS_ENOMEM. */
int bs_rt_client_send(bs_rt_client *c, const char *name, const char *data,
                      size_t len);

/* Ends c's stream once its queue is written. */
void bs_rt_client_close(bs_rt_client *c);

/* Sends data as event `topic` to the client with this id when it is
 * connected from ip and subscribed to topic, then removes that
 * subscription (the OAuth2 redirect hand-off). Returns whether it was
 * sent. */
bool bs_realtime_send_once(bs_realtime *rt, const char *id, const char *ip,
                           const char *topic, const char *data);

#endif
