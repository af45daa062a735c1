/*
 * webhooks.c - the webhooks model: the tables, the in-memory list of
 * active webhooks, the outbox rows written inside record transactions,
 * and the operations behind /api/webhooks (see webhooks.h).
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

#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/rows.h"
#include "app.h"
#include "events.h"
#include "record.h"
#include "rules.h"
#include "tx.h"
#include "webhook_sender.h"

enum { EV_CREATE = 1, EV_UPDATE = 2, EV_DELETE = 4 };

static const char *const EVENT_NAMES[] = {"create", "update", "delete"};

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

/* Whether the tables exist (they are made with the first webhook). */
static bool have_tables(bs_conn *c)
{
    int64_t one = 0;
    return bs_conn_query_int(c,
                             "SELECT 1 FROM sqlite_master WHERE type = "
                             "'table' AND name = '_webhookDeliveries'",
                             -1, BS_ROWS_FIXED, NULL, &one) == 1;
}

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static unsigned events_mask(const char *json_text)
{
    unsigned m = 0;
    for (int i = 0; i < 3; i++) {
        char quoted[16];
        snprintf(quoted, sizeof quoted, "\"%s\"", EVENT_NAMES[i]);
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
    st.st = NULL;
    if (!have_tables(c))
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
        e->events = events_mask(bs_rows_text(&st, 2, NULL));
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

static void wake_after(bs_app *app, void *data, bool committed)
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
    int64_t due = wall_ms();
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
        rc = bs_tx_after(re->tx, wake_after, NULL, NULL);
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

/* ---- the API's operations -------------------------------------------------- */

/* Adds column i of the row as a string (or an integer) under key. */
static void put_text(json_object *o, const char *key, const bs_rows *st, int i)
{
    const char *v = bs_rows_text(st, i, NULL);
    json_object_object_add(o, key, json_object_new_string(v ? v : ""));
}

static void put_int(json_object *o, const char *key, const bs_rows *st, int i)
{
    json_object_object_add(o, key, json_object_new_int64(bs_rows_int(st, i)));
}

/* A row of WEBHOOK_COLUMNS as the API shows it. */
static json_object *webhook_json(bs_app *app, const bs_rows *st)
{
    json_object *o = json_object_new_object();
    const char *cid = bs_rows_text(st, 1, NULL);
    put_text(o, "id", st, 0);
    put_text(o, "collection", st, 1);
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = s && cid ? bs_schema_find(s, cid) : NULL;
    json_object_object_add(o, "collectionName",
                           json_object_new_string(c ? c->name : ""));
    bs_schema_unref(s);
    json_object *events = json_object_new_array();
    unsigned m = events_mask(bs_rows_text(st, 2, NULL));
    for (int i = 0; i < 3; i++)
        if (m & (1u << i))
            json_object_array_add(events,
                                  json_object_new_string(EVENT_NAMES[i]));
    json_object_object_add(o, "events", events);
    put_text(o, "url", st, 3);
    put_text(o, "filter", st, 4);
    put_text(o, "secret", st, 5);
    json_object_object_add(o, "active",
                           json_object_new_boolean(bs_rows_int(st, 6) != 0));
    put_text(o, "created", st, 7);
    put_text(o, "updated", st, 8);
    return o;
}

#define WEBHOOK_COLUMNS                                                       \
    "id, collectionId, events, url, filter, secret, active, created, updated"

/* Runs count_sql (one ?1 at most: arg) and page_sql (with ?1 the same
 * arg, LIMIT and OFFSET appended) into a PocketBase list page, rows
 * turned into items by to_json. */
static int list_page(bs_app *app, const char *count_sql, const char *page_sql,
                     const char *arg, const char *arg2, int64_t page,
                     int64_t per_page,
                     json_object *(*to_json)(bs_app *, const bs_rows *),
                     json_object **out)
{
    *out = NULL;
    bs_conn *c = bs_store_reader_acquire(app->store);
    int64_t total = 0;
    bs_rows st;
    st.st = NULL;
    bool empty = !have_tables(c);
    int rc = empty ? 0 : bs_rows_open(&st, c, count_sql, -1, BS_ROWS_ONCE);
    if (rc == 0 && !empty) {
        if (arg)
            bs_rows_bind_text(&st, 1, arg, -1);
        if (arg2)
            bs_rows_bind_text(&st, 2, arg2, -1);
        if (bs_rows_next(&st) == 1)
            total = bs_rows_int(&st, 0);
        else
            rc = BS_EDB;
    }
    bs_rows_close(&st);
    json_object *items = json_object_new_array();
    if (rc == 0 && !empty) {
        bs_buf sql;
        bs_buf_init(&sql);
        bs_buf_printf(&sql, "%s LIMIT %lld OFFSET %lld", page_sql,
                      (long long)per_page,
                      (long long)((page - 1) * per_page));
        rc = sql.oom ? BS_ENOMEM
                     : bs_rows_open(&st, c, sql.data, (long)sql.len,
                                    BS_ROWS_ONCE);
        if (rc == 0) {
            if (arg)
                bs_rows_bind_text(&st, 1, arg, -1);
            if (arg2)
                bs_rows_bind_text(&st, 2, arg2, -1);
        }
        while (rc == 0 && (rc = bs_rows_next(&st)) == 1) {
            json_object_array_add(items, to_json(app, &st));
            rc = 0;
        }
        bs_rows_close(&st);
        bs_buf_dispose(&sql);
    }
    bs_store_reader_release(app->store, c);
    if (rc) {
        json_object_put(items);
        return rc < 0 ? rc : BS_EDB;
    }
    json_object *res = json_object_new_object();
    json_object_object_add(res, "items", items);
    json_object_object_add(res, "page", json_object_new_int64(page));
    json_object_object_add(res, "perPage", json_object_new_int64(per_page));
    json_object_object_add(res, "totalItems", json_object_new_int64(total));
    json_object_object_add(res, "totalPages",
                           json_object_new_int64((total + per_page - 1) /
                                                 per_page));
    *out = res;
    return 0;
}

int bs_webhooks_list(bs_app *app, int64_t page, int64_t per_page,
                     json_object **out)
{
    return list_page(app, "SELECT COUNT(*) FROM _webhooks",
                     "SELECT " WEBHOOK_COLUMNS
                     " FROM _webhooks ORDER BY created DESC, id DESC",
                     NULL, NULL, page, per_page, webhook_json, out);
}

int bs_webhooks_find(bs_app *app, const char *id, json_object **out)
{
    *out = NULL;
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_rows st;
    st.st = NULL;
    int rc = !have_tables(c) ? BS_ENOTFOUND
                             : bs_rows_open(&st, c,
                                            "SELECT " WEBHOOK_COLUMNS
                                            " FROM _webhooks WHERE id = ?1",
                                            -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        rc = bs_rows_next(&st);
        if (rc == 1) {
            *out = webhook_json(app, &st);
            rc = 0;
        } else if (rc == 0) {
            rc = BS_ENOTFOUND;
        }
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, c);
    return rc;
}

/* ---- validation ------------------------------------------------------------ */

/* Whether url is an absolute http or https URL with a host. */
static bool url_valid(const char *url)
{
    size_t n = strlen(url);
    if (n > 2000)
        return false;
    const char *rest = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        rest = url + 8;
    if (!rest || !*rest || *rest == '/' || *rest == ':' || *rest == '?')
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* The webhook's values after applying body over the stored ones. */
typedef struct wh_form {
    char *collection_id;
    unsigned events;
    char *url;
    char *filter;
    char *secret;
    bool active;
} wh_form;

static void form_dispose(wh_form *f)
{
    free(f->collection_id);
    free(f->url);
    free(f->filter);
    free(f->secret);
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = strdup(s ? s : "");
}

/* Applies body over f, checking each field; errors go into err. */
static void form_apply(bs_app *app, wh_form *f, const json_object *body,
                       bool is_new, bs_error *err)
{
    bs_schema *s = bs_app_schema(app);
    json_object *v = bs_json_get(body, "collection");
    if (v || is_new) {
        const char *name = v && json_object_is_type(v, json_type_string)
                               ? json_object_get_string(v)
                               : "";
        const bs_collection *c = *name && s ? bs_schema_find(s, name) : NULL;
        if (!*name)
            bs_error_field(err, "collection", "validation_required",
                           "Cannot be blank.");
        else if (!c || strcmp(c->type, "view") == 0)
            bs_error_field(err, "collection", "validation_invalid_collection",
                           "Missing or invalid collection (views cannot "
                           "have webhooks).");
        else
            set_str(&f->collection_id, c->id);
    }
    v = bs_json_get(body, "events");
    if (v || is_new) {
        unsigned m = 0;
        bool bad = !v || !json_object_is_type(v, json_type_array);
        size_t n = bad ? 0 : json_object_array_length(v);
        for (size_t i = 0; i < n && !bad; i++) {
            const char *e = json_object_get_string(
                json_object_array_get_idx(v, i));
            int k = 0;
            while (k < 3 && (!e || strcmp(e, EVENT_NAMES[k])))
                k++;
            if (k == 3)
                bad = true;
            else
                m |= 1u << k;
        }
        if (!bad && !m)
            bs_error_field(err, "events", "validation_required",
                           "Cannot be blank.");
        else if (bad)
            bs_error_field(err, "events", "validation_invalid_event",
                           "Events must be a list of create, update and "
                           "delete.");
        else
            f->events = m;
    }
    v = bs_json_get(body, "url");
    if (v || is_new) {
        const char *url = v && json_object_is_type(v, json_type_string)
                              ? json_object_get_string(v)
                              : "";
        if (!*url)
            bs_error_field(err, "url", "validation_required",
                           "Cannot be blank.");
        else if (!url_valid(url))
            bs_error_field(err, "url", "validation_invalid_url",
                           "Must be a valid http or https URL.");
        else
            set_str(&f->url, url);
    }
    v = bs_json_get(body, "filter");
    if (v) {
        if (!json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) > 3500)
            bs_error_field(err, "filter", "validation_invalid_filter",
                           "Invalid filter.");
        else
            set_str(&f->filter, json_object_get_string(v));
    } else if (is_new) {
        set_str(&f->filter, "");
    }
    v = bs_json_get(body, "secret");
    if (v) {
        if (!json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) > 255)
            bs_error_field(err, "secret", "validation_length_out_of_range",
                           "Must be a text of at most 255 characters.");
        else
            set_str(&f->secret, json_object_get_string(v));
    }
    if (is_new && (!f->secret || !*f->secret)) {
        char gen[33];
        bs_random_string(gen, 32, "abcdef0123456789");
        set_str(&f->secret, gen);
    }
    v = bs_json_get(body, "active");
    if (v) {
        if (!json_object_is_type(v, json_type_boolean))
            bs_error_field(err, "active", "validation_invalid_bool",
                           "Must be true or false.");
        else
            f->active = json_object_get_boolean(v);
    } else if (is_new) {
        f->active = true;
    }
    /* The filter must compile against the collection, as a rule. */
    const bs_collection *c =
        s && f->collection_id ? bs_schema_find(s, f->collection_id) : NULL;
    if (c && f->filter && *f->filter && !bs_json_get(err->data, "filter")) {
        json_object *info = bs_rules_request_info_of(NULL, NULL, NULL, "GET",
                                                     "default");
        bs_rule_ctx ctx = {.app = app, .schema = s, .collection = c,
                           .alias = c->name, .request = info};
        bs_query q;
        bs_rule_sql rs;
        bs_query_init(&q);
        bs_rule_sql_init(&rs);
        bs_error ferr;
        bs_error_init(&ferr);
        if (bs_rules_add_filter(&ctx, f->filter, true, &q, &rs, &ferr) ||
            bs_rules_finish(&rs, &q, &ferr))
            bs_error_field(err, "filter", "validation_invalid_filter",
                           "Invalid filter expression.");
        bs_error_dispose(&ferr);
        bs_rule_sql_dispose(&rs);
        bs_query_dispose(&q);
        json_object_put(info);
    }
    bs_schema_unref(s);
}

static int form_load(bs_app *app, const char *id, wh_form *f)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_rows st;
    st.st = NULL;
    int rc = !have_tables(c)
                 ? BS_ENOTFOUND
                 : bs_rows_open(&st, c,
                                "SELECT collectionId, events, url, filter, "
                                "secret, active FROM _webhooks WHERE id = ?1",
                                -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        rc = bs_rows_next(&st);
        if (rc == 1) {
            f->collection_id = strdup(bs_rows_text(&st, 0, NULL));
            f->events = events_mask(bs_rows_text(&st, 1, NULL));
            f->url = strdup(bs_rows_text(&st, 2, NULL));
            f->filter = strdup(bs_rows_text(&st, 3, NULL));
            f->secret = strdup(bs_rows_text(&st, 4, NULL));
            f->active = bs_rows_int(&st, 5) != 0;
            rc = 0;
        } else if (rc == 0) {
            rc = BS_ENOTFOUND;
        }
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, c);
    return rc;
}

typedef struct save_job {
    const char *id;
    bool is_new;
    const wh_form *f;
} save_job;

static int save_tx(bs_tx *tx, void *data)
{
    save_job *j = data;
    const wh_form *f = j->f;
    char events[48] = "[";
    for (int i = 0; i < 3; i++) {
        if (!(f->events & (1u << i)))
            continue;
        if (events[1])
            strcat(events, ",");
        strcat(events, "\"");
        strcat(events, EVENT_NAMES[i]);
        strcat(events, "\"");
    }
    strcat(events, "]");
    char now[25];
    bs_now_str(now);
    bs_rows st;
    st.st = NULL;
    int rc = 0;
    if (j->is_new && !have_tables(bs_tx_conn(tx)))
        rc = bs_conn_exec(bs_tx_conn(tx), SCHEMA, NULL);
    const char *sql =
        j->is_new
            ? "INSERT INTO _webhooks (id, collectionId, events, url, filter, "
              "secret, active, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, "
              "?6, ?7, ?8, ?8)"
            : "UPDATE _webhooks SET collectionId = ?2, events = ?3, url = ?4, "
              "filter = ?5, secret = ?6, active = ?7, updated = ?8 WHERE id = "
              "?1";
    if (rc == 0)
        rc = bs_rows_open(&st, bs_tx_conn(tx), sql, -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, j->id, -1);
        bs_rows_bind_text(&st, 2, f->collection_id, -1);
        bs_rows_bind_text(&st, 3, events, -1);
        bs_rows_bind_text(&st, 4, f->url, -1);
        bs_rows_bind_text(&st, 5, f->filter, -1);
        bs_rows_bind_text(&st, 6, f->secret, -1);
        bs_rows_bind_int(&st, 7, f->active);
        bs_rows_bind_text(&st, 8, now, -1);
        rc = bs_rows_exec(&st) == 1 ? 0 : BS_EDB;
    }
    bs_rows_close(&st);
    return rc;
}

int bs_webhooks_save(bs_app *app, const char *id, const json_object *body,
                     json_object **out, bs_error *err)
{
    *out = NULL;
    wh_form f = {0};
    bool is_new = id == NULL;
    char new_id[16];
    if (is_new) {
        bs_random_id(new_id);
        id = new_id;
    } else {
        int rc = form_load(app, id, &f);
        if (rc) {
            form_dispose(&f);
            return rc;
        }
    }
    if (!body || !json_object_is_type(body, json_type_object)) {
        form_dispose(&f);
        return bs_error_set(err, 400, "Failed to load the submitted data due "
                                      "to invalid formatting.");
    }
    form_apply(app, &f, body, is_new, err);
    if (bs_error_has_fields(err)) {
        form_dispose(&f);
        return bs_error_set(err, 400, is_new ? "Failed to create webhook."
                                             : "Failed to update webhook.");
    }
    save_job j = {.id = id, .is_new = is_new, .f = &f};
    int rc = bs_run_in_transaction(app, save_tx, &j, err);
    form_dispose(&f);
    if (rc)
        return rc;
    bs_webhooks_reload(app);
    return bs_webhooks_find(app, id, out);
}

static int delete_tx(bs_tx *tx, void *data)
{
    const char *id = data;
    bs_conn *c = bs_tx_conn(tx);
    if (!have_tables(c))
        return BS_ENOTFOUND;
    bs_rows st;
    int rc = bs_rows_open(&st, c, "DELETE FROM _webhooks WHERE id = ?1", -1,
                          BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        rc = bs_rows_exec(&st);
        rc = rc == 1 ? 0 : rc == 0 ? BS_ENOTFOUND : rc;
    }
    bs_rows_close(&st);
    if (rc == 0) {
        rc = bs_rows_open(&st, c,
                          "DELETE FROM _webhookDeliveries WHERE webhookId = "
                          "?1",
                          -1, BS_ROWS_FIXED);
        if (rc == 0) {
            bs_rows_bind_text(&st, 1, id, -1);
            rc = bs_rows_exec(&st) >= 0 ? 0 : BS_EDB;
        }
        bs_rows_close(&st);
    }
    return rc;
}

int bs_webhooks_delete(bs_app *app, const char *id)
{
    bs_error err;
    bs_error_init(&err);
    int rc = bs_run_in_transaction(app, delete_tx, (void *)id, &err);
    bs_error_dispose(&err);
    if (rc == 0)
        bs_webhooks_reload(app);
    return rc;
}

/* ---- the delivery log ------------------------------------------------------ */

/* A row of DELIVERY_COLUMNS as the API shows it. */
static json_object *delivery_json(bs_app *app, const bs_rows *st)
{
    (void)app;
    json_object *o = json_object_new_object();
    static const char *const keys[] = {"id",     "webhook", "collection",
                                       "record", "action",  "status"};
    for (int i = 0; i < 6; i++)
        put_text(o, keys[i], st, i);
    put_int(o, "attempts", st, 6);
    int64_t next = bs_rows_int(st, 7);
    char when[25] = "";
    const char *status = bs_rows_text(st, 5, NULL);
    if (status && strcmp(status, "pending") == 0)
        bs_time_str(next / 1000, (int)(next % 1000), when);
    json_object_object_add(o, "nextAttempt", json_object_new_string(when));
    put_int(o, "lastCode", st, 8);
    put_text(o, "lastError", st, 9);
    put_text(o, "created", st, 10);
    put_text(o, "updated", st, 11);
    return o;
}

#define DELIVERY_COLUMNS                                                     \
    "id, webhookId, collectionId, recordId, action, status, attempts, "     \
    "nextAttempt, lastCode, lastError, created, updated"

int bs_webhooks_deliveries(bs_app *app, const char *webhook_id,
                           const char *status, int64_t page,
                           int64_t per_page, json_object **out)
{
    *out = NULL;
    int64_t one = 0;
    bs_conn *c = bs_store_reader_acquire(app->store);
    int found = !have_tables(c)
                    ? 0
                    : bs_conn_query_int(c,
                                        "SELECT 1 FROM _webhooks WHERE id = ?1",
                                        -1, BS_ROWS_FIXED, webhook_id, &one);
    bs_store_reader_release(app->store, c);
    if (found != 1)
        return found < 0 ? found : BS_ENOTFOUND;
    if (status && *status)
        return list_page(
            app,
            "SELECT COUNT(*) FROM _webhookDeliveries WHERE webhookId = ?1 "
            "AND status = ?2",
            "SELECT " DELIVERY_COLUMNS " FROM _webhookDeliveries WHERE "
            "webhookId = ?1 AND status = ?2 ORDER BY created DESC, rowid DESC",
            webhook_id, status, page, per_page, delivery_json, out);
    return list_page(
        app, "SELECT COUNT(*) FROM _webhookDeliveries WHERE webhookId = ?1",
        "SELECT " DELIVERY_COLUMNS " FROM _webhookDeliveries WHERE webhookId "
        "= ?1 ORDER BY created DESC, rowid DESC",
        webhook_id, NULL, page, per_page, delivery_json, out);
}

typedef struct retry_job {
    const char *webhook_id, *delivery_id;
    bs_error *err;
} retry_job;

static int retry_tx(bs_tx *tx, void *data)
{
    retry_job *j = data;
    bs_conn *c = bs_tx_conn(tx);
    if (!have_tables(c))
        return BS_ENOTFOUND;
    bs_rows st;
    int rc = bs_rows_open(&st, c,
                          "SELECT status FROM _webhookDeliveries WHERE id = ?1 "
                          "AND webhookId = ?2",
                          -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, j->delivery_id, -1);
        bs_rows_bind_text(&st, 2, j->webhook_id, -1);
        rc = bs_rows_next(&st);
        if (rc == 1)
            rc = strcmp(bs_rows_text(&st, 0, NULL), "failed") == 0
                     ? 0
                     : bs_error_set(j->err, 400,
                                    "Only a failed delivery can be retried.");
        else if (rc == 0)
            rc = BS_ENOTFOUND;
    }
    bs_rows_close(&st);
    if (rc)
        return rc;
    char now[25];
    bs_now_str(now);
    rc = bs_rows_open(&st, c,
                      "UPDATE _webhookDeliveries SET status = 'pending', "
                      "attempts = 0, nextAttempt = ?2, updated = ?3 WHERE id "
                      "= ?1",
                      -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, j->delivery_id, -1);
        bs_rows_bind_int(&st, 2, wall_ms());
        bs_rows_bind_text(&st, 3, now, -1);
        rc = bs_rows_exec(&st) == 1 ? 0 : BS_EDB;
    }
    bs_rows_close(&st);
    if (rc == 0)
        rc = bs_tx_after(tx, wake_after, NULL, NULL);
    return rc;
}

int bs_webhooks_retry(bs_app *app, const char *webhook_id,
                      const char *delivery_id, bs_error *err)
{
    retry_job j = {webhook_id, delivery_id, err};
    return bs_run_in_transaction(app, retry_tx, &j, err);
}

int bs_webhooks_cleanup(bs_app *app, int keep_days)
{
    if (!app->store)
        return 0;
    bs_conn *c = bs_store_reader_acquire(app->store);
    bool none = !have_tables(c);
    bs_store_reader_release(app->store, c);
    if (none)
        return 0;
    char delivered[25], failed[25];
    int64_t now = wall_ms() / 1000;
    bs_time_str(now - (int64_t)keep_days * 86400, 0, delivered);
    bs_time_str(now - (int64_t)keep_days * 4 * 86400, 0, failed);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "d", json_object_new_string(delivered));
    json_object_object_add(p, "f", json_object_new_string(failed));
    bs_error err;
    bs_error_init(&err);
    int64_t changes = 0;
    int rc = bs_db_exec(app,
                        "DELETE FROM _webhookDeliveries WHERE (status = "
                        "'delivered' AND updated < {:d}) OR (status = "
                        "'failed' AND updated < {:f})",
                        p, &changes, &err);
    if (rc)
        bs_log('W', "Cron: webhook deliveries clean-up failed: %s",
               err.message ? err.message : "?");
    bs_error_dispose(&err);
    json_object_put(p);
    return rc ? rc : (int)changes;
}
