/*
 * log_writer.h - log rows appended off the request path, written to
 * auxiliary.db `_logs` when the machine has time for them.
 *
 * Inserting a row into `_logs` costs far more than producing it: the
 * table has PocketBase's four indexes, one of them on an expression.
 * Doing that work while requests wait for the CPU would cost a busy
 * server about a third of its throughput, so rows travel in two steps:
 *
 *   1. Staging. A producer (an HTTP worker finishing a request, any code
 *      logging a line) copies its row, with its id already chosen, into
 *      an in-memory buffer under a mutex; it never waits for the disk or
 *      the database. A stager thread moves the buffer, every flush
 *      interval or as soon as it holds a chunk's worth, to the end of a
 *      pending file beside the database (<database>-logs): one write()
 *      per chunk.
 *   2. Importing. An importer thread of the lowest scheduling priority
 *      (SCHED_IDLE: it runs only on a core nothing else wants) reads the
 *      pending file in order and inserts its rows in transactions of up
 *      to batch_max rows, then empties the file once it has caught up.
 *      While the machine is busy (a batch waited for a core longer than
 *      it ran) it pauses between batches, so that it does not chill the
 *      caches of requests in every short idle gap.
 *
 * On a machine with spare CPU a row is in the table within the flush
 * interval, as before. On a saturated machine rows wait in the file
 * (bounded by pending_max_bytes) and reach the table as soon as load
 * drops. Readers that need the rows now (the logs API, tests) call
 * bs_log_writer_catch_up, which imports on their own thread.
 *
 * Rows are lost only when the memory buffer or the pending file is full
 * (counted as dropped, a warning says how many). The pending file
 * survives a crash or kill -9: the next start imports it. Each record
 * there carries a checksum; a torn last record is discarded. Rows keep
 * the id chosen when they were queued and are inserted with INSERT OR
 * IGNORE, so a row imported twice (a crash between COMMIT and the
 * emptying of the file) is stored once.
 *
 * A row is either text (message and data as JSON text, ready for the
 * table) or raw: a payload whose kind the writer does not know, turned
 * into message and data by the format function of the configuration,
 * on the importer's thread. The request log uses raw rows so that the
 * request path only copies a few strings (src/core/logs.c).
 */
#ifndef BS_LOG_WRITER_H
#define BS_LOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "basalt.h"

typedef struct bs_log_writer bs_log_writer;

/* The head of each record in the memory buffer and the pending file,
 * followed by len bytes of payload. Native byte order: the file never
 * leaves the machine. A text row's payload is the message's length
 * (uint32), the message, then the data. */
typedef struct bs_log_record_head {
    uint32_t len;       /* payload bytes */
    uint32_t crc;       /* checksum of the head from created_ms on and of
                         * the payload (set when staged): see sum */
    int64_t created_ms;
    int32_t level;
    uint16_t kind;      /* 0: text; otherwise raw, for cfg.format */
    uint16_t sum;       /* how crc is computed: BS_LOG_SUM_WORDS, or 0
                         * for CRC-32 (files written by earlier
                         * versions, still read) */
    char id[16];        /* 15 characters and a NUL */
} bs_log_record_head;

/* The checksum records are staged with: bs_log_record_sum. */
#define BS_LOG_SUM_WORDS 1

/* The checksum of a record whose head h (len included) is followed by
 * payload, as set in h->crc when h->sum is BS_LOG_SUM_WORDS: a
 * multiply-xor hash over 8-byte words. It is there to find records torn
 * or garbled by a crash, not to resist tampering, and costs a fifth of
 * CRC-32's (zlib's) instructions a byte. */
uint32_t bs_log_record_sum(const bs_log_record_head *h, const void *payload);

/* Turns the payload of a raw row of the given kind (1..65535) into its
 * message and data (JSON object text). Returns false to skip the row.
 * Called on the importer's thread, or on a thread catching up. */
typedef bool (*bs_log_format_fn)(int kind, const char *payload, size_t len,
                                 bs_buf *message, bs_buf *data);

typedef struct bs_log_writer_config {
    size_t buffer_bytes; /* rows waiting in memory; 0: 2 MiB */
    size_t pending_max_bytes; /* the pending file's limit; 0: 256 MiB */
    int batch_max;    /* rows per transaction; 0: 4096 */
    int flush_ms;     /* longest wait before queued rows are staged and
                       * imported; 0: 200 */
    bool manual;      /* no threads: rows are staged and written only by
                       * bs_log_writer_flush and _catch_up (unit tests) */
    bs_log_format_fn format; /* for raw rows; NULL: raw rows skipped */
} bs_log_writer_config;

/* Counters, for tests and the drop warning. */
typedef struct bs_log_writer_stats {
    uint64_t queued;   /* rows accepted */
    uint64_t written;  /* rows inserted (or found already there) */
    uint64_t dropped;  /* rows refused: buffer or pending file full */
    uint64_t failed;   /* rows lost to a database or file error */
    uint64_t batches;  /* transactions committed */
    uint64_t pending;  /* rows in the pending file, not yet imported */
    uint64_t pauses;   /* times the importer paused for a busy machine */
} bs_log_writer_stats;

/* Opens its own connection to the database at path (auxiliary.db, whose
 * `_logs` table must exist), opens <path>-logs (rows a previous run left
 * there are imported first) and starts the threads. cfg may be NULL.
 * Returns 0, BS_ENOMEM, BS_EIO or BS_EDB (err says why). */
int bs_log_writer_new(bs_log_writer **out, const char *path,
                      const bs_log_writer_config *cfg, bs_error *err);

/* Stages what is still queued, stops the threads, imports what is
 * pending for at most a few seconds (the rest stays in the file for the
 * next start), closes the connection. NULL is ignored. */
void bs_log_writer_free(bs_log_writer *w);

/* Queues one text row: level (slog's: -4 debug, 0 info, 4 warn, 8
 * error), message and data (JSON object text) with their lengths,
 * created in Unix milliseconds. Both texts are copied. Returns false
 * when the row was dropped. Any thread; never blocks on the disk. */
bool bs_log_writer_push(bs_log_writer *w, int level, const char *message,
                        size_t message_len, const char *data,
                        size_t data_len, int64_t created_ms);

/* Queues one raw row of kind (1..65535) whose payload, of len bytes,
 * the format function will read. Returns where the caller writes the
 * payload, then calls bs_log_writer_commit at once: the producers' lock
 * is held in between, so the payload is written straight into the
 * buffer (no copy assembled first) and nothing else may be done there.
 * Returns NULL, with nothing to commit, when the row is dropped (or
 * kind is out of range). Any thread; never blocks on the disk. */
void *bs_log_writer_reserve_raw(bs_log_writer *w, int level, int kind,
                                size_t len, int64_t created_ms);
void bs_log_writer_commit(bs_log_writer *w);

/* Writes every row queued before the call and returns when they are in
 * the table (or lost to an error). Any thread but the writer's own. */
void bs_log_writer_flush(bs_log_writer *w);

/* Like bs_log_writer_flush, but imports at most max_rows rows on the
 * calling thread (older rows first); the importer does the rest. For
 * readers that want recent rows without waiting for an idle core; when
 * the importer holds a batch for more than 250 ms (it waits for a core
 * on a saturated machine), the reader goes on without it. With
 * max_rows 0 it only stages what is queued (written to the pending
 * file, where it survives a crash). */
void bs_log_writer_catch_up(bs_log_writer *w, int max_rows);

void bs_log_writer_stats_get(bs_log_writer *w, bs_log_writer_stats *out);

#endif
