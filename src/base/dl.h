/*
 * dl.h - optional shared libraries opened on first use.
 *
 * A library that only some deployments need (the image library, when a
 * thumb is asked for) is not linked into the program: mapping it at start-up costs resident memory
 * for its relocations, its constructors and the libraries it pulls in,
 * even when nothing calls it. Its user lists the functions it calls in a
 * table and opens the library the first time it needs one of them.
 */
#ifndef BS_DL_H
#define BS_DL_H

#include <stddef.h>

/* One function of a library: its name, and where its address goes. */
typedef struct {
    const char *name;
    void **slot;
} bs_dl_sym;

/* Opens the library soname and sets every slot of syms[0..n) to the
 * address of its name. All or nothing: returns 0, or -1 with the reason
 * in msg (cap bytes, NUL-terminated) when the library or one of the
 * names is missing, in which case the library is closed again and no
 * slot is changed. The library stays open for the life of the process.
 * Callers make sure one thread loads a given table (pthread_once). */
int bs_dl_load(const char *soname, const bs_dl_sym *syms, size_t n,
               char *msg, size_t cap);

#endif
