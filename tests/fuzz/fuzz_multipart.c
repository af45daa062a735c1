/*
 * fuzz_multipart.c - the multipart/form-data parser (src/http/multipart.c)
 * and the body reader on top of it (src/http/body.c).
 *
 * Three properties on every input:
 *
 * 1. Chunking does not matter. The input is a body (after a first line
 *    holding its Content-Type when it starts with "multipart", else with
 *    the boundary XyZ); it is parsed whole, one byte at a time, and in
 *    pieces whose sizes come from the input. The three runs must return
 *    the same code and report the same parts with the same content.
 * 2. The body reader either succeeds with an object of strings, arrays
 *    and @jsonPayload values, or fails leaving nothing behind; the same
 *    input read as a urlencoded form gives only strings and arrays of
 *    strings.
 * 3. Round trip. Parts (name, optional filename and type, content) are
 *    drawn from the input, written out as a multipart body with one of a
 *    few boundaries, and parsed back in input-driven pieces: every part
 *    must come back exactly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basalt.h"
#include "fuzz_dict.h"
#include "http/body.h"
#include "http/multipart.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_add_dict(argc, argv, "tests/fuzz/fuzz_multipart.dict");
    return 0;
}

/* What a parse reported, one record per callback:
 * "B<form>\0name\0filename\0type\0", "D<bytes>" merged per part, "E". */
typedef struct log {
    bs_buf out;
} log;

static void put_opt(bs_buf *b, const char *s)
{
    bs_buf_putc(b, s ? '+' : '-');
    if (s)
        bs_buf_append(b, s, strlen(s) + 1);
}

static int log_begin(void *user, const bs_mp_part *p)
{
    log *l = user;
    bs_buf_putc(&l->out, p->form_data ? 'B' : 'b');
    put_opt(&l->out, p->name);
    put_opt(&l->out, p->filename);
    put_opt(&l->out, p->content_type);
    bs_buf_putc(&l->out, '|');
    return 0;
}

static int log_data(void *user, const char *data, size_t len)
{
    log *l = user;
    bs_buf_append(&l->out, data, len);
    return 0;
}

static int log_end(void *user)
{
    log *l = user;
    bs_buf_putc(&l->out, '|');
    bs_buf_putc(&l->out, 'E');
    return 0;
}

static const bs_mp_callbacks LOG_CB = {log_begin, log_data, log_end};

/* Parses body in pieces: sizes[i % nsizes] bytes each (0: whole). */
static int run(const char *ct, const char *body, size_t len,
               const uint8_t *sizes, size_t nsizes, bs_buf *out)
{
    log l;
    bs_buf_init(&l.out);
    bs_mp *mp = NULL;
    int rc = bs_mp_new(&mp, ct, &LOG_CB, &l);
    size_t i = 0, k = 0;
    while (rc == 0 && i < len) {
        size_t n = len - i;
        if (nsizes) {
            size_t want = (size_t)sizes[k++ % nsizes] + 1;
            if (want < n)
                n = want;
        }
        rc = bs_mp_feed(mp, body + i, n);
        i += n;
    }
    if (rc == 0 && mp)
        rc = bs_mp_finish(mp);
    bs_mp_free(mp);
    if (l.out.oom)
        abort();
    *out = l.out;
    return rc;
}

static bool same(const bs_buf *a, const bs_buf *b)
{
    return a->len == b->len && (a->len == 0 ||
                                memcmp(a->data, b->data, a->len) == 0);
}

static const uint8_t ONE = 0;

static void check_chunking(const char *ct, const char *body, size_t len,
                           const uint8_t *sizes, size_t nsizes)
{
    bs_buf whole, bytes, pieces;
    int rc = run(ct, body, len, NULL, 0, &whole);
    if (run(ct, body, len, &ONE, 1, &bytes) != rc || !same(&whole, &bytes))
        abort();
    if (run(ct, body, len, sizes, nsizes, &pieces) != rc ||
        !same(&whole, &pieces))
        abort();
    bs_buf_dispose(&whole);
    bs_buf_dispose(&bytes);
    bs_buf_dispose(&pieces);
}

static void check_strings(json_object *v, bool nested)
{
    if (json_object_is_type(v, json_type_string))
        return;
    if (!nested && json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++)
            check_strings(json_object_array_get_idx(v, i), true);
        return;
    }
    abort();
}

static void check_body(const char *ct, const char *body, size_t len)
{
    for (int urlencoded = 0; urlencoded < 2; urlencoded++) {
        bs_error err;
        bs_error_init(&err);
        bs_body b;
        int rc = bs_body_parse(urlencoded ? "application/x-www-form-urlencoded"
                                          : ct,
                               body, len, &b, &err);
        if (rc == 0) {
            if (!b.data || !json_object_is_type(b.data, json_type_object))
                abort();
            /* A form without @jsonPayload (which may be spelled with
             * escapes) has only strings and arrays of them. A Content-Type
             * line that is not multipart/form-data reads JSON. */
            if (b.form && !memmem(body, len, "jsonPayload", 11) &&
                !(urlencoded && memchr(body, '%', len))) {
                json_object_object_foreach(b.data, k, v) {
                    (void)k;
                    check_strings(v, false);
                }
            }
            for (int i = 0; i < b.nfiles; i++) {
                if (!b.files[i].field || !b.files[i].filename ||
                    !*b.files[i].filename)
                    abort();
            }
            bs_body_dispose(&b);
        } else if (rc != BS_EHTTP || err.status != 400 || b.data ||
                   b.files || b.nfiles) {
            abort();
        }
        bs_error_dispose(&err);
    }
}

/* Reads the fuzz input as a stream of choices. */
typedef struct src {
    const uint8_t *p;
    size_t n;
} src;

static unsigned take(src *s)
{
    if (!s->n)
        return 0;
    s->n--;
    return *s->p++;
}

static void take_text(src *s, size_t max, bs_buf *out, bool line_safe)
{
    size_t n = max ? take(s) % (max + 1) : 0;
    if (n > s->n)
        n = s->n;
    for (size_t i = 0; i < n; i++) {
        char c = (char)s->p[i];
        /* Header values hold no line break or NUL, and no white space
         * at their ends (the parser trims it). */
        if (line_safe && (c == '\r' || c == '\n' || c == '\0' || c == ' ' ||
                          c == '\t'))
            c = '_';
        bs_buf_putc(out, c);
    }
    s->p += n;
    s->n -= n;
}

static void put_quoted(bs_buf *b, const bs_buf *v)
{
    bs_buf_putc(b, '"');
    for (size_t i = 0; i < v->len; i++) {
        if (v->data[i] == '"' || v->data[i] == '\\')
            bs_buf_putc(b, '\\');
        bs_buf_putc(b, v->data[i]);
    }
    bs_buf_putc(b, '"');
}

static const char *const BOUNDARIES[] = {
    "XyZ", "a", "--", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "b o\"u",
};

static void check_round_trip(const uint8_t *data, size_t size)
{
    src s = {data, size};
    const char *boundary = BOUNDARIES[take(&s) % 5];
    char ct[128];
    bs_buf body, want, name, file, type, content;
    bs_buf_init(&body);
    bs_buf_init(&want);
    bs_buf_init(&name);
    bs_buf_init(&file);
    bs_buf_init(&type);
    bs_buf_init(&content);
    bs_buf delim;
    bs_buf_init(&delim);
    bs_buf_printf(&delim, "\r\n--%s", boundary);
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=\"%s\"",
             strcmp(boundary, "b o\"u") == 0 ? "b o\\\"u" : boundary);
    unsigned nparts = take(&s) % 6;
    if (take(&s) & 1)
        bs_buf_puts(&body, "preamble\r\n");
    for (unsigned i = 0; i < nparts; i++) {
        unsigned flags = take(&s);
        bs_buf_reset(&name);
        bs_buf_reset(&file);
        bs_buf_reset(&type);
        bs_buf_reset(&content);
        take_text(&s, 24, &name, true);
        if (flags & 1)
            take_text(&s, 40, &file, true);
        if (flags & 2)
            take_text(&s, 24, &type, true);
        take_text(&s, 255, &content, false);
        /* Content that holds the delimiter (or forms it with the
         * delimiter that follows) cannot round-trip: drop it. */
        bs_buf_append(&content, delim.data, delim.len);
        const char *hit = memmem(content.data, content.len, delim.data,
                                 delim.len);
        content.len = (size_t)(hit - content.data) == content.len - delim.len
                          ? content.len - delim.len
                          : 0;
        bs_buf_printf(&body, "--%s\r\nContent-Disposition: form-data; name=",
                      boundary);
        put_quoted(&body, &name);
        if (flags & 1) {
            bs_buf_puts(&body, "; filename=");
            put_quoted(&body, &file);
        }
        if (flags & 2)
            bs_buf_printf(&body, "\r\nContent-Type: %s",
                          type.data ? type.data : "");
        bs_buf_puts(&body, "\r\n\r\n");
        bs_buf_append(&body, content.data, content.len);
        bs_buf_puts(&body, "\r\n");

        bs_buf_putc(&want, 'B');
        put_opt(&want, name.data ? name.data : "");
        put_opt(&want, flags & 1 ? (file.data ? file.data : "") : NULL);
        put_opt(&want, flags & 2 ? (type.data ? type.data : "") : NULL);
        bs_buf_putc(&want, '|');
        bs_buf_append(&want, content.data, content.len);
        bs_buf_puts(&want, "|E");
    }
    bs_buf_printf(&body, "--%s--", boundary);
    if (take(&s) & 1) {
        bs_buf_puts(&body, "\r\n"); /* an epilogue */
        bs_buf_append(&body, s.p, s.n);
    }
    bs_buf got;
    int rc = run(ct, body.data, body.len, s.p, s.n, &got);
    if (rc != 0 || !same(&got, &want))
        abort();
    bs_buf_dispose(&got);
    bs_buf_dispose(&body);
    bs_buf_dispose(&want);
    bs_buf_dispose(&name);
    bs_buf_dispose(&file);
    bs_buf_dispose(&type);
    bs_buf_dispose(&content);
    bs_buf_dispose(&delim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char ct[256] = "multipart/form-data; boundary=XyZ";
    const char *body = text;
    size_t len = size;
    if (size >= 9 && memcmp(text, "multipart", 9) == 0) {
        const char *nl = memchr(text, '\n', size < 255 ? size : 255);
        if (nl) {
            size_t n = (size_t)(nl - text);
            memcpy(ct, text, n);
            ct[n] = '\0';
            body = nl + 1;
            len = size - n - 1;
        }
    }
    /* Piece sizes for the third run: the input's last bytes. */
    size_t nsizes = size < 8 ? size : 8;
    check_chunking(ct, body, len, data + size - nsizes, nsizes);
    check_body(ct, body, len);
    check_round_trip(data, size);
    return 0;
}
