/*
 * test_mail.c - mail templates and message format, and the record tokens
 * the mails carry: placeholders (escaping, hidden fields), the MIME
 * message (headers, quoted-printable, RFC 2047 subjects, Bcc), the text
 * part derived from HTML, and the claims of each token type.
 */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "basalt.h"
#include "core/mail.h"
#include "core/record.h"
#include "core/token.h"
#include "harness.h"
#include "schema/schema.h"

static json_object *parse(const char *s)
{
    json_object *v = NULL;
    bs_json_parse(s, strlen(s), &v);
    return v;
}

/* A one-collection schema built by hand (freed by bs_schema_unref),
 * with the field info every snapshot carries. */
static bs_schema *auth_schema(void)
{
    bs_schema *s = calloc(1, sizeof *s);
    s->n = 1;
    s->items = calloc(1, sizeof *s->items);
    atomic_init(&s->refs, 1);
    bs_collection *c = &s->items[0];
    c->id = strdup("pbc_test");
    c->name = strdup("people");
    c->type = strdup("auth");
    c->fields = parse(
        "[{\"name\":\"id\",\"type\":\"text\"},"
        "{\"name\":\"email\",\"type\":\"email\"},"
        "{\"name\":\"tokenKey\",\"type\":\"text\",\"hidden\":true},"
        "{\"name\":\"password\",\"type\":\"password\",\"hidden\":true},"
        "{\"name\":\"verified\",\"type\":\"bool\"},"
        "{\"name\":\"name\",\"type\":\"text\"},"
        "{\"name\":\"count\",\"type\":\"number\"},"
        "{\"name\":\"secret\",\"type\":\"text\",\"hidden\":true}]");
    bs_collection_fill_finfo(c); /* as the schema loader does */
    c->indexes = json_object_new_array();
    c->options = parse(
        "{\"authToken\":{\"secret\":\"AUTHSECRET\",\"duration\":3600},"
        "\"emailChangeToken\":{\"secret\":\"CHANGESECRET\",\"duration\":60},"
        "\"verificationToken\":{\"secret\":\"VERSECRET\",\"duration\":120},"
        "\"fileToken\":{\"secret\":\"\",\"duration\":10}}");
    return s;
}

static bs_record *person(bs_schema *s)
{
    bs_record *r = bs_record_new(s, &s->items[0]);
    bs_record_set(r, "id", json_object_new_string("abcdefghijklmno"));
    bs_record_set(r, "email", json_object_new_string("ann@example.com"));
    bs_record_set(r, "tokenKey", json_object_new_string("KEY"));
    bs_record_set(r, "name", json_object_new_string("Ann <b>&"));
    bs_record_set(r, "count", json_object_new_int(3));
    bs_record_set(r, "secret", json_object_new_string("s3cr3t"));
    return r;
}

TEST(render_placeholders)
{
    bs_schema *s = auth_schema();
    bs_record *r = person(s);
    json_object *settings =
        parse("{\"meta\":{\"appName\":\"Acme\",\"appURL\":\"http://a.test\"}}");
    json_object *tmpl = parse(
        "{\"subject\":\"Hi from {APP_NAME}\",\"body\":\"<p>{RECORD:name} "
        "{RECORD:count} {RECORD:verified} {RECORD:secret} "
        "<a href=\\\"{APP_URL}/x/{TOKEN}\\\">go</a></p>\"}");
    const char *ph[] = {"{TOKEN}", "T.O.K", NULL};
    char *subject = NULL, *html = NULL;
    REQUIRE(bs_mail_render(settings, r, tmpl, ph, &subject, &html) == 0);
    CHECK_STR(subject, "Hi from Acme");
    CHECK(strstr(html, "<p>Ann &lt;b&gt;&amp; 3 false {RECORD:secret} "
                       "<a href=\"http://a.test/x/T.O.K\">go</a></p>") != NULL);
    CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    free(subject);
    free(html);
    json_object_put(tmpl);
    json_object_put(settings);
    bs_record_free(r);
    bs_schema_unref(s);
}

TEST(html_to_text)
{
    char *t = bs_mail_html_to_text(
        "<html><head><style>p{color:red}</style></head><body>\n"
        "<p>Hello  &amp; welcome,</p>\n<p>\n  <a class=\"btn\" "
        "href=\"http://x.test/t\">Verify</a>\n</p><p>Bye<br/>Team</p>"
        "</body></html>");
    REQUIRE(t);
    CHECK_STR(t, "Hello & welcome,\nVerify (http://x.test/t)\nBye\nTeam\n");
    free(t);
}

TEST(format_message)
{
    char long_line[400];
    memset(long_line, 'a', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = '\0';
    bs_buf html;
    bs_buf_init(&html);
    bs_buf_printf(&html, "<p>x=1 caf\xc3\xa9 %s</p>", long_line);
    bs_mail_message m = {.from_name = "Support \"Team\"",
                         .from_address = "help@acme.test",
                         .to = "a@x.test, Bob <b@x.test>",
                         .bcc = "hidden@x.test",
                         .subject = "R\xc3\xa9initialiser",
                         .html = html.data};
    bs_buf out;
    bs_buf_init(&out);
    bs_mail_format(&m, false, &out);
    const char *s = out.data;
    CHECK(strstr(s, "From: \"Support \\\"Team\\\"\" <help@acme.test>\r\n"));
    CHECK(strstr(s, "To: a@x.test, b@x.test\r\n"));
    CHECK(!strstr(s, "Bcc:"));
    CHECK(strstr(s, "Subject: =?utf-8?b?UsOpaW5pdGlhbGlzZXI=?=\r\n"));
    CHECK(strstr(s, "MIME-Version: 1.0\r\n"));
    CHECK(strstr(s, "Message-ID: <"));
    CHECK(strstr(s, "@acme.test>\r\n"));
    CHECK(strstr(s, "x=3D1 caf=C3=A9"));
    /* No line longer than 76 characters in the body. */
    const char *body = strstr(s, "\r\n\r\n");
    REQUIRE(body);
    size_t col = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            col = 0;
            continue;
        }
        CHECK(++col <= 76);
        if (col > 76)
            break;
    }
    CHECK(strstr(s, "Content-Type: text/plain; charset=UTF-8"));
    CHECK(strstr(s, "Content-Type: text/html; charset=UTF-8"));
    bs_buf_reset(&out);
    bs_mail_format(&m, true, &out);
    CHECK(strstr(out.data, "Bcc: hidden@x.test\r\n"));
    bs_buf_dispose(&out);
    bs_buf_dispose(&html);
}

static json_object *claims_of(const bs_buf *t)
{
    json_object *c = NULL;
    return bs_token_peek(t->data, &c) == 0 ? c : NULL;
}

/* The claims text of token t exactly as signed. */
static char *raw_claims(const bs_buf *t)
{
    const char *d1 = strchr(t->data, '.'), *d2 = strrchr(t->data, '.');
    static unsigned char body[1024];
    long n = d1 && d2 > d1 ? bs_base64url_decode(d1 + 1, (size_t)(d2 - d1 - 1),
                                                 body, sizeof body - 1)
                           : -1;
    if (n < 0)
        return NULL;
    body[n] = '\0';
    return (char *)body;
}

/* The claims are written as text; the same claims built as an object and
 * written with bs_json_write must give the same bytes, escaping included. */
TEST(record_token_claims_text)
{
    bs_schema *s = auth_schema();
    bs_record *r = person(s);
    bs_buf t;
    bs_buf_init(&t);
    static const char odd[] = "a\"<b>&\u00e9\n@example.com";
    REQUIRE(bs_token_for_record(r, BS_TOKEN_EMAIL_CHANGE, 0, false, odd,
                                &t) == 0);
    const char *got = raw_claims(&t);
    REQUIRE(got != NULL);
    json_object *parsed = NULL;
    REQUIRE(bs_json_parse(got, strlen(got), &parsed) == 0 && parsed);
    json_object *want = json_object_new_object();
    json_object_object_add(want, "collectionId",
                           json_object_new_string("pbc_test"));
    json_object_object_add(want, "email",
                           json_object_new_string("ann@example.com"));
    json_object_object_add(want, "exp", json_object_new_int64(bs_json_get_int(
                                            parsed, "exp", 0)));
    json_object_object_add(want, "id",
                           json_object_new_string("abcdefghijklmno"));
    json_object_object_add(want, "newEmail", json_object_new_string(odd));
    json_object_object_add(want, "type",
                           json_object_new_string("emailChange"));
    bs_buf js;
    bs_buf_init(&js);
    bs_json_write(&js, want);
    CHECK_STR(got, js.data);
    CHECK(strstr(got, "\\u003cb\\u003e\\u0026") != NULL);
    json_object_put(want);
    json_object_put(parsed);

    bs_buf_reset(&t);
    REQUIRE(bs_token_for_record(r, BS_TOKEN_AUTH, 0, false, NULL, &t) == 0);
    got = raw_claims(&t);
    REQUIRE(got != NULL);
    CHECK(strstr(got, ",\"refreshable\":false,\"type\":\"auth\"}") != NULL);
    bs_buf_dispose(&js);
    bs_buf_dispose(&t);
    bs_record_free(r);
    bs_schema_unref(s);
}

TEST(record_tokens)
{
    bs_schema *s = auth_schema();
    bs_record *r = person(s);
    bs_buf t;
    bs_buf_init(&t);
    REQUIRE(bs_token_for_record(r, BS_TOKEN_AUTH, 0, true, NULL, &t) == 0);
    CHECK(bs_token_verify(t.data, "KEYAUTHSECRET", 13, 0) == 0);
    CHECK(bs_token_verify(t.data, "KEY", 3, 0) != 0);
    json_object *c = claims_of(&t);
    REQUIRE(c);
    bs_buf js;
    bs_buf_init(&js);
    bs_json_write(&js, c);
    /* Keys sorted like Go's map; exp from the collection's duration. */
    CHECK(strncmp(js.data, "{\"collectionId\":\"pbc_test\",\"exp\":", 33) == 0);
    CHECK(strstr(js.data, ",\"id\":\"abcdefghijklmno\",\"refreshable\":true,"
                          "\"type\":\"auth\"}"));
    json_object_put(c);

    /* Impersonation: not refreshable, its own duration. */
    bs_buf_reset(&t);
    REQUIRE(bs_token_for_record(r, BS_TOKEN_AUTH, 5, false, NULL, &t) == 0);
    c = claims_of(&t);
    CHECK(!bs_json_get_bool(c, "refreshable", true));
    json_object_put(c);

    bs_buf_reset(&t);
    bs_buf_reset(&js);
    REQUIRE(bs_token_for_record(r, BS_TOKEN_EMAIL_CHANGE, 0, false,
                                "new@example.com", &t) == 0);
    CHECK(bs_token_verify(t.data, "KEYCHANGESECRET", 15, 0) == 0);
    c = claims_of(&t);
    bs_json_write(&js, c);
    CHECK(strstr(js.data, "\"email\":\"ann@example.com\",\"exp\":"));
    CHECK(strstr(js.data, ",\"id\":\"abcdefghijklmno\",\"newEmail\":"
                          "\"new@example.com\",\"type\":\"emailChange\"}"));
    json_object_put(c);

    bs_buf_reset(&t);
    REQUIRE(bs_token_for_record(r, BS_TOKEN_VERIFICATION, 0, false, NULL,
                                &t) == 0);
    c = claims_of(&t);
    CHECK_STR(bs_json_get_str(c, "type", ""), "verification");
    CHECK(!bs_json_get(c, "refreshable"));
    json_object_put(c);

    /* Unknown types are refused. */
    bs_buf_reset(&t);
    CHECK(bs_token_for_record(r, "nope", 0, false, NULL, &t) == BS_EINVAL);
    CHECK_STR(bs_token_config_name(BS_TOKEN_PASSWORD_RESET),
              "passwordResetToken");
    bs_buf_dispose(&js);
    bs_buf_dispose(&t);
    bs_record_free(r);
    bs_schema_unref(s);
}

int main(void)
{
    RUN(render_placeholders);
    RUN(html_to_text);
    RUN(format_message);
    RUN(record_tokens);
    RUN(record_token_claims_text);
    return harness_summary(__FILE__);
}
