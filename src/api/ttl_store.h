/*
 * ttl_store.h - a small thread-safe map of string keys to optional
 * string values that expire after a time to live.
 *
 * The auth endpoints keep their short-lived keys here: the resend
 * throttles of the verification and password reset mails, and the Apple
 * user names handed from the OAuth2 redirect to auth-with-oauth2. Expired
 * entries are dropped lazily by the next call that looks. The store is
 * meant for a handful of entries: lookups are linear.
 *
 * Every function may be called from any thread; a mutex guards the
 * entries. Keys and values are copied in; take hands its value out.
 */
#ifndef BS_API_TTL_STORE_H
#define BS_API_TTL_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bsa_ttl_entry;

typedef struct bsa_ttl_store {
    pthread_mutex_t lock;  /* guards the entries */
    struct bsa_ttl_entry *items;
    size_t n, cap;
} bsa_ttl_store;

/* An embedded store: init before use, dispose (freeing every entry)
 * once no thread uses it any more. */
void bsa_ttl_store_init(bsa_ttl_store *s);
void bsa_ttl_store_dispose(bsa_ttl_store *s);

/* Whether key is present and not expired. */
bool bsa_ttl_store_has(bsa_ttl_store *s, const char *key);

/* Sets key to value (copied; NULL for a key without value), expiring
 * ttl_ms milliseconds from now; an existing key is overwritten. Out of
 * memory, the key is silently not stored. */
void bsa_ttl_store_set(bsa_ttl_store *s, const char *key, const char *value,
                       int64_t ttl_ms);

/* Removes key, expired or not. */
void bsa_ttl_store_remove(bsa_ttl_store *s, const char *key);

/* Removes key and returns its value: a malloc'ed string the caller
 * frees, or NULL when the key is missing, expired or without value. */
char *bsa_ttl_store_take(bsa_ttl_store *s, const char *key);

#endif
