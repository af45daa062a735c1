/*
 * superuser.h - managing `_superusers` records (used by the CLI).
 */
#ifndef BS_SUPERUSER_H
#define BS_SUPERUSER_H

#include "basalt.h"

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

#endif
