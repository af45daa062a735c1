/*
 * test_ratelimit.c - rate limit rules (PocketBase's label lookup), the
 * fixed-window counters and IP lists.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/json.h"
#include "basalt.h"
#include "core/ratelimit.h"
#include "harness.h"

static json_object *parse(const char *s)
{
    json_object *v = NULL;
    bs_json_parse(s, strlen(s), &v);
    return v;
}

static const char RULES[] =
    "{\"enabled\":true,\"rules\":["
    "{\"label\":\"abc\",\"audience\":\"\",\"duration\":1,\"maxRequests\":100},"
    "{\"label\":\"*:auth\",\"audience\":\"\",\"duration\":3,\"maxRequests\":2},"
    "{\"label\":\"users:authWithPassword\",\"audience\":\"@guest\","
    "\"duration\":5,\"maxRequests\":1},"
    "{\"label\":\"/api/\",\"audience\":\"\",\"duration\":10,\"maxRequests\":300},"
    "{\"label\":\"POST /api/batch\",\"audience\":\"@auth\",\"duration\":1,"
    "\"maxRequests\":3}]}";

TEST(first_matching_label_in_order)
{
    json_object *rl = parse(RULES);
    REQUIRE(rl);
    const char *labels[] = {"users:authWithPassword", "users:auth",
                            "*:authWithPassword", "*:auth",
                            "POST /api/collections/users/auth-with-password",
                            "/api/collections/users/auth-with-password"};
    bs_ratelimit_rule r;
    /* A guest gets the guest-only rule. */
    REQUIRE(bs_ratelimit_find_rule(rl, labels, 6, "@guest", &r));
    CHECK_STR(r.label, "users:authWithPassword");
    CHECK(r.max_requests == 1 && r.duration == 5);
    /* An authenticated request skips it and falls to *:auth. */
    REQUIRE(bs_ratelimit_find_rule(rl, labels, 6, "@auth", &r));
    CHECK_STR(r.label, "*:auth");
    CHECK(r.max_requests == 2 && r.duration == 3);
    json_object_put(rl);
}

TEST(path_prefix_labels)
{
    json_object *rl = parse(RULES);
    REQUIRE(rl);
    const char *labels[] = {"GET /api/health", "/api/health"};
    bs_ratelimit_rule r;
    REQUIRE(bs_ratelimit_find_rule(rl, labels, 2, "@guest", &r));
    CHECK_STR(r.label, "/api/");
    /* "/api" itself matches the "/api/" prefix (label + "/"). */
    const char *exact[] = {"/api"};
    CHECK(bs_ratelimit_find_rule(rl, exact, 1, "@guest", &r));
    const char *other[] = {"/apix"};
    CHECK(!bs_ratelimit_find_rule(rl, other, 1, "@guest", &r));
    const char *batch[] = {"POST /api/batch", "/api/batch"};
    REQUIRE(bs_ratelimit_find_rule(rl, batch, 2, "@auth", &r));
    CHECK_STR(r.label, "POST /api/batch");
    REQUIRE(bs_ratelimit_find_rule(rl, batch, 2, "@guest", &r));
    CHECK_STR(r.label, "/api/");
    json_object_put(rl);
}

TEST(no_rules_no_match)
{
    json_object *rl = parse("{\"enabled\":true}");
    const char *labels[] = {"x"};
    bs_ratelimit_rule r;
    CHECK(!bs_ratelimit_find_rule(rl, labels, 1, "@guest", &r));
    CHECK(!bs_ratelimit_find_rule(NULL, labels, 1, "@guest", &r));
    json_object_put(rl);
}

TEST(fixed_window_counts_per_client)
{
    bs_ratelimiter *rl = bs_ratelimiter_new();
    REQUIRE(rl);
    int64_t t = 1000;
    CHECK(bs_ratelimiter_allow(rl, "r1", "1.1.1.1", 2, 10, t));
    CHECK(bs_ratelimiter_allow(rl, "r1", "1.1.1.1", 2, 10, t + 1));
    CHECK(!bs_ratelimiter_allow(rl, "r1", "1.1.1.1", 2, 10, t + 2));
    /* Other clients and other limiters count apart. */
    CHECK(bs_ratelimiter_allow(rl, "r1", "2.2.2.2", 2, 10, t + 2));
    CHECK(bs_ratelimiter_allow(rl, "r2", "1.1.1.1", 2, 10, t + 2));
    /* The window restarts with the first request after it ends. */
    CHECK(bs_ratelimiter_allow(rl, "r1", "1.1.1.1", 2, 10, t + 10));
    CHECK(bs_ratelimiter_size(rl) == 3);
    bs_ratelimiter_reset(rl);
    CHECK(bs_ratelimiter_size(rl) == 0);
    bs_ratelimiter_free(rl);
}

TEST(zero_max_denies)
{
    bs_ratelimiter *rl = bs_ratelimiter_new();
    REQUIRE(rl);
    CHECK(!bs_ratelimiter_allow(rl, "x", "1.1.1.1", 0, 3, 5));
    bs_ratelimiter_free(rl);
}

TEST(many_clients_grow_and_sweep)
{
    bs_ratelimiter *rl = bs_ratelimiter_new();
    REQUIRE(rl);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        CHECK(bs_ratelimiter_allow(rl, "id", key, 1, 1, 100));
    }
    CHECK(bs_ratelimiter_size(rl) == 5000);
    /* Long after their windows, new clients sweep the old ones away. */
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "10.1.%d.%d", i / 256, i % 256);
        bs_ratelimiter_allow(rl, "id", key, 1, 1, 100000);
    }
    CHECK(bs_ratelimiter_size(rl) < 10000);
    /* A client seen before still counts. */
    snprintf(key, sizeof key, "10.1.0.1");
    CHECK(!bs_ratelimiter_allow(rl, "id", key, 1, 1, 100000));
    bs_ratelimiter_free(rl);
}

TEST(ip_lists)
{
    json_object *l = parse("[\"127.0.0.1\",\"10.0.0.0/8\",\"2001:db8::/32\","
                           "\"::1\",\"bad\"]");
    REQUIRE(l);
    CHECK(bs_ip_in_list(l, "127.0.0.1"));
    CHECK(bs_ip_in_list(l, "10.200.3.4"));
    CHECK(!bs_ip_in_list(l, "11.0.0.1"));
    CHECK(bs_ip_in_list(l, "2001:db8:1::5"));
    CHECK(bs_ip_in_list(l, "::1"));
    CHECK(!bs_ip_in_list(l, "2001:db9::1"));
    CHECK(bs_ip_in_list(l, "::ffff:10.1.1.1")); /* IPv4-mapped */
    CHECK(!bs_ip_in_list(l, ""));
    CHECK(!bs_ip_in_list(l, "not-an-ip"));
    CHECK(!bs_ip_in_list(NULL, "127.0.0.1"));
    json_object_put(l);
}

int main(void)
{
    RUN(first_matching_label_in_order);
    RUN(path_prefix_labels);
    RUN(no_rules_no_match);
    RUN(fixed_window_counts_per_client);
    RUN(zero_max_denies);
    RUN(many_clients_grow_and_sweep);
    RUN(ip_lists);
    return harness_summary(__FILE__);
}
