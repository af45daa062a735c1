/*
 * record_api.c - records for programs that embed Basalt: original
 * values, typed reads and writes with PocketBase's coercions, and the
 * finders (by id, by filter with {:name} placeholders, first, count).
 *
 * Reads follow PocketBase's Record getters (GetString, GetInt, GetFloat,
 * GetBool, GetStringSlice, GetDateTime), which cast whatever the field
 * holds: a number read as text is its decimal spelling, text read as a
 * number is parsed (or 0), and so on. Writes go through bs_record_set,
 * which converts the value to the field's type as an API request would.
 * Saving and deleting are bs_record_save and bs_record_delete: the same
 * path, hooks and transaction as the REST API.
 *
 * The finders load records as a superuser would (no API rule; hidden
 * fields usable in filters), from the calling thread's transaction when
 * there is one, so a hook sees what its own save wrote.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "collection.h"
#include "expand.h"
#include "record.h"
#include "record_list.h"

/* ---- original values ------------------------------------------------- */

const bs_record *bs_record_original(bs_record *r)
{
    if (r->original_view)
        return r->original_view;
    bs_record *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    bs_schema_ref(r->schema);
    v->schema = r->schema;
    v->collection = r->collection;
    if (r->original)
        v->data = json_object_get(r->original);
    else if (!r->is_new)
        v->data = json_object_get(r->data); /* loaded and never changed */
    else
        v->data = json_object_new_object(); /* a new record had nothing */
    v->is_new = r->is_new;
    r->original_view = v;
    return v;
}

/* ---- typed reads ------------------------------------------------------- */

/* Keeps text for a coerced read in the record, per field: valid until the
 * next coerced read of the same field. */
static const char *keep_text(const bs_record *r, const char *field,
                             const char *text)
{
    bs_record *w = (bs_record *)r; /* a cache, not a change of value */
    if (!w->scratch && !(w->scratch = json_object_new_object()))
        return "";
    json_object *s = json_object_new_string(text);
    if (!s)
        return "";
    json_object_object_add(w->scratch, field, s);
    return json_object_get_string(s);
}

/* A double as Go's strconv.FormatFloat(f, 'f', -1, 64) spells it for
 * the values records hold: integers without a fraction. */
static void format_number(double d, char *out, size_t cap)
{
    if (d == floor(d) && fabs(d) < 1e15)
        snprintf(out, cap, "%.0f", d);
    else
        snprintf(out, cap, "%.17g", d);
}

const char *bs_record_get_string(const bs_record *r, const char *field)
{
    json_object *v = bs_json_get(r->data, field);
    char num[40];
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_string:
        return json_object_get_string(v);
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int:
        snprintf(num, sizeof num, "%lld",
                 (long long)json_object_get_int64(v));
        return keep_text(r, field, num);
    case json_type_double:
        format_number(json_object_get_double(v), num, sizeof num);
        return keep_text(r, field, num);
    case json_type_object:
    case json_type_array: {
        /* A json field reads as its JSON text, as PocketBase's JSONRaw;
         * a list of another field type reads as "". */
        const bs_finfo *fi = bs_collection_finfo(r->collection, field);
        if (!fi || fi->type != BS_F_JSON)
            return "";
        return keep_text(r, field, json_object_to_json_string_ext(
                                       v, JSON_C_TO_STRING_PLAIN));
    }
    default:
        return "";
    }
}

/* Go's strconv.ParseBool. */
static bool parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0)
            return true;
    }
    return false;
}

/* Text as a number the way spf13/cast reads it: the whole text must be
 * a number (surrounding spaces are not allowed); *ok says whether it was. */
static double parse_float(const char *s, bool *ok)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    *ok = *s && !isspace((unsigned char)*s) && *end == '\0' && errno == 0;
    return *ok ? d : 0;
}

int64_t bs_record_get_int(const bs_record *r, const char *field)
{
    json_object *v = bs_json_get(r->data, field);
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_int:
        return json_object_get_int64(v);
    case json_type_double: {
        double d = json_object_get_double(v);
        return isfinite(d) ? (int64_t)d : 0;
    }
    case json_type_boolean:
        return json_object_get_boolean(v) ? 1 : 0;
    case json_type_string: {
        /* cast.ToInt: a base-prefixed integer ("0x1f" too), with a
         * trailing ".0..." accepted; anything else is 0. */
        const char *s = json_object_get_string(v);
        char buf[64];
        size_t n = strlen(s);
        if (n == 0 || n >= sizeof buf)
            return 0;
        memcpy(buf, s, n + 1);
        char *dot = strchr(buf, '.');
        if (dot) {
            for (char *p = dot + 1; *p; p++) {
                if (*p != '0')
                    return 0;
            }
            *dot = '\0';
        }
        char *end;
        errno = 0;
        long long x = strtoll(buf, &end, 0);
        if (*buf == '\0' || isspace((unsigned char)*buf) || *end ||
            errno)
            return 0;
        return x;
    }
    default:
        return 0;
    }
}

double bs_record_get_float(const bs_record *r, const char *field)
{
    json_object *v = bs_json_get(r->data, field);
    bool ok;
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_int:
    case json_type_double:
        return json_object_get_double(v);
    case json_type_boolean:
        return json_object_get_boolean(v) ? 1 : 0;
    case json_type_string:
        return parse_float(json_object_get_string(v), &ok);
    default:
        return 0;
    }
}

double bs_record_get_number(const bs_record *r, const char *field)
{
    return bs_record_get_float(r, field);
}

bool bs_record_get_bool(const bs_record *r, const char *field)
{
    json_object *v = bs_json_get(r->data, field);
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_boolean:
        return json_object_get_boolean(v);
    case json_type_int:
    case json_type_double:
        return json_object_get_double(v) != 0;
    case json_type_string:
        return parse_bool(json_object_get_string(v));
    default:
        return false;
    }
}

/* Appends s to the array list unless empty or already there. */
static void add_unique(json_object *list, const char *s)
{
    if (!*s)
        return;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)),
                   s) == 0)
            return;
    }
    json_object_array_add(list, json_object_new_string(s));
}

/* One element of a list as text: text itself, a number or bool spelled
 * out, anything else as its JSON text. */
static const char *element_text(json_object *e, char *num, size_t cap)
{
    switch (e ? json_object_get_type(e) : json_type_null) {
    case json_type_null:
        return "";
    case json_type_string:
        return json_object_get_string(e);
    case json_type_boolean:
        return json_object_get_boolean(e) ? "true" : "false";
    case json_type_int:
        snprintf(num, cap, "%lld", (long long)json_object_get_int64(e));
        return num;
    case json_type_double:
        format_number(json_object_get_double(e), num, cap);
        return num;
    default:
        return json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN);
    }
}

json_object *bs_record_get_string_list(const bs_record *r, const char *field)
{
    json_object *list = json_object_new_array();
    if (!list)
        return NULL;
    json_object *v = bs_json_get(r->data, field);
    char num[40];
    switch (v ? json_object_get_type(v) : json_type_null) {
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            add_unique(list, element_text(json_object_array_get_idx(v, i),
                                          num, sizeof num));
        break;
    case json_type_string: {
        /* list.ToUniqueStringSlice: text holding a JSON array is that
         * array; other text is a one-element list. */
        const char *s = json_object_get_string(v);
        json_object *parsed = strchr(s, '[') ? json_tokener_parse(s) : NULL;
        if (parsed && json_object_is_type(parsed, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(parsed); i++)
                add_unique(list, element_text(
                                     json_object_array_get_idx(parsed, i),
                                     num, sizeof num));
        } else {
            add_unique(list, s);
        }
        json_object_put(parsed);
        break;
    }
    case json_type_null:
    case json_type_object:
        break;
    default:
        add_unique(list, element_text(v, num, sizeof num));
        break;
    }
    return list;
}

int64_t bs_record_get_date(const bs_record *r, const char *field)
{
    const char *s = bs_record_get_string(r, field);
    int Y, M, D, h, m, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*[ T]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec,
               &n) != 6)
        return 0;
    int ms = 0;
    if (s[n] == '.') {
        int digits = 0;
        for (const char *p = s + n + 1; isdigit((unsigned char)*p); p++) {
            if (digits++ < 3)
                ms = ms * 10 + (*p - '0');
        }
        for (; digits < 3; digits++)
            ms *= 10;
    }
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                    .tm_hour = h, .tm_min = m, .tm_sec = sec};
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* ---- typed writes ------------------------------------------------------ */

int bs_record_set_string(bs_record *r, const char *field, const char *value)
{
    return bs_record_set(r, field, value ? json_object_new_string(value)
                                         : NULL);
}

int bs_record_set_int(bs_record *r, const char *field, int64_t value)
{
    return bs_record_set(r, field, json_object_new_int64(value));
}

int bs_record_set_float(bs_record *r, const char *field, double value)
{
    return bs_record_set(r, field, json_object_new_double(value));
}

int bs_record_set_bool(bs_record *r, const char *field, bool value)
{
    return bs_record_set(r, field, json_object_new_boolean(value));
}

int bs_record_set_string_list(bs_record *r, const char *field,
                              const char *const *values, size_t n)
{
    json_object *list = json_object_new_array();
    for (size_t i = 0; list && i < n; i++)
        json_object_array_add(list, json_object_new_string(values[i]));
    return list ? bs_record_set(r, field, list) : BS_ENOMEM;
}

int bs_record_set_date(bs_record *r, const char *field, int64_t unix_ms)
{
    if (unix_ms == 0)
        return bs_record_set(r, field, json_object_new_string(""));
    char text[25];
    int64_t s = unix_ms / 1000, ms = unix_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        s--;
    }
    bs_time_str(s, (int)ms, text);
    return bs_record_set(r, field, json_object_new_string(text));
}

json_object *bs_record_export(const bs_record *r)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_record_write_json(r, &b);
    json_object *o = b.oom ? NULL : json_tokener_parse(b.data ? b.data : "");
    bs_buf_dispose(&b);
    return o;
}

/* ---- finding ----------------------------------------------------------- */

bs_record *bs_record_new_in(bs_app *app, const char *collection)
{
    bs_schema *s = bs_app_schema(app);
    if (!s)
        return NULL;
    const bs_collection *c = bs_schema_find(s, collection);
    bs_record *r = c && strcmp(c->type, "view") != 0 ? bs_record_new(s, c)
                                                      : NULL;
    bs_schema_unref(s);
    return r;
}

void bs_records_free(bs_record **items, int n)
{
    for (int i = 0; i < n; i++)
        bs_record_free(items[i]);
    free(items);
}

/* Runs a superuser list of collection with filter, sort and placeholder
 * params: `limit` records (0: all) from `offset`, and the total when
 * count is given. */
static int find(bs_app *app, const char *collection, const char *filter,
                const char *sort, int limit, int offset, json_object *params,
                bs_record_page *page, int64_t *count)
{
    memset(page, 0, sizeof *page);
    bs_schema *s = bs_app_schema(app);
    if (!s)
        return BS_EINVAL;
    const bs_collection *c = bs_schema_find(s, collection);
    if (!c) {
        bs_schema_unref(s);
        return BS_ENOTFOUND;
    }
    bs_record_list_query lq = {
        .ctx = {.app = app, .schema = s, .collection = c, .superuser = true,
                .params = params},
        .filter = filter,
        .sort = sort,
        .page = 1,
        .per_page = limit > 0 ? limit : 0,
        .use_offset = true,
        .offset = offset,
        .skip_total = !count,
    };
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_list(&lq, page, &err);
    if (rc == BS_EHTTP)
        rc = BS_EINVAL; /* the reason is in the debug log */
    if (rc == 0 && count)
        *count = page->total;
    for (int i = 0; rc == 0 && i < page->n; i++)
        bs_record_keep_original(page->items[i]);
    bs_error_dispose(&err);
    bs_schema_unref(s);
    return rc;
}

int bs_record_find_by_filter(bs_app *app, const char *collection,
                             const char *filter, const char *sort, int limit,
                             int offset, json_object *params,
                             bs_record ***out, int *n)
{
    *out = NULL;
    *n = 0;
    bs_record_page page;
    int rc = find(app, collection, filter, sort, limit, offset, params,
                  &page, NULL);
    if (rc == 0) {
        *out = page.items;
        *n = page.n;
        page.items = NULL;
        page.n = 0;
    }
    bs_record_page_dispose(&page);
    return rc;
}

int bs_record_find_first(bs_app *app, const char *collection,
                         const char *filter, json_object *params,
                         bs_record **out)
{
    bs_record_page page;
    int rc = find(app, collection, filter, NULL, 1, 0, params, &page, NULL);
    return bs_record_page_first(&page, rc, out);
}

int bs_record_find_by_id(bs_app *app, const char *collection, const char *id,
                         bs_record **out)
{
    json_object *params = json_object_new_object();
    if (!params)
        return BS_ENOMEM;
    json_object_object_add(params, "id", json_object_new_string(id ? id : ""));
    int rc = bs_record_find_first(app, collection, "id = {:id}", params, out);
    json_object_put(params);
    return rc;
}

int bs_record_count(bs_app *app, const char *collection, const char *filter,
                    json_object *params, int64_t *out)
{
    *out = 0;
    bs_record_page page;
    int rc = find(app, collection, filter, NULL, 1, 0, params, &page, out);
    bs_record_page_dispose(&page);
    return rc;
}

int bs_record_expand(bs_app *app, bs_record *r, const char *paths,
                     bs_error *err)
{
    bs_expand_ctx ctx = {.app = app, .schema = r->schema, .superuser = true};
    r->expand_requested = true;
    return bs_expand_records(&ctx, &r, 1, paths, err);
}

bs_record *bs_record_expanded(const bs_record *r, const char *name, int i)
{
    for (int k = 0; k < r->nexpand; k++) {
        const bs_expand *x = &r->expand[k];
        if (strcmp(x->name, name) == 0)
            return i >= 0 && i < x->n ? x->items[i] : NULL;
    }
    return NULL;
}

int bs_record_expanded_count(const bs_record *r, const char *name)
{
    for (int k = 0; k < r->nexpand; k++) {
        if (strcmp(r->expand[k].name, name) == 0)
            return r->expand[k].n;
    }
    return 0;
}

/* ---- passwords, collections and settings --------------------------------- */

bool bs_record_validate_password(const bs_record *r, const char *password)
{
    if (!r || !password)
        return false;
    if (r->plain_password)
        return bs_ct_equal(r->plain_password, strlen(r->plain_password),
                           password, strlen(password));
    return bs_password_check(r, password);
}

int bs_collection_find(bs_app *app, const char *id_or_name, json_object **out)
{
    *out = NULL;
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = s && id_or_name
                                 ? bs_schema_find(s, id_or_name) : NULL;
    int rc = BS_ENOTFOUND;
    if (c) {
        *out = bs_collection_to_json(c);
        rc = *out ? 0 : BS_ENOMEM;
    }
    bs_schema_unref(s);
    return rc;
}

int bs_collection_find_all(bs_app *app, json_object **out)
{
    *out = json_object_new_array();
    bs_schema *s = bs_app_schema(app);
    int rc = *out && s ? 0 : BS_ENOMEM;
    for (int i = 0; rc == 0 && i < s->n; i++) {
        json_object *c = bs_collection_to_json(&s->items[i]);
        if (!c || json_object_array_add(*out, c) != 0) {
            json_object_put(c);
            rc = BS_ENOMEM;
        }
    }
    bs_schema_unref(s);
    if (rc) {
        json_object_put(*out);
        *out = NULL;
    }
    return rc;
}

json_object *bs_app_settings_json(bs_app *app)
{
    bs_settings *s = bs_app_settings(app);
    json_object *copy = NULL;
    if (s && json_object_deep_copy(s->value, &copy, NULL) != 0)
        copy = NULL;
    bs_settings_unref(s);
    return copy;
}
