/*
 * ratelimit.h - request rate limiting with the settings' rateLimits rules.
 *
 * The settings hold PocketBase's shape:
 *
 *   "rateLimits": {"enabled": bool, "excludedIPs": [...],
 *                  "rules": [{"label", "audience", "duration",
 *                             "maxRequests"}, ...]}
 *
 * A request is checked against the first rule whose label matches one of
 * the request's labels, tried in order (for a collection endpoint:
 * "<collection>:<tag>", then "*:<tag>" for each tag, then
 * "<METHOD> <path>" and "<path>"; a label ending in "/" matches as a path
 * prefix). The audience narrows a rule to guests ("@guest") or
 * authenticated requests ("@auth"). Each rule counts, per client IP, the
 * requests of a fixed window of `duration` seconds; the window restarts
 * with the first request after it ends (PocketBase's limiter).
 *
 * A bs_ratelimiter holds the counters. It is safe to use from any thread
 * (one mutex; each check is a hash lookup). Counters unused for half an
 * hour past their window are dropped as the table grows.
 *
 * Several nodes on one PostgreSQL database share their counters: once
 * given the store (bs_ratelimiter_share), a limiter counts in the
 * database's table of windows (bs_store_count_hit), so a client meets
 * the same limit whichever node answers it. Should PostgreSQL be out of
 * reach, the node counts in its own memory meanwhile.
 */
#ifndef BS_RATELIMIT_H
#define BS_RATELIMIT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../http/request.h"

typedef struct bs_ratelimiter bs_ratelimiter;
typedef struct bs_store bs_store;

/* A new, empty limiter (NULL when out of memory). Free with
 * bs_ratelimiter_free once no thread uses it. */
bs_ratelimiter *bs_ratelimiter_new(void);
void bs_ratelimiter_free(bs_ratelimiter *rl);

/* Counts in the windows of store, shared by the nodes, when it is a
 * PostgreSQL store; NULL (or SQLite): in memory. Any thread. */
void bs_ratelimiter_share(bs_ratelimiter *rl, bs_store *store);

/* Forgets the counters kept in memory (done on every node when the
 * settings are reloaded). */
void bs_ratelimiter_reset(bs_ratelimiter *rl);

/* Forgets the counters shared by the nodes: done once, by the node that
 * changed the settings, before it answers. Were every node to do it
 * when the change reaches it, a late one would wipe what the others
 * had counted under the new rules meanwhile. */
void bs_ratelimiter_reset_shared(bs_ratelimiter *rl);

/* Counts one request of client `key` for limiter `id` under a rule of
 * max_requests per interval seconds at time now (seconds). Returns true
 * when the request is allowed. */
bool bs_ratelimiter_allow(bs_ratelimiter *rl, const char *id,
                          const char *key, int64_t max_requests,
                          int64_t interval, int64_t now);

/* Number of live counters (for tests). */
size_t bs_ratelimiter_size(bs_ratelimiter *rl);

/* A rule found in the settings. The strings point into the settings
 * document and live as long as it does. */
typedef struct bs_ratelimit_rule {
    const char *label;
    const char *audience;     /* "", "@guest" or "@auth" */
    int64_t duration;         /* seconds */
    int64_t max_requests;
} bs_ratelimit_rule;

/* Finds the first rule matching labels[0..nlabels) in order, restricted
 * to rules whose audience is "" or `audience` ("@guest" or "@auth").
 * rate_limits is the settings' "rateLimits" object. */
bool bs_ratelimit_find_rule(const json_object *rate_limits,
                            const char *const *labels, int nlabels,
                            const char *audience, bs_ratelimit_rule *out);

/* Whether ip equals one of the addresses or falls in one of the CIDR
 * subnets of list (a json array of strings; IPv4 and IPv6). */
bool bs_ip_in_list(const json_object *list, const char *ip);

/* The client address of r as PocketBase's RealIP: the first header of
 * settings.trustedProxy.headers that is present (its leftmost or
 * rightmost address, per useLeftmostIP), else the connection's peer.
 * The string lives in r's arena. */
const char *bs_ratelimit_client_ip(bs_req *r, const json_object *settings);

/* Whether settings.superuserIPs lets r's client (bs_ratelimit_client_ip)
 * act as a superuser: an empty or missing list allows every address. */
bool bs_superuser_ip_allowed(bs_req *r, const json_object *settings);

#endif
