/*
 * fuzz_dict.h - lets a fuzz driver use the dictionary next to its source.
 *
 * `make fuzz` runs each driver with only its corpus folder. libFuzzer
 * calls LLVMFuzzerInitialize before it parses its flags, so a driver can
 * append "-dict=tests/fuzz/<name>.dict" to argv there when the file
 * exists and no dictionary was given on the command line.
 */
#ifndef BS_FUZZ_DICT_H
#define BS_FUZZ_DICT_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void fuzz_add_dict(int *argc, char ***argv, const char *path)
{
    for (int i = 1; i < *argc; i++) {
        if (strncmp((*argv)[i], "-dict=", 6) == 0)
            return;
    }
    if (access(path, R_OK) != 0)
        return;
    /* Leaked on purpose: libFuzzer keeps argv for the whole run. */
    char **nv = calloc((size_t)*argc + 2, sizeof(char *));
    char *flag = malloc(strlen(path) + 7);
    if (!nv || !flag)
        return;
    strcpy(flag, "-dict=");
    strcat(flag, path);
    nv[0] = (*argv)[0];
    nv[1] = flag;
    for (int i = 1; i < *argc; i++)
        nv[i + 1] = (*argv)[i];
    *argc += 1;
    *argv = nv;
}

#endif
