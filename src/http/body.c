/*
 * body.c - reading JSON, multipart and urlencoded request bodies.
 *
 * Form bodies go through the connection-free parsers (multipart.c,
 * urlencoded.c); each value is stored as it completes. A file part (one
 * with a non-empty filename, as Go's multipart reader decides) is kept
 * aside in `files`: whole in memory for a body given as a buffer, or
 * written to a spool file as it arrives for a streamed body; every other
 * part is a string value.
 */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/util.h"
#include "multipart.h"
#include "urlencoded.h"

typedef struct form_state {
    bs_body *body;
    /* The part being collected: its key (NULL: a part without a name,
     * whose content is dropped), file name and type. */
    char *key;
    char *filename;
    char *type;
    bs_buf value;
    /* Streamed bodies only (lim != NULL): the file part being spooled
     * (fd >= 0, path), its running size and limit, and the bytes of
     * non-file values so far. */
    const bs_body_limits *lim;
    int fd;
    char *path;
    uint64_t size, limit;
    bool over;
    size_t values_len;
    bool too_large;
} form_state;

static int add_value(json_object *data, const char *key, json_object *v)
{
    json_object *cur = NULL;
    if (!v)
        return BS_ENOMEM;
    if (!json_object_object_get_ex(data, key, &cur))
        return json_object_object_add(data, key, v) ? BS_ENOMEM : 0;
    if (json_object_is_type(cur, json_type_array))
        return json_object_array_add(cur, v) ? BS_ENOMEM : 0;
    json_object *arr = json_object_new_array();
    if (!arr) {
        json_object_put(v);
        return BS_ENOMEM;
    }
    json_object_array_add(arr, json_object_get(cur));
    json_object_array_add(arr, v);
    return json_object_object_add(data, key, arr) ? BS_ENOMEM : 0;
}

/* Stores one form value: "@jsonPayload" is a JSON object merged in (its
 * keys replace earlier ones), any other key a string. */
static int store_value(bs_body *b, const char *key, const char *v, size_t n)
{
    if (strcmp(key, "@jsonPayload") != 0)
        return add_value(b->data, key, json_object_new_string_len(v, (int)n));
    json_object *payload = NULL;
    int rc = BS_EINVAL;
    if (bs_json_parse(v, n, &payload) == 0 && payload &&
        json_object_is_type(payload, json_type_object)) {
        json_object_object_foreach(payload, k, pv) {
            json_object_object_add(b->data, k, json_object_get(pv));
        }
        rc = 0;
    }
    if (payload)
        json_object_put(payload);
    return rc;
}

/* Drops the spool file of the part being read (its content incomplete). */
static void drop_spool(form_state *st)
{
    if (st->fd >= 0)
        close(st->fd);
    st->fd = -1;
    if (st->path) {
        unlink(st->path);
        free(st->path);
        st->path = NULL;
    }
}

static void clear_part(form_state *st)
{
    drop_spool(st);
    st->size = st->limit = 0;
    st->over = false;
    free(st->key);
    free(st->filename);
    free(st->type);
    st->key = st->filename = st->type = NULL;
    bs_buf_reset(&st->value);
}

/* Opens the spool file of a file part, unless its limit is 0. */
static int spool_begin(form_state *st)
{
    if (!st->key)
        return BS_ENOMEM;
    st->limit = st->lim->file_limit
                    ? st->lim->file_limit(st->lim->user, st->key)
                    : 0;
    if (st->limit == 0)
        return 0;
    size_t n = strlen(st->lim->dir) + 32;
    st->path = malloc(n);
    if (!st->path)
        return BS_ENOMEM;
    snprintf(st->path, n, "%s/upload_XXXXXX", st->lim->dir);
    st->fd = mkostemp(st->path, O_CLOEXEC);
    if (st->fd < 0) {
        bs_log('E', "Cannot create an upload file in %s: %s", st->lim->dir,
               strerror(errno));
        free(st->path);
        st->path = NULL;
        return BS_EIO;
    }
    return 0;
}

/* Writes a piece of a file part to its spool file; past the limit the
 * content is dropped and the part marked over. */
static int spool_data(form_state *st, const char *data, size_t len)
{
    st->size += len;
    if (st->over)
        return 0;
    if (st->size > st->limit) {
        st->over = true;
        drop_spool(st);
        return 0;
    }
    while (len) {
        ssize_t w = write(st->fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            bs_log('E', "Cannot write an upload file: %s", strerror(errno));
            return BS_EIO;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static int part_begin(void *user, const bs_mp_part *p)
{
    form_state *st = user;
    clear_part(st);
    if (!p->form_data || !p->name || !*p->name)
        return 0;
    st->key = strdup(p->name);
    if (p->filename && *p->filename) {
        st->filename = strdup(p->filename);
        st->type = p->content_type ? strdup(p->content_type) : NULL;
        if (!st->filename || (p->content_type && !st->type))
            return BS_ENOMEM;
        if (st->lim)
            return spool_begin(st);
    }
    return st->key ? 0 : BS_ENOMEM;
}

static int part_data(void *user, const char *data, size_t len)
{
    form_state *st = user;
    if (!st->key)
        return 0;
    if (st->lim && st->filename)
        return spool_data(st, data, len);
    if (st->lim) {
        st->values_len += len;
        if (st->values_len > st->lim->value_limit) {
            st->too_large = true;
            return BS_EINVAL;
        }
    }
    bs_buf_append(&st->value, data, len);
    return st->value.oom ? BS_ENOMEM : 0;
}

static int part_end(void *user)
{
    form_state *st = user;
    bs_body *b = st->body;
    int rc = 0;
    if (!st->key) {
        rc = 0;
    } else if (st->filename) {
        if (b->nfiles >= BS_BODY_MAX_FILES)
            return BS_EINVAL;
        bs_upload *f = realloc(b->files, sizeof *f * (size_t)(b->nfiles + 1));
        if (!f)
            return BS_ENOMEM;
        b->files = f;
        bs_upload *u = &f[b->nfiles++];
        u->field = st->key;
        u->filename = st->filename;
        u->type = st->type;
        u->data = st->value;
        u->size = st->lim ? st->size : st->value.len;
        u->over = st->lim && (st->over || st->limit == 0);
        u->path = NULL;
        if (st->fd >= 0) {
            close(st->fd);
            st->fd = -1;
            u->path = st->path;
            st->path = NULL;
        }
        st->key = st->filename = st->type = NULL;
        bs_buf_init(&st->value);
    } else {
        rc = store_value(b, st->key, st->value.data ? st->value.data : "",
                         st->value.len);
    }
    clear_part(st);
    return rc;
}

static int read_multipart(const char *ct, const char *data, size_t len,
                          bs_body *out)
{
    static const bs_mp_callbacks cb = {part_begin, part_data, part_end};
    form_state st = {.body = out, .fd = -1};
    bs_buf_init(&st.value);
    bs_mp *mp = NULL;
    int rc = bs_mp_new(&mp, ct, &cb, &st);
    if (rc == 0)
        rc = bs_mp_feed(mp, data, len);
    /* The whole body has been fed in: without its final boundary it was
     * cut short, and the values collected so far are not stored. */
    if (rc == 0)
        rc = bs_mp_finish(mp);
    bs_mp_free(mp);
    clear_part(&st);
    bs_buf_dispose(&st.value);
    return rc;
}

static int url_pair(void *user, const char *key, size_t klen,
                    const char *value, size_t vlen)
{
    (void)klen;
    return *key ? store_value(user, key, value, vlen) : 0;
}

int bs_body_json(const char *data, size_t len, json_object **out)
{
    *out = NULL;
    const char *p = data ? data : "";
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' ||
                       p[i] == '\t'))
        i++;
    if (i == len) {
        *out = json_object_new_object();
        return *out ? 0 : BS_ENOMEM;
    }
    json_object *v = NULL;
    if (bs_json_parse(p, len, &v) != 0 || !v ||
        !json_object_is_type(v, json_type_object)) {
        if (v)
            json_object_put(v);
        return BS_EINVAL;
    }
    *out = v;
    return 0;
}

static void free_files(bs_upload *files, int n)
{
    for (int i = 0; i < n; i++) {
        free(files[i].field);
        free(files[i].filename);
        free(files[i].type);
        if (files[i].path) {
            unlink(files[i].path);
            free(files[i].path);
        }
        bs_buf_dispose(&files[i].data);
    }
    free(files);
}

void bs_body_dispose(bs_body *b)
{
    if (b->data)
        json_object_put(b->data);
    if (!b->files_borrowed)
        free_files(b->files, b->nfiles);
    memset(b, 0, sizeof *b);
}

int bs_body_parse(const char *content_type, const char *data, size_t len,
                  bs_body *out, bs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *ct = content_type ? content_type : "";
    bool multipart = strncasecmp(ct, "multipart/form-data", 19) == 0;
    bool urlencoded =
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
    int rc;
    if (multipart || urlencoded) {
        out->data = json_object_new_object();
        out->form = true;
        if (!out->data)
            rc = BS_ENOMEM;
        else if (multipart)
            rc = read_multipart(ct, data ? data : "", len, out);
        else
            rc = bs_urlencoded_parse(data ? data : "", len, url_pair,
                                     out);
    } else {
        rc = bs_body_json(data, len, &out->data);
    }
    if (rc) {
        bs_body_dispose(out);
        return bs_error_set(err, 400, "Failed to read the submitted data.");
    }
    return 0;
}

/* ---- streamed bodies -------------------------------------------------- */

struct bs_body_stream {
    bs_mp *mp;
    bs_body body;
    form_state st;
    bs_body_limits lim;
    int rc;           /* the first error, or 0 */
};

int bs_body_stream_new(bs_body_stream **out, const char *content_type,
                       const bs_body_limits *lim)
{
    static const bs_mp_callbacks cb = {part_begin, part_data, part_end};
    *out = NULL;
    bs_body_stream *s = calloc(1, sizeof *s);
    if (!s)
        return BS_ENOMEM;
    s->lim = *lim;
    s->body.form = true;
    s->body.data = json_object_new_object();
    s->st.body = &s->body;
    s->st.lim = &s->lim;
    s->st.fd = -1;
    bs_buf_init(&s->st.value);
    int rc = s->body.data ? bs_mp_new(&s->mp, content_type, &cb, &s->st)
                          : BS_ENOMEM;
    if (rc) {
        bs_body_stream_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* Ends a failed stream: every spooled file is removed at once. */
static void stream_fail(bs_body_stream *s, int rc)
{
    s->rc = rc;
    clear_part(&s->st);
    free_files(s->body.files, s->body.nfiles);
    s->body.files = NULL;
    s->body.nfiles = 0;
}

int bs_body_stream_feed(bs_body_stream *s, const char *data, size_t len)
{
    if (s->rc)
        return s->rc;
    int rc = bs_mp_feed(s->mp, data, len);
    if (rc)
        stream_fail(s, rc);
    return rc;
}

bool bs_body_stream_too_large(const bs_body_stream *s)
{
    return s->st.too_large;
}

int bs_body_stream_finish(bs_body_stream *s, bs_body *out, bs_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = s->rc ? s->rc : bs_mp_finish(s->mp);
    if (rc) {
        if (!s->rc)
            stream_fail(s, rc);
        return bs_error_set(err, 400, "Failed to read the submitted data.");
    }
    *out = s->body;
    memset(&s->body, 0, sizeof s->body);
    return 0;
}

void bs_body_stream_free(bs_body_stream *s)
{
    if (!s)
        return;
    bs_mp_free(s->mp);
    clear_part(&s->st);
    bs_buf_dispose(&s->st.value);
    bs_body_dispose(&s->body);
    free(s);
}
