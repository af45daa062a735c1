/*
 * test_router.c - route patterns, specificity, methods, per-segment
 * percent-decoding and bs_url_decode.
 */
#include <stdlib.h>

#include "harness.h"
#include "http/router.h"

/* A handler that does nothing, for routes that are only added. */
static int handler(bs_event *e, void *user)
{
    return 0;
}

typedef struct fixture {
    bs_router *rt;
    bs_req req;
} fixture;

static void fx_init(fixture *f)
{
    f->rt = bs_router_new();
    memset(&f->req, 0, sizeof f->req);
    f->req.fd = -1;
    bs_arena_init(&f->req.arena, 0);
}

static void fx_dispose(fixture *f)
{
    bs_router_free(f->rt);
    bs_arena_dispose(&f->req.arena);
}

static bs_route *add(fixture *f, const char *method, const char *pattern)
{
    return bs_router_add(f->rt, method, pattern, handler, (void *)pattern);
}

/* bs_route is opaque, so routes added with add_c carry their pattern as
 * the user pointer and M() recovers it by running the matched route. */
static const char *ran_user;
static int capture(bs_event *e, void *user)
{
    ran_user = user;
    return 0;
}

static bs_route *add_c(fixture *f, const char *method, const char *pattern)
{
    return bs_router_add(f->rt, method, pattern, capture, (void *)pattern);
}

static const char *M(fixture *f, const char *method, const char *path)
{
    f->req.nparams = 0;
    f->req.route = NULL;
    const bs_route *r = bs_router_match(f->rt, &f->req, method, path);
    if (!r)
        return NULL;
    ran_user = NULL;
    bs_route_run(r, &f->req);
    return ran_user;
}

#define CHECK_MATCH(f, method, path, want)                                 \
    do {                                                                   \
        const char *got_ = M((f), (method), (path));                       \
        CHECK_STR(got_, (want));                                           \
    } while (0)

#define CHECK_NOMATCH(f, method, path)                                     \
    CHECK(M((f), (method), (path)) == NULL)

TEST(bad_patterns_rejected)
{
    fixture f;
    fx_init(&f);
    CHECK(add(&f, "GET", "") == NULL);
    CHECK(add(&f, "GET", "api") == NULL);
    CHECK(add(&f, "GET", NULL) == NULL);
    CHECK(add(&f, "GET", "/{rest...}/more") == NULL); /* wildcard not last */
    CHECK(add(&f, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q") == NULL);
    CHECK(add(&f, "GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p") != NULL);
    fx_dispose(&f);
}

TEST(literal_param_wildcard)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/health");
    add_c(&f, "GET", "/api/collections/{collection}/records/{id}");
    add_c(&f, "GET", "/api/files/{collection}/{recordId}/{filename}");
    add_c(&f, NULL, "/{path...}");

    CHECK_MATCH(&f, "GET", "/api/health", "/api/health");
    CHECK_MATCH(&f, "GET", "/api/collections/posts/records/abc",
                "/api/collections/{collection}/records/{id}");
    CHECK(f.req.nparams == 2);
    CHECK_STR(bs_req_param(&f.req, "collection"), "posts");
    CHECK_STR(bs_req_param(&f.req, "id"), "abc");
    CHECK(bs_req_param(&f.req, "missing") == NULL);

    CHECK_MATCH(&f, "GET", "/api/files/c1/r1/photo.png",
                "/api/files/{collection}/{recordId}/{filename}");
    CHECK_STR(bs_req_param(&f.req, "filename"), "photo.png");

    /* Anything else falls to the wildcard, which takes the rest. */
    CHECK_MATCH(&f, "GET", "/index.html", "/{path...}");
    CHECK_STR(bs_req_param(&f.req, "path"), "index.html");
    CHECK_MATCH(&f, "GET", "/a/b/c.js", "/{path...}");
    CHECK_STR(bs_req_param(&f.req, "path"), "a/b/c.js");
    CHECK_MATCH(&f, "GET", "/", "/{path...}");
    CHECK_STR(bs_req_param(&f.req, "path"), "");
    /* Too few or too many segments for the record route. */
    CHECK_MATCH(&f, "GET", "/api/collections/posts/records", "/{path...}");
    CHECK_MATCH(&f, "GET", "/api/collections/posts/records/a/b",
                "/{path...}");
    fx_dispose(&f);
}

TEST(empty_segment_never_fills_a_parameter)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/collections/{collection}/records");
    CHECK_NOMATCH(&f, "GET", "/api/collections//records");
    CHECK_MATCH(&f, "GET", "/api/collections/x/records",
                "/api/collections/{collection}/records");
    fx_dispose(&f);
}

TEST(most_specific_wins_regardless_of_order)
{
    /* Register the general routes first, then the specific ones; and the
     * reverse in a second router: the same winner each time. */
    static const char *const pats[] = {
        "/{path...}",
        "/api/{rest...}",
        "/api/collections/{collection}/records/{id}",
        "/api/collections/{collection}/records/export",
        "/api/collections/users/records/{id}",
    };
    for (int order = 0; order < 2; order++) {
        fixture f;
        fx_init(&f);
        for (int i = 0; i < 5; i++)
            add_c(&f, "GET", pats[order ? 4 - i : i]);
        CHECK_MATCH(&f, "GET", "/api/collections/posts/records/export",
                    "/api/collections/{collection}/records/export");
        CHECK_MATCH(&f, "GET", "/api/collections/users/records/export",
                    "/api/collections/users/records/{id}");
        CHECK_MATCH(&f, "GET", "/api/collections/users/records/x1",
                    "/api/collections/users/records/{id}");
        CHECK_MATCH(&f, "GET", "/api/collections/posts/records/x1",
                    "/api/collections/{collection}/records/{id}");
        CHECK_MATCH(&f, "GET", "/api/other", "/api/{rest...}");
        CHECK_MATCH(&f, "GET", "/elsewhere", "/{path...}");
        fx_dispose(&f);
    }
}

TEST(method_matching)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/items");
    add_c(&f, "POST", "/api/items");
    add_c(&f, "DELETE", "/api/items/{id}");
    CHECK_MATCH(&f, "GET", "/api/items", "/api/items");
    CHECK(f.req.route != NULL);
    CHECK_MATCH(&f, "POST", "/api/items", "/api/items");
    CHECK_NOMATCH(&f, "PUT", "/api/items");
    CHECK_NOMATCH(&f, "GET", "/api/items/1");
    CHECK_MATCH(&f, "DELETE", "/api/items/1", "/api/items/{id}");
    /* HEAD is served by GET routes, but not by others. */
    CHECK_MATCH(&f, "HEAD", "/api/items", "/api/items");
    CHECK_NOMATCH(&f, "HEAD", "/api/items/1");
    /* Methods compare exactly. */
    CHECK_NOMATCH(&f, "get", "/api/items");
    fx_dispose(&f);
}

TEST(method_route_beats_catch_all_of_same_shape)
{
    for (int order = 0; order < 2; order++) {
        fixture f;
        fx_init(&f);
        if (order) {
            bs_router_add(f.rt, NULL, "/api/x", capture, "any");
            bs_router_add(f.rt, "GET", "/api/x", capture, "get");
        } else {
            bs_router_add(f.rt, "GET", "/api/x", capture, "get");
            bs_router_add(f.rt, NULL, "/api/x", capture, "any");
        }
        CHECK_MATCH(&f, "GET", "/api/x", "get");
        CHECK_MATCH(&f, "POST", "/api/x", "any");
        fx_dispose(&f);
    }
}

TEST(explicit_head_route)
{
    fixture f;
    fx_init(&f);
    bs_router_add(f.rt, "GET", "/h", capture, "get");
    bs_router_add(f.rt, "HEAD", "/h", capture, "head");
    /* Same specificity: the first registered of the two wins for HEAD.
     * Either way a HEAD request must match something. */
    CHECK(M(&f, "HEAD", "/h") != NULL);
    CHECK_MATCH(&f, "GET", "/h", "get");
    fx_dispose(&f);
}

TEST(percent_decoding_per_segment)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/collections/{collection}/records/{id}");
    add_c(&f, "GET", "/files/{name...}");
    CHECK_MATCH(&f, "GET", "/api/collections/my%20posts/records/a%2Fb",
                "/api/collections/{collection}/records/{id}");
    CHECK_STR(bs_req_param(&f.req, "collection"), "my posts");
    /* %2F stays inside its segment: it does not split the path. */
    CHECK_STR(bs_req_param(&f.req, "id"), "a/b");
    CHECK_MATCH(&f, "GET", "/api/collections/c/records/%2f%2F",
                "/api/collections/{collection}/records/{id}");
    CHECK_STR(bs_req_param(&f.req, "id"), "//");
    /* UTF-8 and '+' (kept as it is in paths). */
    CHECK_MATCH(&f, "GET", "/api/collections/%C3%A9/records/a+b",
                "/api/collections/{collection}/records/{id}");
    CHECK_STR(bs_req_param(&f.req, "collection"), "\xc3\xa9");
    CHECK_STR(bs_req_param(&f.req, "id"), "a+b");
    /* The wildcard is decoded as a whole. */
    CHECK_MATCH(&f, "GET", "/files/a%20b/c%2Fd", "/files/{name...}");
    CHECK_STR(bs_req_param(&f.req, "name"), "a b/c/d");
    fx_dispose(&f);
}

/* Go's ServeMux (which PocketBase routes with) compares a literal
 * segment with the unescaped request segment, so "/api/%63ollections"
 * reaches the "/api/collections" route. */
TEST(literal_segments_match_decoded_text)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/collections");
    add_c(&f, "GET", "/{path...}");
    CHECK_MATCH(&f, "GET", "/api/%63ollections", "/api/collections");
    CHECK_MATCH(&f, "GET", "/%61pi/collections", "/api/collections");
    fx_dispose(&f);
}

TEST(invalid_escapes_and_nul_rejected)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/collections/{collection}/records/{id}");
    add_c(&f, "GET", "/s/{rest...}");
    CHECK_NOMATCH(&f, "GET", "/api/collections/a%zz/records/1");
    CHECK_NOMATCH(&f, "GET", "/api/collections/a%2/records/1");
    CHECK_NOMATCH(&f, "GET", "/api/collections/a/records/1%");
    CHECK_NOMATCH(&f, "GET", "/api/collections/a/records/1%4");
    CHECK_NOMATCH(&f, "GET", "/api/collections/a%00b/records/1");
    CHECK_NOMATCH(&f, "GET", "/s/x%00");
    CHECK_NOMATCH(&f, "GET", "/s/%G0");
    fx_dispose(&f);
}

TEST(trailing_slash_is_distinct)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/api/collections");
    add_c(&f, "GET", "/api/collections/");
    add_c(&f, "GET", "/api/settings");
    CHECK_MATCH(&f, "GET", "/api/collections", "/api/collections");
    CHECK_MATCH(&f, "GET", "/api/collections/", "/api/collections/");
    CHECK_NOMATCH(&f, "GET", "/api/settings/");
    CHECK_NOMATCH(&f, "GET", "/api/settings//");
    fx_dispose(&f);
}

TEST(root_route)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/");
    CHECK_MATCH(&f, "GET", "/", "/");
    CHECK_NOMATCH(&f, "GET", "/x");
    CHECK_NOMATCH(&f, "GET", "//");
    fx_dispose(&f);
}

TEST(deep_paths)
{
    fixture f;
    fx_init(&f);
    add_c(&f, "GET", "/a/{b}/c");
    add_c(&f, "GET", "/deep/{rest...}");
    char path[2048] = "/deep";
    for (int i = 0; i < 100; i++)
        strcat(path, "/seg");
    CHECK_MATCH(&f, "GET", path, "/deep/{rest...}");
    const char *rest = bs_req_param(&f.req, "rest");
    REQUIRE(rest != NULL);
    CHECK(strlen(rest) == 100 * 4 - 1);
    CHECK(strncmp(rest, "seg/seg/", 8) == 0);
    /* A deep path matches no fixed-length route. */
    char deep2[2048] = "/a/x/c";
    for (int i = 0; i < 30; i++)
        strcat(deep2, "/z");
    CHECK_NOMATCH(&f, "GET", deep2);
    /* 16 segments exactly is within the limit. */
    add_c(&f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/{p}");
    CHECK_MATCH(&f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16",
                "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/{p}");
    CHECK_STR(bs_req_param(&f.req, "p"), "16");
    CHECK_NOMATCH(&f, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17");
    fx_dispose(&f);
}

TEST(route_middlewares_run_around_handler)
{
    fixture f;
    fx_init(&f);
    bs_route *r = add_c(&f, "GET", "/mw");
    REQUIRE(r != NULL);
    bs_hook *mw = bs_route_middlewares(r);
    REQUIRE(mw != NULL);
    CHECK(bs_route_middlewares(r) == mw); /* created once */
    CHECK(bs_hook_length(mw) == 0);
    CHECK_MATCH(&f, "GET", "/mw", "/mw");
    fx_dispose(&f);
}

/* ---- bs_url_decode ----------------------------------------------------- */

static const char *dec(bs_arena *a, const char *s)
{
    return bs_url_decode(a, s, strlen(s));
}

TEST(url_decode)
{
    bs_arena a;
    bs_arena_init(&a, 0);
    CHECK_STR(dec(&a, ""), "");
    CHECK_STR(dec(&a, "plain"), "plain");
    CHECK_STR(dec(&a, "a%20b"), "a b");
    CHECK_STR(dec(&a, "%41%42%43"), "ABC");
    CHECK_STR(dec(&a, "%e2%82%ac"), "\xe2\x82\xac");
    CHECK_STR(dec(&a, "a+b"), "a+b");
    CHECK_STR(dec(&a, "%25"), "%");
    CHECK_STR(dec(&a, "%2525"), "%25");
    CHECK_STR(dec(&a, "%ff"), "\xff");
    CHECK(dec(&a, "%") == NULL);
    CHECK(dec(&a, "%4") == NULL);
    CHECK(dec(&a, "x%4") == NULL);
    CHECK(dec(&a, "%g1") == NULL);
    CHECK(dec(&a, "%1g") == NULL);
    CHECK(dec(&a, "%00") == NULL);
    CHECK(dec(&a, "a%00") == NULL);
    /* Only n bytes are read. */
    CHECK_STR(bs_url_decode(&a, "ab%41cd", 5), "abA");
    CHECK(bs_url_decode(&a, "ab%41", 4) == NULL);
    /* A raw NUL within n is refused as well. */
    CHECK(bs_url_decode(&a, "a\0b", 3) == NULL);
    bs_arena_dispose(&a);
}

int main(void)
{
    RUN(bad_patterns_rejected);
    RUN(literal_param_wildcard);
    RUN(empty_segment_never_fills_a_parameter);
    RUN(most_specific_wins_regardless_of_order);
    RUN(method_matching);
    RUN(method_route_beats_catch_all_of_same_shape);
    RUN(explicit_head_route);
    RUN(percent_decoding_per_segment);
    RUN(literal_segments_match_decoded_text);
    RUN(invalid_escapes_and_nul_rejected);
    RUN(trailing_slash_is_distinct);
    RUN(root_route);
    RUN(deep_paths);
    RUN(route_middlewares_run_around_handler);
    RUN(url_decode);
    return harness_summary(__FILE__);
}
