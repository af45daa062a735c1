/*
 * fts.h - full-text search on SQLite's FTS5: the index table of a
 * collection, the triggers that keep it in step with the collection's
 * table, and the checker that turns a client's search text into a
 * query FTS5 accepts.
 *
 * The index of a collection is an external-content FTS5 table named
 * `_fts_<collection id>` over the searchable columns of its table. Three
 * triggers on the table (AFTER INSERT, UPDATE OF the columns, DELETE)
 * write the index in the statement's own transaction, so every writer
 * keeps it current and a rolled-back write leaves no trace in it.
 */
#ifndef BS_FTS_H
#define BS_FTS_H

#include <stddef.h>

#include "../base/buf.h"
#include "basalt.h"

struct bs_conn;

/* Appends the quoted name of the index table of a collection. */
void bs_fts_table(bs_buf *b, const char *collection_id);

/* Appends the statements that create the index of table over cols (n of
 * them, n >= 1) and its triggers, then fill it from the table's rows. */
void bs_fts_create_sql(bs_buf *b, const char *collection_id,
                       const char *table, const char *const *cols, int n);

/* Appends the statements that drop the index and triggers, if any. */
void bs_fts_drop_sql(bs_buf *b, const char *collection_id);

/* Runs those statements on conn (inside the caller's transaction).
 * Return 0 or BS_EDB with the engine's message in msg. */
int bs_fts_create(struct bs_conn *conn, const char *collection_id,
                  const char *table, const char *const *cols, int n,
                  char *msg, size_t cap);
int bs_fts_drop(struct bs_conn *conn, const char *collection_id, char *msg,
                size_t cap);

/* Appends the statement that makes snippets of one index column (0-based
 * among the index's columns) for up to nids records of table: its
 * parameters are the FTS5 query, then the nids record ids; its rows are
 * (id, snippet) with the matches between the bytes 0x02 and 0x03 and
 * at most tokens words (1-64). */
void bs_fts_snippet_sql(bs_buf *b, const char *collection_id,
                        const char *table, int column, int tokens, int nids);

/* The longest search text accepted, in bytes, and the most terms. */
#define BS_FTS_MAX_QUERY 1024
#define BS_FTS_MAX_TERMS 64

/* Checks a client's search text and writes the FTS5 query for it into
 * out. Accepted: words (each searched as a quoted token string), "quoted
 * phrases", a trailing * for a prefix, AND, OR and NOT (upper case, FTS5's
 * precedence: NOT, then AND, then OR), parentheses, and words side by
 * side (AND). Everything else FTS5 knows (column filters `col:`, `^`,
 * `+`, NEAR groups, `{...}`) is refused. Returns 0, or BS_EINVAL with a
 * short reason in msg (cap bytes). */
int bs_fts_query_check(const char *text, bs_buf *out, char *msg, size_t cap);

#endif
