/*
 * webhook_sender.h - the webhooks' delivery thread (internal to
 * src/core; the app reaches it through webhooks.h).
 */
#ifndef BS_WEBHOOK_SENDER_H
#define BS_WEBHOOK_SENDER_H

#include <stdint.h>

#include "basalt.h"

typedef struct bs_wh_sender bs_wh_sender;

/* Starts the thread; NULL when it could not. */
bs_wh_sender *bs_wh_sender_start(bs_app *app);

/* Stops and joins the thread, abandoning the requests in flight (their
 * rows stay pending). NULL is ignored. */
void bs_wh_sender_stop(bs_wh_sender *s);

/* Wakes the thread from its wait. Any thread. */
void bs_wh_sender_wake(bs_wh_sender *s);

/* What became of one attempt, for the counters kept by webhooks.c. */
typedef enum bs_wh_outcome {
    BS_WH_DELIVERED,
    BS_WH_RETRY,  /* failed; another attempt is due later */
    BS_WH_FAILED  /* failed for the last time */
} bs_wh_outcome;
void bs_webhooks_count(bs_app *app, bs_wh_outcome outcome);

/* The pending rows as of the sender's last count. */
void bs_webhooks_set_pending(bs_app *app, int64_t pending);

#endif
