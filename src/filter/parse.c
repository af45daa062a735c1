/*
 * parse.c - recursive descent parser from filter text to syntax tree.
 *
 * One token of lookahead. Each level of parentheses is one level of
 * recursion, bounded by BS_FILTER_MAX_DEPTH, so hostile input cannot
 * exhaust the stack. Text literals are unescaped here: `\'` inside
 * single quotes (and `\"` inside double quotes) becomes the quote, every
 * other backslash stays as written, and invalid UTF-8 becomes U+FFFD the
 * way Go's reader replaces it.
 */
#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "basalt.h"

typedef struct parser {
    bs_arena *a;
    bs_flexer lx;
    bs_ftoken tok;      /* current token */
    int exprs;
    bs_fparse_error *e;
} parser;

static int fail(parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->e->msg, sizeof p->e->msg, fmt, ap);
    va_end(ap);
    p->e->pos = pos;
    return BS_EINVAL;
}

static int advance(parser *p)
{
    if (bs_filter_lex_next(&p->lx, &p->tok) != 0) {
        snprintf(p->e->msg, sizeof p->e->msg, "%s", p->lx.err);
        p->e->pos = p->tok.pos;
        return BS_EINVAL;
    }
    return 0;
}

/* A short printable name of the current token for messages. */
static const char *tok_name(parser *p, char *buf, size_t cap)
{
    const bs_ftoken *t = &p->tok;
    if (t->kind == BS_FTOK_EOF)
        return "end of input";
    size_t n = t->n < cap - 3 ? t->n : cap - 3;
    size_t k = 0;
    buf[k++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->p[i];
        buf[k++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
    }
    buf[k++] = '"';
    buf[k] = '\0';
    return buf;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

static int unescape_text(parser *p, const bs_ftoken *t, bs_str *out)
{
    /* Each input byte yields at most three output bytes (U+FFFD). */
    char *dst = bs_arena_alloc(p->a, t->n * 3 + 1);
    if (!dst)
        return BS_ENOMEM;
    const unsigned char *s = (const unsigned char *)t->p;
    size_t k = 0;
    for (size_t i = 0; i < t->n;) {
        if (s[i] == '\\' && i + 1 < t->n && s[i + 1] == (unsigned char)t->quote) {
            dst[k++] = t->quote;
            i += 2;
            continue;
        }
        size_t len = utf8_len(s + i, t->n - i);
        if (len == 0) {
            dst[k++] = (char)0xef;
            dst[k++] = (char)0xbf;
            dst[k++] = (char)0xbd;
            i++;
            continue;
        }
        memcpy(dst + k, s + i, len);
        k += len;
        i += len;
    }
    dst[k] = '\0';
    out->ptr = dst;
    out->len = k;
    return 0;
}

static int parse_operand(parser *p, bs_fopd *o, int fdepth);

/* Parses the arguments of a function whose FUNC token is current. */
static int parse_func(parser *p, bs_fopd *o, int fdepth)
{
    if (fdepth >= BS_FILTER_MAX_FUNC_DEPTH)
        return fail(p, p->tok.pos,
                    "max nested function arguments reached (max: %d)",
                    BS_FILTER_MAX_FUNC_DEPTH);
    size_t name_pos = p->tok.pos;
    char *name = bs_arena_strndup(p->a, p->tok.p, p->tok.n);
    if (!name)
        return BS_ENOMEM;
    o->kind = BS_FOPD_FUNC;
    o->text = (bs_str){name, p->tok.n};
    o->args = NULL;
    o->nargs = 0;
    int cap = 0;
    int rc = advance(p);
    if (rc)
        return rc;
    bool expect_comma = false;
    for (;;) {
        char tb[48];
        switch (p->tok.kind) {
        case BS_FTOK_RPAREN:
            return advance(p);
        case BS_FTOK_EOF:
            return fail(p, name_pos,
                        "invalid or incomplete function %s (expected ')')",
                        name);
        case BS_FTOK_COMMA:
            if (!expect_comma)
                return fail(p, p->tok.pos, "unexpected comma in function %s",
                            name);
            expect_comma = false;
            rc = advance(p);
            if (rc)
                return rc;
            continue;
        case BS_FTOK_IDENT:
        case BS_FTOK_NUMBER:
        case BS_FTOK_TEXT:
        case BS_FTOK_PARAM:
        case BS_FTOK_FUNC:
            if (expect_comma)
                return fail(p, p->tok.pos,
                            "expected comma after the last argument in "
                            "function %s", name);
            if (o->nargs == cap) {
                int ncap = cap ? cap * 2 : 4;
                bs_fopd *args = bs_arena_alloc(p->a, sizeof *args * (size_t)ncap);
                if (!args)
                    return BS_ENOMEM;
                if (o->nargs)
                    memcpy(args, o->args, sizeof *args * (size_t)o->nargs);
                o->args = args;
                cap = ncap;
            }
            rc = parse_operand(p, &o->args[o->nargs], fdepth + 1);
            if (rc)
                return rc;
            o->nargs++;
            expect_comma = true;
            continue;
        default:
            return fail(p, p->tok.pos, "unsupported function argument %s",
                        tok_name(p, tb, sizeof tb));
        }
    }
}

/* Parses one operand starting at the current token and moves past it. */
static int parse_operand(parser *p, bs_fopd *o, int fdepth)
{
    const bs_ftoken *t = &p->tok;
    memset(o, 0, sizeof *o);
    switch (t->kind) {
    case BS_FTOK_FUNC:
        return parse_func(p, o, fdepth);
    case BS_FTOK_TEXT: {
        o->kind = BS_FOPD_TEXT;
        int rc = unescape_text(p, t, &o->text);
        if (rc)
            return rc;
        break;
    }
    case BS_FTOK_IDENT:
    case BS_FTOK_NUMBER:
    case BS_FTOK_PARAM: {
        o->kind = t->kind == BS_FTOK_IDENT    ? BS_FOPD_IDENT
                  : t->kind == BS_FTOK_NUMBER ? BS_FOPD_NUMBER
                                              : BS_FOPD_PARAM;
        char *s = bs_arena_strndup(p->a, t->p, t->n);
        if (!s)
            return BS_ENOMEM;
        o->text = (bs_str){s, t->n};
        break;
    }
    default:
        return BS_EINVAL; /* the callers only call with operand tokens */
    }
    return advance(p);
}

static bool is_operand(const bs_ftoken *t)
{
    return t->kind == BS_FTOK_IDENT || t->kind == BS_FTOK_NUMBER ||
           t->kind == BS_FTOK_TEXT || t->kind == BS_FTOK_FUNC ||
           t->kind == BS_FTOK_PARAM;
}

static int parse_or(parser *p, int depth, bs_fnode **out);

static int parse_primary(parser *p, int depth, bs_fnode **out)
{
    char tb[48];
    if (p->tok.kind == BS_FTOK_LPAREN) {
        if (depth >= BS_FILTER_MAX_DEPTH)
            return fail(p, p->tok.pos,
                        "max nesting depth reached (max: %d parentheses)",
                        BS_FILTER_MAX_DEPTH);
        size_t open = p->tok.pos;
        int rc = advance(p);
        if (rc)
            return rc;
        if (p->tok.kind == BS_FTOK_RPAREN)
            return fail(p, p->tok.pos, "%s", "empty filter expression");
        rc = parse_or(p, depth + 1, out);
        if (rc)
            return rc;
        if (p->tok.kind != BS_FTOK_RPAREN) {
            if (p->tok.kind == BS_FTOK_EOF)
                return fail(p, open, "%s",
                            "invalid formatted group - missing closing "
                            "bracket(s)");
            return fail(p, p->tok.pos, "expected && or ||, got %s",
                        tok_name(p, tb, sizeof tb));
        }
        return advance(p);
    }
    if (!is_operand(&p->tok)) {
        if (p->tok.kind == BS_FTOK_EOF)
            return fail(p, p->tok.pos, "%s",
                        "invalid or incomplete filter expression");
        return fail(p, p->tok.pos,
                    "expected left operand (identifier, function, text or "
                    "number), got %s", tok_name(p, tb, sizeof tb));
    }
    if (p->exprs >= BS_FILTER_MAX_EXPRS)
        return fail(p, p->tok.pos, "%s",
                    "max filter expressions limit reached");
    p->exprs++;
    bs_fnode *n = bs_arena_calloc(p->a, sizeof *n);
    if (!n)
        return BS_ENOMEM;
    n->kind = BS_FNODE_CMP;
    int rc = parse_operand(p, &n->left, 0);
    if (rc)
        return rc;
    if (p->tok.kind != BS_FTOK_SIGN) {
        if (p->tok.kind == BS_FTOK_EOF)
            return fail(p, p->tok.pos, "%s",
                        "invalid or incomplete filter expression");
        return fail(p, p->tok.pos, "expected a sign operator, got %s",
                    tok_name(p, tb, sizeof tb));
    }
    n->op = p->tok.op;
    n->any = p->tok.any;
    rc = advance(p);
    if (rc)
        return rc;
    if (!is_operand(&p->tok)) {
        if (p->tok.kind == BS_FTOK_EOF)
            return fail(p, p->tok.pos, "%s",
                        "invalid or incomplete filter expression");
        return fail(p, p->tok.pos,
                    "expected right operand (identifier, function, text or "
                    "number), got %s", tok_name(p, tb, sizeof tb));
    }
    rc = parse_operand(p, &n->right, 0);
    if (rc)
        return rc;
    *out = n;
    return 0;
}

/* Parses a chain of `sub` joined by the join token `join`. */
static int parse_chain(parser *p, int depth, bs_ftok_kind join,
                       bs_fnode_kind kind, bs_fnode **out)
{
    bs_fnode *first = NULL;
    int rc = kind == BS_FNODE_OR
                 ? parse_chain(p, depth, BS_FTOK_AND, BS_FNODE_AND, &first)
                 : parse_primary(p, depth, &first);
    if (rc)
        return rc;
    if (p->tok.kind != join) {
        *out = first;
        return 0;
    }
    bs_fnode *n = bs_arena_calloc(p->a, sizeof *n);
    if (!n)
        return BS_ENOMEM;
    n->kind = kind;
    int cap = 4;
    n->kids = bs_arena_alloc(p->a, sizeof *n->kids * (size_t)cap);
    if (!n->kids)
        return BS_ENOMEM;
    n->kids[n->nkids++] = first;
    while (p->tok.kind == join) {
        rc = advance(p);
        if (rc)
            return rc;
        bs_fnode *next = NULL;
        rc = kind == BS_FNODE_OR
                 ? parse_chain(p, depth, BS_FTOK_AND, BS_FNODE_AND, &next)
                 : parse_primary(p, depth, &next);
        if (rc)
            return rc;
        if (n->nkids == cap) {
            bs_fnode **kids = bs_arena_alloc(p->a, sizeof *kids * (size_t)cap * 2);
            if (!kids)
                return BS_ENOMEM;
            memcpy(kids, n->kids, sizeof *kids * (size_t)n->nkids);
            n->kids = kids;
            cap *= 2;
        }
        n->kids[n->nkids++] = next;
    }
    *out = n;
    return 0;
}

static int parse_or(parser *p, int depth, bs_fnode **out)
{
    return parse_chain(p, depth, BS_FTOK_OR, BS_FNODE_OR, out);
}

int bs_filter_parse(bs_arena *a, const char *src, size_t len, bs_fnode **out,
                    bs_fparse_error *e)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.a = a;
    p.e = e;
    e->msg[0] = '\0';
    e->pos = 0;
    *out = NULL;
    bs_filter_lex_init(&p.lx, src ? src : "", src ? len : 0);
    int rc = advance(&p);
    if (rc)
        return rc;
    if (p.tok.kind == BS_FTOK_EOF)
        return fail(&p, 0, "%s", "empty filter expression");
    bs_fnode *root = NULL;
    rc = parse_or(&p, 0, &root);
    if (rc)
        return rc;
    if (p.tok.kind != BS_FTOK_EOF) {
        char tb[48];
        return fail(&p, p.tok.pos, "expected && or ||, got %s",
                    tok_name(&p, tb, sizeof tb));
    }
    *out = root;
    return 0;
}

static void dump_operand(bs_buf *b, const bs_fopd *o)
{
    switch (o->kind) {
    case BS_FOPD_IDENT:
    case BS_FOPD_NUMBER:
        bs_buf_append(b, o->text.ptr, o->text.len);
        break;
    case BS_FOPD_TEXT:
        bs_buf_json_str(b, o->text.ptr, o->text.len);
        break;
    case BS_FOPD_PARAM:
        bs_buf_puts(b, "{:");
        bs_buf_append(b, o->text.ptr, o->text.len);
        bs_buf_putc(b, '}');
        break;
    case BS_FOPD_FUNC:
        bs_buf_append(b, o->text.ptr, o->text.len);
        bs_buf_putc(b, '(');
        for (int i = 0; i < o->nargs; i++) {
            if (i)
                bs_buf_puts(b, ", ");
            dump_operand(b, &o->args[i]);
        }
        bs_buf_putc(b, ')');
        break;
    }
}

void bs_filter_dump(bs_buf *b, const bs_fnode *n)
{
    if (n->kind == BS_FNODE_CMP) {
        dump_operand(b, &n->left);
        bs_buf_putc(b, ' ');
        bs_buf_puts(b, bs_filter_op_str(n->op, n->any));
        bs_buf_putc(b, ' ');
        dump_operand(b, &n->right);
        return;
    }
    bs_buf_putc(b, '(');
    for (int i = 0; i < n->nkids; i++) {
        if (i)
            bs_buf_puts(b, n->kind == BS_FNODE_AND ? " && " : " || ");
        bs_filter_dump(b, n->kids[i]);
    }
    bs_buf_putc(b, ')');
}
