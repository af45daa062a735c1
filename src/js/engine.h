/*
 * engine.h - what the files of src/js share: contexts, generations,
 * descriptors, handles and the native functions' helpers.
 *
 * The design, in short (docs/js.md has the long form):
 *
 *  - A generation is one load of the hooks directory: the files' text,
 *    and the descriptors of everything they registered (a hook handler,
 *    a route, a middleware, a cron job), each with the index of its
 *    JavaScript function. A reload makes a new generation, binds its
 *    descriptors and unbinds the old one's; requests in flight finish on
 *    the old generation, freed when its last user leaves.
 *  - A generation owns a pool of contexts. Each context is its own
 *    JSContextGroup (its own VM, heap and lock) with every hook file run
 *    in it, so its handler functions sit at the same indexes as in every
 *    other context of the generation. A handler call borrows a free
 *    context for the calling thread and gives it back; nothing of a
 *    context is touched by two threads at once. A call made while the
 *    thread already holds a context (a route saving a record whose
 *    create hook is JavaScript too) borrows another one: each VM is then
 *    entered at its outermost level, which is where JavaScriptCore runs
 *    promise jobs, so async handlers settle at any depth. When every
 *    context is busy the pool grows (up to BSJ_MAX_CONTEXTS); it never
 *    waits, so it cannot deadlock.
 *  - A call has a deadline (the time limit). JavaScriptCore's watchdog
 *    interrupts running code every BSJ_WATCHDOG_S of CPU time and asks
 *    whether the deadline passed; the event loop checks it between
 *    timers. A context whose code was terminated is thrown away.
 */
#ifndef BS_JS_ENGINE_H
#define BS_JS_ENGINE_H

#include <JavaScriptCore/JavaScript.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/buf.h"
#include "basalt.h"
#include "js.h"

/* JavaScriptCore exports these but its shipped headers do not declare
 * them (they live in the private JSContextRefPrivate.h). The callback
 * runs on the thread executing script once the limit (seconds of CPU
 * time since the script was entered) is reached; returning true
 * terminates the script. Returning false lets it go on, but the watchdog
 * stays disarmed unless the callback sets the limit again. */
void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group,
                                         double limit,
                                         bool (*callback)(JSContextRef ctx,
                                                          void *data),
                                         void *data);
void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);

#define BSJ_MAX_CONTEXTS 64
#define BSJ_WATCHDOG_S 0.1

/* What a descriptor is. */
enum bsj_kind {
    BSJ_HOOK,     /* on*(handler, ...tags) */
    BSJ_ROUTE,    /* routerAdd(method, path, handler) */
    BSJ_ROUTE_MW, /* a middleware given to routerAdd */
    BSJ_USE,      /* routerUse(middleware) */
    BSJ_CRON,     /* cronAdd(id, expr, handler) */
};

/* The shape of the event a handler receives (prelude.js builds the
 * matching JavaScript object). */
enum bsj_event {
    BSJ_EV_BASE,           /* bs_event */
    BSJ_EV_RECORD,         /* bs_record_event */
    BSJ_EV_COLLECTION,     /* bs_collection_event */
    BSJ_EV_REQUEST,        /* bs_req (routes and middlewares) */
    BSJ_EV_RECORD_REQUEST, /* bs_request_event */
    BSJ_EV_AUTH_REQUEST,   /* bs_record_auth_event */
    BSJ_EV_MAILER,         /* bs_mailer_event */
    BSJ_EV_REALTIME,       /* bs_realtime_event */
    BSJ_EV_FILE,           /* bs_file_event */
    BSJ_EV_CRON,           /* no event */
    BSJ_EV_BACKUP,         /* bs_backup_event */
};

typedef struct bs_js bs_js;
typedef struct bsj_gen bsj_gen;
typedef struct bsj_ctx bsj_ctx;

typedef struct bsj_desc {
    bsj_gen *gen;
    int index;            /* of the function in every context */
    int kind;             /* enum bsj_kind */
    int hook;             /* BSJ_HOOK: the bs_hook_id */
    int event;            /* enum bsj_event */
    char **tags;          /* BSJ_HOOK: NULL-terminated, or NULL */
    char *method;         /* BSJ_ROUTE: the method, NULL for any;
                             BSJ_CRON: the job id */
    char *path;           /* BSJ_ROUTE: the pattern; BSJ_CRON: the expr */
    int route;            /* BSJ_ROUTE_MW: the route's descriptor */
    int priority;         /* BSJ_ROUTE_MW, BSJ_USE */
    bs_handler_fn builtin;/* a C middleware ($apis.requireAuth()...) */
    char **builtin_args;  /* its NULL-terminated list, or NULL */
    char *file;           /* the file that registered it */
    char id[48];          /* the id it is bound with */
} bsj_desc;

typedef struct bsj_file {
    char *path; /* absolute */
    char *text;
} bsj_file;

/* One context of a generation's pool. Only the thread that borrowed it
 * touches it. */
struct bsj_ctx {
    bsj_gen *gen;
    JSContextGroupRef group;
    JSGlobalContextRef ctx;
    JSObjectRef dispatch;   /* __bs.dispatch(index, kind, handle) */
    JSObjectRef run_timers; /* __bs.runTimers() -> ms to the next or -1 */
    JSObjectRef clear_timers;
    JSObjectRef *fns;       /* by descriptor index (protected), or NULL */
    int nfns;
    int loaded;             /* descriptors seen while loading */
    bool loader;            /* the first context: creates descriptors */
    bool loading;           /* running the hook files: registrars work */
    int64_t deadline_ms;    /* of the current call (monotonic) */
    bool terminated;        /* the watchdog stopped a script */
    int depth;              /* nested calls on this context */
    struct bsj_handle *borrowed; /* handles to invalidate after a call */
    bsj_ctx *next_free;
};

struct bsj_gen {
    bs_js *js;
    int number;
    int refs;               /* under js->lock */
    bool retired;
    bsj_file *files;
    int nfiles;
    bsj_desc **descs;
    int ndescs, cap;
    pthread_mutex_t lock;   /* the pool */
    bsj_ctx *free;
    int ncontexts;
    bsj_gen *next_retired;
};

/* A route registered with the app: one per method and pattern ever
 * loaded (routes cannot be removed; a route the current generation no
 * longer has answers 404). */
typedef struct bsj_route {
    bs_js *js;
    char *method;
    char *path;
    bs_route *route;
    struct bsj_route *next;
} bsj_route;

struct bs_js {
    bs_app *app;
    char *dir;
    bool watch;
    int pool_size;
    int time_limit_ms;
    pthread_mutex_t lock;   /* current, generation refs, routes, crons */
    bsj_gen *current;
    bsj_gen *retired;
    int generations;
    bsj_route *routes;
    char **crons;           /* job ids bound by the current generation */
    int ncrons;
    pthread_t watcher;
    bool watching;
    int stop_pipe[2];
    uint64_t signature;     /* of the directory when last loaded */
    bool warned[64];        /* legacy names already warned about */
};

/* ---- handles ------------------------------------------------------------ */

enum bsj_handle_type { BSJ_H_RECORD, BSJ_H_EVENT, BSJ_H_ROWS };

/* The private data of the opaque objects passed between prelude.js and
 * the natives. A borrowed handle (a record or event of the running
 * call) is invalidated when the call ends. */
typedef struct bsj_handle {
    int type;
    int kind;               /* BSJ_H_EVENT: enum bsj_event */
    void *p;                /* NULL once invalid */
    bool owned;             /* a record the handle frees */
    JSObjectRef obj;
    struct bsj_handle *next;
} bsj_handle;

JSObjectRef bsj_handle_new(JSContextRef ctx, int type, void *p, bool owned);
/* The live pointer of a handle argument of the given type, or NULL with
 * an exception set. */
void *bsj_handle_get(JSContextRef ctx, JSValueRef v, int type,
                     JSValueRef *exc);
/* Invalidates the handles borrowed during the context's current call. */
void bsj_handles_release(bsj_ctx *c);

/* ---- the running context --------------------------------------------------- */

/* The context this thread is executing in (set for the duration of each
 * call into a context). */
bsj_ctx *bsj_current(void);
void bsj_set_current(bsj_ctx *c);

/* ---- values ------------------------------------------------------------ */

JSValueRef bsj_string(JSContextRef ctx, const char *s);
JSValueRef bsj_string_n(JSContextRef ctx, const char *s, size_t n);
/* A malloc'ed UTF-8 copy of v converted to a string (NULL on failure). */
char *bsj_cstr(JSContextRef ctx, JSValueRef v);
/* The JSON of v as a new json-c object (undefined: NULL). */
json_object *bsj_to_json(JSContextRef ctx, JSValueRef v);
/* A JavaScript value for j (NULL: null). */
JSValueRef bsj_from_json(JSContextRef ctx, const json_object *j);
void bsj_set(JSContextRef ctx, JSObjectRef o, const char *name,
             JSValueRef v);
JSValueRef bsj_get(JSContextRef ctx, JSObjectRef o, const char *name);
/* Throws a plain Error with the message; returns undefined. */
JSValueRef bsj_throw(JSContextRef ctx, JSValueRef *exc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Throws the prelude's ApiError for err (status 0: a plain Error) and
 * records code, so the error keeps its code when it leaves JavaScript. */
JSValueRef bsj_throw_error(JSContextRef ctx, JSValueRef *exc,
                           const bs_error *err, int code);
/* "file:line: message" of an exception, in a new string. */
char *bsj_exception_text(JSContextRef ctx, JSValueRef exc);
/* Turns an exception leaving JavaScript into err and a return code, as
 * PocketBase does (an ApiError keeps its status, anything else is a 400). */
int bsj_exception_to_error(bsj_ctx *c, JSValueRef exc, bs_error *err);

/* Appends the whole file at path to out; returns 0 or an errno value
 * (ENOMEM when out ran out of memory). Any thread. */
int bsj_read_file(const char *path, bs_buf *out);

/* ---- natives ------------------------------------------------------------- */

/* Adds the natives of one area to the object `n` (the prelude's __n). */
void bsj_bind_core(JSContextRef ctx, JSObjectRef n);   /* bind_core.c */
void bsj_bind_record(JSContextRef ctx, JSObjectRef n); /* bind_record.c */
void bsj_bind_app(JSContextRef ctx, JSObjectRef n);    /* bind_app.c */
void bsj_bind_event(JSContextRef ctx, JSObjectRef n);  /* bind_event.c */
void bsj_bind_http(JSContextRef ctx, JSObjectRef n);   /* bind_http.c */
void bsj_bind_util(JSContextRef ctx, JSObjectRef n);   /* bind_util.c */
void bsj_bind_os(JSContextRef ctx, JSObjectRef n);     /* bind_os.c */

typedef JSValueRef (*bsj_native_fn)(JSContextRef, JSObjectRef, JSObjectRef,
                                    size_t, const JSValueRef[],
                                    JSValueRef *);
void bsj_def(JSContextRef ctx, JSObjectRef o, const char *name,
             bsj_native_fn fn);

/* The app of the running context. */
bs_app *bsj_app(void);

/* ---- pool and calls (pool.c, loop.c) --------------------------------------- */

/* Creates a context of gen with every file loaded. The loader context
 * (the generation's first) creates the descriptors. */
int bsj_ctx_new(bsj_gen *gen, bool loader, bsj_ctx **out, bs_error *err);
void bsj_ctx_free(bsj_ctx *c);
/* Borrows a free context of gen (creating one when none is free). */
bsj_ctx *bsj_borrow(bsj_gen *gen, bs_error *err);
/* Gives c back (or frees it when a script was terminated in it). */
void bsj_give_back(bsj_ctx *c);

/* Runs descriptor d's function with event e (NULL for a cron job) on a
 * borrowed context of d's generation, waits for the promise it returns,
 * and returns 0 or an error code with e->error filled (err for a job). */
int bsj_call(bsj_desc *d, bs_event *e, bs_error *err);

/* Drives c's promise jobs and timers until state.done or the deadline.
 * Returns 0 when settled, BS_EABORT when the deadline passed or the
 * script was terminated (c->terminated then). */
int bsj_loop_wait(bsj_ctx *c, JSObjectRef state, JSValueRef *exc);

/* The time limit callback given to JavaScriptCore. */
bool bsj_watchdog(JSContextRef ctx, void *data);

/* Generations (loader.c). */
bool bsj_gen_acquire(bsj_gen *gen);
void bsj_gen_release(bsj_gen *gen);

/* Registers what the running file asked for (called by __n.register);
 * returns the descriptor index or -1 with an exception set. */
int bsj_register(bsj_ctx *c, JSObjectRef meta, JSValueRef fn,
                 JSValueRef *exc);

/* The hook of a JavaScript name ("onRecordCreate"): its id and event
 * shape, or -1. */
int bsj_hook_lookup(const char *name, int *event);

/* Every hook name as a property whose value is its event shape (enum
 * bsj_event), for the types.d.ts generator. */
JSObjectRef bsj_hook_kinds(JSContextRef ctx);

/* Warns once per legacy name. */
void bsj_warn_legacy(bs_js *js, int which, const char *old_name,
                     const char *new_name);

#endif
