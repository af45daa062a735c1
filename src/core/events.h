/*
 * events.h - which event struct each hook carries, and typed triggers.
 *
 * basalt.h names, beside every hook id, the struct its handlers receive.
 * The table in events.c says the same in code, and every trigger in the
 * library goes through one of the functions below: the struct is checked
 * by the compiler, the pairing of id and struct by an assertion, so a
 * handler that casts its event as documented always reads what it was
 * given.
 */
#ifndef BS_EVENTS_H
#define BS_EVENTS_H

#include "basalt.h"

typedef enum bs_event_kind {
    BS_EVENT_BASE = 1,      /* bs_event (0: a hook missing from the table) */
    BS_EVENT_RECORD,        /* bs_record_event */
    BS_EVENT_COLLECTION,    /* bs_collection_event */
    BS_EVENT_REQUEST,       /* bs_request_event */
    BS_EVENT_AUTH_REQUEST,  /* bs_record_auth_event */
    BS_EVENT_MAILER,        /* bs_mailer_event */
    BS_EVENT_REALTIME,      /* bs_realtime_event */
    BS_EVENT_FILE,          /* bs_file_event */
    BS_EVENT_BACKUP,        /* bs_backup_event */
} bs_event_kind;

/* The event struct the handlers of id receive. */
bs_event_kind bs_hook_event_kind(bs_hook_id id);

/* Runs the handlers of hook id on e with final innermost (see
 * bs_hook_trigger), after asserting that id carries events of kind. */
int bs_app_trigger(bs_app *app, bs_hook_id id, bs_event_kind kind,
                   bs_event *e, bs_handler_fn final, void *user);

static inline int bs_trigger_base(bs_app *app, bs_hook_id id, bs_event *e,
                                  bs_handler_fn final, void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_BASE, e, final, user);
}

static inline int bs_trigger_record(bs_app *app, bs_hook_id id,
                                    bs_record_event *e, bs_handler_fn final,
                                    void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_RECORD, &e->ev, final, user);
}

static inline int bs_trigger_collection(bs_app *app, bs_hook_id id,
                                        bs_collection_event *e,
                                        bs_handler_fn final, void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_COLLECTION, &e->ev, final, user);
}

static inline int bs_trigger_request(bs_app *app, bs_hook_id id,
                                     bs_request_event *e, bs_handler_fn final,
                                     void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_REQUEST, &e->ev, final, user);
}

static inline int bs_trigger_auth_request(bs_app *app, bs_hook_id id,
                                          bs_record_auth_event *e,
                                          bs_handler_fn final, void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_AUTH_REQUEST, &e->ev, final,
                          user);
}

static inline int bs_trigger_mailer(bs_app *app, bs_hook_id id,
                                    bs_mailer_event *e, bs_handler_fn final,
                                    void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_MAILER, &e->ev, final, user);
}

static inline int bs_trigger_file(bs_app *app, bs_hook_id id,
                                  bs_file_event *e, bs_handler_fn final,
                                  void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_FILE, &e->ev, final, user);
}

static inline int bs_trigger_realtime(bs_app *app, bs_hook_id id,
                                      bs_realtime_event *e,
                                      bs_handler_fn final, void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_REALTIME, &e->ev, final, user);
}

static inline int bs_trigger_backup(bs_app *app, bs_hook_id id,
                                    bs_backup_event *e, bs_handler_fn final,
                                    void *user)
{
    return bs_app_trigger(app, id, BS_EVENT_BACKUP, &e->ev, final, user);
}

#endif
