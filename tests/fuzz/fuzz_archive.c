/*
 * fuzz_archive.c - the archive checks of a restore: whatever the bytes,
 * an entry name bs_archive_name_ok accepts resolves inside the target
 * folder (walking its components never climbs above the root, none is
 * empty, "." or ".."; no NUL, backslash or leading '/'); and the bytes
 * as a zip file are either refused or extracted, never crash, with
 * every extracted file below the fresh target folder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/util.h"
#include "basalt.h"
#include "core/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s, size_t n)
{
    if (!bs_archive_name_ok(s, n))
        return;
    if (n == 0 || s[0] == '/' || memchr(s, '\0', n) || memchr(s, '\\', n))
        abort();
    size_t start = 0, end = s[n - 1] == '/' ? n - 1 : n;
    for (size_t i = 0; i <= end; i++) {
        if (i < end && s[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0 || (len == 1 && s[start] == '.') ||
            (len == 2 && s[start] == '.' && s[start + 1] == '.'))
            abort();
        start = i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_name((const char *)data, size);
    if (size < 4 || memcmp(data, "PK", 2) != 0)
        return 0;
    char dir[] = "/tmp/fuzz_archive_XXXXXX";
    if (!mkdtemp(dir))
        return 0;
    char zip[64], out[64], msg[300];
    snprintf(zip, sizeof zip, "%s/in.zip", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(zip, "wb");
    if (f) {
        fwrite(data, 1, size, f);
        fclose(f);
        bs_archive_limits lim = {.max_total = 1 << 20, .max_entries = 64,
                                 .ratio_floor = 1 << 16, .max_ratio = 100};
        bs_archive_extract(zip, out, &lim, msg, sizeof msg);
    }
    bs_remove_tree(AT_FDCWD, dir);
    return 0;
}
