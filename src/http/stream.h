/*
 * stream.h - responses that stay open and are written as data arrives
 * (the realtime event stream).
 *
 * A handler turns its response into a stream with bs_resp_stream; the
 * server hands it to libmicrohttpd as a response of unknown length whose
 * content reader calls the stream's read function. When that function
 * has nothing to send (returns 0), the connection is suspended: it costs
 * no thread and no polling until bs_stream_wake resumes it, from any
 * thread. Suspended connections do not notice a peer that went away, so
 * the owner of a stream writes something now and then (keep-alive
 * comments); a failed write ends the connection.
 *
 * Lifetime. A stream has two references: the connection's, dropped when
 * libmicrohttpd frees the response (after `done` has been called, once,
 * on the worker thread), and the owner's, dropped with bs_stream_unref.
 * Waking a stream whose connection has ended does nothing.
 */
#ifndef BS_STREAM_H
#define BS_STREAM_H

#include <sys/types.h>

#include "request.h"

typedef struct bs_stream bs_stream;

/* The read function's answers besides a byte count. */
#define BS_STREAM_END (-1)   /* finished: end the response normally */
#define BS_STREAM_ABORT (-2) /* close the connection at once */

/* Copies up to max bytes of pending output into buf and returns their
 * number, 0 when nothing is pending (the connection then sleeps until
 * bs_stream_wake), or BS_STREAM_END / BS_STREAM_ABORT. Called on the
 * connection's worker thread, under the stream's lock: it must not call
 * bs_stream_wake. */
typedef ssize_t (*bs_stream_read_fn)(void *user, char *buf, size_t max);

/* Called once when the connection ends, on its worker thread. */
typedef void (*bs_stream_done_fn)(void *user);

/* Makes r's response a stream of content_type (status 200) and returns
 * it with the owner's reference, or NULL when out of memory (r is then
 * answered 500). user belongs to the caller and must stay valid until
 * done has been called. Worker thread of r. */
bs_stream *bs_resp_stream(bs_req *r, const char *content_type,
                          bs_stream_read_fn read, bs_stream_done_fn done,
                          void *user);

/* Resumes a suspended stream so that read is called again. Any thread;
 * never call it while holding a lock that read takes. */
void bs_stream_wake(bs_stream *s);

/* Drops the owner's reference. Any thread. */
void bs_stream_unref(bs_stream *s);

/* Used by the server: the libmicrohttpd response for r's stream (NULL
 * when out of memory; done has then been called). */
struct MHD_Response *bs_stream_response(bs_req *r);

#endif
