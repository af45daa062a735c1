/*
 * filter.h - PocketBase's filter and API rule language, compiled to SQL.
 *
 * A filter such as
 *
 *     author.name ~ 'ann' && (tags.name ?= "urgent" || views > 10)
 *
 * becomes a WHERE condition, the LEFT JOINs it needs and a list of bound
 * parameters; a sort such as `-created,author.name` becomes ORDER BY
 * terms. User text reaches SQL only as bound parameters; identifiers in
 * the SQL come only from the schema (collection and field names) or are
 * generated aliases, always quoted.
 *
 * Design. Text is tokenized (lex.c), parsed into a small tree (parse.c),
 * then each comparison is compiled (expr.c) after resolving its operands
 * against the schema (resolve.c, funcs.c): a field path becomes a column
 * of the main table or of a LEFT JOIN registered on the query,
 * `@request.*` and macros such as @now become bound values. The query
 * object (filter.c) gathers joins and parameters across fragments. All
 * SQL spelling goes through a dialect table (dialect.h).
 *
 * Semantics follow PocketBase v0.39 exactly where it is observable:
 *  - null and '' are the same: `a = ''` matches NULL and '', and `!=`
 *    is compiled with IS NOT so that NULL columns compare as values;
 *  - `~` wraps a literal in %...% unless it already holds an unescaped
 *    %, escaping \ % _ (LIKE ... ESCAPE '\');
 *  - an operand with several values (a multiple relation, select or file
 *    field, a back-relation, :each, @collection) means "every value must
 *    match" for the plain operators and "at least one" for the ?-forms.
 *    "Every" is compiled as the condition on the joined row AND a
 *    NOT EXISTS over a separately built subquery holding the values,
 *    testing the negated condition;
 *  - a query that is not allowed hidden fields (a client filter of a
 *    non-superuser) may not name hidden fields, sees `email` of auth
 *    records only where emailVisibility is on, and every collection it
 *    joins is limited by that collection's list rule (a NULL list rule
 *    forbids the join). The rule is compiled with the same context and
 *    ANDed into the condition, as PocketBase does.
 *
 * Joins. Conditions on the same joined path share one join, so
 * `tags.name ?= 'a' && tags.color ?= 'red'` asks for one tag that is
 * both (PocketBase's correlation). When a condition needs a join that
 * can match several rows per main row, the whole WHERE condition is
 * emitted as EXISTS (SELECT 1 FROM <one row> LEFT JOIN ... WHERE ...)
 * instead of PocketBase's main-query JOIN + DISTINCT: the same rows, no
 * duplicates, and ORDER BY keeps using the main table's indexes. Joins
 * needed by sort terms (and joins that never duplicate rows) go into
 * the main query; bs_filter_sql.distinct tells whether those can
 * duplicate main rows, so the caller adds DISTINCT or GROUP BY.
 *
 * Limits, as PocketBase: 200 comparisons per filter, 3500 bytes of
 * client filter text, 8 sort terms of 255 bytes, 6 nested relations,
 * functions nested 3 deep, strftime with 10 arguments. Basalt adds
 * limits where PocketBase would hand SQLite a statement it refuses: 10
 * levels of parentheses, SQL nested at most 20 parentheses deep (SQLite's
 * parser stack holds about 25) and 48 joins (SQLite joins 64 tables).
 *
 * Errors: a syntax or resolution error returns BS_EHTTP and fills the
 * bs_error with status 400 and a precise English reason (for example
 * `invalid left operand "nope" - unknown field "nope"`), meant for logs:
 * the records API answers with PocketBase's generic message instead.
 * Out of memory returns BS_ENOMEM.
 *
 * Threads: a bs_filter_query belongs to one thread at a time; the
 * schema and request data it borrows must not change while it lives.
 */
#ifndef BS_FILTER_H
#define BS_FILTER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../schema/schema.h"
#include "basalt.h"
#include "dialect.h"

#define BS_FILTER_MAX_LENGTH 3500   /* bytes of a client filter */
#define BS_FILTER_MAX_SORT 8        /* terms of a client sort */
#define BS_FILTER_MAX_SORT_FIELD 255

/* What a compilation may see. Everything is borrowed. */
typedef struct bs_filter_ctx {
    const bs_schema *schema;
    const bs_collection *collection; /* the main collection */
    /* The SQL name of the main table in the caller's FROM clause (an
     * alias or the table name); NULL means the collection name. Names
     * starting with "__bs_" are reserved for generated aliases. */
    const char *alias;
    /* The @request data, or NULL (then every @request.* is NULL):
     *   {"context":"default", "method":"GET",
     *    "headers":{"content_type":"..."}, (lowercase, '-' as '_')
     *    "query":{...}, "body":{...},
     *    "auth": null or the auth record with at least "id",
     *            "collectionId", "collectionName" (and "email",
     *            "emailVisibility", "verified" when rules use them)} */
    json_object *request;
    /* The requester is a superuser: its filters and sorts may use hidden
     * fields and join any collection. */
    bool superuser;
    /* SQL dialect; NULL means SQLite. */
    const bs_sql_dialect *dialect;
    /* Clock for @now and the other date macros, in Unix milliseconds;
     * 0 means the current time. */
    int64_t now_ms;
    /* The values of {:name} placeholders: an object, or NULL. Each
     * placeholder stands for one literal and is always bound as a
     * parameter: a string as text, a number as a number, true, false
     * and null as those literals, an array or object as its JSON text.
     * A placeholder without a value is an error. */
    json_object *params;
} bs_filter_ctx;

/* Flags of one fragment (bs_filter_add, bs_filter_add_sort). */
enum {
    /* Hidden fields and joins into any collection are allowed and no
     * list rule limits the joins: API rules (written by an admin),
     * internal queries. */
    BS_FILTER_ALLOW_HIDDEN = 1 << 0,
    /* Text from a client: length limits apply. */
    BS_FILTER_CLIENT = 1 << 1,
};

typedef enum bs_filter_type {
    BS_FILTER_NULL,
    BS_FILTER_INT,
    BS_FILTER_REAL,
    BS_FILTER_TEXT
} bs_filter_type;

/* A bound parameter. */
typedef struct bs_filter_value {
    bs_filter_type type;
    int64_t i;          /* INT */
    double d;           /* REAL */
    const char *s;      /* TEXT, NUL-terminated, owned by the query */
    size_t n;           /* TEXT length */
    bool boolean;       /* INT that came from a JSON true/false */
    bool like_wrapped;  /* internal: already turned into a LIKE pattern */
} bs_filter_value;

/* The compiled pieces, owned by the query (valid until it is freed). */
typedef struct bs_filter_sql {
    const char *where;  /* a condition, or "" for none */
    /* The same condition for a statement that reads every main row (a
     * list's total): a condition reached through one single relation of
     * the main table is decided there once per statement (an IN list of
     * related ids) instead of once per row. Binds the same parameters;
     * the same text as where when no such form applies. A statement that
     * stops early (a page, one row) is cheaper with where. */
    const char *where_scan;
    const char *joins;  /* "LEFT JOIN ... LEFT JOIN ...", or "" */
    const char *order;  /* "t1 DESC, t2 ASC", or "" */
    /* The joins can repeat a main row: select DISTINCT (or group by the
     * main table's id) and count distinct ids. */
    bool distinct;
    const bs_filter_value *params;
    int nparams;
    int first_param;    /* params[i] binds to placeholder first_param+i */
} bs_filter_sql;

typedef struct bs_filter_query bs_filter_query;

/* Starts compiling the conditions and sort of one SQL statement.
 * Placeholders are numbered from first_param (>= 1), so the caller can
 * bind its own parameters before. ctx is copied; what it points to is
 * borrowed for the query's life. Returns 0, BS_EINVAL or BS_ENOMEM. */
int bs_filter_query_new(bs_filter_query **out, const bs_filter_ctx *ctx,
                        int first_param);
void bs_filter_query_free(bs_filter_query *q);

/* ANDs the filter text[0..len) into the query's condition. An empty or
 * blank text is an error (as in PocketBase); callers skip "" rules and
 * filters themselves. After an error the query must only be freed. */
int bs_filter_add(bs_filter_query *q, const char *text, size_t len,
                  unsigned flags, bs_error *err);

/* Appends the sort terms of text[0..len): comma separated field paths,
 * '-' for descending, '+' or nothing for ascending, @random, @rowid. */
int bs_filter_add_sort(bs_filter_query *q, const char *text, size_t len,
                       unsigned flags, bs_error *err);

/* Shorthands for the records API: an API rule (hidden fields allowed),
 * and a client filter or sort (hidden fields only for a superuser). */
int bs_filter_add_rule(bs_filter_query *q, const char *rule, bs_error *err);
int bs_filter_add_client(bs_filter_query *q, const char *filter,
                         bs_error *err);
int bs_filter_add_client_sort(bs_filter_query *q, const char *sort,
                              bs_error *err);

/* Completes the query (adds the list rule conditions of joined
 * collections, decides where each join goes) and describes the result.
 * Nothing can be added afterwards; calling it again returns the same. */
int bs_filter_finish(bs_filter_query *q, bs_filter_sql *out, bs_error *err);

/* bs_filter_bind, which binds the parameters to a SQLite statement, is
 * declared in dialect.h. */

/* Compiles text as an API rule of collection c and discards the result:
 * the check run when a collection's rules are saved. */
int bs_filter_validate(const bs_schema *schema, const bs_collection *c,
                       const char *rule, bs_error *err);

#endif
