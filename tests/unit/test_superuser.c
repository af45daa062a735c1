/*
 * test_superuser.c - creating, changing and deleting superusers in a
 * bootstrapped data directory. Each create or password change hashes
 * with bcrypt (cost 10), so the file keeps those few. The command saves
 * through the record model: its hooks fire and the auth invariants hold.
 */
#include <stdlib.h>

#include "core/app.h"
#include "core/password.h"
#include "core/superuser.h"
#include "harness.h"
#include "tmpdir.h"

static char dir[256];
static bs_app *app;

typedef struct su_row {
    char id[32];
    char password[80];
    char token_key[80];
    char email[128];
    int verified;
    char created[32];
    char updated[32];
    bool found;
} su_row;

static su_row row_of(const char *email)
{
    su_row r;
    memset(&r, 0, sizeof r);
    bs_conn *c = bs_store_reader_acquire(app->store);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(bs_conn_db(c),
                           "SELECT id, password, tokenKey, email, verified, "
                           "created, updated FROM _superusers WHERE email = "
                           "?1 COLLATE NOCASE",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            r.found = true;
            snprintf(r.id, sizeof r.id, "%s", sqlite3_column_text(st, 0));
            snprintf(r.password, sizeof r.password, "%s",
                     sqlite3_column_text(st, 1));
            snprintf(r.token_key, sizeof r.token_key, "%s",
                     sqlite3_column_text(st, 2));
            snprintf(r.email, sizeof r.email, "%s",
                     sqlite3_column_text(st, 3));
            r.verified = sqlite3_column_int(st, 4);
            snprintf(r.created, sizeof r.created, "%s",
                     sqlite3_column_text(st, 5));
            snprintf(r.updated, sizeof r.updated, "%s",
                     sqlite3_column_text(st, 6));
        }
        sqlite3_finalize(st);
    }
    bs_store_reader_release(app->store, c);
    return r;
}

static int apply(bs_su_op op, const char *email, const char *pw, int *status)
{
    bs_error e;
    bs_error_init(&e);
    int rc = bs_superuser_apply(app, op, email, pw, &e);
    if (status)
        *status = e.status;
    bs_error_dispose(&e);
    return rc;
}

TEST(create_then_create_again_fails)
{
    CHECK(bs_superuser_count(app) == 0);
    int status = 0;
    CHECK(apply(BS_SU_CREATE, "Admin@Example.com", "password123", NULL) == 0);
    CHECK(bs_superuser_count(app) == 1);
    su_row r = row_of("admin@example.com");
    REQUIRE(r.found);
    CHECK(strlen(r.id) == 15);
    CHECK(strspn(r.id, "abcdefghijklmnopqrstuvwxyz0123456789") == 15);
    CHECK(strlen(r.token_key) == 50);
    CHECK(strncmp(r.password, "$2a$10$", 7) == 0);
    CHECK(bs_password_verify("password123", r.password));
    CHECK_STR(r.email, "Admin@Example.com");
    CHECK(r.verified == 1);
    CHECK(strlen(r.created) == 24 && r.created[23] == 'Z');
    CHECK_STR(r.created, r.updated);
    /* The same email in another case already exists. */
    CHECK(apply(BS_SU_CREATE, "admin@example.COM", "password456", &status) ==
          BS_EHTTP);
    CHECK(status == 400);
    CHECK(bs_superuser_count(app) == 1);
}

TEST(update_changes_password_and_token_key)
{
    su_row before = row_of("admin@example.com");
    REQUIRE(before.found);
    CHECK(apply(BS_SU_UPDATE, "admin@example.com", "newpassword1", NULL) == 0);
    su_row after = row_of("admin@example.com");
    REQUIRE(after.found);
    CHECK_STR(after.id, before.id);
    CHECK(strcmp(after.token_key, before.token_key) != 0);
    CHECK(bs_password_verify("newpassword1", after.password));
    CHECK(!bs_password_verify("password123", after.password));
    CHECK(bs_superuser_count(app) == 1);
    int status = 0;
    CHECK(apply(BS_SU_UPDATE, "nobody@example.com", "newpassword1", &status) ==
          BS_EHTTP);
    CHECK(status == 404);
}

TEST(upsert_creates_or_updates)
{
    CHECK(apply(BS_SU_UPSERT, "second@example.com", "12345678", NULL) == 0);
    CHECK(bs_superuser_count(app) == 2);
    su_row a = row_of("second@example.com");
    REQUIRE(a.found);
    CHECK(apply(BS_SU_UPSERT, "second@example.com", "87654321", NULL) == 0);
    CHECK(bs_superuser_count(app) == 2);
    su_row b = row_of("second@example.com");
    CHECK_STR(b.id, a.id);
    CHECK(bs_password_verify("87654321", b.password));
}

TEST(delete_removes_or_fails)
{
    int status = 0;
    CHECK(apply(BS_SU_DELETE, "second@example.com", NULL, NULL) == 0);
    CHECK(!row_of("second@example.com").found);
    CHECK(bs_superuser_count(app) == 1);
    CHECK(apply(BS_SU_DELETE, "second@example.com", NULL, &status) ==
          BS_EHTTP);
    CHECK(status == 404);
    CHECK(bs_superuser_count(app) == 1);
}

TEST(validation_before_any_write)
{
    int status = 0;
    static const char *const bad_emails[] = {"", "plain", "@example.com",
                                             "a@", "a b@example.com"};
    for (size_t i = 0; i < sizeof bad_emails / sizeof bad_emails[0]; i++) {
        status = 0;
        CHECK(apply(BS_SU_UPSERT, bad_emails[i], "password123", &status) ==
              BS_EHTTP);
        CHECK(status == 400);
    }
    CHECK(apply(BS_SU_UPSERT, NULL, "password123", &status) == BS_EHTTP);
    CHECK(apply(BS_SU_CREATE, "x@example.com", "short", &status) == BS_EHTTP);
    CHECK(status == 400);
    CHECK(apply(BS_SU_CREATE, "x@example.com", NULL, &status) == BS_EHTTP);
    char longpw[80];
    memset(longpw, 'p', 72);
    longpw[72] = '\0';
    CHECK(apply(BS_SU_CREATE, "x@example.com", longpw, &status) == BS_EHTTP);
    CHECK(status == 400);
    CHECK(!row_of("x@example.com").found);
    CHECK(bs_superuser_count(app) == 1);
}

TEST(installer_placeholder_not_counted)
{
    bs_conn *c = NULL;
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_store_tx_begin(app->store, &c, &e) == 0);
    CHECK(bs_conn_exec(c, "INSERT INTO _superusers (id, email, password, "
                          "tokenKey) VALUES ('installer000001', "
                          "'__pbinstaller@example.com', 'x', "
                          "'installer-token-key-0000000000000')",
                       &e) == 0);
    CHECK(bs_store_tx_end(app->store, true, &e) == 0);
    bs_error_dispose(&e);
    CHECK(bs_superuser_count(app) == 1);
}

static char trace[64];

static int on_su(bs_event *e, void *user)
{
    strncat(trace, user, sizeof trace - strlen(trace) - 1);
    return bs_event_next(e);
}

TEST(saves_fire_the_record_hooks)
{
    static const char *const tags[] = {"_superusers", NULL};
    static const struct {
        bs_hook_id id;
        const char *mark;
    } binds[] = {{BS_ON_RECORD_CREATE, "C"},
                 {BS_ON_RECORD_UPDATE, "U"},
                 {BS_ON_RECORD_DELETE, "D"},
                 {BS_ON_RECORD_VALIDATE, "v"},
                 {BS_ON_RECORD_AFTER_CREATE_SUCCESS, "c"},
                 {BS_ON_RECORD_AFTER_DELETE_SUCCESS, "d"}};
    for (size_t i = 0; i < sizeof binds / sizeof binds[0]; i++) {
        bs_handler h = {.id = "test_su", .fn = on_su,
                        .user = (void *)binds[i].mark, .tags = tags};
        REQUIRE(bs_hook_bind(bs_app_hook(app, binds[i].id), &h) == 0);
    }
    /* A new superuser (C, v, c), and the installer placeholder is
     * deleted with it (D, d). */
    trace[0] = '\0';
    CHECK(apply(BS_SU_UPSERT, "third@example.com", "password123", NULL) ==
          0);
    CHECK_STR(trace, "CvDcd");
    CHECK(!row_of("__pbinstaller@example.com").found);
    trace[0] = '\0';
    CHECK(apply(BS_SU_UPDATE, "third@example.com", "password456", NULL) ==
          0);
    CHECK_STR(trace, "Uv");
    trace[0] = '\0';
    CHECK(apply(BS_SU_DELETE, "third@example.com", NULL, NULL) == 0);
    CHECK_STR(trace, "Dd");
    /* The last superuser cannot be deleted. */
    int status = 0;
    CHECK(apply(BS_SU_DELETE, "admin@example.com", NULL, &status) ==
          BS_EHTTP);
    CHECK(status == 400);
    CHECK(row_of("admin@example.com").found);
    for (size_t i = 0; i < sizeof binds / sizeof binds[0]; i++)
        bs_hook_unbind(bs_app_hook(app, binds[i].id), "test_su");
}

int main(void)
{
    if (tmpdir_make(dir, sizeof dir) != 0)
        return 1;
    bs_app_config cfg = {.data_dir = dir, .threads = 1};
    app = bs_app_new(&cfg);
    bs_error e;
    bs_error_init(&e);
    if (!app || bs_app_bootstrap(app, &e) != 0) {
        fprintf(stderr, "bootstrap failed\n");
        return 1;
    }
    bs_error_dispose(&e);
    RUN(create_then_create_again_fails);
    RUN(update_changes_password_and_token_key);
    RUN(upsert_creates_or_updates);
    RUN(delete_removes_or_fails);
    RUN(validation_before_any_write);
    RUN(installer_placeholder_not_counted);
    RUN(saves_fire_the_record_hooks);
    bs_app_free(app);
    tmpdir_remove(dir);
    return harness_summary(__FILE__);
}
