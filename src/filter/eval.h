/*
 * eval.h - deciding simple API rules in memory, without SQL.
 *
 * The realtime broker checks a changed record against the list or view
 * rule of every subscriber. Rules that depend only on the record's own
 * values and on who is asking, such as
 *
 *     ""                                  (everyone)
 *     @request.auth.id != ''              (any signed-in user)
 *     author = @request.auth.id           (the owner)
 *     @request.auth.collectionName = 'staff' && status = 'public'
 *
 * are decided here from the parsed rule (parse.h), as the SQL compiled
 * by filter.h would decide them: `=` and `!=` between a scalar text-like
 * field of the record (text, email, url, editor, single select, single
 * relation, the id), a quoted text, `null`, and @request.auth.id,
 * .collectionId and .collectionName, joined by `&&` and `||`, with
 * null and '' the same value. Anything else (other operators, numbers,
 * relations followed through, other @request data, functions,
 * modifiers) is left to SQL: bs_filter_eval_new then gives NULL.
 *
 * Threads: a compiled rule is immutable; any thread may run it.
 */
#ifndef BS_FILTER_EVAL_H
#define BS_FILTER_EVAL_H

#include <json-c/json.h>
#include <stdbool.h>

#include "../schema/schema.h"

typedef struct bs_filter_eval bs_filter_eval;

/* Who asks: NULL fields (or a NULL bs_filter_auth) for a guest. */
typedef struct bs_filter_auth {
    const char *id;
    const char *collection_id;
    const char *collection_name;
} bs_filter_auth;

/* Compiles rule (an API rule of collection c; "" allows everyone) for
 * in-memory evaluation. Returns 0 and a new program in *out, or 0 and
 * NULL when the rule needs SQL (or does not parse), or BS_ENOMEM. A NULL
 * rule (superusers only) is the caller's to handle: *out is NULL. */
int bs_filter_eval_new(const bs_collection *c, const char *rule,
                       bs_filter_eval **out);
void bs_filter_eval_free(bs_filter_eval *e);

/* Decides the rule for the record whose field values are data (an
 * object: field name -> value) and the requester auth. Returns 1
 * (allowed), 0 (refused), or -1 when a value is of a kind the program
 * does not compare (the caller then asks SQL). */
int bs_filter_eval_run(const bs_filter_eval *e, const json_object *data,
                       const bs_filter_auth *auth);

/* The field F when the rule lets a requester see a record only if the
 * requester's @request.auth.id equals the record's value of F (the rule
 * is `F = @request.auth.id`, either way round, or an `&&` of it with
 * anything), so that for a record whose F is a non-empty text only the
 * requester signed in as that id (and superusers, who pass every rule)
 * can see it. NULL for other rules. Points into e. */
const char *bs_filter_eval_owner(const bs_filter_eval *e);

#endif
