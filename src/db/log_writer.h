/*
 * log_writer.h - log rows appended off the request path, written to
 * auxiliary.db `_logs` in batches by one background thread.
 *
 * The design is simple: a producer (an HTTP worker finishing a request,
 * any code logging a line) copies its row into one allocation and puts
 * the pointer in a bounded ring under a mutex; it never waits for the
 * database. The writer thread wakes every flush interval, or as soon as
 * a batch is full, takes what is queued and inserts it in one
 * transaction on its own connection. When the ring is full the row is
 * dropped and counted: under overload logs are lost, requests are not
 * slowed down.
 *
 * Rows carry their text ready for the table (the message and the data
 * as JSON text); the writer only adds the id and formats the time.
 */
#ifndef BS_LOG_WRITER_H
#define BS_LOG_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basalt.h"

typedef struct bs_log_writer bs_log_writer;

typedef struct bs_log_writer_config {
    int capacity;     /* rows the ring holds; 0: 16384 */
    int batch_max;    /* rows per transaction; 0: 4096 */
    int flush_ms;     /* longest wait before queued rows are written;
                       * 0: 200 */
    bool manual;      /* no thread: rows are written only by
                       * bs_log_writer_flush (unit tests) */
} bs_log_writer_config;

/* Counters, for tests and the drop warning. */
typedef struct bs_log_writer_stats {
    uint64_t queued;   /* rows accepted */
    uint64_t written;  /* rows inserted */
    uint64_t dropped;  /* rows refused because the ring was full */
    uint64_t failed;   /* rows lost to a database error */
    uint64_t batches;  /* transactions committed */
} bs_log_writer_stats;

/* Opens its own connection to the database at path (auxiliary.db, whose
 * `_logs` table must exist) and starts the writer thread. cfg may be
 * NULL. Returns 0, BS_ENOMEM or BS_EDB (err says why). */
int bs_log_writer_new(bs_log_writer **out, const char *path,
                      const bs_log_writer_config *cfg, bs_error *err);

/* Writes what is still queued, stops the thread, closes the connection.
 * NULL is ignored. */
void bs_log_writer_free(bs_log_writer *w);

/* Queues one row: level (slog's: -4 debug, 0 info, 4 warn, 8 error),
 * message and data (JSON object text) with their lengths, created in
 * Unix milliseconds. Both texts are copied. Returns false when the row
 * was dropped (ring full, or out of memory). Any thread; never blocks
 * on the database. */
bool bs_log_writer_push(bs_log_writer *w, int level, const char *message,
                        size_t message_len, const char *data,
                        size_t data_len, int64_t created_ms);

/* Writes every row queued before the call and returns when they are in
 * the table (or lost to an error). Any thread but the writer's. */
void bs_log_writer_flush(bs_log_writer *w);

void bs_log_writer_stats_get(bs_log_writer *w, bs_log_writer_stats *out);

#endif
