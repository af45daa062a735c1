/*
 * s3.h - a small S3 client for file storage: put, get (whole, to a file,
 * or streamed with a byte range), head, delete, list and delete by
 * prefix, signed with AWS Signature V4 by libcurl (CURLOPT_AWS_SIGV4).
 *
 * Addressing is path-style (<endpoint>/<bucket>/<key>) when
 * forcePathStyle is set, else virtual-hosted (<bucket>.<endpoint host>/
 * <key>). Keys are URI-encoded segment by segment and query parameters
 * are sorted and encoded here, as SigV4's canonical request wants them;
 * every request carries x-amz-content-sha256 (UNSIGNED-PAYLOAD: bodies
 * are streamed, not hashed) and Accept-Encoding: identity, as
 * PocketBase's client does.
 *
 * Every call is blocking and uses its own curl handle. Any thread.
 */
#ifndef BS_S3_H
#define BS_S3_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/buf.h"

typedef struct bs_s3 {
    char *bucket, *region, *endpoint, *access_key, *secret;
    bool path_style;
} bs_s3;

/* What HEAD tells of an object. */
typedef struct bs_s3_attrs {
    uint64_t size;
    int64_t mtime;       /* Last-Modified, seconds since the epoch */
    char type[128];      /* Content-Type */
    char etag[96];       /* with its quotes */
} bs_s3_attrs;

/* Reads settings.s3 (or backups.s3): false when it is not enabled (or
 * incomplete). out is freed with bs_s3_dispose when true. */
bool bs_s3_from_json(bs_s3 *out, const json_object *cfg);
void bs_s3_dispose(bs_s3 *s);

/* Uploads a file (path) or a buffer as key with its content type and
 * the client-side name as x-amz-meta-original-filename (NULL: none).
 * Returns 0 or BS_EIO with a reason in msg (may be NULL). */
int bs_s3_put_file(const bs_s3 *s, const char *key, const char *path,
                   const char *type, const char *orig, char *msg,
                   size_t cap);
int bs_s3_put_data(const bs_s3 *s, const char *key, const void *data,
                   size_t len, const char *type, const char *orig,
                   char *msg, size_t cap);

/* HEAD: 0 with attrs, BS_ENOTFOUND, or BS_EIO. */
int bs_s3_head(const bs_s3 *s, const char *key, bs_s3_attrs *out);

/* Downloads key into the file path (created or truncated). 0,
 * BS_ENOTFOUND or BS_EIO. */
int bs_s3_get_file(const bs_s3 *s, const char *key, const char *path);

/* Deletes key (a missing key is fine). 0 or BS_EIO. */
int bs_s3_delete(const bs_s3 *s, const char *key, char *msg, size_t cap);

/* Calls fn for every key that starts with prefix (all pages of
 * ListObjectsV2). 0 or BS_EIO. */
int bs_s3_list(const bs_s3 *s, const char *prefix,
               void (*fn)(void *user, const char *key), void *user,
               char *msg, size_t cap);

/* Deletes every key under prefix. 0 or BS_EIO (some may be left). */
int bs_s3_delete_prefix(const bs_s3 *s, const char *prefix, char *msg,
                        size_t cap);

/* A streamed GET of len bytes of key from offset `from`: read() pulls
 * the next bytes as the client takes them, holding at most a small
 * buffer; it blocks until some arrive. */
typedef struct bs_s3_stream bs_s3_stream;
int bs_s3_stream_open(const bs_s3 *s, const char *key, uint64_t from,
                      uint64_t len, bs_s3_stream **out);
/* The libmicrohttpd content reader shape: bytes copied, -1 at the end,
 * -2 on an error. */
ssize_t bs_s3_stream_read(void *stream, uint64_t pos, char *buf, size_t max);
void bs_s3_stream_free(void *stream);

#endif
