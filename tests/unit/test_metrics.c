/*
 * test_metrics.c - the histogram buckets (base/stats), the metrics
 * registry and its Prometheus text (core/metrics), and the store's
 * writer lock counters (db/store).
 */
#include <string.h>

#include "base/stats.h"
#include "core/metrics.h"
#include "harness.h"
#include "http/router.h"
#include "testapp.h"
#include "tmpdir.h"

static int noop(bs_event *e, void *user)
{
    (void)e;
    (void)user;
    return 0;
}

TEST(hist_buckets)
{
    bs_hist h = {0};
    bs_hist_observe(&h, 100000);      /* exactly 100 us: first bucket */
    bs_hist_observe(&h, 100001);      /* just over: second */
    bs_hist_observe(&h, -5);          /* clamped to 0 */
    bs_hist_observe(&h, 60000000000); /* a minute: +Inf */
    CHECK(bs_counter_get(&h.buckets[0]) == 2);
    CHECK(bs_counter_get(&h.buckets[1]) == 1);
    CHECK(bs_counter_get(&h.buckets[BS_HIST_BUCKETS - 1]) == 1);
    CHECK(bs_hist_count(&h) == 4);
    CHECK(bs_counter_get(&h.sum_ns) == 100000 + 100001 + 60000000000ULL);
}

TEST(requests_by_route)
{
    bs_router *rt = bs_router_new();
    REQUIRE(rt);
    const bs_route *a = bs_router_add(rt, "GET", "/api/x/{id}", noop, NULL);
    const bs_route *b = bs_router_add(rt, NULL, "/api/{path...}", noop, NULL);
    REQUIRE(a && b);
    CHECK(strcmp(bs_route_pattern(a), "/api/x/{id}") == 0);
    CHECK(bs_route_method(b) == NULL);
    bs_metrics *m = bs_metrics_new();
    REQUIRE(m);
    bs_metrics_request(m, a, "GET", 200, 1000);
    bs_metrics_request(m, a, "GET", 204, 1000);
    bs_metrics_request(m, a, "GET", 404, 3000000);
    bs_metrics_request(m, b, "DELETE", 500, 1000);
    bs_metrics_request(m, b, "BREW", 418, 1000);
    bs_metrics_request(m, NULL, "GET", 404, 1000);
    bs_metrics_op_done(m, BS_METRICS_CRON, "job\"1", true, 2000000000);
    bs_metrics_op_done(m, BS_METRICS_BACKUP_CREATE, "", false, 1);

    char dir[256];
    REQUIRE(tmpdir_make(dir, sizeof dir) == 0);
    bs_app *app = testapp_open(dir, NULL);
    bs_metrics *own = app->metrics;
    app->metrics = m;
    bs_buf b2;
    bs_buf_init(&b2);
    bs_metrics_write(app, &b2);
    app->metrics = own;
    const char *t = b2.data;
    REQUIRE(t);
    CHECK(strstr(t, "basalt_http_requests_total{method=\"GET\",route=\"/api/x/{id}\",status=\"2xx\"} 2\n"));
    CHECK(strstr(t, "basalt_http_requests_total{method=\"GET\",route=\"/api/x/{id}\",status=\"4xx\"} 1\n"));
    CHECK(strstr(t, "{method=\"DELETE\",route=\"/api/{path...}\",status=\"5xx\"} 1\n"));
    CHECK(strstr(t, "{method=\"OTHER\",route=\"/api/{path...}\",status=\"4xx\"} 1\n"));
    CHECK(strstr(t, "{method=\"GET\",route=\"\",status=\"4xx\"} 1\n"));
    /* Cumulative buckets: 2 at 100 us, the 3 ms one from 5 ms on. */
    CHECK(strstr(t, "basalt_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/x/{id}\",le=\"0.0001\"} 2\n"));
    CHECK(strstr(t, "basalt_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/x/{id}\",le=\"0.0025\"} 2\n"));
    CHECK(strstr(t, "basalt_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/x/{id}\",le=\"0.005\"} 3\n"));
    CHECK(strstr(t, "basalt_http_request_duration_seconds_count{method=\"GET\",route=\"/api/x/{id}\"} 3\n"));
    CHECK(strstr(t, "basalt_cron_runs_total{job=\"job\\\"1\"} 1\n"));
    CHECK(strstr(t, "basalt_cron_run_seconds_total{job=\"job\\\"1\"} 2\n"));
    CHECK(strstr(t, "basalt_backups_total{operation=\"create\",result=\"failure\"} 1\n"));
    CHECK(strstr(t, "basalt_backups_total{operation=\"create\",result=\"success\"} 0\n"));
    /* The bootstrap committed transactions. */
    CHECK(strstr(t, "basalt_db_transactions_total{result=\"commit\"} 0\n") == NULL);
    CHECK(strstr(t, "basalt_db_write_queue 0\n"));
    bs_buf_dispose(&b2);
    bs_metrics_free(m);
    bs_app_free(app);
    bs_router_free(rt);
    tmpdir_remove(dir);
}

TEST(store_counters)
{
    char dir[256];
    REQUIRE(tmpdir_make(dir, sizeof dir) == 0);
    bs_store *s = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_store_open(&s, dir, 1, &err) == 0);
    const bs_store_counters *k = bs_store_counters_get(s);
    bs_conn *c = NULL;
    REQUIRE(bs_store_tx_begin(s, &c, &err) == 0);
    CHECK(bs_store_tx_end(s, true, &err) == 0);
    REQUIRE(bs_store_tx_begin(s, &c, &err) == 0);
    CHECK(bs_store_tx_end(s, false, &err) == 0);
    CHECK(bs_counter_get(&k->commits) == 1);
    CHECK(bs_counter_get(&k->rollbacks) == 1);
    CHECK(bs_hist_count(&k->wait) == 2);
    CHECK(bs_hist_count(&k->tx) == 2);
    uint64_t hits, misses;
    bs_conn *r = bs_store_reader_acquire(s);
    CHECK(bs_conn_prepare(r, "SELECT 1") != NULL);
    CHECK(bs_conn_prepare(r, "SELECT 1") != NULL);
    bs_store_reader_release(s, r);
    bs_store_stmt_cache(s, &hits, &misses);
    CHECK(hits == 1 && misses == 1);
    bs_store_close(s);
    bs_error_dispose(&err);
    tmpdir_remove(dir);
}

int main(void)
{
    RUN(hist_buckets);
    RUN(requests_by_route);
    RUN(store_counters);
    return harness_summary(__FILE__);
}
