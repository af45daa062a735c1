/*
 * collection_import.h - importing a whole collections configuration.
 *
 * The input is a JSON array of collections in PocketBase's current shape
 * or in the pre-0.23 one (`schema` with per-field `options`), as the
 * admin UI exports them and as pb_schema.json files hold them. Existing
 * collections (matched by id, else by name) are updated with the
 * imported data on top of their stored state; others are created. With
 * delete_missing, non-system collections and non-system fields that the
 * import does not mention are deleted, their data with them.
 */
#ifndef BS_COLLECTION_IMPORT_H
#define BS_COLLECTION_IMPORT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "basalt.h"

/* bs_collections_import is declared in include/basalt.h (exported). */

/* Reads a schema file's content: an array of collections, or an object
 * with a "collections" array. Returns a new reference to the array, or
 * NULL with a reason in msg. */
json_object *bs_collections_import_parse(const char *text, size_t len,
                                         char *msg, size_t cap);

#endif
