/*
 * test_static.c - static file serving: path safety (no way out of the
 * folder, no symbolic links), index.html for folders, the single-page
 * fallback and content types.
 *
 * The handler only needs a bs_req with its "path" parameter, its arena
 * and its response fields; no connection is involved.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
} result;

/* Serves rel with a fresh request and reads back the file body. */
static result serve(bs_static *st, const char *rel)
{
    bs_req r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    bs_arena_init(&r.arena, 0);
    if (rel) {
        r.nparams = 1;
        r.param_names[0] = "path";
        r.param_values[0] = rel;
    }
    bs_static_handler(&r.ev, st);
    result res = {.status = r.status, .ctype = r.content_type};
    if (r.fd >= 0) {
        ssize_t n = read(r.fd, res.body, sizeof res.body - 1);
        res.body[n > 0 ? n : 0] = '\0';
        CHECK(r.fd_size == (uint64_t)(n > 0 ? n : 0));
        close(r.fd);
    } else {
        res.body[0] = '\0';
        if (r.status == 200)
            res.status = -1; /* a 200 without a file is wrong here */
    }
    bs_buf_dispose(&r.resp);
    bs_arena_dispose(&r.arena);
    return res;
}

#define CHECK_SERVED(st, rel, want_body)                                   \
    do {                                                                   \
        result r_ = serve((st), (rel));                                    \
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
    CHECK_SERVED(&st, "sub", "SUB INDEX");
    CHECK_SERVED(&st, "sub/", "SUB INDEX");
    CHECK_SERVED(&st, "./sub/./page.txt", "PAGE");
    CHECK_SERVED(&st, "//sub//page.txt", "PAGE");
    result r = serve(&st, "app.js");
    CHECK_STR(r.ctype, "text/javascript; charset=utf-8");
    r = serve(&st, "sub");
    CHECK_STR(r.ctype, "text/html; charset=utf-8");
    bs_static_dispose(&st);
}

TEST(missing_files_are_404)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK_404(&st, "missing.txt");
    CHECK_404(&st, "sub/missing");
    CHECK_404(&st, "noindex");      /* a folder without index.html */
    CHECK_404(&st, "app.js/");      /* a file used as a folder */
    CHECK_404(&st, "app.js/x");
    bs_static_dispose(&st);
}

TEST(no_way_out_of_the_folder)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, true) == 0);
    CHECK_404(&st, "../secret.txt");
    CHECK_404(&st, "sub/../../secret.txt");
    CHECK_404(&st, "/../secret.txt");
    CHECK_404(&st, "sub/..");
    CHECK_404(&st, "..");
    CHECK_404(&st, "..\\secret.txt");
    CHECK_404(&st, "sub\\..\\..\\secret.txt");
    /* Symbolic links are never followed, to files or to folders. */
    CHECK_404(&st, "link.txt");
    CHECK_404(&st, "linkdir/page.txt");
    CHECK_404(&st, outside); /* an absolute path is relative to root */
    bs_static_dispose(&st);
}

TEST(index_fallback_for_routes_only)
{
    bs_static st;
    REQUIRE(bs_static_init(&st, root, true) == 0);
    CHECK_SERVED(&st, "some/client/route", "ROOT INDEX");
    CHECK_SERVED(&st, "noindex", "ROOT INDEX");
    /* Names with an extension look like files and stay 404. */
    CHECK_404(&st, "missing.js");
    CHECK_404(&st, "some/dir/missing.png");
    /* Existing files are still served as themselves. */
    CHECK_SERVED(&st, "sub/page.txt", "PAGE");
    bs_static_dispose(&st);
    /* Without the fallback the route is 404. */
    REQUIRE(bs_static_init(&st, root, false) == 0);
    CHECK_404(&st, "some/client/route");
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
    RUN(missing_files_are_404);
    RUN(no_way_out_of_the_folder);
    RUN(index_fallback_for_routes_only);
    RUN(fifo_does_not_block);
    RUN(mime_types);
    teardown();
    return harness_summary(__FILE__);
}
