/*
 * api.h - the HTTP API: route registration and the handlers of each area.
 *
 * One file per area (health.c, settings.c, ...), each exporting a
 * bs_api_<area>_register function; routes.c wires the global middlewares
 * and calls every area in order; serve.c runs the server (bs_app_serve).
 */
#ifndef BS_API_H
#define BS_API_H

#include "../core/app.h"
#include "../core/s3.h"
#include "../http/cors.h"
#include "../http/static.h"

/* What serving adds to an app for the length of one bs_app_serve
 * (serve.c): the CORS configuration and the pb_public folder, which the
 * global middlewares and the catch-all static route point to. It lives
 * on bs_app_serve's stack; the core never sees it. */
typedef struct bs_api_serving {
    char *upload_dir;   /* where multipart file parts are spooled */
    bs_cors *cors;
    bs_static pub;
    bool has_pub;
} bs_api_serving;

/* Registers middlewares and every built-in route, filling sv (zeroed by
 * the caller); the caller releases sv once the server has stopped, also
 * when this fails. */
int bs_api_register(bs_app *app, bs_api_serving *sv);

int bs_api_health_register(bs_app *app);
int bs_api_settings_register(bs_app *app);
int bs_api_records_register(bs_app *app);
int bs_api_collections_register(bs_app *app);
int bs_api_batch_register(bs_app *app);

/* GET /_ and /_/... : the embedded admin dashboard (dashboard.c). */
int bs_api_dashboard_register(bs_app *app);

/* GET /api/files/... and POST /api/files/token (files.c). */
int bs_api_files_register(bs_app *app);

/* The upload limit of a streamed multipart body (bs_upload_config's
 * limit; user is the app): a records request's file field maxSize per
 * key, the sum of maxSize x maxSelect of its fields for all the files;
 * for a batch the same over every collection; 0 for other requests. */
uint64_t bsa_upload_limit(void *user, bs_req *r, const char *key);

/* Streams the S3 object key to r with the headers and ranges of a local
 * file, as name (files.c). Returns the content type, or NULL when the
 * object is missing (nothing answered). */
const char *bsa_serve_s3(bs_req *r, const bs_s3 *s3, const char *key,
                         const char *name);

/* The backups API (backups.c). */
int bs_api_backups_register(bs_app *app);

/* The upload limit of POST /api/backups/upload: unlimited for a
 * superuser's Authorization header, 0 for anybody else. */
uint64_t bsa_backup_upload_limit(bs_app *app, bs_req *r);

/* GET /api/crons and POST /api/crons/{id} (crons.c). */
int bs_api_crons_register(bs_app *app);

/* The request logger middleware and GET /api/logs, /api/logs/stats,
 * /api/logs/{id} (logs.c). */
int bs_api_logs_register(bs_app *app);

/* The /api/webhooks routes (webhooks.c). */
int bs_api_webhooks_register(bs_app *app);

/* GET /api/metrics and the middleware that counts requests (metrics.c). */
int bs_api_metrics_register(bs_app *app);

/* GET /api/openapi.json, the API's OpenAPI description (openapi.c). */
int bs_api_openapi_register(bs_app *app);

/* POST /api/sql, the SQL console (sql.c). */
int bs_api_sql_register(bs_app *app);

/* GET and POST /api/realtime (realtime.c); starts the realtime broker's
 * broadcaster with the records API's shaping as its renderer. */
int bs_api_realtime_register(bs_app *app);

/* The record auth endpoints (auth.c and auth_*.c), the settings' test
 * email, the global rate limit middleware, and the model hooks of the
 * auth system collections. */
int bs_api_auth_register(bs_app *app);

/* The record route handlers, also used for batch items. */
int bs_api_records_list(bs_event *e, void *user);
int bs_api_record_view(bs_event *e, void *user);
int bs_api_record_create(bs_event *e, void *user);
int bs_api_record_update(bs_event *e, void *user);
int bs_api_record_delete(bs_event *e, void *user);

/* Creates a record of c from data (and the uploads of files, or NULL)
 * for request r as the records API would (rate limit, create rule, the
 * record form, the create request hook, the save) in an internal
 * context ("oauth2"): no response is
 * written on success, and *out receives the saved record (caller frees).
 * On failure r has been answered and BS_EHTTP is returned. */
int bs_api_record_create_for(bs_req *r, const bs_collection *c,
                             const char *context, json_object *data,
                             bs_body *files, bs_record **out);

/* The collection rate limits of the settings ("<collection>:<tag>",
 * "*:<tag>", then "METHOD /path" and "/path") for a request to route
 * (the route pattern, so every record of a collection shares a
 * counter). Answers 429 itself and returns false when over the limit. */
bool bs_api_collection_rate_allowed(bs_req *r, const bs_collection *c,
                                    const char *route, const char *tag);

/* The paging of a list request as PocketBase reads it: page (>= 1),
 * perPage (30 by default, at most 1000) and skipTotal. page is at most
 * INT64_MAX / perPage, so (page - 1) * perPage cannot overflow. */
void bs_api_paging(bs_req *r, int64_t *page, int64_t *per_page,
                   bool *skip_total);

/* Adds a route whose handler requires a superuser. */
bs_route *bs_api_superuser_route(bs_app *app, const char *method,
                                 const char *pattern, bs_handler_fn fn);

#endif
