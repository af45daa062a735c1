/*
 * ratelimit.c - fixed-window request counters and rule lookup.
 *
 * The design is simple: one hash table keyed by "<limiter id>\0<client>",
 * each entry a window start and the requests still available in it,
 * behind one mutex. A check is a lookup (or an insert) and two integer
 * updates, so contention stays low even with every worker checking. The
 * table is swept for stale entries every few thousand inserts instead of
 * by a timer, so an idle server does no work.
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/store.h"

/* An entry is dropped this long (seconds) after its window ended. */
#define STALE_AFTER 1800
#define SWEEP_EVERY 4096

typedef struct rl_entry {
    struct rl_entry *next;
    uint64_t hash;
    int64_t start;      /* start of the current window */
    int64_t interval;
    int64_t available;  /* requests left in the window */
    size_t klen;
    char key[];         /* id, NUL, client key */
} rl_entry;

struct bs_ratelimiter {
    pthread_mutex_t lock;
    rl_entry **buckets;
    size_t nbuckets;    /* a power of two */
    size_t count;
    size_t inserts;     /* since the last sweep */
    _Atomic(bs_store *) shared; /* counts there when set (PostgreSQL) */
};

bs_ratelimiter *bs_ratelimiter_new(void)
{
    bs_ratelimiter *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->nbuckets = 64;
    rl->buckets = calloc(rl->nbuckets, sizeof *rl->buckets);
    if (!rl->buckets) {
        free(rl);
        return NULL;
    }
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

static void clear_locked(bs_ratelimiter *rl)
{
    for (size_t i = 0; i < rl->nbuckets; i++) {
        rl_entry *e = rl->buckets[i];
        while (e) {
            rl_entry *next = e->next;
            free(e);
            e = next;
        }
        rl->buckets[i] = NULL;
    }
    rl->count = 0;
}

void bs_ratelimiter_free(bs_ratelimiter *rl)
{
    if (!rl)
        return;
    clear_locked(rl);
    free(rl->buckets);
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

void bs_ratelimiter_share(bs_ratelimiter *rl, bs_store *store)
{
    atomic_store(&rl->shared, store && bs_store_is_pg(store) ? store : NULL);
}

void bs_ratelimiter_reset_shared(bs_ratelimiter *rl)
{
    bs_store *shared = atomic_load(&rl->shared);
    if (shared)
        bs_store_count_reset(shared);
}

void bs_ratelimiter_reset(bs_ratelimiter *rl)
{
    pthread_mutex_lock(&rl->lock);
    clear_locked(rl);
    pthread_mutex_unlock(&rl->lock);
}

size_t bs_ratelimiter_size(bs_ratelimiter *rl)
{
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->count;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

static void sweep_locked(bs_ratelimiter *rl, int64_t now)
{
    for (size_t i = 0; i < rl->nbuckets; i++) {
        rl_entry **pp = &rl->buckets[i];
        while (*pp) {
            rl_entry *e = *pp;
            if (now - (e->start + e->interval) > STALE_AFTER) {
                *pp = e->next;
                free(e);
                rl->count--;
            } else {
                pp = &e->next;
            }
        }
    }
    rl->inserts = 0;
}

static void grow_locked(bs_ratelimiter *rl)
{
    size_t n = rl->nbuckets * 2;
    rl_entry **b = calloc(n, sizeof *b);
    if (!b)
        return; /* keep the longer chains */
    for (size_t i = 0; i < rl->nbuckets; i++) {
        rl_entry *e = rl->buckets[i];
        while (e) {
            rl_entry *next = e->next;
            size_t j = (size_t)e->hash & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(rl->buckets);
    rl->buckets = b;
    rl->nbuckets = n;
}

bool bs_ratelimiter_allow(bs_ratelimiter *rl, const char *id,
                          const char *key, int64_t max_requests,
                          int64_t interval, int64_t now)
{
    bs_store *shared = atomic_load(&rl->shared);
    int64_t hits = 0;
    if (shared &&
        bs_store_count_hit(shared, id, key, interval, now, &hits) == 0)
        return hits <= max_requests;
    /* SQLite, or PostgreSQL out of reach: this node's own count. */
    size_t idn = strlen(id), kn = strlen(key);
    size_t klen = idn + 1 + kn;
    char stackbuf[256];
    char *k = klen <= sizeof stackbuf ? stackbuf : malloc(klen);
    if (!k)
        return true; /* out of memory: let the request through */
    memcpy(k, id, idn);
    k[idn] = '\0';
    memcpy(k + idn + 1, key, kn);
    uint64_t h = bs_fnv1a(BS_FNV_SEED, k, klen);

    bool allowed = true;
    pthread_mutex_lock(&rl->lock);
    rl_entry *e = rl->buckets[h & (rl->nbuckets - 1)];
    while (e && !(e->hash == h && e->klen == klen &&
                  memcmp(e->key, k, klen) == 0))
        e = e->next;
    if (!e) {
        if (++rl->inserts >= SWEEP_EVERY)
            sweep_locked(rl, now);
        if (rl->count >= rl->nbuckets * 2)
            grow_locked(rl);
        e = calloc(1, sizeof *e + klen);
        if (e) {
            e->hash = h;
            e->klen = klen;
            memcpy(e->key, k, klen);
            size_t b = (size_t)h & (rl->nbuckets - 1);
            e->next = rl->buckets[b];
            rl->buckets[b] = e;
            rl->count++;
        }
    }
    if (e) {
        e->interval = interval;
        if (now - e->start >= interval) {
            e->available = max_requests;
            e->start = now;
        }
        if (e->available > 0)
            e->available--;
        else
            allowed = false;
    }
    pthread_mutex_unlock(&rl->lock);
    if (k != stackbuf)
        free(k);
    return allowed;
}

/* ---- rules ----------------------------------------------------------------- */

static bool audience_ok(const char *rule_audience, const char *audience)
{
    return !*rule_audience || (audience && strcmp(rule_audience,
                                                  audience) == 0);
}

static void fill_rule(const json_object *r, bs_ratelimit_rule *out)
{
    out->label = bs_json_get_str(r, "label", "");
    out->audience = bs_json_get_str(r, "audience", "");
    out->duration = bs_json_get_int(r, "duration", 0);
    out->max_requests = bs_json_get_int(r, "maxRequests", 0);
}

bool bs_ratelimit_find_rule(const json_object *rate_limits,
                            const char *const *labels, int nlabels,
                            const char *audience, bs_ratelimit_rule *out)
{
    json_object *rules = bs_json_get(rate_limits, "rules");
    if (!rules || !json_object_is_type(rules, json_type_array))
        return false;
    size_t n = json_object_array_length(rules);
    for (int i = 0; i < nlabels; i++) {
        /* Exact labels first, then path prefixes ("/api/"). */
        for (size_t j = 0; j < n; j++) {
            json_object *r = json_object_array_get_idx(rules, j);
            const char *label = bs_json_get_str(r, "label", "");
            if (strcmp(label, labels[i]) == 0 &&
                audience_ok(bs_json_get_str(r, "audience", ""), audience)) {
                fill_rule(r, out);
                return true;
            }
        }
        for (size_t j = 0; j < n; j++) {
            json_object *r = json_object_array_get_idx(rules, j);
            const char *label = bs_json_get_str(r, "label", "");
            size_t ln = strlen(label), sn = strlen(labels[i]);
            if (ln == 0 || label[ln - 1] != '/')
                continue;
            /* strings.HasPrefix(label + "/", rule) */
            bool prefix = ln <= sn + 1 &&
                          (ln <= sn ? strncmp(labels[i], label, ln) == 0
                                    : strncmp(labels[i], label, sn) == 0 &&
                                          label[sn] == '/');
            if (prefix &&
                audience_ok(bs_json_get_str(r, "audience", ""), audience)) {
                fill_rule(r, out);
                return true;
            }
        }
    }
    return false;
}

/* ---- addresses ----------------------------------------------------------- */

typedef struct ip_addr {
    int family;            /* AF_INET or AF_INET6 */
    unsigned char b[16];
} ip_addr;

static bool parse_ip(const char *s, ip_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->b) == 1) {
        out->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->b) == 1) {
        /* An IPv4-mapped address counts as IPv4. */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(out->b, mapped, 12) == 0) {
            memmove(out->b, out->b + 12, 4);
            memset(out->b + 4, 0, 12);
            out->family = AF_INET;
        } else {
            out->family = AF_INET6;
        }
        return true;
    }
    return false;
}

static bool in_prefix(const ip_addr *ip, const char *item)
{
    const char *slash = strchr(item, '/');
    char host[64];
    size_t hn = slash ? (size_t)(slash - item) : strlen(item);
    if (hn >= sizeof host)
        return false;
    memcpy(host, item, hn);
    host[hn] = '\0';
    ip_addr net;
    if (!parse_ip(host, &net) || net.family != ip->family)
        return false;
    int maxbits = ip->family == AF_INET ? 32 : 128;
    int bits = maxbits;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || v < 0 || v > maxbits)
            return false;
        bits = (int)v;
    }
    for (int i = 0; i < bits; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((ip->b[byte] >> bit) & 1) != ((net.b[byte] >> bit) & 1))
            return false;
    }
    return true;
}

bool bs_ip_in_list(const json_object *list, const char *ip)
{
    if (!list || !ip || !*ip || !json_object_is_type(list, json_type_array))
        return false;
    ip_addr a;
    if (!parse_ip(ip, &a))
        return false;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        const char *item =
            json_object_get_string(json_object_array_get_idx(list, i));
        if (item && in_prefix(&a, item))
            return true;
    }
    return false;
}

/* Copies s[0..n) trimmed into the arena when it is an IP address. */
static const char *ip_token(bs_req *r, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || n >= 64)
        return NULL;
    char tmp[64];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    ip_addr a;
    if (!parse_ip(tmp, &a))
        return NULL;
    return bs_arena_strdup(&r->arena, tmp);
}

const char *bs_ratelimit_client_ip(bs_req *r, const json_object *settings)
{
    json_object *tp = bs_json_get(settings, "trustedProxy");
    json_object *headers = bs_json_get(tp, "headers");
    bool leftmost = bs_json_get_bool(tp, "useLeftmostIP", false);
    size_t nh = headers && json_object_is_type(headers, json_type_array)
                    ? json_object_array_length(headers)
                    : 0;
    for (size_t i = 0; i < nh; i++) {
        const char *name =
            json_object_get_string(json_object_array_get_idx(headers, i));
        const char *v = name && *name ? bs_req_header(r, name) : NULL;
        if (!v || !*v)
            continue;
        size_t len = strlen(v);
        if (leftmost) {
            const char *p = v;
            while (p <= v + len) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t)(comma - p) : strlen(p);
                const char *ip = ip_token(r, p, n);
                if (ip)
                    return ip;
                if (!comma)
                    break;
                p = comma + 1;
            }
        } else {
            size_t end = len;
            for (;;) {
                size_t start = end;
                while (start > 0 && v[start - 1] != ',')
                    start--;
                const char *ip = ip_token(r, v + start, end - start);
                if (ip)
                    return ip;
                if (start == 0)
                    break;
                end = start - 1;
            }
        }
    }
    return bs_req_remote_ip(r);
}

bool bs_superuser_ip_allowed(bs_req *r, const json_object *settings)
{
    json_object *ips = bs_json_get(settings, "superuserIPs");
    if (!ips || !json_object_is_type(ips, json_type_array) ||
        json_object_array_length(ips) == 0)
        return true;
    return bs_ip_in_list(ips, bs_ratelimit_client_ip(r, settings));
}
