/*
 * json.c - JSON parsing and Go-compatible writing.
 */
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "basalt.h"

#define MAX_DEPTH 64

/* A strict RFC 8259 check, run before json-c (which accepts NaN,
 * Infinity, "1." and raw control characters in strings even in its
 * strict mode). Also refuses numbers beyond the double range, which Go
 * refuses to decode. */
typedef struct scan {
    const char *p, *end;
    int depth;
    bool bigint; /* an integer literal beyond int64 was seen */
} scan;

/* Whether the integer literal s[0..n) fits an int64. */
static bool fits_int64(const char *s, size_t n)
{
    char buf[32];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    (void)strtoll(buf, NULL, 10);
    return errno != ERANGE;
}

static void ws(scan *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
                               *sc->p == '\n' || *sc->p == '\r'))
        sc->p++;
}

static bool digits(scan *sc)
{
    const char *start = sc->p;
    while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
        sc->p++;
    return sc->p > start;
}

static bool number(scan *sc)
{
    const char *start = sc->p;
    if (sc->p < sc->end && *sc->p == '-')
        sc->p++;
    if (sc->p < sc->end && *sc->p == '0')
        sc->p++;
    else if (!digits(sc))
        return false;
    if (sc->p < sc->end && *sc->p == '.') {
        sc->p++;
        if (!digits(sc))
            return false;
    }
    if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
        sc->p++;
        if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
            sc->p++;
        if (!digits(sc))
            return false;
    }
    char buf[64];
    size_t n = (size_t)(sc->p - start);
    if (!memchr(start, '.', n) && !memchr(start, 'e', n) &&
        !memchr(start, 'E', n) && !fits_int64(start, n))
        sc->bigint = true;
    if (n < sizeof buf) {
        memcpy(buf, start, n);
        buf[n] = '\0';
        if (isinf(strtod(buf, NULL)))
            return false;
    } else if (memchr(start, 'e', n) || memchr(start, 'E', n) || n > 330) {
        return false; /* absurdly long spellings */
    }
    return true;
}

static bool string_lit(scan *sc)
{
    sc->p++; /* opening quote */
    while (sc->p < sc->end) {
        unsigned char c = (unsigned char)*sc->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (sc->p >= sc->end)
                return false;
            char e = *sc->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++) {
                    if (sc->p >= sc->end || !isxdigit((unsigned char)*sc->p))
                        return false;
                    sc->p++;
                }
            } else if (!strchr("\"\\/bfnrt", e)) {
                return false;
            }
        }
    }
    return false;
}

static bool literal(scan *sc, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
        return false;
    sc->p += n;
    return true;
}

static bool value(scan *sc)
{
    ws(sc);
    if (sc->p >= sc->end)
        return false;
    char c = *sc->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        if (++sc->depth > MAX_DEPTH)
            return false;
        sc->p++;
        ws(sc);
        if (sc->p < sc->end && *sc->p == close) {
            sc->p++;
            sc->depth--;
            return true;
        }
        for (;;) {
            if (c == '{') {
                ws(sc);
                if (sc->p >= sc->end || *sc->p != '"' || !string_lit(sc))
                    return false;
                ws(sc);
                if (sc->p >= sc->end || *sc->p != ':')
                    return false;
                sc->p++;
            }
            if (!value(sc))
                return false;
            ws(sc);
            if (sc->p >= sc->end)
                return false;
            if (*sc->p == ',') {
                sc->p++;
                continue;
            }
            if (*sc->p != close)
                return false;
            sc->p++;
            sc->depth--;
            return true;
        }
    }
    if (c == '"')
        return string_lit(sc);
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(sc);
    return literal(sc, "true") || literal(sc, "false") ||
           literal(sc, "null");
}

static bool strict_valid(const char *s, size_t n, bool *bigint)
{
    scan sc = {s, s + n, 0, false};
    if (!value(&sc))
        return false;
    ws(&sc);
    *bigint = sc.bigint;
    return sc.p == sc.end;
}

/* Copies s with ".0" after every integer literal beyond int64, so json-c
 * reads those as doubles (as Go does) instead of clamping them. */
static void patch_bigints(const char *s, size_t n, bs_buf *out)
{
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            bs_buf_append(out, s + i, j + 1 - i);
            i = j + 1;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + 1;
            while (j < n && strchr("0123456789.eE+-", s[j]))
                j++;
            bs_buf_append(out, s + i, j - i);
            if (!memchr(s + i, '.', j - i) && !memchr(s + i, 'e', j - i) &&
                !memchr(s + i, 'E', j - i) && !fits_int64(s + i, j - i))
                bs_buf_puts(out, ".0");
            i = j;
            continue;
        }
        bs_buf_putc(out, c);
        i++;
    }
}

/* One tokener per thread, reset for each parse: creating one costs more
 * than parsing a small document. Freed when its thread ends. */
static pthread_key_t tokener_key;
static pthread_once_t tokener_once = PTHREAD_ONCE_INIT;

static void tokener_free(void *p)
{
    json_tokener_free(p);
}

static void tokener_key_init(void)
{
    pthread_key_create(&tokener_key, tokener_free);
}

static json_tokener *thread_tokener(void)
{
    pthread_once(&tokener_once, tokener_key_init);
    json_tokener *tok = pthread_getspecific(tokener_key);
    if (!tok) {
        tok = json_tokener_new_ex(MAX_DEPTH);
        if (tok && pthread_setspecific(tokener_key, tok) != 0) {
            json_tokener_free(tok);
            tok = NULL;
        }
    }
    return tok;
}

int bs_json_parse(const char *s, size_t n, json_object **out)
{
    *out = NULL;
    /* The strict check also guarantees there is nothing after the value. */
    bool bigint = false;
    if (n > INT32_MAX / 2 || !strict_valid(s, n, &bigint))
        return BS_EINVAL;
    bs_buf patched;
    bs_buf_init(&patched);
    if (bigint) {
        patch_bigints(s, n, &patched);
        if (patched.oom) {
            bs_buf_dispose(&patched);
            return BS_ENOMEM;
        }
        s = patched.data;
        n = patched.len;
    }
    json_tokener *tok = thread_tokener();
    if (!tok) {
        bs_buf_dispose(&patched);
        return BS_ENOMEM;
    }
    json_tokener_reset(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *v = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {
        /* A top-level number needs a terminator to be complete. */
        v = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
    }
    bs_buf_dispose(&patched);
    if (jerr != json_tokener_success) {
        if (v)
            json_object_put(v);
        return BS_EINVAL;
    }
    *out = v; /* NULL for the literal `null` */
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_value(bs_buf *out, const json_object *v, bool sorted)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        bs_buf_append(out, "null", 4);
        break;
    case json_type_boolean:
        bs_buf_puts(out, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int:
        bs_buf_printf(out, "%lld", (long long)json_object_get_int64(v));
        break;
    case json_type_double:
        bs_buf_json_num(out, json_object_get_double(v));
        break;
    case json_type_string:
        bs_buf_json_str(out, json_object_get_string((json_object *)v),
                        (size_t)json_object_get_string_len(v));
        break;
    case json_type_array: {
        size_t n = json_object_array_length(v);
        bs_buf_putc(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                bs_buf_putc(out, ',');
            write_value(out, json_object_array_get_idx(v, i), sorted);
        }
        bs_buf_putc(out, ']');
        break;
    }
    case json_type_object: {
        bs_buf_putc(out, '{');
        int n = json_object_object_length(v);
        if (!sorted || n <= 1) {
            bool first = true;
            json_object_object_foreach((json_object *)v, k, child) {
                if (!first)
                    bs_buf_putc(out, ',');
                first = false;
                bs_buf_json_str(out, k, strlen(k));
                bs_buf_putc(out, ':');
                write_value(out, child, sorted);
            }
        } else {
            const char **keys = malloc(sizeof(char *) * (size_t)n);
            if (!keys) {
                out->oom = true;
                return;
            }
            int i = 0;
            json_object_object_foreach((json_object *)v, k, child) {
                (void)child;
                keys[i++] = k;
            }
            qsort(keys, (size_t)n, sizeof(char *), key_cmp);
            for (i = 0; i < n; i++) {
                if (i)
                    bs_buf_putc(out, ',');
                bs_buf_json_str(out, keys[i], strlen(keys[i]));
                bs_buf_putc(out, ':');
                write_value(out, json_object_object_get((json_object *)v,
                                                        keys[i]),
                            sorted);
            }
            free(keys);
        }
        bs_buf_putc(out, '}');
        break;
    }
    }
}

void bs_json_write(bs_buf *out, const json_object *v)
{
    write_value(out, v, false);
}

void bs_json_write_sorted(bs_buf *out, const json_object *v)
{
    write_value(out, v, true);
}

json_object *bs_json_get(const json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object))
        return NULL;
    json_object_object_get_ex(o, key, &v);
    return v;
}

const char *bs_json_get_str(const json_object *o, const char *key,
                            const char *def)
{
    json_object *v = bs_json_get(o, key);
    if (!v || !json_object_is_type(v, json_type_string))
        return def;
    return json_object_get_string(v);
}

int64_t bs_json_get_int(const json_object *o, const char *key, int64_t def)
{
    json_object *v = bs_json_get(o, key);
    if (!v)
        return def;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_double))
        return (int64_t)json_object_get_double(v);
    return def;
}

bool bs_json_get_bool(const json_object *o, const char *key, bool def)
{
    json_object *v = bs_json_get(o, key);
    if (!v || !json_object_is_type(v, json_type_boolean))
        return def;
    return json_object_get_boolean(v);
}

void bs_json_merge(json_object *dst, const json_object *src)
{
    json_object_object_foreach((json_object *)src, k, sv) {
        json_object *dv = NULL;
        if (sv && json_object_is_type(sv, json_type_object) &&
            json_object_object_get_ex(dst, k, &dv) && dv &&
            json_object_is_type(dv, json_type_object)) {
            bs_json_merge(dv, sv);
            continue;
        }
        json_object *copy = NULL;
        if (sv && json_object_deep_copy(sv, &copy, NULL) != 0)
            continue;
        json_object_object_add(dst, k, copy);
    }
}

void bs_json_array_insert(json_object *a, size_t idx, json_object *v)
{
    size_t n = json_object_array_length(a);
    if (idx >= n) {
        json_object_array_add(a, v);
        return;
    }
    json_object_array_add(a, NULL);
    for (size_t i = n; i > idx; i--) {
        json_object *prev = json_object_array_get_idx(a, i - 1);
        json_object_array_put_idx(a, i, json_object_get(prev));
    }
    json_object_array_put_idx(a, idx, v);
}
