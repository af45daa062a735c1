/*
 * superuser.c - creating, changing and deleting superusers.
 *
 * A new superuser gets a random id and tokenKey and a bcrypt hash; a
 * password change also renews the tokenKey, which invalidates every token
 * issued before.
 */
#include "superuser.h"

#include <string.h>

#include "../base/util.h"
#include "app.h"
#include "password.h"

static const char TOKEN_ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

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

static bool exists(bs_conn *c, const char *email)
{
    sqlite3_stmt *st = bs_conn_prepare(
        c, "SELECT 1 FROM _superusers WHERE email = ?1 COLLATE NOCASE");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

static int write_record(bs_conn *c, bool create, const char *email,
                        const char *password, bs_error *err)
{
    char hash[64], token_key[51], id[16], now[25];
    int rc = bs_password_hash(password, 10, hash);
    if (rc == 0)
        rc = bs_random_string(token_key, 50, TOKEN_ALPHABET);
    if (rc == 0)
        rc = bs_random_id(id);
    if (rc)
        return bs_error_set(err, 500, "Failed to hash the password.");
    bs_now_str(now);
    sqlite3_stmt *st =
        create ? bs_conn_prepare(
                     c, "INSERT INTO _superusers (id, email, password, "
                        "tokenKey, emailVisibility, verified, created, "
                        "updated) VALUES (?1, ?2, ?3, ?4, 0, 1, ?5, ?5)")
               : bs_conn_prepare(
                     c, "UPDATE _superusers SET password = ?3, tokenKey = "
                        "?4, updated = ?5 WHERE email = ?2 COLLATE NOCASE");
    if (!st)
        return bs_error_set(err, 500, "Failed to save the superuser.");
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, token_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    return step == SQLITE_DONE
               ? 0
               : bs_error_set(err, 500, "Failed to save the superuser.");
}

int bs_superuser_apply(bs_app *app, bs_su_op op, const char *email,
                       const char *password, bs_error *err)
{
    int rc = validate(email, password, op, err);
    if (rc)
        return rc;
    bs_conn *c = NULL;
    rc = bs_store_tx_begin(app->store, &c, err);
    if (rc)
        return rc;
    bool found = exists(c, email);
    switch (op) {
    case BS_SU_CREATE:
        rc = found ? bs_error_set(err, 400, "Superuser \"%s\" already "
                                            "exists.", email)
                   : write_record(c, true, email, password, err);
        break;
    case BS_SU_UPSERT:
        rc = write_record(c, !found, email, password, err);
        break;
    case BS_SU_UPDATE:
        rc = !found ? bs_error_set(err, 404, "Superuser \"%s\" not found.",
                                   email)
                    : write_record(c, false, email, password, err);
        break;
    case BS_SU_DELETE: {
        if (!found) {
            rc = bs_error_set(err, 404, "Superuser \"%s\" not found.", email);
            break;
        }
        sqlite3_stmt *st = bs_conn_prepare(
            c, "DELETE FROM _superusers WHERE email = ?1 COLLATE NOCASE");
        if (!st) {
            rc = BS_EDB;
            break;
        }
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : BS_EDB;
        sqlite3_reset(st);
        break;
    }
    }
    int end = bs_store_tx_end(app->store, rc == 0, err);
    return rc ? rc : end;
}

int bs_superuser_count(bs_app *app)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = bs_conn_prepare(
        c, "SELECT COUNT(*) FROM _superusers WHERE email != "
           "'__pbinstaller@example.com'");
    int n = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    if (st)
        sqlite3_reset(st);
    bs_store_reader_release(app->store, c);
    return n;
}
