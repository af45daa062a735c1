/*
 * test_cron.c - the scheduler: expressions (fields, ranges, steps, lists,
 * names, macros, errors), due minutes and the next run, ticks driven by
 * an injected clock, run-now, and jobs on the worker pool where a slow
 * job holds back no other.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basalt.h"
#include "core/app.h"
#include "core/cron.h"
#include "harness.h"

/* Unix ms of a UTC date. */
static int64_t at(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

static bool parses(const char *e)
{
    bs_cron_schedule s;
    char msg[128];
    return bs_cron_parse(e, &s, msg, sizeof msg) == 0;
}

/* The next run after t as "YYYY-MM-DD HH:MM", or "none". */
static const char *next_of(const char *expr, int64_t t)
{
    static char out[32];
    bs_cron_schedule s;
    char msg[128];
    if (bs_cron_parse(expr, &s, msg, sizeof msg) != 0)
        return "invalid";
    int64_t n = bs_cron_next(&s, t);
    if (n < 0)
        return "none";
    time_t secs = (time_t)(n / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, sizeof out, "%Y-%m-%d %H:%M", &tm);
    return out;
}

TEST(parse_fields)
{
    bs_cron_schedule s;
    char msg[128];
    REQUIRE(bs_cron_parse("*/15 8-18/2 1,15 jan-mar,DEC mon-fri", &s, msg,
                          sizeof msg) == 0);
    CHECK(s.minutes == ((1ULL << 0) | (1ULL << 15) | (1ULL << 30) |
                        (1ULL << 45)));
    CHECK(s.hours == ((1u << 8) | (1u << 10) | (1u << 12) | (1u << 14) |
                      (1u << 16) | (1u << 18)));
    CHECK(s.days == ((1u << 1) | (1u << 15)));
    CHECK(s.months == ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 12)));
    CHECK(s.weekdays == 0x3e);
    REQUIRE(bs_cron_parse("5/20 * * * 7", &s, msg, sizeof msg) == 0);
    CHECK(s.minutes == ((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));
    CHECK(s.weekdays == 1); /* 7 is Sunday */
    REQUIRE(bs_cron_parse("  0   0  *  *  sun,sat ", &s, msg, sizeof msg) ==
            0);
    CHECK(s.weekdays == ((1u << 0) | (1u << 6)));
}

TEST(macros)
{
    static const char *const pairs[][2] = {
        {"@yearly", "0 0 1 1 *"},  {"@annually", "0 0 1 1 *"},
        {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
        {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        bs_cron_schedule a, b;
        char msg[128];
        CHECK(bs_cron_parse(pairs[i][0], &a, msg, sizeof msg) == 0);
        CHECK(bs_cron_parse(pairs[i][1], &b, msg, sizeof msg) == 0);
        CHECK(memcmp(&a, &b, sizeof a) == 0);
    }
}

TEST(invalid_expressions)
{
    static const char *const bad[] = {
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
        "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * 0 *", "* * * * 8",
        "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *",
        "1- * * * *", "-1 * * * *", "* * * foo *", "* * * * mo",
        "@never", "@hourly extra", "*/x * * * *", "1/ * * * *",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parses(bad[i]))
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK(!parses(bad[i]));
    }
    char msg[128] = "";
    bs_cron_schedule s;
    CHECK(bs_cron_parse("* 99 * * *", &s, msg, sizeof msg) == BS_EINVAL);
    CHECK(strstr(msg, "hour") != NULL);
}

TEST(due_and_next)
{
    bs_cron_schedule s;
    char msg[128];
    REQUIRE(bs_cron_parse("30 9 * * mon", &s, msg, sizeof msg) == 0);
    /* 2024-01-01 was a Monday. */
    CHECK(bs_cron_due(&s, at(2024, 1, 1, 9, 30) + 59000));
    CHECK(!bs_cron_due(&s, at(2024, 1, 1, 9, 31)));
    CHECK(!bs_cron_due(&s, at(2024, 1, 2, 9, 30)));
    int64_t t = at(2024, 1, 1, 9, 30);
    CHECK_STR(next_of("30 9 * * mon", t), "2024-01-08 09:30");
    CHECK_STR(next_of("* * * * *", t + 12345), "2024-01-01 09:31");
    CHECK_STR(next_of("*/15 * * * *", t), "2024-01-01 09:45");
    CHECK_STR(next_of("@hourly", t), "2024-01-01 10:00");
    CHECK_STR(next_of("@daily", t), "2024-01-02 00:00");
    CHECK_STR(next_of("@weekly", t), "2024-01-07 00:00");
    CHECK_STR(next_of("@monthly", t), "2024-02-01 00:00");
    CHECK_STR(next_of("@yearly", t), "2025-01-01 00:00");
    CHECK_STR(next_of("0 0 29 feb *", t), "2024-02-29 00:00");
    CHECK_STR(next_of("0 0 29 feb *", at(2024, 3, 1, 0, 0)),
              "2028-02-29 00:00");
    CHECK_STR(next_of("0 12 31 * *", at(2024, 4, 1, 0, 0)),
              "2024-05-31 12:00");
    CHECK_STR(next_of("59 23 31 dec *", at(2024, 12, 31, 23, 58)),
              "2024-12-31 23:59");
    /* Both day fields must match: a Friday the 13th. */
    CHECK_STR(next_of("0 0 13 * fri", t), "2024-09-13 00:00");
    CHECK_STR(next_of("0 0 31 2 *", t), "none");
}

/* ---- the scheduler with an injected clock ------------------------------- */

static bs_app *app;
static atomic_int calls_a, calls_b, calls_slow;
static atomic_llong fake_now;

static void job_a(bs_app *a, void *u) { (void)a; (void)u; calls_a++; }
static void job_b(bs_app *a, void *u) { (void)a; (void)u; calls_b++; }
static void job_slow(bs_app *a, void *u)
{
    (void)a;
    (void)u;
    usleep(1500 * 1000);
    calls_slow++;
}

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* Waits up to ms for *v to reach want. */
static bool wait_for(atomic_int *v, int want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (*v >= want)
            return true;
        usleep(10 * 1000);
    }
    return *v >= want;
}

TEST(ticks_and_run_now)
{
    REQUIRE(bs_cron_add(app, "a", "*/2 * * * *", job_a, NULL) == 0);
    REQUIRE(bs_cron_add(app, "b", "0 * * * *", job_b, NULL) == 0);
    CHECK(bs_cron_add(app, "bad", "* * *", job_b, NULL) == BS_EINVAL);
    int64_t t = at(2024, 1, 1, 10, 0);
    /* a, b and the hourly system jobs (MFA and OTP clean-ups). */
    CHECK(bs_cron_tick(app->cron, t + 5000) == 4);
    CHECK(bs_cron_tick(app->cron, t + 30000) == 0); /* same minute */
    CHECK(bs_cron_tick(app->cron, t + 60000) == 0); /* 10:01 */
    CHECK(bs_cron_tick(app->cron, t + 120000) == 1); /* 10:02 */
    CHECK(wait_for(&calls_a, 2, 2000) && calls_a == 2);
    CHECK(wait_for(&calls_b, 1, 2000) && calls_b == 1);
    /* Replacing by id keeps one job; removing stops it. */
    REQUIRE(bs_cron_add(app, "a", "* * * * *", job_a, NULL) == 0);
    CHECK(bs_cron_tick(app->cron, t + 180000) == 1);
    CHECK(wait_for(&calls_a, 3, 2000));
    CHECK(bs_cron_remove(app, "a"));
    CHECK(!bs_cron_remove(app, "a"));
    CHECK(bs_cron_tick(app->cron, t + 240000) == 0);
    /* Run now. */
    CHECK(bs_cron_run(app, "b") == 0);
    CHECK(wait_for(&calls_b, 2, 2000));
    CHECK(bs_cron_run(app, "missing") == BS_ENOTFOUND);
}

TEST(list_sorted_system_last)
{
    REQUIRE(bs_cron_add(app, "zeta", "@daily", job_a, NULL) == 0);
    REQUIRE(bs_cron_add(app, "alpha", "@hourly", job_a, NULL) == 0);
    json_object *l = bs_cron_list(app->cron);
    REQUIRE(l && json_object_array_length(l) >= 7);
    const char *ids[8] = {0};
    for (size_t i = 0; i < 7; i++)
        ids[i] = json_object_get_string(json_object_object_get(
            json_object_array_get_idx(l, i), "id"));
    CHECK_STR(ids[0], "alpha");
    CHECK_STR(ids[1], "b");
    CHECK_STR(ids[2], "zeta");
    CHECK_STR(ids[3], "__pbDBOptimize__");
    CHECK_STR(ids[6], "__pbOTPCleanup__");
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_array_get_idx(l, 0), "expression")),
              "@hourly");
    json_object_put(l);
    bs_cron_remove(app, "zeta");
    bs_cron_remove(app, "alpha");
}

TEST(slow_job_delays_no_other)
{
    REQUIRE(bs_cron_add(app, "slow", "* * * * *", job_slow, NULL) == 0);
    int before = calls_b;
    int64_t t = at(2024, 2, 1, 0, 0); /* b is due at minute 0 too */
    /* b, slow and the four system jobs (all due at midnight). */
    CHECK(bs_cron_tick(app->cron, t) == 6);
    CHECK(bs_app_go(app, job_b, NULL) == 0);
    /* b (twice) finishes long before the slow job. */
    CHECK(wait_for(&calls_b, before + 2, 700));
    CHECK(calls_slow == 0);
    CHECK(wait_for(&calls_slow, 1, 3000));
    bs_cron_remove(app, "slow");
}

TEST(ticker_follows_the_clock)
{
    fake_now = at(2024, 3, 1, 11, 59) + 58000;
    bs_cron_set_clock(app->cron, fake_clock, NULL);
    int before = calls_b;
    REQUIRE(bs_cron_start(app->cron) == 0);
    usleep(300 * 1000);
    CHECK(calls_b == before); /* 11:59 is not due */
    fake_now = at(2024, 3, 1, 12, 0) + 1000;
    CHECK(wait_for(&calls_b, before + 1, 3000));
    bs_cron_stop(app->cron);
    bs_cron_set_clock(app->cron, NULL, NULL);
}

int main(void)
{
    RUN(parse_fields);
    RUN(macros);
    RUN(invalid_expressions);
    RUN(due_and_next);
    bs_app_config cfg = {.data_dir = "/tmp/bs_test_cron_unused"};
    app = bs_app_new(&cfg);
    if (!app)
        return 1;
    bs_cron_remove(app, "nothing");
    RUN(ticks_and_run_now);
    RUN(list_sorted_system_last);
    RUN(slow_job_delays_no_other);
    RUN(ticker_follows_the_clock);
    bs_app_free(app);
    return harness_summary(__FILE__);
}
