/*
 * fuzz_log_pending.c - the request log's pending file, as a crash or a
 * damaged disk may leave it: whatever its bytes, opening a writer on it
 * and importing never crashes, and every row that reaches `_logs` has
 * an id of 15 characters and a data column holding a JSON object. The
 * first input byte chooses how the rest is used: as the file's bytes
 * unchanged (most records then fail their checksum), or with each
 * record's checksum set right, so the fuzzer reaches the payloads:
 * text rows with lying lengths and request rows decoded by
 * bs_logs_format_row. The rest is also given to bs_logs_format_row
 * directly: when it accepts a payload, the data it writes is a JSON
 * object.
 */
#include <json-c/json.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/json.h"
#include "core/logs.h"
#include "db/log_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char db_path[300], pending_path[320];

static void setup(void)
{
    if (db_path[0])
        return;
    char dir[] = "/tmp/fuzz_log_pending_XXXXXX";
    if (!mkdtemp(dir))
        abort();
    snprintf(db_path, sizeof db_path, "%s/auxiliary.db", dir);
    snprintf(pending_path, sizeof pending_path, "%s-logs", db_path);
    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode = WAL;"
                     "CREATE TABLE _logs (id TEXT PRIMARY KEY NOT NULL, "
                     "level INTEGER DEFAULT 0 NOT NULL, message TEXT "
                     "DEFAULT '' NOT NULL, data JSON DEFAULT '{}' NOT "
                     "NULL, created TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK)
        abort();
    sqlite3_close(db);
}

/* Sets each whole record's checksum as the stager would. */
static void fix_checksums(uint8_t *p, size_t n)
{
    const size_t head = sizeof(bs_log_record_head);
    const size_t from = offsetof(bs_log_record_head, created_ms);
    size_t at = 0;
    while (at + head <= n) {
        uint32_t len;
        memcpy(&len, p + at, sizeof len);
        if (len > n - at - head)
            break;
        /* Both checksums: the present one and an earlier version's
         * CRC-32, as the head's sum field says. */
        bs_log_record_head h;
        memcpy(&h, p + at, head);
        uint32_t crc;
        if (h.sum == BS_LOG_SUM_WORDS) {
            crc = bs_log_record_sum(&h, p + at + head);
        } else {
            uLong c = crc32(0L, Z_NULL, 0);
            c = crc32(c, p + at + from, (uInt)(head - from));
            c = crc32(c, p + at + head, (uInt)len);
            crc = (uint32_t)c;
        }
        memcpy(p + at + offsetof(bs_log_record_head, crc), &crc, sizeof crc);
        at += head + len;
    }
}

/* Every row in `_logs` has a 15-character id and a JSON object as data;
 * the table is emptied for the next input. */
static void check_rows(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK)
        abort();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM _logs WHERE length(id) != "
                           "15 OR json_valid(data) = 0 OR "
                           "json_type(data) != 'object'",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 0)
        abort();
    sqlite3_finalize(st);
    sqlite3_exec(db, "DELETE FROM _logs", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void format_directly(const uint8_t *p, size_t n)
{
    bs_buf message, out;
    bs_buf_init(&message);
    bs_buf_init(&out);
    if (bs_logs_format_row(1, (const char *)p, n, &message, &out) &&
        !out.oom) {
        json_object *o = NULL;
        if (bs_json_parse(out.data, out.len, &o) != 0 ||
            !json_object_is_type(o, json_type_object))
            abort();
        json_object_put(o);
    }
    bs_buf_dispose(&message);
    bs_buf_dispose(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    setup();
    format_directly(data + 1, size - 1);
    uint8_t *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (data[0] & 1)
        fix_checksums(copy, size - 1);
    FILE *f = fopen(pending_path, "wb");
    if (f) {
        fwrite(copy, 1, size - 1, f);
        fclose(f);
        bs_log_writer_config cfg = {.manual = true,
                                    .format = bs_logs_format_row};
        bs_log_writer *w = NULL;
        bs_error err;
        bs_error_init(&err);
        if (bs_log_writer_new(&w, db_path, &cfg, &err) == 0) {
            bs_log_writer_flush(w);
            bs_log_writer_free(w);
        }
        bs_error_dispose(&err);
        check_rows();
    }
    unlink(pending_path);
    free(copy);
    return 0;
}
