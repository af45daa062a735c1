/*
 * json.h - JSON parsing (json-c) and Go-compatible JSON writing.
 *
 * Parsing uses json-c with a nesting limit and rejects trailing garbage.
 * Writing goes through our own buffer so that the output matches what Go's
 * encoding/json prints: the same string escapes and number spelling.
 */
#ifndef BS_JSON_H
#define BS_JSON_H

#include <json-c/json.h>
#include <stdbool.h>

#include "buf.h"

/* Parses exactly one JSON value from s[0..n). Returns 0 and a new
 * reference in *out, or BS_EINVAL for invalid JSON (trailing non-space
 * data included). */
int bs_json_parse(const char *s, size_t n, json_object **out);

/* Writes v keeping object keys in insertion order (Go structs). */
void bs_json_write(bs_buf *out, const json_object *v);

/* Writes v with object keys sorted bytewise at every level (Go maps). */
void bs_json_write_sorted(bs_buf *out, const json_object *v);

/* Small accessors that tolerate missing keys and wrong types. */
const char *bs_json_get_str(const json_object *o, const char *key,
                            const char *def);
int64_t bs_json_get_int(const json_object *o, const char *key, int64_t def);
bool bs_json_get_bool(const json_object *o, const char *key, bool def);
json_object *bs_json_get(const json_object *o, const char *key);

/* Inserts v (taking its reference) at idx, shifting later items. */
void bs_json_array_insert(json_object *a, size_t idx, json_object *v);

/* Deep-merges src into dst: objects merge key by key, any other value
 * replaces. dst keeps its key order; new keys are appended. */
void bs_json_merge(json_object *dst, const json_object *src);

#endif
