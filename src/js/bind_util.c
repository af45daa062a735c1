/*
 * bind_util.c - the natives behind $security and $os.getenv: random
 * strings from the CSPRNG, hashes and HMACs (OpenSSL), constant-time
 * comparison, base64url for the JWT helpers.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "engine.h"

#define NATIVE(name)                                                       \
    static JSValueRef name(JSContextRef ctx, JSObjectRef fn,               \
                           JSObjectRef self, size_t argc,                  \
                           const JSValueRef argv[], JSValueRef *exc)

static const char alnum[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

NATIVE(n_random_string)
{
    double n = argc ? JSValueToNumber(ctx, argv[0], NULL) : 0;
    if (!(n >= 0) || n > 1 << 20)
        return bsj_throw(ctx, exc, "Invalid length.");
    char *alphabet = argc > 1 ? bsj_cstr(ctx, argv[1]) : NULL;
    char *out = malloc((size_t)n + 1);
    int rc = out ? bs_random_string(out, (size_t)n,
                                    alphabet && *alphabet ? alphabet : alnum)
                 : BS_ENOMEM;
    JSValueRef v = rc == 0 ? bsj_string(ctx, out)
                           : bsj_throw(ctx, exc, "Cannot make a random string.");
    free(out);
    free(alphabet);
    return v;
}

static const EVP_MD *digest(const char *name)
{
    if (strcmp(name, "md5") == 0)
        return EVP_md5();
    if (strcmp(name, "sha512") == 0)
        return EVP_sha512();
    return EVP_sha256();
}

static JSValueRef hex(JSContextRef ctx, const unsigned char *d, unsigned n)
{
    char out[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[d[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    out[2 * n] = '\0';
    return bsj_string(ctx, out);
}

NATIVE(n_hash)
{
    char *alg = argc > 1 ? bsj_cstr(ctx, argv[0]) : NULL;
    char *text = argc > 1 ? bsj_cstr(ctx, argv[1]) : NULL;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    JSValueRef v;
    if (alg && text &&
        EVP_Digest(text, strlen(text), d, &n, digest(alg), NULL) == 1)
        v = hex(ctx, d, n);
    else
        v = bsj_throw(ctx, exc, "Cannot hash.");
    free(alg);
    free(text);
    return v;
}

static bool hmac(const char *alg, const char *text, const char *key,
                 unsigned char *out, unsigned *n)
{
    return HMAC(digest(alg), key, (int)strlen(key),
                (const unsigned char *)text, strlen(text), out, n) != NULL;
}

NATIVE(n_hmac)
{
    char *alg = argc > 2 ? bsj_cstr(ctx, argv[0]) : NULL;
    char *text = argc > 2 ? bsj_cstr(ctx, argv[1]) : NULL;
    char *key = argc > 2 ? bsj_cstr(ctx, argv[2]) : NULL;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    JSValueRef v = alg && text && key && hmac(alg, text, key, d, &n)
                       ? hex(ctx, d, n)
                       : bsj_throw(ctx, exc, "Cannot sign.");
    free(alg);
    free(text);
    free(key);
    return v;
}

static void b64url(bs_buf *b, const unsigned char *p, size_t n)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        bs_buf_putc(b, t[(v >> 18) & 63]);
        bs_buf_putc(b, t[(v >> 12) & 63]);
        if (i + 1 < n)
            bs_buf_putc(b, t[(v >> 6) & 63]);
        if (i + 2 < n)
            bs_buf_putc(b, t[v & 63]);
    }
}

static JSValueRef buf_string(JSContextRef ctx, bs_buf *b)
{
    JSValueRef v = bsj_string_n(ctx, b->data ? b->data : "", b->len);
    bs_buf_dispose(b);
    return v;
}

NATIVE(n_b64url)
{
    char *text = argc ? bsj_cstr(ctx, argv[0]) : NULL;
    bs_buf b;
    bs_buf_init(&b);
    if (text)
        b64url(&b, (const unsigned char *)text, strlen(text));
    free(text);
    return buf_string(ctx, &b);
}

NATIVE(n_unb64url)
{
    char *text = argc ? bsj_cstr(ctx, argv[0]) : NULL;
    bs_buf b;
    bs_buf_init(&b);
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = text; p && *p; p++) {
        int v;
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
        else if (ch == '-' || ch == '+') v = 62;
        else if (ch == '_' || ch == '/') v = 63;
        else if (ch == '=') break;
        else {
            free(text);
            bs_buf_dispose(&b);
            return bsj_throw(ctx, exc, "Invalid base64.");
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bs_buf_putc(&b, (char)((acc >> bits) & 255));
        }
    }
    free(text);
    return buf_string(ctx, &b);
}

NATIVE(n_hmac_b64url)
{
    char *text = argc > 1 ? bsj_cstr(ctx, argv[0]) : NULL;
    char *key = argc > 1 ? bsj_cstr(ctx, argv[1]) : NULL;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    bs_buf b;
    bs_buf_init(&b);
    bool ok = text && key && hmac("sha256", text, key, d, &n);
    if (ok)
        b64url(&b, d, n);
    free(text);
    free(key);
    if (!ok) {
        bs_buf_dispose(&b);
        return bsj_throw(ctx, exc, "Cannot sign.");
    }
    return buf_string(ctx, &b);
}

NATIVE(n_equal)
{
    char *a = argc > 1 ? bsj_cstr(ctx, argv[0]) : NULL;
    char *b = argc > 1 ? bsj_cstr(ctx, argv[1]) : NULL;
    bool eq = a && b && bs_ct_equal(a, strlen(a), b, strlen(b));
    free(a);
    free(b);
    return JSValueMakeBoolean(ctx, eq);
}

NATIVE(n_getenv)
{
    char *name = argc ? bsj_cstr(ctx, argv[0]) : NULL;
    const char *v = name ? getenv(name) : NULL;
    free(name);
    return bsj_string(ctx, v ? v : "");
}

void bsj_bind_util(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "randomString", n_random_string);
    bsj_def(ctx, n, "hash", n_hash);
    bsj_def(ctx, n, "hmac", n_hmac);
    bsj_def(ctx, n, "hmacB64url", n_hmac_b64url);
    bsj_def(ctx, n, "b64url", n_b64url);
    bsj_def(ctx, n, "unb64url", n_unb64url);
    bsj_def(ctx, n, "equal", n_equal);
    bsj_def(ctx, n, "getenv", n_getenv);
}
