/*
 * collection.h - the collection model: its JSON shape, validation,
 * storage, the record table behind it, and the save/delete paths that
 * collection hooks wrap.
 *
 * A collection travels as a json_object in PocketBase's API shape: id,
 * the five rules, name, type, system, fields, indexes, created, updated,
 * and (auth collections) the auth options as top-level keys, (view
 * collections) `viewQuery`. Functions here keep that object canonical:
 * every key PocketBase's Go structs know is present, in struct order,
 * with its zero value when unset, and nothing else; field objects hold
 * exactly the keys of their type. In the database the type options live
 * in the `options` column, field definitions are written with sorted
 * keys, as PocketBase stores them.
 *
 * Every create, update and delete goes through bs_collection_save or
 * bs_collection_delete, which run the collection hooks (BS_ON_COLLECTION_*
 * in basalt.h) around the built-in behaviour, in one transaction, and
 * reload the app's schema snapshot after the commit.
 *
 * Threads: any thread; the functions that take a bs_conn must run inside
 * the transaction that owns it.
 */
#ifndef BS_COLLECTION_H
#define BS_COLLECTION_H

#include <json-c/json.h>

#include "../base/buf.h"
#include "../db/store.h"
#include "../schema/schema.h"
#include "basalt.h"

/* ---- shape ----------------------------------------------------------------- */

/* A new collection of the given type ("base", "auth" or "view"; anything
 * else gives a base collection) as PocketBase's NewCollection builds it:
 * id "pbc_"+crc32(type+name) unless id is given, the system fields of
 * its type, the unique indexes and default options (fresh token secrets)
 * of auth collections. Returns a new reference or NULL (no memory). */
json_object *bs_collection_scaffold(const char *type, const char *name,
                                    const char *id);

/* Applies submitted data onto col the way Go's json.Unmarshal fills a
 * Collection: known keys replace values (objects merge key by key,
 * `fields` is rebuilt from scratch), unknown keys are ignored, a value of
 * the wrong type is an error. The collection stays canonical. Returns 0,
 * or BS_EINVAL with err filled (400; per-field data for an unknown field
 * type). */
int bs_collection_bind(json_object *col, const json_object *data,
                       bs_error *err);

/* Converts a collection written in PocketBase's pre-0.23 shape
 * (`schema` with per-field `options`, `options` holding the type
 * options) in place into the current shape, as PocketBase's v0.23
 * migration converts stored collections. A current-shape object is left
 * as it is. */
void bs_collection_upgrade_legacy(json_object *col);

/* Makes a field definition canonical in place (every option of its type
 * with its zero value when unset, unknown keys dropped) and gives it the
 * id "<type>"+crc32(name) when it has none. BS_EINVAL for an unknown
 * type. */
int bs_field_normalize(json_object *field);

/* A canonical copy of one field definition (NULL for an unknown type). */
json_object *bs_field_canonical(const json_object *field);

/* Appends the collection as the API shows it: keys in PocketBase's
 * order, token secrets and OAuth2 client secrets left out. */
void bs_collection_write_json(const json_object *col, bs_buf *out);

/* The collection of a schema snapshot in its API shape (secrets
 * included); a new reference. */
json_object *bs_collection_to_json(const bs_collection *c);

/* ---- storage --------------------------------------------------------------- */

/* Loads a collection by id or name (names compared case-insensitively)
 * through conn, in its API shape with secrets. BS_ENOTFOUND when there
 * is none. */
int bs_collection_load(bs_conn *conn, const char *id_or_name,
                       json_object **out);

/* All collections, oldest row first (a JSON array). */
int bs_collection_load_all(bs_conn *conn, json_object **out);

/* Fills the defaults of a collection described by a template (used for
 * the built-in system collections): the scaffold of its type and id,
 * with the template's fields added over the scaffold's (a field with the
 * name of a default one replaces it in place, others are appended) and
 * every other key bound on top. col is replaced in place. */
int bs_collection_normalize(json_object *col, bs_error *err);

/* Inserts the `_collections` row and creates the table and indexes of a
 * normalized base or auth collection, inside the caller's transaction,
 * without hooks (system migrations). */
int bs_collection_create(bs_conn *c, const json_object *col, bs_error *err);

/* Appends the SQL column definition of a field ("TEXT DEFAULT '' NOT
 * NULL", ...), as PocketBase declares each field type; with pg, in
 * PostgreSQL's words (docs/scale.md, "The mapping"). */
void bs_field_column_def(const json_object *field, bool pg, bs_buf *out);

/* ---- saving ---------------------------------------------------------------- */

/* bs_collection_save, bs_collection_delete and their flags are declared
 * in include/basalt.h (exported). */

/* Deletes every record of a base or auth collection through the record
 * hooks (cascades and relation clean-up included), in one transaction. */
int bs_collection_truncate(bs_app *app, const char *id_or_name,
                           bs_error *err);

/* Checks col against PocketBase's collection rules (names, fields and
 * their options, rules, indexes, type options), reading the database
 * through conn. original is the stored state before the change, or NULL
 * for a new collection. Fills err with per-field data and returns
 * BS_EHTTP when invalid. */
int bs_collection_validate(bs_app *app, bs_conn *conn, json_object *col,
                           const json_object *original, bs_error *err);

/* Checks one field definition's options as a field of col (the checks
 * of bs_collection_validate for fields). Returns 0, or BS_EINVAL with
 * the first problem described in msg. */
int bs_field_settings_check(bs_app *app, bs_conn *conn,
                            const json_object *field, const json_object *col,
                            char *msg, size_t cap);

/* Names of the collections that reference col with relation fields
 * (itself excluded), comma separated, or "" (a new heap string). */
char *bs_collection_references(bs_conn *conn, const char *id);

/* ---- shared with the other collection files ---------------------------- */

/* Adds a validation error at a dotted path with an optional params
 * object (taken). */
void bs_verr(bs_error *err, const char *path, const char *code,
             const char *message, json_object *params);

/* Reorders err->data with sorted keys at every level, as Go prints
 * validation.Errors maps. */
void bs_verr_sort(bs_error *err);

/* Adds a field to a fields array with PocketBase's FieldsList.Add rules:
 * without an id it gets type+crc32(name) (made unique) and replaces a
 * field of the same name in place; with an id it replaces the field of
 * that id in place; otherwise it is appended. Takes the reference. */
void bs_fields_add(json_object *fields, json_object *field);

/* The field of an array by name (exact) or id, or NULL. */
json_object *bs_fields_by_name(const json_object *fields, const char *name);
json_object *bs_fields_by_id(const json_object *fields, const char *id);

/* PocketBase's onCollectionSave normalization: default type, id and
 * timestamps, field ids, the system fields of the type, OAuth2 mapped
 * fields that exist, the superusers' fixed options, index texts naming
 * the collection's table. */
void bs_collection_prepare_save(json_object *col, bool is_new);

/* Writes the `_collections` row (insert or update by id); SQLite's
 * message goes to msg on failure. */
int bs_collection_write_row(bs_conn *conn, const json_object *col,
                            bool insert, char *msg, size_t cap);

/* Creates the record table and indexes of col (old NULL), or changes
 * the table of old into that of col: rename, dropped, added and renamed
 * columns, single/multiple value conversions, indexes. Index failures
 * come back as validation errors under "indexes"; others with SQLite's
 * message in err->message. */
int bs_collection_sync_table(bs_conn *conn, const json_object *col,
                             const json_object *old, bs_error *err);

/* Appends name quoted with backticks, as PocketBase writes DDL. */
void bs_ddl_ident(bs_buf *b, const char *name);

#endif
