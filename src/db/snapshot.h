/*
 * snapshot.h - consistent copies of a live database that never block its
 * writers, and integrity checks of database files.
 *
 * A snapshot is taken by a connection of its own that opens a read
 * transaction on the source and copies every page to the destination
 * with SQLite's online backup API, a batch of pages at a time. In WAL
 * mode a reader never blocks the writer, and because the read
 * transaction stays open for the whole copy, the copy is of one commit:
 * writes made meanwhile go to the WAL and are simply not in it (the
 * backup never restarts). The cost is a WAL that cannot be reset until
 * the copy ends.
 */
#ifndef BS_DB_SNAPSHOT_H
#define BS_DB_SNAPSHOT_H

#include <stddef.h>

/* Copies the database at src (which may be in use by this and other
 * processes) into a new file dst (replaced when it exists). Returns 0,
 * or BS_EDB with SQLite's reason in msg (cap bytes). Blocking; any
 * thread. */
int bs_db_snapshot(const char *src, const char *dst, char *msg, size_t cap);

/* Opens the database file at path and runs PRAGMA integrity_check.
 * Returns 0 when SQLite answers "ok", else BS_EDB with the first problem
 * (or why the file does not open as a database) in msg. The file's
 * directory must be writable (a WAL-mode file gets its -wal and -shm
 * beside it while open; they are gone again when this returns). */
int bs_db_check_file(const char *path, char *msg, size_t cap);

#endif
