/*
 * db_api.h - the query API's placeholder rewriting, for tests.
 *
 * The public query functions (bs_db_query, bs_db_one, bs_db_all,
 * bs_db_exec in basalt.h) rewrite a program's {:name} placeholders into
 * numbered parameters before running the SQL; this exposes that step so
 * it can be tested and fuzzed on its own.
 */
#ifndef BS_DB_API_H
#define BS_DB_API_H

#include "../base/buf.h"
#include "basalt.h"

/* Appends sql to out with each {:name} outside quotes and comments
 * replaced by ?N (the same name, the same N), and sets *nparams to the
 * number of distinct names. Every name must be a key of params (an
 * object); otherwise a 400 in err. Returns 0 or an error code. */
int bs_db_placeholders(const char *sql, json_object *params, bs_buf *out,
                       int *nparams, bs_error *err);

#endif
