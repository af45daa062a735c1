/*
 * record_form.h - a client's record submission: create or update with
 * the API rules (PocketBase's record upsert form).
 *
 * A form is what a requester may do to one record. It loads the record
 * (new, or the stored one named by id), applies submitted values with
 * their modifiers, checks access (the update rule against the stored
 * record, the create rule against the new values, manage access of auth
 * collections) and the auth form fields (password, passwordConfirm,
 * oldPassword, email and verified), then saves through the record hooks.
 *
 * The REST handlers, batch and OAuth2 sign-up use it; code that acts
 * with full rights (hooks, the command line, an embedding program) saves
 * with bs_record_save directly.
 *
 *   bs_record_form f;
 *   bs_record_form_init(&f, app, schema, c, request_info, user, superuser);
 *   rc = id ? bs_record_form_load_stored(&f, id, err)
 *           : bs_record_form_load_new(&f);
 *   if (!rc) rc = bs_record_form_load(&f, data);
 *   if (!rc) rc = bs_record_form_authorize(&f, err);
 *   if (!rc) rc = bs_record_form_save(&f, err);   (or through hooks)
 *   bs_record_form_dispose(&f);
 */
#ifndef BS_RECORD_FORM_H
#define BS_RECORD_FORM_H

#include "record.h"
#include "rules.h"

/* Returns the requester's @request data (auth, query, headers, method,
 * context; a borrowed object the form may add "body" to). */
typedef json_object *(*bs_request_info_fn)(void *user);

typedef struct bs_record_form {
    bs_app *app;
    bs_schema *schema;          /* borrowed */
    const bs_collection *c;
    bs_request_info_fn request_info;
    void *request_user;
    json_object *request;       /* @request data once a rule needs it
                                 * (reference held); its body is the
                                 * resolved submission */
    bool body_resolved;         /* request's body is the submission */
    bool superuser;
    bs_record *record;          /* the record being saved (owned) */
    json_object *data;          /* the submission (reference held) */
    char *stored_id;            /* the id named by the caller (update) */
} bs_record_form;

/* request_info(user) gives the requester's @request data; it is called
 * only when a rule is evaluated (NULL: no auth, empty query and headers). */
void bs_record_form_init(bs_record_form *f, bs_app *app, bs_schema *schema,
                         const bs_collection *c,
                         bs_request_info_fn request_info, void *user,
                         bool superuser);
void bs_record_form_dispose(bs_record_form *f);

/* The @request data as the form's rules see it (built on first use, with
 * the resolved submission as its body once one is loaded). Borrowed. */
json_object *bs_record_form_request(bs_record_form *f);

/* Starts a new record with every field at its zero value. */
int bs_record_form_load_new(bs_record_form *f);

/* Loads the stored record with id, without any rule (the update rule is
 * checked by bs_record_form_authorize). BS_ENOTFOUND when missing. */
int bs_record_form_load_stored(bs_record_form *f, const char *id,
                               bs_error *err);

/* Applies submitted values: plain keys, then the modifiers "key+",
 * "+key" and "key-". Unknown keys are ignored; hidden fields (but an
 * auth record's password) are ignored for non-superusers; autodate
 * fields are always ignored. The request's body becomes the submission
 * with modifiers resolved to the field's new value, as rules see it. */
int bs_record_form_load(bs_record_form *f, json_object *data);

/* Attaches the body's uploaded files (after bs_record_form_load): the
 * keys "field", "field+" and "+field" of file fields (without the
 * body's files_prefix). Plain keys replace the field's files, unless
 * the submission also names the field (then they are added after the
 * named ones); "field+" appends, "+field" prepends. Each upload gets
 * its stored name now; the save stores it. A file for a field of
 * another type is a 400 (err filled); unknown keys are ignored. */
typedef struct bs_body bs_body;
int bs_record_form_load_files(bs_record_form *f, bs_body *body,
                              bs_error *err);

/* Checks what the requester may do, in PocketBase's order:
 * - update: the update rule must select the stored record named by id
 *   (BS_ENOTFOUND otherwise: a 404 that reveals nothing), and a
 *   non-superuser may not change the id (400);
 * - auth collections: email and verified change only with manage
 *   access; a new password needs its confirmation and, without manage
 *   access, the old password (400 with field data);
 * - create: the create rule must select the new values (400).
 * Returns 0, BS_ENOTFOUND or BS_EHTTP with err filled. */
int bs_record_form_authorize(bs_record_form *f, bs_error *err);

/* Saves the record through the record hooks; a failure without a status
 * becomes PocketBase's "Failed to create/update record." 400. */
int bs_record_form_save(bs_record_form *f, bs_error *err);

#endif
