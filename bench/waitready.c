/*
 * waitready.c — waits until a server answers 200 and says how long that took.
 *
 *   waitready --url http://HOST:PORT/PATH [--timeout S] [--pid PID]
 *   waitready --url http://HOST:PORT/PATH [--timeout S] -- CMD [ARGS...]
 *
 * The first form polls a server that is already starting (with --pid, it
 * gives up as soon as that process is gone).  The second form starts CMD
 * itself, measures from just before the exec to the first 200 response, then
 * stops CMD with SIGTERM (SIGKILL after 5 s) and waits for it.  Either form
 * prints the elapsed milliseconds on stdout and exits 0, or exits 1 on
 * timeout or when the server died.  CMD's own output goes to stderr.
 *
 * Each poll is a blocking GET with "Connection: close" that reads only the
 * status line; a refused connection is retried after 0.5 ms, so the figure is
 * accurate to about a millisecond, which a shell loop around curl is not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct endpoint {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char request[1024];
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void usage(void)
{
    fputs("usage: waitready --url http://HOST:PORT/PATH [--timeout S] "
          "[--pid PID | -- CMD [ARGS...]]\n", stderr);
    exit(2);
}

/* Resolves http://host[:port][/path] and prepares the GET request. */
static int endpoint_init(struct endpoint *ep, const char *url)
{
    char host[256], port[8] = "80";
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7;
    const char *path = strchr(h, '/');
    size_t hl = path ? (size_t)(path - h) : strlen(h);
    const char *colon = memchr(h, ':', hl);
    size_t nl = colon ? (size_t)(colon - h) : hl;
    if (nl == 0 || nl >= sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)nl, h);
    if (colon)
        snprintf(port, sizeof port, "%.*s", (int)(hl - nl - 1), colon + 1);

    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
    ep->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    snprintf(ep->request, sizeof ep->request,
             "GET %s HTTP/1.1\r\nHost: %.*s\r\nConnection: close\r\n\r\n",
             path ? path : "/", (int)hl, h);
    return 0;
}

/* One attempt: returns the response status, or -1 if there was none. */
static int probe(const struct endpoint *ep)
{
    int status = -1;
    char buf[64];
    size_t got = 0;
    int fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { .tv_sec = 2 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (const struct sockaddr *)&ep->addr, ep->addr_len) < 0)
        goto end;
    size_t len = strlen(ep->request);
    if (send(fd, ep->request, len, MSG_NOSIGNAL) != (ssize_t)len)
        goto end;
    while (got < sizeof buf - 1 && !memchr(buf, '\n', got)) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            goto end;
        got += (size_t)r;
    }
    buf[got] = '\0';
    if (strncmp(buf, "HTTP/1.", 7) == 0 && got >= 12)
        status = atoi(buf + 9);
end:
    close(fd);
    return status;
}

/* Is the process gone (reaping it if it is our child)? */
static int process_gone(pid_t pid, int is_child)
{
    if (is_child)
        return waitpid(pid, NULL, WNOHANG) == pid;
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Polls until a 200 arrives; returns 0, or -1 on timeout or a dead server. */
static int poll_ready(const struct endpoint *ep, double deadline, pid_t pid,
                      int is_child)
{
    const struct timespec pause = { .tv_nsec = 500000 };
    while (now_ms() < deadline) {
        if (probe(ep) == 200)
            return 0;
        if (pid > 0 && process_gone(pid, is_child)) {
            fprintf(stderr, "waitready: process %d exited before it was ready\n",
                    (int)pid);
            return -1;
        }
        nanosleep(&pause, NULL);
    }
    fprintf(stderr, "waitready: no 200 before the timeout\n");
    return -1;
}

/* Stops the child politely, then firmly, and reaps it. */
static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    double timeout_s = 30;
    pid_t pid = 0;
    char **cmd = NULL;
    struct endpoint ep;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            cmd = argv + i + 1;
            break;
        }
        if (i + 1 >= argc)
            usage();
        if (!strcmp(argv[i], "--url")) url = argv[++i];
        else if (!strcmp(argv[i], "--timeout")) timeout_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--pid")) pid = (pid_t)atoi(argv[++i]);
        else usage();
    }
    if (!url || (cmd && (!*cmd || pid)) || timeout_s <= 0)
        usage();
    if (endpoint_init(&ep, url) < 0) {
        fprintf(stderr, "waitready: bad or unresolvable URL %s\n", url);
        return 2;
    }

    double t0 = now_ms();
    if (cmd) {
        pid = fork();
        if (pid < 0) {
            perror("waitready: fork");
            return 2;
        }
        if (pid == 0) {
            dup2(STDERR_FILENO, STDOUT_FILENO);   /* keep our stdout for the figure */
            execvp(cmd[0], cmd);
            perror("waitready: exec");
            _exit(127);
        }
    }
    int rc = poll_ready(&ep, t0 + timeout_s * 1e3, pid, cmd != NULL);
    double elapsed = now_ms() - t0;
    if (cmd)
        stop_child(pid);
    if (rc < 0)
        return 1;
    printf("%.1f\n", elapsed);
    return 0;
}
