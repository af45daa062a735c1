/*
 * esm.c - ES module syntax in hook files and the modules they load,
 * rewritten into CommonJS at load time.
 *
 * JavaScriptCore's C API runs scripts, not modules, so a file is
 * rewritten before it is compiled as a CommonJS module function (see
 * bind_core.c). The design is a tokenizer, not a parser: it knows
 * enough JavaScript to never mistake the inside of a string, a template
 * literal (with its ${} parts, nested), a comment or a regular
 * expression literal for code, and it tracks bracket depth. An `import`
 * or `export` keyword at depth 0 (never after a `.`) starts a
 * declaration, read with a few tokens of lookahead:
 *
 *   import d, {a as b} from "m"  ->  const __esm_m1 = require("m"),
 *                                    d = __esm.d(__esm_m1), {a: b} = __esm_m1;
 *   import * as ns from "m"      ->  const ns = require("m");
 *   import "m"                   ->  require("m");
 *   export const/let/var, function, class   ->  the declaration, exported
 *   export default function f / class C     ->  the declaration, exported
 *   export default <expression>  ->  const __esm_default = <expression>
 *   export {a, b as c} [from "m"], export * [as ns] from "m"
 *
 * What a file exports becomes getters on `exports`, defined by one call
 * put before the first line (`__esm.x(exports, {name: () => local})`),
 * so exports are live bindings and hoisted as in a real module, and a
 * CommonJS file that requires the module sees them too. `import(spec)`
 * anywhere becomes `__esm.imp(require, spec)` (a promise of the module)
 * and `import.meta` becomes `__esm.meta(__filename)`; a first line
 * starting with #! becomes a comment. A module file is strict, as
 * modules are. Every rewrite keeps the newlines of the text
 * it replaces, so line numbers do not move.
 *
 * Regular expressions are told from division by the token before the
 * slash, as most tools do: after a value (a name that is not a keyword
 * such as `return`, a number, a string, `)` or `]`) a slash divides.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "esm.h"

enum { T_EOF, T_IDENT, T_NUM, T_STR, T_TEMPLATE, T_REGEX, T_PUNCT };

#define MAX_DEPTH 256

typedef struct tok {
    int type;
    size_t start, end;
    bool nl_before; /* a line break between the previous token and this */
} tok;

typedef struct scan {
    const char *s;
    size_t len, pos;
    int depth;                        /* open ( [ { and ${ */
    unsigned char stack[MAX_DEPTH];   /* their kinds, when depth allows */
    bool regex_ok;                    /* a slash now starts a regex */
} scan;

static bool is_ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '\\' ||
           c >= 0x80;
}

static bool tok_is(const scan *sc, const tok *t, const char *word)
{
    size_t n = strlen(word);
    return (t->type == T_IDENT || t->type == T_PUNCT) &&
           t->end - t->start == n && memcmp(sc->s + t->start, word, n) == 0;
}

/* Names after which a slash starts a regular expression. */
static bool keyword_before_value(const char *w, size_t n)
{
    static const char *const words[] = {
        "return", "typeof", "instanceof", "in", "of", "new", "delete",
        "void", "throw", "case", "do", "else", "yield", "await"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0)
            return true;
    return false;
}

static void push(scan *sc, unsigned char kind)
{
    if (sc->depth < MAX_DEPTH)
        sc->stack[sc->depth] = kind;
    sc->depth++;
}

static unsigned char top(const scan *sc)
{
    return sc->depth > 0 && sc->depth <= MAX_DEPTH ? sc->stack[sc->depth - 1]
                                                   : 0;
}

/* Scans template text from sc->pos (just after ` or the } of a ${})
 * to its closing ` or its next ${. */
static void template_rest(scan *sc)
{
    const char *s = sc->s;
    while (sc->pos < sc->len) {
        char c = s[sc->pos];
        if (c == '\\') {
            sc->pos += 2;
            continue;
        }
        if (c == '`') {
            sc->pos++;
            sc->regex_ok = false;
            return;
        }
        if (c == '$' && sc->pos + 1 < sc->len && s[sc->pos + 1] == '{') {
            sc->pos += 2;
            push(sc, 'T');
            sc->regex_ok = true;
            return;
        }
        sc->pos++;
    }
    if (sc->pos > sc->len)
        sc->pos = sc->len;
}

static void next(scan *sc, tok *t)
{
    const char *s = sc->s;
    t->nl_before = false;
    /* Spaces and comments. */
    while (sc->pos < sc->len) {
        char c = s[sc->pos];
        if (c == '\n') {
            t->nl_before = true;
            sc->pos++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
                   c == '\v') {
            sc->pos++;
        } else if (c == '/' && sc->pos + 1 < sc->len && s[sc->pos + 1] == '/') {
            while (sc->pos < sc->len && s[sc->pos] != '\n')
                sc->pos++;
        } else if (c == '/' && sc->pos + 1 < sc->len && s[sc->pos + 1] == '*') {
            sc->pos += 2;
            while (sc->pos < sc->len &&
                   !(s[sc->pos] == '*' && sc->pos + 1 < sc->len &&
                     s[sc->pos + 1] == '/')) {
                if (s[sc->pos] == '\n')
                    t->nl_before = true;
                sc->pos++;
            }
            sc->pos = sc->pos + 2 <= sc->len ? sc->pos + 2 : sc->len;
        } else {
            break;
        }
    }
    t->start = sc->pos;
    if (sc->pos >= sc->len) {
        t->type = T_EOF;
        t->end = sc->len;
        return;
    }
    unsigned char c = (unsigned char)s[sc->pos];
    unsigned char d = sc->pos + 1 < sc->len ? (unsigned char)s[sc->pos + 1] : 0;
    if (is_ident_char(c) && !(c >= '0' && c <= '9')) {
        /* \u escapes (\u0041, \u{41}) are part of a name; a lone
         * backslash is taken as one character, so a line break always
         * ends the name. */
        while (sc->pos < sc->len && is_ident_char((unsigned char)s[sc->pos]))
            sc->pos++;
        t->type = T_IDENT;
        sc->regex_ok = keyword_before_value(s + t->start, sc->pos - t->start);
    } else if (c == '#') {
        sc->pos++;
        while (sc->pos < sc->len && is_ident_char((unsigned char)s[sc->pos]))
            sc->pos++;
        t->type = T_IDENT;
        sc->regex_ok = false;
    } else if ((c >= '0' && c <= '9') || (c == '.' && d >= '0' && d <= '9')) {
        while (sc->pos < sc->len &&
               (is_ident_char((unsigned char)s[sc->pos]) || s[sc->pos] == '.'))
            sc->pos++;
        t->type = T_NUM;
        sc->regex_ok = false;
    } else if (c == '"' || c == '\'') {
        sc->pos++;
        while (sc->pos < sc->len && s[sc->pos] != (char)c &&
               s[sc->pos] != '\n')
            sc->pos += s[sc->pos] == '\\' ? 2 : 1;
        if (sc->pos < sc->len && s[sc->pos] == (char)c)
            sc->pos++;
        else if (sc->pos > sc->len)
            sc->pos = sc->len;
        t->type = T_STR;
        sc->regex_ok = false;
    } else if (c == '`') {
        sc->pos++;
        template_rest(sc);
        t->type = T_TEMPLATE;
    } else if (c == '}' && top(sc) == 'T') {
        sc->depth--;
        sc->pos++;
        template_rest(sc);
        t->type = T_TEMPLATE;
    } else if (c == '/' && sc->regex_ok) {
        bool cls = false;
        sc->pos++;
        while (sc->pos < sc->len && s[sc->pos] != '\n') {
            char r = s[sc->pos];
            if (r == '\\') {
                sc->pos += 2;
                continue;
            }
            sc->pos++;
            if (r == '[')
                cls = true;
            else if (r == ']')
                cls = false;
            else if (r == '/' && !cls)
                break;
        }
        if (sc->pos > sc->len)
            sc->pos = sc->len;
        while (sc->pos < sc->len && is_ident_char((unsigned char)s[sc->pos]))
            sc->pos++;
        t->type = T_REGEX;
        sc->regex_ok = false;
    } else {
        t->type = T_PUNCT;
        sc->pos++;
        sc->regex_ok = true;
        if (c == '(' || c == '[' || c == '{') {
            push(sc, c);
        } else if (c == ')' || c == ']' || c == '}') {
            if (sc->depth > 0)
                sc->depth--;
            /* After a block or an object literal `}` is taken as the end
             * of a statement. */
            sc->regex_ok = c == '}';
        } else if ((c == '+' || c == '-') && d == c) {
            sc->pos++;
            sc->regex_ok = false;
        } else if (c == '.' && d == '.' && sc->pos + 1 < sc->len &&
                   s[sc->pos + 1] == '.') {
            sc->pos += 2;
        } else if (c == '?' && d == '.' &&
                   !(sc->pos + 1 < sc->len && s[sc->pos + 1] >= '0' &&
                     s[sc->pos + 1] <= '9')) {
            sc->pos++;
        }
    }
    t->end = sc->pos;
}

static void peek(const scan *sc, tok *t)
{
    scan copy = *sc;
    next(&copy, t);
}

/* ---- the rewrite ------------------------------------------------------------- */

typedef struct esm {
    scan sc;
    bs_buf *out;
    size_t copied;   /* text up to here is in out */
    bs_buf exports;  /* "name": () => local, ... */
    int found;       /* module declarations */
    int temps;       /* __esm_mN, __esm_rN */
} esm;

static void put_text(esm *m, size_t from, size_t to)
{
    if (to > from)
        bs_buf_append(m->out, m->sc.s + from, to - from);
}

/* Replaces text [start, end) by repl (NULL: nothing) followed by the
 * newlines of the text it replaced that repl does not have itself (a
 * module string may hold an escaped line break). */
static void replace(esm *m, size_t start, size_t end, const char *repl,
                    size_t n)
{
    put_text(m, m->copied, start);
    long lines = 0;
    for (size_t i = start; i < end; i++)
        lines += m->sc.s[i] == '\n';
    if (repl) {
        bs_buf_append(m->out, repl, n);
        for (size_t i = 0; i < n; i++)
            lines -= repl[i] == '\n';
    }
    for (; lines > 0; lines--)
        bs_buf_putc(m->out, '\n');
    m->copied = end;
}

static void add_export(esm *m, const char *name, size_t nlen, bool quoted,
                       const char *local, size_t llen)
{
    /* The prologue is one line: a name with a line break in it (a
     * string continued over lines) is left out. */
    if (memchr(name, '\n', nlen) || memchr(local, '\n', llen))
        return;
    if (m->exports.len)
        bs_buf_puts(&m->exports, ", ");
    if (quoted)
        bs_buf_append(&m->exports, name, nlen);
    else
        bs_buf_json_str(&m->exports, name, nlen);
    bs_buf_puts(&m->exports, ": () => ");
    bs_buf_append(&m->exports, local, llen);
}

static void add_export_tok(esm *m, const tok *name, const char *local,
                           size_t llen)
{
    add_export(m, m->sc.s + name->start, name->end - name->start,
               name->type == T_STR, local, llen);
}

typedef struct spec {
    tok imported, local;
} spec;

#define MAX_SPECS 256

/* Reads `{ a, b as c, "x" as d }` after its `{`; false when malformed. */
static bool read_specs(scan *p, spec *specs, int *n)
{
    *n = 0;
    tok t;
    for (;;) {
        next(p, &t);
        if (tok_is(p, &t, "}"))
            return true;
        if (t.type != T_IDENT && t.type != T_STR)
            return false;
        spec sp = {.imported = t, .local = t};
        next(p, &t);
        if (tok_is(p, &t, "as")) {
            next(p, &sp.local);
            if (sp.local.type != T_IDENT && sp.local.type != T_STR)
                return false;
            next(p, &t);
        }
        if (*n >= MAX_SPECS)
            return false;
        specs[(*n)++] = sp;
        if (tok_is(p, &t, "}"))
            return true;
        if (!tok_is(p, &t, ","))
            return false;
    }
}

/* After the module string: `with {...}` (import attributes) and `;`. */
static void read_tail(scan *p, size_t *end)
{
    tok t;
    peek(p, &t);
    if ((tok_is(p, &t, "with") || tok_is(p, &t, "assert")) && !t.nl_before) {
        scan q = *p;
        next(&q, &t);
        next(&q, &t);
        if (tok_is(&q, &t, "{")) {
            int depth = q.depth - 1;
            while (t.type != T_EOF && q.depth > depth)
                next(&q, &t);
            *p = q;
            *end = t.end;
        }
    }
    peek(p, &t);
    if (tok_is(p, &t, ";")) {
        next(p, &t);
        *end = t.end;
    }
}

static void put_tok(bs_buf *b, const scan *sc, const tok *t)
{
    bs_buf_append(b, sc->s + t->start, t->end - t->start);
}

/* With t the token `from`: the module string after it and the tail;
 * *end is where the declaration ends. */
static bool read_from(scan *p, const tok *t, tok *mod, size_t *end)
{
    if (!tok_is(p, t, "from"))
        return false;
    next(p, mod);
    if (mod->type != T_STR)
        return false;
    *end = mod->end;
    read_tail(p, end);
    return true;
}

/* Puts the rewrite r in place of [kw, end) and moves past it. */
static void commit(esm *m, const tok *kw, size_t end, bs_buf *r,
                   const scan *p)
{
    replace(m, kw->start, end, r->data, r->len);
    if (r->oom)
        m->out->oom = true;
    bs_buf_dispose(r);
    m->sc = *p;
}

/* `{a: b, "x-y": c}` for destructuring. */
static void put_pattern(bs_buf *b, const scan *sc, const spec *specs, int n)
{
    bs_buf_putc(b, '{');
    for (int i = 0; i < n; i++) {
        if (i)
            bs_buf_puts(b, ", ");
        put_tok(b, sc, &specs[i].imported);
        bs_buf_puts(b, ": ");
        put_tok(b, sc, &specs[i].local);
    }
    bs_buf_putc(b, '}');
}

/* An import declaration; kw is the `import` token. */
static bool rewrite_import(esm *m, const tok *kw)
{
    scan p = m->sc;
    tok t, mod, def = {0}, ns = {0};
    spec specs[MAX_SPECS];
    int nspecs = -1;
    next(&p, &t);
    size_t end = t.end;
    if (t.type == T_STR) {
        mod = t;
        read_tail(&p, &end);
    } else {
        if (t.type == T_IDENT && !tok_is(&p, &t, "from")) {
            def = t;
            next(&p, &t);
            if (tok_is(&p, &t, ","))
                next(&p, &t);
        } else if (tok_is(&p, &t, "from")) {
            /* `import from from "m"`: a default binding named from. */
            tok u;
            peek(&p, &u);
            if (tok_is(&p, &u, "from")) {
                def = t;
                next(&p, &t);
            }
        }
        if (tok_is(&p, &t, "*")) {
            next(&p, &t);
            if (!tok_is(&p, &t, "as"))
                return false;
            next(&p, &ns);
            if (ns.type != T_IDENT)
                return false;
            next(&p, &t);
        } else if (tok_is(&p, &t, "{")) {
            if (!read_specs(&p, specs, &nspecs))
                return false;
            next(&p, &t);
        }
        if (!def.type && !ns.type && nspecs < 0)
            return false;
        if (!read_from(&p, &t, &mod, &end))
            return false;
    }

    bs_buf r;
    bs_buf_init(&r);
    int parts = (def.type != 0) + (ns.type != 0) + (nspecs >= 0);
    if (parts == 0) {
        bs_buf_puts(&r, "require(");
        put_tok(&r, &p, &mod);
        bs_buf_puts(&r, ");");
    } else if (parts == 1 && ns.type) {
        bs_buf_puts(&r, "const ");
        put_tok(&r, &p, &ns);
        bs_buf_puts(&r, " = require(");
        put_tok(&r, &p, &mod);
        bs_buf_puts(&r, ");");
    } else if (parts == 1 && def.type) {
        bs_buf_puts(&r, "const ");
        put_tok(&r, &p, &def);
        bs_buf_puts(&r, " = __esm.d(require(");
        put_tok(&r, &p, &mod);
        bs_buf_puts(&r, "));");
    } else if (parts == 1) {
        bs_buf_puts(&r, "const ");
        put_pattern(&r, &p, specs, nspecs);
        bs_buf_puts(&r, " = require(");
        put_tok(&r, &p, &mod);
        bs_buf_puts(&r, ");");
    } else {
        int id = ++m->temps;
        bs_buf_printf(&r, "const __esm_m%d = require(", id);
        put_tok(&r, &p, &mod);
        bs_buf_putc(&r, ')');
        if (def.type) {
            bs_buf_puts(&r, ", ");
            put_tok(&r, &p, &def);
            bs_buf_printf(&r, " = __esm.d(__esm_m%d)", id);
        }
        if (ns.type) {
            bs_buf_puts(&r, ", ");
            put_tok(&r, &p, &ns);
            bs_buf_printf(&r, " = __esm_m%d", id);
        }
        if (nspecs >= 0) {
            bs_buf_puts(&r, ", ");
            put_pattern(&r, &p, specs, nspecs);
            bs_buf_printf(&r, " = __esm_m%d", id);
        }
        bs_buf_putc(&r, ';');
    }
    commit(m, kw, end, &r, &p);
    return true;
}

/* ---- export declarations ------------------------------------------------------ */

static bool ends_value(const scan *sc, const tok *t)
{
    if (t->type == T_NUM || t->type == T_STR || t->type == T_TEMPLATE ||
        t->type == T_REGEX)
        return true;
    if (t->type == T_IDENT)
        return !keyword_before_value(sc->s + t->start, t->end - t->start);
    return tok_is(sc, t, ")") || tok_is(sc, t, "]") || tok_is(sc, t, "}");
}

/* Skips an initializer or a default value: up to a `,` or one of the
 * closing tokens at the starting depth, or a line break that ends the
 * statement. *t is the token that stopped it. */
static void skip_value(scan *p, tok *t, const char *close)
{
    int depth = p->depth;
    tok prev = {0};
    for (;;) {
        tok u;
        peek(p, &u);
        if (u.type == T_EOF) {
            *t = u;
            return;
        }
        if (p->depth == depth &&
            (tok_is(p, &u, ",") || tok_is(p, &u, ";") ||
             (close && tok_is(p, &u, close)) ||
             (u.nl_before && prev.type && ends_value(p, &prev) &&
              (u.type == T_IDENT || u.type == T_NUM || u.type == T_STR)))) {
            *t = u;
            return;
        }
        if (p->depth < depth) {
            *t = u;
            return;
        }
        next(p, &prev);
    }
}

/* The names a binding pattern declares, exported as themselves. */
static void read_binding(esm *m, scan *p, int level)
{
    tok t;
    next(p, &t);
    if (t.type == T_IDENT) {
        add_export_tok(m, &t, p->s + t.start, t.end - t.start);
        return;
    }
    bool object = tok_is(p, &t, "{");
    if ((!object && !tok_is(p, &t, "[")) || level > 32)
        return;
    const char *close = object ? "}" : "]";
    for (;;) {
        tok u;
        peek(p, &u);
        if (u.type == T_EOF)
            return;
        if (tok_is(p, &u, close)) {
            next(p, &u);
            return;
        }
        if (tok_is(p, &u, ",")) {
            next(p, &u);
            continue;
        }
        if (tok_is(p, &u, "...")) {
            next(p, &u);
            read_binding(m, p, level + 1);
        } else if (object) {
            /* A key (name, string, number or [computed]) then `: pattern`,
             * or a shorthand name. */
            tok key;
            next(p, &key);
            if (tok_is(p, &key, "[")) {
                int depth = p->depth - 1;
                while (key.type != T_EOF && p->depth > depth)
                    next(p, &key);
            }
            peek(p, &u);
            if (tok_is(p, &u, ":")) {
                next(p, &u);
                read_binding(m, p, level + 1);
            } else if (key.type == T_IDENT) {
                add_export_tok(m, &key, p->s + key.start, key.end - key.start);
            } else if (key.type == T_EOF) {
                return;
            }
        } else {
            read_binding(m, p, level + 1);
        }
        peek(p, &u);
        if (tok_is(p, &u, "=")) {
            next(p, &u);
            skip_value(p, &u, close);
        }
    }
}

/* `export const|let|var ...`: the names of every declarator. */
static void read_declarators(esm *m, scan *p)
{
    tok t;
    for (;;) {
        read_binding(m, p, 0);
        peek(p, &t);
        if (tok_is(p, &t, "=")) {
            next(p, &t);
            skip_value(p, &t, NULL);
        }
        if (!tok_is(p, &t, ","))
            return;
        next(p, &t);
    }
}

/* After `function` (and an optional `*`) or `class`: the name, if any. */
static bool decl_name(scan *p, tok *name)
{
    tok t;
    peek(p, &t);
    if (tok_is(p, &t, "*")) {
        next(p, &t);
        peek(p, &t);
    }
    if (t.type == T_IDENT && !tok_is(p, &t, "extends")) {
        *name = t;
        return true;
    }
    return false;
}

/* `function`, `async function` or `class` next in p: true, p moved past
 * the keyword(s). */
static bool read_decl_keyword(scan *p, bool *is_fn)
{
    tok t, u;
    peek(p, &t);
    if (tok_is(p, &t, "function") || tok_is(p, &t, "class")) {
        *is_fn = tok_is(p, &t, "function");
        next(p, &t);
        return true;
    }
    if (tok_is(p, &t, "async")) {
        scan q = *p;
        next(&q, &t);
        next(&q, &u);
        if (tok_is(&q, &u, "function") && !u.nl_before) {
            *p = q;
            *is_fn = true;
            return true;
        }
    }
    return false;
}

static bool rewrite_export(esm *m, const tok *kw, bool *pending_semi)
{
    scan p = m->sc;
    tok t;
    peek(&p, &t);
    const char *s = p.s;
    bool is_fn;
    if (tok_is(&p, &t, "default")) {
        next(&p, &t);
        tok name;
        scan q = p;
        if (read_decl_keyword(&q, &is_fn) && decl_name(&q, &name)) {
            /* A named declaration: itself, exported as default. */
            tok first;
            peek(&p, &first);
            replace(m, kw->start, first.start, NULL, 0);
            add_export(m, "default", 7, false, s + name.start,
                       name.end - name.start);
            m->sc = p;
            return true;
        }
        const char *repl = "const __esm_default =";
        tok first;
        peek(&p, &first);
        replace(m, kw->start, t.end, repl, strlen(repl));
        add_export(m, "default", 7, false, "__esm_default", 13);
        q = p;
        *pending_semi = read_decl_keyword(&q, &is_fn);
        m->sc = p;
        return true;
    }
    if (tok_is(&p, &t, "const") || tok_is(&p, &t, "let") ||
        tok_is(&p, &t, "var")) {
        replace(m, kw->start, t.start, NULL, 0);
        scan q = p;
        next(&q, &t);
        read_declarators(m, &q);
        m->sc = p;
        return true;
    }
    scan q = p;
    if (read_decl_keyword(&q, &is_fn)) {
        tok name;
        if (!decl_name(&q, &name))
            return false;
        replace(m, kw->start, t.start, NULL, 0);
        add_export_tok(m, &name, s + name.start, name.end - name.start);
        m->sc = p;
        return true;
    }
    if (tok_is(&p, &t, "*")) {
        next(&p, &t);
        tok ns = {0}, mod;
        next(&p, &t);
        if (tok_is(&p, &t, "as")) {
            next(&p, &ns);
            if (ns.type != T_IDENT && ns.type != T_STR)
                return false;
            next(&p, &t);
        }
        size_t end;
        if (!read_from(&p, &t, &mod, &end))
            return false;
        bs_buf r;
        bs_buf_init(&r);
        if (ns.type) {
            int id = ++m->temps;
            bs_buf_printf(&r, "const __esm_r%d = require(", id);
            put_tok(&r, &p, &mod);
            bs_buf_puts(&r, ");");
            char local[32];
            int n = snprintf(local, sizeof local, "__esm_r%d", id);
            add_export_tok(m, &ns, local, (size_t)n);
        } else {
            bs_buf_puts(&r, "__esm.star(exports, require(");
            put_tok(&r, &p, &mod);
            bs_buf_puts(&r, "));");
        }
        commit(m, kw, end, &r, &p);
        return true;
    }
    if (tok_is(&p, &t, "{")) {
        next(&p, &t);
        spec specs[MAX_SPECS];
        int n;
        if (!read_specs(&p, specs, &n))
            return false;
        size_t end = p.pos;
        tok u, mod = {0};
        peek(&p, &u);
        if (tok_is(&p, &u, "from")) {
            next(&p, &u);
            if (!read_from(&p, &u, &mod, &end))
                return false;
        } else {
            if (tok_is(&p, &u, ";")) {
                next(&p, &u);
                end = u.end;
            }
            for (int i = 0; i < n; i++)
                if (specs[i].imported.type != T_IDENT)
                    return false;
        }
        bs_buf r;
        bs_buf_init(&r);
        int id = 0;
        if (mod.type) {
            id = ++m->temps;
            bs_buf_printf(&r, "const __esm_r%d = require(", id);
            put_tok(&r, &p, &mod);
            bs_buf_puts(&r, ");");
        }
        for (int i = 0; i < n; i++) {
            const tok *im = &specs[i].imported;
            if (!mod.type) {
                add_export_tok(m, &specs[i].local, s + im->start,
                               im->end - im->start);
                continue;
            }
            bs_buf local;
            bs_buf_init(&local);
            bs_buf_printf(&local, "__esm_r%d[", id);
            if (im->type == T_STR)
                put_tok(&local, &p, im);
            else
                bs_buf_json_str(&local, s + im->start, im->end - im->start);
            bs_buf_putc(&local, ']');
            if (local.oom)
                m->out->oom = true;
            else
                add_export_tok(m, &specs[i].local, local.data, local.len);
            bs_buf_dispose(&local);
        }
        commit(m, kw, end, &r, &p);
        return true;
    }
    return false;
}

/* `import(` at any depth, unless it is a method named import. */
static bool is_dynamic_import(const scan *sc)
{
    scan p = *sc;
    tok t;
    next(&p, &t);
    if (!tok_is(&p, &t, "("))
        return false;
    int depth = p.depth - 1;
    while (t.type != T_EOF && p.depth > depth)
        next(&p, &t);
    peek(&p, &t);
    return !tok_is(&p, &t, "{");
}

int bsj_esm_transform(const char *text, size_t len, bs_buf *out)
{
    esm m;
    memset(&m, 0, sizeof m);
    m.sc.s = text;
    m.sc.len = len;
    m.sc.regex_ok = true;
    m.out = out;
    bs_buf_init(&m.exports);
    bs_buf body;
    bs_buf_init(&body);
    m.out = &body;
    /* A #! line (a command-line script) is a comment here: the text
     * runs inside a function. */
    if (len >= 2 && text[0] == '#' && text[1] == '!') {
        bs_buf_puts(&body, "//");
        m.copied = 2;
        m.sc.pos = 2;
        while (m.sc.pos < len && text[m.sc.pos] != '\n')
            m.sc.pos++;
    }
    tok t, prev = {0};
    bool pending_semi = false;
    int semi_depth = 0;
    for (;;) {
        next(&m.sc, &t);
        if (t.type == T_EOF)
            break;
        bool after_dot = tok_is(&m.sc, &prev, ".") || tok_is(&m.sc, &prev, "?.");
        if (pending_semi && tok_is(&m.sc, &t, "}") && m.sc.depth == semi_depth) {
            put_text(&m, m.copied, t.end);
            bs_buf_putc(m.out, ';');
            m.copied = t.end;
            pending_semi = false;
        } else if (t.type == T_IDENT && !after_dot &&
                   tok_is(&m.sc, &t, "import")) {
            tok u;
            peek(&m.sc, &u);
            if (tok_is(&m.sc, &u, "(") && is_dynamic_import(&m.sc)) {
                next(&m.sc, &u);
                const char *r = "__esm.imp(require, ";
                replace(&m, t.start, u.end, r, strlen(r));
            } else if (tok_is(&m.sc, &u, ".")) {
                scan q = m.sc;
                tok meta;
                next(&q, &u);
                next(&q, &meta);
                if (tok_is(&q, &meta, "meta")) {
                    const char *r = "__esm.meta(__filename)";
                    replace(&m, t.start, meta.end, r, strlen(r));
                    m.sc = q;
                    t = meta;
                }
            } else if (m.sc.depth == 0 && rewrite_import(&m, &t)) {
                m.found++;
                t.type = T_PUNCT; /* as if a `;` ended it */
                t.start = t.end = 0;
            }
        } else if (t.type == T_IDENT && !after_dot && m.sc.depth == 0 &&
                   tok_is(&m.sc, &t, "export")) {
            bool semi = false;
            if (rewrite_export(&m, &t, &semi)) {
                m.found++;
                if (semi && !pending_semi) {
                    pending_semi = true;
                    semi_depth = 0;
                }
            }
        }
        prev = t;
    }
    put_text(&m, m.copied, len);
    if (m.found) {
        bs_buf_puts(out, "\"use strict\";__esm.x(exports, {");
        bs_buf_append(out, m.exports.data, m.exports.len);
        bs_buf_puts(out, "});");
    }
    bs_buf_append(out, body.data, body.len);
    bool oom = body.oom || m.exports.oom || out->oom;
    bs_buf_dispose(&body);
    bs_buf_dispose(&m.exports);
    return oom ? -1 : m.found;
}
