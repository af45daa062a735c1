/*
 * webhook_sender.c - the thread that delivers the webhooks' outbox.
 *
 * One thread drives libcurl's multi interface: up to MAX_FLIGHT
 * requests at once, never a thread per delivery. Each turn it reads the
 * due pending rows (of active webhooks) that are not in flight yet,
 * starts a POST for each, then waits in curl_multi_poll until a
 * transfer finishes, a commit wakes it (curl_multi_wakeup), the next
 * retry falls due, or a second passes (rows written by another process
 * are found that way). Each finished transfer is recorded in a short
 * write transaction of its own: a 2xx marks the row delivered; anything
 * else counts an attempt and schedules the next one with exponential
 * backoff and jitter, or marks the row failed after the last.
 *
 * At least once: a row is marked delivered only after its 2xx, so a
 * crash in between sends it again on the next start; a row marked
 * delivered is never sent again.
 */
#include "webhook_sender.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/util.h"
#include "../db/rows.h"
#include "app.h"
#include "tx.h"
#include "webhook_internal.h"
#include "webhooks.h"

#define MAX_FLIGHT 8
#define POLL_MS 1000
#define BACKOFF_CAP_MS 3600000
#define PRUNE_MS 3600000

typedef struct flight {
    CURL *h; /* NULL: the slot is free */
    char id[16];
    char *body;
    struct curl_slist *headers;
    int attempts; /* before this one */
    char errbuf[CURL_ERROR_SIZE];
} flight;

struct bs_wh_sender {
    bs_app *app;
    pthread_t thread;
    CURLM *multi;
    atomic_bool stopping;
    flight slots[MAX_FLIGHT];
    int64_t base_ms, timeout_ms;
    int max_attempts;
    int64_t counted_at; /* when the pending rows were last counted */
    int64_t pruned_at;  /* when old rows were last deleted */
    int keep_days;
    unsigned seed;
};

void bs_webhook_sign(const char *secret, int64_t timestamp, const char *body,
                     size_t body_len, char out[65])
{
    out[0] = 0;
    char ts[24];
    int tl = snprintf(ts, sizeof ts, "%lld.", (long long)timestamp);
    unsigned char *msg = malloc((size_t)tl + body_len + 1);
    if (!msg)
        return;
    memcpy(msg, ts, (size_t)tl);
    memcpy(msg + tl, body, body_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    bool ok = HMAC(EVP_sha256(), secret, (int)strlen(secret), msg,
                   (size_t)tl + body_len, mac, &n) && n == 32;
    free(msg);
    if (!ok)
        return;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[64] = 0;
}

int64_t bs_webhook_backoff_ms(int64_t base_ms, int attempt, uint32_t r)
{
    if (base_ms <= 0)
        base_ms = 1;
    if (attempt < 1)
        attempt = 1;
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    /* Jitter: somewhere in [d/2, d], so receivers recovering from an
     * outage do not get every retry at the same instant. */
    int64_t half = d / 2;
    return d - (half > 0 ? (int64_t)(r % (uint64_t)(half + 1)) : 0);
}

/* ---- one transfer ---------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

static void slot_clear(bs_wh_sender *s, flight *f)
{
    if (f->h) {
        curl_multi_remove_handle(s->multi, f->h);
        curl_easy_cleanup(f->h);
    }
    curl_slist_free_all(f->headers);
    free(f->body);
    memset(f, 0, sizeof *f);
}

static bool in_flight(const bs_wh_sender *s, const char *id)
{
    for (int i = 0; i < MAX_FLIGHT; i++)
        if (s->slots[i].h && strcmp(s->slots[i].id, id) == 0)
            return true;
    return false;
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name,
                                     const char *value)
{
    char line[160];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, line);
    if (!n)
        curl_slist_free_all(l);
    return n;
}

/* Starts the POST of one row into slot f. */
static bool start(bs_wh_sender *s, flight *f, const char *id,
                  const char *webhook_id, const char *url, const char *secret,
                  const char *body, size_t body_len, int attempts)
{
    f->body = malloc(body_len + 1);
    f->h = curl_easy_init();
    if (!f->body || !f->h) {
        slot_clear(s, f);
        return false;
    }
    memcpy(f->body, body, body_len);
    f->body[body_len] = 0;
    snprintf(f->id, sizeof f->id, "%s", id);
    f->attempts = attempts;
    int64_t ts = bs_wh_wall_ms() / 1000;
    char sig[65], sig_header[80], ts_text[24];
    bs_webhook_sign(secret, ts, body, body_len, sig);
    snprintf(sig_header, sizeof sig_header, "sha256=%s", sig);
    snprintf(ts_text, sizeof ts_text, "%lld", (long long)ts);
    struct curl_slist *h = add_header(NULL, "Content-Type", "application/json");
    if (h)
        h = add_header(h, "X-Basalt-Webhook", webhook_id);
    if (h)
        h = add_header(h, "X-Basalt-Delivery", id);
    if (h)
        h = add_header(h, "X-Basalt-Timestamp", ts_text);
    if (h)
        h = add_header(h, "X-Basalt-Signature", sig_header);
    if (h)
        h = add_header(h, "Expect", "");
    f->headers = h;
    if (!h) {
        slot_clear(s, f);
        return false;
    }
    CURL *c = f->h;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "basalt-webhooks/" BASALT_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, f->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, f);
    if (curl_multi_add_handle(s->multi, c) != CURLM_OK) {
        slot_clear(s, f);
        return false;
    }
    return true;
}

/* ---- recording outcomes ---------------------------------------------------- */

typedef struct outcome {
    const char *id;
    const char *status;
    int64_t next;
    long code;
    const char *error;
} outcome;

static int record_tx(bs_tx *tx, void *data)
{
    outcome *o = data;
    char now[25];
    bs_now_str(now);
    bs_rows st;
    int rc = bs_rows_open(&st, bs_tx_conn(tx),
                          "UPDATE _webhookDeliveries SET status = ?2, "
                          "attempts = attempts + 1, nextAttempt = ?3, "
                          "lastCode = ?4, lastError = ?5, updated = ?6 WHERE "
                          "id = ?1 AND status = 'pending'",
                          -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, o->id, -1);
        bs_rows_bind_text(&st, 2, o->status, -1);
        bs_rows_bind_int(&st, 3, o->next);
        bs_rows_bind_int(&st, 4, o->code);
        bs_rows_bind_text(&st, 5, o->error, -1);
        bs_rows_bind_text(&st, 6, now, -1);
        rc = bs_rows_exec(&st) >= 0 ? 0 : BS_EDB;
    }
    bs_rows_close(&st);
    return rc;
}

static void finish(bs_wh_sender *s, flight *f, CURLcode res)
{
    long code = 0;
    if (res == CURLE_OK)
        curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &code);
    bool ok = res == CURLE_OK && code >= 200 && code < 300;
    char err[CURL_ERROR_SIZE + 32] = "";
    if (res != CURLE_OK)
        snprintf(err, sizeof err, "%s",
                 f->errbuf[0] ? f->errbuf : curl_easy_strerror(res));
    else if (!ok)
        snprintf(err, sizeof err, "The receiver answered with status %ld.",
                 code);
    int attempts = f->attempts + 1;
    outcome o = {.id = f->id, .code = code, .error = err};
    bs_wh_outcome counted;
    if (ok) {
        o.status = "delivered";
        counted = BS_WH_DELIVERED;
    } else if (attempts >= s->max_attempts) {
        o.status = "failed";
        counted = BS_WH_FAILED;
    } else {
        o.status = "pending";
        o.next = bs_wh_wall_ms() + bs_webhook_backoff_ms(s->base_ms, attempts,
                                                   (uint32_t)rand_r(&s->seed));
        counted = BS_WH_RETRY;
    }
    bs_error e;
    bs_error_init(&e);
    if (bs_run_in_transaction(s->app, record_tx, &o, &e) != 0)
        bs_log('E', "Webhooks: recording delivery %s failed: %s", f->id,
               e.message ? e.message : "?");
    bs_error_dispose(&e);
    bs_webhooks_count(s->app, counted);
    slot_clear(s, f);
}

/* ---- the loop -------------------------------------------------------------- */

/* Starts the due rows that fit in the free slots; returns how long to
 * wait (ms) before the next row falls due, at most POLL_MS. */
static long fill(bs_wh_sender *s)
{
    int busy = 0;
    for (int i = 0; i < MAX_FLIGHT; i++)
        busy += s->slots[i].h != NULL;
    bs_store *store = s->app->store;
    int64_t now = bs_wh_wall_ms();
    bs_conn *c = bs_store_reader_acquire(store);
    /* The tables are made with the first webhook: until then there is
     * nothing to send (and nothing to count). */
    if (!bs_wh_have_tables(c)) {
        bs_store_reader_release(store, c);
        return POLL_MS;
    }
    bs_rows st;
    /* CROSS JOIN keeps the outbox as the outer loop, so SQLite walks the
     * (status, nextAttempt) index in order and stops at the limit,
     * however many rows are pending. */
    if (busy < MAX_FLIGHT &&
        bs_rows_open(&st, c,
                     "SELECT d.id, d.webhookId, d.body, d.attempts, w.url, "
                     "w.secret FROM _webhookDeliveries d CROSS JOIN "
                     "_webhooks w ON w.id = d.webhookId WHERE d.status = "
                     "'pending' AND d.nextAttempt <= ?1 AND w.active ORDER "
                     "BY d.nextAttempt LIMIT ?2",
                     -1, BS_ROWS_FIXED) == 0) {
        bs_rows_bind_int(&st, 1, now);
        bs_rows_bind_int(&st, 2, MAX_FLIGHT + busy);
        while (busy < MAX_FLIGHT && bs_rows_next(&st) == 1) {
            const char *id = bs_rows_text(&st, 0, NULL);
            if (in_flight(s, id))
                continue;
            flight *f = NULL;
            for (int i = 0; i < MAX_FLIGHT && !f; i++)
                if (!s->slots[i].h)
                    f = &s->slots[i];
            size_t blen = 0;
            const char *body = bs_rows_text(&st, 2, &blen);
            if (f && start(s, f, id, bs_rows_text(&st, 1, NULL),
                           bs_rows_text(&st, 4, NULL),
                           bs_rows_text(&st, 5, NULL), body ? body : "", blen,
                           (int)bs_rows_int(&st, 3)))
                busy++;
        }
    }
    bs_rows_close(&st);
    long wait = POLL_MS;
    int64_t next = 0;
    if (bs_conn_query_int(c,
                          "SELECT d.nextAttempt FROM _webhookDeliveries d "
                          "CROSS JOIN _webhooks w ON w.id = d.webhookId "
                          "WHERE d.status = 'pending' AND w.active ORDER BY "
                          "d.nextAttempt LIMIT 1",
                          -1, BS_ROWS_FIXED, NULL, &next) == 1 &&
        next > 0) {
        int64_t d = next - now;
        /* A due row is in flight already (a finished transfer ends the
         * wait), or could not be started (try again shortly). */
        if (d <= 0)
            wait = busy ? POLL_MS : 100;
        else
            wait = d < POLL_MS ? (long)d : POLL_MS;
    }
    int64_t mono = bs_mono_ms();
    if (mono - s->counted_at >= POLL_MS) {
        int64_t pending = 0;
        bs_conn_query_int(c,
                          "SELECT COUNT(*) FROM _webhookDeliveries WHERE "
                          "status = 'pending'",
                          -1, BS_ROWS_FIXED, NULL, &pending);
        bs_webhooks_set_pending(s->app, pending);
        s->counted_at = mono;
    }
    bs_store_reader_release(store, c);
    return wait;
}

/* Records every finished transfer; returns how many there were. */
static int drain(bs_wh_sender *s)
{
    int n = 0, left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        flight *f = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        if (f) {
            finish(s, f, m->data.result);
            n++;
        }
    }
    return n;
}

static void *run(void *p)
{
    bs_wh_sender *s = p;
    while (!atomic_load(&s->stopping)) {
        /* The log prunes itself here, hourly, rather than as a cron
         * job: /api/crons lists exactly PocketBase's jobs. */
        if (bs_mono_ms() - s->pruned_at >= PRUNE_MS) {
            bs_webhooks_cleanup(s->app, s->keep_days);
            s->pruned_at = bs_mono_ms();
        }
        long wait = fill(s);
        int running = 0;
        curl_multi_perform(s->multi, &running);
        /* A transfer that ended in this call leaves no socket activity
         * to wake the poll: record it and go round at once. */
        if (drain(s))
            continue;
        /* The poll also ends early for libcurl's own timeouts. */
        curl_multi_poll(s->multi, NULL, 0, (int)wait, NULL);
        curl_multi_perform(s->multi, &running);
        drain(s);
    }
    for (int i = 0; i < MAX_FLIGHT; i++)
        slot_clear(s, &s->slots[i]);
    return NULL;
}

bs_wh_sender *bs_wh_sender_start(bs_app *app)
{
    bs_wh_sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->app = app;
    s->base_ms = bs_env_positive("BASALT_WEBHOOK_RETRY_MS", 30000);
    s->timeout_ms = bs_env_positive("BASALT_WEBHOOK_TIMEOUT_MS", 10000);
    s->max_attempts = (int)bs_env_positive("BASALT_WEBHOOK_MAX_ATTEMPTS", 8);
    s->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    s->counted_at = bs_mono_ms() - POLL_MS;
    s->keep_days = (int)bs_env_positive("BASALT_WEBHOOK_KEEP_DAYS", 7);
    s->pruned_at = bs_mono_ms() - PRUNE_MS;
    s->multi = curl_multi_init();
    if (!s->multi || pthread_create(&s->thread, NULL, run, s) != 0) {
        if (s->multi)
            curl_multi_cleanup(s->multi);
        free(s);
        return NULL;
    }
    return s;
}

void bs_wh_sender_wake(bs_wh_sender *s)
{
    curl_multi_wakeup(s->multi);
}

void bs_wh_sender_stop(bs_wh_sender *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    curl_multi_wakeup(s->multi);
    pthread_join(s->thread, NULL);
    curl_multi_cleanup(s->multi);
    free(s);
}
