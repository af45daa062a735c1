/*
 * dialect_pg.c - the PostgreSQL 15 spelling of the filter compiler's SQL.
 *
 * Design. SQLite is dynamically typed; PostgreSQL is not. The mapping
 * of docs/scale.md keeps the differences small and predictable:
 *
 *  - text-like fields (text, email, url, editor, date, autodate, single
 *    select, relation and file) are `text`; numbers `double precision`;
 *    bools `boolean`; json, geoPoint and multiple select, relation and
 *    file fields `text` holding JSON, as in SQLite, so that comparing
 *    them as a whole or with ~ sees the same text. The helper bs_json()
 *    reads such a text as jsonb (NULL when it is not JSON, as SQLite's
 *    json_valid). The database uses encoding UTF8 with locale C,
 *    so text compares bytewise and LOWER()/ILIKE fold ASCII only, as
 *    SQLite's BINARY collation, lower() and LIKE do.
 *  - NULL sorts first in ascending order, as in SQLite.
 *  - Parameters are sent untyped (bs_filter_pg_param): the server gives
 *    each the type of the column it meets, which is what SQLite's column
 *    affinity does to a bound value (`title = 5` compares text,
 *    `views = "5"` compares numbers).
 *  - The equality forms that compare an operand with '' or fall back to
 *    '' for NULL see the operand as text (as_text), so that a number or
 *    bool column can meet ''.
 *  - JSON values are read with #>> and so compare as text; SQLite's
 *    json_extract returns numbers as numbers. docs/scale.md lists what
 *    differs.
 *  - strftime() is a PL/pgSQL helper, bs_strftime, because its format is
 *    a bound parameter and only known when the statement runs;
 *    bs_sql_dialect_postgres_setup() holds the helpers' definitions.
 *  - @rowid sorts by an identity column "_rowid" that every table of a
 *    PostgreSQL store carries (PostgreSQL's ctid moves on update).
 */
#include "dialect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/sql.h"
#include "filter.h"

/* SQLite and PostgreSQL quote identifiers alike ("a""b"). */
static void pg_ident(bs_buf *b, const char *name)
{
    bs_sql_ident(b, name);
}

static void pg_param(bs_buf *b, int n)
{
    bs_buf_printf(b, "$%d", n);
}

/* A text[] literal, {"key","0",...}, for the #>> operator; keys are
 * quoted with \ before " and \ so that any character is taken
 * literally. */
static void pg_json_path(bs_buf *b, const bs_json_step *steps, int n)
{
    bs_buf_putc(b, '{');
    for (int i = 0; i < n; i++) {
        if (i)
            bs_buf_putc(b, ',');
        bs_buf_putc(b, '"');
        if (steps[i].key) {
            for (const char *p = steps[i].key; *p; p++) {
                if (*p == '"' || *p == '\\')
                    bs_buf_putc(b, '\\');
                bs_buf_putc(b, *p);
            }
        } else {
            bs_buf_printf(b, "%lld", steps[i].index);
        }
        bs_buf_putc(b, '"');
    }
    bs_buf_putc(b, '}');
}

/* SQLite's json_extract over a column that may also hold a plain value:
 * the JSON text is read by bs_json(); a value that is not JSON is only
 * found at the root. Objects and arrays come back as PostgreSQL writes
 * them (with blanks), the root one as stored. */
static void pg_json_extract(bs_buf *b, const char *col, const char *path)
{
    if (path)
        bs_buf_printf(b, "(bs_json(CAST(%s AS text)) #>> %s)", col, path);
    else
        bs_buf_printf(b,
                      "(CASE WHEN jsonb_typeof(bs_json(CAST(%s AS text))) "
                      "IN ('object', 'array') THEN CAST(%s AS text) ELSE "
                      "COALESCE(bs_json(CAST(%s AS text)) #>> '{}', "
                      "CASE WHEN bs_json(CAST(%s AS text)) IS NULL THEN "
                      "CAST(%s AS text) END) END)",
                      col, col, col, col, col);
}

/* The items of a JSON array text, or the value itself as one item. */
static void pg_json_each(bs_buf *b, const char *col, const char *alias)
{
    bs_buf_printf(b,
                  "jsonb_array_elements_text(CASE WHEN "
                  "jsonb_typeof(bs_json(CAST(%s AS text))) = 'array' THEN "
                  "bs_json(CAST(%s AS text)) "
                  "ELSE jsonb_build_array(CAST(%s AS text)) END) AS ",
                  col, col, col);
    pg_ident(b, alias);
    bs_buf_puts(b, "(\"value\")");
}

static void pg_json_array_length(bs_buf *b, const char *col)
{
    bs_buf_printf(b,
                  "CAST(CASE WHEN jsonb_typeof(bs_json(CAST(%s AS text))) = "
                  "'array' THEN jsonb_array_length(bs_json(CAST(%s AS text))) "
                  "WHEN CAST(%s AS text) = '' OR %s IS NULL THEN 0 ELSE 1 END "
                  "AS double precision)",
                  col, col, col, col);
}

/* ILIKE folds ASCII only in a database of locale C, as SQLite's LIKE;
 * the left side may be a number or a bool, which SQLite reads as text. */
static void pg_like(bs_buf *b, const char *left, const char *pattern,
                    bool negate)
{
    bs_buf_printf(b, "CAST(%s AS text) %sILIKE %s ESCAPE '\\'", left,
                  negate ? "NOT " : "", pattern);
}

static void pg_contains_pattern(bs_buf *b, const char *expr)
{
    bs_buf_printf(b, "('%%' || CAST(%s AS text) || '%%')", expr);
}

static void pg_strftime(bs_buf *b, const char *const *args, int n)
{
    bs_buf_printf(b, "bs_strftime(CAST(%s AS text), ", args[0]);
    if (n > 1)
        bs_buf_printf(b, "CAST(%s AS text), ARRAY[", args[1]);
    else
        bs_buf_puts(b, "'now', ARRAY[");
    for (int i = 2; i < n; i++) {
        if (i > 2)
            bs_buf_puts(b, ", ");
        bs_buf_printf(b, "CAST(%s AS text)", args[i]);
    }
    bs_buf_puts(b, "]::text[])");
}

static void pg_random_order(bs_buf *b)
{
    bs_buf_puts(b, "random()");
}

static void pg_rowid(bs_buf *b, const char *alias)
{
    pg_ident(b, alias);
    bs_buf_puts(b, ".\"_rowid\"");
}

static void pg_as_text(bs_buf *b, const char *expr)
{
    bs_buf_printf(b, "CAST(%s AS text)", expr);
}

static const bs_sql_dialect pg_dialect = {
    .name = "postgres",
    .ident = pg_ident,
    .param = pg_param,
    .json_path = pg_json_path,
    .json_extract = pg_json_extract,
    .json_each = pg_json_each,
    .json_array_length = pg_json_array_length,
    .like = pg_like,
    .contains_pattern = pg_contains_pattern,
    .strftime = pg_strftime,
    .random_order = pg_random_order,
    .rowid = pg_rowid,
    .one_row = "(SELECT 1)",
    .is_same = "IS NOT DISTINCT FROM",
    .is_distinct = "IS DISTINCT FROM",
    .true_lit = "TRUE",
    .false_lit = "FALSE",
    .as_text = pg_as_text,
    .asc = "ASC NULLS FIRST",
    .desc = "DESC NULLS LAST",
};

const bs_sql_dialect *bs_sql_dialect_postgres(void)
{
    return &pg_dialect;
}

/* bs_json(text) reads a JSON text, NULL when it is none; the pattern
 * spares the exception handler the plain values (ids, words) that most
 * non-JSON texts are.
 *
 * bs_strftime(format, time value, modifiers) with the part of SQLite's
 * strftime that PocketBase filters use: time values in PocketBase's
 * date format (also with T, without seconds or without a time) or
 * 'now'; the modifiers 'start of day|month|year' and '[+-]N unit(s)';
 * the formats %d %f %H %j %m %M %s %S %w %Y %%. Anything else gives
 * NULL, as SQLite does for what it cannot read. */
static const char pg_setup[] =
    "CREATE OR REPLACE FUNCTION bs_json(v text)\n"
    "RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $bs$\n"
    "BEGIN\n"
    "  IF v IS NULL OR v !~ '^\\s*([[{\"0-9-]|true|false|null)' THEN\n"
    "    RETURN NULL;\n"
    "  END IF;\n"
    "  RETURN CAST(v AS jsonb);\n"
    "EXCEPTION WHEN others THEN\n"
    "  RETURN NULL;\n"
    "END\n"
    "$bs$;\n"
    "CREATE OR REPLACE FUNCTION bs_strftime(fmt text, val text, mods text[])\n"
    "RETURNS text LANGUAGE plpgsql STABLE AS $bs$\n"
    "DECLARE\n"
    "  t timestamp;\n"
    "  m text;\n"
    "  k text;\n"
    "  res text := '';\n"
    "  i int := 1;\n"
    "BEGIN\n"
    "  IF fmt IS NULL OR val IS NULL THEN\n"
    "    RETURN NULL;\n"
    "  END IF;\n"
    "  IF lower(val) = 'now' THEN\n"
    "    t := now() AT TIME ZONE 'UTC';\n"
    "  ELSIF val ~ '^\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}"
    "(\\.\\d+)?)?)?Z?$' THEN\n"
    "    BEGIN\n"
    "      t := CAST(replace(rtrim(val, 'Z'), 'T', ' ') AS timestamp);\n"
    "    EXCEPTION WHEN others THEN\n"
    "      RETURN NULL;\n"
    "    END;\n"
    "  ELSE\n"
    "    RETURN NULL;\n"
    "  END IF;\n"
    "  FOREACH m IN ARRAY coalesce(mods, '{}') LOOP\n"
    "    m := lower(trim(m));\n"
    "    IF m = 'start of day' THEN\n"
    "      t := date_trunc('day', t);\n"
    "    ELSIF m = 'start of month' THEN\n"
    "      t := date_trunc('month', t);\n"
    "    ELSIF m = 'start of year' THEN\n"
    "      t := date_trunc('year', t);\n"
    "    ELSIF m ~ '^[+-]?\\d+ (day|hour|minute|second|month|year)s?$' THEN\n"
    "      t := t + CAST(m AS interval);\n"
    "    ELSE\n"
    "      RETURN NULL;\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  WHILE i <= length(fmt) LOOP\n"
    "    k := substr(fmt, i, 1);\n"
    "    IF k <> '%' THEN\n"
    "      res := res || k;\n"
    "    ELSE\n"
    "      i := i + 1;\n"
    "      k := substr(fmt, i, 1);\n"
    "      CASE k\n"
    "        WHEN 'd' THEN res := res || to_char(t, 'DD');\n"
    "        WHEN 'f' THEN res := res || to_char(t, 'SS.MS');\n"
    "        WHEN 'H' THEN res := res || to_char(t, 'HH24');\n"
    "        WHEN 'j' THEN res := res || to_char(t, 'DDD');\n"
    "        WHEN 'm' THEN res := res || to_char(t, 'MM');\n"
    "        WHEN 'M' THEN res := res || to_char(t, 'MI');\n"
    "        WHEN 's' THEN res := res || "
    "CAST(CAST(floor(extract(epoch FROM t)) AS bigint) AS text);\n"
    "        WHEN 'S' THEN res := res || to_char(t, 'SS');\n"
    "        WHEN 'w' THEN res := res || "
    "CAST(CAST(extract(dow FROM t) AS int) AS text);\n"
    "        WHEN 'Y' THEN res := res || to_char(t, 'YYYY');\n"
    "        WHEN '%' THEN res := res || '%';\n"
    "        ELSE RETURN NULL;\n"
    "      END CASE;\n"
    "    END IF;\n"
    "    i := i + 1;\n"
    "  END LOOP;\n"
    "  RETURN res;\n"
    "END\n"
    "$bs$;\n";

const char *bs_sql_dialect_postgres_setup(void)
{
    return pg_setup;
}

const char *bs_filter_pg_param(const bs_filter_value *v, bs_buf *buf)
{
    bs_buf_reset(buf);
    switch (v->type) {
    case BS_FILTER_INT:
        bs_buf_printf(buf, "%lld", (long long)v->i);
        break;
    case BS_FILTER_REAL:
        bs_buf_real(buf, v->d);
        break;
    case BS_FILTER_TEXT:
        bs_buf_append(buf, v->s, v->n);
        break;
    default:
        return NULL;
    }
    if (buf->oom)
        return NULL;
    return buf->data ? buf->data : "";
}

/* Whether the text sql holds the placeholder $n. */
static bool has_placeholder(const char *sql, int n)
{
    for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end != p + 1 && v == n)
            return true;
    }
    return false;
}

unsigned bs_filter_pg_param_type(const char *sql, int n)
{
    return has_placeholder(sql, n) ? 0 : 25;
}
