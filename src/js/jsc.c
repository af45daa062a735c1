/*
 * jsc.c - the JavaScriptCore library, opened when the first context is
 * made (see jsc.h).
 */
#include "jsc.h"

#include <pthread.h>
#include <stdio.h>

#include "../base/dl.h"

/* The library's name at run time: the ABI of the javascriptcoregtk-4.1
 * package the headers come from. */
#define JSC_SONAME "libjavascriptcoregtk-4.1.so.0"

struct bsj_jsc bsj_jsc;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int result;
static char reason[512];

static void open_library(void)
{
#define SYM(name) {#name, (void **)&bsj_jsc.p_##name},
    static const bs_dl_sym syms[] = {BSJ_JSC_FUNCTIONS(SYM)};
#undef SYM
    result = bs_dl_load(JSC_SONAME, syms, sizeof syms / sizeof syms[0],
                        reason, sizeof reason);
}

int bsj_jsc_open(char *msg, size_t cap)
{
    pthread_once(&once, open_library);
    if (result)
        snprintf(msg, cap, "Cannot start the JavaScript engine: %s",
                 reason);
    return result;
}
