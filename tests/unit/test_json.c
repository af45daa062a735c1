/*
 * test_json.c - strict parsing, Go-compatible writing (insertion order
 * and sorted), accessors, array insertion and deep merge.
 */
#include <stdlib.h>

#include "base/json.h"
#include "basalt.h"
#include "harness.h"

static int parse(const char *s, json_object **out)
{
    return bs_json_parse(s, strlen(s), out);
}

/* Parses s, which must be valid, and returns the value (NULL if not). */
static json_object *P(const char *s)
{
    json_object *v = NULL;
    if (parse(s, &v) != 0)
        return NULL;
    return v;
}

static char *write_str(const json_object *v, bool sorted)
{
    bs_buf b;
    bs_buf_init(&b);
    if (sorted)
        bs_json_write_sorted(&b, v);
    else
        bs_json_write(&b, v);
    return bs_buf_steal(&b, NULL);
}

/* Parses in, writes it back (insertion order) and compares with want. */
#define CHECK_ROUND(in, want)                                              \
    do {                                                                   \
        json_object *v_ = NULL;                                            \
        int rc_ = parse((in), &v_);                                        \
        CHECK(rc_ == 0);                                                   \
        char *s_ = write_str(v_, false);                                   \
        CHECK_STR(s_, (want));                                             \
        free(s_);                                                          \
        json_object_put(v_);                                               \
    } while (0)

#define CHECK_REJECT(in)                                                   \
    do {                                                                   \
        json_object *v_ = (json_object *)1;                                \
        int rc_ = parse((in), &v_);                                        \
        CHECK(rc_ == BS_EINVAL);                                           \
        CHECK(v_ == NULL);                                                 \
        if (rc_ == 0)                                                      \
            json_object_put(v_); /* accepted by mistake: do not leak */    \
    } while (0)

TEST(parse_objects_and_arrays)
{
    CHECK_ROUND("{}", "{}");
    CHECK_ROUND("[]", "[]");
    CHECK_ROUND(" { \"a\" : [1, 2.5, \"x\", true, false, null] } ",
                "{\"a\":[1,2.5,\"x\",true,false,null]}");
    CHECK_ROUND("\t\r\n[ ]\n", "[]");
}

TEST(parse_keeps_insertion_order)
{
    CHECK_ROUND("{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2}}",
                "{\"z\":1,\"a\":2,\"m\":{\"y\":1,\"b\":2}}");
}

TEST(parse_duplicate_key_last_wins)
{
    /* Go's decoder keeps the last value too. */
    CHECK_ROUND("{\"a\":1,\"a\":2}", "{\"a\":2}");
}

TEST(parse_string_escapes)
{
    CHECK_ROUND("[\"\\u00e9\\n\\t\\\"\\\\\\/\"]", "[\"\xc3\xa9\\n\\t\\\"\\\\/\"]");
    CHECK_ROUND("[\"\\ud83d\\ude00\"]", "[\"\xf0\x9f\x98\x80\"]");
    CHECK_ROUND("[\"a\\u0000b\"]", "[\"a\\u0000b\"]");
    CHECK_ROUND("[\"<&>\"]", "[\"\\u003c\\u0026\\u003e\"]");
}

TEST(parse_rejects_trailing_garbage)
{
    CHECK_REJECT("{}x");
    CHECK_REJECT("{\"a\":1}garbage");
    CHECK_REJECT("[1] [2]");
    CHECK_REJECT("{} {}");
    CHECK_REJECT("[1]\x01");
}

TEST(parse_rejects_invalid_json)
{
    CHECK_REJECT("");
    CHECK_REJECT("   ");
    CHECK_REJECT("{");
    CHECK_REJECT("[1,2,]");
    CHECK_REJECT("{\"a\":1,}");
    CHECK_REJECT("{a:1}");
    CHECK_REJECT("['a']");
    CHECK_REJECT("[01]");
    CHECK_REJECT("[.5]");
    CHECK_REJECT("[+1]");
    CHECK_REJECT("[0x10]");
    CHECK_REJECT("[1e]");
    CHECK_REJECT("/*c*/[1]");
    CHECK_REJECT("[1] // x");
    CHECK_REJECT("nul");
    CHECK_REJECT("[tru]");
    CHECK_REJECT("\xef\xbb\xbf[]"); /* a byte order mark is not JSON */
    CHECK_REJECT("[\"\\x41\"]");
}

/* json-c accepts these even in strict mode; Go's decoder (and RFC 8259)
 * does not: "invalid character 'N' looking for beginning of value",
 * "invalid character ']' after decimal point in numeric literal". */
TEST(parse_rejects_non_json_number_spellings)
{
    CHECK_REJECT("[NaN]");
    CHECK_REJECT("[Infinity]");
    CHECK_REJECT("[-Infinity]");
    CHECK_REJECT("{\"exp\":NaN}");
    CHECK_REJECT("[1.]");
}

/* RFC 8259 forbids raw control characters inside strings; Go's decoder
 * rejects them ("invalid character '\x01' in string literal"). */
TEST(parse_rejects_raw_control_chars_in_strings)
{
    CHECK_REJECT("[\"a\x01z\"]");
    CHECK_REJECT("[\"a\tz\"]");
    CHECK_REJECT("[\"a\nz\"]");
}

TEST(parse_depth_limit)
{
    char deep[400];
    for (int n = 1; n <= 64; n++) {
        memset(deep, '[', (size_t)n);
        memset(deep + n, ']', (size_t)n);
        json_object *v = NULL;
        CHECK(bs_json_parse(deep, (size_t)(2 * n), &v) == 0);
        json_object_put(v);
    }
    for (int n = 65; n <= 200; n += 45) {
        memset(deep, '[', (size_t)n);
        memset(deep + n, ']', (size_t)n);
        json_object *v = NULL;
        CHECK(bs_json_parse(deep, (size_t)(2 * n), &v) == BS_EINVAL);
        CHECK(v == NULL);
    }
    /* Objects count as nesting too. */
    bs_buf b;
    bs_buf_init(&b);
    for (int i = 0; i < 100; i++)
        bs_buf_puts(&b, "{\"a\":");
    bs_buf_puts(&b, "1");
    for (int i = 0; i < 100; i++)
        bs_buf_putc(&b, '}');
    json_object *v = NULL;
    CHECK(bs_json_parse(b.data, b.len, &v) == BS_EINVAL);
    bs_buf_dispose(&b);
}

TEST(parse_respects_length_not_nul)
{
    json_object *v = NULL;
    /* Only the first 7 bytes are the document. */
    CHECK(bs_json_parse("{\"a\":1}junk", 7, &v) == 0);
    CHECK(bs_json_get_int(v, "a", 0) == 1);
    json_object_put(v);
    /* A NUL byte inside the given length is garbage. */
    CHECK(bs_json_parse("{}\0", 3, &v) == BS_EINVAL);
}

/* The literal null parses to a NULL value with success, as the header
 * promises, with or without surrounding space. */
TEST(parse_null_literal)
{
    json_object *v = (json_object *)1;
    CHECK(parse(" null ", &v) == 0);
    CHECK(v == NULL);
    v = (json_object *)1;
    CHECK(parse("null", &v) == 0);
    CHECK(v == NULL);
}

/* A JSON text may be any value (RFC 8259), and a json field stores
 * numbers, strings and booleans as bare texts such as `123`. */
TEST(parse_top_level_scalars)
{
    json_object *v = NULL;
    CHECK(parse("true", &v) == 0);
    CHECK(v && json_object_get_boolean(v));
    json_object_put(v);
    v = NULL;
    CHECK(parse("123", &v) == 0);
    CHECK(v && json_object_get_int64(v) == 123);
    json_object_put(v);
    v = NULL;
    CHECK(parse("-1.5", &v) == 0);
    CHECK(v && json_object_get_double(v) == -1.5);
    json_object_put(v);
    v = NULL;
    CHECK(parse("\"s\"", &v) == 0);
    CHECK(v && strcmp(json_object_get_string(v), "s") == 0);
    json_object_put(v);
}

TEST(numbers_written_like_go)
{
    CHECK_ROUND("[1.0]", "[1]");
    CHECK_ROUND("[1.5e3]", "[1500]");
    CHECK_ROUND("[1E2]", "[100]");
    CHECK_ROUND("[0.1]", "[0.1]");
    CHECK_ROUND("[-5]", "[-5]");
    CHECK_ROUND("[9007199254740993]", "[9007199254740993]"); /* int64 */
    CHECK_ROUND("[1e21]", "[1e+21]");
    CHECK_ROUND("[4.9e-324]", "[5e-324]");
}

/* Go decodes numbers into float64: an integer beyond int64 keeps its
 * magnitude (printed with the shortest digits), it is never clamped. */
TEST(integers_beyond_int64_are_not_clamped)
{
    CHECK_ROUND("[9223372036854775808]", "[9223372036854776000]");
    CHECK_ROUND("[18446744073709551615]", "[18446744073709552000]");
    CHECK_ROUND("[123456789012345678901234567890]",
                "[1.2345678901234568e+29]");
    CHECK_ROUND("[-9223372036854775809]", "[-9223372036854776000]");
}

/* Go's decoder rejects a number that overflows float64 ("cannot
 * unmarshal number 1e400"); it must not turn into 0 or infinity. */
TEST(parse_rejects_numbers_out_of_double_range)
{
    CHECK_REJECT("[1e400]");
    CHECK_REJECT("{\"a\":-1e400}");
}

TEST(sorted_writer_sorts_every_level)
{
    json_object *v = P("{\"b\":1,\"a\":{\"d\":[{\"z\":1,\"y\":2}],\"c\":2},"
                       "\"B\":0,\"_\":null}");
    REQUIRE(v != NULL);
    char *s = write_str(v, true);
    CHECK_STR(s, "{\"B\":0,\"_\":null,\"a\":{\"c\":2,\"d\":[{\"y\":2,\"z\":1}]},"
                 "\"b\":1}");
    free(s);
    s = write_str(v, false);
    CHECK_STR(s, "{\"b\":1,\"a\":{\"d\":[{\"z\":1,\"y\":2}],\"c\":2},\"B\":0,"
                 "\"_\":null}");
    free(s);
    json_object_put(v);
}

TEST(sorted_writer_bytewise_utf8_keys)
{
    json_object *v = P("{\"\xc3\xa9\":1,\"z\":2,\"A\":3,\"<\":4}");
    REQUIRE(v != NULL);
    char *s = write_str(v, true);
    CHECK_STR(s, "{\"\\u003c\":4,\"A\":3,\"z\":2,\"\xc3\xa9\":1}");
    free(s);
    json_object_put(v);
}

TEST(writer_null_value)
{
    char *s = write_str(NULL, false);
    CHECK_STR(s, "null");
    free(s);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "n", NULL);
    s = write_str(o, true);
    CHECK_STR(s, "{\"n\":null}");
    free(s);
    json_object_put(o);
}

TEST(writer_escapes_keys)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "a\"<b>", json_object_new_int(1));
    char *s = write_str(o, false);
    CHECK_STR(s, "{\"a\\\"\\u003cb\\u003e\":1}");
    free(s);
    json_object_put(o);
}

TEST(accessors_tolerate_missing_and_wrong_types)
{
    json_object *v = P("{\"s\":\"str\",\"i\":42,\"d\":2.9,\"b\":true,"
                       "\"n\":null,\"o\":{\"x\":1}}");
    REQUIRE(v != NULL);
    CHECK_STR(bs_json_get_str(v, "s", "def"), "str");
    CHECK_STR(bs_json_get_str(v, "i", "def"), "def");
    CHECK_STR(bs_json_get_str(v, "missing", "def"), "def");
    CHECK_STR(bs_json_get_str(v, "n", "def"), "def");
    CHECK(bs_json_get_str(v, "missing", NULL) == NULL);
    CHECK(bs_json_get_int(v, "i", -1) == 42);
    CHECK(bs_json_get_int(v, "d", -1) == 2);
    CHECK(bs_json_get_int(v, "s", -1) == -1);
    CHECK(bs_json_get_int(v, "b", -1) == -1);
    CHECK(bs_json_get_int(v, "missing", 7) == 7);
    CHECK(bs_json_get_bool(v, "b", false) == true);
    CHECK(bs_json_get_bool(v, "i", false) == false);
    CHECK(bs_json_get_bool(v, "missing", true) == true);
    CHECK(bs_json_get(v, "o") != NULL);
    CHECK(bs_json_get_int(bs_json_get(v, "o"), "x", 0) == 1);
    CHECK(bs_json_get(v, "n") == NULL);
    /* Not an object, or NULL: defaults. */
    json_object *arr = P("[1]");
    CHECK(bs_json_get(arr, "0") == NULL);
    CHECK_STR(bs_json_get_str(arr, "0", "d"), "d");
    CHECK(bs_json_get(NULL, "x") == NULL);
    CHECK(bs_json_get_int(NULL, "x", 5) == 5);
    json_object_put(arr);
    json_object_put(v);
}

TEST(array_insert_positions)
{
    json_object *a = P("[1,2,3]");
    REQUIRE(a != NULL);
    bs_json_array_insert(a, 0, json_object_new_int(0));
    bs_json_array_insert(a, 2, json_object_new_string("x"));
    bs_json_array_insert(a, 5, json_object_new_int(9)); /* at the end */
    bs_json_array_insert(a, 100, json_object_new_int(10)); /* past it */
    char *s = write_str(a, false);
    CHECK_STR(s, "[0,1,\"x\",2,3,9,10]");
    free(s);
    json_object_put(a);

    json_object *e = json_object_new_array();
    bs_json_array_insert(e, 0, json_object_new_int(1));
    s = write_str(e, false);
    CHECK_STR(s, "[1]");
    free(s);
    json_object_put(e);
}

TEST(array_insert_keeps_shared_items_alive)
{
    json_object *a = P("[{\"k\":1},{\"k\":2}]");
    REQUIRE(a != NULL);
    json_object *second = json_object_array_get_idx(a, 1);
    json_object_get(second); /* hold our own reference */
    bs_json_array_insert(a, 0, json_object_new_int(0));
    CHECK(json_object_array_length(a) == 3);
    CHECK(json_object_array_get_idx(a, 2) == second);
    CHECK(bs_json_get_int(second, "k", 0) == 2);
    json_object_put(a);
    /* Our reference is still valid after the array is gone. */
    CHECK(bs_json_get_int(second, "k", 0) == 2);
    json_object_put(second);
}

TEST(merge_deep_objects)
{
    json_object *dst = P("{\"a\":1,\"o\":{\"x\":1,\"y\":{\"p\":1}},"
                         "\"arr\":[1,2],\"s\":\"keep\"}");
    json_object *src = P("{\"o\":{\"y\":{\"q\":2},\"z\":3},\"arr\":[9],"
                         "\"a\":{\"now\":\"obj\"},\"new\":null}");
    REQUIRE(dst && src);
    bs_json_merge(dst, src);
    char *s = write_str(dst, false);
    /* Objects merge key by key, arrays and scalars replace, dst keeps its
     * key order and new keys are appended. */
    CHECK_STR(s, "{\"a\":{\"now\":\"obj\"},\"o\":{\"x\":1,\"y\":{\"p\":1,"
                 "\"q\":2},\"z\":3},\"arr\":[9],\"s\":\"keep\",\"new\":null}");
    free(s);
    /* The merged values are copies: changing src leaves dst alone. */
    json_object_object_add(bs_json_get(src, "o"), "z",
                           json_object_new_int(100));
    json_object_array_add(bs_json_get(src, "arr"), json_object_new_int(8));
    CHECK(bs_json_get_int(bs_json_get(dst, "o"), "z", 0) == 3);
    CHECK(json_object_array_length(bs_json_get(dst, "arr")) == 1);
    json_object_put(src);
    s = write_str(dst, true);
    CHECK_STR(s, "{\"a\":{\"now\":\"obj\"},\"arr\":[9],\"new\":null,\"o\":{"
                 "\"x\":1,\"y\":{\"p\":1,\"q\":2},\"z\":3},\"s\":\"keep\"}");
    free(s);
    json_object_put(dst);
}

TEST(merge_object_over_scalar_replaces)
{
    json_object *dst = P("{\"a\":5}");
    json_object *src = P("{\"a\":{\"b\":1}}");
    REQUIRE(dst && src);
    bs_json_merge(dst, src);
    char *s = write_str(dst, false);
    CHECK_STR(s, "{\"a\":{\"b\":1}}");
    free(s);
    json_object_put(src);
    json_object_put(dst);
}

int main(void)
{
    RUN(parse_objects_and_arrays);
    RUN(parse_keeps_insertion_order);
    RUN(parse_duplicate_key_last_wins);
    RUN(parse_string_escapes);
    RUN(parse_rejects_trailing_garbage);
    RUN(parse_rejects_invalid_json);
    RUN(parse_rejects_non_json_number_spellings);
    RUN(parse_rejects_raw_control_chars_in_strings);
    RUN(parse_depth_limit);
    RUN(parse_respects_length_not_nul);
    RUN(parse_null_literal);
    RUN(parse_top_level_scalars);
    RUN(numbers_written_like_go);
    RUN(integers_beyond_int64_are_not_clamped);
    RUN(parse_rejects_numbers_out_of_double_range);
    RUN(sorted_writer_sorts_every_level);
    RUN(sorted_writer_bytewise_utf8_keys);
    RUN(writer_null_value);
    RUN(writer_escapes_keys);
    RUN(accessors_tolerate_missing_and_wrong_types);
    RUN(array_insert_positions);
    RUN(array_insert_keeps_shared_items_alive);
    RUN(merge_deep_objects);
    RUN(merge_object_over_scalar_replaces);
    return harness_summary(__FILE__);
}
