/*
 * stats.h - cheap counters and latency histograms for the metrics.
 *
 * Every counter is a 64-bit atomic updated with relaxed ordering: the
 * hot paths pay one uncontended atomic add (or, for a counter only its
 * owner thread writes, a plain load and store), and a reader (the
 * /api/metrics scrape, src/core/metrics.c) sees each value whole but
 * not a consistent snapshot of several, which the Prometheus model
 * allows. The histogram buckets are fixed, in seconds, shared by every
 * histogram so that the exposition writes one `le` list.
 */
#ifndef BS_STATS_H
#define BS_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

typedef _Atomic uint64_t bs_counter;

/* Bucket upper bounds: 100 us up to 10 s, then +Inf. */
#define BS_HIST_BOUNDS 16
#define BS_HIST_BUCKETS (BS_HIST_BOUNDS + 1)
extern const double bs_hist_bounds[BS_HIST_BOUNDS];     /* seconds */
extern const int64_t bs_hist_bounds_ns[BS_HIST_BOUNDS]; /* the same */

/* A latency histogram: per-bucket counts (not cumulative; the
 * exposition accumulates them) and the sum of the observations. Zeroed
 * memory is an empty histogram. */
typedef struct bs_hist {
    bs_counter buckets[BS_HIST_BUCKETS];
    bs_counter sum_ns;
} bs_hist;

/* Adds n to a counter. Any thread. */
static inline void bs_counter_add(bs_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Adds n to a counter that only one thread at a time writes (readers
 * may look at any time): no locked instruction. */
static inline void bs_counter_add_owned(bs_counter *c, uint64_t n)
{
    atomic_store_explicit(
        c, atomic_load_explicit(c, memory_order_relaxed) + n,
        memory_order_relaxed);
}

static inline uint64_t bs_counter_get(const bs_counter *c)
{
    return atomic_load_explicit((bs_counter *)c, memory_order_relaxed);
}

/* Nanoseconds from an arbitrary monotonic origin. */
static inline int64_t bs_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Records one observation of ns nanoseconds (negative counts as 0). Any
 * thread. */
void bs_hist_observe(bs_hist *h, int64_t ns);

/* The number of observations (the sum of the buckets). */
uint64_t bs_hist_count(const bs_hist *h);

#endif
