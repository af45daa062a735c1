/*
 * ttl_store.c - the store of short-lived keys (see ttl_store.h): an
 * array of entries under a mutex, purged of expired entries on each
 * lookup. Expiry uses the monotonic clock, so a change of the wall
 * clock neither revives nor ends an entry.
 */
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "ttl_store.h"

typedef struct bsa_ttl_entry {
    char *key;
    char *value;      /* may be NULL */
    int64_t expires;  /* monotonic ms */
} bsa_ttl_entry;

void bsa_ttl_store_init(bsa_ttl_store *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
}

void bsa_ttl_store_dispose(bsa_ttl_store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].key);
        free(s->items[i].value);
    }
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
    pthread_mutex_destroy(&s->lock);
}

static void purge_locked(bsa_ttl_store *s, int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->items[i].expires <= now) {
            free(s->items[i].key);
            free(s->items[i].value);
        } else {
            s->items[j++] = s->items[i];
        }
    }
    s->n = j;
}

static bsa_ttl_entry *find_locked(bsa_ttl_store *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->items[i].key, key) == 0)
            return &s->items[i];
    }
    return NULL;
}

bool bsa_ttl_store_has(bsa_ttl_store *s, const char *key)
{
    pthread_mutex_lock(&s->lock);
    purge_locked(s, bs_mono_ms());
    bool has = find_locked(s, key) != NULL;
    pthread_mutex_unlock(&s->lock);
    return has;
}

void bsa_ttl_store_set(bsa_ttl_store *s, const char *key, const char *value,
                       int64_t ttl_ms)
{
    pthread_mutex_lock(&s->lock);
    int64_t now = bs_mono_ms();
    purge_locked(s, now);
    bsa_ttl_entry *e = find_locked(s, key);
    if (!e && s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        bsa_ttl_entry *n = realloc(s->items, sizeof *n * cap);
        if (n) {
            s->items = n;
            s->cap = cap;
        }
    }
    if (!e && s->n < s->cap) {
        e = &s->items[s->n];
        e->key = strdup(key);
        e->value = NULL;
        if (e->key)
            s->n++;
        else
            e = NULL;
    }
    if (e) {
        free(e->value);
        e->value = value ? strdup(value) : NULL;
        e->expires = now + ttl_ms;
    }
    pthread_mutex_unlock(&s->lock);
}

static char *remove_locked(bsa_ttl_store *s, const char *key)
{
    bsa_ttl_entry *e = find_locked(s, key);
    if (!e)
        return NULL;
    char *v = e->value;
    free(e->key);
    *e = s->items[--s->n];
    return v;
}

void bsa_ttl_store_remove(bsa_ttl_store *s, const char *key)
{
    pthread_mutex_lock(&s->lock);
    free(remove_locked(s, key));
    pthread_mutex_unlock(&s->lock);
}

char *bsa_ttl_store_take(bsa_ttl_store *s, const char *key)
{
    pthread_mutex_lock(&s->lock);
    purge_locked(s, bs_mono_ms());
    char *v = remove_locked(s, key);
    pthread_mutex_unlock(&s->lock);
    return v;
}
