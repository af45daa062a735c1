/*
 * collections.c - the collections API under /api/collections (superusers
 * only): list, view, create, update, delete, truncate, import, and the
 * meta routes (scaffolds, dry run of a view query).
 *
 * Each handler reads its input, triggers the request hook with the
 * built-in behaviour as the final step, and answers with PocketBase's
 * shapes: a collection in its API form, validation errors as
 * {"data":{"<field>":{"code","message"}}}, generic failures as a 400
 * whose message carries the raw reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/events.h"
#include "../base/error.h"
#include "../base/json.h"
#include "../base/util.h"
#include "../core/collection.h"
#include "../core/collection_import.h"
#include "../core/oauth2.h"
#include "../core/record_list.h"
#include "../core/view.h"
#include "api.h"

#define MAX_VIEW_QUERY 5000

/* PocketBase's Sentenize: trimmed, first letter upper-cased, a final
 * period added unless the text ends with . ! or ?. */
static void sentenize(const char *in, char *out, size_t cap)
{
    while (isspace((unsigned char)*in))
        in++;
    size_t n = strlen(in);
    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    if (n + 2 > cap)
        n = cap > 2 ? cap - 2 : 0;
    memcpy(out, in, n);
    out[n] = '\0';
    if (n == 0)
        return;
    out[0] = (char)toupper((unsigned char)out[0]);
    if (out[n - 1] != '.' && out[n - 1] != '!' && out[n - 1] != '?') {
        out[n] = '.';
        out[n + 1] = '\0';
    }
}

/* Answers 400 with a message (sentenized) and no field data. */
static void bad_request(bs_req *r, const char *message)
{
    char msg[2048];
    sentenize(message, msg, sizeof msg);
    bs_error e;
    bs_error_init(&e);
    bs_error_set(&e, 400, "%s", msg);
    bs_resp_error(r, &e);
    bs_error_dispose(&e);
}

static void write_collection(bs_req *r, int status, const json_object *col)
{
    bs_resp_raw(r, status, "application/json", NULL, 0);
    bs_collection_write_json(col, &r->resp);
    bs_buf_putc(&r->resp, '\n');
}

static json_object *request_data(bs_request_event *re)
{
    return re->data;
}

/* The reason of a failure for a message or the log: err's message, else
 * the text of the code rc. */
static const char *reason(const bs_error *err, int rc)
{
    return err->message ? err->message : bs_strerror(rc);
}

/* Answers 400 with err's field errors and PocketBase's message of a
 * failed validation. */
static void fail_validation(bs_req *r, bs_error *err)
{
    bs_error_set(err, 400, "An error occurred while validating the "
                           "submitted data.");
    bs_resp_error(r, err);
}

/* Reads the JSON body into *body (the caller releases it); answers the
 * request and returns the error code on failure. */
static int read_body(bs_req *r, json_object **body, bs_error *err)
{
    int rc = bs_req_json_body(r, body, err);
    if (rc && !r->responded)
        bs_req_fail(r, rc, err);
    return rc;
}

/* Triggers the request hook with final as its built-in step, the event
 * carrying data and err and, when tag is set, tagged with data's id and
 * name. Answers with err when the chain fails without answering. */
static void run_hook(bs_req *r, int hook, json_object *data, bool tag,
                     bs_error *err, bs_handler_fn final, void *user)
{
    char id[128], name[256];
    bs_request_event re = {.ev = {.app = r->ev.app, .error = err},
                           .req = r,
                           .data = data};
    if (tag) {
        snprintf(id, sizeof id, "%s", bs_json_get_str(data, "id", ""));
        snprintf(name, sizeof name, "%s", bs_json_get_str(data, "name", ""));
        re.ev.tags[0] = id;
        re.ev.tags[1] = name;
        re.collection = name;
    }
    int rc = bs_trigger_request(r->ev.app, hook, &re, final, user);
    if (rc && !r->responded)
        bs_req_fail(r, rc, err);
}

/* ---- list --------------------------------------------------------------- */

/* `_collections` described as a collection, so that the filter module
 * can resolve the fields a list filter or sort may use. */
static const char COLLECTIONS_FIELDS[] =
    "[{\"type\":\"text\",\"name\":\"id\",\"id\":\"f1\"},"
    "{\"type\":\"autodate\",\"name\":\"created\",\"id\":\"f2\","
    "\"onCreate\":true},"
    "{\"type\":\"autodate\",\"name\":\"updated\",\"id\":\"f3\","
    "\"onCreate\":true,\"onUpdate\":true},"
    "{\"type\":\"text\",\"name\":\"name\",\"id\":\"f4\"},"
    "{\"type\":\"bool\",\"name\":\"system\",\"id\":\"f5\"},"
    "{\"type\":\"text\",\"name\":\"type\",\"id\":\"f6\"}]";

typedef struct list_state {
    json_object *items;
    int64_t page, per_page, total;
    bool skip_total;
} list_state;

static int list_final(bs_event *e, void *user)
{
    list_state *ls = user;
    bs_req *r = ((bs_request_event *)e)->req;
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_buf *b = &r->resp;
    bs_buf_puts(b, "{\"items\":[");
    size_t n = json_object_array_length(ls->items);
    for (size_t i = 0; i < n; i++) {
        if (i)
            bs_buf_putc(b, ',');
        bs_collection_write_json(json_object_array_get_idx(ls->items, i), b);
    }
    int64_t pages = ls->skip_total ? -1
                    : ls->total == 0
                        ? 0
                        : (ls->total + ls->per_page - 1) / ls->per_page;
    bs_buf_printf(b, "],\"page\":%lld,\"perPage\":%lld,\"totalItems\":%lld,"
                     "\"totalPages\":%lld}\n",
                  (long long)ls->page, (long long)ls->per_page,
                  (long long)(ls->skip_total ? -1 : ls->total),
                  (long long)pages);
    return 0;
}

static int collections_list(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_app *app = ev->app;
    bs_error err;
    bs_error_init(&err);
    list_state ls = {0};
    bs_record_page page = {0};
    bs_schema *schema = bs_app_schema(app);
    bs_collection pseudo = {.id = "_collections", .name = "_collections",
                            .type = "base"};
    json_object *fields = NULL;
    bs_json_parse(COLLECTIONS_FIELDS, strlen(COLLECTIONS_FIELDS), &fields);
    pseudo.fields = fields;
    pseudo.indexes = json_object_new_array();
    pseudo.options = json_object_new_object();
    bs_collection_fill_finfo(&pseudo);
    json_object *info = bs_rules_request_info(r, NULL);
    /* The _collections table read as a collection of its own. */
    bs_record_list_query lq = {
        .ctx = {.app = app, .schema = schema, .collection = &pseudo,
                .alias = "_collections", .request = info, .superuser = true},
        .filter = bs_req_query(r, "filter"),
        .sort = bs_req_query(r, "sort")};
    bs_api_paging(r, &lq.page, &lq.per_page, &lq.skip_total);
    ls.page = lq.page;
    ls.per_page = lq.per_page;
    ls.skip_total = lq.skip_total;
    if (bs_record_list(&lq, &page, &err) != 0) {
        bs_log('D', "collections list filter: %s",
               err.message ? err.message : "");
        bs_resp_status_error(r, 400, NULL);
        goto done;
    }
    ls.total = page.total;
    ls.items = json_object_new_array();
    for (int i = 0; i < page.n; i++) {
        const bs_collection *c =
            bs_schema_find(schema, bs_record_id(page.items[i]));
        if (c)
            json_object_array_add(ls.items, bs_collection_to_json(c));
    }
    run_hook(r, BS_ON_COLLECTIONS_LIST_REQUEST, ls.items, false, &err,
             list_final, &ls);

done:
    if (ls.items)
        json_object_put(ls.items);
    if (info)
        json_object_put(info);
    free(pseudo.finfo);
    json_object_put(pseudo.fields);
    json_object_put(pseudo.indexes);
    json_object_put(pseudo.options);
    bs_record_page_dispose(&page);
    bs_schema_unref(schema);
    bs_error_dispose(&err);
    return 0;
}

/* ---- view --------------------------------------------------------------- */

static int view_final(bs_event *e, void *user)
{
    (void)user;
    bs_request_event *re = (bs_request_event *)e;
    write_collection(re->req, 200, request_data(re));
    return 0;
}

/* The collection named by the {collection} parameter from the current
 * snapshot (a new reference), or NULL after answering 404. */
static json_object *path_collection(bs_req *r)
{
    bs_schema *schema = bs_app_schema(r->ev.app);
    const bs_collection *c =
        bs_schema_find(schema, bs_req_param(r, "collection"));
    json_object *col = c ? bs_collection_to_json(c) : NULL;
    bs_schema_unref(schema);
    if (!col)
        bs_resp_status_error(r, 404, NULL);
    return col;
}

/* Triggers hook on the collection of the path with final as its
 * built-in step (view and delete). */
static int path_request(bs_req *r, int hook, bs_handler_fn final)
{
    json_object *col = path_collection(r);
    if (!col)
        return 0;
    bs_error err;
    bs_error_init(&err);
    run_hook(r, hook, col, true, &err, final, NULL);
    json_object_put(col);
    bs_error_dispose(&err);
    return 0;
}

static int collection_view(bs_event *ev, void *user)
{
    (void)user;
    return path_request((bs_req *)ev, BS_ON_COLLECTION_VIEW_REQUEST,
                        view_final);
}

/* ---- create / update ---------------------------------------------------- */

typedef struct save_state {
    bool create;
    char stored_id[128]; /* updates: the id the collection is stored under */
} save_state;

static int save_final(bs_event *e, void *user)
{
    save_state *ss = user;
    bs_request_event *re = (bs_request_event *)e;
    bs_req *r = re->req;
    json_object *col = request_data(re);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_collection_save(e->app, col, ss->create ? NULL : ss->stored_id,
                                ss->create ? BS_COLLECTION_NEW : 0, &err);
    const char *what = ss->create ? "create" : "update";
    if (rc == 0) {
        write_collection(r, 200, col);
    } else if (bs_error_has_fields(&err)) {
        bs_error_set(&err, 400, "Failed to %s collection.", what);
        bs_resp_error(r, &err);
    } else {
        char raw[1200];
        snprintf(raw, sizeof raw, "Failed to %s collection. Raw error: \n%s",
                 what, reason(&err, rc));
        bad_request(r, raw);
    }
    bs_error_dispose(&err);
    return 0;
}

static int collection_upsert(bs_req *r, bool create)
{
    bs_app *app = r->ev.app;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL, *col = NULL;
    int rc = read_body(r, &body, &err);
    if (rc)
        goto done;
    if (create) {
        if (!json_object_is_type(body, json_type_object) ||
            (bs_json_get(body, "type") &&
             !json_object_is_type(bs_json_get(body, "type"),
                                  json_type_string)) ||
            (bs_json_get(body, "name") &&
             !json_object_is_type(bs_json_get(body, "name"),
                                  json_type_string))) {
            bad_request(r, "Failed to load the collection type data due to "
                           "invalid formatting.");
            goto done;
        }
        col = bs_collection_scaffold(bs_json_get_str(body, "type", ""),
                                     bs_json_get_str(body, "name", ""), NULL);
    } else {
        bs_conn *conn = bs_store_reader_acquire(app->store);
        rc = bs_collection_load(conn, bs_req_param(r, "collection"), &col);
        bs_store_reader_release(app->store, conn);
        if (rc) {
            bs_resp_status_error(r, 404, NULL);
            goto done;
        }
    }
    if (!col) {
        bs_resp_status_error(r, 500, NULL);
        goto done;
    }
    save_state ss = {.create = create};
    snprintf(ss.stored_id, sizeof ss.stored_id, "%s",
             bs_json_get_str(col, "id", ""));
    bs_collection_upgrade_legacy(body);
    rc = bs_collection_bind(col, body, &err);
    if (rc) {
        bs_error_set(&err, 400, "Failed to load the submitted data due to "
                                "invalid formatting.");
        bs_resp_error(r, &err);
        goto done;
    }
    run_hook(r, create ? BS_ON_COLLECTION_CREATE_REQUEST
                       : BS_ON_COLLECTION_UPDATE_REQUEST,
             col, true, &err, save_final, &ss);

done:
    if (body)
        json_object_put(body);
    if (col)
        json_object_put(col);
    bs_error_dispose(&err);
    return 0;
}

static int collection_create(bs_event *ev, void *user)
{
    (void)user;
    return collection_upsert((bs_req *)ev, true);
}

static int collection_update(bs_event *ev, void *user)
{
    (void)user;
    return collection_upsert((bs_req *)ev, false);
}

/* ---- delete / truncate -------------------------------------------------- */

static int delete_final(bs_event *e, void *user)
{
    (void)user;
    bs_request_event *re = (bs_request_event *)e;
    bs_req *r = re->req;
    json_object *col = request_data(re);
    bs_error err;
    bs_error_init(&err);
    int rc = bs_collection_delete(e->app, col, 0, &err);
    if (rc == 0) {
        bs_resp_empty(r, 204);
    } else {
        bs_log('D', "collection delete failed: %s", reason(&err, rc));
        char msg[1200] = "Failed to delete collection";
        bs_conn *conn = bs_store_reader_acquire(e->app->store);
        char *refs =
            bs_collection_references(conn, bs_json_get_str(col, "id", ""));
        bs_store_reader_release(e->app->store, conn);
        if (refs && *refs) {
            strncat(msg, " probably due to existing reference in ",
                    sizeof msg - strlen(msg) - 1);
            strncat(msg, refs, sizeof msg - strlen(msg) - 1);
        }
        free(refs);
        bad_request(r, msg);
    }
    bs_error_dispose(&err);
    return 0;
}

static int collection_delete(bs_event *ev, void *user)
{
    (void)user;
    return path_request((bs_req *)ev, BS_ON_COLLECTION_DELETE_REQUEST,
                        delete_final);
}

static int collection_truncate(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    json_object *col = path_collection(r);
    if (!col)
        return 0;
    if (strcmp(bs_json_get_str(col, "type", ""), "view") == 0) {
        bad_request(r, "View collections cannot be truncated since they "
                       "don't store their own records.");
    } else {
        bs_error err;
        bs_error_init(&err);
        int rc = bs_collection_truncate(ev->app, bs_json_get_str(col, "id", ""),
                                        &err);
        if (rc == 0) {
            bs_resp_empty(r, 204);
        } else {
            bs_log('D', "truncate failed: %s", reason(&err, rc));
            bad_request(r, "Failed to truncate collection (most likely due "
                           "to required cascade delete record references).");
        }
        bs_error_dispose(&err);
    }
    json_object_put(col);
    return 0;
}

/* ---- import ------------------------------------------------------------- */

typedef struct import_state {
    bool delete_missing;
} import_state;

static int import_final(bs_event *e, void *user)
{
    import_state *is = user;
    bs_request_event *re = (bs_request_event *)e;
    bs_req *r = re->req;
    bs_error err;
    bs_error_init(&err);
    int rc = bs_collections_import(e->app, request_data(re), is->delete_missing,
                                   &err);
    if (rc == 0) {
        bs_resp_empty(r, 204);
    } else {
        if (!bs_error_has_fields(&err)) {
            char msg[1500];
            snprintf(msg, sizeof msg,
                     "Failed to import the collections configuration. Raw "
                     "error:\n%s",
                     reason(&err, rc));
            bs_error_dispose(&err);
            bs_verr(&err, "collections", "validation_collections_import_failure",
                    msg, NULL);
        }
        bs_error_set(&err, 400, "Failed to import collections.");
        bs_resp_error(r, &err);
    }
    bs_error_dispose(&err);
    return 0;
}

static int collections_import(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL;
    if (read_body(r, &body, &err) != 0)
        goto done;
    json_object *items = bs_json_get(body, "collections");
    json_object *dm = bs_json_get(body, "deleteMissing");
    bool bad = !json_object_is_type(body, json_type_object) ||
               (items && !json_object_is_type(items, json_type_array) &&
                !json_object_is_type(items, json_type_null)) ||
               (dm && !json_object_is_type(dm, json_type_boolean) &&
                !json_object_is_type(dm, json_type_null));
    size_t n = json_object_is_type(items, json_type_array)
                   ? json_object_array_length(items)
                   : 0;
    for (size_t i = 0; i < n && !bad; i++) {
        if (!json_object_is_type(json_object_array_get_idx(items, i),
                                 json_type_object))
            bad = true;
    }
    if (bad) {
        bad_request(r, "An error occurred while loading the submitted data.");
        goto done;
    }
    if (n == 0) {
        bs_verr(&err, "collections", "validation_required", "Cannot be blank.",
                NULL);
        fail_validation(r, &err);
        goto done;
    }
    import_state is = {.delete_missing = dm && json_object_get_boolean(dm)};
    run_hook(r, BS_ON_COLLECTIONS_IMPORT_REQUEST, items, false, &err,
             import_final, &is);

done:
    if (body)
        json_object_put(body);
    bs_error_dispose(&err);
    return 0;
}

/* ---- meta --------------------------------------------------------------- */

static int collection_scaffolds(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    char rnd[16];
    if (bs_random_string(rnd, 10, "abcdefghijklmnopqrstuvwxyz0123456789"))
        strcpy(rnd, "0000000000");
    static const char *const types[] = {"auth", "base", "view"};
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_buf_putc(&r->resp, '{');
    for (int i = 0; i < 3; i++) {
        json_object *col = bs_collection_scaffold(types[i], "", rnd);
        if (!col) {
            r->resp.oom = true;
            break;
        }
        json_object_object_add(col, "id", json_object_new_string(""));
        if (i)
            bs_buf_putc(&r->resp, ',');
        bs_buf_printf(&r->resp, "\"%s\":", types[i]);
        bs_collection_write_json(col, &r->resp);
        json_object_put(col);
    }
    bs_buf_puts(&r->resp, "}\n");
    return 0;
}

/* PocketBase's provider names with their display order. */
static const struct {
    const char *name;
    int order;
} PROVIDER_ORDER[] = {
    {"apple", 1},      {"google", 2},         {"microsoft", 3},
    {"yandex", 4},     {"facebook", 5},       {"instagram2", 6},
    {"github", 7},     {"gitlab", 8},         {"bitbucket", 9},
    {"gitee", 10},     {"gitea", 11},         {"discord", 12},
    {"twitter", 13},   {"kakao", 14},         {"vk", 15},
    {"linear", 16},    {"notion", 17},        {"monday", 18},
    {"lark", 19},      {"box", 20},           {"spotify", 21},
    {"trakt", 22},     {"twitch", 23},        {"patreon", 24},
    {"strava", 25},    {"wakatime", 26},      {"livechat", 27},
    {"mailcow", 28},   {"planningcenter", 29}, {"oidc", 99},
    {"oidc2", 99},     {"oidc3", 99},
};

static int collection_oauth2_providers(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_resp_raw(r, 200, "application/json", NULL, 0);
    bs_buf *b = &r->resp;
    bs_buf_putc(b, '[');
    bool first = true;
    for (size_t i = 0; i < sizeof PROVIDER_ORDER / sizeof PROVIDER_ORDER[0];
         i++) {
        const char *name = PROVIDER_ORDER[i].name;
        if (!bs_oauth2_provider_known(name))
            continue;
        json_object *entry = json_object_new_object();
        json_object_object_add(entry, "name", json_object_new_string(name));
        json_object_object_add(entry, "clientId", json_object_new_string("-"));
        json_object_object_add(entry, "clientSecret",
                               json_object_new_string("-"));
        static const char *const urls[] = {"authURL", "tokenURL",
                                           "userInfoURL"};
        for (int k = 0; k < 3; k++)
            json_object_object_add(entry, urls[k],
                                   json_object_new_string("https://-"));
        bs_oauth2_config cfg;
        if (bs_oauth2_config_init(&cfg, entry) == 0) {
            if (!first)
                bs_buf_putc(b, ',');
            first = false;
            const char *display = cfg.display_name ? cfg.display_name : "";
            const char *logo = bs_oauth2_logo(&cfg);
            bs_buf_puts(b, "{\"name\":");
            bs_buf_json_str(b, name, strlen(name));
            bs_buf_puts(b, ",\"displayName\":");
            bs_buf_json_str(b, display, strlen(display));
            bs_buf_puts(b, ",\"logo\":");
            bs_buf_json_str(b, logo ? logo : "", logo ? strlen(logo) : 0);
            bs_buf_putc(b, '}');
        }
        json_object_put(entry);
    }
    bs_buf_puts(b, "]\n");
    return 0;
}

static int collection_dry_run_view(bs_event *ev, void *user)
{
    (void)user;
    bs_req *r = (bs_req *)ev;
    bs_error err;
    bs_error_init(&err);
    json_object *body = NULL;
    if (read_body(r, &body, &err) != 0)
        goto done;
    json_object *q = bs_json_get(body, "query");
    if (!json_object_is_type(body, json_type_object) ||
        (q && !json_object_is_type(q, json_type_string) &&
         !json_object_is_type(q, json_type_null))) {
        bad_request(r, "An error occurred while loading the submitted data.");
        goto done;
    }
    const char *query = q ? json_object_get_string(q) : "";
    if (!query)
        query = "";
    size_t runes = 0;
    for (const char *p = query; *p; p++)
        runes += ((unsigned char)*p & 0xC0) != 0x80;
    if (!*query || runes > MAX_VIEW_QUERY) {
        if (!*query)
            bs_verr(&err, "query", "validation_required", "Cannot be blank.",
                    NULL);
        else {
            json_object *params = json_object_new_object();
            json_object_object_add(params, "max",
                                   json_object_new_int(MAX_VIEW_QUERY));
            bs_verr(&err, "query", "validation_length_too_long",
                    "The length must be no more than 5000.", params);
        }
        fail_validation(r, &err);
        goto done;
    }
    bs_buf out;
    bs_buf_init(&out);
    char msg[1000];
    int rc = bs_view_dry_run(ev->app, query, 10, &out, msg, sizeof msg);
    if (rc == 0 && !out.oom) {
        bs_resp_raw(r, 200, "application/json", out.data, out.len);
        bs_buf_putc(&r->resp, '\n');
    } else {
        char raw[1200];
        snprintf(raw, sizeof raw, "Invalid view query. Raw error: \n%s", msg);
        bad_request(r, raw);
    }
    bs_buf_dispose(&out);

done:
    if (body)
        json_object_put(body);
    bs_error_dispose(&err);
    return 0;
}

int bs_api_collections_register(bs_app *app)
{
    static const struct {
        const char *method, *pattern;
        bs_handler_fn fn;
    } routes[] = {
        {"GET", "/api/collections", collections_list},
        {"POST", "/api/collections", collection_create},
        {"PUT", "/api/collections/import", collections_import},
        {"GET", "/api/collections/meta/scaffolds", collection_scaffolds},
        {"GET", "/api/collections/meta/oauth2-providers",
         collection_oauth2_providers},
        {"POST", "/api/collections/meta/dry-run-view",
         collection_dry_run_view},
        {"GET", "/api/collections/{collection}", collection_view},
        {"PATCH", "/api/collections/{collection}", collection_update},
        {"DELETE", "/api/collections/{collection}", collection_delete},
        {"DELETE", "/api/collections/{collection}/truncate",
         collection_truncate},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!bs_api_superuser_route(app, routes[i].method, routes[i].pattern,
                                    routes[i].fn))
            return BS_ENOMEM;
    }
    return 0;
}
