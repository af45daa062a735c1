/*
 * sql.c - the SQL console, for superusers (PocketBase v0.39's
 * apis/sql.go):
 *
 *   POST /api/sql {query}  -> {execTime, affectedRows,
 *                              columns: [{name, type, nullable}],
 *                              rows: [[text|null, ...]]}
 *
 * query is required and at most 5000 characters; at most 1000 rows come
 * back; a query runs at most 3 minutes (BASALT_SQL_TIMEOUT_MS). How a
 * query is classified and run is src/db/sql_console.c. Failures are 400
 * "Failed to execute query. Raw error:\n<SQLite's message>".
 *
 * The schema stays true: a write may not drop or alter the table or view
 * of a collection (refused with that 400; the collections API does
 * that), and after every committed write the schema snapshot and the
 * settings are reloaded, so rows written to `_collections` or `_params`
 * by hand take effect at once.
 */
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "../base/json.h"
#include "../core/cluster.h"
#include "../db/sql_console.h"
#include "api.h"
#include "auth_internal.h"

#define SQL_MAX_LENGTH 5000
#define SQL_MAX_ROWS 1000
#define SQL_TIMEOUT_MS (3 * 60 * 1000)

static bool is_collection_table(void *user, const char *table)
{
    return bs_schema_find(user, table) != NULL;
}

static int timeout_ms(void)
{
    const char *v = getenv("BASALT_SQL_TIMEOUT_MS");
    int n = v ? atoi(v) : 0;
    return n > 0 ? n : SQL_TIMEOUT_MS;
}

static int sql_run(bs_event *e, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)e;
    bs_app *app = e->app;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL;
    json_object *res = NULL;
    bs_schema *schema = NULL;
    if (bs_req_json_body(r, &body, &err) != 0)
        goto end; /* answered */
    const char *query = bs_json_get_str(body, "query", "");
    if (!bsa_check_required(&err, "query", query) ||
        !bsa_check_length(&err, "query", query, 0, SQL_MAX_LENGTH)) {
        err.status = 400;
        bs_error_set(&err, 400, "An error occurred while validating the "
                                "submitted data.");
        bs_resp_error(r, &err);
        goto end;
    }
    schema = bs_app_schema(app);
    bs_sql_console_opts o = {.max_rows = SQL_MAX_ROWS,
                             .timeout_ms = timeout_ms(),
                             .protect = is_collection_table,
                             .user = schema};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_object *out = NULL;
    bool wrote = false;
    char msg[1024];
    int rc = bs_sql_console_run(app->store, query, &o, &out, &wrote, msg,
                                sizeof msg);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (wrote) {
        bs_app_reload_snapshots(app);
        bs_cluster_notify(app, BS_CLUSTER_SCHEMA | BS_CLUSTER_SETTINGS);
    }
    if (rc) {
        bs_error_set(&err, 400, "Failed to execute query. Raw error:\n%s",
                     msg);
        bs_resp_error(r, &err);
        goto end;
    }
    int64_t ms = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
                 (t1.tv_nsec - t0.tv_nsec) / 1000000;
    res = json_object_new_object();
    json_object_object_add(res, "execTime", json_object_new_int64(ms));
    json_object_object_foreach(out, k, v)
    {
        json_object_object_add(res, k, json_object_get(v));
    }
    json_object_put(out);
    bs_resp_json(r, 200, res);

end:
    json_object_put(res);
    json_object_put(body);
    bs_schema_unref(schema);
    bs_error_dispose(&err);
    return 0;
}

int bs_api_sql_register(bs_app *app)
{
    return bs_api_superuser_route(app, "POST", "/api/sql", sql_run)
               ? 0
               : BS_ENOMEM;
}
