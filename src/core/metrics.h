/*
 * metrics.h - the metrics registry and its Prometheus text exposition.
 *
 * The registry keeps what no other module counts: HTTP requests by
 * route pattern, method and status class with a latency histogram, and
 * the outcomes of rare operations (cron job runs, backups). The rest is
 * read at scrape time from the modules that own it: the store's writer
 * lock and statement caches (src/db/store.h), the realtime broker, the
 * request log writer. Recording is lock-free (relaxed atomics, see
 * src/base/stats.h) on the request path; rare operations take a mutex.
 */
#ifndef BS_METRICS_H
#define BS_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/buf.h"
#include "basalt.h"

typedef struct bs_metrics bs_metrics;

bs_metrics *bs_metrics_new(void);
void bs_metrics_free(bs_metrics *m);

/* One request answered: route is the matched route (a bs_route, which
 * must live as long as the registry; NULL when none matched), method the
 * request's method, status its status code, ns its duration. Any thread;
 * no lock, no allocation. */
void bs_metrics_request(bs_metrics *m, const void *route, const char *method,
                        int status, int64_t ns);

/* Requests being handled now: +1 when one starts, -1 when it ends. */
void bs_metrics_in_flight(bs_metrics *m, int delta);

/* The families of rare operations. */
typedef enum bs_metrics_op {
    BS_METRICS_CRON,           /* name: the job id */
    BS_METRICS_BACKUP_CREATE,  /* name: "" */
    BS_METRICS_BACKUP_RESTORE, /* name: "" */
    BS_METRICS_OP_COUNT
} bs_metrics_op;

/* One run of an operation: its name (copied), whether it succeeded and
 * how long it took. Any thread; takes a mutex. */
void bs_metrics_op_done(bs_metrics *m, bs_metrics_op op, const char *name,
                        bool ok, int64_t ns);

/* Appends every metric of app in the Prometheus text format (version
 * 0.0.4) to out. Any thread. */
void bs_metrics_write(bs_app *app, bs_buf *out);

#endif
