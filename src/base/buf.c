/*
 * buf.c - growable byte buffers and Go-compatible JSON scalar encoding.
 */
#include "buf.h"

#include <float.h>
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
            case '\b': bs_buf_append(b, "\\b", 2); break;
            case '\f': bs_buf_append(b, "\\f", 2); break;
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

/* Shortest decimal digits that read back as v: fills digits (no dot)
 * and returns the decimal exponent of the first digit (v = 0.d1d2... *
 * 10^(exp+1)). */
static int shortest_digits(double v, char *digits, size_t cap)
{
    /* Any decimal of at most 15 significant digits survives a round
     * trip through a double, so when some such decimal reads back as v,
     * v rounded to 15 digits is that decimal padded with zeros (which
     * are stripped below). Otherwise 16 digits, or else 17. Subnormal
     * numbers carry fewer digits: for them every length is tried. */
    char tmp[40];
    for (int prec = fabs(v) >= DBL_MIN ? 15 : 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp is "-d.ddde[+-]xx" */
    const char *p = tmp[0] == '-' ? tmp + 1 : tmp;
    size_t n = 0;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9' && n + 1 < cap)
            digits[n++] = *p;
    }
    digits[n] = '\0';
    /* Trailing zeros carry no information. */
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return atoi(p + 1);
}

void bs_buf_json_num(bs_buf *b, double v)
{
    /* Go's encoding/json: 'f' format with the shortest digits when
     * 1e-6 <= |v| < 1e21, else 'e' format with at least one exponent
     * digit ("1e-7", "1e+21"). NaN and infinities cannot occur in JSON
     * and print as 0. */
    if (!isfinite(v)) {
        bs_buf_putc(b, '0');
        return;
    }
    if (v == 0) {
        bs_buf_puts(b, signbit(v) ? "-0" : "0");
        return;
    }
    if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
        /* A whole number: its digits as they are. */
        char tmp[24];
        int64_t i = (int64_t)v;
        uint64_t u = i < 0 ? (uint64_t)-i : (uint64_t)i;
        size_t n = sizeof tmp;
        do {
            tmp[--n] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (i < 0)
            tmp[--n] = '-';
        bs_buf_append(b, tmp + n, sizeof tmp - n);
        return;
    }
    char digits[32];
    int exp = shortest_digits(v, digits, sizeof digits);
    int nd = (int)strlen(digits);
    double a = fabs(v);
    if (v < 0)
        bs_buf_putc(b, '-');
    if (a < 1e-6 || a >= 1e21) {
        bs_buf_putc(b, digits[0]);
        if (nd > 1) {
            bs_buf_putc(b, '.');
            bs_buf_append(b, digits + 1, (size_t)nd - 1);
        }
        bs_buf_printf(b, "e%c%d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    if (exp < 0) {
        bs_buf_puts(b, "0.");
        for (int i = -1; i > exp; i--)
            bs_buf_putc(b, '0');
        bs_buf_append(b, digits, (size_t)nd);
        return;
    }
    /* exp >= 0: integer part has exp+1 digits. */
    for (int i = 0; i <= exp; i++)
        bs_buf_putc(b, i < nd ? digits[i] : '0');
    if (nd > exp + 1) {
        bs_buf_putc(b, '.');
        bs_buf_append(b, digits + exp + 1, (size_t)(nd - exp - 1));
    }
}

void bs_buf_go_float(bs_buf *b, double v)
{
    if (isnan(v) || isinf(v)) {
        bs_buf_puts(b, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        bs_buf_puts(b, signbit(v) ? "-0" : "0");
        return;
    }
    char digits[32];
    int exp = shortest_digits(v, digits, sizeof digits);
    int nd = (int)strlen(digits);
    if (v < 0)
        bs_buf_putc(b, '-');
    if (exp < -4 || exp >= 6) {
        bs_buf_putc(b, digits[0]);
        if (nd > 1) {
            bs_buf_putc(b, '.');
            bs_buf_append(b, digits + 1, (size_t)nd - 1);
        }
        bs_buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+',
                      exp < 0 ? -exp : exp);
        return;
    }
    if (exp < 0) {
        bs_buf_puts(b, "0.");
        for (int i = -1; i > exp; i--)
            bs_buf_putc(b, '0');
        bs_buf_append(b, digits, (size_t)nd);
        return;
    }
    for (int i = 0; i <= exp; i++)
        bs_buf_putc(b, i < nd ? digits[i] : '0');
    if (nd > exp + 1) {
        bs_buf_putc(b, '.');
        bs_buf_append(b, digits + exp + 1, (size_t)(nd - exp - 1));
    }
}

void bs_buf_real(bs_buf *b, double v)
{
    char tmp[64];
    if (isnan(v)) {
        bs_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        bs_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    bs_buf_puts(b, tmp);
}
