/*
 * conn.h - one database connection of the store. Internal to src/db:
 * store.c owns connections, rows.c reads through them.
 *
 * A connection is SQLite's (db set, with its statement caches) or
 * PostgreSQL's (pg set, db NULL); the row reader tests pg once per
 * call, a branch that is always taken the same way in a process.
 */
#ifndef BS_CONN_H
#define BS_CONN_H

#include <sqlite3.h>
#include <stdint.h>

#include "../base/stats.h"
#include "store_pg.h"

#define BS_CONN_CACHE_SLOTS 256
/* Statements of SQL built at run time (per collection, per filter),
 * kept by their text with least-recently-used replacement. */
#define BS_CONN_DYN_SLOTS 64

typedef struct bs_conn_slot {
    const char *sql;
    uint64_t hash;
    sqlite3_stmt *stmt;
} bs_conn_slot;

typedef struct bs_conn_dyn {
    char *sql;           /* owned copy of the text */
    size_t len;
    uint64_t hash;
    uint64_t last_used;
    sqlite3_stmt *stmt;
} bs_conn_dyn;

struct bs_conn {
    sqlite3 *db;
    bs_pgconn *pg;        /* a PostgreSQL connection instead of db */
    int64_t deadline_ms;  /* readers: queries past this are interrupted */
    struct bs_conn *next_free; /* reader pool free list */
    bs_counter hits, misses;   /* statement cache lookups (owner-written) */
    bs_conn_slot cache[BS_CONN_CACHE_SLOTS];
    int cached;
    bs_conn_dyn dyn[BS_CONN_DYN_SLOTS];
    uint64_t clock;
};

#endif
