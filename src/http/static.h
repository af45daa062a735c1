/*
 * static.h - serving files from a folder (pb_public) under a wildcard
 * route, with index.html for folders and an optional index.html fallback
 * for paths that name no file (single-page apps).
 */
#ifndef BS_STATIC_H
#define BS_STATIC_H

#include "request.h"

typedef struct bs_static {
    char *root;          /* absolute, resolved folder path */
    bool index_fallback;
} bs_static;

/* Resolves dir; returns BS_ENOTFOUND when it is not a folder. */
int bs_static_init(bs_static *st, const char *dir, bool index_fallback);
void bs_static_dispose(bs_static *st);

/* Route handler: user is the bs_static; serves the route parameter
 * "path". */
int bs_static_handler(bs_event *e, void *user);

/* Answers with the open regular file fd (taken over, closed on every
 * path) as content_type: Last-Modified and ETag with their conditional
 * requests (304), a single byte Range (206, or 416). Returns false (fd
 * closed, nothing answered) when fd is not a regular file. */
bool bs_static_serve_fd(bs_req *r, int fd, const char *content_type);

/* The answer's head for a body of size bytes (Last-Modified from mtime,
 * etag or one made of mtime and size): 304 for a matching conditional
 * request and 416 for a range past the end (then false: nothing more
 * to send), else 200 or 206 with *from and *len the bytes to send. */
bool bs_static_prepare(bs_req *r, uint64_t size, int64_t mtime,
                       const char *etag, const char *content_type,
                       uint64_t *from, uint64_t *len);

/* Content type for a file name, by extension. */
const char *bs_mime_by_name(const char *name);

#endif
