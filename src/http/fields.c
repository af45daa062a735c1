/*
 * fields.c - picking the keys of a JSON response.
 *
 * The spec is split at top-level commas into paths with an optional
 * modifier; at each object level a key is kept when some path starts
 * with it, and the path remainders apply one level down. "*" keeps every
 * key of its level. Modifiers: excerpt(max[, withEllipsis]), which turns
 * HTML into plain text of at most max characters, and snippet(tokens),
 * which the records list of a search fills in before the picking (see
 * bs_fields_snippets) and the picking leaves as it is.
 */
#include "fields.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "basalt.h"

#define MAX_PATHS 64

typedef struct path {
    char *text;     /* dotted path (owned) */
    int excerpt;    /* 0: no modifier, else max characters */
    bool ellipsis;
    int snippet;    /* snippet(tokens): 0 or the token count */
} path;

typedef struct pathset {
    path items[MAX_PATHS];
    int n;
} pathset;

static void pathset_dispose(pathset *ps)
{
    for (int i = 0; i < ps->n; i++)
        free(ps->items[i].text);
    ps->n = 0;
}

/* snippet(tokens): 1 to BS_FIELDS_SNIPPET_MAX tokens. Returns the count,
 * 0 when m is not a snippet modifier, -1 when its argument is bad. */
static int snippet_tokens(const char *m, size_t n)
{
    if (n < 9 || strncmp(m, "snippet(", 8) != 0 || m[n - 1] != ')')
        return 0;
    int tokens = 0;
    for (size_t i = 8; i < n - 1; i++) {
        if (!isdigit((unsigned char)m[i]) || tokens > BS_FIELDS_SNIPPET_MAX)
            return -1;
        tokens = tokens * 10 + (m[i] - '0');
    }
    return tokens >= 1 && tokens <= BS_FIELDS_SNIPPET_MAX ? tokens : -1;
}

static int parse_modifier(const char *m, size_t n, path *p)
{
    int tokens = snippet_tokens(m, n);
    if (tokens) {
        p->snippet = tokens;
        return tokens > 0 ? 0 : BS_EINVAL;
    }
    /* excerpt(max[, withEllipsis]) */
    if (n < 9 || strncmp(m, "excerpt(", 8) != 0 || m[n - 1] != ')')
        return BS_EINVAL;
    char args[64];
    size_t an = n - 9;
    if (an >= sizeof args)
        return BS_EINVAL;
    memcpy(args, m + 8, an);
    args[an] = '\0';
    char *comma = strchr(args, ',');
    if (comma)
        *comma = '\0';
    p->excerpt = atoi(args);
    if (p->excerpt <= 0)
        return BS_EINVAL;
    if (comma) {
        char *b = comma + 1;
        while (*b == ' ')
            b++;
        p->ellipsis = strncasecmp(b, "true", 4) == 0 || b[0] == '1' ||
                      b[0] == 't';
    }
    return 0;
}

static int parse_spec(const char *spec, pathset *ps)
{
    ps->n = 0;
    const char *p = spec;
    while (*p) {
        /* A field ends at a comma outside parentheses. */
        const char *start = p;
        int depth = 0;
        while (*p && (depth > 0 || *p != ',')) {
            if (*p == '(')
                depth++;
            else if (*p == ')' && depth > 0)
                depth--;
            p++;
        }
        const char *end = p;
        if (*p == ',')
            p++;
        while (start < end && isspace((unsigned char)*start))
            start++;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (start == end)
            continue;
        if (ps->n == MAX_PATHS)
            return BS_EINVAL;
        path *it = &ps->items[ps->n];
        memset(it, 0, sizeof *it);
        const char *colon = memchr(start, ':', (size_t)(end - start));
        size_t plen = colon ? (size_t)(colon - start) : (size_t)(end - start);
        if (colon && parse_modifier(colon + 1, (size_t)(end - colon - 1), it))
            return BS_EINVAL;
        it->text = strndup(start, plen);
        if (!it->text)
            return BS_ENOMEM;
        ps->n++;
    }
    return 0;
}

static bool is_excluded_tag(const char *name, size_t n)
{
    static const char *const tags[] = {
        "head", "style", "script", "iframe", "embed", "applet", "object",
        "svg", "img", "picture", "dialog", "template", "button", "form",
        "textarea", "input", "select", "option", NULL};
    for (int i = 0; tags[i]; i++) {
        if (strlen(tags[i]) == n && strncasecmp(tags[i], name, n) == 0)
            return true;
    }
    return false;
}

static bool is_inline_tag(const char *name, size_t n)
{
    static const char *const tags[] = {
        "a", "abbr", "acronym", "b", "bdo", "big", "br", "button", "cite",
        "code", "em", "i", "label", "q", "small", "span", "strong",
        "strike", "sub", "sup", "time", NULL};
    for (int i = 0; tags[i]; i++) {
        if (strlen(tags[i]) == n && strncasecmp(tags[i], name, n) == 0)
            return true;
    }
    return false;
}

/* Plain text of an HTML fragment, whitespace collapsed, blocks
 * separated by spaces, at most max characters (runes). */
static json_object *excerpt(const char *html, int max, bool ellipsis)
{
    bs_buf out;
    bs_buf_init(&out);
    bool prev_space = true;
    char skip_tag[32] = "";
    const char *p = html;
    while (*p) {
        if (*p == '<') {
            const char *end = strchr(p, '>');
            if (!end)
                break;
            const char *name = p + 1;
            bool closing = *name == '/';
            if (closing)
                name++;
            size_t n = strcspn(name, " \t\r\n/>");
            if (skip_tag[0]) {
                if (closing && strlen(skip_tag) == n &&
                    strncasecmp(skip_tag, name, n) == 0)
                    skip_tag[0] = '\0';
            } else if (!closing && is_excluded_tag(name, n) &&
                       end[-1] != '/' && n < sizeof skip_tag) {
                memcpy(skip_tag, name, n);
                skip_tag[n] = '\0';
            } else if (n > 0 && !is_inline_tag(name, n) && !prev_space) {
                bs_buf_putc(&out, ' ');
                prev_space = true;
            }
            p = end + 1;
            continue;
        }
        if (skip_tag[0]) {
            p++;
            continue;
        }
        if (isspace((unsigned char)*p)) {
            if (!prev_space) {
                bs_buf_putc(&out, ' ');
                prev_space = true;
            }
            p++;
            continue;
        }
        bs_buf_putc(&out, *p);
        prev_space = false;
        p++;
    }
    /* Trim, then cut at max runes. */
    const char *s = out.data ? out.data : "";
    size_t len = out.len;
    while (len && s[len - 1] == ' ')
        len--;
    while (len && *s == ' ') {
        s++;
        len--;
    }
    size_t runes = 0, cut = len;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (runes == (size_t)max) {
                cut = i;
                break;
            }
            runes++;
        }
    }
    bs_buf res;
    bs_buf_init(&res);
    size_t keep = cut;
    while (keep && s[keep - 1] == ' ')
        keep--;
    bs_buf_append(&res, s, keep);
    if (cut < len && ellipsis)
        bs_buf_puts(&res, "...");
    json_object *v = json_object_new_string_len(res.data ? res.data : "",
                                                (int)res.len);
    bs_buf_dispose(&res);
    bs_buf_dispose(&out);
    return v;
}

static void pick(json_object *data, const pathset *ps);

/* Keeps the keys of one object that the paths name. */
static void pick_object(json_object *obj, const pathset *ps)
{
    if (ps->n == 0)
        return;
    const path *star = NULL;
    for (int i = 0; i < ps->n; i++) {
        if (strcmp(ps->items[i].text, "*") == 0)
            star = &ps->items[i];
    }
    /* Collect keys first: deleting while iterating is not allowed. */
    int nkeys = json_object_object_length(obj);
    char **keys = calloc((size_t)(nkeys ? nkeys : 1), sizeof *keys);
    if (!keys)
        return;
    int k = 0;
    json_object_object_foreach(obj, kname, kval) {
        (void)kval;
        keys[k++] = kname;
    }
    for (k = 0; k < nkeys; k++) {
        const char *key = keys[k];
        size_t kl = strlen(key);
        pathset sub = {.n = 0};
        const path *whole = NULL;
        bool matched = false;
        for (int i = 0; i < ps->n; i++) {
            const char *t = ps->items[i].text;
            if (strncmp(t, key, kl) != 0 || (t[kl] != '\0' && t[kl] != '.'))
                continue;
            matched = true;
            if (t[kl] == '\0') {
                whole = &ps->items[i];
            } else if (sub.n < MAX_PATHS) {
                sub.items[sub.n] = ps->items[i];
                sub.items[sub.n].text = (char *)t + kl + 1;
                sub.n++;
            }
        }
        if (!matched && star) {
            matched = true;
            whole = star;
        }
        if (!matched) {
            json_object_object_del(obj, key);
            continue;
        }
        json_object *v = json_object_object_get(obj, key);
        if (whole) {
            if (whole->excerpt && v && json_object_is_type(v, json_type_string))
                json_object_object_add(obj, key,
                                       excerpt(json_object_get_string(v),
                                               whole->excerpt,
                                               whole->ellipsis));
            continue;
        }
        pick(v, &sub);
    }
    free(keys);
}

static void pick(json_object *data, const pathset *ps)
{
    if (!data)
        return;
    if (json_object_is_type(data, json_type_object)) {
        pick_object(data, ps);
    } else if (json_object_is_type(data, json_type_array)) {
        size_t n = json_object_array_length(data);
        for (size_t i = 0; i < n; i++) {
            json_object *it = json_object_array_get_idx(data, i);
            if (json_object_is_type(it, json_type_object))
                pick_object(it, ps);
        }
    }
}

int bs_fields_apply(const char *spec, bool search_result, bs_buf *json)
{
    pathset ps;
    int rc = parse_spec(spec, &ps);
    if (rc || ps.n == 0) {
        pathset_dispose(&ps);
        return rc;
    }
    json_object *doc = NULL;
    if (bs_json_parse(json->data ? json->data : "", json->len, &doc) != 0) {
        pathset_dispose(&ps);
        return BS_EINVAL;
    }
    if (search_result)
        pick(bs_json_get(doc, "items"), &ps);
    else
        pick(doc, &ps);
    bs_buf out;
    bs_buf_init(&out);
    bs_json_write_sorted(&out, doc);
    bs_buf_putc(&out, '\n');
    json_object_put(doc);
    pathset_dispose(&ps);
    if (out.oom) {
        bs_buf_dispose(&out);
        return BS_ENOMEM;
    }
    bs_buf_dispose(json);
    *json = out;
    return 0;
}

int bs_fields_snippets(const char *spec, bs_fields_snippet *out, int max)
{
    pathset ps;
    if (!spec)
        return 0;
    int n = 0;
    if (parse_spec(spec, &ps) == 0) {
        for (int i = 0; i < ps.n && n < max; i++) {
            const path *p = &ps.items[i];
            size_t len = strlen(p->text);
            if (!p->snippet || len == 0 || len >= sizeof out[n].field ||
                strchr(p->text, '.'))
                continue;
            memcpy(out[n].field, p->text, len + 1);
            out[n].tokens = p->snippet;
            n++;
        }
    }
    pathset_dispose(&ps);
    return n;
}
