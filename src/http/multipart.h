/*
 * multipart.h - an incremental multipart/form-data parser (RFC 7578 over
 * RFC 2046) that needs no connection: it is fed the body chunk by chunk,
 * in pieces of any size, and reports each part through callbacks.
 *
 *     bs_mp *mp;
 *     if (bs_mp_new(&mp, content_type, &callbacks, user) == 0) {
 *         rc = bs_mp_feed(mp, chunk, n);      (as often as needed)
 *         if (rc == 0)
 *             rc = bs_mp_finish(mp);          (the body has ended)
 *         bs_mp_free(mp);
 *     }
 *
 * For each part: part_begin with its headers, part_data zero or more
 * times with consecutive pieces of its content, part_end. How the body
 * is cut into chunks changes only how the content is cut into pieces.
 * A part's content is never held by the parser, so a caller may stream
 * it elsewhere (a file part to disk).
 *
 * What is accepted, as Go's mime/multipart reads it: the preamble before
 * the first "--boundary" line and the epilogue after the final
 * "--boundary--" are ignored; the first boundary line ends in CRLF or in a
 * bare LF, and that choice holds for the delimiters that follow; linear
 * white space may follow a boundary; header lines end in CRLF or LF and
 * may be folded. "--boundary" inside content that is not followed by
 * "--", white space or a line end is content. A body that ends before the
 * final boundary is an error (bs_mp_finish).
 */
#ifndef BS_MULTIPART_H
#define BS_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

/* The longest boundary accepted (RFC 2046 allows 70). */
#define BS_MP_MAX_BOUNDARY 200

/* One part's headers, as given to part_begin. The strings are
 * NUL-terminated, owned by the parser and valid only during the call. */
typedef struct bs_mp_part {
    int index;                /* 0 for the first part */
    bool form_data;           /* Content-Disposition's type is form-data */
    const char *name;         /* its name parameter; NULL when absent */
    /* The filename* parameter (RFC 5987, UTF-8 or US-ASCII) when present
     * and decodable, else filename; NULL when absent. Kept verbatim: path
     * separators and all, for the caller to sanitize. */
    const char *filename;
    const char *content_type; /* the part's Content-Type; NULL when absent */
} bs_mp_part;

/* Each callback returns 0 to go on; anything else stops the parse, and
 * bs_mp_feed returns it. Any of them may be NULL. No callback comes after
 * an error; a part cut short gets no part_end. */
typedef struct bs_mp_callbacks {
    int (*part_begin)(void *user, const bs_mp_part *part);
    int (*part_data)(void *user, const char *data, size_t len);
    int (*part_end)(void *user);
} bs_mp_callbacks;

typedef struct bs_mp bs_mp;

/* The default bounds: bytes in one part's header block, and parts. */
#define BS_MP_MAX_HEADER (16 * 1024)
#define BS_MP_MAX_PARTS 1000

/* Copies the boundary parameter of a Content-Type value (quoted or not)
 * into out (NUL-terminated). Returns its length, or BS_EINVAL when there
 * is none, it is empty, longer than BS_MP_MAX_BOUNDARY or holds a line
 * break. out must hold BS_MP_MAX_BOUNDARY + 1 bytes. */
int bs_mp_boundary(const char *content_type, char *out);

/* Starts a parser for a body of the given Content-Type, with the default
 * bounds. cb is copied; user is passed to every callback. Returns 0 and
 * *out (freed with bs_mp_free), BS_EINVAL (no usable boundary) or
 * BS_ENOMEM. A parser belongs to one thread at a time. */
int bs_mp_new(bs_mp **out, const char *content_type,
              const bs_mp_callbacks *cb, void *user);
void bs_mp_free(bs_mp *mp);

/* Changes the bounds (before the first feed). */
void bs_mp_set_limits(bs_mp *mp, size_t max_header, int max_parts);

/* Parses the next len bytes of the body. Returns 0, BS_EINVAL (a header
 * block over its bound, too many parts, a malformed boundary line),
 * BS_ENOMEM, or a callback's nonzero return. After an error every later
 * call returns the same code. Bytes after the final boundary are
 * ignored. */
int bs_mp_feed(bs_mp *mp, const char *data, size_t len);

/* The body has ended: returns 0 when the final boundary was seen,
 * BS_EINVAL when the body was cut short, or the earlier error. */
int bs_mp_finish(bs_mp *mp);

/* A short English description of why the parse failed, or NULL. */
const char *bs_mp_error(const bs_mp *mp);

#endif
