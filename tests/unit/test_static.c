/*
 * test_static.c - static file serving: path safety (no way out of the
 * folder, no symbolic links), index.html for folders, canonical-path
 * redirects, the single-page fallback, ranges, conditional requests and
 * content types.
 *
 * The handler only needs a bs_req with its "path" parameter, its URL,
 * its arena and its response fields; without a connection, request
 * headers come from the internal-request header object.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "http/static.h"

static char root[256];    /* the served folder */
static char outside[300]; /* a file next to it */

static void put_file(const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static void setup(void)
{
    char base[] = "/tmp/bs_static_XXXXXX";
    if (!mkdtemp(base))
        abort();
    snprintf(root, sizeof root, "%s/pub", base);
    snprintf(outside, sizeof outside, "%s/secret.txt", base);
    mkdir(root, 0755);
    FILE *f = fopen(outside, "w");
    fputs("SECRET", f);
    fclose(f);
    char p[512];
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/noindex", root);
    mkdir(p, 0755);
    put_file("index.html", "ROOT INDEX");
    put_file("app.js", "JS");
    put_file("sub/index.html", "SUB INDEX");
    put_file("sub/page.txt", "PAGE");
    put_file("noindex/data.json", "{}");
    put_file("with space.css", "CSS");
    snprintf(p, sizeof p, "%s/link.txt", root);
    if (symlink(outside, p) != 0)
        abort();
    snprintf(p, sizeof p, "%s/linkdir", root);
    char target[300];
    snprintf(target, sizeof target, "%s/sub", root);
    if (symlink(target, p) != 0)
        abort();
    snprintf(p, sizeof p, "%s/pipe", root);
    mkfifo(p, 0644);
}

static void teardown(void)
{
    char cmd[600];
    char *slash = strrchr(root, '/');
    *slash = '\0';
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
}

typedef struct result {
    int status;
    char body[64];
    const char *ctype;
    const char *location;
    const char *content_range;
    const char *last_modified;
    uint64_t offset;
} result;

static const char *resp_header(const bs_req *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->hdr_names[i], name) == 0)
            return r->hdr_values[i];
    }
    return NULL;
}

/* Header values and the Location outlive the request's arena. */
static char saved[3][128];

static const char *keep(int slot, const char *s)
{
    if (!s)
        return NULL;
    snprintf(saved[slot], sizeof saved[slot], "%s", s);
    return saved[slot];
}

/* Serves rel as the route's "path" parameter of a request for url (by
 * default "/" + rel), with optional request headers, and reads back the
 * part of the file the response would send. */
static result serve_req(bs_static *st, const char *rel, const char *url,
                        json_object *headers)
{
    bs_req r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    bs_arena_init(&r.arena, 0);
    r.method = "GET";
    r.int_headers = headers;
    r.url = url ? url : bs_arena_printf(&r.arena, "/%s", rel ? rel : "");
    if (rel) {
        r.nparams = 1;
        r.param_names[0] = "path";
        r.param_values[0] = rel;
    }
    bs_static_handler(&r.ev, st);
    result res = {.status = r.status, .ctype = r.content_type};
    res.location = keep(0, resp_header(&r, "Location"));
    res.content_range = keep(1, resp_header(&r, "Content-Range"));
    res.last_modified = keep(2, resp_header(&r, "Last-Modified"));
    if (r.fd >= 0) {
        size_t want = (size_t)r.fd_size;
        if (want > sizeof res.body - 1)
            want = sizeof res.body - 1;
        ssize_t n = pread(r.fd, res.body, want, (off_t)r.fd_offset);
        res.body[n > 0 ? n : 0] = '\0';
        res.offset = r.fd_offset;
        close(r.fd);
    } else {
        res.body[0] = '\0';
        if (r.status == 200 || r.status == 206)
            res.status = -1; /* a success without a file is wrong here */
    }
    bs_buf_dispose(&r.resp);
    bs_arena_dispose(&r.arena);
    return res;
}

static result serve(bs_static *st, const char *rel)
{
    return serve_req(st, rel, NULL, NULL);
}

#define CHECK_SERVED(st, rel, want_body)                                   \
    do {                                                                   \
        result r_ = serve((st), (rel));                                    \
        if (r_.status != 200)                                              \
            fprintf(stderr, "path %s: status %d\n", (rel) ? (rel) : "-",  \
                    r_.status);                                            \
        CHECK(r_.status == 200);                                           \
        CHECK_STR(r_.body, (want_body));                                   \
    } while (0)

#define CHECK_404(st, rel)                                                 \
    do {                                                                   \
        result r_ = serve((st), (rel));                                    \
        if (r_.status != 404)                                              \
            fprintf(stderr, "path %s: status %d body %s\n", (rel),        \
                    r_.status, r_.body);                                   \
        CHECK(r_.status == 404);                                           \
        CHECK(strstr(r_.body, "SECRET") == NULL);                          \
    } while (0)

/* With the index fallback a refused path may serve the root index, but
 * never anything from outside the folder. */
#define CHECK_NOT_OUTSIDE(st, rel)                                         \
    do {                                                                   \
        result r_ = serve((st), (rel));                                    \
        CHECK(r_.status == 404 ||                                          \
              (r_.status == 200 && strcmp(r_.body, "ROOT INDEX") == 0));   \
        CHECK(strstr(r_.body, "SECRET") == NULL);                          \
    } while (0)

#define CHECK_REDIRECT(st, rel, url, want_location)                        \
    do {                                                                   \
        result r_ = serve_req((st), (rel), (url), NULL);                   \
        CHECK(r_.status == 301);                                           \
        CHECK_STR(r_.location, (want_location));                           \
    } while (0)

TEST(init_needs_a_folder)
{
    bs_static st;
    CHECK(bs_static_init(&st, "/nonexistent/folder", false) == BS_ENOTFOUND);
    CHECK(st.root == NULL);
    CHECK(bs_static_init(&st, outside, false) == BS_ENOTFOUND);
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK(st.root != NULL && st.root[0] == '/');
    bs_static_dispose(&st);
    CHECK(st.root == NULL);
}

TEST(serves_files_and_indexes)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK_SERVED(&st, "app.js", "JS");
    CHECK_SERVED(&st, "sub/page.txt", "PAGE");
    CHECK_SERVED(&st, "with space.css", "CSS");
    CHECK_SERVED(&st, "", "ROOT INDEX");
    CHECK_SERVED(&st, NULL, "ROOT INDEX");
    CHECK_SERVED(&st, "sub/", "SUB INDEX");
    CHECK_SERVED(&st, "./sub/./page.txt", "PAGE");
    CHECK_SERVED(&st, "//sub//page.txt", "PAGE");
    result r = serve(&st, "app.js");
    CHECK_STR(r.ctype, "text/javascript; charset=utf-8");
    CHECK(r.last_modified != NULL && strstr(r.last_modified, " GMT"));
    r = serve(&st, "sub/");
    CHECK_STR(r.ctype, "text/html; charset=utf-8");
    bs_static_dispose(&st);
}

TEST(canonical_redirects)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    /* Folders get a trailing slash, files lose theirs, and index.html is
     * dropped from the URL, as PocketBase's apis.Static does. */
    CHECK_REDIRECT(&st, "sub", NULL, "/sub/");
    CHECK_REDIRECT(&st, "noindex", NULL, "/noindex/");
    CHECK_REDIRECT(&st, "app.js/", NULL, "/app.js");
    CHECK_REDIRECT(&st, "app.js//", NULL, "/app.js");
    CHECK_REDIRECT(&st, "index.html", NULL, "/");
    CHECK_REDIRECT(&st, "sub/index.html", NULL, "/sub/");
    /* The query is not part of the redirect target. */
    CHECK_REDIRECT(&st, "sub", "/sub?x=1", "/sub/");
    bs_static_dispose(&st);
}

/* A Location starting with "//" is a protocol-relative URL: the browser
 * would go to another host ("//sub/" is http://sub/). PocketBase passes
 * every redirect through safeRedirectPath, which collapses the leading
 * slashes. */
TEST(redirects_never_leave_the_host)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK_REDIRECT(&st, "/sub", "//sub", "/sub/");
    CHECK_REDIRECT(&st, "/app.js/", "//app.js/", "/app.js");
    CHECK_REDIRECT(&st, "/sub/index.html", "//sub/index.html", "/sub/");
    bs_static_dispose(&st);
}

TEST(missing_files_are_404)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK_404(&st, "missing.txt");
    CHECK_404(&st, "sub/missing");
    CHECK_404(&st, "noindex/");     /* a folder without index.html */
    CHECK_404(&st, "app.js/x");     /* a file used as a folder */
    bs_static_dispose(&st);
}

TEST(no_way_out_of_the_folder)
{
    static const char *const bad[] = {
        "../secret.txt", "sub/../../secret.txt", "/../secret.txt", "sub/..",
        "..", "..\\secret.txt", "sub\\..\\..\\secret.txt",
        /* Symbolic links are never followed, to files or to folders. */
        "link.txt", "linkdir/page.txt",
    };
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_404(&st, bad[i]);
    CHECK_404(&st, outside); /* an absolute path is relative to root */
    bs_static_dispose(&st);
    REQUIRE(bs_static_init(&st, root, true) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_NOT_OUTSIDE(&st, bad[i]);
    CHECK_NOT_OUTSIDE(&st, outside);
    bs_static_dispose(&st);
}

TEST(index_fallback)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, true) == 0);
    CHECK_SERVED(&st, "some/client/route", "ROOT INDEX");
    CHECK_SERVED(&st, "missing.js", "ROOT INDEX");
    CHECK_SERVED(&st, "noindex/", "ROOT INDEX");
    /* Existing files are still served as themselves. */
    CHECK_SERVED(&st, "sub/page.txt", "PAGE");
    bs_static_dispose(&st);
    /* Without the fallback the route is 404. */
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK_404(&st, "some/client/route");
    bs_static_dispose(&st);
}

static result serve_with(bs_static *st, const char *rel, const char *name,
                         const char *value)
{
    json_object *h = json_object_new_object();
    json_object_object_add(h, name, json_object_new_string(value));
    result r = serve_req(st, rel, NULL, h);
    json_object_put(h);
    return r;
}

TEST(ranges)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    result r = serve_with(&st, "sub/page.txt", "Range", "bytes=1-2");
    CHECK(r.status == 206);
    CHECK_STR(r.body, "AG");
    CHECK_STR(r.content_range, "bytes 1-2/4");
    r = serve_with(&st, "sub/page.txt", "Range", "bytes=-1");
    CHECK(r.status == 206);
    CHECK_STR(r.body, "E");
    CHECK_STR(r.content_range, "bytes 3-3/4");
    r = serve_with(&st, "sub/page.txt", "Range", "bytes=2-");
    CHECK(r.status == 206);
    CHECK_STR(r.body, "GE");
    r = serve_with(&st, "sub/page.txt", "Range", "bytes=1-100");
    CHECK(r.status == 206);
    CHECK_STR(r.body, "AGE");
    CHECK_STR(r.content_range, "bytes 1-3/4");
    /* Not a byte range: the whole file. */
    r = serve_with(&st, "sub/page.txt", "Range", "items=1-2");
    CHECK(r.status == 200);
    CHECK_STR(r.body, "PAGE");
    bs_static_dispose(&st);
}

/* Go's http.ServeContent (behind PocketBase's FileFS) answers a range
 * that starts past the end with 416 Requested Range Not Satisfiable. */
TEST(unsatisfiable_range_is_416)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    result r = serve_with(&st, "sub/page.txt", "Range", "bytes=10-20");
    CHECK(r.status == 416);
    bs_static_dispose(&st);
}

TEST(not_modified)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    result r = serve(&st, "app.js");
    REQUIRE(r.last_modified != NULL);
    char lm[128];
    snprintf(lm, sizeof lm, "%s", r.last_modified);
    r = serve_with(&st, "app.js", "If-Modified-Since", lm);
    CHECK(r.status == 304);
    CHECK_STR(r.body, "");
    r = serve_with(&st, "app.js", "If-Modified-Since",
                   "Mon, 01 Jan 2001 00:00:00 GMT");
    CHECK(r.status == 200);
    CHECK_STR(r.body, "JS");
    bs_static_dispose(&st);
}

/* A FIFO in the public folder must not block the worker: open() of a
 * FIFO for reading waits for a writer unless O_NONBLOCK is given. Run in
 * a child with an alarm so a hang fails the test instead of the suite. */
TEST(fifo_does_not_block)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        alarm(3);
        bs_static st;
        if (bs_static_init(&st, root, false) != 0)
            _exit(2);
        result r = serve(&st, "pipe");
        bs_static_dispose(&st);
        _exit(r.status == 404 ? 0 : 3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        fprintf(stderr, "child killed by signal %d (blocked on the FIFO)\n",
                WTERMSIG(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(mime_types)
{
    CHECK_STR(bs_mime_by_name("a.html"), "text/html; charset=utf-8");
    CHECK_STR(bs_mime_by_name("A.HTML"), "text/html; charset=utf-8");
    CHECK_STR(bs_mime_by_name("x/y.css"), "text/css; charset=utf-8");
    CHECK_STR(bs_mime_by_name("img.svg"), "image/svg+xml");
    CHECK_STR(bs_mime_by_name("f.woff2"), "font/woff2");
    CHECK_STR(bs_mime_by_name("f.wasm"), "application/wasm");
    CHECK_STR(bs_mime_by_name("noext"), "application/octet-stream");
    CHECK_STR(bs_mime_by_name("dir.d/noext"), "application/octet-stream");
    CHECK_STR(bs_mime_by_name("x.unknown"), "application/octet-stream");
    CHECK_STR(bs_mime_by_name("trailing."), "application/octet-stream");
}

int main(void)
{
    setup();
    RUN(init_needs_a_folder);
    RUN(serves_files_and_indexes);
    RUN(canonical_redirects);
    RUN(redirects_never_leave_the_host);
    RUN(missing_files_are_404);
    RUN(no_way_out_of_the_folder);
    RUN(index_fallback);
    RUN(ranges);
    RUN(unsatisfiable_range_is_416);
    RUN(not_modified);
    RUN(fifo_does_not_block);
    RUN(mime_types);
    teardown();
    return harness_summary(__FILE__);
}
