/*
 * server.c - libmicrohttpd glue and the request pipeline.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * when the headers are in, once per chunk of body, and a last time with
 * no data. The bs_req is created by the URI log callback (which sees the
 * raw request target first), the body is collected chunk by chunk, and
 * the pipeline runs on the last call, when the response is queued. A
 * response queued on the very first call forces Connection: close; that
 * is used on purpose to refuse a body before reading it (413, 501).
 *
 * Hostile clients. libmicrohttpd's own connection timeout is an idle
 * timeout, reset by every byte, so a client that sends one header line
 * every few seconds holds its connection forever. The server therefore
 * keeps every connection that waits for a request head (a new one, or a
 * kept-alive one between requests) in a list ordered by deadline. The
 * deadline is always "now + head_timeout", so appending keeps the order
 * and the oldest entry is at the front. The access handler's first call
 * (the head is complete) takes the connection off the list; a completed
 * request on a kept-alive connection puts it back. A sweeper thread pops
 * expired entries and shuts their socket down, which makes the worker
 * that owns the connection see end-of-file and close it. The list and the
 * shutdown are under one mutex, and libmicrohttpd 0.9.75 reports a
 * connection as closed (where it leaves the list) before it closes the
 * socket, so the sweeper never touches a descriptor that was reused.
 *
 * Memory after a burst. Every open connection holds a memory pool (see
 * MEMORY_LIMIT), taken from malloc; when a burst of connections ends,
 * malloc keeps their pages for reuse, so the process would stay at its
 * busiest size for good. The sweeper also watches the number of open
 * connections: once it has fallen to a quarter of its peak since the
 * last look (and the peak was a burst), it hands malloc's free pages back
 * to the system, at most once a second. Under steady load the count
 * stays near its peak and nothing is trimmed.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../base/util.h"
#include "defer.h"
#include "fields.h"
#include "stream.h"

/* The default deadline for a complete request head (see server.h). */
#define HEAD_TIMEOUT_MS 30000u

/* libmicrohttpd's per-connection memory pool. It holds the request head,
 * so it bounds the request line plus headers: about 28 KiB fit. Past it
 * the library answers by itself, 414 for a long request line and 431 for
 * long headers, with a short HTML body, and closes the connection.
 * 32 KiB is the largest pool the library takes from malloc; larger pools
 * are mmapped per connection and zeroed whole after every request, which
 * measured (bench/run.sh health, this 2-core machine) at half the
 * new-connection rate (16k against 36k req/s) and +2 us per kept-alive
 * request, and 64 KiB resident per kept-alive connection. Query
 * arguments take no pool room (see uri_log). */
#define MEMORY_LIMIT ((size_t)32 << 10)

/* Open connections that make a burst worth trimming after (about 1 MB
 * of pools), and the least time between two trims. */
#define TRIM_BURST 32
#define TRIM_EVERY_MS 1000

/* How long a refused connection stays half-open, and how many may. */
#define LINGER_MS 1000
#define LINGER_MAX 1024

/* One TCP connection: libmicrohttpd's socket_context. */
typedef struct bs_conn {
    struct bs_conn *prev, *next; /* in the waiting list when `waiting` */
    int64_t deadline;            /* bs_mono_ms() by which the head must
                                  * be complete */
    int fd;
    bool waiting;
    bool linger;                 /* refused a body: close gently */
} bs_conn;

/* A refused connection's socket, kept open a little after libmicrohttpd
 * closed its own descriptor (see linger_push). */
typedef struct bs_linger {
    struct bs_linger *next;
    int64_t deadline;
    int fd;
} bs_linger;

struct bs_server {
    struct MHD_Daemon *daemon;
    bs_server_config cfg;
    int port;
    atomic_int active; /* requests between their first byte and the end
                        * of their response, for a graceful drain */

    /* Connections waiting for a request head, oldest deadline first.
     * Guarded by `lock`; `wake` wakes the sweeper early. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bs_conn *wait_head, *wait_tail;
    bs_linger *linger_head, *linger_tail; /* oldest deadline first */
    int nlinger;
    bool stopping;
    bool sweeper_running;
    pthread_t sweeper;

    /* Open connections, and their peak since the sweeper last trimmed
     * malloc's free pages (see the top of the file). */
    atomic_int open;
    atomic_int open_peak;
    int64_t trimmed_at;

    /* Requests whose answer is deferred (defer.h), closed at a stop. */
    bs_defer_set defers;
};

/* Appends c to the waiting list with a fresh deadline. Takes the lock. */
static void wait_push(bs_server *s, bs_conn *c)
{
    pthread_mutex_lock(&s->lock);
    if (!c->waiting) {
        c->deadline = bs_mono_ms() + s->cfg.head_timeout_ms;
        c->prev = s->wait_tail;
        c->next = NULL;
        if (s->wait_tail)
            s->wait_tail->next = c;
        else
            s->wait_head = c;
        s->wait_tail = c;
        c->waiting = true;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Unlinks c from the waiting list; the caller holds the lock. */
static void wait_unlink(bs_server *s, bs_conn *c)
{
    if (!c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->wait_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->wait_tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
}

static void wait_remove(bs_server *s, bs_conn *c)
{
    pthread_mutex_lock(&s->lock);
    wait_unlink(s, c);
    pthread_mutex_unlock(&s->lock);
}

/* Keeps a refused connection's socket open for LINGER_MS after
 * libmicrohttpd closes it. A client still sending the refused body would
 * otherwise get a reset (the kernel answers unread data with RST) and may
 * lose the answer before reading it; with a duplicate descriptor held,
 * the socket stays half-closed (libmicrohttpd already shut its sending
 * side down) and the client reads the answer and the end of stream first.
 * Go's server does the same. Called on the connection's worker. */
static void linger_push(bs_server *s, int fd)
{
    bs_linger *l = malloc(sizeof *l);
    int dupfd = l ? dup(fd) : -1;
    if (dupfd < 0) {
        free(l);
        return;
    }
    l->fd = dupfd;
    l->next = NULL;
    l->deadline = bs_mono_ms() + LINGER_MS;
    pthread_mutex_lock(&s->lock);
    if (s->nlinger < LINGER_MAX) {
        if (s->linger_tail)
            s->linger_tail->next = l;
        else
            s->linger_head = l;
        s->linger_tail = l;
        s->nlinger++;
        l = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (l) {
        close(l->fd);
        free(l);
    }
}

/* Closes lingering sockets whose time is up (all of them when now is
 * INT64_MAX). The caller holds the lock. */
static void linger_expire(bs_server *s, int64_t now)
{
    while (s->linger_head && s->linger_head->deadline <= now) {
        bs_linger *l = s->linger_head;
        s->linger_head = l->next;
        if (!s->linger_head)
            s->linger_tail = NULL;
        s->nlinger--;
        close(l->fd);
        free(l);
    }
}

/* The connection's bs_conn, or NULL (out of memory when it started). */
static bs_conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Gives malloc's free pages back once a burst of connections is over;
 * called by the sweeper, which holds the lock. Returns whether a burst
 * is still being watched (the sweeper then looks again within
 * TRIM_EVERY_MS). */
static bool trim_after_burst(bs_server *s, int64_t now)
{
    int peak = atomic_load_explicit(&s->open_peak, memory_order_relaxed);
    if (peak < TRIM_BURST)
        return false;
    int open = atomic_load_explicit(&s->open, memory_order_relaxed);
    if (open > peak / 4 || now - s->trimmed_at < TRIM_EVERY_MS)
        return true;
    atomic_store_explicit(&s->open_peak, open, memory_order_relaxed);
    s->trimmed_at = now;
    pthread_mutex_unlock(&s->lock);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    pthread_mutex_lock(&s->lock);
    return open >= TRIM_BURST;
}

/* The sweeper thread: shuts down connections whose head deadline passed.
 * Sleeps until the oldest deadline, or a whole timeout when none waits
 * (a new entry's deadline is never earlier than that). */
static void *sweep(void *arg)
{
    bs_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = bs_mono_ms();
        while (s->wait_head && s->wait_head->deadline <= now) {
            bs_conn *c = s->wait_head;
            wait_unlink(s, c);
            shutdown(c->fd, SHUT_RDWR);
        }
        linger_expire(s, now);
        int64_t until = s->wait_head ? s->wait_head->deadline
                                     : now + s->cfg.head_timeout_ms;
        if (s->linger_head && s->linger_head->deadline < until)
            until = s->linger_head->deadline;
        if (trim_after_burst(s, now) && now + TRIM_EVERY_MS < until)
            until = now + TRIM_EVERY_MS;
        struct timespec ts;
        bs_mono_deadline(&ts, until - now);
        pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    }
    linger_expire(s, INT64_MAX);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* libmicrohttpd's connection callback: a connection starts waiting for
 * its first head when it opens and leaves every list before it closes. */
static void notify_connection(void *cls, struct MHD_Connection *mc,
                              void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    bs_server *s = cls;
    bs_conn *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        int open = atomic_fetch_add_explicit(&s->open, 1,
                                             memory_order_relaxed) + 1;
        int peak = atomic_load_explicit(&s->open_peak, memory_order_relaxed);
        while (open > peak &&
               !atomic_compare_exchange_weak_explicit(
                   &s->open_peak, &peak, open, memory_order_relaxed,
                   memory_order_relaxed))
            ;
        if (open == TRIM_BURST) {
            /* The sweeper may be asleep until a far deadline: have it
             * watch this burst. */
            pthread_mutex_lock(&s->lock);
            pthread_cond_signal(&s->wake);
            pthread_mutex_unlock(&s->lock);
        }
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = calloc(1, sizeof *c);
        if (!c || !ci) {
            /* Without a bs_conn the connection has no head deadline; the
             * idle timeout still ends it. */
            free(c);
            *socket_context = NULL;
            return;
        }
        c->fd = ci->connect_fd;
        *socket_context = c;
        wait_push(s, c);
        return;
    }
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        atomic_fetch_sub_explicit(&s->open, 1, memory_order_relaxed);
    if (c) {
        wait_remove(s, c);
        if (c->linger)
            linger_push(s, c->fd);
        free(c);
        *socket_context = NULL;
    }
}

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
    r->uploads = &s->cfg.uploads;
    r->url = bs_arena_strdup(&r->arena, uri ? uri : "/");
    /* libmicrohttpd 0.9.75 stores every query argument in the
     * connection's fixed memory pool right after this callback, from this
     * same buffer; a few hundred short arguments exhaust the pool, and it
     * then stalls the connection instead of answering. The request parses
     * its query itself (from r->url, see request.c), so the library is
     * handed an empty query by ending the string just past the '?'. */
    char *q = uri && r->url ? strchr(uri, '?') : NULL;
    if (q && q[1])
        q[1] = '\0';
    return r;
}

static void req_free(bs_server *s, bs_req *r)
{
    if (!r)
        return;
    if (r->defer)
        bs_defer_release(r->defer, &s->defers);
    if (r->fd >= 0)
        close(r->fd);
    bs_req_drop_reader(r);
    bs_req_upload_dispose(r); /* removes spooled files not kept */
    bs_buf_dispose(&r->body);
    bs_buf_dispose(&r->resp);
    bs_arena_dispose(&r->arena);
    free(r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    bs_server *s = cls;
    /* A kept-alive connection now waits for its next head. (One that is
     * about to close leaves the list again when it closes.) */
    bs_conn *conn = conn_of(c);
    if (conn && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        wait_push(s, conn);
    if (*con_cls) {
        req_free(s, *con_cls);
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
    bool streamed = r->stream != NULL;
    pick_fields(r);
    if (streamed) {
        /* A streamed response (realtime): written as its owner produces
         * it, on a connection suspended while there is nothing to send;
         * see stream.c. */
        resp = bs_stream_response(r);
    } else if (r->fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(r->fd_size, r->fd,
                                                       r->fd_offset);
        r->fd = -1; /* owned by the response now */
    } else if (r->body_read) {
        resp = MHD_create_response_from_callback(r->body_size, 64 * 1024,
                                                 r->body_read, r->body_ctx,
                                                 r->body_free);
        if (resp)
            r->body_read = NULL; /* owned by the response now */
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
    if (streamed) {
        /* A stream may stay open for hours: the request's memory (its
         * arena holds the head's copies) is no longer needed. */
        bs_buf_dispose(&r->body);
        bs_buf_dispose(&r->resp);
        bs_arena_dispose(&r->arena);
    }
    return ok;
}

typedef struct te_scan {
    int count;
    bool other; /* a coding other than "chunked" */
} te_scan;

static void scan_te(void *user, const char *key, const char *value)
{
    te_scan *t = user;
    if (strcasecmp(key, "Transfer-Encoding") != 0)
        return;
    t->count++;
    if (strcasecmp(value, "chunked") != 0)
        t->other = true;
}

/* Checks the head before any body is read. Answers (on this first call,
 * which closes the connection after the answer) when the body must not be
 * read at all: a transfer coding other than plain "chunked" (which
 * libmicrohttpd would read as a body that ends only when the client
 * closes), or a Content-Length over the limit. Returns true if it
 * answered. */
static bool refuse_early(bs_req *r)
{
    te_scan t = {0, false};
    bs_req_foreach(r, 0, scan_te, &t);
    if (t.count > 1 || t.other) {
        bs_resp_status_error(r, 501, "Unsupported transfer encoding.");
        return true;
    }
    const char *cl = bs_req_header(r, "Content-Length");
    if (t.count == 0 && cl) {
        /* libmicrohttpd has already answered a malformed length itself. */
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno == ERANGE || n > r->body_limit) {
            bs_resp_status_error(r, 413, "Request entity too large.");
            return true;
        }
    }
    return false;
}

/* A chunked body passed the limit. libmicrohttpd accepts a response only
 * before the body or after all of it, so the 413 is written to the socket
 * directly (nothing else is being written on this connection while its
 * body is read) and the connection is then closed by returning MHD_NO. */
static enum MHD_Result refuse_body(struct MHD_Connection *c, bs_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    bs_conn *conn = conn_of(c);
    bs_resp_status_error(r, 413, "Request entity too large.");
    if (conn)
        conn->linger = true;
    if (!ci)
        return MHD_NO;
    bs_buf out;
    bs_buf_init(&out);
    bs_buf_printf(&out,
                  "HTTP/1.1 413 Request Entity Too Large\r\n"
                  "Connection: close\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  r->resp.len);
    bs_buf_append(&out, r->resp.data, r->resp.len);
    if (!out.oom) {
        /* Best effort: a short answer fits in an idle socket's buffer. */
        ssize_t n = send(ci->connect_fd, out.data, out.len,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n;
    }
    bs_buf_dispose(&out);
    return MHD_NO;
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
        /* First call: the head is complete, the body not read yet. */
        bs_conn *conn = conn_of(c);
        if (conn)
            wait_remove(s, conn);
        r->method = bs_arena_strdup(&r->arena, method);
        r->is_head = strcmp(method, "HEAD") == 0;
        if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
            !bs_req_header(r, "Host"))
            r->bad_host = true;
        bs_req_upload_begin(r); /* a multipart body streams to disk */
        if (refuse_early(r)) {
            if (conn)
                conn->linger = true;
            return send_response(c, r);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        r->body_seen += n;
        if (r->body_seen > r->body_limit)
            return refuse_body(c, r);
        if (r->upload) {
            if (bs_req_upload_feed(r, upload_data, n) != 0)
                return refuse_body(c, r);
        } else if (!r->drop_body) {
            bs_buf_append(&r->body, upload_data, n);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (r->defer) {
        /* Resumed: the deferred work is done (or the server stops). */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                                  s->cfg.timeout_s ? s->cfg.timeout_s : 60u);
        if (!bs_defer_answer(r->defer, r))
            return MHD_NO;
        return send_response(c, r);
    }

    /* Last call: run the pipeline. */
    bs_req_upload_end(r);
    r->status = 200;
    if (r->bad_host) {
        bs_resp_status_error(r, 400, "Missing required Host header.");
    } else if (r->body.oom) {
        bs_resp_status_error(r, 500, NULL);
    } else {
        int rc = bs_hook_trigger(s->cfg.middlewares, &r->ev, route_request,
                                 s);
        if (r->defer) {
            /* The answer comes later: the connection waits suspended,
             * holding no thread, until the owner resumes it (then this
             * handler is called again, above). */
            if (bs_defer_suspend(r->defer, &s->defers, c)) {
                MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                                          (unsigned)0);
                return MHD_YES;
            }
            if (!bs_defer_answer(r->defer, r))
                return MHD_NO;
        } else if (!r->responded) {
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

/* Stops the sweeper and frees the server (its daemon already stopped). */
static void server_free(bs_server *s)
{
    if (s->sweeper_running) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->sweeper, NULL);
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    bs_defer_set_dispose(&s->defers);
    free(s);
}

/* Raises the soft limit on open files to the hard limit (each connection
 * is a descriptor) and returns how many connections to allow: the limit
 * less a reserve for database, static and internal files. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1000;
    if (rl.rlim_cur < rl.rlim_max) {
        /* An unlimited hard limit may be refused (it is above the
         * kernel's nr_open); then try the usual nr_open. */
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) != 0 &&
            rl.rlim_max > (rlim_t)1 << 20) {
            want.rlim_cur = (rlim_t)1 << 20;
            (void)setrlimit(RLIMIT_NOFILE, &want); /* best effort */
        }
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t n = rl.rlim_cur;
    if (n > (rlim_t)1 << 22)
        n = (rlim_t)1 << 22;
    rlim_t reserve = n / 16 > 128 ? n / 16 : 128;
    return n > reserve + 16 ? (unsigned)(n - reserve) : 16u;
}

/* An unsigned number from the environment, or def when unset or not a
 * number. For limits that tests and operators tune without a flag. */
static unsigned env_unsigned(const char *name, unsigned def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return *end || n > 0xffffffffUL ? def : (unsigned)n;
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
    if (!s->cfg.head_timeout_ms)
        s->cfg.head_timeout_ms =
            env_unsigned("BASALT_HEAD_TIMEOUT_MS", HEAD_TIMEOUT_MS);
    if (!s->cfg.head_timeout_ms)
        s->cfg.head_timeout_ms = HEAD_TIMEOUT_MS;
    if (!s->cfg.per_ip_limit)
        s->cfg.per_ip_limit = env_unsigned("BASALT_PER_IP_LIMIT", 0);
    unsigned threads = (unsigned)(cfg->threads > 0 ? cfg->threads : 1);
    unsigned limit = connection_limit();
    if (limit < threads)
        limit = threads;

    pthread_mutex_init(&s->lock, NULL);
    bs_defer_set_init(&s->defers);
    bs_cond_init_monotonic(&s->wake);
    int rc = 0;
    if (pthread_create(&s->sweeper, NULL, sweep, s) != 0) {
        rc = bs_error_set(err, 500, "Failed to start a thread.");
        goto end;
    }
    s->sweeper_running = true;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, notify_connection, s,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : 60u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, MEMORY_LIMIT,
        MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.per_ip_limit,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_END);
    if (!s->daemon) {
        rc = bs_error_set(err, 500, "Failed to listen on %s: %s", cfg->addr,
                          strerror(errno));
        goto end;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : ntohs(sa.sin_port);
    *out = s;
end:
    if (rc)
        server_free(s);
    return rc;
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
    /* Deferred answers still waiting (a long backup) are not waited for:
     * their connections are closed (libmicrohttpd does not stop with
     * suspended connections). */
    bs_defer_cancel_all(&s->defers);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    server_free(s);
}
