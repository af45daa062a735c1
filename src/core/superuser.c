/*
 * superuser.c - creating, changing and deleting superusers.
 *
 * The command line's superuser commands save through the record model
 * like every other caller (bs_record_save, bs_record_delete), so the
 * record hooks fire and the auth invariants apply: a new superuser gets
 * a random id and tokenKey and is verified, a password change renews the
 * tokenKey (which invalidates every token issued before), the password
 * is hashed before the write transaction, and the last superuser cannot
 * be deleted.
 */
#include "superuser.h"

#include <string.h>

#include "../base/buf.h"
#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "record.h"
#include "token.h"

static int validate(const char *email, const char *password, bs_su_op op,
                    bs_error *err)
{
    const char *at = email ? strchr(email, '@') : NULL;
    if (!at || at == email || !at[1] || strchr(email, ' '))
        return bs_error_set(err, 400, "Invalid email address \"%s\".",
                            email ? email : "");
    if (op != BS_SU_DELETE && (!password || strlen(password) < 8))
        return bs_error_set(err, 400,
                            "The password must be at least 8 characters.");
    if (op != BS_SU_DELETE && strlen(password) > 71)
        return bs_error_set(err, 400,
                            "The password must be at most 71 characters.");
    return 0;
}

/* The superuser with email (in any case) into *out, or NULL when there
 * is none; 0 or BS_EDB. */
static int find(bs_app *app, bs_schema *s, const bs_collection *c,
                const char *email, bs_record **out)
{
    *out = NULL;
    bs_conn *conn = bs_store_reader_acquire(app->store);
    bs_rows st;
    int rc = bs_rows_open(
        &st, conn, "SELECT * FROM _superusers WHERE email = ?1 COLLATE NOCASE",
        -1, BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, email, -1);
        int step = bs_rows_next(&st);
        if (step == 1) {
            *out = bs_record_from_row(s, c, &st);
            rc = *out ? 0 : BS_ENOMEM;
        } else if (step < 0) {
            rc = BS_EDB;
        }
    } else {
        rc = BS_EDB;
    }
    bs_rows_close(&st);
    bs_store_reader_release(app->store, conn);
    if (*out)
        bs_record_keep_original(*out);
    return rc;
}

/* Names the first invalid field in err's message, as the command line
 * shows only the message. */
static int explain(bs_error *err, int rc)
{
    if (!err->data)
        return rc;
    json_object_object_foreach(err->data, field, v)
    {
        bs_error_set(err, err->status ? err->status : 400,
                     "Failed to save the superuser: %s: %s", field,
                     bs_json_get_str(v, "message", "invalid value"));
        break;
    }
    return rc;
}

int bs_superuser_apply(bs_app *app, bs_su_op op, const char *email,
                       const char *password, bs_error *err)
{
    int rc = validate(email, password, op, err);
    if (rc)
        return rc;
    bs_record *rec = NULL;
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = s ? bs_schema_find(s, "_superusers") : NULL;
    if (!c) {
        rc = bs_error_set(err, 500, "The _superusers collection is missing.");
        goto end;
    }
    rc = find(app, s, c, email, &rec);
    if (rc) {
        rc = bs_error_set(err, 500, "Failed to read the superusers.");
        goto end;
    }
    if (rec && op == BS_SU_CREATE) {
        rc = bs_error_set(err, 400, "Superuser \"%s\" already exists.",
                          email);
        goto end;
    }
    if (!rec && (op == BS_SU_UPDATE || op == BS_SU_DELETE)) {
        rc = bs_error_set(err, 404, "Superuser \"%s\" not found.", email);
        goto end;
    }
    if (op == BS_SU_DELETE) {
        rc = bs_record_delete(app, rec, err);
        goto end;
    }
    if (!rec) {
        rec = bs_record_new(s, c);
        if (!rec || bs_record_set(rec, "email",
                                  json_object_new_string(email)) != 0) {
            rc = BS_ENOMEM;
            goto end;
        }
    }
    rc = bs_record_set(rec, "password", json_object_new_string(password));
    if (rc == 0)
        rc = explain(err, bs_record_save(app, rec, err));
end:
    bs_record_free(rec);
    bs_schema_unref(s);
    return rc;
}

int bs_superuser_count(bs_app *app)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    int64_t n = 0;
    bs_conn_query_int(c,
                      "SELECT COUNT(*) FROM _superusers WHERE email != "
                      "'" BS_SUPERUSER_INSTALLER "'",
                      -1, BS_ROWS_FIXED, NULL, &n);
    bs_store_reader_release(app->store, c);
    return (int)n;
}

int bs_superuser_installer_token(bs_app *app, bs_buf *out, bs_error *err)
{
    char password[33];
    if (bs_random_string(password, 32,
                         "abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != 0)
        return bs_error_set(err, 500, "No random source.");
    int rc = bs_superuser_apply(app, BS_SU_UPSERT, BS_SUPERUSER_INSTALLER,
                                password, err);
    if (rc)
        return rc;
    bs_record *rec = NULL;
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = s ? bs_schema_find(s, "_superusers") : NULL;
    if (!c || find(app, s, c, BS_SUPERUSER_INSTALLER, &rec) != 0 || !rec)
        rc = bs_error_set(err, 500, "Failed to load the installer superuser.");
    else if (bs_token_for_record(rec, "auth", 30 * 60, false, NULL, out) != 0)
        rc = bs_error_set(err, 500, "Failed to sign the installer token.");
    bs_record_free(rec);
    bs_schema_unref(s);
    return rc;
}
