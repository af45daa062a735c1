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

#include "../base/buf.h"
#include "../base/json.h"
#include "basalt.h"

typedef struct bs_upload {
    char *field;     /* form key */
    char *filename;  /* client-side name, verbatim (not sanitized) */
    char *type;      /* content type sent by the client, or NULL */
    bs_buf data;
} bs_upload;

typedef struct bs_body {
    json_object *data;   /* submitted values, never NULL after success */
    bs_upload *files;
    int nfiles;
    /* True for a form body: every value is a string, and an array means
     * a key sent several times. False for JSON, where types are the
     * client's own and an array is an array. */
    bool form;
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

#endif
