/*
 * static.c - safe static file serving.
 *
 * Safety: the decoded path is split into segments; empty and "."
 * segments are skipped, ".." and segments with a NUL or a backslash are
 * refused. The file is then opened with openat() relative to the root
 * folder, segment by segment, refusing symbolic links, so no name can
 * reach outside the folder.
 */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int bs_static_init(bs_static *st, const char *dir, bool index_fallback)
{
    st->root = NULL;
    st->index_fallback = index_fallback;
    char resolved[PATH_MAX];
    struct stat sb;
    if (!realpath(dir, resolved) || stat(resolved, &sb) != 0 ||
        !S_ISDIR(sb.st_mode))
        return BS_ENOTFOUND;
    st->root = strdup(resolved);
    return st->root ? 0 : BS_ENOMEM;
}

void bs_static_dispose(bs_static *st)
{
    free(st->root);
    st->root = NULL;
}

static const struct {
    const char *ext;
    const char *type;
} MIME[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "text/xml; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"avif", "image/avif"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
};

const char *bs_mime_by_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (!dot || (slash && dot < slash))
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof MIME / sizeof MIME[0]; i++) {
        if (strcasecmp(dot + 1, MIME[i].ext) == 0)
            return MIME[i].type;
    }
    return "application/octet-stream";
}

/* Opens rel (already decoded) below root without following links or
 * leaving the folder. Returns an fd or -1; *is_dir tells a folder. */
static int open_below(const char *root, const char *rel, bool *is_dir)
{
    int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -1;
    *is_dir = true;
    const char *p = rel;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[NAME_MAX + 1];
        if (n > NAME_MAX || memchr(p, '\\', n) ||
            (n == 2 && p[0] == '.' && p[1] == '.')) {
            close(dirfd);
            return -1;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        p += n;
        if (n == 1 && name[0] == '.')
            continue;
        /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
        int fd = openat(dirfd, name,
                        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        close(dirfd);
        if (fd < 0)
            return -1;
        struct stat sb;
        if (fstat(fd, &sb) != 0) {
            close(fd);
            return -1;
        }
        if (S_ISDIR(sb.st_mode)) {
            dirfd = fd;
            *is_dir = true;
            continue;
        }
        if (!S_ISREG(sb.st_mode) || *p) {
            /* Not a regular file, or a file used as a folder. */
            close(fd);
            return -1;
        }
        *is_dir = false;
        return fd;
    }
    return dirfd;
}

/* HTTP date of t, for Last-Modified. */
static char *http_date(bs_req *r, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    char *out = bs_arena_alloc(&r->arena, 40);
    if (out)
        strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return out;
}

/* Parses a single "bytes=a-b" range against size; false when absent or
 * not satisfiable as one range (then the whole file is sent). */
static bool parse_range(const char *h, uint64_t size, uint64_t *from,
                        uint64_t *to)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') || size == 0)
        return false;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (*end || n == 0)
            return false;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return true;
    }
    unsigned long long a = strtoull(p, &end, 10);
    if (*end != '-' || a >= size)
        return false;
    p = end + 1;
    unsigned long long b = size - 1;
    if (*p) {
        b = strtoull(p, &end, 10);
        if (*end || b < a)
            return false;
        if (b >= size)
            b = size - 1;
    }
    *from = a;
    *to = b;
    return true;
}

/* A single byte range that starts past the end of the file. */
static bool range_unsatisfiable(const char *h, uint64_t size)
{
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return false;
    const char *p = h + 6;
    if (*p == '-')
        return size == 0;
    char *end;
    unsigned long long a = strtoull(p, &end, 10);
    return end != p && *end == '-' && a >= size;
}

bool bs_static_prepare(bs_req *r, uint64_t size, int64_t mtime,
                       const char *etag, const char *content_type,
                       uint64_t *from, uint64_t *len)
{
    const char *lm = http_date(r, (time_t)mtime);
    if (!etag)
        etag = bs_arena_printf(&r->arena, "\"%llx-%llx\"",
                               (unsigned long long)mtime,
                               (unsigned long long)size);
    const char *ims = bs_req_header(r, "If-Modified-Since");
    const char *inm = bs_req_header(r, "If-None-Match");
    bs_resp_empty(r, 200);
    if (lm)
        bs_resp_header(r, "Last-Modified", lm);
    if (etag)
        bs_resp_header(r, "ETag", etag);
    bs_resp_header(r, "Accept-Ranges", "bytes");
    if ((inm && etag && strstr(inm, etag)) ||
        (!inm && ims && lm && strcmp(ims, lm) == 0)) {
        bs_resp_empty(r, 304);
        return false;
    }
    r->content_type = content_type;
    *from = 0;
    *len = size;
    uint64_t a, b;
    const char *range = bs_req_header(r, "Range");
    if (range && range_unsatisfiable(range, size)) {
        bs_resp_empty(r, 416);
        bs_resp_header(r, "Content-Range",
                       bs_arena_printf(&r->arena, "bytes */%llu",
                                       (unsigned long long)size));
        return false;
    }
    if (parse_range(range, size, &a, &b)) {
        r->status = 206;
        *from = a;
        *len = b - a + 1;
        bs_resp_header(r, "Content-Range",
                       bs_arena_printf(&r->arena, "bytes %llu-%llu/%llu",
                                       (unsigned long long)a,
                                       (unsigned long long)b,
                                       (unsigned long long)size));
    }
    return true;
}

bool bs_static_serve_fd(bs_req *r, int fd, const char *content_type)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return false;
    }
    uint64_t from, len;
    if (!bs_static_prepare(r, (uint64_t)sb.st_size, (int64_t)sb.st_mtime,
                           NULL, content_type, &from, &len)) {
        close(fd);
        return true;
    }
    r->fd = fd;
    r->fd_offset = from;
    r->fd_size = len;
    return true;
}

static bool serve_fd(bs_req *r, int fd, const char *name)
{
    return bs_static_serve_fd(r, fd, bs_mime_by_name(name));
}

static bool serve_index(bs_req *r, int dirfd)
{
    int fd = openat(dirfd, "index.html",
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    return serve_fd(r, fd, "index.html");
}

/* The request path without the query, as the client sent it. */
static const char *request_path(bs_req *r)
{
    const char *q = strchr(r->url, '?');
    return q ? bs_arena_strndup(&r->arena, r->url, (size_t)(q - r->url))
             : r->url;
}

static int redirect(bs_req *r, const char *location)
{
    /* Never "//host/...": a leading run of slashes becomes one, so the
     * redirect stays on this host. */
    while (location[0] == '/' && location[1] == '/')
        location++;
    bs_resp_empty(r, 301);
    bs_resp_header(r, "Location", location);
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool serve_fallback(bs_req *r, const bs_static *st, const char *rel)
{
    if (!st->index_fallback || strcmp(rel, "index.html") == 0)
        return false;
    int root = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return false;
    bool ok = serve_index(r, root);
    close(root);
    return ok;
}

int bs_static_handler(bs_event *e, void *user)
{
    bs_req *r = (bs_req *)e;
    const bs_static *st = user;
    /* Like PocketBase, only failed static requests reach the logs. */
    r->log_skip_success = true;
    const char *rel = bs_req_param(r, "path");
    if (!rel)
        rel = "";
    if (!st->root) {
        bs_resp_status_error(r, 404, "File not found.");
        return 0;
    }
    const char *path = request_path(r);
    /* Look the name up without trailing slashes: "/style.css/" names the
     * file, and is then redirected to its canonical path. */
    size_t rl = strlen(rel);
    while (rl > 0 && rel[rl - 1] == '/')
        rl--;
    const char *name = bs_arena_strndup(&r->arena, rel, rl);
    bool is_dir = false;
    int fd = name ? open_below(st->root, name, &is_dir) : -1;
    if (fd >= 0 && !is_dir) {
        size_t n = strlen(path);
        if (n > 1 && path[n - 1] == '/') {
            /* A file named with a trailing slash: drop the slashes. */
            close(fd);
            while (n > 1 && path[n - 1] == '/')
                n--;
            return redirect(r, bs_arena_strndup(&r->arena, path, n));
        }
        if (ends_with(path, "index.html")) {
            close(fd);
            return redirect(r, bs_arena_strndup(&r->arena, path,
                                                strlen(path) - 10));
        }
        serve_fd(r, fd, name);
        return 0;
    }
    if (fd >= 0) {
        if (!ends_with(path, "/")) {
            close(fd);
            return redirect(r, bs_arena_printf(&r->arena, "%s/", path));
        }
        bool ok = serve_index(r, fd);
        close(fd);
        if (ok)
            return 0;
    }
    if (serve_fallback(r, st, rel))
        return 0;
    bs_resp_status_error(r, 404, "File not found.");
    return 0;
}
