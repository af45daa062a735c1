/*
 * test_auth_models.c - the auth model invariants hold for saves made
 * without serving: from a bootstrap hook, as an embedding program or the
 * superuser command would. Until they moved to core they were bound only
 * when the API was registered, so these saves skipped them.
 */
#include <stdlib.h>

#include "basalt.h"
#include "core/app.h"
#include "core/record.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];
static bs_app *app;

/* COUNT(*) of sql with ?1 bound to arg, through a reader. */
static long count_of(const char *sql, const char *arg)
{
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(bs_conn_db(c), sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    bs_store_reader_release(app->store, c);
    return n;
}

/* A new record of coll; the caller frees it. */
static bs_record *new_record(const char *coll)
{
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = bs_schema_find(s, coll);
    bs_record *r = c ? bs_record_new(s, c) : NULL;
    bs_schema_unref(s);
    return r;
}

static int set_str(bs_record *r, const char *field, const char *v)
{
    return bs_record_set(r, field, json_object_new_string(v));
}

/* Saves an _otps record for the auth record rec. */
static int save_otp(const bs_record *rec, const char *record_ref)
{
    bs_record *otp = new_record("_otps");
    if (!otp)
        return BS_ENOTFOUND;
    set_str(otp, "collectionRef", rec->collection->id);
    set_str(otp, "recordRef", record_ref);
    set_str(otp, "password", "otp-secret");
    set_str(otp, "sentTo", "somebody@example.com");
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_save(app, otp, &err);
    bs_error_dispose(&err);
    bs_record_free(otp);
    return rc;
}

static const char OTPS_OF[] = "SELECT COUNT(*) FROM _otps WHERE recordRef = ?1";

/* The scenario, run from inside the bootstrap hook (after next, when the
 * store is open and nothing serves). */
static void in_bootstrap(void)
{
    bs_error err;
    bs_error_init(&err);

    /* A superuser saved as unverified comes out verified. */
    bs_record *su = new_record("_superusers");
    REQUIRE(su);
    set_str(su, "email", "root@example.com");
    set_str(su, "password", "1234567890");
    bs_record_set(su, "verified", json_object_new_boolean(0));
    CHECK(bs_record_save(app, su, &err) == 0);
    CHECK(count_of("SELECT COUNT(*) FROM _superusers WHERE email = ?1 AND "
                   "verified = 1",
                   "root@example.com") == 1);

    /* The only superuser cannot be deleted. */
    bs_error_dispose(&err);
    CHECK(bs_record_delete(app, su, &err) == BS_EHTTP);
    CHECK(err.status == 400);
    CHECK(count_of("SELECT COUNT(*) FROM _superusers WHERE email = ?1",
                   "root@example.com") == 1);
    bs_record_free(su);

    /* The references of an auth record must point at a real record. */
    bs_record *user = new_record("users");
    REQUIRE(user);
    CHECK(save_otp(user, "nosuchrecord123") == BS_EHTTP);

    /* An email change renews the tokenKey, which drops the OTPs. */
    set_str(user, "email", "first@example.com");
    set_str(user, "password", "1234567890");
    bs_error_dispose(&err);
    REQUIRE(bs_record_save(app, user, &err) == 0);
    char id[32];
    snprintf(id, sizeof id, "%s", bs_record_id(user));
    CHECK(save_otp(user, id) == 0);
    CHECK(count_of(OTPS_OF, id) == 1);
    set_str(user, "email", "second@example.com");
    CHECK(bs_record_save(app, user, &err) == 0);
    CHECK(count_of(OTPS_OF, id) == 0);

    /* Deleting an auth record deletes its OTPs. */
    CHECK(save_otp(user, id) == 0);
    CHECK(count_of(OTPS_OF, id) == 1);
    CHECK(bs_record_delete(app, user, &err) == 0);
    CHECK(count_of(OTPS_OF, id) == 0);
    CHECK(count_of("SELECT COUNT(*) FROM users WHERE id = ?1", id) == 0);
    bs_record_free(user);
    bs_error_dispose(&err);
}

static int ran;

static int on_bootstrap(bs_event *e, void *user)
{
    (void)user;
    int rc = bs_event_next(e);
    if (rc == 0) {
        ran = 1;
        in_bootstrap();
    }
    return rc;
}

TEST(invariants_hold_in_a_bootstrap_hook)
{
    bs_handler h = {.id = "test", .fn = on_bootstrap};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_BOOTSTRAP), &h) == 0);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_app_bootstrap(app, &err) == 0);
    bs_error_dispose(&err);
    CHECK(ran);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    app = bs_app_new(&cfg);
    if (!app)
        return 1;
    RUN(invariants_hold_in_a_bootstrap_hook);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
