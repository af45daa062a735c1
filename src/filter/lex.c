/*
 * lex.c - the tokenizer of the filter language.
 *
 * The rules mirror PocketBase's scanner so that any filter PocketBase
 * accepts tokenizes the same way here:
 *  - whitespace is space, tab and newline (carriage return is accepted
 *    too, a small leniency);
 *  - identifiers start with a letter, `_`, `@` or `#` and go on with
 *    letters, digits, `_`, `.` and `:`; they may not end with `.` or `:`
 *    and may not be a lone `_`, `@` or `#`;
 *  - numbers start with a digit or `-` and hold at most one `.`, which
 *    may not come last;
 *  - text ends at the first quote of its kind that does not follow a
 *    backslash;
 *  - signs and joins are the longest run of their characters, which then
 *    must spell a known operator (so `==` and `&&&` are errors).
 */
#include "lex.h"

#include <stdio.h>
#include <string.h>

#include "basalt.h"

void bs_filter_lex_init(bs_flexer *lx, const char *src, size_t len)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->err[0] = '\0';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_ident_start(char c)
{
    return is_letter(c) || c == '_' || c == '@' || c == '#';
}

static bool is_ident_char(char c)
{
    return is_letter(c) || is_digit(c) || c == '_' || c == '.' || c == ':';
}

static bool is_sign_char(char c)
{
    return c == '=' || c == '?' || c == '!' || c == '>' || c == '<' ||
           c == '~';
}

/* Formats an error naming a quoted excerpt of the source, with bytes
 * outside printable ASCII shown as '?' so that logs stay clean. */
static int lex_fail(bs_flexer *lx, const char *what, const char *p, size_t n)
{
    char snip[48];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof snip - 4; i++) {
        unsigned char c = (unsigned char)p[i];
        snip[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n > sizeof snip - 4) {
        snip[k++] = '.';
        snip[k++] = '.';
        snip[k++] = '.';
    }
    snip[k] = '\0';
    snprintf(lx->err, sizeof lx->err, "%s \"%s\"", what, snip);
    return BS_EINVAL;
}

static bool valid_ident(const char *p, size_t n)
{
    char last = p[n - 1];
    if (last == '.' || last == ':')
        return false;
    return !(n == 1 && (p[0] == '_' || p[0] == '@' || p[0] == '#'));
}

static const struct {
    const char *s;
    bs_fop op;
    bool any;
} signs[] = {
    {"=", BS_FOP_EQ, false},     {"!=", BS_FOP_NEQ, false},
    {"~", BS_FOP_LIKE, false},   {"!~", BS_FOP_NLIKE, false},
    {"<", BS_FOP_LT, false},     {"<=", BS_FOP_LTE, false},
    {">", BS_FOP_GT, false},     {">=", BS_FOP_GTE, false},
    {"?=", BS_FOP_EQ, true},     {"?!=", BS_FOP_NEQ, true},
    {"?~", BS_FOP_LIKE, true},   {"?!~", BS_FOP_NLIKE, true},
    {"?<", BS_FOP_LT, true},     {"?<=", BS_FOP_LTE, true},
    {"?>", BS_FOP_GT, true},     {"?>=", BS_FOP_GTE, true},
};

const char *bs_filter_op_str(bs_fop op, bool any)
{
    for (size_t i = 0; i < sizeof signs / sizeof signs[0]; i++) {
        if (signs[i].op == op && signs[i].any == any)
            return signs[i].s;
    }
    return "?";
}

static int scan_text(bs_flexer *lx, bs_ftoken *t)
{
    const char *s = lx->src;
    char q = s[lx->pos];
    size_t start = lx->pos + 1;
    size_t i = start;
    char prev = 0;
    while (i < lx->len) {
        if (s[i] == q && prev != '\\') {
            t->kind = BS_FTOK_TEXT;
            t->p = s + start;
            t->n = i - start;
            t->quote = q;
            lx->pos = i + 1;
            return 0;
        }
        prev = s[i];
        i++;
    }
    return lex_fail(lx, "invalid quoted text", s + lx->pos,
                    lx->len - lx->pos);
}

static int scan_number(bs_flexer *lx, bs_ftoken *t)
{
    const char *s = lx->src;
    size_t start = lx->pos, i = lx->pos;
    bool dot = false;
    while (i < lx->len) {
        char c = s[i];
        if (is_digit(c) || (c == '-' && i == start)) {
            i++;
        } else if (c == '.' && !dot) {
            dot = true;
            i++;
        } else {
            break;
        }
    }
    size_t n = i - start;
    lx->pos = i;
    if ((n == 1 && s[start] == '-') || s[i - 1] == '.')
        return lex_fail(lx, "invalid number", s + start, n);
    t->kind = BS_FTOK_NUMBER;
    t->p = s + start;
    t->n = n;
    return 0;
}

static int scan_ident(bs_flexer *lx, bs_ftoken *t)
{
    const char *s = lx->src;
    size_t start = lx->pos, i = lx->pos + 1;
    while (i < lx->len && is_ident_char(s[i]))
        i++;
    size_t n = i - start;
    bool func = i < lx->len && s[i] == '(';
    lx->pos = func ? i + 1 : i;
    if (!valid_ident(s + start, n))
        return lex_fail(lx, func ? "invalid function name"
                                 : "invalid identifier",
                        s + start, n);
    t->kind = func ? BS_FTOK_FUNC : BS_FTOK_IDENT;
    t->p = s + start;
    t->n = n;
    return 0;
}

/* A placeholder: "{:" name "}" with a name of letters, digits and '_'. */
static int scan_param(bs_flexer *lx, bs_ftoken *t)
{
    const char *s = lx->src;
    size_t start = lx->pos, i = lx->pos + 2;
    if (i > lx->len || s[start + 1] != ':')
        return lex_fail(lx, "invalid placeholder", s + start,
                        lx->len - start < 8 ? lx->len - start : 8);
    while (i < lx->len && (is_digit(s[i]) || s[i] == '_' ||
                           ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')))
        i++;
    if (i == start + 2 || i >= lx->len || s[i] != '}')
        return lex_fail(lx, "invalid placeholder", s + start,
                        (i < lx->len ? i + 1 : i) - start);
    t->kind = BS_FTOK_PARAM;
    t->p = s + start + 2;
    t->n = i - start - 2;
    lx->pos = i + 1;
    return 0;
}

static int scan_run(bs_flexer *lx, bs_ftoken *t, bool sign)
{
    const char *s = lx->src;
    size_t start = lx->pos, i = lx->pos;
    while (i < lx->len &&
           (sign ? is_sign_char(s[i]) : (s[i] == '&' || s[i] == '|')))
        i++;
    size_t n = i - start;
    lx->pos = i;
    t->p = s + start;
    t->n = n;
    if (sign) {
        for (size_t k = 0; k < sizeof signs / sizeof signs[0]; k++) {
            if (strlen(signs[k].s) == n && memcmp(signs[k].s, t->p, n) == 0) {
                t->kind = BS_FTOK_SIGN;
                t->op = signs[k].op;
                t->any = signs[k].any;
                return 0;
            }
        }
        return lex_fail(lx, "invalid sign operator", t->p, n);
    }
    if (n == 2 && t->p[0] == '&' && t->p[1] == '&') {
        t->kind = BS_FTOK_AND;
        return 0;
    }
    if (n == 2 && t->p[0] == '|' && t->p[1] == '|') {
        t->kind = BS_FTOK_OR;
        return 0;
    }
    return lex_fail(lx, "invalid join operator", t->p, n);
}

int bs_filter_lex_next(bs_flexer *lx, bs_ftoken *t)
{
    const char *s = lx->src;
    memset(t, 0, sizeof *t);
    for (;;) {
        while (lx->pos < lx->len && is_space(s[lx->pos]))
            lx->pos++;
        if (lx->pos + 1 < lx->len && s[lx->pos] == '/' &&
            s[lx->pos + 1] == '/') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        break;
    }
    t->pos = lx->pos;
    if (lx->pos >= lx->len) {
        t->kind = BS_FTOK_EOF;
        t->p = s + lx->len;
        return 0;
    }
    char c = s[lx->pos];
    if (c == '(' || c == ')' || c == ',') {
        t->kind = c == '(' ? BS_FTOK_LPAREN
                  : c == ')' ? BS_FTOK_RPAREN : BS_FTOK_COMMA;
        t->p = s + lx->pos;
        t->n = 1;
        lx->pos++;
        return 0;
    }
    if (is_ident_start(c))
        return scan_ident(lx, t);
    if (is_digit(c) || c == '-')
        return scan_number(lx, t);
    if (c == '\'' || c == '"')
        return scan_text(lx, t);
    if (is_sign_char(c))
        return scan_run(lx, t, true);
    if (c == '&' || c == '|')
        return scan_run(lx, t, false);
    if (c == '{')
        return scan_param(lx, t);
    if (c == '/')
        return lex_fail(lx, "invalid comment", s + lx->pos, 1);
    return lex_fail(lx, "unexpected character", s + lx->pos, 1);
}
