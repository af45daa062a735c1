/*
 * collection.c - the collection's JSON shape: scaffolds, binding of
 * submitted data, the canonical form, the pre-0.23 shape, storage rows.
 *
 * Design. PocketBase keeps a collection in Go structs, so what it
 * accepts, stores and prints is decided by the structs' fields: unknown
 * keys vanish, missing keys print their zero value, a wrong type fails
 * the decoding. Here the structs are described by small shape tables
 * (one per struct: key, kind, nested shape) and two walkers use them:
 * canon() builds the canonical object of a shape from any input (zero
 * values for what is missing or mistyped), bind() applies submitted data
 * onto a canonical object with Go's decoding rules (objects merge, a
 * null leaves a plain value alone and clears a pointer, a wrong type is
 * an error). Keys come out in struct order, so the API shape is written
 * as is; field definitions are written with sorted keys, as PocketBase
 * marshals them through a map.
 */
#include "collection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"
#include "field.h"
#include "../schema/index.h"

extern const char bs_default_auth_options[]; /* generated from defaults/ */

/* ---- shapes ------------------------------------------------------------- */

enum kind {
    K_BOOL,      /* bool */
    K_BOOLP,     /* *bool: null allowed */
    K_INT,       /* int, int64 */
    K_NUMP,      /* *float64: null allowed */
    K_STR,       /* string */
    K_STRP,      /* *string: null allowed */
    K_STRS,      /* []string: null allowed */
    K_STRS_ARR,  /* JSONArray[string]: null prints as [] */
    K_DATE,      /* types.DateTime: "" or "2006-01-02 15:04:05.000Z" */
    K_OBJ,       /* a nested struct */
    K_MAP,       /* map[string]any: null allowed */
    K_LIST,      /* []struct: null allowed; elements merge by position */
    K_FIELDS,    /* FieldsList: rebuilt from scratch */
};

#define OMIT_EMPTY 1

typedef struct shape {
    const char *key;
    unsigned char kind;
    unsigned char flags;
    const struct shape *sub;
} shape;

static const shape TEMPLATE[] = {
    {"subject", K_STR, 0, NULL}, {"body", K_STR, 0, NULL}, {NULL, 0, 0, NULL}};
static const shape AUTH_ALERT[] = {{"enabled", K_BOOL, 0, NULL},
                                   {"emailTemplate", K_OBJ, 0, TEMPLATE},
                                   {NULL, 0, 0, NULL}};
static const shape MAPPED_FIELDS[] = {
    {"id", K_STR, 0, NULL}, {"name", K_STR, 0, NULL},
    {"username", K_STR, 0, NULL}, {"avatarURL", K_STR, 0, NULL},
    {NULL, 0, 0, NULL}};
static const shape PROVIDER[] = {
    {"pkce", K_BOOLP, 0, NULL},          {"name", K_STR, 0, NULL},
    {"clientId", K_STR, 0, NULL},        {"clientSecret", K_STR, OMIT_EMPTY, NULL},
    {"authURL", K_STR, 0, NULL},         {"tokenURL", K_STR, 0, NULL},
    {"userInfoURL", K_STR, 0, NULL},     {"displayName", K_STR, 0, NULL},
    {"extra", K_MAP, 0, NULL},           {NULL, 0, 0, NULL}};
static const shape OAUTH2[] = {{"providers", K_LIST, 0, PROVIDER},
                               {"mappedFields", K_OBJ, 0, MAPPED_FIELDS},
                               {"enabled", K_BOOL, 0, NULL},
                               {NULL, 0, 0, NULL}};
static const shape PASSWORD_AUTH[] = {{"enabled", K_BOOL, 0, NULL},
                                      {"identityFields", K_STRS, 0, NULL},
                                      {NULL, 0, 0, NULL}};
static const shape MFA[] = {{"enabled", K_BOOL, 0, NULL},
                            {"duration", K_INT, 0, NULL},
                            {"rule", K_STR, 0, NULL},
                            {NULL, 0, 0, NULL}};
static const shape OTP[] = {{"enabled", K_BOOL, 0, NULL},
                            {"duration", K_INT, 0, NULL},
                            {"length", K_INT, 0, NULL},
                            {"emailTemplate", K_OBJ, 0, TEMPLATE},
                            {NULL, 0, 0, NULL}};
static const shape TOKEN[] = {{"secret", K_STR, OMIT_EMPTY, NULL},
                              {"duration", K_INT, 0, NULL},
                              {NULL, 0, 0, NULL}};

static const shape AUTH_OPTIONS[] = {
    {"authRule", K_STRP, 0, NULL},
    {"manageRule", K_STRP, 0, NULL},
    {"authAlert", K_OBJ, 0, AUTH_ALERT},
    {"oauth2", K_OBJ, 0, OAUTH2},
    {"passwordAuth", K_OBJ, 0, PASSWORD_AUTH},
    {"mfa", K_OBJ, 0, MFA},
    {"otp", K_OBJ, 0, OTP},
    {"authToken", K_OBJ, 0, TOKEN},
    {"passwordResetToken", K_OBJ, 0, TOKEN},
    {"emailChangeToken", K_OBJ, 0, TOKEN},
    {"verificationToken", K_OBJ, 0, TOKEN},
    {"fileToken", K_OBJ, 0, TOKEN},
    {"verificationTemplate", K_OBJ, 0, TEMPLATE},
    {"resetPasswordTemplate", K_OBJ, 0, TEMPLATE},
    {"confirmEmailChangeTemplate", K_OBJ, 0, TEMPLATE},
    {NULL, 0, 0, NULL}};

static const shape VIEW_OPTIONS[] = {{"viewQuery", K_STR, 0, NULL},
                                     {NULL, 0, 0, NULL}};

static const shape BASE[] = {
    {"id", K_STR, 0, NULL},         {"listRule", K_STRP, 0, NULL},
    {"viewRule", K_STRP, 0, NULL},  {"createRule", K_STRP, 0, NULL},
    {"updateRule", K_STRP, 0, NULL}, {"deleteRule", K_STRP, 0, NULL},
    {"name", K_STR, 0, NULL},       {"type", K_STR, 0, NULL},
    {"fields", K_FIELDS, 0, NULL},  {"indexes", K_STRS_ARR, 0, NULL},
    {"created", K_DATE, 0, NULL},   {"updated", K_DATE, 0, NULL},
    {"system", K_BOOL, 0, NULL},    {NULL, 0, 0, NULL}};

/* Field shapes: the common keys, then each type's own. */
#define FIELD_COMMON                                                        \
    {"name", K_STR, 0, NULL}, {"id", K_STR, 0, NULL},                      \
        {"system", K_BOOL, 0, NULL}, {"hidden", K_BOOL, 0, NULL},          \
        {"presentable", K_BOOL, 0, NULL}
#define FIELD_HELP_REQ {"help", K_STR, 0, NULL}, {"required", K_BOOL, 0, NULL}
#define END {NULL, 0, 0, NULL}
/* Basalt's full-text search flag (see search.h): kept only when set, so
 * collections without it look exactly as PocketBase shows them. */
#define SEARCHABLE {"searchable", K_BOOLP, OMIT_EMPTY, NULL}

static const shape F_TEXT[] = {FIELD_COMMON, FIELD_HELP_REQ,
                               {"min", K_INT, 0, NULL},
                               {"max", K_INT, 0, NULL},
                               {"pattern", K_STR, 0, NULL},
                               {"autogeneratePattern", K_STR, 0, NULL},
                               {"primaryKey", K_BOOL, 0, NULL}, SEARCHABLE,
                               END};
static const shape F_PASSWORD[] = {FIELD_COMMON, FIELD_HELP_REQ,
                                   {"pattern", K_STR, 0, NULL},
                                   {"min", K_INT, 0, NULL},
                                   {"max", K_INT, 0, NULL},
                                   {"cost", K_INT, 0, NULL}, END};
static const shape F_DOMAINS[] = {FIELD_COMMON, FIELD_HELP_REQ,
                                  {"exceptDomains", K_STRS, 0, NULL},
                                  {"onlyDomains", K_STRS, 0, NULL},
                                  SEARCHABLE, END};
static const shape F_BOOL[] = {FIELD_COMMON, FIELD_HELP_REQ, END};
static const shape F_NUMBER[] = {FIELD_COMMON, FIELD_HELP_REQ,
                                 {"min", K_NUMP, 0, NULL},
                                 {"max", K_NUMP, 0, NULL},
                                 {"onlyInt", K_BOOL, 0, NULL}, END};
static const shape F_EDITOR[] = {FIELD_COMMON, FIELD_HELP_REQ,
                                 {"maxSize", K_INT, 0, NULL},
                                 {"convertURLs", K_BOOL, 0, NULL},
                                 SEARCHABLE, END};
static const shape F_DATE[] = {FIELD_COMMON, FIELD_HELP_REQ,
                               {"min", K_DATE, 0, NULL},
                               {"max", K_DATE, 0, NULL}, END};
static const shape F_AUTODATE[] = {FIELD_COMMON,
                                   {"onCreate", K_BOOL, 0, NULL},
                                   {"onUpdate", K_BOOL, 0, NULL}, END};
static const shape F_SELECT[] = {FIELD_COMMON, FIELD_HELP_REQ,
                                 {"values", K_STRS, 0, NULL},
                                 {"maxSelect", K_INT, 0, NULL}, END};
static const shape F_JSON[] = {FIELD_COMMON, FIELD_HELP_REQ,
                               {"maxSize", K_INT, 0, NULL}, SEARCHABLE, END};
static const shape F_FILE[] = {FIELD_COMMON, FIELD_HELP_REQ,
                               {"maxSize", K_INT, 0, NULL},
                               {"maxSelect", K_INT, 0, NULL},
                               {"mimeTypes", K_STRS, 0, NULL},
                               {"thumbs", K_STRS, 0, NULL},
                               {"protected", K_BOOL, 0, NULL}, END};
static const shape F_RELATION[] = {FIELD_COMMON, FIELD_HELP_REQ,
                                   {"collectionId", K_STR, 0, NULL},
                                   {"cascadeDelete", K_BOOL, 0, NULL},
                                   {"minSelect", K_INT, 0, NULL},
                                   {"maxSelect", K_INT, 0, NULL}, END};

/* The JSON shape of each field type's definition; NULL for a type this
 * build does not know. */
static const shape *const FIELD_SHAPES[BS_F_COUNT] = {
    [BS_F_TEXT] = F_TEXT,         [BS_F_PASSWORD] = F_PASSWORD,
    [BS_F_EMAIL] = F_DOMAINS,     [BS_F_URL] = F_DOMAINS,
    [BS_F_BOOL] = F_BOOL,         [BS_F_NUMBER] = F_NUMBER,
    [BS_F_EDITOR] = F_EDITOR,     [BS_F_DATE] = F_DATE,
    [BS_F_AUTODATE] = F_AUTODATE, [BS_F_SELECT] = F_SELECT,
    [BS_F_JSON] = F_JSON,         [BS_F_FILE] = F_FILE,
    [BS_F_RELATION] = F_RELATION, [BS_F_GEOPOINT] = F_BOOL,
    [BS_F_UNKNOWN] = NULL,
};

static const shape *field_shape(const char *type)
{
    return FIELD_SHAPES[bs_ftype_of(type)];
}

/* ---- canonical values --------------------------------------------------- */

static json_object *canon(const shape *sp, const json_object *src);

static bool is_number(const json_object *v)
{
    return json_object_is_type(v, json_type_int) ||
           json_object_is_type(v, json_type_double);
}

static bool integral(const json_object *v, int64_t *out)
{
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return true;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d) {
            *out = (int64_t)d;
            return true;
        }
    }
    return false;
}

static json_object *strings_copy(const json_object *v)
{
    json_object *a = json_object_new_array();
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, i);
        if (json_object_is_type(s, json_type_string))
            json_object_array_add(a, json_object_get(s));
    }
    return a;
}

static json_object *deep_copy(const json_object *v)
{
    json_object *out = NULL;
    if (v && json_object_deep_copy((json_object *)v, &out, NULL) != 0)
        return NULL;
    return out;
}

static json_object *date_value(const char *s)
{
    char out[25];
    if (*s && bs_date_normalize(s, out))
        return json_object_new_string(out);
    return json_object_new_string("");
}

static json_object *canon_fields(const json_object *src)
{
    json_object *a = json_object_new_array();
    size_t n = json_object_is_type(src, json_type_array)
                   ? json_object_array_length(src)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        const json_object *f = json_object_array_get_idx(src, i);
        json_object *c = bs_field_canonical(f);
        /* A field of a type this build does not know is kept as is. */
        json_object_array_add(a, c ? c : deep_copy(f));
    }
    return a;
}

/* The canonical value of one shape entry from v (may be NULL). */
static json_object *canon_value(const shape *e, const json_object *v)
{
    int64_t i;
    switch (e->kind) {
    case K_BOOL:
        return json_object_new_boolean(
            json_object_is_type(v, json_type_boolean) &&
            json_object_get_boolean(v));
    case K_BOOLP:
        return json_object_is_type(v, json_type_boolean)
                   ? json_object_new_boolean(json_object_get_boolean(v))
                   : NULL;
    case K_INT:
        return json_object_new_int64(v && integral(v, &i) ? i : 0);
    case K_NUMP:
        return v && is_number(v) ? deep_copy(v) : NULL;
    case K_STR:
        return json_object_new_string(
            json_object_is_type(v, json_type_string) ? json_object_get_string(
                                                           (json_object *)v)
                                                     : "");
    case K_STRP:
        return json_object_is_type(v, json_type_string)
                   ? json_object_new_string(
                         json_object_get_string((json_object *)v))
                   : NULL;
    case K_STRS:
        return json_object_is_type(v, json_type_array) ? strings_copy(v)
                                                       : NULL;
    case K_STRS_ARR:
        return json_object_is_type(v, json_type_array)
                   ? strings_copy(v)
                   : json_object_new_array();
    case K_DATE:
        return date_value(json_object_is_type(v, json_type_string)
                              ? json_object_get_string((json_object *)v)
                              : "");
    case K_OBJ:
        return canon(e->sub, v);
    case K_MAP:
        return json_object_is_type(v, json_type_object) ? deep_copy(v)
                                                        : NULL;
    case K_LIST: {
        if (!json_object_is_type(v, json_type_array))
            return NULL;
        json_object *a = json_object_new_array();
        size_t n = json_object_array_length(v);
        for (size_t k = 0; k < n; k++)
            json_object_array_add(
                a, canon(e->sub, json_object_array_get_idx(v, k)));
        return a;
    }
    case K_FIELDS:
        return canon_fields(v);
    }
    return NULL;
}

static json_object *canon(const shape *sp, const json_object *src)
{
    json_object *o = json_object_new_object();
    if (!json_object_is_type(src, json_type_object))
        src = NULL;
    for (const shape *e = sp; e->key; e++) {
        json_object *v = canon_value(e, src ? bs_json_get(src, e->key) : NULL);
        if ((e->flags & OMIT_EMPTY) &&
            (!v || (json_object_is_type(v, json_type_string) &&
                    json_object_get_string_len(v) == 0))) {
            json_object_put(v);
            continue;
        }
        json_object_object_add(o, e->key, v);
    }
    return o;
}

json_object *bs_field_canonical(const json_object *f)
{
    const char *type = bs_json_get_str(f, "type", "");
    const shape *sp = field_shape(type);
    if (!sp)
        return NULL;
    json_object *o = canon(sp, f);
    json_object_object_add(o, "type", json_object_new_string(type));
    return o;
}

static void replace_object(json_object *dst, json_object *src);

int bs_field_normalize(json_object *f)
{
    json_object *c = bs_field_canonical(f);
    if (!c)
        return BS_EINVAL;
    if (!*bs_json_get_str(c, "id", "")) {
        const char *name = bs_json_get_str(c, "name", "");
        char id[160];
        snprintf(id, sizeof id, "%s%u", bs_json_get_str(c, "type", ""),
                 bs_crc32(name, strlen(name)));
        json_object_object_add(c, "id", json_object_new_string(id));
    }
    replace_object(f, c);
    json_object_put(c);
    return 0;
}

/* The canonical collection: the base keys, then the type's options. */
static json_object *canon_collection(const json_object *src)
{
    json_object *o = canon(BASE, src);
    const char *type = bs_json_get_str(o, "type", "");
    const shape *opts = strcmp(type, "auth") == 0   ? AUTH_OPTIONS
                        : strcmp(type, "view") == 0 ? VIEW_OPTIONS
                                                    : NULL;
    if (opts) {
        json_object *x = canon(opts, src);
        json_object_object_foreach(x, k, v) {
            json_object_object_add(o, k, json_object_get(v));
        }
        json_object_put(x);
    }
    return o;
}

/* Replaces the content of dst (an object) with the keys of src. */
static void replace_object(json_object *dst, json_object *src)
{
    while (json_object_object_length(dst) > 0) {
        const char *first = NULL;
        json_object_object_foreach(dst, k, v) {
            (void)v;
            first = k;
            break;
        }
        json_object_object_del(dst, first);
    }
    json_object_object_foreach(src, k, v) {
        json_object_object_add(dst, k, json_object_get(v));
    }
}

/* ---- field lists -------------------------------------------------------- */

json_object *bs_fields_by_name(const json_object *fields, const char *name)
{
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (strcmp(bs_json_get_str(f, "name", ""), name) == 0)
            return f;
    }
    return NULL;
}

json_object *bs_fields_by_id(const json_object *fields, const char *id)
{
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (strcmp(bs_json_get_str(f, "id", ""), id) == 0)
            return f;
    }
    return NULL;
}

void bs_fields_add(json_object *fields, json_object *f)
{
    const char *id = bs_json_get_str(f, "id", "");
    bool by_name = false;
    if (!*id) {
        by_name = true;
        const char *type = bs_json_get_str(f, "type", "");
        const char *name = bs_json_get_str(f, "name", "");
        char base[160], cand[176]; /* base, then up to 11 digits */
        snprintf(base, sizeof base, "%s%u", type,
                 bs_crc32(name, strlen(name)));
        snprintf(cand, sizeof cand, "%s", base);
        for (int i = 2; i < 1000 && bs_fields_by_id(fields, cand); i++)
            snprintf(cand, sizeof cand, "%s%d", base, i);
        json_object_object_add(f, "id", json_object_new_string(cand));
    }
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *old = json_object_array_get_idx(fields, i);
        bool same;
        if (by_name) {
            const char *name = bs_json_get_str(f, "name", "");
            same = *name && strcmp(bs_json_get_str(old, "name", ""), name) == 0;
            if (same)
                json_object_object_add(
                    f, "id",
                    json_object_new_string(bs_json_get_str(old, "id", "")));
        } else {
            same = strcmp(bs_json_get_str(old, "id", ""),
                          bs_json_get_str(f, "id", "")) == 0;
        }
        if (same) {
            json_object_array_put_idx(fields, i, f);
            return;
        }
    }
    json_object_array_add(fields, f);
}

/* ---- binding ------------------------------------------------------------ */

static const shape *find_key(const shape *sp, const char *key)
{
    for (const shape *e = sp; e->key; e++) {
        if (strcmp(e->key, key) == 0)
            return e;
    }
    /* Go matches struct fields case-insensitively as a fallback. */
    for (const shape *e = sp; e->key; e++) {
        if (strcasecmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

static int bind(const shape *sp, json_object *dst, const json_object *src,
                bs_error *err);

static bool all_strings(const json_object *a)
{
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        if (!json_object_is_type(json_object_array_get_idx(a, i),
                                 json_type_string))
            return false;
    }
    return true;
}

/* Rebuilds a fields list from submitted definitions. */
static int bind_fields(json_object *dst, const char *key, const json_object *v,
                       bs_error *err)
{
    json_object *list = json_object_new_array();
    size_t n = json_object_is_type(v, json_type_array)
                   ? json_object_array_length(v)
                   : 0;
    if (v && !json_object_is_type(v, json_type_array) &&
        !json_object_is_type(v, json_type_null)) {
        json_object_put(list);
        return BS_EINVAL;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_object *item = json_object_array_get_idx(v, i);
        if (!json_object_is_type(item, json_type_object)) {
            rc = BS_EINVAL;
            break;
        }
        json_object *t = bs_json_get(item, "type");
        if (t && !json_object_is_type(t, json_type_string)) {
            rc = BS_EINVAL;
            break;
        }
        const char *type = t ? json_object_get_string(t) : "";
        const shape *sp = field_shape(type);
        if (!sp) {
            char path[64];
            snprintf(path, sizeof path, "fields.%zu.type", i);
            bs_verr(err, path, "validation_unknown_field_type",
                    "Missing or unknown field type.", NULL);
            rc = BS_EINVAL;
            break;
        }
        json_object *f = canon(sp, NULL);
        rc = bind(sp, f, item, err);
        json_object_object_add(f, "type", json_object_new_string(type));
        if (rc) {
            json_object_put(f);
            break;
        }
        bs_fields_add(list, f);
    }
    if (rc) {
        json_object_put(list);
        return rc;
    }
    json_object_object_add(dst, key, list);
    return 0;
}

static int bind_value(const shape *e, json_object *dst, const json_object *v,
                      bs_error *err)
{
    bool null = !v || json_object_is_type(v, json_type_null);
    int64_t i;
    switch (e->kind) {
    case K_BOOL:
    case K_BOOLP:
        if (null) {
            if (e->kind == K_BOOLP)
                json_object_object_add(dst, e->key, NULL);
            return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
            return BS_EINVAL;
        json_object_object_add(dst, e->key,
                               json_object_new_boolean(
                                   json_object_get_boolean(v)));
        return 0;
    case K_INT:
        if (null)
            return 0;
        if (!integral(v, &i))
            return BS_EINVAL;
        json_object_object_add(dst, e->key, json_object_new_int64(i));
        return 0;
    case K_NUMP:
        if (null) {
            json_object_object_add(dst, e->key, NULL);
            return 0;
        }
        if (!is_number(v))
            return BS_EINVAL;
        json_object_object_add(dst, e->key, deep_copy(v));
        return 0;
    case K_STR:
    case K_STRP:
        if (null) {
            if (e->kind == K_STRP)
                json_object_object_add(dst, e->key, NULL);
            return 0;
        }
        if (!json_object_is_type(v, json_type_string))
            return BS_EINVAL;
        if ((e->flags & OMIT_EMPTY) && json_object_get_string_len(v) == 0) {
            json_object_object_del(dst, e->key);
            return 0;
        }
        json_object_object_add(dst, e->key,
                               json_object_new_string(
                                   json_object_get_string((json_object *)v)));
        return 0;
    case K_STRS:
    case K_STRS_ARR:
        if (null) {
            json_object_object_add(dst, e->key,
                                   e->kind == K_STRS ? NULL
                                                     : json_object_new_array());
            return 0;
        }
        if (!json_object_is_type(v, json_type_array) || !all_strings(v))
            return BS_EINVAL;
        json_object_object_add(dst, e->key, strings_copy(v));
        return 0;
    case K_DATE: {
        if (null)
            return 0;
        if (!json_object_is_type(v, json_type_string))
            return BS_EINVAL;
        const char *s = json_object_get_string((json_object *)v);
        char out[25];
        if (*s && !bs_date_normalize(s, out))
            return BS_EINVAL;
        json_object_object_add(dst, e->key,
                               json_object_new_string(*s ? out : ""));
        return 0;
    }
    case K_OBJ: {
        if (null)
            return 0;
        if (!json_object_is_type(v, json_type_object))
            return BS_EINVAL;
        json_object *child = bs_json_get(dst, e->key);
        if (!json_object_is_type(child, json_type_object)) {
            child = canon(e->sub, NULL);
            json_object_object_add(dst, e->key, child);
        }
        return bind(e->sub, child, v, err);
    }
    case K_MAP:
        if (null) {
            json_object_object_add(dst, e->key, NULL);
            return 0;
        }
        if (!json_object_is_type(v, json_type_object))
            return BS_EINVAL;
        json_object_object_add(dst, e->key, deep_copy(v));
        return 0;
    case K_LIST: {
        if (null) {
            json_object_object_add(dst, e->key, NULL);
            return 0;
        }
        if (!json_object_is_type(v, json_type_array))
            return BS_EINVAL;
        /* Go decodes into the existing elements by position. */
        json_object *old = bs_json_get(dst, e->key);
        size_t nold = json_object_is_type(old, json_type_array)
                          ? json_object_array_length(old)
                          : 0;
        json_object *a = json_object_new_array();
        size_t n = json_object_array_length(v);
        for (size_t k = 0; k < n; k++) {
            json_object *item = json_object_array_get_idx(v, k);
            if (!json_object_is_type(item, json_type_object)) {
                json_object_put(a);
                return BS_EINVAL;
            }
            json_object *el = k < nold
                                  ? canon(e->sub,
                                          json_object_array_get_idx(old, k))
                                  : canon(e->sub, NULL);
            json_object_array_add(a, el);
            int rc = bind(e->sub, el, item, err);
            if (rc) {
                json_object_put(a);
                return rc;
            }
        }
        json_object_object_add(dst, e->key, a);
        return 0;
    }
    case K_FIELDS:
        return bind_fields(dst, e->key, v, err);
    }
    return 0;
}

static int bind(const shape *sp, json_object *dst, const json_object *src,
                bs_error *err)
{
    if (!json_object_is_type(src, json_type_object))
        return BS_EINVAL;
    json_object_object_foreach((json_object *)src, k, v) {
        const shape *e = find_key(sp, k);
        if (!e)
            continue;
        int rc = bind_value(e, dst, v, err);
        if (rc)
            return rc;
    }
    return 0;
}

int bs_collection_bind(json_object *col, const json_object *data,
                       bs_error *err)
{
    int rc = json_object_is_type(data, json_type_object)
                 ? bind(BASE, col, data, err)
                 : BS_EINVAL;
    if (rc == 0) {
        const char *type = bs_json_get_str(col, "type", "");
        const shape *opts = strcmp(type, "auth") == 0   ? AUTH_OPTIONS
                            : strcmp(type, "view") == 0 ? VIEW_OPTIONS
                                                        : NULL;
        if (opts) {
            /* Make sure the option keys exist (a type change), then
             * bind them. */
            json_object *x = canon(opts, col);
            json_object_object_foreach(x, k, v) {
                if (!json_object_object_get_ex(col, k, NULL))
                    json_object_object_add(col, k, json_object_get(v));
            }
            json_object_put(x);
            rc = bind(opts, col, data, err);
        }
    }
    if (rc) {
        bs_verr_sort(err);
        bs_error_set(err, 400, "Failed to load the submitted data due to "
                               "invalid formatting.");
        return BS_EINVAL;
    }
    return 0;
}

/* ---- scaffolds ---------------------------------------------------------- */

/* A default field of the given type with overrides (a JSON text). */
static json_object *default_field(const char *type, const char *overrides)
{
    json_object *f = canon(field_shape(type), NULL);
    json_object *o = NULL;
    if (bs_json_parse(overrides, strlen(overrides), &o) == 0 && o) {
        json_object_object_foreach(o, k, v) {
            json_object_object_add(f, k, json_object_get(v));
        }
        json_object_put(o);
    }
    json_object_object_add(f, "type", json_object_new_string(type));
    return f;
}

/* The field named name when it has the given type, else NULL. */
static json_object *typed_field(json_object *fields, const char *name,
                                const char *type)
{
    json_object *f = bs_fields_by_name(fields, name);
    return f && strcmp(bs_json_get_str(f, "type", ""), type) == 0 ? f : NULL;
}

static void set_bool(json_object *o, const char *key, bool v)
{
    json_object_object_add(o, key, json_object_new_boolean(v));
}

static void index_name_for(const json_object *col, const char *field,
                           char out[65])
{
    const char *id = bs_json_get_str(col, "id", "");
    const char *name = bs_json_get_str(col, "name", "");
    char rnd[11] = "";
    if (!*id && !*name) {
        if (bs_random_string(rnd, 10, "abcdefghijklmnopqrstuvwxyz0123456789"))
            strcpy(rnd, "0000000000");
    }
    snprintf(out, 65, "idx_%s_%s", field, *id ? id : *name ? name : rnd);
}

static void ensure_unique_index(json_object *col, const char *field,
                                const char *where)
{
    json_object *indexes = bs_json_get(col, "indexes");
    if (!json_object_is_type(indexes, json_type_array)) {
        indexes = json_object_new_array();
        json_object_object_add(col, "indexes", indexes);
    }
    if (bs_indexes_single_unique(indexes, field, NULL))
        return;
    char iname[65];
    index_name_for(col, field, iname);
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_printf(&b, "CREATE UNIQUE INDEX `%s` ON `%s` (`%s`)%s", iname,
                  bs_json_get_str(col, "name", ""), field, where);
    if (!b.oom)
        json_object_array_add(indexes, json_object_new_string(b.data));
    bs_buf_dispose(&b);
}

/* PocketBase's initDefaultFields: the system fields of the type, with
 * their flags enforced when the caller already has them. */
static void init_default_fields(json_object *col)
{
    const char *type = bs_json_get_str(col, "type", "");
    if (strcmp(type, "view") == 0)
        return;
    json_object *fields = bs_json_get(col, "fields");
    if (!json_object_is_type(fields, json_type_array)) {
        fields = json_object_new_array();
        json_object_object_add(col, "fields", fields);
    }
    json_object *f = typed_field(fields, "id", "text");
    if (!f) {
        json_object *def = default_field(
            "text", "{\"name\":\"id\",\"system\":true,\"primaryKey\":true,"
                    "\"required\":true,\"min\":15,\"max\":15,"
                    "\"pattern\":\"^[a-z0-9]+$\","
                    "\"autogeneratePattern\":\"[a-z0-9]{15}\"}");
        /* Prepended, then the list is rebuilt so ids stay unique. */
        json_object *rebuilt = json_object_new_array();
        bs_fields_add(rebuilt, def);
        size_t n = json_object_array_length(fields);
        for (size_t i = 0; i < n; i++)
            bs_fields_add(rebuilt,
                          json_object_get(json_object_array_get_idx(fields, i)));
        json_object_object_add(col, "fields", rebuilt);
        fields = rebuilt;
    } else {
        set_bool(f, "system", true);
        set_bool(f, "required", true);
        set_bool(f, "primaryKey", true);
        set_bool(f, "hidden", false);
        if (!*bs_json_get_str(f, "pattern", ""))
            json_object_object_add(f, "pattern",
                                   json_object_new_string("^[a-z0-9]+$"));
    }
    if (strcmp(type, "auth") != 0)
        return;

    if ((f = typed_field(fields, "password", "password"))) {
        set_bool(f, "system", true);
        set_bool(f, "hidden", true);
        set_bool(f, "required", true);
    } else {
        bs_fields_add(fields, default_field(
                                  "password",
                                  "{\"name\":\"password\",\"system\":true,"
                                  "\"hidden\":true,\"required\":true,"
                                  "\"min\":8}"));
    }
    if ((f = typed_field(fields, "tokenKey", "text"))) {
        set_bool(f, "system", true);
        set_bool(f, "hidden", true);
        set_bool(f, "required", true);
    } else {
        bs_fields_add(fields,
                      default_field("text",
                                    "{\"name\":\"tokenKey\",\"system\":true,"
                                    "\"hidden\":true,\"min\":30,\"max\":60,"
                                    "\"required\":true,"
                                    "\"autogeneratePattern\":"
                                    "\"[a-zA-Z0-9]{50}\"}"));
    }
    ensure_unique_index(col, "tokenKey", "");
    if ((f = typed_field(fields, "email", "email"))) {
        set_bool(f, "system", true);
        set_bool(f, "hidden", false);
    } else {
        bs_fields_add(fields, default_field("email",
                                            "{\"name\":\"email\","
                                            "\"system\":true,"
                                            "\"required\":true}"));
    }
    ensure_unique_index(col, "email", " WHERE `email` != ''");
    if ((f = typed_field(fields, "emailVisibility", "bool")))
        set_bool(f, "system", true);
    else
        bs_fields_add(fields, default_field("bool",
                                            "{\"name\":\"emailVisibility\","
                                            "\"system\":true}"));
    if ((f = typed_field(fields, "verified", "bool")))
        set_bool(f, "system", true);
    else
        bs_fields_add(fields, default_field("bool",
                                            "{\"name\":\"verified\","
                                            "\"system\":true}"));
}

static int random_secret(char out[51])
{
    return bs_random_string(
        out, 50,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

/* Sets PocketBase's default auth options (fresh secrets). */
static void default_auth_options(json_object *col)
{
    json_object *d = NULL;
    if (bs_json_parse(bs_default_auth_options,
                      strlen(bs_default_auth_options), &d) != 0 || !d)
        return;
    json_object *x = canon(AUTH_OPTIONS, d);
    json_object_put(d);
    static const char *const tokens[] = {"authToken", "passwordResetToken",
                                         "emailChangeToken",
                                         "verificationToken", "fileToken"};
    for (size_t i = 0; i < 5; i++) {
        json_object *t = bs_json_get(x, tokens[i]);
        char secret[51];
        if (t && random_secret(secret) == 0) {
            /* Keep the struct order: secret before duration. */
            json_object *nt = json_object_new_object();
            json_object_object_add(nt, "secret",
                                   json_object_new_string(secret));
            json_object_object_add(
                nt, "duration",
                json_object_get(bs_json_get(t, "duration")));
            json_object_object_add(x, tokens[i], nt);
        }
    }
    json_object_object_foreach(x, k, v) {
        json_object_object_add(col, k, json_object_get(v));
    }
    json_object_put(x);
}

static const char *known_type(const char *type)
{
    if (strcmp(type, "auth") == 0 || strcmp(type, "view") == 0)
        return type;
    return "base";
}

json_object *bs_collection_scaffold(const char *type, const char *name,
                                    const char *id)
{
    type = known_type(type ? type : "");
    json_object *src = json_object_new_object();
    json_object_object_add(src, "type", json_object_new_string(type));
    json_object *col = canon_collection(src);
    json_object_put(src);
    if (!col)
        return NULL;
    json_object_object_add(col, "name", json_object_new_string(name ? name
                                                                     : ""));
    if (id && *id) {
        json_object_object_add(col, "id", json_object_new_string(id));
    } else {
        char buf[300], cid[32];
        snprintf(buf, sizeof buf, "%s%s", type, name ? name : "");
        snprintf(cid, sizeof cid, "pbc_%u", bs_crc32(buf, strlen(buf)));
        json_object_object_add(col, "id", json_object_new_string(cid));
    }
    init_default_fields(col);
    if (strcmp(type, "auth") == 0)
        default_auth_options(col);
    return col;
}

/* ---- the pre-0.23 shape ------------------------------------------------- */

static json_object *opt(const json_object *f, const char *key)
{
    return bs_json_get(bs_json_get(f, "options"), key);
}

static void copy_opt(json_object *dst, const json_object *f, const char *from,
                     const char *to)
{
    json_object *v = opt(f, from);
    if (v)
        json_object_object_add(dst, to, json_object_get(v));
}

/* One pre-0.23 field definition in the current shape. */
static json_object *upgrade_field(const json_object *f)
{
    const char *type = bs_json_get_str(f, "type", "");
    json_object *n = json_object_new_object();
    static const char *const common[] = {"id", "name", "system", "required",
                                         "presentable", "hidden",
                                         "primaryKey", NULL};
    for (const char *const *k = common; *k; k++) {
        json_object *v = bs_json_get(f, *k);
        if (v)
            json_object_object_add(n, *k, json_object_get(v));
    }
    json_object_object_add(n, "type", json_object_new_string(type));
    bs_ftype t = bs_ftype_of(type);
    if (t == BS_F_NUMBER) {
        copy_opt(n, f, "noDecimal", "onlyInt");
        copy_opt(n, f, "min", "min");
        copy_opt(n, f, "max", "max");
    } else if (t == BS_F_TEXT) {
        copy_opt(n, f, "min", "min");
        copy_opt(n, f, "max", "max");
        copy_opt(n, f, "pattern", "pattern");
        copy_opt(n, f, "autogeneratePattern", "autogeneratePattern");
    } else if (t == BS_F_EMAIL || t == BS_F_URL) {
        copy_opt(n, f, "exceptDomains", "exceptDomains");
        copy_opt(n, f, "onlyDomains", "onlyDomains");
    } else if (t == BS_F_EDITOR) {
        copy_opt(n, f, "convertUrls", "convertURLs");
    } else if (t == BS_F_DATE) {
        copy_opt(n, f, "min", "min");
        copy_opt(n, f, "max", "max");
    } else if (t == BS_F_JSON) {
        copy_opt(n, f, "maxSize", "maxSize");
    } else if (t == BS_F_SELECT) {
        copy_opt(n, f, "values", "values");
        copy_opt(n, f, "maxSelect", "maxSelect");
    } else if (t == BS_F_RELATION) {
        copy_opt(n, f, "collectionId", "collectionId");
        copy_opt(n, f, "cascadeDelete", "cascadeDelete");
        copy_opt(n, f, "minSelect", "minSelect");
        /* A missing or zero maxSelect meant "no limit". */
        int64_t max = bs_json_get_int(bs_json_get(f, "options"), "maxSelect", 0);
        json_object_object_add(n, "maxSelect",
                               json_object_new_int64(max > 0 ? max
                                                             : 2147483647));
    } else if (t == BS_F_FILE) {
        copy_opt(n, f, "maxSelect", "maxSelect");
        copy_opt(n, f, "maxSize", "maxSize");
        copy_opt(n, f, "thumbs", "thumbs");
        copy_opt(n, f, "mimeTypes", "mimeTypes");
        copy_opt(n, f, "protected", "protected");
    }
    /* Fields written for the current shape keep their own keys. */
    json_object_object_foreach((json_object *)f, k, v) {
        if (strcmp(k, "options") != 0 &&
            !json_object_object_get_ex(n, k, NULL))
            json_object_object_add(n, k, json_object_get(v));
    }
    return n;
}

void bs_collection_upgrade_legacy(json_object *col)
{
    json_object *schema = bs_json_get(col, "schema");
    json_object *options = bs_json_get(col, "options");
    bool legacy = json_object_is_type(schema, json_type_array) &&
                  !bs_json_get(col, "fields");
    if (!legacy && json_object_is_type(options, json_type_object) &&
        !bs_json_get(col, "fields") &&
        (bs_json_get(options, "query") ||
         bs_json_get(options, "allowEmailAuth") ||
         bs_json_get(options, "allowUsernameAuth") ||
         bs_json_get(options, "minPasswordLength")))
        legacy = true;
    if (!legacy)
        return;
    const char *type = bs_json_get_str(col, "type", "base");
    json_object *fields = json_object_new_array();
    bool is_auth = strcmp(type, "auth") == 0;
    if (is_auth) {
        /* Pre-0.23 auth collections always had a username. */
        json_object *username = json_object_new_object();
        json_object_object_add(username, "type",
                               json_object_new_string("text"));
        json_object_object_add(username, "name",
                               json_object_new_string("username"));
        json_object_object_add(username, "required",
                               json_object_new_boolean(1));
        json_object_object_add(username, "min", json_object_new_int(3));
        json_object_object_add(username, "max", json_object_new_int(150));
        json_object_object_add(username, "pattern",
                               json_object_new_string("^[\\w][\\w\\.\\-]*$"));
        json_object_object_add(username, "autogeneratePattern",
                               json_object_new_string("users[0-9]{6}"));
        json_object *password = json_object_new_object();
        json_object_object_add(password, "type",
                               json_object_new_string("password"));
        json_object_object_add(password, "name",
                               json_object_new_string("password"));
        int64_t min = bs_json_get_int(options, "minPasswordLength", 8);
        json_object_object_add(password, "min",
                               json_object_new_int64(min > 0 ? min : 8));
        json_object *email = json_object_new_object();
        json_object_object_add(email, "type", json_object_new_string("email"));
        json_object_object_add(email, "name", json_object_new_string("email"));
        json_object_object_add(email, "required",
                               json_object_new_boolean(
                                   bs_json_get_bool(options, "requireEmail",
                                                    false)));
        json_object *ex = bs_json_get(options, "exceptEmailDomains");
        json_object *only = bs_json_get(options, "onlyEmailDomains");
        if (ex)
            json_object_object_add(email, "exceptDomains", json_object_get(ex));
        if (only)
            json_object_object_add(email, "onlyDomains", json_object_get(only));
        json_object_array_add(fields, password);
        json_object_array_add(fields, email);
        bool has_username = false;
        size_t n = json_object_array_length(schema);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(bs_json_get_str(json_object_array_get_idx(schema, i),
                                       "name", ""),
                       "username") == 0)
                has_username = true;
        }
        if (!has_username)
            json_object_array_add(fields, username);
        else
            json_object_put(username);
    }
    size_t n = json_object_array_length(schema);
    for (size_t i = 0; i < n; i++)
        json_object_array_add(fields,
                              upgrade_field(json_object_array_get_idx(schema, i)));
    if (strcmp(type, "view") != 0) {
        if (!bs_fields_by_name(fields, "created")) {
            json_object *c = json_object_new_object();
            json_object_object_add(c, "type", json_object_new_string("autodate"));
            json_object_object_add(c, "name", json_object_new_string("created"));
            json_object_object_add(c, "onCreate", json_object_new_boolean(1));
            json_object_array_add(fields, c);
        }
        if (!bs_fields_by_name(fields, "updated")) {
            json_object *u = json_object_new_object();
            json_object_object_add(u, "type", json_object_new_string("autodate"));
            json_object_object_add(u, "name", json_object_new_string("updated"));
            json_object_object_add(u, "onCreate", json_object_new_boolean(1));
            json_object_object_add(u, "onUpdate", json_object_new_boolean(1));
            json_object_array_add(fields, u);
        }
    }
    json_object_object_add(col, "fields", fields);
    json_object_object_del(col, "schema");

    static const char *const rules[] = {"listRule", "viewRule", "createRule",
                                        "updateRule", "deleteRule", NULL};
    for (const char *const *r = rules; *r; r++) {
        json_object *v = bs_json_get(col, *r);
        if (json_object_is_type(v, json_type_string)) {
            /* @request.data became @request.body. */
            bs_buf b;
            bs_buf_init(&b);
            const char *s = json_object_get_string(v);
            const char *p;
            while ((p = strstr(s, "@request.data"))) {
                bs_buf_append(&b, s, (size_t)(p - s));
                bs_buf_puts(&b, "@request.body");
                s = p + strlen("@request.data");
            }
            bs_buf_puts(&b, s);
            if (!b.oom)
                json_object_object_add(col, *r,
                                       json_object_new_string(b.data ? b.data
                                                                     : ""));
            bs_buf_dispose(&b);
        }
    }
    if (json_object_is_type(options, json_type_object)) {
        json_object_get(options);
        json_object_object_del(col, "options");
        if (strcmp(type, "view") == 0) {
            json_object_object_add(
                col, "viewQuery",
                json_object_new_string(bs_json_get_str(options, "query", "")));
        } else if (is_auth) {
            json_object_object_add(
                col, "authRule",
                json_object_new_string(
                    bs_json_get_bool(options, "onlyVerified", false)
                        ? "verified=true"
                        : ""));
            json_object *mr = bs_json_get(options, "manageRule");
            json_object_object_add(col, "manageRule",
                                   json_object_is_type(mr, json_type_string) &&
                                           json_object_get_string_len(mr)
                                       ? json_object_get(mr)
                                       : NULL);
            json_object *pa = json_object_new_object();
            json_object *ids = json_object_new_array();
            if (bs_json_get_bool(options, "allowEmailAuth", false))
                json_object_array_add(ids, json_object_new_string("email"));
            if (bs_json_get_bool(options, "allowUsernameAuth", false))
                json_object_array_add(ids, json_object_new_string("username"));
            json_object_object_add(pa, "enabled",
                                   json_object_new_boolean(
                                       json_object_array_length(ids) > 0));
            json_object_object_add(pa, "identityFields", ids);
            json_object_object_add(col, "passwordAuth", pa);
            json_object *idx = bs_json_get(col, "indexes");
            if (!json_object_is_type(idx, json_type_array)) {
                idx = json_object_new_array();
                json_object_object_add(col, "indexes", idx);
            }
            if (!bs_indexes_single_unique(idx, "username", NULL)) {
                bs_buf b;
                bs_buf_init(&b);
                const char *cname = bs_json_get_str(col, "name", "");
                bs_buf_printf(&b, "CREATE UNIQUE INDEX `idx_username_%s` ON "
                                  "`%s` (username COLLATE NOCASE)",
                              *bs_json_get_str(col, "id", "")
                                  ? bs_json_get_str(col, "id", "")
                                  : cname,
                              cname);
                if (!b.oom)
                    bs_json_array_insert(idx, 0,
                                         json_object_new_string(b.data));
                bs_buf_dispose(&b);
            }
        }
        json_object_put(options);
    }
}

/* ---- API output --------------------------------------------------------- */

/* Removes secrets from a canonical collection (in place). */
static void hide_secrets(json_object *col)
{
    static const char *const tokens[] = {"authToken", "passwordResetToken",
                                         "emailChangeToken",
                                         "verificationToken", "fileToken"};
    for (size_t i = 0; i < 5; i++) {
        json_object *t = bs_json_get(col, tokens[i]);
        if (t)
            json_object_object_del(t, "secret");
    }
    json_object *oauth2 = bs_json_get(col, "oauth2");
    if (oauth2) {
        json_object *p = bs_json_get(oauth2, "providers");
        if (!json_object_is_type(p, json_type_array)) {
            json_object_object_add(oauth2, "providers",
                                   json_object_new_array());
        } else {
            size_t n = json_object_array_length(p);
            for (size_t i = 0; i < n; i++)
                json_object_object_del(json_object_array_get_idx(p, i),
                                       "clientSecret");
        }
    }
}

void bs_collection_write_json(const json_object *col, bs_buf *out)
{
    json_object *c = canon_collection(col);
    if (!c) {
        out->oom = true;
        return;
    }
    hide_secrets(c);
    bs_buf_putc(out, '{');
    bool first = true;
    json_object_object_foreach(c, k, v) {
        if (!first)
            bs_buf_putc(out, ',');
        first = false;
        bs_buf_json_str(out, k, strlen(k));
        bs_buf_putc(out, ':');
        if (strcmp(k, "fields") == 0)
            bs_json_write_sorted(out, v);
        else
            bs_json_write(out, v);
    }
    bs_buf_putc(out, '}');
    json_object_put(c);
}

static json_object *json_is_object_or_new(const json_object *v)
{
    json_object *o = NULL;
    if (json_object_is_type(v, json_type_object))
        o = deep_copy(v);
    return o ? o : json_object_new_object();
}

/* Builds the API shape from the parts of a `_collections` row. */
static json_object *from_parts(const char *id, const char *name,
                               const char *type, bool system,
                               const char *const rules[5],
                               const json_object *fields,
                               const json_object *indexes,
                               const json_object *options,
                               const char *created, const char *updated)
{
    json_object *src = json_is_object_or_new(options);
    static const char *const rule_keys[] = {"listRule", "viewRule",
                                            "createRule", "updateRule",
                                            "deleteRule"};
    json_object_object_add(src, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(src, "name", json_object_new_string(name ? name
                                                                     : ""));
    json_object_object_add(src, "type",
                           json_object_new_string(type && *type ? type
                                                                : "base"));
    json_object_object_add(src, "system", json_object_new_boolean(system));
    for (int i = 0; i < 5; i++)
        json_object_object_add(src, rule_keys[i],
                               rules[i] ? json_object_new_string(rules[i])
                                        : NULL);
    json_object_object_add(src, "fields", json_object_get((json_object *)fields));
    json_object_object_add(src, "indexes",
                           json_object_get((json_object *)indexes));
    json_object_object_add(src, "created",
                           json_object_new_string(created ? created : ""));
    json_object_object_add(src, "updated",
                           json_object_new_string(updated ? updated : ""));
    json_object *col = canon_collection(src);
    json_object_put(src);
    return col;
}

json_object *bs_collection_to_json(const bs_collection *c)
{
    const char *rules[5];
    for (int i = 0; i < 5; i++)
        rules[i] = c->rules[i];
    return from_parts(c->id, c->name, c->type, c->system, rules, c->fields,
                      c->indexes, c->options, c->created, c->updated);
}

/* ---- storage ------------------------------------------------------------ */

static const char SELECT_COLLECTION[] =
    "SELECT id, name, type, system, listRule, viewRule, createRule, "
    "updateRule, deleteRule, fields, indexes, options, created, updated "
    "FROM _collections";

static json_object *parse_column(const bs_rows *st, int i, json_type want)
{
    size_t n = 0;
    const char *t = bs_rows_text(st, i, &n);
    json_object *v = NULL;
    if (t)
        bs_json_parse(t, n, &v);
    if (!json_object_is_type(v, want)) {
        if (v)
            json_object_put(v);
        v = want == json_type_array ? json_object_new_array()
                                    : json_object_new_object();
    }
    return v;
}

static json_object *from_row(const bs_rows *st)
{
    const char *rules[5];
    for (int i = 0; i < 5; i++)
        rules[i] = bs_rows_text(st, 4 + i, NULL);
    json_object *fields = parse_column(st, 9, json_type_array);
    json_object *indexes = parse_column(st, 10, json_type_array);
    json_object *options = parse_column(st, 11, json_type_object);
    json_object *col = from_parts(
        bs_rows_text(st, 0, NULL), bs_rows_text(st, 1, NULL),
        bs_rows_text(st, 2, NULL), bs_rows_int(st, 3) != 0, rules, fields,
        indexes, options, bs_rows_text(st, 12, NULL),
        bs_rows_text(st, 13, NULL));
    json_object_put(fields);
    json_object_put(indexes);
    json_object_put(options);
    return col;
}

int bs_collection_load(bs_conn *conn, const char *key, json_object **out)
{
    *out = NULL;
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, SELECT_COLLECTION);
    bs_buf_puts(&sql, " WHERE id = ?1 OR LOWER(name) = LOWER(?1) "
                      "ORDER BY id = ?1 DESC LIMIT 1");
    bs_rows st;
    st = (bs_rows){0};
    int rc = BS_EDB;
    if (!sql.oom && bs_rows_open(&st, conn, sql.data, (long)sql.len,
                                 BS_ROWS_ONCE) == 0) {
        bs_rows_bind_text(&st, 1, key, -1);
        int step = bs_rows_next(&st);
        if (step == 1) {
            *out = from_row(&st);
            rc = *out ? 0 : BS_ENOMEM;
        } else {
            rc = step == 0 ? BS_ENOTFOUND : BS_EDB;
        }
    }
    bs_rows_close(&st);
    bs_buf_dispose(&sql);
    return rc;
}

int bs_collection_load_all(bs_conn *conn, json_object **out)
{
    *out = NULL;
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, SELECT_COLLECTION);
    bs_buf_puts(&sql, " ORDER BY rowid");
    bs_rows st;
    st = (bs_rows){0};
    int rc = BS_EDB;
    if (!sql.oom && bs_rows_open(&st, conn, sql.data, (long)sql.len,
                                 BS_ROWS_ONCE) == 0) {
        json_object *all = json_object_new_array();
        int step;
        while ((step = bs_rows_next(&st)) == 1)
            json_object_array_add(all, from_row(&st));
        if (step == 0) {
            *out = all;
            rc = 0;
        } else {
            json_object_put(all);
        }
    }
    bs_rows_close(&st);
    bs_buf_dispose(&sql);
    return rc;
}

/* The `options` column: the type's options in struct order, secrets
 * included. */
static void write_options(const json_object *col, bs_buf *out)
{
    const char *type = bs_json_get_str(col, "type", "");
    const shape *opts = strcmp(type, "auth") == 0   ? AUTH_OPTIONS
                        : strcmp(type, "view") == 0 ? VIEW_OPTIONS
                                                    : NULL;
    if (!opts) {
        bs_buf_puts(out, "{}");
        return;
    }
    json_object *x = canon(opts, col);
    bs_json_write(out, x);
    json_object_put(x);
}

int bs_collection_write_row(bs_conn *conn, const json_object *col,
                            bool insert, char *msg, size_t cap)
{
    static const char INSERT[] =
        "INSERT INTO _collections (id, system, type, name, fields, indexes, "
        "listRule, viewRule, createRule, updateRule, deleteRule, options, "
        "created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14)";
    static const char UPDATE[] =
        "UPDATE _collections SET system = ?2, type = ?3, name = ?4, "
        "fields = ?5, indexes = ?6, listRule = ?7, viewRule = ?8, "
        "createRule = ?9, updateRule = ?10, deleteRule = ?11, options = ?12, "
        "created = ?13, updated = ?14 WHERE id = ?1";
    bs_rows st;
    if (bs_rows_open(&st, conn, insert ? INSERT : UPDATE, -1,
                     BS_ROWS_FIXED) != 0) {
        snprintf(msg, cap, "%s", bs_conn_errmsg(conn));
        return BS_EDB;
    }
    bs_buf fields, indexes, options;
    bs_buf_init(&fields);
    bs_buf_init(&indexes);
    bs_buf_init(&options);
    json_object *fl = bs_json_get(col, "fields");
    json_object *canon_fl = canon_fields(fl);
    bs_json_write_sorted(&fields, canon_fl);
    json_object_put(canon_fl);
    json_object *ix = bs_json_get(col, "indexes");
    if (json_object_is_type(ix, json_type_array))
        bs_json_write(&indexes, ix);
    else
        bs_buf_puts(&indexes, "[]");
    write_options(col, &options);
    int rc = BS_ENOMEM;
    if (!fields.oom && !indexes.oom && !options.oom) {
        bs_rows_bind_text(&st, 1, bs_json_get_str(col, "id", ""), -1);
        bs_rows_bind_int(&st, 2, bs_json_get_bool(col, "system", false));
        bs_rows_bind_text(&st, 3, bs_json_get_str(col, "type", "base"), -1);
        bs_rows_bind_text(&st, 4, bs_json_get_str(col, "name", ""), -1);
        bs_rows_bind_text(&st, 5, fields.data, (long)fields.len);
        bs_rows_bind_text(&st, 6, indexes.data, (long)indexes.len);
        static const char *const rule_keys[] = {"listRule", "viewRule",
                                                "createRule", "updateRule",
                                                "deleteRule"};
        for (int i = 0; i < 5; i++) {
            json_object *r = bs_json_get(col, rule_keys[i]);
            if (json_object_is_type(r, json_type_string))
                bs_rows_bind_text(&st, 7 + i, json_object_get_string(r), -1);
            else
                bs_rows_bind_null(&st, 7 + i);
        }
        bs_rows_bind_text(&st, 12, options.data, (long)options.len);
        bs_rows_bind_text(&st, 13, bs_json_get_str(col, "created", ""), -1);
        bs_rows_bind_text(&st, 14, bs_json_get_str(col, "updated", ""), -1);
        if (bs_rows_exec(&st) >= 0) {
            rc = 0;
        } else {
            snprintf(msg, cap, "%s", bs_rows_errmsg(&st));
            rc = BS_EDB;
        }
    }
    bs_rows_close(&st);
    bs_buf_dispose(&fields);
    bs_buf_dispose(&indexes);
    bs_buf_dispose(&options);
    return rc;
}

/* ---- normalization ------------------------------------------------------ */

int bs_collection_normalize(json_object *col, bs_error *err)
{
    const char *type = bs_json_get_str(col, "type", "");
    json_object *scaffold =
        bs_collection_scaffold(type, bs_json_get_str(col, "name", ""),
                               bs_json_get_str(col, "id", ""));
    if (!scaffold)
        return BS_ENOMEM;
    json_object *fields = bs_json_get(scaffold, "fields");
    json_object *extra = bs_json_get(col, "fields");
    size_t n = json_object_is_type(extra, json_type_array)
                   ? json_object_array_length(extra)
                   : 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *f = bs_field_canonical(json_object_array_get_idx(extra, i));
        if (!f) {
            rc = bs_error_set(err, 500, "Invalid field type in a built-in "
                                        "collection.");
            break;
        }
        bs_fields_add(fields, f);
    }
    json_object *rest = NULL;
    if (rc == 0 && json_object_deep_copy(col, &rest, NULL) == 0) {
        json_object_object_del(rest, "fields");
        rc = bs_collection_bind(scaffold, rest, err);
        json_object_put(rest);
    }
    if (rc == 0) {
        bs_collection_prepare_save(scaffold, true);
        replace_object(col, scaffold);
    }
    json_object_put(scaffold);
    return rc;
}

void bs_collection_prepare_save(json_object *col, bool is_new)
{
    const char *type = bs_json_get_str(col, "type", "");
    if (!*type)
        json_object_object_add(col, "type", json_object_new_string("base"));
    char now[25];
    bs_now_str(now);
    if (is_new) {
        if (!*bs_json_get_str(col, "id", "")) {
            char buf[300], cid[32];
            snprintf(buf, sizeof buf, "%s%s", bs_json_get_str(col, "type", ""),
                     bs_json_get_str(col, "name", ""));
            snprintf(cid, sizeof cid, "pbc_%u", bs_crc32(buf, strlen(buf)));
            json_object_object_add(col, "id", json_object_new_string(cid));
        }
        json_object_object_add(col, "created", json_object_new_string(now));
    }
    json_object_object_add(col, "updated", json_object_new_string(now));

    /* Rebuild the list so every field has an id. */
    json_object *old = bs_json_get(col, "fields");
    json_object *fields = json_object_new_array();
    size_t n = json_object_is_type(old, json_type_array)
                   ? json_object_array_length(old)
                   : 0;
    for (size_t i = 0; i < n; i++)
        bs_fields_add(fields,
                      json_object_get(json_object_array_get_idx(old, i)));
    json_object_object_add(col, "fields", fields);
    init_default_fields(col);

    const char *name = bs_json_get_str(col, "name", "");
    if (strcmp(bs_json_get_str(col, "type", ""), "auth") == 0) {
        /* Mapped OAuth2 fields must exist. */
        json_object *mapped =
            bs_json_get(bs_json_get(col, "oauth2"), "mappedFields");
        json_object *fl = bs_json_get(col, "fields");
        static const char *const keys[] = {"id", "name", "username",
                                           "avatarURL"};
        for (int i = 0; mapped && i < 4; i++) {
            const char *v = bs_json_get_str(mapped, keys[i], "");
            if (*v && !bs_fields_by_name(fl, v))
                json_object_object_add(mapped, keys[i],
                                       json_object_new_string(""));
        }
        if (strcmp(name, "_superusers") == 0) {
            /* Superusers sign in with a password only. */
            json_object *oauth2 = bs_json_get(col, "oauth2");
            if (oauth2) {
                set_bool(oauth2, "enabled", false);
                json_object_object_add(oauth2, "providers", NULL);
            }
            json_object *pa = bs_json_get(col, "passwordAuth");
            if (pa)
                set_bool(pa, "enabled", true);
            json_object *mfa = bs_json_get(col, "mfa");
            if (mfa && bs_json_get_bool(bs_json_get(col, "otp"), "enabled",
                                        false))
                set_bool(mfa, "enabled", true);
        }
    }

    /* Indexes always name the collection's table. */
    json_object *indexes = bs_json_get(col, "indexes");
    n = json_object_is_type(indexes, json_type_array)
            ? json_object_array_length(indexes)
            : 0;
    for (size_t i = 0; i < n; i++) {
        const char *raw =
            json_object_get_string(json_object_array_get_idx(indexes, i));
        bs_index idx;
        if (!raw || bs_index_parse(raw, &idx) != 0)
            continue;
        if (idx.table_name && strcmp(idx.table_name, name) != 0 &&
            bs_index_set(&idx.table_name, name) == 0) {
            bs_buf b;
            bs_buf_init(&b);
            bs_index_build(&idx, &b);
            if (b.len && !b.oom)
                json_object_array_put_idx(indexes, i,
                                          json_object_new_string(b.data));
            bs_buf_dispose(&b);
        }
        bs_index_dispose(&idx);
    }
}

int bs_collection_create(bs_conn *c, const json_object *col, bs_error *err)
{
    char msg[512] = "";
    int rc = bs_collection_write_row(c, col, true, msg, sizeof msg);
    if (rc)
        return bs_error_set(err, 500, "Failed to save the collection %s: %s",
                            bs_json_get_str(col, "name", ""), msg);
    return bs_collection_sync_table(c, col, NULL, err);
}

void bs_field_column_def(const json_object *f, bool pg, bs_buf *out)
{
    bs_finfo fi;
    bs_finfo_init(&fi, f);
    if (pg)
        bs_ftype_pg_column_def(fi.type, fi.multiple, fi.primary_key, out);
    else
        bs_buf_puts(out, bs_ftype_column(fi.type, fi.multiple,
                                         fi.primary_key));
}

/* ---- small shared helpers ----------------------------------------------- */

void bs_verr(bs_error *err, const char *path, const char *code,
             const char *message, json_object *params)
{
    bs_error_field(err, path, code, message);
    if (!params)
        return;
    /* Find the leaf just added and attach the params. */
    json_object *o = err->data;
    const char *p = path;
    const char *dot;
    while (o && (dot = strchr(p, '.')) != NULL) {
        char key[128];
        size_t n = (size_t)(dot - p);
        if (n >= sizeof key)
            n = sizeof key - 1;
        memcpy(key, p, n);
        key[n] = '\0';
        o = bs_json_get(o, key);
        p = dot + 1;
    }
    o = o ? bs_json_get(o, p) : NULL;
    if (o)
        json_object_object_add(o, "params", params);
    else
        json_object_put(params);
}

static json_object *sorted_copy(json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return json_object_get(v);
    int n = json_object_object_length(v);
    const char **keys = calloc((size_t)(n ? n : 1), sizeof *keys);
    json_object *o = json_object_new_object();
    if (!keys)
        return o;
    int i = 0;
    json_object_object_foreach(v, k, child) {
        (void)child;
        keys[i++] = k;
    }
    for (int a = 1; a < n; a++) {
        for (int b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
            const char *t = keys[b];
            keys[b] = keys[b - 1];
            keys[b - 1] = t;
        }
    }
    for (i = 0; i < n; i++)
        json_object_object_add(o, keys[i],
                               sorted_copy(bs_json_get(v, keys[i])));
    free(keys);
    return o;
}

void bs_verr_sort(bs_error *err)
{
    if (!err->data)
        return;
    json_object *s = sorted_copy(err->data);
    json_object_put(err->data);
    err->data = s;
}

void bs_ddl_ident(bs_buf *b, const char *name)
{
    bs_buf_putc(b, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`')
            bs_buf_putc(b, '`');
        bs_buf_putc(b, *p);
    }
    bs_buf_putc(b, '`');
}
