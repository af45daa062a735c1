/*
 * webhooks.h - webhooks: HTTP callbacks on record changes, delivered
 * from a durable outbox (a Basalt extension; see docs/webhooks.md).
 *
 * The model. A webhook (`_webhooks` in data.db) names a collection, the
 * events it wants (create, update, delete), a URL, an optional filter
 * in the rule language, a secret and whether it is active. When a
 * record change matches an active webhook, a delivery row
 * (`_webhookDeliveries`, the outbox) is inserted by the record's
 * execute hook, on the writer connection, inside the transaction (and
 * the group-commit savepoint) of the change: it commits or rolls back
 * with the change, whoever made it. The row holds the whole request
 * body, so a retry sends the same bytes.
 *
 * The sender (webhook_sender.c) is one thread, started while serving:
 * it reads due rows, posts them with libcurl's multi interface (a few
 * at a time), and records each outcome. It is woken after every commit
 * that wrote a delivery, and polls for due retries.
 *
 * The active webhooks are kept in memory (reloaded when the API
 * changes them, and with the other snapshots), so a write to a
 * collection without webhooks costs one atomic load.
 */
#ifndef BS_WEBHOOKS_H
#define BS_WEBHOOKS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../db/store.h"
#include "basalt.h"

typedef struct bs_webhooks bs_webhooks;

/* Created with the app (binds the record execute hooks); freed with it
 * (the sender must have been stopped). */
bs_webhooks *bs_webhooks_new(bs_app *app);
void bs_webhooks_free(bs_webhooks *w);

/* The two tables are created with the first webhook (not at start-up,
 * so a PocketBase directory that never has one is left as it was);
 * until then every reading finds nothing. */

/* Reads the webhooks from data.db into memory. Any thread. */
int bs_webhooks_reload(bs_app *app);

/* ---- the API's operations (superusers) ---------------------------------- */

/* A page of webhooks, newest first: {page, perPage, totalItems,
 * totalPages, items}. Returns 0 or BS_EDB. */
int bs_webhooks_list(bs_app *app, int64_t page, int64_t per_page,
                     json_object **out);

/* One webhook as the API shows it; BS_ENOTFOUND. */
int bs_webhooks_find(bs_app *app, const char *id, json_object **out);

/* Creates (id NULL) or updates the webhook from body (the fields given;
 * on create the missing ones take their defaults). Returns 0 with the
 * saved webhook in *out, BS_ENOTFOUND, or BS_EHTTP with a 400 and
 * per-field errors in err. */
int bs_webhooks_save(bs_app *app, const char *id, const json_object *body,
                     json_object **out, bs_error *err);

/* Deletes the webhook and its deliveries; BS_ENOTFOUND. */
int bs_webhooks_delete(bs_app *app, const char *id);

/* A page of the webhook's deliveries, newest first; status ("pending",
 * "delivered", "failed", or NULL/"" for all) narrows it. Returns 0,
 * BS_ENOTFOUND (no such webhook) or BS_EDB. */
int bs_webhooks_deliveries(bs_app *app, const char *webhook_id,
                           const char *status, int64_t page,
                           int64_t per_page, json_object **out);

/* Queues a failed delivery again (attempts start over). Returns 0,
 * BS_ENOTFOUND, or BS_EHTTP with a 400 when it has not failed. */
int bs_webhooks_retry(bs_app *app, const char *webhook_id,
                      const char *delivery_id, bs_error *err);

/* Deletes delivered rows older than keep_days and failed ones older
 * than four times that. Returns the rows deleted or a negative code. */
int bs_webhooks_cleanup(bs_app *app, int keep_days);

/* ---- the sender (webhook_sender.c) --------------------------------------- */

/* Starts and stops the delivery thread (while serving). Stop lets the
 * requests in flight go: their rows stay pending and are sent again by
 * the next start. */
int bs_webhooks_start(bs_app *app);
void bs_webhooks_stop(bs_app *app);

/* Wakes the sender: a delivery was committed. Any thread. */
void bs_webhooks_wake(bs_app *app);

/* Counters for the metrics. */
typedef struct bs_webhooks_stats {
    uint64_t delivered; /* deliveries acknowledged with a 2xx */
    uint64_t attempts_failed; /* attempts that got no 2xx */
    uint64_t failed;    /* deliveries given up after the last attempt */
    int64_t pending;    /* rows waiting, as of the sender's last look */
} bs_webhooks_stats;
void bs_webhooks_stats_get(bs_app *app, bs_webhooks_stats *out);

/* The signature header's value: lower-case hex of HMAC-SHA256 with
 * secret as the key over "<timestamp>.<body>". out holds 65 bytes. */
void bs_webhook_sign(const char *secret, int64_t timestamp, const char *body,
                     size_t body_len, char out[65]);

/* The delay before attempt number `attempt` + 1, after `attempt`
 * failed ones (1 or more): base_ms * 2^(attempt-1), capped at an hour,
 * then jittered down by up to half, using r (any value; a random
 * number). */
int64_t bs_webhook_backoff_ms(int64_t base_ms, int attempt, uint32_t r);

#endif
