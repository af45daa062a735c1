/*
 * esm.h - ES module syntax (import/export) rewritten into the CommonJS
 * form the loader runs.
 */
#ifndef BSJ_ESM_H
#define BSJ_ESM_H

#include <stddef.h>

#include "../base/buf.h"

/* Appends to out the text of a file with its import and export
 * declarations, dynamic import() and import.meta rewritten onto
 * require, `exports` and the prelude's `__esm` helpers. The result has
 * exactly as many newlines as text and every other token on its line, so
 * error lines stay the file's own. Text that is not valid JavaScript is
 * passed through as well as it can be (the engine then reports it).
 * Returns the number of module declarations found (0: a plain script,
 * copied unchanged apart from import(), import.meta and a #! first line
 * made a comment), or -1 when out
 * ran out of memory. Pure; any thread. */
int bsj_esm_transform(const char *text, size_t len, bs_buf *out);

#endif
