/*
 * compile.h - state shared by the filter compiler's files (internal).
 *
 * A bs_filter_query collects, across every fragment added to it, the
 * bound parameters, the joins (keyed by what they join, so that two
 * conditions on the same path share one) and the condition and sort text.
 * A bsf_pass describes one compilation pass over one fragment: the
 * collection and table alias names resolve against, whether hidden
 * fields are allowed and which part of the statement (condition or sort)
 * the joins serve.
 *
 * Resolving an operand yields a bsf_operand: its SQL, how nulls compare,
 * which bound parameters carry its value, and, for operands with several
 * values, the multi-match subquery listing them.
 */
#ifndef BS_FILTER_COMPILE_H
#define BS_FILTER_COMPILE_H

#include "../base/arena.h"
#include "../base/buf.h"
#include "filter.h"
#include "parse.h"

#define BSF_MAX_NESTED_RELS 6
#define BSF_MAX_JOINS 48
/* Deepest parenthesis nesting allowed in the SQL produced. SQLite's
 * parser has a fixed stack (100 entries) that overflows around 25 levels
 * of the constructs the compiler emits; the margin is for the caller's
 * own statement around the condition. */
#define BSF_MAX_SQL_DEPTH 20

enum { BSF_SCOPE_WHERE = 1, BSF_SCOPE_SORT = 2 };

/* How an operand takes part in = and != (PocketBase's NullFallback). */
enum {
    BSF_NF_AUTO,     /* NULL and '' are the same */
    BSF_NF_OFF,      /* compare with IS / IS NOT only (JSON values) */
    BSF_NF_FORCE     /* never treat as a known non-empty value */
};

typedef struct bsf_join {
    const char *key;             /* identity of what is joined, from where */
    const char *alias;           /* unique alias, unquoted */
    const char *sql;             /* "LEFT JOIN ... AS "alias" ON ..." */
    const bs_collection *coll;   /* the collection joined, or NULL */
    unsigned scopes;             /* BSF_SCOPE_* bits of the users */
    bool dup;                    /* may match several rows */
    bool check_rule;             /* limited by coll's list rule */
    int p0, np;                  /* parameters of its ON condition */
    /* A single relation of the main table: "main"."field", compared with
     * the joined row's id in the ON condition (else NULL). */
    const char *root_src;
} bsf_join;

/* A subquery producing one row per value of a multi-valued operand:
 * SELECT <value> FROM <from>. */
typedef struct bsf_mm {
    const char *from;
    const char *value;
} bsf_mm;

typedef struct bsf_operand {
    const char *sql;
    int nf;                  /* BSF_NF_* */
    const int *vp;           /* indexes of the parameters holding the */
    int nvp;                 /* operand's value */
    const bsf_mm *mm;        /* several values: all must match */
    const char *ev_alias;    /* check this alias's emailVisibility */
    bool negate;             /* wrap the comparison in NOT (...) */
} bsf_operand;

struct bs_filter_query {
    bs_filter_ctx ctx;
    const bs_sql_dialect *d;
    const char *alias;           /* main table alias */
    bs_arena arena;
    int first_param;
    bs_filter_value *params;
    int nparams;
    int cap_params;
    bsf_join *joins;
    int njoins;
    int cap_joins;
    bs_buf cond;                 /* condition fragments, ANDed */
    bs_buf cond_sort;            /* list rule checks of sort joins */
    bs_buf order;
    int nsort;
    int seq;                     /* for unique alias suffixes */
    bool finished;
    bool failed;                 /* a call failed: only free is left */
    bool oom;
    bs_buf out_where;
    bs_buf out_where_scan;
    bs_buf out_joins;
    bs_filter_sql out;
    char reason[320];            /* why the last call failed */
};

typedef struct bsf_pass {
    bs_filter_query *q;
    const bs_collection *base;
    const char *base_alias;
    const char *suffix;          /* appended to root join aliases and keys */
    bool allow_hidden;
    unsigned scope;
} bsf_pass;

/* Records why compilation failed; returns BS_EINVAL. */
int bsf_fail(bs_filter_query *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Marks the query out of memory; returns BS_ENOMEM. */
int bsf_nomem(bs_filter_query *q);

/* Copies a finished buffer into the arena (NULL when out of memory,
 * also when the buffer itself ran out) and resets it. */
char *bsf_take(bs_filter_query *q, bs_buf *b);

/* New bound parameters; return the index or -1 when out of memory. */
int bsf_param_text(bs_filter_query *q, const char *s, size_t n);
int bsf_param_real(bs_filter_query *q, double d);
int bsf_param_int(bs_filter_query *q, int64_t i, bool boolean);

/* Appends the placeholder of parameter idx. */
void bsf_placeholder(bs_filter_query *q, bs_buf *b, int idx);

/* Appends "alias"."column" quoted. */
void bsf_column(bs_filter_query *q, bs_buf *b, const char *alias,
                const char *column);

/* Finds the join with this key, or adds one aliased want_alias (made
 * unique) for which the caller then sets sql, coll and dup (*fresh is
 * true). Either way the join is marked as used by the pass's scope and,
 * when the pass is not allowed hidden fields and coll is a collection,
 * limited by coll's list rule; a collection without list rule is an
 * error then. Returns NULL with the query failed. */
bsf_join *bsf_join_get(bsf_pass *p, const char *key, const char *want_alias,
                       const bs_collection *coll, bool *fresh);

/* Resolves one operand of a comparison. */
int bsf_resolve(bsf_pass *p, const bs_fopd *o, bsf_operand *out);

/* Resolves a field path alone (the sort terms). */
int bsf_resolve_field(bsf_pass *p, const char *name, bsf_operand *out);

/* An operand whose value is parameter idx (inside LOWER() when lower);
 * idx < 0 (a failed allocation) returns BS_ENOMEM. */
int bsf_op_param(bs_filter_query *q, bsf_operand *o, int idx, bool lower);

/* Resolves a date macro; *matched is false for other names. */
int bsf_resolve_macro(bsf_pass *p, const char *name, bsf_operand *out,
                      bool *matched);

/* Resolves a function call (geoDistance, strftime). */
int bsf_resolve_func(bsf_pass *p, const bs_fopd *o, bsf_operand *out);

/* Appends the SQL of a tree. */
int bsf_build(bsf_pass *p, const bs_fnode *n, bs_buf *out);

/* Appends the SQL of `l op r` for resolved operands. */
int bsf_build_cmp(bsf_pass *p, const bsf_operand *l, bs_fop op, bool any,
                  const bsf_operand *r, bs_buf *out);

/* A field of a collection by name (a copy of its bs_finfo); false when
 * there is none. */
typedef bs_finfo bsf_field;

bool bsf_field_get(const bs_collection *c, const char *name, bsf_field *f);

/* Finds a collection by id or name the way PocketBase's resolver does. */
const bs_collection *bsf_collection(bs_filter_query *q, const char *key);

#endif
