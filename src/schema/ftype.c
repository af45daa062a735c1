/*
 * ftype.c - the table of field types.
 */
#include "ftype.h"

#include <string.h>

const bs_ftype_info bs_ftypes[BS_F_COUNT] = {
    [BS_F_TEXT] = {"text", BS_FV_STRING, false,
                   "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_NUMBER] = {"number", BS_FV_NUMBER, false,
                     "NUMERIC DEFAULT 0 NOT NULL", "0"},
    [BS_F_BOOL] = {"bool", BS_FV_BOOL, false,
                   "BOOLEAN DEFAULT FALSE NOT NULL", "false"},
    [BS_F_EMAIL] = {"email", BS_FV_STRING, false,
                    "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_URL] = {"url", BS_FV_STRING, false,
                  "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_EDITOR] = {"editor", BS_FV_STRING, false,
                     "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_DATE] = {"date", BS_FV_STRING, false,
                   "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_AUTODATE] = {"autodate", BS_FV_STRING, false,
                       "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_SELECT] = {"select", BS_FV_STRING, true,
                     "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_JSON] = {"json", BS_FV_ANY, false,
                   "JSON DEFAULT NULL", "null"},
    [BS_F_FILE] = {"file", BS_FV_STRING, true,
                   "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_RELATION] = {"relation", BS_FV_STRING, true,
                       "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_PASSWORD] = {"password", BS_FV_STRING, false,
                       "TEXT DEFAULT '' NOT NULL", "\"\""},
    [BS_F_GEOPOINT] = {"geoPoint", BS_FV_POINT, false,
                       "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL",
                       "{\"lon\":0,\"lat\":0}"},
    [BS_F_UNKNOWN] = {"", BS_FV_STRING, false,
                      "TEXT DEFAULT '' NOT NULL", "\"\""},
};

bs_ftype bs_ftype_of(const char *name)
{
    if (!name || !*name)
        return BS_F_UNKNOWN;
    for (int t = 0; t < BS_F_UNKNOWN; t++) {
        if (strcmp(bs_ftypes[t].name, name) == 0)
            return (bs_ftype)t;
    }
    return BS_F_UNKNOWN;
}

const char *bs_ftype_name(bs_ftype t)
{
    return (unsigned)t < BS_F_COUNT ? bs_ftypes[t].name : "";
}

const char *bs_ftype_column(bs_ftype t, bool multiple, bool primary_key)
{
    if (t == BS_F_TEXT && primary_key)
        return BS_FTYPE_PK_COLUMN;
    if ((unsigned)t >= BS_F_COUNT)
        t = BS_F_UNKNOWN;
    if (bs_ftypes[t].multi && multiple)
        return BS_FTYPE_MULTI_COLUMN;
    return bs_ftypes[t].column;
}

void bs_ftype_pg_column_def(bs_ftype t, bool multiple, bool primary_key,
                            bs_buf *out)
{
    if (t == BS_F_TEXT && primary_key) {
        bs_buf_puts(out, "text PRIMARY KEY NOT NULL");
        return;
    }
    if ((unsigned)t >= BS_F_COUNT)
        t = BS_F_UNKNOWN;
    const char *def = bs_ftype_column(t, multiple, false);
    bs_buf_puts(out, bs_ftype_pg_column(t));
    bs_buf_puts(out, strchr(def, ' ')); /* " DEFAULT ... NOT NULL" */
}

const char *bs_ftype_pg_column(bs_ftype t)
{
    switch (t) {
    case BS_F_NUMBER:
        return "double precision";
    case BS_F_BOOL:
        return "boolean";
    default:
        return "text";
    }
}
