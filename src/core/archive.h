/*
 * archive.h - zip archives of a directory, and their safe extraction.
 *
 * Creating: the regular files under a directory (symbolic links and
 * other special files are skipped), minus excluded paths, plus extra
 * files placed under names of their own, go into a zip with Deflate at
 * its fastest level. libzip reads each file from disk while it writes
 * the archive, so memory stays bounded whatever the sizes.
 *
 * Extracting: the whole central directory is checked before anything is
 * written: every name relative and inside the target (no leading '/',
 * no "..", "." or empty components, no backslashes), no symbolic links
 * or special files, only the Store and Deflate methods, at most
 * max_entries entries, and the declared sizes within the limits (the
 * total; and the ratio of the total to the archive's own size, which no
 * honest pb_data approaches but every zip bomb exceeds). While
 * extracting, an entry that inflates past its declared size stops the
 * extraction. A failed extraction leaves a partial target directory for
 * the caller to remove.
 */
#ifndef BS_ARCHIVE_H
#define BS_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A file put into an archive under another name. */
typedef struct bs_archive_extra {
    const char *name;   /* the name inside the archive */
    const char *path;   /* the file on disk */
} bs_archive_extra;

/* Writes the zip dst from dir's files. exclude holds paths relative to
 * dir ("backups", "storage/.tmp"): an entry equal to one of them or
 * under it is left out. Returns 0, or BS_EIO with a reason in msg; dst
 * is removed on failure. Blocking; any thread. */
int bs_archive_create(const char *dst, const char *dir,
                      const char *const *exclude, size_t nexclude,
                      const bs_archive_extra *extra, size_t nextra,
                      char *msg, size_t cap);

typedef struct bs_archive_limits {
    uint64_t max_total;     /* bytes, all entries uncompressed */
    uint64_t max_entries;
    uint64_t ratio_floor;   /* totals up to this many bytes skip ... */
    uint64_t max_ratio;     /* ... the total / archive size check */
} bs_archive_limits;

/* The limits restores use: 1 TiB, a million entries, ratio 100 above
 * 256 MiB. */
extern const bs_archive_limits bs_archive_default_limits;

/* Whether name (len bytes, as stored in the archive) is a path that
 * stays inside the directory it is extracted to; a trailing '/' marks
 * a directory entry. */
bool bs_archive_name_ok(const char *name, size_t len);

/* Checks the zip at path against lim and extracts it into dst (created;
 * it must not exist). Returns 0, BS_EINVAL for an archive that is
 * refused (not a zip, a bad entry, over a limit; msg says which), or
 * BS_EIO. */
int bs_archive_extract(const char *path, const char *dst,
                       const bs_archive_limits *lim, char *msg, size_t cap);

#endif
