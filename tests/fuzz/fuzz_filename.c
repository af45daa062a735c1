/*
 * fuzz_filename.c - client file names and requested names: whatever the
 * bytes, the sanitized stored name is a valid single path component
 * (no separator, no leading dot, no control character, at most 150
 * bytes), and a name the path check accepts never builds a path outside
 * the record's folder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basalt.h"
#include "core/files.h"
#include "core/thumb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char out[160];
    bs_files_normalize_name(text, ".bin", "0123456789", out);
    if (!bs_files_name_valid(out))
        abort();
    if (bs_files_name_valid(text) &&
        (strchr(text, '/') || text[0] == '.' || strlen(text) > 150))
        abort();
    bs_thumb_size z;
    if (bs_thumb_parse(text, &z)) {
        if (z.w < 0 || z.h < 0 || (z.w == 0 && z.h == 0) || z.w > 10000 ||
            z.h > 10000)
            abort();
        int ow, oh, sx, sy, sw, sh;
        bs_thumb_geometry(1 + (int)(size % 5000), 1 + (int)(size % 77), &z,
                          &ow, &oh, &sx, &sy, &sw, &sh);
        if (ow < 1 || oh < 1 || sx < 0 || sy < 0 || sw < 1 || sh < 1)
            abort();
    }
    free(text);
    return 0;
}
