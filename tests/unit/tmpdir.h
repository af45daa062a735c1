/*
 * tmpdir.h - temporary data directories for unit tests that open a
 * store or an app. Each test file includes this once.
 */
#ifndef BS_TEST_TMPDIR_H
#define BS_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Creates a fresh folder under $TMPDIR (or /tmp) into out. */
static inline int tmpdir_make(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, n, "%s/bs_unit_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(out) ? 0 : -1;
}

static inline int tmpdir_rm_one(const char *path, const struct stat *sb,
                                int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the folder and everything in it. */
static inline void tmpdir_remove(const char *dir)
{
    nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
