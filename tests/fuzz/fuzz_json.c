/*
 * fuzz_json.c - JSON parsing and Go-compatible writing on arbitrary input.
 *
 * For every input that bs_json_parse accepts, both writers' outputs must
 * parse again to an equal value, and from there on writing and reading
 * again must give the same bytes. "Equal" follows what Go-compatible
 * writing promises: numbers compare by value (Go has only float64, so 1.0 prints as 1 and
 * reads back as an integer), and strings compare after invalid UTF-8 is
 * replaced by U+FFFD the way Go does (json-c keeps raw bytes). The sorted
 * writer must also put object keys in ascending byte order.
 *
 * The raw input is also written as a JSON string (bs_buf_json_str), which
 * must parse back to the Go-coerced bytes, and its first 8 bytes as a
 * double (bs_buf_json_num), which must read back as the same double.
 *
 * No input class is excluded: number spellings that are not JSON (NaN,
 * Infinity, 1e400) are rejected by the parser, integers beyond int64
 * keep their magnitude, and top-level scalars parse, so every accepted
 * input must round-trip.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "basalt.h"
#include "fuzz_dict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_add_dict(argc, argv, "tests/fuzz/fuzz_json.dict");
    return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid:
 * an independent copy of the rules of Go's utf8.DecodeRune. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return need;
}

/* Go's coercion of bytes to valid UTF-8 (each bad byte -> U+FFFD). */
static char *coerce(const char *s, size_t n, size_t *outlen)
{
    char *out = malloc(n * 3 + 1);
    if (!out)
        abort();
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len(u + i, n - i);
        if (l == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static bool is_number(const json_object *v)
{
    return json_object_is_type(v, json_type_int) ||
           json_object_is_type(v, json_type_double);
}

/* Semantic equality of the original value a and the re-parsed b.
 * *skip is set when two keys of one object coerce to the same text (the
 * writer then prints a duplicate key, which is not comparable). */
static bool equal(const json_object *a, const json_object *b, bool *skip)
{
    if (!a || !b)
        return !a && !b;
    if (is_number(a) && is_number(b)) {
        if (json_object_is_type(a, json_type_int) &&
            json_object_is_type(b, json_type_int))
            return json_object_get_int64(a) == json_object_get_int64(b);
        /* A double printed as an integer may come back as an int64. */
        return json_object_get_double(a) == json_object_get_double(b);
    }
    if (json_object_get_type(a) != json_object_get_type(b))
        return false;
    switch (json_object_get_type(a)) {
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string: {
        size_t n;
        char *c = coerce(json_object_get_string((json_object *)a),
                         (size_t)json_object_get_string_len(a), &n);
        bool eq = n == (size_t)json_object_get_string_len(b) &&
                  memcmp(c, json_object_get_string((json_object *)b), n) == 0;
        free(c);
        return eq;
    }
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++) {
            if (!equal(json_object_array_get_idx(a, i),
                       json_object_array_get_idx(b, i), skip))
                return false;
        }
        return true;
    }
    case json_type_object: {
        int na = json_object_object_length(a);
        int nb = json_object_object_length(b);
        if (na != nb) {
            *skip = true;
            return true;
        }
        json_object_object_foreach((json_object *)a, k, av) {
            size_t kl;
            char *ck = coerce(k, strlen(k), &kl);
            json_object *bv = NULL;
            bool found = json_object_object_get_ex(b, ck, &bv);
            free(ck);
            if (!found || !equal(av, bv, skip))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

/* Checks that every object in v lists its keys in ascending byte order. */
static bool keys_sorted(const json_object *v)
{
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (!keys_sorted(json_object_array_get_idx(v, i)))
                return false;
        }
        return true;
    }
    if (!json_object_is_type(v, json_type_object))
        return true;
    const char *prev = NULL;
    json_object_object_foreach((json_object *)v, k, c) {
        if (prev && strcmp(prev, k) >= 0)
            return false;
        prev = k;
        if (!keys_sorted(c))
            return false;
    }
    return true;
}

static bool valid_utf8(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

/* Whether some object key in v is not valid UTF-8. Go sorts map keys by
 * their raw bytes before coercing them, so the order of such keys in the
 * output need not be the order of their coerced text. */
static bool has_invalid_key(const json_object *v)
{
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (has_invalid_key(json_object_array_get_idx(v, i)))
                return true;
        }
        return false;
    }
    if (!json_object_is_type(v, json_type_object))
        return false;
    json_object_object_foreach((json_object *)v, k, c) {
        if (!valid_utf8(k) || has_invalid_key(c))
            return true;
    }
    return false;
}

static json_object *reparse(const bs_buf *b)
{
    json_object *v = NULL;
    if (bs_json_parse(b->data, b->len, &v) != 0) {
        fprintf(stderr, "writer output does not parse: %s\n", b->data);
        abort();
    }
    return v;
}

static void check_writer(const json_object *v, bool sorted)
{
    bs_buf out;
    bs_buf_init(&out);
    if (sorted)
        bs_json_write_sorted(&out, v);
    else
        bs_json_write(&out, v);
    if (out.oom)
        abort();
    json_object *back = reparse(&out);
    bool skip = false;
    if (!equal(v, back, &skip) && !skip) {
        fprintf(stderr, "round trip changed the value: %s\n", out.data);
        abort();
    }
    if (sorted && !skip && !has_invalid_key(v) && !keys_sorted(back)) {
        fprintf(stderr, "sorted writer left keys unsorted: %s\n", out.data);
        abort();
    }
    /* From the first re-parse on, writing is a fixed point: the text
     * written from a value read back from writer output reads back and
     * writes to the same bytes. (The first output may differ from the
     * second one, as "\ufffd" escapes of invalid bytes come back as
     * literal U+FFFD characters.) */
    bs_buf again;
    bs_buf_init(&again);
    if (sorted)
        bs_json_write_sorted(&again, back);
    else
        bs_json_write(&again, back);
    json_object *back2 = reparse(&again);
    bs_buf third;
    bs_buf_init(&third);
    if (sorted)
        bs_json_write_sorted(&third, back2);
    else
        bs_json_write(&third, back2);
    if (!skip && (again.len != third.len ||
                  memcmp(again.data, third.data, third.len) != 0)) {
        fprintf(stderr, "writer not stable:\n%s\n%s\n", again.data,
                third.data);
        abort();
    }
    json_object_put(back2);
    bs_buf_dispose(&third);
    bs_buf_dispose(&again);
    json_object_put(back);
    bs_buf_dispose(&out);
}

static void check_string_writer(const uint8_t *data, size_t size)
{
    bs_buf out;
    bs_buf_init(&out);
    bs_buf_json_str(&out, (const char *)data, size);
    json_object *v = NULL;
    if (bs_json_parse(out.data, out.len, &v) != 0 || !v ||
        !json_object_is_type(v, json_type_string)) {
        fprintf(stderr, "string writer output does not parse: %s\n",
                out.data);
        abort();
    }
    size_t n;
    char *want = coerce((const char *)data, size, &n);
    if ((size_t)json_object_get_string_len(v) != n ||
        memcmp(json_object_get_string(v), want, n) != 0) {
        fprintf(stderr, "string writer changed the text: %s\n", out.data);
        abort();
    }
    /* Go never leaves these characters unescaped. */
    for (size_t i = 0; i < out.len; i++) {
        char c = out.data[i];
        if (c == '<' || c == '>' || c == '&' || (unsigned char)c < 0x20)
            abort();
    }
    if (strstr(out.data, "\xe2\x80\xa8") || strstr(out.data, "\xe2\x80\xa9"))
        abort();
    free(want);
    json_object_put(v);
    bs_buf_dispose(&out);
}

static void check_number_writer(const uint8_t *data, size_t size)
{
    if (size < 8)
        return;
    double d;
    memcpy(&d, data, 8);
    bs_buf out;
    bs_buf_init(&out);
    bs_buf_json_num(&out, d);
    char *end = NULL;
    double back = strtod(out.data, &end);
    if (*end != '\0')
        abort();
    if (isfinite(d) && back != d) {
        fprintf(stderr, "number %.17g printed as %s\n", d, out.data);
        abort();
    }
    bs_buf_dispose(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_object *v = NULL;
    if (bs_json_parse((const char *)data, size, &v) == 0) {
        check_writer(v, false);
        check_writer(v, true);
    }
    json_object_put(v);
    check_string_writer(data, size);
    check_number_writer(data, size);
    return 0;
}
