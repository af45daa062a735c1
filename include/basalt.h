/*
 * basalt.h - the public interface of libbasalt.
 *
 * Basalt is a backend in one program: an embedded SQLite database,
 * collections with a schema and access rules, a REST API that speaks
 * PocketBase's protocol, authentication and hooks. The `basalt` binary is
 * a thin command line over this library; a program of your own can link
 * libbasalt, bind hooks and serve the same API.
 *
 * Conventions used throughout:
 *  - Functions return 0 on success or a negative BS_E* code.
 *  - Where an error must reach an HTTP client, a bs_error carries the
 *    status, the message and per-field data, mapping one-to-one onto
 *    PocketBase's error body {"data":{...},"message":"...","status":N}.
 *  - Objects are created with _new and released with _free; embedded
 *    structs use _init/_dispose.
 *  - JSON values are json-c objects (libjson-c).
 */
#ifndef BASALT_H
#define BASALT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BASALT_VERSION "0.1.0"

/* BS_EXPORT marks the functions of this header, libbasalt's interface.
 * The library is compiled with -fvisibility=hidden: these are the only
 * names a shared build of it exports; every other one is internal. */
#if defined(__GNUC__) || defined(__clang__)
#define BS_EXPORT __attribute__((visibility("default")))
#else
#define BS_EXPORT
#endif

/* ---- errors ----------------------------------------------------------- */

enum {
    BS_OK = 0,
    BS_ENOMEM = -1,    /* out of memory */
    BS_EINVAL = -2,    /* bad argument or input */
    BS_ENOTFOUND = -3, /* no such object */
    BS_EDB = -4,       /* database error */
    BS_EIO = -5,       /* file or socket error */
    BS_EHTTP = -6,     /* an error meant for the client; see bs_error */
    BS_EABORT = -7,    /* a hook stopped the action on purpose */
    BS_ECONSTRAINT = -8 /* a database constraint (UNIQUE, NOT NULL...) */
};

/* Returns a static English description of a BS_E* code. */
BS_EXPORT const char *bs_strerror(int code);

/* An error as the client sees it. `message` is heap-owned; `data` is an
 * owned json-c object (NULL means {}). Use bs_error_set / bs_error_field. */
typedef struct bs_error {
    int status;
    char *message;
    json_object *data;
} bs_error;

BS_EXPORT void bs_error_init(bs_error *e);
BS_EXPORT void bs_error_dispose(bs_error *e);

/* Sets status and message (printf-style); keeps any field data already
 * collected. Returns BS_EHTTP so callers can `return bs_error_set(...)`. */
BS_EXPORT int bs_error_set(bs_error *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a validation error for one field (a dotted path such as
 * "meta.appName" nests objects), as data.<field> = {code, message}. */
BS_EXPORT void bs_error_field(bs_error *e, const char *field, const char *code,
                              const char *message);

/* True when field errors were collected. */
BS_EXPORT bool bs_error_has_fields(const bs_error *e);


typedef struct bs_app bs_app;

/* ---- hooks ------------------------------------------------------------
 *
 * A hook is an ordered chain of handlers for one kind of event. Every
 * handler has the same signature: it receives the event (a struct that
 * begins with a bs_event, cast it to the concrete type) and the user
 * pointer given at bind time, and returns 0 or a negative BS_E* code.
 * A handler continues the chain with bs_event_next(e); not calling it
 * stops the chain there. The built-in behaviour of an action is the
 * innermost step, so code before next can change the input or refuse the
 * action, and code after next sees the result.
 *
 * Order: ascending priority, then registration order. Handlers bound with
 * tags (collection names or ids) run only for events carrying a matching
 * tag. Binding and unbinding are safe from any thread at any time;
 * triggering takes no lock.
 */

typedef struct bs_event bs_event;
typedef struct bs_hook bs_hook;
typedef int (*bs_handler_fn)(bs_event *e, void *user);

typedef struct bs_handler {
    const char *id;          /* optional; a generated id when NULL */
    int priority;            /* lower runs first */
    bs_handler_fn fn;
    void *user;              /* passed back to fn; not owned */
    const char *const *tags; /* NULL-terminated names/ids, or NULL for all */
} bs_handler;

/* The common head of every event. `app` is the application the event
 * belongs to; handlers use it instead of any global. When an event fails
 * for the client, `error` holds what the client receives. */
struct bs_event {
    bs_app *app;
    const char *tags[2];     /* matched against handler tags */
    bs_error *error;
    /* chain state, private to the hook implementation */
    const void *chain_;
    size_t pos_;
    bs_handler_fn final_;
    void *final_user_;
};

/* Creates an empty hook. Freed with bs_hook_free, which also frees every
 * id string returned by bs_hook_bind_func. */
BS_EXPORT bs_hook *bs_hook_new(void);
BS_EXPORT void bs_hook_free(bs_hook *h);

/* Adds a handler (copied; tags are copied too). A handler with the same
 * id replaces the earlier one in place. Returns 0 or BS_ENOMEM. */
BS_EXPORT int bs_hook_bind(bs_hook *h, const bs_handler *handler);

/* Binds fn with priority 0 and returns its generated id, valid until the
 * hook is freed; NULL when out of memory. */
BS_EXPORT const char *bs_hook_bind_func(bs_hook *h, bs_handler_fn fn,
                                        void *user);

/* Removes the handler with this id; returns whether one was removed. */
BS_EXPORT bool bs_hook_unbind(bs_hook *h, const char *id);
BS_EXPORT void bs_hook_unbind_all(bs_hook *h);

/* Number of bound handlers. */
BS_EXPORT size_t bs_hook_length(const bs_hook *h);

/* Runs the chain for e, ending with final(e, final_user) (may be NULL:
 * the chain then ends with success). The caller fills e->app, e->tags and
 * the event's own fields; the chain fields are set here. */
BS_EXPORT int bs_hook_trigger(bs_hook *h, bs_event *e, bs_handler_fn final,
                              void *final_user);

/* Continues the chain of the event currently being triggered. */
BS_EXPORT int bs_event_next(bs_event *e);


/* ---- transactions -----------------------------------------------------
 *
 * Everything saved inside bs_run_in_transaction goes through the single
 * writer connection in one SQLite transaction. A call made while the same
 * thread is already inside a transaction of the same app joins it (the
 * outer call commits or rolls back).
 *
 * Work that must happen only when the data is really committed (the
 * *AfterXSuccess hooks, realtime messages, removal of replaced files) is
 * queued on the transaction with bs_tx_after. On commit the queue runs in
 * order with committed = true, after the writer lock is released (so the
 * callbacks may start transactions of their own); on rollback it runs
 * with committed = false (the *AfterXError hooks). Each entry's free
 * function, when given, runs once after its callback.
 */

typedef struct bs_tx bs_tx;
typedef int (*bs_tx_fn)(bs_tx *tx, void *data);
typedef void (*bs_tx_after_fn)(bs_app *app, void *data, bool committed);

/* Runs fn inside a transaction. fn returns 0 to commit or a negative
 * code to roll back (filling err for the client when it can). */
BS_EXPORT int bs_run_in_transaction(bs_app *app, bs_tx_fn fn, void *data,
                                    bs_error *err);

/* Queues after-commit work on tx. Returns 0 or BS_ENOMEM (then the free
 * function has already been called). */
BS_EXPORT int bs_tx_after(bs_tx *tx, bs_tx_after_fn fn, void *data,
                          void (*free_data)(void *));

/* The app a transaction belongs to. */
BS_EXPORT bs_app *bs_tx_app(bs_tx *tx);


/* ---- records ----------------------------------------------------------
 *
 * A record is one row of a collection. Its values are json-c objects
 * shaped by the field type (see the field rules in the documentation).
 * Records handed to hook handlers belong to the action that triggered
 * the hook; a handler may read and change them but never frees them.
 */

typedef struct bs_record bs_record;

BS_EXPORT const char *bs_record_id(const bs_record *r);
BS_EXPORT const char *bs_record_collection_name(const bs_record *r);
BS_EXPORT const char *bs_record_collection_id(const bs_record *r);
BS_EXPORT bool bs_record_is_new(const bs_record *r);

/* The value of a field (borrowed; NULL for a json null or an unknown
 * field): the JSON read. */
BS_EXPORT json_object *bs_record_get(const bs_record *r, const char *field);

/* Typed reads with PocketBase's coercions (its GetString, GetInt,
 * GetFloat, GetBool, GetStringSlice and GetDateTime): whatever the field
 * holds is cast, and a missing field or a value that does not convert
 * reads as the zero value.
 *  - string: text as is; numbers in decimal ("12", "2.5"); "true" or
 *    "false"; a json field's value as its JSON text; otherwise "". The
 *    text lives as long as the record (a number's spelling until the
 *    next read of the same field).
 *  - int: numbers truncated; text parsed as an integer (0x.. and 0..
 *    prefixes, a trailing ".0" allowed), else 0; true is 1.
 *  - float (and number, its older name): numbers; text parsed, else 0.
 *  - bool: true, non-zero numbers, and the texts "1", "t", "T", "true",
 *    "TRUE", "True".
 *  - string list: a new JSON array of the distinct non-empty texts of a
 *    list (numbers spelled out, objects as JSON text), a one-element
 *    list for text (text holding a JSON array is that array); the
 *    caller puts it. NULL only when out of memory.
 *  - date: Unix milliseconds of a date field (or date text), 0 when
 *    empty or not a date. */
BS_EXPORT const char *bs_record_get_string(const bs_record *r,
                                           const char *field);
BS_EXPORT int64_t bs_record_get_int(const bs_record *r, const char *field);
BS_EXPORT double bs_record_get_float(const bs_record *r, const char *field);
BS_EXPORT double bs_record_get_number(const bs_record *r, const char *field);
BS_EXPORT bool bs_record_get_bool(const bs_record *r, const char *field);
BS_EXPORT json_object *bs_record_get_string_list(const bs_record *r,
                                                 const char *field);
BS_EXPORT int64_t bs_record_get_date(const bs_record *r, const char *field);

/* Sets a field, converting value to the field's type as an API request
 * would (takes the reference of value). Setting "password" on an auth
 * record stores the plain text until the save hashes it. Returns
 * BS_ENOTFOUND for an unknown field. */
BS_EXPORT int bs_record_set(bs_record *r, const char *field,
                            json_object *value);

/* Typed writes: the value converted to the field's type by the same
 * rules as bs_record_set ("12" into a number field is 12, 1 into a bool
 * field is true, a list into a single select keeps its last value...).
 * A date is given in Unix milliseconds (0 clears the field). */
BS_EXPORT int bs_record_set_string(bs_record *r, const char *field,
                                   const char *value);
BS_EXPORT int bs_record_set_int(bs_record *r, const char *field,
                                int64_t value);
BS_EXPORT int bs_record_set_float(bs_record *r, const char *field,
                                  double value);
BS_EXPORT int bs_record_set_bool(bs_record *r, const char *field, bool value);
BS_EXPORT int bs_record_set_string_list(bs_record *r, const char *field,
                                        const char *const *values, size_t n);
BS_EXPORT int bs_record_set_date(bs_record *r, const char *field,
                                 int64_t unix_ms);

/* The record's original values: those stored when it was loaded (or
 * last saved), before any change made since, as a read-only record for
 * the getters above. In the hooks of an update this is the row as it was
 * before the update (PocketBase's Original()); in a delete, the row
 * being deleted; for a new record, a record with no values. Owned by r
 * and valid until r is saved again or freed; NULL when out of memory.
 * The After*Success hooks of a save that joined an outer transaction run
 * after that save completed: there, the original is the saved row. */
BS_EXPORT const bs_record *bs_record_original(bs_record *r);

/* True when password is the auth record's password: the new one set on
 * it and not yet saved, else the stored hash (bcrypt). False for a
 * record without a password field. Any thread. */
BS_EXPORT bool bs_record_validate_password(const bs_record *r,
                                           const char *password);

/* The record as the API shows it (a new object, hidden fields left
 * out, expand included), or NULL when out of memory. */
BS_EXPORT json_object *bs_record_export(const bs_record *r);

/* ---- records from C -----------------------------------------------------
 *
 * For hooks, routes, commands and cron jobs. Saving and deleting take the
 * path of the REST API: the record hooks run (validation, the auth
 * invariants, realtime messages), inside one transaction, joining the
 * calling thread's transaction if there is one (a hook calling them runs
 * inside the save that triggered it). The finders act as a superuser:
 * no API rule applies. On a thread inside a transaction they read
 * through it; otherwise from a reader connection. Any thread. Records
 * returned are the caller's, freed with bs_record_free (or
 * bs_records_free for a list).
 */

/* A new record of the collection (name or id) with every field at its
 * zero value; NULL for an unknown or view collection or out of memory.
 * Set its fields, then bs_record_save. */
BS_EXPORT bs_record *bs_record_new_in(bs_app *app, const char *collection);
BS_EXPORT void bs_record_free(bs_record *r);
BS_EXPORT void bs_records_free(bs_record **items, int n);

/* Creates or updates r. On a validation failure err carries per-field
 * data and status 400; a hook's refusal arrives with its error. */
BS_EXPORT int bs_record_save(bs_app *app, bs_record *r, bs_error *err);

/* Deletes r (cascades and relation clean-up included). */
BS_EXPORT int bs_record_delete(bs_app *app, bs_record *r, bs_error *err);

/* Filters are PocketBase's filter language; {:name} placeholders take
 * their values from params (an object, or NULL), always bound as SQL
 * parameters and never spliced into the text:
 *     "status = {:status} && total_cents > {:min}"
 *     with params {"status":"shipped","min":1000}
 * A filter that does not compile returns BS_EINVAL (the reason goes to
 * the debug log). */

/* The record with this id: 0, BS_ENOTFOUND or an error. */
BS_EXPORT int bs_record_find_by_id(bs_app *app, const char *collection,
                                   const char *id, bs_record **out);

/* The matching records in sort order ("-created,title"; NULL or "" for
 * storage order), at most limit of them (0: all) after skipping offset.
 * *out is a malloc'ed array of *n records (NULL when none). */
BS_EXPORT int bs_record_find_by_filter(bs_app *app, const char *collection,
                                       const char *filter, const char *sort,
                                       int limit, int offset,
                                       json_object *params, bs_record ***out,
                                       int *n);

/* The first matching record: 0, BS_ENOTFOUND or an error. */
BS_EXPORT int bs_record_find_first(bs_app *app, const char *collection,
                                   const char *filter, json_object *params,
                                   bs_record **out);

/* The number of matching records (filter NULL or "": all). */
BS_EXPORT int bs_record_count(bs_app *app, const char *collection,
                              const char *filter, json_object *params,
                              int64_t *out);

/* Expands relations on r ("customer_id,items.product", up to 6 levels)
 * as a superuser's ?expand= would. The related records are then read
 * with bs_record_expanded (borrowed, owned by r; NULL past the end) and
 * exported by bs_record_export. */
BS_EXPORT int bs_record_expand(bs_app *app, bs_record *r, const char *paths,
                               bs_error *err);
BS_EXPORT bs_record *bs_record_expanded(const bs_record *r, const char *name,
                                        int i);
BS_EXPORT int bs_record_expanded_count(const bs_record *r, const char *name);

/* ---- collections and settings from C ------------------------------------
 *
 * Collections in PocketBase's API JSON shape (id, name, type, rules,
 * fields, indexes, created, updated, system, and the auth options or
 * viewQuery at the top level), as the /api/collections endpoints show
 * them to a superuser. Any thread.
 */

/* The collection with this id or name as a new object in *out (the
 * caller puts it): 0 or BS_ENOTFOUND. */
BS_EXPORT int bs_collection_find(bs_app *app, const char *id_or_name,
                                 json_object **out);

/* Every collection, as a new array in *out, in the order of the schema
 * (the caller puts it). */
BS_EXPORT int bs_collection_find_all(bs_app *app, json_object **out);

/* Flags of bs_collection_save and bs_collection_delete. */
enum {
    BS_COLLECTION_NEW = 1 << 0,          /* save: insert, not update */
    BS_COLLECTION_NO_VALIDATE = 1 << 1,  /* save: skip OnCollectionValidate */
    BS_COLLECTION_NO_INTEGRITY = 1 << 2, /* delete: skip reference checks */
    BS_COLLECTION_DEFAULTS = 1 << 3,     /* new: start from the defaults of
                                            its type (system fields, auth
                                            options), col bound on top */
};

/* Saves col (borrowed; the API shape above, a new one with
 * BS_COLLECTION_NEW, else an update) through the collection hooks in one
 * transaction, joining the caller's when there is one. An update
 * compares col with the stored collection of id stored_id (NULL: col's
 * own id) and brings the record table (or the view) in line with the new
 * definition, data preserved. A new collection without an id gets one.
 * col is updated to what was saved. On a validation failure err has
 * status 400 and per-field data and the function returns BS_EHTTP; any
 * other failure leaves a message in err and returns a negative code. */
BS_EXPORT int bs_collection_save(bs_app *app, json_object *col,
                                 const char *stored_id, unsigned flags,
                                 bs_error *err);

/* Deletes the collection col (its id or name is enough) and its table
 * or view through the collection hooks. System collections and (unless
 * BS_COLLECTION_NO_INTEGRITY) collections that other collections
 * reference are refused, with the reason in err->message. */
BS_EXPORT int bs_collection_delete(bs_app *app, json_object *col,
                                   unsigned flags, bs_error *err);

/* Imports the array of collections `items` (borrowed; current or
 * pre-0.23 shape), as PUT /api/collections/import does: existing ones
 * (by id, else name) are updated, others created, and with
 * delete_missing the collections and fields the import does not mention
 * are deleted. One transaction; nothing changes unless all succeeds. */
BS_EXPORT int bs_collections_import(bs_app *app, const json_object *items,
                                    bool delete_missing, bs_error *err);

/* The app's settings as a new object (secrets included; the caller puts
 * it), or NULL when out of memory. */
BS_EXPORT json_object *bs_app_settings_json(bs_app *app);

/* Events of the record model. `tx` is the transaction the save runs in
 * (NULL in the After* events, which run after the transaction ended). */
typedef struct bs_record_event {
    bs_event ev;
    bs_tx *tx;
    bs_record *record;
} bs_record_event;

/* Events of the collection model (BS_ON_COLLECTION_*). `collection` is
 * the collection as a JSON object in PocketBase's API shape (id, name,
 * type, rules, fields, indexes, created, updated, system, and the auth
 * options or viewQuery at the top level), token secrets included. A
 * handler may change it before calling next (the change is what gets
 * validated and saved) but never frees it. `tx` is the transaction the
 * change runs in (NULL in the After* events, which run after it ended).
 * Tags are the collection's id and name. */
typedef struct bs_collection_event {
    bs_event ev;
    bs_tx *tx;
    json_object *collection;
} bs_collection_event;



/* Events of API requests. `req` is the HTTP request (see the request
 * functions); `collection` names the collection of a records or
 * collections request; `record` is the record being viewed, created,
 * updated or deleted (NULL otherwise). The response is written by the
 * built-in final step; a handler that answers itself does not call next. */
typedef struct bs_req bs_req;
typedef struct bs_request_event {
    bs_event ev;
    bs_req *req;
    const char *collection;
    bs_record *record;
    /* Collections requests: the collection viewed, created, updated or
     * deleted (API shape, as in bs_collection_event; create and update
     * handlers may change it before next), the array of collections
     * listed, or the array being imported. NULL otherwise. Borrowed. */
    json_object *data;
} bs_request_event;

/* Events of the auth requests (BS_ON_RECORD_AUTH_*_REQUEST and the
 * request-/confirm- ones). The first fields match bs_request_event;
 * `record` is the auth record concerned (NULL when an identity or email
 * matched nothing: the built-in step then answers without revealing
 * it). The other fields are set where the request has them and are
 * NULL/0 otherwise. A handler may point the strings elsewhere (keeping
 * them alive until the event ends, e.g. in the request's arena) and may
 * change `record` to another record it owns until the event ends. */
typedef struct bs_record_auth_event {
    bs_event ev;
    bs_req *req;
    const char *collection;    /* name of the auth collection */
    bs_record *record;
    json_object *data;         /* always NULL (bs_request_event's slot) */
    const char *auth_method;   /* "password", "otp", "oauth2" or "" */
    const char *token;         /* the token about to be returned */
    json_object *meta;         /* the response's "meta" (borrowed), or NULL */
    const char *identity;      /* auth-with-password */
    const char *identity_field;
    const char *password;      /* auth-with-password, request-otp */
    const char *otp_id;        /* auth-with-otp */
    const char *new_email;     /* request-/confirm-email-change */
    const char *provider;      /* auth-with-oauth2: provider name */
    json_object *oauth2_user;  /* auth-with-oauth2: the provider's user */
    json_object *create_data;  /* auth-with-oauth2: data for a new record */
    bool is_new_record;        /* auth-with-oauth2: a record is created */
} bs_record_auth_event;

/* A mail message. Every string is heap-owned by the message (a handler
 * replacing one frees the old value and stores a malloc'ed copy); `to`,
 * `cc` and `bcc` are comma-separated address lists. */
typedef struct bs_mail_message {
    char *from_name;
    char *from_address;
    char *to;
    char *cc;
    char *bcc;
    char *subject;
    char *html;
    char *text;   /* plain text part; derived from html when NULL */
} bs_mail_message;

/* Sends a mail the way the record mails go: through BS_ON_MAILER_SEND
 * (record NULL), then the SMTP settings' transport (or the local
 * sendmail without SMTP). A missing sender is taken from the settings'
 * meta.senderName and senderAddress. m stays the caller's (dispose its
 * strings yourself; a handler may have replaced them). Blocks until the
 * mail is handed over: call it from bs_app_go work, not a request.
 * Returns 0, or an error with err set to a 400 with the reason. */
BS_EXPORT int bs_app_send_mail(bs_app *app, bs_mail_message *m,
                               bs_error *err);

/* Sends one of the record mails (PocketBase's $mails) to the auth record
 * rec, rendered from its collection's template and sent through the
 * mail's hook (BS_ON_MAILER_RECORD_*_SEND): kind is "verification",
 * "passwordReset", "emailChange" (arg: the new address, required),
 * "otp" (arg: the OTP record's id, arg2: the password, both required)
 * or "authAlert" (arg: the alert text, may be NULL). rec stays the
 * caller's. Blocks until the mail is handed over, as bs_app_send_mail.
 * Returns 0, or an error with err set (a 400 for an unknown kind or a
 * missing argument). */
BS_EXPORT int bs_app_send_record_mail(bs_app *app, const char *kind,
                                      bs_record *rec, const char *arg,
                                      const char *arg2, bs_error *err);

/* Events of the mailer (BS_ON_MAILER_*). `record` is the auth record a
 * record mail is about (NULL for BS_ON_MAILER_SEND of other mails);
 * `meta` carries the mail's data: token, otpId, password, newEmail or
 * info (borrowed). Not calling next suppresses the mail. */
typedef struct bs_mailer_event {
    bs_event ev;
    bs_mail_message *message;
    bs_record *record;
    json_object *meta;
} bs_mailer_event;

/* Events of the realtime API (BS_ON_REALTIME_*). `client_id` is the
 * realtime client's 40-character id.
 *  - Connect request: `req` is the GET /api/realtime request;
 *    `idle_timeout_ms` (5 minutes by default) and `max_timeout_ms` (the
 *    longest a stream stays open, 30 minutes by default) may be changed
 *    before next. Not calling next refuses the connection (the handler answers
 *    on req).
 *  - Subscribe request: `req` is the POST /api/realtime request;
 *    `subscriptions` is the array of topic strings about to replace the
 *    client's (borrowed; a handler may change it before next).
 *  - Message send: `req` is NULL; `name` is the event name (the topic as
 *    subscribed, "PB_CONNECT" or "@oauth2") and `data` its payload,
 *    heap-owned by the message (a handler replacing it frees the old one
 *    and stores a malloc'ed copy with its length). Not calling next
 *    drops the message for this client. Runs on the broadcaster (or the
 *    thread that connected the client), never on a connection's worker
 *    while it writes. */
typedef struct bs_realtime_event {
    bs_event ev;
    bs_req *req;
    const char *client_id;
    json_object *subscriptions;
    int64_t idle_timeout_ms;
    const char *name;
    char *data;
    size_t data_len;
    int64_t max_timeout_ms;
} bs_realtime_event;

/* ---- file request events ----------------------------------------------
 *
 * Events of the file requests (BS_ON_FILE_*_REQUEST). The first fields
 * match bs_request_event.
 *  - Download request: `record` is the record that holds the file,
 *    `field` its file field, `served_path` the stored file (or thumb)
 *    about to be sent and `served_name` the name the client sees; a
 *    handler may point them elsewhere (strings that live until the
 *    event ends, e.g. in the request's arena). `thumb_error` says why a
 *    requested thumb is not served (the original is), or is NULL.
 *  - Token request: `record` is the requester's auth record and `token`
 *    the file token about to be returned (a handler may replace it).
 * Not calling next stops the built-in answer (the handler answers). */
typedef struct bs_file_event {
    bs_event ev;
    bs_req *req;
    const char *collection;
    bs_record *record;
    json_object *data;        /* always NULL (bs_request_event's slot) */
    const char *field;
    const char *served_path;
    const char *served_name;
    const char *thumb_error;
    const char *token;
} bs_file_event;

/* ---- backup events ---------------------------------------------------
 *
 * BS_ON_BACKUP_CREATE fires for every backup (POST /api/backups, the
 * scheduled ones), BS_ON_BACKUP_RESTORE for every restore, on the thread
 * that runs it (a request's for a create; a worker for a restore).
 *  - `name` is the backup's key. For a create it is "" when the default
 *    name is still to be made; a handler may point it at another name
 *    (a string that lives until the event ends).
 *  - `exclude` lists paths relative to pb_data: a create leaves them out
 *    of the archive (default "backups", ".pb_temp_to_delete", ".notify",
 *    ".autocert_cache", "lost+found"), a restore keeps those pb_data
 *    entries and ignores the archive's (the same without ".notify"). A
 *    handler may point it at an array of its own.
 * A handler refuses the operation by returning an error without calling
 * next (with a message in ev.error, which the API answers with); code
 * after next runs once a create is stored. A restore that succeeds
 * never returns from next: the process restarts. */
typedef struct bs_backup_event {
    bs_event ev;
    const char *name;
    const char *const *exclude;
    size_t nexclude;
} bs_backup_event;

/* ---- database access --------------------------------------------------
 *
 * SQL for embedding programs, without touching the engine: {:name}
 * placeholders take their values from params (a json object, or NULL),
 * always bound as parameters (a string as text, a number as a number,
 * true/false as 1/0, null as NULL, an array or object as its JSON text);
 * a placeholder without a value fails with BS_EHTTP and a 400 in err.
 * Placeholders inside quoted text and comments are left alone.
 *
 * On a thread inside a transaction of the app (bs_run_in_transaction, a
 * model hook) every call runs on that transaction and sees its
 * uncommitted writes. Elsewhere bs_db_query/one/all read from a reader
 * connection (a query must only read), and bs_db_exec runs in a
 * transaction of its own. A failing statement returns BS_EDB or
 * BS_ECONSTRAINT with the engine's message in err (status 400). Any
 * thread; a bs_db_rows belongs to the thread that opened it.
 *
 *     json_object *p = json_object_new_object();
 *     json_object_object_add(p, "status", json_object_new_string("paid"));
 *     json_object *row = NULL;
 *     if (bs_db_one(app, "SELECT COUNT(*) AS n FROM orders"
 *                        " WHERE status = {:status}", p, &row, &err) == 0)
 *         ... json_object_object_get(row, "n") ...
 */
typedef struct bs_db_rows bs_db_rows;

/* Runs a query and returns its rows in *out, before the first row: step
 * with bs_db_next (1 on a row, 0 at the end, a negative code on
 * failure), read the current row's columns by name, then free. A
 * reader connection is held until bs_db_rows_free. */
BS_EXPORT int bs_db_query(bs_app *app, const char *sql, json_object *params,
                          bs_db_rows **out, bs_error *err);
BS_EXPORT int bs_db_next(bs_db_rows *rows);
BS_EXPORT void bs_db_rows_free(bs_db_rows *rows);

/* The current row. Text is borrowed until the next step; a NULL or a
 * missing column reads as "", 0 or false. */
BS_EXPORT int bs_db_columns(const bs_db_rows *rows);
BS_EXPORT const char *bs_db_column_name(const bs_db_rows *rows, int i);
BS_EXPORT bool bs_db_is_null(const bs_db_rows *rows, const char *column);
BS_EXPORT const char *bs_db_text(const bs_db_rows *rows, const char *column);
BS_EXPORT int64_t bs_db_int(const bs_db_rows *rows, const char *column);
BS_EXPORT double bs_db_float(const bs_db_rows *rows, const char *column);
BS_EXPORT bool bs_db_bool(const bs_db_rows *rows, const char *column);
/* The current row as a new object keyed by column name. */
BS_EXPORT json_object *bs_db_row_json(const bs_db_rows *rows);

/* The first row as a new object in *row: 0, BS_ENOTFOUND without a row,
 * or an error. */
BS_EXPORT int bs_db_one(bs_app *app, const char *sql, json_object *params,
                        json_object **row, bs_error *err);

/* Every row as a new array of objects in *rows. */
BS_EXPORT int bs_db_all(bs_app *app, const char *sql, json_object *params,
                        json_object **rows, bs_error *err);

/* Runs a statement that changes data (INSERT, UPDATE, DELETE, DDL);
 * *changes (may be NULL) receives the number of rows changed. Record
 * hooks do not run: this is plain SQL. */
BS_EXPORT int bs_db_exec(bs_app *app, const char *sql, json_object *params,
                         int64_t *changes, bs_error *err);

/* ---- requests and routes ----------------------------------------------
 *
 * Custom routes are added in a BS_ON_SERVE handler (or before
 * bs_app_serve) with bs_app_add_route; their handler receives the
 * request as its event (cast e to bs_req *) on the worker thread that
 * serves it. Strings returned by the accessors live as long as the
 * request.
 */
BS_EXPORT int bs_app_add_route(bs_app *app, const char *method,
                               const char *pattern, bs_handler_fn fn,
                               void *user);

/* The request method ("GET", ...; a HEAD request reads "GET"), the
 * request target as received ("/api/x?a=1") and its decoded path. */
BS_EXPORT const char *bs_req_method(bs_req *r);
BS_EXPORT const char *bs_req_url(bs_req *r);
BS_EXPORT const char *bs_req_path(bs_req *r);
BS_EXPORT const char *bs_req_param(bs_req *r, const char *name);
BS_EXPORT const char *bs_req_query(bs_req *r, const char *name);
BS_EXPORT const char *bs_req_header(bs_req *r, const char *name);
/* The client's address (PocketBase's RemoteIP). */
BS_EXPORT const char *bs_req_remote_ip(bs_req *r);
/* The request body (not NUL-terminated when binary). */
BS_EXPORT const char *bs_req_body(bs_req *r, size_t *len);
/* The authenticated record's id and collection name, or NULL. */
BS_EXPORT const char *bs_req_auth_id(bs_req *r);
BS_EXPORT const char *bs_req_auth_collection(bs_req *r);
BS_EXPORT bool bs_req_is_superuser(bs_req *r);

/* Answers with body[0..len) (copied, as is content_type). */
BS_EXPORT void bs_resp_raw(bs_req *r, int status, const char *content_type,
                           const char *body, size_t len);
/* Answers with v as JSON (v stays the caller's). */
BS_EXPORT void bs_resp_json(bs_req *r, int status, const json_object *v);
BS_EXPORT void bs_resp_empty(bs_req *r, int status);
BS_EXPORT void bs_resp_error(bs_req *r, const bs_error *e);
BS_EXPORT void bs_resp_status_error(bs_req *r, int status, const char *message);
BS_EXPORT void bs_resp_header(bs_req *r, const char *name, const char *value);
/* Whether a response was set (e.Written()), and its status (0 before). */
BS_EXPORT bool bs_req_responded(bs_req *r);
BS_EXPORT int bs_req_status(bs_req *r);

/* ---- custom routes, groups and middlewares ------------------------------
 *
 * Add routes in a BS_ON_SERVE handler (before next) or before serving;
 * a route added while serving is matched from the next request on
 * (routes are never removed: unbind its middlewares instead).
 * Patterns have literal segments, {name} parameters (bs_req_param) and a
 * final {name...} wildcard; the most specific route wins. A handler (and
 * a middleware) receives the request as its event: cast e to bs_req *.
 * It answers with bs_resp_json / bs_resp_raw / bs_resp_empty, or returns
 * an error filled in e->error (bs_error_bad_request and friends below,
 * or bs_error_set with field data): the client then gets PocketBase's
 * error body with that status. Returning 0 without answering sends 204.
 *
 * Middlewares are handlers bound with a bs_handler (id, priority, fn,
 * user): code before bs_event_next(e) runs before the route, code after
 * it sees the response; not calling next stops there. A route's
 * middlewares and those of its groups (and their parents) run together,
 * by ascending priority, then in binding order (the groups' first).
 * Routes and groups belong to the app. Handlers run on the HTTP worker
 * thread serving the request.
 */
typedef struct bs_route bs_route;
typedef struct bs_route_group bs_route_group;

/* Adds a route (method NULL: any method). Returns it to bind
 * middlewares to, or NULL for a bad pattern or out of memory. */
BS_EXPORT bs_route *bs_app_route(bs_app *app, const char *method,
                                 const char *pattern, bs_handler_fn fn,
                                 void *user);
/* Binds a middleware (copied) to the route. */
BS_EXPORT int bs_route_bind(bs_route *route, const bs_handler *mw);

/* Removes the route's middleware with this id; returns whether one was
 * removed. */
BS_EXPORT bool bs_route_unbind(bs_route *route, const char *id);

/* Middlewares of every request, the built-in API's included
 * (PocketBase's routerUse / e.Router.Bind): they run before the route's
 * own, by ascending priority (PocketBase's CORS and auth loading run at
 * the lowest priorities, so a middleware at priority 0 sees the auth
 * record). Binding and unbinding are safe while serving. */
BS_EXPORT int bs_app_use(bs_app *app, const bs_handler *mw);
BS_EXPORT bool bs_app_unuse(bs_app *app, const char *id);

/* A group of routes under a path prefix ("/api/custom"), and a group
 * inside a group (prefixes add up). NULL when out of memory. */
BS_EXPORT bs_route_group *bs_app_group(bs_app *app, const char *prefix);
BS_EXPORT bs_route_group *bs_group_group(bs_route_group *g,
                                         const char *prefix);
/* Adds a route under the group's prefix ("/stats", or "" for the prefix
 * itself); the group's middlewares apply to it. */
BS_EXPORT bs_route *bs_group_route(bs_route_group *g, const char *method,
                                   const char *pattern, bs_handler_fn fn,
                                   void *user);
/* Binds a middleware to every route of the group, past and future. */
BS_EXPORT int bs_group_bind(bs_route_group *g, const bs_handler *mw);

/* Built-in middlewares, bound as {.fn = bs_mw_..., .user = ...}:
 *  - require_auth: 401 without an auth record; user is NULL (any auth
 *    collection) or a NULL-terminated array of collection names or ids
 *    the record must belong to (403 otherwise);
 *  - require_superuser: 401 without auth, 403 for another record;
 *  - require_superuser_or_owner: a superuser, or the record whose id is
 *    the path parameter named by user (a string; NULL means "id");
 *  - body_limit: 413 when the body is larger than (uintptr_t)user bytes;
 *  - gzip: compresses a response of 256 bytes or more for a client that
 *    accepts gzip. */
BS_EXPORT int bs_mw_require_auth(bs_event *e, void *user);
BS_EXPORT int bs_mw_require_superuser(bs_event *e, void *user);
BS_EXPORT int bs_mw_require_superuser_or_owner(bs_event *e, void *user);
BS_EXPORT int bs_mw_body_limit(bs_event *e, void *user);
BS_EXPORT int bs_mw_gzip(bs_event *e, void *user);

/* PocketBase's error helpers: set status and message on e (NULL or ""
 * message: PocketBase's default text for the status) and return
 * BS_EHTTP, so a handler can `return bs_error_forbidden(e->error, NULL);`.
 * Field data already collected in e is kept. */
BS_EXPORT int bs_error_bad_request(bs_error *e, const char *message);
BS_EXPORT int bs_error_unauthorized(bs_error *e, const char *message);
BS_EXPORT int bs_error_forbidden(bs_error *e, const char *message);
BS_EXPORT int bs_error_not_found(bs_error *e, const char *message);
BS_EXPORT int bs_error_too_many_requests(bs_error *e, const char *message);
BS_EXPORT int bs_error_internal(bs_error *e, const char *message);

/* The request as PocketBase's e.RequestInfo(): a new object
 * {"auth": the auth record's fields (with collectionId and
 * collectionName) or null, "query": {...}, "headers": {...} (names
 * lower-cased, '-' as '_'), "body": {...} (JSON or form fields),
 * "method": "GET", "context": "default"}. The caller puts it. */
BS_EXPORT json_object *bs_req_info(bs_req *r);

/* ---- the app's hooks -------------------------------------------------
 *
 * Every core action triggers one of these hooks; bind handlers to them
 * with bs_hook_bind on bs_app_hook(app, id). The comment names the event
 * struct a handler receives. Request hooks run on the HTTP worker thread
 * that handles the request; model hooks run on the thread that saves.
 */
typedef enum bs_hook_id {
    BS_ON_BOOTSTRAP,                 /* bs_event */
    BS_ON_SERVE,                     /* bs_event: add routes here */
    BS_ON_TERMINATE,                 /* bs_event */
    BS_ON_SETTINGS_RELOAD,           /* bs_event */

    BS_ON_RECORD_VALIDATE,           /* bs_record_event */
    BS_ON_RECORD_CREATE,
    BS_ON_RECORD_CREATE_EXECUTE,
    BS_ON_RECORD_AFTER_CREATE_SUCCESS,
    BS_ON_RECORD_AFTER_CREATE_ERROR,
    BS_ON_RECORD_UPDATE,
    BS_ON_RECORD_UPDATE_EXECUTE,
    BS_ON_RECORD_AFTER_UPDATE_SUCCESS,
    BS_ON_RECORD_AFTER_UPDATE_ERROR,
    BS_ON_RECORD_DELETE,
    BS_ON_RECORD_DELETE_EXECUTE,
    BS_ON_RECORD_AFTER_DELETE_SUCCESS,
    BS_ON_RECORD_AFTER_DELETE_ERROR,
    BS_ON_RECORD_ENRICH,             /* bs_record_event */

    BS_ON_COLLECTION_VALIDATE,       /* bs_collection_event */
    BS_ON_COLLECTION_CREATE,
    BS_ON_COLLECTION_CREATE_EXECUTE,
    BS_ON_COLLECTION_AFTER_CREATE_SUCCESS,
    BS_ON_COLLECTION_AFTER_CREATE_ERROR,
    BS_ON_COLLECTION_UPDATE,
    BS_ON_COLLECTION_UPDATE_EXECUTE,
    BS_ON_COLLECTION_AFTER_UPDATE_SUCCESS,
    BS_ON_COLLECTION_AFTER_UPDATE_ERROR,
    BS_ON_COLLECTION_DELETE,
    BS_ON_COLLECTION_DELETE_EXECUTE,
    BS_ON_COLLECTION_AFTER_DELETE_SUCCESS,
    BS_ON_COLLECTION_AFTER_DELETE_ERROR,

    BS_ON_RECORDS_LIST_REQUEST,      /* bs_request_event */
    BS_ON_RECORD_VIEW_REQUEST,
    BS_ON_RECORD_CREATE_REQUEST,
    BS_ON_RECORD_UPDATE_REQUEST,
    BS_ON_RECORD_DELETE_REQUEST,
    BS_ON_COLLECTIONS_LIST_REQUEST,
    BS_ON_COLLECTION_VIEW_REQUEST,
    BS_ON_COLLECTION_CREATE_REQUEST,
    BS_ON_COLLECTION_UPDATE_REQUEST,
    BS_ON_COLLECTION_DELETE_REQUEST,
    BS_ON_COLLECTIONS_IMPORT_REQUEST,
    BS_ON_SETTINGS_LIST_REQUEST,
    BS_ON_SETTINGS_UPDATE_REQUEST,
    BS_ON_BATCH_REQUEST,
    BS_ON_RECORD_AUTH_REQUEST,       /* bs_record_auth_event */
    BS_ON_RECORD_AUTH_WITH_PASSWORD_REQUEST,
    BS_ON_RECORD_AUTH_REFRESH_REQUEST,
    BS_ON_RECORD_AUTH_WITH_OAUTH2_REQUEST,
    BS_ON_RECORD_AUTH_WITH_OTP_REQUEST,
    BS_ON_RECORD_REQUEST_OTP_REQUEST,
    BS_ON_RECORD_REQUEST_PASSWORD_RESET_REQUEST,
    BS_ON_RECORD_CONFIRM_PASSWORD_RESET_REQUEST,
    BS_ON_RECORD_REQUEST_VERIFICATION_REQUEST,
    BS_ON_RECORD_CONFIRM_VERIFICATION_REQUEST,
    BS_ON_RECORD_REQUEST_EMAIL_CHANGE_REQUEST,
    BS_ON_RECORD_CONFIRM_EMAIL_CHANGE_REQUEST,
    BS_ON_MAILER_SEND,               /* bs_mailer_event */
    BS_ON_MAILER_RECORD_AUTH_ALERT_SEND,
    BS_ON_MAILER_RECORD_PASSWORD_RESET_SEND,
    BS_ON_MAILER_RECORD_VERIFICATION_SEND,
    BS_ON_MAILER_RECORD_EMAIL_CHANGE_SEND,
    BS_ON_MAILER_RECORD_OTP_SEND,
    BS_ON_REALTIME_CONNECT_REQUEST,  /* bs_realtime_event */
    BS_ON_REALTIME_SUBSCRIBE_REQUEST,
    BS_ON_REALTIME_MESSAGE_SEND,

    /* File requests. */
    BS_ON_FILE_DOWNLOAD_REQUEST,     /* bs_file_event */
    BS_ON_FILE_TOKEN_REQUEST,

    /* Backups. */
    BS_ON_BACKUP_CREATE,             /* bs_backup_event */
    BS_ON_BACKUP_RESTORE,

    BS_HOOK_COUNT
} bs_hook_id;

/* The hook for id (owned by the app). Safe from any thread. */
BS_EXPORT bs_hook *bs_app_hook(bs_app *app, bs_hook_id id);

/* ---- the application -------------------------------------------------- */

typedef struct bs_app_config {
    const char *data_dir;     /* pb_data directory; default "pb_data" */
    const char *public_dir;   /* static files; default "<data_dir>/../pb_public" */
    const char *http_addr;    /* "host:port"; default "127.0.0.1:8090" */
    const char *origins;      /* CORS origins, comma separated; default "*" */
    bool dev;                 /* verbose logging of SQL and requests */
    int threads;              /* HTTP worker threads; 0 = BASALT_HTTP_THREADS,
                                 else one per CPU */
    const char *db_url;       /* a PostgreSQL database (postgres://...) for
                                 the data in place of data_dir/data.db;
                                 default BASALT_DB_URL, else SQLite */
} bs_app_config;

/* Creates an app for the given configuration (copied). Nothing is opened
 * yet. Returns NULL when out of memory. */
BS_EXPORT bs_app *bs_app_new(const bs_app_config *cfg);

/* Opens the data directory, runs pending system migrations and loads the
 * settings and the collection schema. Fills err on failure. */
BS_EXPORT int bs_app_bootstrap(bs_app *app, bs_error *err);

/* Starts the HTTP server and blocks until bs_app_stop is called or SIGINT
 * or SIGTERM arrives (when install_signals is true). The terminate hook
 * runs after the stop, and also when a serve handler fails the start
 * (its error is returned in err). */
BS_EXPORT int bs_app_serve(bs_app *app, bool install_signals, bs_error *err);

/* Asks a running serve loop to stop: stop accepting, drain, return.
 * Async-signal-safe and callable from any thread. */
BS_EXPORT void bs_app_stop(bs_app *app);

/* Closes databases and frees the app. */
BS_EXPORT void bs_app_free(bs_app *app);

/* The port actually bound (useful with port 0), valid after serve starts. */
BS_EXPORT int bs_app_port(const bs_app *app);

/* ---- work off the HTTP threads -------------------------------------------
 *
 * bs_app_go runs fn(app, arg) on the app's worker pool, after the caller
 * returns (the seed's `go sendShippedNotification(...)`): a mail, a call
 * to another service, work a response need not wait for. Workers start
 * on demand, up to 16 at once; a slow job never holds back the next
 * until all 16 are busy. Queued work still runs when the app is freed.
 * arg belongs to fn. Any thread. Returns 0 or BS_ENOMEM.
 */
typedef void (*bs_job_fn)(bs_app *app, void *arg);
BS_EXPORT int bs_app_go(bs_app *app, bs_job_fn fn, void *arg);

/* ---- cron ------------------------------------------------------------------
 *
 * Jobs with 5-field cron expressions, checked once a minute in UTC while
 * the app serves: minute (0-59), hour (0-23), day of the month (1-31),
 * month (1-12 or jan-dec), day of the week (0-6 or sun-sat; 7 is Sunday
 * too). A field is `*`, a value, a range `a-b`, either with a step
 * (`*` `/15` written together, `8-18/2`), or a comma-separated list of
 * these; a minute is due when all five fields match. Macros: @yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly. Jobs run on
 * the worker pool (as bs_app_go), never on an HTTP thread.
 *
 * PocketBase's system jobs are registered with every app:
 * __pbLogsCleanup__, __pbDBOptimize__, __pbMFACleanup__ and
 * __pbOTPCleanup__. Superusers list the jobs with GET /api/crons and run
 * one now with POST /api/crons/{id}.
 */

/* Adds the job id, or replaces the job with that id. fn(app, user) runs
 * at every due minute. Returns 0, BS_EINVAL for a bad expression (the
 * reason is logged) or BS_ENOMEM. Any thread. */
BS_EXPORT int bs_cron_add(bs_app *app, const char *id, const char *expr,
                          bs_job_fn fn, void *user);

/* Removes a job; returns whether there was one. A run in progress ends
 * normally. */
BS_EXPORT bool bs_cron_remove(bs_app *app, const char *id);
BS_EXPORT void bs_cron_remove_all(bs_app *app);

/* Runs the job now, on the pool: 0 or BS_ENOTFOUND. */
BS_EXPORT int bs_cron_run(bs_app *app, const char *id);

/* ---- application logs ---------------------------------------------------
 * Lines go to stderr (debug lines only with --dev) and, when the settings
 * keep them (`logs.maxDays` > 0 and the level at least `logs.minLevel`),
 * to the `_logs` table of auxiliary.db beside the request logs, where
 * GET /api/logs lists them. Writing never waits for the database: rows
 * are queued and written in batches by a background thread (dropped,
 * and counted, if the queue is full). Any thread; app may be NULL
 * (stderr only). Levels are slog's, as PocketBase stores them. */
typedef enum bs_log_level {
    BS_LOG_DEBUG = -4,
    BS_LOG_INFO = 0,
    BS_LOG_WARN = 4,
    BS_LOG_ERROR = 8
} bs_log_level;

/* message, then key and value strings in pairs, then NULL:
 *   bs_log_warn(app, "Failed to send mail", "error", msg, NULL);
 * The pairs become the row's data ({"error": "..."}; a NULL value is
 * null). Everything is copied. */
BS_EXPORT void bs_log_debug(bs_app *app, const char *message, ...)
    __attribute__((sentinel));
BS_EXPORT void bs_log_info(bs_app *app, const char *message, ...)
    __attribute__((sentinel));
BS_EXPORT void bs_log_warn(bs_app *app, const char *message, ...)
    __attribute__((sentinel));
BS_EXPORT void bs_log_error(bs_app *app, const char *message, ...)
    __attribute__((sentinel));

/* The same with any level and the data as a JSON object (borrowed; NULL
 * for none): what language bindings call. */
BS_EXPORT void bs_app_log(bs_app *app, int level, const char *message,
                          const json_object *data);

/* ---- the command line ---------------------------------------------------
 *
 * bs_app_start gives a program the whole `basalt` command line:
 *
 *   PROG serve [--http ADDR] [--dir DIR] [--dev] [--origins LIST]
 *   PROG superuser upsert|create|update|delete EMAIL [PASSWORD]
 *   PROG collections import FILE [--delete-missing]
 *   PROG --help | --version
 *
 * plus the commands the program registers with bs_app_add_command. The
 * flags override what the app was created with (bs_app_config). Every
 * command but --help and --version bootstraps the app first, so hooks
 * bound before the call apply to it (a custom command's saves run the
 * record hooks as an API request does). Call it on the main thread with
 * an app that is not bootstrapped yet; the caller still frees the app.
 */

/* A custom command. argv[0] is the command's name; the other arguments
 * are the command line's after it, without the global flags (--dir,
 * --dev, --http, --origins), and with flags the library does not know
 * passed through. The app is bootstrapped. Returns the exit status. */
typedef int (*bs_command_fn)(bs_app *app, int argc, char **argv, void *user);

/* Registers a command (name and help are copied; user is passed back).
 * Returns 0, BS_EINVAL for an empty, duplicate or flag-like name, or
 * BS_ENOMEM. */
BS_EXPORT int bs_app_add_command(bs_app *app, const char *name,
                                 const char *help, bs_command_fn fn,
                                 void *user);

/* Runs the command line argv[0..argc) and returns the exit status for
 * main: 0 on success, 1 on failure, 2 for a usage error. `serve` blocks
 * until SIGINT or SIGTERM (or bs_app_stop). */
BS_EXPORT int bs_app_start(bs_app *app, int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
