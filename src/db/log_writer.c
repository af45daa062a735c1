/*
 * log_writer.c - the staging and importing of `_logs` rows (see
 * log_writer.h for the design).
 *
 * Locks, always taken in this order when more than one is held:
 *   import_lock  one import batch at a time (the importer thread, or a
 *                thread flushing or catching up);
 *   stage_lock   one move of the memory buffer to the pending file at a
 *                time, and the emptying of the file;
 *   lock         the producers' lock: the memory buffer and the counts
 *                of rows queued and dropped; held only for a copy;
 *   state        the file offsets and the import counters.
 * The importer runs at idle priority and may be preempted anywhere, for
 * long on a busy machine, so it never takes `lock`: a request never
 * waits for it. Its batches are short (IMPORT_BATCH rows) because a
 * reader catching up may wait for the batch it holds.
 *
 * The pending file is a sequence of records: a fixed head (payload
 * length, checksum of the rest, created time, level, kind, id) then the
 * payload. Offsets into it are file offsets; staged_total and
 * imported_total count bytes since the start and never go back, so a
 * flush can wait for "everything staged before me" across the file's
 * emptying.
 */
#include "log_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"

typedef bs_log_record_head rec_head;

#define CRC_FROM offsetof(rec_head, created_ms)
/* A payload above this is refused (a logger line with megabytes of
 * data); it also bounds what a damaged length can make the reader
 * allocate. */
#define MAX_PAYLOAD ((size_t)1 << 20)
#define READ_CHUNK ((size_t)1 << 20)
#define STAGE_CHUNK ((size_t)256 << 10)
/* How long closing imports pending rows before leaving them for the
 * next start. */
#define CLOSE_IMPORT_MS 3000
/* How long a reader catching up waits for the importer's batch. */
#define READER_WAIT_MS 250
/* Rows per transaction of the idle importer (see the lock note). */
#define IMPORT_BATCH 256
/* The importer's back-off on a busy machine (see importer_main): a
 * batch that waited for a core longer than it ran, by at least
 * BUSY_WAIT_MS, makes it pause for BUSY_PAUSE_MS before the next one,
 * unless the pending file is past half its limit. */
#define BUSY_WAIT_MS 5
#define BUSY_PAUSE_MS 500

typedef struct membuf {
    char *data;
    size_t len, cap;
    uint64_t rows;
} membuf;

struct bs_log_writer {
    bs_log_writer_config cfg;
    sqlite3 *db;
    sqlite3_stmt *insert;
    char *pending_path;
    int fd;

    pthread_mutex_t import_lock;
    pthread_mutex_t stage_lock;
    pthread_mutex_t lock;
    pthread_mutex_t state;
    pthread_cond_t stage_wake;  /* the stager waits for a chunk (lock) */
    pthread_cond_t import_wake; /* the importer waits for rows (state) */

    /* Under lock. */
    membuf mem;                 /* rows queued since the last staging */
    bool stage_signalled;
    bool stop;
    uint64_t queued, dropped, reported_drops;

    /* Under state. */
    uint64_t import_off, staged_end; /* file offsets */
    uint64_t staged_total, imported_total; /* bytes, monotonic */
    bool importer_stop;
    bs_log_writer_stats stats;  /* queued and dropped: see above */

    /* Under stage_lock. */
    membuf spare;
    /* Under import_lock. */
    char *rbuf;
    size_t rcap;
    bs_buf message, data;

    bool has_threads;
    pthread_t stager, importer;
};

/* ---- queueing --------------------------------------------------------- */

/* The random part of row ids: a per-thread splitmix64 sequence seeded
 * once from the system's random source. Log ids only need to differ
 * from each other (they name rows for superusers, they guard nothing),
 * and a read of the cryptographic pool per row cost more than the rest
 * of queueing it. */
static __thread uint64_t id_state;
static __thread bool id_seeded;

static const char DIGITS36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static uint64_t next_random(void)
{
    if (!id_seeded) {
        /* 13 base-36 digits: 67 random bits, folded into 64. */
        char seed[14];
        if (bs_random_string(seed, 13, DIGITS36) == 0) {
            for (int i = 0; i < 13; i++)
                id_state = id_state * 36 +
                           (uint64_t)(strchr(DIGITS36, seed[i]) - DIGITS36);
        }
        /* Without the system's random source, threads still differ. */
        id_state ^= (uint64_t)bs_mono_ms() ^ (uint64_t)(uintptr_t)&id_state;
        id_seeded = true;
    }
    uint64_t z = (id_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A row id of 15 characters of [a-z0-9], like PocketBase's random ids,
 * whose first 8 are the creation time in base 36 (milliseconds): ids of
 * rows written together are close in the primary key's index, so each
 * insert touches the same few pages instead of a random one. The last 7
 * are random (36^7 values: rows of the same millisecond do not meet). */
static void row_id(int64_t created_ms, char out[16])
{
    const char *digits = DIGITS36;
    uint64_t t = created_ms > 0 ? (uint64_t)created_ms : 0;
    for (int i = 7; i >= 0; i--) {
        out[i] = digits[t % 36];
        t /= 36;
    }
    uint64_t r = next_random();
    for (int i = 8; i < 15; i++) {
        out[i] = digits[r % 36];
        r /= 36;
    }
    out[15] = '\0';
}

static bool membuf_reserve(membuf *b, size_t need, size_t limit)
{
    if (need <= b->cap)
        return true;
    if (need > limit)
        return false;
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < need)
        cap *= 2;
    if (cap > limit)
        cap = limit;
    char *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

/* Appends a record's head for len payload bytes and returns where the
 * payload goes, with `lock` held (see bs_log_writer_reserve_raw); NULL,
 * without the lock, when the row is dropped. */
static char *reserve_record(bs_log_writer *w, int level, int kind,
                            size_t len, int64_t created_ms)
{
    rec_head h;
    memset(&h, 0, sizeof h);
    row_id(created_ms, h.id);
    h.len = (uint32_t)len;
    h.created_ms = created_ms;
    h.level = level;
    h.kind = (uint16_t)kind;
    h.sum = BS_LOG_SUM_WORDS;
    pthread_mutex_lock(&w->lock);
    membuf *m = &w->mem;
    if (len > MAX_PAYLOAD ||
        !membuf_reserve(m, m->len + sizeof h + len, w->cfg.buffer_bytes)) {
        w->dropped++;
        pthread_mutex_unlock(&w->lock);
        return NULL;
    }
    char *at = m->data + m->len;
    memcpy(at, &h, sizeof h);
    m->len += sizeof h + len;
    m->rows++;
    w->queued++;
    return at + sizeof h;
}

void bs_log_writer_commit(bs_log_writer *w)
{
    if (w->mem.len >= STAGE_CHUNK && !w->stage_signalled) {
        w->stage_signalled = true;
        pthread_cond_signal(&w->stage_wake);
    }
    pthread_mutex_unlock(&w->lock);
}

bool bs_log_writer_push(bs_log_writer *w, int level, const char *message,
                        size_t message_len, const char *data,
                        size_t data_len, int64_t created_ms)
{
    uint32_t n = (uint32_t)message_len;
    size_t len = message_len > MAX_PAYLOAD
                     ? SIZE_MAX
                     : sizeof n + message_len + data_len;
    char *at = reserve_record(w, level, 0, len, created_ms);
    if (!at)
        return false;
    memcpy(at, &n, sizeof n);
    memcpy(at + sizeof n, message, message_len);
    if (data_len)
        memcpy(at + sizeof n + message_len, data, data_len);
    bs_log_writer_commit(w);
    return true;
}

void *bs_log_writer_reserve_raw(bs_log_writer *w, int level, int kind,
                                size_t len, int64_t created_ms)
{
    if (kind < 1 || kind > 65535)
        return NULL;
    return reserve_record(w, level, kind, len, created_ms);
}

/* ---- staging ------------------------------------------------------------ */

static bool write_all(int fd, const char *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return true;
}

/* Folds n bytes into h, eight at a time (the last word padded with
 * zeros and marked with the count of its bytes). */
static uint64_t sum_words(uint64_t h, const unsigned char *p, size_t n)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * k;
        h ^= h >> 32;
    }
    if (n) {
        uint64_t v = 0;
        memcpy(&v, p, n);
        h = (h ^ v ^ ((uint64_t)n << 56)) * k;
        h ^= h >> 32;
    }
    return h;
}

uint32_t bs_log_record_sum(const bs_log_record_head *h, const void *payload)
{
    uint64_t s = 0xC2B2AE3D27D4EB4Full ^ h->len;
    s = sum_words(s, (const unsigned char *)h + CRC_FROM,
                  sizeof *h - CRC_FROM);
    s = sum_words(s, payload, h->len);
    s = (s ^ (s >> 29)) * 0xBF58476D1CE4E5B9ull;
    return (uint32_t)(s ^ (s >> 32));
}

/* The checksum a record's head asks for (see bs_log_record_head.sum). */
static uint32_t record_crc(const rec_head *h, const char *payload)
{
    if (h->sum == BS_LOG_SUM_WORDS)
        return bs_log_record_sum(h, payload);
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, (const Bytef *)h + CRC_FROM, (uInt)(sizeof *h - CRC_FROM));
    c = crc32(c, (const Bytef *)payload, (uInt)h->len);
    return (uint32_t)c;
}

/* Moves the memory buffer to the end of the pending file. */
static void stage(bs_log_writer *w)
{
    pthread_mutex_lock(&w->stage_lock);
    pthread_mutex_lock(&w->lock);
    membuf full = w->mem;
    w->mem = w->spare;
    w->mem.len = 0;
    w->mem.rows = 0;
    w->stage_signalled = false;
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_lock(&w->state);
    uint64_t end = w->staged_end;
    pthread_mutex_unlock(&w->state);

    bool ok = true;
    uint64_t rows = full.rows;
    if (full.len) {
        for (size_t at = 0; at < full.len;) {
            rec_head h;
            memcpy(&h, full.data + at, sizeof h);
            h.crc = record_crc(&h, full.data + at + sizeof h);
            memcpy(full.data + at, &h, sizeof h);
            at += sizeof h + h.len;
        }
        ok = end + full.len <= w->cfg.pending_max_bytes &&
             write_all(w->fd, full.data, full.len, end);
        if (!ok && ftruncate(w->fd, (off_t)end) != 0) {
            /* The next write goes to the same offset anyway. */
        }
        pthread_mutex_lock(&w->state);
        if (ok) {
            w->staged_end += full.len;
            w->staged_total += full.len;
            w->stats.pending += rows;
            pthread_cond_signal(&w->import_wake);
        }
        pthread_mutex_unlock(&w->state);
    }

    pthread_mutex_lock(&w->lock);
    if (!ok)
        w->dropped += rows;
    uint64_t drops = w->dropped - w->reported_drops;
    w->reported_drops = w->dropped;
    pthread_mutex_unlock(&w->lock);
    full.len = 0;
    full.rows = 0;
    w->spare = full;
    pthread_mutex_unlock(&w->stage_lock);
    if (drops)
        bs_log('W', "Log buffer full: %llu log rows dropped",
               (unsigned long long)drops);
}

/* Empties the pending file once every staged row is imported. Under
 * import_lock. */
static void truncate_if_done(bs_log_writer *w)
{
    pthread_mutex_lock(&w->stage_lock);
    pthread_mutex_lock(&w->state);
    if (w->import_off == w->staged_end && w->staged_end > 0) {
        if (ftruncate(w->fd, 0) == 0) {
            w->import_off = 0;
            w->staged_end = 0;
        }
    }
    pthread_mutex_unlock(&w->state);
    pthread_mutex_unlock(&w->stage_lock);
}

/* ---- importing ------------------------------------------------------------ */

static bool read_at(bs_log_writer *w, size_t want, uint64_t off, size_t *got)
{
    if (want > w->rcap) {
        char *p = realloc(w->rbuf, want);
        if (!p)
            return false;
        w->rbuf = p;
        w->rcap = want;
    }
    size_t n = 0;
    while (n < want) {
        ssize_t k = pread(w->fd, w->rbuf + n, want - n, (off_t)(off + n));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    *got = n;
    return true;
}

/* Inserts the record at p (head then payload). Returns true when the
 * row is in the table. */
static bool insert_row(bs_log_writer *w, const rec_head *h, const char *p)
{
    bs_buf *m = &w->message, *d = &w->data;
    m->len = 0;
    d->len = 0;
    m->oom = d->oom = false;
    if (h->kind == 0) {
        uint32_t n;
        if (h->len < sizeof n)
            return false;
        memcpy(&n, p, sizeof n);
        if (n > h->len - sizeof n)
            return false;
        bs_buf_append(m, p + sizeof n, n);
        bs_buf_append(d, p + sizeof n + n, h->len - sizeof n - n);
        /* Read back from disk: the data must still be a JSON object. */
        json_object *o = NULL;
        bool object = !d->oom && bs_json_parse(d->data, d->len, &o) == 0 &&
                      json_object_is_type(o, json_type_object);
        json_object_put(o);
        if (!object)
            d->len = 0; /* stored as {} */
    } else if (!w->cfg.format ||
               !w->cfg.format(h->kind, p, h->len, m, d)) {
        return false;
    }
    if (m->oom || d->oom)
        return false;
    /* Read back from disk: an id that is not what row_id writes gets a
     * new one. */
    char id[16];
    memcpy(id, h->id, sizeof id);
    for (int i = 0; i < 15; i++) {
        if (!strchr(DIGITS36, id[i]) || id[i] == '\0') {
            row_id(h->created_ms, id);
            break;
        }
    }
    /* From 1970 to the end of year 9999, the dates `created` can hold. */
    int64_t at = h->created_ms;
    if (at < 0 || at > INT64_C(253402300799999))
        at = 0;
    char created[25];
    bs_time_str(at / 1000, (int)(at % 1000), created);
    sqlite3_stmt *st = w->insert;
    sqlite3_bind_text(st, 1, id, 15, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, h->level);
    sqlite3_bind_text(st, 3, m->len ? m->data : "", (int)m->len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->len ? d->data : "{}", d->len ? (int)d->len : 2,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 5, created, 24, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    int64_t ns = ts->tv_nsec + (int64_t)ms * 1000000;
    ts->tv_sec += ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
}

/* Imports one transaction of at most max_rows rows from the pending
 * file. Returns the rows consumed (imported, failed or skipped); 0 when
 * nothing is pending. */
static int import_batch(bs_log_writer *w, int max_rows, int wait_ms)
{
    if (wait_ms < 0) {
        pthread_mutex_lock(&w->import_lock);
    } else {
        /* A reader: the importer may hold the lock while it waits for a
         * core on a saturated machine; the reader then goes on with
         * what is in the table. */
        struct timespec ts;
        deadline_in(&ts, wait_ms);
        if (pthread_mutex_timedlock(&w->import_lock, &ts) != 0)
            return 0;
    }
    pthread_mutex_lock(&w->state);
    uint64_t off = w->import_off, end = w->staged_end;
    pthread_mutex_unlock(&w->state);
    if (off >= end) {
        truncate_if_done(w);
        pthread_mutex_unlock(&w->import_lock);
        return 0;
    }
    uint64_t left = end - off;
    size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
    size_t got = 0;
    bool damaged = false;
    int limit = max_rows < w->cfg.batch_max ? max_rows : w->cfg.batch_max;
    int n = 0, ok = 0;
    size_t at = 0;
    bool began = false;
    if (!read_at(w, want, off, &got)) {
        pthread_mutex_unlock(&w->import_lock);
        return 0; /* out of memory: the importer tries again later */
    }
    while (n < limit && at + sizeof(rec_head) <= got) {
        rec_head h;
        memcpy(&h, w->rbuf + at, sizeof h);
        size_t size = sizeof h + h.len;
        if (h.len > MAX_PAYLOAD || size > left - at) {
            damaged = true;
            break;
        }
        if (at + size > got) {
            if (n > 0)
                break; /* the next batch reads from this record on */
            /* A record larger than one read: read it whole. */
            if (!read_at(w, size, off, &got) || got < size) {
                damaged = got < size;
                break;
            }
        }
        if (record_crc(&h, w->rbuf + at + sizeof h) != h.crc) {
            damaged = true;
            break;
        }
        if (!began)
            began = sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL,
                                 NULL) == SQLITE_OK;
        if (began && insert_row(w, &h, w->rbuf + at + sizeof h))
            ok++;
        n++;
        at += size;
    }
    /* Not even one record where one was due: the file is shorter than
     * staged, or its end is a torn head. */
    if (n == 0 && !damaged)
        damaged = true;
    if (began &&
        sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        bs_log('W', "Failed to write %d log rows: %s", n,
               sqlite3_errmsg(w->db));
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        ok = 0;
    } else if (!began && n > 0) {
        bs_log('W', "Failed to write %d log rows: %s", n,
               sqlite3_errmsg(w->db));
    }
    pthread_mutex_lock(&w->state);
    uint64_t consumed = at;
    /* Rows of a previous run's file were never counted as pending. */
    uint64_t pending = w->stats.pending;
    pending = pending > (uint64_t)n ? pending - (uint64_t)n : 0;
    if (damaged) {
        /* A torn or damaged record (a crash while it was written, or a
         * changed file): what follows it cannot be trusted either, and
         * is counted as failed. */
        consumed = left;
        w->stats.failed += pending;
        pending = 0;
    }
    w->stats.pending = pending;
    w->import_off = off + consumed;
    w->imported_total += consumed;
    w->stats.written += (uint64_t)ok;
    w->stats.failed += (uint64_t)(n - ok);
    if (ok)
        w->stats.batches++;
    pthread_mutex_unlock(&w->state);
    if (damaged)
        bs_log('W', "Discarded a damaged end of the pending log file %s",
               w->pending_path);
    truncate_if_done(w);
    pthread_mutex_unlock(&w->import_lock);
    return damaged && n == 0 ? 1 : n;
}

/* ---- threads ---------------------------------------------------------------- */

static void *stager_main(void *arg)
{
    bs_log_writer *w = arg;
    pthread_setname_np(pthread_self(), "log-stager");
    for (;;) {
        pthread_mutex_lock(&w->lock);
        if (!w->stop && w->mem.len < STAGE_CHUNK) {
            struct timespec ts;
            deadline_in(&ts, w->cfg.flush_ms);
            pthread_cond_timedwait(&w->stage_wake, &w->lock, &ts);
        }
        bool stop = w->stop;
        pthread_mutex_unlock(&w->lock);
        stage(w);
        if (stop)
            break;
    }
    return NULL;
}

/* The calling thread's time on a core and time spent runnable but
 * waiting for one, in microseconds, from /proc/thread-self/schedstat
 * (Linux). Returns false when the file cannot be read. */
static bool sched_times(int64_t *ran_us, int64_t *waited_us)
{
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[96];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unsigned long long ran, waited;
    if (n <= 0)
        return false;
    buf[n] = '\0';
    if (sscanf(buf, "%llu %llu", &ran, &waited) != 2)
        return false;
    *ran_us = (int64_t)(ran / 1000);
    *waited_us = (int64_t)(waited / 1000);
    return true;
}

/* Whether the batch just imported found the machine busy: it waited for
 * a core longer than it ran (by the scheduler's own count, so waiting
 * for the disk does not count). At idle priority the importer never takes
 * a core from a request, but on a saturated machine it still runs in
 * every short gap between requests, and each time it leaves the caches
 * cold for the next one: measured on a 2-core box, that cost getOne
 * about 10% of its CPU. So while the machine is busy the importer
 * imports one batch per BUSY_PAUSE_MS; rows wait in the pending file
 * (readers still catch up on their own thread), unless the file is past
 * half its limit, when rows would soon be dropped. */
static bool busy_pause_due(bs_log_writer *w, int64_t ran_us,
                           int64_t waited_us)
{
    if (waited_us < (int64_t)BUSY_WAIT_MS * 1000 || waited_us < ran_us)
        return false;
    pthread_mutex_lock(&w->state);
    bool room = w->staged_end - w->import_off < w->cfg.pending_max_bytes / 2;
    pthread_mutex_unlock(&w->state);
    return room;
}

static void *importer_main(void *arg)
{
    bs_log_writer *w = arg;
    /* Named for top -H and for bench/logs_cost.sh, which counts the CPU
     * time of every other thread. */
    pthread_setname_np(pthread_self(), "log-importer");
    /* Only on a core nothing else wants. */
    struct sched_param sp = {.sched_priority = 0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    bool pause = false;
    for (;;) {
        pthread_mutex_lock(&w->state);
        if (pause && !w->importer_stop) {
            struct timespec ts;
            deadline_in(&ts, BUSY_PAUSE_MS);
            while (!w->importer_stop &&
                   pthread_cond_timedwait(&w->import_wake, &w->state, &ts) !=
                       ETIMEDOUT) {
            }
            w->stats.pauses++;
        }
        while (!w->importer_stop && w->import_off >= w->staged_end)
            pthread_cond_wait(&w->import_wake, &w->state);
        bool stop = w->importer_stop;
        pthread_mutex_unlock(&w->state);
        if (stop)
            break;
        int64_t ran0, waited0, ran1, waited1;
        bool timed = sched_times(&ran0, &waited0);
        import_batch(w, IMPORT_BATCH, -1);
        pause = timed && sched_times(&ran1, &waited1) &&
                busy_pause_due(w, ran1 - ran0, waited1 - waited0);
    }
    return NULL;
}

/* ---- the writer ------------------------------------------------------------- */

int bs_log_writer_new(bs_log_writer **out, const char *path,
                      const bs_log_writer_config *cfg, bs_error *err)
{
    *out = NULL;
    bs_log_writer *w = calloc(1, sizeof *w);
    if (!w)
        return BS_ENOMEM;
    w->fd = -1;
    if (cfg)
        w->cfg = *cfg;
    if (w->cfg.buffer_bytes == 0)
        w->cfg.buffer_bytes = (size_t)2 << 20;
    if (w->cfg.pending_max_bytes == 0)
        w->cfg.pending_max_bytes = (size_t)256 << 20;
    if (w->cfg.batch_max <= 0)
        w->cfg.batch_max = 4096;
    if (w->cfg.flush_ms <= 0)
        w->cfg.flush_ms = 200;
    pthread_mutex_init(&w->import_lock, NULL);
    pthread_mutex_init(&w->stage_lock, NULL);
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->state, NULL);
    pthread_cond_init(&w->stage_wake, NULL);
    pthread_cond_init(&w->import_wake, NULL);
    bs_buf_init(&w->message);
    bs_buf_init(&w->data);

    int rc = sqlite3_open_v2(path, &w->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(w->db,
                          "PRAGMA busy_timeout = 10000;"
                          "PRAGMA journal_mode = WAL;"
                          "PRAGMA synchronous = NORMAL;"
                          /* Appends need little cache; SQLite's default
                           * (2 MB) was resident after every busy spell. */
                          "PRAGMA cache_size = -512;",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(w->db,
                                "INSERT OR IGNORE INTO _logs (id, level, "
                                "message, data, created) VALUES (?1, ?2, "
                                "?3, ?4, ?5)",
                                -1, SQLITE_PREPARE_PERSISTENT, &w->insert,
                                NULL);
    if (rc != SQLITE_OK) {
        bs_error_set(err, 500, "Failed to open the logs writer on %s: %s",
                     path, w->db ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc));
        bs_log_writer_free(w);
        return BS_EDB;
    }

    size_t plen = strlen(path);
    w->pending_path = malloc(plen + sizeof "-logs");
    if (!w->pending_path) {
        bs_log_writer_free(w);
        return BS_ENOMEM;
    }
    memcpy(w->pending_path, path, plen);
    memcpy(w->pending_path + plen, "-logs", sizeof "-logs");
    w->fd = open(w->pending_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat sb;
    if (w->fd < 0 || fstat(w->fd, &sb) != 0) {
        bs_error_set(err, 500, "Failed to open %s: %s", w->pending_path,
                     strerror(errno));
        bs_log_writer_free(w);
        return BS_EIO;
    }
    /* Rows a previous run staged and did not import. Their count is not
     * known until they are read; they are imported before new ones. */
    w->staged_end = (uint64_t)sb.st_size;
    w->staged_total = w->staged_end;

    if (!w->cfg.manual) {
        if (pthread_create(&w->stager, NULL, stager_main, w) != 0) {
            bs_log_writer_free(w);
            return BS_ENOMEM;
        }
        if (pthread_create(&w->importer, NULL, importer_main, w) != 0) {
            pthread_mutex_lock(&w->lock);
            w->stop = true;
            pthread_cond_signal(&w->stage_wake);
            pthread_mutex_unlock(&w->lock);
            pthread_join(w->stager, NULL);
            bs_log_writer_free(w);
            return BS_ENOMEM;
        }
        w->has_threads = true;
    }
    *out = w;
    return 0;
}

void bs_log_writer_free(bs_log_writer *w)
{
    if (!w)
        return;
    if (w->has_threads) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_signal(&w->stage_wake);
        pthread_mutex_unlock(&w->lock);
        pthread_mutex_lock(&w->state);
        w->importer_stop = true;
        pthread_cond_signal(&w->import_wake);
        pthread_mutex_unlock(&w->state);
        pthread_join(w->stager, NULL);
        pthread_join(w->importer, NULL);
    }
    if (w->fd >= 0 && w->insert) {
        stage(w);
        int64_t until = bs_mono_ms() + CLOSE_IMPORT_MS;
        while (bs_mono_ms() < until && import_batch(w, INT_MAX, -1) > 0) {
        }
        pthread_mutex_lock(&w->state);
        bool empty = w->staged_end == 0;
        pthread_mutex_unlock(&w->state);
        if (empty)
            unlink(w->pending_path);
    }
    if (w->fd >= 0)
        close(w->fd);
    sqlite3_finalize(w->insert);
    sqlite3_close(w->db);
    free(w->pending_path);
    free(w->mem.data);
    free(w->spare.data);
    free(w->rbuf);
    bs_buf_dispose(&w->message);
    bs_buf_dispose(&w->data);
    pthread_mutex_destroy(&w->import_lock);
    pthread_mutex_destroy(&w->stage_lock);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->state);
    pthread_cond_destroy(&w->stage_wake);
    pthread_cond_destroy(&w->import_wake);
    free(w);
}

/* Stages what is queued, then imports on this thread until every byte
 * staged by then is imported or max_rows rows were. wait_ms: how long
 * to wait for a batch the importer holds (-1: as long as it takes). */
static void import_now(bs_log_writer *w, int max_rows, int wait_ms)
{
    stage(w);
    pthread_mutex_lock(&w->state);
    uint64_t target = w->staged_total;
    pthread_mutex_unlock(&w->state);
    int done = 0;
    while (done < max_rows) {
        pthread_mutex_lock(&w->state);
        bool reached = w->imported_total >= target;
        pthread_mutex_unlock(&w->state);
        if (reached)
            break;
        /* 0: nothing left (the importer took the rest) or no memory. */
        int n = import_batch(w, max_rows - done, wait_ms);
        if (n == 0)
            break;
        done += n;
    }
}

void bs_log_writer_flush(bs_log_writer *w)
{
    import_now(w, INT_MAX, -1);
}

void bs_log_writer_catch_up(bs_log_writer *w, int max_rows)
{
    if (max_rows > 0)
        import_now(w, max_rows, READER_WAIT_MS);
    else
        stage(w);
}

void bs_log_writer_stats_get(bs_log_writer *w, bs_log_writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    uint64_t queued = w->queued, dropped = w->dropped;
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_lock(&w->state);
    *out = w->stats;
    pthread_mutex_unlock(&w->state);
    out->queued = queued;
    out->dropped = dropped;
}
