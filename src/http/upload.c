/*
 * upload.c - multipart bodies streamed as they arrive.
 *
 * The server calls these from its access handler. For a multipart
 * request with an upload directory configured, the body is never
 * collected whole: each chunk goes straight to a bs_body_stream, which
 * spools file parts to files of their own and keeps the other parts as
 * values. The file parts are bounded per key by the configuration's
 * limit (a record field's maxSize), the values by the server's body
 * limit, and the whole body by the two together (so Content-Length is
 * still checked before anything is read).
 *
 * When the body is complete the stream is finished into r->form, which
 * bs_req_read_body hands to the handler. A request that ends any other
 * way (cut short, refused, the client gone) disposes the stream, which
 * removes every file it spooled.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "request.h"

static uint64_t part_limit(void *user, const char *key)
{
    bs_req *r = user;
    return r->uploads->limit(r->uploads->user, r, key);
}

void bs_req_upload_begin(bs_req *r)
{
    const bs_upload_config *u = r->uploads;
    const char *ct = bs_req_header(r, "Content-Type");
    if (!u || !u->dir || !u->limit)
        return;
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        if (u->limit(u->user, r, NULL) == BS_UPLOAD_UNLIMITED) {
            r->drop_body = true;
            r->body_limit = SIZE_MAX;
        }
        return;
    }
    bs_body_limits lim = {.dir = u->dir,
                          .value_limit = r->body_limit,
                          .file_limit = part_limit,
                          .user = r};
    /* A body without a usable boundary is read as before and refused by
     * bs_body_parse. */
    if (bs_body_stream_new(&r->upload, ct, &lim) != 0)
        return;
    r->streamed = true;
    r->value_limit = r->body_limit;
    uint64_t files = u->limit(u->user, r, NULL);
    if (files > SIZE_MAX - r->body_limit)
        files = SIZE_MAX - r->body_limit;
    r->body_limit += (size_t)files;
}

int bs_req_upload_feed(bs_req *r, const char *data, size_t len)
{
    int rc = bs_body_stream_feed(r->upload, data, len);
    if (rc && bs_body_stream_too_large(r->upload))
        return BS_EINVAL;
    return 0; /* other failures are answered once the body has ended */
}

void bs_req_upload_end(bs_req *r)
{
    if (!r->upload)
        return;
    bs_body *b = calloc(1, sizeof *b);
    bs_error err;
    bs_error_init(&err);
    if (!b)
        r->form_rc = BS_ENOMEM;
    else
        r->form_rc = bs_body_stream_finish(r->upload, b, &err);
    bs_error_dispose(&err);
    if (r->form_rc) {
        free(b);
        b = NULL;
    }
    r->form = b;
    bs_body_stream_free(r->upload);
    r->upload = NULL;
}

void bs_req_upload_dispose(bs_req *r)
{
    bs_body_stream_free(r->upload);
    r->upload = NULL;
    if (r->form) {
        bs_body_dispose(r->form);
        free(r->form);
        r->form = NULL;
    }
}
