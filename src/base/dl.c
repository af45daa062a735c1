/*
 * dl.c - optional shared libraries opened on first use (see dl.h).
 */
#include "dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int bs_dl_load(const char *soname, const bs_dl_sym *syms, size_t n,
               char *msg, size_t cap)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(msg, cap, "%s", why ? why : soname);
        return -1;
    }
    void **found = calloc(n ? n : 1, sizeof *found);
    if (!found) {
        snprintf(msg, cap, "%s: out of memory", soname);
        dlclose(lib);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        found[i] = dlsym(lib, syms[i].name);
        if (!found[i]) {
            snprintf(msg, cap, "%s has no function %s", soname,
                     syms[i].name);
            rc = -1;
            goto end;
        }
    }
    for (size_t i = 0; i < n; i++)
        *syms[i].slot = found[i];
end:
    free(found);
    if (rc)
        dlclose(lib);
    return rc;
}
