/*
 * test_search.c - search snippets: the `field:snippet(n)` modifiers found
 * in a `fields` spec, and FTS5 snippets turned into safe HTML.
 */
#include <string.h>

#include "core/search.h"
#include "harness.h"
#include "http/fields.h"

/* bs_search_snippet_html of s as a C string. */
static const char *html(const char *s, bool strip_tags)
{
    static char out[512];
    bs_buf b;
    bs_buf_init(&b);
    bs_search_snippet_html(s, strlen(s), strip_tags, &b);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    bs_buf_dispose(&b);
    return out;
}

TEST(snippet_html_escapes_text_and_marks_matches)
{
    CHECK_STR(html("Tom & <\x02Jerry\x03>", false),
              "Tom &amp; &lt;<mark>Jerry</mark>&gt;");
    CHECK_STR(html("say \"\x02hi\x03\"", false),
              "say &quot;<mark>hi</mark>&quot;");
    CHECK_STR(html("", false), "");
    /* An unbalanced or repeated marker never leaves a tag open. */
    CHECK_STR(html("\x02open", false), "<mark>open</mark>");
    CHECK_STR(html("a\x03 b \x02\x02" "c", false), "a b <mark>c</mark>");
}

TEST(snippet_html_drops_tags_of_editor_text)
{
    CHECK_STR(html("<p>An <b>\x02otter\x03</b> &amp; a \"seal\"</p>", true),
              "An <mark>otter</mark> &amp; a &quot;seal&quot;");
    /* Pieces of tags cut at either end. */
    CHECK_STR(html("ong>the \x02" "fox\x03 <stro", true),
              "the <mark>fox</mark> ");
    /* A match inside a tag name is dropped with the tag. */
    CHECK_STR(html("<\x02p\x03>text</p>", true), "text");
    /* Text without tags keeps its '>' only when a '<' came first. */
    CHECK_STR(html("a <b>b</b> > c", true), "a b &gt; c");
}

TEST(fields_spec_snippets)
{
    bs_fields_snippet s[4];
    CHECK(bs_fields_snippets("title,body:snippet(12)", s, 4) == 1);
    CHECK_STR(s[0].field, "body");
    CHECK(s[0].tokens == 12);
    CHECK(bs_fields_snippets("a:snippet(1), b:excerpt(5), c:snippet(64)", s,
                             4) == 2);
    CHECK_STR(s[1].field, "c");
    CHECK(s[1].tokens == 64);
    /* Nested paths are not filled; bad arguments make the spec invalid. */
    CHECK(bs_fields_snippets("expand.a.body:snippet(5)", s, 4) == 0);
    CHECK(bs_fields_snippets("body:snippet(0)", s, 4) == 0);
    CHECK(bs_fields_snippets("body:snippet(65)", s, 4) == 0);
    CHECK(bs_fields_snippets("body:snippet(x)", s, 4) == 0);
    CHECK(bs_fields_snippets("body:snippet(99999999999)", s, 4) == 0);
    CHECK(bs_fields_snippets(NULL, s, 4) == 0);
    CHECK(bs_fields_snippets("a:snippet(1),b:snippet(2)", s, 1) == 1);
}

int main(void)
{
    RUN(snippet_html_escapes_text_and_marks_matches);
    RUN(snippet_html_drops_tags_of_editor_text);
    RUN(fields_spec_snippets);
    return harness_summary(__FILE__);
}
