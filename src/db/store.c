/*
 * store.c - SQLite connections, pragmas, the writer lock, the reader pool
 * and the per-connection statement cache.
 *
 * The statement cache is a small open-addressed table keyed by the SQL
 * text pointer and its hash; statements are prepared with
 * SQLITE_PREPARE_PERSISTENT and live until the connection closes. Dynamic
 * SQL (built per request) should not go through the cache.
 */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../base/util.h"
#include "checkpointer.h"
#include "conn.h"
#include "rows.h"
#include "store_pg.h"
#include "writer_queue.h"

#define CACHE_SLOTS BS_CONN_CACHE_SLOTS
#define DYN_SLOTS BS_CONN_DYN_SLOTS
typedef bs_conn_slot cache_slot;
typedef bs_conn_dyn dyn_slot;

struct bs_store {
    bs_conn *writer;
    bs_wq *wq;                 /* who holds the writer; group commit */
    bs_ckpt *ckpt;             /* checkpoints the WAL off the writer */
    bs_conn *aux;
    pthread_mutex_t aux_lock;
    bs_conn *readers;          /* array */
    int nreaders;
    bs_conn *free_readers;
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    int64_t data_version;      /* as last seen on the writer; -1: never */
    char pg_version[96];       /* PostgreSQL: the same, see pg_version() */
    bs_store_counters counters;
    /* PostgreSQL: the writer and the readers are its connections, the
     * writer taken by this lock (no group commit); aux stays SQLite. */
    bool pg;
    pthread_mutex_t pg_writer;
    /* PostgreSQL: the connection that holds the leader's lock, once
     * opened (bs_store_leader), under lead_lock. */
    char *pg_url;
    bs_pgconn *leader;
    bool leading;
    pthread_mutex_t lead_lock;
    /* PostgreSQL: the connection of the shared rate-limit counters
     * (bs_store_count_hit), once opened, under count_lock. */
    bs_pgconn *counts;
    uint64_t count_calls;
    pthread_mutex_t count_lock;
};

/* The advisory lock whose holder is the cluster's leader. */
#define LEADER_LOCK_KEY 7306087212385LL

/* SQLite's memory for all connections (sqlite3_soft_heap_limit64). Each
 * connection's page cache is small too (cache_size, 4 MB): past the
 * limit a connection can only recycle its own pages, so one that had
 * filled a large cache (the writer after many saves, a reader after a
 * scan) would leave the others almost none. */
#define SOFT_HEAP_LIMIT ((int64_t)24 << 20)

static const char *const PRAGMAS =
    "PRAGMA busy_timeout = 10000;"
    "PRAGMA journal_mode = WAL;"
    "PRAGMA journal_size_limit = 200000000;"
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA cache_size = -4000;";

static const char *const READER_PRAGMAS =
    "PRAGMA busy_timeout = 10000;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA cache_size = -4000;"
    "PRAGMA query_only = ON;";

/* The store whose write transaction the calling thread holds, if any:
 * while inside a transaction, reads must see its uncommitted writes, so
 * a reader borrowed on that thread is the writer itself. */
static _Thread_local bs_store *tx_owner;
/* When this thread's transaction got the writer (a group's members each
 * hold it in turn, on their own threads). */
static _Thread_local int64_t tx_started_ns;

static bs_store *store_new(int readers);
static bool mkdir_once(const char *dir, bs_error *err);

/* Interrupts a read that runs past its connection's deadline, so a
 * pathological filter cannot hold a worker and a reader for long. */
static int progress(void *user)
{
    const bs_conn *c = user;
    return c->deadline_ms && bs_mono_ms() > c->deadline_ms;
}

static int conn_open(bs_conn *c, const char *path, bool readonly,
                     bs_error *err)
{
    memset(c, 0, sizeof *c);
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY
                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        bs_error_set(err, 500, "Failed to open %s: %s", path,
                     c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        c->db = NULL;
        return BS_EDB;
    }
    char *msg = NULL;
    rc = sqlite3_exec(c->db, readonly ? READER_PRAGMAS : PRAGMAS, NULL, NULL,
                      &msg);
    if (rc != SQLITE_OK) {
        bs_error_set(err, 500, "Failed to configure %s: %s", path,
                     msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        sqlite3_close(c->db);
        c->db = NULL;
        return BS_EDB;
    }
    if (readonly)
        sqlite3_progress_handler(c->db, 10000, progress, c);
    return 0;
}

static void conn_close(bs_conn *c)
{
    if (c && c->pg) {
        bs_pgconn_close(c->pg);
        c->pg = NULL;
    }
    if (!c || !c->db)
        return;
    for (int i = 0; i < DYN_SLOTS; i++) {
        if (c->dyn[i].stmt)
            sqlite3_finalize(c->dyn[i].stmt);
        free(c->dyn[i].sql);
    }
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (c->cache[i].stmt)
            sqlite3_finalize(c->cache[i].stmt);
    }
    sqlite3_close(c->db);
    c->db = NULL;
}

/* The writer's WAL hook, in place of SQLite's automatic checkpoint:
 * runs at the end of each commit, still holding the writer, so it only
 * passes the log's size to the checkpoint thread (checkpointer.c). */
static int wal_hook(void *user, sqlite3 *db, const char *name, int pages)
{
    bs_store *s = user;
    if (pages >= BS_CKPT_WRITER_PAGES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL);
    else
        bs_ckpt_note(s->ckpt, pages);
    return SQLITE_OK;
}

static void hold_writer(void *user)
{
    bs_wq_hold(((bs_store *)user)->wq);
}

static void release_writer(void *user)
{
    bs_wq_release_idle(((bs_store *)user)->wq);
}

int bs_store_open(bs_store **out, const char *dir, int readers, bs_error *err)
{
    *out = NULL;
    if (!mkdir_once(dir, err))
        return BS_EIO;
    /* All connections together keep at most SOFT_HEAP_LIMIT of SQLite
     * memory: past it their page caches recycle pages instead of growing
     * (the file's pages stay in the kernel's cache), so memory does not
     * grow with the number of readers. A limit set by an embedding
     * program is kept. */
    if (sqlite3_soft_heap_limit64(-1) == 0) {
        const char *mb = getenv("BASALT_SQLITE_MEMORY_MB");
        int64_t n = mb && *mb ? (int64_t)atoll(mb) << 20 : SOFT_HEAP_LIMIT;
        sqlite3_soft_heap_limit64(n > 0 ? n : SOFT_HEAP_LIMIT);
    }
    if (readers < 1)
        readers = 1;
    bs_store *s = store_new(readers);
    if (!s)
        return BS_ENOMEM;
    char path[4096];
    int rc;
    snprintf(path, sizeof path, "%s/data.db", dir);
    rc = conn_open(s->writer, path, false, err);
    if (rc)
        goto fail;
    s->wq = bs_wq_new(s->writer->db);
    if (!s->wq) {
        rc = BS_ENOMEM;
        goto fail;
    }
    /* Without the thread, SQLite's automatic checkpoint stays. */
    s->ckpt = bs_ckpt_start(path, hold_writer, release_writer, s);
    if (s->ckpt)
        sqlite3_wal_hook(s->writer->db, wal_hook, s);
    for (int i = 0; i < readers; i++) {
        rc = conn_open(&s->readers[i], path, true, err);
        if (rc)
            goto fail;
        s->nreaders++;
        s->readers[i].next_free = s->free_readers;
        s->free_readers = &s->readers[i];
    }
    snprintf(path, sizeof path, "%s/auxiliary.db", dir);
    rc = conn_open(s->aux, path, false, err);
    if (rc)
        goto fail;
    *out = s;
    return 0;

fail:
    bs_store_close(s);
    return rc;
}

/* The store's allocations, before any connection is opened. */
static bs_store *store_new(int readers)
{
    bs_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->data_version = -1;
    pthread_mutex_init(&s->aux_lock, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->pg_writer, NULL);
    pthread_mutex_init(&s->lead_lock, NULL);
    pthread_mutex_init(&s->count_lock, NULL);
    pthread_cond_init(&s->pool_cond, NULL);
    s->writer = calloc(1, sizeof(bs_conn));
    s->aux = calloc(1, sizeof(bs_conn));
    s->readers = calloc((size_t)(readers < 1 ? 1 : readers), sizeof(bs_conn));
    if (!s->writer || !s->aux || !s->readers) {
        bs_store_close(s);
        return NULL;
    }
    return s;
}

static bool mkdir_once(const char *dir, bs_error *err)
{
    if (mkdir(dir, 0755) != 0) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            bs_error_set(err, 500, "Cannot create the data directory %s",
                         dir);
            return false;
        }
    }
    return true;
}

/* The case-insensitive collation that COLLATE NOCASE becomes
 * (pg_sql.h): ICU's comparison at the secondary strength. */
static const char PG_SETUP[] =
    BS_PG_SETUP_LOCK ";"
    "DO $$ BEGIN "
    "IF NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = "
    "'bs_nocase') THEN CREATE COLLATION bs_nocase (provider = icu, "
    "locale = 'und-u-ks-level2', deterministic = false); END IF; "
    "END $$;"
    /* SQLite's json_valid(text) and json_each(text), for the SQL of the
     * layers above that reads JSON arrays of ids: json_each yields the
     * items of an array, or a single value as itself, as text. With a
     * parameter of unknown type PostgreSQL picks these over its own
     * json_each(json), text being the preferred type. */
    "CREATE OR REPLACE FUNCTION json_valid(t text) RETURNS boolean "
    "LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM t::jsonb; "
    "RETURN t IS NOT NULL; EXCEPTION WHEN others THEN RETURN false; "
    "END $$;"
    "CREATE OR REPLACE FUNCTION json_each(t text) RETURNS TABLE(value "
    "text) LANGUAGE sql IMMUTABLE AS $$ SELECT e FROM "
    "jsonb_array_elements_text(CASE WHEN NOT json_valid(t) THEN "
    "'[]'::jsonb WHEN jsonb_typeof(t::jsonb) = 'array' THEN t::jsonb "
    "ELSE jsonb_build_array(t::jsonb) END) AS e $$;"
    /* SQLite's json_type(text) (NULL when the text is not JSON),
     * json_array(text) of one value and json_extract(text, path) for the
     * paths '$', '$[#-1]' (the last item), '$.a.b' and '$[0]': what a
     * field changed between one value and many uses. */
    "CREATE OR REPLACE FUNCTION json_type(t text) RETURNS text LANGUAGE "
    "plpgsql IMMUTABLE AS $$ DECLARE j jsonb; BEGIN j := t::jsonb; "
    "RETURN CASE jsonb_typeof(j) WHEN 'string' THEN 'text' WHEN "
    "'boolean' THEN j::text WHEN 'number' THEN CASE WHEN j::text LIKE "
    "'%.%' OR lower(j::text) LIKE '%e%' THEN 'real' ELSE 'integer' END "
    "ELSE jsonb_typeof(j) END; EXCEPTION WHEN others THEN RETURN NULL; "
    "END $$;"
    "CREATE OR REPLACE FUNCTION json_array(t text) RETURNS text "
    "LANGUAGE sql IMMUTABLE AS $$ SELECT json_build_array(t)::text $$;"
    "CREATE OR REPLACE FUNCTION json_extract(t text, p text) RETURNS "
    "text LANGUAGE plpgsql IMMUTABLE AS $$ DECLARE j jsonb; BEGIN "
    "IF NOT json_valid(t) THEN RETURN NULL; END IF; j := t::jsonb; "
    "IF p = '$[#-1]' THEN RETURN CASE WHEN jsonb_typeof(j) = 'array' "
    "THEN j ->> -1 END; END IF; IF p = '$' THEN RETURN CASE WHEN "
    "jsonb_typeof(j) = 'string' THEN j #>> '{}' ELSE t END; END IF; "
    "RETURN j #>> string_to_array(ltrim(replace(replace(substr(p, 2), "
    "'[', '.'), ']', ''), '.'), '.'); END $$;"
    /* The rate-limit windows that every node counts in
     * (bs_store_count_hit); unlogged: a crash may forget them. */
    "CREATE UNLOGGED TABLE IF NOT EXISTS _basalt_rate_limits (id text NOT "
    "NULL, key text NOT NULL, started bigint NOT NULL, span bigint NOT "
    "NULL, hits bigint NOT NULL, PRIMARY KEY (id, key))";

int bs_store_open_pg(bs_store **out, const char *dir, const char *url,
                     int readers, bs_error *err)
{
    *out = NULL;
    if (!mkdir_once(dir, err))
        return BS_EIO;
    if (readers < 1)
        readers = 1;
    bs_store *s = store_new(readers);
    if (!s)
        return BS_ENOMEM;
    s->pg = true;
    s->pg_url = strdup(url);
    if (!s->pg_url) {
        bs_store_close(s);
        return BS_ENOMEM;
    }
    int rc = bs_pgconn_open(url, false, &s->writer->pg, err);
    if (rc == 0 && bs_pgconn_exec(s->writer->pg, PG_SETUP) != 0)
        rc = bs_error_set(err, 500, "Cannot prepare the PostgreSQL "
                                    "database: %s",
                          bs_pgconn_errmsg(s->writer->pg));
    for (int i = 0; rc == 0 && i < readers; i++) {
        rc = bs_pgconn_open(url, true, &s->readers[i].pg, err);
        if (rc)
            break;
        s->nreaders++;
        s->readers[i].next_free = s->free_readers;
        s->free_readers = &s->readers[i];
    }
    /* Request logs stay in the node's own auxiliary.db. */
    char path[4096];
    snprintf(path, sizeof path, "%s/auxiliary.db", dir);
    if (rc == 0)
        rc = conn_open(s->aux, path, false, err);
    if (rc) {
        bs_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Opens a writable connection of the store's own into *slot when it has
 * none yet (the leader's, the counters'); the caller holds the slot's
 * lock. 0, or the error of the open with *slot left NULL. */
static int own_conn(bs_store *s, bs_pgconn **slot)
{
    if (*slot)
        return 0;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_pgconn_open(s->pg_url, false, slot, &err);
    if (rc)
        *slot = NULL;
    bs_error_dispose(&err);
    return rc;
}

bool bs_store_leader(bs_store *s)
{
    if (!s->pg)
        return true;
    pthread_mutex_lock(&s->lead_lock);
    bool was = s->leading;
    if (s->leader)
        bs_pgconn_revive(s->leader); /* after a broken session */
    else
        own_conn(s, &s->leader);
    /* Asked again while held: the lock is re-entrant, and the answer
     * proves the session (so the lock) is still there. */
    bool held = false;
    if (s->leader &&
        bs_pgconn_try_lock(s->leader, LEADER_LOCK_KEY, &held) != 0) {
        /* Broken or failing: end the session, so that a lock it may
         * still hold is released for the others. */
        bs_pgconn_close(s->leader);
        s->leader = NULL;
        held = false;
    }
    if (was && held) {
        /* Taken twice now: give the extra count back. */
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%lld)",
                 LEADER_LOCK_KEY);
        bs_pgconn_exec(s->leader, sql);
    }
    s->leading = held;
    pthread_mutex_unlock(&s->lead_lock);
    if (held != was)
        bs_log('I', held ? "This node now runs the cluster's cron jobs"
                         : "This node no longer runs the cluster's cron "
                           "jobs");
    return held;
}

/* Expired windows are deleted every this many hits. */
#define COUNT_SWEEP_EVERY 1024


int bs_store_count_hit(bs_store *s, const char *id, const char *key,
                       int64_t interval, int64_t now, int64_t *hits)
{
    if (!s->pg)
        return BS_ENOTFOUND;
    pthread_mutex_lock(&s->count_lock);
    int rc = own_conn(s, &s->counts);
    if (rc == 0 && bs_pgconn_count_hit(s->counts, id, key, interval, now,
                                       hits) != 0) {
        /* Broken by a restart of the server: once more, connected
         * again. */
        rc = bs_pgconn_revive(s->counts);
        if (rc == 0)
            rc = bs_pgconn_count_hit(s->counts, id, key, interval, now,
                                     hits);
    }
    if (rc == 0 && ++s->count_calls % COUNT_SWEEP_EVERY == 0) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "DELETE FROM _basalt_rate_limits WHERE started + span < "
                 "%lld",
                 (long long)now);
        bs_pgconn_exec(s->counts, sql);
    }
    pthread_mutex_unlock(&s->count_lock);
    return rc;
}

void bs_store_count_reset(bs_store *s)
{
    if (!s->pg)
        return;
    pthread_mutex_lock(&s->count_lock);
    if (own_conn(s, &s->counts) == 0)
        bs_pgconn_exec(s->counts, "DELETE FROM _basalt_rate_limits");
    pthread_mutex_unlock(&s->count_lock);
}

bool bs_store_is_pg(const bs_store *s)
{
    return s->pg;
}

bool bs_conn_is_pg(const bs_conn *c)
{
    return c->pg != NULL;
}

void bs_store_close(bs_store *s)
{
    if (!s)
        return;
    bs_ckpt_stop(s->ckpt);
    if (s->writer && s->writer->db)
        sqlite3_wal_checkpoint_v2(s->writer->db, NULL,
                                  SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    for (int i = 0; i < s->nreaders; i++)
        conn_close(&s->readers[i]);
    conn_close(s->aux);
    if (s->wq) {
        uint64_t commits, members;
        bs_wq_stats(s->wq, &commits, &members);
        if (commits)
            bs_log('D', "group commit: %llu record transactions in %llu "
                        "commits", (unsigned long long)members,
                   (unsigned long long)commits);
    }
    bs_wq_free(s->wq);
    conn_close(s->writer);
    free(s->readers);
    free(s->aux);
    free(s->writer);
    pthread_mutex_destroy(&s->aux_lock);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->pg_writer);
    if (s->leader)
        bs_pgconn_close(s->leader);
    if (s->counts)
        bs_pgconn_close(s->counts);
    free(s->pg_url);
    pthread_mutex_destroy(&s->lead_lock);
    pthread_mutex_destroy(&s->count_lock);
    pthread_cond_destroy(&s->pool_cond);
    free(s);
}

bs_conn *bs_store_reader_acquire(bs_store *s)
{
    if (tx_owner == s)
        return s->writer;
    pthread_mutex_lock(&s->pool_lock);
    while (!s->free_readers)
        pthread_cond_wait(&s->pool_cond, &s->pool_lock);
    bs_conn *c = s->free_readers;
    s->free_readers = c->next_free;
    pthread_mutex_unlock(&s->pool_lock);
    c->deadline_ms = bs_mono_ms() + BS_READ_TIMEOUT_MS;
    return c;
}

void bs_store_reader_release(bs_store *s, bs_conn *c)
{
    if (!c || c == s->writer)
        return;
    pthread_mutex_lock(&s->pool_lock);
    c->next_free = s->free_readers;
    s->free_readers = c;
    pthread_cond_signal(&s->pool_cond);
    pthread_mutex_unlock(&s->pool_lock);
}

/* PostgreSQL: the writer lock, then BEGIN on the writer connection. */
static int pg_begin(bs_store *s, bs_error *err)
{
    pthread_mutex_lock(&s->pg_writer);
    bs_pgconn *w = s->writer->pg;
    /* A BEGIN that finds the connection broken is tried again once on
     * a new one. */
    if (bs_pgconn_exec(w, "BEGIN") != 0 &&
        (bs_pgconn_revive(w) != 0 || bs_pgconn_exec(w, "BEGIN") != 0)) {
        bs_error_set(err, 500, "Failed to start a transaction: %s",
                     bs_pgconn_errmsg(s->writer->pg));
        pthread_mutex_unlock(&s->pg_writer);
        return BS_EDB;
    }
    return 0;
}

static int pg_end(bs_store *s, bool commit, bs_error *err)
{
    int rc = 0;
    if (bs_pgconn_exec(s->writer->pg, commit ? "COMMIT" : "ROLLBACK") != 0) {
        if (commit && err)
            bs_error_set(err, 500, "Failed to commit: %s",
                         bs_pgconn_errmsg(s->writer->pg));
        bs_pgconn_exec(s->writer->pg, "ROLLBACK");
        rc = commit ? BS_EDB : 0;
    }
    pthread_mutex_unlock(&s->pg_writer);
    return rc;
}

static int tx_begin(bs_store *s, bool grouped, bs_conn **out, bs_error *err)
{
    bs_store_counters *k = &s->counters;
    int64_t t0 = bs_mono_ns();
    atomic_fetch_add_explicit(&k->waiting, 1, memory_order_relaxed);
    int rc = s->pg ? pg_begin(s, err) : bs_wq_begin(s->wq, grouped, err);
    atomic_fetch_sub_explicit(&k->waiting, 1, memory_order_relaxed);
    if (rc)
        return rc;
    tx_started_ns = bs_mono_ns();
    bs_hist_observe(&k->wait, tx_started_ns - t0);
    tx_owner = s;
    *out = s->writer;
    return 0;
}

int bs_store_tx_begin(bs_store *s, bs_conn **out, bs_error *err)
{
    return tx_begin(s, false, out, err);
}

int bs_store_tx_join(bs_store *s, bs_conn **out, bs_error *err)
{
    return tx_begin(s, true, out, err);
}

int bs_store_tx_end(bs_store *s, bool commit, bs_error *err)
{
    tx_owner = NULL;
    bs_store_counters *k = &s->counters;
    int rc = s->pg ? pg_end(s, commit, err) : bs_wq_end(s->wq, commit, err);
    bs_counter_add(commit && rc == 0 ? &k->commits : &k->rollbacks, 1);
    bs_hist_observe(&k->tx, bs_mono_ns() - tx_started_ns);
    return rc;
}

int bs_store_tx_waiting(bs_store *s)
{
    if (s->pg)
        return (int)atomic_load(&s->counters.waiting);
    return bs_wq_waiting(s->wq);
}

void bs_store_group_stats(bs_store *s, uint64_t *commits, uint64_t *members)
{
    if (!s->wq) {
        *commits = *members = 0;
        return;
    }
    bs_wq_stats(s->wq, commits, members);
}

void bs_store_checkpoints(bs_store *s, uint64_t *runs, uint64_t *ns)
{
    bs_ckpt_stats(s->ckpt, runs, ns);
}

bs_conn *bs_store_aux_acquire(bs_store *s)
{
    pthread_mutex_lock(&s->aux_lock);
    return s->aux;
}

void bs_store_aux_release(bs_store *s, bs_conn *c)
{
    (void)c;
    pthread_mutex_unlock(&s->aux_lock);
}

void bs_conn_set_deadline(bs_conn *c, int64_t deadline_ms)
{
    c->deadline_ms = deadline_ms;
    if (c->pg)
        return; /* PostgreSQL readers have a statement timeout */
    sqlite3_progress_handler(c->db, 10000, progress, c);
}

sqlite3 *bs_conn_db(bs_conn *c)
{
    return c->db;
}

sqlite3_stmt *bs_conn_prepare(bs_conn *c, const char *sql)
{
    uint64_t h = bs_fnv1a(BS_FNV_SEED, sql, strlen(sql));
    size_t i = (size_t)(h % CACHE_SLOTS);
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++) {
        cache_slot *slot = &c->cache[(i + probe) % CACHE_SLOTS];
        if (!slot->stmt)
            break;
        if (slot->hash == h &&
            (slot->sql == sql || strcmp(slot->sql, sql) == 0)) {
            sqlite3_reset(slot->stmt);
            sqlite3_clear_bindings(slot->stmt);
            bs_counter_add_owned(&c->hits, 1);
            return slot->stmt;
        }
    }
    if (c->cached >= CACHE_SLOTS * 3 / 4) {
        /* Only fixed SQL texts belong here; dynamic SQL uses
         * sqlite3_prepare_v2 and finalizes its statement itself. */
        bs_log('E', "statement cache full; not caching: %s", sql);
        return NULL;
    }
    bs_counter_add_owned(&c->misses, 1);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &st, NULL);
    if (rc != SQLITE_OK) {
        bs_log('E', "prepare failed: %s (%s)", sqlite3_errmsg(c->db), sql);
        return NULL;
    }
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++) {
        cache_slot *slot = &c->cache[(i + probe) % CACHE_SLOTS];
        if (!slot->stmt) {
            slot->sql = sql;
            slot->hash = h;
            slot->stmt = st;
            c->cached++;
            break;
        }
    }
    return st;
}

int bs_conn_exec(bs_conn *c, const char *sql, bs_error *err)
{
    if (c->pg) {
        if (bs_pgconn_exec(c->pg, sql) == 0)
            return 0;
        bs_log('D', "exec failed: %s (%s)", bs_pgconn_errmsg(c->pg), sql);
        if (err)
            bs_error_set(err, 400, "Failed to execute the database query.");
        return BS_EDB;
    }
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        bs_log('D', "exec failed: %s (%s)", msg ? msg : "", sql);
        if (err)
            bs_error_set(err, 400, "Failed to execute the database query.");
        sqlite3_free(msg);
        return BS_EDB;
    }
    return 0;
}

sqlite3_stmt *bs_conn_prepare_dyn(bs_conn *c, const char *sql, size_t len)
{
    uint64_t h = bs_fnv1a(BS_FNV_SEED, sql, len);
    dyn_slot *victim = NULL;
    c->clock++;
    for (int i = 0; i < DYN_SLOTS; i++) {
        dyn_slot *d = &c->dyn[i];
        if (d->stmt && d->hash == h && d->len == len &&
            memcmp(d->sql, sql, len) == 0) {
            d->last_used = c->clock;
            sqlite3_reset(d->stmt);
            sqlite3_clear_bindings(d->stmt);
            bs_counter_add_owned(&c->hits, 1);
            return d->stmt;
        }
        if (!d->stmt) {
            /* An empty slot beats any replacement. */
            if (!victim || victim->stmt)
                victim = d;
            continue;
        }
        /* Never replace a statement that is in the middle of a step. */
        if (sqlite3_stmt_busy(d->stmt))
            continue;
        if (!victim || (victim->stmt && d->last_used < victim->last_used))
            victim = d;
    }
    if (!victim)
        return NULL; /* every slot is in use at once */
    bs_counter_add_owned(&c->misses, 1);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT,
                           &st, NULL) != SQLITE_OK)
        return NULL;
    char *copy = malloc(len + 1);
    if (!copy) {
        sqlite3_finalize(st);
        return NULL;
    }
    memcpy(copy, sql, len);
    copy[len] = '\0';
    if (victim->stmt)
        sqlite3_finalize(victim->stmt);
    free(victim->sql);
    victim->sql = copy;
    victim->len = len;
    victim->hash = h;
    victim->last_used = c->clock;
    victim->stmt = st;
    return st;
}

/* A text that changes with every commit to the collections and the
 * settings: row counts (deletes) and the sum of the rows' xmin (the
 * transaction that wrote each: inserts, updates). */
static const char PG_VERSION_SQL[] =
    "SELECT (SELECT count(*) || ':' || coalesce(sum(CAST(CAST(xmin AS "
    "text) AS bigint)), 0) FROM \"_collections\") || '/' || (SELECT "
    "count(*) || ':' || coalesce(sum(CAST(CAST(xmin AS text) AS bigint)), "
    "0) FROM \"_params\")";

/* PostgreSQL: nodes announce their changes over NATS (core/cluster.c),
 * but the command line (`collections import`, `migrate`) and a node cut
 * off from NATS do not; their commits are seen here within a poll. A
 * node's own changes are seen too (one reload more). */
static bool pg_changed(bs_store *s)
{
    bs_conn *c = bs_store_reader_acquire(s);
    bool changed = false;
    bs_rows st;
    if (bs_rows_open(&st, c, PG_VERSION_SQL, -1, BS_ROWS_ONCE) == 0 &&
        bs_rows_next(&st) == 1) {
        size_t n = 0;
        const char *v = bs_rows_text(&st, 0, &n);
        if (v && n < sizeof s->pg_version) {
            changed = s->pg_version[0] && strcmp(v, s->pg_version) != 0;
            memcpy(s->pg_version, v, n + 1);
        }
    }
    bs_rows_close(&st);
    bs_store_reader_release(s, c);
    return changed;
}

bool bs_store_changed_elsewhere(bs_store *s)
{
    if (s->pg)
        return pg_changed(s);
    if (!bs_wq_try_idle(s->wq))
        return false;
    bool changed = false;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->writer->db, "PRAGMA data_version", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        changed = s->data_version >= 0 && v != s->data_version;
        s->data_version = v;
    }
    sqlite3_finalize(st);
    bs_wq_release_idle(s->wq);
    return changed;
}

const bs_store_counters *bs_store_counters_get(bs_store *s)
{
    return &s->counters;
}

void bs_store_stmt_cache(bs_store *s, uint64_t *hits, uint64_t *misses)
{
    bs_conn *all[2] = {s->writer, s->aux};
    *hits = *misses = 0;
    for (int i = 0; i < 2 + s->nreaders; i++) {
        bs_conn *c = i < 2 ? all[i] : &s->readers[i - 2];
        *hits += bs_counter_get(&c->hits);
        *misses += bs_counter_get(&c->misses);
    }
}
