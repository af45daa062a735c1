/*
 * test_realtime_hooks.c - the realtime connect and subscribe request
 * hooks, through a real server on a loopback port: a connect handler
 * sees the client id and may refuse the connection; a subscribe handler
 * sees the topics, may change them before next, or refuse the request
 * with its own error. Also the different-address check of the subscribe
 * request (PocketBase's "Invalid realtime client.", 400).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "basalt.h"
#include "core/app.h"
#include "core/realtime.h"
#include "http/server.h"
#include "harness.h"

static bs_app *app;
static char dir[64];
static int port;
static pthread_t serve_thread;
static char connected_id[64];
static int connects;

static void *serve(void *arg)
{
    (void)arg;
    bs_error err;
    bs_error_init(&err);
    if (bs_app_serve(app, false, &err) != 0)
        fprintf(stderr, "serve: %s\n", err.message ? err.message : "?");
    bs_error_dispose(&err);
    return NULL;
}

/* Refuses connections while `connects` is 1; remembers the client id. */
static int on_connect(bs_event *e, void *user)
{
    bs_realtime_event *re = (bs_realtime_event *)e;
    (void)user;
    if (++connects == 1)
        return bs_error_set(e->error, 429, "Not now.");
    snprintf(connected_id, sizeof connected_id, "%s", re->client_id);
    return bs_event_next(e);
}

/* Refuses a subscription to "secret/ *" (no space); adds "extra/ *" to
 * every other request. */
static int on_subscribe(bs_event *e, void *user)
{
    bs_realtime_event *re = (bs_realtime_event *)e;
    (void)user;
    size_t n = json_object_array_length(re->subscriptions);
    for (size_t i = 0; i < n; i++) {
        const char *t = json_object_get_string(
            json_object_array_get_idx(re->subscriptions, i));
        if (strcmp(t, "secret/*") == 0)
            return bs_error_set(e->error, 403, "No secrets.");
    }
    json_object_array_add(re->subscriptions,
                          json_object_new_string("extra/*"));
    return bs_event_next(e);
}

static int dial(const char *from)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, from, &src.sin_addr);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
        close(fd);
        return -1;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads into buf until it holds `until` (NULL: until the peer closes). */
static size_t read_until(int fd, char *buf, size_t cap, const char *until)
{
    size_t n = 0;
    buf[0] = '\0';
    while (n + 1 < cap && !(until && strstr(buf, until))) {
        ssize_t k = read(fd, buf + n, cap - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
        buf[n] = '\0';
    }
    return n;
}

/* POST /api/realtime from address `from`; returns the status line's
 * code and copies the response into out. */
static int subscribe(const char *from, const char *id, const char *topics,
                     char *out, size_t cap)
{
    char body[512], req[1024];
    snprintf(body, sizeof body, "{\"clientId\":\"%s\",\"subscriptions\":%s}",
             id, topics);
    int n = snprintf(req, sizeof req,
                     "POST /api/realtime HTTP/1.1\r\nHost: x\r\n"
                     "Connection: close\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    int fd = dial(from);
    if (fd < 0 || write(fd, req, (size_t)n) != n)
        return -1;
    read_until(fd, out, cap, NULL);
    close(fd);
    return atoi(out + 9);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_rt_hooks_%d", (int)getpid());
    bs_app_config cfg = {.data_dir = dir, .threads = 1,
                         .http_addr = "127.0.0.1:0"};
    app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    if (bs_app_bootstrap(app, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.message ? err.message : "?");
        exit(1);
    }
    bs_handler hc = {.id = "test", .fn = on_connect};
    bs_handler hs = {.id = "test", .fn = on_subscribe};
    bs_hook_bind(bs_app_hook(app, BS_ON_REALTIME_CONNECT_REQUEST), &hc);
    bs_hook_bind(bs_app_hook(app, BS_ON_REALTIME_SUBSCRIBE_REQUEST), &hs);
    pthread_create(&serve_thread, NULL, serve, NULL);
    for (int i = 0; i < 500 && !port; i++) {
        usleep(10000);
        if (app->server)
            port = bs_server_port(app->server);
    }
    if (!port) {
        fprintf(stderr, "setup: the server did not start\n");
        exit(1);
    }
}

TEST(connect_and_subscribe_hooks)
{
    static const char get[] = "GET /api/realtime HTTP/1.1\r\nHost: x\r\n\r\n";
    char buf[4096];
    /* The first connection is refused by the hook, with its error. */
    int fd = dial("127.0.0.1");
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, get, sizeof get - 1) == (ssize_t)(sizeof get - 1));
    read_until(fd, buf, sizeof buf, "Not now.");
    CHECK(strncmp(buf, "HTTP/1.1 429", 12) == 0);
    close(fd);

    /* The second one is let through; the hook saw its id. */
    fd = dial("127.0.0.1");
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, get, sizeof get - 1) == (ssize_t)(sizeof get - 1));
    read_until(fd, buf, sizeof buf, "\n\n");
    CHECK(strstr(buf, "event:PB_CONNECT") != NULL);
    REQUIRE(strlen(connected_id) == 40);
    char id_line[64];
    snprintf(id_line, sizeof id_line, "id:%s\n", connected_id);
    CHECK(strstr(buf, id_line) != NULL);

    char out[2048];
    CHECK(subscribe("127.0.0.1", connected_id, "[\"posts/*\"]", out,
                    sizeof out) == 204);
    CHECK(subscribe("127.0.0.1", connected_id, "[\"secret/*\"]", out,
                    sizeof out) == 403);
    CHECK(strstr(out, "No secrets.") != NULL);
    /* Another address: 400, whatever the hooks would say. */
    CHECK(subscribe("127.0.0.2", connected_id, "[\"posts/*\"]", out,
                    sizeof out) == 400);
    CHECK(strstr(out, "Invalid realtime client.") != NULL);
    /* The handler added "extra/ *" before next: a message on it reaches
     * the client. */
    CHECK(bs_realtime_send_once(app->realtime, connected_id, "127.0.0.1",
                                "extra/*", "{\"x\":1}"));
    read_until(fd, buf, sizeof buf, "event:extra/*");
    CHECK(strstr(buf, "event:extra/*\ndata:{\"x\":1}") != NULL);
    close(fd);
}

int main(void)
{
    setup();
    RUN(connect_and_subscribe_hooks);
    bs_app_stop(app);
    pthread_join(serve_thread, NULL);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
