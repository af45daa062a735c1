/*
 * fuzz_esm.c - the ES module rewrite (src/js/esm.c) on arbitrary text.
 *
 * Checks:
 *  - it never crashes and always ends;
 *  - the result has exactly the newlines of the input (line numbers of
 *    errors stay the file's own);
 *  - text without the words import and export (nor a #! first line)
 *    comes out unchanged, and is reported as no module;
 *  - rewriting the result again does not crash either, and keeps its
 *    newlines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dict.h"
#include "js/esm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_add_dict(argc, argv, "tests/fuzz/fuzz_esm.dict");
    return 0;
}

static size_t newlines(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static bool contains(const char *s, size_t n, const char *word)
{
    return memmem(s, n, word, strlen(word)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    bs_buf out;
    bs_buf_init(&out);
    int found = bsj_esm_transform(text, size, &out);
    if (found < 0)
        abort();
    if (newlines(out.data ? out.data : "", out.len) != newlines(text, size))
        abort();
    bool hashbang = size >= 2 && text[0] == '#' && text[1] == '!';
    if (!contains(text, size, "import") && !contains(text, size, "export") &&
        !hashbang) {
        if (found != 0 || out.len != size ||
            (size && memcmp(out.data, text, size) != 0))
            abort();
    }
    bs_buf again;
    bs_buf_init(&again);
    if (bsj_esm_transform(out.data ? out.data : "", out.len, &again) < 0 ||
        newlines(again.data ? again.data : "", again.len) !=
            newlines(text, size))
        abort();
    bs_buf_dispose(&again);
    bs_buf_dispose(&out);
    return 0;
}
