/*
 * pg_sql.h - the SQL text and the values of the PostgreSQL store.
 *
 * The layers above write their statements once, in the words both
 * engines share; what PostgreSQL spells differently is rewritten here,
 * token by token, before a statement is prepared:
 *  - `?N` and `?` placeholders become `$N` (a bare `?` takes the number
 *    after the largest one so far, as in SQLite); `$N` stays;
 *  - a `backquoted` name becomes a "quoted" one;
 *  - the words _rowid_ and rowid become "_rowid", the identity column
 *    that every table of the store has in place of SQLite's rowid;
 *  - `==` becomes `=`;
 *  - INSERT OR IGNORE becomes INSERT ... ON CONFLICT DO NOTHING;
 *  - a bare name with both capital and small letters (listRule) is
 *    quoted, so that it keeps its case as in SQLite;
 *  - COLLATE NOCASE becomes COLLATE "bs_nocase", a case-insensitive
 *    collation that the store creates;
 * and text inside string literals and comments is copied as it is. The
 * rewriting also records which parameters the text uses, so that one it
 * does not use can be declared as text (PostgreSQL refuses a parameter
 * whose type nothing decides).
 *
 * Values come back as text with the column's type; bs_pg_col_kind maps
 * them onto the types a SQLite row would have: integers, booleans (as
 * 0/1) and numbers with an integral value as integers, other numbers as
 * reals, everything else as text.
 */
#ifndef BS_PG_SQL_H
#define BS_PG_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "rows.h"

/* The most parameters one statement may take. */
#define BS_PG_MAX_PARAMS 1024

/* Appends the PostgreSQL form of len bytes of sql to out. When used is
 * not NULL, used[n-1] is set for each parameter $n the text names (n up
 * to cap). Returns the number of parameters (the largest placeholder
 * number), or -1 when a placeholder is beyond BS_PG_MAX_PARAMS. */
int bs_pg_sql_translate(const char *sql, size_t len, bs_buf *out,
                        bool *used, int cap);

/* PostgreSQL's type oids that the store reads. */
enum {
    BS_PG_BOOL = 16,
    BS_PG_INT8 = 20,
    BS_PG_INT2 = 21,
    BS_PG_INT4 = 23,
    BS_PG_TEXT = 25,
    BS_PG_OID = 26,
    BS_PG_FLOAT4 = 700,
    BS_PG_FLOAT8 = 701,
    BS_PG_NUMERIC = 1700,
    BS_PG_BYTEA = 17
};

/* The kind of a value of type oid whose text is v (NULL for SQL NULL),
 * as SQLite would report it, with its integer and real readings in *i
 * and *d (either may be NULL). */
bs_col_type bs_pg_col_kind(unsigned oid, const char *v, int64_t *i,
                           double *d);

#endif
