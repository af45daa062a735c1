/*
 * log_writer.c - the background writer of `_logs` rows (see log_writer.h).
 *
 * Producers hold the mutex only to store one pointer in the ring. The
 * writer takes up to batch_max pointers under the mutex, releases it,
 * and inserts them in one transaction on its own connection, so
 * readers of the logs (the API, on the store's auxiliary connection) and
 * the writer meet only in SQLite's WAL. A flush asks for everything
 * accepted so far: it records the accepted count and waits until the
 * writer's done count reaches it.
 */
#include "log_writer.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/error.h"
#include "../base/util.h"

typedef struct log_row {
    int level;
    int64_t created_ms;
    size_t message_len, data_len;
    char text[]; /* message, NUL, data, NUL */
} log_row;

struct bs_log_writer {
    bs_log_writer_config cfg;
    sqlite3 *db;
    sqlite3_stmt *insert;

    pthread_mutex_t lock;
    pthread_cond_t wake;   /* the writer waits for rows or a flush */
    pthread_cond_t done;   /* flushes wait for the writer */
    pthread_mutex_t write_lock; /* one batch at a time (manual mode) */
    log_row **ring;
    int head, count;
    uint64_t want;         /* a flush waits for done_seq >= want */
    uint64_t done_seq;     /* rows taken and finished */
    bool stop;
    bool has_thread;
    pthread_t thread;

    bs_log_writer_stats stats; /* under lock */
    uint64_t reported_drops;
};

/* Takes up to batch_max rows from the ring into batch; under lock. */
static int take(bs_log_writer *w, log_row **batch)
{
    int n = w->count < w->cfg.batch_max ? w->count : w->cfg.batch_max;
    for (int i = 0; i < n; i++) {
        batch[i] = w->ring[w->head];
        w->head = (w->head + 1) % w->cfg.capacity;
    }
    w->count -= n;
    return n;
}

/* A row id of 15 characters of [a-z0-9], like PocketBase's random ids,
 * whose first 8 are the creation time in base 36 (milliseconds): ids of
 * rows written together are close in the primary key's index, so each
 * insert touches the same few pages instead of a random one. The last 7
 * are random. */
static int row_id(int64_t created_ms, char out[16])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint64_t t = created_ms > 0 ? (uint64_t)created_ms : 0;
    for (int i = 7; i >= 0; i--) {
        out[i] = digits[t % 36];
        t /= 36;
    }
    return bs_random_string(out + 8, 7, digits);
}

/* Inserts n rows in one transaction and frees them. Returns how many
 * were written. */
static int write_batch(bs_log_writer *w, log_row **batch, int n)
{
    int ok = 0;
    bool began = sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
                 SQLITE_OK;
    for (int i = 0; i < n; i++) {
        log_row *r = batch[i];
        char id[16], created[25];
        if (began && row_id(r->created_ms, id) == 0) {
            bs_time_str(r->created_ms / 1000, (int)(r->created_ms % 1000),
                        created);
            sqlite3_stmt *st = w->insert;
            sqlite3_bind_text(st, 1, id, 15, SQLITE_STATIC);
            sqlite3_bind_int(st, 2, r->level);
            sqlite3_bind_text(st, 3, r->text, (int)r->message_len,
                              SQLITE_STATIC);
            sqlite3_bind_text(st, 4, r->text + r->message_len + 1,
                              (int)r->data_len, SQLITE_STATIC);
            sqlite3_bind_text(st, 5, created, 24, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_DONE)
                ok++;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
        free(r);
    }
    if (began && sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        bs_log('W', "Failed to write %d log rows: %s", n, sqlite3_errmsg(w->db));
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        ok = 0;
    } else if (!began) {
        bs_log('W', "Failed to write %d log rows: %s", n, sqlite3_errmsg(w->db));
    }
    return ok;
}

/* Takes and writes one batch; returns the number of rows taken. */
static int run_once(bs_log_writer *w, log_row **batch)
{
    pthread_mutex_lock(&w->write_lock);
    pthread_mutex_lock(&w->lock);
    int n = take(w, batch);
    pthread_mutex_unlock(&w->lock);
    int ok = n ? write_batch(w, batch, n) : 0;
    pthread_mutex_lock(&w->lock);
    w->done_seq += (uint64_t)n;
    w->stats.written += (uint64_t)ok;
    w->stats.failed += (uint64_t)(n - ok);
    if (ok)
        w->stats.batches++;
    uint64_t drops = w->stats.dropped;
    bool report = drops != w->reported_drops;
    uint64_t new_drops = drops - w->reported_drops;
    w->reported_drops = drops;
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_unlock(&w->write_lock);
    if (report)
        bs_log('W', "Log queue full: %llu log rows dropped",
               (unsigned long long)new_drops);
    return n;
}

static void *writer_main(void *arg)
{
    bs_log_writer *w = arg;
    log_row **batch = malloc(sizeof *batch * (size_t)w->cfg.batch_max);
    if (!batch)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        if (w->count < w->cfg.batch_max && !w->stop &&
            w->want <= w->done_seq) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (int64_t)w->cfg.flush_ms * 1000000;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&w->wake, &w->lock, &ts);
        }
        bool stop = w->stop && w->count == 0;
        pthread_mutex_unlock(&w->lock);
        if (stop)
            break;
        run_once(w, batch);
    }
    free(batch);
    return NULL;
}

int bs_log_writer_new(bs_log_writer **out, const char *path,
                      const bs_log_writer_config *cfg, bs_error *err)
{
    *out = NULL;
    bs_log_writer *w = calloc(1, sizeof *w);
    if (!w)
        return BS_ENOMEM;
    if (cfg)
        w->cfg = *cfg;
    if (w->cfg.capacity <= 0)
        w->cfg.capacity = 16384;
    if (w->cfg.batch_max <= 0)
        w->cfg.batch_max = 4096;
    if (w->cfg.flush_ms <= 0)
        w->cfg.flush_ms = 200;
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->write_lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->done, NULL);
    w->ring = calloc((size_t)w->cfg.capacity, sizeof *w->ring);
    if (!w->ring) {
        bs_log_writer_free(w);
        return BS_ENOMEM;
    }
    int rc = sqlite3_open_v2(path, &w->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(w->db,
                          "PRAGMA busy_timeout = 10000;"
                          "PRAGMA journal_mode = WAL;"
                          "PRAGMA synchronous = NORMAL;",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(w->db,
                                "INSERT INTO _logs (id, level, message, "
                                "data, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                                -1, SQLITE_PREPARE_PERSISTENT, &w->insert,
                                NULL);
    if (rc != SQLITE_OK) {
        bs_error_set(err, 500, "Failed to open the logs writer on %s: %s",
                     path, w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
        bs_log_writer_free(w);
        return BS_EDB;
    }
    if (!w->cfg.manual) {
        if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
            bs_log_writer_free(w);
            return BS_ENOMEM;
        }
        w->has_thread = true;
    }
    *out = w;
    return 0;
}

void bs_log_writer_free(bs_log_writer *w)
{
    if (!w)
        return;
    if (w->has_thread) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
    } else if (w->db && w->insert) {
        bs_log_writer_flush(w);
    }
    /* Rows left by a failed start. */
    while (w->ring && w->count > 0) {
        free(w->ring[w->head]);
        w->head = (w->head + 1) % w->cfg.capacity;
        w->count--;
    }
    sqlite3_finalize(w->insert);
    sqlite3_close(w->db);
    free(w->ring);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->write_lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    free(w);
}

bool bs_log_writer_push(bs_log_writer *w, int level, const char *message,
                        size_t message_len, const char *data,
                        size_t data_len, int64_t created_ms)
{
    log_row *r = malloc(sizeof *r + message_len + data_len + 2);
    if (r) {
        r->level = level;
        r->created_ms = created_ms;
        r->message_len = message_len;
        r->data_len = data_len;
        memcpy(r->text, message, message_len);
        r->text[message_len] = '\0';
        memcpy(r->text + message_len + 1, data, data_len);
        r->text[message_len + 1 + data_len] = '\0';
    }
    pthread_mutex_lock(&w->lock);
    bool ok = r && w->count < w->cfg.capacity;
    if (ok) {
        w->ring[(w->head + w->count) % w->cfg.capacity] = r;
        w->count++;
        w->stats.queued++;
        if (w->count == w->cfg.batch_max)
            pthread_cond_signal(&w->wake);
    } else {
        w->stats.dropped++;
    }
    pthread_mutex_unlock(&w->lock);
    if (!ok)
        free(r);
    return ok;
}

void bs_log_writer_flush(bs_log_writer *w)
{
    if (!w->has_thread) {
        log_row **batch = malloc(sizeof *batch * (size_t)w->cfg.batch_max);
        if (!batch)
            return;
        while (run_once(w, batch) > 0) {
        }
        free(batch);
        return;
    }
    pthread_mutex_lock(&w->lock);
    /* Every row accepted so far, including a batch the writer has taken
     * but not yet committed (it is in neither count nor done_seq). */
    uint64_t target = w->stats.queued;
    if (target > w->want)
        w->want = target;
    pthread_cond_signal(&w->wake);
    while (w->done_seq < target)
        pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

void bs_log_writer_stats_get(bs_log_writer *w, bs_log_writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->lock);
}
