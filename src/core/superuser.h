/*
 * superuser.h - managing `_superusers` records (used by the CLI).
 */
#ifndef BS_SUPERUSER_H
#define BS_SUPERUSER_H

#include "basalt.h"
#include "../base/buf.h"

typedef enum bs_su_op {
    BS_SU_CREATE, /* fails when the email exists */
    BS_SU_UPSERT, /* create or change the password */
    BS_SU_UPDATE, /* change the password; fails when missing */
    BS_SU_DELETE  /* fails when missing */
} bs_su_op;

/* Runs op through bs_record_save or bs_record_delete on a bootstrapped
 * app, so the record hooks fire and the auth invariants apply (the last
 * superuser cannot be deleted). The email is matched in any case.
 * password is ignored for delete. Errors: BS_EHTTP with err's status 400
 * (bad input, an existing email on create, a refused save) or 404 (a
 * missing superuser on update or delete). Call from any thread. */
int bs_superuser_apply(bs_app *app, bs_su_op op, const char *email,
                       const char *password, bs_error *err);

/* Number of superusers (excluding PocketBase's installer placeholder). */
int bs_superuser_count(bs_app *app);

/* The email of PocketBase's installer placeholder: a superuser with a
 * random password that exists only until the first real superuser is
 * created (the superuser save hook then deletes it). */
#define BS_SUPERUSER_INSTALLER "__pbinstaller@example.com"

/* For the first-run installer link (PocketBase's pbinstall): creates the
 * installer placeholder, or gives it a new random password (which renews
 * its tokenKey, so earlier links stop working), and appends to out an
 * auth token of it, valid 30 minutes and not refreshable. Call only when
 * bs_superuser_count is 0. Returns 0 or an error in err. Any thread. */
int bs_superuser_installer_token(bs_app *app, bs_buf *out,
                                 bs_error *err);

#endif
