/*
 * password.h - bcrypt password hashes through libxcrypt.
 */
#ifndef BS_PASSWORD_H
#define BS_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Hashes password with bcrypt ($2a$) at the given cost (10 when <= 0).
 * out must hold 64 bytes. Returns 0 or a negative BS_E* code. Safe from
 * any thread (the 32 KiB crypt state is heap-allocated per call). */
int bs_password_hash(const char *password, int cost, char out[64]);

/* Checks password against a stored bcrypt hash in constant time. */
bool bs_password_verify(const char *password, const char *hash);

#endif
