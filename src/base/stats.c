/*
 * stats.c - the histogram buckets and observation (see stats.h).
 */
#include "stats.h"

const double bs_hist_bounds[BS_HIST_BOUNDS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10,
};

const int64_t bs_hist_bounds_ns[BS_HIST_BOUNDS] = {
    100000,    250000,    500000,     1000000,    2500000,    5000000,
    10000000,  25000000,  50000000,   100000000,  250000000,  500000000,
    1000000000, 2500000000, 5000000000, 10000000000,
};

void bs_hist_observe(bs_hist *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    int i = 0;
    while (i < BS_HIST_BOUNDS && ns > bs_hist_bounds_ns[i])
        i++;
    bs_counter_add(&h->buckets[i], 1);
    bs_counter_add(&h->sum_ns, (uint64_t)ns);
}

uint64_t bs_hist_count(const bs_hist *h)
{
    uint64_t n = 0;
    for (int i = 0; i < BS_HIST_BUCKETS; i++)
        n += bs_counter_get(&h->buckets[i]);
    return n;
}
