/*
 * request.c - request accessors and response builders.
 */
#include "request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <unistd.h>

#include "../base/error.h"
#include "../base/util.h"
#include "../base/json.h"
#include "body.h"
#include "urlencoded.h"

/* Case-insensitive lookup in an internal request's header object. */
static const char *internal_header(const json_object *h, const char *name)
{
    if (!h)
        return NULL;
    json_object_object_foreach((json_object *)h, k, v) {
        if (strcasecmp(k, name) == 0)
            return json_object_get_string(v);
    }
    return NULL;
}

/* Splits r->url's query into r->query_keys/values (decoded, in order).
 * On out of memory the request simply has fewer arguments. */
static void parse_query(bs_req *r)
{
    r->query_parsed = true;
    const char *q = strchr(r->url, '?');
    if (!q || !q[1])
        return;
    q++;
    int cap = 1;
    for (const char *p = q; *p; p++)
        cap += *p == '&';
    r->query_keys = bs_arena_alloc(&r->arena, (size_t)cap * sizeof(char *));
    r->query_values = bs_arena_alloc(&r->arena, (size_t)cap * sizeof(char *));
    if (!r->query_keys || !r->query_values)
        return;
    bs_buf b;
    bs_buf_init(&b);
    for (const char *p = q; *p;) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        if (n) {
            bs_buf_reset(&b);
            bs_urlencoded_decode(p, kn, &b);
            const char *k = bs_arena_strndup(&r->arena, b.data ? b.data : "",
                                             b.len);
            const char *v = NULL;
            if (eq) {
                bs_buf_reset(&b);
                bs_urlencoded_decode(eq + 1, n - kn - 1, &b);
                v = bs_arena_strndup(&r->arena, b.data ? b.data : "", b.len);
            }
            if (k && (v || !eq) && !b.oom) {
                r->query_keys[r->nquery] = k;
                r->query_values[r->nquery] = v;
                r->nquery++;
            }
        }
        p += n;
        if (*p == '&')
            p++;
    }
    bs_buf_dispose(&b);
}

const char *bs_req_header(bs_req *r, const char *name)
{
    if (!r->conn)
        return internal_header(r->int_headers, name);
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *bs_req_query(bs_req *r, const char *name)
{
    if (!r->conn) {
        json_object *v = NULL;
        if (!r->int_query ||
            !json_object_object_get_ex(r->int_query, name, &v))
            return NULL;
        return json_object_get_string(v);
    }
    if (!r->query_parsed)
        parse_query(r);
    for (int i = 0; i < r->nquery; i++) {
        if (strcmp(r->query_keys[i], name) == 0)
            return r->query_values[i];
    }
    return NULL;
}

int64_t bs_req_query_int(bs_req *r, const char *name, int64_t def)
{
    const char *s = bs_req_query(r, name);
    if (!s || !*s)
        return def;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end ? def : (int64_t)v;
}

bool bs_req_query_bool(bs_req *r, const char *name)
{
    const char *s = bs_req_query(r, name);
    return s && (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
                 strcasecmp(s, "t") == 0);
}

typedef struct kv_ctx {
    bs_req_kv_fn fn;
    void *user;
} kv_ctx;

static enum MHD_Result kv_iter(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    kv_ctx *c = cls;
    (void)kind;
    if (key)
        c->fn(c->user, key, value ? value : "");
    return MHD_YES;
}

void bs_req_foreach(bs_req *r, int kind, bs_req_kv_fn fn, void *user)
{
    if (!r->conn) {
        json_object *src = kind == 0 ? r->int_headers : r->int_query;
        if (!src)
            return;
        json_object_object_foreach(src, k, v) {
            fn(user, k, json_object_get_string(v));
        }
        return;
    }
    if (kind == 1) {
        if (!r->query_parsed)
            parse_query(r);
        for (int i = 0; i < r->nquery; i++)
            fn(user, r->query_keys[i],
               r->query_values[i] ? r->query_values[i] : "");
        return;
    }
    kv_ctx c = {fn, user};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, kv_iter, &c);
}

const char *bs_req_param(bs_req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++) {
        if (strcmp(r->param_names[i], name) == 0)
            return r->param_values[i];
    }
    return NULL;
}

/* Writes an IPv4 address in dotted decimal form (what inet_ntop writes,
 * without its printf). */
static void ipv4_text(const struct in_addr *a, char *out)
{
    const unsigned char *b = (const unsigned char *)&a->s_addr;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

const char *bs_req_remote_ip(bs_req *r)
{
    if (!r->conn)
        return r->parent ? bs_req_remote_ip(r->parent) : "";
    if (r->remote_ip)
        return r->remote_ip;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return "";
    char *ip = bs_arena_alloc(&r->arena, 64);
    if (!ip)
        return "";
    const struct sockaddr *sa = ci->client_addr;
    ip[0] = '\0';
    r->remote_ip = ip;
    if (sa->sa_family == AF_INET) {
        ipv4_text(&((const struct sockaddr_in *)sa)->sin_addr, ip);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                  ip, 64);
    }
    return ip;
}

int bs_req_json_body(bs_req *r, json_object **out, bs_error *err)
{
    int rc = bs_body_json(r->body.data, r->body.len, out);
    if (rc == BS_EINVAL)
        return bs_error_set(err, 400,
                            "An error occurred while loading the submitted "
                            "data.");
    return rc;
}

int bs_req_read_body(bs_req *r, bs_body *out, bs_error *err)
{
    if (r->streamed) {
        /* Streamed as it arrived (upload.c): handed over once; a second
         * read sees an empty form. */
        memset(out, 0, sizeof *out);
        if (r->form_rc)
            return bs_error_set(err, 400,
                                "Failed to read the submitted data.");
        if (r->form) {
            *out = *r->form;
            free(r->form);
            r->form = NULL;
            return 0;
        }
        out->form = true;
        out->data = json_object_new_object();
        return out->data ? 0 : BS_ENOMEM;
    }
    int rc = bs_body_parse(bs_req_header(r, "Content-Type"), r->body.data,
                           r->body.len, out, err);
    if (rc == 0 && r->int_files) {
        out->files = r->int_files;
        out->nfiles = r->int_nfiles;
        out->files_borrowed = true;
        out->files_prefix = r->int_files_prefix;
    }
    return rc;
}

void bs_req_drop_reader(bs_req *r)
{
    if (r->body_read && r->body_free)
        r->body_free(r->body_ctx);
    r->body_read = NULL;
    r->body_free = NULL;
    r->body_ctx = NULL;
}

static void set_body(bs_req *r, int status, const char *ctype)
{
    r->status = status;
    r->content_type = ctype;
    r->responded = true;
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
    bs_req_drop_reader(r);
    bs_buf_reset(&r->resp);
}

void bs_resp_json(bs_req *r, int status, const json_object *v)
{
    set_body(r, status, "application/json");
    bs_json_write(&r->resp, v);
    bs_buf_putc(&r->resp, '\n');
}

void bs_resp_raw(bs_req *r, int status, const char *content_type,
                 const char *body, size_t len)
{
    /* The type is copied: a caller's buffer may be gone by the time the
     * response is sent. */
    set_body(r, status,
             content_type ? bs_arena_strdup(&r->arena, content_type) : NULL);
    bs_buf_append(&r->resp, body, len);
}

void bs_resp_empty(bs_req *r, int status)
{
    set_body(r, status, NULL);
}

void bs_resp_error(bs_req *r, const bs_error *e)
{
    int status = e->status ? e->status : 400;
    set_body(r, status, "application/json");
    bs_error_write_json(e, &r->resp);
}

void bs_resp_status_error(bs_req *r, int status, const char *message)
{
    bs_error e = {.status = status, .message = (char *)message};
    bs_resp_error(r, &e);
}

void bs_resp_header(bs_req *r, const char *name, const char *value)
{
    for (int i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->hdr_names[i], name) == 0) {
            r->hdr_values[i] = value;
            return;
        }
    }
    if (r->nheaders < BS_MAX_RESP_HEADERS) {
        r->hdr_names[r->nheaders] = name;
        r->hdr_values[r->nheaders] = value;
        r->nheaders++;
    }
}

int bs_req_fail(bs_req *r, int rc, const bs_error *err)
{
    if (err && err->status) {
        bs_resp_error(r, err);
    } else if (rc == BS_ENOTFOUND) {
        bs_resp_status_error(r, 404, NULL);
    } else if (rc == BS_EINVAL) {
        bs_resp_status_error(r, 400, NULL);
    } else {
        bs_resp_status_error(r, 500, "Something went wrong while processing "
                                     "your request.");
    }
    return rc;
}

/* Keeps the first value of each non-empty key. */
static int query_pair(void *user, const char *key, size_t klen,
                      const char *value, size_t vlen)
{
    json_object *o = user;
    (void)klen;
    if (*key && !json_object_object_get_ex(o, key, NULL))
        json_object_object_add(o, key,
                               json_object_new_string_len(value, (int)vlen));
    return 0;
}

json_object *bs_query_string_parse(const char *qs)
{
    json_object *o = json_object_new_object();
    if (o && qs)
        bs_urlencoded_parse(qs, strlen(qs), query_pair, o);
    return o;
}

const char *bs_req_body(bs_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return r->body.data ? r->body.data : "";
}
