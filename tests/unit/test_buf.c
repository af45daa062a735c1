/*
 * test_buf.c - string slices, growable buffers and the Go-compatible JSON
 * scalar writers (bs_buf_json_str, bs_buf_json_num).
 *
 * The expected JSON texts are what Go's encoding/json (Go 1.22 and later,
 * which PocketBase is built with) prints for the same string or float64.
 */
#include <math.h>
#include <stdlib.h>

#include "base/buf.h"
#include "harness.h"

TEST(str_helpers)
{
    bs_str a = BS_STR("abc");
    CHECK(a.len == 3);
    CHECK(bs_str_eq_c(a, "abc"));
    CHECK(!bs_str_eq_c(a, "abd"));
    CHECK(!bs_str_eq_c(a, "ab"));
    bs_str n = bs_str_c(NULL);
    CHECK(n.len == 0);
    CHECK(bs_str_eq(n, BS_STR("")));
}

TEST(empty_buffer)
{
    bs_buf b;
    bs_buf_init(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && !b.oom);
    bs_buf_reset(&b); /* no data yet: must not crash */
    bs_buf_append(&b, "", 0);
    REQUIRE(b.data != NULL);
    CHECK_STR(b.data, "");
    bs_buf_dispose(&b);
    CHECK(b.data == NULL && b.len == 0);
}

TEST(growth_keeps_contents_and_nul)
{
    bs_buf b;
    bs_buf_init(&b);
    for (int i = 0; i < 10000; i++)
        bs_buf_putc(&b, (char)('a' + i % 26));
    REQUIRE(!b.oom);
    CHECK(b.len == 10000);
    CHECK(b.cap > b.len);
    CHECK(b.data[b.len] == '\0');
    int bad = 0;
    for (int i = 0; i < 10000; i++)
        bad += b.data[i] != (char)('a' + i % 26);
    CHECK(bad == 0);
    bs_buf_dispose(&b);
}

TEST(append_puts_and_binary)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "ab");
    bs_buf_append(&b, "c\0d", 3);
    bs_buf_putc(&b, 'e');
    CHECK(b.len == 6);
    CHECK(memcmp(b.data, "abc\0de", 7) == 0);
    bs_buf_reset(&b);
    CHECK(b.len == 0);
    CHECK_STR(b.data, "");
    bs_buf_puts(&b, "again");
    CHECK_STR(b.data, "again");
    bs_buf_dispose(&b);
}

TEST(reserve_exact_boundaries)
{
    bs_buf b;
    bs_buf_init(&b);
    REQUIRE(bs_buf_reserve(&b, 63));
    CHECK(b.cap >= 64);
    size_t cap = b.cap;
    /* Filling up to cap-1 bytes must not reallocate and keep room for
     * the NUL. */
    for (size_t i = 0; i + 1 < cap; i++)
        bs_buf_putc(&b, 'x');
    CHECK(b.cap == cap);
    CHECK(b.data[b.len] == '\0');
    bs_buf_putc(&b, 'y');
    CHECK(b.cap > cap);
    CHECK(b.len == cap);
    CHECK(b.data[b.len - 1] == 'y' && b.data[b.len] == '\0');
    bs_buf_dispose(&b);
}

TEST(huge_reserve_sets_oom_sticky)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "keep");
    CHECK(!bs_buf_reserve(&b, SIZE_MAX - 2));
    CHECK(b.oom);
    bs_buf_puts(&b, "ignored");
    CHECK(b.len == 4);
    CHECK_STR(b.data, "keep");
    bs_buf_dispose(&b);
}

TEST(printf_appends)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "n=");
    bs_buf_printf(&b, "%d,%s,%03x", 42, "str", 10);
    CHECK_STR(b.data, "n=42,str,00a");
    bs_buf_printf(&b, "%s", "");
    CHECK_STR(b.data, "n=42,str,00a");
    /* A long printf grows the buffer in one go. */
    bs_buf_printf(&b, "%0500d", 1);
    CHECK(b.len == 12 + 500);
    CHECK(b.data[b.len - 1] == '1');
    CHECK(b.data[b.len] == '\0');
    bs_buf_dispose(&b);
}

TEST(steal_hands_over_and_resets)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "payload");
    size_t n = 0;
    char *p = bs_buf_steal(&b, &n);
    CHECK(n == 7);
    CHECK_STR(p, "payload");
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(p);
    /* Stealing an empty buffer gives an empty heap string. */
    char *e = bs_buf_steal(&b, &n);
    REQUIRE(e != NULL);
    CHECK(n == 0);
    CHECK_STR(e, "");
    free(e);
    /* The buffer is usable after a steal. */
    bs_buf_puts(&b, "x");
    CHECK_STR(b.data, "x");
    bs_buf_dispose(&b);
}

/* ---- JSON strings ----------------------------------------------------- */

static char *jstr(const char *s, size_t n)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_json_str(&b, s, n);
    return bs_buf_steal(&b, NULL);
}

#define CHECK_JSTR(lit, want)                                              \
    do {                                                                   \
        char *got_ = jstr((lit), sizeof(lit) - 1);                         \
        CHECK_STR(got_, (want));                                           \
        free(got_);                                                        \
    } while (0)

TEST(json_str_plain_and_quotes)
{
    CHECK_JSTR("", "\"\"");
    CHECK_JSTR("hello world", "\"hello world\"");
    CHECK_JSTR("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    CHECK_JSTR("\n\r\t", "\"\\n\\r\\t\"");
}

TEST(json_str_html_escapes)
{
    CHECK_JSTR("<a href='x'>&amp;</a>",
               "\"\\u003ca href='x'\\u003e\\u0026amp;\\u003c/a\\u003e\"");
}

TEST(json_str_control_chars)
{
    CHECK_JSTR("\x01\x1f", "\"\\u0001\\u001f\"");
    CHECK_JSTR("\x0b", "\"\\u000b\"");
    /* DEL is not escaped by Go. */
    CHECK_JSTR("\x7f", "\"\x7f\"");
    char *z = jstr("a\0b", 3);
    CHECK_STR(z, "\"a\\u0000b\"");
    free(z);
}

/* Go 1.22 changed encoding/json to write \b and \f with their short
 * escapes (PocketBase v0.39 needs Go 1.25). */
TEST(json_str_backspace_formfeed_like_go_1_22)
{
    CHECK_JSTR("a\bb\fc", "\"a\\bb\\fc\"");
}

TEST(json_str_line_separators)
{
    CHECK_JSTR("x\xe2\x80\xa8y\xe2\x80\xa9z", "\"x\\u2028y\\u2029z\"");
    /* U+2027 and U+202A are ordinary characters. */
    CHECK_JSTR("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"");
}

TEST(json_str_valid_utf8_passes_through)
{
    CHECK_JSTR("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x8e\x89",
               "\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x8e\x89\"");
    /* A literal U+FFFD is valid text and stays as it is. */
    CHECK_JSTR("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");
    /* Largest code point U+10FFFF. */
    CHECK_JSTR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
}

TEST(json_str_invalid_utf8_becomes_fffd_per_byte)
{
    CHECK_JSTR("\xff", "\"\\ufffd\"");
    CHECK_JSTR("a\x80z", "\"a\\ufffdz\"");
    /* A truncated sequence: each byte is replaced, as Go's
     * utf8.DecodeRune reports size 1 for it. */
    CHECK_JSTR("\xe2\x82", "\"\\ufffd\\ufffd\"");
    CHECK_JSTR("\xe2\x82z", "\"\\ufffd\\ufffdz\"");
    /* Overlong encodings. */
    CHECK_JSTR("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    CHECK_JSTR("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
    /* Surrogates encoded in UTF-8. */
    CHECK_JSTR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    /* Beyond U+10FFFF. */
    CHECK_JSTR("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    CHECK_JSTR("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* A sequence cut by the end of the input. */
    CHECK_JSTR("\xf0\x9f\x8e", "\"\\ufffd\\ufffd\\ufffd\"");
}

TEST(json_str_appends_after_existing_text)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_puts(&b, "{\"k\":");
    bs_buf_json_str(&b, "v<", 2);
    bs_buf_putc(&b, '}');
    CHECK_STR(b.data, "{\"k\":\"v\\u003c\"}");
    bs_buf_dispose(&b);
}

TEST(json_str_long_input)
{
    size_t n = 100000;
    char *s = malloc(n);
    REQUIRE(s != NULL);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 100 == 0) ? '<' : 'a';
    char *out = jstr(s, n);
    REQUIRE(out != NULL);
    CHECK(strlen(out) == n + 2 + (n / 100) * 5);
    free(out);
    free(s);
}

/* ---- JSON numbers ----------------------------------------------------- */

static char *jnum(double v)
{
    bs_buf b;
    bs_buf_init(&b);
    bs_buf_json_num(&b, v);
    return bs_buf_steal(&b, NULL);
}

#define CHECK_JNUM(v, want)                                                \
    do {                                                                   \
        char *got_ = jnum(v);                                              \
        CHECK_STR(got_, (want));                                           \
        free(got_);                                                        \
    } while (0)

TEST(json_num_integers)
{
    CHECK_JNUM(0.0, "0");
    CHECK_JNUM(1.0, "1");
    CHECK_JNUM(-1.0, "-1");
    CHECK_JNUM(100.0, "100");
    CHECK_JNUM(-2.5, "-2.5");
    CHECK_JNUM(9007199254740992.0, "9007199254740992");
    CHECK_JNUM(12345678912345678.0, "12345678912345678");
    CHECK_JNUM(1e20, "100000000000000000000");
    CHECK_JNUM(1e17, "100000000000000000");
}

TEST(json_num_fractions_shortest)
{
    CHECK_JNUM(0.1, "0.1");
    CHECK_JNUM(0.3, "0.3");
    CHECK_JNUM(4.35, "4.35");
    CHECK_JNUM(123456.789, "123456.789");
    CHECK_JNUM(1000000000000000.5, "1000000000000000.5");
    CHECK_JNUM(0.1 + 0.2, "0.30000000000000004");
    CHECK_JNUM(1.0 / 3.0, "0.3333333333333333");
}

TEST(json_num_small_fixed_range)
{
    /* 1e-6 <= |v| < 1e21 prints without an exponent. */
    CHECK_JNUM(1e-6, "0.000001");
    CHECK_JNUM(0.000001234, "0.000001234");
    CHECK_JNUM(2.5e-5, "0.000025");
    CHECK_JNUM(-1e-6, "-0.000001");
}

TEST(json_num_exponent_form)
{
    CHECK_JNUM(1e21, "1e+21");
    CHECK_JNUM(-1e21, "-1e+21");
    CHECK_JNUM(1e100, "1e+100");
    CHECK_JNUM(1.5e300, "1.5e+300");
    CHECK_JNUM(1.7976931348623157e308, "1.7976931348623157e+308");
    CHECK_JNUM(1e-10, "1e-10");
    CHECK_JNUM(5e-324, "5e-324");
    CHECK_JNUM(1.2345e-20, "1.2345e-20");
}

/* Go's encoding/json rewrites a one-digit negative exponent: strconv
 * gives "1e-07", encoding/json prints "1e-7". */
TEST(json_num_single_digit_negative_exponent_like_go)
{
    CHECK_JNUM(1e-7, "1e-7");
    CHECK_JNUM(-1.5e-7, "-1.5e-7");
    CHECK_JNUM(9.99e-9, "9.99e-9");
}

/* For integral values beyond 2^53 Go prints the shortest digits that
 * read back the same, padded with zeros, not the exact binary value. */
TEST(json_num_large_integers_shortest_digits_like_go)
{
    CHECK_JNUM(1152921504606846976.0, "1152921504606847000"); /* 2^60 */
    CHECK_JNUM(-9223372036854775808.0, "-9223372036854776000"); /* -2^63 */
    CHECK_JNUM(999999999999999868928.0, "999999999999999900000");
    CHECK_JNUM(123456789012345680000.0, "123456789012345680000");
    CHECK_JNUM(18446744073709551616.0, "18446744073709552000");
    CHECK_JNUM(1e20 + 65536.0, "100000000000000070000");
    CHECK_JNUM(9.3e18, "9300000000000000000");
}

/* Go prints negative zero as "-0". */
TEST(json_num_negative_zero_like_go)
{
    CHECK_JNUM(-0.0, "-0");
}

TEST(json_num_non_finite_print_zero)
{
    CHECK_JNUM(NAN, "0");
    CHECK_JNUM(INFINITY, "0");
    CHECK_JNUM(-INFINITY, "0");
}

/* Every printed number reads back as the same double. */
TEST(json_num_round_trips)
{
    double vals[] = {0.1, 2.0 / 3.0, 1e-300, 123.456e-7, 6.02214076e23,
                     -4.9e-324, 8.5e-7, 1e21 - 65536.0 * 2, 3.14159e15};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char *s = jnum(vals[i]);
        REQUIRE(s != NULL);
        CHECK(strtod(s, NULL) == vals[i]);
        free(s);
    }
}

int main(void)
{
    RUN(str_helpers);
    RUN(empty_buffer);
    RUN(growth_keeps_contents_and_nul);
    RUN(append_puts_and_binary);
    RUN(reserve_exact_boundaries);
    RUN(huge_reserve_sets_oom_sticky);
    RUN(printf_appends);
    RUN(steal_hands_over_and_resets);
    RUN(json_str_plain_and_quotes);
    RUN(json_str_html_escapes);
    RUN(json_str_control_chars);
    RUN(json_str_backspace_formfeed_like_go_1_22);
    RUN(json_str_line_separators);
    RUN(json_str_valid_utf8_passes_through);
    RUN(json_str_invalid_utf8_becomes_fffd_per_byte);
    RUN(json_str_appends_after_existing_text);
    RUN(json_str_long_input);
    RUN(json_num_integers);
    RUN(json_num_fractions_shortest);
    RUN(json_num_small_fixed_range);
    RUN(json_num_exponent_form);
    RUN(json_num_single_digit_negative_exponent_like_go);
    RUN(json_num_large_integers_shortest_digits_like_go);
    RUN(json_num_negative_zero_like_go);
    RUN(json_num_non_finite_print_zero);
    RUN(json_num_round_trips);
    return harness_summary(__FILE__);
}
