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

static bool serve_fd(bs_req *r, int fd, const char *name)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return false;
    }
    bs_resp_empty(r, 200);
    r->content_type = bs_mime_by_name(name);
    r->fd = fd;
    r->fd_size = (uint64_t)sb.st_size;
    return true;
}

static bool serve_index(bs_req *r, int dirfd)
{
    int fd = openat(dirfd, "index.html",
                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    return serve_fd(r, fd, "index.html");
}

int bs_static_handler(bs_event *e, void *user)
{
    bs_req *r = (bs_req *)e;
    const bs_static *st = user;
    const char *rel = bs_req_param(r, "path");
    if (!rel)
        rel = "";
    if (!st->root) {
        bs_resp_status_error(r, 404, "File not found.");
        return 0;
    }
    bool is_dir = false;
    int fd = open_below(st->root, rel, &is_dir);
    if (fd >= 0 && !is_dir) {
        serve_fd(r, fd, rel);
        return 0;
    }
    if (fd >= 0) {
        bool ok = serve_index(r, fd);
        close(fd);
        if (ok)
            return 0;
    }
    if (st->index_fallback) {
        /* Paths that look like files (with an extension) stay 404. */
        const char *last = strrchr(rel, '/');
        last = last ? last + 1 : rel;
        if (!strchr(last, '.')) {
            int root = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (root >= 0) {
                bool ok = serve_index(r, root);
                close(root);
                if (ok)
                    return 0;
            }
        }
    }
    bs_resp_status_error(r, 404, "File not found.");
    return 0;
}
