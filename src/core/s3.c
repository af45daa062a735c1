/*
 * s3.c - the S3 client of s3.h on libcurl.
 *
 * One function, call(), sends every request: it builds the URL (path-
 * style or virtual-hosted), adds the headers SigV4 needs and lets
 * libcurl sign. Bodies go up from a file or a buffer through a read
 * callback; answers go to a buffer (small XML documents, capped), a
 * file, or nowhere. The streamed GET drives a curl multi handle from
 * the reader: it runs the transfer until some bytes are buffered and
 * pauses it while the buffer is full, so a download holds one buffer
 * whatever the object's size.
 */
#include "s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "basalt.h"

#define XML_MAX (4u << 20)
#define STREAM_BUF (256 * 1024)

static char *dup_str(const json_object *o, const char *key)
{
    return strdup(bs_json_get_str(o, key, ""));
}

bool bs_s3_from_json(bs_s3 *out, const json_object *cfg)
{
    memset(out, 0, sizeof *out);
    if (!bs_json_get_bool(cfg, "enabled", false))
        return false;
    out->bucket = dup_str(cfg, "bucket");
    out->region = dup_str(cfg, "region");
    out->endpoint = dup_str(cfg, "endpoint");
    out->access_key = dup_str(cfg, "accessKey");
    out->secret = dup_str(cfg, "secret");
    out->path_style = bs_json_get_bool(cfg, "forcePathStyle", false);
    if (!out->bucket || !out->region || !out->endpoint || !out->access_key ||
        !out->secret || !*out->bucket || !*out->endpoint) {
        bs_s3_dispose(out);
        return false;
    }
    return true;
}

void bs_s3_dispose(bs_s3 *s)
{
    free(s->bucket);
    free(s->region);
    free(s->endpoint);
    free(s->access_key);
    if (s->secret)
        explicit_bzero(s->secret, strlen(s->secret));
    free(s->secret);
    memset(s, 0, sizeof *s);
}

/* AWS's URI encoding: unreserved characters kept, the rest %XX (and '/'
 * kept when slash is true). */
static void uri_encode(bs_buf *b, const char *s, bool slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~' || (slash && c == '/')) {
            bs_buf_putc(b, (char)c);
        } else {
            bs_buf_putc(b, '%');
            bs_buf_putc(b, hex[c >> 4]);
            bs_buf_putc(b, hex[c & 15]);
        }
    }
}

/* The object URL of key (NULL: the bucket) with an encoded query. */
static void object_url(const bs_s3 *s, const char *key, const char *query,
                       bs_buf *url)
{
    const char *ep = s->endpoint;
    const char *scheme = "https://";
    const char *sep = strstr(ep, "://");
    if (sep) {
        scheme = NULL;
    }
    size_t n = strlen(ep);
    while (n && ep[n - 1] == '/')
        n--;
    if (s->path_style) {
        if (scheme)
            bs_buf_puts(url, scheme);
        bs_buf_append(url, ep, n);
        bs_buf_putc(url, '/');
        uri_encode(url, s->bucket, false);
    } else {
        const char *host = sep ? sep + 3 : ep;
        if (sep)
            bs_buf_append(url, ep, (size_t)(host - ep));
        else
            bs_buf_puts(url, scheme);
        bs_buf_puts(url, s->bucket);
        bs_buf_putc(url, '.');
        bs_buf_append(url, host, (size_t)(ep + n - host));
    }
    bs_buf_putc(url, '/');
    if (key)
        uri_encode(url, key, true);
    if (query && *query) {
        bs_buf_putc(url, '?');
        bs_buf_puts(url, query);
    }
}

typedef struct call {
    const char *method;
    const char *key;
    const char *query;          /* sorted and encoded */
    const char *type;           /* Content-Type of an upload */
    const char *orig;           /* x-amz-meta-original-filename */
    const char *range;          /* "bytes=a-b" */
    FILE *in;                   /* upload from a file ... */
    const char *data;           /* ... or a buffer */
    size_t len, pos;
    bs_buf *out;                /* answer to a buffer (capped) */
    FILE *out_file;             /* ... or a file */
    bs_s3_attrs *attrs;         /* response headers */
    long status;
} call;

static size_t read_body(char *p, size_t size, size_t n, void *user)
{
    call *c = user;
    if (c->in)
        return fread(p, 1, size * n, c->in);
    size_t k = c->len - c->pos < size * n ? c->len - c->pos : size * n;
    memcpy(p, c->data + c->pos, k);
    c->pos += k;
    return k;
}

static size_t write_body(char *p, size_t size, size_t n, void *user)
{
    call *c = user;
    if (c->out_file)
        return fwrite(p, 1, size * n, c->out_file);
    if (c->out) {
        if (c->out->len + size * n > XML_MAX)
            return 0;
        bs_buf_append(c->out, p, size * n);
        return c->out->oom ? 0 : size * n;
    }
    return size * n;
}

static void header_value(const char *line, size_t n, const char *name,
                         char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = n - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    snprintf(out, cap, "%.*s", (int)vl, v);
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    call *c = user;
    size_t len = size * n;
    if (c->attrs) {
        char v[128] = "";
        header_value(p, len, "Content-Type", c->attrs->type,
                     sizeof c->attrs->type);
        header_value(p, len, "ETag", c->attrs->etag, sizeof c->attrs->etag);
        header_value(p, len, "Content-Length", v, sizeof v);
        if (v[0])
            c->attrs->size = strtoull(v, NULL, 10);
        v[0] = '\0';
        header_value(p, len, "Last-Modified", v, sizeof v);
        if (v[0])
            c->attrs->mtime = (int64_t)curl_getdate(v, NULL);
    }
    return len;
}

/* Sets up a handle for c; *hdrs receives the header list to free. */
static CURL *prepare(const bs_s3 *s, call *c, struct curl_slist **hdrs,
                     bs_buf *url, char *userpwd, size_t upcap)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    object_url(s, c->key, c->query, url);
    char sigv4[160];
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3",
             *s->region ? s->region : "us-east-1");
    snprintf(userpwd, upcap, "%s:%s", s->access_key, s->secret);
    struct curl_slist *l = NULL;
    l = curl_slist_append(l, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    l = curl_slist_append(l, "Accept-Encoding: identity");
    l = curl_slist_append(l, "Expect:");
    char line[600];
    if (c->type) {
        snprintf(line, sizeof line, "Content-Type: %s", c->type);
        l = curl_slist_append(l, line);
    }
    if (c->orig && *c->orig) {
        bs_buf v;
        bs_buf_init(&v);
        bs_buf_puts(&v, "x-amz-meta-original-filename: ");
        /* Header values stay ASCII: the name is percent-encoded. */
        uri_encode(&v, c->orig, false);
        if (!v.oom && v.len < 1024)
            l = curl_slist_append(l, v.data);
        bs_buf_dispose(&v);
    }
    if (c->range) {
        snprintf(line, sizeof line, "Range: %s", c->range);
        l = curl_slist_append(l, line);
    }
    *hdrs = l;
    curl_easy_setopt(h, CURLOPT_URL, url->data);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "basalt/" BASALT_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (strcmp(c->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(h, CURLOPT_READDATA, c);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)c->len);
    } else if (strcmp(c->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(c->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    }
    return h;
}

/* Runs c. Returns 0 when the transfer completed (c->status tells the
 * answer), else BS_EIO with a reason in msg. */
static int perform(const bs_s3 *s, call *c, char *msg, size_t cap)
{
    struct curl_slist *hdrs = NULL;
    bs_buf url;
    bs_buf_init(&url);
    char userpwd[600];
    CURL *h = prepare(s, c, &hdrs, &url, userpwd, sizeof userpwd);
    int rc = BS_EIO;
    if (h && !url.oom) {
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
        CURLcode res = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
        if (res == CURLE_OK)
            rc = 0;
        else if (msg)
            snprintf(msg, cap, "%s %s: %s", c->method, c->key ? c->key : "/",
                     curl_easy_strerror(res));
    } else if (msg) {
        snprintf(msg, cap, "failed to initialize libcurl");
    }
    if (h)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    explicit_bzero(userpwd, sizeof userpwd);
    bs_buf_dispose(&url);
    return rc;
}

/* The S3 error code and message of an error answer, into msg. */
static void error_reason(const call *c, const bs_buf *body, char *msg,
                         size_t cap)
{
    if (!msg)
        return;
    const char *code = body && body->data ? strstr(body->data, "<Code>") : NULL;
    const char *end = code ? strstr(code, "</Code>") : NULL;
    if (code && end)
        snprintf(msg, cap, "%s %s: %ld %.*s", c->method,
                 c->key ? c->key : "/", c->status, (int)(end - code - 6),
                 code + 6);
    else
        snprintf(msg, cap, "%s %s: status %ld", c->method,
                 c->key ? c->key : "/", c->status);
}

static int put(const bs_s3 *s, call *c, char *msg, size_t cap)
{
    bs_buf err;
    bs_buf_init(&err);
    c->method = "PUT";
    c->out = &err;
    int rc = perform(s, c, msg, cap);
    if (rc == 0 && (c->status < 200 || c->status > 299)) {
        error_reason(c, &err, msg, cap);
        rc = BS_EIO;
    }
    bs_buf_dispose(&err);
    return rc;
}

int bs_s3_put_file(const bs_s3 *s, const char *key, const char *path,
                   const char *type, const char *orig, char *msg, size_t cap)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        if (msg)
            snprintf(msg, cap, "%s: %s", path, strerror(errno));
        return BS_EIO;
    }
    fseeko(f, 0, SEEK_END);
    off_t size = ftello(f);
    rewind(f);
    call c = {.key = key, .type = type, .orig = orig, .in = f,
              .len = size > 0 ? (size_t)size : 0};
    int rc = put(s, &c, msg, cap);
    fclose(f);
    return rc;
}

int bs_s3_put_data(const bs_s3 *s, const char *key, const void *data,
                   size_t len, const char *type, const char *orig,
                   char *msg, size_t cap)
{
    call c = {.key = key, .type = type, .orig = orig,
              .data = data ? data : "", .len = len};
    return put(s, &c, msg, cap);
}

int bs_s3_head(const bs_s3 *s, const char *key, bs_s3_attrs *out)
{
    memset(out, 0, sizeof *out);
    call c = {.method = "HEAD", .key = key, .attrs = out};
    if (perform(s, &c, NULL, 0) != 0)
        return BS_EIO;
    if (c.status == 404)
        return BS_ENOTFOUND;
    return c.status >= 200 && c.status <= 299 ? 0 : BS_EIO;
}

int bs_s3_get_file(const bs_s3 *s, const char *key, const char *path)
{
    FILE *f = fopen(path, "wbe");
    if (!f)
        return BS_EIO;
    call c = {.method = "GET", .key = key, .out_file = f};
    int rc = perform(s, &c, NULL, 0);
    if (fclose(f) != 0)
        rc = BS_EIO;
    if (rc == 0 && c.status == 404)
        rc = BS_ENOTFOUND;
    else if (rc == 0 && (c.status < 200 || c.status > 299))
        rc = BS_EIO;
    return rc;
}

int bs_s3_delete(const bs_s3 *s, const char *key, char *msg, size_t cap)
{
    bs_buf err;
    bs_buf_init(&err);
    call c = {.method = "DELETE", .key = key, .out = &err};
    int rc = perform(s, &c, msg, cap);
    if (rc == 0 && c.status != 404 && (c.status < 200 || c.status > 299)) {
        error_reason(&c, &err, msg, cap);
        rc = BS_EIO;
    }
    bs_buf_dispose(&err);
    return rc;
}

/* The text of <tag>...</tag> from *p on, XML entities decoded, into out;
 * *p moves past it. False when there is none. */
static bool next_element(const char **p, const char *end, const char *tag,
                         bs_buf *out)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = strstr(*p, open);
    if (!a || a >= end)
        return false;
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b || b > end)
        return false;
    bs_buf_reset(out);
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'},
                {"&quot;", '"'}, {"&apos;", '\''}};
    for (const char *q = a; q < b; q++) {
        bool done = false;
        for (size_t i = 0; *q == '&' && i < sizeof ents / sizeof ents[0]; i++) {
            size_t n = strlen(ents[i].ent);
            if ((size_t)(b - q) >= n && strncmp(q, ents[i].ent, n) == 0) {
                bs_buf_putc(out, ents[i].c);
                q += n - 1;
                done = true;
                break;
            }
        }
        if (!done)
            bs_buf_putc(out, *q);
    }
    bs_buf_putc(out, '\0');
    *p = b + strlen(close);
    return !out->oom;
}

int bs_s3_list(const bs_s3 *s, const char *prefix,
               void (*fn)(void *user, const char *key), void *user,
               char *msg, size_t cap)
{
    bs_buf token, query, body, v;
    bs_buf_init(&token);
    bs_buf_init(&query);
    bs_buf_init(&body);
    bs_buf_init(&v);
    int rc = 0;
    for (int page = 0; rc == 0 && page < 100000; page++) {
        /* Sorted by name, encoded: SigV4's canonical query. */
        bs_buf_reset(&query);
        if (token.len) {
            bs_buf_puts(&query, "continuation-token=");
            uri_encode(&query, token.data, false);
            bs_buf_putc(&query, '&');
        }
        bs_buf_puts(&query, "list-type=2&prefix=");
        uri_encode(&query, prefix, false);
        bs_buf_putc(&query, '\0');
        bs_buf_reset(&body);
        call c = {.method = "GET", .query = query.data, .out = &body};
        rc = query.oom ? BS_ENOMEM : perform(s, &c, msg, cap);
        if (rc)
            break;
        bs_buf_putc(&body, '\0');
        if (c.status < 200 || c.status > 299 || body.oom) {
            error_reason(&c, &body, msg, cap);
            rc = BS_EIO;
            break;
        }
        const char *p = body.data, *end = body.data + body.len;
        while (next_element(&p, end, "Key", &v))
            fn(user, v.data);
        p = body.data;
        bool more = next_element(&p, end, "IsTruncated", &v) &&
                    strcmp(v.data, "true") == 0;
        p = body.data;
        if (!more || !next_element(&p, end, "NextContinuationToken", &v))
            break;
        bs_buf_reset(&token);
        bs_buf_puts(&token, v.data);
        bs_buf_putc(&token, '\0');
        token.len--; /* keep the terminator out of the length */
    }
    bs_buf_dispose(&token);
    bs_buf_dispose(&query);
    bs_buf_dispose(&body);
    bs_buf_dispose(&v);
    return rc;
}

typedef struct key_list {
    char **keys;
    size_t n, cap;
    bool oom;
} key_list;

static void collect_key(void *user, const char *key)
{
    key_list *l = user;
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **k = realloc(l->keys, sizeof *k * cap);
        if (!k) {
            l->oom = true;
            return;
        }
        l->keys = k;
        l->cap = cap;
    }
    l->keys[l->n] = strdup(key);
    if (l->keys[l->n])
        l->n++;
    else
        l->oom = true;
}

int bs_s3_delete_prefix(const bs_s3 *s, const char *prefix, char *msg,
                        size_t cap)
{
    if (!prefix || !*prefix)
        return BS_EINVAL; /* never the whole bucket */
    key_list l = {0};
    int rc = bs_s3_list(s, prefix, collect_key, &l, msg, cap);
    if (rc == 0 && l.oom)
        rc = BS_ENOMEM;
    for (size_t i = 0; i < l.n; i++) {
        if (rc == 0)
            rc = bs_s3_delete(s, l.keys[i], msg, cap);
        free(l.keys[i]);
    }
    free(l.keys);
    return rc;
}

/* ---- streamed GET -------------------------------------------------------- */

struct bs_s3_stream {
    CURLM *multi;
    CURL *easy;
    struct curl_slist *hdrs;
    call c;
    char range[80];
    char userpwd[600];
    char *buf;
    size_t len;
    bool paused, done, failed;
    uint64_t want, sent;
};

static size_t stream_write(char *p, size_t size, size_t n, void *user)
{
    bs_s3_stream *st = user;
    size_t k = size * n;
    if (st->c.status == 0)
        curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &st->c.status);
    if (st->c.status < 200 || st->c.status > 299) {
        st->failed = true;
        return 0;
    }
    if (st->len + k > STREAM_BUF) {
        st->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    memcpy(st->buf + st->len, p, k);
    st->len += k;
    return k;
}

int bs_s3_stream_open(const bs_s3 *s, const char *key, uint64_t from,
                      uint64_t len, bs_s3_stream **out)
{
    *out = NULL;
    bs_s3_stream *st = calloc(1, sizeof *st);
    if (!st)
        return BS_ENOMEM;
    st->buf = malloc(STREAM_BUF);
    st->want = len;
    st->c.method = "GET";
    st->c.key = key;
    if (len) {
        snprintf(st->range, sizeof st->range, "bytes=%llu-%llu",
                 (unsigned long long)from,
                 (unsigned long long)(from + len - 1));
        st->c.range = st->range;
    }
    bs_buf url;
    bs_buf_init(&url);
    st->easy = st->buf ? prepare(s, &st->c, &st->hdrs, &url, st->userpwd,
                                 sizeof st->userpwd)
                       : NULL;
    st->multi = st->easy ? curl_multi_init() : NULL;
    if (!st->multi || url.oom) {
        bs_buf_dispose(&url);
        bs_s3_stream_free(st);
        return BS_EIO;
    }
    /* The URL is copied by libcurl. */
    bs_buf_dispose(&url);
    curl_easy_setopt(st->easy, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(st->easy, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(st->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(st->easy, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_multi_add_handle(st->multi, st->easy);
    *out = st;
    return 0;
}

/* Runs the transfer until bytes are buffered or it ends. */
static void pump(bs_s3_stream *st)
{
    while (st->len == 0 && !st->done && !st->failed) {
        if (st->paused) {
            st->paused = false;
            curl_easy_pause(st->easy, CURLPAUSE_CONT);
        }
        int running = 0;
        if (curl_multi_perform(st->multi, &running) != CURLM_OK) {
            st->failed = true;
            break;
        }
        int left;
        CURLMsg *m;
        while ((m = curl_multi_info_read(st->multi, &left)) != NULL) {
            if (m->msg == CURLMSG_DONE) {
                st->done = true;
                if (m->data.result != CURLE_OK)
                    st->failed = true;
            }
        }
        if (st->len || st->done || st->failed || st->paused)
            break;
        curl_multi_poll(st->multi, NULL, 0, 1000, NULL);
    }
}

ssize_t bs_s3_stream_read(void *stream, uint64_t pos, char *buf, size_t max)
{
    bs_s3_stream *st = stream;
    (void)pos;
    if (st->sent >= st->want)
        return -1;
    if (st->len == 0)
        pump(st);
    if (st->len == 0)
        return st->failed || !st->done || st->sent < st->want ? -2 : -1;
    size_t k = st->len < max ? st->len : max;
    memcpy(buf, st->buf, k);
    memmove(st->buf, st->buf + k, st->len - k);
    st->len -= k;
    st->sent += k;
    return (ssize_t)k;
}

void bs_s3_stream_free(void *stream)
{
    bs_s3_stream *st = stream;
    if (!st)
        return;
    if (st->multi && st->easy)
        curl_multi_remove_handle(st->multi, st->easy);
    if (st->easy)
        curl_easy_cleanup(st->easy);
    if (st->multi)
        curl_multi_cleanup(st->multi);
    curl_slist_free_all(st->hdrs);
    explicit_bzero(st->userpwd, sizeof st->userpwd);
    free(st->buf);
    free(st);
}
