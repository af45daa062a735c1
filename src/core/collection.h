/*
 * collection.h - the collection model: normalization, storage, tables.
 *
 * A collection travels as a json_object in PocketBase's API shape: id,
 * name, type, system, fields, indexes, the five rules, created, updated,
 * and (for auth collections) the auth options as top-level keys. In the
 * database the auth options live in the `options` column.
 *
 * Every create of a collection goes through bs_collection_save, so that
 * collection hooks can wrap one path.
 */
#ifndef BS_COLLECTION_H
#define BS_COLLECTION_H

#include <json-c/json.h>

#include "../base/buf.h"
#include "../db/store.h"

/* Fills the defaults PocketBase applies to a new collection: type, id
 * ("pbc_" + crc32(type+name)), the system fields of its type, field ids
 * ("<type>" + crc32(name)) and per-type field options, auth options with
 * fresh token secrets, and the unique indexes of auth collections. */
int bs_collection_normalize(json_object *col, bs_error *err);

/* Fills the default options of one field (in place) and its id. */
int bs_field_normalize(json_object *field);

/* Appends the SQL column definition of a field ("TEXT DEFAULT '' NOT
 * NULL", ...), as PocketBase declares each field type. */
void bs_field_column_def(const json_object *field, bs_buf *out);

/* Inserts the `_collections` row and creates the table and indexes of a
 * normalized base or auth collection, inside the caller's transaction. */
int bs_collection_create(bs_conn *c, const json_object *col, bs_error *err);

#endif
