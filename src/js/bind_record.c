/*
 * bind_record.c - the natives behind prelude.js's Record: a record
 * handle's fields read and written through the public record API
 * (bs_record_get/set and the typed getters, with PocketBase's
 * coercions), its collection, original values, export and password.
 *
 * A handle made by `new Record()` or a finder owns its record (freed
 * when the handle is collected); the record of an event is borrowed and
 * dies with the call.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define NATIVE(name)                                                       \
    static JSValueRef name(JSContextRef ctx, JSObjectRef fn,               \
                           JSObjectRef self, size_t argc,                  \
                           const JSValueRef argv[], JSValueRef *exc)

static bs_record *rec(JSContextRef ctx, size_t argc, const JSValueRef argv[],
                      JSValueRef *exc)
{
    return bsj_handle_get(ctx, argc ? argv[0] : NULL, BSJ_H_RECORD, exc);
}

/* The field name argument (argv[1]) in buf; NULL with an exception. */
static const char *field(JSContextRef ctx, size_t argc,
                         const JSValueRef argv[], char *buf, size_t n,
                         JSValueRef *exc)
{
    if (argc < 2) {
        bsj_throw(ctx, exc, "A field name is required.");
        return NULL;
    }
    JSStringRef s = JSValueToStringCopy(ctx, argv[1], exc);
    if (!s)
        return NULL;
    JSStringGetUTF8CString(s, buf, n);
    JSStringRelease(s);
    return buf;
}

NATIVE(n_new)
{
    bs_app *app = bsj_app();
    char *name = argc ? bsj_cstr(ctx, argv[0]) : NULL;
    bs_record *r = app && name ? bs_record_new_in(app, name) : NULL;
    if (!r) {
        bsj_throw(ctx, exc, "Missing or invalid collection \"%s\".",
                  name ? name : "");
        free(name);
        return JSValueMakeUndefined(ctx);
    }
    free(name);
    return bsj_handle_new(ctx, BSJ_H_RECORD, r, true);
}

NATIVE(n_get)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    if (!f)
        return JSValueMakeUndefined(ctx);
    if (strcmp(f, "id") == 0)
        return bsj_string(ctx, bs_record_id(r));
    return bsj_from_json(ctx, bs_record_get(r, f));
}

NATIVE(n_set)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    if (!f)
        return JSValueMakeUndefined(ctx);
    json_object *v = argc > 2 ? bsj_to_json(ctx, argv[2]) : NULL;
    int rc = bs_record_set(r, f, v);
    if (rc == BS_ENOTFOUND) {
        /* PocketBase keeps unknown keys as custom data; Basalt's records
         * only hold their fields, so they are ignored. */
        return JSValueMakeUndefined(ctx);
    }
    if (rc)
        return bsj_throw(ctx, exc, "Cannot set %s: %s", f, bs_strerror(rc));
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_string)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    if (!f)
        return JSValueMakeUndefined(ctx);
    if (strcmp(f, "id") == 0)
        return bsj_string(ctx, bs_record_id(r));
    return bsj_string(ctx, bs_record_get_string(r, f));
}

NATIVE(n_int)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    return f ? JSValueMakeNumber(ctx, (double)bs_record_get_int(r, f))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_float)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    return f ? JSValueMakeNumber(ctx, bs_record_get_float(r, f))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_bool)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    return f ? JSValueMakeBoolean(ctx, bs_record_get_bool(r, f))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_date)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    return f ? JSValueMakeNumber(ctx, (double)bs_record_get_date(r, f))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_string_list)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    if (!f)
        return JSValueMakeUndefined(ctx);
    json_object *list = bs_record_get_string_list(r, f);
    JSValueRef v = bsj_from_json(ctx, list);
    json_object_put(list);
    return v;
}

NATIVE(n_id)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_record_id(r)) : JSValueMakeUndefined(ctx);
}

NATIVE(n_collection_id)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_record_collection_id(r))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_collection_name)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    return r ? bsj_string(ctx, bs_record_collection_name(r))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_is_new)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    return r ? JSValueMakeBoolean(ctx, bs_record_is_new(r))
             : JSValueMakeUndefined(ctx);
}

NATIVE(n_export)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    json_object *j = bs_record_export(r);
    JSValueRef v = bsj_from_json(ctx, j);
    json_object_put(j);
    return v;
}

/* The record's fields as set, hidden ones included (for clone()). */
NATIVE(n_fields)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    json_object *col = NULL;
    if (bs_collection_find(bsj_app(), bs_record_collection_id(r), &col) != 0)
        return bsj_throw(ctx, exc, "The record's collection is gone.");
    JSObjectRef out = JSObjectMake(ctx, NULL, NULL);
    json_object *fields = json_object_object_get(col, "fields");
    for (size_t i = 0; i < json_object_array_length(fields); i++) {
        const char *name = json_object_get_string(json_object_object_get(
            json_object_array_get_idx(fields, i), "name"));
        if (name && strcmp(name, "password") != 0)
            bsj_set(ctx, out, name, bsj_from_json(ctx, bs_record_get(r, name)));
    }
    json_object_put(col);
    return out;
}

NATIVE(n_original)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    const bs_record *o = bs_record_original(r);
    return o ? bsj_handle_new(ctx, BSJ_H_RECORD, (void *)o, false)
             : JSValueMakeNull(ctx);
}

NATIVE(n_validate_password)
{
    bs_record *r = rec(ctx, argc, argv, exc);
    if (!r || argc < 2)
        return JSValueMakeUndefined(ctx);
    char *pw = bsj_cstr(ctx, argv[1]);
    bool ok = pw && bs_record_validate_password(r, pw);
    free(pw);
    return JSValueMakeBoolean(ctx, ok);
}

NATIVE(n_expanded)
{
    char buf[256];
    bs_record *r = rec(ctx, argc, argv, exc);
    const char *f = r ? field(ctx, argc, argv, buf, sizeof buf, exc) : NULL;
    if (!f)
        return JSValueMakeUndefined(ctx);
    int n = bs_record_expanded_count(r, f);
    JSValueRef *items = n > 0 ? calloc((size_t)n, sizeof *items) : NULL;
    for (int i = 0; items && i < n; i++)
        items[i] = bsj_handle_new(ctx, BSJ_H_RECORD,
                                  bs_record_expanded(r, f, i), false);
    JSObjectRef a = JSObjectMakeArray(ctx, items ? (size_t)n : 0, items, exc);
    free(items);
    return a;
}

void bsj_bind_record(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "recNew", n_new);
    bsj_def(ctx, n, "recGet", n_get);
    bsj_def(ctx, n, "recSet", n_set);
    bsj_def(ctx, n, "recString", n_string);
    bsj_def(ctx, n, "recInt", n_int);
    bsj_def(ctx, n, "recFloat", n_float);
    bsj_def(ctx, n, "recBool", n_bool);
    bsj_def(ctx, n, "recDate", n_date);
    bsj_def(ctx, n, "recStringList", n_string_list);
    bsj_def(ctx, n, "recId", n_id);
    bsj_def(ctx, n, "recCollectionId", n_collection_id);
    bsj_def(ctx, n, "recCollectionName", n_collection_name);
    bsj_def(ctx, n, "recIsNew", n_is_new);
    bsj_def(ctx, n, "recExport", n_export);
    bsj_def(ctx, n, "recFields", n_fields);
    bsj_def(ctx, n, "recOriginal", n_original);
    bsj_def(ctx, n, "recValidatePassword", n_validate_password);
    bsj_def(ctx, n, "recExpanded", n_expanded);
}
