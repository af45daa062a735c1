/*
 * test_record_password.c - a save with a new password hashes it before
 * taking the writer lock, so other saves do not wait for bcrypt.
 *
 * The test owns crypt_r (the executable's definition wins over
 * libcrypt's; the real one is found with dlsym). Armed, the first hash
 * stops and waits for a plain record to be saved on another thread. If
 * the hash ran while the writer lock was held, that save could not
 * finish: the wait gives up after a long deadline and the test fails.
 * No timing is measured; the deadline only keeps a failure from hanging.
 */
#include <crypt.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "basalt.h"
#include "core/app.h"
#include "core/collection.h"
#include "core/password.h"
#include "core/record.h"
#include "core/tx.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];
static bs_app *app;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool armed;        /* the next hash waits for the plain save */
static bool hashing;      /* the armed hash has started */
static bool plain_saved;  /* the plain save has committed */
static bool saved_during_hash;

/* Waits on cv until *flag or the deadline; mu held. */
static void wait_for(const bool *flag)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    while (!*flag && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
    }
}

typedef char *(*crypt_r_fn)(const char *, const char *, struct crypt_data *);

char *crypt_r(const char *phrase, const char *setting, struct crypt_data *data)
{
    static crypt_r_fn real;
    if (!real)
        real = (crypt_r_fn)dlsym(RTLD_NEXT, "crypt_r");
    pthread_mutex_lock(&mu);
    if (armed) {
        armed = false;
        hashing = true;
        pthread_cond_broadcast(&cv);
        wait_for(&plain_saved);
        saved_during_hash = plain_saved;
    }
    pthread_mutex_unlock(&mu);
    return real(phrase, setting, data);
}

static int create_collection_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    json_object *col = json_tokener_parse(
        "{\"name\":\"notes\",\"type\":\"base\","
        "\"fields\":[{\"name\":\"title\",\"type\":\"text\"}]}");
    int rc = bs_collection_normalize(col, err);
    if (rc == 0)
        rc = bs_collection_create(bs_tx_conn(tx), col, err);
    json_object_put(col);
    return rc;
}

static bs_record *new_record(const char *coll)
{
    bs_schema *s = bs_app_schema(app);
    const bs_collection *c = bs_schema_find(s, coll);
    bs_record *r = c ? bs_record_new(s, c) : NULL;
    bs_schema_unref(s);
    return r;
}

static int plain_rc = -1;

/* Once the password save is inside bcrypt, saves a plain record. */
static void *plain_writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    wait_for(&hashing);
    pthread_mutex_unlock(&mu);
    bs_record *note = new_record("notes");
    bs_record_set(note, "title", json_object_new_string("while hashing"));
    bs_error err;
    bs_error_init(&err);
    plain_rc = bs_record_save(app, note, &err);
    bs_error_dispose(&err);
    bs_record_free(note);
    pthread_mutex_lock(&mu);
    plain_saved = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

TEST(plain_save_does_not_wait_for_bcrypt)
{
    bs_record *user = new_record("users");
    REQUIRE(user);
    bs_record_set(user, "email", json_object_new_string("u@example.com"));
    bs_record_set(user, "password", json_object_new_string("1234567890"));
    pthread_mutex_lock(&mu);
    armed = true;
    pthread_mutex_unlock(&mu);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, plain_writer, NULL) == 0);
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, user, &err) == 0);
    bs_error_dispose(&err);
    pthread_join(t, NULL);
    CHECK(plain_rc == 0);
    CHECK(saved_during_hash);
    CHECK(bs_password_verify("1234567890",
                             bs_record_get_string(user, "password")));
    bs_record_free(user);
}

/* A hook that changes the password inside the transaction drops the hash
 * made before it: the new one is what gets stored. */
static int change_password(bs_event *e, void *user)
{
    (void)user;
    bs_record_event *re = (bs_record_event *)e;
    bs_record_set(re->record, "password",
                  json_object_new_string("changed-in-hook"));
    return bs_event_next(e);
}

TEST(password_set_by_a_hook_is_hashed)
{
    static const char *const tags[] = {"users", NULL};
    bs_handler h = {.id = "test_pw", .fn = change_password, .tags = tags};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_CREATE), &h) == 0);
    bs_record *user = new_record("users");
    REQUIRE(user);
    bs_record_set(user, "email", json_object_new_string("h@example.com"));
    bs_record_set(user, "password", json_object_new_string("1234567890"));
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, user, &err) == 0);
    bs_error_dispose(&err);
    const char *hash = bs_record_get_string(user, "password");
    CHECK(bs_password_verify("changed-in-hook", hash));
    CHECK(!bs_password_verify("1234567890", hash));
    bs_record_free(user);
    bs_hook_unbind(bs_app_hook(app, BS_ON_RECORD_CREATE), "test_pw");
}

/* A password the validation refuses is refused as before. */
TEST(short_password_still_refused)
{
    bs_record *user = new_record("users");
    REQUIRE(user);
    bs_record_set(user, "email", json_object_new_string("s@example.com"));
    bs_record_set(user, "password", json_object_new_string("short"));
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, user, &err) == BS_EHTTP);
    CHECK(err.status == 400);
    CHECK(bs_error_has_fields(&err));
    bs_error_dispose(&err);
    bs_record_free(user);
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    bs_app_config cfg = {.data_dir = dir, .threads = 2};
    app = bs_app_new(&cfg);
    bs_error err;
    bs_error_init(&err);
    if (!app || bs_app_bootstrap(app, &err) != 0 ||
        bs_run_in_transaction(app, create_collection_tx, &err, &err) != 0 ||
        bs_app_reload_schema(app) != 0) {
        fprintf(stderr, "setup failed: %s\n", err.message ? err.message : "?");
        return 1;
    }
    bs_error_dispose(&err);
    RUN(plain_save_does_not_wait_for_bcrypt);
    RUN(password_set_by_a_hook_is_hashed);
    RUN(short_password_still_refused);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
