/*
 * cron.c - the scheduler (see cron.h) and PocketBase's system jobs.
 *
 * Design. A schedule is five bit sets, one per field, so a due check is
 * five bit tests. The job table is guarded by one mutex; the ticker
 * thread sleeps on a condition variable until the next minute of its
 * clock, then hands each due job to the worker pool (the job's id and
 * function are copied into the submission, so a job removed meanwhile
 * still finishes, and an id removed and added again runs its new
 * function next time).
 */
#include "cron.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../base/util.h"
#include "../base/stats.h"
#include "app.h"
#include "metrics.h"
#include "pool.h"

/* ---- expressions --------------------------------------------------------- */

static const char *const month_names[] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat"};

static const struct {
    const char *name, *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* Reads a number or a name (names: 3 letters, index + base) at *p. */
static int read_value(const char **p, const char *const *names, int nnames,
                      int base, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        *out = (int)v;
        *p = s;
        return 0;
    }
    for (int i = 0; names && i < nnames; i++) {
        if (strncasecmp(s, names[i], 3) == 0 &&
            !isalpha((unsigned char)s[3])) {
            *out = i + base;
            *p = s + 3;
            return 0;
        }
    }
    return BS_EINVAL;
}

/* Parses one field of [lo, hi] into a bit set. */
static int parse_field(const char *text, size_t len, int lo, int hi,
                       const char *const *names, int nnames, int base,
                       uint64_t *bits, const char *what, char *msg,
                       size_t cap)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf || text[0] == ',' ||
        text[len - 1] == ',' || memmem(text, len, ",,", 2))
        goto bad;
    memcpy(buf, text, len);
    buf[len] = '\0';
    *bits = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part;
         part = strtok_r(NULL, ",", &save)) {
        const char *p = part;
        int a = lo, b = hi, step = 1;
        if (*p == '*') {
            p++;
        } else {
            if (read_value(&p, names, nnames, base, &a))
                goto bad;
            b = a;
            if (*p == '-') {
                p++;
                if (read_value(&p, names, nnames, base, &b))
                    goto bad;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            int s = 0;
            if (read_value(&p, NULL, 0, 0, &s) || s < 1)
                goto bad;
            step = s;
            /* "a/n" means from a to the end, as in Vixie cron. */
            if (b == a && part[0] != '*' && !strchr(part, '-'))
                b = hi;
        }
        if (*p || a < lo || b > hi || a > b)
            goto bad;
        for (int v = a; v <= b; v += step)
            *bits |= (uint64_t)1 << v;
    }
    if (*bits == 0)
        goto bad;
    return 0;
bad:
    snprintf(msg, cap, "invalid %s field \"%.*s\"", what,
             (int)(len < 40 ? len : 40), text);
    return BS_EINVAL;
}

int bs_cron_parse(const char *expr, bs_cron_schedule *out, char *msg,
                  size_t cap)
{
    memset(out, 0, sizeof *out);
    if (!expr)
        expr = "";
    while (isspace((unsigned char)*expr))
        expr++;
    if (*expr == '@') {
        for (size_t i = 0; i < sizeof macros / sizeof macros[0]; i++) {
            if (strcmp(expr, macros[i].name) == 0)
                return bs_cron_parse(macros[i].expr, out, msg, cap);
        }
        snprintf(msg, cap, "unknown macro \"%.40s\"", expr);
        return BS_EINVAL;
    }
    const char *f[5];
    size_t n[5];
    int k = 0;
    const char *p = expr;
    while (*p) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (k == 5) {
            snprintf(msg, cap, "expected 5 fields, got more");
            return BS_EINVAL;
        }
        f[k] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        n[k] = (size_t)(p - f[k]);
        k++;
    }
    if (k != 5) {
        snprintf(msg, cap, "expected 5 fields, got %d", k);
        return BS_EINVAL;
    }
    uint64_t b[5];
    int rc;
    if ((rc = parse_field(f[0], n[0], 0, 59, NULL, 0, 0, &b[0], "minute",
                          msg, cap)) ||
        (rc = parse_field(f[1], n[1], 0, 23, NULL, 0, 0, &b[1], "hour", msg,
                          cap)) ||
        (rc = parse_field(f[2], n[2], 1, 31, NULL, 0, 0, &b[2],
                          "day of month", msg, cap)) ||
        (rc = parse_field(f[3], n[3], 1, 12, month_names, 12, 1, &b[3],
                          "month", msg, cap)) ||
        (rc = parse_field(f[4], n[4], 0, 7, day_names, 7, 0, &b[4],
                          "day of week", msg, cap)))
        return rc;
    out->minutes = b[0];
    out->hours = (uint32_t)b[1];
    out->days = (uint32_t)b[2];
    out->months = (uint16_t)b[3];
    /* 7 is Sunday as well as 0. */
    out->weekdays = (uint8_t)((b[4] & 0x7f) | ((b[4] >> 7) & 1));
    return 0;
}

static bool has(uint64_t bits, int i)
{
    return (bits >> i) & 1;
}

bool bs_cron_due(const bs_cron_schedule *s, int64_t unix_ms)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return has(s->minutes, tm.tm_min) && has(s->hours, tm.tm_hour) &&
           has(s->days, tm.tm_mday) && has(s->months, tm.tm_mon + 1) &&
           has(s->weekdays, tm.tm_wday);
}

int64_t bs_cron_next(const bs_cron_schedule *s, int64_t unix_ms)
{
    time_t t = (time_t)(unix_ms / 1000);
    t = t - t % 60 + 60; /* the next whole minute */
    time_t end = t + (time_t)5 * 366 * 86400;
    while (t < end) {
        struct tm tm;
        gmtime_r(&t, &tm);
        if (!has(s->months, tm.tm_mon + 1)) {
            /* To the first minute of the next month. */
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            t = timegm(&tm);
            continue;
        }
        if (!has(s->days, tm.tm_mday) || !has(s->weekdays, tm.tm_wday)) {
            t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
            continue;
        }
        if (!has(s->hours, tm.tm_hour)) {
            t += 3600 - tm.tm_min * 60;
            continue;
        }
        if (!has(s->minutes, tm.tm_min)) {
            t += 60;
            continue;
        }
        return (int64_t)t * 1000;
    }
    return -1;
}

/* ---- the scheduler ------------------------------------------------------- */

typedef struct cron_job {
    char *id;
    char *expr;
    bs_cron_schedule sched;
    bs_job_fn fn;
    void *user;
} cron_job;

struct bs_cron {
    bs_app *app;
    bs_pool *pool;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    cron_job *jobs;
    int njobs;
    bs_cron_clock_fn clock;
    void *clock_ctx;
    int64_t last_minute;     /* the minute last ticked, or -1 */
    /* BASALT_CRON_MINUTE_MS (tests): a minute of the real clock lasts
     * this many real milliseconds, counted from fast_origin. 0: off. */
    int64_t minute_ms, fast_origin;
    bool running, stopping;
    pthread_t thread;
};

static int64_t real_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The real clock run faster, so that tests see minutes pass in seconds. */
static int64_t fast_clock(void *ctx)
{
    const bs_cron *c = ctx;
    int64_t real = real_clock(NULL);
    return c->fast_origin + (real - c->fast_origin) * 60000 / c->minute_ms;
}

bs_cron *bs_cron_new(bs_app *app, bs_pool *pool)
{
    bs_cron *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->app = app;
    c->pool = pool;
    c->clock = real_clock;
    const char *fast = getenv("BASALT_CRON_MINUTE_MS");
    long ms = fast ? strtol(fast, NULL, 10) : 0;
    if (ms > 0 && ms < 60000) {
        c->minute_ms = ms;
        c->fast_origin = real_clock(NULL);
        c->clock = fast_clock;
        c->clock_ctx = c;
    }
    c->last_minute = -1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    return c;
}

static void job_dispose(cron_job *j)
{
    free(j->id);
    free(j->expr);
}

void bs_cron_free(bs_cron *c)
{
    if (!c)
        return;
    bs_cron_stop(c);
    for (int i = 0; i < c->njobs; i++)
        job_dispose(&c->jobs[i]);
    free(c->jobs);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void bs_cron_set_clock(bs_cron *c, bs_cron_clock_fn fn, void *ctx)
{
    pthread_mutex_lock(&c->lock);
    c->clock = fn ? fn : real_clock;
    c->clock_ctx = ctx;
    pthread_mutex_unlock(&c->lock);
}

static int find(const bs_cron *c, const char *id)
{
    for (int i = 0; i < c->njobs; i++) {
        if (strcmp(c->jobs[i].id, id) == 0)
            return i;
    }
    return -1;
}

int bs_cron_add(bs_app *app, const char *id, const char *expr, bs_job_fn fn,
                void *user)
{
    bs_cron *c = app->cron;
    char msg[128];
    cron_job j = {0};
    if (!id || !*id || !fn)
        return BS_EINVAL;
    if (bs_cron_parse(expr, &j.sched, msg, sizeof msg)) {
        bs_log('W', "Cron job %s: %s", id, msg);
        return BS_EINVAL;
    }
    j.id = strdup(id);
    j.expr = strdup(expr);
    j.fn = fn;
    j.user = user;
    if (!j.id || !j.expr) {
        job_dispose(&j);
        return BS_ENOMEM;
    }
    pthread_mutex_lock(&c->lock);
    int i = find(c, id);
    int rc = 0;
    if (i >= 0) {
        job_dispose(&c->jobs[i]);
        c->jobs[i] = j;
    } else {
        cron_job *list = realloc(c->jobs, sizeof *list *
                                              (size_t)(c->njobs + 1));
        if (list) {
            c->jobs = list;
            c->jobs[c->njobs++] = j;
        } else {
            job_dispose(&j);
            rc = BS_ENOMEM;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

bool bs_cron_remove(bs_app *app, const char *id)
{
    bs_cron *c = app->cron;
    pthread_mutex_lock(&c->lock);
    int i = find(c, id);
    if (i >= 0) {
        job_dispose(&c->jobs[i]);
        c->jobs[i] = c->jobs[--c->njobs];
    }
    pthread_mutex_unlock(&c->lock);
    return i >= 0;
}

void bs_cron_remove_all(bs_app *app)
{
    bs_cron *c = app->cron;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->njobs; i++)
        job_dispose(&c->jobs[i]);
    c->njobs = 0;
    pthread_mutex_unlock(&c->lock);
}

/* One run of a job on the pool. */
typedef struct run {
    bs_job_fn fn;
    void *user;
    char id[]; /* the job's id, for the metrics */
} run;

static void run_job(bs_app *app, void *arg)
{
    run *r = arg;
    int64_t t0 = bs_mono_ns();
    r->fn(app, r->user);
    bs_metrics_op_done(app->metrics, BS_METRICS_CRON, r->id, true,
                       bs_mono_ns() - t0);
    free(r);
}

/* Submits job i; the lock is held. */
static int submit(bs_cron *c, const cron_job *j)
{
    size_t n = strlen(j->id);
    run *r = malloc(sizeof *r + n + 1);
    if (!r)
        return BS_ENOMEM;
    r->fn = j->fn;
    r->user = j->user;
    memcpy(r->id, j->id, n + 1);
    int rc = bs_pool_submit(c->pool, run_job, r);
    if (rc)
        free(r);
    return rc;
}

int bs_cron_run(bs_app *app, const char *id)
{
    bs_cron *c = app->cron;
    pthread_mutex_lock(&c->lock);
    int i = find(c, id);
    int rc = i < 0 ? BS_ENOTFOUND : submit(c, &c->jobs[i]);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int bs_cron_tick(bs_cron *c, int64_t now_ms)
{
    int64_t minute = now_ms / 60000;
    int n = 0;
    pthread_mutex_lock(&c->lock);
    if (minute != c->last_minute) {
        c->last_minute = minute;
        for (int i = 0; i < c->njobs; i++) {
            if (bs_cron_due(&c->jobs[i].sched, now_ms) &&
                submit(c, &c->jobs[i]) == 0)
                n++;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void *ticker(void *data)
{
    bs_cron *c = data;
    pthread_mutex_lock(&c->lock);
    while (!c->stopping) {
        int64_t now = c->clock(c->clock_ctx);
        int64_t next = (now / 60000 + 1) * 60000;
        /* Wait in real time for the distance to the clock's next minute
         * (a second at most, so a changed clock is seen soon). */
        int64_t wait = next - now;
        if (c->clock == fast_clock)
            wait = wait * c->minute_ms / 60000 + 1;
        if (wait > 1000)
            wait = 1000;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + wait * 1000000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&c->wake, &c->lock, &ts);
        if (c->stopping)
            break;
        now = c->clock(c->clock_ctx);
        bool new_minute = now / 60000 != c->last_minute;
        pthread_mutex_unlock(&c->lock);
        /* Nodes sharing a PostgreSQL database: only the leader runs the
         * jobs; the others let the minute pass (bs_store_leader). */
        if (new_minute && c->app && c->app->store &&
            !bs_store_leader(c->app->store)) {
            pthread_mutex_lock(&c->lock);
            c->last_minute = now / 60000;
            continue;
        }
        bs_cron_tick(c, now);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int bs_cron_start(bs_cron *c)
{
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    if (!c->running) {
        c->stopping = false;
        /* The minute the server starts in is not run retroactively. */
        c->last_minute = c->clock(c->clock_ctx) / 60000;
        rc = pthread_create(&c->thread, NULL, ticker, c) == 0 ? 0 : BS_ENOMEM;
        c->running = rc == 0;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void bs_cron_stop(bs_cron *c)
{
    pthread_mutex_lock(&c->lock);
    bool was = c->running;
    c->stopping = true;
    c->running = false;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (was)
        pthread_join(c->thread, NULL);
}

static int cmp_jobs(const void *a, const void *b)
{
    const char *x = ((const cron_job *)a)->id, *y = ((const cron_job *)b)->id;
    bool sx = strncmp(x, "__pb", 4) == 0, sy = strncmp(y, "__pb", 4) == 0;
    if (sx != sy)
        return sx ? 1 : -1;
    return strcmp(x, y);
}

json_object *bs_cron_list(bs_cron *c)
{
    json_object *list = json_object_new_array();
    pthread_mutex_lock(&c->lock);
    cron_job *copy = malloc(sizeof *copy * (size_t)(c->njobs ? c->njobs : 1));
    int n = copy ? c->njobs : 0;
    if (copy && n)
        memcpy(copy, c->jobs, sizeof *copy * (size_t)n);
    qsort(copy, (size_t)n, sizeof *copy, cmp_jobs);
    for (int i = 0; list && i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(copy[i].id));
        json_object_object_add(o, "expression",
                               json_object_new_string(copy[i].expr));
        json_object_array_add(list, o);
    }
    pthread_mutex_unlock(&c->lock);
    free(copy);
    return list;
}
