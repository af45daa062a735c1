/*
 * record_form.c - a client's record submission with the API rules.
 *
 * The order of the checks matters for what a failure may reveal. The
 * update rule is evaluated against the record the caller named, before
 * any submitted value could steer it, and a rejected update answers
 * 404 whatever the body holds. Only then are the auth form fields (old
 * password, email, verified) compared with the stored values, so their
 * errors are reported to callers who may update the record anyway.
 */
#include "record_form.h"

#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../http/body.h"
#include "field.h"

void bs_record_form_init(bs_record_form *f, bs_app *app, bs_schema *schema,
                         const bs_collection *c,
                         bs_request_info_fn request_info, void *user,
                         bool superuser)
{
    memset(f, 0, sizeof *f);
    f->app = app;
    f->schema = schema;
    f->c = c;
    f->request_info = request_info;
    f->request_user = user;
    f->superuser = superuser;
}

void bs_record_form_dispose(bs_record_form *f)
{
    bs_record_free(f->record);
    json_object_put(f->request);
    json_object_put(f->data);
    free(f->stored_id);
    memset(f, 0, sizeof *f);
}

static json_object *resolve_body(const bs_record *rec, json_object *data);

/* The @request data, built on first use: most saves run no rule, and
 * building it copies the auth record, the query and the headers. Once
 * the submission is loaded, its body is the resolved submission. */
static json_object *request_data(bs_record_form *f)
{
    if (!f->request) {
        json_object *info = f->request_info ? f->request_info(f->request_user)
                                            : NULL;
        f->request = info ? json_object_get(info) : json_object_new_object();
    }
    if (f->data && f->record && !f->body_resolved) {
        json_object *resolved = resolve_body(f->record, f->data);
        if (resolved)
            json_object_object_add(f->request, "body", resolved);
        f->body_resolved = true;
    }
    return f->request;
}

json_object *bs_record_form_request(bs_record_form *f)
{
    return request_data(f);
}

/* The context rules compile in; with_request false for lookups that
 * evaluate no rule. */
static bs_rule_ctx rule_ctx(bs_record_form *f, bool with_request)
{
    bs_rule_ctx ctx = {.app = f->app,
                       .schema = f->schema,
                       .collection = f->c,
                       .alias = f->c->name,
                       .request = with_request ? request_data(f) : NULL,
                       .superuser = f->superuser};
    return ctx;
}

int bs_record_form_load_new(bs_record_form *f)
{
    f->record = bs_record_new(f->schema, f->c);
    return f->record ? 0 : BS_ENOMEM;
}

int bs_record_form_load_stored(bs_record_form *f, const char *id,
                               bs_error *err)
{
    bs_rule_ctx ctx = rule_ctx(f, false);
    f->stored_id = strdup(id);
    if (!f->stored_id)
        return BS_ENOMEM;
    int rc = bs_rules_find_record(&ctx, id, NULL, &f->record, err);
    if (rc == 0)
        bs_record_keep_original(f->record);
    return rc;
}

/* Splits a submitted key into the field name and its modifier: 0 for a
 * plain key, '+' (append), '^' (prepend) or '-' (remove). Returns false
 * for keys that cannot name a field. */
static bool split_key(const char *key, char *name, size_t cap, char *mod)
{
    size_t n = strlen(key);
    if (n == 0 || n >= cap)
        return false;
    *mod = 0;
    if (key[0] == '+') {
        *mod = '^';
        memcpy(name, key + 1, n);
    } else if (key[n - 1] == '+' || key[n - 1] == '-') {
        *mod = key[n - 1];
        memcpy(name, key, n - 1);
        name[n - 1] = '\0';
    } else {
        memcpy(name, key, n + 1);
    }
    return true;
}

/* Applies the submission to the record: plain keys first, then
 * modifiers, so "field+" adds to a value set in the same request. */
static void apply_data(bs_record_form *f, json_object *data)
{
    bs_record *rec = f->record;
    bool auth = bs_collection_is_auth(rec->collection);
    for (int pass = 0; pass < 2; pass++) {
        json_object_object_foreach(data, key, val) {
            char name[256], mod;
            if (!split_key(key, name, sizeof name, &mod) ||
                (pass == 0) != (mod == 0))
                continue;
            const bs_finfo *fd = bs_collection_finfo(rec->collection, name);
            if (!fd)
                continue;
            /* Autodate values are the server's alone, on create and
             * update, whoever asks (PocketBase's autodate field has no
             * setter). */
            if (fd->type == BS_F_AUTODATE)
                continue;
            if (fd->hidden && !f->superuser &&
                !(auth && strcmp(name, "password") == 0))
                continue;
            if (mod && fd->type != BS_F_PASSWORD) {
                json_object *nv = bs_finfo_modify(
                    fd, bs_json_get(rec->data, name), mod, val);
                json_object_object_add(rec->data, name, nv);
            } else {
                bs_record_set(rec, name, json_object_get(val));
            }
        }
    }
}

/* The submission as rules see it (@request.body): modifier keys
 * ("total+", "tags-") replaced by the field's resulting value. */
static json_object *resolve_body(const bs_record *rec, json_object *data)
{
    json_object *out = json_object_new_object();
    if (!out)
        return NULL;
    json_object_object_foreach(data, key, val) {
        char name[256], mod;
        if (!split_key(key, name, sizeof name, &mod))
            continue;
        if (!mod) {
            json_object_object_add(out, key, json_object_get(val));
            continue;
        }
        json_object *v = bs_json_get(rec->data, name);
        if (bs_collection_field(rec->collection, name))
            json_object_object_add(out, name, v ? json_object_get(v) : NULL);
    }
    return out;
}

int bs_record_form_load(bs_record_form *f, json_object *data)
{
    if (!data || !json_object_is_type(data, json_type_object))
        return BS_EINVAL;
    json_object_put(f->data);
    f->data = json_object_get(data);
    f->body_resolved = false;
    apply_data(f, data);
    return 0;
}
/* Whether the requester may set field fd of the record (hidden fields
 * only for superusers, an auth record's password aside). */
static bool settable(bs_record_form *f, const bs_finfo *fd)
{
    return !fd->hidden || f->superuser;
}

int bs_record_form_load_files(bs_record_form *f, bs_body *body,
                              bs_error *err)
{
    bs_record *rec = f->record;
    const char *prefix = body->files_prefix ? body->files_prefix : "";
    size_t pl = strlen(prefix);
    /* The new names grouped by key, in upload order. */
    json_object *groups = json_object_new_object();
    if (!groups)
        return BS_ENOMEM;
    int rc = 0;
    for (int i = 0; i < body->nfiles && rc == 0; i++) {
        bs_upload *u = &body->files[i];
        if (strncmp(u->field, prefix, pl) != 0)
            continue;
        const char *key = u->field + pl;
        char name[256], mod;
        if (!split_key(key, name, sizeof name, &mod) || mod == '-')
            continue;
        const bs_finfo *fd = bs_collection_finfo(rec->collection, name);
        if (!fd || !settable(f, fd))
            continue;
        if (fd->type != BS_F_FILE) {
            bs_error_field(err, name, "validation_invalid_value",
                           "Files are not accepted by this field.");
            continue;
        }
        char stored[160];
        rc = bs_record_add_upload(rec, fd, u, stored);
        if (rc)
            break;
        json_object *list = NULL;
        if (!json_object_object_get_ex(groups, key, &list)) {
            list = json_object_new_array();
            json_object_object_add(groups, key, list);
        }
        json_object_array_add(list, json_object_new_string(stored));
    }
    /* Plain keys first, then the modifiers, as for submitted values. */
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        json_object_object_foreach(groups, key, list) {
            char name[256], mod;
            split_key(key, name, sizeof name, &mod);
            if ((pass == 0) != (mod == 0))
                continue;
            const bs_finfo *fd = bs_collection_finfo(rec->collection, name);
            json_object *cur = bs_json_get(rec->data, name);
            if (mod == 0 && !bs_json_get(f->data, name)) {
                bs_record_set(rec, name, json_object_get(list));
            } else {
                json_object *nv =
                    bs_finfo_modify(fd, cur, mod ? mod : '+', list);
                json_object_object_add(rec->data, name, nv);
            }
        }
    }
    json_object_put(groups);
    if (rc == 0 && bs_error_has_fields(err))
        rc = bs_error_set(err, 400, rec->is_new ? "Failed to create record."
                                                : "Failed to update record.");
    return rc;
}

/* The auth form fields: the email and verified state may change only
 * with manage access, a password needs its confirmation, and changing it
 * without manage access needs the old password. Errors go to err. */
static void validate_auth_fields(bs_record_form *f, bool manage,
                                 bs_error *err)
{
    const bs_record *rec = f->record;
    json_object *data = f->data;
    bool is_new = rec->is_new;
    const char *password = rec->plain_password ? rec->plain_password : "";
    const char *confirm = bs_json_get_str(data, "passwordConfirm", "");
    const char *old = bs_json_get_str(data, "oldPassword", "");
    const json_object *orig = rec->original;
    if (!is_new && !manage &&
        strcmp(bs_record_get_string(rec, "email"),
               bs_json_get_str(orig, "email", "")) != 0)
        bs_error_field(err, "email", "validation_values_mismatch",
                       "Values don't match.");
    if (!manage && bs_record_get_bool(rec, "verified") !=
                       (orig ? bs_json_get_bool(orig, "verified", false)
                             : false))
        bs_error_field(err, "verified", "validation_values_mismatch",
                       "Values don't match.");
    if ((is_new || *confirm || *old) && !*password)
        bs_error_field(err, "password", "validation_required",
                       "Cannot be blank.");
    if ((is_new || *password || *old) && !*confirm)
        bs_error_field(err, "passwordConfirm", "validation_required",
                       "Cannot be blank.");
    else if (strcmp(confirm, password) != 0)
        bs_error_field(err, "passwordConfirm", "validation_values_mismatch",
                       "Values don't match.");
    if (!is_new && !manage && (*password || *confirm)) {
        if (!*old)
            bs_error_field(err, "oldPassword", "validation_required",
                           "Cannot be blank.");
        else if (!bs_password_check(rec, old))
            bs_error_field(err, "oldPassword",
                           "validation_invalid_old_password",
                           "Missing or invalid old password.");
    }
}

/* Whether the requester manages the record (auth collections with a
 * manage rule, authenticated non-superusers only). */
static bool has_manage_access(bs_record_form *f)
{
    const char *rule = bs_json_get_str(f->c->options, "manageRule", "");
    if (f->superuser || !bs_collection_is_auth(f->c) || !*rule)
        return false;
    json_object *auth = bs_json_get(request_data(f), "auth");
    if (!auth || json_object_is_type(auth, json_type_null))
        return false;
    if (f->record->is_new) {
        bs_rule_ctx ctx = rule_ctx(f, true);
        return bs_rules_match_values(&ctx, f->record, rule);
    }
    return bs_has_manage_access(f->app, f->schema, f->c, request_data(f),
                                f->record);
}

int bs_record_form_authorize(bs_record_form *f, bs_error *err)
{
    bool create = f->record->is_new;
    const char *rule = f->c->rules[create ? BS_RULE_CREATE : BS_RULE_UPDATE];
    bool evaluated = !f->superuser && rule && *rule;
    bs_rule_ctx ctx = rule_ctx(f, evaluated);
    if (!rule && !f->superuser)
        return bs_error_set(err, 403, "Only superusers can perform this "
                                      "action.");
    if (!create && !f->superuser && *rule) {
        int rc = bs_rules_find_record(&ctx, f->stored_id, rule, NULL, err);
        if (rc)
            return rc;
    }
    /* A body that renames the record stops here for non-superusers,
     * before manage access or any validation can report on the stored
     * values. (A superuser's attempt runs on to validation, as in
     * PocketBase, where it fails with the same field error.) */
    if (!create && !f->superuser &&
        strcmp(bs_record_id(f->record), f->stored_id) != 0) {
        bs_error_field(err, "id", "validation_pk_change",
                       "The record primary key cannot be changed.");
        return bs_error_set(err, 400, "Failed to update record.");
    }
    if (bs_collection_is_auth(f->c))
        validate_auth_fields(f, f->superuser || has_manage_access(f), err);
    if (bs_error_has_fields(err))
        return bs_error_set(err, 400, create ? "Failed to create record."
                                             : "Failed to update record.");
    if (create && !f->superuser && *rule &&
        !bs_rules_match_values(&ctx, f->record, rule)) {
        bs_error_dispose(err);
        return bs_error_set(err, 400, "Failed to create record.");
    }
    return 0;
}

int bs_record_form_save(bs_record_form *f, bs_error *err)
{
    bool create = bs_record_is_new(f->record);
    int rc = bs_record_save(f->app, f->record, err);
    if (rc && !err->status)
        bs_error_set(err, 400, create ? "Failed to create record."
                                      : "Failed to update record.");
    return rc;
}
