/*
 * bind_app.c - the natives behind $app: saving and deleting records
 * (through the record hooks, joining the calling thread's transaction),
 * the finders, collections, settings, SQL ($app.db()), transactions,
 * cron removal, expand and mail - each one call of the public C API.
 *
 * A failure throws the prelude's ApiError built from the bs_error the
 * C call filled (a validation failure keeps its 400 and field data), so
 * a handler that does not catch it answers the client with it.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define NATIVE(name)                                                       \
    static JSValueRef name(JSContextRef ctx, JSObjectRef fn,               \
                           JSObjectRef self, size_t argc,                  \
                           const JSValueRef argv[], JSValueRef *exc)

static char *arg_str(JSContextRef ctx, size_t argc, const JSValueRef argv[],
                     size_t i)
{
    return i < argc ? bsj_cstr(ctx, argv[i]) : strdup("");
}

static JSValueRef fail(JSContextRef ctx, JSValueRef *exc, bs_error *err,
                       int rc)
{
    bsj_throw_error(ctx, exc, err, rc);
    bs_error_dispose(err);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_save)
{
    bs_record *r = bsj_handle_get(ctx, argc ? argv[0] : NULL, BSJ_H_RECORD,
                                  exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_save(bsj_app(), r, &err);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_delete)
{
    bs_record *r = bsj_handle_get(ctx, argc ? argv[0] : NULL, BSJ_H_RECORD,
                                  exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_delete(bsj_app(), r, &err);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

static JSValueRef find_failed(JSContextRef ctx, JSValueRef *exc, int rc,
                              const char *collection)
{
    if (rc == BS_ENOTFOUND)
        return JSValueMakeNull(ctx);
    bs_error err;
    bs_error_init(&err);
    if (rc == BS_EINVAL)
        bs_error_bad_request(&err, "Invalid filter or collection.");
    (void)collection;
    return fail(ctx, exc, &err, rc);
}

NATIVE(n_find_by_id)
{
    char *col = arg_str(ctx, argc, argv, 0);
    char *id = arg_str(ctx, argc, argv, 1);
    bs_record *r = NULL;
    int rc = col && id ? bs_record_find_by_id(bsj_app(), col, id, &r)
                       : BS_ENOMEM;
    JSValueRef v = rc ? find_failed(ctx, exc, rc, col)
                      : bsj_handle_new(ctx, BSJ_H_RECORD, r, true);
    free(col);
    free(id);
    return v;
}

NATIVE(n_find_by_filter)
{
    char *col = arg_str(ctx, argc, argv, 0);
    char *filter = arg_str(ctx, argc, argv, 1);
    char *sort = arg_str(ctx, argc, argv, 2);
    int limit = argc > 3 ? (int)JSValueToNumber(ctx, argv[3], NULL) : 0;
    int offset = argc > 4 ? (int)JSValueToNumber(ctx, argv[4], NULL) : 0;
    json_object *params = argc > 5 ? bsj_to_json(ctx, argv[5]) : NULL;
    bs_record **items = NULL;
    int n = 0;
    int rc = col && filter && sort
                 ? bs_record_find_by_filter(bsj_app(), col, filter, sort,
                                            limit, offset, params, &items, &n)
                 : BS_ENOMEM;
    JSValueRef v;
    if (rc == BS_ENOTFOUND || (rc == 0 && n == 0)) {
        v = JSObjectMakeArray(ctx, 0, NULL, exc);
    } else if (rc) {
        v = find_failed(ctx, exc, rc, col);
    } else {
        JSValueRef *vals = calloc((size_t)n, sizeof *vals);
        for (int i = 0; vals && i < n; i++)
            vals[i] = bsj_handle_new(ctx, BSJ_H_RECORD, items[i], true);
        v = vals ? JSObjectMakeArray(ctx, (size_t)n, vals, exc)
                 : bsj_throw(ctx, exc, "Out of memory.");
        if (!vals)
            bs_records_free(items, n);
        else
            free(items);
        free(vals);
    }
    json_object_put(params);
    free(col);
    free(filter);
    free(sort);
    return v;
}

NATIVE(n_find_first)
{
    char *col = arg_str(ctx, argc, argv, 0);
    char *filter = arg_str(ctx, argc, argv, 1);
    json_object *params = argc > 2 ? bsj_to_json(ctx, argv[2]) : NULL;
    bs_record *r = NULL;
    int rc = col && filter ? bs_record_find_first(bsj_app(), col, filter,
                                                  params, &r)
                           : BS_ENOMEM;
    JSValueRef v = rc ? find_failed(ctx, exc, rc, col)
                      : bsj_handle_new(ctx, BSJ_H_RECORD, r, true);
    json_object_put(params);
    free(col);
    free(filter);
    return v;
}

NATIVE(n_count)
{
    char *col = arg_str(ctx, argc, argv, 0);
    char *filter = arg_str(ctx, argc, argv, 1);
    json_object *params = argc > 2 ? bsj_to_json(ctx, argv[2]) : NULL;
    int64_t n = 0;
    int rc = col && filter ? bs_record_count(bsj_app(), col, filter, params,
                                             &n)
                           : BS_ENOMEM;
    JSValueRef v = rc ? find_failed(ctx, exc, rc, col)
                      : JSValueMakeNumber(ctx, (double)n);
    json_object_put(params);
    free(col);
    free(filter);
    return v;
}

NATIVE(n_col_find)
{
    char *name = arg_str(ctx, argc, argv, 0);
    json_object *c = NULL;
    int rc = name ? bs_collection_find(bsj_app(), name, &c) : BS_ENOMEM;
    free(name);
    if (rc)
        return JSValueMakeNull(ctx);
    JSValueRef v = bsj_from_json(ctx, c);
    json_object_put(c);
    return v;
}

NATIVE(n_col_all)
{
    json_object *all = NULL;
    if (bs_collection_find_all(bsj_app(), &all) != 0)
        return bsj_throw(ctx, exc, "Out of memory.");
    JSValueRef v = bsj_from_json(ctx, all);
    json_object_put(all);
    return v;
}

/* colSave(json, isNew): bs_collection_save; returns the saved collection. */
NATIVE(n_col_save)
{
    json_object *col = argc ? bsj_to_json(ctx, argv[0]) : NULL;
    if (!json_object_is_type(col, json_type_object)) {
        json_object_put(col);
        return bsj_throw(ctx, exc, "$app.save expects a collection.");
    }
    bool is_new = argc > 1 && JSValueToBoolean(ctx, argv[1]);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_collection_save(bsj_app(), col, NULL,
                                is_new ? BS_COLLECTION_NEW | BS_COLLECTION_DEFAULTS
                                       : 0,
                                &err);
    if (rc) {
        json_object_put(col);
        return fail(ctx, exc, &err, rc);
    }
    bs_error_dispose(&err);
    JSValueRef v = bsj_from_json(ctx, col);
    json_object_put(col);
    return v;
}

/* colDelete(json): bs_collection_delete. */
NATIVE(n_col_delete)
{
    json_object *col = argc ? bsj_to_json(ctx, argv[0]) : NULL;
    if (!json_object_is_type(col, json_type_object)) {
        json_object_put(col);
        return bsj_throw(ctx, exc, "$app.delete expects a collection.");
    }
    bs_error err;
    bs_error_init(&err);
    int rc = bs_collection_delete(bsj_app(), col, 0, &err);
    json_object_put(col);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

/* colImport(array, deleteMissing): bs_collections_import. */
NATIVE(n_col_import)
{
    json_object *items = argc ? bsj_to_json(ctx, argv[0]) : NULL;
    if (!json_object_is_type(items, json_type_array)) {
        json_object_put(items);
        return bsj_throw(ctx, exc,
                         "importCollections expects an array of collections.");
    }
    bool missing = argc > 1 && JSValueToBoolean(ctx, argv[1]);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_collections_import(bsj_app(), items, missing, &err);
    json_object_put(items);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_settings)
{
    json_object *s = bs_app_settings_json(bsj_app());
    JSValueRef v = bsj_from_json(ctx, s);
    json_object_put(s);
    return v;
}

NATIVE(n_db_all)
{
    char *sql = arg_str(ctx, argc, argv, 0);
    json_object *params = argc > 1 ? bsj_to_json(ctx, argv[1]) : NULL;
    json_object *rows = NULL;
    bs_error err;
    bs_error_init(&err);
    int rc = sql ? bs_db_all(bsj_app(), sql, params, &rows, &err) : BS_ENOMEM;
    json_object_put(params);
    free(sql);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    JSValueRef v = bsj_from_json(ctx, rows);
    json_object_put(rows);
    return v;
}

NATIVE(n_db_exec)
{
    char *sql = arg_str(ctx, argc, argv, 0);
    json_object *params = argc > 1 ? bsj_to_json(ctx, argv[1]) : NULL;
    int64_t changes = 0;
    bs_error err;
    bs_error_init(&err);
    int rc = sql ? bs_db_exec(bsj_app(), sql, params, &changes, &err)
                 : BS_ENOMEM;
    json_object_put(params);
    free(sql);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeNumber(ctx, (double)changes);
}

/* runInTransaction: the callback runs inside bs_run_in_transaction on
 * this thread; an exception rolls back and is thrown again after. */
typedef struct tx_call {
    JSContextRef ctx;
    JSObjectRef fn;
    JSValueRef exc;
} tx_call;

static int tx_body(bs_tx *tx, void *data)
{
    (void)tx;
    tx_call *t = data;
    JSObjectCallAsFunction(t->ctx, t->fn, NULL, 0, NULL, &t->exc);
    if (t->exc)
        JSValueProtect(t->ctx, t->exc);
    return t->exc ? BS_EABORT : 0;
}

NATIVE(n_tx)
{
    if (!argc || !JSValueIsObject(ctx, argv[0]) ||
        !JSObjectIsFunction(ctx, (JSObjectRef)argv[0]))
        return bsj_throw(ctx, exc, "runInTransaction expects a function.");
    tx_call t = {.ctx = ctx, .fn = (JSObjectRef)argv[0]};
    bs_error err;
    bs_error_init(&err);
    int rc = bs_run_in_transaction(bsj_app(), tx_body, &t, &err);
    if (t.exc) {
        *exc = t.exc;
        JSValueUnprotect(ctx, t.exc);
        bs_error_dispose(&err);
        return JSValueMakeUndefined(ctx);
    }
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_cron_remove)
{
    char *id = arg_str(ctx, argc, argv, 0);
    if (id)
        bs_cron_remove(bsj_app(), id);
    free(id);
    return JSValueMakeUndefined(ctx);
}

NATIVE(n_expand)
{
    bs_record *r = bsj_handle_get(ctx, argc ? argv[0] : NULL, BSJ_H_RECORD,
                                  exc);
    if (!r)
        return JSValueMakeUndefined(ctx);
    char *paths = arg_str(ctx, argc, argv, 1);
    bs_error err;
    bs_error_init(&err);
    int rc = paths ? bs_record_expand(bsj_app(), r, paths, &err) : BS_ENOMEM;
    free(paths);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

/* A MailerMessage's address list ([{address, name}] or strings) as the
 * comma-separated text of bs_mail_message. */
static char *addresses(JSContextRef ctx, JSObjectRef msg, const char *name)
{
    json_object *v = bsj_to_json(ctx, bsj_get(ctx, msg, name));
    if (!v)
        return NULL;
    bs_buf b;
    bs_buf_init(&b);
    size_t n = json_object_is_type(v, json_type_array)
                   ? json_object_array_length(v) : 1;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_is_type(v, json_type_array)
                             ? json_object_array_get_idx(v, i) : v;
        const char *addr = json_object_is_type(a, json_type_object)
                               ? json_object_get_string(
                                     json_object_object_get(a, "address"))
                               : json_object_get_string(a);
        if (!addr || !*addr)
            continue;
        if (b.len)
            bs_buf_puts(&b, ", ");
        bs_buf_puts(&b, addr);
    }
    json_object_put(v);
    return b.len ? bs_buf_steal(&b, NULL) : (bs_buf_dispose(&b), NULL);
}

NATIVE(n_send_mail)
{
    if (!argc || !JSValueIsObject(ctx, argv[0]))
        return bsj_throw(ctx, exc, "send expects a MailerMessage.");
    JSObjectRef msg = (JSObjectRef)argv[0];
    bs_mail_message m = {0};
    JSValueRef from = bsj_get(ctx, msg, "from");
    if (from && JSValueIsObject(ctx, from)) {
        JSValueRef a = bsj_get(ctx, (JSObjectRef)from, "address");
        JSValueRef nm = bsj_get(ctx, (JSObjectRef)from, "name");
        if (a && JSValueIsString(ctx, a))
            m.from_address = bsj_cstr(ctx, a);
        if (nm && JSValueIsString(ctx, nm))
            m.from_name = bsj_cstr(ctx, nm);
    }
    m.to = addresses(ctx, msg, "to");
    m.cc = addresses(ctx, msg, "cc");
    m.bcc = addresses(ctx, msg, "bcc");
    static const char *const texts[] = {"subject", "html", "text"};
    char **slots[] = {&m.subject, &m.html, &m.text};
    for (int i = 0; i < 3; i++) {
        JSValueRef v = bsj_get(ctx, msg, texts[i]);
        if (v && JSValueIsString(ctx, v))
            *slots[i] = bsj_cstr(ctx, v);
    }
    bs_error err;
    bs_error_init(&err);
    int rc = bs_app_send_mail(bsj_app(), &m, &err);
    free(m.from_name);
    free(m.from_address);
    free(m.to);
    free(m.cc);
    free(m.bcc);
    free(m.subject);
    free(m.html);
    free(m.text);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

/* sendRecordMail(kind, record handle, arg, arg2): one of $mails. */
NATIVE(n_send_record_mail)
{
    bs_record *r = argc > 1 ? bsj_handle_get(ctx, argv[1], BSJ_H_RECORD, exc)
                            : NULL;
    if (!r)
        return argc > 1 ? JSValueMakeUndefined(ctx)
                        : bsj_throw(ctx, exc, "An auth record is required.");
    char *kind = bsj_cstr(ctx, argv[0]);
    char *a1 = argc > 2 && !JSValueIsUndefined(ctx, argv[2]) &&
                       !JSValueIsNull(ctx, argv[2])
                   ? bsj_cstr(ctx, argv[2]) : NULL;
    char *a2 = argc > 3 && !JSValueIsUndefined(ctx, argv[3]) &&
                       !JSValueIsNull(ctx, argv[3])
                   ? bsj_cstr(ctx, argv[3]) : NULL;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_app_send_record_mail(bsj_app(), kind, r, a1, a2, &err);
    free(kind);
    free(a1);
    free(a2);
    if (rc)
        return fail(ctx, exc, &err, rc);
    bs_error_dispose(&err);
    return JSValueMakeUndefined(ctx);
}

void bsj_bind_app(JSContextRef ctx, JSObjectRef n)
{
    bsj_def(ctx, n, "save", n_save);
    bsj_def(ctx, n, "del", n_delete);
    bsj_def(ctx, n, "findById", n_find_by_id);
    bsj_def(ctx, n, "findByFilter", n_find_by_filter);
    bsj_def(ctx, n, "findFirst", n_find_first);
    bsj_def(ctx, n, "count", n_count);
    bsj_def(ctx, n, "colFind", n_col_find);
    bsj_def(ctx, n, "colAll", n_col_all);
    bsj_def(ctx, n, "colSave", n_col_save);
    bsj_def(ctx, n, "colDelete", n_col_delete);
    bsj_def(ctx, n, "colImport", n_col_import);
    bsj_def(ctx, n, "settings", n_settings);
    bsj_def(ctx, n, "dbAll", n_db_all);
    bsj_def(ctx, n, "dbExec", n_db_exec);
    bsj_def(ctx, n, "tx", n_tx);
    bsj_def(ctx, n, "cronRemove", n_cron_remove);
    bsj_def(ctx, n, "expand", n_expand);
    bsj_def(ctx, n, "sendMail", n_send_mail);
    bsj_def(ctx, n, "sendRecordMail", n_send_record_mail);
}
