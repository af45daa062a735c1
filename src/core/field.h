/*
 * field.h - record field values: normalization, storage and validation.
 *
 * A record value lives as a json_object shaped by its field type:
 *   text, email, url, editor, password (the hash), single select, file
 *   and relation: a string ("" when empty);
 *   number: a double; bool: a boolean;
 *   date, autodate: a string "2006-01-02 15:04:05.000Z" or "";
 *   select, file, relation with maxSelect > 1: an array of strings;
 *   json: any JSON value (NULL pointer = null);
 *   geoPoint: {"lon":x,"lat":y}.
 * Values are decoded from columns by the field definition, not by the
 * column type, since older databases carry other column types.
 */
#ifndef BS_FIELD_H
#define BS_FIELD_H

#include <json-c/json.h>
#include <stdbool.h>

#include "../base/buf.h"
#include "../db/rows.h"
#include "../schema/schema.h"

/* Field definition accessors (a field is a json object as stored). */
const char *bs_field_name(const json_object *f);
const char *bs_field_type(const json_object *f);
bool bs_field_is_multiple(const json_object *f);
bool bs_field_hidden(const json_object *f);

/* The operations on values take the field's bs_finfo (from the
 * collection's snapshot, or bs_finfo_init for a loose definition). */

/* The empty value of the field's type (new reference; NULL for json). */
json_object *bs_finfo_zero(const bs_finfo *fi);

/* Converts a submitted value to the field's shape, as PocketBase's
 * PrepareValue does (strings to numbers and booleans, one value to a
 * list, the last of a list for single fields, ...). Returns a new
 * reference. */
json_object *bs_finfo_prepare(const bs_finfo *fi, const json_object *raw);

/* Applies a modifier: "+" appends (or adds, for numbers), "^" prepends,
 * "-" removes (or subtracts). Returns the new value (new reference). */
json_object *bs_finfo_modify(const bs_finfo *fi, const json_object *cur,
                             char modifier, const json_object *arg);

/* Decodes column `col` of the current row of st. */
json_object *bs_finfo_from_column(const bs_finfo *fi, const bs_rows *st,
                                  int col);

/* The same for a raw column value as bs_rows_json gives it (a row loaded
 * without its collection's fields: NULL, an integer, a real or a
 * string). */
json_object *bs_finfo_from_raw(const bs_finfo *fi, const json_object *v);

/* Binds a value for storage (multiple values as a JSON array text, json
 * as its text, booleans as 0/1, ...). */
void bs_finfo_bind(const bs_finfo *fi, const json_object *v, bs_rows *st,
                   int idx);

/* The value as it is stored, in the form bs_finfo_from_raw reads back:
 * an integer or a real for numbers, 0/1 for booleans, JSON text for
 * json, geoPoint and multiple values, text otherwise. New reference;
 * NULL (json-c's null) for an empty json field, a number that is not
 * finite, and when out of memory. */
json_object *bs_finfo_to_raw(const bs_finfo *fi, const json_object *v);

/* True when the value counts as empty for `required` checks. */
bool bs_finfo_is_empty(const bs_finfo *fi, const json_object *v);

/* Converts a date text in any accepted format to PocketBase's form
 * ("2006-01-02 15:04:05.000Z"); returns false when it is not a date. */
bool bs_date_normalize(const char *in, char out[25]);

/* A validation failure: a code and an English message. */
typedef struct bs_field_error {
    const char *code;
    char message[160];
} bs_field_error;

/* Checks the value against the field's options (required, lengths,
 * patterns, ranges, allowed values, domains, sizes). Relations are only
 * checked for counts here; their existence needs the database and is
 * checked by the record layer. Returns true when valid. */
bool bs_finfo_validate(const bs_finfo *fi, const json_object *v,
                       bool is_new, bs_field_error *err);

/* The same for a loose field definition. */
bool bs_field_validate(const json_object *f, const json_object *v,
                       bool is_new, bs_field_error *err);

#endif
