/*
 * util.c - time stamps, random strings, checksums, folder trees and
 * logging.
 */
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zlib.h>

#include "basalt.h"

static bool log_verbose;

/* Writes v as exactly `width` decimal digits (its low digits). */
static char *put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void bs_time_str(int64_t t, int ms, char out[25])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    /* Each field keeps its low digits, so the text is always 24
     * characters: "2006-01-02 15:04:05.000Z". Written by hand, as this
     * runs for every saved record. */
    char *p = out;
    p = put_digits(p, (unsigned)(tm.tm_year + 1900), 4);
    *p++ = '-';
    p = put_digits(p, (unsigned)(tm.tm_mon + 1), 2);
    *p++ = '-';
    p = put_digits(p, (unsigned)tm.tm_mday, 2);
    *p++ = ' ';
    p = put_digits(p, (unsigned)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned)tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)ms, 3);
    *p++ = 'Z';
    *p = '\0';
}

void bs_now_str(char out[25])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    bs_time_str((int64_t)ts.tv_sec, (int)(ts.tv_nsec / 1000000), out);
}

uint64_t bs_fnv1a(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
    return h;
}

int64_t bs_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bs_cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
}

void bs_mono_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t ns = ts->tv_nsec + ms * 1000000;
    ts->tv_sec += ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
}

/* The objects each thread registered, run by one key's destructor. The
 * key's value only marks that the thread has something to run. */
#define AT_EXIT_MAX 8
typedef struct at_exit {
    void (*destroy)(void *);
    void *p;
} at_exit;

static _Thread_local at_exit at_exits[AT_EXIT_MAX];
static _Thread_local int n_at_exits;
static pthread_key_t at_exit_key;
static pthread_once_t at_exit_once = PTHREAD_ONCE_INIT;
static bool at_exit_ok;

static void run_at_exits(void *unused)
{
    (void)unused;
    while (n_at_exits > 0) {
        at_exit *e = &at_exits[--n_at_exits];
        e->destroy(e->p);
    }
}

static void at_exit_init(void)
{
    at_exit_ok = pthread_key_create(&at_exit_key, run_at_exits) == 0;
}

int bs_thread_on_exit(void (*destroy)(void *), void *p)
{
    pthread_once(&at_exit_once, at_exit_init);
    if (!at_exit_ok || n_at_exits == AT_EXIT_MAX ||
        (n_at_exits == 0 && pthread_setspecific(at_exit_key, at_exits) != 0))
        return BS_ENOMEM;
    at_exits[n_at_exits++] = (at_exit){destroy, p};
    return 0;
}

int64_t bs_env_positive(const char *name, int64_t def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n <= 0 ? def : (int64_t)n;
}

/* Random bytes come from a pool per thread, refilled from OpenSSL's
 * generator 1 KB at a time: each RAND_bytes call has a fixed cost about
 * that of generating hundreds of bytes, and an id takes fifteen. Each
 * byte is handed out once and wiped. (The process never forks, so no
 * two processes share a pool.) */
#define RANDOM_POOL 1024
static _Thread_local unsigned char random_pool[RANDOM_POOL];
static _Thread_local size_t random_left;

static int random_byte(unsigned char *out)
{
    if (random_left == 0) {
        if (RAND_bytes(random_pool, RANDOM_POOL) != 1)
            return BS_EIO;
        random_left = RANDOM_POOL;
    }
    random_left--;
    *out = random_pool[random_left];
    random_pool[random_left] = 0;
    return 0;
}

int bs_random_string(char *out, size_t n, const char *alphabet)
{
    size_t k = strlen(alphabet);
    /* Rejection sampling keeps the distribution uniform. */
    unsigned limit = 256 - (256 % (unsigned)k);
    size_t i = 0;
    while (i < n) {
        unsigned char b;
        if (random_byte(&b) != 0)
            return BS_EIO;
        if (b < limit)
            out[i++] = alphabet[b % k];
    }
    out[n] = '\0';
    return 0;
}

int bs_random_id(char out[16])
{
    return bs_random_string(out, 15, "abcdefghijklmnopqrstuvwxyz0123456789");
}

uint32_t bs_crc32(const void *p, size_t n)
{
    return (uint32_t)crc32(0L, p, (uInt)n);
}

int bs_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool bs_ct_equal(const void *a, size_t an, const void *b, size_t bn)
{
    if (an != bn)
        return false;
    return CRYPTO_memcmp(a, b, an) == 0;
}

void bs_log_set_verbose(bool on)
{
    log_verbose = on;
}

bool bs_log_verbose(void)
{
    return log_verbose;
}

void bs_log(char level, const char *fmt, ...)
{
    if (level == 'D' && !log_verbose)
        return;
    char ts[25];
    char line[1024];
    bs_now_str(ts);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const char *tag = level == 'E'   ? "ERROR"
                      : level == 'W' ? "WARN"
                      : level == 'D' ? "DEBUG"
                                     : "INFO";
    /* One fprintf per line keeps lines whole across threads. */
    fprintf(stderr, "%s %s %s\n", ts, tag, line);
}

bool bs_email_valid(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || strchr("<>(),;:\\\"[]", *p))
            return false;
    const char *dom = at + 1;
    return *dom != '.' && dom[strlen(dom) - 1] != '.' && !strstr(dom, "..");
}

int bs_make_parents(const char *p)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s", p);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return BS_EIO;
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return BS_EIO;
        *s = '/';
    }
    return 0;
}

void bs_remove_tree(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                      O_CLOEXEC);
    if (fd < 0) {
        unlinkat(parent, name, 0);
        return;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode))
            bs_remove_tree(fd, e->d_name);
        else
            unlinkat(fd, e->d_name, 0);
    }
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
}
