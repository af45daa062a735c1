/*
 * files.h - the file storage of record file fields, laid out as
 * PocketBase lays it out so an existing pb_data/storage keeps serving:
 *
 *   <data_dir>/storage/<collectionId>/<recordId>/<name>
 *   <data_dir>/storage/<collectionId>/<recordId>/<name>.attrs
 *   <data_dir>/storage/<collectionId>/<recordId>/thumbs_<name>/<size>_<name>
 *
 * The .attrs sidecar is the JSON gocloud's fileblob driver writes (the
 * sniffed content type, the original file name, the MD5). Uploads are
 * spooled to <data_dir>/storage/.tmp while the request body arrives and
 * renamed into place by the record save (record.c), so a stored file is
 * never half-written.
 *
 * Every path component here is checked with bs_files_name_valid (or is
 * a collection or record id, checked the same way) before it touches the
 * file system. Any thread.
 */
#ifndef BS_FILES_H
#define BS_FILES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basalt.h"
#include "s3.h"

typedef struct bs_upload bs_upload;

/* The default maxSize of a file field: 5 MB (PocketBase's 5<<20). */
#define BS_FILE_DEFAULT_MAX_SIZE ((int64_t)5 << 20)

/* The spool directory of uploads under the data directory. */
#define BS_FILES_TMP "storage/.tmp"

/* A file field's maxSize (its default when unset). */
int64_t bs_files_max_size(const json_object *field);

/* Whether name may be a stored file name (or an id used as a path
 * component): 1-150 bytes, no '/' or '\\', not starting with '.', no
 * control characters. */
bool bs_files_name_valid(const char *name);

/* PocketBase's stored name for a client-side file name: the last path
 * element, its (double) extension cleaned (or ext_fallback when none is
 * left, e.g. ".png" from the sniffed type), the base snake_cased
 * (padded with random characters under 3, cut at 100), then "_", the
 * 10 characters of suffix and the extension. out must hold 160 bytes.
 * bs_files_new_name draws the suffix at random from [a-z0-9]. */
void bs_files_normalize_name(const char *orig, const char *ext_fallback,
                             const char *suffix, char out[160]);
int bs_files_new_name(const char *orig, const char *ext_fallback,
                      char out[160]);

/* The content type of an upload, sniffed from its content (libmagic),
 * in the form PocketBase stores ("image/png", "text/plain;
 * charset=utf-8"). out must hold 128 bytes. */
void bs_files_sniff(const bs_upload *u, char out[128]);

/* An extension (".png") for a content type, or "" when unknown. */
const char *bs_files_ext_for_type(const char *type);

/* Whether type is allowed by a field's mimeTypes (an array; empty or
 * missing allows everything). A type matches itself and its parents
 * (application/json is text/plain, as in PocketBase's detector). */
bool bs_files_type_allowed(const json_object *mime_types, const char *type);

/* Whether a file field's value (a name, or an array of names) names
 * name. */
bool bs_files_value_has(const json_object *v, const char *name);

/* Builds "<data_dir>/storage/<a>[/<b>[/<c>]]" into out. Returns false
 * when a component is not a valid name or it does not fit. */
bool bs_files_path(bs_app *app, char *out, size_t cap, const char *a,
                   const char *b, const char *c);

/* Moves an upload into place as <collection>/<record>/<name> with its
 * .attrs sidecar (type, the client-side name, the MD5). A spooled upload
 * is renamed (its path then NULL); one held in memory is written.
 * Returns 0, BS_EINVAL (a bad name) or BS_EIO. */
int bs_files_put(bs_app *app, const char *collection, const char *record,
                 const char *name, bs_upload *u, const char *type);

/* Stores a buffer the same way (thumbnails, downloaded avatars). */
int bs_files_put_data(bs_app *app, const char *path, const void *data,
                      size_t len, const char *type, const char *orig);

/* Removes a stored file, its sidecar and its thumbs_ folder. */
void bs_files_remove(bs_app *app, const char *collection, const char *record,
                     const char *name);

/* Removes a record's or a whole collection's folder (record NULL). */
void bs_files_remove_dir(bs_app *app, const char *collection,
                         const char *record);

/* The content type recorded in a stored file's .attrs sidecar (path is
 * the file's own path), or "" when there is none. out holds 128. */
void bs_files_read_type(const char *path, char out[128]);

/* Whether record files live on S3 (settings.s3.enabled): then *out
 * holds the configuration (freed with bs_s3_dispose). bs_files_put,
 * bs_files_remove and bs_files_remove_dir store to and remove from S3
 * themselves, with the keys of the local layout. */
bool bs_files_s3(bs_app *app, bs_s3 *out);

/* The storage key "<a>/<b>[/<c>]" (each a valid name) into out. */
bool bs_files_key(char *out, size_t cap, const char *a, const char *b,
                  const char *c);

/* Creates the spool directory and empties it of files a crash left
 * behind. Returns 0 or BS_EIO. */
int bs_files_init_tmp(bs_app *app);

#endif
