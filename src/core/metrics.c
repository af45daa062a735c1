/*
 * metrics.c - the metrics registry and the Prometheus text exposition.
 *
 * Requests are counted in an open-addressed table of route slots keyed
 * by the matched route and the method (the route's address with the
 * method's index in its low bits: routes are malloc'ed, so aligned).
 * A request finds its slot by probing; a new key claims an empty slot
 * with one compare-and-swap, so recording never locks nor allocates.
 * The table is sized well past the number of routes a program adds;
 * should it fill up, the request is counted in one overflow slot whose
 * route label is "other". A slot holds the count per status class and a
 * latency histogram (src/base/stats.h).
 *
 * Rare operations (cron runs, backups) go to a small array under a
 * mutex: they happen at most a few times a minute.
 *
 * The exposition walks both and reads the counters other modules keep
 * (store, realtime, request log writer). It allocates only the output
 * buffer, so a scrape costs a few tens of microseconds for a hundred
 * active routes (measured in docs/openapi.md's metrics section).
 */
#include "metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../base/stats.h"
#include "../db/log_writer.h"
#include "../http/router.h"
#include "app.h"
#include "logs.h"
#include "cluster.h"
#include "realtime.h"
#include "webhooks.h"

#define ROUTE_SLOTS 512

/* Methods with their own label; anything else is "OTHER". */
static const char *const methods[] = {"GET",    "POST", "PATCH",   "PUT",
                                      "DELETE", "HEAD", "OPTIONS", "OTHER"};
#define NMETHODS 8

typedef struct route_slot {
    _Atomic uintptr_t key;       /* 0: empty */
    bs_counter status[5];        /* 1xx .. 5xx */
    bs_hist latency;
} route_slot;

typedef struct op_entry {
    bs_metrics_op op;
    char *name;
    uint64_t ok, failed;
    int64_t sum_ns;
} op_entry;

struct bs_metrics {
    route_slot routes[ROUTE_SLOTS];
    route_slot overflow;
    _Atomic int64_t in_flight;

    pthread_mutex_t lock; /* ops */
    op_entry *ops;
    int nops, cap;
};

/* The unmatched requests' key: an address no route has. */
static const char unmatched_route;

bs_metrics *bs_metrics_new(void)
{
    bs_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void bs_metrics_free(bs_metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nops; i++)
        free(m->ops[i].name);
    free(m->ops);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int method_index(const char *method)
{
    if (!method)
        return NMETHODS - 1;
    for (int i = 0; i < NMETHODS - 1; i++) {
        if (strcmp(method, methods[i]) == 0)
            return i;
    }
    return NMETHODS - 1;
}

static route_slot *slot_for(bs_metrics *m, uintptr_t key)
{
    uintptr_t h = key * (uintptr_t)0x9E3779B97F4A7C15ULL;
    size_t i = (size_t)(h >> 20) % ROUTE_SLOTS;
    for (size_t probe = 0; probe < ROUTE_SLOTS; probe++) {
        route_slot *s = &m->routes[(i + probe) % ROUTE_SLOTS];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return s;
        if (k == 0) {
            uintptr_t want = 0;
            if (atomic_compare_exchange_strong_explicit(
                    &s->key, &want, key, memory_order_acq_rel,
                    memory_order_acquire) ||
                want == key)
                return s;
        }
    }
    return &m->overflow;
}

void bs_metrics_request(bs_metrics *m, const void *route, const char *method,
                        int status, int64_t ns)
{
    if (!m)
        return;
    uintptr_t key = (uintptr_t)(route ? route : (const void *)&unmatched_route);
    /* Routes are heap blocks aligned to 8 or more; the static sentinel
     * may not be, which only shifts its slot. */
    key = (key & ~(uintptr_t)7) | (uintptr_t)method_index(method);
    if (!route)
        key |= (uintptr_t)1 << (sizeof key * 8 - 1);
    route_slot *s = slot_for(m, key);
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 5;
    bs_counter_add(&s->status[cls - 1], 1);
    bs_hist_observe(&s->latency, ns);
}

void bs_metrics_in_flight(bs_metrics *m, int delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->in_flight, delta,
                                  memory_order_relaxed);
}

void bs_metrics_op_done(bs_metrics *m, bs_metrics_op op, const char *name,
                        bool ok, int64_t ns)
{
    if (!m)
        return;
    if (!name)
        name = "";
    pthread_mutex_lock(&m->lock);
    op_entry *e = NULL;
    for (int i = 0; i < m->nops && !e; i++) {
        if (m->ops[i].op == op && strcmp(m->ops[i].name, name) == 0)
            e = &m->ops[i];
    }
    if (!e && m->nops == m->cap) {
        int cap = m->cap ? m->cap * 2 : 16;
        op_entry *grown = realloc(m->ops, sizeof *grown * (size_t)cap);
        if (grown) {
            m->ops = grown;
            m->cap = cap;
        }
    }
    if (!e && m->nops < m->cap) {
        char *copy = strdup(name);
        if (copy) {
            e = &m->ops[m->nops++];
            *e = (op_entry){.op = op, .name = copy};
        }
    }
    if (e) {
        if (ok)
            e->ok++;
        else
            e->failed++;
        e->sum_ns += ns > 0 ? ns : 0;
    }
    pthread_mutex_unlock(&m->lock);
}

/* ---- exposition ---------------------------------------------------------- */

/* A label value: backslash, quote and newline escaped. */
static void put_label(bs_buf *b, const char *s)
{
    bs_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            bs_buf_putc(b, '\\');
        if (*s == '\n') {
            bs_buf_puts(b, "\\n");
            continue;
        }
        bs_buf_putc(b, *s);
    }
    bs_buf_putc(b, '"');
}

static void put_head(bs_buf *b, const char *name, const char *type,
                     const char *help)
{
    bs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_u64(bs_buf *b, const char *name, uint64_t v)
{
    bs_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* A counter without labels: its head and its one sample. */
static void put_counter(bs_buf *b, const char *name, const char *help,
                        uint64_t v)
{
    put_head(b, name, "counter", help);
    put_u64(b, name, v);
}

/* The sample lines of one histogram: name_bucket{labels,le=...},
 * name_sum and name_count. labels is "" or `k="v",` pairs with a
 * trailing comma. */
static void put_hist(bs_buf *b, const char *name, const char *labels,
                     const bs_hist *h)
{
    uint64_t acc = 0;
    for (int i = 0; i < BS_HIST_BUCKETS; i++) {
        acc += bs_counter_get(&h->buckets[i]);
        if (i < BS_HIST_BOUNDS)
            bs_buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels,
                          bs_hist_bounds[i], (unsigned long long)acc);
        else
            bs_buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
                          (unsigned long long)acc);
    }
    size_t n = strlen(labels);
    /* Without the trailing comma for the last two lines. */
    bs_buf_printf(b, "%s_sum%s%.*s%s %.9g\n", name, n ? "{" : "",
                  (int)(n ? n - 1 : 0), labels, n ? "}" : "",
                  (double)bs_counter_get(&h->sum_ns) / 1e9);
    bs_buf_printf(b, "%s_count%s%.*s%s %llu\n", name, n ? "{" : "",
                  (int)(n ? n - 1 : 0), labels, n ? "}" : "",
                  (unsigned long long)acc);
}

/* The labels of a route slot: method="..",route="..", */
static void slot_labels(bs_buf *b, const route_slot *s, bool overflow)
{
    uintptr_t key = atomic_load_explicit(&((route_slot *)s)->key,
                                         memory_order_acquire);
    const char *route = "other";
    const char *method = "OTHER";
    if (!overflow) {
        method = methods[key & 7];
        bool unmatched = key >> (sizeof key * 8 - 1);
        route = unmatched ? ""
                          : bs_route_pattern((const bs_route *)(key &
                                                                ~(uintptr_t)7));
    }
    bs_buf_puts(b, "method=");
    put_label(b, method);
    bs_buf_puts(b, ",route=");
    put_label(b, route);
    bs_buf_putc(b, ',');
}

static bool slot_used(const route_slot *s)
{
    for (int i = 0; i < 5; i++) {
        if (bs_counter_get(&s->status[i]))
            return true;
    }
    return false;
}

static void write_requests(bs_metrics *m, bs_buf *b)
{
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx",
                                          "5xx"};
    bs_buf labels;
    bs_buf_init(&labels);
    put_head(b, "basalt_http_requests_total", "counter",
             "HTTP requests answered, by method, route pattern and status "
             "class.");
    for (int i = 0; i <= ROUTE_SLOTS; i++) {
        const route_slot *s = i < ROUTE_SLOTS ? &m->routes[i] : &m->overflow;
        if (!slot_used(s))
            continue;
        bs_buf_reset(&labels);
        slot_labels(&labels, s, i == ROUTE_SLOTS);
        for (int c = 0; c < 5; c++) {
            uint64_t n = bs_counter_get(&s->status[c]);
            if (n)
                bs_buf_printf(b, "basalt_http_requests_total{%sstatus=\"%s\"}"
                                 " %llu\n",
                              labels.data, classes[c],
                              (unsigned long long)n);
        }
    }
    put_head(b, "basalt_http_request_duration_seconds", "histogram",
             "Time from the request head to the response, by method and "
             "route pattern.");
    for (int i = 0; i <= ROUTE_SLOTS; i++) {
        const route_slot *s = i < ROUTE_SLOTS ? &m->routes[i] : &m->overflow;
        if (!slot_used(s))
            continue;
        bs_buf_reset(&labels);
        slot_labels(&labels, s, i == ROUTE_SLOTS);
        put_hist(b, "basalt_http_request_duration_seconds", labels.data,
                 &s->latency);
    }
    bs_buf_dispose(&labels);
    put_head(b, "basalt_http_requests_in_flight", "gauge",
             "Requests being handled now.");
    bs_buf_printf(b, "basalt_http_requests_in_flight %lld\n",
                  (long long)atomic_load_explicit(&m->in_flight,
                                                  memory_order_relaxed));
}

static void write_store(bs_app *app, bs_buf *b)
{
    if (!app->store)
        return;
    const bs_store_counters *k = bs_store_counters_get(app->store);
    put_head(b, "basalt_db_write_queue", "gauge",
             "Writers waiting for the database's writer lock now.");
    bs_buf_printf(b, "basalt_db_write_queue %lld\n",
                  (long long)atomic_load_explicit(
                      &((bs_store_counters *)k)->waiting,
                      memory_order_relaxed));
    put_head(b, "basalt_db_transactions_total", "counter",
             "Write transactions, by outcome.");
    bs_buf_printf(b, "basalt_db_transactions_total{result=\"commit\"} %llu\n",
                  (unsigned long long)bs_counter_get(&k->commits));
    bs_buf_printf(b,
                  "basalt_db_transactions_total{result=\"rollback\"} %llu\n",
                  (unsigned long long)bs_counter_get(&k->rollbacks));
    uint64_t groups, members;
    bs_store_group_stats(app->store, &groups, &members);
    put_counter(b, "basalt_db_group_commits_total",
                "COMMITs of record saves and deletes (group commit).", groups);
    put_counter(b, "basalt_db_group_members_total",
                "Record saves and deletes those COMMITs carried.", members);
    uint64_t ckpts, ckpt_ns;
    bs_store_checkpoints(app->store, &ckpts, &ckpt_ns);
    put_counter(b, "basalt_db_checkpoints_total",
                "WAL checkpoints run by the checkpoint thread, off the "
                "writer.", ckpts);
    put_head(b, "basalt_db_checkpoint_seconds_total", "counter",
             "Time those checkpoints took.");
    bs_buf_printf(b, "basalt_db_checkpoint_seconds_total %.6f\n",
                  (double)ckpt_ns / 1e9);
    put_head(b, "basalt_db_write_wait_seconds", "histogram",
             "Time spent waiting for the writer lock.");
    put_hist(b, "basalt_db_write_wait_seconds", "", &k->wait);
    put_head(b, "basalt_db_write_transaction_seconds", "histogram",
             "Time the writer lock is held, from BEGIN to the end of "
             "COMMIT or ROLLBACK.");
    put_hist(b, "basalt_db_write_transaction_seconds", "", &k->tx);
    uint64_t hits, misses;
    bs_store_stmt_cache(app->store, &hits, &misses);
    put_head(b, "basalt_db_statement_cache_total", "counter",
             "Prepared statement cache lookups, by result.");
    bs_buf_printf(b, "basalt_db_statement_cache_total{result=\"hit\"} %llu\n",
                  (unsigned long long)hits);
    bs_buf_printf(b,
                  "basalt_db_statement_cache_total{result=\"miss\"} %llu\n",
                  (unsigned long long)misses);
}

static void write_realtime(bs_app *app, bs_buf *b)
{
    bs_realtime_stats st;
    bs_realtime_stats_get(app->realtime, &st);
    put_head(b, "basalt_realtime_clients", "gauge",
             "Realtime (SSE) clients connected now.");
    put_u64(b, "basalt_realtime_clients", st.clients);
    put_head(b, "basalt_realtime_connections_total", "counter",
             "Realtime clients connected since the start.");
    put_u64(b, "basalt_realtime_connections_total", st.connects);
    put_head(b, "basalt_realtime_messages_total", "counter",
             "Realtime messages queued for clients.");
    put_u64(b, "basalt_realtime_messages_total", st.messages);
    put_head(b, "basalt_realtime_dropped_clients_total", "counter",
             "Realtime clients dropped because they read too slowly.");
    put_u64(b, "basalt_realtime_dropped_clients_total", st.drops);
}

static void write_cluster(bs_app *app, bs_buf *b)
{
    bs_cluster_stats st;
    bs_cluster_stats_get(app, &st);
    if (!st.enabled)
        return;
    put_head(b, "basalt_cluster_connected", "gauge",
             "1 while the NATS connection shared with other nodes is up.");
    put_u64(b, "basalt_cluster_connected", st.connected ? 1 : 0);
    put_head(b, "basalt_cluster_reconnects_total", "counter",
             "Times the NATS connection came back (or first came up late).");
    put_u64(b, "basalt_cluster_reconnects_total", st.reconnects);
    put_head(b, "basalt_cluster_published_total", "counter",
             "Messages for other nodes (changes and reload notices), by "
             "outcome: handed to NATS, or failed (NATS down).");
    bs_buf_printf(b,
                  "basalt_cluster_published_total{result=\"sent\"} %llu\n"
                  "basalt_cluster_published_total{result=\"failed\"} "
                  "%llu\n",
                  (unsigned long long)st.published,
                  (unsigned long long)st.publish_failed);
    put_head(b, "basalt_cluster_received_total", "counter",
             "Messages from other nodes, by what became of them: record "
             "changes handed to realtime, snapshot reloads, or dropped "
             "(undecodable, or for an unknown collection).");
    bs_buf_printf(b,
                  "basalt_cluster_received_total{result=\"record\"} %llu\n"
                  "basalt_cluster_received_total{result=\"reload\"} %llu\n"
                  "basalt_cluster_received_total{result=\"dropped\"} "
                  "%llu\n",
                  (unsigned long long)st.received,
                  (unsigned long long)st.reloads,
                  (unsigned long long)st.dropped);
    put_head(b, "basalt_cluster_subscriptions_answered_total", "counter",
             "Realtime subscriptions of clients held here, set for a "
             "request another node received.");
    put_u64(b, "basalt_cluster_subscriptions_answered_total", st.forwarded);
    put_head(b, "basalt_cluster_acks_missed_total", "counter",
             "Nodes that did not confirm in time that they reloaded after "
             "a schema or settings change made here.");
    put_u64(b, "basalt_cluster_acks_missed_total", st.acks_missed);
}

static void write_logs(bs_app *app, bs_buf *b)
{
    bs_log_writer_stats st = {0};
    if (app->logs && app->logs->writer)
        bs_log_writer_stats_get(app->logs->writer, &st);
    put_head(b, "basalt_logs_rows_total", "counter",
             "Request log rows, by what became of them.");
    bs_buf_printf(b, "basalt_logs_rows_total{result=\"written\"} %llu\n",
                  (unsigned long long)st.written);
    bs_buf_printf(b, "basalt_logs_rows_total{result=\"dropped\"} %llu\n",
                  (unsigned long long)st.dropped);
    bs_buf_printf(b, "basalt_logs_rows_total{result=\"failed\"} %llu\n",
                  (unsigned long long)st.failed);
    put_head(b, "basalt_logs_rows_pending", "gauge",
             "Request log rows staged and waiting for an idle core.");
    put_u64(b, "basalt_logs_rows_pending", st.pending);
}

static void write_webhooks(bs_app *app, bs_buf *b)
{
    bs_webhooks_stats st;
    bs_webhooks_stats_get(app, &st);
    put_head(b, "basalt_webhook_deliveries_total", "counter",
             "Webhook deliveries, by outcome: acknowledged with a 2xx, or "
             "given up after the last attempt.");
    bs_buf_printf(b,
                  "basalt_webhook_deliveries_total{result=\"delivered\"} "
                  "%llu\n"
                  "basalt_webhook_deliveries_total{result=\"failed\"} %llu\n",
                  (unsigned long long)st.delivered,
                  (unsigned long long)st.failed);
    put_head(b, "basalt_webhook_failed_attempts_total", "counter",
             "Webhook delivery attempts that got no 2xx answer.");
    put_u64(b, "basalt_webhook_failed_attempts_total", st.attempts_failed);
    put_head(b, "basalt_webhook_pending", "gauge",
             "Webhook deliveries waiting to be sent (as of the sender's "
             "last count).");
    bs_buf_printf(b, "basalt_webhook_pending %lld\n", (long long)st.pending);
}

static void write_ops(bs_metrics *m, bs_buf *b)
{
    pthread_mutex_lock(&m->lock);
    put_head(b, "basalt_cron_runs_total", "counter",
             "Cron job runs, by job.");
    for (int i = 0; i < m->nops; i++) {
        const op_entry *e = &m->ops[i];
        if (e->op != BS_METRICS_CRON)
            continue;
        bs_buf_puts(b, "basalt_cron_runs_total{job=");
        put_label(b, e->name);
        bs_buf_printf(b, "} %llu\n", (unsigned long long)(e->ok + e->failed));
    }
    put_head(b, "basalt_cron_run_seconds_total", "counter",
             "Time spent in cron job runs, by job.");
    for (int i = 0; i < m->nops; i++) {
        const op_entry *e = &m->ops[i];
        if (e->op != BS_METRICS_CRON)
            continue;
        bs_buf_puts(b, "basalt_cron_run_seconds_total{job=");
        put_label(b, e->name);
        bs_buf_printf(b, "} %.9g\n", (double)e->sum_ns / 1e9);
    }
    put_head(b, "basalt_backups_total", "counter",
             "Backup creations and restores, by outcome.");
    static const char *const ops[] = {"", "create", "restore"};
    for (int op = BS_METRICS_BACKUP_CREATE; op <= BS_METRICS_BACKUP_RESTORE;
         op++) {
        uint64_t ok = 0, failed = 0;
        for (int i = 0; i < m->nops; i++) {
            if (m->ops[i].op == (bs_metrics_op)op) {
                ok += m->ops[i].ok;
                failed += m->ops[i].failed;
            }
        }
        bs_buf_printf(b,
                      "basalt_backups_total{operation=\"%s\",result="
                      "\"success\"} %llu\n"
                      "basalt_backups_total{operation=\"%s\",result="
                      "\"failure\"} %llu\n",
                      ops[op], (unsigned long long)ok, ops[op],
                      (unsigned long long)failed);
    }
    pthread_mutex_unlock(&m->lock);
}

void bs_metrics_write(bs_app *app, bs_buf *out)
{
    bs_metrics *m = app->metrics;
    if (m)
        write_requests(m, out);
    write_store(app, out);
    write_realtime(app, out);
    write_cluster(app, out);
    write_logs(app, out);
    write_webhooks(app, out);
    if (m)
        write_ops(m, out);
}
