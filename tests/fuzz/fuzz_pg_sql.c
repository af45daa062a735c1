/*
 * fuzz_pg_sql.c - the PostgreSQL store's statement rewriting
 * (src/db/pg_sql.c) and value mapping on arbitrary input.
 *
 * Checks:
 *  - rewriting never crashes or reads past the input, whatever its
 *    quotes, comments and placeholders;
 *  - an accepted text yields at most BS_PG_MAX_PARAMS parameters, and
 *    every parameter it marks as used is within that count;
 *  - rewriting the output again finds the same parameters, all marked
 *    the same way (the output holds only $N placeholders, which stay);
 *  - reading the input as a value of each type the store knows never
 *    crashes, and a number read as an integer has the same real value.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool used1[BS_PG_MAX_PARAMS], used2[BS_PG_MAX_PARAMS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input is not NUL-terminated: copy it to a buffer of its size. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);

    bs_buf a, b;
    bs_buf_init(&a);
    bs_buf_init(&b);
    memset(used1, 0, sizeof used1);
    memset(used2, 0, sizeof used2);
    int n = bs_pg_sql_translate(text, size, &a, used1, BS_PG_MAX_PARAMS);
    if (n > BS_PG_MAX_PARAMS || n < -1)
        abort();
    if (n >= 0 && !a.oom) {
        for (int i = n; i < BS_PG_MAX_PARAMS; i++) {
            if (used1[i])
                abort();
        }
        int m = bs_pg_sql_translate(a.data ? a.data : "", a.len, &b, used2,
                                    BS_PG_MAX_PARAMS);
        if (!b.oom && (m != n || memcmp(used1, used2, sizeof used1) != 0))
            abort();
    }
    bs_buf_dispose(&a);
    bs_buf_dispose(&b);

    /* The input as a cell's text (up to its first NUL). */
    char *cell = malloc(size + 1);
    if (cell) {
        memcpy(cell, data, size);
        cell[size] = '\0';
        static const unsigned oids[] = {BS_PG_BOOL,   BS_PG_INT8,   BS_PG_INT4,
                                        BS_PG_TEXT,   BS_PG_FLOAT8, BS_PG_NUMERIC,
                                        BS_PG_BYTEA, 0};
        for (size_t k = 0; k < sizeof oids / sizeof oids[0]; k++) {
            int64_t i = 0;
            double d = 0;
            bs_col_type t = bs_pg_col_kind(oids[k], cell, &i, &d);
            if (t == BS_COL_INT && oids[k] == BS_PG_FLOAT8 && (double)i != d)
                abort();
        }
        free(cell);
    }
    free(text);
    return 0;
}
