/*
 * realtime.c - the realtime API: GET /api/realtime opens a client's event
 * stream, POST /api/realtime sets its subscriptions; and the renderer
 * the broker (core/realtime.c) calls to shape a changed record for a
 * group of subscribers.
 *
 * A record is shaped for a subscriber exactly as the records API would
 * answer a GET for it: the renderer builds an internal request (no
 * connection) carrying the subscriber's auth, @request.context
 * "realtime", and the topic's options as its query and headers, then
 * uses the records API's own rule check and enrichment (visibility,
 * manage rule, expand, the enrich hook) and the `fields` picker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../core/app.h"
#include "../core/auth.h"
#include "../core/cluster.h"
#include "../core/events.h"
#include "../core/ratelimit.h"
#include "../core/realtime.h"
#include "../core/record.h"
#include "../core/rules.h"
#include "../http/fields.h"
#include "../http/stream.h"
#include "api.h"
#include "auth_internal.h"
#include "context.h"

#define MAX_TOPICS 1000
#define MAX_TOPIC_LEN 2500

/* ---- rendering ------------------------------------------------------------- */

static char *render(bs_app *app, const bs_rt_view *v, const char *action,
                    const bs_record *rec, size_t *len)
{
    bs_req r;
    memset(&r, 0, sizeof r);
    bs_arena_init(&r.arena, 4096);
    bs_buf_init(&r.body);
    bs_buf_init(&r.resp);
    r.ev.app = app;
    r.fd = -1;
    r.method = "GET";
    r.url = "/api/realtime";
    r.path = "/api/realtime";
    r.context = "realtime";
    r.auth = (bs_auth *)v->auth;
    r.int_query = v->query ? json_object_get(v->query)
                           : json_object_new_object();
    r.int_headers = v->headers ? json_object_get(v->headers)
                               : json_object_new_object();
    bsa_req q;
    bsa_req_init(&q, &r, rec->collection->id);
    q.context = "realtime";
    char *out = NULL;
    bs_record *copy = NULL;
    const char *id = bs_record_id(rec);
    if (!q.c || !id)
        goto done;
    const char *rule = q.c->rules[v->by_id ? BS_RULE_VIEW : BS_RULE_LIST];
    if (!v->checked && !bsa_req_matches_rule(&q, q.c, id, rule, &q.err))
        goto done;
    const char *filter = bs_req_query(&r, "filter");
    if (filter && *filter) {
        bs_rule_ctx ctx = {.app = app, .schema = q.schema, .collection = q.c,
                           .alias = q.c->name, .request = bsa_req_info(&q),
                           .superuser = q.superuser};
        if (bs_rules_match_filter(&ctx, id, filter, &q.err) != 0)
            goto done;
    }
    copy = bs_record_clone(rec);
    if (!copy || bsa_records_enrich(&q, &copy, 1) != 0)
        goto done;
    bs_buf rb;
    bs_buf_init(&rb);
    bs_record_write_json(copy, &rb);
    const char *fields = bs_req_query(&r, "fields");
    if (fields && *fields)
        bs_fields_apply(fields, false, &rb);
    while (rb.len && (rb.data[rb.len - 1] == '\n' || rb.data[rb.len - 1] == ' '))
        rb.len--;
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "{\"record\":");
    bs_buf_append(&b, rb.data, rb.len);
    bs_buf_printf(&b, ",\"action\":\"%s\"}", action);
    bs_buf_dispose(&rb);
    if (b.oom)
        bs_buf_dispose(&b);
    else
        out = bs_buf_steal(&b, len);

done:
    bs_record_free(copy);
    bsa_req_dispose(&q);
    json_object_put(r.int_query);
    json_object_put(r.int_headers);
    bs_buf_dispose(&r.body);
    bs_buf_dispose(&r.resp);
    bs_arena_dispose(&r.arena);
    return out;
}

/* The client address as the rate limits and the OAuth2 redirect see it
 * (the settings' trusted proxy headers apply). */
static const char *client_ip(bs_req *r)
{
    bs_settings *s = bs_app_settings(r->ev.app);
    const char *ip = bs_ratelimit_client_ip(r, s->value);
    ip = bs_arena_strdup(&r->arena, ip ? ip : "");
    bs_settings_unref(s);
    return ip;
}

/* ---- GET /api/realtime ------------------------------------------------------ */

static int connect_final(bs_event *e, void *user)
{
    bs_realtime_event *re = (bs_realtime_event *)e;
    bs_rt_client *c = user;
    bs_req *r = re->req;
    bs_stream *s = bs_resp_stream(r, "text/event-stream", bs_rt_client_read,
                                  bs_rt_client_done, bs_rt_client_ref(c));
    if (!s) {
        bs_rt_client_unref(c);
        return 0; /* answered 500 */
    }
    bs_resp_header(r, "Cache-Control", "no-store");
    bs_resp_header(r, "X-Accel-Buffering", "no");
    bs_rt_client_register(c, s, re->idle_timeout_ms, re->max_timeout_ms);
    char data[64];
    int n = snprintf(data, sizeof data, "{\"clientId\":\"%s\"}",
                     bs_rt_client_id(c));
    /* A client that cannot receive PB_CONNECT is closed at once. */
    if (bs_rt_client_send(c, "PB_CONNECT", data, (size_t)n) != 0)
        bs_rt_client_close(c);
    return 0;
}

static int realtime_connect(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_app *app = r->ev.app;
    bs_rt_client *c = bs_rt_client_new(app->realtime, client_ip(r));
    if (!c) {
        bs_resp_status_error(r, 500, NULL);
        return 0;
    }
    bs_error err;
    bs_error_init(&err);
    bs_realtime_event e = {
        .ev = {.app = app, .error = &err},
        .req = r,
        .client_id = bs_rt_client_id(c),
        .idle_timeout_ms = 0,
        .max_timeout_ms = 0,
    };
    int rc = bs_trigger_realtime(app, BS_ON_REALTIME_CONNECT_REQUEST, &e,
                                 connect_final, c);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &err);
    bs_error_dispose(&err);
    bs_rt_client_unref(c);
    return 0;
}

/* ---- POST /api/realtime ----------------------------------------------------- */

/* A form value as one string (a multipart key sent several times: the
 * first), or NULL. */
static const char *form_string(json_object *v)
{
    if (json_object_is_type(v, json_type_array))
        v = json_object_array_length(v) ? json_object_array_get_idx(v, 0)
                                        : NULL;
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* The submitted topics as a new array of strings (a single string is a
 * one-topic list). NULL when the value is of another kind. */
static json_object *topics_of(json_object *v)
{
    json_object *out = json_object_new_array();
    if (!v)
        return out;
    if (json_object_is_type(v, json_type_string)) {
        json_object_array_add(out, json_object_get(v));
        return out;
    }
    if (!json_object_is_type(v, json_type_array)) {
        json_object_put(out);
        return NULL;
    }
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *t = json_object_array_get_idx(v, i);
        if (!json_object_is_type(t, json_type_string)) {
            json_object_put(out);
            return NULL;
        }
        json_object_array_add(out, json_object_get(t));
    }
    return out;
}

typedef struct sub_ctx {
    bs_rt_client *c;        /* NULL: held by another node, if any */
    bool attach;            /* the request's auth joins a guest client */
    const char *ip;
} sub_ctx;

/* Sets the subscriptions of a client this node does not hold on the
 * node that does (behind a load balancer the stream and this request
 * may reach different nodes), and answers with what that node said. */
static void subscribe_elsewhere(bs_realtime_event *re, const sub_ctx *sc)
{
    int status = 0;
    char message[256] = "";
    int rc = bs_cluster_forward_subscribe(
        re->ev.app, re->client_id, re->subscriptions,
        bs_req_header(re->req, "Authorization"), sc->ip, &status, message,
        sizeof message);
    if (rc == 0 && status == 204)
        bs_resp_empty(re->req, 204);
    else if (rc == 0)
        bs_resp_status_error(re->req, status, message);
    else if (rc == BS_ENOTFOUND)
        bs_resp_status_error(re->req, 404, "Missing or invalid client id.");
    else
        bs_resp_status_error(re->req, 500, NULL);
}

static int subscribe_final(bs_event *e, void *user)
{
    bs_realtime_event *re = (bs_realtime_event *)e;
    sub_ctx *sc = user;
    if (!sc->c) {
        subscribe_elsewhere(re, sc);
        return 0;
    }
    bs_auth *auth = NULL;
    if (sc->attach) {
        /* The client keeps its own copy of the requester. */
        const char *h = bs_req_header(re->req, "Authorization");
        if (h && bs_auth_from_token(e->app, h, &auth) != 0)
            auth = NULL;
    }
    int rc = bs_rt_client_set(sc->c, re->subscriptions, auth);
    if (rc)
        return rc;
    bs_resp_empty(re->req, 204);
    return 0;
}

static int realtime_subscribe(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_app *app = r->ev.app;
    bs_error err;
    bs_error_init(&err);
    bs_body body = {0};
    json_object *topics = NULL;
    bs_rt_client *c = NULL;
    if (bs_req_read_body(r, &body, &err) != 0) {
        bs_error_dispose(&err);
        bs_error_init(&err);
        bs_error_set(&err, 400, "An error occurred while loading the "
                                "submitted data.");
        bs_resp_error(r, &err);
        goto done;
    }
    const char *id = form_string(bs_json_get(body.data, "clientId"));
    topics = topics_of(bs_json_get(body.data, "subscriptions"));
    if (!topics) {
        bs_error_set(&err, 400, "An error occurred while loading the "
                                "submitted data.");
        bs_resp_error(r, &err);
        goto done;
    }
    if (bsa_check_required(&err, "clientId", id))
        bsa_check_length(&err, "clientId", id, 1, 255);
    size_t n = json_object_array_length(topics);
    if (n > MAX_TOPICS) {
        bs_error_field(&err, "subscriptions", "validation_length_too_long",
                       "The length must be no more than 1000.");
    } else {
        for (size_t i = 0; i < n; i++) {
            const char *t =
                json_object_get_string(json_object_array_get_idx(topics, i));
            char field[40];
            snprintf(field, sizeof field, "subscriptions.%zu", i);
            bsa_check_length(&err, field, t, 0, MAX_TOPIC_LEN);
        }
    }
    if (bs_error_has_fields(&err)) {
        bs_error_set(&err, 400, "An error occurred while validating the "
                                "submitted data.");
        bs_resp_error(r, &err);
        goto done;
    }
    c = bs_realtime_find(app->realtime, id);
    if (!c && !bs_cluster_running(app)) {
        bs_resp_status_error(r, 404, "Missing or invalid client id.");
        goto done;
    }
    const char *ip = client_ip(r);
    sub_ctx sc = {.c = c, .ip = ip};
    if (c) {
        if (*bs_rt_client_ip(c) && strcmp(bs_rt_client_ip(c), ip) != 0) {
            bs_resp_status_error(r, 400, "Invalid realtime client.");
            goto done;
        }
        int had = bs_rt_client_auth_cmp(c, r->auth);
        if (had > 0) {
            bs_resp_status_error(r, 403, "The current and the previous "
                                         "request authorization don't "
                                         "match.");
            goto done;
        }
        sc.attach = had < 0 && r->auth;
    }
    bs_realtime_event e = {.ev = {.app = app, .error = &err},
                           .req = r,
                           .client_id = c ? bs_rt_client_id(c) : id,
                           .subscriptions = topics};
    int rc = bs_trigger_realtime(app, BS_ON_REALTIME_SUBSCRIBE_REQUEST, &e,
                                 subscribe_final, &sc);
    if (rc && !r->responded)
        bs_req_fail(r, rc, &err);

done:
    bs_rt_client_unref(c);
    if (topics)
        json_object_put(topics);
    bs_body_dispose(&body);
    bs_error_dispose(&err);
    return 0;
}

int bs_api_realtime_register(bs_app *app)
{
    if (!bs_router_add(app->router, "GET", "/api/realtime", realtime_connect,
                       NULL) ||
        !bs_router_add(app->router, "POST", "/api/realtime",
                       realtime_subscribe, NULL))
        return BS_ENOMEM;
    return bs_realtime_start(app->realtime, render);
}
