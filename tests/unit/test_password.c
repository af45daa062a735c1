/*
 * test_password.c - bcrypt hashing and verification. bcrypt is slow on
 * purpose, so this file hashes only twice.
 */
#include "core/password.h"
#include "harness.h"

/* PocketBase's tests/data: _superusers test4@example.com, whose password
 * in PocketBase's own tests is "1234567890" (cost 10). */
static const char PB_HASH[] =
    "$2a$10$0CUWH81tPWUhxKqksZnO/eDfJiWTTG/xg7v5Yg8RhcLIGWY3oeCHe";

TEST(hash_default_cost_and_verify)
{
    char h[64];
    REQUIRE(bs_password_hash("correct horse", 0, h) == 0);
    CHECK(strncmp(h, "$2a$10$", 7) == 0);
    CHECK(strlen(h) == 60);
    CHECK(bs_password_verify("correct horse", h));
    CHECK(!bs_password_verify("correct horsE", h));
    CHECK(!bs_password_verify("", h));
    CHECK(!bs_password_verify("correct horse ", h));
}

TEST(hashes_are_salted)
{
    char a[64];
    REQUIRE(bs_password_hash("same", 4, a) == 0);
    CHECK(strncmp(a, "$2a$04$", 7) == 0);
    CHECK(bs_password_verify("same", a));
    /* A second hash of the same password differs by its salt. The first
     * test's hash is not reused here so the check stays cheap. */
    char b[64];
    REQUIRE(bs_password_hash("same", 4, b) == 0);
    CHECK(strcmp(a, b) != 0);
    CHECK(bs_password_verify("same", b));
}

TEST(verifies_pocketbase_hash)
{
    CHECK(bs_password_verify("1234567890", PB_HASH));
    CHECK(!bs_password_verify("1234567891", PB_HASH));
}

TEST(garbage_hashes_never_verify)
{
    CHECK(!bs_password_verify("x", NULL));
    CHECK(!bs_password_verify("x", ""));
    CHECK(!bs_password_verify("x", "x"));
    CHECK(!bs_password_verify("x", "$2a$"));
    CHECK(!bs_password_verify("x", "$2a$10$short"));
    CHECK(!bs_password_verify("x", "$1$abc$def")); /* MD5-crypt */
    CHECK(!bs_password_verify("x", "*0"));
    CHECK(!bs_password_verify("", "$2a$99$0CUWH81tPWUhxKqksZnO/eDfJiWTTG/"
                                  "xg7v5Yg8RhcLIGWY3oeCHe"));
    /* The right password against a hash with one character changed. */
    char h[sizeof PB_HASH];
    memcpy(h, PB_HASH, sizeof PB_HASH);
    h[40] = h[40] == 'a' ? 'b' : 'a';
    CHECK(!bs_password_verify("1234567890", h));
}

int main(void)
{
    RUN(hash_default_cost_and_verify);
    RUN(hashes_are_salted);
    RUN(verifies_pocketbase_hash);
    RUN(garbage_hashes_never_verify);
    return harness_summary(__FILE__);
}
