/*
 * backup.h - backups of pb_data: the backups store (pb_data/backups or
 * S3 when settings.backups.s3 is enabled), creating a backup without
 * stalling writers, restoring one safely, and the scheduled backups.
 *
 * One backup or restore runs at a time per app (bs_backup_active).
 * Creating: each database is copied by an online snapshot (src/db/
 * snapshot.h) into a temp folder, and the snapshots plus the rest of
 * pb_data are zipped (archive.h) with PocketBase's layout (data.db,
 * auxiliary.db, storage/...), then stored. Writers wait for nothing.
 * Restoring: the archive is fetched, checked and extracted into a temp
 * folder inside pb_data, its data.db (and auxiliary.db) must pass an
 * integrity check, and only then is pb_data's content moved aside and
 * the new content moved in, with the writers held; the process then
 * restarts in place (execve of /proc/self/exe with the same arguments).
 * Any failure before the restart leaves the old data in place.
 */
#ifndef BS_BACKUP_H
#define BS_BACKUP_H

#include <json-c/json.h>
#include <stdbool.h>

#include "basalt.h"
#include "s3.h"

/* The folders inside pb_data: local backups, and the temp folder that
 * is emptied when the server starts. */
#define BS_BACKUPS_DIR "backups"
#define BS_BACKUP_TEMP_DIR ".pb_temp_to_delete"
#define BS_BACKUP_AUTO_PREFIX "@auto_pb_backup_"
#define BS_BACKUP_CRON_ID "__pbAutoBackup__"

/* Where backups are kept: the local folder, or S3. */
typedef struct bs_backups_fs {
    bs_app *app;
    bool s3_on;
    bs_s3 s3;
    char dir[4096];     /* pb_data/backups */
} bs_backups_fs;

/* Opens the store the current settings name. Any thread. */
void bs_backups_fs_open(bs_app *app, bs_backups_fs *fs);
void bs_backups_fs_close(bs_backups_fs *fs);

/* Whether key is a name a backup may have in the store: a plain file
 * name (no '/', no leading '.', no control characters), 1-255 bytes. */
bool bs_backup_key_ok(const char *key);

/* Whether name is valid for POST /api/backups: ^[a-z0-9_-]+\.zip$,
 * at most 150 characters. */
bool bs_backup_name_valid(const char *name);

/* The backups whose key starts with prefix ("" for all), as
 * [{key, size, modified}] sorted by key. NULL on an error (msg). */
json_object *bs_backups_list(bs_backups_fs *fs, const char *prefix,
                             char *msg, size_t cap);

/* 1 when key exists, 0 when not, BS_EIO when the store fails. */
int bs_backups_exists(bs_backups_fs *fs, const char *key);

/* Deletes key. 0, BS_ENOTFOUND or BS_EIO (msg). */
int bs_backups_delete(bs_backups_fs *fs, const char *key, char *msg,
                      size_t cap);

/* Stores the file at path as key; a local file is moved (renamed), so
 * path is gone afterwards in either case. 0 or BS_EIO (msg). */
int bs_backups_put(bs_backups_fs *fs, const char *key, const char *path,
                   char *msg, size_t cap);

/* The default name of a new backup: <prefix><snake case app name, at
 * most 50 characters>_<UTC YYYYMMDDHHMMSS>.zip. */
void bs_backup_default_name(bs_app *app, const char *prefix, char *out,
                            size_t cap);

/* The key of the backup or restore running now copied into out ("" when
 * it has no name yet); false when none runs. Any thread. */
bool bs_backup_active(bs_app *app, char *out, size_t cap);

/* Creates a backup named name (NULL or "": the default name) through the
 * BS_ON_BACKUP_CREATE hook; returns when it is stored. 0; BS_EBUSY when
 * another backup or restore runs; else an error with err's message.
 * Blocking, never on a thread inside a transaction. */
int bs_backup_create(bs_app *app, const char *name, bs_error *err);

/* Starts the same on the app's worker pool and returns at once: 0 when
 * it runs (done(user, rc) is then called on the pool's thread once the
 * backup is stored or failed, err filled as bs_backup_create fills it,
 * after the operation has ended); else an error in err (the 400 of
 * bs_backup_create when another backup or restore runs) and done is never
 * called. err and user must stay valid until done. */
int bs_backup_start(bs_app *app, const char *name, bs_error *err,
                    void (*done)(void *user, int rc), void *user);

/* Restores the backup key through the BS_ON_BACKUP_RESTORE hook. On
 * success the process is replaced and this does not return; otherwise
 * the data is untouched and the error is returned (and logged).
 * BS_EBUSY when another backup or restore runs. Blocking. */
int bs_backup_restore(bs_app *app, const char *key, bs_error *err);

/* Registers __pbAutoBackup__ when settings.backups.cron is set, removes
 * it otherwise; bound to the bootstrap and settings reload hooks by
 * bs_backup_bind, which bs_app_new calls. */
int bs_backup_bind(bs_app *app);

/* Empties pb_data's temp folder (left-overs of earlier backups,
 * restores and the data a restore replaced). Serve calls it. */
void bs_backup_clean_temp(bs_app *app);

#endif
