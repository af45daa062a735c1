/*
 * migrate.c - system migrations of the data directory.
 *
 * Migrations are recorded in data.db's `_migrations` table under the file
 * names PocketBase uses, with the time applied in microseconds, so that
 * PocketBase opening a directory made by Basalt finds nothing left to do.
 * Every data.db migration runs in one transaction with its record.
 */
#include "migrate.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../base/json.h"
#include "../base/util.h"
#include "../db/rows.h"
#include "../db/sql.h"
#include "../db/store.h"
#include "../filter/dialect.h"
#include "app.h"
#include "collection.h"

extern const char bs_default_system_collections[]; /* generated */

typedef int (*migrate_fn)(bs_conn *c, bs_error *err);

static int init_data(bs_conn *c, bs_error *err);
static int init_aux_placeholder(bs_conn *c, bs_error *err);

/* PocketBase's system migrations, in order. Those without a function
 * changed older data layouts that a fresh install never has; a fresh
 * directory records them as applied so nothing tries to run them later. */
static const struct {
    const char *file;
    migrate_fn fn;
} MIGRATIONS[] = {
    {"1640988000_init.go", init_data},
    {"1640988000_aux_init.go", init_aux_placeholder},
    {"1717233556_v0.23_migrate.go", NULL},
    {"1717233557_v0.23_migrate2.go", NULL},
    {"1717233558_v0.23_migrate3.go", NULL},
    {"1717233559_v0.23_migrate4.go", NULL},
    {"1763020353_update_default_auth_alert_templates.go", NULL},
    {"1778828400_normalize_indexes.go", NULL},
};

static const char AUX_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS `_logs` ("
    "`id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,"
    "`level` INTEGER DEFAULT 0 NOT NULL,"
    "`message` TEXT DEFAULT \"\" NOT NULL,"
    "`data` JSON DEFAULT \"{}\" NOT NULL,"
    "`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL);"
    "CREATE INDEX IF NOT EXISTS idx_logs_level on `_logs` (`level`);"
    "CREATE INDEX IF NOT EXISTS idx_logs_message on `_logs` (`message`);"
    "CREATE INDEX IF NOT EXISTS idx_logs_created_hour on `_logs` "
    "(strftime('%Y-%m-%d %H:00:00', `created`));";

/* The system tables in PostgreSQL's words (docs/scale.md, "The
 * mapping"): JSON as text, booleans as boolean, and the "_rowid"
 * identity column that every table of the store has. */
#define PG_NOW "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS\"Z\"')"
#define PG_ROWID "\"_rowid\" bigint GENERATED ALWAYS AS IDENTITY UNIQUE"

static const char PG_TABLES[] =
    "CREATE TABLE \"_params\" ("
    "\"id\" text PRIMARY KEY NOT NULL,"
    "\"value\" text DEFAULT NULL,"
    "\"created\" text DEFAULT " PG_NOW " NOT NULL,"
    "\"updated\" text DEFAULT " PG_NOW " NOT NULL," PG_ROWID ");"
    "CREATE TABLE \"_collections\" ("
    "\"id\" text PRIMARY KEY NOT NULL,"
    "\"system\" boolean DEFAULT FALSE NOT NULL,"
    "\"type\" text DEFAULT 'base' NOT NULL,"
    "\"name\" text UNIQUE NOT NULL,"
    "\"fields\" text DEFAULT '[]' NOT NULL,"
    "\"indexes\" text DEFAULT '[]' NOT NULL,"
    "\"listRule\" text DEFAULT NULL,"
    "\"viewRule\" text DEFAULT NULL,"
    "\"createRule\" text DEFAULT NULL,"
    "\"updateRule\" text DEFAULT NULL,"
    "\"deleteRule\" text DEFAULT NULL,"
    "\"options\" text DEFAULT '{}' NOT NULL,"
    "\"created\" text DEFAULT " PG_NOW " NOT NULL,"
    "\"updated\" text DEFAULT " PG_NOW " NOT NULL," PG_ROWID ");"
    "CREATE INDEX IF NOT EXISTS idx__collections_type ON \"_collections\" "
    "(\"type\");";

static const char PG_MIGRATIONS[] =
    "CREATE TABLE IF NOT EXISTS \"_migrations\" (\"file\" varchar(255) "
    "PRIMARY KEY NOT NULL, \"applied\" bigint NOT NULL, " PG_ROWID ")";

static int init_data(bs_conn *c, bs_error *err)
{
    static const char tables[] =
        "CREATE TABLE `_params` ("
        "`id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) "
        "NOT NULL,"
        "`value` JSON DEFAULT NULL,"
        "`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,"
        "`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL);"
        "CREATE TABLE `_collections` ("
        "`id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) "
        "NOT NULL,"
        "`system` BOOLEAN DEFAULT FALSE NOT NULL,"
        "`type` TEXT DEFAULT \"base\" NOT NULL,"
        "`name` TEXT UNIQUE NOT NULL,"
        "`fields` JSON DEFAULT \"[]\" NOT NULL,"
        "`indexes` JSON DEFAULT \"[]\" NOT NULL,"
        "`listRule` TEXT DEFAULT NULL,"
        "`viewRule` TEXT DEFAULT NULL,"
        "`createRule` TEXT DEFAULT NULL,"
        "`updateRule` TEXT DEFAULT NULL,"
        "`deleteRule` TEXT DEFAULT NULL,"
        "`options` JSON DEFAULT \"{}\" NOT NULL,"
        "`created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,"
        "`updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL);"
        "CREATE INDEX IF NOT EXISTS idx__collections_type on `_collections` "
        "(`type`);";
    int rc = bs_conn_exec(c, bs_conn_is_pg(c) ? PG_TABLES : tables, err);
    if (rc)
        return rc;
    json_object *cols = NULL;
    if (bs_json_parse(bs_default_system_collections,
                      strlen(bs_default_system_collections), &cols) != 0 ||
        !cols)
        return bs_error_set(err, 500, "Invalid built-in collections.");
    size_t n = json_object_array_length(cols);
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_object *col = json_object_array_get_idx(cols, i);
        rc = bs_collection_normalize(col, err);
        if (rc == 0)
            rc = bs_collection_create(c, col, err);
    }
    json_object_put(cols);
    return rc;
}

/* The _logs table lives in auxiliary.db and is created (if missing) at
 * every start by bs_migrate_run; the record only marks it as done. */
static int init_aux_placeholder(bs_conn *c, bs_error *err)
{
    (void)c;
    (void)err;
    return 0;
}

static bool applied(bs_conn *c, const char *file)
{
    int64_t one = 0;
    return bs_conn_query_int(c, "SELECT 1 FROM _migrations WHERE file = ?1",
                             -1, BS_ROWS_FIXED, file, &one) == 1;
}

static int record(bs_conn *c, const char *file, bs_error *err)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    bs_rows st;
    int rc = bs_rows_open(
        &st, c, "INSERT INTO _migrations (file, applied) VALUES (?1, ?2)", -1,
        BS_ROWS_FIXED);
    if (rc == 0) {
        bs_rows_bind_text(&st, 1, file, -1);
        bs_rows_bind_int(&st, 2, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec);
        rc = bs_rows_exec(&st);
    }
    bs_rows_close(&st);
    return rc >= 0 ? 0
                   : bs_error_set(err, 500, "Failed to record a migration.");
}

int bs_migrate_run(bs_app *app, bs_error *err)
{
    bs_conn *aux = bs_store_aux_acquire(app->store);
    int rc = bs_conn_exec(aux, AUX_SCHEMA, err);
    bs_store_aux_release(app->store, aux);
    if (rc)
        return bs_error_set(err, 500, "Failed to prepare auxiliary.db.");

    bs_conn *c = NULL;
    rc = bs_store_tx_begin(app->store, &c, err);
    if (rc)
        return rc;
    if (bs_conn_is_pg(c)) {
        /* One node at a time (several may start at once); then the
         * filter dialect's helper functions (CREATE OR REPLACE). */
        rc = bs_conn_exec(c, BS_PG_SETUP_LOCK, err);
        if (rc == 0)
            rc = bs_conn_exec(c, bs_sql_dialect_postgres_setup(), err);
        if (rc == 0)
            rc = bs_conn_exec(c, PG_MIGRATIONS, err);
    } else {
        rc = bs_conn_exec(c, "CREATE TABLE IF NOT EXISTS `_migrations` (file "
                             "VARCHAR(255) PRIMARY KEY NOT NULL, applied "
                             "INTEGER NOT NULL)",
                          err);
    }
    /* A directory that already has collections was made by PocketBase
     * (or an earlier run): its layout is current, nothing is rewritten. */
    bool existing = rc == 0 && bs_sql_has_table(c, "_collections", false);
    for (size_t i = 0; rc == 0 && i < sizeof MIGRATIONS / sizeof MIGRATIONS[0];
         i++) {
        if (applied(c, MIGRATIONS[i].file))
            continue;
        if (MIGRATIONS[i].fn && !(existing && MIGRATIONS[i].fn == init_data)) {
            bs_log('I', "Applying system migration %s", MIGRATIONS[i].file);
            rc = MIGRATIONS[i].fn(c, err);
        }
        if (rc == 0 && !existing)
            rc = record(c, MIGRATIONS[i].file, err);
    }
    int end = bs_store_tx_end(app->store, rc == 0, err);
    return rc ? rc : end;
}
