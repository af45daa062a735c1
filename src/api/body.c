/*
 * body.c - reading JSON, multipart and urlencoded request bodies.
 *
 * Form bodies are parsed with libmicrohttpd's post processor over the
 * already buffered body; values arrive in pieces and are joined per key.
 */
#include "body.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"

#define MAX_FILES 256

typedef struct form_state {
    bs_body *body;
    /* The value being collected (pieces of one key). */
    char *key;
    char *filename;
    char *type;
    bs_buf value;
    bool failed;
} form_state;

static void add_value(json_object *data, const char *key, json_object *v)
{
    json_object *cur = NULL;
    if (!json_object_object_get_ex(data, key, &cur)) {
        json_object_object_add(data, key, v);
        return;
    }
    if (json_object_is_type(cur, json_type_array)) {
        json_object_array_add(cur, v);
        return;
    }
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_get(cur));
    json_object_array_add(arr, v);
    json_object_object_add(data, key, arr);
}

/* Stores the value collected so far. */
static void flush(form_state *st)
{
    if (!st->key)
        return;
    bs_body *b = st->body;
    if (st->filename) {
        if (b->nfiles < MAX_FILES) {
            bs_upload *f = realloc(b->files, sizeof *f * (size_t)(b->nfiles + 1));
            if (f) {
                b->files = f;
                bs_upload *u = &f[b->nfiles++];
                u->field = st->key;
                u->filename = st->filename;
                u->type = st->type;
                u->data = st->value;
                st->key = st->filename = st->type = NULL;
                bs_buf_init(&st->value);
                return;
            }
        }
        st->failed = true;
    } else if (strcmp(st->key, "@jsonPayload") == 0) {
        json_object *payload = NULL;
        if (bs_json_parse(st->value.data ? st->value.data : "",
                          st->value.len, &payload) == 0 && payload &&
            json_object_is_type(payload, json_type_object)) {
            json_object_object_foreach(payload, k, v) {
                json_object_object_add(b->data, k, json_object_get(v));
            }
        } else {
            st->failed = true;
        }
        if (payload)
            json_object_put(payload);
    } else {
        add_value(b->data, st->key,
                  json_object_new_string_len(
                      st->value.data ? st->value.data : "",
                      (int)st->value.len));
    }
    free(st->key);
    free(st->filename);
    free(st->type);
    st->key = st->filename = st->type = NULL;
    bs_buf_reset(&st->value);
}

static enum MHD_Result form_iter(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *filename,
                                 const char *content_type,
                                 const char *transfer_encoding,
                                 const char *data, uint64_t off, size_t size)
{
    form_state *st = cls;
    (void)kind;
    (void)transfer_encoding;
    if (!key)
        return MHD_YES;
    /* A new value starts at offset 0. */
    if (off == 0)
        flush(st);
    if (!st->key) {
        st->key = strdup(key);
        st->filename = filename ? strdup(filename) : NULL;
        st->type = content_type ? strdup(content_type) : NULL;
    }
    if (size)
        bs_buf_append(&st->value, data, size);
    return st->value.oom ? MHD_NO : MHD_YES;
}

static int read_form(bs_req *r, bs_body *out)
{
    form_state st = {.body = out};
    bs_buf_init(&st.value);
    struct MHD_PostProcessor *pp =
        MHD_create_post_processor(r->conn, 16 * 1024, form_iter, &st);
    if (!pp)
        return BS_EINVAL;
    enum MHD_Result ok = MHD_YES;
    if (r->body.len)
        ok = MHD_post_process(pp, r->body.data, r->body.len);
    /* The whole body has been fed in, so a processor that has not reached
     * its end state saw a body cut short (a multipart body without its
     * final boundary): the values collected so far are not stored. */
    if (MHD_destroy_post_processor(pp) != MHD_YES)
        ok = MHD_NO;
    flush(&st);
    bs_buf_dispose(&st.value);
    free(st.key);
    free(st.filename);
    free(st.type);
    return ok == MHD_YES && !st.failed ? 0 : BS_EINVAL;
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

int bs_body_read(bs_req *r, bs_body *out, bs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *ct = bs_req_header(r, "Content-Type");
    int rc;
    if (r->conn && ct && (strncasecmp(ct, "multipart/form-data", 19) == 0 ||
               strncasecmp(ct, "application/x-www-form-urlencoded", 33) ==
                   0)) {
        out->data = json_object_new_object();
        out->form = true;
        rc = out->data ? read_form(r, out) : BS_ENOMEM;
    } else {
        bs_error tmp;
        bs_error_init(&tmp);
        rc = bs_req_json_body(r, &out->data, &tmp);
        bs_error_dispose(&tmp);
    }
    if (rc) {
        bs_body_dispose(out);
        return bs_error_set(err, 400, "Failed to read the submitted data.");
    }
    return 0;
}
