/*
 * fuzz_token.c - JWT peeking and verification on arbitrary input, and
 * sign-then-verify round trips of fuzzed claims.
 *
 * The input is split at its first NUL byte: the part before is a token
 * (peeked and verified with a fixed key) and also, parsed as JSON, the
 * claims of a token to sign; the part after is the signing key. Checks:
 *  - verify accepting a token implies peek accepts it;
 *  - a freshly signed token verifies exactly when its claims (as peek
 *    reads them back) have a numeric "exp" within the int64 range and
 *    not before now;
 *  - it never verifies with another key, or with any payload or header
 *    character changed;
 *  - base64url round-trips the raw input, and whatever the decoder
 *    accepts re-encodes to the same text (one spelling per value);
 *  - every segment of a token that peek or verify accepts is likewise
 *    the canonical encoding of its bytes.
 * Run with UBSAN_OPTIONS=halt_on_error=1 to stop at undefined behaviour
 * (the fuzz build reports it and goes on by default).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "basalt.h"
#include "core/token.h"
#include "fuzz_dict.h"

#define NOW 1700000000LL

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_add_dict(argc, argv, "tests/fuzz/fuzz_token.dict");
    return 0;
}

/* Whether claims (as read back) carry an exp that is still valid. Like
 * golang-jwt (which PocketBase uses) the value is taken as a float64 of
 * seconds; one outside the int64 range is not a valid time, and on the
 * platforms PocketBase runs on it ends up in the past: rejected. */
static int expect_valid(const json_object *claims)
{
    json_object *exp = bs_json_get(claims, "exp");
    if (!exp || (!json_object_is_type(exp, json_type_int) &&
                 !json_object_is_type(exp, json_type_double)))
        return 0;
    double d = json_object_get_double(exp);
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return 0;
    return (int64_t)d >= NOW;
}

static void round_trip(const char *claims_text, size_t n, const char *key,
                       size_t keylen)
{
    json_object *claims = NULL;
    if (bs_json_parse(claims_text, n, &claims) != 0 || !claims ||
        !json_object_is_type(claims, json_type_object)) {
        json_object_put(claims);
        return;
    }
    bs_buf tok;
    bs_buf_init(&tok);
    if (bs_token_sign(claims, key, keylen, &tok) != 0)
        abort();
    json_object *back = NULL;
    int prc = bs_token_peek(tok.data, &back);
    if (tok.len <= 8192 && prc != 0) {
        fprintf(stderr, "signed token does not peek: %s\n", tok.data);
        abort();
    }
    int want = prc == 0 ? expect_valid(back) : 0;
    int rc = bs_token_verify(tok.data, key, keylen, NOW);
    if ((rc == 0) != (want == 1)) {
        fprintf(stderr, "verify gave %d, expected %s: %s\n", rc,
                want ? "valid" : "invalid", tok.data);
        abort();
    }
    if (rc == 0) {
        /* Another key never verifies. */
        if (bs_token_verify(tok.data, "other-key", 9, NOW) == 0 &&
            !(keylen == 9 && memcmp(key, "other-key", 9) == 0))
            abort();
        /* Nor does any change before the signature. */
        const char *d2 = strrchr(tok.data, '.');
        size_t upto = (size_t)(d2 - tok.data);
        for (size_t i = 0; i < upto; i += 1 + upto / 16) {
            char saved = tok.data[i];
            if (saved == '.')
                continue;
            tok.data[i] = saved == 'A' ? 'B' : 'A';
            if (bs_token_verify(tok.data, key, keylen, NOW) == 0) {
                fprintf(stderr, "tampered token verified: %s\n", tok.data);
                abort();
            }
            tok.data[i] = saved;
        }
    }
    json_object_put(back);
    json_object_put(claims);
    bs_buf_dispose(&tok);
}

/* Aborts unless the n characters at text are exactly the encoding of
 * what they decode to (or do not decode at all). */
static void check_canonical(const char *text, size_t n)
{
    unsigned char *dec = malloc(n + 1);
    if (!dec)
        abort();
    long m = bs_base64url_decode(text, n, dec, n + 1);
    if (m >= 0) {
        bs_buf enc;
        bs_buf_init(&enc);
        bs_base64url_encode(dec, (size_t)m, &enc);
        if (enc.len != n || (n && memcmp(enc.data, text, n) != 0)) {
            fprintf(stderr, "non-canonical base64url accepted: %.*s\n",
                    (int)n, text);
            abort();
        }
        bs_buf_dispose(&enc);
    }
    free(dec);
}

/* A token that peek accepted: its header and claims segments must be
 * canonical; with verified set, its signature too. */
static void check_segments(const char *t, bool verified)
{
    const char *d1 = strchr(t, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2)
        abort();
    check_canonical(t, (size_t)(d1 - t));
    check_canonical(d1 + 1, (size_t)(d2 - d1 - 1));
    if (verified)
        check_canonical(d2 + 1, strlen(d2 + 1));
}

static void base64_round_trip(const uint8_t *data, size_t size)
{
    check_canonical((const char *)data, size);
    bs_buf enc;
    bs_buf_init(&enc);
    bs_base64url_encode(data, size, &enc);
    unsigned char *dec = malloc(size + 1);
    if (!dec)
        abort();
    long n = bs_base64url_decode(enc.data ? enc.data : "", enc.len, dec,
                                 size + 1);
    if (n != (long)size || (size && memcmp(dec, data, size) != 0))
        abort();
    free(dec);
    bs_buf_dispose(&enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t first = strlen(s);
    const char *key = first < size ? s + first + 1 : "fuzz-key";
    size_t keylen = first < size ? size - first - 1 : 8;

    json_object *claims = NULL;
    int peek = bs_token_peek(s, &claims);
    if (peek == 0 && (!claims || !json_object_is_type(claims,
                                                      json_type_object)))
        abort();
    json_object_put(claims);
    if (peek == 0)
        check_segments(s, false);
    if (bs_token_verify(s, key, keylen, NOW) == 0) {
        if (peek != 0)
            abort();
        check_segments(s, true);
    }
    if (bs_token_verify(s, "fuzz-key", 8, NOW) == 0) {
        if (peek != 0)
            abort();
        check_segments(s, true);
    }

    round_trip(s, first, key, keylen);
    base64_round_trip(data, size);
    free(s);
    return 0;
}
