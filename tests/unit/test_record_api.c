/*
 * test_record_api.c - records from C through the public API: typed
 * reads and writes with PocketBase's coercions, the finders with {:name}
 * placeholders, original values in the update and delete hooks, and
 * hooks refusing a save from C with nothing stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "basalt.h"
#include "core/app.h"
#include "core/auth.h"
#include "core/record.h"
#include "core/collection.h"
#include "core/tx.h"
#include "harness.h"
#include "testapp.h"

static bs_app *app;
static char dir[64];
static char trace[512];

static void tr(const char *s)
{
    strncat(trace, s, sizeof trace - strlen(trace) - 1);
}

static int create_tx(bs_tx *tx, void *data)
{
    bs_error *err = data;
    static const char *const defs[] = {
        "{\"id\":\"owners000000001\",\"name\":\"owners\",\"type\":\"base\","
        "\"fields\":[{\"name\":\"name\",\"type\":\"text\"}]}",
        "{\"name\":\"things\",\"type\":\"base\",\"fields\":["
        "{\"name\":\"title\",\"type\":\"text\"},"
        "{\"name\":\"status\",\"type\":\"text\"},"
        "{\"name\":\"n\",\"type\":\"number\"},"
        "{\"name\":\"flag\",\"type\":\"bool\"},"
        "{\"name\":\"data\",\"type\":\"json\"},"
        "{\"name\":\"tags\",\"type\":\"select\",\"maxSelect\":3,"
        "\"values\":[\"a\",\"b\",\"c\"]},"
        "{\"name\":\"when\",\"type\":\"date\"},"
        "{\"name\":\"owner\",\"type\":\"relation\",\"maxSelect\":1,"
        "\"collectionId\":\"owners000000001\"}]}",
    };
    for (size_t i = 0; i < 2; i++) {
        json_object *col = json_tokener_parse(defs[i]);
        int rc = bs_collection_normalize(col, err);
        if (rc == 0)
            rc = bs_collection_create(bs_tx_conn(tx), col, err);
        json_object_put(col);
        if (rc)
            return rc;
    }
    return 0;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bs_test_recapi_%d", (int)getpid());
    app = testapp_open(dir, create_tx);
}

static json_object *obj(const char *text)
{
    return json_tokener_parse(text);
}

/* Saves a new thing titled title with status and n; returns its id in
 * id (16 bytes) or "" on failure. */
static int save_thing(const char *title, const char *status, int64_t n,
                      char id[16])
{
    bs_record *r = bs_record_new_in(app, "things");
    if (!r)
        return BS_ENOMEM;
    bs_record_set_string(r, "title", title);
    bs_record_set_string(r, "status", status);
    bs_record_set_int(r, "n", n);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_save(app, r, &err);
    if (id)
        snprintf(id, 16, "%s", rc == 0 ? bs_record_id(r) : "");
    bs_error_dispose(&err);
    bs_record_free(r);
    return rc;
}

static int64_t count(const char *filter)
{
    int64_t n = -1;
    if (bs_record_count(app, "things", filter, NULL, &n) != 0)
        return -1;
    return n;
}

TEST(typed_reads_and_writes)
{
    bs_record *r = bs_record_new_in(app, "things");
    REQUIRE(r);
    CHECK(bs_record_is_new(r));
    CHECK_STR(bs_record_get_string(r, "title"), "");
    CHECK(bs_record_get_int(r, "n") == 0);
    CHECK(!bs_record_get_bool(r, "flag"));

    /* Writes convert to the field type. */
    CHECK(bs_record_set_string(r, "n", "12.5") == 0);
    CHECK(bs_record_get_float(r, "n") == 12.5);
    CHECK(bs_record_get_int(r, "n") == 12);
    CHECK_STR(bs_record_get_string(r, "n"), "12.5");
    CHECK(bs_record_set_int(r, "n", 7) == 0);
    CHECK_STR(bs_record_get_string(r, "n"), "7");
    CHECK(bs_record_get_bool(r, "n"));
    CHECK(bs_record_set_int(r, "flag", 1) == 0);
    CHECK(bs_record_get_bool(r, "flag"));
    CHECK_STR(bs_record_get_string(r, "flag"), "true");
    CHECK(bs_record_get_int(r, "flag") == 1);
    CHECK(bs_record_set_int(r, "title", 42) == 0);
    CHECK_STR(bs_record_get_string(r, "title"), "42");
    CHECK(bs_record_get_int(r, "title") == 42);
    CHECK(bs_record_set_string(r, "title", "0x1f") == 0);
    CHECK(bs_record_get_int(r, "title") == 31);
    CHECK(bs_record_set_string(r, "title", "3.0") == 0);
    CHECK(bs_record_get_int(r, "title") == 3);
    CHECK(bs_record_set_string(r, "title", "3.5") == 0);
    CHECK(bs_record_get_int(r, "title") == 0);
    CHECK(bs_record_get_float(r, "title") == 3.5);
    CHECK(bs_record_set_string(r, "title", "abc") == 0);
    CHECK(bs_record_get_float(r, "title") == 0);
    CHECK(!bs_record_get_bool(r, "title"));
    CHECK(bs_record_set_string(r, "title", "T") == 0);
    CHECK(bs_record_get_bool(r, "title"));

    /* Lists: unique and non-empty (an unknown select value is kept for
     * the validation to refuse, as in PocketBase). */
    const char *tags[] = {"a", "b", "a", "", "zzz"};
    CHECK(bs_record_set_string_list(r, "tags", tags, 5) == 0);
    json_object *l = bs_record_get_string_list(r, "tags");
    CHECK_STR(json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN),
              "[\"a\",\"b\",\"zzz\"]");
    json_object_put(l);
    CHECK(bs_record_set(r, "data", obj("[{\"sku\":\"A\"},\"x\",1,\"x\"]")) == 0);
    l = bs_record_get_string_list(r, "data");
    CHECK_STR(json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN),
              "[\"{\\\"sku\\\":\\\"A\\\"}\",\"x\",\"1\"]");
    json_object_put(l);
    CHECK_STR(bs_record_get_string(r, "data"), "[{\"sku\":\"A\"},\"x\",1,\"x\"]");
    CHECK(bs_record_set_string(r, "title", "[\"p\",\"q\",\"p\"]") == 0);
    l = bs_record_get_string_list(r, "title");
    CHECK(json_object_array_length(l) == 2);
    json_object_put(l);
    CHECK(bs_record_set_string(r, "title", "solo") == 0);
    l = bs_record_get_string_list(r, "title");
    CHECK(json_object_array_length(l) == 1);
    json_object_put(l);
    CHECK(bs_record_get(r, "nope") == NULL);
    CHECK(bs_record_set_int(r, "nope", 1) == BS_ENOTFOUND);

    /* Dates in Unix milliseconds, stored as PocketBase writes them. */
    CHECK(bs_record_set_date(r, "when", 1700000000123LL) == 0);
    CHECK_STR(bs_record_get_string(r, "when"), "2023-11-14 22:13:20.123Z");
    CHECK(bs_record_get_date(r, "when") == 1700000000123LL);
    CHECK(bs_record_set_string(r, "when", "2024-01-02T03:04:05Z") == 0);
    CHECK(bs_record_get_date(r, "when") == 1704164645000LL);
    CHECK(bs_record_set_date(r, "when", 0) == 0);
    CHECK(bs_record_get_date(r, "when") == 0);
    bs_record_free(r);
}

TEST(save_find_count_delete)
{
    char a[16], b[16], c[16];
    REQUIRE(save_thing("alpha", "pending", 5, a) == 0);
    REQUIRE(save_thing("beta", "shipped", 20, b) == 0);
    REQUIRE(save_thing("gamma", "shipped", 30, c) == 0);
    CHECK(count(NULL) == 3);
    CHECK(count("status = 'shipped'") == 2);

    bs_record *r = NULL;
    REQUIRE(bs_record_find_by_id(app, "things", b, &r) == 0);
    CHECK_STR(bs_record_get_string(r, "title"), "beta");
    CHECK(!bs_record_is_new(r));
    bs_record_free(r);
    CHECK(bs_record_find_by_id(app, "things", "missing", &r) == BS_ENOTFOUND);
    CHECK(bs_record_find_by_id(app, "nope", b, &r) == BS_ENOTFOUND);

    json_object *p = obj("{\"s\":\"shipped\",\"min\":25}");
    bs_record **items = NULL;
    int n = 0;
    REQUIRE(bs_record_find_by_filter(app, "things", "status = {:s}", "-n", 0,
                                     0, p, &items, &n) == 0);
    REQUIRE(n == 2);
    CHECK_STR(bs_record_get_string(items[0], "title"), "gamma");
    CHECK_STR(bs_record_get_string(items[1], "title"), "beta");
    bs_records_free(items, n);
    REQUIRE(bs_record_find_by_filter(app, "things", "", "n", 1, 1, NULL,
                                     &items, &n) == 0);
    REQUIRE(n == 1);
    CHECK_STR(bs_record_get_string(items[0], "title"), "beta");
    bs_records_free(items, n);
    REQUIRE(bs_record_find_first(app, "things",
                                 "status = {:s} && n > {:min}", p, &r) == 0);
    CHECK_STR(bs_record_get_string(r, "title"), "gamma");
    bs_record_free(r);
    int64_t k = -1;
    CHECK(bs_record_count(app, "things", "n > {:min}", p, &k) == 0 && k == 1);
    json_object_put(p);

    /* Values are bound, never spliced. */
    p = obj("{\"s\":\"x' || title != '\"}");
    CHECK(bs_record_count(app, "things", "status = {:s}", p, &k) == 0 &&
          k == 0);
    json_object_put(p);
    CHECK(bs_record_count(app, "things", "status = {:s}", NULL, &k) ==
          BS_EINVAL);
    CHECK(bs_record_count(app, "things", "nope ==", NULL, &k) == BS_EINVAL);

    /* Update and delete through the same path. */
    REQUIRE(bs_record_find_by_id(app, "things", a, &r) == 0);
    bs_record_set_string(r, "status", "cancelled");
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, r, &err) == 0);
    CHECK(count("status = 'cancelled'") == 1);
    CHECK(bs_record_delete(app, r, &err) == 0);
    bs_record_free(r);
    CHECK(count(NULL) == 2);
    bs_error_dispose(&err);
}

/* Records the original and new status seen by the update hooks. */
static int h_update(bs_event *e, void *u)
{
    bs_record_event *re = (bs_record_event *)e;
    const bs_record *o = bs_record_original(re->record);
    char line[128];
    snprintf(line, sizeof line, "%s:%s>%s;", (const char *)u,
             bs_record_get_string(o, "status"),
             bs_record_get_string(re->record, "status"));
    tr(line);
    return bs_event_next(e);
}

static int h_delete(bs_event *e, void *u)
{
    (void)u;
    bs_record_event *re = (bs_record_event *)e;
    char line[128];
    snprintf(line, sizeof line, "del:%s/%s;",
             bs_record_get_string(bs_record_original(re->record), "status"),
             bs_record_get_string(re->record, "status"));
    tr(line);
    return bs_event_next(e);
}

TEST(original_values_on_update_and_delete)
{
    char id[16];
    REQUIRE(save_thing("orig", "pending", 1, id) == 0);
    bs_handler hu = {.id = "u", .fn = h_update, .user = "update"};
    bs_handler hs = {.id = "s", .fn = h_update, .user = "success"};
    bs_handler hd = {.id = "d", .fn = h_delete};
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_UPDATE), &hu) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_AFTER_UPDATE_SUCCESS),
                         &hs) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_DELETE), &hd) == 0);
    bs_record *r = NULL;
    REQUIRE(bs_record_find_by_id(app, "things", id, &r) == 0);
    /* Before any change the original equals the record. */
    CHECK_STR(bs_record_get_string(bs_record_original(r), "status"),
              "pending");
    bs_record_set_string(r, "status", "shipped");
    CHECK_STR(bs_record_get_string(bs_record_original(r), "status"),
              "pending");
    trace[0] = '\0';
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, r, &err) == 0);
    CHECK_STR(trace, "update:pending>shipped;success:pending>shipped;");
    /* Once saved, the stored row is the new original. */
    CHECK_STR(bs_record_get_string(bs_record_original(r), "status"),
              "shipped");
    bs_record_free(r);
    REQUIRE(bs_record_find_by_id(app, "things", id, &r) == 0);
    trace[0] = '\0';
    CHECK(bs_record_delete(app, r, &err) == 0);
    CHECK_STR(trace, "del:shipped/shipped;");
    bs_record_free(r);
    /* A new record's original has no values. */
    r = bs_record_new_in(app, "things");
    bs_record_set_string(r, "status", "x");
    CHECK_STR(bs_record_get_string(bs_record_original(r), "status"), "");
    bs_record_free(r);
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_RECORD_UPDATE));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_RECORD_AFTER_UPDATE_SUCCESS));
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_RECORD_DELETE));
    bs_error_dispose(&err);
}

static int h_a(bs_event *e, void *u) { (void)u; tr("A"); return bs_event_next(e); }
static int h_b(bs_event *e, void *u) { (void)u; tr("B"); return bs_event_next(e); }

/* Refuses titles starting with "bad"; forces status "pending". */
static int h_guard(bs_event *e, void *u)
{
    (void)u;
    bs_record_event *re = (bs_record_event *)e;
    tr("G");
    if (strncmp(bs_record_get_string(re->record, "title"), "bad", 3) == 0) {
        bs_error_field(e->error, "title", "validation_bad", "Bad title.");
        return bs_error_set(e->error, 400, "Refused.");
    }
    bs_record_set_string(re->record, "status", "pending");
    return bs_event_next(e);
}

static int h_after_error(bs_event *e, void *u)
{
    (void)u;
    tr("E");
    return bs_event_next(e);
}

TEST(hooks_from_c_order_data_abort)
{
    bs_handler a = {.id = "a", .priority = 5, .fn = h_a};
    bs_handler b = {.id = "b", .priority = -5, .fn = h_b};
    bs_handler g = {.id = "g", .fn = h_guard};
    bs_handler er = {.id = "e", .fn = h_after_error};
    bs_hook *h = bs_app_hook(app, BS_ON_RECORD_CREATE);
    REQUIRE(bs_hook_bind(h, &a) == 0);
    REQUIRE(bs_hook_bind(h, &g) == 0);
    REQUIRE(bs_hook_bind(h, &b) == 0);
    REQUIRE(bs_hook_bind(bs_app_hook(app, BS_ON_RECORD_AFTER_CREATE_ERROR),
                         &er) == 0);
    int64_t before = count(NULL);
    trace[0] = '\0';
    char id[16];
    CHECK(save_thing("good", "shipped", 1, id) == 0);
    CHECK_STR(trace, "BGA");
    bs_record *r = NULL;
    REQUIRE(bs_record_find_by_id(app, "things", id, &r) == 0);
    CHECK_STR(bs_record_get_string(r, "status"), "pending");
    bs_record_free(r);

    trace[0] = '\0';
    r = bs_record_new_in(app, "things");
    bs_record_set_string(r, "title", "bad one");
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, r, &err) == BS_EHTTP);
    CHECK(err.status == 400);
    CHECK(bs_error_has_fields(&err));
    CHECK_STR(trace, "BGE");
    CHECK(count(NULL) == before + 1);
    CHECK(count("title = 'bad one'") == 0);
    bs_record_free(r);
    bs_error_dispose(&err);
    bs_hook_unbind_all(h);
    bs_hook_unbind_all(bs_app_hook(app, BS_ON_RECORD_AFTER_CREATE_ERROR));
}

/* A save inside a hook joins the hook's transaction, and finders in it
 * see the uncommitted rows. */
static int h_cascade(bs_event *e, void *u)
{
    (void)u;
    int rc = bs_event_next(e);
    if (rc)
        return rc;
    bs_record_event *re = (bs_record_event *)e;
    if (strcmp(bs_record_get_string(re->record, "title"), "parent") != 0)
        return 0;
    char id[16];
    rc = save_thing("child", "pending", 2, id);
    int64_t n = -1;
    bs_record_count(app, "things", "title = 'child'", NULL, &n);
    if (rc == 0 && n == 1)
        tr("J");
    return rc ? rc : bs_error_set(e->error, 400, "Roll it all back.");
}

TEST(saves_in_hooks_join_the_transaction)
{
    bs_hook *h = bs_app_hook(app, BS_ON_RECORD_CREATE);
    REQUIRE(bs_hook_bind_func(h, h_cascade, NULL));
    int64_t before = count(NULL);
    trace[0] = '\0';
    CHECK(save_thing("parent", "pending", 1, NULL) == BS_EHTTP);
    CHECK_STR(trace, "J");
    CHECK(count(NULL) == before);
    bs_hook_unbind_all(h);
}

/* Saves a thing pointing at owner; returns the save's code and leaves
 * the owner field's error code in code (64 bytes, "" when none). */
static int save_owned(const char *owner, char code[64])
{
    bs_record *r = bs_record_new_in(app, "things");
    if (!r)
        return BS_ENOMEM;
    bs_record_set_string(r, "title", "owned");
    bs_record_set_string(r, "owner", owner);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_record_save(app, r, &err);
    json_object *f = err.data ? bs_json_get(err.data, "owner") : NULL;
    snprintf(code, 64, "%s", f ? bs_json_get_str(f, "code", "") : "");
    bs_error_dispose(&err);
    bs_record_free(r);
    return rc;
}

/* The relation check's statement is kept between saves: it still sees
 * records created and deleted in between, and a missing id is refused
 * with PocketBase's code. */
TEST(relation_check_sees_current_rows)
{
    char code[64];
    CHECK(save_owned("missingowner001", code) == BS_EHTTP);
    CHECK_STR(code, "validation_missing_rel_records");

    bs_record *o = bs_record_new_in(app, "owners");
    REQUIRE(o);
    bs_record_set_string(o, "id", "relcheckowner01");
    bs_record_set_string(o, "name", "rel");
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_record_save(app, o, &err) == 0);
    CHECK(save_owned("relcheckowner01", code) == 0);
    CHECK_STR(code, "");
    CHECK(save_owned("missingowner001", code) == BS_EHTTP);

    /* Deleting the owner removes it from the things (no cascade), and a
     * later save naming it is refused again. */
    CHECK(bs_record_delete(app, o, &err) == 0);
    CHECK(save_owned("relcheckowner01", code) == BS_EHTTP);
    CHECK_STR(code, "validation_missing_rel_records");
    bs_record_free(o);
    bs_error_dispose(&err);
}

TEST(expand_from_c)
{
    bs_record *o = bs_record_new_in(app, "owners");
    REQUIRE(o);
    bs_record_set_string(o, "name", "Olga");
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_record_save(app, o, &err) == 0);
    bs_record *t = bs_record_new_in(app, "things");
    bs_record_set_string(t, "title", "owned");
    bs_record_set_string(t, "owner", bs_record_id(o));
    REQUIRE(bs_record_save(app, t, &err) == 0);
    CHECK(bs_record_expand(app, t, "owner", &err) == 0);
    CHECK(bs_record_expanded_count(t, "owner") == 1);
    bs_record *x = bs_record_expanded(t, "owner", 0);
    CHECK(x && strcmp(bs_record_get_string(x, "name"), "Olga") == 0);
    CHECK(bs_record_expanded(t, "owner", 1) == NULL);
    json_object *j = bs_record_export(t);
    json_object *ex = NULL, *ow = NULL;
    CHECK(json_object_object_get_ex(j, "expand", &ex) &&
          json_object_object_get_ex(ex, "owner", &ow));
    json_object_put(j);
    bs_record_free(t);
    bs_record_free(o);
    bs_error_dispose(&err);
}

/* The collections, settings and password helpers of basalt.h. */
TEST(collections_settings_and_passwords)
{
    json_object *col = NULL;
    REQUIRE(bs_collection_find(app, "things", &col) == 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(col, "name")),
                 "things") == 0);
    CHECK(json_object_is_type(json_object_object_get(col, "fields"),
                              json_type_array));
    json_object *again = NULL;
    const char *id = json_object_get_string(json_object_object_get(col, "id"));
    CHECK(bs_collection_find(app, id, &again) == 0);
    json_object_put(again);
    json_object_put(col);
    CHECK(bs_collection_find(app, "no_such_collection", &col) == BS_ENOTFOUND);
    CHECK(col == NULL);
    json_object *all = NULL;
    REQUIRE(bs_collection_find_all(app, &all) == 0);
    bool seen = false;
    for (size_t i = 0; i < json_object_array_length(all); i++)
        seen |= strcmp(json_object_get_string(json_object_object_get(
                           json_object_array_get_idx(all, i), "name")),
                       "users") == 0;
    CHECK(seen);
    json_object_put(all);
    json_object *settings = bs_app_settings_json(app);
    REQUIRE(settings);
    CHECK(json_object_object_get(settings, "meta") != NULL);
    json_object_put(settings);

    bs_record *u = bs_record_new_in(app, "users");
    REQUIRE(u);
    bs_record_set_string(u, "email", "pw@example.com");
    bs_record_set_string(u, "password", "first-password");
    CHECK(bs_record_validate_password(u, "first-password"));
    CHECK(!bs_record_validate_password(u, "other-password"));
    bs_error err;
    bs_error_init(&err);
    CHECK(bs_record_save(app, u, &err) == 0);
    bs_record *stored = NULL;
    CHECK(bs_record_find_by_id(app, "users", bs_record_id(u), &stored) == 0);
    CHECK(stored && bs_record_validate_password(stored, "first-password"));
    CHECK(stored && !bs_record_validate_password(stored, "first-passwor"));
    CHECK(!bs_record_validate_password(stored, NULL));
    bs_record_free(stored);
    bs_record_free(u);
    bs_error_dispose(&err);
}

/* A record built from the raw row an auth token's verification loads
 * (bs_record_from_raw) is the record bs_record_find loads, for values
 * stored in every shape SQLite may hold them. */
TEST(record_from_raw_row_matches_find)
{
    bs_conn *c = NULL;
    bs_error err;
    bs_error_init(&err);
    REQUIRE(bs_store_tx_begin(app->store, &c, &err) == 0);
    CHECK(bs_conn_exec(c,
        "INSERT INTO things (id, title, status, n, flag, data, tags, "
        "\"when\", owner) VALUES "
        "('raw000000000001', 'text', 'a', '12.5', 'true', '{\"a\":[1,2]}', "
        "'[\"a\",\"c\"]', '2024-01-02 03:04:05.000Z', 'owner0000000001'),"
        "('raw000000000002', 7, 'x', 3, 1, 0.25, 'b', '', ''),"
        "('raw000000000003', 2.5, '', '', 0, NULL, '', 5, 4.5),"
        "('raw000000000004', '', '', -0.1, 'no', 'not json', 3, '', '')",
        &err) == 0);
    if (err.message)
        fprintf(stderr, "%s\n", err.message);
    REQUIRE(bs_store_tx_end(app->store, true, &err) == 0);
    bs_schema *s = bs_app_schema(app);
    const bs_collection *col = bs_schema_find(s, "things");
    REQUIRE(col);
    const char *ids[] = {"raw000000000001", "raw000000000002",
                         "raw000000000003", "raw000000000004"};
    for (int i = 0; i < 4; i++) {
        bs_conn *r = bs_store_reader_acquire(app->store);
        bs_record *found = NULL;
        json_object *row = NULL;
        CHECK(bs_record_find(r, s, col, ids[i], &found) == 0);
        CHECK(bs_record_row_load(r, col, ids[i], &row) == 0);
        bs_store_reader_release(app->store, r);
        bs_record *raw = row ? bs_record_from_raw(s, col, row) : NULL;
        CHECK(found && raw);
        if (found && raw) {
            bs_buf a, b;
            bs_buf_init(&a);
            bs_buf_init(&b);
            bs_record_write_json(found, &a);
            bs_record_write_json(raw, &b);
            CHECK_STR(b.data, a.data);
            bs_buf_dispose(&a);
            bs_buf_dispose(&b);
        }
        bs_record_free(found);
        bs_record_free(raw);
        json_object_put(row);
    }
    bs_schema_unref(s);
    bs_error_dispose(&err);
}

int main(void)
{
    setup();
    RUN(typed_reads_and_writes);
    RUN(save_find_count_delete);
    RUN(original_values_on_update_and_delete);
    RUN(hooks_from_c_order_data_abort);
    RUN(saves_in_hooks_join_the_transaction);
    RUN(relation_check_sees_current_rows);
    RUN(expand_from_c);
    RUN(collections_settings_and_passwords);
    RUN(record_from_raw_row_matches_find);
    bs_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return harness_summary(__FILE__);
}
