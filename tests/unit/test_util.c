/*
 * test_util.c - checksums, random strings, time stamps, constant-time
 * comparison and error helpers.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/error.h"
#include "base/util.h"
#include "harness.h"

TEST(crc32_matches_go)
{
    /* PocketBase's field id of "id" is "text" + crc32("id"). */
    CHECK(bs_crc32("id", 2) == 3208210256u);
    CHECK(bs_crc32("", 0) == 0);
    CHECK(bs_crc32("123456789", 9) == 0xCBF43926u); /* the check value */
    /* Collection ids: "pbc_" + crc32(type + name). */
    CHECK(bs_crc32("auth_superusers", 15) == 3142635823u);
    CHECK(bs_crc32("base_mfas", 9) == 2279338944u);
}

TEST(random_id_alphabet_and_length)
{
    char id[16];
    int counts[256] = {0};
    for (int i = 0; i < 200; i++) {
        memset(id, 'X', sizeof id);
        REQUIRE(bs_random_id(id) == 0);
        CHECK(strlen(id) == 15);
        for (int j = 0; j < 15; j++) {
            unsigned char c = (unsigned char)id[j];
            CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
            counts[c]++;
        }
    }
    /* 3000 characters over 36 symbols: every one shows up. */
    int missing = 0;
    for (const char *p = "abcdefghijklmnopqrstuvwxyz0123456789"; *p; p++)
        missing += counts[(unsigned char)*p] == 0;
    CHECK(missing == 0);
}

TEST(random_string_custom_alphabet)
{
    char out[65];
    REQUIRE(bs_random_string(out, 64, "AB") == 0);
    CHECK(strlen(out) == 64);
    CHECK(strspn(out, "AB") == 64);
    CHECK(strchr(out, 'A') != NULL && strchr(out, 'B') != NULL);
    REQUIRE(bs_random_string(out, 0, "xyz") == 0);
    CHECK_STR(out, "");
    REQUIRE(bs_random_string(out, 10, "z") == 0);
    CHECK_STR(out, "zzzzzzzzzz");
    char a[51], b[51];
    bs_random_string(a, 50, "abcdefghijklmnopqrstuvwxyz");
    bs_random_string(b, 50, "abcdefghijklmnopqrstuvwxyz");
    CHECK(strcmp(a, b) != 0);
}

static bool is_time_str(const char *s)
{
    /* 2006-01-02 15:04:05.000Z */
    static const char shape[] = "dddd-dd-dd dd:dd:dd.dddZ";
    if (strlen(s) != 24)
        return false;
    for (int i = 0; i < 24; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    }
    return true;
}

TEST(now_string_format)
{
    char s[25];
    memset(s, 'x', sizeof s);
    bs_now_str(s);
    CHECK(is_time_str(s));
    /* It is this year (UTC). */
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char year[16];
    snprintf(year, sizeof year, "%04d", tm.tm_year + 1900);
    CHECK(strncmp(s, year, 4) == 0);
}

TEST(time_string_of_known_instants)
{
    char s[25];
    bs_time_str(0, 0, s);
    CHECK_STR(s, "1970-01-01 00:00:00.000Z");
    bs_time_str(1700000000, 7, s);
    CHECK_STR(s, "2023-11-14 22:13:20.007Z");
    bs_time_str(2524604461, 999, s);
    CHECK_STR(s, "2049-12-31 23:01:01.999Z");
    bs_time_str(951782400, 0, s); /* leap day */
    CHECK_STR(s, "2000-02-29 00:00:00.000Z");
    /* Out of range fields keep their low digits: always 24 characters. */
    bs_time_str(253402300800LL, 1234, s); /* year 10000 */
    CHECK_STR(s, "0000-01-01 00:00:00.234Z");
}

TEST(mono_clock_moves_forward)
{
    int64_t a = bs_mono_ms();
    struct timespec ts = {0, 3 * 1000000};
    nanosleep(&ts, NULL);
    int64_t b = bs_mono_ms();
    CHECK(b >= a + 2);
}

TEST(ct_equal)
{
    CHECK(bs_ct_equal("abc", 3, "abc", 3));
    CHECK(!bs_ct_equal("abc", 3, "abd", 3));
    CHECK(!bs_ct_equal("abc", 3, "abcd", 4));
    CHECK(!bs_ct_equal("abcd", 4, "abc", 3));
    CHECK(bs_ct_equal("", 0, "", 0));
    CHECK(bs_ct_equal("a\0b", 3, "a\0b", 3));
    CHECK(!bs_ct_equal("a\0b", 3, "a\0c", 3));
}

TEST(strerror_names_every_code)
{
    CHECK_STR(bs_strerror(BS_OK), "success");
    CHECK_STR(bs_strerror(BS_ENOMEM), "out of memory");
    CHECK_STR(bs_strerror(BS_ENOTFOUND), "not found");
    CHECK_STR(bs_strerror(-1000), "unknown error");
    for (int c = BS_ECONSTRAINT; c <= BS_OK; c++)
        CHECK(strcmp(bs_strerror(c), "unknown error") != 0);
}

TEST(error_fields_nest_and_serialize)
{
    bs_error e;
    bs_error_init(&e);
    CHECK(!bs_error_has_fields(&e));
    bs_error_field(&e, "name", "validation_required", "Cannot be blank.");
    bs_error_field(&e, "meta.appURL", "validation_is_url",
                   "Must be a valid URL.");
    bs_error_field(&e, "meta.appName", "validation_required",
                   "Cannot be blank.");
    bs_error_field(&e, "fields.0.type", "validation_invalid_type", "Bad.");
    CHECK(bs_error_has_fields(&e));
    CHECK(bs_error_set(&e, 400, "Failed %s.", "here") == BS_EHTTP);
    bs_buf b;
    bs_buf_init(&b);
    bs_error_write_json(&e, &b);
    CHECK_STR(b.data,
              "{\"data\":{\"name\":{\"code\":\"validation_required\","
              "\"message\":\"Cannot be blank.\"},\"meta\":{\"appURL\":{"
              "\"code\":\"validation_is_url\",\"message\":\"Must be a valid "
              "URL.\"},\"appName\":{\"code\":\"validation_required\","
              "\"message\":\"Cannot be blank.\"}},\"fields\":{\"0\":{"
              "\"type\":{\"code\":\"validation_invalid_type\",\"message\":"
              "\"Bad.\"}}}},\"message\":\"Failed here.\",\"status\":400}\n");
    bs_buf_dispose(&b);
    bs_error_dispose(&e);
    CHECK(e.data == NULL && e.message == NULL && e.status == 0);
}

TEST(error_default_messages)
{
    bs_error e;
    bs_error_init(&e);
    bs_buf b;
    bs_buf_init(&b);
    bs_error_write_json(&e, &b);
    CHECK_STR(b.data, "{\"data\":{},\"message\":\"Something went wrong while "
                      "processing your request.\",\"status\":400}\n");
    bs_buf_reset(&b);
    e.status = 404;
    bs_error_write_json(&e, &b);
    CHECK_STR(b.data, "{\"data\":{},\"message\":\"The requested resource "
                      "wasn't found.\",\"status\":404}\n");
    bs_buf_dispose(&b);
    CHECK_STR(bs_status_message(401), "Missing or invalid authentication.");
    CHECK_STR(bs_status_message(403),
              "You are not allowed to perform this request.");
    bs_error_dispose(&e);
}

TEST(error_message_escaped)
{
    bs_error e;
    bs_error_init(&e);
    bs_error_set(&e, 400, "bad \"%s\"", "<x>");
    bs_buf b;
    bs_buf_init(&b);
    bs_error_write_json(&e, &b);
    CHECK_STR(b.data, "{\"data\":{},\"message\":\"bad \\\"\\u003cx\\u003e\\\"\","
                      "\"status\":400}\n");
    bs_buf_dispose(&b);
    bs_error_dispose(&e);
}

/* The one email rule used by fields, auth forms and settings. */
TEST(email_validation)
{
    const char *good[] = {"a@b", "test@example.com", "a.b+c@sub.example.org",
                          "x_y-z@host-1.io"};
    const char *bad[] = {"", "@example.com", "a@", "a@@b.c", "a@b@c.d",
                         "a b@c.d", "a@.c", "a@c.", "a@c..d", "<a>@b.c",
                         "a@b,c", "a\"@b.c", "a@[1.2.3.4]", "a:b@c.d"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(bs_email_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(!bs_email_valid(bad[i]));
    char long_email[300];
    memset(long_email, 'a', sizeof long_email);
    memcpy(long_email + 250, "@b.cd", 6);
    CHECK(!bs_email_valid(long_email));
}

/* bs_thread_on_exit: what a thread registers runs when it ends, last
 * registered first, and a full list refuses more. */
static char exit_order[16];

static void note_exit(void *p)
{
    size_t n = strlen(exit_order);
    exit_order[n] = *(const char *)p;
    exit_order[n + 1] = '\0';
}

static void *register_exits(void *arg)
{
    int *refused = arg;
    static const char names[] = "abcdefgh";
    for (int i = 0; i < 8; i++)
        if (bs_thread_on_exit(note_exit, (void *)&names[i]) != 0)
            return NULL;
    *refused = bs_thread_on_exit(note_exit, (void *)"z") == BS_ENOMEM;
    return NULL;
}

TEST(thread_on_exit_runs_in_reverse)
{
    exit_order[0] = '\0';
    int refused = 0;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, register_exits, &refused) == 0);
    pthread_join(t, NULL);
    CHECK(refused);
    CHECK_STR(exit_order, "hgfedcba");
}

int main(void)
{
    RUN(crc32_matches_go);
    RUN(random_id_alphabet_and_length);
    RUN(random_string_custom_alphabet);
    RUN(now_string_format);
    RUN(time_string_of_known_instants);
    RUN(mono_clock_moves_forward);
    RUN(ct_equal);
    RUN(strerror_names_every_code);
    RUN(error_fields_nest_and_serialize);
    RUN(error_default_messages);
    RUN(error_message_escaped);
    RUN(email_validation);
    RUN(thread_on_exit_runs_in_reverse);
    return harness_summary(__FILE__);
}
