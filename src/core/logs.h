/*
 * logs.h - the application's logs: request logs and logger lines in
 * auxiliary.db `_logs`, as PocketBase keeps them.
 *
 * A bs_logs belongs to the app; it is started once the store is open
 * (bootstrap) and owns the background writer (src/db/log_writer.h).
 * The settings that decide what is kept (`logs.maxDays`, `minLevel`,
 * `logIP`, `logAuthId`) are copied into atomics whenever the settings
 * change, so the request path reads them without a lock.
 *
 * Reading: bs_logs_list, bs_logs_find and bs_logs_stats compile the
 * client's filter and sort with the filter language against a
 * one-collection schema describing `_logs` (id, created, level,
 * message, and data as a JSON field, so `data.status` is a JSON path).
 */
#ifndef BS_LOGS_H
#define BS_LOGS_H

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../base/buf.h"
#include "basalt.h"

struct bs_log_writer;
struct bs_schema;

typedef struct bs_logs {
    struct bs_log_writer *writer; /* NULL before the start */
    atomic_int max_days;
    atomic_int min_level;
    atomic_bool log_ip;
    atomic_bool log_auth_id;
    atomic_bool proxy_headers;    /* settings.trustedProxy.headers has
                                   * names: the user's IP may differ from
                                   * the remote address */
    struct bs_schema *schema;     /* `_logs` as a collection */
} bs_logs;

/* Created with the app (binds the settings reload hook); freed with it
 * (the writer writes what is queued first). */
bs_logs *bs_logs_new(bs_app *app);
void bs_logs_free(bs_logs *l);

/* Starts the writer on <data dir>/auxiliary.db and reads the settings.
 * Called once the store is open and migrated. */
int bs_logs_start(bs_app *app, bs_error *err);

/* Whether logs are kept at all (maxDays > 0) and whether a line of this
 * level is. Any thread. */
bool bs_logs_enabled(const bs_app *app);
bool bs_logs_wanted(const bs_app *app, int level);

/* Queues one row (data: JSON object text). Dropped silently when logs
 * are off, the level is below minLevel or the queue is full. */
void bs_logs_add(bs_app *app, int level, const char *message,
                 size_t message_len, const char *data, size_t data_len);

/* What the request logger keeps of one request. Strings may be NULL:
 * authId, remoteIP and userIP are then left out of the row's data,
 * the others are empty. error is, for a failure, the members
 * `"details":...,"error":"..."` of the data as JSON text (without
 * braces or a leading comma); NULL for a success. */
typedef struct bs_request_log {
    int status;
    double exec_ms;
    const char *method, *url, *referer, *user_agent;
    const char *remote_ip, *user_ip;
    const char *auth, *auth_id;
    const char *error;
} bs_request_log;

/* Queues a request row: only the strings are copied here; the row's
 * message and data are written by the background writer, with
 * PocketBase's keys, order and length limits. As bs_logs_add. */
void bs_logs_add_request(bs_app *app, int level, const bs_request_log *rl);

/* Turns the payload of a queued request row (kind 1) into its message
 * and data (a JSON object's text): the log writer's format function,
 * run when the row is imported. Returns false for another kind or a
 * payload that does not decode. */
bool bs_logs_format_row(int kind, const char *payload, size_t len,
                        bs_buf *message, bs_buf *data);

/* Waits until every row queued so far is in the table. */
void bs_logs_flush(bs_app *app);

/* Before a read of the logs: imports up to a bounded number of rows
 * still waiting for an idle core (src/db/log_writer.h), on this
 * thread, so a read sees the requests that came before it. */
void bs_logs_catch_up(bs_app *app);

/* The list page: filter and sort from a client (may be NULL). Returns 0
 * with *out set to {page, perPage, totalItems, totalPages, items}, or
 * BS_EHTTP with a 400 in err. */
int bs_logs_list(bs_app *app, const char *filter, const char *sort,
                 int64_t page, int64_t per_page, bool skip_total,
                 json_object **out, bs_error *err);

/* One row as {id, created, data, message, level}; BS_ENOTFOUND. */
int bs_logs_find(bs_app *app, const char *id, json_object **out);

/* Hourly counts [{total, date}] of the rows the filter keeps. */
int bs_logs_stats(bs_app *app, const char *filter, json_object **out,
                  bs_error *err);

/* Deletes rows created at or before now - maxDays (all of them when
 * maxDays is 0), with plain SQL. */
int bs_logs_cleanup(bs_app *app);

#endif
