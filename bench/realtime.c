/*
 * realtime.c - a light realtime client for benchmarks: one thread, epoll,
 * N event streams.
 *
 *   realtime HOST:PORT N WRITES [SERVER_PID] [RATE]
 *
 * Opens N connections to GET /api/realtime (source addresses spread over
 * 127.0.0.1, .2, ... every 30,000 connections, so more than one
 * address's worth of ports can be used), subscribes each to "posts/*"
 * with a POST on a control connection, then creates WRITES records in
 * the collection "posts" (which must exist with listRule "" and
 * createRule "") from a second thread, RATE per second (0: as fast as
 * possible), each titled with its send time. It reports the connect rate,
 * the server's resident memory per client (with SERVER_PID, from
 * /proc), delivered messages per second, delivery latency p50/p99 and
 * the messages missed. bench/realtime.sh sets everything up.
 *
 * Authenticated clients: with RT_TOKEN (a superuser token) in the
 * environment, client i first gets a token for the user with id
 * printf("u%014d", i) of the "users" collection (impersonation, on the
 * control connection) and subscribes with it. With RT_OWNER=1 as well,
 * write i sets "author" to the user of client i % N, so each record is
 * meant for one client only (rule `author = @request.auth.id`): WRITES
 * deliveries are expected instead of N * WRITES.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    char id[48];
    char *token;        /* Authorization for the subscribe, or NULL */
    char buf[2048];
    size_t len;
    bool subscribed;
} conn;

static struct sockaddr_in server;
static int ctl_fd = -1; /* keep-alive connection for subscribe requests */
static long writes, rate, nclients;
static bool owner_mode;
static double *lat;     /* latency of each delivery, ms */
static atomic_long delivered;
static atomic_int writing_done;
static int64_t first_write_ns, last_delivery_ns;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int dial(int idx, bool block)
{
    int fd = socket(AF_INET, SOCK_STREAM | (block ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(idx / 30000));
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&server, sizeof server) != 0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends one request on a blocking keep-alive socket and reads the answer
 * (headers and a Content-Length body, copied to out when given). Returns
 * the status or -1. */
static int http_call_auth(int fd, const char *method, const char *path,
                          const char *auth, const char *body, char *out,
                          size_t out_size)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: b\r\n%s%s%sContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, auth ? "Authorization: " : "",
                     auth ? auth : "", auth ? "\r\n" : "", strlen(body),
                     body);
    if (write(fd, req, (size_t)n) != n)
        return -1;
    char resp[4096];
    size_t len = 0;
    for (;;) {
        ssize_t k = read(fd, resp + len, sizeof resp - 1 - len);
        if (k <= 0)
            return -1;
        len += (size_t)k;
        resp[len] = '\0';
        char *end = strstr(resp, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(resp, "Content-Length:");
        size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
        if (len >= (size_t)(end + 4 - resp) + want) {
            if (out && out_size)
                snprintf(out, out_size, "%.*s", (int)want, end + 4);
            return atoi(resp + 9);
        }
    }
}

static int http_call(int fd, const char *method, const char *path,
                     const char *body)
{
    return http_call_auth(fd, method, path, NULL, body, NULL, 0);
}

/* Client i's token, from an impersonation by the superuser. */
static char *user_token(const char *su, long i)
{
    char path[96], out[2048];
    snprintf(path, sizeof path,
             "/api/collections/users/impersonate/u%014ld", i);
    if (http_call_auth(ctl_fd, "POST", path, su, "{}", out, sizeof out) !=
        200)
        return NULL;
    char *t = strstr(out, "\"token\":\"");
    if (!t)
        return NULL;
    t += 9;
    char *e = strchr(t, '"');
    return e ? strndup(t, (size_t)(e - t)) : NULL;
}

static long rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* Handles the frames in c->buf: PB_CONNECT subscribes; a posts/* message
 * counts with its latency (the title is the send time in ns). */
static void frames(conn *c)
{
    char *p;
    while ((p = memmem(c->buf, c->len, "\n\n", 2))) {
        *p = '\0';
        char *id = strstr(c->buf, "id:");
        if (!c->subscribed && id && strstr(c->buf, "PB_CONNECT")) {
            sscanf(id + 3, "%47[^\n]", c->id);
            char body[128];
            snprintf(body, sizeof body,
                     "{\"clientId\":\"%s\",\"subscriptions\":[\"posts/*\"]}",
                     c->id);
            if (http_call_auth(ctl_fd, "POST", "/api/realtime", c->token,
                               body, NULL, 0) == 204)
                c->subscribed = true;
        } else if (strstr(c->buf, "event:posts/*")) {
            char *t = strstr(c->buf, "\"title\":\"");
            int64_t now = now_ns();
            long i = atomic_fetch_add(&delivered, 1);
            if (t && i < writes * 200000L)
                lat[i % (1L << 24)] = (double)(now - atoll(t + 9)) / 1e6;
            last_delivery_ns = now;
        }
        size_t used = (size_t)(p + 2 - c->buf);
        memmove(c->buf, p + 2, c->len - used);
        c->len -= used;
    }
}

static void *writer(void *arg)
{
    (void)arg;
    int fd = dial(0, true);
    first_write_ns = now_ns();
    for (long i = 0; i < writes; i++) {
        if (rate > 0) {
            int64_t due = first_write_ns + i * 1000000000L / rate;
            while (now_ns() < due)
                usleep(200);
        }
        char body[128];
        if (owner_mode)
            snprintf(body, sizeof body,
                     "{\"title\":\"%lld\",\"author\":\"u%014ld\"}",
                     (long long)now_ns(), i % nclients);
        else
            snprintf(body, sizeof body, "{\"title\":\"%lld\"}",
                     (long long)now_ns());
        if (http_call(fd, "POST", "/api/collections/posts/records", body) !=
            200) {
            fprintf(stderr, "write %ld failed\n", i);
            break;
        }
    }
    close(fd);
    atomic_store(&writing_done, 1);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST:PORT N WRITES [SERVER_PID] [RATE]\n",
                argv[0]);
        return 2;
    }
    char host[64];
    int port;
    if (sscanf(argv[1], "%63[^:]:%d", host, &port) != 2)
        return 2;
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &server.sin_addr);
    long n = atol(argv[2]);
    nclients = n;
    const char *su = getenv("RT_TOKEN");
    owner_mode = su && getenv("RT_OWNER") && atoi(getenv("RT_OWNER"));
    writes = atol(argv[3]);
    long pid = argc > 4 ? atol(argv[4]) : 0;
    rate = argc > 5 ? atol(argv[5]) : 0;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    lat = calloc(1L << 24, sizeof *lat);
    conn *cs = calloc((size_t)n, sizeof *cs);
    ctl_fd = dial(0, true);
    if (!lat || !cs || ctl_fd < 0) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    if (su && *su) {
        int64_t ta = now_ns();
        for (long i = 0; i < n; i++) {
            cs[i].token = user_token(su, i);
            if (!cs[i].token) {
                fprintf(stderr, "no token for user %ld\n", i);
                return 1;
            }
        }
        printf("tokens: %ld in %.1f s\n", n, (double)(now_ns() - ta) / 1e9);
    }
    long rss0 = pid ? rss_kb(pid) : -1;
    int ep = epoll_create1(0);
    int64_t t0 = now_ns();
    long ready = 0, opened = 0, failed = 0;
    int quiet = 0;
    struct epoll_event evs[512];
    /* Open and subscribe every client, a few hundred in flight at once. */
    while (ready + failed < n) {
        while (opened < n && opened - ready - failed < 512) {
            conn *c = &cs[opened];
            c->fd = dial((int)opened, false);
            if (c->fd < 0) {
                failed++;
                opened++;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
                                     .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            c->len = 0;
            c->buf[0] = '\0';
            opened++;
        }
        int k = epoll_wait(ep, evs, 512, 1000);
        if (k == 0 && ++quiet == 10) {
            /* Ten seconds without progress: the server takes no more. */
            fprintf(stderr, "stalled at %ld clients\n", ready);
            failed = n - ready;
            break;
        }
        if (k > 0)
            quiet = 0;
        for (int i = 0; i < k; i++) {
            conn *c = evs[i].data.ptr;
            if (evs[i].events & EPOLLOUT) {
                static const char get[] =
                    "GET /api/realtime HTTP/1.1\r\nHost: b\r\n\r\n";
                if (write(c->fd, get, sizeof get - 1) < 0) {
                    failed++;
                    close(c->fd);
                    continue;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            }
            if (evs[i].events & EPOLLIN) {
                ssize_t r = read(c->fd, c->buf + c->len,
                                 sizeof c->buf - 1 - c->len);
                if (r <= 0) {
                    failed++;
                    close(c->fd);
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    continue;
                }
                c->len += (size_t)r;
                bool was = c->subscribed;
                frames(c);
                if (!was && c->subscribed)
                    ready++;
            }
        }
    }
    double connect_s = (double)(now_ns() - t0) / 1e9;
    printf("clients: %ld subscribed, %ld failed, %.0f clients/s\n", ready,
           failed, (double)ready / connect_s);
    if (pid) {
        sleep(2);
        long rss1 = rss_kb(pid);
        printf("server RSS: %ld KB before, %ld KB with clients: %.1f KB per "
               "client\n",
               rss0, rss1, ready ? (double)(rss1 - rss0) / (double)ready : 0);
    }
    if (writes > 0) {
        pthread_t th;
        pthread_create(&th, NULL, writer, NULL);
        long expect = owner_mode ? writes : ready * writes;
        int64_t deadline = 0;
        while (atomic_load(&delivered) < expect) {
            int k = epoll_wait(ep, evs, 512, 200);
            for (int i = 0; i < k; i++) {
                conn *c = evs[i].data.ptr;
                ssize_t r = read(c->fd, c->buf + c->len,
                                 sizeof c->buf - 1 - c->len);
                if (r <= 0) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    continue;
                }
                c->len += (size_t)r;
                frames(c);
            }
            if (atomic_load(&writing_done) && !deadline)
                deadline = now_ns() + 10000000000LL;
            if (deadline && now_ns() > deadline)
                break;
        }
        pthread_join(th, NULL);
        long got = atomic_load(&delivered);
        double secs = (double)(last_delivery_ns - first_write_ns) / 1e9;
        long nl = got < (1L << 24) ? got : (1L << 24);
        qsort(lat, (size_t)nl, sizeof *lat, cmp_double);
        printf("writes: %ld; delivered %ld of %ld (missed %ld) in %.2f s: "
               "%.0f messages/s; latency p50 %.1f ms, p99 %.1f ms\n",
               writes, got, expect, expect - got, secs,
               secs > 0 ? (double)got / secs : 0, nl ? lat[nl / 2] : 0,
               nl ? lat[nl * 99 / 100] : 0);
    }
    return 0;
}
