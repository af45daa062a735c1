/*
 * search.c - when a collection's search index is built and dropped (see
 * search.h). The index is rebuilt only when its definition changes: the
 * table's name or the ordered list of searchable columns.
 */
#include "search.h"

#include <string.h>
#include <strings.h>

#include "../base/json.h"
#include "../db/fts.h"
#include "../schema/ftype.h"

int bs_search_columns(const json_object *fields, const char **names, int max)
{
    int n = 0;
    size_t count = json_object_is_type(fields, json_type_array)
                       ? json_object_array_length(fields)
                       : 0;
    for (size_t i = 0; i < count && n < max; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        if (!bs_json_get_bool(f, "searchable", false))
            continue;
        bs_ftype t = bs_ftype_of(bs_json_get_str(f, "type", ""));
        if (t != BS_F_TEXT && t != BS_F_EDITOR && t != BS_F_EMAIL &&
            t != BS_F_URL && t != BS_F_JSON)
            continue;
        names[n++] = bs_json_get_str(f, "name", "");
    }
    return n;
}

/* Whether col's index differs from old's (NULL: none). */
static bool index_changes(const json_object *col, const json_object *old)
{
    const char *a[BS_SEARCH_MAX_FIELDS], *b[BS_SEARCH_MAX_FIELDS];
    int na = bs_search_columns(bs_json_get(col, "fields"), a,
                               BS_SEARCH_MAX_FIELDS);
    int nb = old ? bs_search_columns(bs_json_get(old, "fields"), b,
                                     BS_SEARCH_MAX_FIELDS)
                 : 0;
    if (na != nb)
        return true;
    if (na == 0)
        return false;
    if (strcasecmp(bs_json_get_str(col, "name", ""),
                   bs_json_get_str(old, "name", "")) != 0)
        return true;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return true;
    return false;
}

static int db_error(bs_error *err, int rc, const char *msg)
{
    bs_error_dispose(err);
    bs_error_set(err, 0, "search index: %s", msg);
    return rc;
}

int bs_search_before_table_sync(bs_conn *conn, const json_object *col,
                                const json_object *old, bs_error *err)
{
    if (!old || !index_changes(col, old))
        return 0;
    char msg[300];
    int rc = bs_fts_drop(conn, bs_json_get_str(old, "id", ""), msg,
                         sizeof msg);
    return rc ? db_error(err, rc, msg) : 0;
}

int bs_search_after_table_sync(bs_conn *conn, const json_object *col,
                               const json_object *old, bs_error *err)
{
    if (!index_changes(col, old))
        return 0;
    const char *cols[BS_SEARCH_MAX_FIELDS];
    int n = bs_search_columns(bs_json_get(col, "fields"), cols,
                              BS_SEARCH_MAX_FIELDS);
    if (n == 0)
        return 0;
    char msg[300];
    const char *id = bs_json_get_str(col, "id", "");
    /* A leftover index of the same id (a new collection reusing an id)
     * goes first. */
    int rc = bs_fts_drop(conn, id, msg, sizeof msg);
    if (!rc)
        rc = bs_fts_create(conn, id, bs_json_get_str(col, "name", ""), cols,
                           n, msg, sizeof msg);
    return rc ? db_error(err, rc, msg) : 0;
}

int bs_search_drop(bs_conn *conn, const char *collection_id, bs_error *err)
{
    char msg[300];
    int rc = bs_fts_drop(conn, collection_id, msg, sizeof msg);
    return rc ? db_error(err, rc, msg) : 0;
}
