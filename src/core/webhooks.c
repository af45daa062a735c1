/*
 * webhooks.c - the webhooks model: the tables, the in-memory list of
 * active webhooks, the outbox rows written inside record transactions,
 * the sender's life cycle and counters (see webhooks.h; the operations
 * behind /api/webhooks are in webhook_admin.c).
 *
 * Writing the outbox. The record execute hooks (create, update,
 * delete) are bound at a late priority, so they run inside every
 * handler of the embedding program or the JavaScript hooks, next to the
 * SQL itself. For a create or an update the change is executed first,
 * then each matching webhook's filter is tested against the stored row
 * (the writer connection sees the transaction's own writes) and a
 * delivery row inserted; for a delete the filter is tested and the row
 * inserted before the record goes. Any failure fails the save: a change
 * is never committed without its deliveries.
 */
#include "webhooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../db/sql.h"
#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/rows.h"
#include "app.h"
#include "events.h"
#include "record.h"
#include "rules.h"
#include "tx.h"
#include "webhook_internal.h"
#include "webhook_sender.h"

enum { EV_CREATE = 1, EV_UPDATE = 2, EV_DELETE = 4 };

const char *const bs_wh_event_names[3] = {"create", "update", "delete"};

/* One active webhook, as the write path needs it. */
typedef struct wh_entry {
    char id[16];
    char *collection_id;
    char *filter; /* NULL when none */
    unsigned events;
} wh_entry;

struct bs_webhooks {
    bs_app *app;
    pthread_mutex_t lock; /* guards items and n */
    wh_entry *items;
    int n;
    atomic_int nactive; /* n, read without the lock */
    bs_wh_sender *sender; /* while serving; guarded by sender_lock */
    pthread_mutex_t sender_lock;
    atomic_uint_fast64_t delivered, attempts_failed, failed;
    atomic_int_fast64_t pending;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS `_webhooks` ("
    "`id` TEXT PRIMARY KEY NOT NULL,"
    "`collectionId` TEXT NOT NULL,"
    "`events` JSON DEFAULT '[]' NOT NULL,"
    "`url` TEXT NOT NULL,"
    "`filter` TEXT DEFAULT '' NOT NULL,"
    "`secret` TEXT DEFAULT '' NOT NULL,"
    "`active` BOOLEAN DEFAULT TRUE NOT NULL,"
    "`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,"
    "`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL);"
    "CREATE TABLE IF NOT EXISTS `_webhookDeliveries` ("
    "`id` TEXT PRIMARY KEY NOT NULL,"
    "`webhookId` TEXT NOT NULL,"
    "`collectionId` TEXT NOT NULL,"
    "`recordId` TEXT NOT NULL,"
    "`action` TEXT NOT NULL,"
    "`body` TEXT NOT NULL,"
    "`status` TEXT DEFAULT 'pending' NOT NULL,"
    "`attempts` INTEGER DEFAULT 0 NOT NULL,"
    "`nextAttempt` INTEGER DEFAULT 0 NOT NULL,"
    "`lastCode` INTEGER DEFAULT 0 NOT NULL,"
    "`lastError` TEXT DEFAULT '' NOT NULL,"
    "`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,"
    "`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL);"
    "CREATE INDEX IF NOT EXISTS idx__webhookDeliveries_due ON "
    "`_webhookDeliveries` (`status`, `nextAttempt`);"
    "CREATE INDEX IF NOT EXISTS idx__webhookDeliveries_webhook ON "
    "`_webhookDeliveries` (`webhookId`, `created`);";

int bs_wh_create_tables(bs_conn *c)
{
    return bs_conn_exec(c, SCHEMA, NULL);
}

bool bs_wh_have_tables(bs_conn *c)
{
    return bs_sql_has_table(c, "_webhookDeliveries", false);
}

int64_t bs_wh_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

unsigned bs_wh_events_mask(const char *json_text)
{
    unsigned m = 0;
    for (int i = 0; i < 3; i++) {
        char quoted[16];
        snprintf(quoted, sizeof quoted, "\"%s\"", bs_wh_event_names[i]);
        if (json_text && strstr(json_text, quoted))
            m |= 1u << i;
    }
    return m;
}

/* ---- the in-memory list --------------------------------------------------- */

static void entries_free(wh_entry *items, int n)
{
    for (int i = 0; i < n; i++) {
        free(items[i].collection_id);
        free(items[i].filter);
    }
    free(items);
}

int bs_webhooks_reload(bs_app *app)
{
    bs_webhooks *w = app->webhooks;
    if (!w || !app->store)
        return 0;
    wh_entry *items = NULL;
    int n = 0, cap = 0, rc = 0;
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_rows st;
    st = (bs_rows){0};
    if (!bs_wh_have_tables(c))
        rc = 1; /* none yet */
    else
        rc = bs_rows_open(&st, c,
                          "SELECT id, collectionId, events, filter FROM "
                          "_webhooks WHERE active ORDER BY created, id",
                          -1, BS_ROWS_FIXED);
    while (rc == 0 && (rc = bs_rows_next(&st)) == 1) {
        rc = 0;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            wh_entry *tmp = realloc(items, sizeof *items * (size_t)cap);
            if (!tmp) {
                rc = BS_ENOMEM;
                break;
            }
            items = tmp;
        }
        wh_entry *e = &items[n];
        memset(e, 0, sizeof *e);
        snprintf(e->id, sizeof e->id, "%s", bs_rows_text(&st, 0, NULL));
        e->collection_id = strdup(bs_rows_text(&st, 1, NULL));
        e->events = bs_wh_events_mask(bs_rows_text(&st, 2, NULL));
        const char *f = bs_rows_text(&st, 3, NULL);
        e->filter = f && *f ? strdup(f) : NULL;
        n++;
        if (!e->collection_id) {
            rc = BS_ENOMEM;
            break;
        }
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, c);
    if (rc < 0) {
        entries_free(items, n);
        return rc;
    }
    pthread_mutex_lock(&w->lock);
    wh_entry *old = w->items;
    int old_n = w->n;
    w->items = items;
    w->n = n;
    atomic_store(&w->nactive, n);
    pthread_mutex_unlock(&w->lock);
    entries_free(old, old_n);
    return 0;
}

/* Copies the entries for the collection and event (caller frees with
 * entries_free). */
static wh_entry *entries_for(bs_webhooks *w, const char *collection_id,
                             unsigned ev, int *count)
{
    *count = 0;
    pthread_mutex_lock(&w->lock);
    wh_entry *out = NULL;
    int k = 0;
    for (int i = 0; i < w->n; i++) {
        const wh_entry *e = &w->items[i];
        if (!(e->events & ev) || strcmp(e->collection_id, collection_id))
            continue;
        wh_entry *tmp = realloc(out, sizeof *out * (size_t)(k + 1));
        if (!tmp)
            break;
        out = tmp;
        out[k] = *e;
        out[k].collection_id = strdup(e->collection_id);
        out[k].filter = e->filter ? strdup(e->filter) : NULL;
        k++;
    }
    pthread_mutex_unlock(&w->lock);
    *count = k;
    return out;
}

/* ---- the outbox ----------------------------------------------------------- */

/* Whether filter selects the stored record, as a rule with no auth. */
static bool filter_selects(bs_app *app, const bs_record *r, const char *filter)
{
    json_object *info = bs_rules_request_info_of(NULL, NULL, NULL, "GET",
                                                 "default");
    bs_rule_ctx ctx = {.app = app,
                       .schema = r->schema,
                       .collection = r->collection,
                       .alias = r->collection->name,
                       .request = info};
    bs_error err;
    bs_error_init(&err);
    int rc = bs_rules_find_record(&ctx, bs_record_id(r), filter, NULL, &err);
    bs_error_dispose(&err);
    json_object_put(info);
    return rc == 0;
}

void bs_wh_wake_after(bs_app *app, void *data, bool committed)
{
    (void)data;
    if (committed)
        bs_webhooks_wake(app);
}

/* Writes a delivery row per matching webhook for the change of r. */
static int enqueue(bs_webhooks *w, bs_record_event *re, unsigned ev,
                   const char *action)
{
    bs_record *r = re->record;
    int n = 0;
    wh_entry *hits = entries_for(w, r->collection->id, ev, &n);
    if (!n)
        return 0;
    bs_app *app = w->app;
    bs_conn *conn = bs_tx_conn(re->tx);
    bs_buf rec, body;
    bs_buf_init(&rec);
    bs_buf_init(&body);
    bool unhide = r->unhide, visible = r->ignore_email_visibility;
    r->unhide = r->ignore_email_visibility = true;
    bs_record_write_json(r, &rec);
    r->unhide = unhide;
    r->ignore_email_visibility = visible;
    char now[25];
    bs_now_str(now);
    int64_t due = bs_wh_wall_ms();
    int rc = rec.oom ? BS_ENOMEM : 0, written = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (hits[i].filter && !filter_selects(app, r, hits[i].filter))
            continue;
        char id[16];
        bs_random_id(id);
        bs_buf_reset(&body);
        bs_buf_puts(&body, "{\"id\":");
        bs_buf_json_str(&body, id, strlen(id));
        bs_buf_puts(&body, ",\"webhook\":");
        bs_buf_json_str(&body, hits[i].id, strlen(hits[i].id));
        bs_buf_puts(&body, ",\"collection\":");
        bs_buf_json_str(&body, r->collection->name,
                        strlen(r->collection->name));
        bs_buf_printf(&body, ",\"action\":\"%s\",\"record\":", action);
        bs_buf_append(&body, rec.data, rec.len);
        bs_buf_puts(&body, ",\"created\":");
        bs_buf_json_str(&body, now, strlen(now));
        bs_buf_putc(&body, '}');
        if (body.oom) {
            rc = BS_ENOMEM;
            break;
        }
        bs_rows st;
        rc = bs_rows_open(
            &st, conn,
            "INSERT INTO _webhookDeliveries (id, webhookId, collectionId, "
            "recordId, action, body, status, attempts, nextAttempt, created, "
            "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8, "
            "?8)",
            -1, BS_ROWS_FIXED);
        if (rc == 0) {
            bs_rows_bind_text(&st, 1, id, -1);
            bs_rows_bind_text(&st, 2, hits[i].id, -1);
            bs_rows_bind_text(&st, 3, r->collection->id, -1);
            bs_rows_bind_text(&st, 4, bs_record_id(r), -1);
            bs_rows_bind_text(&st, 5, action, -1);
            bs_rows_bind_text(&st, 6, body.data, (long)body.len);
            bs_rows_bind_int(&st, 7, due);
            bs_rows_bind_text(&st, 8, now, -1);
            rc = bs_rows_exec(&st) == 1 ? 0 : BS_EDB;
        }
        if (rc)
            bs_log('E', "webhook outbox insert failed: %s",
                   bs_conn_errmsg(conn));
        bs_rows_close(&st);
        written++;
    }
    if (rc == 0 && written)
        rc = bs_tx_after(re->tx, bs_wh_wake_after, NULL, NULL);
    bs_buf_dispose(&rec);
    bs_buf_dispose(&body);
    entries_free(hits, n);
    return rc;
}

static int after_execute(bs_event *e, void *user, unsigned ev,
                         const char *action)
{
    bs_webhooks *w = user;
    bs_record_event *re = (bs_record_event *)e;
    int rc = bs_event_next(e);
    if (rc || !re->tx || atomic_load(&w->nactive) == 0)
        return rc;
    return enqueue(w, re, ev, action);
}

static int on_create_execute(bs_event *e, void *user)
{
    return after_execute(e, user, EV_CREATE, "create");
}

static int on_update_execute(bs_event *e, void *user)
{
    return after_execute(e, user, EV_UPDATE, "update");
}

/* A delete's filter is tested while the row is still there. */
static int on_delete_execute(bs_event *e, void *user)
{
    bs_webhooks *w = user;
    bs_record_event *re = (bs_record_event *)e;
    if (re->tx && atomic_load(&w->nactive) > 0) {
        int rc = enqueue(w, re, EV_DELETE, "delete");
        if (rc)
            return rc;
    }
    return bs_event_next(e);
}

bs_webhooks *bs_webhooks_new(bs_app *app)
{
    bs_webhooks *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->app = app;
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->sender_lock, NULL);
    /* Late priorities: inside the program's own execute handlers, next
     * to the SQL. */
    bs_handler created = {.id = "basaltWebhooksCreate", .priority = 100,
                          .fn = on_create_execute, .user = w};
    bs_handler updated = {.id = "basaltWebhooksUpdate", .priority = 100,
                          .fn = on_update_execute, .user = w};
    bs_handler deleted = {.id = "basaltWebhooksDelete", .priority = 100,
                          .fn = on_delete_execute, .user = w};
    if (bs_hook_bind(app->hooks[BS_ON_RECORD_CREATE_EXECUTE], &created) ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_UPDATE_EXECUTE], &updated) ||
        bs_hook_bind(app->hooks[BS_ON_RECORD_DELETE_EXECUTE], &deleted)) {
        bs_webhooks_free(w);
        return NULL;
    }
    return w;
}

void bs_webhooks_free(bs_webhooks *w)
{
    if (!w)
        return;
    entries_free(w->items, w->n);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->sender_lock);
    free(w);
}

/* ---- the sender's hand-offs -------------------------------------------- */

int bs_webhooks_start(bs_app *app)
{
    bs_webhooks *w = app->webhooks;
    if (!w)
        return 0;
    pthread_mutex_lock(&w->sender_lock);
    int rc = 0;
    if (!w->sender) {
        w->sender = bs_wh_sender_start(app);
        rc = w->sender ? 0 : BS_ENOMEM;
    }
    pthread_mutex_unlock(&w->sender_lock);
    return rc;
}

void bs_webhooks_stop(bs_app *app)
{
    bs_webhooks *w = app->webhooks;
    if (!w)
        return;
    pthread_mutex_lock(&w->sender_lock);
    bs_wh_sender *s = w->sender;
    w->sender = NULL;
    pthread_mutex_unlock(&w->sender_lock);
    bs_wh_sender_stop(s);
}

void bs_webhooks_wake(bs_app *app)
{
    bs_webhooks *w = app->webhooks;
    if (!w)
        return;
    pthread_mutex_lock(&w->sender_lock);
    if (w->sender)
        bs_wh_sender_wake(w->sender);
    pthread_mutex_unlock(&w->sender_lock);
}

void bs_webhooks_count(bs_app *app, bs_wh_outcome outcome)
{
    bs_webhooks *w = app->webhooks;
    if (!w)
        return;
    if (outcome == BS_WH_DELIVERED) {
        atomic_fetch_add(&w->delivered, 1);
        return;
    }
    atomic_fetch_add(&w->attempts_failed, 1);
    if (outcome == BS_WH_FAILED)
        atomic_fetch_add(&w->failed, 1);
}

void bs_webhooks_set_pending(bs_app *app, int64_t pending)
{
    if (app->webhooks)
        atomic_store(&app->webhooks->pending, pending);
}

void bs_webhooks_stats_get(bs_app *app, bs_webhooks_stats *out)
{
    memset(out, 0, sizeof *out);
    bs_webhooks *w = app->webhooks;
    if (!w)
        return;
    out->delivered = atomic_load(&w->delivered);
    out->attempts_failed = atomic_load(&w->attempts_failed);
    out->failed = atomic_load(&w->failed);
    out->pending = atomic_load(&w->pending);
}
