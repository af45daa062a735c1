/*
 * test_collection.c - collection normalization (ids, system fields,
 * per-type field options, auth options and indexes) and the SQL column
 * definition of each field type.
 */
#include <stdlib.h>

#include "base/error.h"
#include "base/json.h"
#include "base/util.h"
#include "core/collection.h"
#include "harness.h"

static json_object *P(const char *s)
{
    json_object *v = NULL;
    bs_json_parse(s, strlen(s), &v);
    return v;
}

static const char *field_at(json_object *col, size_t i, const char *key)
{
    return bs_json_get_str(
        json_object_array_get_idx(bs_json_get(col, "fields"), i), key, "");
}

static char *column(const char *field_json)
{
    json_object *f = P(field_json);
    bs_buf b;
    bs_buf_init(&b);
    bs_field_column_def(f, false, &b);
    json_object_put(f);
    return bs_buf_steal(&b, NULL);
}

#define CHECK_COLUMN(field, want)                                          \
    do {                                                                   \
        char *c_ = column(field);                                          \
        CHECK_STR(c_, (want));                                             \
        free(c_);                                                          \
    } while (0)

TEST(base_collection_defaults)
{
    json_object *col = P("{\"name\":\"posts\",\"fields\":[{\"name\":\"title\","
                         "\"type\":\"text\"}]}");
    REQUIRE(col != NULL);
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_normalize(col, &e) == 0);
    CHECK_STR(bs_json_get_str(col, "type", ""), "base");
    char want_id[32];
    snprintf(want_id, sizeof want_id, "pbc_%u", bs_crc32("baseposts", 9));
    CHECK_STR(bs_json_get_str(col, "id", ""), want_id);
    CHECK(json_object_is_type(bs_json_get(col, "system"), json_type_boolean));
    CHECK(!bs_json_get_bool(col, "system", true));
    /* Rules default to null (superusers only). */
    static const char *const rules[] = {"listRule", "viewRule", "createRule",
                                        "updateRule", "deleteRule"};
    for (int i = 0; i < 5; i++) {
        json_object *r = (json_object *)1;
        CHECK(json_object_object_get_ex(col, rules[i], &r));
        CHECK(r == NULL);
    }
    /* The id field comes first, then the caller's fields. */
    json_object *fields = bs_json_get(col, "fields");
    CHECK(json_object_array_length(fields) == 2);
    CHECK_STR(field_at(col, 0, "name"), "id");
    CHECK_STR(field_at(col, 0, "id"), "text3208210256");
    CHECK_STR(field_at(col, 0, "autogeneratePattern"), "[a-z0-9]{15}");
    CHECK_STR(field_at(col, 0, "pattern"), "^[a-z0-9]+$");
    json_object *idf = json_object_array_get_idx(fields, 0);
    CHECK(bs_json_get_bool(idf, "primaryKey", false));
    CHECK(bs_json_get_bool(idf, "system", false));
    CHECK(bs_json_get_int(idf, "min", 0) == 15);
    CHECK_STR(field_at(col, 1, "name"), "title");
    char want_fid[32];
    snprintf(want_fid, sizeof want_fid, "text%u", bs_crc32("title", 5));
    CHECK_STR(field_at(col, 1, "id"), want_fid);
    CHECK(json_object_array_length(bs_json_get(col, "indexes")) == 0);
    bs_error_dispose(&e);
    json_object_put(col);
}

TEST(given_ids_are_kept)
{
    json_object *col = P("{\"id\":\"my_id\",\"name\":\"x\",\"fields\":[{"
                         "\"id\":\"f1\",\"name\":\"a\",\"type\":\"bool\"}]}");
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_normalize(col, &e) == 0);
    CHECK_STR(bs_json_get_str(col, "id", ""), "my_id");
    CHECK_STR(field_at(col, 1, "id"), "f1");
    bs_error_dispose(&e);
    json_object_put(col);
}

TEST(auth_collection_defaults)
{
    json_object *col = P("{\"name\":\"members\",\"type\":\"auth\","
                         "\"fields\":[{\"name\":\"nick\",\"type\":\"text\"}]}");
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_normalize(col, &e) == 0);
    static const char *const order[] = {"id", "password", "tokenKey", "email",
                                        "emailVisibility", "verified",
                                        "nick"};
    static const char *const ids[] = {"text3208210256", "password901924565",
                                      "text2504183744", "email3885137012",
                                      "bool1547992806", "bool256245529"};
    json_object *fields = bs_json_get(col, "fields");
    CHECK(json_object_array_length(fields) == 7);
    for (size_t i = 0; i < 7; i++) {
        CHECK_STR(field_at(col, i, "name"), order[i]);
        if (i < 6)
            CHECK_STR(field_at(col, i, "id"), ids[i]);
    }
    json_object *pw = json_object_array_get_idx(fields, 1);
    CHECK(bs_json_get_bool(pw, "hidden", false));
    CHECK(bs_json_get_int(pw, "min", 0) == 8);
    json_object *tk = json_object_array_get_idx(fields, 2);
    CHECK(bs_json_get_bool(tk, "hidden", false));
    CHECK_STR(bs_json_get_str(tk, "autogeneratePattern", ""),
              "[a-zA-Z0-9]{50}");
    /* Unique indexes on tokenKey and email. */
    const char *cid = bs_json_get_str(col, "id", "");
    json_object *idx = bs_json_get(col, "indexes");
    REQUIRE(json_object_array_length(idx) == 2);
    char want[256];
    snprintf(want, sizeof want,
             "CREATE UNIQUE INDEX `idx_tokenKey_%s` ON `members` (`tokenKey`)",
             cid);
    CHECK_STR(json_object_get_string(json_object_array_get_idx(idx, 0)), want);
    snprintf(want, sizeof want,
             "CREATE UNIQUE INDEX `idx_email_%s` ON `members` (`email`) WHERE "
             "`email` != ''",
             cid);
    CHECK_STR(json_object_get_string(json_object_array_get_idx(idx, 1)), want);
    /* Auth options with fresh 50-character secrets, different each. */
    static const char *const tokens[] = {"authToken", "passwordResetToken",
                                         "emailChangeToken",
                                         "verificationToken", "fileToken"};
    const char *seen[5];
    for (int i = 0; i < 5; i++) {
        json_object *t = bs_json_get(col, tokens[i]);
        REQUIRE(t != NULL);
        seen[i] = bs_json_get_str(t, "secret", "");
        CHECK(strlen(seen[i]) == 50);
        CHECK(bs_json_get_int(t, "duration", 0) > 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(seen[i], seen[j]) != 0);
    }
    /* PocketBase's defaults: 5 days, 30 min, 30 min, 1 day, 3 min. */
    static const int64_t durations[] = {432000, 1800, 1800, 86400, 180};
    for (int i = 0; i < 5; i++)
        CHECK(bs_json_get_int(bs_json_get(col, tokens[i]), "duration", 0) ==
              durations[i]);
    CHECK(bs_json_get_bool(bs_json_get(col, "passwordAuth"), "enabled",
                           false));
    bs_error_dispose(&e);
    json_object_put(col);
}

TEST(auth_options_given_values_win)
{
    json_object *col = P("{\"name\":\"a\",\"type\":\"auth\",\"authToken\":{"
                         "\"duration\":10},\"fileToken\":{\"secret\":\"mine\"},"
                         "\"authRule\":\"verified = true\"}");
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_normalize(col, &e) == 0);
    json_object *at = bs_json_get(col, "authToken");
    CHECK(bs_json_get_int(at, "duration", 0) == 10);
    CHECK(strlen(bs_json_get_str(at, "secret", "")) == 50);
    CHECK_STR(bs_json_get_str(bs_json_get(col, "fileToken"), "secret", ""),
              "mine");
    CHECK_STR(bs_json_get_str(col, "authRule", ""), "verified = true");
    bs_error_dispose(&e);
    json_object_put(col);
}

TEST(existing_system_field_not_duplicated)
{
    json_object *col = P("{\"name\":\"a\",\"type\":\"auth\",\"fields\":["
                         "{\"name\":\"x\",\"type\":\"text\"},"
                         "{\"name\":\"email\",\"type\":\"email\","
                         "\"required\":false}]}");
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_normalize(col, &e) == 0);
    json_object *fields = bs_json_get(col, "fields");
    CHECK(json_object_array_length(fields) == 7);
    int emails = 0;
    for (size_t i = 0; i < json_object_array_length(fields); i++)
        emails += strcmp(field_at(col, i, "name"), "email") == 0;
    CHECK(emails == 1);
    CHECK_STR(field_at(col, 3, "name"), "email");
    CHECK_STR(field_at(col, 6, "name"), "x");
    json_object *em = json_object_array_get_idx(fields, 3);
    CHECK(bs_json_get_bool(em, "system", false));
    bs_error_dispose(&e);
    json_object_put(col);
}

TEST(view_collection_gets_no_id_field)
{
    json_object *col = P("{\"name\":\"v\",\"type\":\"view\"}");
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_normalize(col, &e) == 0);
    CHECK(json_object_array_length(bs_json_get(col, "fields")) == 0);
    bs_error_dispose(&e);
    json_object_put(col);
}

/* Templates (the built-in collections) are filled in, not validated:
 * a missing name is the validator's business, an unknown field type
 * cannot be filled in. */
TEST(missing_name_and_bad_field_type)
{
    json_object *col = P("{\"type\":\"base\"}");
    bs_error e;
    bs_error_init(&e);
    CHECK(bs_collection_normalize(col, &e) == 0);
    CHECK_STR(bs_json_get_str(col, "id", ""), "pbc_3233087073");
    bs_error_dispose(&e);
    json_object_put(col);

    col = P("{\"name\":\"c\",\"fields\":[{\"name\":\"ok\",\"type\":\"text\"},"
            "{\"name\":\"bad\",\"type\":\"nope\"}]}");
    bs_error_init(&e);
    CHECK(bs_collection_normalize(col, &e) != 0);
    CHECK(e.message != NULL);
    bs_error_dispose(&e);
    json_object_put(col);
}

TEST(field_defaults_per_type)
{
    json_object *f = P("{\"name\":\"n\",\"type\":\"number\"}");
    REQUIRE(bs_field_normalize(f) == 0);
    bs_buf b;
    bs_buf_init(&b);
    bs_json_write_sorted(&b, f);
    char want[256];
    snprintf(want, sizeof want,
             "{\"help\":\"\",\"hidden\":false,\"id\":\"number%u\",\"max\":null,"
             "\"min\":null,\"name\":\"n\",\"onlyInt\":false,\"presentable\":"
             "false,\"required\":false,\"system\":false,\"type\":\"number\"}",
             bs_crc32("n", 1));
    CHECK_STR(b.data, want);
    bs_buf_dispose(&b);
    json_object_put(f);

    /* autodate has no "help". */
    f = P("{\"name\":\"created\",\"type\":\"autodate\",\"onCreate\":true}");
    REQUIRE(bs_field_normalize(f) == 0);
    CHECK(!json_object_object_get_ex(f, "help", NULL));
    CHECK(bs_json_get_bool(f, "onCreate", false));
    CHECK(!bs_json_get_bool(f, "onUpdate", true));
    CHECK_STR(bs_json_get_str(f, "id", ""), "autodate2990389176");
    json_object_put(f);

    f = P("{\"name\":\"x\",\"type\":\"unknown\"}");
    CHECK(bs_field_normalize(f) == BS_EINVAL);
    json_object_put(f);
}

TEST(column_definitions)
{
    CHECK_COLUMN("{\"type\":\"text\",\"primaryKey\":true}",
                 "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) "
                 "NOT NULL");
    CHECK_COLUMN("{\"type\":\"text\"}", "TEXT DEFAULT '' NOT NULL");
    CHECK_COLUMN("{\"type\":\"email\"}", "TEXT DEFAULT '' NOT NULL");
    CHECK_COLUMN("{\"type\":\"number\"}", "NUMERIC DEFAULT 0 NOT NULL");
    CHECK_COLUMN("{\"type\":\"bool\"}", "BOOLEAN DEFAULT FALSE NOT NULL");
    CHECK_COLUMN("{\"type\":\"json\"}", "JSON DEFAULT NULL");
    CHECK_COLUMN("{\"type\":\"geoPoint\"}",
                 "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL");
    CHECK_COLUMN("{\"type\":\"select\",\"maxSelect\":1}",
                 "TEXT DEFAULT '' NOT NULL");
    CHECK_COLUMN("{\"type\":\"select\",\"maxSelect\":2}",
                 "JSON DEFAULT '[]' NOT NULL");
    CHECK_COLUMN("{\"type\":\"file\",\"maxSelect\":5}",
                 "JSON DEFAULT '[]' NOT NULL");
    CHECK_COLUMN("{\"type\":\"relation\",\"maxSelect\":0}",
                 "TEXT DEFAULT '' NOT NULL");
    CHECK_COLUMN("{\"type\":\"autodate\"}", "TEXT DEFAULT '' NOT NULL");
}

int main(void)
{
    RUN(base_collection_defaults);
    RUN(given_ids_are_kept);
    RUN(auth_collection_defaults);
    RUN(auth_options_given_values_win);
    RUN(existing_system_field_not_duplicated);
    RUN(view_collection_gets_no_id_field);
    RUN(missing_name_and_bad_field_type);
    RUN(field_defaults_per_type);
    RUN(column_definitions);
    return harness_summary(__FILE__);
}
