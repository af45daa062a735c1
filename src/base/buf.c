/*
 * buf.c - growable byte buffers and Go-compatible JSON scalar encoding.
 */
#include "buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void bs_buf_init(bs_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}

void bs_buf_dispose(bs_buf *b)
{
    free(b->data);
    bs_buf_init(b);
}

void bs_buf_reset(bs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

bool bs_buf_reserve(bs_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->cap - b->len > n)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void bs_buf_append(bs_buf *b, const void *p, size_t n)
{
    if (!bs_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void bs_buf_puts(bs_buf *b, const char *s)
{
    bs_buf_append(b, s, strlen(s));
}

void bs_buf_putc(bs_buf *b, char c)
{
    if (!bs_buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void bs_buf_printf(bs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !bs_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *bs_buf_steal(bs_buf *b, size_t *len)
{
    if (!b->data)
        bs_buf_reserve(b, 1);
    char *p = b->data;
    if (len)
        *len = b->len;
    if (p)
        p[b->len] = '\0';
    bs_buf_init(b);
    return p;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

void bs_buf_json_str(bs_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    if (!bs_buf_reserve(b, n + 2))
        return;
    bs_buf_putc(b, '"');
    size_t start = 0, i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' &&
            c != '&' && c < 0x80) {
            i++;
            continue;
        }
        if (c < 0x80) {
            bs_buf_append(b, s + start, i - start);
            switch (c) {
            case '"': bs_buf_append(b, "\\\"", 2); break;
            case '\\': bs_buf_append(b, "\\\\", 2); break;
            case '\n': bs_buf_append(b, "\\n", 2); break;
            case '\r': bs_buf_append(b, "\\r", 2); break;
            case '\t': bs_buf_append(b, "\\t", 2); break;
            default: {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                bs_buf_append(b, e, 6);
            }
            }
            i++;
            start = i;
            continue;
        }
        size_t len = utf8_seq(s + i, n - i);
        if (len == 0) {
            bs_buf_append(b, s + start, i - start);
            bs_buf_append(b, "\\ufffd", 6);
            i++;
            start = i;
            continue;
        }
        if (len == 3 && s[i] == 0xE2 && s[i + 1] == 0x80 &&
            (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            bs_buf_append(b, s + start, i - start);
            bs_buf_append(b, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            i += 3;
            start = i;
            continue;
        }
        i += len;
    }
    bs_buf_append(b, s + start, n - start);
    bs_buf_putc(b, '"');
}

void bs_buf_json_num(bs_buf *b, double v)
{
    if (!isfinite(v)) {
        bs_buf_putc(b, '0');
        return;
    }
    if (v == 0) {
        bs_buf_putc(b, '0');
        return;
    }
    double a = fabs(v);
    if (a < 1e21 && v == (double)(long long)v) {
        bs_buf_printf(b, "%lld", (long long)v);
        return;
    }
    /* Shortest round-trip representation. */
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    if (a < 1e-6 || a >= 1e21) {
        /* Go prints exponents like 1e-07 -> 1e-07; keep C's form but drop
         * a leading zero in a two-digit exponent as Go does ("1e-07"
         * stays, Go uses at least two digits). */
        bs_buf_puts(b, tmp);
        return;
    }
    if (strchr(tmp, 'e')) {
        /* %g chose exponent form inside Go's fixed range: reprint fixed. */
        int digits = 0;
        for (const char *p = tmp; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9')
                digits++;
        int exp10 = atoi(strchr(tmp, 'e') + 1);
        int frac = digits - 1 - exp10;
        if (frac < 0)
            frac = 0;
        snprintf(tmp, sizeof tmp, "%.*f", frac, v);
    }
    bs_buf_puts(b, tmp);
}
