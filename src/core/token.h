/*
 * token.h - HS256 JSON Web Tokens, as PocketBase signs them.
 *
 * A token is base64url(header).base64url(claims).base64url(signature)
 * with header {"alg":"HS256","typ":"JWT"} and an HMAC-SHA256 signature.
 * PocketBase signs auth tokens with the record's tokenKey followed by the
 * collection's token secret, so changing either invalidates old tokens.
 */
#ifndef BS_TOKEN_H
#define BS_TOKEN_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

/* Signs claims (an object) with key into out. Returns 0 or BS_ENOMEM. */
int bs_token_sign(const json_object *claims, const char *key, size_t keylen,
                  bs_buf *out);

/* Decodes the claims of token without checking the signature (to learn
 * which record and collection it names). Returns 0 and a new reference,
 * or BS_EINVAL for anything malformed. */
int bs_token_peek(const char *token, json_object **claims);

/* Checks the signature with key and the "exp" claim against now (seconds
 * since the epoch). Returns 0 when valid, BS_EINVAL otherwise. */
int bs_token_verify(const char *token, const char *key, size_t keylen,
                    int64_t now);

/* base64url without padding; decode accepts input with or without
 * padding. decode returns the byte count or -1. */
void bs_base64url_encode(const unsigned char *in, size_t n, bs_buf *out);
long bs_base64url_decode(const char *in, size_t n, unsigned char *out,
                         size_t cap);

#endif
