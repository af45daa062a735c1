/*
 * server.c - libmicrohttpd glue and the request pipeline.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * when the headers are in, once per chunk of body, and a last time with
 * no data. The bs_req is created by the URI log callback (which sees the
 * raw request target first), the body is collected chunk by chunk, and
 * the pipeline runs on the last call, when the response is queued. (A
 * response queued on the very first call would force Connection: close.)
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/util.h"
#include "fields.h"

struct bs_server {
    struct MHD_Daemon *daemon;
    bs_server_config cfg;
    int port;
    atomic_int active; /* requests between their first byte and the end
                        * of their response, for a graceful drain */
};

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    bs_server *s = cls;
    bs_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    atomic_fetch_add(&s->active, 1);
    bs_arena_init(&r->arena, 8192);
    bs_buf_init(&r->body);
    bs_buf_init(&r->resp);
    r->fd = -1;
    r->conn = c;
    r->ev.app = s->cfg.app;
    r->body_limit = s->cfg.body_limit;
    r->url = bs_arena_strdup(&r->arena, uri ? uri : "/");
    return r;
}

static void req_free(bs_req *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    bs_buf_dispose(&r->body);
    bs_buf_dispose(&r->resp);
    bs_arena_dispose(&r->arena);
    free(r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    bs_server *s = cls;
    (void)c;
    (void)toe;
    if (*con_cls) {
        req_free(*con_cls);
        atomic_fetch_sub(&s->active, 1);
    }
    *con_cls = NULL;
}

/* The router as the innermost step of the global middleware chain. */
static int route_request(bs_event *e, void *user)
{
    bs_server *s = user;
    bs_req *r = (bs_req *)e;
    /* The raw path: request target up to '?'. */
    const char *q = strchr(r->url, '?');
    const char *raw = q ? bs_arena_strndup(&r->arena, r->url,
                                           (size_t)(q - r->url))
                        : r->url;
    const bs_route *route =
        bs_router_match(s->cfg.router, r, r->method, raw);
    if (!route) {
        /* Like PocketBase, a path known under another method is still a
         * 404: its router has a catch-all route and never answers 405. */
        bs_resp_status_error(r, 404, NULL);
        return 0;
    }
    return bs_route_run(route, r);
}

/* Applies the `fields` query parameter to a successful JSON response. */
static void pick_fields(bs_req *r)
{
    const char *spec = bs_req_query(r, "fields");
    if (spec && *spec && r->fd < 0 && r->status < 300 && r->content_type &&
        strcmp(r->content_type, "application/json") == 0)
        bs_fields_apply(spec, r->search_result, &r->resp);
}

static enum MHD_Result send_response(struct MHD_Connection *c, bs_req *r)
{
    struct MHD_Response *resp;
    pick_fields(r);
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(r->fd_size, r->fd,
                                                       r->fd_offset);
        r->fd = -1; /* owned by the response now */
    } else {
        size_t len = 0;
        char *body = bs_buf_steal(&r->resp, &len);
        resp = MHD_create_response_from_buffer(len, body,
                                               MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(body);
    }
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->hdr_names[i], r->hdr_values[i]);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c,
                                      const char *url, const char *method,
                                      const char *version,
                                      const char *upload_data,
                                      size_t *upload_data_size,
                                      void **con_cls)
{
    bs_server *s = cls;
    bs_req *r = *con_cls;
    (void)url;
    if (!r)
        return MHD_NO; /* out of memory in uri_log */
    if (!r->method) {
        /* First call: headers only. */
        r->method = bs_arena_strdup(&r->arena, method);
        r->is_head = strcmp(method, "HEAD") == 0;
        if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
            !bs_req_header(r, "Host"))
            r->bad_host = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        r->body_seen += n;
        if (r->body.len + n <= r->body_limit)
            bs_buf_append(&r->body, upload_data, n);
        *upload_data_size = 0;
        return MHD_YES;
    }

    /* Last call: run the pipeline. */
    r->status = 200;
    if (r->bad_host) {
        bs_resp_status_error(r, 400, "Missing required Host header.");
    } else if (r->body_seen > r->body_limit) {
        bs_resp_status_error(r, 413, "Request entity too large.");
    } else if (r->body.oom) {
        bs_resp_status_error(r, 500, NULL);
    } else {
        int rc = bs_hook_trigger(s->cfg.middlewares, &r->ev, route_request,
                                 s);
        if (!r->responded) {
            if (rc && r->ev.error && r->ev.error->status)
                bs_resp_error(r, r->ev.error);
            else if (rc)
                bs_req_fail(r, rc, NULL);
            else
                bs_resp_empty(r, 204);
        }
    }
    return send_response(c, r);
}

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return BS_EINVAL;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return BS_EINVAL;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0) {
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
        return 0;
    }
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return BS_EINVAL;
    return 0;
}

int bs_server_start(bs_server **out, const bs_server_config *cfg,
                    bs_error *err)
{
    *out = NULL;
    struct sockaddr_in sa;
    if (parse_addr(cfg->addr, &sa) != 0)
        return bs_error_set(err, 400, "Invalid address \"%s\"", cfg->addr);
    bs_server *s = calloc(1, sizeof *s);
    if (!s)
        return BS_ENOMEM;
    s->cfg = *cfg;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads > 0 ? cfg->threads : 1),
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 60u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_END);
    if (!s->daemon) {
        free(s);
        return bs_error_set(err, 500, "Failed to listen on %s: %s",
                            cfg->addr, strerror(errno));
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : ntohs(sa.sin_port);
    *out = s;
    return 0;
}

int bs_server_port(const bs_server *s)
{
    return s->port;
}

void bs_server_stop(bs_server *s, int drain_ms)
{
    if (!s)
        return;
    MHD_socket ls = MHD_quiesce_daemon(s->daemon);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    /* Wait for requests in flight; idle keep-alive connections are
     * simply closed by MHD_stop_daemon. */
    int64_t deadline = bs_mono_ms() + drain_ms;
    while (atomic_load(&s->active) > 0 && bs_mono_ms() < deadline)
        usleep(5 * 1000);
    MHD_stop_daemon(s->daemon);
    free(s);
}
