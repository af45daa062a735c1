/*
 * webhook_internal.h - what the webhooks' files share (webhooks.c,
 * webhook_admin.c, webhook_sender.c); not for other modules.
 */
#ifndef BS_WEBHOOK_INTERNAL_H
#define BS_WEBHOOK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../db/store.h"
#include "basalt.h"

/* The events' names by bit: 1 create, 2 update, 4 delete. */
extern const char *const bs_wh_event_names[3];

/* The event bits named in a JSON array's text (as stored). */
unsigned bs_wh_events_mask(const char *json_text);

/* Whether the tables exist; they are created with the first webhook, on
 * the writer inside its transaction (bs_wh_create_tables: 0 or a
 * negative code). */
bool bs_wh_have_tables(bs_conn *c);
int bs_wh_create_tables(bs_conn *c);

/* Unix time in milliseconds (the outbox's due times survive restarts). */
int64_t bs_wh_wall_ms(void);

/* An after-commit callback (bs_tx_after) that wakes the sender. */
void bs_wh_wake_after(bs_app *app, void *data, bool committed);

#endif
