/*
 * test_multipart.c - the multipart/form-data parser (src/http/multipart.c),
 * the urlencoded splitter and the body reader built on both
 * (src/http/body.c).
 *
 * Parts are written out as a transcript, "{name|filename|type}content;"
 * per part ('-' for an absent header value), so each case compares one
 * string. Every multipart case is parsed twice, whole and fed one byte at
 * a time, and both transcripts must agree.
 */
#include <stdlib.h>
#include <string.h>

#include "basalt.h"
#include "harness.h"
#include "http/body.h"
#include "http/multipart.h"
#include "http/urlencoded.h"

typedef struct transcript {
    bs_buf out;
    int begins, ends;
} transcript;

static int on_begin(void *user, const bs_mp_part *p)
{
    transcript *t = user;
    t->begins++;
    bs_buf_printf(&t->out, "{%s%s|%s|%s}", p->form_data ? "" : "!",
                  p->name ? p->name : "-", p->filename ? p->filename : "-",
                  p->content_type ? p->content_type : "-");
    return 0;
}

static int on_data(void *user, const char *data, size_t len)
{
    transcript *t = user;
    bs_buf_append(&t->out, data, len);
    return 0;
}

static int on_end(void *user)
{
    transcript *t = user;
    t->ends++;
    bs_buf_putc(&t->out, ';');
    return 0;
}

static const bs_mp_callbacks CB = {on_begin, on_data, on_end};

/* Parses body with the given Content-Type, fed in pieces of `step`
 * bytes (0: whole). Returns the parse's code; *out gets the transcript
 * (to free). */
static int parse_in(const char *ct, const char *body, size_t len,
                    size_t step, size_t max_header, char **out)
{
    transcript t = {0};
    bs_buf_init(&t.out);
    bs_mp *mp = NULL;
    int rc = bs_mp_new(&mp, ct, &CB, &t);
    if (rc == 0) {
        if (max_header)
            bs_mp_set_limits(mp, max_header, 1000);
        size_t i = 0;
        while (rc == 0 && i < len) {
            size_t n = step && step < len - i ? step : len - i;
            rc = bs_mp_feed(mp, body + i, n);
            i += n;
        }
        if (rc == 0)
            rc = bs_mp_finish(mp);
    }
    bs_mp_free(mp);
    bs_buf_putc(&t.out, '\0');
    *out = bs_buf_steal(&t.out, NULL);
    return rc;
}

/* Parses whole and byte by byte; both must give the same code and, on
 * success, the same transcript. Returns the code and the transcript. */
static int parse2(const char *ct, const char *body, size_t len, char **out)
{
    char *a = NULL, *b = NULL;
    int rc = parse_in(ct, body, len, 0, 0, &a);
    int rc1 = parse_in(ct, body, len, 1, 0, &b);
    CHECK(rc == rc1);
    if (rc == 0)
        CHECK_STR(b, a);
    free(b);
    *out = a;
    return rc;
}

#define CT "multipart/form-data; boundary=XyZ"

static void expect(const char *ct, const char *body, const char *want)
{
    char *got = NULL;
    int rc = parse2(ct, body, strlen(body), &got);
    CHECK(rc == 0);
    CHECK_STR(got, want);
    free(got);
}

static void expect_fail(const char *ct, const char *body)
{
    char *got = NULL;
    CHECK(parse2(ct, body, strlen(body), &got) == BS_EINVAL);
    free(got);
}

TEST(boundary_parameter)
{
    char b[BS_MP_MAX_BOUNDARY + 1];
    CHECK(bs_mp_boundary("multipart/form-data; boundary=abc", b) == 3);
    CHECK_STR(b, "abc");
    CHECK(bs_mp_boundary("multipart/form-data;boundary=\"a b;c\"", b) == 5);
    CHECK_STR(b, "a b;c");
    CHECK(bs_mp_boundary("multipart/form-data; charset=utf-8; "
                         "BOUNDARY = \"q\\\"x\"", b) == 3);
    CHECK_STR(b, "q\"x");
    CHECK(bs_mp_boundary("multipart/form-data; x=\"boundary=no\"; "
                         "boundary=yes", b) == 3);
    CHECK_STR(b, "yes");
    CHECK(bs_mp_boundary("multipart/form-data", b) == BS_EINVAL);
    CHECK(bs_mp_boundary("multipart/form-data; boundary=", b) == BS_EINVAL);
    CHECK(bs_mp_boundary("multipart/form-data; boundary=\"\"", b) ==
          BS_EINVAL);
    CHECK(bs_mp_boundary("multipart/form-data; boundary=\"open", b) ==
          BS_EINVAL);
    CHECK(bs_mp_boundary(NULL, b) == BS_EINVAL);
    char longer[300] = "multipart/form-data; boundary=";
    memset(longer + strlen(longer), 'a', 201);
    CHECK(bs_mp_boundary(longer, b) == BS_EINVAL);
}

TEST(simple_parts)
{
    expect(CT,
           "--XyZ\r\n"
           "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
           "hello\r\n"
           "--XyZ\r\n"
           "Content-Disposition: form-data; name=\"doc\"; "
           "filename=\"a.txt\"\r\n"
           "Content-Type: text/plain\r\n\r\n"
           "line 1\r\nline 2\r\n"
           "--XyZ--\r\n",
           "{title|-|-}hello;{doc|a.txt|text/plain}line 1\r\nline 2;");
}

TEST(quoted_boundary)
{
    expect("multipart/form-data; boundary=\"with space:and=equals\"",
           "--with space:and=equals\r\n"
           "Content-Disposition: form-data; name=a\r\n\r\n"
           "1\r\n--with space:and=equals--",
           "{a|-|-}1;");
}

TEST(preamble_and_epilogue)
{
    expect(CT,
           "This is the preamble.\r\n--XyZ is not a boundary line\r\n"
           "--XyZ-- neither\r\n"
           "--XyZ  \t\r\n"
           "Content-Disposition: form-data; name=a\r\n\r\n"
           "v\r\n--XyZ--\r\nepilogue --XyZ\r\n garbage",
           "{a|-|-}v;");
    /* A body that is only the final boundary has no parts. */
    expect(CT, "--XyZ--", "");
}

TEST(lf_only_and_mixed_line_ends)
{
    /* A bare LF after the first boundary: LF mode throughout. */
    expect(CT,
           "--XyZ\n"
           "Content-Disposition: form-data; name=a\n\n"
           "one\r\n\n--XyZ\n"
           "content-disposition: form-data; name=b\r\n\n"
           "two\n--XyZ--\n",
           "{a|-|-}one\r\n;{b|-|-}two;");
    /* In CRLF mode a bare LF before the boundary is content. */
    expect(CT,
           "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
           "x\n--XyZ\r\ny\r\n--XyZ--",
           "{a|-|-}x\n--XyZ\r\ny;");
}

TEST(empty_parts)
{
    expect(CT,
           "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
           "\r\n--XyZ\r\n\r\n\r\n--XyZ\r\n"
           "Content-Disposition: form-data; name=c; filename=\"\"\r\n\r\n"
           "\r\n--XyZ--",
           "{a|-|-};{!-|-|-};{c||-};");
}

TEST(boundary_like_content)
{
    expect(CT,
           "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
           "--XyZ\r\n\r\n--XyZx\r\n--XyZ-x\r\n--Xy\r\r\n--XyZ--",
           "{a|-|-}--XyZ\r\n\r\n--XyZx\r\n--XyZ-x\r\n--Xy\r;");
}

TEST(header_details)
{
    expect(CT,
           "--XyZ\r\n"
           "Content-Type:   image/png ; x=1  \r\n"
           "X-Other: ignored\r\n"
           "CONTENT-DISPOSITION: Form-Data;\r\n"
           "\tname=\"fold\\\"ed\"; filename=\"C:\\dir\\a b.png\"\r\n"
           "Content-Disposition: form-data; name=second\r\n\r\n"
           "x\r\n--XyZ\r\n"
           "Content-Disposition: attachment; name=att\r\n\r\n"
           "y\r\n--XyZ\r\n"
           "Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"; "
           "filename*=UTF-8''na%C3%AFve%2F.txt\r\n\r\n"
           "z\r\n--XyZ\r\n"
           "Content-Disposition: form-data; name=\"g\"; filename=\"b.txt\"; "
           "filename*=latin1''x.txt\r\n\r\n"
           "w\r\n--XyZ--",
           "{fold\"ed|C:\\dir\\a b.png|image/png ; x=1}x;"
           "{!att|-|-}y;"
           "{f|na\xc3\xafve/.txt|-}z;"
           "{g|b.txt|-}w;");
}

TEST(path_separators_kept)
{
    expect(CT,
           "--XyZ\r\nContent-Disposition: form-data; name=f; "
           "filename=\"../../etc/passwd\"\r\n\r\n"
           "x\r\n--XyZ\r\nContent-Disposition: form-data; name=g; "
           "filename=\"..\\\\win\\\\x\"\r\n\r\n"
           "y\r\n--XyZ--",
           "{f|../../etc/passwd|-}x;{g|..\\win\\x|-}y;");
}

TEST(cut_short)
{
    const char *part = "--XyZ\r\nContent-Disposition: form-data; "
                       "name=a\r\n\r\nvalue\r\n";
    expect_fail(CT, "");
    expect_fail(CT, "no boundary at all");
    expect_fail(CT, part);
    expect_fail(CT, "--XyZ\r\nContent-Disposition: form-da");
    expect_fail(CT, "--XyZ\r\nContent-Disposition: form-data; name=a"
                    "\r\n\r\nval");
    expect_fail(CT, "--XyZ\r\nContent-Disposition: form-data; name=a"
                    "\r\n\r\nvalue\r\n--XyZ-");
    expect_fail(CT, "--XyZ\r\nContent-Disposition: form-data; name=a"
                    "\r\n\r\nvalue\r\n--Xy");
    expect_fail(CT, "--XyZ");
    /* The final boundary without its dashes opens a part that never
     * ends. */
    expect_fail(CT, "--XyZ\r\nContent-Disposition: form-data; name=a"
                    "\r\n\r\nvalue\r\n--XyZ\r\n");
    /* A boundary line with junk after its white space. */
    expect_fail(CT, "--XyZ\r\n\r\nv\r\n--XyZ x\r\n\r\n--XyZ--");
}

TEST(cut_short_gives_no_end)
{
    transcript t = {0};
    bs_buf_init(&t.out);
    bs_mp *mp = NULL;
    REQUIRE(bs_mp_new(&mp, CT, &CB, &t) == 0);
    const char *body = "--XyZ\r\n\r\nab\r\n--XyZ\r\n\r\ncd";
    CHECK(bs_mp_feed(mp, body, strlen(body)) == 0);
    CHECK(bs_mp_finish(mp) == BS_EINVAL);
    CHECK(bs_mp_error(mp) != NULL);
    CHECK(t.begins == 2 && t.ends == 1);
    /* After an error, every call answers the same. */
    CHECK(bs_mp_feed(mp, "\r\n--XyZ--", 9) == BS_EINVAL);
    bs_mp_free(mp);
    bs_buf_dispose(&t.out);
}

TEST(header_too_large)
{
    char body[600];
    snprintf(body, sizeof body,
             "--XyZ\r\nContent-Disposition: form-data; name=a\r\n"
             "X-Pad: %0300d\r\n\r\nv\r\n--XyZ--", 0);
    char *got = NULL;
    CHECK(parse_in(CT, body, strlen(body), 0, 400, &got) == 0);
    free(got);
    CHECK(parse_in(CT, body, strlen(body), 0, 300, &got) == BS_EINVAL);
    free(got);
    CHECK(parse_in(CT, body, strlen(body), 7, 300, &got) == BS_EINVAL);
    free(got);
}

TEST(too_many_parts)
{
    bs_buf body;
    bs_buf_init(&body);
    for (int i = 0; i < 1001; i++)
        bs_buf_puts(&body, "--XyZ\r\n\r\n\r\n");
    bs_buf_puts(&body, "--XyZ--");
    char *got = NULL;
    CHECK(parse_in(CT, body.data, body.len, 0, 0, &got) == BS_EINVAL);
    free(got);
    bs_buf_dispose(&body);
}

static int stop_at_data(void *user, const char *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len;
    return BS_EABORT;
}

TEST(callback_stops)
{
    bs_mp_callbacks cb = {NULL, stop_at_data, NULL};
    bs_mp *mp = NULL;
    REQUIRE(bs_mp_new(&mp, CT, &cb, NULL) == 0);
    const char *body = "--XyZ\r\n\r\nab\r\n--XyZ--";
    CHECK(bs_mp_feed(mp, body, strlen(body)) == BS_EABORT);
    CHECK(bs_mp_finish(mp) == BS_EABORT);
    bs_mp_free(mp);
    CHECK(bs_mp_new(&mp, "multipart/form-data", &cb, NULL) == BS_EINVAL);
    CHECK(mp == NULL);
}

static int collect_pair(void *user, const char *key, size_t klen,
                        const char *value, size_t vlen)
{
    bs_buf *b = user;
    bs_buf_append(b, key, klen);
    bs_buf_putc(b, '=');
    bs_buf_append(b, value, vlen);
    bs_buf_putc(b, ';');
    return 0;
}

TEST(urlencoded)
{
    bs_buf b;
    bs_buf_init(&b);
    const char *in = "a=1&b=x+y%20z&c&=v&&d=%zz%4&e=%41%62&a=2";
    CHECK(bs_urlencoded_parse(in, strlen(in), collect_pair, &b) == 0);
    CHECK_STR(b.data, "a=1;b=x y z;c=;=v;=;d=%zz%4;e=Ab;a=2;");
    bs_buf_dispose(&b);
}

TEST(body_forms)
{
    bs_error err;
    bs_error_init(&err);
    bs_body body;
    const char *enc = "title=a+b&tags=c&tags=d&tags=e&=skip&@jsonPayload="
                      "%7B%22n%22%3A1%7D";
    REQUIRE(bs_body_parse("application/x-www-form-urlencoded; charset=utf-8",
                          enc, strlen(enc), &body, &err) == 0);
    CHECK(body.form);
    CHECK_STR(json_object_to_json_string_ext(body.data, JSON_C_TO_STRING_PLAIN),
              "{\"title\":\"a b\",\"tags\":[\"c\",\"d\",\"e\"],\"n\":1}");
    bs_body_dispose(&body);

    const char *mp =
        "--B\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n\r\n"
        "{\"title\":\"t\",\"tags\":[\"x\"]}\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"views\"\r\n\r\n"
        "7\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"doc\"; "
        "filename=\"a/b.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        "file\r\nbody\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"empty\"; "
        "filename=\"\"\r\n\r\n\r\n"
        "--B\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n"
        "--B--\r\n";
    REQUIRE(bs_body_parse("multipart/form-data; boundary=B", mp, strlen(mp),
                          &body, &err) == 0);
    CHECK_STR(json_object_to_json_string_ext(body.data, JSON_C_TO_STRING_PLAIN),
              "{\"title\":\"t\",\"tags\":[\"x\"],\"views\":\"7\","
              "\"empty\":\"\"}");
    REQUIRE(body.nfiles == 1);
    CHECK_STR(body.files[0].field, "doc");
    CHECK_STR(body.files[0].filename, "a/b.txt");
    CHECK_STR(body.files[0].type, "text/plain");
    CHECK(body.files[0].data.len == 10 &&
          memcmp(body.files[0].data.data, "file\r\nbody", 10) == 0);
    bs_body_dispose(&body);

    /* Cut short, a bad @jsonPayload, no boundary: 400 and nothing kept. */
    const char *bad[] = {
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"@jsonPayload\"\r\n"
        "\r\n[1]\r\n--B--",
    };
    for (size_t i = 0; i < 2; i++) {
        bs_error_init(&err);
        CHECK(bs_body_parse("multipart/form-data; boundary=B", bad[i],
                            strlen(bad[i]), &body, &err) == BS_EHTTP);
        CHECK(err.status == 400);
        CHECK(body.data == NULL && body.nfiles == 0);
        bs_error_dispose(&err);
    }
    bs_error_init(&err);
    CHECK(bs_body_parse("multipart/form-data", "", 0, &body, &err) ==
          BS_EHTTP);
    bs_error_dispose(&err);

    /* JSON: blank is an empty object; anything but an object fails. */
    bs_error_init(&err);
    REQUIRE(bs_body_parse(NULL, " \r\n", 3, &body, &err) == 0);
    CHECK(!body.form && json_object_object_length(body.data) == 0);
    bs_body_dispose(&body);
    CHECK(bs_body_parse("application/json", "[1]", 3, &body, &err) ==
          BS_EHTTP);
    bs_error_dispose(&err);
}

int main(void)
{
    RUN(boundary_parameter);
    RUN(simple_parts);
    RUN(quoted_boundary);
    RUN(preamble_and_epilogue);
    RUN(lf_only_and_mixed_line_ends);
    RUN(empty_parts);
    RUN(boundary_like_content);
    RUN(header_details);
    RUN(path_separators_kept);
    RUN(cut_short);
    RUN(cut_short_gives_no_end);
    RUN(header_too_large);
    RUN(too_many_parts);
    RUN(callback_stops);
    RUN(urlencoded);
    RUN(body_forms);
    return harness_summary(__FILE__);
}
