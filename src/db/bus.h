/*
 * bus.h - a connection to a NATS server, the message bus that several
 * Basalt nodes share (src/core/cluster.c puts committed changes and
 * schema reloads on it).
 *
 * This is the one module that names libnats, and it knows nothing of
 * records: it publishes bytes on a subject and hands the bytes received
 * on one subscription (a wildcard) to a callback. It sits in src/db
 * beside the other connections to outside services (SQLite, libpq):
 * the layers above reach NATS only through this header.
 *
 * The connection never blocks its owner on the network. When the server
 * cannot be reached at open, or is lost later, the library keeps trying
 * in the background (every reconnect_ms, without end) and subscribes
 * again once connected; meanwhile bs_bus_publish refuses at once
 * (at-most-once: nothing is buffered for later).
 *
 * Threads. The callback runs on the library's delivery thread for the
 * subscription, one message at a time, in the order the server sent
 * them. bs_bus_publish and the stats may be called from any thread.
 */
#ifndef BS_BUS_H
#define BS_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "basalt.h"

typedef struct bs_bus bs_bus;

/* Receives one message: subject and len bytes of data (not NUL
 * terminated), and the subject to answer on when the sender waits for
 * an answer (bs_bus_request; NULL otherwise), all valid only during the
 * call. */
typedef void (*bs_bus_fn)(const char *subject, const char *data, size_t len,
                          const char *reply, void *user);

typedef struct bs_bus_config {
    const char *url;       /* nats://host:port (a comma list is allowed) */
    const char *name;      /* the connection's name, seen by the server */
    const char *subject;   /* subscribed (may hold wildcards), or NULL */
    bs_bus_fn on_message;
    /* Called (may be NULL) each time the connection comes up after
     * being down, or first comes up after an open that found the server
     * unreachable, once the subscription is in place again: messages
     * sent while it was down are lost, so the owner can catch up. Runs
     * on a library thread, not at the same time as on_message. */
    void (*on_connected)(void *user);
    void *user;
    int reconnect_ms;      /* wait between attempts; 0: 500 ms */
} bs_bus_config;

/* The connection's state and counters. */
typedef struct bs_bus_stats {
    bool connected;
    uint64_t disconnects;  /* times the connection was lost */
    uint64_t reconnects;   /* times it came back (or first came up late) */
} bs_bus_stats;

/* Opens the connection and the subscription. Returns 0 with *out set
 * (connected, or trying in the background when the server is down), or
 * BS_EINVAL with a message in err (a malformed URL or subject) or
 * BS_ENOMEM. Close with bs_bus_close. */
int bs_bus_open(const bs_bus_config *cfg, bs_bus **out, char *err,
                size_t errlen);

/* Publishes len bytes on subject. Returns 0 once handed to the
 * connection, BS_EIO when it is not connected now or the write fails.
 * Any thread. */
int bs_bus_publish(bs_bus *b, const char *subject, const void *data,
                   size_t len);

/* Publishes len bytes on subject and waits up to timeout_ms for the
 * first answer, appended to out. Returns 0 with an answer, BS_ENOTFOUND
 * when none came in time (nobody answers a request not meant for it),
 * BS_EIO when not connected, BS_ENOMEM. Any thread but the callback's. */
int bs_bus_request(bs_bus *b, const char *subject, const void *data,
                   size_t len, int timeout_ms, bs_buf *out);

/* Receives one answer to bs_bus_gather (len bytes, not NUL terminated,
 * valid only during the call); returns false when no more are wanted. */
typedef bool (*bs_bus_answer_fn)(const char *data, size_t len, void *user);

/* Publishes len bytes on subject with a reply subject of its own and
 * hands each answer to on_answer, in the order they come, until it
 * returns false or timeout_ms have passed. Returns 0 (whether or not
 * any answer came), BS_EIO when not connected or the publish fails,
 * BS_ENOMEM. Any thread but the callback's. */
int bs_bus_gather(bs_bus *b, const char *subject, const void *data,
                  size_t len, int timeout_ms, bs_bus_answer_fn on_answer,
                  void *user);

/* Fills out. Any thread. */
void bs_bus_stats_get(bs_bus *b, bs_bus_stats *out);

/* Unsubscribes, closes the connection and waits for the callback to
 * return; no callback runs after it. NULL is a no-op. */
void bs_bus_close(bs_bus *b);

#endif
