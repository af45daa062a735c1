/*
 * record.h - the record model: values, loading, export, save and delete.
 *
 * Saving and deleting run through the record hooks with the built-in
 * behaviour innermost: bs_record_save triggers OnRecordCreate/Update,
 * whose final step validates (OnRecordValidate) and then executes the
 * SQL (OnRecordCreateExecute/UpdateExecute); the After*Success hooks are
 * queued on the transaction and run after commit, the After*Error hooks
 * run when the save fails or the transaction rolls back.
 */
#ifndef BS_RECORD_H
#define BS_RECORD_H

#include "../base/buf.h"
#include "../db/rows.h"
#include "../db/store.h"
#include "../schema/schema.h"
#include "basalt.h"

/* One expanded relation: the related records, exported under `name`
 * as an object (single relation) or an array (multiple). */
typedef struct bs_expand {
    char *name;
    bool multiple;
    int n;
    struct bs_record **items; /* owned */
} bs_expand;

typedef struct bs_upload bs_upload;

/* A file uploaded for a file field, waiting for the save to store it
 * under its new name (record_files.c). */
typedef struct bs_record_file {
    const struct bs_finfo *field;
    char name[160];       /* the stored name given to it */
    char type[128];       /* its content type, sniffed */
    bs_upload *upload;    /* borrowed from the request's body, which
                           * outlives the save */
} bs_record_file;

struct bs_record {
    bs_schema *schema;                /* reference held */
    const bs_collection *collection;
    json_object *data;                /* field name -> value */
    json_object *original;            /* values as last loaded (NULL: new) */
    struct bs_expand *expand;         /* expanded relations, or NULL */
    int nexpand;
    char *plain_password;             /* new password to validate and hash */
    char *password_hash;              /* plain_password hashed before the
                                         write transaction, or NULL */
    int password_hash_cost;           /* the field cost it was made with */
    bool is_new;
    bool ignore_email_visibility;     /* export the email regardless */
    bool unhide;                      /* export hidden fields (superusers) */
    bool expand_requested;            /* export "expand" even when empty */
    int refs;                         /* references beyond the first */
    bs_record_file *files;            /* uploads to store on save */
    int nfiles;
    /* The framework API (record_api.c): the read-only view returned by
     * bs_record_original (built on first use, dropped when the original
     * values change) and the text of coerced string reads, by field. */
    struct bs_record *original_view;
    json_object *scratch;
};

/* A new record of collection c with every field at its zero value. */
bs_record *bs_record_new(bs_schema *schema, const bs_collection *c);

/* Drops one reference to r and frees it with the last. Records are
 * created with one reference; bs_record_ref adds one, for a record that
 * several others hold (an expanded relation is shared, not copied, by
 * every record that points at it). Not thread-safe: a record and the
 * ones sharing it belong to one thread. */
void bs_record_free(bs_record *r);
bs_record *bs_record_ref(bs_record *r);

/* Builds a record from the current row of rows (columns matched to
 * fields by name; missing columns give zero values). The record has no
 * copy of its original values until bs_record_keep_original is called
 * (before changing a loaded record that will be saved). */
bs_record *bs_record_from_row(bs_schema *schema, const bs_collection *c,
                              const bs_rows *rows);

/* The same from a row of raw column values, as bs_rows_json gives it
 * (the row an auth token's verification loaded). */
bs_record *bs_record_from_raw(bs_schema *schema, const bs_collection *c,
                              const json_object *row);

/* Remembers the current values as the record's original ones. */
void bs_record_keep_original(bs_record *r);

/* A deep copy (expand not included). */
bs_record *bs_record_clone(const bs_record *r);

/* Adds an expanded relation (takes over one reference to each item). */
int bs_record_add_expand(bs_record *r, const char *name, bool multiple,
                         bs_record **items, int n);

/* Loads the record with id; BS_ENOTFOUND when missing. */
int bs_record_find(bs_conn *conn, bs_schema *schema, const bs_collection *c,
                   const char *id, bs_record **out);

/* The field definition of a collection by name, or NULL. */
const json_object *bs_collection_field(const bs_collection *c,
                                       const char *name);

/* Writes the record as the API shows it: keys sorted, hidden fields,
 * password and tokenKey left out, email shown only when visible (or the
 * flags above say so), collectionId, collectionName and expand added. */
void bs_record_write_json(const bs_record *r, bs_buf *out);

/* Creates or updates r in a transaction through the hooks. On a
 * validation failure err carries per-field data and status 400. A new
 * password is hashed before the transaction begins (so bcrypt does not
 * hold the writer lock), unless the caller is already inside one. */
int bs_record_save(bs_app *app, bs_record *r, bs_error *err);

/* Runs only the validation (OnRecordValidate), collecting field errors
 * in err; nothing is written. Relation targets are not looked up. */
int bs_record_validate(bs_app *app, bs_record *r, bs_error *err);

/* Deletes r (with cascades and relation clean-up) through the hooks. */
int bs_record_delete(bs_app *app, bs_record *r, bs_error *err);

/* Checks a plain password against the record's stored hash. */
bool bs_password_check(const bs_record *r, const char *plain);

/* ---- files (record_files.c) ---------------------------------------- */

/* Attaches an upload to the record for file field fi: gives it a new
 * name (sanitized and suffixed as PocketBase does, written to name) and
 * sniffs its content type. The value of the field is left to the
 * caller. The upload is borrowed until the record is saved or freed. */
int bs_record_add_upload(bs_record *r, const struct bs_finfo *fi,
                         bs_upload *u, char name[160]);

/* Checks the names in a file field's value v: each must be a new upload
 * of the record within the field's maxSize and mimeTypes, or a file the
 * stored record already has. Adds field errors to err; false when any. */
bool bs_record_files_validate(const bs_record *r, const struct bs_finfo *fi,
                              const json_object *v, bs_error *err);

/* Inside the save's transaction, once the row is written: moves the new
 * uploads the record keeps into storage, and queues on tx the removal of
 * the files it no longer has (after commit) or of the new ones (after a
 * rollback). Returns 0 or BS_EHTTP with err set. */
int bs_record_files_store(bs_tx *tx, bs_record *r, bs_error *err);

/* Inside a delete's transaction: queues the removal of the record's
 * folder after the commit. */
int bs_record_files_on_delete(bs_tx *tx, const bs_record *r);

/* Drops the record's pending uploads (their spool files stay with the
 * request's body). */
void bs_record_files_clear(bs_record *r);

/* Generates a random string from a simple pattern "[class]{n}" (the
 * form PocketBase's autogenerate patterns take). */
int bs_pattern_random(const char *pattern, char *out, size_t cap);

#endif
