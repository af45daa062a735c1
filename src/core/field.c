/*
 * field.c - record field values: normalization, storage and validation.
 *
 * The rules follow PocketBase's field types: what a submitted value turns
 * into (PrepareValue), how it is stored, and which validation code and
 * message a bad value gets.
 */
#include "field.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/regex.h"
#include "../base/util.h"

const char *bs_field_name(const json_object *f)
{
    return bs_json_get_str(f, "name", "");
}

const char *bs_field_type(const json_object *f)
{
    return bs_json_get_str(f, "type", "");
}

bool bs_field_is_multiple(const json_object *f)
{
    bs_finfo fi;
    bs_finfo_init(&fi, f);
    return fi.multiple;
}

bool bs_field_hidden(const json_object *f)
{
    return bs_json_get_bool(f, "hidden", false);
}

/* Types whose value is a list of strings (one string when single). */
static bool is_listish(const bs_finfo *fi)
{
    return bs_ftypes[fi->type].multi;
}

/* ---- conversions ------------------------------------------------------ */

/* Text of a scalar value the way Go's cast.ToString prints it. */
static void scalar_text(const json_object *v, bs_buf *out)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        break;
    case json_type_string:
        bs_buf_append(out, json_object_get_string((json_object *)v),
                      (size_t)json_object_get_string_len(v));
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
    default:
        bs_json_write(out, v);
    }
}

static json_object *to_string(const json_object *v)
{
    bs_buf b;
    bs_buf_init(&b);
    scalar_text(v, &b);
    json_object *s = json_object_new_string_len(b.data ? b.data : "",
                                                (int)b.len);
    bs_buf_dispose(&b);
    return s;
}

static double to_number(const json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_int:
        return (double)json_object_get_int64(v);
    case json_type_double:
        return json_object_get_double(v);
    case json_type_boolean:
        return json_object_get_boolean(v) ? 1 : 0;
    case json_type_string: {
        const char *s = json_object_get_string((json_object *)v);
        char *end;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            return 0;
        double d = strtod(s, &end);
        while (isspace((unsigned char)*end))
            end++;
        return *end ? 0 : d;
    }
    default:
        return 0;
    }
}

static bool to_bool(const json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_boolean:
        return json_object_get_boolean(v);
    case json_type_int:
        return json_object_get_int64(v) != 0;
    case json_type_double:
        return json_object_get_double(v) != 0;
    case json_type_string: {
        const char *s = json_object_get_string((json_object *)v);
        return strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 ||
               strcmp(s, "t") == 0 || strcmp(s, "T") == 0;
    }
    default:
        return false;
    }
}

/* Adds s to the array unless already there or empty. */
static void add_unique(json_object *arr, const char *s, size_t n)
{
    if (n == 0)
        return;
    size_t len = json_object_array_length(arr);
    for (size_t i = 0; i < len; i++) {
        json_object *x = json_object_array_get_idx(arr, i);
        if ((size_t)json_object_get_string_len(x) == n &&
            memcmp(json_object_get_string(x), s, n) == 0)
            return;
    }
    json_object_array_add(arr, json_object_new_string_len(s, (int)n));
}

/* PocketBase's list.ToUniqueStringSlice: arrays item by item, a string
 * holding a JSON array is parsed, any other value is one item. */
static json_object *unique_strings(const json_object *v)
{
    json_object *out = json_object_new_array();
    if (!v)
        return out;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            json_object *s = to_string(json_object_array_get_idx(v, i));
            add_unique(out, json_object_get_string(s),
                       (size_t)json_object_get_string_len(s));
            json_object_put(s);
        }
        return out;
    }
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string((json_object *)v);
        size_t n = (size_t)json_object_get_string_len(v);
        if (n >= 2 && s[0] == '[') {
            json_object *parsed = NULL;
            if (bs_json_parse(s, n, &parsed) == 0 && parsed &&
                json_object_is_type(parsed, json_type_array)) {
                json_object_put(out);
                out = unique_strings(parsed);
                json_object_put(parsed);
                return out;
            }
            if (parsed)
                json_object_put(parsed);
        }
        add_unique(out, s, n);
        return out;
    }
    json_object *s = to_string(v);
    add_unique(out, json_object_get_string(s),
               (size_t)json_object_get_string_len(s));
    json_object_put(s);
    return out;
}

static int parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

bool bs_date_normalize(const char *in, char out[25])
{
    while (isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    int Y, M, D, h = 0, m = 0, s = 0, ms = 0, off = 0;
    if (n < 10 || in[4] != '-' || in[7] != '-' ||
        parse_digits(in, 4, &Y) || parse_digits(in + 5, 2, &M) ||
        parse_digits(in + 8, 2, &D))
        return false;
    size_t i = 10;
    if (i < n && (in[i] == ' ' || in[i] == 'T')) {
        if (n < i + 9 || in[i + 3] != ':' || in[i + 6] != ':' ||
            parse_digits(in + i + 1, 2, &h) ||
            parse_digits(in + i + 4, 2, &m) ||
            parse_digits(in + i + 7, 2, &s))
            return false;
        i += 9;
        if (i < n && in[i] == '.') {
            i++;
            int digits = 0, frac = 0;
            while (i < n && isdigit((unsigned char)in[i])) {
                if (digits < 3)
                    frac = frac * 10 + (in[i] - '0');
                digits++;
                i++;
            }
            if (digits == 0)
                return false;
            for (int k = digits; k < 3; k++)
                frac *= 10;
            ms = frac;
        }
        if (i < n && (in[i] == 'Z' || in[i] == 'z')) {
            i++;
        } else if (i < n && (in[i] == '+' || in[i] == '-')) {
            int oh, om;
            if (n < i + 6 || in[i + 3] != ':' ||
                parse_digits(in + i + 1, 2, &oh) ||
                parse_digits(in + i + 4, 2, &om))
                return false;
            off = (oh * 60 + om) * (in[i] == '+' ? 1 : -1);
            i += 6;
        }
    }
    if (i != n || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 ||
        s > 60)
        return false;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                    .tm_hour = h, .tm_min = m, .tm_sec = s};
    time_t t = timegm(&tm);
    t -= (time_t)off * 60;
    bs_time_str((int64_t)t, ms, out);
    return true;
}

/* The json field's form-value rules: plain strings that look like JSON
 * (numbers, arrays, objects, quoted strings, true/false/null) are parsed,
 * anything else stays a string. */
static json_object *prepare_json(const json_object *raw)
{
    if (!raw)
        return NULL;
    if (!json_object_is_type(raw, json_type_string))
        return json_object_get((json_object *)raw);
    const char *s = json_object_get_string((json_object *)raw);
    size_t n = (size_t)json_object_get_string_len(raw);
    if (n > 0 &&
        (strcmp(s, "null") == 0 || strcmp(s, "true") == 0 ||
         strcmp(s, "false") == 0 || isdigit((unsigned char)s[0]) ||
         s[0] == '-' || s[0] == '"' || s[0] == '[' || s[0] == '{')) {
        json_object *v = NULL;
        if (bs_json_parse(s, n, &v) == 0)
            return v;
    }
    return json_object_get((json_object *)raw);
}

/* A geoPoint from an object or its JSON text. */
static json_object *prepare_point(const json_object *raw)
{
    json_object *src = (json_object *)raw, *parsed = NULL;
    if (raw && json_object_is_type(raw, json_type_string)) {
        const char *s = json_object_get_string(src);
        bs_json_parse(s, strlen(s), &parsed);
        src = parsed;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(
        o, "lon", json_object_new_double(to_number(bs_json_get(src, "lon"))));
    json_object_object_add(
        o, "lat", json_object_new_double(to_number(bs_json_get(src, "lat"))));
    if (parsed)
        json_object_put(parsed);
    return o;
}

json_object *bs_finfo_prepare(const bs_finfo *fi, const json_object *raw)
{
    switch (fi->type) {
    case BS_F_NUMBER:
        return json_object_new_double(raw ? to_number(raw) : 0);
    case BS_F_BOOL:
        return json_object_new_boolean(raw ? to_bool(raw) : 0);
    case BS_F_JSON:
        return prepare_json(raw);
    case BS_F_GEOPOINT:
        return prepare_point(raw);
    case BS_F_DATE:
    case BS_F_AUTODATE: {
        char out[25];
        if (raw && json_object_is_type(raw, json_type_string) &&
            bs_date_normalize(json_object_get_string((json_object *)raw),
                              out))
            return json_object_new_string(out);
        return json_object_new_string("");
    }
    case BS_F_SELECT:
    case BS_F_FILE:
    case BS_F_RELATION: {
        json_object *list = unique_strings(raw);
        if (fi->multiple)
            return list;
        size_t n = json_object_array_length(list);
        json_object *last =
            n ? json_object_get(json_object_array_get_idx(list, n - 1))
              : json_object_new_string("");
        json_object_put(list);
        return last;
    }
    default:
        /* text, email, url, editor, password */
        if (!raw)
            return json_object_new_string("");
        return to_string(raw);
    }
}

json_object *bs_finfo_modify(const bs_finfo *fi, const json_object *cur,
                             char modifier, const json_object *arg)
{
    if (fi->type == BS_F_NUMBER) {
        double base = cur ? to_number(cur) : 0;
        double d = arg ? to_number(arg) : 0;
        return json_object_new_double(modifier == '-' ? base - d : base + d);
    }
    if (!is_listish(fi))
        return bs_finfo_prepare(fi, arg);
    json_object *have = unique_strings(cur);
    json_object *items = unique_strings(arg);
    json_object *out = json_object_new_array();
    size_t nh = json_object_array_length(have);
    size_t ni = json_object_array_length(items);
    if (modifier == '^') {
        for (size_t i = 0; i < ni; i++) {
            json_object *x = json_object_array_get_idx(items, i);
            add_unique(out, json_object_get_string(x),
                       (size_t)json_object_get_string_len(x));
        }
    }
    for (size_t i = 0; i < nh; i++) {
        json_object *x = json_object_array_get_idx(have, i);
        bool drop = false;
        if (modifier == '-') {
            for (size_t j = 0; j < ni && !drop; j++)
                drop = strcmp(json_object_get_string(x),
                              json_object_get_string(
                                  json_object_array_get_idx(items, j))) == 0;
        }
        if (!drop)
            add_unique(out, json_object_get_string(x),
                       (size_t)json_object_get_string_len(x));
    }
    if (modifier == '+') {
        for (size_t i = 0; i < ni; i++) {
            json_object *x = json_object_array_get_idx(items, i);
            add_unique(out, json_object_get_string(x),
                       (size_t)json_object_get_string_len(x));
        }
    }
    json_object_put(have);
    json_object_put(items);
    json_object *v = bs_finfo_prepare(fi, out);
    json_object_put(out);
    return v;
}

json_object *bs_finfo_zero(const bs_finfo *fi)
{
    switch (bs_ftypes[fi->type].value) {
    case BS_FV_NUMBER:
        return json_object_new_double(0);
    case BS_FV_BOOL:
        return json_object_new_boolean(0);
    case BS_FV_ANY:
        return NULL;
    case BS_FV_POINT: {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "lon", json_object_new_double(0));
        json_object_object_add(o, "lat", json_object_new_double(0));
        return o;
    }
    case BS_FV_STRING:
        break;
    }
    return fi->multiple ? json_object_new_array()
                        : json_object_new_string("");
}

/* One stored value as SQLite hands it over: its type, its number (for
 * INT and REAL) and its text (for TEXT and BLOB, and for json and
 * geoPoint fields whatever the type; NULL otherwise). */
typedef struct cell {
    bs_col_type type;
    double real;
    int64_t integer;
    const char *text;
    size_t len;
} cell;

static json_object *from_cell(const bs_finfo *fi, const cell *c)
{
    bs_col_type ctype = c->type;
    switch (fi->type) {
    case BS_F_NUMBER: {
        if (ctype == BS_COL_INT || ctype == BS_COL_REAL)
            return json_object_new_double(c->real);
        const char *t = c->text;
        return json_object_new_double(t ? strtod(t, NULL) : 0);
    }
    case BS_F_BOOL:
        if (ctype == BS_COL_TEXT) {
            const char *t = c->text;
            return json_object_new_boolean(
                t && (strcmp(t, "1") == 0 || strcasecmp(t, "true") == 0));
        }
        return json_object_new_boolean(c->integer != 0);
    case BS_F_JSON: {
        size_t n = c->len;
        const char *t = c->text;
        json_object *v = NULL;
        if (t && n > 0 && bs_json_parse(t, n, &v) != 0)
            v = json_object_new_string_len(t, (int)n);
        return v;
    }
    case BS_F_GEOPOINT: {
        size_t n = c->len;
        const char *t = c->text;
        json_object *v = NULL;
        if (t)
            bs_json_parse(t, n, &v);
        json_object *out = prepare_point(v);
        if (v)
            json_object_put(v);
        return out;
    }
    default:
        break;
    }
    if (ctype == BS_COL_NULL)
        return bs_finfo_zero(fi);
    if (ctype == BS_COL_INT || ctype == BS_COL_REAL) {
        /* A number in a text column: print it like Go would. */
        json_object *num = json_object_new_double(c->real);
        json_object *s = to_string(num);
        json_object_put(num);
        if (is_listish(fi)) {
            json_object *v = bs_finfo_prepare(fi, s);
            json_object_put(s);
            return v;
        }
        return s;
    }
    size_t len = c->len;
    const char *t = c->text ? c->text : "";
    int n = (int)len;
    if (is_listish(fi)) {
        if (!fi->multiple && (n == 0 || t[0] != '['))
            return json_object_new_string_len(t, n);
        json_object *s = json_object_new_string_len(t, n);
        json_object *v = bs_finfo_prepare(fi, s);
        json_object_put(s);
        return v;
    }
    return json_object_new_string_len(t, n);
}

json_object *bs_finfo_from_column(const bs_finfo *fi, const bs_rows *st,
                                  int col)
{
    cell c = {.type = bs_rows_type(st, col)};
    /* The numbers first: reading the text of a number column converts
     * the value SQLite holds. */
    if (c.type == BS_COL_INT || c.type == BS_COL_REAL) {
        c.real = bs_rows_real(st, col);
        c.integer = bs_rows_int(st, col);
    }
    if (c.type == BS_COL_TEXT || c.type == BS_COL_BLOB ||
        (c.type != BS_COL_NULL &&
         (fi->type == BS_F_JSON || fi->type == BS_F_GEOPOINT)))
        c.text = bs_rows_text(st, col, &c.len);
    return from_cell(fi, &c);
}

json_object *bs_finfo_from_raw(const bs_finfo *fi, const json_object *v)
{
    cell c = {.type = BS_COL_NULL};
    switch (json_object_get_type(v)) {
    case json_type_int:
        c.type = BS_COL_INT;
        c.integer = json_object_get_int64(v);
        c.real = (double)c.integer;
        break;
    case json_type_double:
    case json_type_boolean:
        c.type = BS_COL_REAL;
        c.real = json_object_get_double(v);
        c.integer = json_object_get_int64(v);
        break;
    case json_type_string:
        c.type = BS_COL_TEXT;
        break;
    default:
        break;
    }
    if (c.type == BS_COL_TEXT ||
        (c.type != BS_COL_NULL &&
         (fi->type == BS_F_JSON || fi->type == BS_F_GEOPOINT))) {
        c.text = json_object_get_string((json_object *)v);
        c.len = strlen(c.text);
    }
    return from_cell(fi, &c);
}

/* The stored form of a value: the cell SQLite is given for it. Text
 * (json and multiple values as JSON text) goes to scratch, which the
 * cell then points into (or to a string of v). */
static cell to_cell(const bs_finfo *fi, const json_object *v, bs_buf *scratch)
{
    cell c = {.type = BS_COL_TEXT};
    bs_fvalue kind = bs_ftypes[fi->type].value;
    if (kind == BS_FV_NUMBER) {
        double d = v ? to_number(v) : 0;
        if (fabs(d) < 9e15 && d == (double)(int64_t)d)
            c = (cell){.type = BS_COL_INT, .integer = (int64_t)d, .real = d};
        else
            c = (cell){.type = BS_COL_REAL, .real = d};
        return c;
    }
    if (kind == BS_FV_BOOL) {
        int b = v ? to_bool(v) : 0;
        return (cell){.type = BS_COL_INT, .integer = b, .real = b};
    }
    if (kind == BS_FV_ANY || kind == BS_FV_POINT || fi->multiple) {
        if (!v && kind == BS_FV_ANY)
            return (cell){.type = BS_COL_NULL};
        if (v)
            bs_json_write(scratch, v);
        else
            bs_buf_puts(scratch, "null");
        c.text = scratch->data ? scratch->data : "";
        c.len = scratch->len;
        return c;
    }
    const char *s = v ? json_object_get_string((json_object *)v) : "";
    c.text = s ? s : "";
    c.len = strlen(c.text);
    return c;
}

void bs_finfo_bind(const bs_finfo *fi, const json_object *v, bs_rows *st,
                   int idx)
{
    bs_buf b;
    bs_buf_init(&b);
    cell c = to_cell(fi, v, &b);
    switch (c.type) {
    case BS_COL_INT:
        bs_rows_bind_int(st, idx, c.integer);
        break;
    case BS_COL_REAL:
        bs_rows_bind_real(st, idx, c.real);
        break;
    case BS_COL_NULL:
        bs_rows_bind_null(st, idx);
        break;
    default:
        bs_rows_bind_text(st, idx, c.text, (long)c.len);
        break;
    }
    bs_buf_dispose(&b);
}

json_object *bs_finfo_to_raw(const bs_finfo *fi, const json_object *v)
{
    bs_buf b;
    bs_buf_init(&b);
    cell c = to_cell(fi, v, &b);
    json_object *out = NULL;
    switch (c.type) {
    case BS_COL_INT:
        out = json_object_new_int64(c.integer);
        break;
    case BS_COL_REAL:
        /* JSON has no NaN or infinity: they travel as null (zero). */
        if (isfinite(c.real))
            out = json_object_new_double(c.real);
        break;
    case BS_COL_NULL:
        break; /* json-c's null */
    default:
        out = json_object_new_string_len(c.text, (int)c.len);
        break;
    }
    bs_buf_dispose(&b);
    return out;
}

bool bs_finfo_is_empty(const bs_finfo *fi, const json_object *v)
{
    if (!v)
        return true;
    switch (json_object_get_type(v)) {
    case json_type_null:
        return true;
    case json_type_string:
        return json_object_get_string_len(v) == 0;
    case json_type_array:
        return json_object_array_length(v) == 0;
    case json_type_object:
        if (fi->type == BS_F_GEOPOINT)
            return to_number(bs_json_get(v, "lon")) == 0 &&
                   to_number(bs_json_get(v, "lat")) == 0;
        return json_object_object_length(v) == 0;
    case json_type_double:
    case json_type_int:
        return to_number(v) == 0;
    case json_type_boolean:
        return !json_object_get_boolean(v);
    }
    return false;
}

/* ---- validation ------------------------------------------------------- */

static bool fail(bs_field_error *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(bs_field_error *e, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->code = code;
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return false;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static bool url_ok(const char *s)
{
    const char *p = strstr(s, "://");
    if (!p || p == s)
        return false;
    for (const char *q = s; q < p; q++)
        if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' &&
            *q != '.')
            return false;
    const char *host = p + 3;
    if (!*host || *host == '/' || strpbrk(s, " \t\r\n"))
        return false;
    return true;
}

/* The domain of an email (after '@') or a URL (host without port). */
static void domain_of(const char *v, bool email, char *out, size_t cap)
{
    const char *start;
    if (email) {
        start = strrchr(v, '@');
        start = start ? start + 1 : v;
    } else {
        start = strstr(v, "://");
        start = start ? start + 3 : v;
        const char *at = strchr(start, '@');
        const char *slash = strchr(start, '/');
        if (at && (!slash || at < slash))
            start = at + 1;
    }
    size_t n = strcspn(start, email ? "" : ":/?#");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, start, n);
    out[n] = '\0';
}

static bool in_list(const json_object *list, const char *s)
{
    size_t n = list && json_object_is_type(list, json_type_array)
                   ? json_object_array_length(list)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        const char *x =
            json_object_get_string(json_object_array_get_idx(list, i));
        if (x && strcasecmp(x, s) == 0)
            return true;
    }
    return false;
}

static bool check_domains(const json_object *f, const char *v, bool email,
                          bs_field_error *e)
{
    char dom[256];
    domain_of(v, email, dom, sizeof dom);
    json_object *only = bs_json_get(f, "onlyDomains");
    json_object *except = bs_json_get(f, "exceptDomains");
    const char *code = email ? "validation_email_domain_not_allowed"
                             : "validation_url_domain_not_allowed";
    const char *msg = email ? "Email domain is not allowed."
                            : "Url domain is not allowed.";
    if (only && json_object_array_length(only) > 0 && !in_list(only, dom))
        return fail(e, code, "%s", msg);
    if (except && json_object_array_length(except) > 0 &&
        in_list(except, dom))
        return fail(e, code, "%s", msg);
    return true;
}

static bool validate_text(const json_object *f, const char *s,
                          bs_field_error *e)
{
    int64_t min = bs_json_get_int(f, "min", 0);
    int64_t max = bs_json_get_int(f, "max", 0);
    size_t len = utf8_len(s);
    if (min > 0 && (int64_t)len < min)
        return fail(e, "validation_min_text_constraint",
                    "Must be at least %lld character(s).", (long long)min);
    if (max <= 0)
        max = 5000;
    if ((int64_t)len > max)
        return fail(e, "validation_max_text_constraint",
                    "Must be no more than %lld character(s).",
                    (long long)max);
    const char *pattern = bs_json_get_str(f, "pattern", "");
    if (*pattern && *s && bs_regex_match(pattern, s, strlen(s)) != 1)
        return fail(e, "validation_invalid_format", "Invalid value format.");
    return true;
}

bool bs_field_validate(const json_object *f, const json_object *v,
                       bool is_new, bs_field_error *e)
{
    bs_finfo fi;
    bs_finfo_init(&fi, f);
    return bs_finfo_validate(&fi, v, is_new, e);
}

bool bs_finfo_validate(const bs_finfo *fi, const json_object *v,
                       bool is_new, bs_field_error *e)
{
    (void)is_new;
    const json_object *f = fi->def;
    bool required = fi->required;
    bs_ftype type = fi->type;
    if (type == BS_F_AUTODATE)
        return true;
    if (type == BS_F_BOOL) {
        if (required && !(v && json_object_get_boolean(v)))
            return fail(e, "validation_required", "Cannot be blank.");
        return true;
    }
    if (type == BS_F_JSON) {
        bs_buf b;
        bs_buf_init(&b);
        if (v)
            bs_json_write(&b, v);
        int64_t max = bs_json_get_int(f, "maxSize", 0);
        if (max <= 0)
            max = 1 << 20;
        bool big = (int64_t)b.len > max;
        bool empty = !v || strcmp(b.data, "\"\"") == 0 ||
                     strcmp(b.data, "[]") == 0 || strcmp(b.data, "{}") == 0;
        bs_buf_dispose(&b);
        if (big)
            return fail(e, "validation_json_size_limit",
                        "The maximum allowed JSON size is %lld bytes.",
                        (long long)max);
        if (required && empty)
            return fail(e, "validation_required", "Cannot be blank.");
        return true;
    }
    if (bs_finfo_is_empty(fi, v)) {
        if (required)
            return fail(e, "validation_required", "Cannot be blank.");
        return true;
    }
    if (type == BS_F_NUMBER) {
        double d = json_object_get_double(v);
        if (!isfinite(d))
            return fail(e, "validation_not_a_number",
                        "The submitted number is not properly formatted.");
        if (bs_json_get_bool(f, "onlyInt", false) && d != floor(d))
            return fail(e, "validation_only_int_constraint",
                        "Decimal numbers are not allowed.");
        json_object *min = bs_json_get(f, "min"), *max = bs_json_get(f, "max");
        if (min && !json_object_is_type(min, json_type_null) &&
            d < json_object_get_double(min)) {
            bs_buf b;
            bs_buf_init(&b);
            bs_buf_json_num(&b, json_object_get_double(min));
            fail(e, "validation_min_number_constraint",
                 "Must be larger than %s.", b.data);
            bs_buf_dispose(&b);
            return false;
        }
        if (max && !json_object_is_type(max, json_type_null) &&
            d > json_object_get_double(max)) {
            bs_buf b;
            bs_buf_init(&b);
            bs_buf_json_num(&b, json_object_get_double(max));
            fail(e, "validation_max_number_constraint",
                 "Must be less than %s.", b.data);
            bs_buf_dispose(&b);
            return false;
        }
        return true;
    }
    if (is_listish(fi)) {
        json_object *list = unique_strings(v);
        size_t n = json_object_array_length(list);
        int64_t maxsel = bs_json_get_int(f, "maxSelect", 0);
        if (maxsel < 1)
            maxsel = 1;
        int64_t minsel = bs_json_get_int(f, "minSelect", 0);
        bool ok = true;
        if (type == BS_F_RELATION && minsel > 0 &&
            (int64_t)n < minsel)
            ok = fail(e, "validation_not_enough_values",
                      "Select at least %lld.", (long long)minsel);
        else if ((int64_t)n > maxsel)
            ok = type == BS_F_FILE
                     ? fail(e, "validation_too_many_files",
                            "The maximum allowed files is %lld.",
                            (long long)maxsel)
                     : fail(e, "validation_too_many_values",
                            "Select no more than %lld.", (long long)maxsel);
        else if (type == BS_F_SELECT) {
            json_object *values = bs_json_get(f, "values");
            for (size_t i = 0; i < n && ok; i++) {
                const char *x =
                    json_object_get_string(json_object_array_get_idx(list, i));
                bool found = false;
                size_t nv = values && json_object_is_type(values,
                                                          json_type_array)
                                ? json_object_array_length(values)
                                : 0;
                for (size_t j = 0; j < nv && !found; j++)
                    found = strcmp(json_object_get_string(
                                       json_object_array_get_idx(values, j)),
                                   x) == 0;
                if (!found)
                    ok = fail(e, "validation_invalid_value",
                              "Invalid value %s.", x);
            }
        }
        json_object_put(list);
        return ok;
    }
    if (type == BS_F_GEOPOINT) {
        double lat = to_number(bs_json_get(v, "lat"));
        double lon = to_number(bs_json_get(v, "lon"));
        if (lat < -90 || lat > 90)
            return fail(e, "validation_invalid_latitude",
                        "Latitude must be between -90 and 90 degrees.");
        if (lon < -180 || lon > 180)
            return fail(e, "validation_invalid_longitude",
                        "Longitude must be between -180 and 180 degrees.");
        return true;
    }
    const char *s = json_object_get_string((json_object *)v);
    switch (type) {
    case BS_F_TEXT:
        return validate_text(f, s, e);
    case BS_F_EMAIL:
        if (!bs_email_valid(s))
            return fail(e, "validation_is_email",
                        "Must be a valid email address.");
        return check_domains(f, s, true, e);
    case BS_F_URL:
        if (!url_ok(s))
            return fail(e, "validation_invalid_url", "Must be a valid url.");
        return check_domains(f, s, false, e);
    case BS_F_EDITOR: {
        int64_t max = bs_json_get_int(f, "maxSize", 0);
        if (max <= 0)
            max = 5 << 20;
        if ((int64_t)strlen(s) > max)
            return fail(e, "validation_content_size_limit",
                        "The maximum allowed content size is %lld bytes.",
                        (long long)max);
        return true;
    }
    case BS_F_DATE: {
        const char *min = bs_json_get_str(f, "min", "");
        const char *max = bs_json_get_str(f, "max", "");
        char nmin[25], nmax[25];
        if (*min && bs_date_normalize(min, nmin) && strcmp(s, nmin) < 0)
            return fail(e, "validation_min_date_constraint",
                        "Must be no less than %s.", nmin);
        if (*max && bs_date_normalize(max, nmax) && strcmp(s, nmax) > 0)
            return fail(e, "validation_max_date_constraint",
                        "Must be no greater than %s.", nmax);
        return true;
    }
    default:
        return true;
    }
}
