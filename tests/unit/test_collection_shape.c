/*
 * test_collection_shape.c - the collection's JSON shape: scaffolds,
 * binding submitted data with Go's decoding rules, the fields list's
 * Add rules, the pre-0.23 shape, and the API output (key order, hidden
 * secrets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/json.h"
#include "core/collection.h"
#include "harness.h"

static json_object *P(const char *s)
{
    json_object *v = NULL;
    bs_json_parse(s, strlen(s), &v);
    return v;
}

static const char *fstr(json_object *col, const char *name, const char *key)
{
    return bs_json_get_str(bs_fields_by_name(bs_json_get(col, "fields"), name),
                           key, "(none)");
}

static char *api(json_object *col)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_collection_write_json(col, &b);
    char *s = strdup(b.data ? b.data : "");
    bs_buf_dispose(&b);
    return s;
}

TEST(scaffolds)
{
    json_object *c = bs_collection_scaffold("view", "v", NULL);
    CHECK_STR(bs_json_get_str(c, "type", ""), "view");
    CHECK(json_object_array_length(bs_json_get(c, "fields")) == 0);
    CHECK(json_object_object_get_ex(c, "viewQuery", NULL));
    CHECK(!json_object_object_get_ex(c, "authToken", NULL));
    json_object_put(c);

    c = bs_collection_scaffold("weird", "x", NULL);
    CHECK_STR(bs_json_get_str(c, "type", ""), "base");
    json_object_put(c);

    c = bs_collection_scaffold("auth", "people", "my_id");
    CHECK_STR(bs_json_get_str(c, "id", ""), "my_id");
    CHECK(strlen(bs_json_get_str(bs_json_get(c, "authToken"), "secret", "")) ==
          50);
    json_object *idx = bs_json_get(c, "indexes");
    CHECK_STR(json_object_get_string(json_object_array_get_idx(idx, 0)),
              "CREATE UNIQUE INDEX `idx_tokenKey_my_id` ON `people` "
              "(`tokenKey`)");
    json_object_put(c);
}

TEST(bind_follows_go_decoding)
{
    bs_error e;
    bs_error_init(&e);
    json_object *c = bs_collection_scaffold("auth", "people", NULL);
    json_object *d = P("{\"listRule\":\"\",\"viewRule\":null,\"unknown\":1,"
                       "\"otp\":{\"duration\":300},"
                       "\"authToken\":{\"secret\":null},"
                       "\"passwordAuth\":{\"identityFields\":null},"
                       "\"NAME\":\"renamed\"}");
    REQUIRE(bs_collection_bind(c, d, &e) == 0);
    CHECK_STR(bs_json_get_str(c, "listRule", "x"), "");
    CHECK(json_object_is_type(bs_json_get(c, "viewRule"), json_type_null));
    CHECK(!json_object_object_get_ex(c, "unknown", NULL));
    /* Objects merge key by key. */
    CHECK(bs_json_get_int(bs_json_get(c, "otp"), "duration", 0) == 300);
    CHECK(bs_json_get_int(bs_json_get(c, "otp"), "length", 0) == 8);
    /* null leaves a plain string alone and clears a slice. */
    CHECK(strlen(bs_json_get_str(bs_json_get(c, "authToken"), "secret", "")) ==
          50);
    CHECK(bs_json_get(bs_json_get(c, "passwordAuth"), "identityFields") == NULL);
    /* Keys match case-insensitively as a fallback, like Go. */
    CHECK_STR(bs_json_get_str(c, "name", ""), "renamed");
    json_object_put(d);

    d = P("{\"otp\":{\"duration\":\"long\"}}");
    CHECK(bs_collection_bind(c, d, &e) == BS_EINVAL);
    CHECK(e.status == 400);
    bs_error_dispose(&e);
    json_object_put(d);
    d = P("{\"otp\":{\"duration\":1.5}}");
    CHECK(bs_collection_bind(c, d, &e) == BS_EINVAL);
    bs_error_dispose(&e);
    json_object_put(d);
    json_object_put(c);
}

TEST(fields_are_rebuilt_with_add_rules)
{
    bs_error e;
    bs_error_init(&e);
    json_object *c = bs_collection_scaffold("base", "t", NULL);
    json_object *d = P("{\"fields\":[{\"type\":\"text\",\"name\":\"a\","
                       "\"junk\":true},"
                       "{\"type\":\"number\",\"name\":\"b\",\"id\":\"x1\"},"
                       "{\"type\":\"bool\",\"name\":\"a\"},"
                       "{\"type\":\"json\",\"name\":\"c\",\"id\":\"x1\"}]}");
    REQUIRE(bs_collection_bind(c, d, &e) == 0);
    json_object *fields = bs_json_get(c, "fields");
    /* "a" without an id is replaced in place by the next "a" (keeping the
     * generated id); "x1" is replaced by the field with the same id. */
    REQUIRE(json_object_array_length(fields) == 2);
    CHECK_STR(fstr(c, "a", "type"), "bool");
    CHECK_STR(fstr(c, "a", "id"), "text3904355907");
    CHECK_STR(fstr(c, "c", "id"), "x1");
    CHECK(bs_fields_by_name(fields, "b") == NULL);
    CHECK(!json_object_object_get_ex(bs_fields_by_name(fields, "a"), "junk",
                                     NULL));
    json_object_put(d);

    d = P("{\"fields\":[{\"type\":\"nope\",\"name\":\"z\"}]}");
    CHECK(bs_collection_bind(c, d, &e) == BS_EINVAL);
    CHECK_STR(bs_json_get_str(bs_json_get(bs_json_get(bs_json_get(e.data,
                                                                   "fields"),
                                                       "0"),
                                          "type"),
                              "code", ""),
              "validation_unknown_field_type");
    bs_error_dispose(&e);
    json_object_put(d);

    /* Saving puts the system fields back (id first). */
    bs_collection_prepare_save(c, true);
    fields = bs_json_get(c, "fields");
    CHECK_STR(bs_json_get_str(json_object_array_get_idx(fields, 0), "name", ""),
              "id");
    CHECK(*bs_json_get_str(c, "created", "") != '\0');
    json_object_put(c);
}

TEST(indexes_follow_the_collection_name)
{
    json_object *c = bs_collection_scaffold("base", "newname", NULL);
    json_object *d = P("{\"indexes\":[\"create index i1 on anything (a, b)\","
                       "\"CREATE INDEX `i2` ON `newname` (c)\"]}");
    bs_error e;
    bs_error_init(&e);
    REQUIRE(bs_collection_bind(c, d, &e) == 0);
    bs_collection_prepare_save(c, true);
    json_object *idx = bs_json_get(c, "indexes");
    CHECK_STR(json_object_get_string(json_object_array_get_idx(idx, 0)),
              "CREATE INDEX `i1` ON `newname` (\n  `a`,\n  `b`\n)");
    /* Already right: kept as written. */
    CHECK_STR(json_object_get_string(json_object_array_get_idx(idx, 1)),
              "CREATE INDEX `i2` ON `newname` (c)");
    json_object_put(d);
    json_object_put(c);
}

TEST(legacy_shape)
{
    json_object *c = P(
        "{\"name\":\"orders\",\"type\":\"base\",\"schema\":["
        "{\"name\":\"customer\",\"type\":\"relation\",\"options\":"
        "{\"collectionId\":\"_pb_users_auth_\"}},"
        "{\"name\":\"n\",\"type\":\"number\",\"required\":true,\"options\":"
        "{\"noDecimal\":true,\"min\":1}},"
        "{\"name\":\"body\",\"type\":\"editor\",\"options\":"
        "{\"convertUrls\":true}}],"
        "\"listRule\":\"@request.data.x = 1\"}");
    bs_collection_upgrade_legacy(c);
    CHECK(!json_object_object_get_ex(c, "schema", NULL));
    json_object *fields = bs_json_get(c, "fields");
    REQUIRE(json_object_array_length(fields) == 5);
    CHECK(bs_json_get_int(bs_fields_by_name(fields, "customer"), "maxSelect",
                          0) == 2147483647);
    CHECK(bs_json_get_bool(bs_fields_by_name(fields, "n"), "onlyInt", false));
    CHECK(bs_json_get_bool(bs_fields_by_name(fields, "body"), "convertURLs",
                           false));
    CHECK_STR(fstr(c, "created", "type"), "autodate");
    CHECK_STR(fstr(c, "updated", "type"), "autodate");
    CHECK_STR(bs_json_get_str(c, "listRule", ""), "@request.body.x = 1");
    json_object_put(c);

    c = P("{\"name\":\"v\",\"type\":\"view\",\"schema\":[],"
          "\"options\":{\"query\":\"select id from t\"}}");
    bs_collection_upgrade_legacy(c);
    CHECK_STR(bs_json_get_str(c, "viewQuery", ""), "select id from t");
    CHECK(json_object_array_length(bs_json_get(c, "fields")) == 0);
    json_object_put(c);

    c = P("{\"name\":\"members\",\"type\":\"auth\",\"schema\":[],"
          "\"options\":{\"allowEmailAuth\":true,\"allowUsernameAuth\":true,"
          "\"minPasswordLength\":10,\"onlyVerified\":true,"
          "\"requireEmail\":true}}");
    bs_collection_upgrade_legacy(c);
    CHECK_STR(bs_json_get_str(c, "authRule", ""), "verified=true");
    json_object *ids =
        bs_json_get(bs_json_get(c, "passwordAuth"), "identityFields");
    CHECK(json_object_array_length(ids) == 2);
    CHECK(bs_json_get_int(bs_fields_by_name(bs_json_get(c, "fields"),
                                            "password"),
                          "min", 0) == 10);
    CHECK_STR(fstr(c, "username", "type"), "text");
    CHECK(bs_json_get_bool(bs_fields_by_name(bs_json_get(c, "fields"),
                                             "email"),
                           "required", false));
    json_object_put(c);

    /* The current shape is left alone. */
    c = P("{\"name\":\"x\",\"fields\":[],\"options\":{\"query\":\"q\"}}");
    bs_collection_upgrade_legacy(c);
    CHECK(json_object_object_get_ex(c, "options", NULL));
    json_object_put(c);
}

TEST(api_output)
{
    json_object *c = bs_collection_scaffold("auth", "people", NULL);
    json_object *oauth2 = bs_json_get(c, "oauth2");
    json_object_object_add(
        oauth2, "providers",
        P("[{\"name\":\"github\",\"clientId\":\"id\",\"clientSecret\":"
          "\"shh\"}]"));
    char *s = api(c);
    CHECK(strncmp(s, "{\"id\":\"pbc_", 11) == 0);
    CHECK(strstr(s, "\"secret\"") == NULL);
    CHECK(strstr(s, "shh") == NULL);
    CHECK(strstr(s, "\"clientId\":\"id\"") != NULL);
    const char *order[] = {"\"listRule\"", "\"name\"", "\"type\"",
                           "\"fields\"", "\"indexes\"", "\"created\"",
                           "\"updated\"", "\"system\":false,\"authRule\"",
                           "\"manageRule\"", "\"authAlert\"", "\"oauth2\"",
                           "\"passwordAuth\"", "\"mfa\"", "\"otp\"",
                           "\"authToken\"", "\"fileToken\"",
                           "\"confirmEmailChangeTemplate\""};
    const char *prev = s;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *at = strstr(s, order[i]);
        if (!at || at < prev)
            fprintf(stderr, "out of order: %s\n", order[i]);
        CHECK(at != NULL && at >= prev);
        if (at)
            prev = at;
    }
    /* Fields with sorted keys, as PocketBase marshals them. */
    CHECK(strstr(s, "{\"autogeneratePattern\":\"[a-z0-9]{15}\",\"help\":\"\","
                    "\"hidden\":false,\"id\":\"text3208210256\"") != NULL);
    free(s);
    /* The stored object keeps the secrets. */
    CHECK(strlen(bs_json_get_str(bs_json_get(c, "fileToken"), "secret", "")) ==
          50);
    json_object_put(c);

    c = bs_collection_scaffold("view", "v", NULL);
    s = api(c);
    CHECK(strstr(s, "\"system\":false,\"viewQuery\":\"\"}") != NULL);
    free(s);
    json_object_put(c);
}

int main(void)
{
    RUN(scaffolds);
    RUN(bind_follows_go_decoding);
    RUN(fields_are_rebuilt_with_add_rules);
    RUN(indexes_follow_the_collection_name);
    RUN(legacy_shape);
    RUN(api_output);
    return harness_summary(__FILE__);
}
