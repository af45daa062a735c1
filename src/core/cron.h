/*
 * cron.h - the scheduler of an app: jobs with 5-field cron expressions,
 * checked once a minute in UTC (public API in basalt.h).
 *
 * An expression has five fields, minute (0-59), hour (0-23), day of the
 * month (1-31), month (1-12 or jan..dec) and day of the week (0-6 or
 * sun..sat, 7 is Sunday too); each is `*`, a value, a range `a-b`, any of
 * these with a step `/n`, or a comma-separated list of them. Macros:
 * @yearly and @annually (0 0 1 1 *), @monthly (0 0 1 * *), @weekly
 * (0 0 * * 0), @daily and @midnight (0 0 * * *), @hourly (0 * * * *).
 * As in PocketBase's tools/cron, a minute is due when every field
 * matches (the day of the month and of the week included).
 *
 * Jobs run on the app's worker pool, never on the ticking thread, so a
 * slow job delays no other. The clock is injectable for tests.
 */
#ifndef BS_CRON_H
#define BS_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "basalt.h"
#include "pool.h"

typedef struct bs_cron_schedule {
    uint64_t minutes;   /* bit i: minute i */
    uint32_t hours;
    uint32_t days;      /* bit d: day d (1-31) */
    uint16_t months;    /* bit m: month m (1-12) */
    uint8_t weekdays;   /* bit w: weekday w (0 = Sunday) */
} bs_cron_schedule;

/* Parses expr; 0, or BS_EINVAL with a reason in msg (cap bytes). */
int bs_cron_parse(const char *expr, bs_cron_schedule *out, char *msg,
                  size_t cap);

/* Whether the minute holding unix_ms (UTC) is due. */
bool bs_cron_due(const bs_cron_schedule *s, int64_t unix_ms);

/* The first due minute strictly after unix_ms, in Unix milliseconds, or
 * -1 when there is none within five years (e.g. "0 0 31 2 *"). */
int64_t bs_cron_next(const bs_cron_schedule *s, int64_t unix_ms);

typedef struct bs_cron bs_cron;
typedef int64_t (*bs_cron_clock_fn)(void *ctx);

/* The scheduler of app; jobs are submitted to pool. */
bs_cron *bs_cron_new(bs_app *app, bs_pool *pool);
/* Stops the ticker and frees the jobs (a running job finishes on the
 * pool, which must be freed after this). */
void bs_cron_free(bs_cron *c);

/* Replaces the clock (Unix milliseconds) used by the ticker. */
void bs_cron_set_clock(bs_cron *c, bs_cron_clock_fn fn, void *ctx);

/* Starts and stops the ticking thread (serve does both). */
int bs_cron_start(bs_cron *c);
void bs_cron_stop(bs_cron *c);

/* Submits every job due in the minute holding now_ms, once per minute
 * (a second call for the same minute does nothing). Returns how many
 * were submitted. The ticker calls it; tests call it with their clock. */
int bs_cron_tick(bs_cron *c, int64_t now_ms);

/* Registers PocketBase's system jobs (cron_system.c). */
int bs_cron_system_jobs(bs_app *app);

/* The jobs as [{id, expression}], sorted by id with the system jobs
 * (ids starting with "__pb") last. New reference. */
json_object *bs_cron_list(bs_cron *c);

#endif
