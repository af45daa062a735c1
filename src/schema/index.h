/*
 * index.h - collection index definitions: parsing and rebuilding the
 * "CREATE [UNIQUE] INDEX" texts kept in a collection's `indexes` list.
 *
 * PocketBase stores each index as the SQL text its user typed and, when
 * it applies one, parses it loosely and rebuilds it with the table name
 * forced to the collection's. The parser here follows PocketBase's
 * (tools/dbutils/index.go) observable behaviour, quirks included: the
 * column list runs to the last ')' of the text, a WHERE clause follows
 * it, and identifiers lose their quotes.
 */
#ifndef BS_INDEX_H
#define BS_INDEX_H

#include <stdbool.h>

#include <json-c/json.h>

#include "../base/buf.h"

#define BS_INDEX_MAX_COLUMNS 32

typedef struct bs_index_column {
    char *name;     /* identifier or expression */
    char *collate;  /* "" when none */
    char *sort;     /* "ASC", "DESC" or "" */
} bs_index_column;

typedef struct bs_index {
    bool unique;
    bool optional;        /* IF NOT EXISTS */
    char *schema_name;    /* "" when none */
    char *index_name;
    char *table_name;
    char *where;          /* "" when none */
    int ncolumns;
    bs_index_column columns[BS_INDEX_MAX_COLUMNS];
} bs_index;

/* Parses sql into idx (always initialized; free with bs_index_dispose).
 * A text that does not look like CREATE INDEX leaves idx empty, which
 * bs_index_valid reports. Returns 0 or BS_ENOMEM. */
int bs_index_parse(const char *sql, bs_index *idx);
void bs_index_dispose(bs_index *idx);

/* Whether the index has a name, a table and at least one column. */
bool bs_index_valid(const bs_index *idx);

/* Replaces one of the name strings (a copy of value is kept). */
int bs_index_set(char **slot, const char *value);

/* Appends the canonical CREATE INDEX text (PocketBase's Index.Build):
 * backticked names, one column per line when there are several. Nothing
 * is appended for an invalid index. */
void bs_index_build(const bs_index *idx, bs_buf *out);

/* Splits s at any of the separator characters in seps that stand
 * outside quotes ('...', "...", `...`) and parentheses, the way
 * PocketBase's tokenizer does: a backslash keeps the next character from
 * opening or closing anything, each piece is trimmed of the whitespace
 * characters that are not separators, empty pieces are dropped, and with
 * keep_sep a piece keeps the separator that ended it. Returns 0 with a
 * NULL-terminated array of strings (free with bs_sql_split_free), or
 * BS_EINVAL for unbalanced quotes or parentheses, or BS_ENOMEM. */
int bs_sql_split(const char *s, const char *seps, bool keep_sep,
                 char ***out);
void bs_sql_split_free(char **parts);

/* Whether sql is a UNIQUE index on exactly the one column `column`
 * (compared case-insensitively). The one test of this in the tree:
 * fields, auth lookups and the filter all ask here. */
bool bs_index_is_single_unique(const char *sql, const char *column);

/* Like bs_index_is_single_unique for any index of a collection's
 * `indexes` array; *nocase (may be NULL) tells whether that column is
 * declared COLLATE NOCASE. Non-string items are skipped. */
bool bs_indexes_single_unique(const json_object *indexes, const char *column,
                              bool *nocase);

#endif
