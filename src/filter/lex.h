/*
 * lex.h - the tokenizer of the filter language (internal to src/filter).
 *
 * The token set follows PocketBase's filter grammar (the fexpr package):
 * identifiers such as `title`, `author.name`, `@request.auth.id` or
 * `tags:each`; numbers such as `12`, `-3.5`; text in single or double
 * quotes where only a backslash before the closing quote character is an
 * escape; the sixteen comparison signs; `&&`, `||`, parentheses; and
 * `//` comments up to the end of the line; and `{:name}` placeholders,
 * whose values the caller binds (never spliced into the text). An identifier written right
 * before `(` is a function name and the lexer hands the parser a FUNC
 * token with the parenthesis consumed; commas are only meaningful inside
 * function arguments and the parser refuses them elsewhere.
 *
 * The lexer never allocates: tokens are slices of the source text.
 */
#ifndef BS_FILTER_LEX_H
#define BS_FILTER_LEX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum bs_ftok_kind {
    BS_FTOK_EOF,
    BS_FTOK_IDENT,
    BS_FTOK_FUNC,   /* name, the '(' already consumed */
    BS_FTOK_NUMBER,
    BS_FTOK_TEXT,   /* the raw bytes between the quotes, still escaped */
    BS_FTOK_SIGN,
    BS_FTOK_AND,
    BS_FTOK_OR,
    BS_FTOK_LPAREN,
    BS_FTOK_RPAREN,
    BS_FTOK_COMMA,
    BS_FTOK_PARAM   /* a {:name} placeholder: p/n hold the name */
} bs_ftok_kind;

/* Comparison operators. The "any" forms (?=, ?!=, ...) are the same
 * operator with bs_ftoken.any set. */
typedef enum bs_fop {
    BS_FOP_EQ,
    BS_FOP_NEQ,
    BS_FOP_LIKE,
    BS_FOP_NLIKE,
    BS_FOP_LT,
    BS_FOP_LTE,
    BS_FOP_GT,
    BS_FOP_GTE
} bs_fop;

typedef struct bs_ftoken {
    bs_ftok_kind kind;
    const char *p;  /* the token text (for TEXT: between the quotes) */
    size_t n;
    size_t pos;     /* byte offset of the token in the source */
    char quote;     /* TEXT: the quote character */
    bs_fop op;      /* SIGN */
    bool any;       /* SIGN: one of the ?-forms */
} bs_ftoken;

typedef struct bs_flexer {
    const char *src;
    size_t len;
    size_t pos;
    char err[160];  /* set when bs_filter_lex_next fails */
} bs_flexer;

void bs_filter_lex_init(bs_flexer *lx, const char *src, size_t len);

/* Reads the next token, skipping whitespace and comments. Returns 0, or
 * BS_EINVAL with a message in lx->err (and the offending offset in
 * t->pos). Safe on any bytes, NUL included. */
int bs_filter_lex_next(bs_flexer *lx, bs_ftoken *t);

/* The operator's spelling, for messages ("=", "?!~", ...). */
const char *bs_filter_op_str(bs_fop op, bool any);

#endif
