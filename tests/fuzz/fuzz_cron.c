/*
 * fuzz_cron.c - cron expressions on arbitrary input.
 *
 * The input is split at its first NUL byte: the part before is an
 * expression, the 8 bytes after (when present) a moment in time. Checks:
 *  - parsing never crashes, and a refusal comes with a message;
 *  - an accepted schedule has at least one bit in every field;
 *  - the next due minute after the moment is later than it, falls on a
 *    whole minute and is due, and no minute between the two is due (the
 *    next is the first); -1 only when nothing is due within five years.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    while (n < size && data[n])
        n++;
    char *expr = malloc(n + 1);
    if (!expr)
        return 0;
    memcpy(expr, data, n);
    expr[n] = '\0';
    /* A moment between 1970 and about 2100, from the bytes after NUL. */
    uint64_t raw = 0;
    for (size_t i = n + 1; i < size && i < n + 9; i++)
        raw = raw << 8 | data[i];
    int64_t now = (int64_t)(raw % 4102444800000ull);

    bs_cron_schedule s;
    char msg[128] = "";
    int rc = bs_cron_parse(expr, &s, msg, sizeof msg);
    if (rc != 0) {
        if (!msg[0])
            abort();
        free(expr);
        return 0;
    }
    if (!s.minutes || !s.hours || !s.days || !s.months || !s.weekdays)
        abort();
    int64_t next = bs_cron_next(&s, now);
    if (next != -1) {
        if (next <= now || next % 60000 != 0 || !bs_cron_due(&s, next))
            abort();
        /* The first due minute: check the minutes in between, a bounded
         * number of them so that one input stays fast. */
        int64_t from = now - now % 60000 + 60000;
        for (int64_t t = from, k = 0; t < next && k < 20000; t += 60000, k++)
            if (bs_cron_due(&s, t))
                abort();
    }
    free(expr);
    return 0;
}
