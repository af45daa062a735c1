/*
 * test_ttl_store.c - the store of short-lived keys of the auth
 * endpoints (src/api/ttl_store.c): set, has, take, remove, overwrite,
 * expiry and growth.
 */
#include <stdlib.h>
#include <time.h>

#include "api/ttl_store.h"
#include "harness.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

TEST(set_has_take_remove)
{
    bsa_ttl_store s;
    bsa_ttl_store_init(&s);
    CHECK(!bsa_ttl_store_has(&s, "a"));
    CHECK(bsa_ttl_store_take(&s, "a") == NULL);
    bsa_ttl_store_set(&s, "a", "one", 60000);
    bsa_ttl_store_set(&s, "b", NULL, 60000);
    CHECK(bsa_ttl_store_has(&s, "a"));
    CHECK(bsa_ttl_store_has(&s, "b"));
    /* take hands out the value once. */
    char *v = bsa_ttl_store_take(&s, "a");
    CHECK_STR(v, "one");
    free(v);
    CHECK(!bsa_ttl_store_has(&s, "a"));
    /* A key without value is present, and takes as NULL. */
    CHECK(bsa_ttl_store_take(&s, "b") == NULL);
    CHECK(!bsa_ttl_store_has(&s, "b"));
    bsa_ttl_store_set(&s, "c", "x", 60000);
    bsa_ttl_store_remove(&s, "c");
    bsa_ttl_store_remove(&s, "missing");
    CHECK(!bsa_ttl_store_has(&s, "c"));
    bsa_ttl_store_dispose(&s);
}

TEST(overwrite_keeps_one_entry)
{
    bsa_ttl_store s;
    bsa_ttl_store_init(&s);
    bsa_ttl_store_set(&s, "k", "old", 60000);
    bsa_ttl_store_set(&s, "k", "new", 60000);
    CHECK(s.n == 1);
    char *v = bsa_ttl_store_take(&s, "k");
    CHECK_STR(v, "new");
    free(v);
    bsa_ttl_store_dispose(&s);
}

TEST(entries_expire)
{
    bsa_ttl_store s;
    bsa_ttl_store_init(&s);
    bsa_ttl_store_set(&s, "short", "v", 20);
    bsa_ttl_store_set(&s, "long", "w", 60000);
    CHECK(bsa_ttl_store_has(&s, "short"));
    sleep_ms(60);
    CHECK(!bsa_ttl_store_has(&s, "short"));
    CHECK(bsa_ttl_store_take(&s, "short") == NULL);
    CHECK(bsa_ttl_store_has(&s, "long"));
    /* A zero time to live is expired at once. */
    bsa_ttl_store_set(&s, "now", "x", 0);
    CHECK(!bsa_ttl_store_has(&s, "now"));
    bsa_ttl_store_dispose(&s);
}

TEST(grows_past_first_capacity)
{
    bsa_ttl_store s;
    bsa_ttl_store_init(&s);
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        bsa_ttl_store_set(&s, key, key, 60000);
    }
    CHECK(s.n == 100);
    for (int i = 0; i < 100; i += 7) {
        snprintf(key, sizeof key, "k%d", i);
        char *v = bsa_ttl_store_take(&s, key);
        CHECK_STR(v, key);
        free(v);
    }
    CHECK(s.n == 100 - 15);
    bsa_ttl_store_dispose(&s);
}

int main(void)
{
    RUN(set_has_take_remove);
    RUN(overwrite_keeps_one_entry);
    RUN(entries_expire);
    RUN(grows_past_first_capacity);
    return harness_summary(__FILE__);
}
