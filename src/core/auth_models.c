/*
 * auth_models.c - model hooks that keep the auth data consistent.
 *
 * Bound on the record hooks when the app is created (bs_app_new), so
 * they hold for every save: an API request, a bootstrap or serve hook,
 * an embedding program or the `basalt superuser` command. They carry
 * the built-in behaviour of PocketBase's auth models:
 *  - superusers are always verified, the installer placeholder account
 *    goes away once a real superuser is created, and the last superuser
 *    cannot be deleted;
 *  - an auth record's tokenKey is renewed when its email changes (the
 *    record model already renews it with the password), which revokes
 *    every token issued before; its OTPs go with the old tokenKey, its
 *    MFA sessions and login origins with the old password, and its OAuth2
 *    links when it gets verified (an unverified account may have been
 *    linked by someone else);
 *  - deleting an auth record deletes its OTPs, MFA sessions, login
 *    origins and OAuth2 links;
 *  - records of those four system collections must point at an existing
 *    record of an auth collection, and an OAuth2 link at a known
 *    provider.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_models.h"

#include "../base/json.h"
#include "../base/util.h"
#include "../db/sql.h"
#include "app.h"
#include "oauth2.h"
#include "record.h"
#include "superuser.h"
#include "tx.h"

static const char *const REF_COLLECTIONS[] = {"_otps", "_mfas",
                                              "_authOrigins",
                                              "_externalAuths", NULL};
static const char *const SUPERUSERS[] = {"_superusers", NULL};
static const char *const EXTERNAL_AUTHS[] = {"_externalAuths", NULL};

/* The records of system collection `coll` pointing at (cid, rid), read
 * through the transaction's connection. */
static int refs_in_tx(bs_tx *tx, bs_schema *schema, const char *coll,
                      const char *cid, const char *rid, bs_record ***out,
                      int *n)
{
    *out = NULL;
    *n = 0;
    const bs_collection *c = bs_schema_find(schema, coll);
    if (!c)
        return 0;
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "SELECT * FROM ");
    bs_sql_ident(&sql, c->name);
    bs_buf_puts(&sql, " WHERE collectionRef = ?1 AND recordRef = ?2");
    bs_rows st;
    st = (bs_rows){0};
    int rc = sql.oom ? BS_ENOMEM
                     : bs_rows_open(&st, bs_tx_conn(tx), sql.data,
                                    (long)sql.len, BS_ROWS_ONCE);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, cid, -1);
        bs_rows_bind_text(&st, 2, rid, -1);
        int cap = 0;
        while (bs_rows_next(&st) == 1) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 8;
                bs_record **tmp = realloc(*out, sizeof *tmp * (size_t)cap);
                if (!tmp) {
                    rc = BS_ENOMEM;
                    break;
                }
                *out = tmp;
            }
            bs_record *r = bs_record_from_row(schema, c, &st);
            if (r)
                (*out)[(*n)++] = r;
        }
    }
    bs_rows_close(&st);
    bs_buf_dispose(&sql);
    return rc;
}

/* Deletes the refs of rec in coll; returns how many or a negative code. */
static int delete_refs(bs_record_event *e, const char *coll)
{
    bs_record **refs = NULL;
    int n = 0;
    int rc = refs_in_tx(e->tx, e->record->schema, coll,
                        e->record->collection->id, bs_record_id(e->record),
                        &refs, &n);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = bs_record_delete(e->ev.app, refs[i], e->ev.error);
    for (int i = 0; i < n; i++)
        bs_record_free(refs[i]);
    free(refs);
    return rc ? rc : n;
}

static void new_token_key(bs_record *rec)
{
    char key[51];
    if (bs_random_string(key, 50, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                  "OPQRSTUVWXYZ0123456789") == 0)
        json_object_object_add(rec->data, "tokenKey",
                               json_object_new_string(key));
}

static const char *orig_str(const bs_record *r, const char *field)
{
    return r->original ? bs_json_get_str(r->original, field, "") : "";
}

/* ---- superusers ----------------------------------------------------------- */

static int superuser_save_exec(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    bool create = e->record->is_new;
    json_object_object_add(e->record->data, "verified",
                           json_object_new_boolean(1));
    int rc = bs_event_next(ev);
    if (rc || !create ||
        strcmp(bs_record_get_string(e->record, "email"), BS_SUPERUSER_INSTALLER) == 0)
        return rc;
    bs_rows st;
    bs_record *installer = NULL;
    if (bs_rows_open(&st, bs_tx_conn(e->tx),
                     "SELECT * FROM _superusers WHERE email = ?1 LIMIT 1", -1,
                     BS_ROWS_ONCE) == 0) {
        bs_rows_bind_text(&st, 1, BS_SUPERUSER_INSTALLER, -1);
        if (bs_rows_next(&st) == 1)
            installer = bs_record_from_row(e->record->schema,
                                           e->record->collection, &st);
    }
    bs_rows_close(&st);
    if (installer) {
        bs_error err;
        bs_error_init(&err);
        if (bs_record_delete(ev->app, installer, &err) != 0)
            bs_log('W', "Failed to delete installer superuser");
        bs_error_dispose(&err);
        bs_record_free(installer);
    }
    return 0;
}

static int superuser_delete(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    int64_t total = 0;
    bs_conn_query_int(bs_tx_conn(e->tx), "SELECT COUNT(*) FROM _superusers",
                      -1, BS_ROWS_ONCE, NULL, &total);
    if (total == 1) {
        if (ev->error)
            bs_error_set(ev->error, 400, "You can't delete the only existing "
                                         "superuser");
        return BS_EHTTP;
    }
    return bs_event_next(ev);
}

/* ---- auth records ------------------------------------------------------------- */

static int auth_update_exec(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    bs_record *rec = e->record;
    if (!bs_collection_is_auth(rec->collection) || !rec->original)
        return bs_event_next(ev);
    bool same_key = strcmp(orig_str(rec, "tokenKey"),
                           bs_record_get_string(rec, "tokenKey")) == 0;
    if (same_key && strcmp(orig_str(rec, "email"),
                           bs_record_get_string(rec, "email")) != 0)
        new_token_key(rec);
    bool upgraded = !bs_json_get_bool(rec->original, "verified", false) &&
                    bs_record_get_bool(rec, "verified");
    if (upgraded) {
        int n = delete_refs(e, "_externalAuths");
        if (n < 0)
            return n;
        if (n > 0 && strcmp(orig_str(rec, "tokenKey"),
                            bs_record_get_string(rec, "tokenKey")) == 0)
            new_token_key(rec);
    }
    int rc = bs_event_next(ev);
    if (rc)
        return rc;
    if (strcmp(orig_str(rec, "tokenKey"),
               bs_record_get_string(rec, "tokenKey")) != 0) {
        int n = delete_refs(e, "_otps");
        if (n < 0)
            return n;
    }
    return 0;
}

static int auth_update(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    int rc = bs_event_next(ev);
    bs_record *rec = e->record;
    if (rc || !bs_collection_is_auth(rec->collection) || !rec->original)
        return rc;
    if (strcmp(orig_str(rec, "password"),
               bs_record_get_string(rec, "password")) == 0)
        return 0;
    int n = delete_refs(e, "_mfas");
    if (n < 0)
        return n;
    if (delete_refs(e, "_authOrigins") < 0)
        bs_log('W', "Failed to delete all previous auth origin fingerprints "
                    "of record %s",
               bs_record_id(rec));
    return 0;
}

static int auth_delete_exec(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    int rc = bs_event_next(ev);
    if (rc || !bs_collection_is_auth(e->record->collection))
        return rc;
    for (int i = 0; REF_COLLECTIONS[i]; i++) {
        int n = delete_refs(e, REF_COLLECTIONS[i]);
        if (n < 0)
            return n;
    }
    return 0;
}

/* ---- the reference collections -------------------------------------------------- */

static int refs_validate(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    bs_error *err = ev->error;
    const char *cid = bs_record_get_string(e->record, "collectionRef");
    const char *rid = bs_record_get_string(e->record, "recordRef");
    const bs_collection *c = *cid ? bs_schema_find(e->record->schema, cid)
                                  : NULL;
    bool failed = false;
    if (!*cid) {
        if (err)
            bs_error_field(err, "collectionRef", "validation_required",
                           "Cannot be blank.");
        failed = true;
    } else if (!c || strcmp(c->id, cid) != 0) {
        if (err)
            bs_error_field(err, "collectionRef",
                           "validation_invalid_collection_id",
                           "Missing or invalid collection.");
        failed = true;
    } else if (!bs_collection_is_auth(c)) {
        if (err)
            bs_error_field(err, "collectionRef",
                           "validation_invalid_collection_type",
                           "Invalid collection type - must be auth.");
        failed = true;
    }
    if (!failed) {
        bool exists = false;
        if (*rid) {
            bs_buf sql;
            bs_buf_init(&sql);
            bs_buf_puts(&sql, "SELECT 1 FROM ");
            bs_sql_ident(&sql, c->name);
            bs_buf_puts(&sql, " WHERE id = ?1 LIMIT 1");
            int64_t one = 0;
            exists = !sql.oom &&
                     bs_conn_query_int(bs_tx_conn(e->tx), sql.data,
                                       (long)sql.len, BS_ROWS_ONCE, rid,
                                       &one) == 1;
            bs_buf_dispose(&sql);
        }
        if (!*rid) {
            if (err)
                bs_error_field(err, "recordRef", "validation_required",
                               "Cannot be blank.");
            failed = true;
        } else if (!exists) {
            if (err)
                bs_error_field(err, "recordRef", "validation_invalid_record",
                               "Missing or invalid record.");
            failed = true;
        }
    }
    return failed ? BS_EHTTP : bs_event_next(ev);
}

static int external_auth_validate(bs_event *ev, void *user)
{
    (void)user;
    bs_record_event *e = (bs_record_event *)ev;
    const char *provider = bs_record_get_string(e->record, "provider");
    if (!*provider || !bs_oauth2_provider_known(provider)) {
        if (ev->error) {
            if (*provider)
                bs_error_field(ev->error, "provider", "validation_in_invalid",
                               "Must be a valid value.");
            else
                bs_error_field(ev->error, "provider", "validation_required",
                               "Cannot be blank.");
        }
        return BS_EHTTP;
    }
    return bs_event_next(ev);
}

int bs_auth_models_bind(bs_app *app)
{
    const struct {
        int hook;
        bs_handler h;
    } binds[] = {
        {BS_ON_RECORD_CREATE_EXECUTE,
         {.id = "pbSuperusersRecordSaveExec", .priority = -99,
          .fn = superuser_save_exec, .tags = SUPERUSERS}},
        {BS_ON_RECORD_UPDATE_EXECUTE,
         {.id = "pbSuperusersRecordSaveExec", .priority = -99,
          .fn = superuser_save_exec, .tags = SUPERUSERS}},
        {BS_ON_RECORD_DELETE,
         {.id = "pbSuperusersRecordDelete", .priority = -99,
          .fn = superuser_delete, .tags = SUPERUSERS}},
        {BS_ON_RECORD_UPDATE_EXECUTE,
         {.id = "pbAuthRecordUpdateExec", .priority = 99,
          .fn = auth_update_exec}},
        {BS_ON_RECORD_UPDATE,
         {.id = "pbAuthRecordPasswordChange", .priority = 99,
          .fn = auth_update}},
        {BS_ON_RECORD_DELETE_EXECUTE,
         {.id = "pbAuthRecordRefsDelete", .priority = 99,
          .fn = auth_delete_exec}},
        {BS_ON_RECORD_VALIDATE,
         {.id = "pbAuthRefsValidate", .priority = 99, .fn = refs_validate,
          .tags = REF_COLLECTIONS}},
        {BS_ON_RECORD_VALIDATE,
         {.id = "pbExternalAuthProviderValidate", .priority = 99,
          .fn = external_auth_validate, .tags = EXTERNAL_AUTHS}},
    };
    for (size_t i = 0; i < sizeof binds / sizeof binds[0]; i++) {
        if (bs_hook_bind(app->hooks[binds[i].hook], &binds[i].h) != 0)
            return BS_ENOMEM;
    }
    return 0;
}
