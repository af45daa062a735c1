/*
 * pg_sql.c - SQLite's spelling of a statement rewritten for PostgreSQL,
 * and PostgreSQL's values read as SQLite's (see pg_sql.h).
 *
 * The rewriting is one pass over the text with a small lexer that knows
 * only what can hide a placeholder or a name: string literals ('...'
 * with '' inside), dollar-quoted strings, quoted names ("..." and
 * `...`), comments (-- to the
 * end of the line, and C-style block comments) and words. Everything it does not
 * rewrite is copied byte for byte, so a statement that is already
 * PostgreSQL's passes through unchanged.
 */
#include "pg_sql.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* The end of the quoted run starting at s (quote q, doubled inside). */
static size_t quoted_end(const char *s, size_t i, size_t len, char q)
{
    for (i++; i < len; i++) {
        if (s[i] == q) {
            if (i + 1 < len && s[i + 1] == q) {
                i++;
                continue;
            }
            return i + 1;
        }
    }
    return len;
}

/* The word starting at i (0 when none), skipping spaces first. */
static size_t next_word(const char *s, size_t i, size_t len, size_t *start)
{
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    *start = i;
    size_t j = i;
    while (j < len && word_char(s[j]))
        j++;
    return j - i;
}

/* Whether the word has both capital and small ASCII letters. */
static bool mixed_case(const char *s, size_t n)
{
    bool upper = false, lower = false;
    for (size_t i = 0; i < n; i++) {
        upper |= s[i] >= 'A' && s[i] <= 'Z';
        lower |= s[i] >= 'a' && s[i] <= 'z';
    }
    return upper && lower;
}

static void note(bool *used, int cap, long n)
{
    if (used && n >= 1 && n <= cap)
        used[n - 1] = true;
}

int bs_pg_sql_translate(const char *s, size_t len, bs_buf *out, bool *used,
                        int cap)
{
    long max = 0;
    size_t i = 0;
    size_t start = out->len;
    bool ignore = false; /* INSERT OR IGNORE */
    while (i < len) {
        char c = s[i];
        if (c == '\'' || c == '"') {
            size_t e = quoted_end(s, i, len, c);
            bs_buf_append(out, s + i, e - i);
            i = e;
        } else if (c == '`') {
            size_t e = quoted_end(s, i, len, '`');
            bs_buf_putc(out, '"');
            for (size_t k = i + 1; k < e; k++) {
                if (s[k] == '`' && k + 1 == e)
                    break; /* the closing quote */
                if (s[k] == '`')
                    k++; /* `` inside stands for one ` */
                if (s[k] == '"')
                    bs_buf_putc(out, '"');
                bs_buf_putc(out, s[k]);
            }
            bs_buf_putc(out, '"');
            i = e;
        } else if (c == '-' && i + 1 < len && s[i + 1] == '-') {
            size_t e = i;
            while (e < len && s[e] != '\n')
                e++;
            bs_buf_append(out, s + i, e - i);
            i = e;
        } else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            size_t e = i + 2;
            while (e + 1 < len && !(s[e] == '*' && s[e + 1] == '/'))
                e++;
            e = e + 1 < len ? e + 2 : len;
            bs_buf_append(out, s + i, e - i);
            i = e;
        } else if (c == '?' || c == '$') {
            size_t e = i + 1;
            long n = 0;
            while (e < len && isdigit((unsigned char)s[e]) && n <= 100000)
                n = n * 10 + (s[e++] - '0');
            if (e == i + 1 && c == '$') {
                /* A dollar-quoted string ($$...$$, $tag$...$tag$) is
                 * copied whole; another $ as it is. */
                size_t t = i + 1;
                while (t < len && (isalpha((unsigned char)s[t]) || s[t] == '_'))
                    t++;
                size_t end = len;
                if (t < len && s[t] == '$') {
                    size_t tag = t + 1 - i;
                    for (size_t k = t + 1; k + tag <= len; k++) {
                        if (memcmp(s + k, s + i, tag) == 0) {
                            end = k + tag;
                            break;
                        }
                    }
                } else {
                    end = i + 1;
                }
                bs_buf_append(out, s + i, end - i);
                i = end;
                continue;
            }
            if (e == i + 1)
                n = max + 1; /* a bare ? */
            if (n < 1 || n > BS_PG_MAX_PARAMS)
                return -1;
            if (n > max)
                max = n;
            note(used, cap, n);
            /* After a name or a $, "$N" would join it ("a$1" is one name
             * to PostgreSQL, "$$1" opens a dollar-quoted string). */
            if (out->len > start &&
                (word_char(out->data[out->len - 1]) ||
                 out->data[out->len - 1] == '$'))
                bs_buf_putc(out, ' ');
            bs_buf_printf(out, "$%ld", n);
            i = e;
        } else if (c == '=' && i + 1 < len && s[i + 1] == '=') {
            bs_buf_putc(out, '=');
            i += 2;
        } else if (word_char(c)) {
            size_t e = i;
            while (e < len && word_char(s[e]))
                e++;
            size_t n = e - i;
            size_t ws;
            size_t wn;
            if ((n == 7 && memcmp(s + i, "_rowid_", 7) == 0) ||
                (n == 5 && strncasecmp(s + i, "rowid", 5) == 0)) {
                bs_buf_puts(out, "\"_rowid\"");
            } else if (n == 6 && strncasecmp(s + i, "INSERT", 6) == 0 &&
                       (wn = next_word(s, e, len, &ws)) == 2 &&
                       strncasecmp(s + ws, "OR", 2) == 0 &&
                       next_word(s, ws + 2, len, &ws) == 6 &&
                       strncasecmp(s + ws, "IGNORE", 6) == 0) {
                bs_buf_append(out, s + i, n);
                ignore = true;
                e = ws + 6;
            } else if (n == 7 && strncasecmp(s + i, "COLLATE", 7) == 0 &&
                       (wn = next_word(s, e, len, &ws)) == 6 &&
                       strncasecmp(s + ws, "NOCASE", 6) == 0) {
                bs_buf_puts(out, "COLLATE \"bs_nocase\"");
                e = ws + wn;
            } else if (mixed_case(s + i, n) && (e >= len || s[e] != '(')) {
                /* A name such as listRule: PostgreSQL folds it to
                 * lower case unless it is quoted. */
                bs_buf_putc(out, '"');
                bs_buf_append(out, s + i, n);
                bs_buf_putc(out, '"');
            } else {
                bs_buf_append(out, s + i, n);
            }
            i = e;
        } else {
            bs_buf_putc(out, c);
            i++;
        }
    }
    if (ignore) {
        /* INSERT ... ON CONFLICT DO NOTHING, before a final ';'. */
        while (out->len > start &&
               (out->data[out->len - 1] == ';' ||
                isspace((unsigned char)out->data[out->len - 1])))
            out->len--;
        bs_buf_puts(out, " ON CONFLICT DO NOTHING");
    }
    return (int)max;
}

bs_col_type bs_pg_col_kind(unsigned oid, const char *v, int64_t *i,
                           double *d)
{
    int64_t iv = 0;
    double dv = 0;
    bs_col_type t;
    if (!v) {
        t = BS_COL_NULL;
    } else {
        switch (oid) {
        case BS_PG_BOOL:
            iv = v[0] == 't';
            dv = (double)iv;
            t = BS_COL_INT;
            break;
        case BS_PG_INT2:
        case BS_PG_INT4:
        case BS_PG_INT8:
        case BS_PG_OID:
            iv = strtoll(v, NULL, 10);
            dv = (double)iv;
            t = BS_COL_INT;
            break;
        case BS_PG_FLOAT4:
        case BS_PG_FLOAT8:
        case BS_PG_NUMERIC:
            dv = strtod(v, NULL);
            /* SQLite's NUMERIC affinity keeps an integral value as an
             * integer (within the exactly representable range). */
            if (isfinite(dv) && dv == floor(dv) && fabs(dv) < 9007199254740992.0) {
                iv = (int64_t)dv;
                t = BS_COL_INT;
            } else {
                iv = isfinite(dv) && fabs(dv) < 9.2e18 ? (int64_t)dv : 0;
                t = BS_COL_REAL;
            }
            break;
        case BS_PG_BYTEA:
            t = BS_COL_BLOB;
            break;
        default:
            iv = strtoll(v, NULL, 10);
            dv = strtod(v, NULL);
            t = BS_COL_TEXT;
        }
    }
    if (i)
        *i = iv;
    if (d)
        *d = dv;
    return t;
}
