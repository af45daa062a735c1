/*
 * parse.h - the filter language's syntax tree (internal to src/filter).
 *
 * Grammar, with `&&` binding tighter than `||` as in SQL (PocketBase
 * hands its flat expression list to SQL, which gives the same result):
 *
 *     expr    := and ( "||" and )*
 *     and     := primary ( "&&" primary )*
 *     primary := "(" expr ")" | operand SIGN operand
 *     operand := IDENT | NUMBER | TEXT | PARAM | FUNC arg? ( "," arg )* ","? ")"
 *     arg     := IDENT | NUMBER | TEXT | PARAM | FUNC ...   (functions nest 3 deep)
 *
 * Limits: at most BS_FILTER_MAX_EXPRS comparisons (PocketBase's 200),
 * BS_FILTER_MAX_DEPTH levels of parentheses and BS_FILTER_MAX_FUNC_DEPTH
 * levels of nested function calls. An empty input or empty parentheses
 * are errors, as in PocketBase.
 *
 * Every node lives in the arena given to bs_filter_parse.
 */
#ifndef BS_FILTER_PARSE_H
#define BS_FILTER_PARSE_H

#include "../base/arena.h"
#include "../base/buf.h"
#include "lex.h"

#define BS_FILTER_MAX_EXPRS 200
#define BS_FILTER_MAX_DEPTH 10
#define BS_FILTER_MAX_FUNC_DEPTH 3

typedef enum bs_fopd_kind {
    BS_FOPD_IDENT,
    BS_FOPD_NUMBER,
    BS_FOPD_TEXT,   /* text holds the unescaped value */
    BS_FOPD_FUNC,   /* text holds the function name */
    BS_FOPD_PARAM   /* text holds a {:name} placeholder's name */
} bs_fopd_kind;

typedef struct bs_fopd {
    bs_fopd_kind kind;
    bs_str text;            /* NUL-terminated in the arena */
    struct bs_fopd *args;   /* FUNC: the arguments */
    int nargs;
} bs_fopd;

typedef enum bs_fnode_kind {
    BS_FNODE_AND,
    BS_FNODE_OR,
    BS_FNODE_CMP
} bs_fnode_kind;

typedef struct bs_fnode {
    bs_fnode_kind kind;
    /* AND / OR: two or more children */
    struct bs_fnode **kids;
    int nkids;
    /* CMP */
    bs_fopd left;
    bs_fop op;
    bool any;
    bs_fopd right;
} bs_fnode;

typedef struct bs_fparse_error {
    char msg[200];
    size_t pos;     /* byte offset where the problem was found */
} bs_fparse_error;

/* Parses src[0..len). Returns 0 and the root in *out; BS_EINVAL with a
 * message in *e for a syntax error or a broken limit; BS_ENOMEM. */
int bs_filter_parse(bs_arena *a, const char *src, size_t len, bs_fnode **out,
                    bs_fparse_error *e);

/* Appends a canonical rendering of the tree, fully parenthesized, for
 * tests and debug logs: (a = 1 && (b ~ "x" || c ?> -2)). */
void bs_filter_dump(bs_buf *b, const bs_fnode *n);

#endif
