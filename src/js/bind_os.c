/*
 * bind_os.c - the natives behind the file functions of $os and
 * $filepath: read, write, list, stat, make and remove files and
 * directories, rename, truncate, the working directory, and glob/match
 * by the C library's glob(3) and fnmatch(3).
 *
 * Bytes travel as Uint8Arrays (the prelude turns them into the plain
 * arrays PocketBase's []byte values become). Errors read as Go's
 * *PathError does: "open /x: no such file or directory". Nothing here
 * starts a process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

#define NATIVE(name)                                                       \
    static JSValueRef name(JSContextRef ctx, JSObjectRef fn,               \
                           JSObjectRef self, size_t argc,                  \
                           const JSValueRef argv[], JSValueRef *exc)

/* Throws "OP PATH: reason" for errno e, the reason in lower case. */
static JSValueRef path_error(JSContextRef ctx, JSValueRef *exc,
                             const char *op, const char *path, int e)
{
    char reason[128];
    snprintf(reason, sizeof reason, "%s", strerror(e));
    if (reason[0] >= 'A' && reason[0] <= 'Z')
        reason[0] = (char)(reason[0] - 'A' + 'a');
    return bsj_throw(ctx, exc, "%s %s: %s", op, path, reason);
}

/* The string argument i (malloc'ed), or NULL with an exception. */
static char *arg_path(JSContextRef ctx, size_t argc, const JSValueRef argv[],
                      size_t i, JSValueRef *exc)
{
    char *p = i < argc ? bsj_cstr(ctx, argv[i]) : NULL;
    if (!p)
        bsj_throw(ctx, exc, "A path is required.");
    return p;
}

static mode_t arg_mode(JSContextRef ctx, size_t argc, const JSValueRef argv[],
                       size_t i, mode_t dflt)
{
    if (i >= argc || JSValueIsUndefined(ctx, argv[i]))
        return dflt;
    double m = JSValueToNumber(ctx, argv[i], NULL);
    return m >= 0 && m <= 07777 ? (mode_t)m : dflt;
}

/* {name, size, mode, modTime (ms since the epoch), isDir, isLink} */
static JSObjectRef info_object(JSContextRef ctx, const char *name,
                               const struct stat *st, bool is_link)
{
    JSObjectRef o = JSObjectMake(ctx, NULL, NULL);
    bsj_set(ctx, o, "name", bsj_string(ctx, name));
    bsj_set(ctx, o, "size", JSValueMakeNumber(ctx, (double)st->st_size));
    bsj_set(ctx, o, "mode", JSValueMakeNumber(ctx, st->st_mode & 07777));
    bsj_set(ctx, o, "modTime",
            JSValueMakeNumber(ctx, (double)st->st_mtim.tv_sec * 1000.0 +
                                       (double)(st->st_mtim.tv_nsec / 1000000)));
    bsj_set(ctx, o, "isDir", JSValueMakeBoolean(ctx, S_ISDIR(st->st_mode)));
    bsj_set(ctx, o, "isLink", JSValueMakeBoolean(ctx, is_link));
    return o;
}

static const char *base_name(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *s = p + n;
    while (s > p && s[-1] != '/')
        s--;
    return s;
}

NATIVE(n_read_file)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    JSValueRef v = NULL;
    bs_buf b;
    bs_buf_init(&b);
    int e = bsj_read_file(path, &b);
    if (e) {
        v = path_error(ctx, exc, "open", path, e);
    } else {
        JSObjectRef arr = JSObjectMakeTypedArray(ctx, kJSTypedArrayTypeUint8Array,
                                                 b.len, exc);
        if (arr && b.len) {
            void *p = JSObjectGetTypedArrayBytesPtr(ctx, arr, exc);
            if (p)
                memcpy(p, b.data, b.len);
        }
        v = arr ? (JSValueRef)arr : JSValueMakeUndefined(ctx);
    }
    bs_buf_dispose(&b);
    free(path);
    return v;
}

/* writeFile(path, Uint8Array, perm) */
NATIVE(n_write_file)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    JSValueRef v = JSValueMakeUndefined(ctx);
    const void *data = NULL;
    size_t len = 0;
    if (argc > 1 && JSValueIsObject(ctx, argv[1])) {
        JSObjectRef o = (JSObjectRef)argv[1];
        if (JSValueGetTypedArrayType(ctx, o, NULL) == kJSTypedArrayTypeUint8Array) {
            data = JSObjectGetTypedArrayBytesPtr(ctx, o, NULL);
            len = JSObjectGetTypedArrayByteLength(ctx, o, NULL);
        }
    }
    mode_t mode = arg_mode(ctx, argc, argv, 2, 0644);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        v = path_error(ctx, exc, "open", path, errno);
        free(path);
        return v;
    }
    const char *p = data;
    bool failed = false;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            v = path_error(ctx, exc, "write", path, w < 0 ? errno : EIO);
            failed = true;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (close(fd) != 0 && !failed)
        v = path_error(ctx, exc, "close", path, errno);
    free(path);
    return v;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* readDir(path) -> [{name, size, mode, modTime, isDir, isLink}] in name
 * order, as Go's os.ReadDir. */
NATIVE(n_read_dir)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    JSValueRef v = NULL;
    DIR *d = opendir(path);
    if (!d) {
        v = path_error(ctx, exc, "open", path, errno);
        free(path);
        return v;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    bool oom = false;
    while (!oom && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) {
                oom = true;
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name)))
            oom = true;
        else
            n++;
    }
    int dfd = dirfd(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    JSValueRef *items = n ? calloc(n, sizeof *items) : NULL;
    size_t m = 0;
    for (size_t i = 0; !oom && i < n; i++) {
        struct stat st;
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* removed meanwhile */
        bool link = S_ISLNK(st.st_mode);
        items[m++] = info_object(ctx, names[i], &st, link);
    }
    closedir(d);
    if (oom || (n && !items))
        v = bsj_throw(ctx, exc, "Out of memory.");
    else
        v = JSObjectMakeArray(ctx, m, items, exc);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(items);
    free(path);
    return v;
}

/* stat(path, lstat) */
NATIVE(n_stat)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    bool no_follow = argc > 1 && JSValueToBoolean(ctx, argv[1]);
    struct stat st;
    JSValueRef v;
    if ((no_follow ? lstat(path, &st) : stat(path, &st)) != 0)
        v = path_error(ctx, exc, no_follow ? "lstat" : "stat", path, errno);
    else
        v = info_object(ctx, base_name(path), &st, S_ISLNK(st.st_mode));
    free(path);
    return v;
}

/* Makes every missing directory of path (which mkdir_all may change
 * and restores). */
static int mkdir_all(char *path, mode_t mode)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    size_t n = strlen(path);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        int rc = mkdir(path, mode) == 0 || errno == EEXIST ? 0 : errno;
        if (rc == 0 && stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
            rc = ENOTDIR;
        path[i] = c;
        if (rc)
            return rc;
    }
    return 0;
}

/* mkdir(path, perm, all) */
NATIVE(n_mkdir)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    mode_t mode = arg_mode(ctx, argc, argv, 1, 0755);
    bool all = argc > 2 && JSValueToBoolean(ctx, argv[2]);
    int e = all ? mkdir_all(path, mode) : (mkdir(path, mode) == 0 ? 0 : errno);
    JSValueRef v = e ? path_error(ctx, exc, "mkdir", path, e)
                     : JSValueMakeUndefined(ctx);
    free(path);
    return v;
}

static int remove_one(const char *p, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    return remove(p) == 0 || errno == ENOENT ? 0 : errno;
}

/* remove(path, all): one file or empty directory, or (all) everything
 * under path; a missing path is no error for all, as Go's RemoveAll. */
NATIVE(n_remove)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    bool all = argc > 1 && JSValueToBoolean(ctx, argv[1]);
    int e = 0;
    if (all) {
        struct stat st;
        if (lstat(path, &st) != 0)
            e = errno == ENOENT ? 0 : errno;
        else if (!*path || strcmp(path, "/") == 0)
            e = EPERM;
        else if ((e = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS)) < 0)
            e = errno;
    } else if (remove(path) != 0) {
        e = errno;
    }
    JSValueRef v = e ? path_error(ctx, exc, "remove", path, e)
                     : JSValueMakeUndefined(ctx);
    free(path);
    return v;
}

NATIVE(n_rename)
{
    char *from = arg_path(ctx, argc, argv, 0, exc);
    char *to = from ? arg_path(ctx, argc, argv, 1, exc) : NULL;
    JSValueRef v = JSValueMakeUndefined(ctx);
    if (from && to && rename(from, to) != 0)
        v = path_error(ctx, exc, "rename", from, errno);
    free(from);
    free(to);
    return v;
}

NATIVE(n_truncate)
{
    char *path = arg_path(ctx, argc, argv, 0, exc);
    if (!path)
        return JSValueMakeUndefined(ctx);
    double size = argc > 1 ? JSValueToNumber(ctx, argv[1], NULL) : 0;
    JSValueRef v = JSValueMakeUndefined(ctx);
    if (!(size >= 0))
        v = path_error(ctx, exc, "truncate", path, EINVAL);
    else if (truncate(path, (off_t)size) != 0)
        v = path_error(ctx, exc, "truncate", path, errno);
    free(path);
    return v;
}

NATIVE(n_getwd)
{
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf))
        return path_error(ctx, exc, "getwd", ".", errno);
    return bsj_string(ctx, buf);
}

/* glob(pattern) -> the matching paths in name order ([] for none); a
 * malformed pattern throws. */
NATIVE(n_glob)
{
    char *pattern = arg_path(ctx, argc, argv, 0, exc);
    if (!pattern)
        return JSValueMakeUndefined(ctx);
    glob_t g;
    memset(&g, 0, sizeof g);
    int rc = glob(pattern, GLOB_NOSORT, NULL, &g);
    JSValueRef v;
    if (rc == 0 || rc == GLOB_NOMATCH) {
        size_t n = rc == 0 ? g.gl_pathc : 0;
        if (n)
            qsort(g.gl_pathv, n, sizeof *g.gl_pathv, by_name);
        JSValueRef *items = n ? calloc(n, sizeof *items) : NULL;
        if (n && !items) {
            v = bsj_throw(ctx, exc, "Out of memory.");
        } else {
            for (size_t i = 0; i < n; i++)
                items[i] = bsj_string(ctx, g.gl_pathv[i]);
            v = JSObjectMakeArray(ctx, n, items, exc);
        }
        free(items);
    } else {
        v = bsj_throw(ctx, exc, "syntax error in pattern");
    }
    if (rc == 0)
        globfree(&g);
    free(pattern);
    return v;
}

/* match(pattern, name): "*" and "?" stop at "/", as Go's filepath.Match. */
NATIVE(n_match)
{
    char *pattern = arg_path(ctx, argc, argv, 0, exc);
    char *name = pattern ? arg_path(ctx, argc, argv, 1, exc) : NULL;
    JSValueRef v = JSValueMakeUndefined(ctx);
    if (pattern && name)
        v = JSValueMakeBoolean(ctx, fnmatch(pattern, name, FNM_PATHNAME) == 0);
    free(pattern);
    free(name);
    return v;
}

void bsj_bind_os(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "osReadFile", n_read_file);
    bsj_def(ctx, n, "osWriteFile", n_write_file);
    bsj_def(ctx, n, "osReadDir", n_read_dir);
    bsj_def(ctx, n, "osStat", n_stat);
    bsj_def(ctx, n, "osMkdir", n_mkdir);
    bsj_def(ctx, n, "osRemove", n_remove);
    bsj_def(ctx, n, "osRename", n_rename);
    bsj_def(ctx, n, "osTruncate", n_truncate);
    bsj_def(ctx, n, "osGetwd", n_getwd);
    bsj_def(ctx, n, "fpGlob", n_glob);
    bsj_def(ctx, n, "fpMatch", n_match);
}
