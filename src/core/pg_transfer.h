/*
 * pg_transfer.h - moving a pb_data between SQLite and PostgreSQL:
 * `basalt pg export` and `basalt pg import` (docs/scale.md, "export and
 * import").
 *
 * Export copies every table of data.db (into the PostgreSQL schema
 * "public") and of auxiliary.db (into the schema "auxiliary") with the
 * column mapping of docs/scale.md, recreates what indexes and views it
 * can, keeps SQLite's own schema text and the files of pb_data/storage
 * in the schema "basalt_export", and checks each table's row count and
 * checksum on both sides before it commits its one transaction. Import
 * writes a new pb_data from such a database and checks the same counts
 * and checksums on the new files.
 *
 * Both run on the calling thread, open their own connections and take
 * no app. An import writes a directory nobody serves; an export reads
 * one consistent snapshot (a read transaction on each file).
 */
#ifndef BS_PG_TRANSFER_H
#define BS_PG_TRANSFER_H

#include "basalt.h"

/* Receives one line of progress or of a notice (a view or an index not
 * recreated, with the reason). */
typedef void (*bs_pg_say_fn)(void *user, const char *line);

typedef struct bs_pg_transfer {
    const char *dir;  /* the pb_data directory */
    const char *url;  /* the PostgreSQL connection URL */
    bs_pg_say_fn say; /* may be NULL */
    void *user;
} bs_pg_transfer;

/* SQLite pb_data -> PostgreSQL. Refuses a database that already holds
 * any of the tables (or an export) before it writes anything; any later
 * failure, a checksum mismatch included, rolls the whole export back.
 * Returns 0 or a negative code with err set. */
int bs_pg_export(const bs_pg_transfer *t, bs_error *err);

/* PostgreSQL -> a new pb_data in t->dir, which must not hold a data.db.
 * On failure the files it created are removed. Returns 0 or a negative
 * code with err set. */
int bs_pg_import(const bs_pg_transfer *t, bs_error *err);

#endif
