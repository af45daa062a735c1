/*
 * buf.h - string slices and growable byte buffers.
 *
 * A bs_str is a read-only view {ptr,len}; it does not own its bytes.
 * A bs_buf owns a heap array that grows by doubling and is always kept
 * NUL-terminated, so its contents can cross library boundaries cheaply.
 * Out-of-memory is sticky: once an append fails, buf->oom is set, later
 * appends are ignored and the owner checks the flag once at the end.
 */
#ifndef BS_BUF_H
#define BS_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bs_str {
    const char *ptr;
    size_t len;
} bs_str;

#define BS_STR(lit) ((bs_str){(lit), sizeof(lit) - 1})

static inline bs_str bs_str_c(const char *s)
{
    return (bs_str){s, s ? strlen(s) : 0};
}

static inline bool bs_str_eq(bs_str a, bs_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool bs_str_eq_c(bs_str a, const char *b)
{
    return bs_str_eq(a, bs_str_c(b));
}

typedef struct bs_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} bs_buf;

void bs_buf_init(bs_buf *b);
void bs_buf_dispose(bs_buf *b);
void bs_buf_reset(bs_buf *b);

/* Makes room for n more bytes; returns false (and sets oom) on failure. */
bool bs_buf_reserve(bs_buf *b, size_t n);

void bs_buf_append(bs_buf *b, const void *p, size_t n);
void bs_buf_puts(bs_buf *b, const char *s);
void bs_buf_putc(bs_buf *b, char c);
void bs_buf_printf(bs_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hands the heap array to the caller (who frees it) and resets b. */
char *bs_buf_steal(bs_buf *b, size_t *len);

/* Appends s as a JSON string literal, quotes included, escaped the way
 * Go's encoding/json does it: <, > and & as \u003c \u003e \u0026, U+2028
 * and U+2029 escaped, invalid UTF-8 replaced by U+FFFD. */
void bs_buf_json_str(bs_buf *b, const char *s, size_t n);

/* Appends a double the way Go's encoding/json prints float64: integers
 * without a fraction, otherwise the shortest text that reads back the same,
 * exponent form for very large or small magnitudes. NaN/Inf print 0. */
void bs_buf_json_num(bs_buf *b, double v);

/* Appends a double as Go's strconv.FormatFloat(v, 'g', -1, 64): the
 * shortest digits, exponent form ("1.5e+06", "1e-05") when the exponent
 * is below -4 or at least 6 (the text a float becomes when Go's
 * database/sql scans it into a string). NaN, +Inf and -Inf as Go
 * spells them. */
void bs_buf_go_float(bs_buf *b, double v);

/* Appends a double as the shortest "%g" text that reads back as the
 * same double ("4", "0.1", "1e+20"); NaN, Infinity and -Infinity as
 * PostgreSQL reads them. */
void bs_buf_real(bs_buf *b, double v);

#endif
