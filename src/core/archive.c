/*
 * archive.c - zip creation and checked extraction (see archive.h) on
 * libzip.
 *
 * Creation walks the directory with openat/fdopendir and adds each
 * regular file as a file source: libzip opens and reads the files only
 * when zip_close writes the archive, one at a time, so the memory used
 * is libzip's buffers whatever the data's size. Entry names use '/' and
 * carry no leading "./", as PocketBase's archive.Create writes them.
 *
 * Extraction runs two passes over the central directory: the first only
 * checks (names, types, methods, sizes) and refuses the archive before
 * anything touches the disk; the second writes each entry with O_EXCL
 * and O_NOFOLLOW below the new target directory, counting the bytes it
 * inflates against the declared size.
 */
#include "archive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <zip.h>

#include "../base/util.h"
#include "basalt.h"

const bs_archive_limits bs_archive_default_limits = {
    .max_total = 1ull << 40,
    .max_entries = 1000000,
    .ratio_floor = 256ull << 20,
    .max_ratio = 100,
};

#define NAME_MAX_LEN 4096

/* ---- creation ------------------------------------------------------------ */

typedef struct walker {
    zip_t *za;
    const char *const *exclude;
    size_t nexclude;
    char *msg;
    size_t cap;
} walker;

static bool excluded(const walker *w, const char *rel)
{
    for (size_t i = 0; i < w->nexclude; i++) {
        size_t n = strlen(w->exclude[i]);
        if (strncmp(rel, w->exclude[i], n) == 0 &&
            (rel[n] == '\0' || rel[n] == '/'))
            return true;
    }
    return false;
}

/* Adds the file at path as name, compressed with Deflate level 1. */
static int add_file(zip_t *za, const char *name, const char *path, char *msg,
                    size_t cap)
{
    zip_source_t *src = zip_source_file(za, path, 0, -1);
    if (!src) {
        snprintf(msg, cap, "%s: %s", path, zip_strerror(za));
        return BS_EIO;
    }
    zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        snprintf(msg, cap, "%s: %s", name, zip_strerror(za));
        zip_source_free(src);
        return BS_EIO;
    }
    if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1) !=
        0) {
        snprintf(msg, cap, "%s: %s", name, zip_strerror(za));
        return BS_EIO;
    }
    return 0;
}

/* Adds the regular files below the directory path (rel is its name
 * inside the archive, "" for the root). */
static int walk(walker *w, const char *path, const char *rel)
{
    DIR *d = opendir(path);
    if (!d) {
        snprintf(w->msg, w->cap, "%s: %s", path, strerror(errno));
        return BS_EIO;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = NULL, *r = NULL;
        if (asprintf(&p, "%s/%s", path, e->d_name) < 0)
            p = NULL;
        if (asprintf(&r, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0)
            r = NULL;
        struct stat st;
        if (!p || !r) {
            rc = BS_ENOMEM;
        } else if (excluded(w, r) || lstat(p, &st) != 0) {
            /* Left out, or gone since it was listed. */
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(w, p, r);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(w->za, r, p, w->msg, w->cap);
        }
        free(p);
        free(r);
    }
    closedir(d);
    return rc;
}

int bs_archive_create(const char *dst, const char *dir,
                      const char *const *exclude, size_t nexclude,
                      const bs_archive_extra *extra, size_t nextra,
                      char *msg, size_t cap)
{
    int zerr = 0;
    unlink(dst);
    zip_t *za = zip_open(dst, ZIP_CREATE | ZIP_EXCL, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        snprintf(msg, cap, "%s: %s", dst, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return BS_EIO;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nextra; i++)
        rc = add_file(za, extra[i].name, extra[i].path, msg, cap);
    walker w = {.za = za, .exclude = exclude, .nexclude = nexclude,
                .msg = msg, .cap = cap};
    if (rc == 0)
        rc = walk(&w, dir, "");
    if (rc == 0 && zip_close(za) != 0) {
        snprintf(msg, cap, "writing %s: %s", dst, zip_strerror(za));
        rc = BS_EIO;
    }
    if (rc) {
        zip_discard(za);
        unlink(dst);
    }
    return rc;
}

/* ---- extraction ---------------------------------------------------------- */

bool bs_archive_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > NAME_MAX_LEN || name[0] == '/')
        return false;
    /* A directory entry's trailing '/' ends its last component. */
    if (name[len - 1] == '/')
        len--;
    if (len == 0)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            unsigned char c = (unsigned char)name[i];
            if (c == '\0' || c == '\\' || c < 0x20 || c == 0x7f)
                return false;
            if (c != '/')
                continue;
        }
        size_t n = i - start;
        if (n == 0 || (n == 1 && name[start] == '.') ||
            (n == 2 && name[start] == '.' && name[start + 1] == '.') ||
            n > 255)
            return false;
        start = i + 1;
    }
    return true;
}

/* Checks one entry; returns false with a reason in msg. */
static bool entry_ok(zip_t *za, zip_uint64_t i, const zip_stat_t *st,
                     char *msg, size_t cap)
{
    const char *name = st->name;
    if (!(st->valid & ZIP_STAT_NAME) || !name ||
        !bs_archive_name_ok(name, strlen(name))) {
        snprintf(msg, cap, "entry %llu has a path outside the data dir",
                 (unsigned long long)i);
        return false;
    }
    zip_uint8_t opsys;
    zip_uint32_t attr;
    if (zip_file_get_external_attributes(za, i, 0, &opsys, &attr) == 0 &&
        opsys == ZIP_OPSYS_UNIX) {
        mode_t mode = (mode_t)(attr >> 16);
        if ((mode & S_IFMT) != 0 && !S_ISREG(mode) && !S_ISDIR(mode)) {
            snprintf(msg, cap, "entry %.200s is a link or special file",
                     name);
            return false;
        }
    }
    if (!(st->valid & ZIP_STAT_COMP_METHOD) ||
        (st->comp_method != ZIP_CM_STORE &&
         st->comp_method != ZIP_CM_DEFLATE)) {
        snprintf(msg, cap, "entry %.200s uses an unsupported method", name);
        return false;
    }
    if (!(st->valid & ZIP_STAT_SIZE)) {
        snprintf(msg, cap, "entry %.200s has no size", name);
        return false;
    }
    return true;
}

/* Writes entry i (its checked stat in st) below the directory fd root. */
static int extract_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *st,
                         const char *root, char *msg, size_t cap)
{
    char path[NAME_MAX_LEN + 4200];
    int n = snprintf(path, sizeof path, "%s/%s", root, st->name);
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(msg, cap, "path too long");
        return BS_EINVAL;
    }
    if (bs_make_parents(path) != 0) {
        snprintf(msg, cap, "%.200s: cannot create its folder", st->name);
        return BS_EINVAL;
    }
    size_t len = strlen(st->name);
    if (st->name[len - 1] == '/') {
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            snprintf(msg, cap, "%.200s: %s", st->name, strerror(errno));
            return BS_EINVAL;
        }
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    if (fd < 0) {
        snprintf(msg, cap, "%.200s: %s", st->name, strerror(errno));
        return errno == EEXIST || errno == ENOTDIR ? BS_EINVAL : BS_EIO;
    }
    int rc = 0;
    zip_file_t *zf = zip_fopen_index(za, i, 0);
    if (!zf) {
        snprintf(msg, cap, "%.200s: %s", st->name, zip_strerror(za));
        rc = BS_EINVAL;
    }
    char buf[64 * 1024];
    uint64_t total = 0;
    while (rc == 0) {
        zip_int64_t got = zip_fread(zf, buf, sizeof buf);
        if (got < 0) {
            snprintf(msg, cap, "%.200s: %s", st->name,
                     zip_error_strerror(zip_file_get_error(zf)));
            rc = BS_EINVAL;
            break;
        }
        if (got == 0)
            break;
        total += (uint64_t)got;
        if (total > st->size) {
            snprintf(msg, cap, "%.200s inflates past its declared size",
                     st->name);
            rc = BS_EINVAL;
            break;
        }
        for (zip_int64_t off = 0; off < got;) {
            ssize_t w = write(fd, buf + off, (size_t)(got - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                snprintf(msg, cap, "%.200s: %s", st->name, strerror(errno));
                rc = BS_EIO;
                break;
            }
            off += w;
        }
    }
    if (zf)
        zip_fclose(zf);
    if (close(fd) != 0 && rc == 0) {
        snprintf(msg, cap, "%.200s: %s", st->name, strerror(errno));
        rc = BS_EIO;
    }
    return rc;
}

int bs_archive_extract(const char *path, const char *dst,
                       const bs_archive_limits *lim, char *msg, size_t cap)
{
    struct stat zs;
    if (stat(path, &zs) != 0) {
        snprintf(msg, cap, "%s: %s", path, strerror(errno));
        return BS_EIO;
    }
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        snprintf(msg, cap, "not a valid zip archive: %s",
                 zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return BS_EINVAL;
    }
    int rc = 0;
    zip_int64_t count = zip_get_num_entries(za, 0);
    if (count < 0 || (uint64_t)count > lim->max_entries) {
        snprintf(msg, cap, "too many entries");
        rc = BS_EINVAL;
    }
    /* Pass 1: check everything before writing anything. */
    uint64_t total = 0;
    for (zip_int64_t i = 0; rc == 0 && i < count; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0) {
            snprintf(msg, cap, "entry %lld: %s", (long long)i,
                     zip_strerror(za));
            rc = BS_EINVAL;
        } else if (!entry_ok(za, (zip_uint64_t)i, &st, msg, cap)) {
            rc = BS_EINVAL;
        } else if (st.size > lim->max_total - total) {
            snprintf(msg, cap, "the archive is larger than %llu bytes "
                               "uncompressed",
                     (unsigned long long)lim->max_total);
            rc = BS_EINVAL;
        } else {
            total += st.size;
        }
    }
    uint64_t zsize = zs.st_size > 0 ? (uint64_t)zs.st_size : 1;
    if (rc == 0 && total > lim->ratio_floor && total / zsize > lim->max_ratio) {
        snprintf(msg, cap, "the archive inflates %llu times its size "
                           "(a zip bomb?)",
                 (unsigned long long)(total / zsize));
        rc = BS_EINVAL;
    }
    if (rc == 0 && mkdir(dst, 0755) != 0) {
        snprintf(msg, cap, "%s: %s", dst, strerror(errno));
        rc = BS_EIO;
    }
    /* Pass 2: write. */
    for (zip_int64_t i = 0; rc == 0 && i < count; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0) {
            rc = BS_EINVAL;
            break;
        }
        rc = extract_entry(za, (zip_uint64_t)i, &st, dst, msg, cap);
    }
    zip_discard(za);
    return rc;
}
