/*
 * multipart.c - the incremental multipart/form-data parser.
 *
 * The design is one state machine over single bytes, with a fast path
 * for content. The parser keeps no content: inside a part it looks for
 * the delimiter (CRLF or LF, "--", the boundary) and passes every byte
 * that cannot begin one straight to part_data from the caller's chunk.
 * A partial match at the end of a chunk is only a count of matched
 * delimiter bytes; should the match fail in the next chunk, those bytes
 * are known (they are the delimiter's own prefix) and are passed on from
 * the delimiter itself. The first byte of the delimiter (CR, or LF in
 * LF mode) occurs nowhere else in it, since a boundary holds no line
 * break, so a failed match can restart at the byte that broke it
 * without a KMP table. The same count carries the match of the first
 * "--boundary" line across chunks in the preamble, and the header block
 * of a part is the one thing buffered, within max_header.
 */
#include "multipart.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/buf.h"
#include "../base/util.h"
#include "basalt.h"

enum {
    ST_PRE_LINE,  /* the preamble, at a line start: matching "--boundary" */
    ST_PRE_SKIP,  /* the preamble: skipping to the next line */
    ST_PRE_AFTER, /* after "--boundary" in the preamble */
    ST_PRE_CR,    /* ... and a CR */
    ST_PRE_DASH,  /* ... and one '-' */
    ST_PRE_FINAL, /* "--boundary--" in the preamble: final if the line
                   * holds nothing more */
    ST_HEAD,      /* a part's header block */
    ST_BODY,      /* a part's content: matching the delimiter */
    ST_AFTER,     /* after a delimiter in content */
    ST_DASH,      /* ... and one '-' */
    ST_LWSP,      /* ... and white space: a boundary line */
    ST_CR,        /* ... and a CR */
    ST_DONE,      /* after the final boundary: the epilogue */
};

struct bs_mp {
    bs_mp_callbacks cb;
    void *user;
    size_t max_header;
    int max_parts;
    char delim[BS_MP_MAX_BOUNDARY + 5]; /* "\r\n--" boundary */
    size_t blen;                        /* the boundary's length */
    const char *d;                      /* the delimiter in effect: CRLF */
    size_t dl;                          /* or LF mode (delim + 1) */
    int state;
    size_t k;                           /* delimiter bytes matched */
    bs_buf head;                        /* header lines, each ending '\n' */
    size_t line_start;
    size_t head_bytes;                  /* raw bytes of the header block */
    int nparts;
    int rc;
    const char *why;
    bs_buf name, filename, type, tmp;   /* part_begin's strings */
};

static bool is_lwsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Go's mime tspecials: the characters a backslash escapes in a quoted
 * parameter. Any other backslash is kept, as browsers send Windows paths
 * unescaped ("C:\dir\a.txt"). */
static bool is_tspecial(char c)
{
    return c && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static const char *cstr(const bs_buf *b)
{
    return b->data ? b->data : "";
}

/* Finds the parameter `want` (case-insensitive) of a header value such as
 * `form-data; name="a"; filename=b.txt` and copies its value, unquoted,
 * into out. Returns whether it was found whole. The first occurrence
 * counts. */
static bool param_get(const char *s, size_t n, const char *want,
                      bs_buf *out)
{
    size_t wl = strlen(want), i = 0;
    bs_buf_reset(out);
    while (i < n && s[i] != ';')
        i++;
    while (i < n) {
        i++; /* the ';' */
        while (i < n && is_lwsp(s[i]))
            i++;
        size_t ks = i;
        while (i < n && s[i] != '=' && s[i] != ';' && !is_lwsp(s[i]))
            i++;
        bool match = i - ks == wl && strncasecmp(s + ks, want, wl) == 0;
        while (i < n && is_lwsp(s[i]))
            i++;
        if (i < n && s[i] == '=') {
            i++;
            while (i < n && is_lwsp(s[i]))
                i++;
            if (i < n && s[i] == '"') {
                bool closed = false;
                for (i++; i < n; i++) {
                    if (s[i] == '"') {
                        closed = true;
                        i++;
                        break;
                    }
                    if (s[i] == '\\' && i + 1 < n && is_tspecial(s[i + 1]))
                        i++;
                    if (match)
                        bs_buf_putc(out, s[i]);
                }
                if (match)
                    return closed && !out->oom;
            } else {
                size_t vs = i;
                while (i < n && s[i] != ';' && !is_lwsp(s[i]))
                    i++;
                if (match) {
                    bs_buf_append(out, s + vs, i - vs);
                    return !out->oom;
                }
            }
        }
        while (i < n && s[i] != ';')
            i++;
    }
    return false;
}

/* Decodes an RFC 5987 value (charset'language'percent-encoded) into out,
 * as Go's mime package does: UTF-8 and US-ASCII only, every '%' followed
 * by two hex digits. Returns whether it could. */
static bool ext_value(const char *s, size_t n, bs_buf *out)
{
    const char *q1 = memchr(s, '\'', n);
    if (!q1 || q1 == s)
        return false;
    size_t cl = (size_t)(q1 - s);
    if (!((cl == 5 && strncasecmp(s, "utf-8", 5) == 0) ||
          (cl == 8 && strncasecmp(s, "us-ascii", 8) == 0)))
        return false;
    const char *rest = q1 + 1, *end = s + n;
    const char *q2 = memchr(rest, '\'', (size_t)(end - rest));
    if (!q2)
        return false;
    bs_buf_reset(out);
    for (const char *p = q2 + 1; p < end; p++) {
        if (*p == '%') {
            if (end - p < 3 || bs_hex_digit(p[1]) < 0 ||
                bs_hex_digit(p[2]) < 0)
                return false;
            bs_buf_putc(out, (char)(bs_hex_digit(p[1]) * 16 +
                                    bs_hex_digit(p[2])));
            p += 2;
        } else {
            bs_buf_putc(out, *p);
        }
    }
    return !out->oom;
}

int bs_mp_boundary(const char *content_type, char *out)
{
    bs_buf b;
    bs_buf_init(&b);
    int rc = BS_EINVAL;
    if (content_type &&
        param_get(content_type, strlen(content_type), "boundary", &b) &&
        b.len > 0 && b.len <= BS_MP_MAX_BOUNDARY &&
        strlen(b.data) == b.len && !strpbrk(b.data, "\r\n")) {
        memcpy(out, b.data, b.len + 1);
        rc = (int)b.len;
    } else if (b.oom) {
        rc = BS_ENOMEM;
    }
    bs_buf_dispose(&b);
    return rc;
}

int bs_mp_new(bs_mp **out, const char *content_type,
              const bs_mp_callbacks *cb, void *user)
{
    *out = NULL;
    char boundary[BS_MP_MAX_BOUNDARY + 1];
    int n = bs_mp_boundary(content_type, boundary);
    if (n < 0)
        return n;
    bs_mp *mp = calloc(1, sizeof *mp);
    if (!mp)
        return BS_ENOMEM;
    if (cb)
        mp->cb = *cb;
    mp->user = user;
    mp->max_header = BS_MP_MAX_HEADER;
    mp->max_parts = BS_MP_MAX_PARTS;
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, (size_t)n);
    mp->blen = (size_t)n;
    mp->d = mp->delim;
    mp->dl = mp->blen + 4;
    mp->state = ST_PRE_LINE;
    bs_buf_init(&mp->head);
    bs_buf_init(&mp->name);
    bs_buf_init(&mp->filename);
    bs_buf_init(&mp->type);
    bs_buf_init(&mp->tmp);
    *out = mp;
    return 0;
}

void bs_mp_free(bs_mp *mp)
{
    if (!mp)
        return;
    bs_buf_dispose(&mp->head);
    bs_buf_dispose(&mp->name);
    bs_buf_dispose(&mp->filename);
    bs_buf_dispose(&mp->type);
    bs_buf_dispose(&mp->tmp);
    free(mp);
}

void bs_mp_set_limits(bs_mp *mp, size_t max_header, int max_parts)
{
    mp->max_header = max_header;
    mp->max_parts = max_parts;
}

const char *bs_mp_error(const bs_mp *mp)
{
    return mp->why;
}

static int fail(bs_mp *mp, int rc, const char *why)
{
    if (!mp->rc) {
        mp->rc = rc;
        mp->why = why;
    }
    return 0;
}

static void emit(bs_mp *mp, const char *data, size_t len)
{
    if (len && mp->cb.part_data && !mp->rc) {
        int rc = mp->cb.part_data(mp->user, data, len);
        if (rc)
            fail(mp, rc, "stopped by the caller");
    }
}

/* A boundary line ended: a part's header block follows. */
static void start_head(bs_mp *mp)
{
    if (mp->nparts >= mp->max_parts) {
        fail(mp, BS_EINVAL, "too many parts");
        return;
    }
    mp->nparts++;
    bs_buf_reset(&mp->head);
    mp->line_start = 0;
    mp->head_bytes = 0;
    mp->state = ST_HEAD;
}

static void end_part(bs_mp *mp)
{
    if (mp->cb.part_end && !mp->rc) {
        int rc = mp->cb.part_end(mp->user);
        if (rc)
            fail(mp, rc, "stopped by the caller");
    }
}

/* The header block is complete: reads Content-Disposition and
 * Content-Type (the first of each) and calls part_begin. */
static void begin_part(bs_mp *mp)
{
    char *h = mp->head.data;
    size_t n = mp->head.len;
    /* Unfold: a line that starts with white space continues the one
     * before it. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (h[i] == '\n' && is_lwsp(h[i + 1]))
            h[i] = ' ';
    }
    const char *cd = NULL, *ct = NULL;
    size_t cdl = 0, ctl = 0;
    for (size_t i = 0; i < n;) {
        char *line = h + i;
        char *nl = memchr(line, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - line) : n - i;
        i += ll + 1;
        char *colon = memchr(line, ':', ll);
        if (!colon)
            continue;
        size_t kl = (size_t)(colon - line);
        const char *v = colon + 1, *ve = line + ll;
        while (v < ve && is_lwsp(*v))
            v++;
        while (ve > v && is_lwsp(ve[-1]))
            ve--;
        if (kl == 19 && strncasecmp(line, "Content-Disposition", 19) == 0 &&
            !cd) {
            cd = v;
            cdl = (size_t)(ve - v);
        } else if (kl == 12 && strncasecmp(line, "Content-Type", 12) == 0 &&
                   !ct) {
            ct = v;
            ctl = (size_t)(ve - v);
        }
    }
    bs_mp_part part = {.index = mp->nparts - 1};
    if (cd) {
        size_t tl = strcspn(cd, ";\n");
        if (tl > cdl)
            tl = cdl;
        while (tl && is_lwsp(cd[tl - 1]))
            tl--;
        part.form_data = tl == 9 && strncasecmp(cd, "form-data", 9) == 0;
        if (param_get(cd, cdl, "name", &mp->name))
            part.name = cstr(&mp->name);
        if (param_get(cd, cdl, "filename*", &mp->tmp) &&
            ext_value(cstr(&mp->tmp), mp->tmp.len, &mp->filename))
            part.filename = cstr(&mp->filename);
        else if (param_get(cd, cdl, "filename", &mp->filename))
            part.filename = cstr(&mp->filename);
    }
    if (ct) {
        bs_buf_reset(&mp->type);
        bs_buf_append(&mp->type, ct, ctl);
        part.content_type = cstr(&mp->type);
    }
    if (mp->name.oom || mp->filename.oom || mp->type.oom || mp->tmp.oom) {
        fail(mp, BS_ENOMEM, "out of memory");
        return;
    }
    mp->state = ST_BODY;
    mp->k = 0;
    if (mp->cb.part_begin) {
        int rc = mp->cb.part_begin(mp->user, &part);
        if (rc)
            fail(mp, rc, "stopped by the caller");
    }
}

/* Takes one byte in the current state. Returns 1 when it was used, 0
 * when the new state must see it again. */
static int step(bs_mp *mp, char c)
{
    switch (mp->state) {
    case ST_PRE_LINE:
        if (c == mp->delim[2 + mp->k]) {
            if (++mp->k == mp->blen + 2)
                mp->state = ST_PRE_AFTER;
            return 1;
        }
        mp->state = ST_PRE_SKIP;
        return 0;
    case ST_PRE_SKIP:
        if (c == '\n') {
            mp->state = ST_PRE_LINE;
            mp->k = 0;
        }
        return 1;
    case ST_PRE_AFTER:
        if (is_lwsp(c))
            return 1;
        if (c == '\r') {
            mp->state = ST_PRE_CR;
            return 1;
        }
        if (c == '\n') {
            /* A bare LF ends the first boundary line: LF mode. */
            mp->d = mp->delim + 1;
            mp->dl = mp->blen + 3;
            start_head(mp);
            return 1;
        }
        if (c == '-') {
            mp->state = ST_PRE_DASH;
            return 1;
        }
        mp->state = ST_PRE_SKIP;
        return 0;
    case ST_PRE_CR:
        if (c == '\n') {
            start_head(mp);
            return 1;
        }
        mp->state = ST_PRE_SKIP;
        return 0;
    case ST_PRE_DASH:
        mp->state = c == '-' ? ST_PRE_FINAL : ST_PRE_SKIP;
        return c == '-';
    case ST_PRE_FINAL:
        if (is_lwsp(c) || c == '\r')
            return 1;
        mp->state = c == '\n' ? ST_DONE : ST_PRE_SKIP;
        return c == '\n';
    case ST_HEAD:
        if (++mp->head_bytes > mp->max_header)
            return fail(mp, BS_EINVAL, "part header too large");
        if (c != '\n') {
            bs_buf_putc(&mp->head, c);
            return mp->head.oom ? fail(mp, BS_ENOMEM, "out of memory") : 1;
        }
        if (mp->head.len > mp->line_start &&
            mp->head.data[mp->head.len - 1] == '\r')
            mp->head.data[--mp->head.len] = '\0';
        if (mp->head.len == mp->line_start) {
            begin_part(mp);
            return 1;
        }
        bs_buf_putc(&mp->head, '\n');
        mp->line_start = mp->head.len;
        return mp->head.oom ? fail(mp, BS_ENOMEM, "out of memory") : 1;
    case ST_BODY:
        if (c == mp->d[mp->k]) {
            if (++mp->k == mp->dl)
                mp->state = ST_AFTER;
            return 1;
        }
        if (mp->k == 0) {
            emit(mp, &c, 1);
            return 1;
        }
        /* The bytes matched so far were content after all. */
        emit(mp, mp->d, mp->k);
        mp->k = 0;
        return 0;
    case ST_AFTER:
        if (c == '-') {
            mp->state = ST_DASH;
            return 1;
        }
        if (is_lwsp(c) || c == '\r') {
            mp->state = c == '\r' ? ST_CR : ST_LWSP;
            return 1;
        }
        if (c == '\n') {
            end_part(mp);
            start_head(mp);
            return 1;
        }
        emit(mp, mp->d, mp->dl);
        mp->state = ST_BODY;
        mp->k = 0;
        return 0;
    case ST_DASH:
        if (c == '-') {
            end_part(mp);
            mp->state = ST_DONE;
            return 1;
        }
        emit(mp, mp->d, mp->dl);
        emit(mp, "-", 1);
        mp->state = ST_BODY;
        mp->k = 0;
        return 0;
    case ST_LWSP:
        if (is_lwsp(c))
            return 1;
        if (c == '\r') {
            mp->state = ST_CR;
            return 1;
        }
        /* fall through */
    case ST_CR:
        if (c == '\n') {
            end_part(mp);
            start_head(mp);
            return 1;
        }
        return fail(mp, BS_EINVAL, "malformed boundary line");
    default:
        return 1;
    }
}

int bs_mp_feed(bs_mp *mp, const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && !mp->rc && mp->state != ST_DONE) {
        if (mp->state == ST_BODY && mp->k == 0) {
            /* Content up to the next byte that may start a delimiter. */
            const char *hit = memchr(data + i, mp->d[0], len - i);
            size_t end = hit ? (size_t)(hit - data) : len;
            emit(mp, data + i, end - i);
            i = end;
            if (i == len || mp->rc)
                break;
        }
        i += (size_t)step(mp, data[i]);
    }
    return mp->rc;
}

int bs_mp_finish(bs_mp *mp)
{
    if (mp->state == ST_PRE_FINAL)
        mp->state = ST_DONE;
    if (!mp->rc && mp->state != ST_DONE)
        fail(mp, BS_EINVAL, "the body ends before the final boundary");
    return mp->rc;
}
