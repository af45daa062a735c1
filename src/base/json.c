/*
 * json.c - JSON parsing and Go-compatible writing.
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "basalt.h"

#define MAX_DEPTH 64

int bs_json_parse(const char *s, size_t n, json_object **out)
{
    *out = NULL;
    if (n > INT32_MAX)
        return BS_EINVAL;
    json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
    if (!tok)
        return BS_ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *v = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        if (v)
            json_object_put(v);
        return BS_EINVAL;
    }
    for (; off < n; off++) {
        char c = s[off];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            json_object_put(v);
            return BS_EINVAL;
        }
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
