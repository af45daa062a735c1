/*
 * ftype.h - the field types: one table, indexed by bs_ftype, of what
 * each type is.
 *
 * A field definition names its type by a string ("text", "relation",
 * ...). The name is turned into a bs_ftype once, by bs_ftype_of(), when
 * the schema snapshot is built; everything above compares the enum or
 * reads this table. What a type does with a value lives in one file per
 * concern, each a switch over bs_ftype: src/core/field.c (prepare,
 * modify, validate, store a value), src/core/collection.c (the JSON
 * shape of a definition), src/core/collection_validate.c (the checks of
 * a definition's settings).
 */
#ifndef BS_FTYPE_H
#define BS_FTYPE_H

#include <stdbool.h>

#include "../base/buf.h"

/* Field types. BS_F_UNKNOWN is a type this build does not know; it
 * behaves as plain text. */
typedef enum bs_ftype {
    BS_F_TEXT, BS_F_NUMBER, BS_F_BOOL, BS_F_EMAIL, BS_F_URL, BS_F_EDITOR,
    BS_F_DATE, BS_F_AUTODATE, BS_F_SELECT, BS_F_JSON, BS_F_FILE,
    BS_F_RELATION, BS_F_PASSWORD, BS_F_GEOPOINT, BS_F_UNKNOWN,
    BS_F_COUNT
} bs_ftype;

/* The shape of a record value of the type (see src/core/field.h). */
typedef enum bs_fvalue {
    BS_FV_STRING,  /* a string; an array of strings when multiple */
    BS_FV_NUMBER,  /* a double */
    BS_FV_BOOL,    /* a boolean */
    BS_FV_ANY,     /* any JSON value; a NULL pointer is null */
    BS_FV_POINT,   /* {"lon":x,"lat":y} */
} bs_fvalue;

typedef struct bs_ftype_info {
    const char *name;      /* as in a definition's "type"; "" for unknown */
    bs_fvalue value;       /* the shape of a value */
    bool multi;            /* may hold several values (maxSelect > 1) */
    const char *column;    /* the SQLite column definition, with default */
    const char *zero;      /* the zero value as JSON text */
} bs_ftype_info;

/* One entry per bs_ftype, BS_F_UNKNOWN included. */
extern const bs_ftype_info bs_ftypes[BS_F_COUNT];

/* The column definition and zero value of a multi-valued field. */
#define BS_FTYPE_MULTI_COLUMN "JSON DEFAULT '[]' NOT NULL"
#define BS_FTYPE_MULTI_ZERO "[]"
/* The column definition of a text primary key (the "id" field). */
#define BS_FTYPE_PK_COLUMN \
    "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"

/* The type of a type name; BS_F_UNKNOWN for any other text (or NULL).
 * The only place a name becomes a type. */
bs_ftype bs_ftype_of(const char *name);

/* The name of a type ("" for BS_F_UNKNOWN). */
const char *bs_ftype_name(bs_ftype t);

/* The column definition of a field of type t: a text primary key, a
 * multi-valued field, or the type's own. Static text. */
const char *bs_ftype_column(bs_ftype t, bool multiple, bool primary_key);

/* The PostgreSQL column type of a field of type t (docs/scale.md):
 * "double precision" for a number, "boolean" for a bool, "text" for
 * every other type, multi-valued ones and JSON included. Static text. */
const char *bs_ftype_pg_column(bs_ftype t);

/* The PostgreSQL column definition of a field, for the PostgreSQL store:
 * bs_ftype_column with the type of bs_ftype_pg_column and the same
 * literal default and NOT NULL (a text primary key has no default: the
 * id is always given). Appended to out. */
void bs_ftype_pg_column_def(bs_ftype t, bool multiple, bool primary_key,
                            bs_buf *out);

#endif
