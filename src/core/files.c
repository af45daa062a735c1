/*
 * files.c - local file storage for record file fields: names, content
 * types, paths, the .attrs sidecars, and removal.
 *
 * Content types are sniffed with libmagic. A magic cookie is not safe
 * to share between threads and loading its database takes a few
 * milliseconds, so one cookie is loaded on first use and used under a
 * mutex; sniffing reads only the first 16 KiB of a file.
 */
#include "files.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../http/body.h"
#include "app.h"
#include "settings.h"

#define SNIFF_BYTES (16 * 1024)

int64_t bs_files_max_size(const json_object *field)
{
    int64_t n = bs_json_get_int(field, "maxSize", 0);
    return n > 0 ? n : BS_FILE_DEFAULT_MAX_SIZE;
}

bool bs_files_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 150 || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* ---- names ------------------------------------------------------------ */

static bool word_char(unsigned char c)
{
    return isalnum(c) || c == '_';
}

static bool ext_char(unsigned char c)
{
    return word_char(c) || c == '.' || c == '*' || c == '-' || c == '+' ||
           c == '=' || c == '#';
}

/* PocketBase's inflector.Snakecase: words split at non-word characters
 * and '_', joined with '_', '_' before a capital that follows a
 * non-capital, all lower-cased. */
static void snakecase(const char *s, size_t n, bs_buf *out)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (!word_char((unsigned char)s[i]) || s[i] == '_'))
            i++;
        size_t start = i;
        while (i < n && word_char((unsigned char)s[i]) && s[i] != '_')
            i++;
        if (i == start)
            continue;
        if (out->len)
            bs_buf_putc(out, '_');
        for (size_t k = start; k < i; k++) {
            unsigned char c = (unsigned char)s[k];
            if (isupper(c) && k > start && !isupper((unsigned char)s[k - 1]))
                bs_buf_putc(out, '_');
            bs_buf_putc(out, (char)tolower(c));
        }
    }
}

void bs_files_normalize_name(const char *orig, const char *ext_fallback,
                             const char *suffix, char out[160])
{
    const char *name = orig ? orig : "";
    /* The last path element, as Go's multipart FileName gives it. */
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '\\')
            name = p + 1;
    size_t n = strlen(name);
    if (n > 300) {
        name += n - 300;
        n = 300;
    }
    /* The extension, double ones (".tar.gz") included. */
    size_t dot = n, dot2 = n;
    for (size_t i = n; i-- > 0;) {
        if (name[i] == '.') {
            if (dot == n) {
                dot = i;
            } else {
                dot2 = i;
                break;
            }
        }
    }
    size_t ext_at = dot2 < n ? dot2 : dot;
    char ext[24] = "";
    bs_buf clean;
    bs_buf_init(&clean);
    for (size_t i = ext_at; i < n; i++)
        if (ext_char((unsigned char)name[i]))
            bs_buf_putc(&clean, name[i]);
    const char *e = clean.data ? clean.data : "";
    size_t el = clean.len;
    while (el && *e == '.') {
        e++;
        el--;
    }
    while (el && e[el - 1] == '.')
        el--;
    if (el > 20) {
        e += el - 20;
        el = 20;
    }
    if (el)
        snprintf(ext, sizeof ext, ".%.*s", (int)el, e);
    else if (ext_fallback)
        snprintf(ext, sizeof ext, "%s", ext_fallback);
    bs_buf_dispose(&clean);

    /* The base name, dots trimmed, snake_cased. */
    size_t bl = ext_at;
    const char *b = name;
    while (bl && *b == '.') {
        b++;
        bl--;
    }
    while (bl && b[bl - 1] == '.')
        bl--;
    bs_buf base;
    bs_buf_init(&base);
    snakecase(b, bl, &base);
    char pad[11] = "";
    if (base.len < 3 && bs_random_string(pad, 10, "abcdefghijklmnopqrstuvwxyz"
                                                   "0123456789") == 0)
        bs_buf_puts(&base, pad);
    size_t keep = base.len > 100 ? 100 : base.len;
    snprintf(out, 160, "%.*s_%.10s%s", (int)keep,
             base.data ? base.data : "", suffix, ext);
    bs_buf_dispose(&base);
}

int bs_files_new_name(const char *orig, const char *ext_fallback,
                      char out[160])
{
    char suffix[11];
    int rc = bs_random_string(suffix, 10, "abcdefghijklmnopqrstuvwxyz"
                                          "0123456789");
    if (rc)
        return rc;
    bs_files_normalize_name(orig, ext_fallback, suffix, out);
    return 0;
}

/* ---- content types ------------------------------------------------------ */

static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_cookie;
static bool magic_tried;

/* Normalizes libmagic's answer to the types PocketBase's detector gives. */
static void normalize_type(const char *t, size_t len, char out[128])
{
    if (len == 0 || len >= 100 || strncmp(t, "application/x-empty", len) == 0
        || strncmp(t, "inode/x-empty", len) == 0) {
        snprintf(out, 128, "text/plain; charset=utf-8");
        return;
    }
    static const struct {
        const char *from, *to;
    } alias[] = {
        {"image/x-icon", "image/x-icon"},
        {"image/vnd.microsoft.icon", "image/x-icon"},
        {"text/x-c", "text/plain"},
        {"text/x-c++", "text/plain"},
        {"text/x-shellscript", "text/x-shellscript"},
        {"application/csv", "text/csv"},
        {"text/xml", "text/xml"},
        {"image/svg", "image/svg+xml"},
    };
    char base[100];
    memcpy(base, t, len);
    base[len] = '\0';
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(base, alias[i].from) == 0)
            snprintf(base, sizeof base, "%s", alias[i].to);
    if (strncmp(base, "text/", 5) == 0)
        snprintf(out, 128, "%s; charset=utf-8", base);
    else
        snprintf(out, 128, "%s", base);
}

void bs_files_sniff(const bs_upload *u, char out[128])
{
    char buf[SNIFF_BYTES];
    size_t n = 0;
    if (u->path) {
        int fd = open(u->path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t r = read(fd, buf, sizeof buf);
            n = r > 0 ? (size_t)r : 0;
            close(fd);
        }
    } else if (u->data.data) {
        n = u->data.len < sizeof buf ? u->data.len : sizeof buf;
        memcpy(buf, u->data.data, n);
    }
    const char *t = NULL;
    pthread_mutex_lock(&magic_lock);
    if (!magic_tried) {
        magic_tried = true;
        magic_cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
        if (magic_cookie && magic_load(magic_cookie, NULL) != 0) {
            bs_log('E', "libmagic: %s", magic_error(magic_cookie));
            magic_close(magic_cookie);
            magic_cookie = NULL;
        }
    }
    char got[100] = "";
    if (magic_cookie && n) {
        t = magic_buffer(magic_cookie, buf, n);
        if (t)
            snprintf(got, sizeof got, "%s", t);
    }
    pthread_mutex_unlock(&magic_lock);
    if (!got[0] && n)
        snprintf(got, sizeof got, "application/octet-stream");
    normalize_type(got, strlen(got), out);
}

const char *bs_files_ext_for_type(const char *type)
{
    static const struct {
        const char *type, *ext;
    } map[] = {
        {"image/png", ".png"},        {"image/jpeg", ".jpg"},
        {"image/gif", ".gif"},        {"image/webp", ".webp"},
        {"image/svg+xml", ".svg"},    {"image/bmp", ".bmp"},
        {"image/x-icon", ".ico"},     {"image/avif", ".avif"},
        {"application/pdf", ".pdf"},  {"application/zip", ".zip"},
        {"application/json", ".json"}, {"text/plain", ".txt"},
        {"text/html", ".html"},       {"text/csv", ".csv"},
        {"video/mp4", ".mp4"},        {"audio/mpeg", ".mp3"},
        {"application/gzip", ".gz"},  {"text/xml", ".xml"},
    };
    size_t n = strcspn(type ? type : "", ";");
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].type) == n && strncasecmp(type, map[i].type, n) == 0)
            return map[i].ext;
    return "";
}

/* The parent of a type in the detector's tree, or NULL. */
static const char *parent_type(const char *t)
{
    static const struct {
        const char *type, *parent;
    } tree[] = {
        {"application/json", "text/plain"},
        {"text/html", "text/plain"},
        {"text/csv", "text/plain"},
        {"text/xml", "text/plain"},
        {"image/svg+xml", "text/xml"},
        {"application/vnd.openxmlformats-officedocument.wordprocessingml."
         "document", "application/zip"},
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "application/zip"},
        {"application/vnd.openxmlformats-officedocument.presentationml."
         "presentation", "application/zip"},
        {"application/java-archive", "application/zip"},
        {"application/epub+zip", "application/zip"},
    };
    for (size_t i = 0; i < sizeof tree / sizeof tree[0]; i++)
        if (strcasecmp(t, tree[i].type) == 0)
            return tree[i].parent;
    return NULL;
}

bool bs_files_type_allowed(const json_object *mime_types, const char *type)
{
    size_t n = mime_types && json_object_is_type(mime_types, json_type_array)
                   ? json_object_array_length(mime_types)
                   : 0;
    if (n == 0)
        return true;
    char t[128];
    snprintf(t, sizeof t, "%.*s", (int)strcspn(type, ";"), type);
    for (const char *cur = t; cur; cur = parent_type(cur)) {
        for (size_t i = 0; i < n; i++) {
            const char *a = json_object_get_string(
                json_object_array_get_idx(mime_types, i));
            size_t al = a ? strcspn(a, ";") : 0;
            if (a && strlen(cur) == al && strncasecmp(a, cur, al) == 0)
                return true;
        }
    }
    return false;
}

/* ---- paths and storage ------------------------------------------------- */

bool bs_files_value_has(const json_object *v, const char *name)
{
    if (!v)
        return false;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (strcmp(json_object_get_string(json_object_array_get_idx(v, i)),
                       name) == 0)
                return true;
        return false;
    }
    return json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string((json_object *)v), name) == 0;
}

bool bs_files_path(bs_app *app, char *out, size_t cap, const char *a,
                   const char *b, const char *c)
{
    if (!bs_files_name_valid(a) || (b && !bs_files_name_valid(b)) ||
        (c && !bs_files_name_valid(c)))
        return false;
    int n = snprintf(out, cap, "%s/storage/%s%s%s%s%s", app->data_dir, a,
                     b ? "/" : "", b ? b : "", c ? "/" : "", c ? c : "");
    return n > 0 && (size_t)n < cap;
}

/* Base64 (standard, padded) of an MD5 digest, as gocloud stores it. */
static void md5_base64(const unsigned char *md, char out[32])
{
    EVP_EncodeBlock((unsigned char *)out, md, 16);
}

static int write_attrs(const char *path, const char *type, const char *orig,
                       const unsigned char md5[16])
{
    char attrs[4200], b64[32];
    snprintf(attrs, sizeof attrs, "%s.attrs", path);
    md5_base64(md5, b64);
    bs_buf j;
    bs_buf_init(&j);
    bs_buf_puts(&j, "{\"user.cache_control\":\"\",\"user.content_disposition"
                    "\":\"\",\"user.content_encoding\":\"\",\"user.content_"
                    "language\":\"\",\"user.content_type\":");
    bs_buf_json_str(&j, type, strlen(type));
    bs_buf_puts(&j, ",\"user.metadata\":");
    if (orig && *orig) {
        bs_buf_puts(&j, "{\"original-filename\":");
        bs_buf_json_str(&j, orig, strlen(orig));
        bs_buf_puts(&j, "}");
    } else {
        bs_buf_puts(&j, "null");
    }
    bs_buf_puts(&j, ",\"md5\":\"");
    bs_buf_puts(&j, b64);
    bs_buf_puts(&j, "\"}\n");
    int rc = BS_EIO;
    FILE *f = j.oom ? NULL : fopen(attrs, "we");
    if (f) {
        if (fwrite(j.data, 1, j.len, f) == j.len)
            rc = 0;
        if (fclose(f) != 0)
            rc = BS_EIO;
    }
    bs_buf_dispose(&j);
    return rc;
}

/* The MD5 of a file. */
static int md5_file(const char *path, unsigned char md[16])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return BS_EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) ? 0 : BS_ENOMEM;
    char buf[65536];
    ssize_t n;
    while (rc == 0 && (n = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    unsigned int len = 16;
    if (rc == 0)
        EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    close(fd);
    return rc;
}

int bs_files_put_data(bs_app *app, const char *path, const void *data,
                      size_t len, const char *type, const char *orig)
{
    (void)app;
    if (bs_make_parents(path) != 0)
        return BS_EIO;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.partXXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return BS_EIO;
    const char *p = data;
    size_t left = len;
    int rc = 0;
    while (left && rc == 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = BS_EIO;
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    fchmod(fd, 0644);
    if (close(fd) != 0)
        rc = BS_EIO;
    unsigned char md[16];
    EVP_Digest(data, len, md, NULL, EVP_md5(), NULL);
    if (rc == 0)
        rc = write_attrs(path, type, orig, md);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = BS_EIO;
    if (rc)
        unlink(tmp);
    return rc;
}

bool bs_files_s3(bs_app *app, bs_s3 *out)
{
    bs_settings *st = bs_app_settings(app);
    bool on = st && bs_s3_from_json(out, bs_json_get(st->value, "s3"));
    if (st)
        bs_settings_unref(st);
    return on;
}

bool bs_files_key(char *out, size_t cap, const char *a, const char *b,
                  const char *c)
{
    if (!bs_files_name_valid(a) || !bs_files_name_valid(b) ||
        (c && !bs_files_name_valid(c)))
        return false;
    int n = snprintf(out, cap, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
    return n > 0 && (size_t)n < cap;
}

/* An upload to S3: the spooled file or the buffer, as key. */
static int put_s3(const bs_s3 *s3, const char *key, bs_upload *u,
                  const char *type)
{
    char msg[300];
    int rc = u->path ? bs_s3_put_file(s3, key, u->path, type, u->filename,
                                      msg, sizeof msg)
                     : bs_s3_put_data(s3, key, u->data.data, u->data.len,
                                      type, u->filename, msg, sizeof msg);
    if (rc)
        bs_log('E', "S3 upload failed: %s", msg);
    return rc;
}

int bs_files_put(bs_app *app, const char *collection, const char *record,
                 const char *name, bs_upload *u, const char *type)
{
    bs_s3 s3;
    if (bs_files_s3(app, &s3)) {
        char key[600];
        int rc = bs_files_key(key, sizeof key, collection, record, name)
                     ? put_s3(&s3, key, u, type)
                     : BS_EINVAL;
        bs_s3_dispose(&s3);
        return rc;
    }
    char path[4096];
    if (!bs_files_path(app, path, sizeof path, collection, record, name))
        return BS_EINVAL;
    if (!u->path)
        return bs_files_put_data(app, path, u->data.data ? u->data.data : "",
                                 u->data.len, type, u->filename);
    unsigned char md[16];
    int rc = bs_make_parents(path);
    if (rc == 0)
        rc = md5_file(u->path, md);
    if (rc == 0)
        rc = write_attrs(path, type, u->filename, md);
    if (rc == 0) {
        chmod(u->path, 0644);
        if (rename(u->path, path) != 0) {
            bs_log('E', "Cannot store %s: %s", path, strerror(errno));
            rc = BS_EIO;
        }
    }
    if (rc == 0) {
        free(u->path);
        u->path = NULL;
    }
    return rc;
}

void bs_files_remove(bs_app *app, const char *collection, const char *record,
                     const char *name)
{
    bs_s3 s3;
    if (bs_files_s3(app, &s3)) {
        char key[600], thumbs[200], msg[300];
        snprintf(thumbs, sizeof thumbs, "thumbs_%s", name);
        if (bs_files_key(key, sizeof key, collection, record, name) &&
            bs_s3_delete(&s3, key, msg, sizeof msg) != 0)
            bs_log('E', "S3 delete failed: %s", msg);
        if (bs_files_key(key, sizeof key, collection, record, thumbs)) {
            strcat(key, "/");
            if (bs_s3_delete_prefix(&s3, key, msg, sizeof msg) != 0)
                bs_log('E', "S3 delete failed: %s", msg);
        }
        bs_s3_dispose(&s3);
        return;
    }
    char dir[4096];
    if (!bs_files_path(app, dir, sizeof dir, collection, record, NULL) ||
        !bs_files_name_valid(name))
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    char other[200];
    unlinkat(fd, name, 0);
    snprintf(other, sizeof other, "%s.attrs", name);
    unlinkat(fd, other, 0);
    snprintf(other, sizeof other, "thumbs_%s", name);
    bs_remove_tree(fd, other);
    close(fd);
    /* The record's folder goes with its last file. */
    if (rmdir(dir) != 0 && errno != ENOTEMPTY && errno != EEXIST &&
        errno != ENOENT)
        bs_log('D', "rmdir %s: %s", dir, strerror(errno));
}

void bs_files_remove_dir(bs_app *app, const char *collection,
                         const char *record)
{
    bs_s3 s3;
    if (bs_files_s3(app, &s3)) {
        char prefix[600], msg[300];
        bool ok = record ? bs_files_key(prefix, sizeof prefix, collection,
                                        record, NULL)
                         : bs_files_name_valid(collection) &&
                               snprintf(prefix, sizeof prefix, "%s",
                                        collection) < (int)sizeof prefix;
        if (ok && strlen(prefix) + 2 < sizeof prefix) {
            strcat(prefix, "/");
            if (bs_s3_delete_prefix(&s3, prefix, msg, sizeof msg) != 0)
                bs_log('E', "S3 delete failed: %s", msg);
        }
        bs_s3_dispose(&s3);
        return;
    }
    char parent[4096];
    bool ok = record ? bs_files_path(app, parent, sizeof parent, collection,
                                     NULL, NULL)
                     : bs_files_name_valid(collection) &&
                           snprintf(parent, sizeof parent, "%s/storage",
                                    app->data_dir) < (int)sizeof parent;
    if (!ok || (record && !bs_files_name_valid(record)))
        return;
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    bs_remove_tree(fd, record ? record : collection);
    close(fd);
}

void bs_files_read_type(const char *path, char out[128])
{
    out[0] = '\0';
    char attrs[4200];
    snprintf(attrs, sizeof attrs, "%s.attrs", path);
    FILE *f = fopen(attrs, "re");
    if (!f)
        return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    json_object *v = NULL;
    if (bs_json_parse(buf, n, &v) == 0 && v)
        snprintf(out, 128, "%s", bs_json_get_str(v, "user.content_type", ""));
    if (v)
        json_object_put(v);
}

int bs_files_init_tmp(bs_app *app)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/x", app->data_dir, BS_FILES_TMP);
    if (bs_make_parents(path) != 0)
        return BS_EIO;
    path[strlen(path) - 2] = '\0';
    DIR *d = opendir(path);
    if (!d)
        return BS_EIO;
    struct dirent *e;
    int fd = dirfd(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "upload_", 7) == 0 ||
            strncmp(e->d_name, "thumbsrc_", 9) == 0)
            unlinkat(fd, e->d_name, 0);
    closedir(d);
    return 0;
}
