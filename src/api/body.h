/*
 * body.h - reading submitted data: JSON, multipart/form-data and
 * application/x-www-form-urlencoded bodies into one JSON object.
 *
 * Form values are strings (a key sent several times becomes an array);
 * the special form key "@jsonPayload" holds a JSON object whose keys are
 * merged in. Uploaded files are kept aside for the file storage layer.
 */
#ifndef BS_BODY_H
#define BS_BODY_H

#include "../http/request.h"

typedef struct bs_upload {
    char *field;     /* form key */
    char *filename;  /* client-side name */
    char *type;      /* content type sent by the client */
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

/* Parses r's body. Returns 0, or BS_EHTTP with err set to PocketBase's
 * 400 "Failed to read the submitted data." answer. */
int bs_body_read(bs_req *r, bs_body *out, bs_error *err);
void bs_body_dispose(bs_body *b);

#endif
