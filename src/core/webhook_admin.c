/*
 * webhook_admin.c - the operations behind /api/webhooks (see
 * webhooks.h): listing and finding webhooks, creating and updating
 * them with their validation (the filter is compiled against the
 * collection as a rule), deleting them with their deliveries, and the
 * delivery log: its pages, the retry of a failed delivery, and the
 * clean-up of old rows.
 */
#include "webhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/rows.h"
#include "app.h"
#include "rules.h"
#include "tx.h"
#include "webhook_internal.h"

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
    unsigned m = bs_wh_events_mask(bs_rows_text(st, 2, NULL));
    for (int i = 0; i < 3; i++)
        if (m & (1u << i))
            json_object_array_add(events,
                                  json_object_new_string(bs_wh_event_names[i]));
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
    st = (bs_rows){0};
    bool empty = !bs_wh_have_tables(c);
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

/* Reads the webhook id with sql (whose one parameter is the id) and
 * hands its row to read. Returns 0, BS_ENOTFOUND (no such webhook, or no
 * webhook table yet) or a database error. */
static int webhook_row(bs_app *app, const char *id, const char *sql,
                       void (*read)(bs_app *, const bs_rows *, void *),
                       void *user)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    bs_rows st;
    st = (bs_rows){0};
    int rc = !bs_wh_have_tables(c)
                 ? BS_ENOTFOUND
                 : bs_rows_open(&st, c, sql, -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        rc = bs_rows_next(&st);
        if (rc == 1) {
            read(app, &st, user);
            rc = 0;
        } else if (rc == 0) {
            rc = BS_ENOTFOUND;
        }
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, c);
    return rc;
}

static void read_json(bs_app *app, const bs_rows *st, void *user)
{
    *(json_object **)user = webhook_json(app, st);
}

int bs_webhooks_find(bs_app *app, const char *id, json_object **out)
{
    *out = NULL;
    return webhook_row(app, id,
                       "SELECT " WEBHOOK_COLUMNS " FROM _webhooks WHERE id = ?1",
                       read_json, out);
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
            while (k < 3 && (!e || strcmp(e, bs_wh_event_names[k])))
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

static void read_form(bs_app *app, const bs_rows *st, void *user)
{
    (void)app;
    wh_form *f = user;
    f->collection_id = strdup(bs_rows_text(st, 0, NULL));
    f->events = bs_wh_events_mask(bs_rows_text(st, 1, NULL));
    f->url = strdup(bs_rows_text(st, 2, NULL));
    f->filter = strdup(bs_rows_text(st, 3, NULL));
    f->secret = strdup(bs_rows_text(st, 4, NULL));
    f->active = bs_rows_int(st, 5) != 0;
}

static int form_load(bs_app *app, const char *id, wh_form *f)
{
    return webhook_row(app, id,
                       "SELECT collectionId, events, url, filter, secret, "
                       "active FROM _webhooks WHERE id = ?1",
                       read_form, f);
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
        strcat(events, bs_wh_event_names[i]);
        strcat(events, "\"");
    }
    strcat(events, "]");
    char now[25];
    bs_now_str(now);
    bs_rows st;
    st = (bs_rows){0};
    int rc = 0;
    if (j->is_new && !bs_wh_have_tables(bs_tx_conn(tx)))
        rc = bs_wh_create_tables(bs_tx_conn(tx));
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
    /* Their tables and the outbox are in SQLite's words for now. */
    if (bs_store_is_pg(app->store))
        return bs_error_set(err, 400, "Webhooks are not supported on the "
                                      "PostgreSQL store yet.");
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
    if (!bs_wh_have_tables(c))
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
    int found = !bs_wh_have_tables(c)
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
    if (!bs_wh_have_tables(c))
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
        bs_rows_bind_int(&st, 2, bs_wh_wall_ms());
        bs_rows_bind_text(&st, 3, now, -1);
        rc = bs_rows_exec(&st) == 1 ? 0 : BS_EDB;
    }
    bs_rows_close(&st);
    if (rc == 0)
        rc = bs_tx_after(tx, bs_wh_wake_after, NULL, NULL);
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
    bool none = !bs_wh_have_tables(c);
    bs_store_reader_release(app->store, c);
    if (none)
        return 0;
    char delivered[25], failed[25];
    int64_t now = bs_wh_wall_ms() / 1000;
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
