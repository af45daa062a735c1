/*
 * fuzz_fields.c - the `fields` spec of responses and the search snippets
 * on arbitrary input.
 *
 * The input up to its first NUL byte is a `fields` spec, the rest a JSON
 * response. Checks:
 *  - picking never crashes, and a refused spec or JSON leaves the
 *    response as it was;
 *  - the snippet modifiers found name a top-level field and a token
 *    count of 1 to 64;
 *  - the rest turned into snippet HTML, with or without dropping tags,
 *    opens and closes <mark> in pairs, and outside them has no '<' or
 *    '"' left unescaped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/search.h"
#include "http/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_html(const char *s, size_t n, bool strip_tags)
{
    bs_buf out;
    bs_buf_init(&out);
    bs_search_snippet_html(s, n, strip_tags, &out);
    int depth = 0;
    for (size_t i = 0; i < out.len; i++) {
        const char *p = out.data + i;
        size_t left = out.len - i;
        if (left >= 6 && memcmp(p, "<mark>", 6) == 0) {
            if (depth++ != 0)
                abort();
            i += 5;
        } else if (left >= 7 && memcmp(p, "</mark>", 7) == 0) {
            if (--depth != 0)
                abort();
            i += 6;
        } else if (*p == '<' || *p == '"' || *p == '\x02' || *p == '\x03') {
            abort();
        }
    }
    if (depth != 0)
        abort();
    bs_buf_dispose(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    while (n < size && data[n])
        n++;
    char *spec = malloc(n + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, n);
    spec[n] = '\0';
    const char *rest = n < size ? (const char *)data + n + 1 : "";
    size_t rest_len = n < size ? size - n - 1 : 0;

    bs_fields_snippet want[8];
    int k = bs_fields_snippets(spec, want, 8);
    if (k < 0 || k > 8)
        abort();
    for (int i = 0; i < k; i++) {
        if (!want[i].field[0] || strchr(want[i].field, '.') ||
            want[i].tokens < 1 || want[i].tokens > BS_FIELDS_SNIPPET_MAX)
            abort();
    }

    for (int list = 0; list < 2; list++) {
        bs_buf json;
        bs_buf_init(&json);
        bs_buf_append(&json, rest, rest_len);
        int rc = bs_fields_apply(spec, list == 1, &json);
        if (rc != 0 && (json.len != rest_len ||
                        (rest_len && memcmp(json.data, rest, rest_len))))
            abort();
        bs_buf_dispose(&json);
    }

    check_html(rest, rest_len, false);
    check_html(rest, rest_len, true);
    free(spec);
    return 0;
}
