/*
 * collection_save.c - creating, changing and deleting collections: the
 * hook chain, the `_collections` row and the record table behind it.
 *
 * Design. A save runs in one transaction (joining the caller's, so an
 * import is one transaction for all its collections):
 *
 *   normalize (onCollectionSave)
 *   OnCollectionCreate/Update
 *     -> OnCollectionValidate -> bs_collection_validate
 *     -> OnCollectionCreateExecute/UpdateExecute
 *          -> view: infer fields, (re)create the SQL view
 *          -> write the row
 *          -> base/auth: create the table or ALTER it into shape
 *
 * and queues its after-commit work on the transaction: reload the
 * schema snapshot, then OnCollectionAfter*Success (or *Error when the
 * save failed or the transaction rolled back). The table is changed in
 * place with ALTER TABLE so rows survive: dropped fields lose their
 * column, new fields get one, renamed fields are renamed through a
 * temporary name (so two fields may swap names), and a field that goes
 * from one value to several (or back) gets a new column filled from the
 * old one the way PocketBase converts it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "../db/sql.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "app.h"
#include "collection.h"
#include "files.h"
#include "field.h"
#include "../schema/index.h"
#include "record.h"
#include "search.h"
#include "tx.h"
#include "view.h"

static void set_error_message(bs_error *err, const char *msg);

/* ---- table sync --------------------------------------------------------- */

static int exec_buf(bs_conn *conn, bs_buf *sql, bs_error *err)
{
    char msg[512];
    if (sql->oom)
        return BS_ENOMEM;
    int rc = bs_conn_exec1(conn, sql->data, msg, sizeof msg);
    if (rc) {
        bs_log('D', "collection DDL failed: %s (%s)", msg, sql->data);
        bs_error_dispose(err);
        bs_error_set(err, 0, "%s", msg);
    }
    bs_buf_reset(sql);
    return rc;
}

static int field_name_cmp(const void *a, const void *b)
{
    return strcmp(bs_json_get_str(*(const json_object *const *)a, "name", ""),
                  bs_json_get_str(*(const json_object *const *)b, "name", ""));
}

static int create_table(bs_conn *conn, const json_object *col, bs_error *err)
{
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "CREATE TABLE ");
    bs_ddl_ident(&sql, bs_json_get_str(col, "name", ""));
    bs_buf_puts(&sql, " (");
    /* Columns in byte order of their names, as PocketBase creates them. */
    json_object *fields = bs_json_get(col, "fields");
    size_t n = json_object_array_length(fields);
    const json_object **sorted = calloc(n ? n : 1, sizeof *sorted);
    if (!sorted) {
        bs_buf_dispose(&sql);
        return BS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = json_object_array_get_idx(fields, i);
    qsort(sorted, n, sizeof *sorted, field_name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bs_buf_puts(&sql, ", ");
        bs_ddl_ident(&sql, bs_json_get_str(sorted[i], "name", ""));
        bs_buf_putc(&sql, ' ');
        bs_field_column_def(sorted[i], bs_conn_is_pg(conn), &sql);
    }
    free(sorted);
    /* PostgreSQL has no rowid: every table of its store gets one. */
    if (bs_conn_is_pg(conn))
        bs_buf_puts(&sql, ", \"_rowid\" bigint GENERATED ALWAYS AS IDENTITY UNIQUE");
    bs_buf_putc(&sql, ')');
    int rc = exec_buf(conn, &sql, err);
    bs_buf_dispose(&sql);
    return rc;
}

static int drop_indexes(bs_conn *conn, const json_object *col, bs_error *err)
{
    json_object *indexes = bs_json_get(col, "indexes");
    size_t n = json_object_array_length(indexes);
    bs_buf sql;
    bs_buf_init(&sql);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *raw =
            json_object_get_string(json_object_array_get_idx(indexes, i));
        bs_index idx;
        if (!raw || bs_index_parse(raw, &idx) != 0)
            continue;
        if (idx.index_name && *idx.index_name) {
            bs_buf_puts(&sql, "DROP INDEX IF EXISTS ");
            bs_ddl_ident(&sql, idx.index_name);
            rc = exec_buf(conn, &sql, err);
        }
        bs_index_dispose(&idx);
    }
    bs_buf_dispose(&sql);
    return rc;
}

/* Creates every index of col; failures become validation errors. */
static int create_indexes(bs_conn *conn, const json_object *col,
                          bs_error *err)
{
    json_object *indexes = bs_json_get(col, "indexes");
    size_t n = json_object_array_length(indexes);
    const char *name = bs_json_get_str(col, "name", "");
    bs_error verrs;
    bs_error_init(&verrs);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *raw =
            json_object_get_string(json_object_array_get_idx(indexes, i));
        char path[48];
        snprintf(path, sizeof path, "indexes.%zu", i);
        bs_index idx;
        if (bs_index_parse(raw ? raw : "", &idx) != 0) {
            rc = BS_ENOMEM;
            break;
        }
        if (bs_index_set(&idx.table_name, name) != 0) {
            bs_index_dispose(&idx);
            rc = BS_ENOMEM;
            break;
        }
        if (!bs_index_valid(&idx)) {
            bs_verr(&verrs, path, "validation_invalid_index_expression",
                    "Invalid CREATE INDEX expression.", NULL);
            bs_index_dispose(&idx);
            continue;
        }
        bs_buf sql;
        bs_buf_init(&sql);
        bs_index_build(&idx, &sql);
        char msg[512];
        if (sql.oom) {
            rc = BS_ENOMEM;
        } else if (bs_conn_exec1(conn, sql.data, msg, sizeof msg) != 0) {
            char text[800];
            snprintf(text, sizeof text, "Failed to create index %s - %s.",
                     idx.index_name, msg);
            bs_verr(&verrs, path, "validation_invalid_index_expression", text,
                    NULL);
        }
        bs_buf_dispose(&sql);
        bs_index_dispose(&idx);
    }
    if (rc == 0 && bs_error_has_fields(&verrs)) {
        bs_error_dispose(err);
        *err = verrs;
        bs_error_init(&verrs);
        bs_verr_sort(err);
        err->status = 400;
        rc = BS_EHTTP;
    }
    bs_error_dispose(&verrs);
    return rc;
}

static void temp_name(const char *base, const char *prefix, char *out,
                      size_t cap)
{
    char rnd[6];
    if (bs_random_string(rnd, 5, "abcdefghijklmnopqrstuvwxyz0123456789"))
        strcpy(rnd, "tmp00");
    snprintf(out, cap, "%s%s%s", prefix, base, rnd);
}

static int alter(bs_conn *conn, const char *table, const char *what,
                 const char *a, const char *b, const char *def, bs_error *err)
{
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "ALTER TABLE ");
    bs_ddl_ident(&sql, table);
    bs_buf_putc(&sql, ' ');
    bs_buf_puts(&sql, what);
    bs_buf_putc(&sql, ' ');
    bs_ddl_ident(&sql, a);
    if (b) {
        bs_buf_puts(&sql, " TO ");
        bs_ddl_ident(&sql, b);
    }
    if (def) {
        bs_buf_putc(&sql, ' ');
        bs_buf_puts(&sql, def);
    }
    int rc = exec_buf(conn, &sql, err);
    bs_buf_dispose(&sql);
    return rc;
}

typedef struct view_def {
    char *name;
    char *sql;
} view_def;

/* Drops every view (their SQL is kept to restore them afterwards), so
 * that columns they use may be rebuilt. */
static int views_stash(bs_conn *conn, view_def **out, int *count,
                       bs_error *err)
{
    *out = NULL;
    *count = 0;
    bs_rows st;
    if (bs_rows_open(&st, conn,
                     "SELECT name, sql FROM sqlite_master WHERE "
                     "type = 'view' AND sql IS NOT NULL",
                     -1, BS_ROWS_ONCE) != 0) {
        set_error_message(err, bs_conn_errmsg(conn));
        bs_rows_close(&st);
        return BS_EDB;
    }
    view_def *v = NULL;
    int n = 0, rc = 0;
    while (bs_rows_next(&st) == 1) {
        view_def *tmp = realloc(v, sizeof *v * (size_t)(n + 1));
        if (!tmp) {
            rc = BS_ENOMEM;
            break;
        }
        v = tmp;
        v[n].name = strdup(bs_rows_text(&st, 0, NULL));
        v[n].sql = strdup(bs_rows_text(&st, 1, NULL));
        n++;
    }
    bs_rows_close(&st);
    *out = v;
    *count = n;
    bs_buf sql;
    bs_buf_init(&sql);
    for (int i = 0; i < n && rc == 0; i++) {
        if (!v[i].name || !v[i].sql) {
            rc = BS_ENOMEM;
            break;
        }
        bs_buf_puts(&sql, "DROP VIEW IF EXISTS ");
        bs_ddl_ident(&sql, v[i].name);
        rc = exec_buf(conn, &sql, err);
    }
    bs_buf_dispose(&sql);
    return rc;
}

static void views_free(view_def *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].sql);
    }
    free(v);
}

/* PocketBase's normalizeSingleVsMultipleFieldChanges. */
static int convert_multiple(bs_conn *conn, const json_object *col,
                            const json_object *old, bs_error *err)
{
    const char *table = bs_json_get_str(col, "name", "");
    json_object *fields = bs_json_get(col, "fields");
    json_object *old_fields = bs_json_get(old, "fields");
    size_t n = json_object_array_length(fields);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        json_object *of =
            bs_fields_by_id(old_fields, bs_json_get_str(f, "id", ""));
        bool was = of && bs_field_is_multiple(of);
        bool is = bs_field_is_multiple(f);
        if (was == is)
            continue;
        view_def *views = NULL;
        int nviews = 0;
        rc = views_stash(conn, &views, &nviews, err);
        const char *name = bs_json_get_str(f, "name", "");
        char tmp[160];
        temp_name(name, "_", tmp, sizeof tmp);
        bs_buf def, sql;
        bs_buf_init(&def);
        bs_buf_init(&sql);
        bs_field_column_def(f, bs_conn_is_pg(conn), &def);
        if (rc == 0)
            rc = alter(conn, table, "RENAME COLUMN", name, tmp, NULL, err);
        if (rc == 0)
            rc = alter(conn, table, "ADD COLUMN", name, NULL, def.data, err);
        if (rc == 0) {
            bs_buf_puts(&sql, "UPDATE ");
            bs_ddl_ident(&sql, table);
            bs_buf_puts(&sql, " SET ");
            bs_ddl_ident(&sql, name);
            if (is) {
                /* One value to a list. */
                bs_buf_puts(&sql, " = (CASE WHEN COALESCE(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ", '') = '' THEN '[]' ELSE (CASE WHEN "
                                  "json_valid(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ") AND json_type(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ") == 'array' THEN ");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, " ELSE json_array(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ") END) END)");
            } else {
                /* A list to its last value. */
                bs_buf_puts(&sql, " = (CASE WHEN COALESCE(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ", '[]') = '[]' THEN '' ELSE (CASE WHEN "
                                  "json_valid(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ") AND json_type(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ") == 'array' THEN COALESCE(json_extract(");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, ", '$[#-1]'), '') ELSE ");
                bs_ddl_ident(&sql, tmp);
                bs_buf_puts(&sql, " END) END)");
            }
            rc = exec_buf(conn, &sql, err);
        }
        if (rc == 0)
            rc = alter(conn, table, "DROP COLUMN", tmp, NULL, NULL, err);
        for (int v = 0; v < nviews && rc == 0; v++) {
            bs_buf_puts(&sql, views[v].sql);
            rc = exec_buf(conn, &sql, err);
        }
        views_free(views, nviews);
        bs_buf_dispose(&def);
        bs_buf_dispose(&sql);
    }
    return rc;
}

static bool same_json(const json_object *a, const json_object *b)
{
    bs_buf x, y;
    bs_buf_init(&x);
    bs_buf_init(&y);
    bs_json_write_sorted(&x, a);
    bs_json_write_sorted(&y, b);
    bool same = x.len == y.len && (x.len == 0 || memcmp(x.data, y.data,
                                                        x.len) == 0);
    bs_buf_dispose(&x);
    bs_buf_dispose(&y);
    return same;
}

static bool table_exists(bs_conn *conn, const char *name)
{
    return bs_sql_has_table(conn, name, true);
}

static int sync_columns(bs_conn *conn, const json_object *col,
                        const json_object *old, bs_error *err)
{
    if (!old || !table_exists(conn, bs_json_get_str(old, "name", ""))) {
        int rc = create_table(conn, col, err);
        return rc ? rc : create_indexes(conn, col, err);
    }
    const char *old_table = bs_json_get_str(old, "name", "");
    const char *table = bs_json_get_str(col, "name", "");
    json_object *fields = bs_json_get(col, "fields");
    json_object *old_fields = bs_json_get(old, "fields");
    bool rename = strcasecmp(old_table, table) != 0;
    bool reindex = rename || !same_json(fields, old_fields) ||
                   !same_json(bs_json_get(col, "indexes"),
                              bs_json_get(old, "indexes"));
    int rc = 0;
    if (reindex)
        rc = drop_indexes(conn, old, err);
    if (rc == 0 && rename) {
        bs_buf sql;
        bs_buf_init(&sql);
        bs_buf_puts(&sql, "ALTER TABLE ");
        bs_ddl_ident(&sql, old_table);
        bs_buf_puts(&sql, " RENAME TO ");
        bs_ddl_ident(&sql, table);
        rc = exec_buf(conn, &sql, err);
        bs_buf_dispose(&sql);
    }
    /* Dropped columns. */
    size_t nold = json_object_array_length(old_fields);
    for (size_t i = 0; i < nold && rc == 0; i++) {
        json_object *of = json_object_array_get_idx(old_fields, i);
        if (bs_fields_by_id(fields, bs_json_get_str(of, "id", "")))
            continue;
        rc = alter(conn, table, "DROP COLUMN", bs_json_get_str(of, "name", ""),
                   NULL, NULL, err);
        if (rc) {
            char msg[600];
            snprintf(msg, sizeof msg, "failed to drop column %s - %s",
                     bs_json_get_str(of, "name", ""),
                     err->message ? err->message : "");
            bs_error_set(err, 0, "%s", msg);
        }
    }
    /* New and renamed columns, through temporary names. */
    size_t n = json_object_array_length(fields);
    char (*temps)[160] = calloc(n ? n : 1, sizeof *temps);
    if (!temps)
        return BS_ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_object *f = json_object_array_get_idx(fields, i);
        const char *name = bs_json_get_str(f, "name", "");
        json_object *of =
            bs_fields_by_id(old_fields, bs_json_get_str(f, "id", ""));
        if (!of) {
            temp_name(name, "", temps[i], sizeof temps[i]);
            bs_buf def;
            bs_buf_init(&def);
            bs_field_column_def(f, bs_conn_is_pg(conn), &def);
            rc = alter(conn, table, "ADD COLUMN", temps[i], NULL, def.data,
                       err);
            bs_buf_dispose(&def);
        } else if (strcmp(bs_json_get_str(of, "name", ""), name) != 0) {
            temp_name(name, "", temps[i], sizeof temps[i]);
            rc = alter(conn, table, "RENAME COLUMN",
                       bs_json_get_str(of, "name", ""), temps[i], NULL, err);
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!temps[i][0])
            continue;
        json_object *f = json_object_array_get_idx(fields, i);
        rc = alter(conn, table, "RENAME COLUMN", temps[i],
                   bs_json_get_str(f, "name", ""), NULL, err);
    }
    free(temps);
    if (rc == 0)
        rc = convert_multiple(conn, col, old, err);
    if (rc == 0 && reindex)
        rc = create_indexes(conn, col, err);
    return rc;
}

/* The search index's triggers name the table's columns, so a changed
 * index is dropped before the columns change and built after. */
int bs_collection_sync_table(bs_conn *conn, const json_object *col,
                             const json_object *old, bs_error *err)
{
    if (strcmp(bs_json_get_str(col, "type", ""), "view") == 0)
        return 0;
    int rc = bs_search_before_table_sync(conn, col, old, err);
    if (rc == 0)
        rc = sync_columns(conn, col, old, err);
    if (rc == 0)
        rc = bs_search_after_table_sync(conn, col, old, err);
    return rc;
}

/* ---- references --------------------------------------------------------- */

char *bs_collection_references(bs_conn *conn, const char *id)
{
    bs_buf names;
    bs_buf_init(&names);
    bs_rows st;
    if (bs_rows_open(&st, conn,
                     "SELECT name, fields FROM _collections WHERE "
                     "id != ?1 ORDER BY rowid",
                     -1, BS_ROWS_ONCE) == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        while (bs_rows_next(&st) == 1) {
            size_t len = 0;
            const char *text = bs_rows_text(&st, 1, &len);
            json_object *fields = NULL;
            if (!text || bs_json_parse(text, len, &fields) != 0)
                continue;
            size_t n = json_object_is_type(fields, json_type_array)
                           ? json_object_array_length(fields)
                           : 0;
            for (size_t i = 0; i < n; i++) {
                json_object *f = json_object_array_get_idx(fields, i);
                if (bs_ftype_of(bs_json_get_str(f, "type", "")) ==
                        BS_F_RELATION &&
                    strcmp(bs_json_get_str(f, "collectionId", ""), id) == 0) {
                    if (names.len)
                        bs_buf_puts(&names, ", ");
                    bs_buf_puts(&names, bs_rows_text(&st, 0, NULL));
                    break;
                }
            }
            json_object_put(fields);
        }
    }
    bs_rows_close(&st);
    char *out = strdup(names.data ? names.data : "");
    bs_buf_dispose(&names);
    return out;
}

/* ---- the hook chain ----------------------------------------------------- */

typedef struct save_ctx {
    json_object *col;
    const char *stored_id; /* updates: the id of the stored collection */
    json_object *original; /* the stored state (updates and deletes) */
    unsigned flags;
    bool is_delete;
    bs_error *err;
} save_ctx;

typedef struct after_ctx {
    json_object *col;
    bool failed;
    bool is_delete;
    int hook_success;
    int hook_error;
    bs_error error;
} after_ctx;

static void after_ctx_free(void *p)
{
    after_ctx *a = p;
    if (a->col)
        json_object_put(a->col);
    bs_error_dispose(&a->error);
    free(a);
}

static void after_run(bs_app *app, void *data, bool committed)
{
    after_ctx *a = data;
    if (!a->col)
        return;
    bool ok = committed && !a->failed;
    if (ok) {
        if (bs_app_reload_schema(app) != 0)
            bs_log('W', "Failed to reload the collections after a change");
        if (a->is_delete)
            bs_files_remove_dir(app, bs_json_get_str(a->col, "id", ""), NULL);
    }
    char id[128], name[256];
    snprintf(id, sizeof id, "%s", bs_json_get_str(a->col, "id", ""));
    snprintf(name, sizeof name, "%s", bs_json_get_str(a->col, "name", ""));
    bs_collection_event e = {.ev = {.app = app,
                                    .tags = {id, name},
                                    .error = ok ? NULL : &a->error},
                             .collection = a->col};
    bs_trigger_collection(app, ok ? a->hook_success : a->hook_error, &e,
                    NULL, NULL);
}

static int validate_final(bs_event *e, void *user)
{
    bs_collection_event *ce = (bs_collection_event *)e;
    save_ctx *sc = user;
    return bs_collection_validate(e->app, bs_tx_conn(ce->tx), ce->collection,
                                  sc->original, sc->err);
}

static bool same_rule(const json_object *a, const json_object *b)
{
    bool an = !json_object_is_type(a, json_type_string);
    bool bn = !json_object_is_type(b, json_type_string);
    if (an || bn)
        return an == bn;
    return strcmp(json_object_get_string((json_object *)a),
                  json_object_get_string((json_object *)b)) == 0;
}

static void set_error_message(bs_error *err, const char *msg)
{
    bs_error_dispose(err);
    bs_error_set(err, 0, "%s", msg);
}

static int execute_final(bs_event *e, void *user)
{
    bs_collection_event *ce = (bs_collection_event *)e;
    save_ctx *sc = user;
    json_object *col = ce->collection;
    bs_conn *conn = bs_tx_conn(ce->tx);
    bool is_new = sc->flags & BS_COLLECTION_NEW;
    const char *type = bs_json_get_str(col, "type", "");
    int rc = 0;

    if (!is_new && sc->original && strcmp(type, "auth") == 0 &&
        !same_rule(bs_json_get(col, "authRule"),
                   bs_json_get(sc->original, "authRule"))) {
        /* A changed auth rule invalidates the tokens issued before. */
        char secret[51];
        json_object *t = bs_json_get(col, "authToken");
        if (t && bs_random_string(secret, 50,
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                  "opqrstuvwxyz0123456789") == 0) {
            json_object *nt = json_object_new_object();
            json_object_object_add(nt, "secret",
                                   json_object_new_string(secret));
            json_object_object_add(nt, "duration",
                                   json_object_get(bs_json_get(t, "duration")));
            json_object_object_add(col, "authToken", nt);
        }
    }

    if (strcmp(type, "view") == 0) {
        char msg[600] = "";
        json_object *fields = NULL;
        const char *query = bs_json_get_str(col, "viewQuery", "");
        rc = bs_view_fields(e->app, conn, query, &fields, msg, sizeof msg);
        if (rc == 0 && sc->original)
            rc = bs_view_drop(conn, bs_json_get_str(sc->original, "name", ""),
                              msg, sizeof msg);
        if (rc == 0)
            rc = bs_view_save(conn, bs_json_get_str(col, "name", ""), query,
                              msg, sizeof msg);
        if (rc) {
            if (fields)
                json_object_put(fields);
            if (rc != BS_ENOMEM)
                set_error_message(sc->err, msg);
            return rc;
        }
        json_object_object_add(col, "fields", fields);
    }

    char msg[512] = "";
    rc = bs_collection_write_row(conn, col, is_new, msg, sizeof msg);
    if (rc) {
        set_error_message(sc->err, msg);
        return rc;
    }
    if (strcmp(type, "view") != 0)
        rc = bs_collection_sync_table(conn, col, is_new ? NULL : sc->original,
                                      sc->err);
    if (rc == 0 && !bs_conn_is_pg(conn)) {
        /* Views reading this collection may return other fields now; a
         * view that broke is only reported, as PocketBase does. (On
         * PostgreSQL, views are not supported by the store: it cannot
         * work out their fields; PostgreSQL keeps the dependencies of
         * the views an export created itself.) */
        char dep[600];
        if (bs_view_check_dependents(e->app, conn,
                                     bs_json_get_str(col, "id", ""), dep,
                                     sizeof dep) != 0)
            bs_log('W', "Dependent view collection(s) may need to be "
                        "updated after %s collection change: %s",
                   bs_json_get_str(col, "name", ""), dep);
    }
    return rc;
}

static int save_final(bs_event *e, void *user)
{
    save_ctx *sc = user;
    bs_app *app = e->app;
    int rc = 0;
    if (!(sc->flags & BS_COLLECTION_NO_VALIDATE)) {
        rc = bs_trigger_collection(app, BS_ON_COLLECTION_VALIDATE,
                                   (bs_collection_event *)e,
                             validate_final, sc);
        if (rc)
            return rc;
    }
    return bs_trigger_collection(app,
                                 sc->flags & BS_COLLECTION_NEW
                                     ? BS_ON_COLLECTION_CREATE_EXECUTE
                                     : BS_ON_COLLECTION_UPDATE_EXECUTE,
                                 (bs_collection_event *)e, execute_final, sc);
}

/* The OTPs, MFA sessions, OAuth2 links and known devices of a deleted
 * auth collection's records go with it, as in PocketBase. */
static int delete_auth_rows(bs_conn *conn, const char *collection_id,
                            bs_error *err)
{
    static const char *const sql[] = {
        "DELETE FROM _otps WHERE collectionRef = ?1",
        "DELETE FROM _mfas WHERE collectionRef = ?1",
        "DELETE FROM _externalAuths WHERE collectionRef = ?1",
        "DELETE FROM _authOrigins WHERE collectionRef = ?1",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        bs_rows st;
        if (bs_rows_open(&st, conn, sql[i], -1, BS_ROWS_FIXED) != 0)
            continue; /* a data directory without that system table */
        bs_rows_bind_text(&st, 1, collection_id, -1);
        int rc = bs_rows_exec(&st);
        if (rc < 0)
            set_error_message(err, bs_rows_errmsg(&st));
        bs_rows_close(&st);
        if (rc < 0)
            return BS_EDB;
    }
    return 0;
}

static int delete_execute_final(bs_event *e, void *user)
{
    bs_collection_event *ce = (bs_collection_event *)e;
    save_ctx *sc = user;
    json_object *col = ce->collection;
    bs_conn *conn = bs_tx_conn(ce->tx);
    const char *name = bs_json_get_str(col, "name", "");
    const char *id = bs_json_get_str(col, "id", "");
    char msg[800];
    if (bs_json_get_bool(col, "system", false)) {
        snprintf(msg, sizeof msg, "[%s] system collections cannot be deleted",
                 name);
        set_error_message(sc->err, msg);
        return BS_EINVAL;
    }
    if (!(sc->flags & BS_COLLECTION_NO_INTEGRITY)) {
        char *refs = bs_collection_references(conn, id);
        if (refs && *refs) {
            snprintf(msg, sizeof msg,
                     "[%s] failed to delete due to existing relation "
                     "references: %s",
                     name, refs);
            free(refs);
            set_error_message(sc->err, msg);
            return BS_EINVAL;
        }
        free(refs);
    }
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, strcmp(bs_json_get_str(col, "type", ""), "view") == 0
                          ? "DROP VIEW IF EXISTS "
                          : "DROP TABLE IF EXISTS ");
    bs_ddl_ident(&sql, name);
    int rc = exec_buf(conn, &sql, sc->err);
    bs_buf_dispose(&sql);
    if (rc == 0)
        rc = bs_search_drop(conn, id, sc->err);
    if (rc)
        return rc;
    /* PostgreSQL refuses itself to drop a table that a view reads (the
     * store cannot check views the SQLite way, see execute_final). */
    if (!(sc->flags & BS_COLLECTION_NO_INTEGRITY) && !bs_conn_is_pg(conn)) {
        rc = bs_view_check_dependents(e->app, conn, id, msg, sizeof msg);
        if (rc) {
            char text[900];
            snprintf(text, sizeof text,
                     "[%s] failed to delete due to existing view "
                     "dependency: %s",
                     name, msg);
            set_error_message(sc->err, text);
            return rc;
        }
    }
    if (strcmp(bs_json_get_str(col, "type", ""), "auth") == 0) {
        rc = delete_auth_rows(conn, id, sc->err);
        if (rc)
            return rc;
    }
    bs_rows st;
    rc = bs_rows_open(&st, conn, "DELETE FROM _collections WHERE id = ?1", -1,
                      BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, id, -1);
        rc = bs_rows_exec(&st);
        if (rc < 0)
            set_error_message(sc->err, bs_rows_errmsg(&st));
    }
    bs_rows_close(&st);
    return rc < 0 ? BS_EDB : 0;
}

static int delete_final(bs_event *e, void *user)
{
    return bs_trigger_collection(e->app, BS_ON_COLLECTION_DELETE_EXECUTE,
                                 (bs_collection_event *)e,
                           delete_execute_final, user);
}

/* A new collection whose id was generated from its name gets a number
 * appended when another collection has that id already. */
static void update_generated_id(bs_conn *conn, json_object *col)
{
    const char *type = bs_json_get_str(col, "type", "");
    const char *name = bs_json_get_str(col, "name", "");
    char buf[300], base[32];
    snprintf(buf, sizeof buf, "%s%s", type, name);
    snprintf(base, sizeof base, "pbc_%u", bs_crc32(buf, strlen(buf)));
    if (strcmp(bs_json_get_str(col, "id", ""), base) != 0)
        return;
    char cand[48];
    snprintf(cand, sizeof cand, "%s", base);
    bs_rows st;
    if (bs_rows_open(&st, conn, "SELECT 1 FROM _collections WHERE id = ?1",
                     -1, BS_ROWS_ONCE) != 0) {
        bs_rows_close(&st);
        return;
    }
    for (int i = 2; i < 1000; i++) {
        bs_rows_reset(&st);
        bs_rows_bind_text(&st, 1, cand, -1);
        if (bs_rows_next(&st) != 1)
            break;
        snprintf(cand, sizeof cand, "%s%d", base, i);
    }
    bs_rows_close(&st);
    if (strcmp(cand, base) == 0)
        return;
    /* Index names that carried the old id follow it. */
    json_object *indexes = bs_json_get(col, "indexes");
    size_t n = json_object_array_length(indexes);
    for (size_t i = 0; i < n; i++) {
        const char *raw =
            json_object_get_string(json_object_array_get_idx(indexes, i));
        bs_index idx;
        if (!raw || bs_index_parse(raw, &idx) != 0)
            continue;
        const char *hit = idx.index_name ? strstr(idx.index_name, base) : NULL;
        if (hit) {
            bs_buf nn;
            bs_buf_init(&nn);
            bs_buf_append(&nn, idx.index_name,
                          (size_t)(hit - idx.index_name));
            bs_buf_puts(&nn, cand);
            bs_buf_puts(&nn, hit + strlen(base));
            if (!nn.oom && bs_index_set(&idx.index_name, nn.data) == 0) {
                bs_buf b;
                bs_buf_init(&b);
                bs_index_build(&idx, &b);
                if (b.len && !b.oom)
                    json_object_array_put_idx(indexes, i,
                                              json_object_new_string(b.data));
                bs_buf_dispose(&b);
            }
            bs_buf_dispose(&nn);
        }
        bs_index_dispose(&idx);
    }
    json_object_object_add(col, "id", json_object_new_string(cand));
}

static int action_tx(bs_tx *tx, void *data)
{
    save_ctx *sc = data;
    bs_app *app = bs_tx_app(tx);
    bs_conn *conn = bs_tx_conn(tx);
    bool is_new = sc->flags & BS_COLLECTION_NEW;
    after_ctx *a = calloc(1, sizeof *a);
    if (!a)
        return BS_ENOMEM;
    bs_error_init(&a->error);
    a->is_delete = sc->is_delete;
    a->hook_success = sc->is_delete ? BS_ON_COLLECTION_AFTER_DELETE_SUCCESS
                      : is_new      ? BS_ON_COLLECTION_AFTER_CREATE_SUCCESS
                                    : BS_ON_COLLECTION_AFTER_UPDATE_SUCCESS;
    a->hook_error = sc->is_delete ? BS_ON_COLLECTION_AFTER_DELETE_ERROR
                    : is_new      ? BS_ON_COLLECTION_AFTER_CREATE_ERROR
                                  : BS_ON_COLLECTION_AFTER_UPDATE_ERROR;
    if (bs_tx_after(tx, after_run, a, after_ctx_free) != 0)
        return BS_ENOMEM;

    int rc = 0;
    if (!is_new) {
        const char *key = sc->stored_id ? sc->stored_id
                                        : bs_json_get_str(sc->col, "id", "");
        rc = bs_collection_load(conn, key, &sc->original);
        if (rc == 0 &&
            strcmp(bs_json_get_str(sc->original, "id", ""), key) != 0) {
            json_object_put(sc->original);
            sc->original = NULL;
            rc = BS_ENOTFOUND;
        }
        if (rc)
            set_error_message(sc->err, rc == BS_ENOTFOUND
                                           ? "The collection does not exist."
                                           : "Failed to load the collection.");
    }
    if (rc == 0 && is_new && !sc->is_delete &&
        (sc->flags & BS_COLLECTION_DEFAULTS))
        rc = bs_collection_normalize(sc->col, sc->err);
    if (rc == 0 && !sc->is_delete) {
        bs_collection_prepare_save(sc->col, is_new);
        if (is_new)
            update_generated_id(conn, sc->col);
    }
    char id[128], name[256];
    snprintf(id, sizeof id, "%s", bs_json_get_str(sc->col, "id", ""));
    snprintf(name, sizeof name, "%s", bs_json_get_str(sc->col, "name", ""));
    if (rc == 0) {
        bs_collection_event e = {.ev = {.app = app,
                                        .tags = {id, name},
                                        .error = sc->err},
                                 .tx = tx,
                                 .collection = sc->col};
        int hook = sc->is_delete ? BS_ON_COLLECTION_DELETE
                   : is_new      ? BS_ON_COLLECTION_CREATE
                                 : BS_ON_COLLECTION_UPDATE;
        rc = bs_trigger_collection(app, hook, &e,
                             sc->is_delete ? delete_final : save_final, sc);
    }
    a->col = NULL;
    json_object_deep_copy(sc->col, &a->col, NULL);
    if (rc) {
        a->failed = true;
        a->error.status = sc->err->status;
        a->error.message = sc->err->message ? strdup(sc->err->message) : NULL;
    }
    return rc;
}

static int run_action(bs_app *app, json_object *col, const char *stored_id,
                      unsigned flags, bool is_delete, bs_error *err)
{
    save_ctx sc = {.col = col, .stored_id = stored_id, .flags = flags,
                   .is_delete = is_delete, .err = err};
    int rc = bs_run_in_transaction(app, action_tx, &sc, err);
    if (sc.original)
        json_object_put(sc.original);
    return rc;
}

int bs_collection_save(bs_app *app, json_object *col, const char *stored_id,
                       unsigned flags, bs_error *err)
{
    return run_action(app, col, stored_id,
                      flags & ~(unsigned)BS_COLLECTION_NO_INTEGRITY, false,
                      err);
}

int bs_collection_delete(bs_app *app, json_object *col, unsigned flags,
                         bs_error *err)
{
    return run_action(app, col, NULL, flags & ~(unsigned)BS_COLLECTION_NEW,
                      true, err);
}

/* ---- truncate ----------------------------------------------------------- */

typedef struct truncate_ctx {
    bs_schema *schema;
    const bs_collection *c;
    bs_error *err;
} truncate_ctx;

static int truncate_tx(bs_tx *tx, void *data)
{
    truncate_ctx *t = data;
    bs_app *app = bs_tx_app(tx);
    bs_conn *conn = bs_tx_conn(tx);
    bs_buf sql;
    bs_buf_init(&sql);
    bs_buf_puts(&sql, "SELECT * FROM ");
    bs_ddl_ident(&sql, t->c->name);
    bs_buf_puts(&sql, " LIMIT 500");
    if (sql.oom)
        return BS_ENOMEM;
    int rc = 0;
    char first[128] = "";
    for (;;) {
        bs_rows st;
        if (bs_rows_open(&st, conn, sql.data, (long)sql.len, BS_ROWS_ONCE) !=
            0) {
            set_error_message(t->err, bs_conn_errmsg(conn));
            bs_rows_close(&st);
            rc = BS_EDB;
            break;
        }
        bs_record **recs = NULL;
        int n = 0;
        while (bs_rows_next(&st) == 1) {
            bs_record **tmp = realloc(recs, sizeof *recs * (size_t)(n + 1));
            if (!tmp)
                break;
            recs = tmp;
            recs[n] = bs_record_from_row(t->schema, t->c, &st);
            if (recs[n])
                n++;
        }
        bs_rows_close(&st);
        if (n == 0) {
            free(recs);
            break;
        }
        /* A batch starting where the last one did means the deletes did
         * not happen (a hook kept the records): stop instead of looping. */
        if (strcmp(first, bs_record_id(recs[0])) == 0) {
            set_error_message(t->err, "records could not be deleted");
            rc = BS_EABORT;
        }
        snprintf(first, sizeof first, "%s", bs_record_id(recs[0]));
        for (int i = 0; i < n && rc == 0; i++)
            rc = bs_record_delete(app, recs[i], t->err);
        for (int i = 0; i < n; i++)
            bs_record_free(recs[i]);
        free(recs);
        if (rc)
            break;
    }
    bs_buf_dispose(&sql);
    return rc;
}

int bs_collection_truncate(bs_app *app, const char *key, bs_error *err)
{
    bs_schema *schema = bs_app_schema(app);
    const bs_collection *c = bs_schema_find(schema, key);
    int rc;
    if (!c) {
        rc = BS_ENOTFOUND;
    } else if (strcmp(c->type, "view") == 0) {
        set_error_message(err, "view collections cannot be truncated since "
                               "they don't store their own records");
        rc = BS_EINVAL;
    } else {
        truncate_ctx t = {.schema = schema, .c = c, .err = err};
        rc = bs_run_in_transaction(app, truncate_tx, &t, err);
    }
    bs_schema_unref(schema);
    return rc;
}
