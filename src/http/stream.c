/*
 * stream.c - streamed responses on suspended connections (see stream.h).
 *
 * The design is simple: libmicrohttpd asks the content reader for bytes
 * whenever the socket can take more. The reader asks the owner; when the
 * owner has nothing, the reader suspends the connection before it
 * returns 0 (libmicrohttpd's documented way to wait without spinning).
 * bs_stream_wake resumes it. Both run under the stream's mutex, so a
 * wake that comes between "nothing to send" and the suspension is never
 * lost: it waits for the suspension and then undoes it.
 *
 * Memory of an idle stream: libmicrohttpd 0.9.75 gives a connection's
 * read buffer half of its 32 KiB pool and, once the head is read, shrinks
 * it by zeroing the freed part; the chunked writer then hands the reader
 * the whole rest of the pool as the place to put its bytes. So a stream
 * would keep about 20 KiB touched forever. Whenever the reader finds
 * nothing to send, everything it was offered is scratch space (all
 * earlier bytes have been sent), so the whole pages of it are returned to
 * the kernel (MADV_DONTNEED: they read back as zeros, which is all the
 * library put there). That is done the first time and again only after
 * a write that reached past the first such page, so a busy stream pays
 * no system call per message.
 */
#include "stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* The reader is offered at most this much buffer per call: the write
 * buffer libmicrohttpd takes from the connection's memory pool, so it is
 * also what an idle stream keeps touched. */
#define BLOCK_SIZE 4096

struct bs_stream {
    pthread_mutex_t lock;
    struct MHD_Connection *conn; /* NULL once the connection ended */
    bool suspended;
    bool dirty;                  /* scratch pages touched since released */
    atomic_int refs;
    bs_stream_read_fn read;
    bs_stream_done_fn done;
    void *user;
};

bs_stream *bs_resp_stream(bs_req *r, const char *content_type,
                          bs_stream_read_fn read, bs_stream_done_fn done,
                          void *user)
{
    bs_stream *s = calloc(1, sizeof *s);
    if (!s) {
        bs_resp_status_error(r, 500, NULL);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->refs, 2);
    s->dirty = true;
    s->read = read;
    s->done = done;
    s->user = user;
    bs_resp_raw(r, 200, content_type, NULL, 0);
    r->stream = s;
    return s;
}

void bs_stream_unref(bs_stream *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void bs_stream_wake(bs_stream *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->suspended && s->conn) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
    pthread_mutex_unlock(&s->lock);
}

static ssize_t content_reader(void *cls, uint64_t pos, char *buf,
                              size_t max)
{
    bs_stream *s = cls;
    (void)pos;
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)buf + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)buf + max) & ~(uintptr_t)(page - 1);
    pthread_mutex_lock(&s->lock);
    ssize_t n = s->read(s->user, buf, max);
    if (n > 0 && (uintptr_t)buf + (size_t)n > lo)
        s->dirty = true;
    if (n == 0 && s->conn) {
        if (s->dirty && hi > lo)
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
        s->dirty = false;
        s->suspended = true;
        MHD_suspend_connection(s->conn);
    }
    pthread_mutex_unlock(&s->lock);
    if (n == BS_STREAM_END)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void response_freed(void *cls)
{
    bs_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    s->conn = NULL;
    s->suspended = false;
    pthread_mutex_unlock(&s->lock);
    s->done(s->user);
    bs_stream_unref(s);
}

struct MHD_Response *bs_stream_response(bs_req *r)
{
    bs_stream *s = r->stream;
    r->stream = NULL; /* the response owns the connection's reference */
    s->conn = r->conn;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, BLOCK_SIZE, content_reader, s, response_freed);
    if (!resp) {
        response_freed(s);
        return NULL;
    }
    /* The stream's owner decides when it ends (idle timeout, keep-alive
     * comments): libmicrohttpd's idle timeout does not apply. */
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)0);
    return resp;
}
