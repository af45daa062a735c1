/*
 * bind_event.c - the natives behind the event objects: e.next(), the
 * fields of each event struct (read as one object by evInfo, the few
 * writable ones set by evSet), the request (method, URL, headers,
 * parameters, body, auth, e.requestInfo()) and the response
 * (e.json/string/html/blob/noContent/redirect).
 *
 * An event handle's kind (enum bsj_event) says which struct it points
 * to; the request events all start like bs_request_event, so their
 * bs_req is found the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define NATIVE(name)                                                       \
    static JSValueRef name(JSContextRef ctx, JSObjectRef fn,               \
                           JSObjectRef self, size_t argc,                  \
                           const JSValueRef argv[], JSValueRef *exc)

static bs_event *event(JSContextRef ctx, size_t argc, const JSValueRef argv[],
                       int *kind, JSValueRef *exc)
{
    bs_event *e = bsj_handle_get(ctx, argc ? argv[0] : NULL, BSJ_H_EVENT,
                                 exc);
    if (e && kind)
        *kind = ((bsj_handle *)JSObjectGetPrivate((JSObjectRef)argv[0]))->kind;
    return e;
}

/* The HTTP request of an event, or NULL with an exception. */
static bs_req *request(JSContextRef ctx, size_t argc, const JSValueRef argv[],
                       JSValueRef *exc)
{
    int kind = 0;
    bs_event *e = event(ctx, argc, argv, &kind, exc);
    bs_req *r = NULL;
    if (!e)
        return NULL;
    switch (kind) {
    case BSJ_EV_REQUEST:
        r = (bs_req *)e;
        break;
    case BSJ_EV_RECORD_REQUEST:
    case BSJ_EV_AUTH_REQUEST:
    case BSJ_EV_FILE:
        r = ((bs_request_event *)e)->req;
        break;
    case BSJ_EV_REALTIME:
        r = ((bs_realtime_event *)e)->req;
        break;
    }
    if (!r)
        bsj_throw(ctx, exc, "This event has no request.");
    return r;
}

NATIVE(n_next)
{
    bs_event *e = event(ctx, argc, argv, NULL, exc);
    if (!e)
        return JSValueMakeUndefined(ctx);
    int rc = bs_event_next(e);
    if (rc)
        bsj_throw_error(ctx, exc, e->error, rc);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_record)
{
    int kind = 0;
    bs_event *e = event(ctx, argc, argv, &kind, exc);
    bs_record *r = NULL;
    if (!e)
        return JSValueMakeUndefined(ctx);
    switch (kind) {
    case BSJ_EV_RECORD:
        r = ((bs_record_event *)e)->record;
        break;
    case BSJ_EV_RECORD_REQUEST:
    case BSJ_EV_AUTH_REQUEST:
    case BSJ_EV_FILE:
        r = ((bs_request_event *)e)->record;
        break;
    case BSJ_EV_MAILER:
        r = ((bs_mailer_event *)e)->record;
        break;
    }
    return r ? bsj_handle_new(ctx, BSJ_H_RECORD, r, false)
             : JSValueMakeNull(ctx);
}

static void put_str(JSContextRef ctx, JSObjectRef o, const char *name,
                    const char *v)
{
    if (v)
        bsj_set(ctx, o, name, bsj_string(ctx, v));
}

static void put_json(JSContextRef ctx, JSObjectRef o, const char *name,
                     const json_object *v)
{
    if (v)
        bsj_set(ctx, o, name, bsj_from_json(ctx, v));
}

NATIVE(n_info)
{
    int kind = 0;
    bs_event *e = event(ctx, argc, argv, &kind, exc);
    if (!e)
        return JSValueMakeUndefined(ctx);
    JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
    switch (kind) {
    case BSJ_EV_COLLECTION:
        put_json(ctx, o, "collection", ((bs_collection_event *)e)->collection);
        break;
    case BSJ_EV_RECORD_REQUEST:
        put_str(ctx, o, "collection", ((bs_request_event *)e)->collection);
        put_json(ctx, o, "data", ((bs_request_event *)e)->data);
        break;
    case BSJ_EV_AUTH_REQUEST: {
        bs_record_auth_event *a = (bs_record_auth_event *)e;
        put_str(ctx, o, "collection", a->collection);
        put_str(ctx, o, "authMethod", a->auth_method);
        put_str(ctx, o, "token", a->token);
        put_json(ctx, o, "meta", a->meta);
        put_str(ctx, o, "identity", a->identity);
        put_str(ctx, o, "identityField", a->identity_field);
        put_str(ctx, o, "password", a->password);
        put_str(ctx, o, "provider", a->provider);
        bsj_set(ctx, o, "isNewRecord", JSValueMakeBoolean(ctx, a->is_new_record));
        break;
    }
    case BSJ_EV_FILE: {
        bs_file_event *f = (bs_file_event *)e;
        put_str(ctx, o, "collection", f->collection);
        put_str(ctx, o, "field", f->field);
        put_str(ctx, o, "servedPath", f->served_path);
        put_str(ctx, o, "servedName", f->served_name);
        put_str(ctx, o, "token", f->token);
        break;
    }
    case BSJ_EV_MAILER: {
        bs_mailer_event *m = (bs_mailer_event *)e;
        JSObjectRef msg = JSObjectMake(ctx, NULL, NULL);
        if (m->message) {
            JSObjectRef from = JSObjectMake(ctx, NULL, NULL);
            put_str(ctx, from, "address", m->message->from_address);
            put_str(ctx, from, "name", m->message->from_name);
            bsj_set(ctx, msg, "from", from);
            put_str(ctx, msg, "to", m->message->to);
            put_str(ctx, msg, "cc", m->message->cc);
            put_str(ctx, msg, "bcc", m->message->bcc);
            put_str(ctx, msg, "subject", m->message->subject);
            put_str(ctx, msg, "html", m->message->html);
            put_str(ctx, msg, "text", m->message->text);
        }
        bsj_set(ctx, o, "message", msg);
        put_json(ctx, o, "meta", m->meta);
        break;
    }
    case BSJ_EV_BACKUP: {
        bs_backup_event *b = (bs_backup_event *)e;
        put_str(ctx, o, "name", b->name);
        JSValueRef *items = b->nexclude ? calloc(b->nexclude, sizeof *items)
                                        : NULL;
        for (size_t i = 0; items && i < b->nexclude; i++)
            items[i] = bsj_string(ctx, b->exclude[i]);
        bsj_set(ctx, o, "exclude",
                JSObjectMakeArray(ctx, items ? b->nexclude : 0, items, NULL));
        free(items);
        break;
    }
    case BSJ_EV_REALTIME: {
        bs_realtime_event *r = (bs_realtime_event *)e;
        put_str(ctx, o, "clientId", r->client_id);
        put_json(ctx, o, "subscriptions", r->subscriptions);
        bsj_set(ctx, o, "idleTimeout",
                JSValueMakeNumber(ctx, (double)r->idle_timeout_ms));
        put_str(ctx, o, "name", r->name);
        if (r->data)
            bsj_set(ctx, o, "data", bsj_string_n(ctx, r->data, r->data_len));
        break;
    }
    }
    return o;
}

/* Replaces a heap string of the event (a mail message's fields). */
static void replace(char **slot, JSContextRef ctx, JSValueRef v)
{
    if (!v || JSValueIsUndefined(ctx, v))
        return;
    char *s = JSValueIsNull(ctx, v) ? NULL : bsj_cstr(ctx, v);
    free(*slot);
    *slot = s;
}

NATIVE(n_set)
{
    int kind = 0;
    bs_event *e = event(ctx, argc, argv, &kind, exc);
    if (!e || argc < 3)
        return JSValueMakeUndefined(ctx);
    char *name = bsj_cstr(ctx, argv[1]);
    if (!name)
        return JSValueMakeUndefined(ctx);
    if (kind == BSJ_EV_COLLECTION && strcmp(name, "collection") == 0) {
        /* The handler's changes, written into the event's object. */
        json_object *col = ((bs_collection_event *)e)->collection;
        json_object *v = bsj_to_json(ctx, argv[2]);
        if (v && col && json_object_is_type(v, json_type_object)) {
            json_object_object_foreach(v, key, val)
                json_object_object_add(col, key, json_object_get(val));
        }
        json_object_put(v);
    } else if (kind == BSJ_EV_MAILER && strcmp(name, "message") == 0 &&
               JSValueIsObject(ctx, argv[2])) {
        bs_mail_message *m = ((bs_mailer_event *)e)->message;
        JSObjectRef o = (JSObjectRef)argv[2];
        if (m) {
            replace(&m->subject, ctx, bsj_get(ctx, o, "subject"));
            replace(&m->html, ctx, bsj_get(ctx, o, "html"));
            replace(&m->text, ctx, bsj_get(ctx, o, "text"));
            JSValueRef to = bsj_get(ctx, o, "to");
            if (to && JSValueIsString(ctx, to))
                replace(&m->to, ctx, to);
        }
    } else if (kind == BSJ_EV_REALTIME &&
               strcmp(name, "subscriptions") == 0) {
        bs_realtime_event *r = (bs_realtime_event *)e;
        json_object *v = bsj_to_json(ctx, argv[2]);
        if (r->subscriptions && v &&
            json_object_is_type(v, json_type_array)) {
            while (json_object_array_length(r->subscriptions) > 0)
                json_object_array_del_idx(
                    r->subscriptions,
                    json_object_array_length(r->subscriptions) - 1, 1);
            for (size_t i = 0; i < json_object_array_length(v); i++)
                json_object_array_add(
                    r->subscriptions,
                    json_object_get(json_object_array_get_idx(v, i)));
        }
        json_object_put(v);
    } else if (kind == BSJ_EV_REALTIME && strcmp(name, "idleTimeout") == 0) {
        ((bs_realtime_event *)e)->idle_timeout_ms =
            (int64_t)JSValueToNumber(ctx, argv[2], NULL);
    } else {
        bsj_throw(ctx, exc, "e.%s cannot be changed in Basalt yet.", name);
    }
    free(name);
    return JSValueMakeUndefined(ctx);
}

/* ---- the request ----------------------------------------------------------- */

NATIVE(n_method)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_req_method(r)) : JSValueMakeUndefined(ctx);
}

NATIVE(n_url)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_req_url(r)) : JSValueMakeUndefined(ctx);
}

NATIVE(n_path)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_req_path(r)) : JSValueMakeUndefined(ctx);
}

typedef const char *(*lookup_fn)(bs_req *, const char *);

static JSValueRef lookup(JSContextRef ctx, size_t argc,
                         const JSValueRef argv[], JSValueRef *exc,
                         lookup_fn fn)
{
    bs_req *r = request(ctx, argc, argv, exc);
    if (!r || argc < 2)
        return JSValueMakeUndefined(ctx);
    char *name = bsj_cstr(ctx, argv[1]);
    const char *v = name ? fn(r, name) : NULL;
    free(name);
    return v ? bsj_string(ctx, v) : JSValueMakeNull(ctx);
}

NATIVE(n_header)
{
    return lookup(ctx, argc, argv, exc, bs_req_header);
}

NATIVE(n_param)
{
    return lookup(ctx, argc, argv, exc, bs_req_param);
}

NATIVE(n_query)
{
    return lookup(ctx, argc, argv, exc, bs_req_query);
}

NATIVE(n_body)
{
    bs_req *r = request(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    size_t n = 0;
    const char *b = bs_req_body(r, &n);
    return bsj_string_n(ctx, b ? b : "", b ? n : 0);
}

NATIVE(n_info_req)
{
    bs_req *r = request(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    json_object *info = bs_req_info(r);
    JSValueRef v = bsj_from_json(ctx, info);
    json_object_put(info);
    return v;
}

NATIVE(n_auth)
{
    bs_req *r = request(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    const char *id = bs_req_auth_id(r);
    const char *col = bs_req_auth_collection(r);
    if (!id || !col)
        return JSValueMakeNull(ctx);
    JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
    put_str(ctx, o, "id", id);
    put_str(ctx, o, "collection", col);
    return o;
}

NATIVE(n_is_superuser)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? JSValueMakeBoolean(ctx, bs_req_is_superuser(r))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_remote_ip)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_req_remote_ip(r))
             : JSValueMakeUndefined(ctx);
}

/* ---- the response ------------------------------------------------------------ */

/* respond(h, status, contentType|null, body|null): body is a string or
 * an array of byte values. */
NATIVE(n_respond)
{
    bs_req *r = request(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    int status = argc > 1 ? (int)JSValueToNumber(ctx, argv[1], NULL) : 200;
    if (status < 100 || status > 999)
        return bsj_throw(ctx, exc, "Invalid status code %d.", status);
    char *type = argc > 2 && JSValueIsString(ctx, argv[2])
                     ? bsj_cstr(ctx, argv[2]) : NULL;
    JSValueRef body = argc > 3 ? argv[3] : NULL;
    if (!body || JSValueIsNull(ctx, body) || JSValueIsUndefined(ctx, body)) {
        bs_resp_empty(r, status);
    } else if (JSValueIsString(ctx, body)) {
        JSStringRef s = JSValueToStringCopy(ctx, body, NULL);
        size_t max = JSStringGetMaximumUTF8CStringSize(s);
        char *text = malloc(max);
        size_t n = text ? JSStringGetUTF8CString(s, text, max) : 0;
        JSStringRelease(s);
        if (text)
            bs_resp_raw(r, status, type ? type : "text/plain", text,
                        n ? n - 1 : 0);
        free(text);
    } else if (JSValueIsObject(ctx, body)) {
        JSObjectRef a = (JSObjectRef)body;
        size_t n = (size_t)JSValueToNumber(ctx, bsj_get(ctx, a, "length"),
                                           NULL);
        char *bytes = malloc(n ? n : 1);
        for (size_t i = 0; bytes && i < n; i++)
            bytes[i] = (char)(int)JSValueToNumber(
                ctx, JSObjectGetPropertyAtIndex(ctx, a, (unsigned)i, NULL),
                NULL);
        if (bytes)
            bs_resp_raw(r, status,
                        type ? type : "application/octet-stream", bytes, n);
        free(bytes);
    }
    free(type);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_resp_header)
{
    bs_req *r = request(ctx, argc, argv, exc);
    if (!r || argc < 3)
        return JSValueMakeUndefined(ctx);
    char *name = bsj_cstr(ctx, argv[1]);
    char *value = bsj_cstr(ctx, argv[2]);
    if (name && value && !strpbrk(name, "\r\n:") && !strpbrk(value, "\r\n"))
        bs_resp_header(r, name, value);
    else
        bsj_throw(ctx, exc, "Invalid header.");
    free(name);
    free(value);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_responded)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? JSValueMakeBoolean(ctx, bs_req_responded(r))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_status)
{
    bs_req *r = request(ctx, argc, argv, exc);
    return r ? JSValueMakeNumber(ctx, bs_req_responded(r)
                                          ? bs_req_status(r) : 0)
             : JSValueMakeUndefined(ctx);
}

void bsj_bind_event(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "next", n_next);
    bsj_def(ctx, n, "evRecord", n_record);
    bsj_def(ctx, n, "evInfo", n_info);
    bsj_def(ctx, n, "evSet", n_set);
    bsj_def(ctx, n, "reqMethod", n_method);
    bsj_def(ctx, n, "reqUrl", n_url);
    bsj_def(ctx, n, "reqPath", n_path);
    bsj_def(ctx, n, "reqHeader", n_header);
    bsj_def(ctx, n, "reqParam", n_param);
    bsj_def(ctx, n, "reqQuery", n_query);
    bsj_def(ctx, n, "reqBody", n_body);
    bsj_def(ctx, n, "reqInfo", n_info_req);
    bsj_def(ctx, n, "reqAuth", n_auth);
    bsj_def(ctx, n, "reqIsSuperuser", n_is_superuser);
    bsj_def(ctx, n, "reqRemoteIp", n_remote_ip);
    bsj_def(ctx, n, "respond", n_respond);
    bsj_def(ctx, n, "respHeader", n_resp_header);
    bsj_def(ctx, n, "responded", n_responded);
    bsj_def(ctx, n, "respStatus", n_status);
}
