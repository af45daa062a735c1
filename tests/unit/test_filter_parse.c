/*
 * test_filter_parse.c - the filter language's lexer and parser.
 *
 * Tokens are checked one by one; trees through bs_filter_dump, which
 * prints every group with explicit parentheses so that precedence is
 * visible in the expected text.
 */
#include <stdlib.h>

#include "filter/lex.h"
#include "filter/parse.h"
#include "harness.h"

/* Renders the tokens of src as "KIND:text KIND:text ..." or "ERR:msg". */
static const char *toks(const char *src)
{
    static char out[1024];
    static const char *names[] = {"EOF", "ID", "FN", "NUM", "TXT", "SIGN",
                                  "AND", "OR", "(", ")", ",", "PARAM"};
    bs_flexer lx;
    bs_filter_lex_init(&lx, src, strlen(src));
    size_t k = 0;
    out[0] = '\0';
    for (;;) {
        bs_ftoken t;
        if (bs_filter_lex_next(&lx, &t) != 0) {
            snprintf(out + k, sizeof out - k, "%sERR:%s", k ? " " : "", lx.err);
            return out;
        }
        if (t.kind == BS_FTOK_EOF)
            return out;
        const char *text = t.kind == BS_FTOK_SIGN
                               ? bs_filter_op_str(t.op, t.any)
                               : NULL;
        int n = snprintf(out + k, sizeof out - k, "%s%s:%.*s", k ? " " : "",
                         names[t.kind], text ? (int)strlen(text) : (int)t.n,
                         text ? text : t.p);
        k += (size_t)n;
    }
}

/* Parses src and renders the tree, or "ERR:msg". */
static const char *tree(const char *src)
{
    static char out[4096];
    bs_arena a;
    bs_arena_init(&a, 1024);
    bs_fnode *root = NULL;
    bs_fparse_error e;
    int rc = bs_filter_parse(&a, src, strlen(src), &root, &e);
    if (rc) {
        snprintf(out, sizeof out, "ERR:%s", e.msg);
    } else {
        bs_buf b;
        bs_buf_init(&b);
        bs_filter_dump(&b, root);
        snprintf(out, sizeof out, "%s", b.data ? b.data : "");
        bs_buf_dispose(&b);
    }
    bs_arena_dispose(&a);
    return out;
}

static bool is_err(const char *s)
{
    return strncmp(s, "ERR:", 4) == 0;
}

TEST(lex_identifiers)
{
    CHECK_STR(toks("title"), "ID:title");
    CHECK_STR(toks("author.name"), "ID:author.name");
    CHECK_STR(toks("@request.auth.id"), "ID:@request.auth.id");
    CHECK_STR(toks("@collection.posts:p.title"), "ID:@collection.posts:p.title");
    CHECK_STR(toks("tags:each"), "ID:tags:each");
    CHECK_STR(toks("_x #y"), "ID:_x ID:#y");
    CHECK_STR(toks("a1_b2.c3"), "ID:a1_b2.c3");
}

TEST(lex_identifier_errors)
{
    CHECK(strstr(toks("title."), "invalid identifier") != NULL);
    CHECK(strstr(toks("title:"), "invalid identifier") != NULL);
    CHECK(strstr(toks("@"), "invalid identifier") != NULL);
    CHECK(strstr(toks("_"), "invalid identifier") != NULL);
    CHECK(strstr(toks("#"), "invalid identifier") != NULL);
    /* '@' cannot continue an identifier: it starts another one */
    CHECK_STR(toks("a@b"), "ID:a ID:@b");
}

TEST(lex_numbers)
{
    CHECK_STR(toks("1 12.5 -3 -0.25 007"), "NUM:1 NUM:12.5 NUM:-3 NUM:-0.25 NUM:007");
    CHECK(strstr(toks("12."), "invalid number") != NULL);
    CHECK(strstr(toks("-"), "invalid number") != NULL);
    CHECK(strstr(toks("1.2.3"), "unexpected character") != NULL);
    /* a minus only at the start: "1-2" is two numbers */
    CHECK_STR(toks("1-2"), "NUM:1 NUM:-2");
}

TEST(lex_text)
{
    CHECK_STR(toks("'abc'"), "TXT:abc");
    CHECK_STR(toks("\"a b\""), "TXT:a b");
    CHECK_STR(toks("'it\\'s'"), "TXT:it\\'s");
    CHECK_STR(toks("\"mixed 'quotes'\""), "TXT:mixed 'quotes'");
    CHECK_STR(toks("''"), "TXT:");
    CHECK(strstr(toks("'abc"), "invalid quoted text") != NULL);
    CHECK(strstr(toks("\"abc'"), "invalid quoted text") != NULL);
    /* an escaped backslash before the quote still escapes it (as fexpr) */
    CHECK(strstr(toks("'a\\\\'"), "invalid quoted text") != NULL);
}

TEST(lex_signs_and_joins)
{
    CHECK_STR(toks("= != ~ !~ < <= > >="), "SIGN:= SIGN:!= SIGN:~ SIGN:!~ SIGN:< SIGN:<= SIGN:> SIGN:>=");
    CHECK_STR(toks("?= ?!= ?~ ?!~ ?< ?<= ?> ?>="),
              "SIGN:?= SIGN:?!= SIGN:?~ SIGN:?!~ SIGN:?< SIGN:?<= SIGN:?> SIGN:?>=");
    CHECK_STR(toks("&& ||"), "AND:&& OR:||");
    CHECK(strstr(toks("=="), "invalid sign operator") != NULL);
    CHECK(strstr(toks("=!"), "invalid sign operator") != NULL);
    CHECK(strstr(toks("&"), "invalid join operator") != NULL);
    CHECK(strstr(toks("&&&"), "invalid join operator") != NULL);
    CHECK(strstr(toks("|&"), "invalid join operator") != NULL);
    /* a sign followed by a negative number */
    CHECK_STR(toks("a>-1"), "ID:a SIGN:> NUM:-1");
}

TEST(lex_comments_and_space)
{
    CHECK_STR(toks("a // comment\n= 1"), "ID:a SIGN:= NUM:1");
    CHECK_STR(toks("// only a comment"), "");
    CHECK_STR(toks("a\t=\r\n1"), "ID:a SIGN:= NUM:1");
    CHECK(strstr(toks("a / b"), "invalid comment") != NULL);
    CHECK(strstr(toks("a = 1 $"), "unexpected character") != NULL);
}

TEST(lex_functions)
{
    CHECK_STR(toks("geoDistance(a, 1)"), "FN:geoDistance ID:a ,:, NUM:1 ):)");
    CHECK_STR(toks("strftime('%Y', created)"), "FN:strftime TXT:%Y ,:, ID:created ):)");
    /* a space before the parenthesis makes a plain identifier */
    CHECK_STR(toks("f (a)"), "ID:f (:( ID:a ):)");
}

TEST(lex_nul_and_binary)
{
    const char src[] = {'a', '=', '1', '\0', 'b'};
    bs_flexer lx;
    bs_filter_lex_init(&lx, src, sizeof src);
    bs_ftoken t;
    int rc = 0, guard = 0;
    while ((rc = bs_filter_lex_next(&lx, &t)) == 0 && t.kind != BS_FTOK_EOF &&
           guard++ < 10)
        ;
    CHECK(rc != 0);
    CHECK(strstr(lx.err, "unexpected character") != NULL);
    CHECK(strstr(toks("a = \xff"), "unexpected character") != NULL);
}

TEST(parse_simple)
{
    CHECK_STR(tree("a = 1"), "a = 1");
    CHECK_STR(tree("a='x'"), "a = \"x\"");
    CHECK_STR(tree("a ?!~ b"), "a ?!~ b");
    CHECK_STR(tree("'x' = a"), "\"x\" = a");
    CHECK_STR(tree("1 < 2"), "1 < 2");
}

TEST(parse_precedence)
{
    CHECK_STR(tree("a=1 && b=2 || c=3"), "((a = 1 && b = 2) || c = 3)");
    CHECK_STR(tree("a=1 || b=2 && c=3"), "(a = 1 || (b = 2 && c = 3))");
    CHECK_STR(tree("a=1 || b=2 || c=3"), "(a = 1 || b = 2 || c = 3)");
    CHECK_STR(tree("a=1 && b=2 && c=3 || d=4 && e=5"),
              "((a = 1 && b = 2 && c = 3) || (d = 4 && e = 5))");
}

TEST(parse_grouping)
{
    CHECK_STR(tree("(a=1 || b=2) && c=3"), "((a = 1 || b = 2) && c = 3)");
    CHECK_STR(tree("((a=1))"), "a = 1");
    CHECK_STR(tree("a=1 && (b=2 && (c=3 || d=4))"),
              "(a = 1 && (b = 2 && (c = 3 || d = 4)))");
    CHECK_STR(tree("( a = 1 ) || ( b = 2 )"), "(a = 1 || b = 2)");
}

TEST(parse_text_unescape)
{
    CHECK_STR(tree("a = 'it\\'s'"), "a = \"it's\"");
    CHECK_STR(tree("a = \"say \\\"hi\\\"\""), "a = \"say \\\"hi\\\"\"");
    /* other backslashes stay as written */
    CHECK_STR(tree("a = 'x\\ny'"), "a = \"x\\\\ny\"");
    CHECK_STR(tree("a = '50\\%'"), "a = \"50\\\\%\"");
    /* the other quote kind is not an escape */
    CHECK_STR(tree("a = 'x\\\"y'"), "a = \"x\\\\\\\"y\"");
}

TEST(parse_text_utf8)
{
    CHECK_STR(tree("a = 'żółw'"), "a = \"żółw\"");
    /* invalid UTF-8 becomes U+FFFD */
    CHECK_STR(tree("a = 'x\xffy'"), "a = \"x\xef\xbf\xbdy\"");
    CHECK_STR(tree("a = '\xc3'"), "a = \"\xef\xbf\xbd\"");
}

TEST(parse_functions)
{
    CHECK_STR(tree("geoDistance(lon, lat, 1.5, -2) < 10"),
              "geoDistance(lon, lat, 1.5, -2) < 10");
    CHECK_STR(tree("strftime('%Y') = '2024'"), "strftime(\"%Y\") = \"2024\"");
    CHECK_STR(tree("f() = 1"), "f() = 1");
    /* a trailing comma is accepted, as in fexpr */
    CHECK_STR(tree("f(a,) = 1"), "f(a) = 1");
    CHECK_STR(tree("f( a // c\n , b ) = 1"), "f(a, b) = 1");
    CHECK_STR(tree("f(g(h(1))) = 1"), "f(g(h(1))) = 1");
    CHECK_STR(tree("1 = f(a)"), "1 = f(a)");
}

TEST(parse_function_errors)
{
    CHECK(strstr(tree("f(g(h(i(1)))) = 1"), "max nested function") != NULL);
    CHECK(strstr(tree("f(,a) = 1"), "unexpected comma") != NULL);
    CHECK(strstr(tree("f(a b) = 1"), "expected comma") != NULL);
    CHECK(strstr(tree("f(a = 1"), "unsupported function argument") != NULL);
    CHECK(strstr(tree("f(a"), "incomplete function") != NULL);
    CHECK(strstr(tree("f((a)) = 1"), "unsupported function argument") != NULL);
    CHECK(strstr(tree("@(a) = 1"), "invalid function name") != NULL);
}

TEST(parse_errors)
{
    CHECK_STR(tree(""), "ERR:empty filter expression");
    CHECK_STR(tree("   "), "ERR:empty filter expression");
    CHECK_STR(tree("// nothing\n"), "ERR:empty filter expression");
    CHECK_STR(tree("()"), "ERR:empty filter expression");
    CHECK_STR(tree("a = 1 && ()"), "ERR:empty filter expression");
    CHECK_STR(tree("a"), "ERR:invalid or incomplete filter expression");
    CHECK_STR(tree("a ="), "ERR:invalid or incomplete filter expression");
    CHECK_STR(tree("a = 1 &&"), "ERR:invalid or incomplete filter expression");
    CHECK(strstr(tree("a = 1 b = 2"), "expected && or ||") != NULL);
    CHECK(strstr(tree("a b"), "expected a sign operator") != NULL);
    CHECK(strstr(tree("= 1"), "expected left operand") != NULL);
    CHECK(strstr(tree("a = &&"), "expected right operand") != NULL);
    CHECK(strstr(tree("(a = 1"), "missing closing") != NULL);
    CHECK(strstr(tree("a = 1)"), "expected && or ||") != NULL);
    CHECK(strstr(tree("a = (b = 1)"), "expected right operand") != NULL);
    CHECK(strstr(tree("a , b"), "expected a sign operator") != NULL);
    CHECK(strstr(tree("a = 'x"), "invalid quoted text") != NULL);
}

TEST(parse_limit_exprs)
{
    bs_buf b;
    bs_buf_init(&b);
    for (int i = 0; i < 200; i++)
        bs_buf_printf(&b, "%sa=%d", i ? " || " : "", i);
    CHECK(!is_err(tree(b.data)));
    bs_buf_puts(&b, " || a=200");
    CHECK_STR(tree(b.data), "ERR:max filter expressions limit reached");
    bs_buf_dispose(&b);
}

TEST(parse_limit_depth)
{
    bs_buf b;
    bs_buf_init(&b);
    for (int i = 0; i < BS_FILTER_MAX_DEPTH; i++)
        bs_buf_putc(&b, '(');
    bs_buf_puts(&b, "a=1");
    for (int i = 0; i < BS_FILTER_MAX_DEPTH; i++)
        bs_buf_putc(&b, ')');
    CHECK_STR(tree(b.data), "a = 1");
    bs_buf_reset(&b);
    for (int i = 0; i < 100000; i++)
        bs_buf_putc(&b, '(');
    CHECK(strstr(tree(b.data), "max nesting depth") != NULL);
    bs_buf_dispose(&b);
}

TEST(parse_large_inputs)
{
    /* long identifiers and texts are fine; only the API limits them */
    size_t n = 100000;
    char *s = malloc(n + 16);
    memcpy(s, "a = '", 5);
    memset(s + 5, 'x', n);
    memcpy(s + 5 + n, "'", 2);
    CHECK(!is_err(tree(s)));
    free(s);
}

TEST(lex_placeholders)
{
    CHECK_STR(toks("a = {:name}"), "ID:a SIGN:= PARAM:name");
    CHECK_STR(toks("{:a_1}!={:B2}"), "PARAM:a_1 SIGN:!= PARAM:B2");
    CHECK(strstr(toks("a = {:}"), "ERR:invalid placeholder") != NULL);
    CHECK(strstr(toks("a = {name}"), "ERR:invalid placeholder") != NULL);
    CHECK(strstr(toks("a = {:na me}"), "ERR:invalid placeholder") != NULL);
    CHECK(strstr(toks("a = {:name"), "ERR:invalid placeholder") != NULL);
    CHECK(strstr(toks("a = {"), "ERR:invalid placeholder") != NULL);
    CHECK(strstr(toks("a = {:x'}"), "ERR:invalid placeholder") != NULL);
}

TEST(parse_placeholders)
{
    CHECK_STR(tree("a = {:x} && {:y} ?> 2"), "(a = {:x} && {:y} ?> 2)");
    CHECK_STR(tree("lower({:x}) = a"), "lower({:x}) = a");
}

int main(void)
{
    RUN(lex_identifiers);
    RUN(lex_placeholders);
    RUN(parse_placeholders);
    RUN(lex_identifier_errors);
    RUN(lex_numbers);
    RUN(lex_text);
    RUN(lex_signs_and_joins);
    RUN(lex_comments_and_space);
    RUN(lex_functions);
    RUN(lex_nul_and_binary);
    RUN(parse_simple);
    RUN(parse_precedence);
    RUN(parse_grouping);
    RUN(parse_text_unescape);
    RUN(parse_text_utf8);
    RUN(parse_functions);
    RUN(parse_function_errors);
    RUN(parse_errors);
    RUN(parse_limit_exprs);
    RUN(parse_limit_depth);
    RUN(parse_large_inputs);
    return harness_summary(__FILE__);
}
