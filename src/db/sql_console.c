/*
 * sql_console.c - the SQL console's engine work (see sql_console.h).
 *
 * The authorizer is installed on the borrowed connection for the length
 * of the run and removed before the connection goes back, as is the
 * deadline. Pragmas that change a connection's settings are refused
 * too: readers are shared by every request, and the writer's settings
 * (synchronous, foreign keys) are the store's; pragmas that only read
 * (no value, or one of the introspection pragmas that take a name) are
 * allowed.
 */
#include "sql_console.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../base/buf.h"
#include "../base/error.h"
#include "../base/util.h"

static const char *const WRITE_PREFIXES[] = {
    "INSERT", "CREATE", "UPDATE", "DELETE",
    "DROP",   "DETACH", "ALTER",  "REPLACE"};

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

bool bs_sql_console_is_write(const char *query)
{
    const char *q = skip_space(query);
    if (strncasecmp(q, "SELECT", 6) == 0)
        return false;
    for (size_t i = 0; i < sizeof WRITE_PREFIXES / sizeof *WRITE_PREFIXES;
         i++) {
        if (strncasecmp(q, WRITE_PREFIXES[i], strlen(WRITE_PREFIXES[i])) == 0)
            return true;
    }
    return false;
}

/* Pragmas that take a name argument and only read. */
static const char *const READ_PRAGMAS[] = {
    "table_info",   "table_xinfo",       "table_list",
    "index_list",   "index_info",        "index_xinfo",
    "foreign_key_list", "foreign_key_check", "integrity_check",
    "quick_check",  "function_list",     "pragma_list",
    "collation_list", "database_list",   "compile_options"};

typedef struct guard {
    const bs_sql_console_opts *o;
    char reason[200]; /* why the last refusal happened */
} guard;

/* Records why: the reason, with name quoted after it when given. */
static int deny(guard *g, const char *reason, const char *name)
{
    if (name)
        snprintf(g->reason, sizeof g->reason, "not authorized: %s \"%s\"",
                 reason, name);
    else
        snprintf(g->reason, sizeof g->reason, "not authorized: %s", reason);
    return SQLITE_DENY;
}

static int authorize(void *user, int action, const char *a1, const char *a2,
                     const char *db, const char *trigger)
{
    guard *g = user;
    (void)db;
    switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return deny(g, "ATTACH and DETACH are not allowed", NULL);
    case SQLITE_TRANSACTION:
        return deny(g, "the console runs each query in its own "
                       "transaction", NULL);
    case SQLITE_PRAGMA:
        if (!a2)
            return SQLITE_OK;
        for (size_t i = 0; i < sizeof READ_PRAGMAS / sizeof *READ_PRAGMAS;
             i++) {
            if (a1 && strcasecmp(a1, READ_PRAGMAS[i]) == 0)
                return SQLITE_OK;
        }
        return deny(g, "settings cannot be changed from the console: "
                       "PRAGMA", a1);
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_VIEW:
    case SQLITE_ALTER_TABLE: {
        const char *name = action == SQLITE_ALTER_TABLE ? a2 : a1;
        if (!trigger && g->o->protect && name &&
            g->o->protect(g->o->user, name))
            return deny(g, "collections' tables change only through the "
                           "collections API:", name);
        return SQLITE_OK;
    }
    default:
        return SQLITE_OK;
    }
}

/* Copies the failure of db (or the guard's reason) into msg, spelled
 * as PocketBase's SQLite driver spells errors: "SQL logic error: near
 * \"x\": syntax error (1)". */
static int fail(sqlite3 *db, const guard *g, char *msg, size_t cap)
{
    int code = sqlite3_extended_errcode(db);
    const char *text = (code & 0xff) == SQLITE_AUTH && g->reason[0]
                           ? g->reason
                           : sqlite3_errmsg(db);
    snprintf(msg, cap, "%s: %s (%d)", sqlite3_errstr(code), text, code);
    return BS_EDB;
}

/* The value of column i as Go's SQLite driver scans it into a string. */
static json_object *cell(sqlite3_stmt *st, int i)
{
    bs_buf b;
    json_object *v = NULL;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return NULL;
    case SQLITE_INTEGER: {
        sqlite3_int64 n = sqlite3_column_int64(st, i);
        char t[32];
        snprintf(t, sizeof t, "%lld", (long long)n);
        return json_object_new_string(t);
    }
    case SQLITE_FLOAT:
        bs_buf_init(&b);
        bs_buf_go_float(&b, sqlite3_column_double(st, i));
        v = b.oom ? NULL : json_object_new_string_len(b.data, (int)b.len);
        bs_buf_dispose(&b);
        return v;
    default: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        int n = sqlite3_column_bytes(st, i);
        return json_object_new_string_len(t ? t : "", n);
    }
    }
}

static json_object *columns_of(sqlite3_stmt *st)
{
    json_object *cols = json_object_new_array();
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        const char *decl = sqlite3_column_decltype(st, i);
        char type[64];
        snprintf(type, sizeof type, "%s", decl ? decl : "");
        for (char *p = type; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        json_object *c = json_object_new_object();
        const char *name = sqlite3_column_name(st, i);
        json_object_object_add(c, "name",
                               json_object_new_string(name ? name : ""));
        json_object_object_add(c, "type", json_object_new_string(type));
        /* Go's driver cannot tell; it reports every column nullable. */
        json_object_object_add(c, "nullable", json_object_new_boolean(1));
        json_object_array_add(cols, c);
    }
    return cols;
}

/* Reads: compiles every statement, runs the last. */
static int run_read(sqlite3 *db, guard *g, const char *query, int max_rows,
                    json_object *res, char *msg, size_t cap)
{
    sqlite3_stmt *last = NULL;
    const char *sql = query;
    int rc = 0;
    while (*sql) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
            rc = fail(db, g, msg, cap);
            goto end;
        }
        if (st) {
            sqlite3_finalize(last);
            last = st;
        }
        sql = tail;
    }
    json_object *rows = json_object_new_array();
    json_object_object_add(res, "columns",
                           last ? columns_of(last) : json_object_new_array());
    json_object_object_add(res, "rows", rows);
    if (!last)
        goto end;
    int ncol = sqlite3_column_count(last);
    int got = 0;
    int step;
    while (got < max_rows && (step = sqlite3_step(last)) == SQLITE_ROW) {
        json_object *row = json_object_new_array();
        for (int i = 0; i < ncol; i++)
            json_object_array_add(row, cell(last, i));
        json_object_array_add(rows, row);
        got++;
    }
    if (got < max_rows && step != SQLITE_DONE)
        rc = fail(db, g, msg, cap);

end:
    sqlite3_finalize(last);
    return rc;
}

/* Writes: runs every statement in order; the caller holds the
 * transaction. */
static int run_write(sqlite3 *db, guard *g, const char *query,
                     int64_t *affected, char *msg, size_t cap)
{
    const char *sql = query;
    while (*sql) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK)
            return fail(db, g, msg, cap);
        sql = tail;
        if (!st)
            continue;
        sqlite3_int64 before = sqlite3_total_changes64(db);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        }
        sqlite3_finalize(st);
        if (step != SQLITE_DONE)
            return fail(db, g, msg, cap);
        *affected = (int64_t)(sqlite3_total_changes64(db) - before);
    }
    return 0;
}

int bs_sql_console_run(bs_store *s, const char *query,
                       const bs_sql_console_opts *o, json_object **out,
                       bool *wrote, char *msg, size_t cap)
{
    *out = NULL;
    *wrote = false;
    msg[0] = '\0';
    if (!*skip_space(query)) {
        snprintf(msg, cap, "empty query");
        return BS_EDB;
    }
    if (bs_store_is_pg(s)) {
        snprintf(msg, cap, "the SQL console is not supported on the "
                           "PostgreSQL store yet");
        return BS_EDB;
    }
    guard g = {.o = o};
    bool write = bs_sql_console_is_write(query);
    bs_conn *c = NULL;
    int rc = 0;
    if (write) {
        bs_error err;
        bs_error_init(&err);
        rc = bs_store_tx_begin(s, &c, &err);
        if (rc)
            snprintf(msg, cap, "%s", err.message ? err.message : "busy");
        bs_error_dispose(&err);
        if (rc)
            return BS_EDB;
    } else {
        c = bs_store_reader_acquire(s);
    }
    sqlite3 *db = bs_conn_db(c);
    int64_t deadline = o->timeout_ms > 0 ? bs_mono_ms() + o->timeout_ms : 0;
    bs_conn_set_deadline(c, deadline);
    sqlite3_set_authorizer(db, authorize, &g);
    json_object *res = json_object_new_object();
    int64_t affected = 0;
    if (write) {
        rc = run_write(db, &g, query, &affected, msg, cap);
        json_object_object_add(res, "affectedRows",
                               json_object_new_int64(rc ? 0 : affected));
        json_object_object_add(res, "columns", json_object_new_array());
        json_object_object_add(res, "rows", json_object_new_array());
    } else {
        json_object_object_add(res, "affectedRows", json_object_new_int(0));
        rc = run_read(db, &g, query, o->max_rows > 0 ? o->max_rows : 1000,
                      res, msg, cap);
    }
    sqlite3_set_authorizer(db, NULL, NULL);
    if (write) {
        bs_conn_set_deadline(c, 0);
        bs_error err;
        bs_error_init(&err);
        int end = bs_store_tx_end(s, rc == 0, &err);
        if (rc == 0 && end) {
            snprintf(msg, cap, "%s", err.message ? err.message : "commit");
            rc = BS_EDB;
        }
        bs_error_dispose(&err);
        *wrote = rc == 0;
    } else {
        bs_conn_set_deadline(c, bs_mono_ms() + BS_READ_TIMEOUT_MS);
        bs_store_reader_release(s, c);
    }
    if (rc)
        json_object_put(res);
    else
        *out = res;
    return rc;
}
