/*
 * request.h - one HTTP request and its response, as handlers see it.
 *
 * A bs_req lives from the first byte of a request to the end of its
 * response. It begins with a bs_event, so the request itself is the event
 * that middlewares and request hooks receive. Everything a handler
 * allocates for the request comes from req->arena and is freed in one go.
 */
#ifndef BS_REQUEST_H
#define BS_REQUEST_H

#include <microhttpd.h>
#include <stdbool.h>

#include "../base/arena.h"
#include "../base/buf.h"
#include "basalt.h"

#define BS_MAX_PARAMS 8
#define BS_MAX_RESP_HEADERS 12

typedef struct bs_auth bs_auth; /* defined by the core */
typedef struct bs_req bs_req;
typedef struct bs_body bs_body;
typedef struct bs_upload bs_upload;
struct bs_body_stream;

/* How multipart bodies are streamed (upload.c): file parts are spooled
 * to files in `dir` as they arrive, each up to limit(user, r, key)
 * bytes; limit(user, r, NULL) is what all the file parts of the request
 * may add to the body limit. NULL dir: multipart bodies are collected
 * whole like any other. */
/* What limit(user, r, NULL) returns for a route that takes bodies of
 * any size (a backup upload): a body that is not multipart is then read
 * and dropped rather than refused. */
#define BS_UPLOAD_UNLIMITED UINT64_MAX

typedef struct bs_upload_config {
    const char *dir;
    uint64_t (*limit)(void *user, bs_req *r, const char *key);
    void *user;
} bs_upload_config;

struct bs_req {
    bs_event ev;            /* must stay first */
    bs_arena arena;
    struct MHD_Connection *conn; /* NULL for an internal request */

    /* An internal request (a batch item) has no connection: its headers
     * and query arguments live here, and `parent` is the HTTP request it
     * came from (for the client address). */
    json_object *int_headers;
    json_object *int_query;
    struct bs_req *parent;
    const char *context;    /* @request.context of an internal request
                             * ("batch", "oauth2"); NULL: "default" */

    const char *method;     /* "GET", ... (HEAD served as GET) */
    bool is_head;
    bool bad_host;          /* HTTP/1.1 without a Host header */
    const char *url;        /* raw request target as received */
    const char *remote_ip;  /* the client address as text, once asked */

    /* Query arguments of an HTTP request, parsed from `url` on first use
     * (libmicrohttpd's own copy is switched off, see server.c). A key
     * without '=' has a NULL value. */
    bool query_parsed;
    int nquery;
    const char **query_keys;
    const char **query_values;
    const char *path;       /* decoded path, without the query */

    /* Body: collected into `body` up to body_limit; a body past the limit
     * is refused with 413 before or while it is read (server.c). */
    bs_buf body;
    size_t body_limit;
    size_t body_seen;
    /* A body of any size that the route would only refuse (not multipart
     * where a file is expected, BS_UPLOAD_UNLIMITED): read and dropped,
     * so the handler answers instead of a 413. */
    bool drop_body;

    /* A multipart body streamed as it arrives (upload.c): the stream
     * while the body is read, then the finished body (or the error
     * form_rc) until the handler reads it. value_limit bounds its
     * non-file parts, body_limit then includes the files' allowance. */
    const bs_upload_config *uploads;
    struct bs_body_stream *upload;
    bool streamed;
    bs_body *form;
    int form_rc;
    size_t value_limit;
    /* An internal request's files: its parent's uploads whose keys start
     * with int_files_prefix (borrowed). */
    bs_upload *int_files;
    int int_nfiles;
    const char *int_files_prefix;

    /* Route parameters filled by the router. */
    int nparams;
    const char *param_names[BS_MAX_PARAMS];
    const char *param_values[BS_MAX_PARAMS];
    const void *route;      /* the matched route, for the router */

    /* The authenticated record, or NULL for a guest (set by the auth
     * middleware; owned by the request). */
    bs_auth *auth;

    /* The request log keeps this request only if it fails (PocketBase's
     * SkipSuccessActivityLog): set by the logs API and static files. */
    bool log_skip_success;

    /* Response under construction. */
    int status;
    bool responded;
    const char *content_type;
    bs_buf resp;
    bool search_result;     /* a list page: `fields` applies to its items */
    struct bs_stream *stream; /* a streamed body (stream.h), or NULL */
    struct bs_defer *defer; /* an answer written later (defer.h), or NULL */
    int fd;                 /* file body when >= 0 (static files) */
    uint64_t fd_offset;     /* first byte to send (ranges) */
    uint64_t fd_size;
    /* A body pulled from a reader when body_read is set (files kept
     * elsewhere, e.g. on S3): body_size bytes, read() as libmicrohttpd
     * content reader (bytes, -1 at the end, -2 on error), body_free
     * called once with body_ctx, whether or not it was sent. */
    ssize_t (*body_read)(void *ctx, uint64_t pos, char *buf, size_t max);
    void (*body_free)(void *ctx);
    void *body_ctx;
    uint64_t body_size;
    int nheaders;
    const char *hdr_names[BS_MAX_RESP_HEADERS];
    const char *hdr_values[BS_MAX_RESP_HEADERS];

    /* Chain continuation for route middlewares. */
    void *route_ctx_;
};

/* Request accessors. Returned strings belong to the request. */
const char *bs_req_header(bs_req *r, const char *name);
const char *bs_req_query(bs_req *r, const char *name);
const char *bs_req_param(bs_req *r, const char *name);
const char *bs_req_remote_ip(bs_req *r);

/* A query argument as an integer (def when missing or not a number) and
 * as a boolean ("1", "true", "t" in any case). */
int64_t bs_req_query_int(bs_req *r, const char *name, int64_t def);
bool bs_req_query_bool(bs_req *r, const char *name);

/* Calls fn for every header (kind 0) or query argument (kind 1). */
typedef void (*bs_req_kv_fn)(void *user, const char *key, const char *value);
void bs_req_foreach(bs_req *r, int kind, bs_req_kv_fn fn, void *user);

/* Parses a query string ("a=1&b=x%20y") into an object of strings (the
 * first value of a repeated key wins). */
json_object *bs_query_string_parse(const char *qs);

/* Parses the body as JSON (an empty body gives an empty object). Returns
 * 0 and a new reference, or answers the client with 400 and returns
 * BS_EHTTP. */
int bs_req_json_body(bs_req *r, json_object **out, bs_error *err);

/* Parses the body by its Content-Type (JSON, multipart or urlencoded
 * form) with bs_body_parse (body.h): 0, or BS_EHTTP and err set to a
 * 400. */
int bs_req_read_body(bs_req *r, bs_body *out, bs_error *err);

/* Streaming a multipart body (upload.c), called by the server: begin on
 * the first call (after the head; it may raise body_limit by the files'
 * allowance), feed per chunk (0, or BS_EINVAL when the values passed
 * their limit: answer 413), end when the body is complete, dispose when
 * the request ends (removes whatever was spooled and not kept). */
void bs_req_upload_begin(bs_req *r);
int bs_req_upload_feed(bs_req *r, const char *data, size_t len);
void bs_req_upload_end(bs_req *r);
void bs_req_upload_dispose(bs_req *r);

/* Responses. Each sets the status and body of the response; the server
 * sends it once the handler chain returns. */
void bs_resp_json(bs_req *r, int status, const json_object *v);
void bs_resp_raw(bs_req *r, int status, const char *content_type,
                 const char *body, size_t len);
void bs_resp_empty(bs_req *r, int status);
/* Frees a reader body that was set but not sent (body_free runs). */
void bs_req_drop_reader(bs_req *r);
void bs_resp_error(bs_req *r, const bs_error *e);
void bs_resp_status_error(bs_req *r, int status, const char *message);
void bs_resp_header(bs_req *r, const char *name, const char *value);

/* Answers with the error carried in err if it is an HTTP error, else with
 * a generic 400/500. Used at the end of handlers: `return bs_req_fail(r,
 * rc, &err)`. Returns rc. */
int bs_req_fail(bs_req *r, int rc, const bs_error *err);

#endif
