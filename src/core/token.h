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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "basalt.h"

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

/* ---- record tokens ----------------------------------------------------
 *
 * Every record token is signed with the record's tokenKey followed by the
 * secret of the collection's token config for its type, and carries the
 * claims PocketBase writes (keys sorted, as Go marshals a claims map):
 *
 *   auth           collectionId, exp, id, refreshable, type
 *   file           collectionId, exp, id, type
 *   verification   collectionId, email, exp, id, type
 *   passwordReset  collectionId, email, exp, id, type
 *   emailChange    collectionId, email, exp, id, newEmail, type
 */
#define BS_TOKEN_AUTH "auth"
#define BS_TOKEN_FILE "file"
#define BS_TOKEN_VERIFICATION "verification"
#define BS_TOKEN_PASSWORD_RESET "passwordReset"
#define BS_TOKEN_EMAIL_CHANGE "emailChange"

struct bs_record;
struct bs_schema;

/* The collection option holding the secret and duration of a token type
 * ("authToken" for "auth", ...), or NULL for an unknown type. */
const char *bs_token_config_name(const char *type);

/* Issues a token of `type` for the auth record r into out (appended).
 * duration <= 0 takes the collection's duration for the type.
 * refreshable applies to auth tokens (impersonation tokens are not
 * refreshable); new_email to emailChange tokens. Returns 0, BS_EINVAL
 * (not an auth record, unknown type or an empty signing key) or
 * BS_ENOMEM. Any thread. */
int bs_token_for_record(const struct bs_record *r, const char *type,
                        int64_t duration, bool refreshable,
                        const char *new_email, bs_buf *out);

/* Verifies a record token and loads its record, as PocketBase's
 * FindAuthRecordByToken: the token must carry non-empty id, collectionId
 * (an id or a name) and type claims, type must equal `type` (any known
 * type when NULL), the record must exist in an auth collection, and the
 * signature (tokenKey + the type's secret) and expiry must hold. Returns
 * 0 and a new record in *out (the caller frees it), BS_EINVAL for an
 * invalid or expired token, BS_ENOTFOUND when the record is gone.
 * Reads through a reader connection of app's store. Any thread. */
int bs_token_find_record(bs_app *app, struct bs_schema *schema,
                         const char *token, const char *type,
                         struct bs_record **out);

/* The same check with the claims already decoded by bs_token_peek (they
 * must come from this token). Verified (token, key) pairs are remembered
 * per thread, so a token presented again skips the HMAC. */
int bs_token_verify_claims(const char *token, const json_object *claims,
                           const char *key, size_t keylen, int64_t now);

/* base64url without padding. bs_base64url_decode accepts exactly the
 * spelling the encoder produces (no '=', the unused low bits of the last
 * character zero), so a token has one accepted form and cannot be
 * altered without breaking it. bs_base64url_decode_lenient also takes
 * padding and non-zero unused bits, for values issued by third parties
 * (OAuth2 ID tokens, JWKS keys). Both return the byte count or -1. */
void bs_base64url_encode(const unsigned char *in, size_t n, bs_buf *out);
long bs_base64url_decode(const char *in, size_t n, unsigned char *out,
                         size_t cap);
long bs_base64url_decode_lenient(const char *in, size_t n,
                                 unsigned char *out, size_t cap);

#endif
