/*
 * fields.h - the `fields` query parameter: picking keys of a JSON
 * response ("id,title,expand.author.name", "*", "body:excerpt(200,true)",
 * "body:snippet(12)" with a search).
 *
 * Like PocketBase, a picked response is written with object keys sorted,
 * and for a list response the paths apply to each of its items.
 */
#ifndef BS_FIELDS_H
#define BS_FIELDS_H

#include <stdbool.h>

#include "../base/buf.h"

/* Rewrites the JSON in *json keeping only the fields named by spec.
 * Returns 0, or BS_EINVAL when spec or the JSON is invalid (json is then
 * left as it was). */
int bs_fields_apply(const char *spec, bool search_result, bs_buf *json);

/* A top-level field asked for as "name:snippet(tokens)". */
#define BS_FIELDS_SNIPPET_MAX 64
typedef struct bs_fields_snippet {
    char field[128];
    int tokens;
} bs_fields_snippet;

/* Finds the snippet modifiers of a valid spec (at most max, top-level
 * fields only) into out. Returns how many (0 for an invalid spec). */
int bs_fields_snippets(const char *spec, bs_fields_snippet *out, int max);

#endif
