/*
 * bus.c - the NATS connection (see bus.h), on libnats.
 *
 * One natsConnection with one asynchronous subscription. The library
 * runs its own threads: a reader, a flusher, and the subscription's
 * delivery thread that calls on_message. Reconnection is the library's:
 * a connection that cannot be made at open is retried like a lost one
 * (natsOptions_SetRetryOnFailedConnect), without a limit on attempts,
 * and the subscription is sent again on every reconnect. The reconnect
 * buffer is not relied on: bs_bus_publish looks at the connection's
 * status first and refuses while it is not connected, so a message is
 * either on its way to the server or reported as failed.
 *
 * Closing: the callback runs under cb_lock and returns at once once
 * `closing` is set, so bs_bus_close waits for a callback in progress and
 * none starts after it. The library may still call the handlers on its
 * own threads after natsConnection_Close returns (the disconnected and
 * closed callbacks, the subscription's last delivery), so close waits
 * for the closed callback and the subscription's completion callback
 * (at most two seconds each) before the memory goes.
 */
#include "bus.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/util.h"

struct bs_bus {
    natsOptions *opts;
    natsConnection *nc;
    natsSubscription *sub;
    bs_bus_fn on_message;
    void (*on_connected)(void *user);
    void *user;
    pthread_mutex_t cb_lock;
    bool closing;                  /* guarded by cb_lock */
    pthread_cond_t ended;          /* signalled with cb_lock held: */
    bool conn_closed;              /* the closed callback has run */
    bool sub_done;                 /* the subscription has completed */
    _Atomic uint64_t disconnects;
    _Atomic uint64_t reconnects;
};

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                   void *closure)
{
    bs_bus *b = closure;
    (void)nc;
    (void)sub;
    pthread_mutex_lock(&b->cb_lock);
    if (!b->closing && b->on_message) {
        const char *data = natsMsg_GetData(msg);
        int len = natsMsg_GetDataLength(msg);
        b->on_message(natsMsg_GetSubject(msg), data ? data : "",
                      len > 0 ? (size_t)len : 0, natsMsg_GetReply(msg),
                      b->user);
    }
    pthread_mutex_unlock(&b->cb_lock);
    natsMsg_Destroy(msg);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
    bs_bus *b = closure;
    (void)nc;
    atomic_fetch_add(&b->disconnects, 1);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    bs_bus *b = closure;
    (void)nc;
    atomic_fetch_add(&b->reconnects, 1);
    pthread_mutex_lock(&b->cb_lock);
    if (!b->closing && b->on_connected)
        b->on_connected(b->user);
    pthread_mutex_unlock(&b->cb_lock);
}

static void on_closed(natsConnection *nc, void *closure)
{
    bs_bus *b = closure;
    (void)nc;
    pthread_mutex_lock(&b->cb_lock);
    b->conn_closed = true;
    pthread_cond_broadcast(&b->ended);
    pthread_mutex_unlock(&b->cb_lock);
}

static void on_sub_done(void *closure)
{
    bs_bus *b = closure;
    pthread_mutex_lock(&b->cb_lock);
    b->sub_done = true;
    pthread_cond_broadcast(&b->ended);
    pthread_mutex_unlock(&b->cb_lock);
}

static void on_error(natsConnection *nc, natsSubscription *sub,
                     natsStatus s, void *closure)
{
    (void)nc;
    (void)sub;
    (void)closure;
    bs_log('W', "NATS: %s", natsStatus_GetText(s));
}

static int failed(natsStatus s, const char *what, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, natsStatus_GetText(s));
    return s == NATS_NO_MEMORY ? BS_ENOMEM : BS_EINVAL;
}

int bs_bus_open(const bs_bus_config *cfg, bs_bus **out, char *err,
                size_t errlen)
{
    *out = NULL;
    bs_bus *b = calloc(1, sizeof *b);
    if (!b)
        return BS_ENOMEM;
    pthread_mutex_init(&b->cb_lock, NULL);
    bs_cond_init_monotonic(&b->ended);
    b->on_message = cfg->on_message;
    b->on_connected = cfg->on_connected;
    b->user = cfg->user;
    int wait = cfg->reconnect_ms > 0 ? cfg->reconnect_ms : 500;
    int rc = 0;
    natsStatus s = natsOptions_Create(&b->opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(b->opts, cfg->url);
    if (s != NATS_OK) {
        rc = failed(s, "the NATS URL", err, errlen);
        goto end;
    }
    if (cfg->name)
        s = natsOptions_SetName(b->opts, cfg->name);
    if (s == NATS_OK)
        s = natsOptions_SetAllowReconnect(b->opts, true);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(b->opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(b->opts, wait);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(b->opts, 2000);
    /* A node has no use for its own messages. */
    if (s == NATS_OK)
        s = natsOptions_SetNoEcho(b->opts, true);
    if (s == NATS_OK)
        s = natsOptions_SetRetryOnFailedConnect(b->opts, true,
                                                on_reconnected, b);
    if (s == NATS_OK)
        s = natsOptions_SetDisconnectedCB(b->opts, on_disconnected, b);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectedCB(b->opts, on_reconnected, b);
    if (s == NATS_OK)
        s = natsOptions_SetClosedCB(b->opts, on_closed, b);
    if (s == NATS_OK)
        s = natsOptions_SetErrorHandler(b->opts, on_error, b);
    if (s != NATS_OK) {
        rc = failed(s, "NATS options", err, errlen);
        goto end;
    }
    s = natsConnection_Connect(&b->nc, b->opts);
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        rc = failed(s, "NATS connect", err, errlen);
        goto end;
    }
    if (s == NATS_NOT_YET_CONNECTED)
        bs_log('W', "NATS at %s is not reachable; retrying every %d ms",
               cfg->url, wait);
    if (cfg->subject) {
        s = natsConnection_Subscribe(&b->sub, b->nc, cfg->subject, on_msg,
                                     b);
        if (s != NATS_OK) {
            rc = failed(s, "NATS subscribe", err, errlen);
            goto end;
        }
        natsSubscription_SetOnCompleteCB(b->sub, on_sub_done, b);
        /* A burst of changes waits in the library rather than being
         * dropped as a slow consumer: 64k messages or 256 MB. */
        natsSubscription_SetPendingLimits(b->sub, 65536, 256 << 20);
        /* Once this returns the server has the subscription (when
         * connected): what is published after it reaches this node. */
        if (s == NATS_OK && natsConnection_Status(b->nc) ==
                                NATS_CONN_STATUS_CONNECTED)
            natsConnection_FlushTimeout(b->nc, 2000);
    }
    *out = b;
end:
    if (rc)
        bs_bus_close(b);
    return rc;
}

/* Whether len bytes can be sent now: 0, BS_EIO when not connected,
 * BS_EINVAL when too long. */
static int can_send(const bs_bus *b, size_t len)
{
    if (!b || !b->nc ||
        natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED)
        return BS_EIO;
    return len > (size_t)1 << 30 ? BS_EINVAL : 0;
}

int bs_bus_publish(bs_bus *b, const char *subject, const void *data,
                   size_t len)
{
    int rc = can_send(b, len);
    if (rc)
        return rc;
    natsStatus s = natsConnection_Publish(b->nc, subject, data, (int)len);
    return s == NATS_OK ? 0 : BS_EIO;
}

int bs_bus_request(bs_bus *b, const char *subject, const void *data,
                   size_t len, int timeout_ms, bs_buf *out)
{
    int rc = can_send(b, len);
    if (rc)
        return rc;
    natsMsg *reply = NULL;
    natsStatus s = natsConnection_Request(&reply, b->nc, subject, data,
                                          (int)len, timeout_ms);
    if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS)
        return BS_ENOTFOUND;
    if (s != NATS_OK)
        return s == NATS_NO_MEMORY ? BS_ENOMEM : BS_EIO;
    int n = natsMsg_GetDataLength(reply);
    if (n > 0)
        bs_buf_append(out, natsMsg_GetData(reply), (size_t)n);
    natsMsg_Destroy(reply);
    return out->oom ? BS_ENOMEM : 0;
}

int bs_bus_gather(bs_bus *b, const char *subject, const void *data,
                  size_t len, int timeout_ms, bs_bus_answer_fn on_answer,
                  void *user)
{
    int rc = can_send(b, len);
    if (rc)
        return rc;
    natsInbox *inbox = NULL;
    natsSubscription *sub = NULL;
    /* The SUB goes out on the connection before the PUB: the server has
     * the reply subject before anyone can answer. */
    natsStatus s = natsInbox_Create(&inbox);
    if (s == NATS_OK)
        s = natsConnection_SubscribeSync(&sub, b->nc, inbox);
    if (s == NATS_OK)
        s = natsConnection_PublishRequest(b->nc, subject, inbox, data,
                                          (int)len);
    rc = s == NATS_OK ? 0 : s == NATS_NO_MEMORY ? BS_ENOMEM : BS_EIO;
    int64_t deadline = bs_mono_ms() + timeout_ms;
    while (rc == 0) {
        int64_t left = deadline - bs_mono_ms();
        if (left <= 0)
            break;
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, left) != NATS_OK)
            break; /* the time is up (or the connection went) */
        int n = natsMsg_GetDataLength(m);
        const char *d = natsMsg_GetData(m);
        bool more = on_answer(d ? d : "", n > 0 ? (size_t)n : 0, user);
        natsMsg_Destroy(m);
        if (!more)
            break;
    }
    if (sub) {
        natsSubscription_Unsubscribe(sub);
        natsSubscription_Destroy(sub);
    }
    natsInbox_Destroy(inbox);
    return rc;
}

void bs_bus_stats_get(bs_bus *b, bs_bus_stats *out)
{
    *out = (bs_bus_stats){0};
    if (!b)
        return;
    out->connected = b->nc && natsConnection_Status(b->nc) ==
                                  NATS_CONN_STATUS_CONNECTED;
    out->disconnects = atomic_load(&b->disconnects);
    out->reconnects = atomic_load(&b->reconnects);
}

/* Waits (cb_lock held) until *flag is set, at most two seconds. */
static void wait_for(bs_bus *b, const bool *flag)
{
    struct timespec ts;
    bs_mono_deadline(&ts, 2000);
    while (!*flag &&
           pthread_cond_timedwait(&b->ended, &b->cb_lock, &ts) == 0) {
    }
}

void bs_bus_close(bs_bus *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->cb_lock);
    b->closing = true;
    pthread_mutex_unlock(&b->cb_lock);
    if (b->sub)
        natsSubscription_Unsubscribe(b->sub);
    if (b->nc)
        natsConnection_Close(b->nc);
    pthread_mutex_lock(&b->cb_lock);
    if (b->sub)
        wait_for(b, &b->sub_done);
    if (b->nc)
        wait_for(b, &b->conn_closed);
    pthread_mutex_unlock(&b->cb_lock);
    natsSubscription_Destroy(b->sub);
    natsConnection_Destroy(b->nc);
    natsOptions_Destroy(b->opts);
    pthread_cond_destroy(&b->ended);
    pthread_mutex_destroy(&b->cb_lock);
    free(b);
}
