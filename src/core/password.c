/*
 * password.c - bcrypt password hashes through libxcrypt.
 */
#include "password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"
#include "basalt.h"

int bs_password_hash(const char *password, int cost, char out[64])
{
    if (cost <= 0)
        cost = 10;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2a$", (unsigned long)cost, NULL, 0, setting,
                          sizeof setting))
        return BS_EIO;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return BS_ENOMEM;
    const char *h = crypt_r(password, setting, cd);
    int rc = 0;
    if (!h || h[0] == '*' || strlen(h) >= 64)
        rc = BS_EIO;
    else
        strcpy(out, h);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return rc;
}

bool bs_password_verify(const char *password, const char *hash)
{
    if (!hash || strncmp(hash, "$2", 2) != 0)
        return false;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return false;
    const char *h = crypt_r(password, hash, cd);
    bool ok = h && h[0] != '*' && bs_ct_equal(h, strlen(h), hash, strlen(hash));
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok;
}
