/*
 * token.c - HS256 JSON Web Tokens.
 */
#include "token.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "basalt.h"
#include "record.h"

#define MAX_TOKEN 8192

static const char B64URL[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void bs_base64url_encode(const unsigned char *in, size_t n, bs_buf *out)
{
    /* Written in place after one reservation: four characters per three
     * bytes, two or three for a final partial group. */
    if (n > (SIZE_MAX - 4) / 4 * 3 || !bs_buf_reserve(out, (n + 2) / 3 * 4))
        return;
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                     in[i + 2];
        *o++ = B64URL[v >> 18];
        *o++ = B64URL[(v >> 12) & 63];
        *o++ = B64URL[(v >> 6) & 63];
        *o++ = B64URL[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = B64URL[v >> 18];
        *o++ = B64URL[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = B64URL[v >> 18];
        *o++ = B64URL[(v >> 12) & 63];
        *o++ = B64URL[(v >> 6) & 63];
    }
    out->len = (size_t)(o - out->data);
    *o = '\0';
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes n characters of the URL alphabet into out. With strict set, the
 * input must be the one spelling bs_base64url_encode produces: no padding,
 * and the unused low bits of the final character zero. Otherwise trailing
 * '=' are dropped and the unused bits ignored. */
static long decode(const char *in, size_t n, unsigned char *out, size_t cap,
                   bool strict)
{
    if (!strict) {
        while (n > 0 && in[n - 1] == '=')
            n--;
    }
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (strict && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

long bs_base64url_decode(const char *in, size_t n, unsigned char *out,
                         size_t cap)
{
    return decode(in, n, out, cap, true);
}

long bs_base64url_decode_lenient(const char *in, size_t n,
                                 unsigned char *out, size_t cap)
{
    return decode(in, n, out, cap, false);
}

/* The header of every token signed here. */
static const char JWT_HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* One HMAC-SHA256 context per thread, set to its digest once and keyed
 * anew for each message: the one-shot HMAC() looks the algorithm and the
 * digest up by name and builds and frees a context on every call, which
 * costs more than hashing a token. Freed when its thread ends. */
static _Thread_local EVP_MAC_CTX *thread_ctx;
static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *mac_algo;

static void mac_fetch(void)
{
    mac_algo = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static void mac_ctx_free(void *p)
{
    EVP_MAC_CTX_free(p);
}

static EVP_MAC_CTX *thread_mac(void)
{
    if (thread_ctx)
        return thread_ctx;
    pthread_once(&mac_once, mac_fetch);
    EVP_MAC_CTX *ctx = mac_algo ? EVP_MAC_CTX_new(mac_algo) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end()};
    if (!ctx || !EVP_MAC_CTX_set_params(ctx, params) ||
        bs_thread_on_exit(mac_ctx_free, ctx) != 0) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    thread_ctx = ctx;
    return ctx;
}

static void hmac(const char *key, size_t keylen, const char *msg, size_t n,
                 unsigned char mac[32])
{
    /* A NULL key would make EVP_MAC_init keep the previous one. */
    if (!key)
        key = "";
    EVP_MAC_CTX *ctx = thread_mac();
    size_t len = 0;
    if (ctx && EVP_MAC_init(ctx, (const unsigned char *)key, keylen, NULL) &&
        EVP_MAC_update(ctx, (const unsigned char *)msg, n) &&
        EVP_MAC_final(ctx, mac, &len, 32) && len == 32)
        return;
    unsigned int ulen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, mac,
         &ulen);
}

/* Signs the claims text payload[0..n) with key into out. */
static int sign_text(const char *payload, size_t n, const char *key,
                     size_t keylen, bs_buf *out)
{
    bs_base64url_encode((const unsigned char *)JWT_HEADER,
                        sizeof JWT_HEADER - 1, out);
    bs_buf_putc(out, '.');
    bs_base64url_encode((const unsigned char *)payload, n, out);
    unsigned char mac[32];
    hmac(key, keylen, out->data, out->len, mac);
    bs_buf_putc(out, '.');
    bs_base64url_encode(mac, sizeof mac, out);
    return out->oom ? BS_ENOMEM : 0;
}

int bs_token_sign(const json_object *claims, const char *key, size_t keylen,
                  bs_buf *out)
{
    bs_buf payload;
    bs_buf_init(&payload);
    bs_json_write(&payload, claims);
    int rc = payload.oom ? BS_ENOMEM
                         : sign_text(payload.data, payload.len, key, keylen,
                                     out);
    bs_buf_dispose(&payload);
    return rc;
}

/* Splits a token into its three parts; false when malformed. */
static bool parts(const char *t, const char **dot1, const char **dot2)
{
    size_t n = strnlen(t, MAX_TOKEN + 1);
    if (n == 0 || n > MAX_TOKEN)
        return false;
    *dot1 = strchr(t, '.');
    if (!*dot1)
        return false;
    *dot2 = strchr(*dot1 + 1, '.');
    if (!*dot2 || strchr(*dot2 + 1, '.'))
        return false;
    return true;
}

int bs_token_peek(const char *token, json_object **claims)
{
    *claims = NULL;
    const char *d1, *d2;
    if (!parts(token, &d1, &d2))
        return BS_EINVAL;
    unsigned char hdr[512];
    long hn = bs_base64url_decode(token, (size_t)(d1 - token), hdr,
                                  sizeof hdr);
    if (hn <= 0)
        return BS_EINVAL;
    /* The header this server writes needs no parsing to be known. */
    if ((size_t)hn != sizeof JWT_HEADER - 1 ||
        memcmp(hdr, JWT_HEADER, sizeof JWT_HEADER - 1) != 0) {
        json_object *h = NULL;
        if (bs_json_parse((const char *)hdr, (size_t)hn, &h) != 0 || !h)
            return BS_EINVAL;
        bool hs256 = strcmp(bs_json_get_str(h, "alg", ""), "HS256") == 0;
        json_object_put(h);
        if (!hs256)
            return BS_EINVAL;
    }
    unsigned char body[MAX_TOKEN];
    long bn = bs_base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), body,
                                  sizeof body);
    if (bn <= 0)
        return BS_EINVAL;
    json_object *c = NULL;
    if (bs_json_parse((const char *)body, (size_t)bn, &c) != 0 || !c ||
        !json_object_is_type(c, json_type_object)) {
        if (c)
            json_object_put(c);
        return BS_EINVAL;
    }
    *claims = c;
    return 0;
}

int bs_token_verify(const char *token, const char *key, size_t keylen,
                    int64_t now)
{
    json_object *claims = NULL;
    if (bs_token_peek(token, &claims) != 0)
        return BS_EINVAL;
    int rc = bs_token_verify_claims(token, claims, key, keylen, now);
    json_object_put(claims);
    return rc;
}

/* ---- record tokens ------------------------------------------------------ */

const char *bs_token_config_name(const char *type)
{
    static const char *const map[][2] = {
        {BS_TOKEN_AUTH, "authToken"},
        {BS_TOKEN_FILE, "fileToken"},
        {BS_TOKEN_VERIFICATION, "verificationToken"},
        {BS_TOKEN_PASSWORD_RESET, "passwordResetToken"},
        {BS_TOKEN_EMAIL_CHANGE, "emailChangeToken"},
    };
    for (size_t i = 0; type && i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i][0], type) == 0)
            return map[i][1];
    }
    return NULL;
}

/* Appends tokenKey + secret of the type's config to key. */
static void signing_key(const bs_collection *c, const char *token_key,
                        const char *config, bs_buf *key)
{
    bs_buf_puts(key, token_key ? token_key : "");
    bs_buf_puts(key, bs_collection_token_secret(c, config));
}

/* One claim of a claims object being written: the key after "{" or ",",
 * then the value as JSON text (raw), a string or an integer. */
static void claim_raw(bs_buf *b, const char *key, const char *json)
{
    bs_buf_putc(b, b->len ? ',' : '{');
    bs_buf_json_str(b, key, strlen(key));
    bs_buf_putc(b, ':');
    bs_buf_puts(b, json);
}

static void claim_str(bs_buf *b, const char *key, const char *v)
{
    claim_raw(b, key, "");
    bs_buf_json_str(b, v, strlen(v));
}

static void claim_int(bs_buf *b, const char *key, int64_t v)
{
    char digits[24], *p = digits + sizeof digits;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    claim_raw(b, key, p);
}

int bs_token_for_record(const bs_record *r, const char *type,
                        int64_t duration, bool refreshable,
                        const char *new_email, bs_buf *out)
{
    const bs_collection *c = r->collection;
    const char *config = bs_token_config_name(type);
    if (!config || !bs_collection_is_auth(c))
        return BS_EINVAL;
    bs_buf key;
    bs_buf_init(&key);
    signing_key(c, bs_record_get_string(r, "tokenKey"), config, &key);
    if (key.len == 0) {
        bs_buf_dispose(&key);
        return BS_EINVAL;
    }
    if (duration <= 0)
        duration = bs_collection_token_duration(c, config);
    bool with_email = strcmp(type, BS_TOKEN_VERIFICATION) == 0 ||
                      strcmp(type, BS_TOKEN_PASSWORD_RESET) == 0 ||
                      strcmp(type, BS_TOKEN_EMAIL_CHANGE) == 0;
    /* The claims text is written directly, keys in sorted order as Go
     * marshals the claims map, the same text bs_json_write would give. */
    bs_buf claims;
    bs_buf_init(&claims);
    claim_str(&claims, "collectionId", c->id);
    if (with_email)
        claim_str(&claims, "email", bs_record_get_string(r, "email"));
    claim_int(&claims, "exp", (int64_t)time(NULL) + duration);
    claim_str(&claims, "id", bs_record_id(r));
    if (strcmp(type, BS_TOKEN_EMAIL_CHANGE) == 0)
        claim_str(&claims, "newEmail", new_email ? new_email : "");
    if (strcmp(type, BS_TOKEN_AUTH) == 0)
        claim_raw(&claims, "refreshable", refreshable ? "true" : "false");
    claim_str(&claims, "type", type);
    bs_buf_putc(&claims, '}');
    int rc = claims.oom ? BS_ENOMEM
                        : sign_text(claims.data, claims.len, key.data,
                                    key.len, out);
    bs_buf_dispose(&claims);
    explicit_bzero(key.data, key.len);
    bs_buf_dispose(&key);
    return rc;
}

int bs_token_find_record(bs_app *app, bs_schema *schema, const char *token,
                         const char *type, bs_record **out)
{
    *out = NULL;
    json_object *claims = NULL;
    if (!token || !*token || bs_token_peek(token, &claims) != 0)
        return BS_EINVAL;
    int rc = BS_EINVAL;
    const char *id = bs_json_get_str(claims, "id", "");
    const char *cid = bs_json_get_str(claims, "collectionId", "");
    const char *ttype = bs_json_get_str(claims, "type", "");
    const char *config = bs_token_config_name(ttype);
    if (!*id || !*cid || !*ttype || !config ||
        (type && strcmp(type, ttype) != 0))
        goto done;
    const bs_collection *c = bs_schema_find(schema, cid);
    if (!c || !bs_collection_is_auth(c))
        goto done;
    bs_record *rec = NULL;
    bs_conn *conn = bs_store_reader_acquire(app->store);
    int lrc = bs_record_find(conn, schema, c, id, &rec);
    bs_store_reader_release(app->store, conn);
    if (lrc) {
        rc = lrc == BS_ENOTFOUND ? BS_ENOTFOUND : lrc;
        goto done;
    }
    bs_buf key;
    bs_buf_init(&key);
    signing_key(c, bs_record_get_string(rec, "tokenKey"), config, &key);
    bool valid = !key.oom &&
                 bs_token_verify(token, key.data ? key.data : "", key.len,
                                 (int64_t)time(NULL)) == 0;
    bs_buf_dispose(&key);
    if (!valid) {
        bs_record_free(rec);
        goto done;
    }
    *out = rec;
    rc = 0;

done:
    json_object_put(claims);
    return rc;
}

/* Tokens this thread has proven valid, with the key that proved them:
 * the same token checked again with the same key needs no new HMAC. Both
 * texts are compared in full, so a hit means exactly the same input. */
#define SEEN_SLOTS 16
#define SEEN_TOKEN_MAX 1024
#define SEEN_KEY_MAX 384

typedef struct seen_token {
    char token[SEEN_TOKEN_MAX];
    char key[SEEN_KEY_MAX];
    size_t keylen;
} seen_token;

static _Thread_local seen_token seen[SEEN_SLOTS];
static _Thread_local unsigned seen_next;

static bool seen_before(const char *token, const char *key, size_t keylen)
{
    for (int i = 0; i < SEEN_SLOTS; i++) {
        const seen_token *t = &seen[i];
        if (t->keylen == keylen && t->token[0] &&
            strcmp(t->token, token) == 0 && memcmp(t->key, key, keylen) == 0)
            return true;
    }
    return false;
}

static void remember(const char *token, const char *key, size_t keylen)
{
    if (strlen(token) >= SEEN_TOKEN_MAX || keylen > SEEN_KEY_MAX)
        return;
    seen_token *t = &seen[seen_next++ % SEEN_SLOTS];
    strcpy(t->token, token);
    memcpy(t->key, key, keylen);
    t->keylen = keylen;
}

int bs_token_verify_claims(const char *token, const json_object *claims,
                           const char *key, size_t keylen, int64_t now)
{
    json_object *exp = bs_json_get(claims, "exp");
    if (!exp || (!json_object_is_type(exp, json_type_int) &&
                 !json_object_is_type(exp, json_type_double)))
        return BS_EINVAL;
    double e = json_object_is_type(exp, json_type_int)
                   ? (double)json_object_get_int64(exp)
                   : json_object_get_double(exp);
    /* As golang-jwt reads it: seconds as a float64, valid while it
     * converts to an int64 (below 2^63). */
    if (!(e >= (double)now) || e >= 9223372036854775808.0)
        return BS_EINVAL;
    if (seen_before(token, key, keylen))
        return 0;
    const char *d1, *d2;
    if (!parts(token, &d1, &d2))
        return BS_EINVAL;
    unsigned char want[32], got[64];
    hmac(key, keylen, token, (size_t)(d2 - token), want);
    long gn = bs_base64url_decode(d2 + 1, strlen(d2 + 1), got, sizeof got);
    if (gn != 32 || !bs_ct_equal(want, 32, got, 32))
        return BS_EINVAL;
    remember(token, key, keylen);
    return 0;
}
