/*
 * test_cluster.c - the messages nodes exchange over the bus
 * (src/core/cluster.c): a record's stored values go out and come back as
 * the same record for every field type; notices round-trip; and the
 * decoder refuses what is not a well-formed message of version 1.
 */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/cluster.h"
#include "core/field.h"
#include "cluster_kinds.h"
#include "harness.h"

static bs_schema schema;

static bs_record *sample(void)
{
    const char *raw =
        "{\"id\":\"r1.x\",\"title\":\"Hé \\\"q\\\"\",\"secret\":\"s\","
        "\"n\":2.5,\"ok\":1,\"data\":\"{\\\"a\\\":[1,2]}\",\"empty\":null,"
        "\"tags\":\"[\\\"a\\\",\\\"b\\\"]\",\"one\":\"b\","
        "\"at\":\"{\\\"lon\\\":1.5,\\\"lat\\\":-2}\","
        "\"when\":\"2024-02-29 10:00:00.000Z\","
        "\"created\":\"2024-01-01 00:00:00.000Z\"}";
    json_object *row = NULL;
    if (bs_json_parse(raw, strlen(raw), &row) != 0)
        return NULL;
    bs_record *r = bs_record_from_raw(&schema, &schema.items[0], row);
    json_object_put(row);
    return r;
}

TEST(record_round_trip)
{
    bs_record *r = sample();
    REQUIRE(r);
    bs_buf b;
    bs_buf_init(&b);
    bs_cluster_encode_record(&b, "node1", "update", r);
    REQUIRE(!b.oom);
    bs_cluster_msg m;
    REQUIRE(bs_cluster_decode(b.data, b.len, &m) == 0);
    CHECK(m.kind == BS_CLUSTER_MSG_RECORD);
    CHECK(strcmp(m.node, "node1") == 0);
    CHECK(strcmp(m.action, "update") == 0);
    CHECK(strcmp(m.collection, "pbc_kinds") == 0);
    /* Stored forms: 0/1, numbers, JSON texts; hidden fields included. */
    CHECK(json_object_get_int(bs_json_get(m.record, "ok")) == 1);
    CHECK(json_object_is_type(bs_json_get(m.record, "tags"),
                              json_type_string));
    CHECK(strcmp(bs_json_get_str(m.record, "secret", ""), "s") == 0);
    CHECK(bs_json_get(m.record, "empty") == NULL);
    bs_record *back = bs_record_from_raw(&schema, &schema.items[0], m.record);
    REQUIRE(back);
    char *want = cluster_kinds_text(r->data);
    char *got = cluster_kinds_text(back->data);
    CHECK(strcmp(want, got) == 0);
    if (strcmp(want, got) != 0)
        fprintf(stderr, "want %s\ngot  %s\n", want, got);
    free(want);
    free(got);
    bs_record_free(back);
    bs_cluster_msg_dispose(&m);
    bs_buf_dispose(&b);
    bs_record_free(r);
}

TEST(numbers_keep_their_form)
{
    const bs_finfo *n = bs_collection_finfo(&schema.items[0], "n");
    REQUIRE(n);
    json_object *v = json_object_new_double(3.0);
    json_object *raw = bs_finfo_to_raw(n, v);
    CHECK(json_object_is_type(raw, json_type_int));
    CHECK(json_object_get_int64(raw) == 3);
    json_object_put(raw);
    json_object_put(v);
    v = json_object_new_double(0.1);
    raw = bs_finfo_to_raw(n, v);
    CHECK(json_object_is_type(raw, json_type_double));
    CHECK(json_object_get_double(raw) == 0.1);
    json_object_put(raw);
    json_object_put(v);
}

TEST(notices)
{
    bs_cluster_kind kinds[] = {BS_CLUSTER_MSG_SCHEMA, BS_CLUSTER_MSG_SETTINGS,
                               BS_CLUSTER_MSG_HELLO, BS_CLUSTER_MSG_ACK};
    for (int i = 0; i < 4; i++) {
        bs_buf b;
        bs_buf_init(&b);
        bs_cluster_encode_notice(&b, "abc", kinds[i]);
        bs_cluster_msg m;
        REQUIRE(bs_cluster_decode(b.data, b.len, &m) == 0);
        CHECK(m.kind == kinds[i]);
        CHECK(strcmp(m.node, "abc") == 0);
        CHECK(m.record == NULL);
        bs_cluster_msg_dispose(&m);
        bs_buf_dispose(&b);
    }
}

TEST(subscribe_round_trip)
{
    json_object *topics = json_object_new_array();
    json_object_array_add(topics, json_object_new_string("posts"));
    json_object_array_add(topics, json_object_new_string("posts/abc?options={}"));
    const char *token = "eyJhbGciOiJIUzI1NiJ9.e30.sig";
    for (int guest = 0; guest < 2; guest++) {
        bs_buf b;
        bs_buf_init(&b);
        bs_cluster_encode_subscribe(&b, "n1", "client-1", topics,
                                    guest ? NULL : token,
                                    guest ? NULL : "203.0.113.9");
        bs_cluster_msg m;
        REQUIRE(bs_cluster_decode(b.data, b.len, &m) == 0);
        CHECK(m.kind == BS_CLUSTER_MSG_SUBSCRIBE);
        CHECK(strcmp(m.node, "n1") == 0);
        CHECK(strcmp(m.client_id, "client-1") == 0);
        CHECK(strcmp(m.authorization, guest ? "" : token) == 0);
        CHECK(strcmp(m.ip, guest ? "" : "203.0.113.9") == 0);
        CHECK(m.topics && json_object_array_length(m.topics) == 2);
        CHECK(strcmp(json_object_get_string(
                         json_object_array_get_idx(m.topics, 1)),
                     "posts/abc?options={}") == 0);
        bs_cluster_msg_dispose(&m);
        CHECK(m.topics == NULL);
        bs_buf_dispose(&b);
    }
    json_object_put(topics);
}

TEST(refused)
{
    static const char *const bad[] = {
        "",
        "null",
        "[]",
        "{}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"schema\"} x",
        "{\"v\":2,\"node\":\"a\",\"kind\":\"schema\"}",
        "{\"v\":\"1\",\"node\":\"a\",\"kind\":\"schema\"}",
        "{\"v\":1,\"kind\":\"schema\"}",
        "{\"v\":1,\"node\":\"\",\"kind\":\"schema\"}",
        "{\"v\":1,\"node\":7,\"kind\":\"schema\"}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"other\"}",
        "{\"v\":1,\"node\":\"a\\u0000b\",\"kind\":\"schema\"}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"record\",\"action\":\"upsert\","
        "\"collection\":\"c\",\"record\":{\"id\":\"x\"}}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"record\",\"action\":\"create\","
        "\"record\":{\"id\":\"x\"}}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"record\",\"action\":\"create\","
        "\"collection\":\"c\",\"record\":[]}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"record\",\"action\":\"create\","
        "\"collection\":\"c\",\"record\":{\"id\":\"\"}}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"record\",\"action\":\"create\","
        "\"collection\":\"c\",\"record\":{\"id\":1}}",
        /* subscribe requests: no client id, topics not strings or not
         * an array, authorization not a string, no ip */
        "{\"v\":1,\"node\":\"a\",\"kind\":\"subscribe\","
        "\"subscriptions\":[],\"authorization\":\"\",\"ip\":\"\"}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"subscribe\",\"clientId\":\"c\","
        "\"subscriptions\":[1],\"authorization\":\"\",\"ip\":\"\"}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"subscribe\",\"clientId\":\"c\","
        "\"subscriptions\":\"posts\",\"authorization\":\"\",\"ip\":\"\"}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"subscribe\",\"clientId\":\"c\","
        "\"subscriptions\":[],\"authorization\":null,\"ip\":\"\"}",
        "{\"v\":1,\"node\":\"a\",\"kind\":\"subscribe\",\"clientId\":\"c\","
        "\"subscriptions\":[],\"authorization\":\"\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bs_cluster_msg m;
        int rc = bs_cluster_decode(bad[i], strlen(bad[i]), &m);
        CHECK(rc == BS_EINVAL);
        CHECK(m.record == NULL && m.topics == NULL);
        if (rc != BS_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        bs_cluster_msg_dispose(&m);
    }
    /* A node id longer than 64 characters. */
    char longer[200];
    snprintf(longer, sizeof longer,
             "{\"v\":1,\"node\":\"%065d\",\"kind\":\"schema\"}", 0);
    bs_cluster_msg m;
    CHECK(bs_cluster_decode(longer, strlen(longer), &m) == BS_EINVAL);
}

int main(void)
{
    filter_schema_load(&schema, cluster_kinds, 1);
    atomic_init(&schema.refs, 1);
    RUN(record_round_trip);
    RUN(numbers_keep_their_form);
    RUN(notices);
    RUN(subscribe_round_trip);
    RUN(refused);
    filter_schema_free(&schema);
    return harness_summary(__FILE__);
}
