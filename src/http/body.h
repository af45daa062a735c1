/*
 * body.h - reading submitted data: JSON, multipart/form-data and
 * application/x-www-form-urlencoded bodies into one JSON object.
 *
 * Form values are strings (a key sent several times becomes an array);
 * the special form key "@jsonPayload" holds a JSON object whose keys are
 * merged in. Uploaded files are kept aside for the file storage layer.
 *
 * The body is a buffer and its Content-Type; no connection is needed, so
 * internal requests (batch items) and tests read bodies the same way.
 */
#ifndef BS_BODY_H
#define BS_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/json.h"
#include "basalt.h"

/* One file part. Its content is either spooled to a file of its own
 * (`path`, for a body streamed with bs_body_stream) or held in `data`
 * (bs_body_parse). A consumer that moves the spooled file elsewhere
 * frees `path` and sets it to NULL, so that disposing the body does not
 * remove it. */
typedef struct bs_upload {
    char *field;     /* form key */
    char *filename;  /* client-side name, verbatim (not sanitized) */
    char *type;      /* content type sent by the client, or NULL */
    char *path;      /* the spooled content, or NULL */
    bs_buf data;     /* the content when not spooled */
    uint64_t size;   /* bytes received */
    bool over;       /* more than the part's limit arrived: the content
                      * was dropped (path is NULL, data empty) */
} bs_upload;

typedef struct bs_body {
    json_object *data;   /* submitted values, never NULL after success */
    bs_upload *files;
    int nfiles;
    /* True for a form body: every value is a string, and an array means
     * a key sent several times. False for JSON, where types are the
     * client's own and an array is an array. */
    bool form;
    /* The files belong to another body (a batch item sees its batch's
     * uploads): dispose leaves them alone. Only keys that start with
     * files_prefix are this body's (NULL: all). */
    bool files_borrowed;
    const char *files_prefix;
} bs_body;

/* The most files one body may carry. */
#define BS_BODY_MAX_FILES 256

/* Parses a body of the given Content-Type (NULL or anything that is not
 * a form: JSON, where an empty body is an empty object). Returns 0 with
 * *out filled (freed with bs_body_dispose), or BS_EHTTP with err set to
 * PocketBase's 400 "Failed to read the submitted data." answer and *out
 * empty: a multipart body cut short stores nothing. Any thread. */
int bs_body_parse(const char *content_type, const char *data, size_t len,
                  bs_body *out, bs_error *err);
void bs_body_dispose(bs_body *b);

/* Parses a JSON body that must be an object; blank text gives an empty
 * object. Returns 0 and a new reference, BS_EINVAL or BS_ENOMEM. */
int bs_body_json(const char *data, size_t len, json_object **out);

/* ---- streamed bodies ---------------------------------------------------
 *
 * A multipart body read as it arrives: each file part goes to a file of
 * its own in `dir` (created with mode 0600) while its running size is
 * checked against the part's limit; other parts are collected as values
 * up to `value_limit` bytes in all. Only a small buffer per part is held.
 * Nothing outlives the stream but what bs_body_stream_finish hands over:
 * freeing a stream removes every file it spooled that was not handed
 * over, and a failed finish hands over nothing.
 */
typedef struct bs_body_stream bs_body_stream;

typedef struct bs_body_limits {
    const char *dir;     /* where file parts are spooled */
    size_t value_limit;  /* bytes of all non-file parts together */
    /* The most bytes a file part of this key may have: past it the
     * part's content is dropped and the upload marked `over`. NULL: no
     * file part is kept. */
    uint64_t (*file_limit)(void *user, const char *key);
    void *user;
} bs_body_limits;

/* Starts a stream for a multipart/form-data body. lim is copied (dir
 * must outlive the stream). Returns 0, BS_EINVAL (no boundary) or
 * BS_ENOMEM. A stream belongs to one thread at a time. */
int bs_body_stream_new(bs_body_stream **out, const char *content_type,
                       const bs_body_limits *lim);

/* Feeds the next bytes. Returns 0; BS_EIO when a spool file cannot be
 * written; BS_EINVAL for a malformed body or non-file parts over
 * value_limit (bs_body_stream_too_large tells which). After an error
 * the stream has removed its files and ignores further input. */
int bs_body_stream_feed(bs_body_stream *s, const char *data, size_t len);

/* True when the stream failed because its values passed value_limit. */
bool bs_body_stream_too_large(const bs_body_stream *s);

/* The body has ended. Returns 0 with *out filled (its spooled files now
 * belong to out), or BS_EHTTP with err set to the 400 "Failed to read
 * the submitted data." (cut short, malformed, or an earlier error). */
int bs_body_stream_finish(bs_body_stream *s, bs_body *out, bs_error *err);

/* Frees the stream and removes the files it still owns. NULL is fine. */
void bs_body_stream_free(bs_body_stream *s);

#endif
