/*
 * bcrypt_rate.c — how many bcrypt password checks this machine can do.
 *
 *   bcrypt_rate [--cost N] [--seconds S] [--threads T] [--json]
 *   bcrypt_rate --print-hash [--cost N]
 *
 * Auth-with-password is bound by one bcrypt check per request, so this is
 * the ceiling any server can reach on it here.  The tool hashes a password
 * once with libxcrypt's crypt_r ($2a$, cost 10 by default), then checks it
 * against that hash in a loop: first on one thread (one core's rate), then
 * on T threads at once (default: the number of online CPUs), each for about
 * S seconds.  It prints both rates and the per-core rate times the cores.
 * --print-hash only prints a fresh hash of the password the benchmarks use
 * ("1234567890"), for seeding password columns directly.
 *
 * Build: cc -O2 -pthread -o bcrypt_rate bcrypt_rate.c -lcrypt
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *PASSWORD = "1234567890";
static char g_hash[CRYPT_OUTPUT_SIZE];
static double g_seconds = 1.5;

struct worker {
    pthread_t thread;
    long checks;
    int failed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Checks the password against g_hash until g_seconds have passed. */
static void *check_loop(void *arg)
{
    struct worker *w = arg;
    struct crypt_data *cd = calloc(1, sizeof *cd); /* 32 KiB: not on the stack */
    if (!cd) {
        w->failed = 1;
        return NULL;
    }
    double end = now_s() + g_seconds;
    do {
        const char *out = crypt_r(PASSWORD, g_hash, cd);
        if (!out || strcmp(out, g_hash) != 0) {
            w->failed = 1;
            break;
        }
        w->checks++;
    } while (now_s() < end);
    free(cd);
    return NULL;
}

/* Runs n threads of check_loop; returns checks per second over all. */
static double run(int n)
{
    struct worker *ws = calloc((size_t)n, sizeof *ws);
    if (!ws) {
        fprintf(stderr, "bcrypt_rate: out of memory\n");
        exit(1);
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        if (pthread_create(&ws[i].thread, NULL, check_loop, &ws[i]) != 0) {
            fprintf(stderr, "bcrypt_rate: pthread_create failed\n");
            exit(1);
        }
    long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(ws[i].thread, NULL);
        if (ws[i].failed) {
            fprintf(stderr, "bcrypt_rate: crypt_r did not verify the hash\n");
            exit(1);
        }
        total += ws[i].checks;
    }
    double rate = (double)total / (now_s() - t0);
    free(ws);
    return rate;
}

int main(int argc, char **argv)
{
    int cost = 10, threads = (int)sysconf(_SC_NPROCESSORS_ONLN), json = 0;
    int print_hash = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--cost") && v) cost = atoi(v), i++;
        else if (!strcmp(argv[i], "--seconds") && v) g_seconds = atof(v), i++;
        else if (!strcmp(argv[i], "--threads") && v) threads = atoi(v), i++;
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--print-hash")) print_hash = 1;
        else {
            fprintf(stderr, "usage: bcrypt_rate [--cost N] [--seconds S] "
                            "[--threads T] [--json] | --print-hash [--cost N]\n");
            return 2;
        }
    }
    if (cost < 4 || cost > 31 || threads < 1 || g_seconds <= 0) {
        fprintf(stderr, "bcrypt_rate: bad arguments\n");
        return 2;
    }

    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd || !crypt_gensalt_rn("$2a$", (unsigned long)cost, NULL, 0, salt, sizeof salt)) {
        fprintf(stderr, "bcrypt_rate: cannot make a $2a$ salt\n");
        return 1;
    }
    const char *h = crypt_r(PASSWORD, salt, cd);
    if (!h || strncmp(h, "$2a$", 4) != 0) {
        fprintf(stderr, "bcrypt_rate: crypt_r cannot hash $2a$\n");
        return 1;
    }
    snprintf(g_hash, sizeof g_hash, "%s", h);
    free(cd);
    if (print_hash) {
        puts(g_hash);
        return 0;
    }

    double one = run(1);
    double all = run(threads);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (json)
        printf("{\"cost\":%d,\"per_core_per_s\":%.1f,\"cores\":%d,"
               "\"limit_per_s\":%.1f,\"threads\":%d,\"measured_all_threads_per_s\":%.1f}\n",
               cost, one, cores, one * cores, threads, all);
    else
        printf("bcrypt cost %d: one core %.1f checks/s; x %d cores = %.1f/s; "
               "%d threads at once: %.1f/s\n",
               cost, one, cores, one * cores, threads, all);
    return 0;
}
