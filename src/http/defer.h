/*
 * defer.h - answers written later, by work that runs off the HTTP
 * threads (POST /api/backups: the 204 once the backup is stored).
 *
 * A handler calls bs_resp_defer and returns without answering. Once the
 * middlewares have returned, the server suspends the connection: it holds
 * no worker thread, so the other connections of that worker go on. When
 * the work is done, its thread calls bs_defer_resume; the connection is
 * resumed and `respond` runs on its worker thread, where it writes the
 * answer as a handler would (bs_resp_*). A resume that comes before the
 * suspension is not lost: the answer is then written at once.
 *
 * Lifetime. A deferral has two references: the owner's, dropped by
 * bs_defer_resume, and the connection's, dropped when the request ends.
 * free_user(user) runs when the last one goes. If the server stops while
 * a connection waits (after its drain), the connection is closed without
 * an answer and respond is never called; the owner's resume then does
 * nothing but drop its reference.
 */
#ifndef BS_DEFER_H
#define BS_DEFER_H

#include <pthread.h>
#include <stdbool.h>

#include "request.h"

typedef struct bs_defer bs_defer;

/* Writes the answer to r, on r's worker thread. */
typedef void (*bs_defer_respond_fn)(bs_req *r, void *user);
typedef void (*bs_defer_free_fn)(void *user);

/* Defers r's answer and returns the owner's reference, or NULL when out
 * of memory (r is then answered 500 and user stays the caller's). Worker
 * thread of r, from a handler. */
bs_defer *bs_resp_defer(bs_req *r, bs_defer_respond_fn respond,
                        bs_defer_free_fn free_user, void *user);

/* The work is done: the answer is written on r's worker thread. Drops
 * the owner's reference. Any thread, once. */
void bs_defer_resume(bs_defer *d);

/* Runs after(r, user) on r's worker thread right after the deferred
 * answer is written, for a middleware that looks at the answer once
 * next returns (the request logger); not when the connection closes
 * without an answer. Up to BS_DEFER_AFTER_MAX per deferral (the request
 * logger, the metrics), run in the order given; call it before the
 * middleware returns. */
#define BS_DEFER_AFTER_MAX 4
void bs_defer_after(bs_defer *d, bs_defer_respond_fn after, void *user);

/* ---- for the server ------------------------------------------------------- */

/* The deferrals of one server whose connections wait, so that a stop can
 * close them (libmicrohttpd refuses to stop with suspended connections). */
typedef struct bs_defer_set {
    pthread_mutex_t lock;
    bs_defer *head;
} bs_defer_set;

void bs_defer_set_init(bs_defer_set *set);
void bs_defer_set_dispose(bs_defer_set *set);

/* After the pipeline: suspends c until the owner resumes, and returns
 * true; false when the owner already has (answer now). */
bool bs_defer_suspend(bs_defer *d, bs_defer_set *set,
                      struct MHD_Connection *c);

/* On the resumed call (or when bs_defer_suspend returned false): calls
 * respond and returns true; false when the server is stopping (close
 * the connection). */
bool bs_defer_answer(bs_defer *d, bs_req *r);

/* Server stop: every waiting connection is resumed to be closed. */
void bs_defer_cancel_all(bs_defer_set *set);

/* The request ended: drops the connection's reference. */
void bs_defer_release(bs_defer *d, bs_defer_set *set);

#endif
