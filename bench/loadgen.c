/*
 * loadgen.c — a small HTTP/1.1 load generator for Basalt's benchmarks.
 *
 * It sends a fixed number of requests (-n) over a fixed number of concurrent
 * connections (-c) and reports what PocketBase's published benchmarks report
 * (requests, errors, best and worst latency, total wall time, requests per
 * second) plus p50/p99 latency and, with --pid, the server's peak resident
 * memory.  It depends on libc and pthreads only.
 *
 * Design.  One or two worker threads each run an epoll loop over their share
 * of the connections; every socket is non-blocking and level-triggered.  A
 * connection has at most one request in flight (no pipelining).  Requests are
 * numbered by one shared atomic counter: a connection claims the next number
 * when it is ready to send, so the threads finish together and request i
 * always uses path i mod npaths (--paths) and body i mod nbodies (--bodies).
 * Each request's latency is stored at its own index of one array, so no
 * locking is needed; percentiles come from sorting that array at the end.
 *
 * Latency runs from the moment the request starts going out (the connect()
 * for a new connection, the write for a kept-alive one) to the moment its
 * response has been read in full.  Responses are parsed properly:
 * Content-Length, chunked transfer encoding (with trailers), bodies delimited
 * by the connection closing, 1xx interim responses, and "Connection: close".
 *
 * In --new-conn mode each request opens a TCP connection, sends
 * "Connection: close", reads the response and closes the socket with
 * SO_LINGER 0.  The abortive close sends a RST instead of a FIN, so the
 * client keeps no socket in TIME_WAIT and tens of thousands of requests do
 * not exhaust the ephemeral ports.  If connect() still fails with
 * EADDRNOTAVAIL (no free local port), the connection backs off for a
 * millisecond and retries; such retries are counted, not reported as errors,
 * unless one request keeps failing for --timeout seconds.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (32 * 1024)   /* per-connection read buffer; bounds headers */
#define MAX_EVENTS 256
#define MAX_HEADERS 64
#define BACKOFF_NS 1000000ull   /* wait after EADDRNOTAVAIL */
#define SCAN_NS 50000000ull     /* how often timeouts are checked */

/* ---------------------------------------------------------------- options */

struct options {
    const char *url;
    const char *method;
    const char *body_file;
    const char *body_str;
    const char *paths_file;
    const char *bodies_file;
    const char *headers[MAX_HEADERS];
    int nheaders;
    uint64_t requests;
    int concurrency;
    int threads;
    int new_conn;
    int json;
    int pid;
    double timeout_s;
};

/* One prepared request: the request line and headers for one path, and the
 * body sent after them with writev (shared by all templates unless --bodies
 * gives each its own). */
struct reqtpl {
    char *head;
    size_t head_len;
    const char *body;
    size_t body_len;
};

/* Everything the workers share.  After setup only next_req changes, and
 * lat_ns, where each request number has its own slot. */
struct shared {
    struct options opt;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int no_body_response;       /* HEAD: responses carry no body */
    struct reqtpl *reqs;
    size_t nreqs;               /* templates: max(npaths, nbodies) */
    size_t npaths, nbodies;
    char *body;
    size_t body_len;
    _Atomic uint64_t next_req;  /* next request number to claim */
    uint64_t *lat_ns;           /* latency per request number, 0 = none */
    uint64_t timeout_ns;
};

static struct shared G;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------ response parsing */

enum phase {
    P_HEAD,         /* status line and headers, until the blank line */
    P_BODY,         /* Content-Length bytes */
    P_CHUNK_SIZE,   /* hex size line of the next chunk */
    P_CHUNK_DATA,   /* chunk payload */
    P_CHUNK_CRLF,   /* CRLF after a chunk's payload */
    P_TRAILER,      /* trailer lines after the last chunk */
    P_UNTIL_EOF     /* body delimited by the server closing */
};

enum parse_result { PR_MORE, PR_DONE, PR_ERROR };

struct parser {
    enum phase phase;
    int status;
    int close_after;    /* the server will close, or asked us to */
    uint64_t remain;    /* bytes left in the body or the current chunk */
};

/* Does the header value contain `tok` (case-insensitive, as a substring)? */
static int value_has(const char *v, size_t n, const char *tok)
{
    size_t t = strlen(tok);
    for (size_t i = 0; i + t <= n; i++)
        if (strncasecmp(v + i, tok, t) == 0)
            return 1;
    return 0;
}

/* Parses an unsigned number of the given base; returns -1 if there is none. */
static int parse_num(const char *s, size_t n, int base, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t start = i;
    for (; i < n; i++) {
        int d;
        if (isdigit((unsigned char)s[i]))
            d = s[i] - '0';
        else if (base == 16 && isxdigit((unsigned char)s[i]))
            d = tolower((unsigned char)s[i]) - 'a' + 10;
        else
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -1;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (i == start)
        return -1;
    *out = v;
    return 0;
}

/* Parses a complete header block [p, p+n) (ending before the blank line)
 * and sets the parser up for the body. */
static enum parse_result parse_head(struct parser *ps, const char *p, size_t n)
{
    const char *end = p + n;
    const char *eol = memmem(p, n, "\r\n", 2);
    if (!eol)
        eol = end;
    if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
        return PR_ERROR;
    int http10 = p[7] == '0';
    uint64_t status;
    if (parse_num(p + 9, 3, 10, &status) < 0)
        return PR_ERROR;
    ps->status = (int)status;

    int chunked = 0, has_len = 0, conn_close = http10, conn_keep = 0;
    uint64_t len = 0;
    for (const char *l = eol + 2; l < end; ) {
        const char *le = memmem(l, (size_t)(end - l), "\r\n", 2);
        if (!le)
            le = end;
        const char *colon = memchr(l, ':', (size_t)(le - l));
        if (colon) {
            size_t kn = (size_t)(colon - l), vn = (size_t)(le - colon - 1);
            const char *v = colon + 1;
            if (kn == 14 && strncasecmp(l, "content-length", 14) == 0) {
                if (parse_num(v, vn, 10, &len) < 0)
                    return PR_ERROR;
                has_len = 1;
            } else if (kn == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
                chunked = value_has(v, vn, "chunked");
            } else if (kn == 10 && strncasecmp(l, "connection", 10) == 0) {
                conn_close |= value_has(v, vn, "close");
                conn_keep |= value_has(v, vn, "keep-alive");
            }
        }
        l = le + 2;
    }
    if (http10 && conn_keep)
        conn_close = 0;
    ps->close_after |= conn_close;

    if (G.no_body_response || status == 204 || status == 304 ||
        (status >= 100 && status < 200))
        return PR_DONE;
    if (chunked) {
        ps->phase = P_CHUNK_SIZE;
    } else if (has_len) {
        ps->remain = len;
        if (len == 0)
            return PR_DONE;
        ps->phase = P_BODY;
    } else {
        ps->phase = P_UNTIL_EOF;
        ps->close_after = 1;
    }
    return PR_MORE;
}

/* Skips up to ps->remain bytes of payload; returns how many were skipped. */
static size_t skip_payload(struct parser *ps, size_t avail)
{
    size_t take = avail < ps->remain ? avail : (size_t)ps->remain;
    ps->remain -= take;
    return take;
}

/*
 * Consumes response bytes from buf[*pos, len).  Returns PR_DONE when one
 * whole response has been read (bytes after it stay unread), PR_MORE when
 * more input is needed, PR_ERROR on a malformed response.
 */
static enum parse_result parse(struct parser *ps, const char *buf,
                               size_t *pos, size_t len)
{
    for (;;) {
        const char *p = buf + *pos;
        size_t avail = len - *pos;
        const char *eol;
        uint64_t size;

        switch (ps->phase) {
        case P_HEAD: {
            const char *e = memmem(p, avail, "\r\n\r\n", 4);
            if (!e)
                return PR_MORE;
            *pos += (size_t)(e - p) + 4;
            enum parse_result r = parse_head(ps, p, (size_t)(e - p));
            if (r == PR_DONE && ps->status >= 100 && ps->status < 200)
                continue;   /* interim response: the real one follows */
            if (r != PR_MORE)
                return r;
            break;
        }
        case P_BODY:
            *pos += skip_payload(ps, avail);
            return ps->remain == 0 ? PR_DONE : PR_MORE;
        case P_CHUNK_SIZE:
            if (!(eol = memmem(p, avail, "\r\n", 2)))
                return PR_MORE;
            if (parse_num(p, (size_t)(eol - p), 16, &size) < 0)
                return PR_ERROR;
            *pos += (size_t)(eol - p) + 2;
            ps->remain = size;
            ps->phase = size ? P_CHUNK_DATA : P_TRAILER;
            break;
        case P_CHUNK_DATA:
            *pos += skip_payload(ps, avail);
            if (ps->remain)
                return PR_MORE;
            ps->phase = P_CHUNK_CRLF;
            break;
        case P_CHUNK_CRLF:
            if (avail < 2)
                return PR_MORE;
            if (p[0] != '\r' || p[1] != '\n')
                return PR_ERROR;
            *pos += 2;
            ps->phase = P_CHUNK_SIZE;
            break;
        case P_TRAILER:
            if (!(eol = memmem(p, avail, "\r\n", 2)))
                return PR_MORE;
            *pos += (size_t)(eol - p) + 2;
            if (eol == p)
                return PR_DONE;
            break;
        case P_UNTIL_EOF:
            *pos = len;
            return PR_MORE;
        }
    }
}

/* ------------------------------------------------------------ connections */

enum cstate {
    C_IDLE,         /* no request; waiting on the worker's idle stack */
    C_CONNECTING,
    C_WRITING,
    C_READING,
    C_BACKOFF,      /* connect() found no free local port; retry soon */
    C_DONE          /* all requests claimed; the connection has retired */
};

struct worker;

struct conn {
    struct worker *w;
    int fd;
    uint32_t events;        /* epoll interest currently registered, 0 = none */
    enum cstate state;
    uint64_t req;           /* request number in flight */
    uint64_t t_start;
    uint64_t deadline;      /* the in-flight request fails after this */
    uint64_t retry_at;      /* C_BACKOFF: when to try connect() again */
    const struct reqtpl *tpl;
    size_t woff;            /* bytes of the request written so far */
    struct parser ps;
    char *rbuf;
    size_t rpos, rlen;
    struct conn *next_idle;
};

/* Per-thread counters, summed at the end. */
struct stats {
    uint64_t ok, non2xx, sock_err, connects, addr_retries;
    int first_status;
    const char *first_sock_err;
    int first_sock_errno;
};

struct worker {
    pthread_t thread;
    int epfd;
    struct conn *conns;
    int nconns;
    int active;             /* connections not yet C_DONE */
    int backoffs;           /* connections in C_BACKOFF */
    struct conn *idle;      /* stack of C_IDLE connections */
    struct stats st;
};

static void conn_next(struct conn *c);

/* Registers, changes or keeps the epoll interest of a connection. */
static void set_events(struct conn *c, uint32_t ev)
{
    if (c->events == ev)
        return;
    struct epoll_event e = { .events = ev, .data.ptr = c };
    int op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(c->w->epfd, op, c->fd, &e) < 0)
        die("epoll_ctl: %s", strerror(errno));
    c->events = ev;
}

/* Closes the socket; `abort` sends a RST so no TIME_WAIT is left behind. */
static void close_fd(struct conn *c, int abort)
{
    if (c->fd < 0)
        return;
    if (abort) {
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);   /* also removes it from the epoll set */
    c->fd = -1;
    c->events = 0;
    c->rpos = c->rlen = 0;
}

/* Puts a connection on its worker's idle stack; the event loop gives it its
 * next request.  (Failures go through here rather than calling conn_next
 * directly, so a server that refuses every connection cannot make the
 * call chain grow with each failed request.) */
static void make_idle(struct conn *c)
{
    c->state = C_IDLE;
    c->next_idle = c->w->idle;
    c->w->idle = c;
}

/* Counts the in-flight request as a socket error and closes the socket. */
static void fail(struct conn *c, const char *what, int err)
{
    struct stats *st = &c->w->st;
    if (st->sock_err++ == 0) {
        st->first_sock_err = what;
        st->first_sock_errno = err;
    }
    close_fd(c, 1);
    make_idle(c);
}

/* Records a complete response and moves on to the next request. */
static void complete(struct conn *c)
{
    struct stats *st = &c->w->st;
    uint64_t lat = now_ns() - c->t_start;
    G.lat_ns[c->req] = lat ? lat : 1;
    if (c->ps.status >= 200 && c->ps.status < 300) {
        st->ok++;
    } else if (st->non2xx++ == 0) {
        st->first_status = c->ps.status;
    }
    if (G.opt.new_conn || c->ps.close_after)
        close_fd(c, G.opt.new_conn);
    conn_next(c);
}

/* Writes as much of the request as the socket takes. */
static void do_write(struct conn *c)
{
    const struct reqtpl *t = c->tpl;
    size_t total = t->head_len + t->body_len;
    while (c->woff < total) {
        struct iovec iov[2];
        int n = 0;
        if (c->woff < t->head_len)
            iov[n++] = (struct iovec){ t->head + c->woff, t->head_len - c->woff };
        size_t boff = c->woff > t->head_len ? c->woff - t->head_len : 0;
        if (t->body_len > boff)
            iov[n++] = (struct iovec){ (char *)t->body + boff, t->body_len - boff };
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            set_events(c, EPOLLOUT);
            return;
        }
        if (w < 0) {
            fail(c, "write", errno);
            return;
        }
        c->woff += (size_t)w;
    }
    c->state = C_READING;
    c->ps = (struct parser){ .phase = P_HEAD, .close_after = G.opt.new_conn };
    set_events(c, EPOLLIN);
}

static void start_write(struct conn *c)
{
    c->state = C_WRITING;
    c->woff = 0;
    do_write(c);
}

/* Counts an established connection and sends the request on it. */
static void connected(struct conn *c)
{
    c->w->st.connects++;
    start_write(c);
}

/* Enters (or stays in) back-off after the local ports ran out. */
static void backoff(struct conn *c)
{
    close_fd(c, 1);
    c->w->st.addr_retries++;
    if (now_ns() > c->deadline) {
        fail(c, "connect (no free local port)", EADDRNOTAVAIL);
        return;
    }
    c->state = C_BACKOFF;
    c->retry_at = now_ns() + BACKOFF_NS;
    c->w->backoffs++;
}

/* Opens a new non-blocking connection for the claimed request. */
static void start_connect(struct conn *c)
{
    c->fd = socket(G.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail(c, "socket", errno);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->t_start = now_ns();
    if (connect(c->fd, (struct sockaddr *)&G.addr, G.addr_len) == 0) {
        connected(c);
    } else if (errno == EINPROGRESS) {
        c->state = C_CONNECTING;
        set_events(c, EPOLLOUT);
    } else if (errno == EADDRNOTAVAIL) {
        backoff(c);
    } else {
        fail(c, "connect", errno);
    }
}

/* Called when a pending connect() finished, successfully or not. */
static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == EADDRNOTAVAIL)
        backoff(c);
    else if (err)
        fail(c, "connect", err);
    else
        connected(c);
}

/* Reads what the socket has and feeds it to the response parser. */
static void do_read(struct conn *c)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == RBUF_SIZE) {
        fail(c, "response header too large", 0);
        return;
    }
    ssize_t r = read(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
    if (r < 0) {
        if (errno != EAGAIN && errno != EINTR)
            fail(c, "read", errno);
        return;
    }
    if (r == 0) {
        if (c->ps.phase == P_UNTIL_EOF) {
            complete(c);
        } else {
            fail(c, "connection closed before the response ended", 0);
        }
        return;
    }
    c->rlen += (size_t)r;
    switch (parse(&c->ps, c->rbuf, &c->rpos, c->rlen)) {
    case PR_DONE:
        complete(c);
        break;
    case PR_ERROR:
        fail(c, "malformed response", 0);
        break;
    case PR_MORE:
        break;
    }
}

/*
 * Claims the next request number and sends it, reusing the connection if it
 * is still open, or marks the connection done when all requests are claimed.
 */
static void conn_next(struct conn *c)
{
    uint64_t id = atomic_fetch_add_explicit(&G.next_req, 1, memory_order_relaxed);
    if (id >= G.opt.requests) {
        close_fd(c, G.opt.new_conn);
        c->state = C_DONE;
        c->w->active--;
        return;
    }
    c->req = id;
    c->tpl = &G.reqs[id % G.nreqs];
    c->deadline = now_ns() + G.timeout_ns;
    if (c->fd >= 0) {
        c->t_start = now_ns();
        start_write(c);
    } else {
        start_connect(c);
    }
}

/* Dispatches one epoll event to the connection's current state. */
static void on_event(struct conn *c, uint32_t ev)
{
    switch (c->state) {
    case C_CONNECTING:
        on_connected(c);
        break;
    case C_WRITING:
        do_write(c);
        break;
    case C_READING:
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
            do_read(c);
        break;
    case C_IDLE:
    case C_BACKOFF:
    case C_DONE:
        break;
    }
}

/* Gives every idle connection its next request (or retires it). */
static void drain_idle(struct worker *w)
{
    while (w->idle) {
        struct conn *c = w->idle;
        w->idle = c->next_idle;
        conn_next(c);
    }
}

/* Retries connections whose back-off ended and fails requests that timed out. */
static void scan(struct worker *w, uint64_t now)
{
    for (int i = 0; i < w->nconns; i++) {
        struct conn *c = &w->conns[i];
        if (c->state == C_BACKOFF && now >= c->retry_at) {
            w->backoffs--;
            start_connect(c);
        } else if ((c->state == C_CONNECTING || c->state == C_WRITING ||
                    c->state == C_READING) && now > c->deadline) {
            fail(c, "timeout", ETIMEDOUT);
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    uint64_t next_scan = now_ns() + SCAN_NS;

    for (int i = 0; i < w->nconns; i++)
        make_idle(&w->conns[i]);
    for (;;) {
        drain_idle(w);
        if (w->active == 0)
            break;
        int timeout = w->backoffs ? 1 : (int)(SCAN_NS / 1000000);
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
        uint64_t now = now_ns();
        if (w->backoffs || now >= next_scan) {
            scan(w, now);
            next_scan = now + SCAN_NS;
        }
    }
    return NULL;
}

/* --------------------------------------------------------------- setup */

struct target {
    char host[256];     /* for getaddrinfo, without brackets */
    char hosthdr[300];  /* for the Host header */
    char port[8];
    const char *path;
};

/* Splits http://host[:port][/path]; only plain http is supported. */
static void parse_url(const char *url, struct target *t)
{
    if (strncmp(url, "http://", 7) != 0)
        die("only http:// URLs are supported: %s", url);
    const char *h = url + 7;
    const char *slash = strchr(h, '/');
    t->path = slash ? slash : "/";
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= sizeof t->host)
        die("bad host in URL: %s", url);
    snprintf(t->hosthdr, sizeof t->hosthdr, "%.*s", (int)hl, h);
    const char *port = NULL;
    if (h[0] == '[') {
        const char *rb = memchr(h, ']', hl);
        if (!rb)
            die("bad IPv6 host in URL: %s", url);
        snprintf(t->host, sizeof t->host, "%.*s", (int)(rb - h - 1), h + 1);
        if (rb + 1 < h + hl && rb[1] == ':')
            port = rb + 2;
    } else {
        const char *colon = memchr(h, ':', hl);
        size_t nl = colon ? (size_t)(colon - h) : hl;
        snprintf(t->host, sizeof t->host, "%.*s", (int)nl, h);
        if (colon)
            port = colon + 1;
    }
    size_t pl = port ? (size_t)(h + hl - port) : 0;
    if (port && (pl == 0 || pl >= sizeof t->port))
        die("bad port in URL: %s", url);
    snprintf(t->port, sizeof t->port, "%.*s", (int)pl, port ? port : "80");
}

static void resolve(const struct target *t)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
    int rc = getaddrinfo(t->host, t->port, &hints, &res);
    if (rc != 0)
        die("cannot resolve %s: %s", t->host, gai_strerror(rc));
    memcpy(&G.addr, res->ai_addr, res->ai_addrlen);
    G.addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    if (!buf)
        die("out of memory");
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Was a header with this name given with --header? */
static int has_header(const struct options *o, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < o->nheaders; i++)
        if (strncasecmp(o->headers[i], name, n) == 0 && o->headers[i][n] == ':')
            return 1;
    return 0;
}

/* Builds the request line and headers for one path and one body (NULL for
 * none). */
static void build_request(struct reqtpl *r, const char *path, const char *body,
                          size_t body_len, const struct target *t)
{
    const struct options *o = &G.opt;
    size_t cap = strlen(path) + strlen(t->hosthdr) + 256;
    for (int i = 0; i < o->nheaders; i++)
        cap += strlen(o->headers[i]) + 2;
    char *s = malloc(cap);
    if (!s)
        die("out of memory");
    size_t n = (size_t)snprintf(s, cap, "%s %s HTTP/1.1\r\n", o->method, path);
    if (!has_header(o, "Host"))
        n += (size_t)snprintf(s + n, cap - n, "Host: %s\r\n", t->hosthdr);
    for (int i = 0; i < o->nheaders; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s\r\n", o->headers[i]);
    int sends_body = body || strcmp(o->method, "POST") == 0 ||
                     strcmp(o->method, "PUT") == 0 || strcmp(o->method, "PATCH") == 0;
    if (sends_body)
        n += (size_t)snprintf(s + n, cap - n, "Content-Length: %zu\r\n", body_len);
    if (body && !has_header(o, "Content-Type"))
        n += (size_t)snprintf(s + n, cap - n, "Content-Type: application/json\r\n");
    if (o->new_conn)
        n += (size_t)snprintf(s + n, cap - n, "Connection: close\r\n");
    n += (size_t)snprintf(s + n, cap - n, "\r\n");
    r->head = s;
    r->head_len = n;
    r->body = body;
    r->body_len = body ? body_len : 0;
}

/* Splits FILE into its non-empty lines (in place); returns how many. */
static size_t read_lines(const char *file, char ***out, size_t **lens)
{
    size_t len, n = 0, cap = 16;
    char *text = read_file(file, &len);
    char **v = malloc(cap * sizeof *v);
    size_t *l = malloc(cap * sizeof *l);
    if (!v || !l)
        die("out of memory");
    for (char *save, *line = strtok_r(text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (!*line)
            continue;
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            l = realloc(l, cap * sizeof *l);
            if (!v || !l)
                die("out of memory");
        }
        l[n] = strlen(line);
        v[n++] = line;
    }
    if (n == 0)
        die("%s has no lines", file);
    *out = v;
    if (lens)
        *lens = l;
    else
        free(l);
    return n;
}

/* Prepares the request templates: one per path (the URL's path, or each line
 * of --paths) and per body (the --body/--body-str body, or each line of
 * --bodies).  With both lists, template i uses path i mod paths and body
 * i mod bodies, for i below the longer list's length. */
static void build_requests(const struct target *t)
{
    char **paths = NULL, **bodies = NULL;
    size_t *body_lens = NULL, npaths = 1, nbodies = 1;
    if (G.opt.paths_file)
        npaths = read_lines(G.opt.paths_file, &paths, NULL);
    if (G.opt.bodies_file)
        nbodies = read_lines(G.opt.bodies_file, &bodies, &body_lens);
    G.npaths = npaths;
    G.nbodies = nbodies;
    G.nreqs = npaths > nbodies ? npaths : nbodies;
    G.reqs = calloc(G.nreqs, sizeof *G.reqs);
    if (!G.reqs)
        die("out of memory");
    for (size_t i = 0; i < G.nreqs; i++) {
        const char *path = paths ? paths[i % npaths] : t->path;
        if (bodies)
            build_request(&G.reqs[i], path, bodies[i % nbodies],
                          body_lens[i % nbodies], t);
        else
            build_request(&G.reqs[i], path, G.body, G.body_len, t);
    }
    /* The heads copied the paths; the bodies point into the --bodies text,
     * which is kept for the whole run. */
    free(paths);
    free(bodies);
    free(body_lens);
}

/* Makes room for every connection's socket, raising the hard limit if we may. */
static void raise_nofile(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur >= (rlim_t)need)
        return;
    if (rl.rlim_max < (rlim_t)need)
        rl.rlim_max = (rlim_t)need;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)need)
            die("need %d open files but RLIMIT_NOFILE is %llu", need,
                (unsigned long long)rl.rlim_cur);
    }
}

static void usage(void)
{
    fputs(
"usage: loadgen --url http://HOST:PORT/PATH -n REQUESTS -c CONCURRENCY [options]\n"
"  --method M         request method (default GET)\n"
"  --body FILE        send FILE as the request body\n"
"  --body-str STR     send STR as the request body\n"
"                     (a body gets Content-Type: application/json unless\n"
"                     --header sets one)\n"
"  --header 'K: V'    add a request header (repeatable)\n"
"  --paths FILE       one path per line; request i uses line i mod lines\n"
"                     in place of the URL's path\n"
"  --bodies FILE      one body per line; request i sends line i mod lines\n"
"                     (with --paths too, line i mod max(paths, bodies) of\n"
"                     each: keep one count a multiple of the other)\n"
"  --new-conn         a new TCP connection per request (default: keep-alive)\n"
"  --threads N        worker threads (default 2, at most CONCURRENCY)\n"
"  --timeout S        a request fails after S seconds (default 30)\n"
"  --pid PID          report the server's resident memory from /proc/PID\n"
"  --json             print one JSON object instead of text\n", stderr);
    exit(2);
}

static uint64_t parse_count(const char *s, const char *what)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '-' || *end || v == 0)
        die("%s must be a positive integer: %s", what, s);
    return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){ .method = "GET", .threads = 2, .timeout_s = 30 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--url")) o->url = v;
        else if (!strcmp(a, "--method")) o->method = v;
        else if (!strcmp(a, "--body")) o->body_file = v;
        else if (!strcmp(a, "--body-str")) o->body_str = v;
        else if (!strcmp(a, "--paths")) o->paths_file = v;
        else if (!strcmp(a, "--bodies")) o->bodies_file = v;
        else if (!strcmp(a, "-n")) o->requests = v ? parse_count(v, "-n") : 0;
        else if (!strcmp(a, "-c")) o->concurrency = v ? (int)parse_count(v, "-c") : 0;
        else if (!strcmp(a, "--threads")) o->threads = v ? (int)parse_count(v, "--threads") : 0;
        else if (!strcmp(a, "--timeout")) o->timeout_s = v ? atof(v) : 0;
        else if (!strcmp(a, "--pid")) o->pid = v ? atoi(v) : 0;
        else if (!strcmp(a, "--header")) {
            if (o->nheaders == MAX_HEADERS)
                die("too many --header options");
            o->headers[o->nheaders++] = v;
        } else {
            takes = 0;
            if (!strcmp(a, "--new-conn")) o->new_conn = 1;
            else if (!strcmp(a, "--keep-alive")) o->new_conn = 0;
            else if (!strcmp(a, "--json")) o->json = 1;
            else if (!strcmp(a, "-h") || !strcmp(a, "--help")) usage();
            else die("unknown option %s (try --help)", a);
        }
        if (takes && !v)
            die("%s needs a value", a);
        i += takes;
    }
    if (!o->url || !o->requests || !o->concurrency)
        usage();
    if (!!o->body_file + !!o->body_str + !!o->bodies_file > 1)
        die("--body, --body-str and --bodies are exclusive");
    if (o->timeout_s <= 0)
        die("--timeout must be positive");
    if ((uint64_t)o->concurrency > o->requests)
        o->concurrency = (int)o->requests;
    if (o->threads > o->concurrency)
        o->threads = o->concurrency;
}

/* ------------------------------------------------------ server memory/cpu */

struct proc_sample {
    long rss_kb, hwm_kb;    /* VmRSS, VmHWM; -1 if unknown */
    double cpu_s;           /* user + system time; -1 if unknown */
};

static void sample_proc(int pid, struct proc_sample *s)
{
    char path[64], line[256];
    *s = (struct proc_sample){ -1, -1, -1 };
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            sscanf(line, "VmRSS: %ld", &s->rss_kb);
            sscanf(line, "VmHWM: %ld", &s->hwm_kb);
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f && fgets(line, sizeof line, f)) {
        /* Fields 14 and 15 (utime, stime) follow the ")" ending the name. */
        const char *p = strrchr(line, ')');
        unsigned long ut, st;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                        &ut, &st) == 2)
            s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    if (f)
        fclose(f);
}

/* Resets the server's VmHWM to its current RSS so the peak covers this run
 * only (writing 5 to clear_refs; Linux 4.0+).  Returns 1 on success. */
static int reset_hwm(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", pid);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* -------------------------------------------------------------- report */

struct report {
    struct stats st;
    uint64_t completed;     /* requests with a latency (a whole response) */
    double best, p50, p99, worst, mean;   /* milliseconds */
    double total_s, rps;
    struct proc_sample before, after;
    int hwm_run_scoped;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double pct_ms(const uint64_t *v, uint64_t n, double p)
{
    uint64_t rank = (uint64_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return (double)v[rank - 1] / 1e6;
}

static void summarize_latency(struct report *r)
{
    uint64_t n = 0;
    double sum = 0;
    for (uint64_t i = 0; i < G.opt.requests; i++)
        if (G.lat_ns[i]) {
            sum += (double)G.lat_ns[i];
            G.lat_ns[n++] = G.lat_ns[i];
        }
    r->completed = n;
    if (n == 0)
        return;
    qsort(G.lat_ns, n, sizeof *G.lat_ns, cmp_u64);
    r->best = (double)G.lat_ns[0] / 1e6;
    r->worst = (double)G.lat_ns[n - 1] / 1e6;
    r->p50 = pct_ms(G.lat_ns, n, 0.50);
    r->p99 = pct_ms(G.lat_ns, n, 0.99);
    r->mean = sum / (double)n / 1e6;
}

static void merge_stats(struct stats *into, const struct stats *s)
{
    if (!into->first_status)
        into->first_status = s->first_status;
    if (!into->first_sock_err) {
        into->first_sock_err = s->first_sock_err;
        into->first_sock_errno = s->first_sock_errno;
    }
    into->ok += s->ok;
    into->non2xx += s->non2xx;
    into->sock_err += s->sock_err;
    into->connects += s->connects;
    into->addr_retries += s->addr_retries;
}

static void sock_err_text(const struct stats *st, char *buf, size_t n)
{
    if (!st->first_sock_err)
        snprintf(buf, n, "-");
    else if (st->first_sock_errno)
        snprintf(buf, n, "%s: %s", st->first_sock_err, strerror(st->first_sock_errno));
    else
        snprintf(buf, n, "%s", st->first_sock_err);
}

static void print_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_json(const struct report *r)
{
    const struct options *o = &G.opt;
    char err[256];
    sock_err_text(&r->st, err, sizeof err);
    printf("{\"url\":");
    print_json_str(o->url);
    printf(",\"method\":");
    print_json_str(o->method);
    printf(",\"mode\":\"%s\",\"concurrency\":%d,\"threads\":%d,"
           "\"paths\":%zu,\"bodies\":%zu,\"requests\":%llu,\"ok\":%llu,\"non2xx\":%llu,"
           "\"first_status\":",
           o->new_conn ? "new-conn" : "keep-alive", o->concurrency, o->threads,
           G.npaths, G.nbodies, (unsigned long long)o->requests, (unsigned long long)r->st.ok,
           (unsigned long long)r->st.non2xx);
    if (r->st.non2xx)
        printf("%d", r->st.first_status);
    else
        printf("null");
    printf(",\"socket_errors\":%llu,\"first_socket_error\":",
           (unsigned long long)r->st.sock_err);
    if (r->st.first_sock_err)
        print_json_str(err);
    else
        printf("null");
    printf(",\"connections\":%llu,\"port_retries\":%llu,"
           "\"best_ms\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"worst_ms\":%.3f,"
           "\"mean_ms\":%.3f,\"total_s\":%.3f,\"rps\":%.1f",
           (unsigned long long)r->st.connects, (unsigned long long)r->st.addr_retries,
           r->best, r->p50, r->p99, r->worst, r->mean, r->total_s, r->rps);
    if (o->pid)
        printf(",\"server_pid\":%d,\"server_rss_start_kb\":%ld,"
               "\"server_rss_end_kb\":%ld,\"server_peak_rss_kb\":%ld,"
               "\"server_peak_scope\":\"%s\",\"server_cpu_s\":%.2f",
               o->pid, r->before.rss_kb, r->after.rss_kb, r->after.hwm_kb,
               r->hwm_run_scoped ? "run" : "process",
               r->after.cpu_s >= 0 && r->before.cpu_s >= 0
                   ? r->after.cpu_s - r->before.cpu_s : -1.0);
    printf("}\n");
}

static void print_text(const struct report *r)
{
    const struct options *o = &G.opt;
    char err[256];
    sock_err_text(&r->st, err, sizeof err);
    printf("%s %s  (%s, %d connections, %d threads", o->method, o->url,
           o->new_conn ? "new connection per request" : "keep-alive",
           o->concurrency, o->threads);
    if (o->paths_file)
        printf(", %zu paths", G.npaths);
    if (o->bodies_file)
        printf(", %zu bodies", G.nbodies);
    printf(")\n");
    printf("  requests      %llu (%llu 2xx), %llu connections opened\n",
           (unsigned long long)o->requests, (unsigned long long)r->st.ok,
           (unsigned long long)r->st.connects);
    if (r->st.non2xx)
        printf("  non-2xx       %llu (first status %d)\n",
               (unsigned long long)r->st.non2xx, r->st.first_status);
    else
        printf("  non-2xx       0\n");
    printf("  socket errors %llu (first: %s)\n", (unsigned long long)r->st.sock_err, err);
    if (r->st.addr_retries)
        printf("  port retries  %llu (connect() found no free local port)\n",
               (unsigned long long)r->st.addr_retries);
    printf("  latency ms    best %.3f  p50 %.3f  p99 %.3f  worst %.3f  mean %.3f\n",
           r->best, r->p50, r->p99, r->worst, r->mean);
    printf("  total time    %.3f s\n", r->total_s);
    printf("  req/s         %.1f\n", r->rps);
    if (o->pid)
        printf("  server RSS    peak %.1f MiB (VmHWM, %s), start %.1f MiB, end %.1f MiB; "
               "CPU %.2f s\n",
               (double)r->after.hwm_kb / 1024, r->hwm_run_scoped ? "this run" : "since start",
               (double)r->before.rss_kb / 1024, (double)r->after.rss_kb / 1024,
               r->after.cpu_s - r->before.cpu_s);
}

/* -------------------------------------------------------------- main */

/* Splits the connections among the workers and runs them to the end. */
static void run_workers(struct worker *ws, int nw)
{
    int nc = G.opt.concurrency;
    for (int t = 0; t < nw; t++) {
        struct worker *w = &ws[t];
        int lo = nc * t / nw, hi = nc * (t + 1) / nw;
        w->nconns = w->active = hi - lo;
        w->conns = calloc((size_t)w->nconns, sizeof *w->conns);
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (!w->conns || w->epfd < 0)
            die("cannot set up worker: %s", strerror(errno));
        for (int i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];
            *c = (struct conn){ .w = w, .fd = -1, .rbuf = malloc(RBUF_SIZE) };
            if (!c->rbuf)
                die("out of memory");
        }
    }
    for (int t = 0; t < nw; t++)
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0)
            die("pthread_create failed");
    for (int t = 0; t < nw; t++)
        pthread_join(ws[t].thread, NULL);
}

int main(int argc, char **argv)
{
    struct target t;
    struct report r = { 0 };

    parse_args(argc, argv, &G.opt);
    parse_url(G.opt.url, &t);
    resolve(&t);
    if (G.opt.body_file)
        G.body = read_file(G.opt.body_file, &G.body_len);
    else if (G.opt.body_str)
        G.body_len = strlen(G.body = (char *)G.opt.body_str);
    G.no_body_response = strcmp(G.opt.method, "HEAD") == 0;
    build_requests(&t);
    G.timeout_ns = (uint64_t)(G.opt.timeout_s * 1e9);
    G.lat_ns = calloc(G.opt.requests, sizeof *G.lat_ns);
    if (!G.lat_ns)
        die("out of memory for %llu latencies", (unsigned long long)G.opt.requests);
    raise_nofile(G.opt.concurrency + 64);
    signal(SIGPIPE, SIG_IGN);

    int nw = G.opt.threads;
    struct worker *ws = calloc((size_t)nw, sizeof *ws);
    if (!ws)
        die("out of memory");
    if (G.opt.pid) {
        r.hwm_run_scoped = reset_hwm(G.opt.pid);
        sample_proc(G.opt.pid, &r.before);
        if (r.before.rss_kb < 0)
            die("cannot read /proc/%d/status", G.opt.pid);
    }

    uint64_t t0 = now_ns();
    run_workers(ws, nw);
    r.total_s = (double)(now_ns() - t0) / 1e9;

    if (G.opt.pid)
        sample_proc(G.opt.pid, &r.after);
    for (int i = 0; i < nw; i++)
        merge_stats(&r.st, &ws[i].st);
    summarize_latency(&r);
    r.rps = (double)G.opt.requests / r.total_s;
    if (G.opt.json)
        print_json(&r);
    else
        print_text(&r);
    return 0;
}
