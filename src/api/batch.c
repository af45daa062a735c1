/*
 * batch.c - POST /api/batch: several record requests in one transaction.
 *
 * Each item becomes an internal request (no connection of its own: its
 * method, URL, headers and JSON body come from the batch) dispatched to
 * the record handlers through a router that knows only the four record
 * actions. All items run inside one transaction, so a later item sees
 * the writes of earlier ones, and the first failing item rolls back
 * everything: the client gets 400 with that item's response.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/events.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../core/record.h"
#include "../core/tx.h"
#include "../http/fields.h"
#include "api.h"
#include "../http/body.h"

#define MAX_URL 2000

typedef struct batch_ctx {
    bs_req *parent;
    json_object *requests;   /* array of items (borrowed) */
    bs_router *router;
    bs_buf results;          /* JSON array of {"body":...,"status":N} */
    int failed_index;
    bs_buf failed_response;  /* the failing item's response body */
    bs_body *body;           /* the batch's body: its uploads are the
                              * items' ("requests.N.field" keys) */
} batch_ctx;

static bs_router *batch_router(void)
{
    bs_router *rt = bs_router_new();
    if (!rt)
        return NULL;
    if (!bs_router_add(rt, "POST", "/api/collections/{collection}/records",
                       bs_api_record_create, NULL) ||
        !bs_router_add(rt, "PATCH",
                       "/api/collections/{collection}/records/{id}",
                       bs_api_record_update, NULL) ||
        !bs_router_add(rt, "DELETE",
                       "/api/collections/{collection}/records/{id}",
                       bs_api_record_delete, NULL)) {
        bs_router_free(rt);
        return NULL;
    }
    return rt;
}

/* Copies a header of the batch request to an item, but for its
 * Content-Type: the item's body is JSON whatever the batch was sent as. */
static void copy_header(void *user, const char *key, const char *value)
{
    if (strcasecmp(key, "Content-Type") != 0)
        json_object_object_add(user, key, json_object_new_string(value));
}

/* Whether a record with id exists in the collection (for PUT upserts). */
static bool record_exists(bs_app *app, const char *collection, const char *id)
{
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = bs_schema_find(s, collection);
    bool found = false;
    if (c) {
        bs_conn *conn = bs_store_reader_acquire(app->store);
        bs_record *rec = NULL;
        found = bs_record_find(conn, s, c, id, &rec) == 0;
        bs_record_free(rec);
        bs_store_reader_release(app->store, conn);
    }
    bs_schema_unref(s);
    return found;
}

/* Runs one item; its response ends up in sub->status / sub->resp. */
static void run_item(batch_ctx *bc, json_object *item, bs_req *sub)
{
    bs_app *app = bc->parent->ev.app;
    const char *method = bs_json_get_str(item, "method", "");
    const char *url = bs_json_get_str(item, "url", "");
    json_object *body = bs_json_get(item, "body");

    sub->ev.app = app;
    sub->parent = bc->parent;
    sub->context = "batch";
    sub->auth = bc->parent->auth;
    sub->fd = -1;
    sub->status = 200;
    sub->body_limit = bc->parent->body_limit;
    const char *q = strchr(url, '?');
    char *path = bs_arena_strndup(&sub->arena, url,
                                  q ? (size_t)(q - url) : strlen(url));
    sub->url = bs_arena_strdup(&sub->arena, url);
    sub->path = path;
    sub->int_query = bs_query_string_parse(q ? q + 1 : NULL);
    sub->int_headers = json_object_new_object();
    bs_req_foreach(bc->parent, 0, copy_header, sub->int_headers);
    json_object *hdrs = bs_json_get(item, "headers");
    if (hdrs && json_object_is_type(hdrs, json_type_object)) {
        json_object_object_foreach(hdrs, k, v) {
            if (strcasecmp(k, "authorization") != 0)
                json_object_object_add(sub->int_headers, k,
                                       json_object_get(v));
        }
    }
    json_object_object_add(sub->int_headers, "Content-Type",
                           json_object_new_string("application/json"));
    if (body)
        bs_json_write(&sub->body, body);

    char upper[16];
    size_t n = strlen(method);
    if (n >= sizeof upper)
        n = sizeof upper - 1;
    for (size_t i = 0; i < n; i++)
        upper[i] = (char)toupper((unsigned char)method[i]);
    upper[n] = '\0';
    if (strcmp(upper, "PUT") == 0) {
        /* Upsert: an update when the id names an existing record. */
        const char *id = bs_json_get_str(body, "id", "");
        const char *prefix = "/api/collections/";
        size_t pl = strlen(prefix);
        if (strncmp(path, prefix, pl) == 0) {
            const char *coll = path + pl;
            const char *slash = strchr(coll, '/');
            char cname[256];
            size_t cn = slash ? (size_t)(slash - coll) : 0;
            if (slash && strcmp(slash, "/records") == 0 && cn < sizeof cname) {
                memcpy(cname, coll, cn);
                cname[cn] = '\0';
                if (*id && record_exists(app, cname, id)) {
                    strcpy(upper, "PATCH");
                    path = bs_arena_printf(&sub->arena, "%s/%s", path, id);
                } else {
                    strcpy(upper, "POST");
                }
            }
        }
    }
    sub->method = bs_arena_strdup(&sub->arena, upper);
    const bs_route *route = bs_router_match(bc->router, sub, upper, path);
    if (!route) {
        bs_resp_status_error(sub, 400, "Unknown batch request action.");
        return;
    }
    bs_route_run(route, sub);
    if (!sub->responded)
        bs_resp_empty(sub, 204);
    const char *fields = bs_req_query(sub, "fields");
    if (fields && *fields && sub->status < 300 && sub->resp.len)
        bs_fields_apply(fields, false, &sub->resp);
}

static void sub_dispose(bs_req *sub)
{
    if (sub->int_query)
        json_object_put(sub->int_query);
    if (sub->int_headers)
        json_object_put(sub->int_headers);
    bs_buf_dispose(&sub->body);
    bs_buf_dispose(&sub->resp);
    bs_arena_dispose(&sub->arena);
}

/* Appends a response body without its trailing newline ("null" when
 * empty). */
static void append_body(bs_buf *out, const bs_buf *body)
{
    size_t n = body->len;
    while (n && (body->data[n - 1] == '\n' || body->data[n - 1] == ' '))
        n--;
    if (n == 0)
        bs_buf_puts(out, "null");
    else
        bs_buf_append(out, body->data, n);
}

static int process_tx(bs_tx *tx, void *data)
{
    (void)tx;
    batch_ctx *bc = data;
    size_t n = json_object_array_length(bc->requests);
    bs_buf_putc(&bc->results, '[');
    for (size_t i = 0; i < n; i++) {
        bs_req sub;
        memset(&sub, 0, sizeof sub);
        bs_arena_init(&sub.arena, 4096);
        bs_buf_init(&sub.body);
        bs_buf_init(&sub.resp);
        if (bc->body->nfiles) {
            sub.int_files = bc->body->files;
            sub.int_nfiles = bc->body->nfiles;
            sub.int_files_prefix =
                bs_arena_printf(&sub.arena, "requests.%zu.", i);
        }
        run_item(bc, json_object_array_get_idx(bc->requests, i), &sub);
        if (sub.status >= 400) {
            bc->failed_index = (int)i;
            append_body(&bc->failed_response, &sub.resp);
            sub_dispose(&sub);
            return BS_EHTTP;
        }
        if (i)
            bs_buf_putc(&bc->results, ',');
        bs_buf_puts(&bc->results, "{\"body\":");
        append_body(&bc->results, &sub.resp);
        bs_buf_printf(&bc->results, ",\"status\":%d}", sub.status);
        sub_dispose(&sub);
    }
    bs_buf_puts(&bc->results, "]\n");
    return 0;
}

static int batch_final(bs_event *e, void *user)
{
    batch_ctx *bc = user;
    bs_req *r = bc->parent;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_run_in_transaction(e->app, process_tx, bc, &err);
    if (rc == 0) {
        bs_resp_raw(r, 200, "application/json", bc->results.data,
                    bc->results.len);
    } else {
        bs_resp_raw(r, 400, "application/json", NULL, 0);
        bs_buf *b = &r->resp;
        bs_buf_printf(b, "{\"data\":{\"requests\":{\"%d\":{\"code\":"
                         "\"batch_request_failed\",\"message\":\"Batch "
                         "request failed.\",\"response\":",
                      bc->failed_index);
        append_body(b, &bc->failed_response);
        bs_buf_puts(b, "}}},\"message\":\"Batch transaction failed.\","
                       "\"status\":400}\n");
    }
    bs_error_dispose(&err);
    return 0;
}

/* Validates the items like PocketBase; field errors go to err. */
static void validate_items(json_object *reqs, int64_t max, bs_error *err)
{
    if (!reqs || !json_object_is_type(reqs, json_type_array) ||
        json_object_array_length(reqs) == 0) {
        bs_error_field(err, "requests", "validation_required",
                       "Cannot be blank.");
        return;
    }
    size_t n = json_object_array_length(reqs);
    if ((int64_t)n > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "The length must be no more than %lld.",
                 (long long)max);
        bs_error_field(err, "requests", "validation_length_too_long", msg);
        return;
    }
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
                                          "DELETE", NULL};
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(reqs, i);
        char path[64];
        const char *m = bs_json_get_str(it, "method", "");
        const char *url = bs_json_get_str(it, "url", "");
        if (!*m) {
            snprintf(path, sizeof path, "requests.%zu.method", i);
            bs_error_field(err, path, "validation_required",
                           "Cannot be blank.");
        } else {
            bool ok = false;
            for (int k = 0; methods[k] && !ok; k++)
                ok = strcasecmp(methods[k], m) == 0;
            if (!ok) {
                snprintf(path, sizeof path, "requests.%zu.method", i);
                bs_error_field(err, path, "validation_in_invalid",
                               "Must be a valid value.");
            }
        }
        snprintf(path, sizeof path, "requests.%zu.url", i);
        if (!*url)
            bs_error_field(err, path, "validation_required",
                           "Cannot be blank.");
        else if (strlen(url) > MAX_URL)
            bs_error_field(err, path, "validation_length_too_long",
                           "The length must be no more than 2000.");
    }
}

static int batch_handler(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_settings *s = bs_app_settings(e->app);
    json_object *bs = bs_json_get(s->value, "batch");
    bool enabled = bs_json_get_bool(bs, "enabled", false);
    int64_t max = bs_json_get_int(bs, "maxRequests", 0);
    int64_t max_body = bs_json_get_int(bs, "maxBodySize", 0);
    bs_settings_unref(s);
    if (!enabled || max <= 0) {
        bs_resp_status_error(r, 403, "Batch requests are not allowed.");
        return 0;
    }
    if (max_body > 0 && (int64_t)r->body_seen > max_body) {
        bs_resp_status_error(r, 413, "Request entity too large.");
        return 0;
    }
    bs_error err;
    bs_error_init(&err);
    bs_body body;
    if (bs_req_read_body(r, &body, &err) != 0) {
        bs_resp_status_error(r, 400, "Failed to read the submitted batch "
                                     "data.");
        bs_error_dispose(&err);
        return 0;
    }
    json_object *reqs = bs_json_get(body.data, "requests");
    validate_items(reqs, max, &err);
    if (bs_error_has_fields(&err)) {
        bs_error_set(&err, 400, "Invalid batch request data.");
        bs_resp_error(r, &err);
        goto done;
    }
    batch_ctx bc = {.parent = r, .requests = reqs, .router = batch_router(),
                    .body = &body};
    bs_buf_init(&bc.results);
    bs_buf_init(&bc.failed_response);
    if (!bc.router) {
        bs_resp_status_error(r, 500, NULL);
    } else {
        bs_request_event re = {.ev = {.app = e->app, .error = &err}, .req = r};
        int rc = bs_trigger_request(e->app, BS_ON_BATCH_REQUEST, &re,
                                 batch_final, &bc);
        if (rc && !r->responded)
            bs_req_fail(r, rc, &err);
    }
    bs_router_free(bc.router);
    bs_buf_dispose(&bc.results);
    bs_buf_dispose(&bc.failed_response);

done:
    bs_body_dispose(&body);
    bs_error_dispose(&err);
    return 0;
}

int bs_api_batch_register(bs_app *app)
{
    return bs_router_add(app->router, "POST", "/api/batch", batch_handler,
                         NULL)
               ? 0
               : BS_ENOMEM;
}
