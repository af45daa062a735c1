/*
 * body.c - reading JSON, multipart and urlencoded request bodies.
 *
 * Form bodies go through the connection-free parsers (multipart.c,
 * urlencoded.c); each value is stored as it completes. A file part (one
 * with a non-empty filename, as Go's multipart reader decides) is kept
 * aside whole in `files`; every other part is a string value.
 */
#include "body.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static void clear_part(form_state *st)
{
    free(st->key);
    free(st->filename);
    free(st->type);
    st->key = st->filename = st->type = NULL;
    bs_buf_reset(&st->value);
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
    }
    return st->key ? 0 : BS_ENOMEM;
}

static int part_data(void *user, const char *data, size_t len)
{
    form_state *st = user;
    if (!st->key)
        return 0;
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
    form_state st = {.body = out};
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

void bs_body_dispose(bs_body *b)
{
    if (b->data)
        json_object_put(b->data);
    for (int i = 0; i < b->nfiles; i++) {
        free(b->files[i].field);
        free(b->files[i].filename);
        free(b->files[i].type);
        bs_buf_dispose(&b->files[i].data);
    }
    free(b->files);
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
