/*
 * fuzz_search.c - the full-text search checker on arbitrary input.
 *
 * The input (up to its first NUL byte) is a client's search text. Checks:
 *  - checking never crashes, and a refusal comes with a message;
 *  - an accepted text gives a query FTS5 itself accepts: MATCH against a
 *    small FTS5 table runs without an error;
 *  - checking the output again gives the same output (the written query
 *    is already in the checker's canonical form), when the output is
 *    within the length a client may send: quoting and the added AND and
 *    '*' make the written query longer than the text it came from, and
 *    the limit is on the client's text.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/fts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static sqlite3_stmt *match;

static void setup(void)
{
    if (db)
        return;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE t USING fts5(a, b);"
                     "INSERT INTO t VALUES ('the quick fox', 'lazy dog'),"
                     "('NEAR and or', 'café e-mail')",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM t WHERE t MATCH ?1", -1,
                           &match, NULL) != SQLITE_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    size_t n = 0;
    while (n < size && data[n])
        n++;
    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, data, n);
    text[n] = '\0';

    bs_buf out, again;
    bs_buf_init(&out);
    bs_buf_init(&again);
    char msg[160] = "";
    int rc = bs_fts_query_check(text, &out, msg, sizeof msg);
    if (rc != 0) {
        if (!msg[0])
            abort();
    } else {
        sqlite3_bind_text(match, 1, out.data, (int)out.len, SQLITE_STATIC);
        if (sqlite3_step(match) != SQLITE_ROW)
            abort();
        sqlite3_reset(match);
        sqlite3_clear_bindings(match);
        if (out.len <= BS_FTS_MAX_QUERY &&
            (bs_fts_query_check(out.data, &again, msg, sizeof msg) != 0 ||
             again.len != out.len || memcmp(again.data, out.data, out.len)))
            abort();
    }
    bs_buf_dispose(&again);
    bs_buf_dispose(&out);
    free(text);
    return 0;
}
