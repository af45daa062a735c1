/*
 * urlencoded.h - application/x-www-form-urlencoded text: query strings
 * and form bodies.
 *
 * Pairs are separated by '&'; a pair without '=' has the empty value.
 * Keys and values are decoded the way Go's url.QueryUnescape does it for
 * well-formed input ('+' is a space, %XX a byte); a '%' not followed by
 * two hex digits is kept as it is. What a repeated key means is the
 * caller's choice (the query keeps the first value, a form body all).
 */
#ifndef BS_URLENCODED_H
#define BS_URLENCODED_H

#include <stddef.h>

#include "../base/buf.h"

/* Appends the decoded form of s[0..n) to out (out->oom on failure). */
void bs_urlencoded_decode(const char *s, size_t n, bs_buf *out);

/* Called for each pair, in order, with the decoded key and value. Both
 * are NUL-terminated (and may hold NUL bytes of their own, hence the
 * lengths); they are valid only during the call. A key may be empty
 * ("=v", or "&&"). A nonzero return stops the parse and is returned. */
typedef int (*bs_urlencoded_fn)(void *user, const char *key, size_t klen,
                                const char *value, size_t vlen);

/* Splits data[0..len) into pairs and calls fn for each. Returns 0, fn's
 * nonzero return, or BS_ENOMEM. Any thread; no state is kept. */
int bs_urlencoded_parse(const char *data, size_t len, bs_urlencoded_fn fn,
                        void *user);

#endif
