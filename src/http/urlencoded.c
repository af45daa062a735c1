/*
 * urlencoded.c - splitting and decoding application/x-www-form-urlencoded
 * text.
 */
#include "urlencoded.h"

#include <string.h>

#include "../base/util.h"
#include "basalt.h"

void bs_urlencoded_decode(const char *s, size_t n, bs_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            bs_buf_putc(out, ' ');
        } else if (s[i] == '%' && i + 2 < n && bs_hex_digit(s[i + 1]) >= 0 &&
                   bs_hex_digit(s[i + 2]) >= 0) {
            bs_buf_putc(out, (char)(bs_hex_digit(s[i + 1]) * 16 +
                                    bs_hex_digit(s[i + 2])));
            i += 2;
        } else {
            bs_buf_putc(out, s[i]);
        }
    }
}

int bs_urlencoded_parse(const char *data, size_t len, bs_urlencoded_fn fn,
                        void *user)
{
    bs_buf k, v;
    bs_buf_init(&k);
    bs_buf_init(&v);
    int rc = 0;
    size_t i = 0;
    while (i < len && rc == 0) {
        const char *p = data + i;
        const char *amp = memchr(p, '&', len - i);
        size_t n = amp ? (size_t)(amp - p) : len - i;
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        bs_buf_reset(&k);
        bs_buf_reset(&v);
        bs_urlencoded_decode(p, kn, &k);
        if (eq)
            bs_urlencoded_decode(eq + 1, n - kn - 1, &v);
        if (k.oom || v.oom)
            rc = BS_ENOMEM;
        else
            rc = fn(user, k.data ? k.data : "", k.len, v.data ? v.data : "",
                    v.len);
        i += n + (amp != NULL);
    }
    bs_buf_dispose(&k);
    bs_buf_dispose(&v);
    return rc;
}
